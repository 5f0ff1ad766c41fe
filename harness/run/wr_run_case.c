/* wr_run_case.c - One case: the target (a gateway, a cluster of them on
 * Redis, or an external one), the sync-point scheduler, the client
 * engine, the registry left behind, the history, the checks and the
 * judge, and the case's evidence files (wr_run_case in wr_run.h).
 *
 * Each case gets a fresh gateway (a crash in one case cannot leak into the
 * next) and its own directory, cases/<case-id>/, holding trace.jsonl,
 * history.jsonl, gateway.log and replay.json. The engine's threads live
 * only inside wr_engine_run; a watcher thread times a crash while it
 * runs. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/wr_run.h"

#include "checks/wr_check.h"
#include "drive/wr_cluster.h"
#include "drive/wr_engine.h"
#include "drive/wr_pool.h"
#include "drive/wr_sched.h"
#include "drive/wr_target.h"
#include "drive/wr_tool.h"
#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "judge/wr_early.h"
#include "judge/wr_judge.h"
#include "plan/wr_replay.h"

#define STOP_TIMEOUT_MS 5000
#define LEAK_GRACE_MS 1000 /* how long closes may take to reach the registry */
#define EARLY_SETTLE_MS 4 /* an early failure holds this long over new data */
#define EARLY_MAX_EVENTS 20000 /* beyond, the early verdict's watcher stops */

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

/* ------------------------------------------------------------------ */
/* One case                                                            */
/* ------------------------------------------------------------------ */

/* The pause between two reads of the registry: short at first (the
 * last closes of a short case reach it within a few milliseconds, and the
 * case waits for nothing else), doubling up to 20 ms. The grace and its
 * bound are the same whatever the pause. */
static void registry_pause(int *ms)
{
    struct timespec ts = {0, (long)*ms * 1000000L};

    nanosleep(&ts, NULL);
    *ms = *ms * 2 > 20 ? 20 : *ms * 2;
}

/* Asks the gateway what is left in its registry once every client has
 * closed. The close paths get LEAK_GRACE_MS after the last time the count
 * went down (10,000 closes on a loaded machine take longer than a fixed
 * second; a leak does not shrink), within a hard bound. */
static void record_registry(wr_history_t *h, const char *host, int port,
                            double scale, bool once)
{
    int64_t grace = once ? 0 : (int64_t)(LEAK_GRACE_MS * scale) * 1000000;
    int64_t start = wr_now_ns(), deadline = start + grace;
    int64_t cap = start + 30 * grace;
    size_t fewest = (size_t)-1;
    json_t *last = NULL;
    int status = -1, pause = 1;

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
        registry_pause(&pause);
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

/* Reads what is left in a cluster's registry, from Redis itself, once
 * every client has closed: as record_registry, and, after an instance was
 * killed, until its entries' TTL has run out twice over (a correct
 * cluster has let them expire by then; the heartbeat's sweep reports each
 * expiry within a third of the TTL). */
static void record_cluster_registry(wr_history_t *h, wr_cluster_t *cl,
                                    double scale)
{
    int64_t grace = (int64_t)(LEAK_GRACE_MS * scale) * 1000000;
    int64_t start = wr_now_ns(), deadline = start + grace, cap;
    size_t fewest = (size_t)-1;
    json_t *last = NULL;
    int pause = 1;

    if (cl->last_kill_ns > 0) {
        int64_t ttl = (int64_t)(cl->ttl_ms ? cl->ttl_ms : 3000) * 1000000;
        int64_t due = cl->last_kill_ns + (int64_t)(2 * ttl * scale) + grace;

        if (due > deadline)
            deadline = due;
    }
    cap = (deadline > start + 30 * grace ? deadline : start + 30 * grace);
    for (;;) {
        json_t *j = wr_cluster_registry(cl, 2000);

        if (j != NULL) {
            size_t n = (size_t)json_integer_value(json_object_get(j, "count"));

            json_decref(last);
            last = j;
            /* Empty, and every expiry recorded in the traces. */
            if (n == 0 &&
                json_integer_value(json_object_get(j, "unseen_expiries")) == 0)
                break;
            if (n < fewest) {
                fewest = n;
                if (wr_now_ns() + grace > deadline)
                    deadline = wr_now_ns() + grace;
            }
        }
        if (wr_now_ns() >= deadline || wr_now_ns() >= cap)
            break;
        registry_pause(&pause);
    }
    if (last == NULL) {
        harness_event(h, json_pack("{s:s,s:i,s:s}", "event",
                                   "target.registry_unavailable", "code", -1,
                                   "error", "Redis did not answer"));
        return;
    }
    json_object_set_new(last, "event", json_string("target.registry"));
    harness_event(h, last);
}

/* Adds the registry's cluster-wide log to the history: each record at the
 * time of the trace event that carries its rseq (a record no trace holds,
 * of an instance killed mid-operation, at the time of the record before
 * it). The history's sort keeps them in rseq order beside those events. */
static void add_registry_log(wr_history_t *h, json_t *log)
{
    size_t len = wr_history_len(h), n = json_array_size(log), i;
    int64_t *at = calloc(n + 1, sizeof(*at)), prev = 0;
    json_t *rec;

    if (at == NULL)
        return;
    for (size_t k = 0; k < len; k++) {
        const wr_event_t *ev = wr_history_at(h, k);

        if (ev->src == WR_SRC_GATEWAY && ev->rseq > 0 && ev->rseq <= n)
            at[ev->rseq - 1] = ev->ns;
    }
    json_array_foreach(log, i, rec)
    {
        json_int_t r = json_integer_value(json_object_get(rec, "rseq"));
        int64_t ns = r > 0 && (size_t)r <= n && at[r - 1] ? at[r - 1] : prev;
        char *line;

        prev = ns;
        json_object_set_new(rec, "ns", json_integer(ns));
        line = json_dumps(rec, JSON_COMPACT);
        if (line != NULL)
            wr_history_add_line(h, WR_SRC_HARNESS, line);
        free(line);
    }
    free(at);
}

/* A one-line description of the case's gateways for people and files:
 * "3 instances sharing Redis 127.0.0.1:PORT (ttl 1500 ms)". */
static void describe_topology(const wr_cluster_t *cl, wr_case_t *c)
{
    if (!cl->redis_on) {
        c->topology[0] = '\0';
        return;
    }
    snprintf(c->topology, sizeof(c->topology),
             "%d instance%s sharing a Redis registry (127.0.0.1:%d, entry TTL "
             "%u ms)",
             cl->instances, cl->instances == 1 ? "" : "s", cl->redis.port,
             cl->ttl_ms ? cl->ttl_ms : 3000);
}

/* The topology for replay.json: the instances with their ports and pids,
 * every incarnation, and the Redis server. */
static json_t *topology_json(const wr_cluster_t *cl)
{
    json_t *nodes = json_array();

    for (size_t i = 0; i < cl->nnodes; i++) {
        const wr_node_t *n = &cl->nodes[i];

        json_array_append_new(
            nodes, json_pack("{s:i,s:i,s:i,s:s,s:s,s:b}", "instance",
                             n->instance, "incarnation", n->incarnation, "port",
                             n->t.port, "log", strrchr(n->t.log_path, '/') + 1,
                             "trace", strrchr(n->t.trace_path, '/') + 1,
                             "killed", n->killed));
    }
    return json_pack("{s:i,s:s,s:i,s:i,s:o}", "instances", cl->instances,
                     "registry", cl->redis_on ? "redis" : "memory",
                     "redis_port", cl->redis_on ? cl->redis.port : 0, "ttl_ms",
                     cl->redis_on ? (int)(cl->ttl_ms ? cl->ttl_ms : 3000) : 0,
                     "processes", nodes);
}

/* Judges case c on its history: the expectations of its scenario and
 * faults, every check the scenario asks for (and the analysis checks of
 * the tool in use), and whether the verdicts met the expectations; when
 * the early verdict ended the case (early->fired), only what the
 * shortened case can judge. */
static void run_checks(wr_case_t *c, const wr_history_t *h, double scale,
                       wr_tool_t tool, const wr_early_result_t *early)
{
    unsigned mask = c->scenario->checks, tool_checks = 0;
    wr_check_opts_t co = {
        .ready_timeout_ns =
            (int64_t)(c->scenario->ready_timeout_ms * scale) * 1000000,
        .message_timeout_ns = 0,
    };

    if (tool != WR_TOOL_NONE)
        /* Only what the tool looks for: memcheck proves nothing of races. */
        tool_checks = (wr_tool_checks_memory(tool)
                           ? WSR_CHECK_BIT(WSR_CHECK_MEMORY_SAFETY)
                           : 0) |
                      (wr_tool_checks_races(tool)
                           ? WSR_CHECK_BIT(WSR_CHECK_DATA_RACE)
                           : 0);
    mask |= tool_checks;
    wr_judge_expect(c->scenario, &c->faults, tool_checks, c->expected,
                    &c->need_one);
    wr_check_all(h, &co, mask, c->results);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        c->ran[k] = (mask & (1u << k)) != 0;
    wr_early_settle(c, early);
    wr_judge_case(c);
    c->first_fail_ns = -1;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];
        int64_t t;

        if (!c->ran[k] || r->verdict != WR_FAIL || r->nevidence == 0)
            continue;
        /* The first event a client or the gateway saw; else the last. */
        t = r->evidence[r->nevidence - 1]->ns;
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
    size_t idx[1 + WSR_CHECK__COUNT * WR_EVIDENCE_MAX], n = 0, m = 0;
    wr_history_t *small;

    c->history = h;
    if (wr_history_len(h) == 0)
        return;
    idx[n++] = 0;
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
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
        char *line = wr_event_line(ev);
        int rc = line ? wr_history_add_line(small, ev->src, line) : -ENOMEM;

        free(line);
        if (rc != 0) {
            wr_history_free(small);
            return;
        }
    }
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
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

/* Watches the gateways while the engine runs, so that a crash is timed
 * within a few milliseconds of the process ending, not when the case
 * ends. The nemesis steps share the cluster with it under its lock. */
typedef struct {
    wr_cluster_t *cl;
    atomic_int done;
} watch_t;

static void *watch_main(void *arg)
{
    watch_t *w = arg;
    struct timespec ts = {0, 2 * 1000000L};

    while (!atomic_load(&w->done) && wr_cluster_poll(w->cl))
        nanosleep(&ts, NULL);
    return NULL;
}

/* The early verdict's watcher for case c, its flag and tap set in eo
 * (--early-verdict): our lone gateway (its trace followed) or one at
 * --url (black-box), never under an analysis tool, whose findings come at
 * the gateway's exit. NULL when there is none. */
static wr_early_t *early_begin(const wr_case_t *c, const wr_run_opts_t *o,
                               const wr_cluster_t *cl, double scale,
                               wr_engine_opts_t *eo, atomic_int *end)
{
    wr_early_opts_t eopt = {
        .mask = c->scenario->checks,
        .settle_ns = (int64_t)(EARLY_SETTLE_MS * scale * 1e6),
        .max_events = EARLY_MAX_EVENTS,
        .end = end,
    };
    wr_early_t *e = NULL;

    if (!o->early_verdict || o->tool != WR_TOOL_NONE ||
        (o->url == NULL && (cl->redis_on || cl->nnodes != 1)))
        return NULL;
    wr_early_expect(&eopt, c->scenario, &c->faults);
    if (o->url == NULL)
        eopt.traces[eopt.ntraces++] = cl->nodes[0].t.trace_path;
    if (wr_early_start(&e, &eopt) != 0)
        return NULL;
    eo->end = end;
    eo->tap = wr_early_tap;
    eo->tap_ctx = e;
    return e;
}

/* The valgrind command a gateway runs under for o->tool, writing one XML
 * file per process into dir. */
static int tool_wrapper(const wr_run_opts_t *o, const char *dir, char *out,
                        size_t len)
{
    wr_tool_t t = (wr_tool_t)o->tool;
    int n = snprintf(out, len,
                     "valgrind --tool=%s --xml=yes --xml-file=%s/vg.%%p.xml "
                     "--child-silent-after-fork=yes --error-exitcode=0%s%s%s",
                     wr_tool_name(t), dir,
                     t == WR_TOOL_MEMCHECK ? " --leak-check=full" : "",
                     o->suppressions ? " --suppressions=" : "",
                     o->suppressions ? o->suppressions : "");

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Reads what the tool reported of the gateway of dir into h, placed at
 * exit_ns (see wr_tool.h). */
static void read_tool(const wr_run_opts_t *o, const wr_target_t *t,
                      const char *dir, wr_history_t *h, int64_t exit_ns)
{
    wr_tool_t tool = (wr_tool_t)o->tool;
    wr_tool_report_t r;
    char pattern[PATH_MAX];

    wr_tool_report_init(&r, tool);
    if (wr_tool_is_valgrind(tool)) {
        if ((size_t)snprintf(pattern, sizeof(pattern), "%s/vg.*.xml", dir) >=
                sizeof(pattern) ||
            wr_tool_read_valgrind_glob(&r, pattern) <= 0)
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

/* How the gateway of node n ended, as a harness event: it died on its
 * own (a crash), or we stopped it (killed: it needed SIGKILL). A cluster's
 * instance says which it was. */
static void exit_event(wr_history_t *h, const wr_cluster_t *cl,
                       const wr_node_t *n, bool on_its_own, int64_t ns)
{
    json_t *o = on_its_own
                    ? json_pack("{s:s,s:I,s:i,s:i,s:b}", "event", "target.exit",
                                "ns", (json_int_t)ns, "code", n->t.exit_code,
                                "sig", n->t.sig, "stopped", 0)
                    : json_pack("{s:s,s:I,s:i,s:i,s:b,s:b}", "event",
                                "target.exit", "ns", (json_int_t)ns, "code",
                                n->t.exit_code, "sig", 0, "stopped", 1,
                                "killed", n->t.killed);

    if (cl->redis_on) {
        json_object_set_new(o, "instance", json_integer(n->instance));
        json_object_set_new(o, "incarnation", json_integer(n->incarnation));
    }
    harness_event(h, o);
}

/* The worse of two target states: a crash over a hang over a clean run. */
static wr_target_state_t worse_state(wr_target_state_t a, wr_target_state_t b)
{
    static const int rank[] = {[WR_TARGET_OK] = 0, [WR_TARGET_HUNG] = 1,
                               [WR_TARGET_CRASHED] = 2,
                               [WR_TARGET_NO_START] = 3,
                               [WR_TARGET_EXTERNAL] = 0};

    return rank[b] > rank[a] ? b : a;
}

/* Where case c's own scheduler listens: its gateway's --sync-control.
 * Known before the case runs, so that a warm spare can be started with
 * it. */
static void sched_path(const wr_case_t *c, char *path, size_t len)
{
    snprintf(path, len, "/tmp/wsrace-sched-%d-%zu.sock", (int)getpid(),
             c->index);
}

/* The scheduler of case c's sync points: the run's shared one (an
 * external gateway keeps its connection to it), restarted with the case's
 * strategy, or one of the case's own whose socket goes on the gateway's
 * command line. NULL when c is not controlled or on failure (then
 * c->target_error says why). */
static wr_sched_t *case_sched(wr_case_t *c, wr_sched_t *shared,
                              wr_argv_t *args, wr_sched_t *pre)
{
    char path[108];
    wr_sched_t *s = NULL;

    if (!c->controlled) {
        wr_sched_stop(pre);
        return NULL;
    }
    if (pre != NULL) {
        /* Started with this case's spare, at this case's path. */
        sched_path(c, path, sizeof(path));
        if (wr_sched_restart(pre, &c->sched) != 0 ||
            wr_argv_push(args, "--sync-control") != 0 ||
            wr_argv_push(args, path) != 0) {
            wr_sched_stop(pre);
            snprintf(c->target_error, sizeof(c->target_error),
                     "the scheduler could not restart");
            return NULL;
        }
        return pre;
    }
    if (shared != NULL) {
        if (wr_sched_restart(shared, &c->sched) == 0)
            return shared;
        snprintf(c->target_error, sizeof(c->target_error),
                 "the scheduler could not restart");
        return NULL;
    }
    sched_path(c, path, sizeof(path));
    if (wr_sched_start(&s, path, &c->sched) != 0) {
        snprintf(c->target_error, sizeof(c->target_error),
                 "cannot listen for sync control at %s", path);
        return NULL;
    }
    if (wr_argv_push(args, "--sync-control") != 0 ||
        wr_argv_push(args, path) != 0) {
        wr_sched_stop(s);
        return NULL;
    }
    return s;
}

/* Keeps what the scheduler saw of case c: its events in h, its releases
 * as the schedule that replays c. */
static void case_sched_done(wr_case_t *c, wr_sched_t *s, wr_history_t *h)
{
    wr_sched_stats_t st;

    wr_sched_record(s, h);
    wr_sched_stats(s, &st);
    harness_event(h, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i}",
                               "event", "sched.stats", "strategy",
                               wr_sched_kind_name(c->sched.kind), "arrivals",
                               (json_int_t)st.arrivals, "decisions",
                               (json_int_t)st.decisions, "forced",
                               (json_int_t)st.forced, "replayed",
                               (json_int_t)st.replayed, "freed",
                               (json_int_t)st.freed, "ahead",
                               (json_int_t)st.ahead, "diverged",
                               (json_int_t)st.diverged, "timeouts",
                               (json_int_t)st.timeouts, "targets",
                               st.targets));
    wr_schedule_clear(&c->recorded);
    c->recorded.kind = WR_SCHED_REPLAY;
    c->recorded.seed = c->sched.seed;
    c->recorded.depth = c->sched.depth;
    c->recorded.expected = (int)st.arrivals;
    c->recorded.nsteps = wr_sched_schedule(s, &c->recorded.steps);
    c->sched_arrivals = st.arrivals;
    c->sched_steps = c->sched.nsteps;
    c->sched_diverged = st.diverged;
    c->sched_ahead = st.ahead;
    c->interleaving = wr_schedule_hash(&c->recorded);
}

/* Whether case c's gateway may come from the pool: our own gateway,
 * alone (no Redis, one instance), under no wrapper and no tool. Any other
 * starts its own, as it always did. */
static bool warmable(const wr_case_t *c, const wr_run_opts_t *o)
{
    return o->url == NULL && o->wrapper == NULL && o->tool == WR_TOOL_NONE &&
           o->gateway != NULL && !wr_scenario_cluster(c->scenario) &&
           c->scenario->gateway.instances <= 1;
}

/* The gateway options of case c (dir: its directory) and its argument
 * list, as run_case builds them; the --sync-control path of a controlled
 * case included. */
static int case_target(const wr_case_t *c, const wr_run_opts_t *o,
                       const char *dir, wr_target_opts_t *to, wr_argv_t *args)
{
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    char path[108];
    int rc;

    memset(to, 0, sizeof(*to));
    to->path = o->gateway;
    to->dir = dir;
    to->wrapper = o->wrapper;
    to->secret = o->secret;
    to->start_timeout_ms = (int)(10000 * scale);
    rc = wr_target_gateway_args(args, c->scenario, &c->faults, c->seed,
                                c->no_sync);
    if (rc == 0 && c->controlled) {
        sched_path(c, path, sizeof(path));
        rc = wr_argv_push(args, "--sync-control");
        rc = rc ? rc : wr_argv_push(args, path);
    }
    to->args = args->v;
    return rc;
}

/* Starts the spare of the case that comes next in this process, if it
 * may have one. A failure costs nothing: that case starts its own. */
static void warm_next(const wr_warm_t *w, const wr_run_opts_t *o)
{
    wr_target_opts_t to;
    wr_argv_t args = {0};

    if (w == NULL || w->pool == NULL || w->next == NULL ||
        w->next_dir == NULL || !warmable(w->next, o))
        return;
    if (w->next->controlled) {
        /* Its gateway connects to it as it starts. */
        char path[108];

        if (w->sched == NULL || *w->sched != NULL)
            return;
        sched_path(w->next, path, sizeof(path));
        if (wr_sched_start(w->sched, path, &w->next->sched) != 0) {
            *w->sched = NULL;
            return;
        }
    }
    if (case_target(w->next, o, w->next_dir, &to, &args) == 0)
        (void)wr_pool_warm(w->pool, &to);
    wr_argv_free(&args);
}

/* Runs case c; its directory exists. Returns WR_STATUS_OK, or
 * WR_STATUS_INFRA when the target or the engine could not be run, or an
 * evidence file not written (the case still holds what is known). */
static wr_status_t run_case(wr_case_t *c, const wr_run_opts_t *o,
                            wr_sched_t *shared, const char *dir,
                            wr_history_t *h, const wr_warm_t *warm)
{
    wr_pool_t *pool = warm && warmable(c, o) ? warm->pool : NULL;
    wr_sched_t *sched = NULL;
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    wr_engine_opts_t eo = {0};
    wr_engine_stats_t es;
    wr_cluster_t cl;
    wr_argv_t args = {0};
    char host[64] = "127.0.0.1", path[256] = "/ws", file[PATH_MAX],
         wrap[PATH_MAX + 512];
    int port = 0;
    wr_status_t st = WR_STATUS_OK;
    int64_t t0 = wr_now_ns(), up_ns = 0, t_ask = 0;
    json_t *topology = NULL;

    memset(&cl, 0, sizeof(cl));
    memset(&es, 0, sizeof(es));
    if (o->url != NULL) {
        if (wr_target_parse_url(o->url, host, sizeof(host), &port, path,
                                sizeof(path)) != 0) {
            snprintf(c->target_error, sizeof(c->target_error),
                     "bad --url %s (want ws://HOST:PORT/PATH)", o->url);
            c->target_state = WR_TARGET_NO_START;
            return WR_STATUS_INFRA;
        }
        c->target_state = WR_TARGET_EXTERNAL;
        harness_event(
            h, json_pack("{s:s,s:s}", "event", "target.start", "url", o->url));
        if (c->controlled && shared == NULL) {
            /* An external gateway reaches a scheduler only through
             * --sync-control: without one the case runs uncontrolled,
             * and says so. */
            c->controlled = false;
            harness_event(h, json_pack("{s:s,s:s}", "event", "sched.absent",
                                       "why",
                                       "no --sync-control for the gateway "
                                       "at --url: its sync points ran "
                                       "free"));
        }
        if (c->controlled && (sched = case_sched(c, shared, NULL, NULL)) == NULL)
            return WR_STATUS_INFRA;
    } else {
        wr_target_opts_t to = {
            .path = o->gateway,
            .dir = dir,
            .wrapper = o->wrapper,
            .secret = o->secret,
            .start_timeout_ms = (int)(10000 * scale),
        };

        if (wr_tool_is_valgrind((wr_tool_t)o->tool)) {
            if (tool_wrapper(o, dir, wrap, sizeof(wrap)) != 0) {
                snprintf(c->target_error, sizeof(c->target_error),
                         "the valgrind command line is too long");
                c->target_state = WR_TARGET_NO_START;
                return WR_STATUS_INFRA;
            }
            to.wrapper = wrap;
        }
        if (wr_target_gateway_args(&args, c->scenario, &c->faults, c->seed,
                                   c->no_sync) != 0) {
            wr_argv_free(&args);
            snprintf(c->target_error, sizeof(c->target_error),
                     "out of memory");
            c->target_state = WR_TARGET_NO_START;
            return WR_STATUS_INFRA;
        }
        wr_sched_t *pre = NULL;

        if (warm != NULL && warm->sched != NULL) {
            pre = *warm->sched;
            *warm->sched = NULL;
        }
        if ((c->controlled || pre != NULL) &&
            (sched = case_sched(c, NULL, &args, pre)) == NULL &&
            c->controlled) {
            wr_argv_free(&args);
            c->target_state = WR_TARGET_NO_START;
            return WR_STATUS_INFRA;
        }
        t_ask = wr_now_ns();
        if (warm != NULL && pool == NULL)
            /* A spare started for this case's options could not be
             * this case's: none is kept. */
            wr_pool_drain(warm->pool, STOP_TIMEOUT_MS);
        if (wr_cluster_start_warm(&cl, c->scenario, &to, args.v, scale,
                                  pool) != 0) {
            const wr_node_t *n = cl.nnodes ? &cl.nodes[cl.nnodes - 1] : NULL;

            c->target_state = WR_TARGET_NO_START;
            snprintf(c->target_error, sizeof(c->target_error), "%s", cl.error);
            c->target_exit_code = n ? n->t.exit_code : -1;
            c->target_signal = n ? n->t.sig : 0;
            c->duration_ns = wr_now_ns() - t0;
            wr_cluster_free(&cl);
            wr_argv_free(&args);
            wr_sched_stop(sched);
            return WR_STATUS_INFRA;
        }
        for (size_t i = 0; i < cl.nnodes; i++) {
            const wr_target_t *t = &cl.nodes[i].t;
            json_t *ev = json_pack("{s:s,s:I,s:s,s:i,s:I}", "event",
                                   "target.start", "ns", (json_int_t)t->up_ns,
                                   "host", t->host, "port", t->port, "pid",
                                   (json_int_t)t->pid);

            if (cl.nodes[i].warm) {
                /* Started while the case before ran: when, and since
                 * when this case has it. */
                json_object_set_new(ev, "warm", json_true());
                json_object_set_new(ev, "spawn_ns",
                                    json_integer(t->spawn_ns));
            }

            if (cl.redis_on) {
                json_object_set_new(ev, "instance",
                                    json_integer(cl.nodes[i].instance));
                json_object_set_new(ev, "redis_port",
                                    json_integer(cl.redis.port));
            }
            harness_event(h, ev);
        }
        snprintf(host, sizeof(host), "%s", cl.nodes[0].t.host);
        port = cl.nodes[0].t.port;
        up_ns = cl.nodes[0].t.up_ns;
        /* Spawn to /healthz; for a cluster, of every instance. A warm
         * gateway was up before the case asked: what the case waited for
         * it, from the time it asked. */
        c->gateway_up_ns =
            cl.nodes[0].warm
                ? cl.nodes[0].t.up_ns - t_ask
                : cl.nodes[cl.nnodes - 1].t.up_ns - cl.nodes[0].t.spawn_ns;
        describe_topology(&cl, c);
    }

    eo.scenario = c->scenario;
    eo.host = host;
    eo.port = port;
    eo.path = path;
    eo.secret = o->secret;
    eo.seed = c->seed;
    eo.time_scale = scale;
    eo.stop = o->stop;
    eo.chaos = c->chaos.on ? &c->chaos : NULL;
    if (o->url == NULL && cl.redis_on) {
        eo.endpoints = cl.endpoints;
        eo.nendpoints = cl.instances;
        eo.nemesis = wr_cluster_nemesis;
        eo.nemesis_ctx = &cl;
    }
    watch_t watch = {.cl = &cl};
    pthread_t watcher;
    bool watching = o->url == NULL &&
                    pthread_create(&watcher, NULL, watch_main, &watch) == 0;
    atomic_int end_now = 0;
    wr_early_t *early = early_begin(c, o, &cl, scale, &eo, &end_now);
    wr_early_result_t er;

    if (wr_engine_run(&eo, h, &es) != 0) {
        snprintf(c->target_error, sizeof(c->target_error),
                 "the client engine could not start");
        st = WR_STATUS_INFRA;
    }
    wr_early_stop(early, &er);
    if (er.fired)
        harness_event(h, json_pack("{s:s,s:I,s:I,s:s}", "event", "early.end",
                                   "ns", (json_int_t)er.ns, "fail_ns",
                                   (json_int_t)er.fail_ns, "check",
                                   wsr_check_name((wsr_check_id_t)er.check)));
    if (watching) {
        atomic_store(&watch.done, 1);
        pthread_join(watcher, NULL);
    }
    if (o->url == NULL)
        /* The next case's gateway starts while this one ends (registry,
         * stop, trace, checks, evidence files): after its clients, whose
         * timing a process starting beside them would disturb. */
        warm_next(warm, o);
    c->clients = es.clients;
    c->established = es.established;
    c->steps_failed = es.steps_failed;

    if (o->url != NULL) {
        record_registry(h, host, port, scale, er.fired);
    } else {
        int64_t exit_ns = 0;
        json_t *log = NULL, *ev;
        size_t k;

        if (cl.redis_on)
            record_cluster_registry(h, &cl, scale);
        else if (wr_target_alive(&cl.nodes[0].t))
            record_registry(h, host, port, scale, er.fired);
        c->target_state = WR_TARGET_OK;
        c->target_exit_code = cl.nodes[0].t.exit_code;
        c->target_signal = 0;
        for (size_t i = 0; i < cl.nnodes; i++) {
            wr_node_t *n = &cl.nodes[i];
            int64_t ns;

            if (n->killed) /* by a nemesis step: instance.kill says so */
                continue;
            if (n->paused) {
                kill(-n->t.pgid, SIGCONT);
                n->paused = false;
            }
            if (!wr_target_alive(&n->t)) {
                /* It died on its own during the case; a wrapper's
                 * children may not have. */
                wr_target_sweep(&n->t, (int)(STOP_TIMEOUT_MS * scale));
                ns = n->t.exit_ns;
                exit_event(h, &cl, n, true, ns);
            } else {
                wr_target_stop(&n->t, (int)(STOP_TIMEOUT_MS * scale));
                ns = wr_now_ns();
                exit_event(h, &cl, n, false, ns);
            }
            exit_ns = ns > exit_ns ? ns : exit_ns;
            if (worse_state(c->target_state, n->t.state) != c->target_state) {
                c->target_state = n->t.state;
                c->target_exit_code = n->t.exit_code;
                c->target_signal = n->t.sig;
                if (n->t.state == WR_TARGET_HUNG)
                    snprintf(c->target_error, sizeof(c->target_error), "%s",
                             n->t.error);
            }
        }
        json_array_foreach(cl.events, k, ev)
        {
            char *line = json_dumps(ev, JSON_COMPACT);

            if (line != NULL)
                wr_history_add_line(h, WR_SRC_HARNESS, line);
            free(line);
        }
        if (cl.redis_on) {
            log = wr_cluster_log(&cl, 5000);
            if (log == NULL)
                harness_event(h, json_pack("{s:s,s:s}", "event",
                                           "target.registry_log_unavailable",
                                           "error", "Redis did not answer"));
        }
        if (o->tool != WR_TOOL_NONE)
            for (size_t i = 0; i < cl.nnodes; i++)
                if (!wr_tool_is_valgrind((wr_tool_t)o->tool) || i == 0)
                    read_tool(o, &cl.nodes[i].t, dir, h, exit_ns);
        for (size_t i = 0; i < cl.nnodes; i++) {
            /* Every gateway is gone: the zero bytes past a trace's last
             * event (a gateway that died) are cut off for good. */
            wr_trace_settle(cl.nodes[i].t.trace_path);
            if (wr_history_load_trace(h, cl.nodes[i].t.trace_path, NULL) >= 0)
                wr_history_set_has_trace(h, true);
        }
        if (log != NULL)
            add_registry_log(h, log);
        json_decref(log);
        topology = topology_json(&cl); /* every process, restarts too */
    }
    if (sched != NULL) {
        case_sched_done(c, sched, h);
        if (sched != shared)
            wr_sched_stop(sched);
    }
    harness_event(h, json_pack("{s:s}", "event", "case.end"));
    wr_history_sort(h);
    run_checks(c, h, scale, (wr_tool_t)o->tool, &er);
    if (c->first_fail_ns >= 0)
        c->first_fail_ns -= up_ns ? up_ns : es.start_ns;
    if (c->early_end)
        c->early_ns = er.ns - (up_ns ? up_ns : es.start_ns);
    c->duration_ns = wr_now_ns() - t0;
    /* The evidence files: a case whose history or replay file could not
     * be written cannot be trusted to a report. */
    if ((size_t)snprintf(file, sizeof(file), "%s/history.jsonl", dir) >=
            sizeof(file) ||
        wr_history_write(h, file) != 0) {
        snprintf(c->target_error, sizeof(c->target_error),
                 "could not write %.200s/history.jsonl", c->dir);
        st = WR_STATUS_INFRA;
    }
    {
        wr_replay_ctx_t rc = {
            .tool = o->tool ? wr_tool_name((wr_tool_t)o->tool) : NULL,
            .time_scale = scale,
            .target = o->url ? NULL : o->gateway,
            .url = o->url,
            .wrapper = o->wrapper,
            .gateway_args = args.v,
            .topology = cl.redis_on ? topology : NULL,
        };

        if ((size_t)snprintf(file, sizeof(file), "%s/replay.json", dir) >=
                sizeof(file) ||
            wr_replay_write(file, c, &rc) != 0) {
            snprintf(c->target_error, sizeof(c->target_error),
                     "could not write %.200s/replay.json", c->dir);
            st = WR_STATUS_INFRA;
        }
    }
    json_decref(topology);
    if (o->url == NULL)
        wr_cluster_free(&cl);
    wr_argv_free(&args);
    return st;
}

wr_status_t wr_run_case(wr_case_t *c, const wr_run_opts_t *o,
                        struct wr_sched *shared, const char *dir)
{
    return wr_run_case_warm(c, o, shared, dir, NULL);
}

wr_status_t wr_run_case_warm(wr_case_t *c, const wr_run_opts_t *o,
                             struct wr_sched *shared, const char *dir,
                             const wr_warm_t *warm)
{
    wr_history_t *h = wr_history_new();
    wr_status_t st;

    if (h == NULL) {
        snprintf(c->target_error, sizeof(c->target_error), "out of memory");
        return WR_STATUS_INFRA;
    }
    if (warm != NULL && warm->pool == NULL)
        warm = NULL;
    st = run_case(c, o, shared, dir, h, warm);
    keep_evidence(c, h);
    return st;
}

