/* gw_sync_control.c - Arrivals reported, releases awaited
 * (gw_sync_control.h, docs/sync-control.md).
 *
 * Threads: workers call gw_sync_control_wait(); the reader thread reads
 * the runner's lines; gw_sync_control_session() from any thread.
 * Locks: `lock` guards the waiter list, the session map and `dead`;
 * `write_lock` serialises lines to the socket. A worker never holds
 * `lock` while it writes, and nothing else is locked while either is
 * held (the trace is written with neither). */
#include "gw_sync_control.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define HELLO_WAIT_MS  5000

typedef struct waiter {
    struct waiter *next;
    uint64_t id;
    bool released;
    pthread_cond_t cond;
} waiter_t;

typedef struct session {
    struct session *next;
    uint64_t conn;
    char *name;
} session_t;

struct gw_sync_control {
    int fd;
    gw_trace_t *trace;
    pthread_t reader;
    pthread_mutex_t write_lock;
    pthread_mutex_t lock; /* guards the fields below */
    uint64_t next_id;
    waiter_t *waiters;
    session_t *sessions;
    bool dead; /* the runner went away: nobody waits any more */
};

/* Writes all of a line; false when the socket failed. `write_lock`. */
static bool write_line(gw_sync_control_t *c, const char *line)
{
    size_t len = strlen(line), off = 0;

    while (off < len) {
        ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

static bool send_json(gw_sync_control_t *c, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    bool ok = false;

    json_decref(o);
    if (text == NULL)
        return false;
    pthread_mutex_lock(&c->write_lock);
    ok = write_line(c, text) && write_line(c, "\n");
    pthread_mutex_unlock(&c->write_lock);
    free(text);
    return ok;
}

/* Releases every waiter and stops waits from now on. */
static void go_dead(gw_sync_control_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->dead = true;
    for (waiter_t *w = c->waiters; w != NULL; w = w->next) {
        w->released = true;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

static void handle_line(gw_sync_control_t *c, const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *op = json_string_value(json_object_get(o, "op"));

    if (op != NULL && strcmp(op, "release") == 0 &&
        json_is_integer(json_object_get(o, "id"))) {
        uint64_t id = (uint64_t)json_integer_value(json_object_get(o, "id"));

        pthread_mutex_lock(&c->lock);
        for (waiter_t *w = c->waiters; w != NULL; w = w->next)
            if (w->id == id) {
                w->released = true;
                pthread_cond_signal(&w->cond);
                break;
            }
        pthread_mutex_unlock(&c->lock);
    }
    json_decref(o);
}

static void *reader_main(void *arg)
{
    gw_sync_control_t *c = arg;
    char buf[LINE_MAX_BYTES];
    size_t have = 0;

    gw_trace_set_thread_name("sync");
    for (;;) {
        ssize_t n = recv(c->fd, buf + have, sizeof(buf) - have, 0);
        char *nl;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            size_t len = (size_t)(nl - buf);

            handle_line(c, buf, len);
            memmove(buf, nl + 1, have - len - 1);
            have -= len + 1;
        }
        if (have == sizeof(buf)) /* a line longer than the protocol's */
            break;
    }
    go_dead(c);
    return NULL;
}

/* Reads the runner's hello within HELLO_WAIT_MS. */
static int read_hello(int fd, char *err, size_t errlen)
{
    char buf[LINE_MAX_BYTES];
    size_t have = 0;
    struct pollfd p = {fd, POLLIN, 0};
    json_t *o;
    const char *proto;
    int version;

    while (memchr(buf, '\n', have) == NULL) {
        ssize_t n;

        if (have == sizeof(buf) || poll(&p, 1, HELLO_WAIT_MS) <= 0) {
            snprintf(err, errlen, "no hello from the runner in %d ms",
                     HELLO_WAIT_MS);
            return -ETIMEDOUT;
        }
        /* One byte at a time: nothing after the hello may be consumed
         * here, the reader thread takes the rest. */
        n = recv(fd, buf + have, 1, 0);
        if (n <= 0) {
            snprintf(err, errlen, "the runner closed before its hello");
            return -ECONNRESET;
        }
        have += (size_t)n;
    }
    o = json_loadb(buf, have, JSON_DISABLE_EOF_CHECK, NULL);
    proto = json_string_value(json_object_get(o, "protocol"));
    version = (int)json_integer_value(json_object_get(o, "version"));
    if (proto == NULL || strcmp(proto, "wsrace-sync") != 0 || version != 1) {
        snprintf(err, errlen,
                 "the runner speaks %s version %d, not wsrace-sync 1",
                 proto ? proto : "nothing known", version);
        json_decref(o);
        return -EPROTO;
    }
    json_decref(o);
    return 0;
}

gw_sync_control_t *gw_sync_control_open(const char *path, unsigned workers,
                                        gw_trace_t *trace, char *err,
                                        size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    gw_sync_control_t *c;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "--sync-control: path longer than %zu bytes",
                 sizeof(sa.sun_path) - 1);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, errlen, "--sync-control %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = fd;
    c->trace = trace;
    c->next_id = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->write_lock, NULL);
    if (!send_json(c, json_pack("{s:s,s:s,s:i,s:i,s:s,s:i}", "op", "hello",
                                "protocol", "wsrace-sync", "version", 1, "pid",
                                (int)getpid(), "name", "wsrace-gateway",
                                "workers", (int)workers)) ||
        read_hello(fd, err, errlen) != 0 ||
        pthread_create(&c->reader, NULL, reader_main, c) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "--sync-control %s: the hello failed",
                     path);
        close(fd);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->write_lock);
        free(c);
        return NULL;
    }
    return c;
}

void gw_sync_control_stop(gw_sync_control_t *c)
{
    if (c != NULL)
        go_dead(c);
}

void gw_sync_control_close(gw_sync_control_t *c)
{
    if (c == NULL)
        return;
    go_dead(c);
    shutdown(c->fd, SHUT_RDWR);
    pthread_join(c->reader, NULL);
    close(c->fd);
    while (c->sessions != NULL) {
        session_t *s = c->sessions;

        c->sessions = s->next;
        free(s->name);
        free(s);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

void gw_sync_control_session(gw_sync_control_t *c, uint64_t conn,
                             const char *session)
{
    session_t **pp, *s = NULL;

    if (c == NULL || conn == 0)
        return;
    if (session != NULL && session[0] != '\0') {
        s = calloc(1, sizeof(*s));
        if (s == NULL || (s->name = strdup(session)) == NULL) {
            free(s);
            return;
        }
        s->conn = conn;
    }
    pthread_mutex_lock(&c->lock);
    for (pp = &c->sessions; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->conn == conn) {
            session_t *old = *pp;

            *pp = old->next;
            free(old->name);
            free(old);
            break;
        }
    if (s != NULL) {
        s->next = c->sessions;
        c->sessions = s;
    }
    pthread_mutex_unlock(&c->lock);
}

static struct timespec deadline_ms(unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void gw_sync_control_wait(gw_sync_control_t *c, wsr_sync_point_t p,
                          uint64_t conn, const char *key)
{
    pthread_condattr_t ca;
    struct timespec dl;
    const char *session = "";
    char *session_copy = NULL;
    waiter_t w = {0}, **pp;
    bool released, sent;

    if (c == NULL)
        return;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&c->lock);
    if (c->dead) {
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&w.cond);
        return;
    }
    w.id = c->next_id++;
    w.next = c->waiters;
    c->waiters = &w;
    for (session_t *s = c->sessions; s != NULL; s = s->next)
        if (s->conn == conn) {
            session_copy = strdup(s->name);
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (session_copy != NULL)
        session = session_copy;
    gw_trace_emitf(c->trace, conn, key, "sync.arrive", "{s:s,s:I}", "point",
                   wsr_sync_point_name(p), "id", (json_int_t)w.id);
    sent = send_json(c, json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "op",
                                  "arrive", "id", (json_int_t)w.id, "point",
                                  wsr_sync_point_name(p), "conn",
                                  (json_int_t)conn, "key", key ? key : "",
                                  "session", session, "thread",
                                  gw_trace_thread_name()));
    free(session_copy);
    dl = deadline_ms(GW_SYNC_CONTROL_WAIT_MS);
    pthread_mutex_lock(&c->lock);
    while (sent && !w.released && !c->dead &&
           pthread_cond_timedwait(&w.cond, &c->lock, &dl) != ETIMEDOUT)
        ;
    released = w.released || c->dead;
    for (pp = &c->waiters; *pp != NULL; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&w.cond);
    if (!sent) {
        go_dead(c);
        return;
    }
    if (!released)
        send_json(c, json_pack("{s:s,s:I}", "op", "timeout", "id",
                               (json_int_t)w.id));
    gw_trace_emitf(c->trace, conn, key, "sync.go", "{s:s,s:I,s:s}", "point",
                   wsr_sync_point_name(p), "id", (json_int_t)w.id, "by",
                   released ? "runner" : "timeout");
}
