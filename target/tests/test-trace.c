/* test-trace.c - The lifecycle trace writer (gw_trace.c).
 *
 * The trace is what every check of the harness reads, so each property
 * here is one a check depends on: every event emitted is in the file, in
 * seq order, one whole JSON line each; the events emitted before the
 * process dies with no chance to flush (SIGKILL) are all in the file, with
 * only zero bytes after them; a reader that reads the file while events are
 * written never sees a part of a line followed by its newline; a trace
 * that is not a regular file (a FIFO) still gets every line; and a file
 * that cannot grow (here: past RLIMIT_FSIZE) costs events, never the
 * process or the order of the lines it keeps.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_trace.h"

#define THREADS   4
#define PER       3000 /* events per thread: several 64 KiB chunks */
#define WAIT_MS   10000

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wsrace-test-trace-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert(eq(int, system(cmd), 0));
}

TestSuite(trace, .init = make_dir, .fini = remove_dir);

static char *path_of(const char *name)
{
    char *p = malloc(sizeof(dir) + strlen(name) + 2);

    cr_assert(p != NULL);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* The whole file, and its length in *len. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    cr_assert(f != NULL, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    cr_assert(b != NULL);
    cr_assert(eq(sz, fread(b, 1, (size_t)n, f), (size_t)n));
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Checks that text[0..len) is `want` whole JSON lines, seq 1..want in
 * order, each with its "i" field; returns the bytes they take. */
static size_t check_lines(const char *text, size_t len, long want)
{
    const char *p = text;
    long seq = 0;

    while (p < text + len && *p != '\0') {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        json_error_t err;
        json_t *o;

        cr_assert(nl != NULL, "line %ld has no newline", seq + 1);
        o = json_loadb(p, (size_t)(nl - p), 0, &err);
        cr_assert(o != NULL, "line %ld: %s", seq + 1, err.text);
        cr_assert(eq(i64, json_integer_value(json_object_get(o, "seq")),
                     seq + 1));
        cr_assert(json_integer_value(json_object_get(o, "i")) >= 0);
        json_decref(o);
        seq++;
        p = nl + 1;
    }
    cr_assert(eq(i64, seq, want));
    return (size_t)(p - text);
}

typedef struct {
    gw_trace_t *t;
    int k;
} emitter_t;

static void *emitter(void *arg)
{
    emitter_t *e = arg;

    for (int i = 0; i < PER; i++)
        gw_trace_emitf(e->t, (uint64_t)e->k + 1, "key", "test.event",
                       "{s:i,s:s}", "i", i, "text", "a \"quoted\" value");
    return NULL;
}

static void emit_from_threads(gw_trace_t *t)
{
    pthread_t th[THREADS];
    emitter_t e[THREADS];

    for (int k = 0; k < THREADS; k++) {
        e[k] = (emitter_t){t, k};
        cr_assert(eq(int, pthread_create(&th[k], NULL, emitter, &e[k]), 0));
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(th[k], NULL);
}

Test(trace, every_event_once_in_seq_order_and_the_file_ends_with_them)
{
    char *path = path_of("t.jsonl");
    gw_trace_t *t = gw_trace_open(path);
    size_t len;
    char *text;

    cr_assert(t != NULL);
    emit_from_threads(t);
    cr_assert(eq(u64, gw_trace_count(t), (uint64_t)THREADS * PER));
    gw_trace_close(t);
    text = slurp(path, &len);
    /* Closed: no zero byte is left after the last line. */
    cr_assert(eq(sz, check_lines(text, len, (long)THREADS * PER), len));
    cr_assert(eq(sz, strlen(text), len), "a zero byte in a closed trace");
    free(text);
    free(path);
}

Test(trace, a_process_killed_without_a_flush_leaves_every_event_emitted)
{
    char *path = path_of("killed.jsonl");
    int fds[2], st = 0;
    size_t len, used;
    char *text, go;
    pid_t pid;

    cr_assert(eq(int, pipe(fds), 0));
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_trace_t *t = gw_trace_open(path);

        if (t == NULL)
            _exit(1);
        for (int i = 0; i < 1000; i++)
            gw_trace_emitf(t, 1, NULL, "test.event", "{s:i}", "i", i);
        /* Tells the parent, then waits to be killed: no close, no exit. */
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    cr_assert(eq(int, (int)read(fds[0], &go, 1), 1), "the writer failed");
    kill(pid, SIGKILL);
    cr_assert(eq(int, waitpid(pid, &st, 0), pid));
    cr_assert(eq(int, WIFSIGNALED(st) ? WTERMSIG(st) : 0, SIGKILL));
    close(fds[0]);
    text = slurp(path, &len);
    used = check_lines(text, len, 1000);
    /* What follows the last event is zero bytes only (the rest of the
     * chunk the file grew by), which readers stop at. */
    for (size_t i = used; i < len; i++)
        cr_assert(eq(int, text[i], 0), "byte %zu after the events", i);
    free(text);
    free(path);
}

typedef struct {
    const char *path;
    atomic_bool stop;
    long lines;  /* whole lines seen, at most */
    long broken; /* lines ending in a newline that do not parse */
} reader_t;

/* Reads the file over and over while it is written: every line that ends
 * in a newline must be whole. */
static void *reader(void *arg)
{
    reader_t *r = arg;

    while (!atomic_load(&r->stop)) {
        FILE *f = fopen(r->path, "rb");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long seen = 0;

        if (f == NULL)
            continue;
        while ((n = getline(&line, &cap, f)) > 0 && line[0] != '\0') {
            json_t *o;

            if (line[n - 1] != '\n')
                break; /* the line being written */
            o = json_loadb(line, (size_t)n - 1, 0, NULL);
            if (o == NULL)
                r->broken++;
            json_decref(o);
            seen++;
        }
        free(line);
        fclose(f);
        if (seen > r->lines)
            r->lines = seen;
    }
    return NULL;
}

Test(trace, a_reader_during_the_writes_sees_only_whole_lines)
{
    char *path = path_of("read.jsonl");
    gw_trace_t *t = gw_trace_open(path);
    reader_t r = {.path = path};
    pthread_t th;

    cr_assert(t != NULL);
    cr_assert(eq(int, pthread_create(&th, NULL, reader, &r), 0));
    emit_from_threads(t);
    atomic_store(&r.stop, true);
    pthread_join(th, NULL);
    gw_trace_close(t);
    cr_assert(eq(i64, r.broken, 0));
    cr_assert(gt(i64, r.lines, 0), "the reader read nothing");
    free(path);
}

typedef struct {
    int fd; /* the FIFO's read end */
    char *text;
    size_t len;
} drain_t;

static void *drain(void *arg)
{
    drain_t *d = arg;
    size_t cap = 1 << 16;
    ssize_t n;

    d->text = malloc(cap);
    while ((n = read(d->fd, d->text + d->len, cap - d->len - 1)) > 0) {
        d->len += (size_t)n;
        if (cap - d->len < 4096)
            d->text = realloc(d->text, cap *= 2);
    }
    d->text[d->len] = '\0';
    close(d->fd);
    return NULL;
}

Test(trace, a_fifo_gets_every_line_by_write)
{
    char *path = path_of("fifo");
    drain_t d = {0};
    gw_trace_t *t;
    pthread_t th;

    cr_assert(eq(int, mkfifo(path, 0600), 0));
    /* The read end first (a non-blocking open does not wait for a
     * writer), blocking again once the trace holds the write end. */
    d.fd = open(path, O_RDONLY | O_NONBLOCK);
    cr_assert(d.fd >= 0);
    t = gw_trace_open(path);
    cr_assert(t != NULL, "%s", strerror(errno));
    cr_assert(eq(int, fcntl(d.fd, F_SETFL, 0), 0));
    cr_assert(eq(int, pthread_create(&th, NULL, drain, &d), 0));
    for (int i = 0; i < 500; i++)
        gw_trace_emitf(t, 1, NULL, "test.event", "{s:i}", "i", i);
    gw_trace_close(t);
    pthread_join(th, NULL);
    cr_assert(eq(sz, check_lines(d.text, d.len, 500), d.len));
    free(d.text);
    free(path);
}

Test(trace, a_file_that_cannot_grow_costs_events_not_the_process)
{
    char *path = path_of("limited.jsonl");
    const rlim_t limit = 150 * 1024; /* inside the third 64 KiB chunk */
    size_t len, used;
    char *text;
    int st = 0;
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        gw_trace_t *t;

        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a signal */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
            (t = gw_trace_open(path)) == NULL)
            _exit(1);
        for (int i = 0; i < 3000; i++) /* about 260 KB of lines */
            gw_trace_emitf(t, 1, NULL, "test.event", "{s:i}", "i", i);
        gw_trace_close(t);
        _exit(0);
    }
    cr_assert(eq(int, waitpid(pid, &st, 0), pid));
    cr_assert(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0),
              "the writer died (status %d)", st);
    text = slurp(path, &len);
    cr_assert(le(sz, len, (size_t)limit));
    /* Past the two chunks that could be allocated: write(2) took over. */
    cr_assert(gt(sz, len, (size_t)128 * 1024));
    /* Whole lines in seq order from 1, as many as fit, nothing after
     * them: the mapping was given up at the chunk that could not be
     * allocated, and write(2) went on until the limit. */
    for (used = 0; used < len && text[used] != '\0';)
        used++;
    cr_assert(eq(sz, used, len), "a zero byte at %zu", used);
    {
        /* write(2) may have kept the start of the line that met the
         * limit (no newline): a torn last line, which readers skip. */
        size_t whole = (size_t)(strrchr(text, '\n') + 1 - text);
        long lines = 0;

        for (size_t i = 0; i < whole; i++)
            lines += text[i] == '\n';
        cr_assert(gt(i64, lines, 1000), "only %ld lines kept", lines);
        cr_assert(eq(sz, check_lines(text, whole, lines), whole));
        cr_assert(lt(sz, len - whole, (size_t)128));
    }
    free(text);
    free(path);
}
