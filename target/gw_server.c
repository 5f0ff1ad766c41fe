/* gw_server.c - libwebsockets glue: one protocol serving HTTP and WS, on
 * one or more service loops that share the port (gw_loop.h).
 *
 * Threads: each loop's lws calls happen on that loop's thread, except the
 * wake-up, which workers reach through gw_sink_t.wake: a connection is
 * served by the loop that accepted it, whose svc_t it carries
 * (gw_conn_owner). Workers queue connections needing a flush on that
 * loop's `pending` (guarded by its `lock`, which also guards `alive`);
 * the loop drains it when woken and asks lws for writable callbacks.
 * The HTTP endpoints read shared state only (the registry, under its
 * lock, and atomics), so any loop answers them.
 * Lock order: `lock` is a leaf (nothing else is taken while it is held;
 * gw_loop_wake() only signals the loop). */
#include "gw_server.h"

#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_loop.h"
#include "gw_proto.h"
#include "wsr_token.h"

#define PROTOCOL_NAME "wsrace.v1"

/* One of these is created for each service loop. */
typedef struct {
    gw_server_t *s;
    gw_loop_t *loop;
    pthread_t th;         /* its thread (loops after the first) */
    char name[16];        /* its thread's name in the trace */
    pthread_mutex_t lock; /* guards pending, npending, cap, alive */
    gw_conn_t **pending;  /* connections to flush (each a reference) */
    size_t npending, cap;
    bool alive; /* the loop may be woken */
} svc_t;

struct gw_server {
    gw_gateway_t *gw;
    size_t max_message;
    svc_t *svc; /* one per loop */
    unsigned nloops;
};

/* One of these is created for each HTTP request or WebSocket connection. */
typedef struct {
    gw_conn_t *conn; /* WS: the connection (the transport's reference) */
    char *token;     /* WS: token presented at the upgrade, until open */
    char *session;   /* WS: session id presented at the upgrade */
    char *rx;        /* WS: message being reassembled from fragments */
    size_t rx_len;
    char *http_body; /* HTTP: response body, LWS_PRE headroom first */
    size_t http_len, http_off;
} pss_t;

static svc_t *svc_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ------------------------------------------------------------------ */
/* Waking a service loop                                                */
/* ------------------------------------------------------------------ */

static void sink_wake(void *ctx, gw_conn_t *c)
{
    svc_t *v = gw_conn_owner(c);

    (void)ctx;
    if (v == NULL || !gw_conn_mark_wake(c))
        return; /* not served yet, or already queued */
    pthread_mutex_lock(&v->lock);
    if (v->alive && v->npending == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        gw_conn_t **p = realloc(v->pending, cap * sizeof(*p));
        if (p) {
            v->pending = p;
            v->cap = cap;
        }
    }
    if (v->alive && v->npending < v->cap) {
        v->pending[v->npending++] = gw_conn_ref(c);
        gw_loop_wake(v->loop);
    } else {
        gw_conn_clear_wake(c);
    }
    pthread_mutex_unlock(&v->lock);
}

/* The loop's wake function: flushes the connections workers queued. */
static void drain_pending(void *arg)
{
    svc_t *v = arg;
    gw_conn_t **list;
    size_t n;

    pthread_mutex_lock(&v->lock);
    list = v->pending;
    n = v->npending;
    v->pending = NULL;
    v->npending = v->cap = 0;
    pthread_mutex_unlock(&v->lock);
    for (size_t i = 0; i < n; i++) {
        struct lws *wsi = gw_conn_transport(list[i]);
        gw_conn_clear_wake(list[i]);
        if (wsi)
            lws_callback_on_writable(wsi);
        gw_conn_unref(list[i]);
    }
    free(list);
}

/* ------------------------------------------------------------------ */
/* HTTP endpoints                                                       */
/* ------------------------------------------------------------------ */

static bool peer_is_loopback(struct lws *wsi)
{
    char ip[64] = "";

    lws_get_peer_simple(wsi, ip, sizeof(ip));
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

static void registry_row(const gw_registry_view_t *v, void *arg)
{
    json_t *row = json_pack(
        "{s:s,s:s,s:s,s:o,s:I}", "key", v->key, "user", v->user, "state",
        wsr_state_name(v->state), "coordinator",
        v->coord_phase < 0 ? json_null()
                           : json_string(wsr_coord_phase_name(
                                 (wsr_coord_phase_t)v->coord_phase)),
        "conn", (json_int_t)v->owner);

    if (v->instance >= 0) /* a cluster's entry: whose instance holds it */
        json_object_set_new(row, "instance", json_integer(v->instance));
    json_array_append_new(arg, row);
}

/* Builds the JSON answer for path; *status gets the HTTP status. */
static json_t *http_answer(gw_server_t *s, struct lws *wsi, const char *path,
                           int *status)
{
    gw_gateway_t *gw = s->gw;
    char buf[GW_KEY_MAX + 8];
    const char *id;

    *status = 200;
    if (!peer_is_loopback(wsi)) {
        *status = 403;
        return json_pack("{s:s}", "error", "debug endpoints are loopback-only");
    }
    if (strcmp(path, "/healthz") == 0) {
        json_t *faults = json_array();
        for (int i = 0; i < WSR_FAULT__COUNT; i++)
            if (wsr_fault_on(&gw->params.faults, (wsr_fault_id_t)i))
                json_array_append_new(
                    faults, json_string(wsr_fault_name((wsr_fault_id_t)i)));
        return json_pack("{s:s,s:o,s:I,s:I}", "status", "ok", "faults", faults,
                         "connections", (json_int_t)atomic_load(&gw->live),
                         "registered",
                         (json_int_t)gw_registry_count(gw->registry));
    }
    if (strcmp(path, "/debug/registry") == 0) {
        json_t *rows = json_array();
        gw_registry_foreach(gw->registry, registry_row, rows);
        return json_pack("{s:o}", "connections", rows);
    }
    if (strcmp(path, "/debug/ready") == 0) {
        bool registered, ready;

        id = lws_get_urlarg_by_name(wsi, "id=", buf, sizeof(buf));
        if (!id || !*id) {
            *status = 400;
            return json_pack("{s:s}", "error", "missing query ?id=KEY");
        }
        ready = gw_registry_answer_ready(gw->registry, id, &registered);
        return json_pack("{s:s,s:b,s:b}", "id", id, "registered", registered,
                         "ready", ready);
    }
    *status = 404;
    return json_pack("{s:s,s:s}", "error", "not found", "path", path);
}

static int http_request(gw_server_t *s, struct lws *wsi, pss_t *pss,
                        const char *path)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;
    int status;
    json_t *answer = http_answer(s, wsi, path, &status);
    char *body = json_dumps(answer, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len;

    json_decref(answer);
    if (!body)
        return -1;
    len = strlen(body);
    free(pss->http_body);
    pss->http_body = malloc(LWS_PRE + len + 1);
    if (!pss->http_body) {
        free(body);
        return -1;
    }
    memcpy(pss->http_body + LWS_PRE, body, len);
    pss->http_body[LWS_PRE + len] = '\n';
    pss->http_len = len + 1;
    pss->http_off = 0;
    free(body);
    if (lws_add_http_common_headers(wsi, (unsigned)status, "application/json",
                                    pss->http_len, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_writeable(struct lws *wsi, pss_t *pss)
{
    size_t chunk;
    int final;

    if (!pss->http_body)
        return 0;
    chunk = pss->http_len - pss->http_off;
    if (chunk > 8192)
        chunk = 8192;
    final = pss->http_off + chunk == pss->http_len;
    if (lws_write(
            wsi, (unsigned char *)pss->http_body + LWS_PRE + pss->http_off,
            chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)chunk)
        return -1;
    pss->http_off += chunk;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(pss->http_body);
    pss->http_body = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* WebSocket endpoint                                                   */
/* ------------------------------------------------------------------ */

/* Copies a header (lws token, or custom when tok < 0) into a new string. */
static char *header_dup(struct lws *wsi, int tok, const char *custom)
{
    int len = tok >= 0
                  ? lws_hdr_total_length(wsi, (enum lws_token_indexes)tok)
                  : lws_hdr_custom_length(wsi, custom, (int)strlen(custom));
    char *buf;

    if (len <= 0 || len > WSR_TOKEN_MAX + 64)
        return NULL;
    buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    if ((tok >= 0 ? lws_hdr_copy(wsi, buf, len + 1, (enum lws_token_indexes)tok)
                  : lws_hdr_custom_copy(wsi, buf, len + 1, custom,
                                        (int)strlen(custom))) < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Token from "Authorization: Bearer T", else from a "jwt.T" subprotocol. */
static char *find_token(struct lws *wsi)
{
    char *h = header_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, NULL);
    char *tok = NULL, *save = NULL;

    if (h) {
        if (strncasecmp(h, "Bearer ", 7) == 0)
            tok = strdup(h + 7);
        free(h);
        if (tok)
            return tok;
    }
    h = header_dup(wsi, WSI_TOKEN_PROTOCOL, NULL);
    if (!h)
        return NULL;
    for (char *p = strtok_r(h, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
        if (strncmp(p, "jwt.", 4) == 0) {
            tok = strdup(p + 4);
            break;
        }
    free(h);
    return tok;
}

static int ws_filter(struct lws *wsi, pss_t *pss)
{
    char uri[64], buf[GW_KEY_MAX + 16];
    const char *arg;

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        strcmp(uri, "/ws") != 0)
        return 1; /* only /ws upgrades */
    pss->token = find_token(wsi);
    pss->session = header_dup(wsi, -1, "x-session-id:");
    if (!pss->session) {
        arg = lws_get_urlarg_by_name(wsi, "session=", buf, sizeof(buf));
        if (arg && *arg)
            pss->session = strdup(arg);
    }
    if (pss->session && strlen(pss->session) >= GW_KEY_MAX) {
        free(pss->session); /* an over-long id: fall back to a generated one */
        pss->session = NULL;
    }
    return 0;
}

static int ws_receive(gw_server_t *s, struct lws *wsi, pss_t *pss,
                      const void *in, size_t len)
{
    char *grown;

    if (pss->rx_len + len > s->max_message) {
        static const char reason[] = "message too big";
        gw_trace_emitf(s->gw->trace, gw_conn_id(pss->conn), NULL,
                       "message.too_big", "{s:I,s:I}", "bytes",
                       (json_int_t)(pss->rx_len + len), "limit",
                       (json_int_t)s->max_message);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)reason, sizeof(reason) - 1);
        return -1;
    }
    grown = realloc(pss->rx, pss->rx_len + len + 1);
    if (!grown)
        return -1;
    pss->rx = grown;
    memcpy(pss->rx + pss->rx_len, in, len);
    pss->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    gw_conn_on_message(pss->conn, pss->rx, pss->rx_len);
    pss->rx_len = 0;
    return 0;
}

/* Writes the frames queued, while the socket takes them (each frame is a
 * write of its own; a choked socket gets the rest on its next writable
 * callback), then the close when one was asked for. */
static int ws_writeable(struct lws *wsi, pss_t *pss)
{
    gw_frame_t *f;
    char reason[96];
    int code;

    if ((f = gw_conn_pop_frame(pss->conn)) != NULL) {
        do {
            int n = lws_write(wsi, (unsigned char *)f->data + LWS_PRE,
                              f->len, LWS_WRITE_TEXT);

            free(f);
            if (n < 0)
                return -1;
        } while (!lws_send_pipe_choked(wsi) &&
                 (f = gw_conn_pop_frame(pss->conn)) != NULL);
        lws_callback_on_writable(wsi); /* more frames, or a close */
        return 0;
    }
    code = gw_conn_close_code(pss->conn, reason, sizeof(reason));
    if (code) {
        lws_close_reason(wsi, (enum lws_close_status)code,
                         (unsigned char *)reason, strlen(reason));
        return -1;
    }
    return 0;
}

static void pss_release(pss_t *pss)
{
    if (pss->conn) {
        gw_conn_set_transport(pss->conn, NULL);
        gw_conn_on_closed(pss->conn);
        gw_conn_unref(pss->conn);
        pss->conn = NULL;
    }
    free(pss->token);
    free(pss->session);
    free(pss->rx);
    free(pss->http_body);
    memset(pss, 0, sizeof(*pss));
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    svc_t *v = svc_of(wsi);
    gw_server_t *s = v ? v->s : NULL;
    pss_t *pss = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        return 0; /* wakes come through gw_loop_wake(); non-zero breaks lws */
    case LWS_CALLBACK_HTTP:
        return http_request(s, wsi, pss, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            free(pss->http_body);
            pss->http_body = NULL;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(wsi, pss);
    case LWS_CALLBACK_ESTABLISHED:
        pss->conn = gw_conn_new(s->gw, pss->token, pss->session);
        free(pss->token);
        free(pss->session);
        pss->token = pss->session = NULL;
        if (!pss->conn)
            return -1;
        gw_conn_set_transport(pss->conn, wsi);
        gw_conn_set_owner(pss->conn, v); /* before any worker sees it */
        gw_conn_start(pss->conn);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return pss->conn ? ws_receive(s, wsi, pss, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss->conn ? ws_writeable(wsi, pss) : 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (pss)
            pss_release(pss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {PROTOCOL_NAME, callback, sizeof(pss_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Runs one loop after the first on its own thread. */
static void *loop_main(void *arg)
{
    svc_t *v = arg;

    gw_trace_set_thread_name(v->name);
    pthread_setname_np(pthread_self(), "gw-loop"); /* for ps and perf */
    gw_loop_run(v->loop);
    return NULL;
}

gw_server_t *gw_server_new(gw_gateway_t *gw, const gw_server_opts_t *opts,
                           int *port, char *err, size_t errlen)
{
    gw_server_t *s = calloc(1, sizeof(*s));
    unsigned n = opts->loops ? opts->loops : 1;

    if (!s || !(s->svc = calloc(n, sizeof(*s->svc)))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->gw = gw;
    s->max_message = opts->max_message;
    gw->params.frame_headroom = LWS_PRE;
    lws_set_log_level(LLL_ERR, NULL);
    if (gw_loop_reserve_port(opts->host, opts->port, port, err, errlen) != 0)
        goto fail;
    /* One after another: libev's loop creation is not thread-safe. */
    for (; s->nloops < n; s->nloops++) {
        svc_t *v = &s->svc[s->nloops];
        gw_loop_opts_t lo = {
            .host = opts->host,
            .port = *port,
            .protocols = protocols,
            .user = v,
            .wake = drain_pending,
            .wake_arg = v,
            .timeout_secs = 10,
        };

        v->s = s;
        v->alive = true;
        snprintf(v->name, sizeof(v->name), "svc%u", s->nloops);
        pthread_mutex_init(&v->lock, NULL);
        v->loop = gw_loop_new(&lo, err, errlen);
        if (!v->loop) {
            pthread_mutex_destroy(&v->lock);
            goto fail;
        }
    }
    gw->sink.wake = sink_wake;
    gw->sink.ctx = s;
    return s;
fail:
    gw_server_free(s);
    return NULL;
}

int gw_server_run(gw_server_t *s)
{
    unsigned started = 1, k;
    int rc = 0;

    for (; started < s->nloops; started++)
        if (pthread_create(&s->svc[started].th, NULL, loop_main,
                           &s->svc[started]) != 0) {
            rc = -EAGAIN;
            gw_server_interrupt(s);
            break;
        }
    gw_trace_set_thread_name(s->svc[0].name);
    gw_loop_run(s->svc[0].loop);
    gw_trace_set_thread_name("main"); /* the name's storage is s's */
    for (k = 1; k < started; k++)
        pthread_join(s->svc[k].th, NULL);
    return rc;
}

void gw_server_interrupt(gw_server_t *s)
{
    for (unsigned k = 0; k < s->nloops; k++) {
        svc_t *v = &s->svc[k];

        pthread_mutex_lock(&v->lock);
        if (v->alive)
            gw_loop_stop(v->loop);
        pthread_mutex_unlock(&v->lock);
    }
}

void gw_server_close(gw_server_t *s)
{
    if (!s)
        return;
    /* From now on wakes are ignored, on every loop, before any of them
     * closes its connections (their close paths wake other loops too). */
    for (unsigned k = 0; k < s->nloops; k++) {
        pthread_mutex_lock(&s->svc[k].lock);
        s->svc[k].alive = false;
        pthread_mutex_unlock(&s->svc[k].lock);
    }
    for (unsigned k = 0; k < s->nloops; k++)
        gw_loop_close(s->svc[k].loop); /* CLOSED for every connection */
}

void gw_server_free(gw_server_t *s)
{
    if (!s)
        return;
    gw_server_close(s);
    for (unsigned k = 0; k < s->nloops; k++) {
        svc_t *v = &s->svc[k];

        gw_loop_free(v->loop);
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < v->npending; i++)
            gw_conn_unref(v->pending[i]);
        free(v->pending);
        pthread_mutex_unlock(&v->lock);
        pthread_mutex_destroy(&v->lock);
    }
    if (s->gw->sink.ctx == s)
        s->gw->sink.wake = NULL;
    free(s->svc);
    free(s);
}
