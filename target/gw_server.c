/* gw_server.c - libwebsockets glue: one protocol serving HTTP and WS.
 *
 * Threads: every lws call happens on the service thread, except
 * lws_cancel_service(), which workers reach through gw_sink_t.wake. Workers
 * queue connections needing a flush on `pending` (guarded by `lock`, which
 * also guards `alive`); the service thread drains it on
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED and asks lws for writable callbacks.
 * Lock order: `lock` is a leaf (nothing else is taken while it is held,
 * lws_cancel_service only writes to a pipe). */
#include "gw_server.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_proto.h"
#include "wsr_token.h"

#define PROTOCOL_NAME "wsrace.v1"

struct gw_server {
    gw_gateway_t *gw;
    struct lws_context *ctx;
    size_t max_message;
    pthread_mutex_t lock; /* guards pending, npending, cap, alive */
    gw_conn_t **pending;  /* connections to flush (each a reference) */
    size_t npending, cap;
    bool alive; /* ctx may be woken */
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

static gw_server_t *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ------------------------------------------------------------------ */
/* Waking the service thread                                            */
/* ------------------------------------------------------------------ */

static void sink_wake(void *ctx, gw_conn_t *c)
{
    gw_server_t *s = ctx;

    if (!gw_conn_mark_wake(c))
        return; /* already queued */
    pthread_mutex_lock(&s->lock);
    if (s->alive && s->npending == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        gw_conn_t **p = realloc(s->pending, cap * sizeof(*p));
        if (p) {
            s->pending = p;
            s->cap = cap;
        }
    }
    if (s->alive && s->npending < s->cap) {
        s->pending[s->npending++] = gw_conn_ref(c);
        lws_cancel_service(s->ctx);
    } else {
        gw_conn_clear_wake(c);
    }
    pthread_mutex_unlock(&s->lock);
}

static void drain_pending(gw_server_t *s)
{
    gw_conn_t **list;
    size_t n;

    pthread_mutex_lock(&s->lock);
    list = s->pending;
    n = s->npending;
    s->pending = NULL;
    s->npending = s->cap = 0;
    pthread_mutex_unlock(&s->lock);
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

static int ws_writeable(struct lws *wsi, pss_t *pss)
{
    gw_frame_t *f = gw_conn_pop_frame(pss->conn);
    char reason[96];
    int code;

    if (f) {
        int n = lws_write(wsi, (unsigned char *)f->data + LWS_PRE, f->len,
                          LWS_WRITE_TEXT);
        free(f);
        if (n < 0)
            return -1;
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
    gw_server_t *s = server_of(wsi);
    pss_t *pss = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s)
            drain_pending(s);
        return 0;
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

gw_server_t *gw_server_new(gw_gateway_t *gw, const gw_server_opts_t *opts,
                           int *port, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    struct lws_vhost *vh;
    gw_server_t *s = calloc(1, sizeof(*s));

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->gw = gw;
    s->max_message = opts->max_message;
    s->alive = true;
    pthread_mutex_init(&s->lock, NULL);
    gw->params.frame_headroom = LWS_PRE;
    gw->sink.wake = sink_wake;
    gw->sink.ctx = s;

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = opts->port;
    info.iface = opts->host;
    info.protocols = protocols;
    info.user = s;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (!strchr(opts->host, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        snprintf(err, errlen, "cannot listen on %s:%d", opts->host, opts->port);
        goto fail;
    }
    vh = lws_get_vhost_by_name(s->ctx, "default");
    *port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (*port <= 0) {
        snprintf(err, errlen, "no listening port on %s", opts->host);
        lws_context_destroy(s->ctx);
        goto fail;
    }
    return s;
fail:
    gw->sink.wake = NULL;
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

void gw_server_run(gw_server_t *s, _Atomic bool *stop)
{
    gw_trace_set_thread_name("svc");
    while (!atomic_load(stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
}

void gw_server_interrupt(gw_server_t *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->alive)
        lws_cancel_service(s->ctx);
    pthread_mutex_unlock(&s->lock);
}

void gw_server_close(gw_server_t *s)
{
    if (!s || !s->ctx)
        return;
    pthread_mutex_lock(&s->lock);
    s->alive = false; /* from now on wakes are ignored */
    pthread_mutex_unlock(&s->lock);
    lws_context_destroy(s->ctx); /* CLOSED for every connection */
    s->ctx = NULL;
}

void gw_server_free(gw_server_t *s)
{
    if (!s)
        return;
    gw_server_close(s);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->npending; i++)
        gw_conn_unref(s->pending[i]);
    free(s->pending);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
