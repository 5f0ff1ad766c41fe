/* gw_trace.c - Crash-safe JSON-lines trace writer.
 *
 * Threads: any. Lock: `lock` orders seq assignment and the write, so the
 * file order is the seq order; it is a leaf lock (nothing is called while
 * holding it but write(2)). */
#include "gw_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct gw_trace {
    int fd;               /* O_APPEND descriptor */
    pthread_mutex_t lock; /* guards seq and the write order */
    uint64_t seq;         /* last seq written; guarded by lock */
    int instance;         /* "instance" of every event, -1: none; set
                             before the threads start */
};

static _Thread_local const char *thread_name = "main";

/* Seeds jansson's hash before main, while there is one thread, as
 * gw_token.c does: the trace is written from every thread, and jansson's
 * own lazy seeding uses atomics that helgrind and drd cannot see. */
__attribute__((constructor)) static void seed_jansson(void)
{
    json_object_seed(0);
}

const char *gw_trace_thread_name(void)
{
    return thread_name;
}

void gw_trace_set_thread_name(const char *name)
{
    thread_name = name;
}

uint64_t gw_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

gw_trace_t *gw_trace_open(const char *path)
{
    gw_trace_t *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (t->fd < 0) {
        int e = errno;
        free(t);
        errno = e;
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->instance = -1;
    return t;
}

void gw_trace_set_instance(gw_trace_t *t, int id)
{
    if (t)
        t->instance = id < 0 ? -1 : id;
}

void gw_trace_close(gw_trace_t *t)
{
    if (!t)
        return;
    close(t->fd);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a trace must never take the gateway down */
        buf += n;
        len -= (size_t)n;
    }
}

uint64_t gw_trace_emit(gw_trace_t *t, uint64_t conn, const char *key,
                       const char *event, json_t *fields)
{
    uint64_t seq = 0;
    json_t *o;
    char *line;

    if (!t) {
        json_decref(fields);
        return 0;
    }
    o = json_object();
    json_object_set_new(o, "seq", json_integer(0)); /* set under the lock */
    json_object_set_new(o, "ns", json_integer((json_int_t)gw_now_ns()));
    json_object_set_new(o, "thread", json_string(thread_name));
    json_object_set_new(o, "event", json_string(event));
    if (t->instance >= 0)
        json_object_set_new(o, "instance", json_integer(t->instance));
    if (conn)
        json_object_set_new(o, "conn", json_integer((json_int_t)conn));
    if (key)
        json_object_set_new(o, "key", json_string(key));
    if (fields)
        json_object_update_missing(o, fields);
    json_decref(fields);

    pthread_mutex_lock(&t->lock);
    seq = ++t->seq;
    json_integer_set(json_object_get(o, "seq"), (json_int_t)seq);
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        size_t len = strlen(line);
        line[len] = '\n'; /* json_dumps leaves room for the NUL only */
        write_all(t->fd, line, len + 1);
        line[len] = '\0';
    }
    pthread_mutex_unlock(&t->lock);
    free(line);
    json_decref(o);
    return seq;
}

uint64_t gw_trace_emitf(gw_trace_t *t, uint64_t conn, const char *key,
                        const char *event, const char *fmt, ...)
{
    json_t *fields = NULL;
    va_list ap;

    if (!t)
        return 0;
    if (fmt) {
        va_start(ap, fmt);
        fields = json_vpack_ex(NULL, 0, fmt, ap);
        va_end(ap);
    }
    return gw_trace_emit(t, conn, key, event, fields);
}

uint64_t gw_trace_count(gw_trace_t *t)
{
    uint64_t n;

    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    n = t->seq;
    pthread_mutex_unlock(&t->lock);
    return n;
}
