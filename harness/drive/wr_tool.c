/* wr_tool.c - The list of errors an analysis tool reported (wr_tool.h):
 * names and classes, the report and its errors, frames, and each error
 * written as a history event. The readers that fill a report are
 * wr_tool_valgrind.c (valgrind's XML) and wr_tool_sanitizer.c (the
 * sanitizers' text); what they share of this file is wr_tool_int.h.
 *
 * No static state; every report belongs to the one thread that fills
 * it. */
#include "drive/wr_tool.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drive/wr_tool_int.h"

/* ------------------------------------------------------------------ */
/* Names and classes                                                    */
/* ------------------------------------------------------------------ */

static const char *const tool_names[WR_TOOL__COUNT] = {
    [WR_TOOL_NONE] = "none",         [WR_TOOL_MEMCHECK] = "memcheck",
    [WR_TOOL_HELGRIND] = "helgrind", [WR_TOOL_DRD] = "drd",
    [WR_TOOL_ASAN] = "asan",         [WR_TOOL_UBSAN] = "ubsan",
    [WR_TOOL_LSAN] = "lsan",         [WR_TOOL_TSAN] = "tsan",
};

static const char *const class_names[] = {
    [WR_TOOL_CLASS_OTHER] = "other", [WR_TOOL_CLASS_MEMORY] = "memory",
    [WR_TOOL_CLASS_LEAK] = "leak",   [WR_TOOL_CLASS_MINOR_LEAK] = "minor-leak",
    [WR_TOOL_CLASS_RACE] = "race",   [WR_TOOL_CLASS_THREAD] = "thread",
};

const char *wr_tool_name(wr_tool_t t)
{
    return (unsigned)t < WR_TOOL__COUNT ? tool_names[t] : NULL;
}

int wr_tool_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < WR_TOOL__COUNT; i++)
        if (strcmp(tool_names[i], name) == 0)
            return i;
    return -1;
}

bool wr_tool_checks_memory(wr_tool_t t)
{
    return t == WR_TOOL_MEMCHECK || t == WR_TOOL_ASAN;
}

bool wr_tool_checks_races(wr_tool_t t)
{
    return t == WR_TOOL_HELGRIND || t == WR_TOOL_DRD || t == WR_TOOL_TSAN;
}

bool wr_tool_is_valgrind(wr_tool_t t)
{
    return t == WR_TOOL_MEMCHECK || t == WR_TOOL_HELGRIND || t == WR_TOOL_DRD;
}

const char *wr_tool_class_name(wr_tool_class_t c)
{
    return (unsigned)c <= WR_TOOL_CLASS_THREAD ? class_names[c] : "other";
}

bool wr__tool_starts(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Lock-order violations and misuse of the threading API (helgrind's
 * LockOrder, UnlockForeign, PthAPIerror; drd's MutexErr, CondErr, ...;
 * TSan's lock-order-inversion, double lock, thread leak) are classed
 * "thread", which the data_race check counts with the races: each can
 * deadlock or corrupt as surely as a race. */
wr_tool_class_t wr_tool_classify(wr_tool_t t, const char *kind)
{
    if (kind == NULL)
        return WR_TOOL_CLASS_OTHER;
    switch (t) {
    case WR_TOOL_MEMCHECK:
        if (strcmp(kind, "Leak_DefinitelyLost") == 0)
            return WR_TOOL_CLASS_LEAK;
        return wr__tool_starts(kind, "Leak_") ? WR_TOOL_CLASS_MINOR_LEAK
                                     : WR_TOOL_CLASS_MEMORY;
    case WR_TOOL_HELGRIND:
        return strcmp(kind, "Race") == 0 ? WR_TOOL_CLASS_RACE
                                         : WR_TOOL_CLASS_THREAD;
    case WR_TOOL_DRD:
        return strcmp(kind, "ConflictingAccess") == 0 ? WR_TOOL_CLASS_RACE
                                                      : WR_TOOL_CLASS_THREAD;
    case WR_TOOL_ASAN:
    case WR_TOOL_UBSAN: /* undefined behaviour: the compiler may do anything */
        return WR_TOOL_CLASS_MEMORY;
    case WR_TOOL_LSAN:
        return strcmp(kind, "Direct leak") == 0 ? WR_TOOL_CLASS_LEAK
                                                : WR_TOOL_CLASS_MINOR_LEAK;
    case WR_TOOL_TSAN:
        if (wr__tool_starts(kind, "data race"))
            return WR_TOOL_CLASS_RACE;
        if (wr__tool_starts(kind, "heap-use-after-free") || wr__tool_starts(kind, "SEGV") ||
            wr__tool_starts(kind, "BUS") || wr__tool_starts(kind, "FPE") || wr__tool_starts(kind, "ILL"))
            return WR_TOOL_CLASS_MEMORY;
        return WR_TOOL_CLASS_THREAD;
    default:
        return WR_TOOL_CLASS_OTHER;
    }
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */
/* ------------------------------------------------------------------ */

void wr_tool_report_init(wr_tool_report_t *r, wr_tool_t tool)
{
    memset(r, 0, sizeof(*r));
    r->tool = tool;
}

void wr__tool_stack_free(wr_tool_stack_t *s)
{
    free(s->what);
    for (size_t i = 0; i < s->nframes; i++) {
        free(s->frames[i].fn);
        free(s->frames[i].file);
        free(s->frames[i].obj);
    }
    memset(s, 0, sizeof(*s));
}

void wr__tool_error_free(wr_tool_error_t *e)
{
    free(e->kind);
    free(e->what);
    wr__tool_stack_free(&e->stack);
    for (size_t i = 0; i < e->naux; i++)
        wr__tool_stack_free(&e->aux[i]);
    memset(e, 0, sizeof(*e));
}

void wr_tool_report_free(wr_tool_report_t *r)
{
    wr_tool_t tool = r->tool;

    for (size_t i = 0; i < r->nerrors; i++)
        wr__tool_error_free(&r->errors[i]);
    free(r->errors);
    wr_tool_report_init(r, tool);
}

bool wr_tool_complete(const wr_tool_report_t *r)
{
    return r->incomplete == 0;
}

/* A new zeroed error at the end of r, or NULL when out of memory. */
wr_tool_error_t *wr__tool_error_new(wr_tool_report_t *r, wr_tool_t tool)
{
    wr_tool_error_t *e;

    if (r->nerrors == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        void *p = realloc(r->errors, cap * sizeof(*r->errors));

        if (p == NULL)
            return NULL;
        r->errors = p;
        r->cap = cap;
    }
    e = &r->errors[r->nerrors++];
    memset(e, 0, sizeof(*e));
    e->tool = tool;
    e->pid = -1;
    e->tid = -1;
    return e;
}

/* Fills in what the kind implies and counts e in the totals. Returns 0,
 * or -ENOMEM (e is then dropped). */
int wr__tool_error_done(wr_tool_report_t *r, wr_tool_error_t *e)
{
    if (e->kind == NULL)
        e->kind = strdup("unknown");
    if (e->what == NULL && e->kind != NULL)
        e->what = strdup(e->kind);
    if (e->kind == NULL || e->what == NULL) {
        wr__tool_error_free(e);
        r->nerrors--;
        return -ENOMEM;
    }
    e->klass = wr_tool_classify(e->tool, e->kind);
    e->leak =
        e->klass == WR_TOOL_CLASS_LEAK || e->klass == WR_TOOL_CLASS_MINOR_LEAK;
    if (!e->leak)
        r->nonleak++;
    if (e->klass == WR_TOOL_CLASS_LEAK) {
        r->leaks++;
        r->leaked_bytes += e->bytes;
        r->leaked_blocks += e->blocks;
    }
    if (r->tool == WR_TOOL_NONE)
        r->tool = e->tool == WR_TOOL_UBSAN || e->tool == WR_TOOL_LSAN
                      ? WR_TOOL_ASAN
                      : e->tool;
    return 0;
}

/* Drops the errors from index n on: a file that turned out not to be one. */
void wr__tool_truncate_errors(wr_tool_report_t *r, size_t n)
{
    while (r->nerrors > n)
        wr__tool_error_free(&r->errors[--r->nerrors]);
}

/* Reads a whole file into a NUL-terminated buffer. */
int wr__tool_slurp(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    size_t cap = 8192, n = 0;
    char *b = NULL;
    int rc = 0;

    if (f == NULL)
        return -errno;
    for (;;) {
        char *p = realloc(b, cap + 1);

        if (p == NULL) {
            rc = -ENOMEM;
            break;
        }
        b = p;
        n += fread(b + n, 1, cap - n, f);
        if (ferror(f)) {
            rc = -EIO;
            break;
        }
        if (n < cap)
            break;
        cap *= 2;
    }
    fclose(f);
    if (rc < 0) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* A new auxiliary stack of e introduced by what (taken), or NULL when e
 * has its fill. */
wr_tool_stack_t *wr__tool_aux_new(wr_tool_error_t *e, char *what)
{
    if (e->naux == WR_TOOL_AUX_MAX) {
        free(what);
        return NULL;
    }
    e->aux[e->naux].what = what;
    return &e->aux[e->naux++];
}

/* ------------------------------------------------------------------ */
/* Frames                                                               */
/* ------------------------------------------------------------------ */

const wr_tool_frame_t *wr_tool_top_frame(const wr_tool_stack_t *s)
{
    for (size_t i = 0; i < s->nframes; i++) {
        const wr_tool_frame_t *f = &s->frames[i];

        if (f->fn == NULL || strcmp(f->fn, "<null>") == 0)
            continue;
        if (f->obj != NULL &&
            (strstr(f->obj, "vgpreload_") || strstr(f->obj, "libasan") ||
             strstr(f->obj, "libtsan") || strstr(f->obj, "libubsan")))
            continue;
        if (f->file != NULL && strstr(f->file, "libsanitizer/") != NULL)
            continue;
        if (wr__tool_starts(f->fn, "__interceptor_") || wr__tool_starts(f->fn, "__asan") ||
            wr__tool_starts(f->fn, "__tsan") || wr__tool_starts(f->fn, "__ubsan"))
            continue;
        return f;
    }
    return s->nframes > 0 ? &s->frames[0] : NULL;
}

char *wr_tool_frame_text(const wr_tool_frame_t *f, char *buf, size_t len)
{
    const char *fn = f->fn ? f->fn : "???";

    if (f->fn == NULL && f->file != NULL && f->line > 0)
        snprintf(buf, len, "%s:%d", f->file, f->line);
    else if (f->file != NULL && f->line > 0)
        snprintf(buf, len, "%s (%s:%d)", fn, f->file, f->line);
    else if (f->file != NULL)
        snprintf(buf, len, "%s (%s)", fn, f->file);
    else if (f->obj != NULL)
        snprintf(buf, len, "%s (%s)", fn, f->obj);
    else
        snprintf(buf, len, "%s", fn);
    return buf;
}

/* ------------------------------------------------------------------ */
/* History events                                                       */
/* ------------------------------------------------------------------ */

/* The frames of s as an array of "fn (file:line)" strings. */
static json_t *frames_json(const wr_tool_stack_t *s)
{
    json_t *a = json_array();
    char buf[512];

    for (size_t i = 0; a != NULL && i < s->nframes; i++)
        if (json_array_append_new(a, json_string(wr_tool_frame_text(
                                         &s->frames[i], buf, sizeof(buf)))) <
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Dumps o (taken) as one compact line. */
static char *dump(json_t *o, bool ok)
{
    char *s = ok && o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

char *wr_tool_error_json(const wr_tool_error_t *e, int64_t ns)
{
    const wr_tool_frame_t *top = wr_tool_top_frame(&e->stack);
    json_t *o = json_object(), *aux = json_array();
    char buf[512] = "";
    bool ok = o != NULL && aux != NULL;

    if (top != NULL)
        wr_tool_frame_text(top, buf, sizeof(buf));
    for (size_t i = 0; ok && i < e->naux; i++) {
        json_t *x = json_pack("{s:s?,s:o?}", "what", e->aux[i].what, "frames",
                              frames_json(&e->aux[i]));

        ok = x != NULL && json_array_append_new(aux, x) == 0;
    }
    ok = ok && json_object_set_new(o, "src", json_string("harness")) == 0 &&
         json_object_set_new(o, "event", json_string("tool.error")) == 0 &&
         json_object_set_new(o, "ns", json_integer(ns)) == 0 &&
         json_object_set_new(o, "tool", json_string(wr_tool_name(e->tool))) ==
             0 &&
         json_object_set_new(o, "kind", json_string(e->kind)) == 0 &&
         json_object_set_new(o, "class",
                             json_string(wr_tool_class_name(e->klass))) == 0 &&
         json_object_set_new(o, "what", json_string(e->what)) == 0 &&
         json_object_set_new(o, "pid", json_integer(e->pid)) == 0 &&
         json_object_set_new(o, "tid", json_integer(e->tid)) == 0 &&
         json_object_set_new(o, "fatal", json_boolean(e->fatal)) == 0 &&
         json_object_set_new(o, "leak", json_boolean(e->leak)) == 0 &&
         json_object_set_new(o, "bytes", json_integer((json_int_t)e->bytes)) ==
             0 &&
         json_object_set_new(o, "blocks",
                             json_integer((json_int_t)e->blocks)) == 0 &&
         json_object_set_new(o, "top", top ? json_string(buf) : json_null()) ==
             0 &&
         json_object_set_new(o, "frames", frames_json(&e->stack)) == 0;
    if (ok)
        return dump(o, json_object_set_new(o, "aux", aux) == 0);
    json_decref(aux);
    return dump(o, false);
}

char *wr_tool_report_json(const wr_tool_report_t *r, int64_t ns)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:i,s:b,s:b}", "src",
        "harness", "event", "tool.report", "ns", (json_int_t)ns, "tool",
        wr_tool_name(r->tool), "errors", (json_int_t)r->nonleak, "leaks",
        (json_int_t)r->leaks, "leaked_bytes", (json_int_t)r->leaked_bytes,
        "leaked_blocks", (json_int_t)r->leaked_blocks, "files",
        (json_int_t)r->files, "complete", wr_tool_complete(r), "signal",
        r->signal, "checks_memory", wr_tool_checks_memory(r->tool),
        "checks_races", wr_tool_checks_races(r->tool));

    return dump(o, true);
}

int wr_tool_history_add(wr_history_t *h, const wr_tool_report_t *r, int64_t ns)
{
    char *line;
    int rc;

    for (size_t i = 0; i < r->nerrors; i++) {
        if ((line = wr_tool_error_json(&r->errors[i], ns)) == NULL)
            return -ENOMEM;
        rc = wr_history_add_line(h, WR_SRC_HARNESS, line);
        free(line);
        if (rc < 0)
            return rc;
    }
    if ((line = wr_tool_report_json(r, ns)) == NULL)
        return -ENOMEM;
    rc = wr_history_add_line(h, WR_SRC_HARNESS, line);
    free(line);
    return rc;
}
