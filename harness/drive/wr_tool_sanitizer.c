/* wr_tool_sanitizer.c - The text of the address, undefined-behaviour,
 * leak and thread sanitizers read into a tool report (wr_tool.h).
 *
 * Line by line with a small state machine: a header starts an error, "#N"
 * lines add frames to the stack last introduced, a line ending in ':'
 * introduces the next stack ("freed by thread T0 here:"). Every other
 * line is skipped, so a log that mixes the gateway's own output with the
 * reports reads as well. No static state. */
#include "drive/wr_tool.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive/wr_tool_int.h"
/* ------------------------------------------------------------------ */
/* Sanitizer logs                                                       */
/* ------------------------------------------------------------------ */

/* What the line reader is in the middle of. */
typedef struct {
    wr_tool_report_t *r;
    long pid;            /* given pid, -1 */
    long line_pid;       /* pid of this line's "==PID==" prefix, -1 */
    long report_pid;     /* pid of the open report's header, -1 */
    wr_tool_error_t *e;  /* the error being read, NULL between */
    wr_tool_stack_t *st; /* the stack frames go to, NULL: none */
    bool open;           /* a report began and has no SUMMARY yet */
    bool shadow;         /* in ASan's shadow byte dump */
    bool synthetic;      /* st holds the location of a runtime error */
} san_t;

static char *trim_dup(const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    return strndup(b, (size_t)(e - b));
}

/* Splits "FILE:LINE[:COL]" into f->file and f->line. */
static int parse_location(const char *b, const char *e, wr_tool_frame_t *f)
{
    const char *colon[2] = {NULL, NULL}; /* last two colons */

    for (const char *p = b; p < e; p++)
        if (*p == ':') {
            colon[0] = colon[1];
            colon[1] = p;
        }
    /* FILE:LINE:COL, FILE:LINE or FILE */
    if (colon[1] != NULL && colon[0] != NULL &&
        isdigit((unsigned char)colon[0][1]) &&
        isdigit((unsigned char)colon[1][1])) {
        f->line = atoi(colon[0] + 1);
        e = colon[0];
    } else if (colon[1] != NULL && isdigit((unsigned char)colon[1][1])) {
        f->line = atoi(colon[1] + 1);
        e = colon[1];
    }
    f->file = trim_dup(b, e);
    return f->file ? 0 : -ENOMEM;
}

/* Reads one "#N ..." frame line into a frame of s:
 *   #0 0x55d in fn file.c:12:3       (ASan, LSan, UBSan stacks)
 *   #4 0x7f5 (/lib/libc.so.6+0x2724a) (BuildId: ...)
 *   #0 fn /src/x.c:5 (obj+0x11f7)    (TSan) */
static int parse_frame(const char *p, wr_tool_stack_t *s)
{
    wr_tool_frame_t *f;
    const char *end, *sp;

    if (s->nframes == WR_TOOL_FRAMES)
        return 0;
    f = &s->frames[s->nframes];
    memset(f, 0, sizeof(*f));
    while (*p == '#' || isdigit((unsigned char)*p))
        p++;
    while (*p == ' ')
        p++;
    if (wr__tool_starts(p, "0x")) {
        while (*p != '\0' && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    if (wr__tool_starts(p, "in "))
        p += 3;
    end = p + strlen(p);
    if ((sp = strstr(p, " (BuildId:")) != NULL)
        end = sp;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    /* A trailing "(obj+0xoff)" names the object. */
    if (end > p && end[-1] == ')') {
        const char *open = end - 1;

        while (open > p && *open != '(')
            open--;
        if (*open == '(') {
            const char *plus = memchr(open, '+', (size_t)(end - open));

            f->obj = strndup(open + 1,
                             (size_t)((plus ? plus : end - 1) - (open + 1)));
            if (f->obj == NULL)
                return -ENOMEM;
            end = open;
            while (end > p && end[-1] == ' ')
                end--;
        }
    }
    if (end > p) {
        sp = memchr(p, ' ', (size_t)(end - p));
        f->fn = strndup(p, (size_t)((sp ? sp : end) - p));
        if (f->fn == NULL)
            return -ENOMEM;
        if (strcmp(f->fn, "<null>") == 0) {
            free(f->fn);
            f->fn = NULL;
        }
        if (sp != NULL && parse_location(sp + 1, end, f) < 0)
            return -ENOMEM;
        if (f->file != NULL && strcmp(f->file, "<null>") == 0) {
            free(f->file);
            f->file = NULL;
        }
    }
    s->nframes++;
    return 0;
}

/* "... thread T3 ..." or "main thread": the thread number, or -1. */
static long thread_of(const char *s)
{
    const char *t = strstr(s, " T");

    for (; t != NULL; t = strstr(t + 1, " T"))
        if (isdigit((unsigned char)t[2]))
            return strtol(t + 2, NULL, 10);
    return strstr(s, "main thread") ? 0 : -1;
}

static int san_finish(san_t *z)
{
    int rc = 0;

    if (z->e != NULL)
        rc = wr__tool_error_done(z->r, z->e);
    z->e = NULL;
    z->st = NULL;
    z->synthetic = false;
    return rc;
}

/* Starts an error of tool with the header text h (after "Sanitizer: "). */
static int san_start(san_t *z, wr_tool_t tool, const char *h)
{
    const char *end, *cut;
    int rc = san_finish(z);

    if (rc < 0)
        return rc;
    if ((z->e = wr__tool_error_new(z->r, tool)) == NULL)
        return -ENOMEM;
    z->e->pid = z->line_pid >= 0     ? z->line_pid
                : z->report_pid >= 0 ? z->report_pid
                                     : z->pid;
    z->st = &z->e->stack;
    z->shadow = false;
    /* kind: the first word; "attempting double-free" is a double-free */
    if (wr__tool_starts(h, "attempting double-free"))
        z->e->kind = strdup("double-free");
    else if (wr__tool_starts(h, "attempting free"))
        z->e->kind = strdup("bad-free");
    else if (tool == WR_TOOL_TSAN) {
        end = strstr(h, " (pid=");
        z->e->kind = end ? strndup(h, (size_t)(end - h)) : strdup(h);
        if (end != NULL)
            z->e->pid = strtol(end + 6, NULL, 10);
    } else {
        end = strchr(h, ' ');
        z->e->kind = end ? strndup(h, (size_t)(end - h)) : strdup(h);
    }
    /* what: the header without the registers */
    end = h + strlen(h);
    if ((cut = strstr(h, " (pid=")) != NULL)
        end = cut;
    else if ((cut = strstr(h, " at pc 0x")) != NULL ||
             (cut = strstr(h, " (pc 0x")) != NULL) {
        z->e->tid = thread_of(cut);
        end = cut;
    }
    z->e->what = trim_dup(h, end);
    if (z->e->kind == NULL || z->e->what == NULL)
        return -ENOMEM;
    return 0;
}

/* Appends "; s" to the what of e. */
static int what_append(wr_tool_error_t *e, const char *s)
{
    size_t n = strlen(e->what), m = strlen(s);
    char *w;

    if (n > 300)
        return 0;
    if ((w = realloc(e->what, n + m + 3)) == NULL)
        return -ENOMEM;
    memcpy(w + n, "; ", 2);
    memcpy(w + n + 2, s, m + 1);
    e->what = w;
    return 0;
}

static const struct {
    const char *name; /* as in "ERROR: <name>: " */
    wr_tool_t tool;
} sanitizers[] = {
    {"AddressSanitizer", WR_TOOL_ASAN},
    {"ThreadSanitizer", WR_TOOL_TSAN},
    {"UndefinedBehaviorSanitizer", WR_TOOL_UBSAN},
    {"LeakSanitizer", WR_TOOL_LSAN},
};

/* A line (NUL-terminated, no newline) of a sanitizer log. */
static int san_line(san_t *z, char *line)
{
    const char *p = line, *q;
    char *t;
    int rc = 0;

    /* "==PID==" prefix */
    z->line_pid = -1;
    if (wr__tool_starts(p, "==") && isdigit((unsigned char)p[2])) {
        long pid = strtol(p + 2, (char **)&q, 10);

        if (wr__tool_starts(q, "==")) {
            z->line_pid = pid;
            p = q + 2;
        }
    }
    if (wr__tool_starts(p, "ERROR: ") || wr__tool_starts(p, "WARNING: ")) {
        const char *h = strchr(p, ' ') + 1;

        for (size_t i = 0; i < sizeof(sanitizers) / sizeof(*sanitizers); i++) {
            size_t n = strlen(sanitizers[i].name);

            if (strncmp(h, sanitizers[i].name, n) != 0 || h[n] != ':')
                continue;
            z->open = true;
            z->report_pid = z->line_pid;
            if (sanitizers[i].tool == WR_TOOL_LSAN &&
                wr__tool_starts(h + n + 2, "detected memory leaks"))
                return san_finish(z); /* the leaks follow */
            return san_start(z, sanitizers[i].tool, h + n + 2);
        }
        return 0;
    }
    if (wr__tool_starts(p, "SUMMARY: ")) {
        if (!wr__tool_starts(p, "SUMMARY: UndefinedBehaviorSanitizer"))
            z->open = false;
        z->report_pid = -1;
        z->st = NULL;
        return 0;
    }
    if (wr__tool_starts(p, "ABORTING")) {
        /* ASan ends the process after its report. */
        if (z->e != NULL && !z->e->leak) {
            z->e->fatal = true;
            if (z->r->signal == 0 && strcmp(z->e->kind, "SEGV") == 0)
                z->r->signal = 11;
        }
        z->open = false;
        z->report_pid = -1;
        return san_finish(z);
    }
    if (wr__tool_starts(p, "=====")) /* the rule around each report */
        return san_finish(z);
    if ((q = strstr(p, ": runtime error: ")) != NULL) {
        wr_tool_frame_t *f;

        if ((rc = san_start(z, WR_TOOL_UBSAN, "runtime error")) < 0)
            return rc;
        free(z->e->what);
        free(z->e->kind);
        z->e->what = strdup(q + 17);
        z->e->kind = strdup("runtime error");
        if (z->e->what == NULL || z->e->kind == NULL)
            return -ENOMEM;
        f = &z->e->stack.frames[0];
        if (parse_location(p, q, f) < 0)
            return -ENOMEM;
        z->e->stack.nframes = 1;
        z->synthetic = true;
        return 0;
    }
    if ((wr__tool_starts(p, "Direct leak of ") || wr__tool_starts(p, "Indirect leak of ")) &&
        (q = strstr(p, " byte(s) in ")) != NULL) {
        const char *num = strstr(p, " of ") + 4;

        if ((rc = san_start(z, WR_TOOL_LSAN,
                            wr__tool_starts(p, "Direct") ? "Direct" : "Indirect")) < 0)
            return rc;
        free(z->e->kind);
        z->e->kind =
            strdup(wr__tool_starts(p, "Direct") ? "Direct leak" : "Indirect leak");
        free(z->e->what);
        z->e->what = trim_dup(p, p + strcspn(p, ":"));
        if (z->e->kind == NULL || z->e->what == NULL)
            return -ENOMEM;
        z->e->bytes = strtoull(num, NULL, 10);
        z->e->blocks = strtoull(q + 12, NULL, 10);
        return 0;
    }
    if (z->e == NULL)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '#' && isdigit((unsigned char)p[1])) {
        if (z->st == NULL)
            return 0;
        if (z->synthetic && p[1] == '0') {
            /* a runtime error's own stack replaces its location */
            wr__tool_stack_free(z->st);
            z->synthetic = false;
        }
        return parse_frame(p, z->st);
    }
    if (*p == '\0') {
        z->st = NULL;
        return 0;
    }
    if (wr__tool_starts(p, "Shadow byte")) {
        z->shadow = true;
        z->st = NULL;
        return 0;
    }
    if (z->shadow)
        return 0;
    if (wr__tool_starts(p, "READ of size") || wr__tool_starts(p, "WRITE of size")) {
        z->e->tid = thread_of(p);
        return what_append(z->e, p);
    }
    t = line + strlen(line);
    while (t > p && isspace((unsigned char)t[-1]))
        t--;
    if (t > p && t[-1] == ':') {
        char *what = trim_dup(p, t - 1);

        if (what == NULL)
            return -ENOMEM;
        if (z->e->stack.nframes == 0 && z->e->naux == 0) {
            /* TSan: "Read of size 4 at 0x... by thread T2:" */
            z->e->tid = thread_of(what);
            rc = what_append(z->e, what);
            free(what);
            z->st = &z->e->stack;
            return rc;
        }
        z->st = wr__tool_aux_new(z->e, what);
        return 0;
    }
    if (strstr(p, " is located ") != NULL || wr__tool_starts(p, "Location is ")) {
        char *what = trim_dup(p, t);

        if (what == NULL)
            return -ENOMEM;
        wr__tool_aux_new(z->e, what);
        z->st = NULL;
    }
    return 0;
}

int wr_tool_read_sanitizer_mem(wr_tool_report_t *r, const char *buf, size_t len,
                               long pid)
{
    san_t z = {.r = r, .pid = pid, .line_pid = -1, .report_pid = -1};
    const char *p = buf, *end = buf + len;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);

        if (n + 1 > cap) {
            char *b = realloc(line, n + 1);

            if (b == NULL) {
                rc = -ENOMEM;
                break;
            }
            line = b;
            cap = n + 1;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        rc = san_line(&z, line);
        p = nl ? nl + 1 : end;
    }
    free(line);
    if (rc == 0)
        rc = san_finish(&z);
    else if (z.e != NULL) {
        wr__tool_error_free(z.e);
        r->nerrors--;
    }
    if (rc < 0)
        return rc;
    r->files++;
    if (z.open)
        r->incomplete++;
    return 0;
}

int wr_tool_read_sanitizer(wr_tool_report_t *r, const char *path)
{
    const char *dot = strrchr(path, '.');
    long pid = -1;
    char *buf, *end;
    size_t len;
    int rc;

    /* log_path=NAME writes NAME.PID */
    if (dot != NULL && isdigit((unsigned char)dot[1])) {
        pid = strtol(dot + 1, &end, 10);
        if (*end != '\0')
            pid = -1;
    }
    if ((rc = wr__tool_slurp(path, &buf, &len)) < 0)
        return rc;
    rc = wr_tool_read_sanitizer_mem(r, buf, len, pid);
    free(buf);
    return rc;
}

