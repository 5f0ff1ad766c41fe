/* lws-echo.c - A plain libwebsockets echo pair: scripts/bench's ceiling of
 * what libwebsockets itself does on this machine, on wsrace's workload.
 *
 *   wsrace-bench-lws-echo server            prints "listening 127.0.0.1:PORT"
 *   wsrace-bench-lws-echo client --port P --connections N [--threads T]
 *
 * The server (one lws context, one thread, loopback) sends a welcome frame
 * as soon as a connection is established and answers each frame with five
 * frames, like the gateway answers a user_message with its five events; it
 * does nothing else (no token, no JSON, no worker pool). SIGINT/SIGTERM end
 * it.
 *
 * The client opens all N connections at once over T service threads (one
 * lws context per thread; by default one thread per 1,000 connections and
 * at least two, the rule wsrace's engine follows), waits for each welcome,
 * sends one message, waits for its five answers, and once every connection
 * is done (or 60 s have passed) closes them all. It prints one JSON object:
 * handshakes (connect started -> welcome received) per second, their p50 and
 * p99, messages received per second, and the errors it counted.
 *
 * Threads: each client service thread touches only its own connections;
 * the shared `done` and `ending` counters are atomic, and another thread
 * reaches a context only through lws_cancel_service(). */
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_THREAD   1000 /* connections per client context, by default */
#define ANSWERS      5    /* frames the server sends per frame received */
#define RUN_LIMIT_NS (60LL * 1000000000LL)

static const char welcome[] =
    "{\"type\":\"connection_established\",\"data\":{\"connection_id\":"
    "\"s0000\",\"user_id\":\"u0000\",\"connection_ready\":true},"
    "\"timestamp\":1700000000000,\"correlation_id\":null}";
static const char message[] =
    "{\"type\":\"user_message\",\"data\":{\"content\":\"hi\"},"
    "\"correlation_id\":\"c0000\"}";

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/* One of these is created for each server connection. */
typedef struct {
    int to_send;    /* frames still owed to the client */
    bool welcomed;  /* the welcome went out */
    size_t len;     /* bytes of the last frame received */
    char last[512]; /* the last frame received, echoed ANSWERS times */
} srv_pss_t;

static volatile sig_atomic_t server_stop;

static void on_signal(int sig)
{
    (void)sig;
    server_stop = 1;
}

static int server_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    srv_pss_t *p = user;
    unsigned char buf[LWS_PRE + 512];
    const char *text;
    size_t n;

    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(p, 0, sizeof(*p));
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_RECEIVE:
        n = len < sizeof(p->last) ? len : sizeof(p->last);
        memcpy(p->last, in, n);
        p->len = n;
        p->to_send += ANSWERS;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!p->welcomed) {
            text = welcome;
            n = sizeof(welcome) - 1;
            p->welcomed = true;
        } else if (p->to_send > 0) {
            text = p->last;
            n = p->len;
            p->to_send--;
        } else {
            break;
        }
        memcpy(buf + LWS_PRE, text, n);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
            return -1;
        if (p->to_send > 0)
            lws_callback_on_writable(wsi);
        break;
    default:
        break;
    }
    return 0;
}

static int run_server(void)
{
    static const struct lws_protocols protocols[] = {
        {"echo", server_cb, sizeof(srv_pss_t), 1024, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
    };
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    struct lws_vhost *vh;

    memset(&info, 0, sizeof(info));
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.timeout_secs = 30;
    ctx = lws_create_context(&info);
    if (ctx == NULL)
        return 1;
    vh = lws_get_vhost_by_name(ctx, "default");
    printf("listening 127.0.0.1:%d\n", vh ? lws_get_vhost_listen_port(vh) : -1);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!server_stop)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct cworker cworker_t;

/* One of these is created for each client connection. */
typedef struct {
    cworker_t *w;
    struct lws *wsi;
    int64_t t_connect; /* connect started, ns */
    int64_t t_welcome; /* welcome received, ns; 0 before */
    int received;      /* frames received, the welcome included */
    bool sent, done, gone;
} conn_t;

/* One of these is created for each client service thread. */
struct cworker {
    pthread_t th;
    struct lws_context *ctx;
    conn_t *conns;
    int n;
    int open; /* connections not yet gone */
    bool closing;
};

static struct {
    int port;
    int total;
    atomic_int done;     /* connections that got all their answers */
    atomic_int ending;   /* every connection done, or time is up */
    atomic_int errors;   /* connections that failed or never opened */
    atomic_long last_ns; /* last frame received, any connection */
    cworker_t *workers;
    int nworkers;
} run;

static void end_all(void)
{
    if (atomic_exchange(&run.ending, 1) == 0)
        for (int k = 0; k < run.nworkers; k++)
            if (run.workers[k].ctx != NULL)
                lws_cancel_service(run.workers[k].ctx);
}

static void note_done(conn_t *c)
{
    if (c->done)
        return;
    c->done = true;
    if (atomic_fetch_add(&run.done, 1) + 1 + atomic_load(&run.errors) >=
        run.total)
        end_all();
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    conn_t *c = lws_get_opaque_user_data(wsi);
    unsigned char buf[LWS_PRE + sizeof(message)];
    int64_t t;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c != NULL && !c->gone) {
            c->gone = true;
            c->w->open--;
            atomic_fetch_add(&run.errors, 1);
            if (atomic_load(&run.done) + atomic_load(&run.errors) >= run.total)
                end_all();
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c == NULL || !lws_is_final_fragment(wsi))
            break;
        t = now_ns();
        atomic_store(&run.last_ns, (long)t);
        if (c->received++ == 0) {
            c->t_welcome = t;
            lws_callback_on_writable(wsi);
        } else if (c->received == 1 + ANSWERS) {
            note_done(c);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c != NULL && c->w->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (c == NULL || c->sent)
            break;
        c->sent = true;
        memcpy(buf + LWS_PRE, message, sizeof(message) - 1);
        if (lws_write(wsi, buf + LWS_PRE, sizeof(message) - 1, LWS_WRITE_TEXT) <
            (int)sizeof(message) - 1)
            return -1;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c != NULL && !c->gone) {
            c->gone = true;
            c->wsi = NULL;
            c->w->open--;
            if (!c->done) {
                atomic_fetch_add(&run.errors, 1);
                if (atomic_load(&run.done) + atomic_load(&run.errors) >=
                    run.total)
                    end_all();
            }
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols client_protocols[] = {
    {"echo", client_cb, 0, 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *client_main(void *arg)
{
    cworker_t *w = arg;
    int64_t deadline = now_ns() + RUN_LIMIT_NS;

    for (int i = 0; i < w->n; i++) {
        conn_t *c = &w->conns[i];
        struct lws_client_connect_info cc;

        memset(&cc, 0, sizeof(cc));
        cc.context = w->ctx;
        cc.address = "127.0.0.1";
        cc.port = run.port;
        cc.path = "/";
        cc.host = "127.0.0.1";
        cc.origin = "127.0.0.1";
        cc.protocol = "echo";
        cc.local_protocol_name = "echo";
        cc.opaque_user_data = c;
        cc.pwsi = &c->wsi;
        c->w = w;
        c->t_connect = now_ns();
        w->open++;
        if (lws_client_connect_via_info(&cc) == NULL && !c->gone) {
            /* At the fd limit lws says nothing more: count it here. */
            c->gone = true;
            w->open--;
            atomic_fetch_add(&run.errors, 1);
        }
    }
    if (atomic_load(&run.done) + atomic_load(&run.errors) >= run.total)
        end_all();
    while (w->open > 0 && now_ns() < deadline + 5000000000LL) {
        if (atomic_load(&run.ending) || now_ns() >= deadline) {
            if (!w->closing) {
                w->closing = true;
                for (int i = 0; i < w->n; i++)
                    if (w->conns[i].wsi != NULL && !w->conns[i].gone)
                        lws_callback_on_writable(w->conns[i].wsi);
            }
        }
        lws_service(w->ctx, 0);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int run_client(int port, int total, int threads)
{
    int64_t t0, first = 0, last_welcome = 0, *lat;
    long frames = 0;
    int nlat = 0;
    conn_t *conns;

    run.port = port;
    run.total = total;
    if (threads <= 0)
        threads = (total + PER_THREAD - 1) / PER_THREAD;
    if (threads < 2)
        threads = 2;
    if (threads > total)
        threads = total;
    run.nworkers = threads;
    run.workers = calloc((size_t)threads, sizeof(cworker_t));
    conns = calloc((size_t)total, sizeof(conn_t));
    lat = calloc((size_t)total, sizeof(int64_t));
    if (run.workers == NULL || conns == NULL || lat == NULL)
        return 1;
    for (int k = 0, at = 0; k < threads; k++) {
        cworker_t *w = &run.workers[k];
        struct lws_context_creation_info info;
        int n = total / threads + (k < total % threads);

        w->conns = conns + at;
        w->n = n;
        at += n;
        memset(&info, 0, sizeof(info));
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = client_protocols;
        info.timeout_secs = 30;
        info.connect_timeout_secs = 30;
        info.fd_limit_per_thread = (unsigned)(n + 64);
        if ((w->ctx = lws_create_context(&info)) == NULL)
            return 1;
    }
    t0 = now_ns();
    for (int k = 0; k < threads; k++)
        pthread_create(&run.workers[k].th, NULL, client_main, &run.workers[k]);
    for (int k = 0; k < threads; k++)
        pthread_join(run.workers[k].th, NULL);
    for (int i = 0; i < total; i++) {
        conn_t *c = &conns[i];

        frames += c->received;
        if (first == 0 || c->t_connect < first)
            first = c->t_connect;
        if (c->t_welcome > 0) {
            lat[nlat++] = c->t_welcome - c->t_connect;
            if (c->t_welcome > last_welcome)
                last_welcome = c->t_welcome;
        }
    }
    qsort(lat, (size_t)nlat, sizeof(*lat), cmp_i64);
    if (first == 0)
        first = t0;
    printf("{\"tool\":\"lws-echo\",\"connections\":%d,\"threads\":%d,"
           "\"welcomed\":%d,\"completed\":%d,\"errors\":%d,"
           "\"handshakes_per_s\":%.1f,\"handshake_p50_ms\":%.3f,"
           "\"handshake_p99_ms\":%.3f,\"messages\":%ld,"
           "\"messages_per_s\":%.1f,\"wall_s\":%.3f}\n",
           total, threads, nlat, atomic_load(&run.done),
           atomic_load(&run.errors),
           last_welcome > first ? nlat / ((last_welcome - first) / 1e9) : 0.0,
           nlat ? lat[nlat / 2] / 1e6 : 0.0,
           nlat ? lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1] /
                      1e6
                : 0.0,
           frames,
           atomic_load(&run.last_ns) > first
               ? frames / ((atomic_load(&run.last_ns) - first) / 1e9)
               : 0.0,
           (now_ns() - t0) / 1e9);
    for (int k = 0; k < threads; k++)
        lws_context_destroy(run.workers[k].ctx);
    free(lat);
    free(conns);
    free(run.workers);
    return nlat == total ? 0 : 1;
}

int main(int argc, char **argv)
{
    int port = 0, total = 1000, threads = 0;

    lws_set_allocator(lws_realloc_cb);
    lws_set_log_level(LLL_ERR, NULL);
    if (argc >= 2 && strcmp(argv[1], "server") == 0)
        return run_server();
    if (argc < 2 || strcmp(argv[1], "client") != 0) {
        fprintf(stderr, "usage: wsrace-bench-lws-echo server\n"
                        "       wsrace-bench-lws-echo client --port P "
                        "--connections N [--threads T]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--connections") == 0)
            total = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
    }
    if (port <= 0 || total <= 0) {
        fprintf(stderr, "wsrace-bench-lws-echo: --port and --connections\n");
        return 2;
    }
    return run_client(port, total, threads);
}
