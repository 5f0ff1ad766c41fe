/* wr_history_file.c - A history's lines and files: an event's JSON line
 * rebuilt from its record (wr_event_line()), history.jsonl written and
 * read back, a gateway trace read.
 *
 * A line is written the way jansson writes JSON (compact, members in
 * order, strings escaped as jansson escapes them), so a line the store
 * keeps as members comes back exactly as it was read; "src" goes first
 * unless the line named it (docs/DESIGN.md, "The history"). A line kept as
 * its text is given back as it is, with "src" added the same way.
 *
 * Threads: as the history (wr_history.h); lines are written into buffers
 * of their own, so readers of a sorted history may call
 * wr_event_line() on any thread. */
#include "history/wr_history.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history/wr_history_int.h"

/* ------------------------------------------------------------------ */
/* Lines                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} buf_t;

static void buf_put(buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* s (n bytes) as a JSON string, escaped the way jansson writes one:
 * quote, backslash and the control characters, the usual ones by their
 * short escapes, the others as \u00XX. */
static void buf_json_str(buf_t *b, const char *s, size_t n)
{
    size_t run = 0;

    buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc;
        char hex[8];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            snprintf(hex, sizeof(hex), "\\u%04X", c);
            esc = hex;
            break;
        }
        buf_put(b, esc, strlen(esc));
    }
    buf_put(b, s + run, n - run);
    buf_put(b, "\"", 1);
}

static void buf_src(buf_t *b, wr_src_t src)
{
    const char *name = wr_src_name(src);

    buf_put(b, "\"src\":", 6);
    buf_json_str(b, name, strlen(name));
}

/* Writes event i's line into b (r: room for its record). */
static void put_line(const wr_history_t *h, size_t i, wr__hrecord_t *r,
                     buf_t *b)
{
    size_t len;
    const char *s;
    char num[24];

    wr__history_record(h, i, r);
    buf_put(b, "{", 1);
    if (r->text != NULL) {
        if (!r->has_src) {
            buf_src(b, r->src);
            buf_put(b, ",", 1);
        }
        buf_put(b, r->text + 1, r->len - 1); /* its closing brace too */
        return;
    }
    if (!r->has_src) {
        buf_src(b, r->src);
        if (r->n > 0)
            buf_put(b, ",", 1);
    }
    for (size_t k = 0; k < r->n; k++) {
        const wr__hmember_t *m = &r->m[k];

        if (k > 0)
            buf_put(b, ",", 1);
        s = wr__history_str(h, m->name, &len);
        buf_json_str(b, s, len);
        buf_put(b, ":", 1);
        switch (m->type) {
        case WR__T_STR:
            s = wr__history_str(h, (uint32_t)m->value, &len);
            buf_json_str(b, s, len);
            break;
        case WR__T_RAW:
            s = wr__history_str(h, (uint32_t)m->value, &len);
            buf_put(b, s, len);
            break;
        case WR__T_INT:
            buf_put(b, num,
                    (size_t)snprintf(num, sizeof(num), "%" PRId64, m->value));
            break;
        case WR__T_TRUE:
            buf_put(b, "true", 4);
            break;
        case WR__T_FALSE:
            buf_put(b, "false", 5);
            break;
        default:
            buf_put(b, "null", 4);
            break;
        }
    }
    buf_put(b, "}", 1);
}

char *wr_event_line(const wr_event_t *ev)
{
    wr__hrecord_t *r;
    buf_t b = {0};

    if (ev == NULL || ev->history == NULL ||
        ev->index >= wr_history_len(ev->history) ||
        (r = malloc(sizeof(*r))) == NULL)
        return NULL;
    put_line(ev->history, ev->index, r, &b);
    free(r);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

int wr_history_write(const wr_history_t *h, const char *path)
{
    wr__hrecord_t *r = NULL;
    buf_t b = {0};
    size_t plen;
    char *tmp;
    FILE *f;
    int rc = 0;

    if (h == NULL || path == NULL)
        return -EINVAL;
    plen = strlen(path);
    tmp = malloc(plen + 5);
    r = malloc(sizeof(*r));
    if (tmp == NULL || r == NULL) {
        free(tmp);
        free(r);
        return -ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    f = fopen(tmp, "we");
    if (f == NULL) {
        rc = -errno;
        free(tmp);
        free(r);
        return rc;
    }
    for (size_t i = 0; i < wr_history_len(h) && rc == 0; i++) {
        b.len = 0;
        put_line(h, i, r, &b);
        buf_put(&b, "\n", 1);
        if (b.oom)
            rc = -ENOMEM;
        else if (fwrite(b.p, 1, b.len, f) != b.len)
            rc = -EIO;
    }
    free(b.p);
    free(r);
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* wr_history_add_line() of len bytes of a line read from a file. */
static int add_line(wr_history_t *h, wr_src_t src, char *line, size_t len)
{
    while (len > 0 && blank(line[len - 1]))
        len--;
    line[len] = '\0'; /* getline's buffer: there is room */
    return wr_history_add_line(h, src, line);
}

/* Reads path line by line. With torn != NULL (a trace), a last line
 * without newline or that does not parse is skipped and counted; any other
 * bad line fails the whole load, which then adds nothing. */
static long load_lines(wr_history_t *h, const char *path, wr_src_t src,
                       int *torn)
{
    size_t start, cap = 0;
    char *buf = NULL;
    ssize_t n;
    long added = 0;
    int rc = 0;
    FILE *f;

    if (h == NULL || path == NULL)
        return -EINVAL;
    start = wr_history_len(h);
    f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    while ((n = getline(&buf, &cap, f)) > 0) {
        bool last_torn = buf[n - 1] != '\n';
        size_t i;

        if (buf[0] == '\0' && torn != NULL)
            break; /* the zero bytes past a trace's last event */
        for (i = 0; i < (size_t)n && blank(buf[i]); i++)
            ;
        if (i == (size_t)n)
            continue; /* an empty line */
        /* The gateway writes a line and its newline at once: in a trace a
         * line without one was cut short, even when what is left parses. */
        rc = last_torn && torn != NULL ? -EINVAL
                                       : add_line(h, src, buf, (size_t)n);
        if (rc == -EINVAL && torn != NULL) {
            /* Torn only when nothing follows it. */
            int c = getc(f);

            if (c == EOF) {
                (*torn)++;
                rc = 0;
                break;
            }
            ungetc(c, f);
        }
        if (rc != 0)
            break;
        added++;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(buf);
    fclose(f);
    if (rc != 0) {
        wr__history_truncate(h, start);
        return rc;
    }
    return added;
}

long wr_history_load_trace(wr_history_t *h, const char *path, int *torn)
{
    int dummy = 0;
    long n;

    if (h == NULL)
        return -EINVAL;
    wr__history_chain_begin(h);
    n = load_lines(h, path, WR_SRC_GATEWAY, torn ? torn : &dummy);
    wr__history_chain_end(h, n >= 0);
    if (n >= 0)
        wr_history_set_has_trace(h, true);
    return n;
}

/* The offset just past the last byte of fd (size bytes) that is not
 * zero, read backwards a block at a time; or a negative errno. */
static long long last_data(int fd, long long size)
{
    enum { BLOCK = 64 * 1024 };
    char *b = malloc(BLOCK);
    long long at = size, found = 0;

    if (b == NULL)
        return -ENOMEM;
    while (at > 0) {
        size_t len = at < BLOCK ? (size_t)at : BLOCK;
        ssize_t n = pread(fd, b, len, (off_t)(at - (long long)len));

        if (n != (ssize_t)len) {
            found = n < 0 ? -errno : -EIO;
            break;
        }
        while (n > 0 && b[n - 1] == '\0')
            n--;
        if (n > 0) {
            found = at - (long long)len + n;
            break;
        }
        at -= (long long)len;
    }
    free(b);
    return found;
}

long long wr_trace_data_end(const char *path)
{
    struct stat st;
    long long end;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    end = fstat(fd, &st) == 0 ? last_data(fd, (long long)st.st_size) : -errno;
    close(fd);
    return end;
}

int wr_trace_settle(const char *path)
{
    struct stat st;
    long long end;
    int rc = 0, fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0; /* nothing to cut */
    }
    end = last_data(fd, (long long)st.st_size);
    if (end < 0)
        rc = (int)end;
    else if (end < (long long)st.st_size && ftruncate(fd, (off_t)end) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

long wr_history_load(wr_history_t *h, const char *path)
{
    return load_lines(h, path, WR_SRC_GATEWAY, NULL);
}


