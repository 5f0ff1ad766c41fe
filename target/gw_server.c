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
#include <strings.h>
#include <time.h>

#include "gw_http.h"
#include "gw_loop.h"
#include "gw_proto.h"
#include "wsr_token.h"

#define PROTOCOL_NAME "wsrace.v1"

/* Seconds a connection being closed may go without being able to write
 * (its client not reading) before its socket is dropped. */
#define GW_CLOSE_FLUSH_S 5

/* Bytes of request headers lws keeps per connection during the upgrade:
 * room for "Authorization: Bearer" with a WSR_TOKEN_LEN_MAX token and the
 * usual headers of a browser (docs/DESIGN.md, "Limits"). */
#define GW_HEADER_DATA_MAX 8192

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
    char *ticket;    /* WS: ticket presented at the upgrade, until open */
    char *session;   /* WS: session id presented at the upgrade */
    size_t session_len;
    char *rx; /* WS: message being reassembled from fragments */
    size_t rx_len;
    bool close_bound;  /* WS: a close was requested and its flush bounded */
    bool skip_message; /* WS: the rest of a refused (binary) message */
    char *http_body;   /* HTTP: response body, LWS_PRE headroom first */
    size_t http_len, http_off;
    int http_status;
    bool http_deferred; /* HTTP: the answer waits for the request body */
    size_t body_seen;   /* HTTP: request body bytes read (and ignored) */
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
        pss_t *pss = wsi ? lws_wsi_user(wsi) : NULL;

        gw_conn_clear_wake(list[i]);
        if (wsi)
            lws_callback_on_writable(wsi);
        if (pss && !pss->close_bound && gw_conn_closing(list[i])) {
            /* A client that does not read cannot be sent its close: once
             * nothing could be written for GW_CLOSE_FLUSH_S seconds, the
             * socket is dropped (ws_writeable re-arms it on progress). */
            pss->close_bound = true;
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, GW_CLOSE_FLUSH_S);
        }
        gw_conn_unref(list[i]);
    }
    free(list);
}

/* ------------------------------------------------------------------ */
/* Reading a request                                                    */
/* ------------------------------------------------------------------ */

static bool peer_is_loopback(struct lws *wsi)
{
    char ip[64] = "";

    lws_get_peer_simple(wsi, ip, sizeof(ip));
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

/* Copies a header (lws token, or custom when tok < 0) into a new string
 * and its length into *lenp (may be NULL); NULL when absent. Headers are
 * bounded by the lws header buffer (GW_HEADER_DATA_MAX). */
static char *header_dup(struct lws *wsi, int tok, const char *custom,
                        size_t *lenp)
{
    int len = tok >= 0
                  ? lws_hdr_total_length(wsi, (enum lws_token_indexes)tok)
                  : lws_hdr_custom_length(wsi, custom, (int)strlen(custom));
    char *buf;

    if (len <= 0)
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
    buf[len] = '\0';
    if (lenp)
        *lenp = (size_t)len;
    return buf;
}

/* The query arguments, URL-decoded by lws ("name=value" each), into
 * args (GW_HTTP_ARGS_MAX at most; free them with free_args). Returns NULL,
 * or why the query cannot be read. */
static const char *read_args(struct lws *wsi, char **args, size_t *nargs)
{
    *nargs = 0;
    for (int i = 0;; i++) {
        int n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        char *a = malloc((size_t)n + 1);

        if (!a)
            return "out of memory";
        if (lws_hdr_copy_fragment(wsi, a, n + 1, WSI_TOKEN_HTTP_URI_ARGS, i) <
            0) {
            free(a);
            return NULL; /* no more */
        }
        if (*nargs == GW_HTTP_ARGS_MAX) {
            free(a);
            return "more than 32 query arguments";
        }
        args[(*nargs)++] = a;
    }
}

static void free_args(char **args, size_t nargs)
{
    for (size_t i = 0; i < nargs; i++)
        free(args[i]);
}

/* ------------------------------------------------------------------ */
/* HTTP endpoints (gw_http.c answers; this sends)                       */
/* ------------------------------------------------------------------ */

/* Sends the status line and headers of the answer in pss, then asks for a
 * writable callback for its body. */
static int http_send_headers(struct lws *wsi, pss_t *pss)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;
    static const char no_store[] = "no-store";

    if (lws_add_http_common_headers(wsi, (unsigned)pss->http_status,
                                    "application/json", pss->http_len, &p,
                                    end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)no_store,
                                     (int)strlen(no_store), &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Whether a request body follows the headers: lws reads one for every
 * POST (until Content-Length, or for want of it up to its own bound) and
 * for any request with a Content-Length over 0. */
static bool body_follows(struct lws *wsi, int method)
{
    char cl[32] = "";

    if (method == LWSHUMETH_POST)
        return true;
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return false;
    return atoll(cl) > 0; /* as lws reads it */
}

/* A request's headers are in: answer it now, or once its body (read and
 * ignored) is in. */
static int http_request(gw_server_t *s, struct lws *wsi, pss_t *pss,
                        const char *path)
{
    char *args[GW_HTTP_ARGS_MAX], *uri = NULL, *body;
    size_t nargs = 0, len;
    int urilen = 0, method = lws_http_get_uri_and_method(wsi, &uri, &urilen);
    gw_http_req_t r = {
        .method = method == LWSHUMETH_GET    ? GW_HTTP_GET
                  : method == LWSHUMETH_POST ? GW_HTTP_POST
                                             : GW_HTTP_OTHER,
        .path = path,
        .loopback = peer_is_loopback(wsi),
    };
    char *auth = header_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, NULL, NULL);
    json_t *answer;

    r.args_error = read_args(wsi, args, &nargs);
    r.args = (const char *const *)args;
    r.nargs = nargs;
    r.authorization = auth;
    answer = gw_http_answer(s->gw, &r, (int64_t)time(NULL), &pss->http_status);
    free_args(args, nargs);
    free(auth);
    body = answer ? json_dumps(answer, JSON_COMPACT | JSON_PRESERVE_ORDER)
                  : NULL;
    json_decref(answer);
    if (!body) {
        body = strdup("{\"error\":\"internal error\"}");
        pss->http_status = 500;
        if (!body)
            return -1;
    }
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
    pss->body_seen = 0;
    free(body);
    if (body_follows(wsi, method)) {
        pss->http_deferred = true; /* sent on BODY_COMPLETION */
        return 0;
    }
    return http_send_headers(wsi, pss);
}

/* A piece of a request body: counted, bounded, ignored. */
static int http_body(pss_t *pss, size_t len)
{
    pss->body_seen += len;
    return pss->body_seen > GW_HTTP_BODY_MAX ? -1 : 0;
}

static int http_body_done(struct lws *wsi, pss_t *pss)
{
    if (!pss->http_deferred || !pss->http_body)
        return -1;
    pss->http_deferred = false;
    return http_send_headers(wsi, pss);
}

static int http_writeable(struct lws *wsi, pss_t *pss)
{
    size_t chunk;
    int final;

    if (!pss->http_body || pss->http_deferred)
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

/* The first subprotocol offered that starts with prefix, without it. */
static char *subprotocol_value(const char *list, const char *prefix)
{
    char *h = strdup(list), *save = NULL, *out = NULL;
    size_t n = strlen(prefix);

    if (!h)
        return NULL;
    for (char *p = strtok_r(h, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
        if (strncmp(p, prefix, n) == 0) {
            out = strdup(p + n);
            break;
        }
    free(h);
    return out;
}

/* Reads what the client presents: the token ("Authorization: Bearer T",
 * else a "jwt.T" subprotocol), or else a one-time ticket (?ticket=T or a
 * "ticket.T" subprotocol), and the session id (X-Session-Id, else
 * ?session=ID) with its length, whatever it holds: the connection judges
 * it (gw_session.h). */
static int ws_filter(struct lws *wsi, pss_t *pss)
{
    char uri[64], *args[GW_HTTP_ARGS_MAX], *protos, *h;
    const char *v;
    size_t nargs = 0, len = 0;

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        strcmp(uri, "/ws") != 0)
        return 1; /* only /ws upgrades */
    if (read_args(wsi, args, &nargs) != NULL) {
        free_args(args, nargs);
        return 1;
    }
    protos = header_dup(wsi, WSI_TOKEN_PROTOCOL, NULL, NULL);
    h = header_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, NULL, NULL);
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        pss->token = strdup(h + 7);
    free(h);
    if (!pss->token && protos)
        pss->token = subprotocol_value(protos, "jwt.");
    if (!pss->token) {
        if ((v = gw_http_arg((const char *const *)args, nargs, "ticket",
                             &len)) != NULL)
            pss->ticket = strdup(v);
        else if (protos)
            pss->ticket = subprotocol_value(protos, "ticket.");
    }
    free(protos);
    pss->session = header_dup(wsi, -1, "x-session-id:", &pss->session_len);
    if (!pss->session &&
        (v = gw_http_arg((const char *const *)args, nargs, "session",
                         &len)) != NULL &&
        len > 0) {
        pss->session = strdup(v);
        pss->session_len = len;
    }
    free_args(args, nargs);
    return 0;
}

/* A new WebSocket: a connection, refused at once at the connection
 * limit (1013, OVERLOADED), else its handshake starts. */
static int ws_established(svc_t *v, struct lws *wsi, pss_t *pss)
{
    gw_gateway_t *gw = v->s->gw;
    gw_hello_t hello = {pss->token, pss->ticket, pss->session,
                        pss->session ? pss->session_len : 0};
    unsigned max = gw->params.max_connections;

    pss->conn = gw_conn_open(gw, &hello);
    free(pss->token);
    free(pss->ticket);
    free(pss->session);
    pss->token = pss->ticket = pss->session = NULL;
    if (!pss->conn)
        return -1;
    gw_conn_set_transport(pss->conn, wsi);
    gw_conn_set_owner(pss->conn, v); /* before any worker sees it */
    if (max && atomic_load(&gw->live) > max) {
        char msg[96];

        atomic_fetch_add(&gw->refused, 1);
        snprintf(msg, sizeof(msg),
                 "the gateway holds its limit of %u connections; retry later",
                 max);
        gw_conn_refuse(pss->conn, GW_CLOSE_TRY_AGAIN, GW_ERR_OVERLOADED, msg);
        return 0;
    }
    gw_conn_start(pss->conn);
    return 0;
}

static int ws_receive(gw_server_t *s, struct lws *wsi, pss_t *pss,
                      const void *in, size_t len)
{
    bool last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    char *grown;

    if (pss->skip_message || lws_frame_is_binary(wsi)) {
        /* The wire is JSON text; a binary message is refused, not parsed. */
        if (!pss->skip_message)
            gw_conn_refuse(pss->conn, GW_CLOSE_UNSUPPORTED, GW_ERR_FORMAT,
                           "binary frames are not accepted: send JSON text");
        pss->skip_message = !last;
        pss->rx_len = 0;
        return 0;
    }
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
    if (!last)
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

    if (pss->close_bound) /* the client reads again: more time */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, GW_CLOSE_FLUSH_S);
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
    free(pss->ticket);
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
    case LWS_CALLBACK_HTTP_BODY:
        return http_body(pss, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return http_body_done(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss) {
            free(pss->http_body);
            pss->http_body = NULL;
            pss->http_deferred = false;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(wsi, pss);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(v, wsi, pss);
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
            /* A client gets this long from TCP accept to a finished
             * upgrade (and an HTTP request to be read): a socket that
             * sends nothing, or its headers a byte at a time, is
             * dropped. */
            .timeout_secs = opts->handshake_timeout_s
                                ? opts->handshake_timeout_s
                                : 10,
            .max_http_header_data = GW_HEADER_DATA_MAX,
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
