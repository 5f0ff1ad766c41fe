/* wr_report_html.c - index.html: the run for people, in a browser. The
 * reproduction matrix at the top, then every case (unexpected ones marked
 * and filterable) with its checks, the evidence of each FAIL, the replay
 * command and a timeline of its history: one lane per connection, marks
 * for state changes, coordinator phases, registry events, messages and
 * closes on one time axis, the evidence circled in red.
 *
 * The page is one self-contained file: inline CSS and JS, no fonts, no
 * network. Each case's timeline data is a <script type="application/json">
 * block that the script parses and draws on a <canvas> only when the case
 * is opened, and only the lanes in view (virtual scrolling), so a run of
 * many cases or a case of 1,000 connections loads and scrolls smoothly.
 *
 * Lanes. Client events carry their client index; gateway events their
 * connection id and key. A gateway connection belongs to the client whose
 * established key (connection_id), or else session, is the connection's
 * final key (its rekey target, else its swap target, else its last key);
 * several candidates (one session, several clients) go in accept order:
 * the earliest connect before the connection opened. A connection no client
 * claims keeps its own lane; events of neither (harness, gateway start, probes)
 * share the first lane.
 *
 * Caps. At most CASE_EVENTS events of a case are embedded (less once the
 * run has embedded RUN_EVENTS): the first lane and every lane holding
 * evidence are kept whole, then lanes in order while they fit; the rest
 * are counted per time bucket in one aggregate lane, and the page says so.
 *
 * Escaping. Text goes through put_html() (UTF-8 checked, invalid bytes
 * replaced, & < > " ' as entities). JSON is dumped ASCII-only by jansson,
 * then < > & become \u escapes, so no "</script" or "<!--" can appear in
 * a script block.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_matrix.h"
#include "judge/wr_judge.h"
#include "report/wr_report_util.h"

#define CASE_EVENTS     20000     /* events embedded per case, at most */
#define CASE_EVENTS_MIN 2000      /* ... and at least, whatever the run used */
#define RUN_EVENTS      200000    /* events embedded in the whole page */
#define AGG_BUCKETS     240       /* time buckets of the aggregate lane */
#define MAX_CLIENTS     (1 << 20) /* client indexes beyond are not lanes */

/* What render_html() needs beyond the run: run must stay the first
 * member, the render callback gets a pointer to it. */
typedef struct {
    wr_run_t run;    /* a shallow copy of the run being written */
    const char *dir; /* the run directory: case histories are under it */
} html_job_t;

/* The page's style sheet and script, defined at the end of the file. */
static void put_style(FILE *f);
static void put_script(FILE *f);

/* ------------------------------------------------------------------------
 * Text: HTML, URLs and JSON in a script block
 * ---------------------------------------------------------------------- */

/* Writes s as HTML text or attribute value: invalid UTF-8 and control
 * characters but tab and newline replaced, markup characters escaped. */
static void put_html(FILE *f, const char *s)
{
    while (s != NULL && *s != '\0') {
        long cp;
        size_t n = wr__report_utf8_next(s, &cp);

        switch (cp) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (cp < 0 || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f)
                fputs(REPLACEMENT, f);
            else
                fwrite(s, 1, n, f);
        }
        s += n;
    }
}

/* Writes a relative path as a URL path: unreserved bytes and '/' as they
 * are, every other byte percent-encoded. */
static void put_url(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL)
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

/* A JSON string of s with invalid UTF-8 replaced; NULL when out of memory
 * (json_null() for a NULL s). */
static json_t *jstr(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    json_t *j;

    if (s == NULL)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    if ((f = open_memstream(&buf, &len)) == NULL)
        return NULL;
    while (*s != '\0') {
        long cp;
        size_t n = wr__report_utf8_next(s, &cp);

        if (cp <= 0)
            fputs(REPLACEMENT, f);
        else
            fwrite(s, 1, n, f);
        s += n;
    }
    j = fclose(f) == 0 ? json_string(buf) : NULL;
    free(buf);
    return j;
}

/* Writes j (stolen) as JSON that is safe inside a <script> block: ASCII
 * only (so U+2028/9 are escaped too), and < > & as \u escapes, which JSON
 * allows in strings, the only place they can occur. Returns 0 or
 * -ENOMEM. */
static int put_json(FILE *f, json_t *j)
{
    char *text;

    if (j == NULL)
        return -ENOMEM;
    text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    json_decref(j);
    if (text == NULL)
        return -ENOMEM;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", (unsigned)*p);
        else
            fputc(*p, f);
    }
    free(text);
    return 0;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static bool streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ------------------------------------------------------------------------
 * History: a case's events, read from its history.jsonl
 * ---------------------------------------------------------------------- */

/* One event of a case's history, as much as the timeline needs. Read here
 * rather than through wr_history.c: a timeline needs a few fields of every
 * event, the checkers' flat struct and interning are not needed. */
typedef struct {
    int64_t ns;     /* CLOCK_MONOTONIC ns */
    uint64_t seq;   /* gateway trace seq; 0 otherwise */
    uint64_t conn;  /* gateway connection id; 0 when none */
    int client;     /* scenario client index; -1 when none */
    wr_src_t src;   /* who recorded it */
    char *event;    /* "registry.rekey", ...; never NULL */
    char *key, *to; /* NULL when absent */
    char *line;     /* the event as one JSON object */
} hev_t;

typedef struct {
    hev_t *v;
    size_t n, cap;
    size_t skipped; /* lines that were not JSON objects with an event */
} hist_t;

static void hist_free(hist_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].event);
        free(h->v[i].key);
        free(h->v[i].to);
        free(h->v[i].line);
    }
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* Appends an event with copies of the strings given. Returns 0 or
 * -ENOMEM (nothing appended). */
static int hist_push(hist_t *h, const hev_t *e)
{
    hev_t c = *e;

    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        hev_t *v = realloc(h->v, cap * sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    c.event = strdup(e->event ? e->event : "?");
    c.key = e->key ? strdup(e->key) : NULL;
    c.to = e->to ? strdup(e->to) : NULL;
    c.line = strdup(e->line ? e->line : "");
    if (c.event == NULL || c.line == NULL || (e->key && c.key == NULL) ||
        (e->to && c.to == NULL)) {
        free(c.event);
        free(c.key);
        free(c.to);
        free(c.line);
        return -ENOMEM;
    }
    h->v[h->n++] = c;
    return 0;
}

static int64_t jint(json_t *o, const char *name, int64_t dflt)
{
    json_t *v = json_object_get(o, name);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static const char *jtext(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Appends the event of one history line; a line that is not a JSON object
 * with an "event" is counted in skipped. Returns 0 or -ENOMEM. */
static int hist_add_line(hist_t *h, const char *line)
{
    json_t *o = json_loads(line, 0, NULL);
    const char *src = jtext(o, "src");
    hev_t e = {0};
    int rc;

    if (!json_is_object(o) || jtext(o, "event") == NULL) {
        json_decref(o);
        h->skipped++;
        return 0;
    }
    e.ns = jint(o, "ns", 0);
    e.seq = (uint64_t)jint(o, "seq", 0);
    e.conn = (uint64_t)jint(o, "conn", 0);
    e.client = (int)jint(o, "client", -1);
    e.src = streq(src, "client")    ? WR_SRC_CLIENT
            : streq(src, "harness") ? WR_SRC_HARNESS
                                    : WR_SRC_GATEWAY;
    e.event = (char *)jtext(o, "event");
    e.key = (char *)jtext(o, "key");
    if (e.key == NULL)
        e.key = (char *)jtext(o, "session");
    e.to = (char *)jtext(o, "to");
    e.line = (char *)line;
    rc = hist_push(h, &e);
    json_decref(o);
    return rc;
}

/* Reads a history.jsonl. Returns 0 or negative errno. */
static int hist_load(hist_t *h, const char *path)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    if (f == NULL)
        return -errno;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            rc = hist_add_line(h, line);
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(line);
    fclose(f);
    return rc;
}

/* The events the run kept in memory for c (its first event and the
 * evidence), when its history file cannot be read. Returns 0 or
 * -ENOMEM. */
static int hist_from_case(hist_t *h, const wr_case_t *c)
{
    size_t n = c->history != NULL ? wr_history_len(c->history) : 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wr_event_t *w = wr_history_at(c->history, i);
        hev_t e = {w->ns,          w->seq,        w->conn,
                   w->client,      w->src,        (char *)w->event,
                   (char *)w->key, (char *)w->to, w->line};

        rc = hist_push(h, &e);
    }
    return rc;
}

/* ------------------------------------------------------------------------
 * Timeline model: lanes of one case's history
 * ---------------------------------------------------------------------- */

enum { LANE_GLOBAL, LANE_CLIENT, LANE_CONN };

/* One of these per gateway connection id in the history. */
typedef struct {
    uint64_t conn;    /* gateway connection id */
    int64_t open_ns;  /* its first event */
    const char *key;  /* its final key: rekey, else swap target, else last */
    const char *swap; /* swap.begin target, until a rekey is seen */
    bool rekeyed;     /* key came from a registry.rekey */
    int client;       /* the client it belongs to; -1 when none */
    int lane;
} conn_t;

/* One of these per client index. */
typedef struct {
    bool seen;               /* it has events */
    const char *session;     /* client.connect key */
    const char *established; /* client.established key (connection_id) */
    int64_t connect_ns;      /* its first client.connect */
    uint64_t conn;           /* its gateway connection; 0 when none found */
    int lane;
} client_t;

/* One of these per lane; kept lanes are embedded, the rest aggregated. */
typedef struct {
    int kind;      /* LANE_GLOBAL | LANE_CLIENT | LANE_CONN */
    int client;    /* LANE_CLIENT: the client index */
    size_t conn;   /* LANE_CONN: index in conns */
    size_t nev;    /* events in the lane */
    bool evidence; /* holds an evidence event of a FAIL */
    int out;       /* index among embedded lanes; -1 when aggregated */
} lane_t;

/* One of these is built per case, from its whole history. */
typedef struct {
    const hev_t *ev; /* the case's events, in history order */
    size_t n;
    int64_t t0;    /* ns of h's first event: the time origin */
    int64_t span;  /* last event's ns - t0, at least 0 */
    conn_t *conns; /* sorted by conn id */
    size_t nconns;
    client_t *clients; /* by client index */
    size_t nclients;
    lane_t *lanes;
    size_t nlanes;
    int *lane_of;      /* per event: its lane */
    unsigned *evmask;  /* per event: FAIL checks it is evidence of */
    size_t kept;       /* events embedded */
    size_t nout;       /* lanes embedded */
    size_t agg_lanes;  /* lanes aggregated */
    size_t agg_events; /* events aggregated */
} tl_t;

static void tl_free(tl_t *tl)
{
    free(tl->conns);
    free(tl->clients);
    free(tl->lanes);
    free(tl->lane_of);
    free(tl->evmask);
    memset(tl, 0, sizeof(*tl));
}

/* e's client index, or -1 when it has none (or one too large to be a
 * lane). */
static int client_of(const hev_t *e)
{
    return e->client >= 0 && e->client < MAX_CLIENTS ? e->client : -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_conn(const void *key, const void *elem)
{
    uint64_t x = *(const uint64_t *)key, y = ((const conn_t *)elem)->conn;

    return x < y ? -1 : x > y;
}

static conn_t *find_conn(const tl_t *tl, uint64_t id)
{
    return bsearch(&id, tl->conns, tl->nconns, sizeof(conn_t), cmp_conn);
}

/* Collects the distinct connection ids, sorted. Returns 0 or -ENOMEM. */
static int collect_conns(tl_t *tl)
{
    uint64_t *ids = malloc((tl->n ? tl->n : 1) * sizeof(*ids));
    size_t n = 0;

    if (ids == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < tl->n; i++) {
        const hev_t *e = &tl->ev[i];

        if (e->conn != 0 && client_of(e) < 0)
            ids[n++] = e->conn;
    }
    qsort(ids, n, sizeof(*ids), cmp_u64);
    tl->conns = calloc(n ? n : 1, sizeof(conn_t));
    if (tl->conns == NULL) {
        free(ids);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (tl->nconns > 0 && tl->conns[tl->nconns - 1].conn == ids[i])
            continue;
        tl->conns[tl->nconns].conn = ids[i];
        tl->conns[tl->nconns].open_ns = INT64_MAX;
        tl->conns[tl->nconns].client = -1;
        tl->nconns++;
    }
    free(ids);
    return 0;
}

/* What a gateway event tells about its connection. */
static void note_conn_event(conn_t *c, const hev_t *e)
{
    if (e->ns < c->open_ns)
        c->open_ns = e->ns;
    if (streq(e->event, "registry.rekey") && e->key != NULL) {
        c->key = e->key;
        c->rekeyed = true;
    } else if (streq(e->event, "swap.begin") && e->to != NULL) {
        c->swap = e->to;
    } else if (e->key != NULL && !c->rekeyed) {
        c->key = e->key;
    }
}

/* What a client event tells about its client. */
static void note_client_event(client_t *c, const hev_t *e)
{
    c->seen = true;
    if (streq(e->event, "client.connect")) {
        if (c->session == NULL)
            c->session = e->key;
        if (c->connect_ns == 0)
            c->connect_ns = e->ns;
    } else if (streq(e->event, "client.established") && e->key != NULL) {
        c->established = e->key;
    }
}

/* Scans the history once for connections and clients. */
static int scan(tl_t *tl)
{
    int max = -1;
    int rc = collect_conns(tl);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < tl->n; i++) {
        const hev_t *e = &tl->ev[i];

        if (client_of(e) > max)
            max = client_of(e);
    }
    tl->nclients = (size_t)(max + 1);
    tl->clients = calloc(tl->nclients ? tl->nclients : 1, sizeof(client_t));
    if (tl->clients == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < tl->n; i++) {
        const hev_t *e = &tl->ev[i];

        if (client_of(e) >= 0)
            note_client_event(&tl->clients[e->client], e);
        else if (e->conn != 0)
            note_conn_event(find_conn(tl, e->conn), e);
    }
    for (size_t k = 0; k < tl->nconns; k++)
        if (!tl->conns[k].rekeyed && tl->conns[k].swap != NULL)
            tl->conns[k].key = tl->conns[k].swap;
    return 0;
}

/* A key a client is known by: rank 0 for its established key, 1 for its
 * session. */
typedef struct {
    const char *key;
    int client;
    int rank;
} claim_t;

static int cmp_claim(const void *a, const void *b)
{
    const claim_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : x->rank - y->rank;
}

/* Of the free clients claiming c's key (a run of equal keys in claims),
 * the best for c: lowest rank, then one that connected before c opened,
 * earliest first (connections are matched in accept order), else the
 * earliest after. */
static int best_claim(const tl_t *tl, const claim_t *claims, size_t n,
                      const conn_t *c)
{
    size_t lo = 0, hi = n;
    int best = -1, best_rank = 2;
    bool best_before = false;
    int64_t best_ns = INT64_MAX;

    while (lo < hi) { /* the first claim with key >= c->key */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(claims[mid].key, c->key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < n && strcmp(claims[i].key, c->key) == 0; i++) {
        const client_t *cl = &tl->clients[claims[i].client];
        bool before = cl->connect_ns <= c->open_ns;

        if (cl->conn != 0)
            continue;
        if (claims[i].rank < best_rank ||
            (claims[i].rank == best_rank &&
             (before > best_before ||
              (before == best_before && cl->connect_ns < best_ns)))) {
            best = claims[i].client;
            best_rank = claims[i].rank;
            best_before = before;
            best_ns = cl->connect_ns;
        }
    }
    return best;
}

/* Gives each connection the client it belongs to, when one claims it. */
static int match_conns(tl_t *tl)
{
    claim_t *claims = malloc((2 * tl->nclients + 1) * sizeof(*claims));
    size_t n = 0;

    if (claims == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < tl->nclients; i++) {
        const client_t *c = &tl->clients[i];

        if (c->established != NULL)
            claims[n++] = (claim_t){c->established, (int)i, 0};
        if (c->session != NULL)
            claims[n++] = (claim_t){c->session, (int)i, 1};
    }
    qsort(claims, n, sizeof(*claims), cmp_claim);
    /* conns are in id order, which is the gateway's accept order. */
    for (size_t k = 0; k < tl->nconns; k++) {
        conn_t *c = &tl->conns[k];
        int best = c->key != NULL ? best_claim(tl, claims, n, c) : -1;

        if (best >= 0) {
            c->client = best;
            tl->clients[best].conn = c->conn;
        }
    }
    free(claims);
    return 0;
}

/* Lane 0 for global events, one per client seen, one per connection that
 * no client claims; then each event's lane. */
static int make_lanes(tl_t *tl)
{
    size_t n = 1;

    tl->lanes = calloc(1 + tl->nclients + tl->nconns, sizeof(lane_t));
    tl->lane_of = malloc((tl->n ? tl->n : 1) * sizeof(int));
    if (tl->lanes == NULL || tl->lane_of == NULL)
        return -ENOMEM;
    tl->lanes[0] = (lane_t){LANE_GLOBAL, -1, 0, 0, false, 0};
    for (size_t i = 0; i < tl->nclients; i++) {
        if (!tl->clients[i].seen)
            continue;
        tl->clients[i].lane = (int)n;
        tl->lanes[n++] = (lane_t){LANE_CLIENT, (int)i, 0, 0, false, 0};
    }
    for (size_t k = 0; k < tl->nconns; k++) {
        conn_t *c = &tl->conns[k];

        if (c->client >= 0) {
            c->lane = tl->clients[c->client].lane;
            continue;
        }
        c->lane = (int)n;
        tl->lanes[n++] = (lane_t){LANE_CONN, -1, k, 0, false, 0};
    }
    tl->nlanes = n;
    for (size_t i = 0; i < tl->n; i++) {
        const hev_t *e = &tl->ev[i];
        int lane = 0;

        if (client_of(e) >= 0)
            lane = tl->clients[e->client].lane;
        else if (e->conn != 0)
            lane = find_conn(tl, e->conn)->lane;
        tl->lane_of[i] = lane;
        tl->lanes[lane].nev++;
    }
    return 0;
}

/* Whether a (from the case's evidence) and b (from its history file) are
 * one event. */
static bool same_event(const wr_event_t *a, const hev_t *b)
{
    return a->src == b->src && a->ns == b->ns && a->seq == b->seq &&
           a->conn == b->conn && a->client == b->client &&
           streq(a->event, b->event);
}

/* Marks every event that is evidence of a FAIL of c, and its lane. */
static int mark_evidence(tl_t *tl, const wr_case_t *c)
{
    tl->evmask = calloc(tl->n ? tl->n : 1, sizeof(unsigned));
    if (tl->evmask == NULL)
        return -ENOMEM;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];

        if (!c->ran[k] || r->verdict != WR_FAIL)
            continue;
        for (size_t j = 0; j < wr__report_nevidence(r); j++) {
            for (size_t i = 0; r->evidence[j] != NULL && i < tl->n; i++) {
                if (!same_event(r->evidence[j], &tl->ev[i]))
                    continue;
                tl->evmask[i] |= BIT(k);
                tl->lanes[tl->lane_of[i]].evidence = true;
                break;
            }
        }
    }
    return 0;
}

/* Chooses the lanes to embed within cap events: the first lane and the
 * evidence lanes whole, then the others in order while they fit. */
static void apply_cap(tl_t *tl, size_t cap)
{
    size_t used = 0;

    for (size_t l = 0; l < tl->nlanes; l++) {
        lane_t *ln = &tl->lanes[l];

        ln->out = -1;
        if (l == 0 || ln->evidence)
            used += ln->nev;
    }
    for (size_t l = 0; l < tl->nlanes; l++) {
        lane_t *ln = &tl->lanes[l];
        bool must = l == 0 || ln->evidence;

        if (!must && used + ln->nev > cap) {
            tl->agg_lanes++;
            tl->agg_events += ln->nev;
            continue;
        }
        if (!must)
            used += ln->nev;
        ln->out = (int)tl->nout++;
        tl->kept += ln->nev;
    }
}

/* Builds the timeline of case c from its events h. Returns 0 or -ENOMEM;
 * tl is to be freed with tl_free() either way. */
static int tl_build(tl_t *tl, const hist_t *h, const wr_case_t *c, size_t cap)
{
    int rc;

    memset(tl, 0, sizeof(*tl));
    tl->ev = h->v;
    tl->n = h->n;
    if (tl->n > 0) {
        tl->t0 = tl->ev[0].ns;
        for (size_t i = 0; i < tl->n; i++)
            if (tl->ev[i].ns - tl->t0 > tl->span)
                tl->span = tl->ev[i].ns - tl->t0;
    }
    if ((rc = scan(tl)) < 0 || (rc = match_conns(tl)) < 0 ||
        (rc = make_lanes(tl)) < 0 || (rc = mark_evidence(tl, c)) < 0)
        return rc;
    apply_cap(tl, cap);
    return 0;
}

/* ------------------------------------------------------------------------
 * Timeline data: the JSON block a case's timeline is drawn from
 * ---------------------------------------------------------------------- */

static json_t *lane_label(const tl_t *tl, const lane_t *ln)
{
    char buf[512];

    if (ln->kind == LANE_GLOBAL) {
        snprintf(buf, sizeof(buf), "harness & gateway (global)");
    } else if (ln->kind == LANE_CLIENT) {
        const client_t *c = &tl->clients[ln->client];
        const char *key = c->established ? c->established : c->session;
        int len = snprintf(buf, sizeof(buf), "client %d", ln->client);

        if (key != NULL)
            len += snprintf(buf + len, sizeof(buf) - (size_t)len,
                            " \xc2\xb7 %s", key);
        if (c->conn != 0 && len < (int)sizeof(buf))
            snprintf(buf + len, sizeof(buf) - (size_t)len,
                     " \xc2\xb7 conn %" PRIu64, c->conn);
    } else {
        const conn_t *c = &tl->conns[ln->conn];

        snprintf(buf, sizeof(buf), "conn %" PRIu64 " \xc2\xb7 %s (no client)",
                 c->conn, c->key ? c->key : "no key");
    }
    return jstr(buf);
}

/* The event as the object of its JSON line, or {"event", "raw"} when the
 * line is not one. */
static json_t *event_object(const hev_t *e)
{
    json_t *o = e->line != NULL ? json_loads(e->line, 0, NULL) : NULL;

    if (json_is_object(o))
        return o;
    json_decref(o);
    o = json_object();
    if (o == NULL || json_object_set_new(o, "event", jstr(e->event)) != 0 ||
        json_object_set_new(o, "raw", jstr(e->line)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int put_lanes(FILE *f, const tl_t *tl)
{
    int rc = 0;
    size_t n = 0;

    fputs("\"lanes\":[", f);
    for (size_t l = 0; rc == 0 && l < tl->nlanes; l++) {
        const lane_t *ln = &tl->lanes[l];

        if (ln->out < 0)
            continue;
        fprintf(f, "%s[%d,", n++ ? "," : "", ln->kind);
        rc = put_json(f, lane_label(tl, ln));
        fputc(']', f);
    }
    fputs("],\n", f);
    return rc;
}

/* [t, lane, evidence mask, event] per embedded event. */
static int put_events(FILE *f, const tl_t *tl)
{
    size_t n = 0;
    int rc = 0;

    fputs("\"ev\":[", f);
    for (size_t i = 0; rc == 0 && i < tl->n; i++) {
        const hev_t *e = &tl->ev[i];
        int out = tl->lanes[tl->lane_of[i]].out;

        if (out < 0)
            continue;
        fprintf(f, "%s[%" PRId64 ",%d,%u,", n++ ? ",\n" : "\n", e->ns - tl->t0,
                out, tl->evmask[i]);
        rc = put_json(f, event_object(e));
        fputc(']', f);
    }
    fputs("]", f);
    return rc;
}

/* The aggregate lane: events of the lanes not embedded, per time bucket. */
static int put_aggregate(FILE *f, const tl_t *tl)
{
    int64_t bucket = tl->span / AGG_BUCKETS + 1;
    size_t *counts;

    if (tl->agg_lanes == 0) {
        fputs(",\"agg\":null", f);
        return 0;
    }
    counts = calloc(AGG_BUCKETS + 1, sizeof(*counts));
    if (counts == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < tl->n; i++) {
        int64_t t = tl->ev[i].ns - tl->t0;

        if (tl->lanes[tl->lane_of[i]].out < 0 && t >= 0)
            counts[t / bucket <= AGG_BUCKETS ? t / bucket : AGG_BUCKETS]++;
    }
    fprintf(f,
            ",\"agg\":{\"lanes\":%zu,\"events\":%zu,\"bucket\":%" PRId64
            ",\"counts\":[",
            tl->agg_lanes, tl->agg_events, bucket);
    for (size_t b = 0; b <= AGG_BUCKETS; b++)
        fprintf(f, "%s%zu", b ? "," : "", counts[b]);
    fputs("]}", f);
    free(counts);
    return 0;
}

/* The whole JSON block of a timeline. */
static int put_timeline_data(FILE *f, const tl_t *tl, size_t index)
{
    int rc;

    fprintf(f, "<script type=\"application/json\" id=\"tl-%zu\">{", index);
    fprintf(f, "\"span\":%" PRId64 ",\"total\":%zu,\"shown\":%zu,\"checks\":[",
            tl->span, tl->n, tl->kept);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        fprintf(f, "%s\"%s\"", k ? "," : "", wsr_check_name((wsr_check_id_t)k));
    fputs("],\n", f);
    rc = put_lanes(f, tl);
    if (rc == 0)
        rc = put_events(f, tl);
    if (rc == 0)
        rc = put_aggregate(f, tl);
    fputs("}</script>\n", f);
    return rc;
}

/* ------------------------------------------------------------------------
 * Page: header and matrix
 * ---------------------------------------------------------------------- */

static void put_head(FILE *f, const wr_run_t *run)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
          "img-src data:\">\n<link rel=\"icon\" "
          "href=\"data:,\">\n<title>wsrace run ",
          f);
    put_html(f, run->id);
    fputs("</title>\n<style>\n", f);
    put_style(f);
    fputs("</style>\n</head>\n<body>\n<main>\n", f);
}

static void fact(FILE *f, const char *name, const char *value, bool code)
{
    fprintf(f, "<dt>%s</dt><dd>%s", name, code ? "<code>" : "");
    put_html(f, value);
    fprintf(f, "%s</dd>\n", code ? "</code>" : "");
}

static void put_header(FILE *f, const wr_run_t *run)
{
    size_t unexpected = 0, infra = 0;
    char buf[128];

    for (size_t k = 0; k < run->ncases; k++) {
        unexpected += !run->cases[k].as_expected;
        infra += wr_case_infra_problem(&run->cases[k]);
    }
    fputs("<header class=\"card\">\n<h1>wsrace run <code>", f);
    put_html(f, run->id);
    fputs("</code> ", f);
    if (run->status == WR_STATUS_OK)
        fputs("<span class=\"badge b-ok\" id=\"run-verdict\">every case as "
              "expected</span>",
              f);
    else
        fprintf(f,
                "<span class=\"badge b-bad\" id=\"run-verdict\">%zu "
                "unexpected</span>",
                unexpected);
    fputs("</h1>\n<dl class=\"facts\">\n", f);
    fact(f, "Started",
         wr__report_utc_time(run->started_unix, "%Y-%m-%d %H:%M:%S UTC", buf,
                             sizeof(buf)),
         false);
    fact(f, "Command", run->argv_text[0] ? run->argv_text : "(unknown)", true);
    fact(f, "Target", run->target, true);
    if (run->external)
        fact(f, "Note",
             "external target (--url): no gateway trace, checks that need "
             "one are UNKNOWN",
             false);
    fprintf(f, "<dt>Kind</dt><dd>");
    put_html(f, run->kind[0] ? run->kind : "run");
    if (run->shard_count > 0)
        fprintf(f, ", shard %d of %d (%zu cases planned in all)",
                run->shard_index, run->shard_count, run->planned);
    fprintf(f, ", seed %llu</dd>\n", run->seed);
    fprintf(f, "<dt>Duration</dt><dd>%.3f s</dd>\n",
            wr__report_seconds(run->duration_ns));
    fprintf(f,
            "<dt>Cases</dt><dd id=\"run-totals\">%zu: <span class=\"badge "
            "b-ok\">%zu as expected</span> <span class=\"badge %s\">%zu "
            "unexpected</span>",
            run->ncases, run->ncases - unexpected,
            unexpected ? "b-bad" : "b-ok", unexpected);
    if (infra > 0)
        fprintf(f,
                " <span class=\"badge b-info\">%zu with target problems"
                "</span>",
                infra);
    fprintf(f, "</dd>\n<dt>Result</dt><dd>%s (%s)",
            wr_status_name(run->status), wr_status_meaning(run->status));
    fputs("</dd>\n</dl>\n</header>\n", f);
}

static const char *kind_class(wr_cell_kind_t k)
{
    switch (k) {
    case WR_CELL_NOT_RUN:
        return "k-notrun";
    case WR_CELL_CLEAN:
        return "k-clean";
    case WR_CELL_DETECTED:
        return "k-detected";
    case WR_CELL_MISSED:
        return "k-missed";
    case WR_CELL_FALSE_ALARM:
        return "k-false";
    case WR_CELL_ALLOWED:
        return "k-allowed";
    case WR_CELL_UNKNOWN:
        return "k-unknown";
    default:
        return "k-error";
    }
}

/* A column (scenario s, check k) where nothing happened in any row. */
static bool column_clean(const wr_matrix_t *m, size_t s, int k)
{
    for (size_t r = 0; r < m->nrows; r++) {
        wr_cell_kind_t kind = wr_matrix_cell(m, r, s, k)->kind;

        if (kind != WR_CELL_CLEAN && kind != WR_CELL_NOT_RUN)
            return false;
    }
    return true;
}

static size_t column_count(const wr_matrix_t *m, size_t s, bool clean)
{
    size_t n = 0;

    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        n += (m->checks[s] & BIT(k)) && (!clean || column_clean(m, s, k));
    return n;
}

static void matrix_head(FILE *f, const wr_matrix_t *m, bool hide)
{
    fputs("<thead><tr><th class=\"rowh\" rowspan=\"2\">inject set</th>", f);
    for (size_t s = 0; s < m->nscenarios; s++) {
        size_t cols = column_count(m, s, false);
        size_t clean = column_count(m, s, true);
        size_t span = hide ? cols - clean : cols;

        if (cols == 0)
            continue;
        fprintf(f,
                "<th class=\"sc%s\" data-cols=\"%zu\" data-clean=\"%zu\" "
                "colspan=\"%zu\">",
                span == 0 ? " hidden" : "", cols, clean, span ? span : 1);
        put_html(f, m->scenarios[s] && m->scenarios[s]->name
                        ? m->scenarios[s]->name
                        : "(none)");
        fputs("</th>", f);
    }
    fputs("</tr>\n<tr>", f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            const char *name = wsr_check_name((wsr_check_id_t)k);

            if (!(m->checks[s] & BIT(k)))
                continue;
            fprintf(f, "<th class=\"ck%s\" title=\"%s\">",
                    column_clean(m, s, k) ? " col-clean" : "", name);
            for (const char *p = name; *p; p++)
                fputc(*p == '_' ? ' ' : *p, f);
            fputs("</th>", f);
        }
    fputs("</tr></thead>\n", f);
}

static void matrix_row(FILE *f, const wr_matrix_t *m, size_t r)
{
    fputs("<tr><th class=\"rowh\" title=\"", f);
    put_html(f, m->rows[r].inject[0] ? m->rows[r].inject : "nothing injected");
    fputs("\">", f);
    put_html(f, m->rows[r].label);
    fputs("</th>", f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            const wr_cell_t *c;
            char text[64];

            if (!(m->checks[s] & BIT(k)))
                continue;
            c = wr_matrix_cell(m, r, s, k);
            fprintf(f,
                    "<td class=\"cell %s%s\" data-kind=\"%s\" "
                    "data-check=\"%s\" data-expected=\"%s\" title=\"",
                    kind_class(c->kind),
                    column_clean(m, s, k) ? " col-clean" : "",
                    wr_cell_kind_name(c->kind), wsr_check_name((wsr_check_id_t)k),
                    wr_expect_name(c->expected));
            put_html(f, m->rows[r].label);
            fputs(" \xc2\xb7 ", f);
            put_html(f, m->scenarios[s] && m->scenarios[s]->name
                            ? m->scenarios[s]->name
                            : "(none)");
            fprintf(f, " \xc2\xb7 %s: expected %s, %d run(s), %d FAIL\">",
                    wsr_check_name((wsr_check_id_t)k),
                    wr_expect_name(c->expected), c->runs, c->fails);
            put_html(f, wr_cell_text(c, text, sizeof(text)));
            fputs("</td>", f);
        }
    fputs("</tr>\n", f);
}

static void matrix_legend(FILE *f)
{
    fputs("<div class=\"legend\">"
          "<span><i class=\"sw k-detected\"></i>DETECTED: the fault was "
          "caught on every seed</span>"
          "<span><i class=\"sw k-clean\"></i>clean</span>"
          "<span><i class=\"sw k-missed\"></i>MISSED / FALSE ALARM</span>"
          "<span><i class=\"sw k-allowed\"></i>allowed (side effect)</span>"
          "<span><i class=\"sw k-error\"></i>ERROR / UNKNOWN</span>"
          "<span class=\"muted\">- : the check did not run</span></div>\n",
          f);
}

static void matrix_notes(FILE *f, const wr_matrix_t *m)
{
    for (size_t r = 0; r < m->nrows; r++)
        for (size_t s = 0; s < m->nscenarios; s++) {
            int n =
                m->missed_cases ? m->missed_cases[r * m->nscenarios + s] : 0;

            if (n <= 0)
                continue;
            fputs("<p class=\"note\">", f);
            put_html(f, m->rows[r].label);
            fputs(" \xc2\xb7 ", f);
            put_html(f, m->scenarios[s] ? m->scenarios[s]->name : "(none)");
            fprintf(f,
                    ": %d %s required to fail one of several checks failed "
                    "none (MISSED).</p>\n",
                    n, plural((size_t)n, "case", "cases"));
        }
}

static void baseline_list(FILE *f, const char *title,
                          const wr_matrix_change_t *v, size_t n)
{
    if (n == 0)
        return;
    fprintf(f, "<h3>%s (%zu)</h3>\n<ul>\n", title, n);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><code>", f);
        put_html(f, v[i].row);
        fputs(" \xc2\xb7 ", f);
        put_html(f, v[i].scenario);
        fputs(" \xc2\xb7 ", f);
        put_html(f, v[i].check);
        fputs("</code>: ", f);
        put_html(f, v[i].was);
        fputs(" \xe2\x86\x92 ", f);
        put_html(f, v[i].now);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void put_baseline(FILE *f, const wr_matrix_diff_t *d)
{
    fputs("<h3>Compared with the baseline <code>", f);
    put_html(f, d->path);
    fputs("</code></h3>\n", f);
    if (d->nregressions + d->nimprovements + d->nchanges == 0)
        fputs("<p>No cell changed.</p>\n", f);
    baseline_list(f, "Regressions", d->regressions, d->nregressions);
    baseline_list(f, "Improvements", d->improvements, d->nimprovements);
    baseline_list(f, "Other changes", d->changes, d->nchanges);
}

static void put_matrix(FILE *f, const wr_run_t *run)
{
    const wr_matrix_t *m = run->matrix;
    size_t cols = 0;
    bool hide;

    if (m == NULL)
        return;
    for (size_t s = 0; s < m->nscenarios; s++)
        cols += column_count(m, s, false);
    hide = cols > 24;
    fputs("<section id=\"matrix\">\n<h2>Reproduction matrix</h2>\n", f);
    fprintf(f,
            "<p class=\"muted\">Rows: what was injected. Columns: scenario "
            "\xc3\x97 check, over up to %d seed(s) each. %d missed, %d false "
            "alarm(s), %d error(s).</p>\n",
            m->seeds, m->missed, m->false_alarms, m->errors);
    matrix_legend(f);
    fprintf(f,
            "<div class=\"filters\"><label><input type=\"checkbox\" "
            "id=\"mx-hide-clean\"%s> hide columns that are clean in every "
            "row</label></div>\n",
            hide ? " checked" : "");
    fprintf(f, "<div class=\"mx-wrap\"><table class=\"mx%s\">\n",
            hide ? " hide-clean" : "");
    matrix_head(f, m, hide);
    fputs("<tbody>\n", f);
    for (size_t r = 0; r < m->nrows; r++)
        matrix_row(f, m, r);
    fputs("</tbody></table></div>\n", f);
    matrix_notes(f, m);
    if (run->baseline != NULL)
        put_baseline(f, run->baseline);
    fputs("</section>\n", f);
}

/* ------------------------------------------------------------------------
 * Page: cases
 * ---------------------------------------------------------------------- */

static void put_case_summary(FILE *f, const wr_case_t *c)
{
    unsigned fail = wr_case_verdicts(c, WR_FAIL);
    unsigned unk = wr_case_verdicts(c, WR_UNKNOWN);

    fputs("<summary>", f);
    if (wr_case_infra_problem(c))
        fprintf(f, "<span class=\"badge b-info\">target %s</span>",
                wr_target_state_name(c->target_state));
    fprintf(f, "<span class=\"badge %s\">%s</span> <code class=\"case-id\">",
            c->as_expected ? "b-ok" : "b-bad",
            c->as_expected ? "as expected" : "UNEXPECTED");
    put_html(f, c->id);
    fputs("</code><span class=\"muted\">", f);
    put_html(f, wr__report_scenario_name(c));
    fputs(" \xc2\xb7 inject ", f);
    put_html(f, wr__report_inject_name(c));
    fprintf(f, " \xc2\xb7 seed %llu</span>", c->seed);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if ((fail | unk) & BIT(k))
            fprintf(f, " <span class=\"badge %s\">%s %s</span>",
                    fail & BIT(k)
                        ? (wr_judge_check_ok(c, k) ? "b-warn" : "b-bad")
                        : "b-info",
                    wsr_check_name((wsr_check_id_t)k),
                    fail & BIT(k) ? "FAIL" : "UNKNOWN");
    fputs("</summary>\n", f);
}

static void put_case_facts(FILE *f, const wr_case_t *c, const char *dir)
{
    fputs("<dl class=\"facts\">\n", f);
    fprintf(f, "<dt>Target</dt><dd>%s, exit code %d",
            wr_target_state_name(c->target_state), c->target_exit_code);
    if (c->target_signal)
        fprintf(f, ", signal %d", c->target_signal);
    if (c->target_error[0]) {
        fputs(": ", f);
        put_html(f, c->target_error);
    }
    fputs("</dd>\n", f);
    if (c->topology[0]) {
        fputs("<dt>Topology</dt><dd>", f);
        put_html(f, c->topology);
        fputs("</dd>\n", f);
    }
    fprintf(f,
            "<dt>Clients</dt><dd>%d, %d established, %d step(s) "
            "failed</dd>\n",
            c->clients, c->established, c->steps_failed);
    fprintf(f, "<dt>Duration</dt><dd>%.3f s (gateway up in %.1f ms)",
            wr__report_seconds(c->duration_ns),
            c->gateway_up_ns > 0 ? (double)c->gateway_up_ns / 1e6 : 0.0);
    if (c->first_fail_ns >= 0)
        fprintf(f, "; first failing event %.3f ms after the gateway was up",
                (double)c->first_fail_ns / 1e6);
    fputs("</dd>\n<dt>Files</dt><dd>", f);
    static const char *const files[] = {"history.jsonl", "trace.jsonl",
                                        "gateway.log"};
    for (size_t i = 0; i < 3; i++) {
        fputs(i ? " \xc2\xb7 <a href=\"" : "<a href=\"", f);
        put_url(f, dir);
        fprintf(f, "/%s\">%s</a>", files[i], files[i]);
    }
    fputs("</dd>\n</dl>\n", f);
}

static void put_checks(FILE *f, const wr_case_t *c)
{
    fputs("<table class=\"grid checks\"><thead><tr><th>check</th>"
          "<th>verdict</th><th>expected</th><th></th><th>summary</th>"
          "</tr></thead><tbody>\n",
          f);
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];
        bool ok = wr_judge_check_ok(c, k);

        if (!c->ran[k])
            continue;
        fprintf(f,
                "<tr data-check=\"%s\"><td><code>%s</code></td>"
                "<td class=\"v-%s\">%s</td><td>%s%s</td><td>%s</td><td>",
                wsr_check_name((wsr_check_id_t)k),
                wsr_check_name((wsr_check_id_t)k), wr_verdict_name(r->verdict),
                wr_verdict_name(r->verdict), wr_expect_name(c->expected[k]),
                c->need_one & BIT(k) ? " (one of)" : "",
                ok ? "<span class=\"badge b-ok\">ok</span>"
                   : "<span class=\"badge b-bad\">unexpected</span>");
        put_html(f, r->summary[0] ? r->summary : "");
        if (r->violations > 1)
            fprintf(f, " <span class=\"muted\">(%zu violations)</span>",
                    r->violations);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* The evidence of each FAIL, highlighted rows that focus the timeline. */
static void put_evidence(FILE *f, const wr_case_t *c, int64_t t0)
{
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];

        if (!c->ran[k] || r->verdict != WR_FAIL || wr__report_nevidence(r) == 0)
            continue;
        fprintf(f,
                "<h4>Evidence: <code>%s</code> FAIL (expected %s)</h4>\n"
                "<table class=\"grid evidence\" data-check=\"%s\"><thead><tr>"
                "<th>seq</th><th>t ms</th><th>src</th><th>event</th>"
                "<th>key</th><th>line</th></tr></thead><tbody>\n",
                wsr_check_name((wsr_check_id_t)k), wr_expect_name(c->expected[k]),
                wsr_check_name((wsr_check_id_t)k));
        for (size_t j = 0; j < wr__report_nevidence(r); j++) {
            const wr_event_t *e = r->evidence[j];

            if (e == NULL)
                continue;
            fprintf(f,
                    "<tr class=\"ev\" data-t=\"%" PRId64 "\" title=\"click: "
                    "show on the timeline\"><td>",
                    e->ns - t0);
            if (e->seq != 0)
                fprintf(f, "%" PRIu64, e->seq);
            else
                fputs("-", f);
            fprintf(f, "</td><td>%.3f</td><td>%s</td><td><code>",
                    (double)(e->ns - t0) / 1e6, wr__report_src_name(e->src));
            put_html(f, e->event ? e->event : "?");
            fputs("</code></td><td><code>", f);
            put_html(f, e->key ? e->key : "-");
            fputs("</code></td><td class=\"line\">", f);
            put_html(f, e->line ? e->line : "");
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
    }
}

static void put_replay(FILE *f, const wr_case_t *c)
{
    fputs("<h4>Replay</h4>\n<div class=\"replay\"><code>", f);
    put_html(f, c->replay[0] ? c->replay : "# no replay command");
    fputs("</code><button type=\"button\" class=\"copy\">copy</button>"
          "</div>\n",
          f);
}


/* Reads dir/<case dir>/history.jsonl into h. Returns 0 or negative
 * errno. */
static int load_history(const char *dir, const char *casedir, hist_t *h)
{
    char path[PATH_MAX];

    if ((size_t)snprintf(path, sizeof(path), "%s/%s/history.jsonl", dir,
                         casedir) >= sizeof(path))
        return -ENAMETOOLONG;
    return hist_load(h, path);
}

static void put_timeline_notes(FILE *f, const tl_t *tl, int load_rc,
                               size_t skipped)
{
    if (load_rc < 0)
        fprintf(f,
                "<p class=\"note tl-note\" data-note=\"no-history\">The "
                "case's history.jsonl could not be read (%s): the timeline "
                "shows only the events the run kept in memory (its first "
                "event and the evidence), if any.</p>\n",
                strerror(-load_rc));
    if (skipped > 0)
        fprintf(f,
                "<p class=\"note tl-note\" data-note=\"skipped\">%zu "
                "%s of history.jsonl %s not an event and %s left out.</p>\n",
                skipped, plural(skipped, "line", "lines"),
                plural(skipped, "is", "are"), plural(skipped, "is", "are"));
    if (tl->agg_lanes > 0)
        fprintf(f,
                "<p class=\"note tl-note\" data-note=\"aggregated\">%zu of "
                "%zu events are drawn one by one: every event of the global "
                "lane and of the connections holding evidence, then whole "
                "connections in order. The other %zu %s (%zu events) are "
                "counted per time bucket in the last lane; history.jsonl "
                "has them all.</p>\n",
                tl->kept, tl->n, tl->agg_lanes,
                plural(tl->agg_lanes, "connection", "connections"),
                tl->agg_events);
}

/* The case's events: its history file, or what the run kept in memory
 * when that cannot be read (*load_rc says why). Returns 0 or -ENOMEM. */
static int case_events(const html_job_t *job, const wr_case_t *c,
                       const char *cdir, hist_t *h, int *load_rc)
{
    *load_rc = load_history(job->dir, cdir, h);
    if (*load_rc == -ENOMEM)
        return -ENOMEM;
    if (*load_rc == 0)
        return 0;
    hist_free(h);
    return hist_from_case(h, c);
}

static void put_case_open(FILE *f, const wr_case_t *c)
{
    fprintf(f, "<details class=\"case%s\" id=\"case-",
            c->as_expected ? "" : " unexpected");
    put_html(f, c->id);
    fputs("\" data-case=\"", f);
    put_html(f, c->id);
    fprintf(f, "\" data-unexpected=\"%d\" data-fail=\"%d\">\n", !c->as_expected,
            wr_case_verdicts(c, WR_FAIL) != 0);
}

/* One case: summary line, facts, checks, evidence, replay, timeline.
 * *budget is what the page may still embed of events. */
static int put_case(FILE *f, const html_job_t *job, size_t index,
                    size_t *budget)
{
    const wr_case_t *c = &job->run.cases[index];
    char dbuf[600];
    const char *cdir = wr__report_case_dir(c, dbuf, sizeof(dbuf));
    size_t cap = *budget > CASE_EVENTS ? CASE_EVENTS : *budget;
    hist_t h = {0};
    tl_t tl = {0};
    int load_rc, rc;

    rc = case_events(job, c, cdir, &h, &load_rc);
    if (rc == 0)
        rc =
            tl_build(&tl, &h, c, cap < CASE_EVENTS_MIN ? CASE_EVENTS_MIN : cap);
    if (rc < 0)
        goto out;
    *budget -= tl.kept < *budget ? tl.kept : *budget;
    put_case_open(f, c);
    put_case_summary(f, c);
    fputs("<div class=\"case-body\">\n", f);
    put_case_facts(f, c, cdir);
    put_checks(f, c);
    put_evidence(f, c, tl.n > 0 ? tl.t0 : wr__report_case_t0(c));
    put_replay(f, c);
    fputs("<h4>Timeline</h4>\n", f);
    put_timeline_notes(f, &tl, load_rc, h.skipped);
    if (tl.n > 0) {
        fprintf(f,
                "<div class=\"tl\" data-src=\"tl-%zu\"><p class=\"muted\">"
                "Drawing\xe2\x80\xa6</p></div>\n",
                index);
        rc = put_timeline_data(f, &tl, index);
    } else {
        fputs("<p class=\"muted\">No events to draw.</p>\n", f);
    }
    fputs("</div>\n</details>\n", f);
out:
    tl_free(&tl);
    hist_free(&h);
    return rc;
}

static void put_legend(FILE *f)
{
    fputs("<div class=\"legend\">Timeline marks: "
          "<span><i class=\"sw\" style=\"background:#2563eb\"></i>machine "
          "transition</span>"
          "<span><i class=\"sw\" style=\"background:#7c3aed\"></i>coordinator "
          "phase</span>"
          "<span><i class=\"sw\" style=\"background:#ea580c\"></i>registry / "
          "swap</span>"
          "<span><i class=\"sw\" style=\"background:#16a34a\"></i>send / "
          "message</span>"
          "<span><i class=\"sw\" style=\"background:#0d9488\"></i>receive / "
          "welcome</span>"
          "<span><i class=\"sw\" style=\"background:#374151\"></i>close</span>"
          "<span><i class=\"sw\" style=\"background:#dc2626\"></i>failure"
          "</span>"
          "<span><i class=\"sw\" style=\"background:#6b7280\"></i>harness / "
          "gateway</span>"
          "<span><i class=\"sw\" style=\"border:2px solid #dc2626;"
          "border-radius:50%\"></i>evidence of a FAIL</span>"
          "<span>lane background: machine state (grey: connecting or "
          "closing, blue: accepted/authenticated, yellow: services ready, "
          "green: ready, processing or idle; none once closed)</span>"
          "</div>\n",
          f);
}

static int put_cases(FILE *f, const html_job_t *job)
{
    const wr_run_t *run = &job->run;
    size_t budget = RUN_EVENTS;
    size_t unexpected = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++)
        unexpected += !run->cases[k].as_expected;
    fputs("<section id=\"cases\">\n<h2>Cases</h2>\n", f);
    fprintf(f,
            "<div class=\"filters\"><label><input type=\"checkbox\" "
            "id=\"only-unexpected\"%s> only unexpected cases</label>"
            "<label><input type=\"checkbox\" id=\"only-fail\"> only cases "
            "with a FAIL</label><span class=\"muted\" id=\"case-count\">"
            "</span></div>\n",
            unexpected > 0 && run->ncases > 20 ? " checked" : "");
    put_legend(f);
    if (run->ncases == 0)
        fputs("<p>No cases ran.</p>\n", f);
    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        rc = put_case(f, job, k, &budget);
    fputs("</section>\n", f);
    return rc;
}

static void put_footer(FILE *f)
{
    fputs("<footer>Written by wsrace. Every file of the run is next to "
          "this page: summary.json, junit.xml, report.md and "
          "cases/&lt;id&gt;/.</footer>\n</main>\n<script>\n",
          f);
    put_script(f);
    fputs("</script>\n</body>\n</html>\n", f);
}

static int render_html(const wr_run_t *run, FILE *out)
{
    /* run is the first member of the job wr_report_write_html() made. */
    const html_job_t *job = (const html_job_t *)run;
    int rc;

    put_head(out, run);
    put_header(out, run);
    put_matrix(out, run);
    rc = put_cases(out, job);
    put_footer(out);
    return rc;
}

int wr_report_write_html(const wr_run_t *run, const char *dir)
{
    html_job_t *job = malloc(sizeof(*job));
    int rc;

    if (job == NULL)
        return -ENOMEM;
    job->run = *run;
    job->dir = dir;
    rc = wr__report_write_file(dir, "index.html", render_html, &job->run);
    free(job);
    return rc;
}

/* ------------------------------------------------------------------------
 * Style and script of the page (embedded: the page loads nothing)
 * ---------------------------------------------------------------------- */

/* System fonts only; readable at 1366x768. */
static const char CSS[] =
    ":root { --fg: #1f2933; --muted: #616e7c; --line: #e4e7eb; --ok: "
    "#157f3b;\n"
    "  --bad: #c81e1e; --amber: #92400e; --purple: #5b21b6; }\n"
    "* { box-sizing: border-box; }\n"
    "body { margin: 0; background: #f5f7fa; color: var(--fg);\n"
    "  font: 14px/1.45 system-ui, -apple-system, \"Segoe UI\", Roboto,\n"
    "  \"Helvetica Neue\", Arial, sans-serif; }\n"
    "main { max-width: 1480px; margin: 0 auto; padding: 16px 20px 48px; }\n"
    "code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, "
    "Consolas,\n"
    "  \"Liberation Mono\", monospace; font-size: 12.5px; }\n"
    "h1 { font-size: 20px; margin: 0 0 6px; }\n"
    "h2 { font-size: 17px; margin: 26px 0 8px; }\n"
    "h3 { font-size: 14px; margin: 14px 0 6px; }\n"
    "h4 { font-size: 13px; margin: 12px 0 4px; }\n"
    "a { color: #1d4ed8; }\n"
    ".card { background: #fff; border: 1px solid var(--line); "
    "border-radius: 8px;\n"
    "  padding: 12px 16px; }\n"
    "dl.facts { display: grid; grid-template-columns: max-content 1fr;\n"
    "  gap: 2px 14px; margin: 8px 0 0; }\n"
    "dl.facts dt { color: var(--muted); }\n"
    "dl.facts dd { margin: 0; overflow-wrap: anywhere; }\n"
    ".badge { display: inline-block; padding: 1px 8px; border-radius: 10px;\n"
    "  font-size: 12px; font-weight: 600; white-space: nowrap; }\n"
    ".b-ok { background: #def7e5; color: var(--ok); }\n"
    ".b-bad { background: #fde2e2; color: var(--bad); }\n"
    ".b-warn { background: #fef3c7; color: var(--amber); }\n"
    ".b-info { background: #ede9fe; color: var(--purple); }\n"
    ".muted { color: var(--muted); }\n"
    ".hidden { display: none !important; }\n"
    ".note { background: #fffbeb; border: 1px solid #fde68a; "
    "border-radius: 6px;\n"
    "  padding: 6px 10px; font-size: 13px; margin: 8px 0; }\n"
    ".legend { font-size: 12px; margin: 6px 0; display: flex; flex-wrap: "
    "wrap;\n"
    "  gap: 4px 12px; align-items: center; }\n"
    ".legend span { display: inline-flex; align-items: center; gap: 4px; }\n"
    ".sw { display: inline-block; width: 12px; height: 12px; "
    "border-radius: 3px;\n"
    "  border: 1px solid rgba(0,0,0,.12); }\n"
    ".mx-wrap { overflow: auto; max-height: 75vh; background: #fff;\n"
    "  border: 1px solid var(--line); border-radius: 6px; }\n"
    "table { border-collapse: collapse; }\n"
    "table.mx { font-size: 12px; }\n"
    "table.mx th, table.mx td { border: 1px solid var(--line); padding: "
    "3px 5px;\n"
    "  text-align: center; }\n"
    "table.mx thead th { background: #f1f4f8; }\n"
    "table.mx th.sc { font-size: 12.5px; }\n"
    "table.mx th.ck { font-weight: 500; font-size: 11px; min-width: 58px;\n"
    "  max-width: 84px; }\n"
    "table.mx th.rowh { position: sticky; left: 0; z-index: 1; background: "
    "#f8fafc;\n"
    "  text-align: left; white-space: nowrap; }\n"
    "table.mx td.cell { font-size: 11px; line-height: 1.2; min-width: "
    "58px; }\n"
    ".k-detected { background: #dcfce7; color: #14532d; font-weight: 600; }\n"
    ".k-clean { color: #7b8794; }\n"
    ".k-notrun { color: #cbd2d9; }\n"
    ".k-missed, .k-false { background: #fee2e2; color: #991b1b; "
    "font-weight: 700; }\n"
    ".k-allowed { background: #fef3c7; color: #92400e; }\n"
    ".k-unknown, .k-error { background: #ede9fe; color: #5b21b6; "
    "font-weight: 600; }\n"
    "table.mx.hide-clean .col-clean { display: none; }\n"
    ".filters { display: flex; flex-wrap: wrap; gap: 6px 18px; "
    "align-items: center;\n"
    "  margin: 6px 0 10px; font-size: 13px; }\n"
    "details.case { background: #fff; border: 1px solid var(--line);\n"
    "  border-radius: 8px; margin: 6px 0; }\n"
    "details.case.unexpected { border-left: 4px solid var(--bad); }\n"
    "details.case > summary { cursor: pointer; padding: 7px 12px; display: "
    "flex;\n"
    "  flex-wrap: wrap; gap: 4px 10px; align-items: center; }\n"
    "details.case > summary::-webkit-details-marker { color: var(--muted); "
    "}\n"
    "details.case[open] > summary { border-bottom: 1px solid var(--line);\n"
    "  background: #fafbfc; }\n"
    ".case-body { padding: 4px 16px 16px; }\n"
    ".case-id { font-weight: 600; }\n"
    "table.grid { font-size: 13px; margin: 4px 0; width: 100%; }\n"
    "table.grid th, table.grid td { border-bottom: 1px solid var(--line);\n"
    "  padding: 3px 8px; text-align: left; vertical-align: top; }\n"
    "table.grid th { background: #f8fafc; font-weight: 600; font-size: "
    "12px; }\n"
    "table.grid td.line { font-family: ui-monospace, SFMono-Regular, Menlo,\n"
    "  Consolas, monospace; font-size: 11.5px; overflow-wrap: anywhere;\n"
    "  color: #334155; }\n"
    "tr.ev td { background: #fff5f5; cursor: pointer; }\n"
    "tr.ev td:first-child { box-shadow: inset 3px 0 var(--bad); }\n"
    "tr.ev:hover td { background: #fee2e2; }\n"
    ".v-FAIL { color: var(--bad); font-weight: 700; }\n"
    ".v-PASS { color: var(--ok); font-weight: 600; }\n"
    ".v-UNKNOWN { color: var(--purple); font-weight: 600; }\n"
    ".replay { display: flex; gap: 8px; align-items: flex-start; margin: "
    "6px 0; }\n"
    ".replay code { flex: 1; background: #111827; color: #e5e7eb;\n"
    "  padding: 8px 10px; border-radius: 6px; white-space: pre-wrap;\n"
    "  overflow-wrap: anywhere; }\n"
    "button { font: inherit; font-size: 12px; padding: 2px 9px; cursor: "
    "pointer;\n"
    "  border: 1px solid #cbd2d9; border-radius: 5px; background: #fff; }\n"
    "button:hover { background: #f1f5f9; }\n"
    "button.linkish { border: 0; background: none; padding: 1px 0; color: "
    "#1d4ed8;\n"
    "  text-align: left; font-family: ui-monospace, SFMono-Regular, Menlo,\n"
    "  Consolas, monospace; font-size: 12px; }\n"
    ".tl-bar { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: "
    "center;\n"
    "  margin: 6px 0; font-size: 12px; }\n"
    ".tl-help { margin-left: auto; }\n"
    ".tl-wrap { position: relative; border: 1px solid var(--line);\n"
    "  border-radius: 6px; overflow: hidden; background: #fff; }\n"
    ".tl-scroll { overflow-y: auto; overflow-x: hidden; }\n"
    ".tl-canvas { position: absolute; left: 0; top: 0; pointer-events: "
    "none; }\n"
    ".tl-tip { position: fixed; z-index: 10; max-width: 560px; max-height: "
    "60vh;\n"
    "  overflow: hidden; background: #111827; color: #f9fafb; padding: 6px "
    "9px;\n"
    "  border-radius: 6px; white-space: pre-wrap; pointer-events: none;\n"
    "  font: 11.5px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas,\n"
    "  monospace; display: none; box-shadow: 0 4px 14px rgba(0,0,0,.25); }\n"
    "ul.tl-evid { margin: 2px 0; padding-left: 18px; }\n"
    "footer { color: var(--muted); font-size: 12px; margin-top: 30px; }\n";

/* Lazy timelines (drawn when a case is opened), virtual scrolling of
 * lanes, zoom, hover, filters. ES2017, no libraries. */
static const char JS[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var ROW = 18, AXIS = 24, LABEL = 220, MAXH = 440, PAD = 10;\n"
    "  var COLOR = {\n"
    "    state: '#2563eb', coord: '#7c3aed', reg: '#ea580c', send: "
    "'#16a34a',\n"
    "    recv: '#0d9488', close: '#374151', fail: '#dc2626', harness: "
    "'#6b7280',\n"
    "    other: '#9aa5b1'\n"
    "  };\n"
    "  var STATE = {\n"
    "    CONNECTING: '#e5e7eb', ACCEPTED: '#dbeafe', AUTHENTICATED: "
    "'#bfdbfe',\n"
    "    SERVICES_READY: '#fde68a', PROCESSING_READY: '#bbf7d0',\n"
    "    PROCESSING: '#86efac', IDLE: '#d1fae5', CLOSING: '#d1d5db', "
    "CLOSED: null\n"
    "  };\n"
    "  var tip = null;\n"
    "\n"
    "  function category(o) {\n"
    "    var n = String(o.event || '');\n"
    "    if (o.type === 'fail' || /fail|error|swallow/.test(n)) return "
    "'fail';\n"
    "    if (n === 'machine.transition') return 'state';\n"
    "    if (n === 'coordinator.phase') return 'coord';\n"
    "    if (n.indexOf('registry.') === 0 || n.indexOf('swap.') === 0) "
    "return 'reg';\n"
    "    if (n === 'client.send' || n.indexOf('message.') === 0) return "
    "'send';\n"
    "    if (n === 'client.recv' || n === 'client.established' ||\n"
    "        n === 'welcome.sent') return 'recv';\n"
    "    if (/close/.test(n)) return 'close';\n"
    "    if (n.indexOf('target.') === 0 || n.indexOf('gateway.') === 0 ||\n"
    "        n === 'case.end') return 'harness';\n"
    "    return 'other';\n"
    "  }\n"
    "\n"
    "  function fmtTime(ns, step) {\n"
    "    var a = Math.abs(step || ns);\n"
    "    if (a >= 1e9) return (ns / 1e9).toFixed(step >= 1e9 ? 0 : 2) + ' "
    "s';\n"
    "    if (a >= 1e6) return (ns / 1e6).toFixed(step >= 1e6 ? 0 : 2) + ' "
    "ms';\n"
    "    if (a >= 1e3) return (ns / 1e3).toFixed(step >= 1e3 ? 0 : 2) + ' "
    "\\u00b5s';\n"
    "    return Math.round(ns) + ' ns';\n"
    "  }\n"
    "\n"
    "  function niceStep(span, n) {\n"
    "    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));\n"
    "    var m = raw / p;\n"
    "    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;\n"
    "  }\n"
    "\n"
    "  /* The first index of arr (sorted by t) whose t is >= t. */\n"
    "  function lower(arr, t) {\n"
    "    var lo = 0, hi = arr.length;\n"
    "    while (lo < hi) {\n"
    "      var mid = (lo + hi) >> 1;\n"
    "      if (arr[mid].t < t) lo = mid + 1; else hi = mid;\n"
    "    }\n"
    "    return lo;\n"
    "  }\n"
    "\n"
    "  function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) e.className = cls;\n"
    "    if (text !== undefined) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "\n"
    "  function showTip(x, y, text) {\n"
    "    if (!tip) {\n"
    "      tip = el('div', 'tl-tip');\n"
    "      document.body.appendChild(tip);\n"
    "    }\n"
    "    tip.textContent = text;\n"
    "    tip.style.display = 'block';\n"
    "    var w = tip.offsetWidth, h = tip.offsetHeight;\n"
    "    tip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - "
    "w - 8)) + 'px';\n"
    "    tip.style.top = (y + 16 + h > window.innerHeight ? Math.max(4, y "
    "- h - 10) : y + 16) + 'px';\n"
    "  }\n"
    "\n"
    "  function hideTip() {\n"
    "    if (tip) tip.style.display = 'none';\n"
    "  }\n"
    "\n"
    "  function model(data) {\n"
    "    var lanes = data.lanes.map(function (l) {\n"
    "      return { kind: l[0], label: l[1], ev: [], states: [], evidence: "
    "false };\n"
    "    });\n"
    "    var evid = [], tmin = 0, tmax = data.span > 0 ? data.span : 1, i;\n"
    "    if (data.agg) {\n"
    "      lanes.push({ kind: 3, label: data.agg.lanes + ' more "
    "connections (' +\n"
    "                   data.agg.events + ' events, counts)', ev: [], "
    "states: [],\n"
    "                   agg: data.agg, evidence: false });\n"
    "    }\n"
    "    for (i = 0; i < data.ev.length; i++) {\n"
    "      var r = data.ev[i], lane = lanes[r[1]];\n"
    "      if (!lane) continue;\n"
    "      var ev = { t: r[0], lane: r[1], mask: r[2], o: r[3], c: "
    "category(r[3]) };\n"
    "      lane.ev.push(ev);\n"
    "      if (ev.mask) { evid.push(ev); lane.evidence = true; }\n"
    "      if (ev.t < tmin) tmin = ev.t;\n"
    "      if (ev.t > tmax) tmax = ev.t;\n"
    "    }\n"
    "    lanes.forEach(function (l) {\n"
    "      l.ev.sort(function (a, b) { return a.t - b.t; });\n"
    "      l.ev.forEach(function (e) {\n"
    "        if (e.o.event === 'machine.transition' && e.o.to)\n"
    "          l.states.push({ t: e.t, s: String(e.o.to) });\n"
    "      });\n"
    "    });\n"
    "    evid.sort(function (a, b) { return a.t - b.t; });\n"
    "    return { lanes: lanes, evid: evid, tmin: tmin, tmax: tmax };\n"
    "  }\n"
    "\n"
    "  function Timeline(root, data, checks) {\n"
    "    var m = model(data), self = this;\n"
    "    this.m = m;\n"
    "    this.checks = checks;\n"
    "    this.root = root;\n"
    "    this.v0 = m.tmin;\n"
    "    this.v1 = m.tmax + (m.tmax - m.tmin) * 0.01;\n"
    "    this.order = m.lanes.map(function (_, i) { return i; });\n"
    "    this.flash = null;\n"
    "\n"
    "    root.textContent = '';\n"
    "    var bar = el('div', 'tl-bar');\n"
    "    var zin = el('button', '', 'zoom in'), zout = el('button', '', "
    "'zoom out');\n"
    "    var fit = el('button', '', 'fit');\n"
    "    var onEv = el('button', '', 'zoom to evidence');\n"
    "    var evFirst = el('label', 'muted');\n"
    "    var box = el('input');\n"
    "    box.type = 'checkbox';\n"
    "    evFirst.appendChild(box);\n"
    "    evFirst.appendChild(document.createTextNode(' evidence lanes "
    "first'));\n"
    "    this.range = el('span', 'muted');\n"
    "    bar.appendChild(zin); bar.appendChild(zout); bar.appendChild(fit);\n"
    "    if (m.evid.length) bar.appendChild(onEv);\n"
    "    bar.appendChild(evFirst); bar.appendChild(this.range);\n"
    "    bar.appendChild(el('span', 'muted tl-help',\n"
    "      'Scroll: lanes \\u00b7 Ctrl+wheel: zoom \\u00b7 Shift+wheel or "
    "drag: pan \\u00b7 hover: event'));\n"
    "    root.appendChild(bar);\n"
    "\n"
    "    var h = Math.min(MAXH, AXIS + m.lanes.length * ROW + 4);\n"
    "    this.h = h;\n"
    "    var wrap = el('div', 'tl-wrap');\n"
    "    wrap.style.height = h + 'px';\n"
    "    this.scroll = el('div', 'tl-scroll');\n"
    "    this.scroll.style.height = h + 'px';\n"
    "    var spacer = el('div');\n"
    "    spacer.style.height = (AXIS + m.lanes.length * ROW + 4) + 'px';\n"
    "    this.scroll.appendChild(spacer);\n"
    "    this.canvas = el('canvas', 'tl-canvas');\n"
    "    wrap.appendChild(this.scroll);\n"
    "    wrap.appendChild(this.canvas);\n"
    "    root.appendChild(wrap);\n"
    "\n"
    "    if (m.evid.length) {\n"
    "      root.appendChild(el('h4', '', 'Evidence on the timeline (click "
    "to focus)'));\n"
    "      var ul = el('ul', 'tl-evid');\n"
    "      m.evid.forEach(function (ev) {\n"
    "        var li = el('li'), b = el('button', 'linkish');\n"
    "        var names = [];\n"
    "        checks.forEach(function (c, k) { if (ev.mask & (1 << k)) "
    "names.push(c); });\n"
    "        b.textContent = (ev.t / 1e6).toFixed(3) + ' ms  ' + "
    "(ev.o.event || '?') +\n"
    "          '  [' + m.lanes[ev.lane].label + ']  \\u2190 ' + "
    "names.join(', ');\n"
    "        b.addEventListener('click', function () { self.focus(ev); });\n"
    "        li.appendChild(b);\n"
    "        ul.appendChild(li);\n"
    "      });\n"
    "      root.appendChild(ul);\n"
    "    }\n"
    "\n"
    "    var pending = false;\n"
    "    this.redraw = function () {\n"
    "      if (pending) return;\n"
    "      pending = true;\n"
    "      window.requestAnimationFrame(function () { pending = false; "
    "self.draw(); });\n"
    "    };\n"
    "    this.scroll.addEventListener('scroll', this.redraw);\n"
    "    window.addEventListener('resize', this.redraw);\n"
    "    zin.addEventListener('click', function () { self.zoom(0.5, null); "
    "});\n"
    "    zout.addEventListener('click', function () { self.zoom(2, null); "
    "});\n"
    "    fit.addEventListener('click', function () {\n"
    "      self.v0 = m.tmin; self.v1 = m.tmax + (m.tmax - m.tmin) * 0.01; "
    "self.redraw();\n"
    "    });\n"
    "    onEv.addEventListener('click', function () {\n"
    "      var a = m.evid[0].t, b = m.evid[m.evid.length - 1].t;\n"
    "      var pad = Math.max(1000, (b - a) * 0.1);\n"
    "      self.v0 = a - pad; self.v1 = b + pad; self.redraw();\n"
    "    });\n"
    "    box.addEventListener('change', function () {\n"
    "      var rest = [], first = [];\n"
    "      m.lanes.forEach(function (l, i) {\n"
    "        (box.checked && (l.evidence || l.kind === 0) ? first : "
    "rest).push(i);\n"
    "      });\n"
    "      self.order = first.concat(rest);\n"
    "      self.redraw();\n"
    "    });\n"
    "    this.scroll.addEventListener('wheel', function (e) {\n"
    "      if (!e.ctrlKey && !e.shiftKey) return;\n"
    "      e.preventDefault();\n"
    "      var d = e.deltaY || e.deltaX;\n"
    "      var x = e.clientX - self.scroll.getBoundingClientRect().left;\n"
    "      if (e.ctrlKey) self.zoom(d > 0 ? 1.25 : 0.8, self.timeAt(x));\n"
    "      else self.pan(d / 4);\n"
    "    }, { passive: false });\n"
    "    var drag = null;\n"
    "    this.scroll.addEventListener('mousedown', function (e) {\n"
    "      if (e.clientX - self.scroll.getBoundingClientRect().left > "
    "LABEL)\n"
    "        drag = e.clientX;\n"
    "    });\n"
    "    window.addEventListener('mouseup', function () { drag = null; });\n"
    "    this.scroll.addEventListener('mousemove', function (e) {\n"
    "      if (drag !== null) {\n"
    "        self.pan(drag - e.clientX);\n"
    "        drag = e.clientX;\n"
    "        hideTip();\n"
    "        return;\n"
    "      }\n"
    "      self.hover(e);\n"
    "    });\n"
    "    this.scroll.addEventListener('mouseleave', hideTip);\n"
    "    this.draw();\n"
    "  }\n"
    "\n"
    "  Timeline.prototype.width = function () {\n"
    "    return Math.max(LABEL + 80, this.scroll.clientWidth);\n"
    "  };\n"
    "  Timeline.prototype.xOf = function (t) {\n"
    "    return LABEL + (t - this.v0) / (this.v1 - this.v0) * "
    "(this.width() - LABEL - PAD);\n"
    "  };\n"
    "  Timeline.prototype.timeAt = function (x) {\n"
    "    return this.v0 + (x - LABEL) / (this.width() - LABEL - PAD) * "
    "(this.v1 - this.v0);\n"
    "  };\n"
    "  Timeline.prototype.zoom = function (f, at) {\n"
    "    var c = at === null ? (this.v0 + this.v1) / 2 : at;\n"
    "    var span = Math.max(50, (this.v1 - this.v0) * f);\n"
    "    var r = (c - this.v0) / (this.v1 - this.v0);\n"
    "    this.v0 = c - span * r;\n"
    "    this.v1 = this.v0 + span;\n"
    "    this.redraw();\n"
    "  };\n"
    "  Timeline.prototype.pan = function (px) {\n"
    "    var dt = px / (this.width() - LABEL - PAD) * (this.v1 - this.v0);\n"
    "    this.v0 += dt;\n"
    "    this.v1 += dt;\n"
    "    this.redraw();\n"
    "  };\n"
    "  Timeline.prototype.focus = function (ev) {\n"
    "    var span = Math.max(2000, (this.m.tmax - this.m.tmin) / 40);\n"
    "    this.v0 = ev.t - span / 2;\n"
    "    this.v1 = ev.t + span / 2;\n"
    "    var row = this.order.indexOf(ev.lane);\n"
    "    this.scroll.scrollTop = Math.max(0, row * ROW - (this.h - AXIS) / "
    "2);\n"
    "    this.flash = ev;\n"
    "    this.redraw();\n"
    "    this.root.scrollIntoView({ block: 'nearest' });\n"
    "  };\n"
    "\n"
    "  Timeline.prototype.hover = function (e) {\n"
    "    var rect = this.scroll.getBoundingClientRect();\n"
    "    var y = e.clientY - rect.top, x = e.clientX - rect.left;\n"
    "    var row = Math.floor((y - AXIS + this.scroll.scrollTop) / ROW);\n"
    "    if (y < AXIS || row < 0 || row >= this.order.length) { hideTip(); "
    "return; }\n"
    "    var lane = this.m.lanes[this.order[row]];\n"
    "    if (x < LABEL) { showTip(e.clientX, e.clientY, lane.label); "
    "return; }\n"
    "    if (lane.agg) {\n"
    "      var b = Math.floor(this.timeAt(x) / lane.agg.bucket);\n"
    "      var n = lane.agg.counts[b] || 0;\n"
    "      showTip(e.clientX, e.clientY, n + ' events of aggregated "
    "connections in ' +\n"
    "              fmtTime(b * lane.agg.bucket, 1e3) + ' .. ' +\n"
    "              fmtTime((b + 1) * lane.agg.bucket, 1e3));\n"
    "      return;\n"
    "    }\n"
    "    var t = this.timeAt(x), i = lower(lane.ev, t), best = null, bd = "
    "6;\n"
    "    for (var j = Math.max(0, i - 3); j < Math.min(lane.ev.length, i + "
    "3); j++) {\n"
    "      var d = Math.abs(this.xOf(lane.ev[j].t) - x);\n"
    "      if (d < bd || (d === bd && lane.ev[j].mask)) { bd = d; best = "
    "lane.ev[j]; }\n"
    "    }\n"
    "    if (!best) { hideTip(); return; }\n"
    "    var names = [];\n"
    "    this.checks.forEach(function (c, k) { if (best.mask & (1 << k)) "
    "names.push(c); });\n"
    "    showTip(e.clientX, e.clientY, 't = ' + fmtTime(best.t, 1) +\n"
    "            (names.length ? '   EVIDENCE of ' + names.join(', ') : "
    "'') + '\\n' +\n"
    "            JSON.stringify(best.o, null, 1));\n"
    "  };\n"
    "\n"
    "  function mark(ctx, c, x, y) {\n"
    "    ctx.fillStyle = COLOR[c];\n"
    "    switch (c) {\n"
    "    case 'state': ctx.fillRect(x - 1, y - 5, 3, 10); break;\n"
    "    case 'coord':\n"
    "      ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4, y);\n"
    "      ctx.lineTo(x, y + 5); ctx.lineTo(x - 4, y); ctx.fill(); break;\n"
    "    case 'reg':\n"
    "      ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4, y + 4);\n"
    "      ctx.lineTo(x - 4, y + 4); ctx.fill(); break;\n"
    "    case 'send':\n"
    "      ctx.beginPath(); ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y);\n"
    "      ctx.lineTo(x - 4, y + 4); ctx.fill(); break;\n"
    "    case 'recv':\n"
    "      ctx.beginPath(); ctx.arc(x, y, 3, 0, 6.3); ctx.fill(); break;\n"
    "    case 'close': ctx.fillRect(x - 1, y - 7, 2, 14); break;\n"
    "    case 'fail':\n"
    "      ctx.strokeStyle = COLOR.fail; ctx.lineWidth = 2; "
    "ctx.beginPath();\n"
    "      ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4);\n"
    "      ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4); "
    "ctx.stroke(); break;\n"
    "    case 'harness': ctx.fillRect(x - 3, y - 3, 6, 6); break;\n"
    "    default: ctx.fillRect(x - 1, y - 2, 3, 4);\n"
    "    }\n"
    "  }\n"
    "\n"
    "  Timeline.prototype.drawLane = function (ctx, li, y, w) {\n"
    "    var lane = this.m.lanes[li], mid = y + ROW / 2, self = this, i;\n"
    "    if (lane.agg) {\n"
    "      var a = lane.agg, max = 1;\n"
    "      a.counts.forEach(function (n) { if (n > max) max = n; });\n"
    "      ctx.fillStyle = '#94a3b8';\n"
    "      for (i = 0; i < a.counts.length; i++) {\n"
    "        if (!a.counts[i]) continue;\n"
    "        var x0 = Math.max(LABEL, this.xOf(i * a.bucket));\n"
    "        var x1 = Math.min(w - PAD, this.xOf((i + 1) * a.bucket));\n"
    "        var hh = Math.max(1, (ROW - 4) * a.counts[i] / max);\n"
    "        if (x1 > x0) ctx.fillRect(x0, y + ROW - 2 - hh, Math.max(1, "
    "x1 - x0 - 0.5), hh);\n"
    "      }\n"
    "      return 0;\n"
    "    }\n"
    "    lane.states.forEach(function (s, k) {\n"
    "      var next = k + 1 < lane.states.length ? lane.states[k + 1].t : "
    "self.m.tmax;\n"
    "      var x0 = Math.max(LABEL, self.xOf(s.t)), x1 = Math.min(w - PAD, "
    "self.xOf(next));\n"
    "      if (x1 <= x0) return;\n"
    "      if (STATE[s.s] === null) return;\n"
    "      ctx.fillStyle = STATE[s.s] || '#e5e7eb';\n"
    "      ctx.fillRect(x0, y + 3, Math.max(1, x1 - x0), ROW - 6);\n"
    "    });\n"
    "    var margin = (this.v1 - this.v0) * 8 / (w - LABEL);\n"
    "    var lastX = -1, lastC = '', drawn = 0;\n"
    "    for (i = lower(lane.ev, this.v0 - margin); i < lane.ev.length; "
    "i++) {\n"
    "      var ev = lane.ev[i];\n"
    "      if (ev.t > this.v1 + margin) break;\n"
    "      var x = Math.round(this.xOf(ev.t));\n"
    "      if (x === lastX && ev.c === lastC && !ev.mask) continue;\n"
    "      lastX = x; lastC = ev.c;\n"
    "      mark(ctx, ev.c, x, mid);\n"
    "      drawn++;\n"
    "      if (ev.mask || ev === this.flash) {\n"
    "        ctx.strokeStyle = ev === this.flash ? '#f59e0b' : '#dc2626';\n"
    "        ctx.lineWidth = 2;\n"
    "        ctx.beginPath(); ctx.arc(x, mid, 7, 0, 6.3); ctx.stroke();\n"
    "      }\n"
    "    }\n"
    "    return drawn;\n"
    "  };\n"
    "\n"
    "  Timeline.prototype.draw = function () {\n"
    "    var t0 = performance.now();\n"
    "    var w = this.width(), h = this.h, dpr = window.devicePixelRatio "
    "|| 1;\n"
    "    var c = this.canvas, ctx = c.getContext('2d');\n"
    "    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h "
    "* dpr)) {\n"
    "      c.width = Math.round(w * dpr);\n"
    "      c.height = Math.round(h * dpr);\n"
    "      c.style.width = w + 'px';\n"
    "      c.style.height = h + 'px';\n"
    "    }\n"
    "    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);\n"
    "    ctx.clearRect(0, 0, w, h);\n"
    "    ctx.font = '11px system-ui, -apple-system, \"Segoe UI\", Roboto, "
    "sans-serif';\n"
    "    ctx.textBaseline = 'middle';\n"
    "    var top = this.scroll.scrollTop, n = this.order.length;\n"
    "    var first = Math.max(0, Math.floor(top / ROW));\n"
    "    var last = Math.min(n, Math.ceil((top + h - AXIS) / ROW) + 1);\n"
    "    var step = niceStep(this.v1 - this.v0, Math.max(2, (w - LABEL) / "
    "110));\n"
    "    var g, drawn = 0, r;\n"
    "    ctx.strokeStyle = '#eef0f3';\n"
    "    ctx.lineWidth = 1;\n"
    "    for (g = Math.ceil(this.v0 / step) * step; g <= this.v1; g += "
    "step) {\n"
    "      var gx = Math.round(this.xOf(g)) + 0.5;\n"
    "      ctx.beginPath(); ctx.moveTo(gx, AXIS); ctx.lineTo(gx, h); "
    "ctx.stroke();\n"
    "    }\n"
    "    for (r = first; r < last; r++) {\n"
    "      var li = this.order[r], lane = this.m.lanes[li];\n"
    "      var y = AXIS + r * ROW - top;\n"
    "      if (lane.evidence) {\n"
    "        ctx.fillStyle = 'rgba(254,226,226,0.55)';\n"
    "        ctx.fillRect(LABEL, y, w - LABEL, ROW);\n"
    "      } else if (r % 2) {\n"
    "        ctx.fillStyle = 'rgba(241,245,249,0.6)';\n"
    "        ctx.fillRect(LABEL, y, w - LABEL, ROW);\n"
    "      }\n"
    "      drawn += this.drawLane(ctx, li, y, w);\n"
    "    }\n"
    "    ctx.fillStyle = '#ffffff';\n"
    "    ctx.fillRect(0, 0, LABEL, h);\n"
    "    for (r = first; r < last; r++) {\n"
    "      var ln = this.m.lanes[this.order[r]], yy = AXIS + r * ROW - top "
    "+ ROW / 2;\n"
    "      var text = ln.label;\n"
    "      ctx.fillStyle = ln.evidence ? '#b91c1c' : ln.kind === 0 ? "
    "'#111827' :\n"
    "        ln.kind === 3 ? '#64748b' : '#374151';\n"
    "      while (text.length > 4 && ctx.measureText(text).width > LABEL - "
    "12)\n"
    "        text = text.slice(0, -2);\n"
    "      if (text !== ln.label) text += '\\u2026';\n"
    "      ctx.fillText(text, 6, yy);\n"
    "    }\n"
    "    ctx.fillStyle = '#f8fafc';\n"
    "    ctx.fillRect(0, 0, w, AXIS);\n"
    "    ctx.strokeStyle = '#cbd5e1';\n"
    "    ctx.beginPath(); ctx.moveTo(0, AXIS - 0.5); ctx.lineTo(w, AXIS - "
    "0.5);\n"
    "    ctx.moveTo(LABEL - 0.5, 0); ctx.lineTo(LABEL - 0.5, h); "
    "ctx.stroke();\n"
    "    ctx.fillStyle = '#475569';\n"
    "    ctx.fillText('lane \\u2193   time \\u2192', 6, AXIS / 2);\n"
    "    for (g = Math.ceil(this.v0 / step) * step; g <= this.v1; g += "
    "step) {\n"
    "      var tx = this.xOf(g);\n"
    "      if (tx < LABEL + 2 || tx > w - 30) continue;\n"
    "      ctx.fillText(fmtTime(g, step), tx + 3, AXIS / 2);\n"
    "    }\n"
    "    this.range.textContent = fmtTime(this.v0, this.v1 - this.v0) + ' "
    ".. ' +\n"
    "      fmtTime(this.v1, this.v1 - this.v0) + '  \\u00b7  ' + n + ' "
    "lanes';\n"
    "    var ds = this.root.dataset;\n"
    "    ds.drawn = '1';\n"
    "    ds.lanes = String(n);\n"
    "    ds.events = String(drawn);\n"
    "    ds.visible = String(last - first);\n"
    "    ds.drawMs = String(Math.round(performance.now() - t0));\n"
    "    ds.draws = String((+ds.draws || 0) + 1);\n"
    "  };\n"
    "\n"
    "  function openCase(d) {\n"
    "    var box = d.querySelector('.tl');\n"
    "    if (!box || box.dataset.state) return;\n"
    "    var src = document.getElementById(box.dataset.src || '');\n"
    "    box.dataset.state = 'loading';\n"
    "    if (!src) {\n"
    "      box.dataset.state = 'none';\n"
    "      return;\n"
    "    }\n"
    "    try {\n"
    "      var data = JSON.parse(src.textContent);\n"
    "      box.timeline = new Timeline(box, data, data.checks || []);\n"
    "      box.dataset.state = 'ready';\n"
    "    } catch (err) {\n"
    "      box.dataset.state = 'error';\n"
    "      box.textContent = 'The timeline could not be drawn: ' + err;\n"
    "    }\n"
    "  }\n"
    "\n"
    "  function filterCases() {\n"
    "    var onlyBad = document.getElementById('only-unexpected');\n"
    "    var onlyFail = document.getElementById('only-fail');\n"
    "    var all = document.querySelectorAll('details.case'), shown = 0;\n"
    "    Array.prototype.forEach.call(all, function (d) {\n"
    "      var hide = (onlyBad && onlyBad.checked && d.dataset.unexpected "
    "!== '1') ||\n"
    "        (onlyFail && onlyFail.checked && d.dataset.fail !== '1');\n"
    "      d.classList.toggle('hidden', !!hide);\n"
    "      if (!hide) shown++;\n"
    "    });\n"
    "    var count = document.getElementById('case-count');\n"
    "    if (count) count.textContent = shown + ' of ' + all.length + ' "
    "cases shown';\n"
    "  }\n"
    "\n"
    "  function matrixColumns() {\n"
    "    var box = document.getElementById('mx-hide-clean');\n"
    "    var table = document.querySelector('table.mx');\n"
    "    if (!box || !table) return;\n"
    "    table.classList.toggle('hide-clean', box.checked);\n"
    "    Array.prototype.forEach.call(table.querySelectorAll('th.sc'), "
    "function (th) {\n"
    "      var n = +th.dataset.cols - (box.checked ? +th.dataset.clean : "
    "0);\n"
    "      th.colSpan = Math.max(1, n);\n"
    "      th.classList.toggle('hidden', n === 0);\n"
    "    });\n"
    "  }\n"
    "\n"
    "  function copy(btn) {\n"
    "    var code = btn.parentNode.querySelector('code');\n"
    "    if (!code) return;\n"
    "    var text = code.textContent, done = function () {\n"
    "      btn.textContent = 'copied';\n"
    "      setTimeout(function () { btn.textContent = 'copy'; }, 1200);\n"
    "    };\n"
    "    var sel = window.getSelection(), range = document.createRange();\n"
    "    range.selectNodeContents(code);\n"
    "    sel.removeAllRanges();\n"
    "    sel.addRange(range);\n"
    "    var legacy = function () {\n"
    "      try {\n"
    "        if (document.execCommand('copy')) done();\n"
    "      } catch (e) { /* the text stays selected: Ctrl+C */ }\n"
    "    };\n"
    "    if (navigator.clipboard && navigator.clipboard.writeText)\n"
    "      navigator.clipboard.writeText(text).then(done, legacy);\n"
    "    else\n"
    "      legacy();\n"
    "  }\n"
    "\n"
    "  document.addEventListener('DOMContentLoaded', function () {\n"
    "    Array.prototype.forEach.call(document.querySelectorAll('details.ca"
    "se'), function (d) {\n"
    "      d.addEventListener('toggle', function () { if (d.open) "
    "openCase(d); });\n"
    "      if (d.open) openCase(d);\n"
    "    });\n"
    "    Array.prototype.forEach.call(document.querySelectorAll('button.cop"
    "y'), function (b) {\n"
    "      b.addEventListener('click', function () { copy(b); });\n"
    "    });\n"
    "    Array.prototype.forEach.call(document.querySelectorAll('tr.ev'), "
    "function (tr) {\n"
    "      tr.addEventListener('click', function () {\n"
    "        var d = tr.closest('details.case'), box = d && "
    "d.querySelector('.tl');\n"
    "        if (!box) return;\n"
    "        openCase(d);\n"
    "        var tl = box.timeline, t = +tr.dataset.t;\n"
    "        if (!tl) return;\n"
    "        var best = null;\n"
    "        tl.m.evid.forEach(function (ev) {\n"
    "          if (ev.t === t && (!best || ev.mask)) best = ev;\n"
    "        });\n"
    "        if (best) tl.focus(best);\n"
    "      });\n"
    "    });\n"
    "    ['only-unexpected', 'only-fail'].forEach(function (id) {\n"
    "      var b = document.getElementById(id);\n"
    "      if (b) b.addEventListener('change', filterCases);\n"
    "    });\n"
    "    var mx = document.getElementById('mx-hide-clean');\n"
    "    if (mx) mx.addEventListener('change', matrixColumns);\n"
    "    matrixColumns();\n"
    "    filterCases();\n"
    "    try {\n"
    "      var target = location.hash &&\n"
    "        document.getElementById(decodeURIComponent(location.hash.slice"
    "(1)));\n"
    "      if (target && target.tagName === 'DETAILS') target.open = true;\n"
    "    } catch (e) { /* a malformed #fragment: nothing to open */ }\n"
    "    document.body.dataset.ready = '1';\n"
    "  });\n"
    "})();\n";

static void put_style(FILE *f)
{
    fputs(CSS, f);
}

static void put_script(FILE *f)
{
    fputs(JS, f);
}
