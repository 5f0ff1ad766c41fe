/* wr_engine.c - Scenario clients on libwebsockets service threads.
 *
 * One worker per service thread owns one loop (drive/wr_loop.h: an lws
 * context on its own epoll loop) and the clients assigned to it; a client
 * is touched only by its worker's thread. What is shared across threads is
 * small and atomic: barrier arrival counters, the count of clients that
 * finished their steps, and each worker's wake flag. A thread that
 * releases a barrier (or finishes the last client) sets every worker's
 * wake flag and wakes its loop (wr_loop_wake(), safe from any thread);
 * each worker then advances its own waiting clients on its loop.
 *
 * Every step ends in bounded time: connect, expect, expect_close, barrier
 * and close have their `within`, sleep its length, probes an HTTP timeout,
 * and the scenario's timeout_ms bounds the whole run. A 20 ms tick on each
 * loop (2 ms when an early verdict may end the run) sees stop requests and
 * the end of the closing phase, and checks the step bounds of 500 ms or
 * more (see set_bound()).
 *
 * Events are recorded per worker, without locks, into a history of the
 * worker's own in its compact form (a few bytes an event, no JSON text:
 * history/wr_history.h), and handed to the case's history after the
 * threads are joined and the connections are gone.
 *
 * Over 1,100 lines, and one cohesive unit: the client state machine (a
 * step at a time), the lws callback that feeds it and the workers that
 * serve both share one client structure and its invariants; split, each
 * part would reach into the others' fields. */
#include <errno.h>
#include <libwebsockets.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsr_token.h"
#include "drive/wr_engine.h"
#include "drive/wr_loop.h"
#include "drive/wr_target.h"
#include "history/wr_clock.h"

#define TICK_US          (20 * 1000)
#define TICK_EARLY_US    (2 * 1000) /* when o->end may be set */
#define BOUND_MIN_MS     500 /* step bounds this long are checked by the tick */
#define AFTER_TIMEOUT_MS 250 /* a wait's bound once one of the client's ran
                                out (wait_bound) */
#define CLOSE_GRACE_MS   3000 /* closing phase bound, before time_scale */
#define PROBE_TIMEOUT_MS 2000
#define RX_MAX           (1 << 20) /* larger server messages are cut and reported */

/* Connections per service thread when the caller does not choose, within
 * WR_ENGINE_PER_THREAD. On epoll a wake-up no longer costs every
 * descriptor of the context, but lws still keeps one linearly sorted list
 * of the timeouts it sets during each handshake per context, and looks a
 * descriptor up in a table as long as the context's connections: at
 * 10,000 connections, 250 per context took 3.5-3.7 s of CPU, 500 took
 * 3.6-4.1 s, 1,000 took 3.9-4.2 s (a loaded machine). Scenarios of up to
 * 500 clients still get two threads. */
#define CONNS_PER_THREAD 250

typedef struct engine engine_t;
typedef struct worker worker_t;

/* One named barrier. `expected` is fixed before the threads start. */
typedef struct {
    const char *name;
    int expected;        /* arrivals that release it */
    atomic_int arrived;  /* arrivals so far */
    atomic_int released; /* set once, by the last arrival */
} barrier_t;

/* One queued outgoing frame. */
typedef struct out_msg {
    struct out_msg *next;
    char *text;
    char *msg_type;       /* for the record: "user_message", or NULL (raw) */
    char *correlation_id; /* for the record, or NULL */
    bool chaos;           /* a chaos burst message */
} out_msg_t;

/* One of these is created for each scenario client. Only its worker's
 * thread touches it after the threads start. */
typedef struct {
    worker_t *w;
    const wr_group_t *grp;
    int g, i; /* index in the scenario, in the group */
    int instance; /* the gateway instance it connects to */
    char *user, *token;
    char *session; /* as asked for; "": none, the gateway generates one */
    uint64_t rng;       /* seeded per client */
    size_t step;        /* current step */
    bool waiting;       /* the current step waits for an event */
    barrier_t *barrier; /* barrier being waited on */
    struct lws *wsi;
    bool connecting, open;
    bool closing;   /* we asked to close */
    bool finished;  /* every step done */
    int peer_close; /* code of the peer's close frame, 0: none */
    /* Its reason text, when it gave one (heap, rare). lws 4.1.6's client
     * hands over codes 1012-1015 (1013 "try again later" among them) as
     * 1002 but keeps the reason, which then says what was meant. */
    char *peer_reason;
    int last_close; /* code the connection ended with, 0: open */
    char *rx;       /* partial frame */
    size_t rx_len;
    json_t *inbox; /* received messages not yet expected */
    out_msg_t *out_head, *out_tail;
    wr_timer_t timer;     /* step timer */
    int64_t bound_ns;     /* step bound checked by the tick; 0: none */
    wr_timer_fn bound_cb; /* what runs when bound_ns has passed */
    /* What the gateway still owes this connection: the correlation ids of
     * the user_messages sent on it that no agent_completed or
     * error_message has answered yet. */
    char **pending;
    size_t npending, cappending;
    bool draining;       /* waiting for pending answers before a close */
    size_t drained_step; /* the step a drain was done for; SIZE_MAX: none */
    int64_t drain_start_ns;
    int failed_steps;      /* steps of this client that were not met */
    bool timed_out;        /* a wait of this client ran out its bound */
    const char *last_recv; /* type of the last message received (static) */
    /* Chaos (see wr_engine.h); drawn once, at set-up, from chaos_rng. */
    uint64_t chaos_rng;
    size_t first_connect;  /* index of the first connect step */
    size_t chaos_close_at; /* close before this step; SIZE_MAX: never */
    bool chaos_reconnect;  /* after that close, connect again */
    int chaos_burst;       /* user_messages sent right after the upgrade */
    bool chaos_done;       /* the chaos close happened */
    bool chaos_closing;    /* the close under way is the chaos one */
    int chaos_waited;      /* polls for the old session to go */
    int chaos_seq;         /* numbers chaos correlation ids */
} client_t;

/* One of these is created for each service thread. */
struct worker {
    engine_t *e;
    int idx;
    pthread_t th;
    wr_loop_t *loop;
    struct lws_context *ctx; /* the loop's */
    wr_timer_t tick;
    client_t **clients;
    size_t nclients;
    atomic_int wake; /* a barrier released or the run ended */
    int open;        /* connections open or connecting */
    bool closing_phase;
    int64_t close_deadline;
    wr_history_t *rec;    /* recorded events */
    size_t kept;          /* events recorded before the loop was destroyed */
    wr_engine_stats_t st; /* this worker's share of the stats */
};

struct engine {
    const wr_engine_opts_t *o;
    const wr_chaos_t *chaos; /* in force: opts' or the scenario's */
    double scale;
    worker_t *workers;
    int nworkers;
    client_t *clients;
    size_t nclients;
    barrier_t *barriers;
    size_t nbarriers;
    atomic_int finished; /* clients that finished their steps */
    atomic_int ending;   /* every client finished, or time is up */
    int64_t deadline;    /* scenario timeout */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* splitmix64: small, seedable, good enough for schedules. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The endpoint of gateway instance k. */
static wr_endpoint_t endpoint(const engine_t *e, int k)
{
    if (e->o->endpoints != NULL && k >= 0 && k < e->o->nendpoints)
        return e->o->endpoints[k];
    return (wr_endpoint_t){e->o->host, e->o->port};
}

static int scaled(const engine_t *e, int ms)
{
    double v = ms * e->scale;

    return v > 2e9 ? 2000000000 : (int)v;
}

static void *lws_realloc_cb(void *ptr, size_t size, const char *reason)
{
    (void)reason;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

/* Appends one event of client c (fields stolen, may be NULL): its line is
 * the fields, then the client's own members. */
static void record(client_t *c, const char *event, const char *type,
                   json_t *fields)
{
    wr_history_t *r = c->w->rec;
    bool has_key = false;
    const char *name;
    json_t *v;

    wr_history_begin(r, WR_SRC_CLIENT);
    json_object_foreach(fields, name, v)
    {
        wr_history_put_json(r, name, v);
        has_key = has_key || strcmp(name, "key") == 0;
    }
    json_decref(fields);
    wr_history_put_str(r, "src", "client");
    wr_history_put_int(r, "ns", wr_now_ns());
    wr_history_put_int(r, "client", c->g);
    wr_history_put_str(r, "event", event);
    if (type != NULL)
        wr_history_put_str(r, "type", type);
    if (c->session[0] != '\0') { /* none when the gateway generates it */
        if (!has_key)
            wr_history_put_str(r, "key", c->session);
        wr_history_put_str(r, "session", c->session);
    }
    wr_history_put_str(r, "user", c->user);
    wr_history_put_str(r, "group", c->grp->name);
    wr_history_put_int(r, "thread", c->w->idx);
    /* Out of memory: the event is lost, as before. */
    if (wr_history_end(r) == 0 && c->w->e->o->tap != NULL) {
        wr_event_t ev;

        c->w->e->o->tap(c->w->e->o->tap_ctx,
                        wr_history_get(r, wr_history_len(r) - 1, &ev) == 0
                            ? wr_event_line(&ev)
                            : NULL);
    }
}

static void step_failed(client_t *c, const wr_step_t *s, const char *why)
{
    c->w->st.steps_failed++;
    c->failed_steps++;
    record(c, "client.step_failed", "fail",
           json_pack("{s:s,s:i,s:i,s:i,s:s,s:s?}", "step",
                     wr_step_kind_name(s->kind), "index", (int)c->step,
                     "line", s->line, "column", s->column, "error", why,
                     "last_recv", c->last_recv));
}

/* An expect step that was not met: why is "timeout" or "connection
 * closed". */
static void expect_failed(client_t *c, const wr_step_t *s, const char *why)
{
    record(c, "client.expect", "fail",
           json_pack("{s:s,s:i,s:s}", "msg_type", s->msg_type, "within_ms",
                     s->within_ms, "error", why));
    step_failed(c, s, why);
}

static void out_msg_free(out_msg_t *m)
{
    free(m->text);
    free(m->msg_type);
    free(m->correlation_id);
    free(m);
}

/* Drops every frame still queued (the connection is gone). */
static void drop_outgoing(client_t *c)
{
    while (c->out_head != NULL) {
        out_msg_t *m = c->out_head;

        c->out_head = m->next;
        out_msg_free(m);
    }
    c->out_tail = NULL;
}

/* ------------------------------------------------------------------ */
/* What the gateway owes                                               */
/* ------------------------------------------------------------------ */

static void pending_add(client_t *c, const char *cid)
{
    char *copy = strdup(cid);

    if (copy == NULL)
        return;
    if (c->npending == c->cappending) {
        size_t cap = c->cappending ? c->cappending * 2 : 8;
        char **p = realloc(c->pending, cap * sizeof(*p));

        if (p == NULL) {
            free(copy);
            return;
        }
        c->pending = p;
        c->cappending = cap;
    }
    c->pending[c->npending++] = copy;
}

/* Takes cid off the pending list; whether it was there. */
static bool pending_answered(client_t *c, const char *cid)
{
    for (size_t k = 0; k < c->npending; k++) {
        if (strcmp(c->pending[k], cid) != 0)
            continue;
        free(c->pending[k]);
        c->pending[k] = c->pending[--c->npending];
        return true;
    }
    return false;
}

static void pending_clear(client_t *c)
{
    for (size_t k = 0; k < c->npending; k++)
        free(c->pending[k]);
    c->npending = 0;
}

static void run_steps(client_t *c);

/* A timer that must fire on time (a sleep, a start jitter). */
static void set_timer(client_t *c, int ms, wr_timer_fn cb)
{
    c->bound_ns = 0;
    wr_timer_start(&c->timer, (int64_t)ms * 1000, cb);
}

/* A bound on a step (connect, expect, barrier, close `within`): cb runs
 * once ms have passed with the step still waiting. Bounds of BOUND_MIN_MS
 * or more are checked by the worker's tick, so they end up to one tick
 * late; shorter ones are timers of the loop. Why: a bound on every client
 * is armed and disarmed at each step, and a sweep every 20 ms costs less
 * than that (it was a fifth of a service thread's CPU when the timers
 * were lws's, one linearly sorted list per context; libev's heap is
 * cheaper, the sweep cheaper still). */
static void set_bound(client_t *c, int ms, wr_timer_fn cb)
{
    if (ms < BOUND_MIN_MS) {
        set_timer(c, ms, cb);
        return;
    }
    wr_timer_stop(&c->timer);
    c->bound_ns = wr_now_ns() + (int64_t)ms * 1000000;
    c->bound_cb = cb;
}

static void cancel_timer(client_t *c)
{
    c->bound_ns = 0;
    wr_timer_stop(&c->timer);
}

/* The bound of a wait of step s: its `within`, scaled; once one of the
 * client's waits has run out, at most AFTER_TIMEOUT_MS. The case has
 * failed at that step already, and a gateway that did not answer once
 * (a machine that never became ready) would only make every later wait
 * run its full bound too: that was most of a fault row's time. */
static int wait_bound(const client_t *c, const wr_step_t *s)
{
    int ms = scaled(c->w->e, s->within_ms);
    int cap = scaled(c->w->e, AFTER_TIMEOUT_MS);

    return c->timed_out && ms > cap ? cap : ms;
}

/* Ends the current step and goes on with the next ones. */
static void step_done(client_t *c)
{
    cancel_timer(c);
    c->waiting = false;
    c->barrier = NULL;
    c->step++;
    run_steps(c);
}

/* ------------------------------------------------------------------ */
/* Matching received messages                                          */
/* ------------------------------------------------------------------ */

/* The member at a dotted path ("data.connection_ready"), or NULL. */
static json_t *at_path(json_t *o, const char *path)
{
    char buf[256], *save = NULL, *part;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part && o;
         part = strtok_r(NULL, ".", &save))
        o = json_is_object(o) ? json_object_get(o, part) : NULL;
    return o;
}

/* Whether msg has type and every match member (templates expanded). */
static bool matches(const client_t *c, json_t *msg, const wr_step_t *s)
{
    const char *path;
    json_t *want;

    if (!json_is_string(json_object_get(msg, "type")) ||
        strcmp(json_string_value(json_object_get(msg, "type")), s->msg_type) !=
            0)
        return false;
    json_object_foreach(s->match, path, want)
    {
        json_t *got = at_path(msg, path);
        bool eq;

        if (got == NULL)
            return false;
        if (json_is_string(want)) {
            char *x = wr_scenario_expand(json_string_value(want), c->i, c->g,
                                         c->user, c->session, c->w->e->o->seed);
            eq = json_is_string(got) && x &&
                 strcmp(json_string_value(got), x) == 0;
            free(x);
        } else {
            eq = json_equal(got, want);
        }
        if (!eq)
            return false;
    }
    return true;
}

/* Consumes the first inbox message matching step s. */
static bool take_match(client_t *c, const wr_step_t *s)
{
    for (size_t k = 0; k < json_array_size(c->inbox); k++) {
        if (matches(c, json_array_get(c->inbox, k), s)) {
            json_array_remove(c->inbox, k);
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Barriers and the end of the run                                     */
/* ------------------------------------------------------------------ */

static void wake_all(engine_t *e)
{
    for (int k = 0; k < e->nworkers; k++) {
        atomic_store(&e->workers[k].wake, 1);
        if (e->workers[k].loop != NULL)
            wr_loop_wake(e->workers[k].loop);
    }
}

static barrier_t *find_barrier(engine_t *e, const char *name)
{
    for (size_t k = 0; k < e->nbarriers; k++)
        if (strcmp(e->barriers[k].name, name) == 0)
            return &e->barriers[k];
    return NULL;
}

static void client_finished(client_t *c)
{
    engine_t *e = c->w->e;

    if (c->finished)
        return;
    c->finished = true;
    record(c, "client.finished", "info",
           json_pack("{s:i,s:i}", "count", (int)c->grp->nsteps, "failed",
                     c->failed_steps));
    if (atomic_fetch_add(&e->finished, 1) + 1 == (int)e->nclients) {
        atomic_store(&e->ending, 1);
        wake_all(e);
    }
}

/* A client that gives up its steps from step `from` on (a chaos close
 * without a reconnect) leaves the barriers it would have reached: each
 * counts as arrived, so the clients still running are not held for it. */
static void leave_barriers(client_t *c, size_t from)
{
    engine_t *e = c->w->e;

    for (size_t k = from; k < c->grp->nsteps; k++) {
        const wr_step_t *s = &c->grp->steps[k];
        barrier_t *b;

        if (s->kind != WR_STEP_BARRIER || (b = find_barrier(e, s->name)) == NULL)
            continue;
        if (atomic_fetch_add(&b->arrived, 1) + 1 >= b->expected &&
            !atomic_exchange(&b->released, 1))
            wake_all(e);
    }
}

/* Advances this worker's clients whose barrier has been released. */
static void on_wake(worker_t *w)
{
    for (size_t k = 0; k < w->nclients; k++) {
        client_t *c = w->clients[k];

        if (c->waiting && c->barrier != NULL &&
            atomic_load(&c->barrier->released)) {
            record(c, "client.barrier", "ok",
                   json_pack("{s:s}", "name", c->barrier->name));
            step_done(c);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

static void step_timeout_cb(wr_timer_t *t)
{
    client_t *c = lws_container_of(t, client_t, timer);
    const wr_step_t *s = &c->grp->steps[c->step];

    if (!c->waiting)
        return;
    c->timed_out = s->kind != WR_STEP_SLEEP;
    switch (s->kind) {
    case WR_STEP_SLEEP:
        break;
    case WR_STEP_BARRIER:
        record(c, "client.barrier", "fail",
               json_pack("{s:s,s:s}", "name", s->name, "error", "timeout"));
        step_failed(c, s, "barrier timeout");
        break;
    case WR_STEP_EXPECT:
        expect_failed(c, s, "timeout");
        break;
    case WR_STEP_EXPECT_CLOSE:
        record(c, "client.expect_close", "fail",
               json_pack("{s:i,s:s}", "want", s->code, "error", "timeout"));
        step_failed(c, s, "timeout");
        break;
    case WR_STEP_CONNECT:
        record(c, "client.connect", "fail",
               json_pack("{s:s,s:i}", "error", "timeout", "code", -1));
        step_failed(c, s, "connect timeout");
        break;
    default:
        step_failed(c, s, "timeout");
        break;
    }
    step_done(c);
}

static void start_cb(wr_timer_t *t)
{
    run_steps(lws_container_of(t, client_t, timer));
}

static void start_connect(client_t *c, const wr_step_t *s)
{
    engine_t *e = c->w->e;
    struct lws_client_connect_info ci;
    wr_endpoint_t ep = endpoint(e, c->instance);

    memset(&ci, 0, sizeof(ci));
    ci.context = c->w->ctx;
    ci.address = ep.host;
    ci.port = ep.port;
    ci.path = e->o->path;
    ci.host = ep.host;
    ci.origin = ep.host;
    ci.protocol = NULL;
    ci.local_protocol_name = "wsrace-client";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    c->peer_close = 0;
    free(c->peer_reason);
    c->peer_reason = NULL;
    c->last_close = 0;
    c->closing = false;
    c->connecting = true;
    c->w->open++;
    if (e->o->endpoints != NULL)
        record(c, "client.connect", "invoke",
               json_pack("{s:s,s:i}", "token",
                         wr_token_kind_name(c->grp->token), "instance",
                         c->instance));
    else
        record(c, "client.connect", "invoke",
               json_pack("{s:s}", "token", wr_token_kind_name(c->grp->token)));
    c->waiting = true;
    set_bound(c, scaled(e, s->within_ms), step_timeout_cb);
    if (lws_client_connect_via_info(&ci) == NULL && c->connecting) {
        /* At the descriptor limit lws returns NULL with no callback. */
        c->connecting = false;
        c->wsi = NULL;
        c->w->open--;
        c->w->st.connect_errors++;
        c->last_close = -1;
        record(c, "client.connect", "fail",
               json_pack("{s:s,s:i}", "error", "connect refused by lws", "code",
                         -1));
        step_failed(c, s, "connect failed");
        step_done(c);
    }
}

/* Asks gateway instance `at` whether key is ready (GET
 * /debug/ready?id=KEY) and records the answer; why is NULL for a step,
 * "chaos" for chaos. Returns 1 for an answer of registered, 0 for one of
 * not registered, -1 for no answer. */
static int probe_key(client_t *c, const char *key, const char *why, int at)
{
    engine_t *e = c->w->e;
    char path[512], *body = NULL, enc[sizeof(path) - 16];
    json_t *j = NULL;
    int st, registered = -1;
    wr_endpoint_t ep = endpoint(e, at);

    /* The key is percent-encoded: "s&x=1" is one id, not an id "s" and an
     * argument x. */
    if (wr_url_encode(key, enc, sizeof(enc)) != 0) {
        record(c, "client.probe", "fail",
               json_pack("{s:s,s:i,s:s,s:s?}", "key", key, "code", -1,
                         "error", "key too long to probe", "why", why));
        return -1;
    }
    snprintf(path, sizeof(path), "/debug/ready?id=%s", enc);
    /* The request's moment, so that the answer can be judged against what
     * the registry held between it and the answer. */
    record(c, "client.probe", "invoke",
           json_pack("{s:s,s:s?}", "key", key, "why", why));
    /* Blocking, on loopback, bounded: a probe holds this thread's other
     * clients for well under a millisecond. */
    st = wr_http_get(ep.host, ep.port, path, scaled(e, PROBE_TIMEOUT_MS),
                     &body);
    if (st == 200)
        j = json_loads(body, 0, NULL);
    if (j != NULL && json_is_boolean(json_object_get(j, "ready"))) {
        json_t *f;

        registered = json_is_true(json_object_get(j, "registered"));
        f = json_pack("{s:s,s:O,s:O,s:s?}", "key", key, "registered",
                      json_object_get(j, "registered"), "ready",
                      json_object_get(j, "ready"), "why", why);
        if (e->o->endpoints != NULL) /* which instance answered */
            json_object_set_new(f, "instance", json_integer(at));
        record(c, "client.probe", "ok", f);
    } else {
        record(c, "client.probe", "fail",
               json_pack("{s:s,s:i,s:s,s:s?}", "key", key, "code", st,
                         "error", "no readiness answer", "why", why));
    }
    json_decref(j);
    free(body);
    return registered;
}

static void probe(client_t *c, const wr_step_t *s)
{
    engine_t *e = c->w->e;
    char *key =
        wr_scenario_expand(s->key, c->i, c->g, c->user, c->session, e->o->seed);

    int at = s->instance != NULL
                 ? wr_scenario_instance(e->o->scenario, c->grp, s, c->i, c->g,
                                        c->user, c->session, e->o->seed)
                 : c->instance;

    if (probe_key(c, key ? key : "", NULL, at) < 0)
        step_failed(c, s, "probe failed");
    free(key);
}

/* A nemesis step: the runner acts on an instance, bounded; the client
 * goes on once it is done. */
static void nemesis(client_t *c, const wr_step_t *s)
{
    engine_t *e = c->w->e;
    char err[256] = "no cluster to act on";
    int rc = e->o->nemesis != NULL
                 ? e->o->nemesis(e->o->nemesis_ctx, s->kind, s->target, err,
                                 sizeof(err))
                 : -ENOTSUP;

    if (rc == 0) {
        record(c, "client.nemesis", "ok",
               json_pack("{s:s,s:i}", "step", wr_step_kind_name(s->kind),
                         "instance", s->target));
        return;
    }
    record(c, "client.nemesis", "fail",
           json_pack("{s:s,s:i,s:s}", "step", wr_step_kind_name(s->kind),
                     "instance", s->target, "error", err));
    step_failed(c, s, err);
}

/* ------------------------------------------------------------------ */
/* Draining and chaos                                                  */
/* ------------------------------------------------------------------ */

static void drain_done(client_t *c, bool ok, const char *why)
{
    cancel_timer(c);
    c->draining = false;
    c->waiting = false;
    c->drained_step = c->step;
    record(c, "client.drain", ok ? "ok" : "fail",
           json_pack("{s:i,s:f,s:s?}", "left", (int)c->npending, "waited_ms",
                     (double)(wr_now_ns() - c->drain_start_ns) / 1e6, "error",
                     why));
}

static void drain_timeout_cb(wr_timer_t *t)
{
    client_t *c = lws_container_of(t, client_t, timer);

    if (!c->draining)
        return;
    drain_done(c, false, "timeout");
    run_steps(c);
}

/* Before a close (a close step, or the end of the steps): when the
 * gateway still owes answers on the open connection, waits for them, up
 * to the scenario's drain_ms. Returns whether it waits. */
/* Whether a user_message with a correlation id waits in the outgoing
 * queue: written before the close, it will be owed an answer too. */
static bool queued_owed(const client_t *c)
{
    for (const out_msg_t *m = c->out_head; m != NULL; m = m->next)
        if (m->correlation_id != NULL && m->msg_type != NULL &&
            strcmp(m->msg_type, "user_message") == 0)
            return true;
    return false;
}

static bool start_drain(client_t *c)
{
    engine_t *e = c->w->e;
    int ms = e->o->scenario->drain_ms;

    if (!c->open || (c->npending == 0 && !queued_owed(c)) || ms <= 0 ||
        c->drained_step == c->step)
        return false;
    c->draining = true;
    c->waiting = true;
    c->drain_start_ns = wr_now_ns();
    record(c, "client.drain", "invoke",
           json_pack("{s:i}", "pending", (int)c->npending));
    ms = scaled(e, ms);
    if (c->timed_out && ms > scaled(e, AFTER_TIMEOUT_MS))
        ms = scaled(e, AFTER_TIMEOUT_MS);
    set_bound(c, ms, drain_timeout_cb);
    return true;
}

/* A probe of this client's own key, another client's or a key nobody
 * holds, at random: chaos between steps. */
static void chaos_probe(client_t *c)
{
    engine_t *e = c->w->e;
    uint64_t r;
    char key[160];

    if (e->chaos == NULL || e->chaos->probe_percent <= 0 ||
        (int)(next_rand(&c->chaos_rng) % 100) >= e->chaos->probe_percent)
        return;
    r = next_rand(&c->chaos_rng);
    if (r % 3 == 0 && c->session[0] != '\0')
        snprintf(key, sizeof(key), "%s", c->session);
    else if (r % 3 == 1 && e->clients[(r / 3) % e->nclients].session[0])
        snprintf(key, sizeof(key), "%s",
                 e->clients[(r / 3) % e->nclients].session);
    else /* an absent key; also for a client that names no session */
        snprintf(key, sizeof(key), "absent-%llu-%d-%d",
                 (unsigned long long)e->o->seed, c->g, c->chaos_seq++);
    probe_key(c, key, "chaos", c->instance);
}

static void chaos_close_timeout_cb(wr_timer_t *t)
{
    client_t *c = lws_container_of(t, client_t, timer);

    if (!c->chaos_closing)
        return;
    /* The close did not complete in time: give the client up. */
    c->chaos_closing = false;
    c->waiting = false;
    record(c, "client.abandoned", "info",
           json_pack("{s:i,s:s,s:s}", "step", (int)c->step, "why", "chaos",
                     "error", "close timeout"));
    leave_barriers(c, c->step);
    c->step = c->grp->nsteps;
    client_finished(c);
}

/* Before step k: the chaos close, when this is its moment. Returns
 * whether the client now waits for its connection to go. */
static bool chaos_before_step(client_t *c)
{
    if (c->chaos_done || c->step != c->chaos_close_at)
        return false;
    c->chaos_done = true;
    if (!c->open)
        return false;
    c->chaos_closing = true;
    c->closing = true;
    record(c, "client.close", "invoke",
           json_pack("{s:s,s:i}", "why", "chaos", "pending",
                     (int)c->npending));
    lws_callback_on_writable(c->wsi);
    c->waiting = true;
    set_bound(c, scaled(c->w->e, 5000), chaos_close_timeout_cb);
    return true;
}

/* Polls until the gateway no longer holds this client's session (its
 * old connection's close has run), then connects again and replays the
 * steps from the first connect. A gateway that keeps the session longer
 * than the bound gets the reconnect anyway (and may refuse it). */
static void chaos_reconnect_cb(wr_timer_t *t)
{
    client_t *c = lws_container_of(t, client_t, timer);
    /* A client that names no session gets a new one: nothing to wait for. */
    int registered = c->session[0] != '\0'
                         ? probe_key(c, c->session, "chaos", c->instance)
                         : 0;

    if (registered == 1 && ++c->chaos_waited * 20 < scaled(c->w->e, 2000)) {
        set_timer(c, 20, chaos_reconnect_cb);
        return;
    }
    record(c, "client.reconnect", "info",
           json_pack("{s:s,s:i}", "why", "chaos", "waited_ms",
                     c->chaos_waited * 20));
    c->waiting = false;
    c->step = c->first_connect;
    c->drained_step = SIZE_MAX;
    pending_clear(c);
    /* The steps replayed on the new connection expect its answers: what
     * the old one received (kept for a later expect) must not meet them,
     * or the close step comes before the answers it promised. */
    json_array_clear(c->inbox);
    run_steps(c);
}

/* The chaos close is done: reconnect, or give up the rest of the steps. */
static void chaos_after_close(client_t *c)
{
    c->chaos_closing = false;
    cancel_timer(c);
    if (c->chaos_reconnect && !atomic_load(&c->w->e->ending)) {
        c->chaos_waited = 0;
        set_timer(c, 1, chaos_reconnect_cb);
        return;
    }
    c->waiting = false;
    record(c, "client.abandoned", "info",
           json_pack("{s:i,s:s}", "step", (int)c->step, "why", "chaos"));
    leave_barriers(c, c->step);
    c->step = c->grp->nsteps;
    client_finished(c);
}

static out_msg_t *enqueue(client_t *c, char *text, const char *type,
                          const char *cid)
{
    out_msg_t *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        free(text);
        return NULL;
    }
    m->text = text;
    m->msg_type = type ? strdup(type) : NULL;
    m->correlation_id = cid ? strdup(cid) : NULL;
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    lws_callback_on_writable(c->wsi);
    return m;
}

/* Expands every string of a JSON value in place. */
static void expand_json(client_t *c, json_t *v)
{
    const char *k;
    json_t *x;
    size_t idx;

    if (json_is_string(v)) {
        char *s = wr_scenario_expand(json_string_value(v), c->i, c->g, c->user,
                                     c->session, c->w->e->o->seed);
        if (s != NULL)
            json_string_set(v, s);
        free(s);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) expand_json(c, x);
    } else if (json_is_array(v)) {
        json_array_foreach(v, idx, x) expand_json(c, x);
    }
}

static void send_step(client_t *c, const wr_step_t *s)
{
    if (!c->open) {
        step_failed(c, s, "send on a closed connection");
        return;
    }
    if (s->raw != NULL) {
        enqueue(c, strdup(s->raw), NULL, NULL);
        return;
    }
    json_t *m = json_deep_copy(s->message);
    expand_json(c, m);
    enqueue(c, json_dumps(m, JSON_COMPACT),
            json_string_value(json_object_get(m, "type")),
            json_string_value(json_object_get(m, "correlation_id")));
    json_decref(m);
}

/* Whether the connection ended as expect_close step s wants. */
static void judge_close(client_t *c, const wr_step_t *s)
{
    bool ok = s->code == 0 || s->code == c->last_close;

    record(c, "client.expect_close", ok ? "ok" : "fail",
           json_pack("{s:i,s:i}", "want", s->code, "code", c->last_close));
    if (!ok)
        step_failed(c, s, "close code differs");
}

static void run_steps(client_t *c)
{
    engine_t *e = c->w->e;

    while (!c->waiting && c->step < c->grp->nsteps) {
        const wr_step_t *s = &c->grp->steps[c->step];

        if (atomic_load(&e->ending) && !c->finished) {
            record(c, "client.abandoned", "info",
                   json_pack("{s:i,s:s,s:s}", "step", (int)c->step, "kind",
                             wr_step_kind_name(s->kind), "why",
                             "the case ended"));
            c->step = c->grp->nsteps;
            break;
        }
        if (chaos_before_step(c))
            return;
        chaos_probe(c);
        switch (s->kind) {
        case WR_STEP_CONNECT:
            if (c->open || c->connecting) {
                step_failed(c, s, "already connected");
                break;
            }
            start_connect(c, s);
            return;
        case WR_STEP_BARRIER: {
            barrier_t *b = find_barrier(e, s->name);
            if (atomic_fetch_add(&b->arrived, 1) + 1 >= b->expected) {
                atomic_store(&b->released, 1);
                record(c, "client.barrier", "ok",
                       json_pack("{s:s,s:b}", "name", b->name, "last", 1));
                wake_all(e);
                break;
            }
            c->waiting = true;
            c->barrier = b;
            set_bound(c, scaled(e, s->within_ms), step_timeout_cb);
            return;
        }
        case WR_STEP_SEND:
            send_step(c, s);
            break;
        case WR_STEP_EXPECT:
            if (take_match(c, s)) {
                record(c, "client.expect", "ok",
                       json_pack("{s:s}", "msg_type", s->msg_type));
                break;
            }
            if (!c->open) {
                expect_failed(c, s, "connection closed");
                break;
            }
            c->waiting = true;
            set_bound(c, wait_bound(c, s), step_timeout_cb);
            return;
        case WR_STEP_EXPECT_CLOSE:
            if (!c->open && !c->connecting) {
                judge_close(c, s);
                break;
            }
            c->waiting = true;
            set_bound(c, wait_bound(c, s), step_timeout_cb);
            return;
        case WR_STEP_SLEEP: {
            int ms = s->ms;
            if (s->jitter_ms > 0)
                ms += (int)(next_rand(&c->rng) % (uint64_t)(s->jitter_ms + 1));
            c->waiting = true;
            set_timer(c, scaled(e, ms), step_timeout_cb);
            return;
        }
        case WR_STEP_PROBE_READY:
            probe(c, s);
            break;
        case WR_STEP_KILL_INSTANCE:
        case WR_STEP_RESTART_INSTANCE:
        case WR_STEP_PAUSE_INSTANCE:
        case WR_STEP_RESUME_INSTANCE:
            nemesis(c, s);
            break;
        case WR_STEP_CLOSE:
            if (!c->open) {
                step_failed(c, s, "close on a closed connection");
                break;
            }
            if (start_drain(c))
                return;
            c->closing = true;
            record(c, "client.close", "invoke",
                   json_pack("{s:s,s:i}", "why", "step", "pending",
                             (int)c->npending));
            lws_callback_on_writable(c->wsi);
            c->waiting = true;
            set_bound(c, scaled(e, 5000), step_timeout_cb);
            return;
        }
        c->step++;
    }
    if (!c->waiting && c->step >= c->grp->nsteps && !c->finished) {
        if (!atomic_load(&e->ending) && chaos_before_step(c))
            return;
        if (start_drain(c))
            return;
        client_finished(c);
    }
}

/* ------------------------------------------------------------------ */
/* lws callbacks                                                       */
/* ------------------------------------------------------------------ */

static int add_header(struct lws *wsi, void *in, size_t len, const char *name,
                      const char *value)
{
    unsigned char **p = in, *end = *p + len;

    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value,
                                       (int)strlen(value), p, end);
}

/* Whether a step from the current one on expects messages of type: only
 * those can ever take a message from the inbox, since steps only advance.
 * At 10,000 clients, keeping every unexpected event (four per message)
 * as parsed JSON cost about 40 MB. */
static bool wanted_later(const client_t *c, const char *type)
{
    for (size_t k = c->step; k < c->grp->nsteps; k++) {
        const wr_step_t *s = &c->grp->steps[k];

        if (s->kind == WR_STEP_EXPECT && strcmp(s->msg_type, type) == 0)
            return true;
    }
    return false;
}

/* A whole frame arrived. */
static void on_message(client_t *c, const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, 0, NULL);
    const wr_step_t *s;
    json_t *data, *f;
    const char *type;

    if (!json_is_object(m)) {
        record(c, "client.recv", "info",
               json_pack("{s:s,s:s%}", "msg_type", "(not json)", "text", text,
                         len > 200 ? (size_t)200 : len));
        json_decref(m);
        return;
    }
    type = json_string_value(json_object_get(m, "type"));
    data = json_object_get(m, "data");
    f = json_pack("{s:s?,s:O?}", "msg_type", type, "correlation_id",
                  json_object_get(m, "correlation_id"));
    if (json_is_object(data)) {
        json_t *v;
        if ((v = json_object_get(data, "user_id")) && json_is_string(v))
            json_object_set(f, "user_id", v);
        if ((v = json_object_get(data, "code")) && json_is_string(v))
            json_object_set(f, "error", v);
        if ((v = json_object_get(data, "connection_id")) && json_is_string(v))
            json_object_set(f, "key", v);
        if ((v = json_object_get(data, "connection_ready")))
            json_object_set(f, "connection_ready", v);
    }
    record(c, "client.recv", "info", f);
    c->last_recv = type == NULL                                     ? NULL
                   : strcmp(type, "agent_completed") == 0           ? "agent_completed"
                   : strcmp(type, "connection_established") == 0    ? "connection_established"
                   : strcmp(type, "error_message") == 0             ? "error_message"
                                                                    : "other";
    if (type != NULL &&
        (strcmp(type, "agent_completed") == 0 ||
         strcmp(type, "error_message") == 0) &&
        json_is_string(json_object_get(m, "correlation_id")) &&
        pending_answered(
            c, json_string_value(json_object_get(m, "correlation_id"))) &&
        c->draining && c->npending == 0) {
        drain_done(c, true, NULL);
        json_decref(m);
        run_steps(c);
        return;
    }
    if (type != NULL && strcmp(type, "connection_established") == 0) {
        c->w->st.established++;
        record(c, "client.established", "ok",
               json_pack("{s:O?,s:O?}", "key",
                         json_object_get(data, "connection_id"),
                         "connection_ready",
                         json_object_get(data, "connection_ready")));
    }
    if (type != NULL && wanted_later(c, type))
        json_array_append_new(c->inbox, m);
    else
        json_decref(m); /* no step left can take it: keep no copy */
    /* A client waiting for its chaos close to complete waits for that,
     * not for its step: the message stays in the inbox. */
    if (!c->waiting || c->chaos_closing || c->step >= c->grp->nsteps)
        return;
    s = &c->grp->steps[c->step];
    if (s->kind == WR_STEP_EXPECT && take_match(c, s)) {
        record(c, "client.expect", "ok",
               json_pack("{s:s}", "msg_type", s->msg_type));
        step_done(c);
    }
}

/* The connection is gone (closed, or never opened). */
static void on_gone(client_t *c, const char *by, const char *error)
{
    bool was_open = c->open;
    const wr_step_t *s;

    c->open = false;
    c->connecting = false;
    c->wsi = NULL;
    if (--c->w->open <= 0 && c->w->closing_phase)
        wr_loop_break(c->w->loop); /* the last one this worker had */
    if (was_open) {
        json_t *o;

        c->last_close = c->peer_close ? c->peer_close
                        : c->closing  ? 1000
                                      : 1006;
        o = json_pack("{s:i,s:s}", "code", c->last_close, "by",
                      c->peer_close ? "peer"
                      : c->closing  ? "client"
                                    : "transport");
        if (o != NULL && c->peer_reason != NULL) /* not UTF-8: left out */
            json_object_set_new_nocheck(o, "reason",
                                        json_string(c->peer_reason));
        record(c, "client.closed", "info", o);
    } else {
        c->last_close = -1;
        c->w->st.connect_errors++;
        record(c, "client.connect", "fail",
               json_pack("{s:s,s:i}", "error", error ? error : "failed", "code",
                         -1));
    }
    drop_outgoing(c);
    if (c->chaos_closing) {
        chaos_after_close(c);
        return;
    }
    if (c->draining) {
        drain_done(c, false, "connection closed");
        run_steps(c);
        return;
    }
    if (!c->waiting || c->step >= c->grp->nsteps)
        return;
    s = &c->grp->steps[c->step];
    switch (s->kind) {
    case WR_STEP_CONNECT:
        step_failed(c, s, error ? error : "connection failed");
        step_done(c);
        break;
    case WR_STEP_EXPECT:
        expect_failed(c, s, "connection closed");
        step_done(c);
        break;
    case WR_STEP_EXPECT_CLOSE:
        judge_close(c, s);
        step_done(c);
        break;
    case WR_STEP_CLOSE:
        step_done(c);
        break;
    default:
        break;
    }
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    client_t *c = user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        if (c == NULL)
            return 0;
        if (c->token != NULL) {
            char auth[WSR_TOKEN_MAX + 16];
            snprintf(auth, sizeof(auth), "Bearer %s", c->token);
            if (add_header(wsi, in, len, "authorization:", auth))
                return -1;
        }
        if (c->session[0] == '\0')
            return 0; /* the gateway generates one */
        return add_header(wsi, in, len, "x-session-id:", c->session) ? -1 : 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->connecting = false;
        c->open = true;
        c->w->st.connected++;
        if (c->waiting && c->step < c->grp->nsteps &&
            c->grp->steps[c->step].kind == WR_STEP_CONNECT) {
            record(c, "client.connect", "ok", NULL);
            for (int k = 0; !c->chaos_done && k < c->chaos_burst; k++) {
                char cid[64], *text;
                json_t *msg;
                out_msg_t *m;

                snprintf(cid, sizeof(cid), "chaos-%d-%d", c->g, c->chaos_seq++);
                msg = json_pack("{s:s,s:{s:s},s:s}", "type", "user_message",
                                "data", "content", "chaos burst",
                                "correlation_id", cid);
                text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
                json_decref(msg);
                if (text != NULL && (m = enqueue(c, text, "user_message",
                                                 cid)) != NULL)
                    m->chaos = true;
            }
            c->chaos_burst = 0;
            step_done(c);
        } else {
            /* The connect step timed out before the upgrade: close it. */
            c->closing = true;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c->rx_len + len > RX_MAX) {
            c->rx_len = 0;
            record(c, "client.recv", "info",
                   json_pack("{s:s}", "msg_type", "(too big)"));
            return 0;
        }
        {
            char *nb = realloc(c->rx, c->rx_len + len + 1);
            if (nb == NULL)
                return -1;
            c->rx = nb;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            c->rx[c->rx_len] = '\0';
            on_message(c, c->rx, c->rx_len);
            c->rx_len = 0;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        out_msg_t *m = c->out_head;
        if (m != NULL) {
            size_t n = strlen(m->text);
            unsigned char *buf = malloc(LWS_PRE + n);
            int wrote;

            if (buf == NULL)
                return -1;
            memcpy(buf + LWS_PRE, m->text, n);
            record(c, "client.send", "invoke",
                   json_pack("{s:s?,s:s?,s:i,s:s?}", "msg_type", m->msg_type,
                             "correlation_id", m->correlation_id, "bytes",
                             (int)n, "why", m->chaos ? "chaos" : NULL));
            if (m->msg_type != NULL && m->correlation_id != NULL &&
                strcmp(m->msg_type, "user_message") == 0)
                pending_add(c, m->correlation_id);
            wrote = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            free(buf);
            c->out_head = m->next;
            if (c->out_head == NULL)
                c->out_tail = NULL;
            out_msg_free(m);
            if (wrote < (int)n)
                return -1;
            if (c->out_head != NULL || c->closing)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->peer_close =
                ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1];
        else
            c->peer_close = 1005;
        if (len > 2 && len <= 125) { /* a control frame's bound */
            free(c->peer_reason);
            c->peer_reason = strndup((const char *)in + 2, len - 2);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c != NULL && (c->connecting || c->open)) {
            char err[128];
            snprintf(err, sizeof(err), "%.*s", in ? (int)len : 0,
                     in ? (const char *)in : "");
            on_gone(c, "transport", err[0] ? err : "connection error");
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c != NULL && (c->connecting || c->open))
            on_gone(c, "peer", NULL);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    /* lws gives every connection an rx buffer of this size; the gateway's
     * messages are a few hundred bytes, and longer frames arrive in
     * fragments that the CLIENT_RECEIVE case joins. 4096 cost 30 MB more
     * at 10,000 connections. */
    {"wsrace-client", client_cb, 0, 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/* Starts closing every connection this worker still has open. */
static void begin_closing(worker_t *w)
{
    engine_t *e = w->e;

    w->closing_phase = true;
    w->close_deadline =
        wr_now_ns() + (int64_t)scaled(e, CLOSE_GRACE_MS) * 1000000;
    for (size_t k = 0; k < w->nclients; k++) {
        client_t *c = w->clients[k];

        if (!c->finished) {
            record(c, "client.abandoned", "info",
                   json_pack("{s:i,s:s}", "step", (int)c->step, "why",
                             "the case ended"));
            cancel_timer(c);
            c->waiting = false;
            c->finished = true;
        }
        if (c->open && !c->closing) {
            c->closing = true;
            record(c, "client.close", "invoke",
                   json_pack("{s:s,s:i}", "why", "end of run", "pending",
                             (int)c->npending));
            lws_callback_on_writable(c->wsi);
        }
    }
}

/* The end of the run and of this worker's closing phase: run on the
 * worker's thread after each tick and wake-up. */
static void check_end(worker_t *w)
{
    engine_t *e = w->e;
    int64_t now = wr_now_ns();

    if (!atomic_load(&e->ending) &&
        (now >= e->deadline || (e->o->stop && *e->o->stop) ||
         (e->o->end && atomic_load(e->o->end)))) {
        if (e->o->stop && *e->o->stop)
            w->st.aborted = true;
        else if (e->o->end && atomic_load(e->o->end))
            w->st.ended = true;
        else
            w->st.timed_out = true;
        atomic_store(&e->ending, 1);
        wake_all(e);
    }
    if (atomic_load(&e->ending) && !w->closing_phase)
        begin_closing(w);
    if (w->closing_phase && (w->open <= 0 || now >= w->close_deadline))
        wr_loop_break(w->loop);
}

/* Every TICK_US: runs the step bounds that have passed (see set_bound()). */
static void tick_cb(wr_timer_t *t)
{
    worker_t *w = lws_container_of(t, worker_t, tick);
    int64_t now = wr_now_ns();

    for (size_t k = 0; k < w->nclients; k++) {
        client_t *c = w->clients[k];

        if (c->bound_ns != 0 && now >= c->bound_ns) {
            c->bound_ns = 0;
            c->bound_cb(&c->timer);
        }
    }
    wr_timer_start(&w->tick, w->e->o->end ? TICK_EARLY_US : TICK_US,
                   tick_cb);
    check_end(w);
}

/* The loop's wake function: a barrier released, or the run ends. */
static void wake_cb(void *arg)
{
    worker_t *w = arg;

    if (atomic_exchange(&w->wake, 0))
        on_wake(w);
    check_end(w);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    engine_t *e = w->e;
    uint64_t rng = e->o->seed ^ (0xabcdef12345ULL * (uint64_t)(w->idx + 1));

    pthread_setname_np(pthread_self(), "wsrace-loop"); /* for ps and perf */
    wr_timer_init(&w->tick, w->loop);
    for (size_t k = 0; k < w->nclients; k++)
        wr_timer_init(&w->clients[k]->timer, w->loop);
    tick_cb(&w->tick);
    for (size_t k = 0; k < w->nclients; k++) {
        client_t *c = w->clients[k];
        int j = c->grp->start_jitter_ms;

        if (j > 0)
            wr_timer_start(&c->timer,
                           (int64_t)scaled(e, (int)(next_rand(&rng) %
                                                    (uint64_t)(j + 1))) *
                               1000,
                           start_cb);
        else
            run_steps(c);
    }
    wr_loop_run(w->loop);
    wr_timer_stop(&w->tick);
    for (size_t k = 0; k < w->nclients; k++)
        cancel_timer(w->clients[k]);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Set-up and tear-down                                                */
/* ------------------------------------------------------------------ */

/* Counts barrier participants: each client reaching a barrier step. */
static int setup_barriers(engine_t *e)
{
    const wr_scenario_t *sc = e->o->scenario;
    size_t cap = 0;

    for (size_t gi = 0; gi < sc->ngroups; gi++)
        cap += sc->groups[gi].nsteps;
    e->barriers = calloc(cap ? cap : 1, sizeof(barrier_t));
    if (e->barriers == NULL)
        return -ENOMEM;
    for (size_t gi = 0; gi < sc->ngroups; gi++) {
        const wr_group_t *grp = &sc->groups[gi];

        for (size_t si = 0; si < grp->nsteps; si++) {
            barrier_t *b;

            if (grp->steps[si].kind != WR_STEP_BARRIER)
                continue;
            b = find_barrier(e, grp->steps[si].name);
            if (b == NULL) {
                b = &e->barriers[e->nbarriers++];
                b->name = grp->steps[si].name;
            }
            b->expected += grp->count;
        }
    }
    return 0;
}

static int make_token(const engine_t *e, client_t *c)
{
    char tok[WSR_TOKEN_MAX];
    time_t now = time(NULL);
    int n;

    switch (c->grp->token) {
    case WR_TOKEN_NONE:
        return 0;
    case WR_TOKEN_VALID:
        n = wsr_token_sign(e->o->secret, c->user, (int64_t)now + 3600, tok,
                          sizeof(tok));
        break;
    case WR_TOKEN_EXPIRED:
        n = wsr_token_sign(e->o->secret, c->user, (int64_t)now - 3600, tok,
                          sizeof(tok));
        break;
    case WR_TOKEN_BAD_SIGNATURE:
        n = wsr_token_sign("not-the-gateway-secret", c->user,
                          (int64_t)now + 3600, tok, sizeof(tok));
        break;
    default:
        return -EINVAL;
    }
    if (n < 0)
        return n;
    c->token = strdup(tok);
    return c->token ? 0 : -ENOMEM;
}

/* Draws the client's chaos once, from its own stream of the seed, so a
 * case replays (see wr_engine.h). */
static void setup_chaos(const engine_t *e, client_t *c)
{
    const wr_chaos_t *ch = e->chaos;
    size_t n = c->grp->nsteps;

    c->chaos_rng = e->o->seed ^ 0xc4a05c4a05ULL ^
                   ((uint64_t)(c->g + 1) * 0xd1b54a32d192ed03ULL);
    c->chaos_close_at = SIZE_MAX;
    c->first_connect = n;
    for (size_t k = 0; k < n && c->first_connect == n; k++)
        if (c->grp->steps[k].kind == WR_STEP_CONNECT)
            c->first_connect = k;
    if (ch == NULL || c->first_connect == n)
        return;
    if (ch->close_percent > 0 &&
        (int)(next_rand(&c->chaos_rng) % 100) < ch->close_percent) {
        /* Anywhere after the upgrade: right after it is mid-handshake,
         * after the last step is a close without a drain. */
        c->chaos_close_at =
            c->first_connect + 1 +
            (size_t)(next_rand(&c->chaos_rng) % (n - c->first_connect));
        c->chaos_reconnect =
            (int)(next_rand(&c->chaos_rng) % 100) < ch->reconnect_percent;
    }
    if (ch->burst > 0)
        c->chaos_burst =
            (int)(next_rand(&c->chaos_rng) % (uint64_t)(ch->burst + 1));
}

static int by_session(const void *a, const void *b)
{
    return strcmp((*(client_t *const *)a)->session,
                  (*(client_t *const *)b)->session);
}

/* A client whose session another client of the scenario asks for too
 * does not reconnect by chaos: the other's hold of it is the scenario's
 * own (a successor, a duplicate), so the reconnect would be refused
 * rightly and fail steps the scenario never meant to race. It gives up
 * its steps after the chaos close instead. */
static int unshare_reconnects(engine_t *e)
{
    client_t **v;
    size_t n = 0;

    for (size_t k = 0; k < e->nclients; k++)
        n += e->clients[k].chaos_reconnect;
    if (n == 0)
        return 0;
    if ((v = malloc(e->nclients * sizeof(*v))) == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < e->nclients; k++)
        v[k] = &e->clients[k];
    qsort(v, e->nclients, sizeof(*v), by_session);
    for (size_t k = 0; k < e->nclients; k++) {
        client_t *c = v[k];

        if (c->chaos_reconnect && c->session[0] != '\0' &&
            ((k > 0 && strcmp(v[k - 1]->session, c->session) == 0) ||
             (k + 1 < e->nclients &&
              strcmp(v[k + 1]->session, c->session) == 0)))
            c->chaos_reconnect = false;
    }
    free(v);
    return 0;
}

static int setup_clients(engine_t *e)
{
    const wr_scenario_t *sc = e->o->scenario;
    uint64_t rng = e->o->seed * 0x2545f4914f6cdd1dULL + 1;
    size_t *order;
    size_t g = 0;

    e->nclients = wr_scenario_clients(sc);
    if (e->nclients > WR_SCENARIO_CLIENTS_MAX) {
        e->nclients = 0; /* the loader refuses more; nothing to release */
        return -E2BIG;
    }
    e->clients = calloc(e->nclients ? e->nclients : 1, sizeof(client_t));
    order = calloc(e->nclients ? e->nclients : 1, sizeof(size_t));
    if (e->clients == NULL || order == NULL) {
        /* release_clients walks nclients entries of clients: none. */
        free(e->clients);
        e->clients = NULL;
        e->nclients = 0;
        free(order);
        return -ENOMEM;
    }
    for (size_t gi = 0; gi < sc->ngroups; gi++) {
        const wr_group_t *grp = &sc->groups[gi];

        for (int i = 0; i < grp->count; i++, g++) {
            client_t *c = &e->clients[g];

            c->grp = grp;
            c->g = (int)g;
            c->i = i;
            c->rng = e->o->seed ^ ((uint64_t)g * 0x9e3779b97f4a7c15ULL);
            c->user = wr_scenario_expand(grp->user, i, (int)g, NULL, NULL,
                                         e->o->seed);
            /* "": the client names no session ({session} expands to
             * nothing). */
            c->session = grp->session != NULL
                             ? wr_scenario_expand(grp->session, i, (int)g,
                                                  c->user, NULL, e->o->seed)
                             : strdup("");
            c->instance = wr_scenario_instance(sc, grp, NULL, i, (int)g,
                                               c->user, c->session,
                                               e->o->seed);
            c->inbox = json_array();
            c->drained_step = SIZE_MAX;
            setup_chaos(e, c);
            if (!c->user || !c->session || !c->inbox || make_token(e, c)) {
                free(order);
                return -ENOMEM;
            }
        }
    }
    if (unshare_reconnects(e) != 0) {
        free(order);
        return -ENOMEM;
    }
    /* Seeded shuffle: which thread each client lands on and, within a
     * thread, the order in which clients start. */
    for (size_t k = 0; k < e->nclients; k++)
        order[k] = k;
    for (size_t k = e->nclients; k > 1; k--) {
        size_t j = (size_t)(next_rand(&rng) % k), t = order[k - 1];
        order[k - 1] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < e->nworkers; k++) {
        worker_t *w = &e->workers[k];
        w->clients =
            calloc(e->nclients / (size_t)e->nworkers + 1, sizeof(client_t *));
        if (w->clients == NULL) {
            free(order);
            return -ENOMEM;
        }
    }
    for (size_t k = 0; k < e->nclients; k++) {
        worker_t *w = &e->workers[k % (size_t)e->nworkers];
        client_t *c = &e->clients[order[k]];

        c->w = w;
        w->clients[w->nclients++] = c;
    }
    free(order);
    return 0;
}

/* The worker's loop and lws context; on the engine's thread, one worker
 * after another (see wr_loop.h). */
static int create_loop(worker_t *w)
{
    wr_loop_opts_t lo = {
        .protocols = protocols,
        .user = w,
        .fd_limit = (unsigned)(w->nclients + 64),
        .timeout_secs = 30,
        .wake = wake_cb,
        .wake_arg = w,
    };

    w->loop = wr_loop_new(&lo);
    w->ctx = w->loop ? wr_loop_context(w->loop) : NULL;
    return w->loop ? 0 : -ENOMEM;
}

/* Destroys the lws contexts, then the clients. Events recorded while a
 * context is destroyed (its last close callbacks) are not part of the
 * run: each worker's `kept` says how many of its events were recorded
 * before. Idempotent. */
static void release_clients(engine_t *e)
{
    for (int k = 0; k < e->nworkers; k++) {
        worker_t *w = &e->workers[k];

        if (w->loop != NULL) {
            w->kept = wr_history_len(w->rec);
            wr_loop_free(w->loop);
            w->loop = NULL;
            w->ctx = NULL;
        }
        free(w->clients);
        w->clients = NULL;
    }
    for (size_t k = 0; k < e->nclients; k++) {
        client_t *c = &e->clients[k];

        free(c->user);
        free(c->session);
        free(c->token);
        free(c->rx);
        free(c->peer_reason);
        json_decref(c->inbox);
        drop_outgoing(c);
        pending_clear(c);
        free(c->pending);
    }
    free(e->clients);
    e->clients = NULL;
    e->nclients = 0;
}

/* Gives the heap's free pages back to the system. The engine frees tens of
 * megabytes (connections, recorded events) on its service threads' malloc
 * arenas just before the runner loads the gateway's trace: without this,
 * those pages would stay resident and add to the case's peak. */
static void trim_heap(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void engine_free(engine_t *e)
{
    release_clients(e);
    for (int k = 0; k < e->nworkers; k++) {
        wr_history_free(e->workers[k].rec);
    }
    free(e->workers);
    free(e->barriers);
}

/* The default lws allocator bumps an unlocked global counter; with one
 * context per thread that is a data race. Installed once per process. */
static void set_allocator(void)
{
    lws_set_allocator(lws_realloc_cb);
}

int wr_engine_run(const wr_engine_opts_t *o, wr_history_t *h,
                  wr_engine_stats_t *st)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    engine_t e;
    size_t n = wr_scenario_clients(o->scenario);
    int rc = 0, started = 0;

    memset(&e, 0, sizeof(e));
    memset(st, 0, sizeof(*st));
    if (n > WR_SCENARIO_CLIENTS_MAX)
        return -E2BIG; /* the loader refuses such a scenario */
    e.o = o;
    e.chaos = o->chaos != NULL && o->chaos->on ? o->chaos
              : o->scenario->chaos.on          ? &o->scenario->chaos
                                               : NULL;
    e.scale = o->time_scale > 0 ? o->time_scale : 1.0;
    e.nworkers = o->threads > 0
                     ? o->threads
                     : (int)((n + CONNS_PER_THREAD - 1) / CONNS_PER_THREAD);
    if (e.nworkers < 1)
        e.nworkers = 1;
    if (e.nworkers < 2 && n > 1)
        e.nworkers = 2; /* races need two threads of clients, at least */
    if ((size_t)e.nworkers > n && n > 0)
        e.nworkers = (int)n;
    e.workers = calloc((size_t)e.nworkers, sizeof(worker_t));
    if (e.workers == NULL)
        return -ENOMEM;
    for (int k = 0; k < e.nworkers; k++) {
        e.workers[k].e = &e;
        e.workers[k].idx = k;
        if ((e.workers[k].rec = wr_history_new()) == NULL) {
            rc = -ENOMEM;
            goto out;
        }
    }
    pthread_once(&once, set_allocator);
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    if ((rc = setup_clients(&e)) != 0 || (rc = setup_barriers(&e)) != 0)
        goto out;
    for (int k = 0; k < e.nworkers; k++)
        if ((rc = create_loop(&e.workers[k])) != 0)
            goto out;
    st->start_ns = wr_now_ns();
    e.deadline =
        st->start_ns + (int64_t)scaled(&e, o->scenario->timeout_ms) * 1000000;
    for (; started < e.nworkers; started++) {
        if (pthread_create(&e.workers[started].th, NULL, worker_main,
                           &e.workers[started]) != 0) {
            rc = -EAGAIN;
            atomic_store(&e.ending, 1);
            wake_all(&e);
            break;
        }
    }
    for (int k = 0; k < started; k++)
        pthread_join(e.workers[k].th, NULL);
    st->end_ns = wr_now_ns();
    st->clients = (int)n;
    st->threads = e.nworkers;
    for (int k = 0; k < e.nworkers; k++) {
        worker_t *w = &e.workers[k];

        st->connected += w->st.connected;
        st->established += w->st.established;
        st->connect_errors += w->st.connect_errors;
        st->steps_failed += w->st.steps_failed;
        st->timed_out |= w->st.timed_out;
        st->aborted |= w->st.aborted;
        st->ended |= w->st.ended;
    }
    /* Connections first, then the events: each worker's are freed as
     * soon as the history has them. */
    release_clients(&e);
    trim_heap();
    for (int k = 0; k < e.nworkers; k++) {
        worker_t *w = &e.workers[k];

        if (wr_history_take(h, w->rec, w->kept) != 0 && rc == 0)
            rc = -ENOMEM;
        wr_history_free(w->rec);
        w->rec = NULL;
    }
    trim_heap();
out:
    engine_free(&e);
    return rc;
}
