/* gw_trace.c - Crash-safe JSON-lines trace writer.
 *
 * A regular file is written through a shared mapping: an event is copied
 * into the file's pages, which belong to the file and not to the process,
 * so what was copied is in the file even when the process dies the next
 * instant (a crash, SIGKILL), and no system call is made per event. The
 * file grows by posix_fallocate(3) a chunk at a time, so until it is
 * closed its end is zero bytes (NUL) past the last event; gw_trace_close()
 * cuts them off, and a reader of a trace whose gateway died stops at the
 * first NUL (the harness cuts them off once the gateway is gone). Each line's
 * newline is stored last, with release order: a reader that sees it
 * sees the whole line. Anything else (a pipe, a terminal), or a regular
 * file that would not grow, is written with one write(2) per event.
 *
 * Threads: any. Lock: `lock` orders seq assignment and the copy (or the
 * write), so the file order is the seq order; it is a leaf lock (nothing
 * is called while holding it but memcpy, and posix_fallocate(3) and
 * mremap(2) once a chunk, or write(2)). */
#include "gw_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAP_CHUNK ((size_t)64 << 10) /* the file grows 64 KiB at a time */

struct gw_trace {
    int fd;               /* O_APPEND descriptor (write path) */
    pthread_mutex_t lock; /* guards seq, end, size and the write order */
    uint64_t seq;         /* last seq written; guarded by lock */
    bool use_map;         /* a regular file, written through `map` */
    char *map;            /* the whole file (size bytes), or NULL; lock */
    size_t end;           /* bytes of events in the file; guarded by lock */
    size_t size;          /* the file's length (chunks); guarded by lock */
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
    struct stat st;

    if (!t)
        return NULL;
    t->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (t->fd < 0)
        t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                     0644); /* a FIFO or device opened write-only */
    if (t->fd < 0) {
        int e = errno;
        free(t);
        errno = e;
        return NULL;
    }
    t->use_map = fstat(t->fd, &st) == 0 && S_ISREG(st.st_mode);
    pthread_mutex_init(&t->lock, NULL);
    t->instance = -1;
    return t;
}

void gw_trace_set_instance(gw_trace_t *t, int id)
{
    if (t)
        t->instance = id < 0 ? -1 : id;
}

static void leave_map(gw_trace_t *t);

void gw_trace_close(gw_trace_t *t)
{
    if (!t)
        return;
    if (t->use_map)
        leave_map(t); /* unmapped, the zero bytes cut off */
    close(t->fd);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Copies one line (its newline last) into the mapping, growing the file
 * and the mapping with it (the mapping never reaches past the file, so
 * a tool that reads all of the process's memory, memcheck's leak check,
 * reads only the trace). False when the line cannot be copied (the file
 * or the mapping cannot grow): the caller writes it instead. Under
 * t->lock. */
static bool copy_line(gw_trace_t *t, const char *line, size_t len)
{
    if (!t->use_map || len == 0)
        return false;
    if (t->end + len > t->size) {
        size_t size = (t->end + len + MAP_CHUNK - 1) / MAP_CHUNK * MAP_CHUNK;
        void *m;

        /* Blocks allocated now, not at the first store into a page: on a
         * full disk a store would raise SIGBUS, where this fails and the
         * line goes to write(2), which drops it as a trace drops any
         * event it cannot write. */
        if (posix_fallocate(t->fd, (off_t)t->size, (off_t)(size - t->size)))
            return false;
        m = t->map == NULL
                ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0)
                : mremap(t->map, t->size, size, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            return false;
        t->map = m;
        t->size = size;
    }
    memcpy(t->map + t->end, line, len - 1);
    __atomic_store_n(&t->map[t->end + len - 1], line[len - 1],
                     __ATOMIC_RELEASE);
    t->end += len;
    return true;
}

/* The mapping is given up (at close, or when the file or the mapping
 * would not grow): unmapped, the zero bytes past the events cut off; from
 * here on events are appended by write(2) after what was copied. */
static void leave_map(gw_trace_t *t)
{
    if (t->map != NULL)
        munmap(t->map, t->size);
    t->map = NULL;
    t->use_map = false;
    if (ftruncate(t->fd, (off_t)t->end) != 0) {
        /* nothing better to do: the zero bytes stay before the next line */
    }
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

/* A growable line. */
typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (l->oom)
        return;
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 512;
        char *p;

        while (cap < l->len + n)
            cap *= 2;
        if ((p = realloc(l->p, cap)) == NULL) {
            l->oom = true;
            return;
        }
        l->p = p;
        l->cap = cap;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void put_u64(line_t *l, uint64_t v)
{
    char num[24];

    put(l, num, (size_t)snprintf(num, sizeof(num), "%" PRIu64, v));
}

/* ,"name":"value" as jansson writes it. A value with bytes to escape or
 * to check goes through jansson; one that is not UTF-8 is left out, as
 * jansson leaves it out of an object. */
static void put_member(line_t *l, const char *name, const char *value)
{
    const char *c;
    char *text;
    json_t *j;

    for (c = value; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f ||
            *c == '"' || *c == '\\')
            break;
    if (*c == '\0') {
        put(l, ",\"", 2);
        put(l, name, strlen(name));
        put(l, "\":\"", 3);
        put(l, value, (size_t)(c - value));
        put(l, "\"", 1);
        return;
    }
    j = json_string(value);
    text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (text == NULL)
        return;
    put(l, ",\"", 2);
    put(l, name, strlen(name));
    put(l, "\":", 2);
    put(l, text, strlen(text));
    free(text);
}

/* Drops the members of fields that the event sets itself (as
 * json_object_update_missing() kept the event's). */
static void drop_own(json_t *fields, int instance, uint64_t conn,
                     const char *key)
{
    static const char *const own[] = {"seq", "ns", "thread", "event"};

    for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++)
        json_object_del(fields, own[i]);
    if (instance >= 0)
        json_object_del(fields, "instance");
    if (conn)
        json_object_del(fields, "conn");
    if (key)
        json_object_del(fields, "key");
}

/* The line is built outside the lock, but for its seq, which goes in
 * front of it under the lock: the lock covers the seq and the write, so
 * file order stays seq order, and nothing slower. The members and their
 * order are jansson's: seq, ns, thread, event, instance, conn, key, then
 * the fields (a field the event sets itself is dropped). */
uint64_t gw_trace_emit(gw_trace_t *t, uint64_t conn, const char *key,
                       const char *event, json_t *fields)
{
    enum { SEQ_ROOM = 32 }; /* {"seq":N, fits in front of the rest */
    line_t l = {0};
    uint64_t seq = 0;
    char *tail = NULL, head[SEQ_ROOM];
    int hlen;

    if (!t) {
        json_decref(fields);
        return 0;
    }
    if (fields)
        drop_own(fields, t->instance, conn, key);
    if (fields && json_object_size(fields) > 0)
        tail = json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(fields);
    put(&l, head, SEQ_ROOM); /* room, filled under the lock */
    put(&l, ",\"ns\":", 6);
    put_u64(&l, gw_now_ns());
    put_member(&l, "thread", thread_name);
    put_member(&l, "event", event);
    if (t->instance >= 0) {
        put(&l, ",\"instance\":", 12);
        put_u64(&l, (uint64_t)t->instance);
    }
    if (conn) {
        put(&l, ",\"conn\":", 8);
        put_u64(&l, conn);
    }
    if (key)
        put_member(&l, "key", key);
    if (tail) {
        put(&l, ",", 1);
        put(&l, tail + 1, strlen(tail) - 1); /* its closing brace too */
        free(tail);
    } else {
        put(&l, "}", 1);
    }
    put(&l, "\n", 1);
    if (l.oom) {
        free(l.p);
        return 0;
    }

    pthread_mutex_lock(&t->lock);
    seq = ++t->seq;
    hlen = snprintf(head, sizeof(head), "{\"seq\":%" PRIu64, seq);
    memcpy(l.p + SEQ_ROOM - hlen, head, (size_t)hlen);
    if (!copy_line(t, l.p + SEQ_ROOM - hlen, l.len - SEQ_ROOM + (size_t)hlen)) {
        if (t->use_map)
            leave_map(t);
        write_all(t->fd, l.p + SEQ_ROOM - hlen,
                  l.len - SEQ_ROOM + (size_t)hlen);
    }
    pthread_mutex_unlock(&t->lock);
    free(l.p);
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
