/* wr_run.c - The case loop: target, engine, history, checks, reports.
 *
 * Each case gets a fresh gateway (a crash in one case cannot leak into the
 * next) and its own directory, cases/<case-id>/, holding trace.jsonl,
 * history.jsonl and gateway.log. The run directory is built hidden as
 * <root>/.tmp-<run-id> and renamed to <root>/<run-id> only when every
 * report file has been written; a run stopped by a signal removes it.
 *
 * Single-threaded: the engine's threads live only inside wr_engine_run. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wr_check.h"
#include "wr_engine.h"
#include "wr_faults.h"
#include "wr_history.h"
#include "wr_matrix.h"
#include "wr_report.h"
#include "wr_run.h"
#include "wr_summary.h"
#include "wr_target.h"
#include "wr_tool.h"

#define STOP_TIMEOUT_MS 5000
#define LEAK_GRACE_MS                                                          \
    1000 /* how long closes may take to reach the registry                     \
          */

static int mkdir_p(const char *path)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void wr_run_rm_rf(const char *path)
{
    rm_rf(path);
}

/* Appends a harness event to h. */
static void harness_event(wr_history_t *h, json_t *o)
{
    char *line;

    json_object_set_new(o, "src", json_string("harness"));
    if (json_object_get(o, "ns") == NULL)
        json_object_set_new(o, "ns", json_integer(wr_now_ns()));
    line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line != NULL)
        wr_history_add_line(h, WR_SRC_HARNESS, line);
    free(line);
}

/* Writes the n items comma-separated into out. Returns 0 or -E2BIG. */
static int join(char *out, size_t outlen, char *const *items, size_t n)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, outlen - used, "%s%s",
                                 i ? "," : "", items[i]);
        if (used >= outlen)
            return -E2BIG;
    }
    return 0;
}

/* Resolves one --inject value for scenario s into a comma list of faults
 * ("" for none): NULL (no --inject: the scenario's gateway.inject),
 * "none", "exposed" (the scenario's `exposes`), or a list of fault specs.
 * Returns 0, or -EINVAL / -E2BIG with the reason in err. */
static int resolve_inject(const char *value, const wr_scenario_t *s, char *out,
                          size_t outlen, char *err, size_t errlen)
{
    char buf[512], *save = NULL, *tok, *specs[64];
    size_t n = 0;
    int rc;

    if (value == NULL)
        rc = join(out, outlen, s->gateway.inject, s->gateway.ninject);
    else if (strcmp(value, "exposed") == 0)
        rc = join(out, outlen, s->exposes, s->nexposes);
    else if (strcmp(value, "none") == 0 || value[0] == '\0')
        rc = join(out, outlen, NULL, 0);
    else {
        snprintf(buf, sizeof(buf), "%s", value);
        for (tok = strtok_r(buf, ",", &save); tok && n < 64;
             tok = strtok_r(NULL, ",", &save)) {
            if (wr_fault_find(tok) == NULL) {
                snprintf(err, errlen,
                         "--inject: unknown fault '%s' (wsrace list shows "
                         "them)",
                         tok);
                return -EINVAL;
            }
            specs[n++] = tok;
        }
        rc = join(out, outlen, specs, n);
    }
    if (rc != 0)
        snprintf(err, errlen, "--inject %s: the fault list is too long",
                 value ? value : "(scenario's gateway.inject)");
    return rc;
}

/* ------------------------------------------------------------------ */
/* Gateway options of a case                                           */
/* ------------------------------------------------------------------ */

typedef struct {
    char *argv[96];
    char store[96][256];
    int n;
} args_t;

static void arg(args_t *a, const char *v)
{
    if (a->n >= 94)
        return;
    snprintf(a->store[a->n], sizeof(a->store[a->n]), "%s", v);
    a->argv[a->n] = a->store[a->n];
    a->n++;
    a->argv[a->n] = NULL;
}

static void argi(args_t *a, const char *opt, long long v)
{
    char num[32];

    snprintf(num, sizeof(num), "%lld", v);
    arg(a, opt);
    arg(a, num);
}

static void gateway_args(args_t *a, const wr_scenario_t *s, const char *inject,
                         unsigned long long seed, const char *secret,
                         bool no_sync)
{
    const wr_gateway_opts_t *g = &s->gateway;

    a->n = 0;
    a->argv[0] = NULL;
    if (inject[0] != '\0') {
        arg(a, "--inject");
        arg(a, inject);
    }
    for (size_t i = 0; !no_sync && i < g->nsync; i++) {
        arg(a, "--sync");
        arg(a, g->sync[i]);
    }
    if (g->workers > 0)
        argi(a, "--workers", g->workers);
    if (g->service_latency_ms >= 0)
        argi(a, "--service-latency", g->service_latency_ms);
    if (g->max_queue > 0)
        argi(a, "--max-queue", g->max_queue);
    if (g->max_message > 0)
        argi(a, "--max-message", g->max_message);
    argi(a, "--seed", (long long)seed);
    arg(a, "--secret");
    arg(a, secret);
}

/* ------------------------------------------------------------------ */
/* One case                                                            */
/* ------------------------------------------------------------------ */

/* Asks the gateway what is left in its registry once every client has
 * closed. The close paths get LEAK_GRACE_MS after the last time the count
 * went down (10,000 closes on a loaded machine take longer than a fixed
 * second; a leak does not shrink), within a hard bound. */
static void record_registry(wr_history_t *h, const char *host, int port,
                            double scale)
{
    int64_t grace = (int64_t)(LEAK_GRACE_MS * scale) * 1000000;
    int64_t start = wr_now_ns(), deadline = start + grace;
    int64_t cap = start + 30 * grace;
    size_t fewest = (size_t)-1;
    json_t *last = NULL;
    int status = -1;

    for (;;) {
        char *body = NULL;
        json_t *j;

        status = wr_http_get(host, port, "/debug/registry", 2000, &body);
        j = status == 200 ? json_loads(body, 0, NULL) : NULL;
        free(body);
        if (j != NULL) {
            size_t n = json_array_size(json_object_get(j, "connections"));

            json_decref(last);
            last = j;
            if (n == 0)
                break;
            if (n < fewest) {
                fewest = n;
                deadline = wr_now_ns() + grace;
            }
        }
        if (wr_now_ns() >= deadline || wr_now_ns() >= cap)
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (last == NULL) {
        harness_event(h, json_pack("{s:s,s:i,s:s}", "event",
                                   "target.registry_unavailable", "code",
                                   status, "error", "no /debug/registry"));
        return;
    }
    {
        json_t *rows = json_object_get(last, "connections"), *row, *keys;
        size_t i;

        keys = json_array();
        json_array_foreach(rows, i, row)
        {
            if (i >= 20)
                break;
            json_array_append(keys, json_object_get(row, "key"));
        }
        harness_event(h, json_pack("{s:s,s:I,s:o}", "event", "target.registry",
                                   "count", (json_int_t)json_array_size(rows),
                                   "keys", keys));
    }
    json_decref(last);
}

/* The command that replays c from its replay.json. */
static void replay_command(wr_case_t *c, const wr_run_opts_t *o,
                           const wr_run_t *run)
{
    snprintf(c->replay, sizeof(c->replay), "%s replay %s/%s/replay.json",
             o->self, run->dir, c->dir);
}

/* Writes dir/replay.json: everything needed to run case c again exactly
 * (the scenario's whole text, faults, sync actions, gateway arguments,
 * seed, target) and the verdicts it gave. */
static void write_replay_file(const wr_case_t *c, const wr_run_opts_t *o,
                              const char *dir, const args_t *a)
{
    json_t *j = json_object(), *args = json_array(), *sync = json_array(),
           *verdicts = json_object(), *expected = json_object();
    char path[2200], tmp[2300];
    const wr_gateway_opts_t *g = &c->scenario->gateway;

    for (int i = 0; a && i < a->n; i++) {
        bool secret = i > 0 && strcmp(a->argv[i - 1], "--secret") == 0;

        json_array_append_new(args,
                              json_string(secret ? "<secret>" : a->argv[i]));
    }
    for (size_t i = 0; !c->no_sync && i < g->nsync; i++)
        json_array_append_new(sync, json_string(g->sync[i]));
    for (int k = 0; k < WR_CHECK__COUNT; k++) {
        const char *name = wr_check_name((wr_check_id_t)k);

        if (!c->ran[k])
            continue;
        json_object_set_new(
            verdicts, name,
            json_string(wr_verdict_name(c->results[k].verdict)));
        json_object_set_new(expected, name,
                            json_string(wr_expect_name(c->expected[k])));
    }
    json_object_set_new(j, "wsrace_replay", json_integer(1));
    json_object_set_new(j, "case", json_string(c->id));
    json_object_set_new(j, "scenario",
                        json_pack("{s:s,s:s,s:s}", "name", c->scenario->name,
                                  "path", c->scenario->path, "text",
                                  c->scenario->text ? c->scenario->text : ""));
    json_object_set_new(j, "inject", json_string(c->inject));
    json_object_set_new(j, "no_sync", json_boolean(c->no_sync));
    json_object_set_new(j, "sync", sync);
    json_object_set_new(j, "gateway_args", args);
    json_object_set_new(j, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(j, "time_scale",
                        json_real(o->time_scale > 0 ? o->time_scale : 1.0));
    json_object_set_new(
        j, "target", o->gateway_given ? json_string(o->gateway) : json_null());
    json_object_set_new(j, "url", o->url ? json_string(o->url) : json_null());
    json_object_set_new(j, "wrapper",
                        o->wrapper ? json_string(o->wrapper) : json_null());
    json_object_set_new(j, "verdicts", verdicts);
    json_object_set_new(j, "expected", expected);
    json_object_set_new(j, "as_expected", json_boolean(c->as_expected));
    json_object_set_new(j, "target_state",
                        json_string(wr_target_state_name(c->target_state)));
    snprintf(path, sizeof(path), "%s/replay.json", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2)) == 0)
        rename(tmp, path);
    else
        unlink(tmp);
    json_decref(j);
}

/* Splits ws://HOST:PORT/PATH. Returns 0 or -EINVAL. */
static int parse_url(const char *url, char *host, size_t hostlen, int *port,
                     char *path, size_t pathlen)
{
    const char *p;
    int n = 0;

    if (strncmp(url, "ws://", 5) != 0)
        return -EINVAL;
    p = url + 5;
    if (sscanf(p, "%63[^:/]:%d%n", host, port, &n) != 2 || hostlen < 64)
        return -EINVAL;
    snprintf(path, pathlen, "%s", p[n] == '/' ? p + n : "/ws");
    return 0;
}

static void run_checks(wr_case_t *c, const wr_history_t *h, double scale,
                       wr_tool_t tool)
{
    unsigned mask = c->scenario->checks;

    wr_check_opts_t co = {
        .ready_timeout_ns =
            (int64_t)(c->scenario->ready_timeout_ms * scale) * 1000000,
        .message_timeout_ns = 0,
    };

    wr_faults_expect(c->scenario, c->inject, c->expected, &c->need_one);
    if (tool != WR_TOOL_NONE) {
        /* Only what the tool looks for: memcheck proves nothing of races. */
        unsigned tool_checks =
            (wr_tool_checks_memory(tool) ? 1u << WR_CHECK_MEMORY_SAFETY : 0) |
            (wr_tool_checks_races(tool) ? 1u << WR_CHECK_DATA_RACE : 0);

        mask |= tool_checks;
        wr_faults_expect_tool(c->scenario, c->inject, tool_checks, c->expected);
    }
    wr_check_all(h, &co, mask, c->results);
    c->as_expected = true;
    c->first_fail_ns = -1;
    for (int k = 0; k < WR_CHECK__COUNT; k++) {
        wr_check_result_t *r = &c->results[k];
        bool ok;

        c->ran[k] = (mask & (1u << k)) != 0;
        if (!c->ran[k])
            continue;
        ok = wr_report_as_expected(r->verdict, c->expected[k],
                                   c->target_state == WR_TARGET_EXTERNAL);
        if (!ok)
            c->as_expected = false;
        if (r->verdict == WR_FAIL && r->nevidence > 0) {
            int64_t t = r->evidence[r->nevidence - 1]->ns;
            for (size_t e = 0; e < r->nevidence; e++)
                if (r->evidence[e]->src == WR_SRC_GATEWAY ||
                    r->evidence[e]->src == WR_SRC_CLIENT) {
                    t = r->evidence[e]->ns;
                    break;
                }
            if (c->first_fail_ns < 0 || t < c->first_fail_ns)
                c->first_fail_ns = t;
        }
    }
    /* Several faults at once: one detection of them is due. */
    if (c->need_one != 0 && (wr_case_verdicts(c, WR_FAIL) & c->need_one) == 0)
        c->as_expected = false;
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/* Replaces the case's history by one holding only what the report reads:
 * its first event (the time origin of evidence) and every evidence event,
 * and points the evidence at the copies. The whole history is on disk as
 * history.jsonl; keeping it in memory would make a run's memory grow with
 * its cases (a 10,000-client case holds about 300 MB). On failure the full
 * history stays. */
static void keep_evidence(wr_case_t *c, wr_history_t *h)
{
    size_t idx[1 + WR_CHECK__COUNT * WR_EVIDENCE_MAX], n = 0, m = 0;
    wr_history_t *small;

    c->history = h;
    if (wr_history_len(h) == 0)
        return;
    idx[n++] = 0;
    for (int k = 0; k < WR_CHECK__COUNT; k++)
        for (size_t e = 0; c->ran[k] && e < c->results[k].nevidence; e++)
            idx[n++] = wr_history_index(h, c->results[k].evidence[e]);
    qsort(idx, n, sizeof(idx[0]), size_cmp);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || idx[m - 1] != idx[i])
            idx[m++] = idx[i];
    small = wr_history_new();
    if (small == NULL)
        return;
    wr_history_set_has_trace(small, wr_history_has_trace(h));
    for (size_t i = 0; i < m; i++) {
        const wr_event_t *ev = wr_history_at(h, idx[i]);

        if (wr_history_add_line(small, ev->src, ev->line) != 0) {
            wr_history_free(small);
            return;
        }
    }
    for (int k = 0; k < WR_CHECK__COUNT; k++) {
        wr_check_result_t *r = &c->results[k];

        for (size_t e = 0; c->ran[k] && e < r->nevidence; e++) {
            size_t at = wr_history_index(h, r->evidence[e]);
            size_t *pos = bsearch(&at, idx, m, sizeof(idx[0]), size_cmp);

            r->evidence[e] = wr_history_at(small, (size_t)(pos - idx));
        }
    }
    c->history = small;
    wr_history_free(h);
}

/* Watches the gateway while the engine runs, so that a crash is timed
 * within a few milliseconds of the process ending, not when the case
 * ends. The runner's thread does not touch the target meanwhile. */
typedef struct {
    wr_target_t *t;
    atomic_int done;
} watch_t;

static void *watch_main(void *arg)
{
    watch_t *w = arg;
    struct timespec ts = {0, 2 * 1000000L};

    while (!atomic_load(&w->done) && wr_target_alive(w->t))
        nanosleep(&ts, NULL);
    return NULL;
}

/* The valgrind command a gateway runs under for o->tool, writing one XML
 * file per process into dir. */
static void tool_wrapper(const wr_run_opts_t *o, const char *dir, char *out,
                         size_t len)
{
    wr_tool_t t = (wr_tool_t)o->tool;
    int n = snprintf(out, len,
                     "valgrind --tool=%s --xml=yes --xml-file=%s/vg.%%p.xml "
                     "--child-silent-after-fork=yes --error-exitcode=0",
                     wr_tool_name(t), dir);

    if (t == WR_TOOL_MEMCHECK && n < (int)len)
        n += snprintf(out + n, len - (size_t)n, " --leak-check=full");
    if (o->suppressions && n < (int)len)
        snprintf(out + n, len - (size_t)n, " --suppressions=%s",
                 o->suppressions);
}

/* Reads what the tool reported of the gateway of dir into h, placed at
 * exit_ns (see wr_tool.h). */
static void read_tool(const wr_run_opts_t *o, const wr_target_t *t,
                      const char *dir, wr_history_t *h, int64_t exit_ns)
{
    wr_tool_t tool = (wr_tool_t)o->tool;
    wr_tool_report_t r;
    char pattern[2200];

    wr_tool_report_init(&r, tool);
    if (tool == WR_TOOL_MEMCHECK || tool == WR_TOOL_HELGRIND ||
        tool == WR_TOOL_DRD) {
        snprintf(pattern, sizeof(pattern), "%s/vg.*.xml", dir);
        if (wr_tool_read_valgrind_glob(&r, pattern) <= 0)
            r.incomplete++;
    } else {
        FILE *f = fopen(t->log_path, "rb");
        char *buf = NULL;
        size_t len = 0;

        if (f != NULL) {
            FILE *m = open_memstream(&buf, &len);
            char chunk[8192];
            size_t k;

            while (m && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, k, m);
            if (m)
                fclose(m);
            fclose(f);
        }
        r.files = buf != NULL;
        if (buf == NULL ||
            wr_tool_read_sanitizer_mem(&r, buf, len, (long)t->pid) != 0)
            r.incomplete++;
        free(buf);
    }
    if (t->killed) /* SIGKILL: no leak report, no final words */
        r.incomplete++;
    wr_tool_history_add(h, &r, exit_ns);
    wr_tool_report_free(&r);
}

/* Runs case c; its directory exists. Returns 0, or 3 when the target could
 * not be run. */
static int run_case(wr_case_t *c, const wr_run_opts_t *o, const char *dir,
                    wr_history_t *h)
{
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    wr_engine_opts_t eo = {0};
    wr_engine_stats_t es;
    wr_target_t t;
    char host[64] = "127.0.0.1", path[256] = "/ws", hist[2100], wrap[3000];
    int port = 0, rc = 0;
    int64_t t0 = wr_now_ns();
    args_t a;

    a.n = 0;
    memset(&t, 0, sizeof(t));
    if (o->url != NULL) {
        if (parse_url(o->url, host, sizeof(host), &port, path, sizeof(path)) !=
            0) {
            snprintf(c->target_error, sizeof(c->target_error),
                     "bad --url %s (want ws://HOST:PORT/PATH)", o->url);
            c->target_state = WR_TARGET_NO_START;
            return 3;
        }
        c->target_state = WR_TARGET_EXTERNAL;
        harness_event(
            h, json_pack("{s:s,s:s}", "event", "target.start", "url", o->url));
    } else {
        wr_target_opts_t to = {
            .path = o->gateway,
            .dir = dir,
            .wrapper = o->wrapper,
            .start_timeout_ms = (int)(10000 * scale),
        };

        if (o->tool == WR_TOOL_MEMCHECK || o->tool == WR_TOOL_HELGRIND ||
            o->tool == WR_TOOL_DRD) {
            tool_wrapper(o, dir, wrap, sizeof(wrap));
            to.wrapper = wrap;
        }

        gateway_args(&a, c->scenario, c->inject, c->seed, o->secret,
                     c->no_sync);
        to.args = a.argv;
        if (wr_target_start(&t, &to) != 0) {
            c->target_state = WR_TARGET_NO_START;
            snprintf(c->target_error, sizeof(c->target_error), "%s", t.error);
            c->target_exit_code = t.exit_code;
            c->target_signal = t.sig;
            c->duration_ns = wr_now_ns() - t0;
            return 3;
        }
        snprintf(host, sizeof(host), "%s", t.host);
        port = t.port;
        c->gateway_up_ns = t.up_ns - t.spawn_ns;
        harness_event(h, json_pack("{s:s,s:I,s:s,s:i,s:I}", "event",
                                   "target.start", "ns", (json_int_t)t.up_ns,
                                   "host", t.host, "port", t.port, "pid",
                                   (json_int_t)t.pid));
    }

    eo.scenario = c->scenario;
    eo.host = host;
    eo.port = port;
    eo.path = path;
    eo.secret = o->secret;
    eo.seed = c->seed;
    eo.time_scale = scale;
    eo.stop = o->stop;
    watch_t watch = {.t = &t};
    pthread_t watcher;
    bool watching = o->url == NULL &&
                    pthread_create(&watcher, NULL, watch_main, &watch) == 0;
    if (wr_engine_run(&eo, h, &es) != 0) {
        snprintf(c->target_error, sizeof(c->target_error),
                 "the client engine could not start");
        rc = 3;
    }
    if (watching) {
        atomic_store(&watch.done, 1);
        pthread_join(watcher, NULL);
    }
    c->clients = es.clients;
    c->established = es.established;
    c->steps_failed = es.steps_failed;

    if (o->url != NULL) {
        record_registry(h, host, port, scale);
    } else {
        if (wr_target_alive(&t))
            record_registry(h, host, port, scale);
        int64_t exit_ns;

        if (!wr_target_alive(&t)) {
            /* It died on its own during the case; a wrapper's children
             * may not have. */
            wr_target_sweep(&t, (int)(STOP_TIMEOUT_MS * scale));
            exit_ns = t.exit_ns;
            harness_event(
                h, json_pack("{s:s,s:I,s:i,s:i,s:b}", "event", "target.exit",
                             "ns", (json_int_t)t.exit_ns, "code", t.exit_code,
                             "sig", t.sig, "stopped", 0));
        } else {
            wr_target_stop(&t, (int)(STOP_TIMEOUT_MS * scale));
            exit_ns = wr_now_ns();
            harness_event(h, json_pack("{s:s,s:I,s:i,s:i,s:b,s:b}", "event",
                                       "target.exit", "ns", (json_int_t)exit_ns,
                                       "code", t.exit_code, "sig", 0, "stopped",
                                       1, "killed", t.killed));
        }
        if (o->tool != WR_TOOL_NONE)
            read_tool(o, &t, dir, h, exit_ns);
        c->target_state = t.state;
        c->target_exit_code = t.exit_code;
        c->target_signal = t.sig;
        if (t.state == WR_TARGET_HUNG)
            snprintf(c->target_error, sizeof(c->target_error), "%s", t.error);
        if (wr_history_load_trace(h, t.trace_path, NULL) >= 0)
            wr_history_set_has_trace(h, true);
    }
    harness_event(h, json_pack("{s:s}", "event", "case.end"));
    wr_history_sort(h);
    snprintf(hist, sizeof(hist), "%s/history.jsonl", dir);
    wr_history_write(h, hist);
    run_checks(c, h, scale, (wr_tool_t)o->tool);
    if (c->first_fail_ns >= 0)
        c->first_fail_ns -= t.up_ns ? t.up_ns : es.start_ns;
    c->duration_ns = wr_now_ns() - t0;
    write_replay_file(c, o, dir, o->url ? NULL : &a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

static void case_id(wr_case_t *c, size_t index)
{
    char label[sizeof(c->inject)];

    snprintf(label, sizeof(label), "%s", c->inject[0] ? c->inject : "none");
    for (char *p = label; *p; p++)
        if (*p == ',' || *p == '=')
            *p = '+';
    snprintf(c->id, sizeof(c->id), "%02zu-%s-%.60s-s%llu", index + 1,
             c->scenario->name, label, c->seed);
}

/* Whether an earlier case of scenario s ran with the same faults. */
static bool inject_seen(const wr_run_t *run, size_t upto,
                        const wr_scenario_t *s, const char *inject)
{
    for (size_t k = 0; k < upto; k++)
        if (run->cases[k].scenario == s &&
            strcmp(run->cases[k].inject, inject) == 0)
            return true;
    return false;
}

static void print_case(const wr_case_t *c, size_t i, size_t n)
{
    char fails[256] = "";
    size_t used = 0;

    for (int k = 0; k < WR_CHECK__COUNT; k++)
        if (c->ran[k] && c->results[k].verdict == WR_FAIL)
            used += (size_t)snprintf(fails + used, sizeof(fails) - used, "%s%s",
                                     used ? "," : "",
                                     wr_check_name((wr_check_id_t)k));
    printf("[%2zu/%zu] %-28s inject=%-24s seed=%-6llu %-10s fail=%s%s\n", i + 1,
           n, c->scenario->name, c->inject[0] ? c->inject : "none", c->seed,
           c->as_expected ? "as-expected" : "UNEXPECTED",
           fails[0] ? fails : "-",
           c->target_error[0] ? "  (target: see report)" : "");
    fflush(stdout);
}

/* One line per fault the run exercised: reproduced with it injected, and
 * absent from the same scenarios without it. */
static void print_bugs(const wr_run_t *run)
{
    bool header = false;

    for (size_t i = 0; i < wr_fault_count(); i++) {
        const wr_fault_info_t *f = wr_fault_at(i);
        int with = 0, hit = 0, without = 0, clean = 0;
        char label[64];

        for (size_t k = 0; k < run->ncases; k++) {
            const wr_case_t *c = &run->cases[k];

            if (wr_fault_targeted(f, c)) {
                with++;
                hit += wr_fault_confirmed(f, c);
            } else if (wr_fault_control(f, c)) {
                without++;
                clean += wr_fault_absent(f, c);
            }
        }
        if (with + without == 0)
            continue;
        if (!header) {
            printf("\n  %-34s %-16s %s\n", "bug", "reproduced",
                   "absent without injection");
            header = true;
        }
        snprintf(label, sizeof(label), "%s%s%s%s", f->id, f->origin ? " (" : "",
                 f->origin ? f->origin : "", f->origin ? ")" : "");
        printf("  %-34s %-16s %s\n", label,
               with ? (hit == with ? "yes" : "NO") : "not injected",
               without ? (clean == without ? "yes" : "NO") : "not run");
        if (with && hit != with)
            printf("  %-34s   detected in %d of %d cases\n", "", hit, with);
        if (without && clean != without)
            printf("  %-34s   reported in %d of %d clean cases\n", "",
                   without - clean, without);
    }
    if (header)
        printf("\n");
}

/* FNV-1a, 64 bits, continued from h. */
static uint64_t fnv(uint64_t h, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

/* A name for the plan (scenarios and their texts, inject sets, seeds,
 * sync): every shard of one plan, and only they, share it. */
static void plan_id(wr_run_t *run, const wr_run_opts_t *o)
{
    uint64_t h = 1469598103934665603ull;
    char num[64];

    h = fnv(h, run->kind);
    for (size_t i = 0; i < run->nscenarios; i++) {
        h = fnv(h, run->scenarios[i]->name);
        h = fnv(h, run->scenarios[i]->text);
    }
    for (size_t i = 0; i < run->ninjects; i++)
        h = fnv(h, run->injects[i]);
    snprintf(num, sizeof(num), "%llu/%d/%d", o->seed, o->repeat,
             (int)o->no_sync);
    h = fnv(h, num);
    snprintf(run->plan_id, sizeof(run->plan_id), "%016llx",
             (unsigned long long)h);
}

static void note_inject(wr_run_t *run, const char *inject)
{
    for (size_t i = 0; i < run->ninjects; i++)
        if (strcmp(run->injects[i], inject) == 0)
            return;
    snprintf(run->injects[run->ninjects++], sizeof(run->injects[0]), "%s",
             inject);
}

/* Plans every case of the run into run->cases (allocated for the most
 * cases there can be): scenario x inject set x seed, skipping an inject set
 * that repeats an earlier one for the same scenario ("exposed" and "none"
 * for a scenario that exposes nothing). Every case gets its index in the
 * whole plan; with shards, only the cases of this shard (index % N ==
 * I - 1) are kept, so N shards cover the plan once. Returns 0, or 2 with a
 * message when an inject set is bad or cannot go to the target. */
static int plan(wr_run_t *run, const wr_run_opts_t *o,
                wr_scenario_t *const *scs, size_t nscs)
{
    size_t nsets = o->ninjects ? o->ninjects : 1;
    int repeat = o->repeat > 0 ? o->repeat : 1;
    size_t ci = 0, kept = 0;

    for (size_t si = 0; si < nscs; si++) {
        run->scenarios[run->nscenarios++] = scs[si];
        for (size_t ii = 0; ii < nsets; ii++) {
            const char *value = o->ninjects ? o->injects[ii] : NULL;
            char inject[sizeof(run->cases[0].inject)], err[256];

            if (resolve_inject(value, scs[si], inject, sizeof(inject), err,
                               sizeof(err)) != 0) {
                fprintf(stderr, "wsrace %s: %s\n", run->kind, err);
                return 2;
            }
            if (o->url != NULL && inject[0] != '\0') {
                fprintf(stderr,
                        "wsrace %s: --url: faults cannot be injected into "
                        "an external gateway (%s: %s)%s\n",
                        run->kind, scs[si]->path, inject,
                        value ? "" : "; add --inject none");
                return 2;
            }
            if (inject_seen(run, ci, scs[si], inject))
                continue;
            note_inject(run, inject);
            for (int r = 0; r < repeat; r++, ci++) {
                wr_case_t *c = &run->cases[ci];

                c->index = ci;
                c->scenario = scs[si];
                c->seed = o->seed + (unsigned long long)r;
                c->repeat = r;
                c->no_sync = o->no_sync;
                c->target_exit_code = -1;
                snprintf(c->inject, sizeof(c->inject), "%s", inject);
                case_id(c, ci);
                snprintf(c->dir, sizeof(c->dir), "cases/%s", c->id);
                replay_command(c, o, run);
            }
        }
    }
    run->planned = ci;
    for (size_t i = 0; i < ci; i++) {
        if (o->shard_count > 0 &&
            (int)(i % (size_t)o->shard_count) != o->shard_index - 1)
            continue;
        if (kept != i)
            run->cases[kept] = run->cases[i];
        kept++;
    }
    run->ncases = kept;
    plan_id(run, o);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Running the cases: here, or in several processes                    */
/* ------------------------------------------------------------------ */

/* Runs the cases of run whose position p has p % step == first, writing
 * their directories into tmpdir. Returns 0, 1 (a case was not as
 * expected), 3 (a target could not be run, or a directory not made) or 130
 * (stopped). */
static int run_cases(wr_run_t *run, const wr_run_opts_t *o, const char *tmpdir,
                     size_t first, size_t step)
{
    char casedir[2048];
    int rc = 0;

    for (size_t ci = first; ci < run->ncases; ci += step) {
        wr_case_t *c = &run->cases[ci];
        wr_history_t *h;
        int cr;

        snprintf(casedir, sizeof(casedir), "%s/%s", tmpdir, c->dir);
        if (mkdir_p(casedir) != 0 || (h = wr_history_new()) == NULL)
            return 3;
        cr = run_case(c, o, casedir, h);
        keep_evidence(c, h);
        if (o->stop && *o->stop)
            return 130;
        if (cr == 3) {
            rc = 3;
            c->as_expected = false;
        } else if (!c->as_expected && rc == 0) {
            rc = 1;
        }
        print_case(c, ci, run->ncases);
    }
    return rc;
}

/* A job's part of the run: its cases only, as a run of its own, written
 * as dir/summary.json for the parent to read back. */
static int write_job_summary(const wr_run_t *run, size_t first, size_t step,
                             const char *dir)
{
    wr_run_t part = *run;
    size_t n = 0;
    int rc;

    part.cases = calloc(run->ncases / step + 2, sizeof(wr_case_t));
    if (part.cases == NULL || mkdir_p(dir) != 0) {
        free(part.cases);
        return -ENOMEM;
    }
    for (size_t ci = first; ci < run->ncases; ci += step)
        part.cases[n++] = run->cases[ci];
    part.ncases = n;
    part.matrix = NULL;
    part.baseline = NULL;
    rc = wr_report_write_summary(&part, dir);
    free(part.cases);
    return rc;
}

/* Moves the cases a job reported into run, by plan index. */
static int collect_job(wr_run_t *run, const char *dir)
{
    wr_run_t part;
    char err[512];
    int rc = wr_summary_load(dir, run->scenarios, run->nscenarios, &part, err,
                             sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "wsrace: %s\n", err);
        return rc;
    }
    for (size_t i = 0; i < part.ncases; i++)
        for (size_t k = 0; k < run->ncases; k++) {
            wr_case_t *c = &run->cases[k];

            if (c->index != part.cases[i].index || c->history != NULL)
                continue;
            *c = part.cases[i];
            part.cases[i].history = NULL;
            break;
        }
    wr_run_free(&part);
    return 0;
}

/* Runs the cases in o->jobs child processes (case p in job p % jobs),
 * each writing its cases' directories into tmpdir and its verdicts into
 * tmpdir/.job-J/summary.json, then reads them back. A signal to the
 * parent is passed on to the jobs. Returns as run_cases. */
static int run_jobs(wr_run_t *run, const wr_run_opts_t *o, const char *tmpdir)
{
    size_t jobs = (size_t)o->jobs < run->ncases ? (size_t)o->jobs : run->ncases;
    pid_t pid[64];
    int code[64], rc = 0;
    size_t left = 0;
    char dir[1200];

    if (jobs > 64)
        jobs = 64;
    fflush(stdout);
    fflush(stderr);
    for (size_t j = 0; j < jobs; j++) {
        pid[j] = fork();
        if (pid[j] == 0) {
            int r = run_cases(run, o, tmpdir, j, jobs);

            snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
            if (r != 130 && write_job_summary(run, j, jobs, dir) != 0)
                r = 3;
            fflush(stdout);
            _exit(r);
        }
        code[j] = pid[j] < 0 ? 3 : -1;
        left += pid[j] > 0;
    }
    while (left > 0) {
        bool stopping = o->stop && *o->stop;

        for (size_t j = 0; j < jobs; j++) {
            int st;

            if (code[j] != -1)
                continue;
            if (stopping)
                kill(pid[j], SIGTERM);
            if (waitpid(pid[j], &st, stopping ? 0 : WNOHANG) == pid[j]) {
                code[j] = WIFEXITED(st) ? WEXITSTATUS(st) : 3;
                left--;
            }
        }
        if (left > 0 && !stopping) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (size_t j = 0; j < jobs; j++) {
        if (code[j] == 130 || (o->stop && *o->stop))
            return 130;
        if (code[j] == 3)
            rc = 3;
        else if (code[j] == 1 && rc == 0)
            rc = 1;
        else if (code[j] != 0 && code[j] != 1)
            rc = 3;
    }
    for (size_t j = 0; j < jobs; j++) {
        snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
        if (code[j] != 3 && collect_job(run, dir) != 0)
            rc = 3;
        rm_rf(dir);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Finishing: matrix, baseline, reports, publication                   */
/* ------------------------------------------------------------------ */

static bool is_run_id(const char *name)
{
    int n = 0;
    unsigned pid;

    return strlen(name) >= 18 && name[8] == 'T' && name[15] == 'Z' &&
           name[16] == '-' && sscanf(name + 17, "%u%n", &pid, &n) == 1 &&
           name[17 + n] == '\0';
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest runs under root until keep are left; never keeps
 * out the run just published (newest). Run ids sort by time. */
static void prune(const char *root, int keep, const char *newest)
{
    DIR *d = opendir(root);
    char **names = NULL, path[2200];
    size_t n = 0;
    struct dirent *e;

    if (d == NULL || keep <= 0) {
        if (d)
            closedir(d);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char **p;

        if (!is_run_id(e->d_name) || strcmp(e->d_name, newest) == 0)
            continue;
        p = realloc(names, (n + 1) * sizeof(*names));
        if (p == NULL)
            break;
        names = p;
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (n - i > (size_t)(keep - 1)) {
            snprintf(path, sizeof(path), "%s/%s", root, names[i]);
            rm_rf(path);
        }
        free(names[i]);
    }
    free(names);
}

static void print_baseline(const wr_matrix_diff_t *d)
{
    printf("baseline %s: %zu regression(s), %zu improvement(s), %zu other "
           "change(s)\n",
           d->path, d->nregressions, d->nimprovements, d->nchanges);
    wr_matrix_diff_print(d, stdout, "  ", 20);
}

int wr_run_finish(wr_run_t *run, const wr_run_opts_t *o, const char *tmpdir,
                  bool publish_latest, int rc)
{
    char err[1024], root[1024];

    run->matrix = calloc(1, sizeof(*run->matrix));
    if (run->matrix == NULL || wr_matrix_build(run, run->matrix) != 0) {
        free(run->matrix);
        run->matrix = NULL;
        rm_rf(tmpdir);
        return 3;
    }
    if (!wr_matrix_ok(run->matrix) && rc == 0)
        rc = 1;
    if (o->baseline != NULL) {
        run->baseline = calloc(1, sizeof(*run->baseline));
        if (run->baseline == NULL ||
            wr_matrix_compare(run->matrix, o->baseline, run->baseline, err,
                              sizeof(err)) != 0) {
            fprintf(stderr, "wsrace: baseline: %s\n", err);
            free(run->baseline);
            run->baseline = NULL;
            rc = 3;
        } else if (run->baseline->nregressions > 0 && rc == 0) {
            rc = 1;
        }
    }
    run->exit_code = rc;
    snprintf(root, sizeof(root), "%s", run->dir);
    if (strrchr(root, '/') != NULL)
        *strrchr(root, '/') = '\0';
    else
        snprintf(root, sizeof(root), ".");
    if (wr_report_write_all(run, tmpdir) != 0 ||
        wr_report_publish(tmpdir, run->dir, publish_latest ? root : NULL) !=
            0) {
        fprintf(stderr, "wsrace: could not write the report in %s\n", tmpdir);
        rm_rf(tmpdir);
        return 3;
    }
    if (o->write_baseline != NULL &&
        wr_matrix_write_baseline(run->matrix, o->write_baseline) != 0) {
        fprintf(stderr, "wsrace: could not write the baseline %s\n",
                o->write_baseline);
        rc = 3;
    }
    if (o->keep > 0)
        prune(root, o->keep, run->id);
    print_bugs(run);
    if (o->print_matrix)
        wr_matrix_print(run->matrix, stdout);
    if (run->baseline != NULL)
        print_baseline(run->baseline);
    printf("report: %s/report.md\n", run->dir);
    printf("html:   %s/index.html\n", run->dir);
    return rc;
}

int wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scs, size_t nscs,
           wr_run_t *run)
{
    size_t nsets = o->ninjects ? o->ninjects : 1;
    int repeat = o->repeat > 0 ? o->repeat : 1;
    char tmpdir[1100];
    struct tm tm;
    time_t now = time(NULL);
    int rc = 0;

    memset(run, 0, sizeof(*run));
    gmtime_r(&now, &tm);
    strftime(run->id, sizeof(run->id), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(run->id + strlen(run->id), sizeof(run->id) - strlen(run->id),
             "-%d", (int)getpid());
    snprintf(run->dir, sizeof(run->dir), "%s/%s", o->report_root, run->id);
    snprintf(run->argv_text, sizeof(run->argv_text), "%s",
             o->argv_text ? o->argv_text : "");
    snprintf(run->target, sizeof(run->target), "%s",
             o->url ? o->url : o->gateway);
    snprintf(run->kind, sizeof(run->kind), "%s", o->kind ? o->kind : "run");
    snprintf(run->tool, sizeof(run->tool), "%s",
             o->tool ? wr_tool_name((wr_tool_t)o->tool) : "");
    run->external = o->url != NULL;
    run->seed = o->seed;
    run->started_unix = (int64_t)now;
    run->shard_index = o->shard_index;
    run->shard_count = o->shard_count;
    run->cases = calloc(nscs * nsets * (size_t)repeat + 1, sizeof(wr_case_t));
    run->scenarios = calloc(nscs + 1, sizeof(*run->scenarios));
    run->injects = calloc(nscs * nsets + 1, sizeof(*run->injects));
    if (run->cases == NULL || run->scenarios == NULL || run->injects == NULL)
        return 3;
    if ((rc = plan(run, o, scs, nscs)) != 0)
        return rc;

    if (mkdir_p(o->report_root) != 0) {
        fprintf(stderr, "wsrace: cannot create %s: %s\n", o->report_root,
                strerror(errno));
        return 3;
    }
    wr_report_sweep(o->report_root);
    snprintf(tmpdir, sizeof(tmpdir), "%s/.tmp-%s", o->report_root, run->id);
    if (mkdir_p(tmpdir) != 0) {
        fprintf(stderr, "wsrace: cannot create %s\n", tmpdir);
        return 3;
    }

    int64_t t0 = wr_now_ns();
    if (o->jobs > 1 && run->ncases > 1)
        rc = run_jobs(run, o, tmpdir);
    else
        rc = run_cases(run, o, tmpdir, 0, 1);
    if (rc == 130 || (o->stop && *o->stop)) {
        fprintf(stderr, "wsrace: interrupted; no report written\n");
        rm_rf(tmpdir);
        return 130;
    }
    run->duration_ns = wr_now_ns() - t0;
    return wr_run_finish(run, o, tmpdir, true, rc);
}

void wr_run_free(wr_run_t *run)
{
    for (size_t i = 0; i < run->ncases; i++)
        wr_history_free((wr_history_t *)run->cases[i].history);
    free(run->cases);
    if (run->owns_scenarios)
        for (size_t i = 0; i < run->nscenarios; i++)
            wr_scenario_free(run->scenarios[i]);
    free(run->scenarios);
    free(run->injects);
    if (run->matrix != NULL)
        wr_matrix_free(run->matrix);
    free(run->matrix);
    if (run->baseline != NULL)
        wr_matrix_diff_free(run->baseline);
    free(run->baseline);
    memset(run, 0, sizeof(*run));
}
