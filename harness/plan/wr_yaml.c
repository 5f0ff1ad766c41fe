/* wr_yaml.c - The YAML layer under the scenario parser (see wr_yaml.h).
 *
 * Reads a libfyaml document tree for a schema built on top (the scenario,
 * in wr_scenario.c): loads one document, finds where a node starts,
 * formats errors as "FILE:LINE:COLUMN: message" naming the node that is
 * wrong, reads typed scalars, checks the keys of a mapping, and converts
 * values to JSON. It knows no key of any schema; messages quote the key
 * or the place the caller names. The words the loader's hints name come
 * from the caller too; only wr__yaml_get_text's hint for a flow mapping
 * still quotes a scenario template ("{session}") as its example.
 *
 * Positions: libfyaml 0.7.12 has no fy_node_get_start_mark. A scalar's
 * position is its token's start mark; a collection's is what the library
 * prints when it reports on the node (fy_diag_node_report into a
 * collecting diag), or, when it has none (it ends in an empty value, or
 * was rebuilt while resolving aliases), its first child's; an empty value
 * takes its key's. Duplicate keys are refused by libfyaml while it builds
 * the tree, before aliases and merge keys (<<) are resolved, so the error
 * points at the second key and a merge may still override a key.
 *
 * Invariants: every failure writes its message before it returns, and the
 * first one ends the parse. What a getter returns is the caller's; nothing
 * returned points into the document but the nodes themselves.
 *
 * Threads: any; no static state but constant tables, no locks. */
#include "plan/wr_yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOWN_VALUE_MAX 40 /* characters of a bad value quoted back */

/* libfyaml expands aliases without a bound: seven levels of ten aliases
 * each ("billion laughs") turn 445 bytes into 271 MB. A document is read
 * only when it holds at most this many nodes with every alias expanded,
 * nested at most this deep (docs/DESIGN.md, "Limits"). */
#define YAML_NODES_MAX 100000
#define YAML_DEPTH_MAX 64
#define YAML_STR_TAG   "tag:yaml.org,2002:str"

/* ------------------------------------------------------------------ */
/* Errors and positions                                                 */
/* ------------------------------------------------------------------ */

static void diag_discard(struct fy_diag *diag, void *user, const char *buf,
                         size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

/* A diag that keeps errors for fy_diag_errors_iterate and prints nothing,
 * or NULL when out of memory. */
static struct fy_diag *collecting_diag(void)
{
    struct fy_diag_cfg cfg;
    struct fy_diag *d;

    fy_diag_cfg_default(&cfg);
    cfg.fp = NULL;
    cfg.output_fn = diag_discard;
    cfg.colorize = false;
    d = fy_diag_create(&cfg);
    if (d != NULL)
        fy_diag_set_collect_errors(d, true);
    return d;
}

/* The first error collected by d, or NULL. */
static struct fy_diag_error *first_error(struct fy_diag *d)
{
    void *it = NULL;
    struct fy_diag_error *e;

    while ((e = fy_diag_errors_iterate(d, &it)) != NULL)
        if (e->type == FYET_ERROR)
            return e;
    return NULL;
}

/* Where n itself starts (1-based), or 0 and 0. A scalar knows its token.
 * A collection's position is what libfyaml reports for it (see the file
 * comment), which it cannot do for a collection ending in an empty value
 * or rebuilt while resolving aliases: then its first child's is used. */
static void own_pos(struct fy_node *n, int *line, int *col)
{
    struct fy_diag *d;
    struct fy_diag_error *e;
    void *it = NULL;

    *line = *col = 0;
    if (fy_node_get_type(n) == FYNT_SCALAR) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

        if (m != NULL) {
            *line = m->line + 1;
            *col = m->column + 1;
        }
        return;
    }
    if ((d = collecting_diag()) != NULL) {
        fy_diag_node_report(d, n, FYET_ERROR, "%s", "position");
        e = first_error(d);
        if (e != NULL && e->line > 0) {
            *line = e->line;
            *col = e->column;
        }
        fy_diag_destroy(d);
    }
    if (*line > 0)
        return;
    if (fy_node_get_type(n) == FYNT_MAPPING) {
        struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);

        if (p != NULL)
            own_pos(fy_node_pair_key(p), line, col);
    } else {
        struct fy_node *item = fy_node_sequence_iterate(n, &it);

        if (item != NULL)
            own_pos(item, line, col);
    }
}

void wr__yaml_node_pos(struct fy_node *n, int *line, int *col)
{
    *line = *col = 0;
    while (n != NULL) {
        struct fy_node *parent = fy_node_get_parent(n);

        own_pos(n, line, col);
        if (*line > 0)
            return;
        if (parent != NULL && fy_node_get_type(parent) == FYNT_MAPPING) {
            struct fy_node_pair *p;
            void *it = NULL;

            while ((p = fy_node_mapping_iterate(parent, &it)) != NULL)
                if (fy_node_pair_value(p) == n) {
                    own_pos(fy_node_pair_key(p), line, col);
                    break;
                }
            if (*line > 0)
                return;
        }
        n = parent;
    }
}

/* wr__yaml_fail_at with a va_list. */
static int vfail_at(wr__yaml_ctx_t *c, int line, int col, const char *fmt,
                    va_list ap)
{
    int n;

    if (c->err == NULL || c->errlen == 0)
        return -EINVAL;
    if (line > 0)
        n = snprintf(c->err, c->errlen, "%s:%d:%d: ", c->path, line, col);
    else
        n = snprintf(c->err, c->errlen, "%s: ", c->path);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    return -EINVAL;
}

int wr__yaml_fail_at(wr__yaml_ctx_t *c, int line, int col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(c, line, col, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int wr__yaml_fail(wr__yaml_ctx_t *c, struct fy_node *n, const char *fmt, ...)
{
    va_list ap;
    int line, col;

    wr__yaml_node_pos(n, &line, &col);
    va_start(ap, fmt);
    vfail_at(c, line, col, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int wr__yaml_nomem(wr__yaml_ctx_t *c)
{
    wr__yaml_fail_at(c, 0, 0, "out of memory");
    return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */

/* Reports libfyaml's first collected error, naming the key for a
 * duplicate key (libfyaml's message does not), or the first of words (a
 * NULL-ended list, or NULL) on the line as the likely cause. */
static int yaml_error(wr__yaml_ctx_t *c, struct fy_diag *d, const char *text,
                      const char *const *words)
{
    struct fy_diag_error *e = first_error(d);
    const char *p = text;
    char *line = NULL;
    size_t n;
    int rc;

    if (e == NULL)
        return wr__yaml_fail_at(c, 1, 1, "invalid YAML");
    for (int i = 1; i < e->line && p != NULL; i++)
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    if (p != NULL && (line = strndup(p, strcspn(p, "\n"))) == NULL)
        return wr__yaml_nomem(c);
    if (line != NULL && e->msg != NULL &&
        strcmp(e->msg, "duplicate key") == 0 && e->column >= 1 &&
        (size_t)e->column <= strlen(line)) {
        p = line + e->column - 1;
        n = strcspn(p, ":");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        rc = wr__yaml_fail_at(c, e->line, e->column, "duplicate key '%.*s'",
                              (int)(n > SHOWN_VALUE_MAX ? SHOWN_VALUE_MAX : n),
                              p);
        free(line);
        return rc;
    }
    /* In a flow collection ({...}, [...]) braces are syntax, so an
     * unquoted word with braces (a template) there is the likely cause. */
    for (int i = 0; line != NULL && words != NULL && words[i] != NULL; i++)
        if (strstr(line, words[i]) != NULL) {
            rc = wr__yaml_fail_at(
                c, e->line, e->column,
                "invalid YAML: %s (an unquoted %s inside [...] or "
                "{...} is YAML syntax: quote the string)",
                e->msg ? e->msg : "syntax error", words[i]);
            free(line);
            return rc;
        }
    free(line);
    return wr__yaml_fail_at(c, e->line, e->column, "invalid YAML: %s",
                            e->msg ? e->msg : "syntax error");
}

/* Counts the nodes of n into *count as if every alias were expanded,
 * stopping once the count passes YAML_NODES_MAX or the nesting
 * YAML_DEPTH_MAX. Returns NULL within the bounds, else the node where they
 * were passed: the outermost alias on the way, so that the error points
 * at what the author wrote. The work is bounded by the count. */
static struct fy_node *over_budget(struct fy_node *n, int depth, size_t *count)
{
    struct fy_node *bad = NULL, *item;
    struct fy_node_pair *p;
    void *it = NULL;

    if (n == NULL)
        return NULL;
    if (++*count > YAML_NODES_MAX || depth > YAML_DEPTH_MAX)
        return n;
    if (fy_node_is_alias(n)) {
        /* A dangling alias is the resolver's to report. */
        bad = over_budget(fy_node_resolve_alias(n), depth + 1, count);
        return bad != NULL ? n : NULL;
    }
    if (fy_node_get_type(n) == FYNT_SEQUENCE) {
        while (bad == NULL && (item = fy_node_sequence_iterate(n, &it)) != NULL)
            bad = over_budget(item, depth + 1, count);
    } else if (fy_node_get_type(n) == FYNT_MAPPING) {
        while (bad == NULL && (p = fy_node_mapping_iterate(n, &it)) != NULL)
            if ((bad = over_budget(fy_node_pair_key(p), depth + 1, count)) ==
                NULL)
                bad = over_budget(fy_node_pair_value(p), depth + 1, count);
    }
    return bad;
}

/* Where text stops being UTF-8: NULL when it is valid throughout, else
 * the first bad byte, its 1-based line and column (in characters) in
 * *line and *col. */
static const char *utf8_error(const char *text, int *line, int *col)
{
    const unsigned char *p = (const unsigned char *)text;

    *line = *col = 1;
    while (*p) {
        unsigned c = *p, cp;
        int n = c < 0x80                 ? 0
                : c >= 0xc2 && c <= 0xdf ? 1
                : c >= 0xe0 && c <= 0xef ? 2
                : c >= 0xf0 && c <= 0xf4 ? 3
                                         : -1;

        if (n < 0)
            return (const char *)p;
        cp = n == 0 ? c : c & (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return (const char *)p;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return (const char *)p;
        if (c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
        p += n + 1;
    }
    return NULL;
}

/* The first run of four or more single quotes in text (two escaped
 * quotes in a row in a single-quoted string), with its 1-based line and
 * column in *line and *col; NULL when there is none. */
static const char *quote_run(const char *text, int *line, int *col)
{
    const char *run = strstr(text, "\'\'\'\'");

    if (run == NULL)
        return NULL;
    *line = 1;
    *col = 1;
    for (const char *p = text; p < run; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)*p & 0xc0) != 0x80) {
            (*col)++; /* columns in characters */
        }
    }
    return run;
}

int wr__yaml_load(wr__yaml_ctx_t *c, const char *text,
                  const wr__yaml_expect_t *expect, wr__yaml_doc_t *doc)
{
    struct fy_node *bad;
    size_t count = 0;
    int line, col;

    /* YAML is Unicode text; and libfyaml 0.7.12 loops forever on a byte
     * that is not UTF-8 in a directive ("%\xff"), found by fuzzing
     * (fuzz/corpus/scenario/regress-*). Such text never reaches it. */
    if (utf8_error(text, &line, &col) != NULL) {
        doc->diag = NULL;
        doc->fyp = NULL;
        doc->fyd = NULL;
        return wr__yaml_fail_at(c, line, col,
                                "not UTF-8 text: YAML is Unicode");
    }
    /* libfyaml 0.7.12 misreads a run of escaped quotes ('x''y')
     * and leaks the chunks it read it with (found by fuzzing); such a
     * string is better written in double quotes anyway. */
    if (quote_run(text, &line, &col) != NULL) {
        doc->diag = NULL;
        doc->fyp = NULL;
        doc->fyd = NULL;
        return wr__yaml_fail_at(c, line, col,
                                "four or more single quotes in a row: write "
                                "this string in double quotes");
    }
    struct fy_parse_cfg cfg = {0};
    struct fy_document *extra = NULL;
    int rc = -ENOMEM;

    doc->diag = NULL;
    doc->fyp = NULL;
    doc->fyd = NULL;
    if ((doc->diag = collecting_diag()) == NULL)
        goto err;
    /* Aliases and merge keys are resolved after the build (see the file
     * comment). */
    cfg.flags = FYPCF_QUIET;
    cfg.diag = doc->diag;
    if ((doc->fyp = fy_parser_create(&cfg)) == NULL ||
        fy_parser_set_string(doc->fyp, text, strlen(text)) != 0)
        goto err;
    doc->fyd = fy_parse_load_document(doc->fyp);
    if (doc->fyd == NULL) {
        if (fy_diag_got_error(doc->diag))
            rc = yaml_error(c, doc->diag, text, expect->flow_words);
        else
            rc = wr__yaml_fail_at(c, 1, 1, "%s", expect->no_document);
        goto err;
    }
    extra = fy_parse_load_document(doc->fyp);
    if (extra != NULL || fy_diag_got_error(doc->diag)) {
        if (extra == NULL)
            rc = yaml_error(c, doc->diag, text, expect->flow_words);
        else
            rc = wr__yaml_fail(c, fy_document_root(extra), "%s",
                               expect->second_document);
        goto err;
    }
    if ((bad = over_budget(fy_document_root(doc->fyd), 0, &count)) != NULL) {
        rc = count > YAML_NODES_MAX
                 ? wr__yaml_fail(c, bad,
                                 "aliases expand the document past %d "
                                 "nodes (the limit): refused",
                                 YAML_NODES_MAX)
                 : wr__yaml_fail(c, bad,
                                 "nested more than %d levels deep (the "
                                 "limit, aliases expanded): refused",
                                 YAML_DEPTH_MAX);
        goto err;
    }
    if (fy_document_resolve(doc->fyd) != 0) {
        rc = yaml_error(c, doc->diag, text, expect->flow_words);
        goto err;
    }
    if (fy_document_root(doc->fyd) == NULL) {
        rc = wr__yaml_fail_at(c, 1, 1, "the document is empty");
        goto err;
    }
    return 0;
err:
    if (rc == -ENOMEM)
        wr__yaml_nomem(c);
    if (extra != NULL)
        fy_parse_document_destroy(doc->fyp, extra);
    wr__yaml_unload(doc);
    return rc;
}

void wr__yaml_unload(wr__yaml_doc_t *doc)
{
    if (doc->fyp != NULL) {
        if (doc->fyd != NULL)
            fy_parse_document_destroy(doc->fyp, doc->fyd);
        fy_parser_destroy(doc->fyp);
    }
    if (doc->diag != NULL)
        fy_diag_destroy(doc->diag);
    doc->diag = NULL;
    doc->fyp = NULL;
    doc->fyd = NULL;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                              */
/* ------------------------------------------------------------------ */

bool wr__yaml_is_scalar(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_SCALAR;
}

bool wr__yaml_is_mapping(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_MAPPING;
}

bool wr__yaml_is_sequence(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_SEQUENCE;
}

bool wr__yaml_is_plain(struct fy_node *n)
{
    size_t len = 0;
    const char *tag;

    if (!wr__yaml_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    /* "!!str 12" is a string however it is written. */
    tag = fy_node_get_tag(n, &len);
    return tag == NULL || !(len == strlen(YAML_STR_TAG) &&
                            memcmp(tag, YAML_STR_TAG, len) == 0);
}

bool wr__yaml_is_word(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

bool wr__yaml_is_null(struct fy_node *n)
{
    return n == NULL || (wr__yaml_is_plain(n) &&
                         wr__yaml_is_word(fy_node_get_scalar0(n), null_words));
}

const char *wr__yaml_shown(struct fy_node *n, char *buf, size_t len)
{
    const char *text;

    if (wr__yaml_is_null(n))
        return "nothing";
    if (fy_node_get_type(n) == FYNT_MAPPING)
        return fy_node_mapping_item_count(n) ? "a mapping" : "an empty mapping";
    if (fy_node_get_type(n) == FYNT_SEQUENCE)
        return fy_node_sequence_item_count(n) ? "a sequence"
                                              : "an empty sequence";
    text = fy_node_get_scalar0(n);
    snprintf(buf, len, "'%.*s%s'%s", SHOWN_VALUE_MAX, text ? text : "",
             text && strlen(text) > SHOWN_VALUE_MAX ? "..." : "",
             wr__yaml_is_plain(n) ? "" : " (quoted, so a string)");
    return buf;
}

/* Whether s is a whole decimal integer: "12", "-3", "+4" (not "12abc",
 * "1.5", "0x10" or ""). */
static bool is_int_text(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

bool wr__yaml_parse_ll(const char *s, long long *out)
{
    char *end;

    if (!is_int_text(s))
        return false;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

int wr__yaml_get_text(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                      bool empty_ok, char **out)
{
    char buf[96];
    size_t len;
    const char *text;

    /* "key: {session}" is a flow mapping to YAML, not a template. */
    if (wr__yaml_is_mapping(v) && fy_node_get_style(v) == FYNS_FLOW)
        return wr__yaml_fail(c, v,
                             "'%s' must be a string, got a mapping (quote a "
                             "template that starts with '{': \"{session}\")",
                             what);
    if (!wr__yaml_is_scalar(v) || wr__yaml_is_null(v))
        return wr__yaml_fail(c, v, "'%s' must be a string, got %s", what,
                             wr__yaml_shown(v, buf, sizeof buf));
    text = fy_node_get_scalar(v, &len);
    if (text == NULL || memchr(text, '\0', len) != NULL)
        return wr__yaml_fail(c, v, "'%s' must not contain a NUL character",
                             what);
    if (len == 0 && !empty_ok)
        return wr__yaml_fail(c, v, "'%s' must not be empty", what);
    *out = strndup(text, len);
    return *out ? 0 : wr__yaml_nomem(c);
}

int wr__yaml_get_str(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                     char **out)
{
    return wr__yaml_get_text(c, v, what, false, out);
}

int wr__yaml_get_int(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                     int min, int max, int *out)
{
    char buf[96], range[64];
    long long x;

    if (wr__yaml_is_plain(v) && wr__yaml_parse_ll(fy_node_get_scalar0(v), &x) &&
        x >= min && x <= max) {
        *out = (int)x;
        return 0;
    }
    if (max == INT_MAX)
        snprintf(range, sizeof range, ">= %d", min);
    else
        snprintf(range, sizeof range, "from %d to %d", min, max);
    return wr__yaml_fail(c, v, "'%s' must be an integer %s, got %s", what,
                         range, wr__yaml_shown(v, buf, sizeof buf));
}

/* ------------------------------------------------------------------ */
/* YAML to JSON                                                         */
/* ------------------------------------------------------------------ */

/* Whether s is a YAML 1.2 core-schema float: [-+]?(.N|N(.N*)?)([eE][-+]?N)? */
static bool is_float_text(const char *s)
{
    const char *p = s;
    bool digits = false;

    if (*p == '+' || *p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits = true;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits = true;
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* Whether s is a YAML 1.2 core-schema octal or hex integer: 0o17, 0x1F. */
static bool is_radix_text(const char *s)
{
    if (s[0] != '0' || (s[1] != 'o' && s[1] != 'x') || s[2] == '\0')
        return false;
    return strspn(s + 2, s[1] == 'o' ? "01234567" : "0123456789abcdefABCDEF") ==
           strlen(s + 2);
}

/* Parses a decimal, 0o or 0x integer; false when it does not fit. */
static bool parse_int_any(const char *s, long long *out)
{
    char *end;

    if (!is_radix_text(s))
        return wr__yaml_parse_ll(s, out);
    errno = 0;
    *out = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
    return errno == 0 && *end == '\0';
}

static bool is_special_float(const char *s)
{
    static const char *const words[] = {
        ".inf",  ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL};

    return wr__yaml_is_word(s, words);
}

/* Converts a scalar the way YAML 1.2's core schema reads it: unquoted
 * null, booleans, integers (decimal, 0o, 0x) and floats become JSON
 * values; everything else, and everything quoted, is a string. */
static int scalar_to_json(wr__yaml_ctx_t *c, struct fy_node *n, json_t **out)
{
    char buf[96];
    const char *text = fy_node_get_scalar0(n);
    size_t len;
    long long x;

    if (text == NULL)
        return wr__yaml_nomem(c);
    *out = NULL;
    if (wr__yaml_is_plain(n)) {
        if (wr__yaml_is_word(text, null_words))
            *out = json_null();
        else if (wr__yaml_is_word(text, true_words))
            *out = json_true();
        else if (wr__yaml_is_word(text, false_words))
            *out = json_false();
        else if (is_int_text(text) || is_radix_text(text)) {
            if (!parse_int_any(text, &x))
                return wr__yaml_fail(c, n, "integer %s does not fit in 64 bits",
                                     wr__yaml_shown(n, buf, sizeof buf));
            *out = json_integer(x);
        } else if (is_float_text(text) || is_special_float(text)) {
            double d = strtod(text, NULL);

            if (is_special_float(text) || !isfinite(d))
                return wr__yaml_fail(c, n, "%s is not a number JSON can hold",
                                     wr__yaml_shown(n, buf, sizeof buf));
            *out = json_real(d);
        }
        if (*out != NULL)
            return 0;
    }
    text = fy_node_get_scalar(n, &len);
    *out = json_stringn(text, len);
    if (*out == NULL)
        return wr__yaml_fail(c, n, "%s is not valid UTF-8",
                             wr__yaml_shown(n, buf, sizeof buf));
    return 0;
}

int wr__yaml_to_json(wr__yaml_ctx_t *c, struct fy_node *n, json_t **out)
{
    void *it = NULL;
    int rc;

    *out = NULL;
    if (wr__yaml_is_null(n)) {
        *out = json_null();
        return 0;
    }
    if (wr__yaml_is_scalar(n))
        return scalar_to_json(c, n, out);
    if (fy_node_get_type(n) == FYNT_SEQUENCE) {
        struct fy_node *item;

        if ((*out = json_array()) == NULL)
            return wr__yaml_nomem(c);
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
            json_t *j;

            if ((rc = wr__yaml_to_json(c, item, &j)) < 0)
                goto err;
            if (json_array_append_new(*out, j) < 0) {
                rc = wr__yaml_nomem(c);
                goto err;
            }
        }
        return 0;
    }
    /* A mapping: an object with string keys. */
    struct fy_node_pair *p;

    if ((*out = json_object()) == NULL)
        return wr__yaml_nomem(c);
    while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *key;
        json_t *j;

        if (!wr__yaml_is_scalar(k) || wr__yaml_is_null(k)) {
            rc = wr__yaml_fail(c, k, "keys must be strings");
            goto err;
        }
        key = fy_node_get_scalar0(k);
        if (json_object_get(*out, key) != NULL) {
            rc = wr__yaml_fail(c, k, "duplicate key '%s'", key);
            goto err;
        }
        if ((rc = wr__yaml_to_json(c, fy_node_pair_value(p), &j)) < 0)
            goto err;
        if (json_object_set_new(*out, key, j) < 0) {
            rc = wr__yaml_nomem(c);
            goto err;
        }
    }
    return 0;
err:
    json_decref(*out);
    *out = NULL;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Mappings                                                             */
/* ------------------------------------------------------------------ */

int wr__yaml_take_keys(wr__yaml_ctx_t *c, struct fy_node *map,
                       const char *where, const char *const *names, size_t n,
                       struct fy_node **keys, struct fy_node **vals)
{
    struct fy_node_pair *p;
    void *it = NULL;
    char expected[256] = "";
    size_t i;

    for (i = 0; i < n; i++) {
        keys[i] = vals[i] = NULL;
        if (i > 0)
            strncat(expected, ", ", sizeof expected - strlen(expected) - 1);
        strncat(expected, names[i], sizeof expected - strlen(expected) - 1);
    }
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *key;

        if (!wr__yaml_is_scalar(k) || wr__yaml_is_null(k))
            return wr__yaml_fail(c, k, "keys must be strings in %s", where);
        key = fy_node_get_scalar0(k);
        for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
            ;
        if (i == n)
            return wr__yaml_fail(c, k, "unknown key '%s' in %s (expected %s)",
                                 key, where, expected);
        if (keys[i] != NULL)
            return wr__yaml_fail(c, k, "duplicate key '%s' in %s", key, where);
        keys[i] = k;
        vals[i] = fy_node_pair_value(p);
    }
    return 0;
}

int wr__yaml_missing(wr__yaml_ctx_t *c, struct fy_node *map, const char *key,
                     const char *where)
{
    if (where == NULL)
        return wr__yaml_fail(c, map, "missing required key '%s'", key);
    return wr__yaml_fail(c, map, "missing required key '%s' in %s", key, where);
}

int wr__yaml_get_str_list(wr__yaml_ctx_t *c, struct fy_node *v,
                          const char *what,
                          int (*check)(wr__yaml_ctx_t *, struct fy_node *,
                                       const char *),
                          char ***out, size_t *nout)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    if (!wr__yaml_is_sequence(v))
        return wr__yaml_fail(c, v, "'%s' must be a sequence, got %s", what,
                             wr__yaml_shown(v, buf, sizeof buf));
    *nout = (size_t)fy_node_sequence_item_count(v);
    if (*nout == 0)
        return 0;
    *out = calloc(*nout, sizeof(**out));
    if (*out == NULL) {
        *nout = 0;
        return wr__yaml_nomem(c);
    }
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        if ((rc = wr__yaml_get_str(c, item, what, &(*out)[i])) < 0)
            return rc;
        if (check != NULL && (rc = check(c, item, what)) < 0)
            return rc;
        i++;
    }
    return 0;
}
