/* wr_report_timeline.c - The timeline of a case in index.html: its
 * events, read from its history.jsonl, laid out in lanes, one per
 * connection, and written as the <script type="application/json"> block
 * that the page's script (assets/report.js) draws on a <canvas> when the
 * case is opened, with the notes that say what it leaves out.
 * wr_report_html.c writes the rest of the page.
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
 * page has embedded WR_TIMELINE_PAGE_EVENTS): the first lane and every
 * lane holding evidence are kept whole, then lanes in order while they
 * fit; the rest are counted per time bucket in one aggregate lane, and
 * the page says so.
 *
 * Escaping. JSON is dumped ASCII-only by jansson, then < > & become \u
 * escapes, so no "</script" or "<!--" can appear in a script block.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report_timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_judge.h"
#include "report/wr_report_util.h"

#define CASE_EVENTS     20000     /* events embedded per case, at most */
#define CASE_EVENTS_MIN 2000      /* ... and at least, whatever the page used */
#define AGG_BUCKETS     240       /* time buckets of the aggregate lane */
#define MAX_CLIENTS     (1 << 20) /* client indexes beyond are not lanes */

/* ------------------------------------------------------------------------
 * Text: JSON in a script block
 * ---------------------------------------------------------------------- */

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

/* The case's events: its history file, or what the run kept in memory
 * when that cannot be read (*load_rc says why). Returns 0 or -ENOMEM. */
static int case_events(const char *dir, const wr_case_t *c, const char *cdir,
                       hist_t *h, int *load_rc)
{
    *load_rc = load_history(dir, cdir, h);
    if (*load_rc == -ENOMEM)
        return -ENOMEM;
    if (*load_rc == 0)
        return 0;
    hist_free(h);
    return hist_from_case(h, c);
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
 * A case's timeline: built before the case's card is written (its
 * evidence is timed from the timeline's origin), written at its end
 * ---------------------------------------------------------------------- */

struct wr_timeline {
    hist_t h;    /* the case's events */
    tl_t tl;     /* their lanes; points into h */
    int load_rc; /* 0, or why history.jsonl could not be read */
};

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

int wr__report_timeline_build(const char *dir, const char *cdir,
                              const wr_case_t *c, size_t *budget,
                              wr_timeline_t **out)
{
    wr_timeline_t *t = calloc(1, sizeof(*t));
    size_t cap = *budget > CASE_EVENTS ? CASE_EVENTS : *budget;
    int rc;

    *out = NULL;
    if (t == NULL)
        return -ENOMEM;
    rc = case_events(dir, c, cdir, &t->h, &t->load_rc);
    if (rc == 0)
        rc = tl_build(&t->tl, &t->h, c,
                      cap < CASE_EVENTS_MIN ? CASE_EVENTS_MIN : cap);
    if (rc < 0) {
        wr__report_timeline_free(t);
        return rc;
    }
    *budget -= t->tl.kept < *budget ? t->tl.kept : *budget;
    *out = t;
    return 0;
}

int64_t wr__report_timeline_t0(const wr_timeline_t *t, const wr_case_t *c)
{
    return t->tl.n > 0 ? t->tl.t0 : wr__report_case_t0(c);
}

int wr__report_timeline_write(FILE *f, const wr_timeline_t *t, size_t index)
{
    int rc = 0;

    fputs("<h4>Timeline</h4>\n", f);
    put_timeline_notes(f, &t->tl, t->load_rc, t->h.skipped);
    if (t->tl.n > 0) {
        fprintf(f,
                "<div class=\"tl\" data-src=\"tl-%zu\"><p class=\"muted\">"
                "Drawing\xe2\x80\xa6</p></div>\n",
                index);
        rc = put_timeline_data(f, &t->tl, index);
    } else {
        fputs("<p class=\"muted\">No events to draw.</p>\n", f);
    }
    return rc;
}

void wr__report_timeline_free(wr_timeline_t *t)
{
    if (t == NULL)
        return;
    tl_free(&t->tl);
    hist_free(&t->h);
    free(t);
}
