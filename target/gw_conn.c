/* gw_conn.c - One connection's lifecycle: handshake steps, readiness gate,
 * message processing and the close path.
 *
 * Threads: gw_conn_new/on_message/on_closed/pop_frame/close_code run on
 * the lws service thread; the handshake, the message processor and the
 * close path run on pool workers. One handshake job per connection; at most
 * one processor job at a time (`processing`); the close path runs once
 * (`close_done`).
 * Lock order: conn `lock` -> registry lock -> trace lock. Sync points are
 * never hit with `lock` held. The session and ticket tables' locks are
 * leaves, taken with no other lock held.
 *
 * Output is bounded: a client whose queued frames pass max_send_queue
 * bytes is a slow consumer; its queue is dropped for an error_message
 * SLOW_CONSUMER and a close 1008 (docs/DESIGN.md, "Limits"). */
#include "gw_gateway.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_annotate.h"
#include "gw_proto.h"
#include "wsr_token.h"

typedef struct inmsg {
    struct inmsg *next;
    char *correlation_id; /* may be NULL */
    char *content;
} inmsg_t;

struct gw_conn {
    _Atomic unsigned refs;
    uint64_t id;
    gw_gateway_t *gw;
    /* The endpoint's registry handle: valid for the connection's life. */
    gw_registry_t *registry;
    /* What the init (accept) step had in scope. Its handle is cleared when
     * that step ends; only the scope-loss fault reaches for it later. */
    struct {
        gw_registry_t *registry;
    } init_scope;
    gw_coord_t *coord;           /* the handshake coordinator (a reference) */
    char *token;                 /* as presented; freed after auth */
    char *ticket;                /* as presented; freed after auth */
    char session[GW_KEY_MAX];    /* requested session id, "" when none */
    const char *session_problem; /* why the requested id is refused */
    char user[GW_USER_MAX];      /* set by the auth step (handshake job only) */
    bool claimed;    /* session bound to user (handshake, then close path) */
    void *transport; /* service thread only */
    void *owner;     /* the transport's loop; set before gw_conn_start() */
    _Atomic bool wake_queued;
    _Atomic bool close_done;

    pthread_mutex_t lock; /* guards every field below */
    char key[GW_KEY_MAX]; /* current registry key */
    bool registered;      /* this connection believes key is registered */
    bool handshake_running;
    bool closed; /* the transport is gone */
    bool welcomed;
    bool processing; /* a processor job is scheduled or running */
    inmsg_t *in_head, *in_tail;
    unsigned in_len;
    gw_frame_t *out_head, *out_tail;
    size_t out_bytes; /* payload bytes queued in out_head.. */
    int close_code;   /* requested close, 0: none */
    char close_reason[96];
};

static void drop_output_locked(gw_conn_t *c);

/* ------------------------------------------------------------------ */
/* Gateway                                                              */
/* ------------------------------------------------------------------ */

/* Frees the tables of a gateway whose init failed (the sync table is the
 * caller's, and no worker ran). */
static void init_undo(gw_gateway_t *gw)
{
    gw_registry_free(gw->registry);
    gw->registry = NULL;
    gw_sessions_free(gw->sessions);
    gw->sessions = NULL;
    gw_tickets_free(gw->tickets);
    gw->tickets = NULL;
}

int gw_gateway_init(gw_gateway_t *gw, const gw_params_t *params,
                    gw_trace_t *trace, gw_sync_t *sync, unsigned workers)
{
    memset(gw, 0, sizeof(*gw));
    gw->params = *params;
    gw->trace = trace;
    gw->sync = sync;
    atomic_init(&gw->next_id,
                GW_CONN_BASE(params->instance, params->incarnation) + 1);
    if (params->redis_port > 0) {
        gw_redis_opts_t ro = {
            .host = gw->params.redis_host,
            .port = gw->params.redis_port,
            .instance = params->instance,
            .incarnation = params->incarnation,
            .ttl_ms = params->registry_ttl_ms,
            .timeout_ms = 2000,
            .faults = &gw->params.faults,
            .sync = sync,
            .trace = trace,
        };

        gw->registry = gw_registry_new_redis(&ro, gw->error, sizeof(gw->error));
        if (!gw->registry)
            return -ECONNREFUSED;
    } else {
        gw->registry = gw_registry_new(&gw->params.faults, sync, trace);
    }
    gw->sessions = gw_sessions_new(gw->params.session_hold_s);
    gw->tickets =
        gw_tickets_new(gw->params.ticket_ttl_s ? gw->params.ticket_ttl_s : 30);
    if (!gw->registry || !gw->sessions || !gw->tickets) {
        snprintf(gw->error, sizeof(gw->error), "out of memory");
        init_undo(gw);
        return -ENOMEM;
    }
    gw->pool = gw_pool_new(workers);
    if (!gw->pool) {
        int e = errno;
        snprintf(gw->error, sizeof(gw->error), "cannot start workers");
        init_undo(gw);
        return -e;
    }
    return 0;
}

void gw_gateway_shutdown(gw_gateway_t *gw)
{
    if (gw->sync)
        gw_sync_shutdown(gw->sync);
    gw_pool_free(gw->pool);
    gw->pool = NULL;
    gw_registry_free(gw->registry);
    gw->registry = NULL;
    gw_sessions_free(gw->sessions);
    gw->sessions = NULL;
    gw_tickets_free(gw->tickets);
    gw->tickets = NULL;
}

/* Milliseconds on the monotonic clock: session holds are durations. */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Connection object                                                    */
/* ------------------------------------------------------------------ */

gw_conn_t *gw_conn_open(gw_gateway_t *gw, const gw_hello_t *h)
{
    gw_conn_t *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->coord = gw_coord_new();
    c->token = h->token ? strdup(h->token) : NULL;
    c->ticket = h->ticket ? strdup(h->ticket) : NULL;
    if (!c->coord || (h->token && !c->token) || (h->ticket && !c->ticket)) {
        gw_coord_unref(c->coord);
        free(c->token);
        free(c->ticket);
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->id = atomic_fetch_add(&gw->next_id, 1);
    c->gw = gw;
    c->registry = gw->registry;
    if (h->session) {
        /* Refused later, once the client is authenticated: an anonymous
         * client learns nothing about session ids. */
        c->session_problem = gw_session_id_problem(h->session, h->session_len);
        if (!c->session_problem)
            memcpy(c->session, h->session, h->session_len);
    }
    gw_sync_note_session(gw->sync, c->id, c->session);
    pthread_mutex_init(&c->lock, NULL);
    atomic_fetch_add(&gw->live, 1);
    return c;
}

gw_conn_t *gw_conn_new(gw_gateway_t *gw, const char *token, const char *session)
{
    gw_hello_t h = {token, NULL, session, session ? strlen(session) : 0};

    return gw_conn_open(gw, &h);
}

uint64_t gw_conn_id(const gw_conn_t *c)
{
    return c->id;
}

gw_conn_t *gw_conn_ref(gw_conn_t *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void gw_conn_unref(gw_conn_t *c)
{
    if (!c)
        return;
    GW_REF_RELEASE(&c->refs);
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    GW_REF_ACQUIRE(&c->refs); /* every holder is done with c */
    while (c->in_head) {
        inmsg_t *m = c->in_head;
        c->in_head = m->next;
        free(m->correlation_id);
        free(m->content);
        free(m);
    }
    drop_output_locked(c);
    gw_sync_note_session(c->gw->sync, c->id, NULL);
    atomic_fetch_sub(&c->gw->live, 1);
    gw_coord_unref(c->coord);
    free(c->token);
    free(c->ticket);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void gw_conn_set_transport(gw_conn_t *c, void *t)
{
    c->transport = t;
}

void *gw_conn_transport(const gw_conn_t *c)
{
    return c->transport;
}

void gw_conn_set_owner(gw_conn_t *c, void *owner)
{
    c->owner = owner;
}

void *gw_conn_owner(const gw_conn_t *c)
{
    return c->owner;
}

bool gw_conn_mark_wake(gw_conn_t *c)
{
    return !atomic_exchange(&c->wake_queued, true);
}

void gw_conn_clear_wake(gw_conn_t *c)
{
    atomic_store(&c->wake_queued, false);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/* Appends one frame of msg (not taken). `lock` held. */
static void append_frame_locked(gw_conn_t *c, const char *msg)
{
    size_t len = strlen(msg), head = c->gw->params.frame_headroom;
    gw_frame_t *f = malloc(sizeof(*f) + head + len);

    if (!f)
        return;
    f->next = NULL;
    f->len = len;
    memcpy(f->data + head, msg, len);
    if (c->out_tail)
        c->out_tail->next = f;
    else
        c->out_head = f;
    c->out_tail = f;
    c->out_bytes += len;
}

static void drop_output_locked(gw_conn_t *c)
{
    while (c->out_head) {
        gw_frame_t *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
}

/* Asks for a close after msg (taken; may be NULL). The first request
 * wins; later ones only free msg. `lock` held. */
static void request_close_locked(gw_conn_t *c, int close_code,
                                 const char *reason, char *msg)
{
    if (!c->close_code) {
        if (msg)
            append_frame_locked(c, msg);
        c->close_code = close_code;
        snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    }
    free(msg);
}

/* Queues a serialized message (taken; NULL is ignored). Nothing is queued
 * once a close was requested. A client that lets more than max_send_queue
 * bytes pile up is closed as a slow consumer: what it did not read is
 * dropped, so its memory stays bounded. `lock` held. */
static void push_frame_locked(gw_conn_t *c, char *msg)
{
    size_t bound = c->gw->params.max_send_queue;
    char why[96];

    if (!msg)
        return;
    if (c->close_code) {
        free(msg);
        return;
    }
    if (bound && c->out_bytes + strlen(msg) > bound) {
        snprintf(why, sizeof(why),
                 "more than %zu bytes unread: closed as a slow consumer",
                 bound);
        gw_trace_emitf(c->gw->trace, c->id, c->key[0] ? c->key : NULL,
                       "conn.slow_consumer", "{s:I,s:I}", "queued",
                       (json_int_t)c->out_bytes, "limit", (json_int_t)bound);
        drop_output_locked(c);
        atomic_fetch_add(&c->gw->slow_consumers, 1);
        request_close_locked(c, GW_CLOSE_POLICY, GW_ERR_SLOW_CONSUMER,
                             gw_proto_error(GW_ERR_SLOW_CONSUMER, why, NULL));
        free(msg);
        return;
    }
    append_frame_locked(c, msg);
    free(msg);
}

static void wake(gw_conn_t *c)
{
    if (c->gw->sink.wake)
        c->gw->sink.wake(c->gw->sink.ctx, c);
}

static void send_msg(gw_conn_t *c, char *msg)
{
    pthread_mutex_lock(&c->lock);
    push_frame_locked(c, msg);
    pthread_mutex_unlock(&c->lock);
    wake(c);
}

gw_frame_t *gw_conn_pop_frame(gw_conn_t *c)
{
    gw_frame_t *f;

    pthread_mutex_lock(&c->lock);
    f = c->out_head;
    if (f) {
        c->out_head = f->next;
        if (!c->out_head)
            c->out_tail = NULL;
        c->out_bytes -= f->len;
    }
    pthread_mutex_unlock(&c->lock);
    return f;
}

void gw_conn_refuse(gw_conn_t *c, int close_code, const char *err_code,
                    const char *message)
{
    pthread_mutex_lock(&c->lock);
    gw_trace_emitf(c->gw->trace, c->id, c->key[0] ? c->key : NULL,
                   "conn.refused", "{s:s,s:i,s:s}", "error", err_code, "close",
                   close_code, "message", message);
    request_close_locked(c, close_code, err_code,
                         gw_proto_error(err_code, message, NULL));
    pthread_mutex_unlock(&c->lock);
    wake(c);
}

bool gw_conn_closing(gw_conn_t *c)
{
    bool closing;

    pthread_mutex_lock(&c->lock);
    closing = c->close_code != 0;
    pthread_mutex_unlock(&c->lock);
    return closing;
}

int gw_conn_close_code(gw_conn_t *c, char *reason, size_t len)
{
    int code = 0;

    pthread_mutex_lock(&c->lock);
    if (!c->out_head && c->close_code) {
        code = c->close_code;
        snprintf(reason, len, "%s", c->close_reason);
    }
    pthread_mutex_unlock(&c->lock);
    return code;
}

static void copy_key(gw_conn_t *c, char *buf)
{
    pthread_mutex_lock(&c->lock);
    memcpy(buf, c->key, GW_KEY_MAX);
    pthread_mutex_unlock(&c->lock);
}

static void set_key(gw_conn_t *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    snprintf(c->key, sizeof(c->key), "%s", key);
    pthread_mutex_unlock(&c->lock);
}

static void coord_phase(gw_conn_t *c, const char *key, wsr_coord_phase_t to)
{
    int rc = gw_coord_advance(c->coord, to);

    if (rc == 0)
        gw_registry_note_phase(c->registry, key, to, c->id);
    gw_trace_emitf(c->gw->trace, c->id, key, "coordinator.phase", "{s:s,s:s}",
                   "phase", wsr_coord_phase_name(to), "result",
                   rc == 0 ? "ok" : "refused");
}

/* Fails the connection: machine FAILED and unregistered, coordinator
 * ERROR, an error_message, then a close with close_code. */
static void fail_conn(gw_conn_t *c, int close_code, const char *err_code,
                      const char *message)
{
    char key[GW_KEY_MAX];
    bool registered;

    pthread_mutex_lock(&c->lock);
    memcpy(key, c->key, sizeof(key));
    registered = c->registered;
    c->registered = false;
    pthread_mutex_unlock(&c->lock);
    if (registered) {
        gw_registry_transition(c->registry, key, WSR_ST_FAILED, c->id);
        gw_registry_unregister(c->registry, key, c->id);
    }
    coord_phase(c, key, WSR_CO_ERROR);
    gw_trace_emitf(c->gw->trace, c->id, key, "conn.failed", "{s:s,s:i,s:s}",
                   "error", err_code, "close", close_code, "message", message);
    pthread_mutex_lock(&c->lock);
    request_close_locked(c, close_code, err_code,
                         gw_proto_error(err_code, message, NULL));
    pthread_mutex_unlock(&c->lock);
    wake(c);
}

static void send_welcome_locked(gw_conn_t *c)
{
    c->welcomed = true;
    push_frame_locked(
        c,
        gw_proto_message("connection_established",
                         json_pack("{s:s,s:s,s:b}", "connection_id", c->key,
                                   "user_id", c->user, "connection_ready", 1),
                         NULL));
}

/* ------------------------------------------------------------------ */
/* Message processing                                                   */
/* ------------------------------------------------------------------ */

static void processor_job(void *arg);

/* Schedules the processor when there is input and none is scheduled.
 * `lock` held. */
static void kick_locked(gw_conn_t *c)
{
    if (c->processing || !c->in_head || c->closed)
        return;
    c->processing = true;
    gw_conn_ref(c);
    if (gw_pool_submit(c->gw->pool, processor_job, c) != 0) {
        c->processing = false;
        atomic_fetch_sub(&c->refs, 1); /* never the last: caller holds one */
    }
}

static void machine_field(gw_conn_t *c, const char *key, json_t *o);

/* The readiness gate for message m, traced as message.gate. `lock`
 * held. */
static bool gate_locked(gw_conn_t *c, const inmsg_t *m)
{
    if (wsr_fault_on(&c->gw->params.faults, WSR_FAULT_COORDINATOR_GAP)) {
        /* coordinator-gap: the coordinator's word alone, unlinked from the
         * state machine. */
        bool ready = gw_coord_phase(c->coord) == WSR_CO_READY;
        json_t *f = json_pack("{s:s?,s:s}", "correlation_id",
                              m->correlation_id, "decision",
                              ready ? "process" : "wait");

        machine_field(c, c->key, f);
        gw_trace_emit(c->gw->trace, c->id, c->key, "message.gate", f);
        return ready;
    }
    return gw_registry_ready_for_messages(c->registry, c->key, c->coord, c->id,
                                          m->correlation_id);
}

static void machine_field(gw_conn_t *c, const char *key, json_t *o)
{
    wsr_state_t st;

    json_object_set_new(
        o, "machine",
        json_string(gw_registry_state(c->registry, key, c->id, &st) == 0
                        ? wsr_state_name(st)
                        : "absent"));
    json_object_set_new(
        o, "coordinator",
        json_string(wsr_coord_phase_name(gw_coord_phase(c->coord))));
}

/* Whether a welcomed connection's machine is gone from the registry
 * under its key (in a cluster: its lease ran out while its instance
 * stalled, and the session may have moved). No ready step comes again
 * for it. `lock` held. */
static bool machine_gone_locked(gw_conn_t *c, const char *key)
{
    wsr_state_t st;

    return gw_registry_state(c->registry, key, c->id, &st) != 0;
}

/* Refuses m, taken off the queue, visibly (NOT_READY with its
 * correlation id) instead of parking it for a ready step that will not
 * come: a message the gateway took is answered or refused, never left
 * waiting. */
static void refuse_gone(gw_conn_t *c, const inmsg_t *m, const char *key)
{
    gw_trace_emitf(c->gw->trace, c->id, key, "message.rejected",
                   "{s:s,s:s?,s:s}", "error", GW_ERR_NOT_READY,
                   "correlation_id", m->correlation_id, "reason",
                   "the connection's machine is no longer registered");
    send_msg(c, gw_proto_error(GW_ERR_NOT_READY,
                               "not ready for messages: this connection's "
                               "session is no longer registered here",
                               m->correlation_id));
}

static void process_message(gw_conn_t *c, inmsg_t *m, const char *key)
{
    gw_trace_t *tr = c->gw->trace;
    json_t *f = json_pack("{s:s?}", "correlation_id", m->correlation_id);

    machine_field(c, key, f);
    gw_trace_emit(tr, c->id, key, "message.process", f);
    gw_registry_transition(c->registry, key, WSR_ST_PROCESSING, c->id);
    for (int i = 0; i < WSR_AGENT_EVENTS; i++) {
        json_t *data =
            json_pack("{s:s,s:i}", "user_id", c->user, "step", i + 1);
        if (i == WSR_AGENT_EVENTS - 1)
            json_object_set_new(data, "result",
                                json_sprintf("echo: %s", m->content));
        send_msg(c,
                 gw_proto_message(wsr_agent_events[i], data, m->correlation_id));
    }
    gw_registry_transition(c->registry, key, WSR_ST_IDLE, c->id);
    gw_trace_emitf(tr, c->id, key, "message.done", "{s:s?}", "correlation_id",
                   m->correlation_id);
}

static void processor_job(void *arg)
{
    gw_conn_t *c = arg;
    char key[GW_KEY_MAX];

    for (;;) {
        inmsg_t *m;
        bool ready, gone;

        pthread_mutex_lock(&c->lock);
        if (!c->in_head || c->closed) {
            c->processing = false;
            pthread_mutex_unlock(&c->lock);
            break;
        }
        memcpy(key, c->key, sizeof(key));
        pthread_mutex_unlock(&c->lock);

        gw_sync_hit(c->gw->sync, WSR_SP_MESSAGE_GATE, c->id, key);

        pthread_mutex_lock(&c->lock);
        memcpy(key, c->key, sizeof(key));
        m = c->in_head;
        ready = gate_locked(c, m);
        gone = !ready && c->welcomed && machine_gone_locked(c, key);
        if (!ready && !gone) {
            /* Parked: the ready step kicks the processor again. */
            c->processing = false;
            pthread_mutex_unlock(&c->lock);
            break;
        }
        c->in_head = m->next;
        if (!c->in_head)
            c->in_tail = NULL;
        c->in_len--;
        pthread_mutex_unlock(&c->lock);

        if (gone)
            refuse_gone(c, m, key);
        else
            process_message(c, m, key);
        free(m->correlation_id);
        free(m->content);
        free(m);
    }
    gw_conn_unref(c);
}

void gw_conn_on_message(gw_conn_t *c, const char *buf, size_t len)
{
    gw_client_msg_t msg;
    char err[160], key[GW_KEY_MAX];
    inmsg_t *m;

    if (gw_conn_closing(c))
        return; /* it is being closed: nothing more is answered */
    copy_key(c, key);
    if (gw_client_msg_parse(buf, len, &msg, err, sizeof(err)) != 0) {
        gw_trace_emitf(c->gw->trace, c->id, key, "message.rejected",
                       "{s:s,s:s}", "error", GW_ERR_FORMAT, "reason", err);
        send_msg(c, gw_proto_error(GW_ERR_FORMAT, err, NULL));
        return;
    }
    if (strcmp(msg.type, "ping") == 0) {
        send_msg(c, gw_proto_message("pong", NULL, msg.correlation_id));
        gw_client_msg_free(&msg);
        return;
    }
    if (strcmp(msg.type, "user_message") != 0) {
        snprintf(err, sizeof(err), "unknown message type '%.64s'", msg.type);
        gw_trace_emitf(c->gw->trace, c->id, key, "message.rejected",
                       "{s:s,s:s}", "error", GW_ERR_UNKNOWN_TYPE, "reason",
                       err);
        send_msg(c,
                 gw_proto_error(GW_ERR_UNKNOWN_TYPE, err, msg.correlation_id));
        gw_client_msg_free(&msg);
        return;
    }
    m = calloc(1, sizeof(*m));
    if (m) {
        m->content = strdup(msg.content);
        m->correlation_id =
            msg.correlation_id ? strdup(msg.correlation_id) : NULL;
    }
    pthread_mutex_lock(&c->lock);
    if (!m || !m->content || c->in_len >= c->gw->params.max_queue) {
        snprintf(err, sizeof(err),
                 "not ready for messages: %u already queued (limit %u)",
                 c->in_len, c->gw->params.max_queue);
        gw_trace_emitf(c->gw->trace, c->id, c->key, "message.rejected",
                       "{s:s,s:s?,s:i}", "error", GW_ERR_NOT_READY,
                       "correlation_id", msg.correlation_id, "queued",
                       c->in_len);
        push_frame_locked(
            c, gw_proto_error(GW_ERR_NOT_READY, err, msg.correlation_id));
        pthread_mutex_unlock(&c->lock);
        if (m) {
            free(m->content);
            free(m->correlation_id);
            free(m);
        }
        wake(c);
        gw_client_msg_free(&msg);
        return;
    }
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
    c->in_len++;
    gw_trace_emitf(c->gw->trace, c->id, c->key, "message.received",
                   "{s:s?,s:i}", "correlation_id", msg.correlation_id, "queued",
                   c->in_len);
    kick_locked(c);
    pthread_mutex_unlock(&c->lock);
    gw_client_msg_free(&msg);
}

/* ------------------------------------------------------------------ */
/* Handshake steps                                                      */
/* ------------------------------------------------------------------ */

static bool aborted(gw_conn_t *c)
{
    bool closed;

    pthread_mutex_lock(&c->lock);
    closed = c->closed;
    pthread_mutex_unlock(&c->lock);
    return closed;
}

/* Step 1: register the preliminary key; CONNECTING -> ACCEPTED. */
static bool step_accept(gw_conn_t *c)
{
    char key[GW_KEY_MAX];
    int rc;

    snprintf(key, sizeof(key), "pre-%" PRIu64, c->id);
    set_key(c, key);
    c->init_scope.registry = c->registry; /* the init step's own handle */
    rc = gw_registry_register(c->init_scope.registry, key, "", c->coord, c->id);
    if (rc != 0) {
        fail_conn(c, GW_CLOSE_INTERNAL, GW_ERR_INTERNAL,
                  "preliminary registration failed");
        c->init_scope.registry = NULL;
        return false;
    }
    pthread_mutex_lock(&c->lock);
    c->registered = true;
    pthread_mutex_unlock(&c->lock);
    gw_registry_transition(c->init_scope.registry, key, WSR_ST_ACCEPTED, c->id);
    coord_phase(c, key, WSR_CO_HANDSHAKE_PENDING);
    c->init_scope.registry = NULL; /* the init step's scope ends here */
    gw_sync_hit(c->gw->sync, WSR_SP_ACCEPT_REGISTERED, c->id, key);
    return true;
}

/* Step 2: verify the token; ACCEPTED -> AUTHENTICATED. */
static bool step_auth(gw_conn_t *c)
{
    char key[GW_KEY_MAX], msg[160];
    wsr_token_result_t res;

    copy_key(c, key);
    if (c->ticket && !c->token) {
        int rc =
            gw_tickets_redeem(c->gw->tickets, c->ticket, (int64_t)time(NULL),
                              c->user, sizeof(c->user));

        res = rc == 0 ? WSR_TOKEN_OK : WSR_TOKEN_MALFORMED;
        snprintf(msg, sizeof(msg), "%s",
                 rc == 0 ? "ok" : "unknown, used or expired ticket");
    } else {
        res = wsr_token_verify(c->gw->params.secret, c->token,
                               (int64_t)time(NULL), c->user, sizeof(c->user));
        snprintf(msg, sizeof(msg), "%s", wsr_token_result_text(res));
    }
    free(c->token);
    c->token = NULL;
    free(c->ticket);
    c->ticket = NULL;
    if (res != WSR_TOKEN_OK) {
        gw_trace_emitf(c->gw->trace, c->id, key, "auth.failed", "{s:s}",
                       "reason", msg);
        fail_conn(c, GW_CLOSE_POLICY, GW_ERR_AUTH, msg);
        return false;
    }
    if (c->session_problem) {
        gw_trace_emitf(c->gw->trace, c->id, key, "session.invalid", "{s:s}",
                       "reason", c->session_problem);
        fail_conn(c, GW_CLOSE_BAD_SESSION, GW_ERR_INVALID_SESSION,
                  c->session_problem);
        return false;
    }
    gw_registry_set_user(c->registry, key, c->user, c->id);
    gw_trace_emitf(c->gw->trace, c->id, key, "auth.ok", "{s:s}", "user",
                   c->user);
    gw_registry_transition(c->registry, key, WSR_ST_AUTHENTICATED, c->id);
    gw_sync_hit(c->gw->sync, WSR_SP_AUTH_DONE, c->id, key);
    return true;
}

/* Step 3: start services; AUTHENTICATED -> SERVICES_READY. */
static bool step_services(gw_conn_t *c)
{
    const gw_params_t *p = &c->gw->params;
    char key[GW_KEY_MAX];

    copy_key(c, key);
    if (p->service_latency_ms) {
        struct timespec ts = {p->service_latency_ms / 1000,
                              (long)(p->service_latency_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    gw_registry_transition(c->registry, key, WSR_ST_SERVICES_READY, c->id);
    coord_phase(c, key, WSR_CO_CONNECTED);
    gw_sync_hit(c->gw->sync, WSR_SP_SERVICES_DONE, c->id, key);
    if (wsr_fault_on(&p->faults, WSR_FAULT_COORDINATOR_GAP)) {
        /* coordinator-gap: the coordinator declares itself ready once its
         * own handshake is done, with no link to the state machine. */
        json_t *f = json_pack("{s:s,s:s,s:b}", "phase", "READY_FOR_MESSAGES",
                              "result", "ok", "linked", 0);

        gw_sync_hit(c->gw->sync, WSR_SP_COORDINATOR_READY, c->id, key);
        pthread_mutex_lock(&c->lock);
        if (gw_coord_advance(c->coord, WSR_CO_READY) != 0)
            json_object_set_new(f, "result", json_string("refused"));
        machine_field(c, key, f);
        gw_trace_emit(c->gw->trace, c->id, key, "coordinator.phase", f);
        kick_locked(c);
        pthread_mutex_unlock(&c->lock);
    }
    return true;
}

static void session_key(gw_conn_t *c, char *out)
{
    if (c->session[0]) {
        memcpy(out, c->session, GW_KEY_MAX);
        return;
    }
    /* A generated id: unique per connection, reproducible per seed. */
    uint64_t x = c->gw->params.seed ^ (c->id * 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
    snprintf(out, GW_KEY_MAX, "sess-%" PRIu64 "-%08" PRIx64, c->id,
             (x ^ (x >> 29)) & 0xffffffffu);
}

/* Step 4: swap the preliminary key for the session id. */
static bool step_swap(gw_conn_t *c)
{
    const wsr_faults_t *faults = &c->gw->params.faults;
    char pre[GW_KEY_MAX], final[GW_KEY_MAX];
    gw_registry_t *reg = c->registry;
    int rc;

    copy_key(c, pre);
    session_key(c, final);
    if (c->session[0]) {
        /* A client's own id is bound to its user (gw_session.h); a
         * generated one is in the gateway's namespace, nobody else's. */
        rc = gw_sessions_claim(c->gw->sessions, final, c->user, mono_ms());
        if (rc == -EACCES) {
            char msg[GW_KEY_MAX + 64];
            snprintf(msg, sizeof(msg), "session '%s' belongs to another user",
                     final);
            gw_trace_emitf(c->gw->trace, c->id, pre, "session.forbidden",
                           "{s:s}", "session", final);
            fail_conn(c, GW_CLOSE_FORBIDDEN, GW_ERR_SESSION_FORBIDDEN, msg);
            return false;
        }
        if (rc < 0) {
            fail_conn(c, GW_CLOSE_INTERNAL, GW_ERR_INTERNAL,
                      "session table full");
            return false;
        }
        c->claimed = true;
    }
    if (wsr_fault_on(faults, WSR_FAULT_SCOPE_LOSS))
        /* scope-loss: the swap uses the registry handle of the init step,
         * whose scope has ended. */
        reg = c->init_scope.registry;
    gw_trace_emitf(c->gw->trace, c->id, pre, "swap.begin", "{s:s,s:s,s:s}",
                   "from", pre, "to", final, "handle",
                   reg ? "endpoint" : "out-of-scope");
    if (!reg && wsr_fault_mode(faults, WSR_FAULT_SCOPE_LOSS) != WSR_SCOPE_CRASH) {
        /* The stale handle is caught (the original's NameError). */
        gw_trace_emitf(c->gw->trace, c->id, pre, "swap.error", "{s:s,s:s}",
                       "error", "registry handle out of scope", "mode",
                       wsr_fault_mode_name(WSR_FAULT_SCOPE_LOSS,
                                           wsr_fault_mode(faults,
                                                          WSR_FAULT_SCOPE_LOSS)));
        if (wsr_fault_mode(faults, WSR_FAULT_SCOPE_LOSS) == WSR_SCOPE_ERROR) {
            fail_conn(c, GW_CLOSE_INTERNAL, GW_ERR_INTERNAL,
                      "registry handle out of scope");
            return false;
        }
        /* swallow: a catch-all logs it and carries on as if swapped; the
         * machine stays under the preliminary key. */
        set_key(c, final);
        gw_trace_emitf(c->gw->trace, c->id, final, "swap.swallowed", "{s:s}",
                       "machine_key", pre);
        return true;
    }
    rc = gw_registry_rekey(reg, pre, final, c->id);
    if (rc < 0 && c->claimed) {
        gw_sessions_release(c->gw->sessions, final, mono_ms());
        c->claimed = false;
    }
    if (rc == -EEXIST) {
        char msg[GW_KEY_MAX + 64];
        snprintf(msg, sizeof(msg), "session '%s' is already connected", final);
        fail_conn(c, GW_CLOSE_DUPLICATE_SESSION, GW_ERR_DUPLICATE_SESSION, msg);
        return false;
    }
    if (rc < 0) {
        fail_conn(c, GW_CLOSE_INTERNAL, GW_ERR_INTERNAL, "key swap failed");
        return false;
    }
    set_key(c, final); /* 0, or GW_REG_EXISTING: sharing a live machine */
    gw_trace_emitf(c->gw->trace, c->id, final, "swap.done", "{s:s,s:s}", "from",
                   pre, "result", rc == GW_REG_EXISTING ? "existing" : "moved");
    if (wsr_fault_on(faults, WSR_FAULT_EARLY_WELCOME)) {
        /* early-welcome: the welcome goes out before the ready step. */
        json_t *f = json_pack("{s:b}", "connection_ready", 1);
        pthread_mutex_lock(&c->lock);
        machine_field(c, final, f);
        gw_trace_emit(c->gw->trace, c->id, final, "welcome.sent", f);
        send_welcome_locked(c);
        pthread_mutex_unlock(&c->lock);
        wake(c);
    }
    return true;
}

/* Step 5: coordinator READY and machine PROCESSING_READY, then welcome. */
static bool step_ready(gw_conn_t *c)
{
    char key[GW_KEY_MAX];
    int rc;

    copy_key(c, key);
    if (wsr_fault_on(&c->gw->params.faults, WSR_FAULT_COORDINATOR_GAP)) {
        /* coordinator-gap: the machine is advanced on its own; the
         * coordinator went READY in the services step. */
        gw_sync_hit(c->gw->sync, WSR_SP_MACHINE_READY, c->id, key);
        pthread_mutex_lock(&c->lock);
        rc = gw_registry_transition(c->registry, key, WSR_ST_PROCESSING_READY,
                                    c->id);
    } else {
        gw_sync_hit(c->gw->sync, WSR_SP_COORDINATOR_READY, c->id, key);
        gw_sync_hit(c->gw->sync, WSR_SP_MACHINE_READY, c->id, key);
        pthread_mutex_lock(&c->lock);
        rc = gw_registry_mark_ready(c->registry, key, c->coord, c->id);
    }
    if (rc != 0) {
        pthread_mutex_unlock(&c->lock);
        gw_trace_emitf(c->gw->trace, c->id, key, "ready.failed", "{s:s}",
                       "reason",
                       rc == -ENOENT ? "no machine under the key"
                                     : "machine refused PROCESSING_READY");
        return false;
    }
    if (!c->welcomed) {
        json_t *f = json_pack("{s:b}", "connection_ready", 1);
        machine_field(c, key, f);
        gw_trace_emit(c->gw->trace, c->id, key, "welcome.sent", f);
        send_welcome_locked(c);
    }
    kick_locked(c); /* messages that arrived early, in order */
    pthread_mutex_unlock(&c->lock);
    wake(c);
    return true;
}

/* ------------------------------------------------------------------ */
/* Close                                                                */
/* ------------------------------------------------------------------ */

static void close_path(gw_conn_t *c)
{
    char key[GW_KEY_MAX];
    bool registered;
    wsr_state_t st;

    if (atomic_exchange(&c->close_done, true))
        return;
    copy_key(c, key);
    gw_sync_hit(c->gw->sync, WSR_SP_CLOSE_BEGIN, c->id, key);
    pthread_mutex_lock(&c->lock);
    registered = c->registered;
    c->registered = false;
    pthread_mutex_unlock(&c->lock);
    if (registered) {
        if (gw_registry_state(c->registry, key, c->id, &st) == 0 &&
            wsr_state_allowed(st, WSR_ST_CLOSING))
            gw_registry_transition(c->registry, key, WSR_ST_CLOSING, c->id);
        gw_registry_transition(c->registry, key, WSR_ST_CLOSED, c->id);
        if (!wsr_fault_on(&c->gw->params.faults, WSR_FAULT_REGISTRY_LEAK))
            gw_registry_unregister(c->registry, key, c->id);
        /* registry-leak: the line above is skipped; the entry stays. */
    }
    if (c->claimed) {
        gw_sessions_release(c->gw->sessions, c->session, mono_ms());
        c->claimed = false;
    }
    coord_phase(c, key, WSR_CO_CLOSED);
    gw_trace_emit(c->gw->trace, c->id, key, "conn.closed", NULL);
}

static void close_job(void *arg)
{
    gw_conn_t *c = arg;

    close_path(c);
    gw_conn_unref(c);
}

void gw_conn_on_closed(gw_conn_t *c)
{
    char key[GW_KEY_MAX];
    bool now;

    pthread_mutex_lock(&c->lock);
    memcpy(key, c->key, sizeof(key));
    /* Traced before `closed` is published: a handshake job that sees it
     * runs the close path at once, and its events must follow this one. */
    gw_trace_emit(c->gw->trace, c->id, key[0] ? key : NULL,
                  "conn.transport_closed", NULL);
    c->closed = true;
    now = !c->handshake_running;
    pthread_mutex_unlock(&c->lock);
    if (now) {
        gw_conn_ref(c);
        if (gw_pool_submit(c->gw->pool, close_job, c) != 0)
            close_job(c); /* the pool is draining: close here */
    }
}

static void handshake_job(void *arg)
{
    gw_conn_t *c = arg;
    bool closed;

    gw_trace_emit(c->gw->trace, c->id, NULL, "conn.open", NULL);
    if (step_accept(c) && !aborted(c) && step_auth(c) && !aborted(c) &&
        step_services(c) && !aborted(c) && step_swap(c) && !aborted(c))
        step_ready(c);
    pthread_mutex_lock(&c->lock);
    c->handshake_running = false;
    closed = c->closed;
    pthread_mutex_unlock(&c->lock);
    if (closed)
        close_path(c); /* the transport went away during the handshake */
    gw_conn_unref(c);
}

void gw_conn_start(gw_conn_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->handshake_running = true;
    pthread_mutex_unlock(&c->lock);
    gw_conn_ref(c);
    if (gw_pool_submit(c->gw->pool, handshake_job, c) != 0) {
        pthread_mutex_lock(&c->lock);
        c->handshake_running = false;
        pthread_mutex_unlock(&c->lock);
        gw_conn_unref(c);
    }
}
