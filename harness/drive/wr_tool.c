/* wr_tool.c - Reads what valgrind and the sanitizers report into a list of
 * errors (wr_tool.h), and writes each as a history event.
 *
 * Valgrind's XML is read with libxml2's push parser (see
 * wr_tool_read_valgrind_mem for why not its reader): a file cut in the
 * middle of an error keeps every error before it and drops the torn one.
 * Sanitizer logs are read line by line with a small state machine: a
 * header starts an error, "#N" lines add frames to the stack last
 * introduced, a line ending in ':' introduces the next stack ("freed by
 * thread T0 here:").
 *
 * No static state but the pthread_once that initialises libxml2; every
 * report belongs to the one thread that fills it. */
#include "drive/wr_tool.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

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

static bool starts(const char *s, const char *prefix)
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
        return starts(kind, "Leak_") ? WR_TOOL_CLASS_MINOR_LEAK
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
        if (starts(kind, "data race"))
            return WR_TOOL_CLASS_RACE;
        if (starts(kind, "heap-use-after-free") || starts(kind, "SEGV") ||
            starts(kind, "BUS") || starts(kind, "FPE") || starts(kind, "ILL"))
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

static void stack_free(wr_tool_stack_t *s)
{
    free(s->what);
    for (size_t i = 0; i < s->nframes; i++) {
        free(s->frames[i].fn);
        free(s->frames[i].file);
        free(s->frames[i].obj);
    }
    memset(s, 0, sizeof(*s));
}

static void error_free(wr_tool_error_t *e)
{
    free(e->kind);
    free(e->what);
    stack_free(&e->stack);
    for (size_t i = 0; i < e->naux; i++)
        stack_free(&e->aux[i]);
    memset(e, 0, sizeof(*e));
}

void wr_tool_report_free(wr_tool_report_t *r)
{
    wr_tool_t tool = r->tool;

    for (size_t i = 0; i < r->nerrors; i++)
        error_free(&r->errors[i]);
    free(r->errors);
    wr_tool_report_init(r, tool);
}

bool wr_tool_complete(const wr_tool_report_t *r)
{
    return r->incomplete == 0;
}

/* A new zeroed error at the end of r, or NULL when out of memory. */
static wr_tool_error_t *error_new(wr_tool_report_t *r, wr_tool_t tool)
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
static int error_done(wr_tool_report_t *r, wr_tool_error_t *e)
{
    if (e->kind == NULL)
        e->kind = strdup("unknown");
    if (e->what == NULL && e->kind != NULL)
        e->what = strdup(e->kind);
    if (e->kind == NULL || e->what == NULL) {
        error_free(e);
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
static void truncate_errors(wr_tool_report_t *r, size_t n)
{
    while (r->nerrors > n)
        error_free(&r->errors[--r->nerrors]);
}

/* Reads a whole file into a NUL-terminated buffer. */
static int slurp(const char *path, char **buf, size_t *len)
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
        if (starts(f->fn, "__interceptor_") || starts(f->fn, "__asan") ||
            starts(f->fn, "__tsan") || starts(f->fn, "__ubsan"))
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
/* Valgrind XML                                                         */
/* ------------------------------------------------------------------ */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static bool named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (named(c, name))
            return c;
    return NULL;
}

/* The text of n, trimmed, malloc'd; NULL when n is NULL, empty or out of
 * memory (*oom says which). */
static char *text_of(const xmlNode *n, bool *oom)
{
    xmlChar *t;
    char *s, *b, *e;

    if (n == NULL)
        return NULL;
    t = xmlNodeGetContent(n);
    if (t == NULL) {
        *oom = true;
        return NULL;
    }
    for (b = (char *)t; isspace((unsigned char)*b); b++)
        ;
    for (e = b + strlen(b); e > b && isspace((unsigned char)e[-1]); e--)
        ;
    s = e > b ? strndup(b, (size_t)(e - b)) : NULL;
    if (e > b && s == NULL)
        *oom = true;
    xmlFree(t);
    return s;
}

static long long num_of(const xmlNode *n, long long dflt)
{
    bool oom = false;
    char *s = text_of(n, &oom), *end;
    long long v;

    if (s == NULL)
        return dflt;
    v = strtoll(s, &end, 0);
    if (end == s)
        v = dflt;
    free(s);
    return v;
}

/* Reads the frames of a <stack> into s. */
static void xml_stack(const xmlNode *stack, wr_tool_stack_t *s, bool *oom)
{
    for (const xmlNode *f = stack->children; f != NULL; f = f->next) {
        wr_tool_frame_t *fr;

        if (!named(f, "frame"))
            continue;
        if (s->nframes == WR_TOOL_FRAMES)
            break;
        fr = &s->frames[s->nframes++];
        fr->fn = text_of(child(f, "fn"), oom);
        fr->file = text_of(child(f, "file"), oom);
        fr->obj = text_of(child(f, "obj"), oom);
        fr->line = (int)num_of(child(f, "line"), 0);
    }
}

/* A new auxiliary stack of e introduced by what (taken), or NULL when e
 * has its fill. */
static wr_tool_stack_t *aux_new(wr_tool_error_t *e, char *what)
{
    if (e->naux == WR_TOOL_AUX_MAX) {
        free(what);
        return NULL;
    }
    e->aux[e->naux].what = what;
    return &e->aux[e->naux++];
}

/* Reads one <error> into a new error of r. */
static int xml_error(wr_tool_report_t *r, const xmlNode *n, wr_tool_t tool,
                     long pid)
{
    wr_tool_error_t *e = error_new(r, tool);
    wr_tool_stack_t *open = NULL; /* an aux stack still waiting for frames */
    bool oom = false, main_seen = false;

    if (e == NULL)
        return -ENOMEM;
    e->pid = pid;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (named(c, "tid")) {
            e->tid = (long)num_of(c, -1);
        } else if (named(c, "kind") && e->kind == NULL) {
            e->kind = text_of(c, &oom);
        } else if (named(c, "what") && e->what == NULL) {
            e->what = text_of(c, &oom);
        } else if (named(c, "xwhat")) {
            if (e->what == NULL)
                e->what = text_of(child(c, "text"), &oom);
            e->bytes = (uint64_t)num_of(child(c, "leakedbytes"), 0);
            e->blocks = (uint64_t)num_of(child(c, "leakedblocks"), 0);
        } else if (named(c, "stack")) {
            if (!main_seen) {
                xml_stack(c, &e->stack, &oom);
                main_seen = true;
            } else if (open != NULL) {
                xml_stack(c, open, &oom);
            } else if ((open = aux_new(e, NULL)) != NULL) {
                xml_stack(c, open, &oom);
            }
            open = NULL;
        } else if (named(c, "auxwhat") || named(c, "xauxwhat")) {
            open = aux_new(
                e, text_of(named(c, "xauxwhat") ? child(c, "text") : c, &oom));
        } else if (named(c, "other_segment_start") ||
                   named(c, "other_segment_end")) {
            /* drd: where the conflicting segment of the other thread
             * starts and ends; often empty. */
            const xmlNode *st = child(c, "stack");
            wr_tool_stack_t tmp = {0};

            if (st != NULL)
                xml_stack(st, &tmp, &oom);
            if (tmp.nframes > 0 && e->naux < WR_TOOL_AUX_MAX) {
                tmp.what = strdup(named(c, "other_segment_start")
                                      ? "other segment start"
                                      : "other segment end");
                oom |= tmp.what == NULL;
                e->aux[e->naux++] = tmp;
            } else {
                stack_free(&tmp);
            }
            open = NULL;
        }
    }
    if (oom) {
        error_free(e);
        r->nerrors--;
        return -ENOMEM;
    }
    return error_done(r, e);
}

/* Whether the text at buf could be the start of valgrind's XML cut short:
 * nothing but the prolog and the root's opening, or a prefix of them. */
static bool valgrind_prefix(const char *buf, size_t len)
{
    static const char head[] = "<?xmlversion=\"1.0\"?><valgrindoutput>";
    size_t k = 0;

    for (size_t i = 0; i < len; i++) {
        if (isspace((unsigned char)buf[i]))
            continue;
        if (k == sizeof(head) - 1)
            return true; /* the root is open: the reader decides */
        if (buf[i] != head[k++])
            return false;
    }
    return true;
}

/* Reads one top-level element of the file. */
static int xml_top(wr_tool_report_t *r, const xmlNode *n, wr_tool_t *tool,
                   long *pid, size_t first)
{
    if (named(n, "protocolversion")) {
        if (num_of(n, 0) < 4)
            return -EPROTONOSUPPORT;
    } else if (named(n, "protocoltool")) {
        bool oom = false;
        char *t = text_of(n, &oom);
        int id = wr_tool_from_name(t);

        free(t);
        *tool = id > 0 ? (wr_tool_t)id : WR_TOOL_NONE;
        if (r->tool == WR_TOOL_NONE)
            r->tool = *tool;
    } else if (named(n, "pid")) {
        *pid = (long)num_of(n, -1);
    } else if (named(n, "error")) {
        return xml_error(r, n, *tool, *pid);
    } else if (named(n, "fatal_signal")) {
        /* The last error of the thread that the signal killed caused it. */
        long tid = (long)num_of(child(n, "tid"), -1);

        if (r->signal == 0)
            r->signal = (int)num_of(child(n, "signo"), 0);
        for (size_t i = r->nerrors; i-- > first;) {
            if (r->errors[i].tid == tid && !r->errors[i].leak) {
                r->errors[i].fatal = true;
                break;
            }
        }
    }
    return 0;
}

/* libxml2's push parser, not its xmlReader: the reader hands out an
 * element only once it has seen what follows it, and turns a premature
 * end of input into an error of the whole read, so it loses the last
 * complete errors of a file cut short. The push parser, fed the whole
 * file without being told that it ended, has built every element it has
 * read; the one still open below the root (nodeTab[1]) is the torn one.
 * Only then is it told the input ended, which says whether the file was
 * whole. */
int wr_tool_read_valgrind_mem(wr_tool_report_t *r, const char *buf, size_t len)
{
    xmlParserCtxtPtr ctxt;
    const xmlNode *root, *torn = NULL;
    wr_tool_t tool = WR_TOOL_NONE;
    size_t first = r->nerrors;
    long pid = -1;
    bool complete;
    int rc = 0;

    pthread_once(&xml_once, xml_init);
    if (len > (size_t)INT32_MAX)
        return -EFBIG;
    ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
    if (ctxt == NULL)
        return -ENOMEM;
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (len > 0)
        xmlParseChunk(ctxt, buf, (int)len, 0);
    if (ctxt->nodeNr >= 2)
        torn = ctxt->nodeTab[1];
    complete = xmlParseChunk(ctxt, NULL, 0, 1) == 0 && ctxt->wellFormed;
    root = ctxt->myDoc ? xmlDocGetRootElement(ctxt->myDoc) : NULL;
    if (root == NULL || !named(root, "valgrindoutput")) {
        /* Not valgrind's, or cut before its root's name ended. */
        rc = valgrind_prefix(buf, len) ? 0 : -EINVAL;
        root = NULL;
    }
    for (const xmlNode *n = root ? root->children : NULL;
         rc == 0 && n != NULL && n != torn; n = n->next)
        rc = xml_top(r, n, &tool, &pid, first);
    xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);
    if (rc == -EINVAL || rc == -EPROTONOSUPPORT)
        truncate_errors(r, first);
    if (rc < 0)
        return rc;
    r->files++;
    if (!complete)
        r->incomplete++;
    return 0;
}

int wr_tool_read_valgrind(wr_tool_report_t *r, const char *path)
{
    char *buf;
    size_t len;
    int rc = slurp(path, &buf, &len);

    if (rc < 0)
        return rc;
    rc = wr_tool_read_valgrind_mem(r, buf, len);
    free(buf);
    return rc;
}

long wr_tool_read_valgrind_glob(wr_tool_report_t *r, const char *pattern)
{
    glob_t g = {0};
    long n = 0;
    int rc = glob(pattern, 0, NULL, &g);

    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc != 0)
        return rc == GLOB_NOSPACE ? -ENOMEM : -EIO;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int e = wr_tool_read_valgrind(r, g.gl_pathv[i]);

        if (e < 0) {
            globfree(&g);
            return e;
        }
        n++;
    }
    globfree(&g);
    return n;
}

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
    if (starts(p, "0x")) {
        while (*p != '\0' && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    if (starts(p, "in "))
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
        rc = error_done(z->r, z->e);
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
    if ((z->e = error_new(z->r, tool)) == NULL)
        return -ENOMEM;
    z->e->pid = z->line_pid >= 0     ? z->line_pid
                : z->report_pid >= 0 ? z->report_pid
                                     : z->pid;
    z->st = &z->e->stack;
    z->shadow = false;
    /* kind: the first word; "attempting double-free" is a double-free */
    if (starts(h, "attempting double-free"))
        z->e->kind = strdup("double-free");
    else if (starts(h, "attempting free"))
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
    if (starts(p, "==") && isdigit((unsigned char)p[2])) {
        long pid = strtol(p + 2, (char **)&q, 10);

        if (starts(q, "==")) {
            z->line_pid = pid;
            p = q + 2;
        }
    }
    if (starts(p, "ERROR: ") || starts(p, "WARNING: ")) {
        const char *h = strchr(p, ' ') + 1;

        for (size_t i = 0; i < sizeof(sanitizers) / sizeof(*sanitizers); i++) {
            size_t n = strlen(sanitizers[i].name);

            if (strncmp(h, sanitizers[i].name, n) != 0 || h[n] != ':')
                continue;
            z->open = true;
            z->report_pid = z->line_pid;
            if (sanitizers[i].tool == WR_TOOL_LSAN &&
                starts(h + n + 2, "detected memory leaks"))
                return san_finish(z); /* the leaks follow */
            return san_start(z, sanitizers[i].tool, h + n + 2);
        }
        return 0;
    }
    if (starts(p, "SUMMARY: ")) {
        if (!starts(p, "SUMMARY: UndefinedBehaviorSanitizer"))
            z->open = false;
        z->report_pid = -1;
        z->st = NULL;
        return 0;
    }
    if (starts(p, "ABORTING")) {
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
    if (starts(p, "=====")) /* the rule around each report */
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
    if ((starts(p, "Direct leak of ") || starts(p, "Indirect leak of ")) &&
        (q = strstr(p, " byte(s) in ")) != NULL) {
        const char *num = strstr(p, " of ") + 4;

        if ((rc = san_start(z, WR_TOOL_LSAN,
                            starts(p, "Direct") ? "Direct" : "Indirect")) < 0)
            return rc;
        free(z->e->kind);
        z->e->kind =
            strdup(starts(p, "Direct") ? "Direct leak" : "Indirect leak");
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
            stack_free(z->st);
            z->synthetic = false;
        }
        return parse_frame(p, z->st);
    }
    if (*p == '\0') {
        z->st = NULL;
        return 0;
    }
    if (starts(p, "Shadow byte")) {
        z->shadow = true;
        z->st = NULL;
        return 0;
    }
    if (z->shadow)
        return 0;
    if (starts(p, "READ of size") || starts(p, "WRITE of size")) {
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
        z->st = aux_new(z->e, what);
        return 0;
    }
    if (strstr(p, " is located ") != NULL || starts(p, "Location is ")) {
        char *what = trim_dup(p, t);

        if (what == NULL)
            return -ENOMEM;
        aux_new(z->e, what);
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
        error_free(z.e);
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
    if ((rc = slurp(path, &buf, &len)) < 0)
        return rc;
    rc = wr_tool_read_sanitizer_mem(r, buf, len, pid);
    free(buf);
    return rc;
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
