/* e2e_support.c - Gateway process control, a blocking lws client and a
 * loopback HTTP GET for the end-to-end tests.
 *
 * Single-threaded: each client owns one lws context and is serviced only
 * from the calling thread, inside e2e_recv / e2e_wait_close / e2e_connect.
 * A 20 ms tick (lws_sul) bounds every service wait. */
#include "e2e_support.h"

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_config.h"
#include "wsr_token.h"

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Gateway process                                                      */
/* ------------------------------------------------------------------ */

/* Files made by this process, removed by e2e_cleanup(). */
static char made[32][256];
static unsigned nmade;

static void remember(const char *path)
{
    if (nmade < 32)
        snprintf(made[nmade++], sizeof(made[0]), "%s", path);
}

void e2e_cleanup(void)
{
    for (unsigned i = 0; i < nmade; i++)
        unlink(made[i]);
    nmade = 0;
}

/* WSRACE_TEST_TIME_SCALE (set by the tool setups), at least 1: a
 * gateway under valgrind on a loaded machine takes seconds to start. */
static double time_scale(void)
{
    const char *e = getenv("WSRACE_TEST_TIME_SCALE");
    double s = e ? atof(e) : 1.0;

    return s > 1.0 ? s : 1.0;
}

int e2e_gateway_start(e2e_gateway_t *g, const char *const *args)
{
    const char *bin = getenv("WSRACE_GATEWAY");
    static unsigned serial;
    const char *argv[64];
    int out[2], n = 0, logfd;
    char line[128] = "";
    size_t got = 0;
    long long deadline;

    const char *keep = getenv("WSRACE_E2E_KEEP");

    memset(g, 0, sizeof(*g));
    if (!bin)
        bin = "build/target/wsrace-gateway";
    if (keep && *keep) {
        /* Evidence for a report: DIR/<test>-<n>.{jsonl,log}, kept. */
        const char *test =
            criterion_current_test ? criterion_current_test->name : "gateway";
        snprintf(g->trace, sizeof(g->trace), "%s/%s-%u.jsonl", keep, test,
                 serial);
        snprintf(g->log, sizeof(g->log), "%s/%s-%u.log", keep, test, serial++);
    } else {
        snprintf(g->trace, sizeof(g->trace), "/tmp/wsrace-e2e-%d-%u.jsonl",
                 (int)getpid(), serial);
        snprintf(g->log, sizeof(g->log), "/tmp/wsrace-e2e-%d-%u.log",
                 (int)getpid(), serial++);
        remember(g->trace);
        remember(g->log);
    }
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--trace";
    argv[n++] = g->trace;
    for (; args && *args && n < 62; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    if (pipe(out) != 0)
        return -1;
    g->pid = fork();
    if (g->pid < 0)
        return -1;
    if (g->pid == 0) {
        logfd = open(g->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(out[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    deadline = now_ms() + (long long)(5000 * time_scale());
    while (!strchr(line, '\n') && now_ms() < deadline &&
           got < sizeof(line) - 1) {
        struct pollfd pfd = {out[0], POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t r = read(out[0], line + got, sizeof(line) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        line[got] = '\0';
    }
    close(out[0]);
    if (sscanf(line, "listening %*[^:]:%d", &g->port) != 1) {
        e2e_gateway_stop(g);
        return -1;
    }
    return 0;
}

int e2e_gateway_wait(e2e_gateway_t *g, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;

    if (g->pid <= 0)
        return -1;
    do {
        pid_t r = waitpid(g->pid, &status, WNOHANG);
        if (r == g->pid) {
            g->pid = 0;
            return status;
        }
        usleep(10000);
    } while (now_ms() < deadline);
    return -1;
}

int e2e_gateway_stop(e2e_gateway_t *g)
{
    int status;

    if (g->pid <= 0)
        return -1;
    kill(g->pid, SIGTERM);
    status = e2e_gateway_wait(g, 5000);
    if (status == -1 && g->pid > 0) {
        kill(g->pid, SIGKILL);
        waitpid(g->pid, &status, 0);
        g->pid = 0;
    }
    return status;
}

json_t *e2e_trace(const e2e_gateway_t *g)
{
    FILE *f = fopen(g->trace, "r");
    json_t *arr;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f)
        return NULL;
    arr = json_array();
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *o;

        /* Past the last event (the file grows a chunk at a time, zeros
         * after the events), or the event being copied while we read. */
        if (line[0] == '\0' || line[n - 1] != '\n')
            break;
        o = json_loads(line, 0, NULL);
        if (!o) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, o);
    }
    free(line);
    fclose(f);
    return arr;
}

int e2e_trace_count(json_t *trace, const char *event, const char *key)
{
    size_t i;
    json_t *o;
    int n = 0;

    json_array_foreach(trace, i, o)
    {
        const char *ev = json_string_value(json_object_get(o, "event"));
        const char *k = json_string_value(json_object_get(o, "key"));
        if (ev && strcmp(ev, event) == 0 &&
            (!key || (k && strcmp(k, key) == 0)))
            n++;
    }
    return n;
}

char *e2e_token(const char *user, long ttl)
{
    char buf[WSR_TOKEN_MAX];

    if (wsr_token_sign(GW_DEV_SECRET, user, (int64_t)time(NULL) + ttl, buf,
                      sizeof(buf)) < 0)
        return NULL;
    return strdup(buf);
}

json_t *e2e_http_get(int port, const char *path)
{
    struct sockaddr_in sa = {0};
    struct timeval tv = {5, 0};
    char req[512], buf[65536];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *body;

    if (fd < 0)
        return NULL;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return NULL;
    }
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        body = strstr(buf, "\r\n\r\n");
        if (body && strchr(body + 4, '\n'))
            break; /* the gateway ends every body with a newline */
    }
    close(fd);
    buf[got] = '\0';
    body = strstr(buf, "\r\n\r\n");
    return body ? json_loads(body + 4, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

/* ------------------------------------------------------------------ */
/* WebSocket client                                                     */
/* ------------------------------------------------------------------ */

typedef struct msg {
    struct msg *next;
    char *text;
} msg_t;

struct e2e_client {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t tick;
    char *token, *session;
    bool open, failed, closed, closing;
    int close_code;
    char subprotocol[64];
    char *rx;
    size_t rx_len;
    msg_t *in_head, *in_tail;
    msg_t *out_head, *out_tail;
};

static void push(msg_t **head, msg_t **tail, char *text)
{
    msg_t *m = calloc(1, sizeof(*m));
    m->text = text;
    if (*tail)
        (*tail)->next = m;
    else
        *head = m;
    *tail = m;
}

static char *pop(msg_t **head, msg_t **tail)
{
    msg_t *m = *head;
    char *t;

    if (!m)
        return NULL;
    *head = m->next;
    if (!*head)
        *tail = NULL;
    t = m->text;
    free(m);
    return t;
}

static int add_header(struct lws *wsi, void *in, size_t len, const char *name,
                      const char *value)
{
    unsigned char **p = in, *end = *p + len;

    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value,
                                       (int)strlen(value), p, end);
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    e2e_client_t *c = user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        if (c->token) {
            char auth[WSR_TOKEN_MAX + 16];
            snprintf(auth, sizeof(auth), "Bearer %s", c->token);
            if (add_header(wsi, in, len, "authorization:", auth))
                return -1;
        }
        if (c->session && add_header(wsi, in, len, "x-session-id:", c->session))
            return -1;
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->open = true;
        if (lws_hdr_copy(wsi, c->subprotocol, sizeof(c->subprotocol),
                         WSI_TOKEN_PROTOCOL) < 0)
            c->subprotocol[0] = '\0';
        if (c->out_head)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        c->rx = realloc(c->rx, c->rx_len + len + 1);
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            c->rx[c->rx_len] = '\0';
            push(&c->in_head, &c->in_tail, c->rx);
            c->rx = NULL;
            c->rx_len = 0;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        char *t = pop(&c->out_head, &c->out_tail);
        if (t) {
            size_t n = strlen(t);
            unsigned char *buf = malloc(LWS_PRE + n);
            memcpy(buf + LWS_PRE, t, n);
            int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            free(buf);
            free(t);
            if (w < (int)n)
                return -1;
            if (c->out_head || c->closing)
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
            c->close_code =
                ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1];
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        c->failed = true;
        c->wsi = NULL;
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->closed = true;
        c->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols client_protocols[] = {
    {"wsrace.v1", client_cb, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    e2e_client_t *c = lws_container_of(sul, e2e_client_t, tick);

    lws_sul_schedule(c->ctx, 0, &c->tick, tick_cb, 20 * LWS_US_PER_MS);
}

static void service_once(e2e_client_t *c)
{
    lws_service(c->ctx, 0);
}

e2e_client_t *e2e_connect(int port, const char *query, const char *token,
                          const char *session, const char *subprotocols)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    e2e_client_t *c = calloc(1, sizeof(*c));
    char path[512];
    long long deadline = now_ms() + 5000;

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = client_protocols;
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        free(c);
        return NULL;
    }
    c->token = token ? strdup(token) : NULL;
    c->session = session ? strdup(session) : NULL;
    snprintf(path, sizeof(path), "/ws%s%s", query ? "?" : "",
             query ? query : "");
    memset(&ci, 0, sizeof(ci));
    ci.context = c->ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = path;
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.protocol = subprotocols;
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    tick_cb(&c->tick);
    if (!lws_client_connect_via_info(&ci))
        c->failed = true;
    while (!c->open && !c->failed && !c->closed && now_ms() < deadline)
        service_once(c);
    if (!c->open) {
        e2e_free(c);
        return NULL;
    }
    return c;
}

void e2e_send(e2e_client_t *c, const char *text)
{
    push(&c->out_head, &c->out_tail, strdup(text));
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

char *e2e_recv(e2e_client_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    while (!c->in_head && c->wsi && now_ms() < deadline)
        service_once(c);
    return pop(&c->in_head, &c->in_tail);
}

json_t *e2e_recv_json(e2e_client_t *c, int timeout_ms)
{
    char *t = e2e_recv(c, timeout_ms);
    json_t *o = t ? json_loads(t, 0, NULL) : NULL;

    free(t);
    return o;
}

int e2e_wait_close(e2e_client_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    while (c->wsi && now_ms() < deadline)
        service_once(c);
    if (c->wsi)
        return -1;
    return c->close_code;
}

const char *e2e_subprotocol(e2e_client_t *c)
{
    return c->subprotocol;
}

void e2e_free(e2e_client_t *c)
{
    long long deadline = now_ms() + 1000;

    if (!c)
        return;
    if (c->wsi) {
        c->closing = true;
        lws_callback_on_writable(c->wsi);
        while (c->wsi && now_ms() < deadline)
            service_once(c);
    }
    lws_sul_schedule(c->ctx, 0, &c->tick, NULL, LWS_SET_TIMER_USEC_CANCEL);
    lws_context_destroy(c->ctx);
    while (c->in_head)
        free(pop(&c->in_head, &c->in_tail));
    while (c->out_head)
        free(pop(&c->out_head, &c->out_tail));
    free(c->rx);
    free(c->token);
    free(c->session);
    free(c);
}
