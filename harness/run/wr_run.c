/* wr_run.c - The case loop: target, engine, history, checks, judge,
 * reports.
 *
 * Each case gets a fresh gateway (a crash in one case cannot leak into the
 * next) and its own directory, cases/<case-id>/, holding trace.jsonl,
 * history.jsonl, gateway.log and replay.json. The run directory is built
 * hidden in the store (run/wr_store.h) and published only when every
 * report file has been written; a run stopped by a signal removes it.
 *
 * Single-threaded, but for --jobs: the cases then run in child processes,
 * each writing its cases' directories and a partial summary.json that the
 * parent reads back. The engine's threads live only inside
 * wr_engine_run. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/wr_run.h"

#include "checks/wr_check.h"
#include "drive/wr_engine.h"
#include "drive/wr_target.h"
#include "drive/wr_tool.h"
#include "history/wr_history.h"
#include "judge/wr_judge.h"
#include "judge/wr_matrix.h"
#include "plan/wr_replay.h"
#include "report/wr_report.h"
#include "report/wr_summary.h"
#include "run/wr_store.h"

#define STOP_TIMEOUT_MS 5000
#define LEAK_GRACE_MS                                                          \
    1000 /* how long closes may take to reach the registry                     \
          */

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

/* Judges case c on its history: the expectations of its scenario and
 * faults, every check the scenario asks for (and the analysis checks of
 * the tool in use), and whether the verdicts met the expectations. */
static void run_checks(wr_case_t *c, const wr_history_t *h, double scale,
                       wr_tool_t tool)
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

        if (wr_history_add_line(small, ev->src, ev->line) != 0) {
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

/* Runs case c; its directory exists. Returns WR_STATUS_OK, or
 * WR_STATUS_INFRA when the target or the engine could not be run, or an
 * evidence file not written (the case still holds what is known). */
static wr_status_t run_case(wr_case_t *c, const wr_run_opts_t *o,
                            const char *dir, wr_history_t *h)
{
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    wr_engine_opts_t eo = {0};
    wr_engine_stats_t es;
    wr_target_t t;
    wr_argv_t args = {0};
    char host[64] = "127.0.0.1", path[256] = "/ws", file[PATH_MAX],
         wrap[PATH_MAX + 512];
    int port = 0;
    wr_status_t st = WR_STATUS_OK;
    int64_t t0 = wr_now_ns();

    memset(&t, 0, sizeof(t));
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
        to.args = args.v;
        if (wr_target_start(&t, &to) != 0) {
            c->target_state = WR_TARGET_NO_START;
            snprintf(c->target_error, sizeof(c->target_error), "%s", t.error);
            c->target_exit_code = t.exit_code;
            c->target_signal = t.sig;
            c->duration_ns = wr_now_ns() - t0;
            wr_argv_free(&args);
            return WR_STATUS_INFRA;
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
        st = WR_STATUS_INFRA;
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
        int64_t exit_ns;

        if (wr_target_alive(&t))
            record_registry(h, host, port, scale);
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
    run_checks(c, h, scale, (wr_tool_t)o->tool);
    if (c->first_fail_ns >= 0)
        c->first_fail_ns -= t.up_ns ? t.up_ns : es.start_ns;
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
        };

        if ((size_t)snprintf(file, sizeof(file), "%s/replay.json", dir) >=
                sizeof(file) ||
            wr_replay_write(file, c, &rc) != 0) {
            snprintf(c->target_error, sizeof(c->target_error),
                     "could not write %.200s/replay.json", c->dir);
            st = WR_STATUS_INFRA;
        }
    }
    wr_argv_free(&args);
    return st;
}

/* ------------------------------------------------------------------ */
/* Progress                                                             */
/* ------------------------------------------------------------------ */

static void print_case(const wr_case_t *c, size_t i, size_t n)
{
    char fails[256] = "";
    size_t used = 0;

    for (int k = 0; k < WSR_CHECK__COUNT && used < sizeof(fails); k++)
        if (c->ran[k] && c->results[k].verdict == WR_FAIL)
            used += (size_t)snprintf(fails + used, sizeof(fails) - used, "%s%s",
                                     used ? "," : "",
                                     wsr_check_name((wsr_check_id_t)k));
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

    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);
        int with = 0, hit = 0, without = 0, clean = 0;
        char label[64];

        for (size_t k = 0; k < run->ncases; k++) {
            const wr_case_t *c = &run->cases[k];

            if (wr_judge_targeted((wsr_fault_id_t)i, c)) {
                with++;
                hit += wr_judge_confirmed((wsr_fault_id_t)i, c);
            } else if (wr_judge_control((wsr_fault_id_t)i, c)) {
                without++;
                clean += wr_judge_absent((wsr_fault_id_t)i, c);
            }
        }
        if (with + without == 0)
            continue;
        if (!header) {
            printf("\n  %-34s %-16s %s\n", "bug", "reproduced",
                   "absent without injection");
            header = true;
        }
        snprintf(label, sizeof(label), "%s%s%s%s", f->name,
                 f->origin ? " (" : "", f->origin ? f->origin : "",
                 f->origin ? ")" : "");
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

/* ------------------------------------------------------------------ */
/* Running the cases: here, or in several processes                    */
/* ------------------------------------------------------------------ */

/* Runs the cases of run whose position p has p % step == first, writing
 * their directories into tmpdir. */
static wr_status_t run_cases(wr_run_t *run, const wr_run_opts_t *o,
                             const char *tmpdir, size_t first, size_t step)
{
    char casedir[PATH_MAX];
    wr_status_t st = WR_STATUS_OK;

    for (size_t ci = first; ci < run->ncases; ci += step) {
        wr_case_t *c = &run->cases[ci];
        wr_history_t *h;
        wr_status_t cs;
        int rc;

        if ((size_t)snprintf(casedir, sizeof(casedir), "%s/%s", tmpdir,
                             c->dir) >= sizeof(casedir)) {
            fprintf(stderr, "wsrace: %s/%s: path too long\n", tmpdir, c->dir);
            return WR_STATUS_INFRA;
        }
        if ((rc = wr_store_mkdirs(casedir)) != 0) {
            fprintf(stderr, "wsrace: cannot create %s: %s\n", casedir,
                    strerror(-rc));
            return WR_STATUS_INFRA;
        }
        if ((h = wr_history_new()) == NULL)
            return WR_STATUS_INFRA;
        cs = run_case(c, o, casedir, h);
        keep_evidence(c, h);
        if (o->stop && *o->stop)
            return WR_STATUS_INTERRUPTED;
        if (cs != WR_STATUS_OK)
            c->as_expected = false;
        st = wr_status_worse(st, cs != WR_STATUS_OK ? cs
                                 : c->as_expected ? WR_STATUS_OK
                                                  : WR_STATUS_UNEXPECTED);
        print_case(c, ci, run->ncases);
    }
    return st;
}

/* A job's part of the run: its cases only, as a run of its own, written
 * as dir/summary.json for the parent to read back. Returns 0 or negative
 * errno. */
static int write_job_summary(const wr_run_t *run, size_t first, size_t step,
                             const char *dir)
{
    wr_run_t part = *run;
    size_t n = 0;
    int rc;

    part.cases = calloc(run->ncases / step + 2, sizeof(wr_case_t));
    if (part.cases == NULL)
        return -ENOMEM;
    if ((rc = wr_store_mkdirs(dir)) != 0) {
        free(part.cases);
        return rc;
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

/* Moves the cases a job reported into run, by plan index. Returns 0 or
 * negative errno. */
static int collect_job(wr_run_t *run, const char *dir)
{
    wr_run_t part;
    char err[PATH_MAX + 256];
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

/* The exit status a job reports through the process: one byte. */
static int job_code(wr_status_t st)
{
    return (int)st;
}

/* Runs the cases in o->jobs child processes (case p in job p % jobs),
 * each writing its cases' directories into tmpdir and its verdicts into
 * tmpdir/.job-J/summary.json, then reads them back. A signal to the
 * parent is passed on to the jobs. */
static wr_status_t run_jobs(wr_run_t *run, const wr_run_opts_t *o,
                            const char *tmpdir)
{
    size_t jobs = (size_t)o->jobs < run->ncases ? (size_t)o->jobs : run->ncases;
    pid_t *pid = calloc(jobs, sizeof(*pid));
    int *code = calloc(jobs, sizeof(*code));
    wr_status_t st = WR_STATUS_OK;
    size_t left = 0;
    char dir[PATH_MAX + 32];

    if (pid == NULL || code == NULL) {
        free(pid);
        free(code);
        return WR_STATUS_INFRA;
    }
    fflush(stdout);
    fflush(stderr);
    for (size_t j = 0; j < jobs; j++) {
        pid_t parent = getpid();

        pid[j] = fork();
        if (pid[j] == 0) {
            wr_status_t r;

            /* A job dies with the harness, even by SIGKILL; its gateways'
             * lifelines then end with it. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(job_code(WR_STATUS_INTERRUPTED));
            r = run_cases(run, o, tmpdir, j, jobs);

            snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
            if (r != WR_STATUS_INTERRUPTED &&
                write_job_summary(run, j, jobs, dir) != 0)
                r = WR_STATUS_INFRA;
            fflush(stdout);
            _exit(job_code(r));
        }
        code[j] = pid[j] < 0 ? job_code(WR_STATUS_INFRA) : -1;
        left += pid[j] > 0;
    }
    while (left > 0) {
        bool stopping = o->stop && *o->stop;

        for (size_t j = 0; j < jobs; j++) {
            int ws;

            if (code[j] != -1)
                continue;
            if (stopping)
                kill(pid[j], SIGTERM);
            if (waitpid(pid[j], &ws, stopping ? 0 : WNOHANG) == pid[j]) {
                code[j] = WIFEXITED(ws) && WEXITSTATUS(ws) <=
                                               WR_STATUS_INTERRUPTED
                              ? WEXITSTATUS(ws)
                              : job_code(WR_STATUS_INFRA);
                left--;
            }
        }
        if (left > 0 && !stopping) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (size_t j = 0; j < jobs; j++)
        st = wr_status_worse(st, (wr_status_t)code[j]);
    if (st == WR_STATUS_INTERRUPTED || (o->stop && *o->stop)) {
        free(pid);
        free(code);
        return WR_STATUS_INTERRUPTED;
    }
    for (size_t j = 0; j < jobs; j++) {
        snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
        if (code[j] != (int)WR_STATUS_INFRA && collect_job(run, dir) != 0)
            st = WR_STATUS_INFRA;
        wr_store_rm_rf(dir);
    }
    free(pid);
    free(code);
    return st;
}

/* ------------------------------------------------------------------ */
/* Finishing: matrix, baseline, reports, publication                   */
/* ------------------------------------------------------------------ */

static void print_baseline(const wr_matrix_diff_t *d)
{
    printf("baseline %s: %zu regression(s), %zu improvement(s), %zu other "
           "change(s)\n",
           d->path, d->nregressions, d->nimprovements, d->nchanges);
    wr_matrix_diff_print(d, stdout, "  ", 20);
}

wr_status_t wr_run_finish(wr_run_t *run, const wr_run_opts_t *o,
                          const char *tmpdir, bool publish_latest,
                          wr_status_t st)
{
    char err[PATH_MAX + 256], root[PATH_MAX];
    int rc;

    run->matrix = calloc(1, sizeof(*run->matrix));
    if (run->matrix == NULL || wr_matrix_build(run, run->matrix) != 0) {
        free(run->matrix);
        run->matrix = NULL;
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INFRA;
    }
    if (!wr_matrix_ok(run->matrix))
        st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
    if (o->baseline != NULL) {
        run->baseline = calloc(1, sizeof(*run->baseline));
        if (run->baseline == NULL ||
            wr_matrix_compare(run->matrix, o->baseline, run->baseline, err,
                              sizeof(err)) != 0) {
            fprintf(stderr, "wsrace: baseline: %s\n", err);
            free(run->baseline);
            run->baseline = NULL;
            st = wr_status_worse(st, WR_STATUS_INFRA);
        } else if (run->baseline->nregressions > 0) {
            st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
        }
    }
    run->status = st;
    snprintf(root, sizeof(root), "%s", run->dir);
    if (strrchr(root, '/') != NULL)
        *strrchr(root, '/') = '\0';
    else
        snprintf(root, sizeof(root), ".");
    if ((rc = wr_report_write_all(run, tmpdir)) != 0 ||
        (rc = wr_store_publish(tmpdir, run->dir,
                               publish_latest ? root : NULL)) != 0) {
        fprintf(stderr, "wsrace: could not write the report in %s: %s\n",
                tmpdir, strerror(-rc));
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INFRA;
    }
    if (o->write_baseline != NULL &&
        (rc = wr_matrix_write_baseline(run->matrix, o->write_baseline)) != 0) {
        fprintf(stderr, "wsrace: could not write the baseline %s: %s\n",
                o->write_baseline, strerror(-rc));
        st = wr_status_worse(st, WR_STATUS_INFRA);
    }
    if (o->keep > 0)
        wr_store_prune(root, o->keep, run->id);
    print_bugs(run);
    if (o->print_matrix)
        wr_matrix_print(run->matrix, stdout);
    if (run->baseline != NULL)
        print_baseline(run->baseline);
    printf("report: %s/report.md\n", run->dir);
    printf("html:   %s/index.html\n", run->dir);
    return st;
}

wr_status_t wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scs,
                   size_t nscs, wr_run_t *run)
{
    wr_plan_opts_t po = o->plan;
    char tmpdir[PATH_MAX], err[1024];
    struct tm tm;
    time_t now = time(NULL);
    wr_status_t st;
    int rc;

    po.external = o->url != NULL;
    if (wr_plan_build(run, &po, scs, nscs, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace %s: %s\n", po.kind ? po.kind : "run", err);
        return WR_STATUS_BAD_INPUT;
    }
    {
        /* Connections open at once: the largest case times the cases
         * that run together. */
        size_t most = 0, together = o->jobs > 1 ? (size_t)o->jobs : 1;

        for (size_t i = 0; i < run->ncases; i++)
            if (wr_scenario_clients(run->cases[i].scenario) > most)
                most = wr_scenario_clients(run->cases[i].scenario);
        if (together > run->ncases)
            together = run->ncases;
        if (most * together > WR_RUN_CLIENTS_MAX) {
            fprintf(stderr,
                    "wsrace %s: %zu case(s) of up to %zu clients at once "
                    "(--jobs) would hold %zu connections, over the limit of "
                    "%d; use fewer --jobs\n",
                    po.kind ? po.kind : "run", together, most, most * together,
                    WR_RUN_CLIENTS_MAX);
            return WR_STATUS_BAD_INPUT;
        }
    }
    gmtime_r(&now, &tm);
    strftime(run->id, sizeof(run->id), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(run->id + strlen(run->id), sizeof(run->id) - strlen(run->id),
             "-%d", (int)getpid());
    if ((size_t)snprintf(run->dir, sizeof(run->dir), "%s/%s", o->report_root,
                         run->id) >= sizeof(run->dir) - 512) {
        fprintf(stderr, "wsrace: --report-dir %.60s...: the path is too long "
                        "for the case files under it\n",
                o->report_root);
        return WR_STATUS_BAD_INPUT;
    }
    snprintf(run->argv_text, sizeof(run->argv_text), "%s",
             o->argv_text ? o->argv_text : "");
    snprintf(run->target, sizeof(run->target), "%s",
             o->url ? o->url : o->gateway);
    snprintf(run->tool, sizeof(run->tool), "%s",
             o->tool ? wr_tool_name((wr_tool_t)o->tool) : "");
    run->started_unix = (int64_t)now;
    for (size_t i = 0; i < run->ncases; i++)
        wr_case_set_replay(&run->cases[i], o->self, run->dir);

    wr_store_sweep(o->report_root);
    if ((rc = wr_store_make_tmp(o->report_root, run->id, tmpdir,
                                sizeof(tmpdir))) != 0) {
        struct stat lst;
        bool link = lstat(o->report_root, &lst) == 0 && S_ISLNK(lst.st_mode);

        /* The store never follows a link as its last component (a link
         * planted there could point anywhere): a user's input error, as
         * is a name the file system cannot hold. */
        fprintf(stderr, "wsrace: cannot create the run directory under %s: "
                        "%s\n",
                o->report_root,
                link ? "it is a symbolic link; give the directory itself"
                     : strerror(-rc));
        return link || rc == -ENAMETOOLONG || rc == -ENOTDIR
                   ? WR_STATUS_BAD_INPUT
                   : WR_STATUS_INFRA;
    }

    int64_t t0 = wr_now_ns();
    if (o->jobs > 1 && run->ncases > 1)
        st = run_jobs(run, o, tmpdir);
    else
        st = run_cases(run, o, tmpdir, 0, 1);
    if (st == WR_STATUS_INTERRUPTED || (o->stop && *o->stop)) {
        fprintf(stderr, "wsrace: interrupted; no report written\n");
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INTERRUPTED;
    }
    run->duration_ns = wr_now_ns() - t0;
    return wr_run_finish(run, o, tmpdir, true, st);
}

void wr_run_free(wr_run_t *run)
{
    if (run->matrix != NULL)
        wr_matrix_free(run->matrix);
    free(run->matrix);
    run->matrix = NULL;
    if (run->baseline != NULL)
        wr_matrix_diff_free(run->baseline);
    free(run->baseline);
    run->baseline = NULL;
    wr_run_clear(run);
}
