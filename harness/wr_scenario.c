/* wr_scenario.c - Loading and validating scenario files.
 *
 * A scenario is read in one pass over a libfyaml document tree: each
 * mapping is matched against the table of keys it may hold, each value is
 * converted and range-checked where it is read, and the first problem ends
 * the load with "FILE:LINE:COLUMN: message" naming the node that is wrong
 * (the key for an unknown key, the value for a bad value, the mapping for
 * a missing key). The checks that need a whole group or the whole file
 * (connection order, barriers) run once the tree is converted.
 *
 * Invariants: a returned wr_scenario_t is complete and valid, otherwise it
 * is freed. Every array is allocated zeroed with its final length set
 * before it is filled, so wr_scenario_free can release a half-built
 * scenario from any point of the parse. Nothing kept points into the
 * libfyaml document, which never outlives the parse.
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
 * Threads: any; loading shares no state. A loaded scenario is read-only. */
#include "wr_scenario.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "wr_check.h"
#include "wr_faults.h"

#define DEFAULT_WITHIN_MS  5000  /* connect, expect, expect_close */
#define BARRIER_WITHIN_MS  10000 /* barrier */
#define DEFAULT_READY_MS   5000
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_GROUP_COUNT    100000
#define MAX_WORKERS        1024
#define MIN_MAX_MESSAGE    64
#define SHOWN_VALUE_MAX    40 /* characters of a bad value quoted back */
#define YAML_STR_TAG       "tag:yaml.org,2002:str"

/* One of these lives for each parse: where messages go. */
typedef struct {
    const char *path; /* file name used in messages */
    char *err;        /* message buffer, or NULL */
    size_t errlen;    /* its size in bytes */
} pctx_t;

/* ------------------------------------------------------------------ */
/* Errors and positions                                                */
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

/* Sets *line and *col (1-based) to where n starts; for a node with no
 * position of its own (an empty value) the nearest enclosing one, the key
 * of a value first. 0 and 0 when n is NULL or nothing has a position. */
static void node_pos(struct fy_node *n, int *line, int *col)
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

/* Writes "PATH:LINE:COL: message" (or "PATH: message" when line is 0) to
 * the caller's buffer. Always returns -EINVAL. */
static int vfail_at(pctx_t *c, int line, int col, const char *fmt, va_list ap)
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

static int fail_at(pctx_t *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(pctx_t *c, int line, int col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(c, line, col, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* An error about node n, positioned at n. Returns -EINVAL. */
static int fail(pctx_t *c, struct fy_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(pctx_t *c, struct fy_node *n, const char *fmt, ...)
{
    va_list ap;
    int line, col;

    node_pos(n, &line, &col);
    va_start(ap, fmt);
    vfail_at(c, line, col, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int nomem(pctx_t *c)
{
    fail_at(c, 0, 0, "out of memory");
    return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                              */
/* ------------------------------------------------------------------ */

static bool is_scalar(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_SCALAR;
}

static bool is_mapping(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_MAPPING;
}

static bool is_sequence(struct fy_node *n)
{
    return n != NULL && fy_node_get_type(n) == FYNT_SEQUENCE;
}

static bool is_plain(struct fy_node *n)
{
    size_t len = 0;
    const char *tag;

    if (!is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    /* "!!str 12" is a string however it is written. */
    tag = fy_node_get_tag(n, &len);
    return tag == NULL || !(len == strlen(YAML_STR_TAG) &&
                            memcmp(tag, YAML_STR_TAG, len) == 0);
}

static bool is_word(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

/* Whether n is YAML's null: absent, empty, "~" or "null", unquoted. */
static bool is_null(struct fy_node *n)
{
    return n == NULL ||
           (is_plain(n) && is_word(fy_node_get_scalar0(n), null_words));
}

/* "a mapping", "a sequence", "nothing" or the scalar quoted, for "got
 * ..." in messages. Returns buf. */
static const char *shown(struct fy_node *n, char *buf, size_t len)
{
    const char *text;

    if (is_null(n))
        return "nothing";
    if (fy_node_get_type(n) == FYNT_MAPPING)
        return fy_node_mapping_item_count(n) ? "a mapping" : "an empty mapping";
    if (fy_node_get_type(n) == FYNT_SEQUENCE)
        return fy_node_sequence_item_count(n) ? "a sequence"
                                              : "an empty sequence";
    text = fy_node_get_scalar0(n);
    snprintf(buf, len, "'%.*s%s'%s", SHOWN_VALUE_MAX, text ? text : "",
             text && strlen(text) > SHOWN_VALUE_MAX ? "..." : "",
             is_plain(n) ? "" : " (quoted, so a string)");
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

/* Parses a whole decimal integer; false for anything else and for values
 * out of long long. */
static bool parse_ll(const char *s, long long *out)
{
    char *end;

    if (!is_int_text(s))
        return false;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Copies the string value v of key `what` into *out. Any non-null scalar
 * is text; mappings, sequences and nulls are refused, and so is "" unless
 * empty_ok. */
static int get_text(pctx_t *c, struct fy_node *v, const char *what,
                    bool empty_ok, char **out)
{
    char buf[96];
    size_t len;
    const char *text;

    /* "key: {session}" is a flow mapping to YAML, not a template. */
    if (is_mapping(v) && fy_node_get_style(v) == FYNS_FLOW)
        return fail(c, v,
                    "'%s' must be a string, got a mapping (quote a "
                    "template that starts with '{': \"{session}\")",
                    what);
    if (!is_scalar(v) || is_null(v))
        return fail(c, v, "'%s' must be a string, got %s", what,
                    shown(v, buf, sizeof buf));
    text = fy_node_get_scalar(v, &len);
    if (text == NULL || memchr(text, '\0', len) != NULL)
        return fail(c, v, "'%s' must not contain a NUL character", what);
    if (len == 0 && !empty_ok)
        return fail(c, v, "'%s' must not be empty", what);
    *out = strndup(text, len);
    return *out ? 0 : nomem(c);
}

static int get_str(pctx_t *c, struct fy_node *v, const char *what, char **out)
{
    return get_text(c, v, what, false, out);
}

/* Reads the integer value v of key `what`, in min..max. Only unquoted
 * whole numbers are integers. */
static int get_int(pctx_t *c, struct fy_node *v, const char *what, int min,
                   int max, int *out)
{
    char buf[96], range[64];
    long long x;

    if (is_plain(v) && parse_ll(fy_node_get_scalar0(v), &x) && x >= min &&
        x <= max) {
        *out = (int)x;
        return 0;
    }
    if (max == INT_MAX)
        snprintf(range, sizeof range, ">= %d", min);
    else
        snprintf(range, sizeof range, "from %d to %d", min, max);
    return fail(c, v, "'%s' must be an integer %s, got %s", what, range,
                shown(v, buf, sizeof buf));
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
        return parse_ll(s, out);
    errno = 0;
    *out = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
    return errno == 0 && *end == '\0';
}

static bool is_special_float(const char *s)
{
    static const char *const words[] = {
        ".inf",  ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL};

    return is_word(s, words);
}

/* Converts a scalar the way YAML 1.2's core schema reads it: unquoted
 * null, booleans, integers (decimal, 0o, 0x) and floats become JSON
 * values; everything else, and everything quoted, is a string. */
static int scalar_to_json(pctx_t *c, struct fy_node *n, json_t **out)
{
    char buf[96];
    const char *text = fy_node_get_scalar0(n);
    size_t len;
    long long x;

    if (text == NULL)
        return nomem(c);
    *out = NULL;
    if (is_plain(n)) {
        if (is_word(text, null_words))
            *out = json_null();
        else if (is_word(text, true_words))
            *out = json_true();
        else if (is_word(text, false_words))
            *out = json_false();
        else if (is_int_text(text) || is_radix_text(text)) {
            if (!parse_int_any(text, &x))
                return fail(c, n, "integer %s does not fit in 64 bits",
                            shown(n, buf, sizeof buf));
            *out = json_integer(x);
        } else if (is_float_text(text) || is_special_float(text)) {
            double d = strtod(text, NULL);

            if (is_special_float(text) || !isfinite(d))
                return fail(c, n, "%s is not a number JSON can hold",
                            shown(n, buf, sizeof buf));
            *out = json_real(d);
        }
        if (*out != NULL)
            return 0;
    }
    text = fy_node_get_scalar(n, &len);
    *out = json_stringn(text, len);
    if (*out == NULL)
        return fail(c, n, "%s is not valid UTF-8", shown(n, buf, sizeof buf));
    return 0;
}

/* Converts node n (any kind) into a new JSON value. */
static int to_json(pctx_t *c, struct fy_node *n, json_t **out)
{
    void *it = NULL;
    int rc;

    *out = NULL;
    if (is_null(n)) {
        *out = json_null();
        return 0;
    }
    if (is_scalar(n))
        return scalar_to_json(c, n, out);
    if (fy_node_get_type(n) == FYNT_SEQUENCE) {
        struct fy_node *item;

        if ((*out = json_array()) == NULL)
            return nomem(c);
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
            json_t *j;

            if ((rc = to_json(c, item, &j)) < 0)
                goto err;
            if (json_array_append_new(*out, j) < 0) {
                rc = nomem(c);
                goto err;
            }
        }
        return 0;
    }
    /* A mapping: an object with string keys. */
    struct fy_node_pair *p;

    if ((*out = json_object()) == NULL)
        return nomem(c);
    while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *key;
        json_t *j;

        if (!is_scalar(k) || is_null(k)) {
            rc = fail(c, k, "keys must be strings");
            goto err;
        }
        key = fy_node_get_scalar0(k);
        if (json_object_get(*out, key) != NULL) {
            rc = fail(c, k, "duplicate key '%s'", key);
            goto err;
        }
        if ((rc = to_json(c, fy_node_pair_value(p), &j)) < 0)
            goto err;
        if (json_object_set_new(*out, key, j) < 0) {
            rc = nomem(c);
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

/* Matches the keys of mapping map against names[0..n-1]: keys[i] and
 * vals[i] are set for each key present and left NULL otherwise. Unknown,
 * non-string and repeated keys are errors naming `where`. */
static int take_keys(pctx_t *c, struct fy_node *map, const char *where,
                     const char *const *names, size_t n, struct fy_node **keys,
                     struct fy_node **vals)
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

        if (!is_scalar(k) || is_null(k))
            return fail(c, k, "keys must be strings in %s", where);
        key = fy_node_get_scalar0(k);
        for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
            ;
        if (i == n)
            return fail(c, k, "unknown key '%s' in %s (expected %s)", key,
                        where, expected);
        if (keys[i] != NULL)
            return fail(c, k, "duplicate key '%s' in %s", key, where);
        keys[i] = k;
        vals[i] = fy_node_pair_value(p);
    }
    return 0;
}

/* An error for the required key `key` missing from map; `where` is NULL
 * for the top level. */
static int missing(pctx_t *c, struct fy_node *map, const char *key,
                   const char *where)
{
    if (where == NULL)
        return fail(c, map, "missing required key '%s'", key);
    return fail(c, map, "missing required key '%s' in %s", key, where);
}

/* Copies a sequence of strings (v, the value of key `what`) into a new
 * array; each item is passed to check (may be NULL) first. */
static int get_str_list(pctx_t *c, struct fy_node *v, const char *what,
                        int (*check)(pctx_t *, struct fy_node *, const char *),
                        char ***out, size_t *nout)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    if (!is_sequence(v))
        return fail(c, v, "'%s' must be a sequence, got %s", what,
                    shown(v, buf, sizeof buf));
    *nout = (size_t)fy_node_sequence_item_count(v);
    if (*nout == 0)
        return 0;
    *out = calloc(*nout, sizeof(**out));
    if (*out == NULL) {
        *nout = 0;
        return nomem(c);
    }
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        if ((rc = get_str(c, item, what, &(*out)[i])) < 0)
            return rc;
        if (check != NULL && (rc = check(c, item, what)) < 0)
            return rc;
        i++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Faults, sync points, checks                                          */
/* ------------------------------------------------------------------ */

/* Validates the fault spec in scalar n ("id" or "id=mode"). */
static int check_fault(pctx_t *c, struct fy_node *n, const char *what)
{
    const char *spec = fy_node_get_scalar0(n);
    const char *eq = strchr(spec, '=');
    size_t idlen = eq ? (size_t)(eq - spec) : strlen(spec);
    char known[512] = "";

    if (wr_fault_find(spec) != NULL)
        return 0;
    for (size_t i = 0; i < wr_fault_count(); i++) {
        const wr_fault_info_t *f = wr_fault_at(i);

        if (strlen(f->id) == idlen && strncmp(f->id, spec, idlen) == 0)
            return fail(c, n, "fault '%s' in '%s' has no mode '%s' (%s%s)",
                        f->id, what, eq + 1, f->modes ? "modes: " : "",
                        f->modes ? f->modes : "it takes no mode");
        if (i > 0)
            strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, f->id, sizeof known - strlen(known) - 1);
    }
    return fail(c, n, "unknown fault '%.*s' in '%s' (known: %s)", (int)idlen,
                spec, what, known);
}

static const char *const sync_points[] = {
    "accept.registered", "auth.done",
    "services.done",     "registry.check",
    "swap.unregistered", "coordinator.ready",
    "machine.ready",     "message.gate",
    "close.begin",       NULL};

/* Catches the obvious mistakes in a "POINT:ACTION" string; the gateway
 * checks the action's numbers when it starts. */
static int check_sync(pctx_t *c, struct fy_node *n, const char *what)
{
    static const char *const prefixes[] = {
        "delay=", "jitter=", "rendezvous=", NULL};
    const char *spec = fy_node_get_scalar0(n);
    const char *colon = strchr(spec, ':');
    const char *act;
    char point[64];

    if (colon == NULL)
        return fail(c, n, "'%s' entry '%s' must be POINT:ACTION", what, spec);
    snprintf(point, sizeof point, "%.*s", (int)(colon - spec), spec);
    if ((size_t)(colon - spec) >= sizeof point || !is_word(point, sync_points))
        return fail(c, n,
                    "unknown sync point '%.*s' (expected accept.registered, "
                    "auth.done, services.done, registry.check, "
                    "swap.unregistered, coordinator.ready, machine.ready, "
                    "message.gate, close.begin)",
                    (int)(colon - spec), spec);
    act = colon + 1;
    if (strcmp(act, "none") == 0)
        return 0;
    for (const char *const *p = prefixes; *p != NULL; p++)
        if (strncmp(act, *p, strlen(*p)) == 0 && act[strlen(*p)] != '\0')
            return 0;
    return fail(c, n,
                "unknown sync action '%s' (expected delay=MS, "
                "jitter=MIN..MAX, rendezvous=N[,timeout=MS] or none)",
                act);
}

/* Reads `checks`: "all" or a sequence of check names, into a bit mask. */
static int get_checks(pctx_t *c, struct fy_node *v, unsigned *out)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];

    if (is_scalar(v) && !is_null(v) &&
        strcmp(fy_node_get_scalar0(v), "all") == 0) {
        *out = WR_CHECKS_ALL;
        return 0;
    }
    if (!is_sequence(v))
        return fail(c, v,
                    "'checks' must be 'all' or a sequence of check "
                    "names, got %s",
                    shown(v, buf, sizeof buf));
    if (fy_node_sequence_item_count(v) == 0)
        return fail(c, v, "'checks' is empty (leave it out, or write all)");
    *out = 0;
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        const char *name = is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
        int id = wr_check_from_name(name);

        if (name != NULL && strcmp(name, "all") == 0) {
            *out |= WR_CHECKS_ALL;
            continue;
        }
        if (id < 0 || is_null(item)) {
            char known[256] = "";

            for (int i = 0; i < WR_CHECK__COUNT; i++) {
                strncat(known, wr_check_name((wr_check_id_t)i),
                        sizeof known - strlen(known) - 1);
                strncat(known, ", ", sizeof known - strlen(known) - 1);
            }
            return fail(c, item, "unknown check %s (expected %sor all)",
                        shown(item, buf, sizeof buf), known);
        }
        *out |= 1u << id;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */
/* ------------------------------------------------------------------ */

static const char *const step_names[] = {
    [WR_STEP_CONNECT] = "connect",
    [WR_STEP_BARRIER] = "barrier",
    [WR_STEP_SEND] = "send",
    [WR_STEP_EXPECT] = "expect",
    [WR_STEP_EXPECT_CLOSE] = "expect_close",
    [WR_STEP_SLEEP] = "sleep",
    [WR_STEP_PROBE_READY] = "probe_ready",
    [WR_STEP_CLOSE] = "close",
};

#define NSTEP_KINDS (sizeof step_names / sizeof step_names[0])
#define STEP_LIST                                                              \
    "connect, barrier, send, expect, expect_close, sleep, probe_ready, "       \
    "close"

static int step_kind(const char *name)
{
    for (size_t k = 0; k < NSTEP_KINDS; k++)
        if (strcmp(step_names[k], name) == 0)
            return (int)k;
    return -1;
}

/* connect, or connect: {within: MS}. */
static int parse_connect(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"within"};
    struct fy_node *keys[1], *vals[1];
    char buf[96];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (is_null(v))
        return 0;
    if (!is_mapping(v))
        return fail(c, v, "'connect' takes nothing or {within: MS}, got %s",
                    shown(v, buf, sizeof buf));
    if ((rc = take_keys(c, v, "'connect'", names, 1, keys, vals)) < 0)
        return rc;
    if (keys[0] != NULL)
        return get_int(c, vals[0], "within", 1, INT_MAX, &st->within_ms);
    return 0;
}

/* barrier: NAME, or barrier: {name: NAME, within: MS}. */
static int parse_barrier(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"name", "within"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    st->within_ms = BARRIER_WITHIN_MS;
    if (!is_mapping(v))
        return get_str(c, v, "barrier", &st->name);
    if ((rc = take_keys(c, v, "'barrier'", names, 2, keys, vals)) < 0)
        return rc;
    if (keys[0] == NULL)
        return missing(c, v, "name", "'barrier'");
    if ((rc = get_str(c, vals[0], "name", &st->name)) < 0)
        return rc;
    if (keys[1] != NULL)
        return get_int(c, vals[1], "within", 1, INT_MAX, &st->within_ms);
    return 0;
}

/* send: {type: T, ...} (the message), or send: {raw: TEXT}. */
static int parse_send(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    struct fy_node *raw, *type;
    json_t *t;
    char buf[96];
    int rc;

    if (!is_mapping(v))
        return fail(c, v,
                    "'send' must be the message (a mapping with a 'type') "
                    "or {raw: TEXT}, got %s",
                    shown(v, buf, sizeof buf));
    raw = fy_node_mapping_lookup_key_by_string(v, "raw", 3);
    if (raw != NULL) {
        struct fy_node_pair *p;
        void *it = NULL;

        while ((p = fy_node_mapping_iterate(v, &it)) != NULL)
            if (fy_node_pair_key(p) != raw)
                return fail(c, fy_node_pair_key(p),
                            "'raw' sends text as it is; it takes no other "
                            "key");
        return get_text(c, fy_node_mapping_lookup_by_string(v, "raw", 3), "raw",
                        true, &st->raw);
    }
    if ((rc = to_json(c, v, &st->message)) < 0)
        return rc;
    type = fy_node_mapping_lookup_by_string(v, "type", 4);
    t = json_object_get(st->message, "type");
    if (t == NULL)
        return missing(c, v, "type", "'send'");
    if (!json_is_string(t) || json_string_length(t) == 0)
        return fail(c, type, "'type' must be a string, got %s",
                    shown(type, buf, sizeof buf));
    return 0;
}

/* expect: TYPE, or expect: {type: T, within: MS, match: {path: value}}. */
static int parse_expect(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    enum { TYPE, WITHIN, MATCH, N };
    static const char *const names[N] = {"type", "within", "match"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (!is_mapping(v))
        return get_str(c, v, "expect", &st->msg_type);
    if ((rc = take_keys(c, v, "'expect'", names, N, keys, vals)) < 0)
        return rc;
    if (keys[TYPE] == NULL)
        return missing(c, v, "type", "'expect'");
    if ((rc = get_str(c, vals[TYPE], "type", &st->msg_type)) < 0)
        return rc;
    if (keys[WITHIN] != NULL && (rc = get_int(c, vals[WITHIN], "within", 1,
                                              INT_MAX, &st->within_ms)) < 0)
        return rc;
    if (keys[MATCH] == NULL)
        return 0;
    if (!is_mapping(vals[MATCH]))
        return fail(c, vals[MATCH],
                    "'match' must be a mapping of field paths to values, "
                    "got %s",
                    shown(vals[MATCH], buf, sizeof buf));
    if (fy_node_mapping_item_count(vals[MATCH]) == 0)
        return 0; /* nothing to match: leave it NULL */
    return to_json(c, vals[MATCH], &st->match);
}

static int get_close_code(pctx_t *c, struct fy_node *v, int *out)
{
    char buf[96];
    long long x;

    if (is_plain(v) && parse_ll(fy_node_get_scalar0(v), &x) &&
        (x == 0 || (x >= 1000 && x <= 4999))) {
        *out = (int)x;
        return 0;
    }
    return fail(c, v,
                "'code' must be a close code from 1000 to 4999, or 0 for "
                "any, got %s",
                shown(v, buf, sizeof buf));
}

/* expect_close, expect_close: CODE, or {code: CODE, within: MS}. */
static int parse_expect_close(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"code", "within"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (is_null(v))
        return 0;
    if (!is_mapping(v))
        return get_close_code(c, v, &st->code);
    if ((rc = take_keys(c, v, "'expect_close'", names, 2, keys, vals)) < 0)
        return rc;
    if (keys[0] != NULL && (rc = get_close_code(c, vals[0], &st->code)) < 0)
        return rc;
    if (keys[1] != NULL)
        return get_int(c, vals[1], "within", 1, INT_MAX, &st->within_ms);
    return 0;
}

/* sleep: MS, or sleep: {ms: MS, jitter_ms: MS}. */
static int parse_sleep(pctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"ms", "jitter_ms"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    if (!is_mapping(v))
        return get_int(c, v, "sleep", 0, INT_MAX, &st->ms);
    if ((rc = take_keys(c, v, "'sleep'", names, 2, keys, vals)) < 0)
        return rc;
    if (keys[0] == NULL)
        return missing(c, v, "ms", "'sleep'");
    if ((rc = get_int(c, vals[0], "ms", 0, INT_MAX, &st->ms)) < 0)
        return rc;
    if (keys[1] != NULL)
        return get_int(c, vals[1], "jitter_ms", 0, INT_MAX, &st->jitter_ms);
    return 0;
}

/* One step: a bare name (connect, close, expect_close) or a mapping with
 * exactly one key, the step's kind. */
static int parse_step(pctx_t *c, struct fy_node *n, wr_step_t *st)
{
    struct fy_node_pair *p;
    struct fy_node *k, *v = NULL;
    void *it = NULL;
    const char *name;
    char buf[96];
    int kind;

    node_pos(n, &st->line, &st->column);
    if (is_null(n) || (is_mapping(n) && fy_node_mapping_item_count(n) == 0))
        return fail(c, n, "empty step (expected one of " STEP_LIST ")");
    if (is_scalar(n)) {
        k = n;
    } else if (is_mapping(n)) {
        p = fy_node_mapping_iterate(n, &it);
        k = fy_node_pair_key(p);
        v = fy_node_pair_value(p);
        if ((p = fy_node_mapping_iterate(n, &it)) != NULL)
            return fail(c, fy_node_pair_key(p),
                        "a step has one key, but this one also has %s (start "
                        "the next step with '- ')",
                        shown(fy_node_pair_key(p), buf, sizeof buf));
        if (!is_scalar(k) || is_null(k))
            return fail(c, k, "a step's key must be one of " STEP_LIST);
    } else {
        return fail(c, n,
                    "a step must be a name or a mapping with one key, got "
                    "%s",
                    shown(n, buf, sizeof buf));
    }
    name = fy_node_get_scalar0(k);
    kind = step_kind(name);
    if (kind < 0)
        return fail(c, k, "unknown step '%s' (expected one of " STEP_LIST ")",
                    name);
    st->kind = (wr_step_kind_t)kind;
    if (k == n && kind != WR_STEP_CONNECT && kind != WR_STEP_CLOSE &&
        kind != WR_STEP_EXPECT_CLOSE)
        return fail(c, n, "step '%s' needs a value ('%s: ...')", name, name);
    switch (st->kind) {
    case WR_STEP_CONNECT:
        return parse_connect(c, v, st);
    case WR_STEP_BARRIER:
        return parse_barrier(c, v, st);
    case WR_STEP_SEND:
        return parse_send(c, v, st);
    case WR_STEP_EXPECT:
        return parse_expect(c, v, st);
    case WR_STEP_EXPECT_CLOSE:
        return parse_expect_close(c, v, st);
    case WR_STEP_SLEEP:
        return parse_sleep(c, v, st);
    case WR_STEP_PROBE_READY:
        return get_str(c, v, "probe_ready", &st->key);
    case WR_STEP_CLOSE:
        if (!is_null(v))
            return fail(c, v, "'close' takes no value, got %s",
                        shown(v, buf, sizeof buf));
        return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Groups and the whole file                                            */
/* ------------------------------------------------------------------ */

static const char *const token_names[] = {
    [WR_TOKEN_VALID] = "valid",
    [WR_TOKEN_EXPIRED] = "expired",
    [WR_TOKEN_BAD_SIGNATURE] = "bad-signature",
    [WR_TOKEN_NONE] = "none",
};

static int parse_group(pctx_t *c, struct fy_node *n, size_t index,
                       wr_group_t *g)
{
    enum { NAME, COUNT, USER, SESSION, TOKEN, JITTER, STEPS, N };
    static const char *const names[N] = {"name",    "count", "user",
                                         "session", "token", "start_jitter_ms",
                                         "steps"};
    struct fy_node *keys[N], *vals[N], *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    node_pos(n, &g->line, &g->column);
    g->count = 1;
    g->token = WR_TOKEN_VALID;
    if (!is_mapping(n))
        return fail(c, n, "a client group must be a mapping, got %s",
                    shown(n, buf, sizeof buf));
    if ((rc = take_keys(c, n, "client group", names, N, keys, vals)) < 0)
        return rc;
    if (keys[STEPS] == NULL)
        return missing(c, n, "steps", "client group");
    if (keys[NAME] != NULL) {
        if ((rc = get_str(c, vals[NAME], "name", &g->name)) < 0)
            return rc;
    } else {
        snprintf(buf, sizeof buf, "group-%zu", index);
        if ((g->name = strdup(buf)) == NULL)
            return nomem(c);
    }
    if (keys[COUNT] != NULL && (rc = get_int(c, vals[COUNT], "count", 1,
                                             MAX_GROUP_COUNT, &g->count)) < 0)
        return rc;
    if (keys[USER] != NULL)
        rc = get_str(c, vals[USER], "user", &g->user);
    else
        rc = (g->user = strdup("u{g}")) ? 0 : nomem(c);
    if (rc < 0)
        return rc;
    if (keys[SESSION] != NULL)
        rc = get_str(c, vals[SESSION], "session", &g->session);
    else
        rc = (g->session = strdup("s{g}")) ? 0 : nomem(c);
    if (rc < 0)
        return rc;
    if (keys[TOKEN] != NULL) {
        const char *t =
            is_scalar(vals[TOKEN]) ? fy_node_get_scalar0(vals[TOKEN]) : "";
        int k;

        for (k = WR_TOKEN_NONE; k >= 0 && strcmp(t, token_names[k]) != 0; k--)
            ;
        if (k < 0)
            return fail(c, vals[TOKEN],
                        "'token' must be one of valid, expired, "
                        "bad-signature, none, got %s",
                        shown(vals[TOKEN], buf, sizeof buf));
        g->token = (wr_token_kind_t)k;
    }
    if (keys[JITTER] != NULL &&
        (rc = get_int(c, vals[JITTER], "start_jitter_ms", 0, INT_MAX,
                      &g->start_jitter_ms)) < 0)
        return rc;
    if (!is_sequence(vals[STEPS]) ||
        fy_node_sequence_item_count(vals[STEPS]) == 0)
        return fail(c, vals[STEPS],
                    "'steps' must be a non-empty sequence of steps, got %s",
                    shown(vals[STEPS], buf, sizeof buf));
    g->nsteps = (size_t)fy_node_sequence_item_count(vals[STEPS]);
    if ((g->steps = calloc(g->nsteps, sizeof(*g->steps))) == NULL) {
        g->nsteps = 0;
        return nomem(c);
    }
    while ((item = fy_node_sequence_iterate(vals[STEPS], &it)) != NULL)
        if ((rc = parse_step(c, item, &g->steps[i++])) < 0)
            return rc;
    return 0;
}

/* Send, expect and close need an open connection; connect needs none. An
 * expect_close may follow a close (waiting for the close handshake). */
static int check_connections(pctx_t *c, const wr_group_t *g)
{
    const wr_step_t *open = NULL;  /* the connect of the open connection */
    const wr_step_t *ended = NULL; /* the step that ended the last one */

    for (size_t i = 0; i < g->nsteps; i++) {
        const wr_step_t *st = &g->steps[i];
        const char *name = wr_step_kind_name(st->kind);

        switch (st->kind) {
        case WR_STEP_CONNECT:
            if (open != NULL)
                return fail_at(c, st->line, st->column,
                               "second 'connect' while the connection "
                               "opened at %d:%d is still open (close it or "
                               "expect_close first)",
                               open->line, open->column);
            open = st;
            break;
        case WR_STEP_SEND:
        case WR_STEP_EXPECT:
        case WR_STEP_CLOSE:
        case WR_STEP_EXPECT_CLOSE:
            if (open == NULL && st->kind == WR_STEP_EXPECT_CLOSE &&
                ended != NULL && ended->kind == WR_STEP_CLOSE) {
                ended = st;
                break;
            }
            if (open == NULL && ended == NULL)
                return fail_at(c, st->line, st->column,
                               "'%s' before the first 'connect' (it needs "
                               "a connection)",
                               name);
            if (open == NULL)
                return fail_at(c, st->line, st->column,
                               "'%s' after the connection was closed at "
                               "%d:%d (it needs a connection: connect "
                               "again first)",
                               name, ended->line, ended->column);
            if (st->kind == WR_STEP_CLOSE || st->kind == WR_STEP_EXPECT_CLOSE) {
                ended = st;
                open = NULL;
            }
            break;
        case WR_STEP_BARRIER:
        case WR_STEP_SLEEP:
        case WR_STEP_PROBE_READY:
            break;
        }
    }
    return 0;
}

/* A barrier releases its clients once all of them arrive; one reached by a
 * single client (over all groups) is a mistake, reported at its first
 * occurrence, and so is a name used twice in one group. */
static int check_barriers(pctx_t *c, const wr_scenario_t *s)
{
    struct barrier {
        const wr_step_t *first; /* first occurrence, for the message */
        size_t arrivals;        /* clients x occurrences */
    } *b = NULL;
    size_t nb = 0, total = 0;
    int rc = 0;

    for (size_t gi = 0; gi < s->ngroups; gi++)
        for (size_t i = 0; i < s->groups[gi].nsteps; i++)
            total += s->groups[gi].steps[i].kind == WR_STEP_BARRIER;
    if (total == 0)
        return 0;
    if ((b = calloc(total, sizeof(*b))) == NULL)
        return nomem(c);
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        const wr_group_t *g = &s->groups[gi];

        for (size_t i = 0; i < g->nsteps; i++) {
            const wr_step_t *st = &g->steps[i];
            size_t j;

            if (st->kind != WR_STEP_BARRIER)
                continue;
            /* Barriers are one-shot: a client that met it once would wait
             * at its second occurrence for arrivals that never come. */
            for (size_t k = 0; k < i && rc == 0; k++)
                if (g->steps[k].kind == WR_STEP_BARRIER &&
                    strcmp(g->steps[k].name, st->name) == 0)
                    rc = fail_at(c, st->line, st->column,
                                 "barrier '%s' appears twice in one group; "
                                 "barriers are one-shot, use a new name",
                                 st->name);
            if (rc != 0)
                goto out;
            for (j = 0; j < nb && strcmp(b[j].first->name, st->name) != 0; j++)
                ;
            if (j == nb)
                b[nb++].first = st;
            b[j].arrivals += (size_t)g->count;
        }
    }
    for (size_t j = 0; j < nb; j++)
        if (b[j].arrivals < 2) {
            rc = fail_at(c, b[j].first->line, b[j].first->column,
                         "barrier '%s' is reached by only one client in the "
                         "whole scenario (a barrier lines up two or more)",
                         b[j].first->name);
            break;
        }
out:
    free(b);
    return rc;
}

static bool name_ok(const char *name)
{
    if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9')))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
           strlen(name);
}

static int parse_gateway(pctx_t *c, struct fy_node *n, wr_gateway_opts_t *o)
{
    enum { INJECT, SYNC, WORKERS, LATENCY, QUEUE, MESSAGE, N };
    static const char *const names[N] = {"inject",    "sync",
                                         "workers",   "service_latency_ms",
                                         "max_queue", "max_message"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    if (!is_mapping(n))
        return fail(c, n, "'gateway' must be a mapping, got %s",
                    shown(n, buf, sizeof buf));
    if ((rc = take_keys(c, n, "'gateway'", names, N, keys, vals)) < 0)
        return rc;
    if (keys[INJECT] != NULL &&
        (rc = get_str_list(c, vals[INJECT], "inject", check_fault, &o->inject,
                           &o->ninject)) < 0)
        return rc;
    if (keys[SYNC] != NULL &&
        (rc = get_str_list(c, vals[SYNC], "sync", check_sync, &o->sync,
                           &o->nsync)) < 0)
        return rc;
    if (keys[WORKERS] != NULL && (rc = get_int(c, vals[WORKERS], "workers", 1,
                                               MAX_WORKERS, &o->workers)) < 0)
        return rc;
    if (keys[LATENCY] != NULL &&
        (rc = get_int(c, vals[LATENCY], "service_latency_ms", 0, INT_MAX,
                      &o->service_latency_ms)) < 0)
        return rc;
    if (keys[QUEUE] != NULL && (rc = get_int(c, vals[QUEUE], "max_queue", 1,
                                             INT_MAX, &o->max_queue)) < 0)
        return rc;
    if (keys[MESSAGE] != NULL &&
        (rc = get_int(c, vals[MESSAGE], "max_message", MIN_MAX_MESSAGE, INT_MAX,
                      &o->max_message)) < 0)
        return rc;
    return 0;
}

static int parse_clients(pctx_t *c, struct fy_node *v, wr_scenario_t *s)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    if (!is_sequence(v) || fy_node_sequence_item_count(v) == 0)
        return fail(c, v,
                    "'clients' must be a non-empty sequence of client "
                    "groups, got %s",
                    shown(v, buf, sizeof buf));
    s->ngroups = (size_t)fy_node_sequence_item_count(v);
    if ((s->groups = calloc(s->ngroups, sizeof(*s->groups))) == NULL) {
        s->ngroups = 0;
        return nomem(c);
    }
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        wr_group_t *g = &s->groups[i];

        if ((rc = parse_group(c, item, i, g)) < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->groups[j].name, g->name) == 0)
                return fail_at(c, g->line, g->column,
                               "two client groups are named '%s' (the "
                               "other at %d:%d)",
                               g->name, s->groups[j].line, s->groups[j].column);
        if ((rc = check_connections(c, g)) < 0)
            return rc;
        i++;
    }
    return check_barriers(c, s);
}

static int parse_root(pctx_t *c, struct fy_node *root, wr_scenario_t *s)
{
    enum { NAME, DESC, EXPOSES, GATEWAY, CLIENTS, CHECKS, READY, TIMEOUT, N };
    static const char *const names[N] = {
        "name",    "description", "exposes",          "gateway",
        "clients", "checks",      "ready_timeout_ms", "timeout_ms"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    if (!is_mapping(root))
        return fail(c, root,
                    "a scenario must be a mapping (name, description, "
                    "clients, ...), got %s",
                    shown(root, buf, sizeof buf));
    if ((rc = take_keys(c, root, "the scenario", names, N, keys, vals)) < 0)
        return rc;
    if (keys[NAME] == NULL)
        return missing(c, root, "name", NULL);
    if (keys[DESC] == NULL)
        return missing(c, root, "description", NULL);
    if (keys[CLIENTS] == NULL)
        return missing(c, root, "clients", NULL);
    if ((rc = get_str(c, vals[NAME], "name", &s->name)) < 0)
        return rc;
    if (!name_ok(s->name))
        return fail(c, vals[NAME],
                    "'name' must match [a-z0-9][a-z0-9-]*, got '%s'", s->name);
    if ((rc = get_str(c, vals[DESC], "description", &s->description)) < 0)
        return rc;
    if (s->description[strspn(s->description, " \t\n")] == '\0')
        return fail(c, vals[DESC], "'description' must not be blank");
    if (keys[EXPOSES] != NULL &&
        (rc = get_str_list(c, vals[EXPOSES], "exposes", check_fault,
                           &s->exposes, &s->nexposes)) < 0)
        return rc;
    if (keys[GATEWAY] != NULL &&
        (rc = parse_gateway(c, vals[GATEWAY], &s->gateway)) < 0)
        return rc;
    if (keys[CHECKS] != NULL &&
        (rc = get_checks(c, vals[CHECKS], &s->checks)) < 0)
        return rc;
    if (keys[READY] != NULL &&
        (rc = get_int(c, vals[READY], "ready_timeout_ms", 1, INT_MAX,
                      &s->ready_timeout_ms)) < 0)
        return rc;
    if (keys[TIMEOUT] != NULL && (rc = get_int(c, vals[TIMEOUT], "timeout_ms",
                                               1, INT_MAX, &s->timeout_ms)) < 0)
        return rc;
    return parse_clients(c, vals[CLIENTS], s);
}

/* Reports libfyaml's first collected error, naming the key for a
 * duplicate key (libfyaml's message does not). */
static int yaml_error(pctx_t *c, struct fy_diag *d, const char *text)
{
    static const char *const templates[] = {"{i}",       "{g}",    "{user}",
                                            "{session}", "{seed}", NULL};
    struct fy_diag_error *e = first_error(d);
    const char *p = text;
    char *line = NULL;
    size_t n;
    int rc;

    if (e == NULL)
        return fail_at(c, 1, 1, "invalid YAML");
    for (int i = 1; i < e->line && p != NULL; i++)
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    if (p != NULL && (line = strndup(p, strcspn(p, "\n"))) == NULL)
        return nomem(c);
    if (line != NULL && e->msg != NULL &&
        strcmp(e->msg, "duplicate key") == 0 && e->column >= 1 &&
        (size_t)e->column <= strlen(line)) {
        p = line + e->column - 1;
        n = strcspn(p, ":");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        rc = fail_at(c, e->line, e->column, "duplicate key '%.*s'",
                     (int)(n > SHOWN_VALUE_MAX ? SHOWN_VALUE_MAX : n), p);
        free(line);
        return rc;
    }
    /* In a flow collection ({...}, [...]) braces are syntax, so an
     * unquoted template there is the likely cause. */
    for (int i = 0; line != NULL && templates[i] != NULL; i++)
        if (strstr(line, templates[i]) != NULL) {
            rc = fail_at(c, e->line, e->column,
                         "invalid YAML: %s (an unquoted %s inside [...] or "
                         "{...} is YAML syntax: quote the string)",
                         e->msg ? e->msg : "syntax error", templates[i]);
            free(line);
            return rc;
        }
    free(line);
    return fail_at(c, e->line, e->column, "invalid YAML: %s",
                   e->msg ? e->msg : "syntax error");
}

/* Parses text, which the new scenario takes over (it is freed on error). */
static wr_scenario_t *parse_owned(pctx_t *c, char *text)
{
    struct fy_parse_cfg cfg = {0};
    struct fy_diag *diag = NULL;
    struct fy_parser *fyp = NULL;
    struct fy_document *fyd = NULL, *extra = NULL;
    wr_scenario_t *s;
    int rc = -ENOMEM;

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        free(text);
        nomem(c);
        return NULL;
    }
    s->text = text;
    s->gateway.service_latency_ms = -1;
    s->checks = WR_CHECKS_ALL;
    s->ready_timeout_ms = DEFAULT_READY_MS;
    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    if ((s->path = strdup(c->path)) == NULL || text == NULL ||
        (diag = collecting_diag()) == NULL)
        goto out;
    /* Aliases and merge keys are resolved after the build (see the file
     * comment). */
    cfg.flags = FYPCF_QUIET;
    cfg.diag = diag;
    if ((fyp = fy_parser_create(&cfg)) == NULL ||
        fy_parser_set_string(fyp, text, strlen(text)) != 0)
        goto out;
    fyd = fy_parse_load_document(fyp);
    if (fyd == NULL) {
        if (fy_diag_got_error(diag))
            rc = yaml_error(c, diag, text);
        else
            rc = fail_at(c, 1, 1,
                         "no YAML document (expected a mapping with name, "
                         "description and clients)");
        goto out;
    }
    extra = fy_parse_load_document(fyp);
    if (extra != NULL || fy_diag_got_error(diag)) {
        if (extra == NULL)
            rc = yaml_error(c, diag, text);
        else
            rc = fail(c, fy_document_root(extra),
                      "a second YAML document ('---'); a scenario file "
                      "holds one");
        goto out;
    }
    if (fy_document_resolve(fyd) != 0) {
        rc = yaml_error(c, diag, text);
        goto out;
    }
    if (fy_document_root(fyd) == NULL) {
        rc = fail_at(c, 1, 1, "the document is empty");
        goto out;
    }
    rc = parse_root(c, fy_document_root(fyd), s);
out:
    if (rc == -ENOMEM)
        nomem(c);
    if (fyp != NULL) {
        if (extra != NULL)
            fy_parse_document_destroy(fyp, extra);
        if (fyd != NULL)
            fy_parse_document_destroy(fyp, fyd);
        fy_parser_destroy(fyp);
    }
    if (diag != NULL)
        fy_diag_destroy(diag);
    if (rc < 0) {
        wr_scenario_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                     */
/* ------------------------------------------------------------------ */

wr_scenario_t *wr_scenario_parse(const char *path, const char *text, char *err,
                                 size_t errlen)
{
    pctx_t c = {path ? path : "<scenario>", err, errlen};
    char *copy;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL) {
        fail_at(&c, 0, 0, "no text");
        return NULL;
    }
    if ((copy = strdup(text)) == NULL) {
        nomem(&c);
        return NULL;
    }
    return parse_owned(&c, copy);
}

wr_scenario_t *wr_scenario_load(const char *path, char *err, size_t errlen)
{
    pctx_t c = {path ? path : "<scenario>", err, errlen};
    FILE *f = NULL;
    char *text = NULL, *nul;
    size_t len = 0, cap = 0;
    int e = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || (f = fopen(path, "r")) == NULL) {
        e = path ? errno : EINVAL;
        goto err;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            char *grown = realloc(text, cap * 2 + 4096);

            if (grown == NULL) {
                e = ENOMEM;
                goto err;
            }
            text = grown;
            cap = cap * 2 + 4096;
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        e = errno ? errno : EIO;
        goto err;
    }
    fclose(f);
    f = NULL;
    text[len] = '\0';
    /* libfyaml would stop at a NUL; say so instead of reading half. */
    if ((nul = memchr(text, '\0', len)) != NULL) {
        int line = 1, col = 1;

        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n') {
                line++;
                col = 0;
            }
        fail_at(&c, line, col, "a NUL byte in the file");
        free(text);
        return NULL;
    }
    return parse_owned(&c, text);
err:
    if (f != NULL)
        fclose(f);
    free(text);
    fail_at(&c, 0, 0, "cannot read: %s", strerror(e));
    return NULL;
}

void wr_scenario_free(wr_scenario_t *s)
{
    if (s == NULL)
        return;
    for (size_t g = 0; g < s->ngroups; g++) {
        wr_group_t *gr = &s->groups[g];

        for (size_t i = 0; i < gr->nsteps; i++) {
            wr_step_t *st = &gr->steps[i];

            free(st->name);
            json_decref(st->message);
            free(st->raw);
            free(st->msg_type);
            json_decref(st->match);
            free(st->key);
        }
        free(gr->steps);
        free(gr->name);
        free(gr->user);
        free(gr->session);
    }
    free(s->groups);
    for (size_t i = 0; i < s->nexposes; i++)
        free(s->exposes[i]);
    free(s->exposes);
    for (size_t i = 0; i < s->gateway.ninject; i++)
        free(s->gateway.inject[i]);
    free(s->gateway.inject);
    for (size_t i = 0; i < s->gateway.nsync; i++)
        free(s->gateway.sync[i]);
    free(s->gateway.sync);
    free(s->name);
    free(s->description);
    free(s->text);
    free(s->path);
    free(s);
}

size_t wr_scenario_clients(const wr_scenario_t *s)
{
    size_t n = 0;

    for (size_t g = 0; s != NULL && g < s->ngroups; g++)
        n += (size_t)s->groups[g].count;
    return n;
}

/* A growing string for wr_scenario_expand. */
typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

static int sbuf_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);

        if (p == NULL)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* The value of template variable name (len bytes) for one client, or NULL
 * when it is unknown (or user/session not known yet). num holds numbers. */
static const char *template_value(const char *name, size_t len, int i, int g,
                                  const char *user, const char *session,
                                  unsigned long long seed, char *num,
                                  size_t numlen)
{
    if (len == 1 && name[0] == 'i')
        snprintf(num, numlen, "%d", i);
    else if (len == 1 && name[0] == 'g')
        snprintf(num, numlen, "%d", g);
    else if (len == 4 && strncmp(name, "seed", 4) == 0)
        snprintf(num, numlen, "%llu", seed);
    else if (len == 4 && strncmp(name, "user", 4) == 0)
        return user;
    else if (len == 7 && strncmp(name, "session", 7) == 0)
        return session;
    else
        return NULL;
    return num;
}

char *wr_scenario_expand(const char *tmpl, int i, int g, const char *user,
                         const char *session, unsigned long long seed)
{
    sbuf_t b = {NULL, 0, 0};
    const char *p = tmpl;

    if (tmpl == NULL || sbuf_add(&b, "", 0) < 0)
        return NULL;
    while (*p != '\0') {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        const char *value;
        char num[32];

        if (close == NULL) {
            if (sbuf_add(&b, p, strlen(p)) < 0)
                goto err;
            break;
        }
        if (sbuf_add(&b, p, (size_t)(open - p)) < 0)
            goto err;
        value = template_value(open + 1, (size_t)(close - open - 1), i, g, user,
                               session, seed, num, sizeof num);
        if (value != NULL) {
            if (sbuf_add(&b, value, strlen(value)) < 0)
                goto err;
            p = close + 1;
        } else {
            /* Unknown: keep the '{' and look for a name after it, so
             * "{{i}" keeps one brace and expands the rest. */
            if (sbuf_add(&b, open, 1) < 0)
                goto err;
            p = open + 1;
        }
    }
    return b.p;
err:
    free(b.p);
    return NULL;
}

const char *wr_token_kind_name(wr_token_kind_t k)
{
    if ((unsigned)k >= sizeof token_names / sizeof token_names[0])
        return NULL;
    return token_names[k];
}

const char *wr_step_kind_name(wr_step_kind_t k)
{
    if ((unsigned)k >= NSTEP_KINDS)
        return NULL;
    return step_names[k];
}
