/* test-html.c - The HTML report (wr_report_html.c).
 *
 * Each test builds a small run by hand: cases whose histories are real
 * wr_history_t values (parsed from JSON lines, as the runner builds them),
 * written to <dir>/cases/<id>/history.jsonl as the runner does, and a
 * matrix from wr_matrix_build(). The page is then read back as text: what
 * a reader needs is in it, hostile text is escaped, every embedded JSON
 * block parses with jansson, and the timeline data puts each event in the
 * lane of its connection. Rendering in a browser is test_html.py's job.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=), and cr_assert()
 * cannot take a bare macro call: conditions are written as
 * eq(int, cond ? 1 : 0, 1).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "judge/wr_judge.h"
#include "judge/wr_matrix.h"
#include "report/wr_report.h"

#define T0       5000000000LL /* ns of every case's first event */
#define MAXCASES 4

/* One of these is built per test (each test is its own process). */
static struct {
    char *exposes[1];
    wr_scenario_t scen;
    wr_scenario_t *scens[1];
    wr_case_t cases[MAXCASES];
    wr_history_t *hist[MAXCASES];
    wr_run_t run;
    wr_matrix_t matrix;
    bool has_matrix;
    char dir[32];
} fx;

/* ------------------------------------------------------------------------
 * Fixture: directory, run, cases, histories
 * ---------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : errno;
}

/* Frees what the test built and removes its directory (WR_TEST_KEEP=1
 * keeps it for reading). Criterion runs .fini after a failed assertion
 * too. */
static void teardown(void)
{
    if (fx.has_matrix)
        wr_matrix_free(&fx.matrix);
    for (size_t i = 0; i < MAXCASES; i++)
        wr_history_free(fx.hist[i]);
    if (fx.dir[0] == '\0')
        return;
    if (getenv("WR_TEST_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", fx.dir);
    else
        nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(html, .fini = teardown);

static void setup_run(const char *scenario, const char *fault)
{
    char err[256];

    memset(&fx, 0, sizeof(fx));
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/wr-html-XXXXXX");
    cr_assert(not(zero(ptr, mkdtemp(fx.dir))), "mkdtemp: %s", strerror(errno));
    fx.scen.name = (char *)scenario;
    fx.scen.path = (char *)"scenarios/x.yaml";
    fx.scen.description = (char *)"A scenario for the HTML tests.";
    cr_assert(eq(int, wsr_faults_parse(&fx.scen.exposes, fault, err,
                                       sizeof(err)),
                 0));
    fx.scens[0] = &fx.scen;
    snprintf(fx.run.id, sizeof(fx.run.id), "20261126T170000Z-4242");
    snprintf(fx.run.argv_text, sizeof(fx.run.argv_text),
             "wsrace run --seed 7 scenarios/");
    snprintf(fx.run.target, sizeof(fx.run.target), "build/target/gw");
    snprintf(fx.run.kind, sizeof(fx.run.kind), "run");
    fx.run.seed = 7;
    fx.run.started_unix = 1795712400;
    fx.run.duration_ns = 1234000000;
    fx.run.cases = fx.cases;
    fx.run.scenarios = fx.scens;
    fx.run.nscenarios = 1;
}

/* Adds a case with every check PASS and its history from lines (NULL
 * terminated); writes the history file unless write_file is false. */
static wr_case_t *add_case(const char *id, const char *inject,
                           const char *const *lines, bool write_file)
{
    size_t k = fx.run.ncases++;
    wr_case_t *c = &fx.cases[k];
    char path[PATH_MAX], err[256];

    cr_assert(eq(int, k < MAXCASES ? 1 : 0, 1));
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->dir, sizeof(c->dir), "cases/%s", id);
    cr_assert(eq(int, wsr_faults_parse(&c->faults, inject, err, sizeof(err)),
                 0));
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->index = k;
    c->scenario = &fx.scen;
    c->seed = 7;
    wr_judge_expect(&fx.scen, &c->faults, 0, c->expected, &c->need_one);
    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
        c->ran[i] = true;
        c->results[i].id = (wsr_check_id_t)i;
        c->results[i].verdict = WR_PASS;
        snprintf(c->results[i].summary, sizeof(c->results[i].summary),
                 "%s held.", wsr_check_name((wsr_check_id_t)i));
    }
    c->as_expected = true;
    c->target_state = WR_TARGET_OK;
    c->first_fail_ns = -1;
    c->clients = 2;
    snprintf(c->replay, sizeof(c->replay),
             "wsrace run --seed 7 --inject '%s' x", inject);

    fx.hist[k] = wr_history_new();
    cr_assert(not(zero(ptr, fx.hist[k])));
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
        cr_assert(eq(int,
                     wr_history_add_line(fx.hist[k], WR_SRC_GATEWAY, lines[i]),
                     0),
                  "line %zu: %s", i, lines[i]);
    wr_history_sort(fx.hist[k]);
    c->history = fx.hist[k];
    snprintf(path, sizeof(path), "%s/cases", fx.dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/cases/%s", fx.dir, id);
    cr_assert(eq(int, mkdir(path, 0755), 0), "%s: %s", path, strerror(errno));
    if (write_file) {
        snprintf(path, sizeof(path), "%s/cases/%s/history.jsonl", fx.dir, id);
        cr_assert(eq(int, wr_history_write(fx.hist[k], path), 0));
    }
    return c;
}

/* The event of c's history whose "event" is name (the n-th such). */
static const wr_event_t *find_event(const wr_case_t *c, const char *name, int n)
{
    for (size_t i = 0; i < wr_history_len(c->history); i++) {
        const wr_event_t *e = wr_history_at(c->history, i);

        if (strcmp(e->event, name) == 0 && n-- == 0)
            return e;
    }
    cr_assert(eq(int, 0, 1), "no event %s in %s", name, c->id);
    return NULL;
}

static void fail_check(wr_case_t *c, wsr_check_id_t k, const char *summary,
                       const wr_event_t *e1, const wr_event_t *e2)
{
    wr_check_result_t *r = &c->results[k];

    r->verdict = WR_FAIL;
    snprintf(r->summary, sizeof(r->summary), "%s", summary);
    r->violations = 1;
    r->evidence[r->nevidence++] = e1;
    if (e2 != NULL)
        r->evidence[r->nevidence++] = e2;
    c->as_expected = c->expected[k] != WR_EXPECT_PASS;
}

static void build_matrix(void)
{
    cr_assert(eq(int, wr_matrix_build(&fx.run, &fx.matrix), 0));
    fx.has_matrix = true;
    fx.run.matrix = &fx.matrix;
}

/* ------------------------------------------------------------------------
 * Reading the page
 * ---------------------------------------------------------------------- */

static char *write_and_read(void)
{
    char path[PATH_MAX];
    FILE *f;
    char *buf;
    long len;

    cr_assert(eq(int, wr_report_write_html(&fx.run, fx.dir), 0));
    snprintf(path, sizeof(path), "%s/index.html", fx.dir);
    f = fopen(path, "rb");
    cr_assert(not(zero(ptr, f)), "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    cr_assert(eq(sz, fread(buf, 1, (size_t)len, f), (size_t)len));
    buf[len] = '\0';
    fclose(f);
    snprintf(path, sizeof(path), "%s/index.html.tmp", fx.dir);
    cr_assert(eq(int, access(path, F_OK), -1), "a .tmp was left behind");
    return buf;
}

/* The whole of a file, NUL-terminated. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;

    cr_assert(not(zero(ptr, f)), "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    cr_assert(eq(sz, fread(buf, 1, (size_t)len, f), (size_t)len));
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* Whether s is valid UTF-8 (no overlong forms, surrogates or stray
 * bytes). */
static bool valid_utf8(const unsigned char *s)
{
    while (*s) {
        size_t n;
        unsigned long v;

        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xc2 && *s <= 0xdf)
            n = 2, v = *s & 0x1f;
        else if ((*s & 0xf0) == 0xe0)
            n = 3, v = *s & 0x0f;
        else if (*s >= 0xf0 && *s <= 0xf4)
            n = 4, v = *s & 0x07;
        else
            return false;
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            v = (v << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
            (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
            return false;
        s += n;
    }
    return true;
}

/* The JSON of the timeline block of case number index, parsed. */
static json_t *timeline(const char *page, size_t index)
{
    char open[64];
    const char *start, *end;
    json_error_t err;
    json_t *j;

    snprintf(open, sizeof(open),
             "<script type=\"application/json\" id=\"tl-%zu\">", index);
    start = strstr(page, open);
    cr_assert(not(zero(ptr, (void *)start)), "no %s", open);
    start += strlen(open);
    end = strstr(start, "</script>");
    cr_assert(not(zero(ptr, (void *)end)));
    j = json_loadb(start, (size_t)(end - start), 0, &err);
    cr_assert(not(zero(ptr, j)), "tl-%zu: %d:%d: %s", index, err.line,
              err.column, err.text);
    return j;
}

/* The label of lane l of timeline tl. */
static const char *lane_label(json_t *tl, size_t l)
{
    json_t *lane = json_array_get(json_object_get(tl, "lanes"), l);

    cr_assert(not(zero(ptr, lane)), "no lane %zu", l);
    return json_string_value(json_array_get(lane, 1));
}

/* The lane of the n-th embedded event named name, or -1. */
static int lane_of(json_t *tl, const char *name, int n)
{
    json_t *ev = json_object_get(tl, "ev"), *row;
    size_t i;

    json_array_foreach(ev, i, row)
    {
        json_t *o = json_array_get(row, 3);

        if (strcmp(json_string_value(json_object_get(o, "event")), name) == 0 &&
            n-- == 0)
            return (int)json_integer_value(json_array_get(row, 1));
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Histories
 * ---------------------------------------------------------------------- */

/* One client (index cl, session s) and its gateway connection (conn)
 * through the whole lifecycle, at t ms. */
#define G(t, seq, rest)                                                        \
    "{\"src\":\"gateway\",\"seq\":" #seq ",\"ns\":" #t "000000" rest "}"
#define C(t, cl, rest)                                                         \
    "{\"src\":\"client\",\"ns\":" #t "000000,\"client\":" #cl rest "}"

static const char *const lifecycle[] = {
    G(5000, 1, ",\"event\":\"gateway.start\""),
    "{\"src\":\"harness\",\"ns\":5001000000,\"event\":\"target.start\"}",
    C(5002, 0,
      ",\"event\":\"client.connect\",\"type\":\"invoke\","
      "\"key\":\"s0\",\"session\":\"s0\""),
    G(5003, 2, ",\"event\":\"conn.open\",\"conn\":1"),
    G(5003, 3,
      ",\"event\":\"registry.register\",\"conn\":1,"
      "\"key\":\"pre-1\",\"result\":\"created\""),
    G(5004, 4,
      ",\"event\":\"machine.transition\",\"conn\":1,"
      "\"key\":\"pre-1\",\"from\":\"CONNECTING\",\"to\":\"ACCEPTED\""),
    G(5005, 5,
      ",\"event\":\"swap.begin\",\"conn\":1,\"key\":\"pre-1\","
      "\"from\":\"pre-1\",\"to\":\"s0\",\"handle\":\"endpoint\""),
    G(5005, 6,
      ",\"event\":\"registry.rekey\",\"conn\":1,\"key\":\"s0\","
      "\"from\":\"pre-1\",\"result\":\"moved\""),
    G(5006, 7,
      ",\"event\":\"welcome.sent\",\"conn\":1,\"key\":\"s0\","
      "\"connection_ready\":true"),
    C(5007, 0,
      ",\"event\":\"client.established\",\"type\":\"ok\","
      "\"key\":\"s0\""),
    /* A connection no client claims: its auth failed. */
    G(5008, 8, ",\"event\":\"conn.open\",\"conn\":2"),
    G(5008, 9,
      ",\"event\":\"registry.register\",\"conn\":2,"
      "\"key\":\"pre-2\",\"result\":\"created\""),
    G(5009, 10, ",\"event\":\"auth.failed\",\"conn\":2,\"key\":\"pre-2\""),
    C(5010, 1,
      ",\"event\":\"client.connect\",\"type\":\"invoke\","
      "\"key\":\"other\""),
    C(5011, 1,
      ",\"event\":\"client.closed\",\"type\":\"info\","
      "\"code\":1008"),
    C(5012, 0,
      ",\"event\":\"client.closed\",\"type\":\"info\","
      "\"code\":1000"),
    "{\"src\":\"harness\",\"ns\":5013000000,\"event\":\"target.registry\","
    "\"count\":0,\"keys\":[]}",
    NULL,
};

/* ------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------- */

Test(html, writes_a_self_contained_page)
{
    char *page;

    setup_run("scope-basic", "scope-loss");
    add_case("01-scope-basic-none-s7", "", lifecycle, true);
    page = write_and_read();
    cr_assert(eq(int, strncmp(page, "<!DOCTYPE html>", 15), 0));
    cr_assert(eq(int, contains(page, "20261126T170000Z-4242") ? 1 : 0, 1));
    cr_assert(eq(int,
                 contains(page, "data-case=\"01-scope-basic-none-s7\"") ? 1 : 0,
                 1));
    cr_assert(
        eq(int, contains(page, "wsrace run --seed 7 scenarios/") ? 1 : 0, 1));
    /* Nothing is fetched: no URL with a scheme but data:, no src=. */
    cr_assert(eq(sz, count(page, "http://") + count(page, "https://"), 0));
    cr_assert(eq(sz, count(page, " src="), 0));
    cr_assert(eq(sz, count(page, "<link "), 1)); /* the data: favicon */
    cr_assert(eq(
        int, contains(page, "<link rel=\"icon\" href=\"data:,\">") ? 1 : 0, 1));
    /* No matrix without one. */
    cr_assert(eq(int, contains(page, "id=\"matrix\"") ? 1 : 0, 0));
    cr_assert(eq(int, valid_utf8((const unsigned char *)page) ? 1 : 0, 1));
    free(page);
}

/* The style sheet and the script are the files in harness/report/assets,
 * byte for byte, inline, once each (scripts/embed-asset.py embeds them at
 * build time). */
Test(html, embeds_the_style_sheet_and_script_as_they_are)
{
    static const char *const assets[][3] = {
        {"report.css", "<style>\n", "</style>\n</head>"},
        {"report.js", "<script>\n", "</script>\n</body>"},
    };
    char *page;

    setup_run("scope-basic", "scope-loss");
    add_case("01-scope-basic-none-s7", "", lifecycle, true);
    page = write_and_read();
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        char *text, *want;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", WR_ASSET_DIR, assets[i][0]);
        text = slurp(path);
        len = strlen(assets[i][1]) + strlen(text) + strlen(assets[i][2]) + 1;
        want = malloc(len);
        cr_assert(not(zero(ptr, want)));
        snprintf(want, len, "%s%s%s", assets[i][1], text, assets[i][2]);
        cr_assert(eq(sz, count(page, want), 1),
                  "%s is not in the page as it is", path);
        free(want);
        free(text);
    }
    free(page);
}

Test(html, escapes_hostile_text)
{
    static const char *const lines[] = {
        G(5000, 1, ",\"event\":\"gateway.start\""),
        G(5001, 2,
          ",\"event\":\"conn.open\",\"conn\":1,\"key\":"
          "\"</script><script>alert(1)</script><!--\\u2028x\""),
        NULL,
    };
    wr_case_t *c;
    json_t *tl, *o;
    char *page;

    setup_run("evil", "scope-loss");
    c = add_case("01-evil-none-s7", "", lines, true);
    fail_check(c, WSR_CHECK_ISOLATION,
               "</script><script>alert(2)</script> \"q\" 'a' & \xff\xfe bad",
               find_event(c, "conn.open", 0), NULL);
    snprintf(c->replay, sizeof(c->replay),
             "wsrace run --inject '\"</code><b>x' \xc3\x28");
    snprintf(c->target_error, sizeof(c->target_error), "<img src=x>");
    snprintf(fx.run.argv_text, sizeof(fx.run.argv_text),
             "wsrace run '</title><script>alert(3)</script>'");
    page = write_and_read();

    cr_assert(eq(int, contains(page, "&lt;script&gt;alert(1)") ? 1 : 0, 1));
    cr_assert(eq(sz, count(page, "<script>alert"), 0));
    cr_assert(eq(sz, count(page, "<img"), 0));
    cr_assert(eq(sz, count(page, "<b>x"), 0));
    cr_assert(eq(int,
                 contains(page, "&lt;/script&gt;&lt;script&gt;alert(2)"
                                "&lt;/script&gt; &quot;q&quot; &#39;a&#39; "
                                "&amp; \xef\xbf\xbd\xef\xbf\xbd bad")
                     ? 1
                     : 0,
                 1));
    /* Every script element closes where it should: one </script> per
     * <script. */
    cr_assert(eq(sz, count(page, "</script>"), count(page, "<script")));
    cr_assert(eq(int, valid_utf8((const unsigned char *)page) ? 1 : 0, 1));
    /* The JSON block parses and gives back the exact key. */
    tl = timeline(page, 0);
    o = json_array_get(json_array_get(json_object_get(tl, "ev"), 1), 3);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "key")),
                 "</script><script>alert(1)</script><!--\xe2\x80\xa8x"));
    json_decref(tl);
    free(page);
}

Test(html, shows_the_matrix_cells)
{
    wr_case_t *c;
    char th[128];
    char *page;

    setup_run("scope-basic", "scope-loss");
    c = add_case("01-scope-basic-scope-loss-s7", "scope-loss", lifecycle, true);
    fail_check(c, WSR_CHECK_SCOPE_LOSS, "swap through a dead handle.",
               find_event(c, "swap.begin", 0), NULL);
    c = add_case("02-scope-basic-none-s7", "", lifecycle, true);
    fail_check(c, WSR_CHECK_ISOLATION, "a message crossed users.",
               find_event(c, "client.closed", 0), NULL);
    build_matrix();
    page = write_and_read();

    cr_assert(eq(int, contains(page, "id=\"matrix\"") ? 1 : 0, 1));
    snprintf(th, sizeof(th),
             "<th class=\"sc\" data-cols=\"%d\" "
             "data-clean=\"%d\"",
             WSR_CHECK__COUNT, WSR_CHECK__COUNT - 2);
    cr_assert(eq(int, contains(page, th) ? 1 : 0, 1), "%s", th);
    cr_assert(eq(int,
                 contains(page, "<td class=\"cell k-detected\" "
                                "data-kind=\"DETECTED\" "
                                "data-check=\"scope_loss\"")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int, contains(page, ">DETECTED 1/1</td>") ? 1 : 0, 1));
    cr_assert(eq(int,
                 contains(page, "<td class=\"cell k-false\" "
                                "data-kind=\"FALSE ALARM\" "
                                "data-check=\"isolation\"")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(page, "<th class=\"rowh\" title=\"scope-loss\">"
                                "scope-loss</th>")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int, contains(page, "k-clean") ? 1 : 0, 1));
    /* The unexpected case is marked and counted. */
    cr_assert(eq(int,
                 contains(page, "<details class=\"case unexpected\" "
                                "id=\"case-02-scope-basic-none-s7\"")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int, contains(page, "1 unexpected") ? 1 : 0, 1));
    free(page);
}

Test(html, highlights_the_evidence)
{
    const wr_event_t *swap, *rekey;
    wr_case_t *c;
    json_t *tl, *ev, *row;
    size_t i, marked = 0;
    char *page;

    setup_run("scope-basic", "scope-loss");
    c = add_case("01-scope-basic-scope-loss-s7", "scope-loss", lifecycle, true);
    swap = find_event(c, "swap.begin", 0);
    rekey = find_event(c, "registry.rekey", 0);
    fail_check(c, WSR_CHECK_SCOPE_LOSS, "swap through a dead handle.", swap,
               rekey);
    page = write_and_read();

    /* The evidence table: one highlighted row per event, its time. */
    cr_assert(eq(sz, count(page, "<tr class=\"ev\""), 2));
    cr_assert(eq(
        int, contains(page, "<tr class=\"ev\" data-t=\"5000000\"") ? 1 : 0, 1));
    cr_assert(eq(int, contains(page, "<td>5.000</td>") ? 1 : 0, 1));
    /* The timeline marks exactly those two with the check's bit. */
    tl = timeline(page, 0);
    ev = json_object_get(tl, "ev");
    json_array_foreach(ev, i, row)
    {
        json_int_t mask = json_integer_value(json_array_get(row, 2));
        const char *name =
            json_string_value(json_object_get(json_array_get(row, 3), "event"));

        if (mask == 0)
            continue;
        marked++;
        cr_assert(eq(int, (int)mask, 1 << WSR_CHECK_SCOPE_LOSS));
        cr_assert(eq(int,
                     strcmp(name, "swap.begin") == 0 ||
                             strcmp(name, "registry.rekey") == 0
                         ? 1
                         : 0,
                     1),
                  "%s", name);
    }
    cr_assert(eq(sz, marked, 2));
    cr_assert(eq(int,
                 contains(page, "wsrace run --seed 7 --inject "
                                "&#39;scope-loss&#39; x")
                     ? 1
                     : 0,
                 1));
    json_decref(tl);
    free(page);
}

Test(html, maps_connections_to_client_lanes)
{
    json_t *tl;
    char *page;
    int l;

    setup_run("lanes", "scope-loss");
    add_case("01-lanes-none-s7", "", lifecycle, true);
    page = write_and_read();
    tl = timeline(page, 0);

    cr_assert(eq(sz, json_array_size(json_object_get(tl, "lanes")), 4));
    cr_assert(eq(str, (char *)lane_label(tl, 0), "harness & gateway (global)"));
    cr_assert(eq(str, (char *)lane_label(tl, 1),
                 "client 0 \xc2\xb7 s0 \xc2\xb7 conn 1"));
    cr_assert(eq(str, (char *)lane_label(tl, 2), "client 1 \xc2\xb7 other"));
    cr_assert(eq(str, (char *)lane_label(tl, 3),
                 "conn 2 \xc2\xb7 pre-2 (no client)"));
    /* The gateway's events of conn 1 are in client 0's lane. */
    l = lane_of(tl, "registry.rekey", 0);
    cr_assert(eq(int, l, 1));
    cr_assert(eq(int, lane_of(tl, "conn.open", 0), 1));
    cr_assert(eq(int, lane_of(tl, "client.established", 0), 1));
    cr_assert(eq(int, lane_of(tl, "conn.open", 1), 3));
    cr_assert(eq(int, lane_of(tl, "auth.failed", 0), 3));
    cr_assert(eq(int, lane_of(tl, "target.start", 0), 0));
    cr_assert(eq(int, lane_of(tl, "gateway.start", 0), 0));
    cr_assert(eq(int, json_is_null(json_object_get(tl, "agg")) ? 1 : 0, 1));
    json_decref(tl);
    free(page);
}

Test(html, one_session_two_clients_get_one_connection_each)
{
    static const char *const lines[] = {
        C(5000, 0,
          ",\"event\":\"client.connect\",\"type\":\"invoke\","
          "\"key\":\"dup\""),
        C(5001, 1,
          ",\"event\":\"client.connect\",\"type\":\"invoke\","
          "\"key\":\"dup\""),
        G(5002, 1, ",\"event\":\"conn.open\",\"conn\":7"),
        G(5003, 2, ",\"event\":\"conn.open\",\"conn\":8"),
        G(5004, 3,
          ",\"event\":\"registry.rekey\",\"conn\":8,"
          "\"key\":\"dup\",\"from\":\"pre-8\""),
        G(5005, 4,
          ",\"event\":\"registry.rekey\",\"conn\":7,"
          "\"key\":\"dup\",\"from\":\"pre-7\""),
        NULL,
    };
    json_t *tl;
    char *page;

    setup_run("dup", "duplicate-registration");
    add_case("01-dup-none-s7", "", lines, true);
    page = write_and_read();
    tl = timeline(page, 0);
    /* Nearest connect before each open: 7 to client 0, 8 to client 1. */
    cr_assert(eq(sz, json_array_size(json_object_get(tl, "lanes")), 3));
    cr_assert(eq(str, (char *)lane_label(tl, 1),
                 "client 0 \xc2\xb7 dup \xc2\xb7 conn 7"));
    cr_assert(eq(str, (char *)lane_label(tl, 2),
                 "client 1 \xc2\xb7 dup \xc2\xb7 conn 8"));
    cr_assert(eq(int, lane_of(tl, "registry.rekey", 0), 2));
    cr_assert(eq(int, lane_of(tl, "registry.rekey", 1), 1));
    json_decref(tl);
    free(page);
}

Test(html, a_missing_history_still_gives_a_page)
{
    wr_case_t *c;
    json_t *tl;
    char *page;

    setup_run("scope-basic", "scope-loss");
    c = add_case("01-scope-basic-scope-loss-s7", "scope-loss", lifecycle,
                 false);
    fail_check(c, WSR_CHECK_SCOPE_LOSS, "swap through a dead handle.",
               find_event(c, "swap.begin", 0), NULL);
    add_case("02-no-memory-either", "", NULL, false)->history = NULL;
    page = write_and_read();

    cr_assert(eq(sz, count(page, "data-note=\"no-history\""), 2));
    cr_assert(eq(int, contains(page, "No such file or directory") ? 1 : 0, 1));
    /* The evidence is still listed, and drawn from what is in memory. */
    cr_assert(eq(sz, count(page, "<tr class=\"ev\""), 1));
    tl = timeline(page, 0);
    cr_assert(eq(sz, json_array_size(json_object_get(tl, "ev")),
                 wr_history_len(c->history)));
    json_decref(tl);
    cr_assert(eq(int, contains(page, "id=\"tl-1\"") ? 1 : 0, 0));
    cr_assert(eq(int, contains(page, "No events to draw.") ? 1 : 0, 1));
    cr_assert(eq(sz, count(page, "</details>"), 2));
    cr_assert(eq(int, contains(page, "</html>\n") ? 1 : 0, 1));
    free(page);
}

/* A case of n clients, 10 events each, client `evil` holding evidence. */
static wr_case_t *big_case(int n, int evil)
{
    char path[PATH_MAX];
    wr_case_t *c = add_case("01-big-none-s7", "", NULL, false);
    wr_history_t *h = fx.hist[0];
    char line[256];

    for (int i = 0; i < n; i++)
        for (int j = 0; j < 10; j++) {
            snprintf(line, sizeof(line),
                     "{\"src\":\"client\",\"ns\":%lld,\"client\":%d,"
                     "\"event\":\"client.%s\",\"key\":\"k%d\"}",
                     T0 + (long long)(i * 10 + j) * 1000, i,
                     j == 0 ? "connect" : "recv", i);
            cr_assert(eq(int, wr_history_add_line(h, WR_SRC_CLIENT, line), 0));
        }
    wr_history_sort(h);
    snprintf(path, sizeof(path), "%s/cases/01-big-none-s7/history.jsonl",
             fx.dir);
    cr_assert(eq(int, wr_history_write(h, path), 0));
    for (size_t i = 0; i < wr_history_len(h); i++)
        if (wr_history_at(h, i)->client == evil) {
            fail_check(c, WSR_CHECK_ISOLATION, "crossed.", wr_history_at(h, i),
                       NULL);
            break;
        }
    return c;
}

Test(html, caps_a_large_case_and_keeps_its_evidence, .timeout = 60)
{
    json_t *tl, *ev, *row, *agg;
    size_t i, evil_events = 0;
    char *page;
    int evil_lane = -1;

    setup_run("big", "scope-loss");
    big_case(3000, 2999);
    page = write_and_read();
    cr_assert(eq(int, contains(page, "data-note=\"aggregated\"") ? 1 : 0, 1));
    tl = timeline(page, 0);
    ev = json_object_get(tl, "ev");
    cr_assert(eq(int, json_array_size(ev) <= 20000 ? 1 : 0, 1), "%zu",
              json_array_size(ev));
    cr_assert(eq(int, json_array_size(ev) >= 19000 ? 1 : 0, 1), "%zu",
              json_array_size(ev));
    cr_assert(
        eq(int, (int)json_integer_value(json_object_get(tl, "total")), 30000));
    json_array_foreach(ev, i, row)
    {
        if (json_integer_value(json_array_get(row, 2)) != 0)
            evil_lane = (int)json_integer_value(json_array_get(row, 1));
    }
    cr_assert(not(eq(int, evil_lane, -1)), "the evidence was dropped");
    json_array_foreach(ev, i, row)
    {
        evil_events += json_integer_value(json_array_get(row, 1)) == evil_lane;
    }
    cr_assert(eq(sz, evil_events, 10), "the evidence lane is not whole");
    cr_assert(eq(str, (char *)lane_label(tl, (size_t)evil_lane),
                 "client 2999 \xc2\xb7 k2999"));
    agg = json_object_get(tl, "agg");
    cr_assert(eq(int, json_is_object(agg) ? 1 : 0, 1));
    cr_assert(eq(int,
                 (int)(json_integer_value(json_object_get(agg, "events")) +
                       (json_int_t)json_array_size(ev)),
                 30000));
    json_decref(tl);
    free(page);
}

Test(html, an_unwritable_directory_is_an_error)
{
    setup_run("x", "scope-loss");
    add_case("01-x-none-s7", "", lifecycle, true);
    cr_assert(eq(int, wr_report_write_html(&fx.run, "/nonexistent/wr-html"),
                 -ENOENT));
}
