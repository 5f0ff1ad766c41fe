/* wr_tool_valgrind.c - Valgrind's XML (protocol version 4) read into a
 * tool report (wr_tool.h).
 *
 * libxml2's push parser (see wr_tool_read_valgrind_mem for why not its
 * reader): a file cut in the middle of an error keeps every error before
 * it and drops the torn one. No static state but the pthread_once that
 * initialises libxml2; every report belongs to the one thread that fills
 * it. */
#include "drive/wr_tool.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "drive/wr_tool_int.h"
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

/* Reads one <error> into a new error of r. */
static int xml_error(wr_tool_report_t *r, const xmlNode *n, wr_tool_t tool,
                     long pid)
{
    wr_tool_error_t *e = wr__tool_error_new(r, tool);
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
            } else if ((open = wr__tool_aux_new(e, NULL)) != NULL) {
                xml_stack(c, open, &oom);
            }
            open = NULL;
        } else if (named(c, "auxwhat") || named(c, "xauxwhat")) {
            open = wr__tool_aux_new(
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
                wr__tool_stack_free(&tmp);
            }
            open = NULL;
        }
    }
    if (oom) {
        wr__tool_error_free(e);
        r->nerrors--;
        return -ENOMEM;
    }
    return wr__tool_error_done(r, e);
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
        wr__tool_truncate_errors(r, first);
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
    int rc = wr__tool_slurp(path, &buf, &len);

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

