/* wr_yaml.h - The YAML layer under the scenario parser: loading one
 * document with libfyaml's diagnostics captured, the position of a node,
 * "FILE:LINE:COLUMN: message" errors, typed scalar getters, mapping key
 * checks and the conversion of YAML values to JSON. Private to the
 * harness library; wr_scenario.c is built on it and holds the schema.
 *
 * Names with linkage carry the wr__yaml_ prefix (libuv's uv__ convention):
 * internal to the library, though not static. Each function is declared
 * once, here, and defined once, in wr_yaml.c.
 *
 * Errors: every function that can fail returns 0 or a negative errno:
 * -EINVAL once the message is written to the context, -ENOMEM once "out
 * of memory" is. Only the first error of a parse matters; the caller
 * stops there. Nothing here has static state or locks. */
#ifndef WR_YAML_H
#define WR_YAML_H

#include <jansson.h>
#include <libfyaml.h>
#include <stdbool.h>
#include <stddef.h>

/* One of these lives for each parse: where messages go. */
typedef struct {
    const char *path; /* file name used in messages */
    char *err;        /* message buffer, or NULL */
    size_t errlen;    /* its size in bytes */
} wr__yaml_ctx_t;

/* ------------------------------------------------------------------ */
/* Errors and positions                                                 */
/* ------------------------------------------------------------------ */

/* Sets *line and *col (1-based) to where n starts; for a node with no
 * position of its own (an empty value) the nearest enclosing one, the key
 * of a value first. 0 and 0 when n is NULL or nothing has a position. */
void wr__yaml_node_pos(struct fy_node *n, int *line, int *col);

/* Writes "PATH:LINE:COL: message" (or "PATH: message" when line is 0) to
 * the caller's buffer. Always returns -EINVAL. */
int wr__yaml_fail_at(wr__yaml_ctx_t *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error about node n, positioned at n. Returns -EINVAL. */
int wr__yaml_fail(wr__yaml_ctx_t *c, struct fy_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "PATH: out of memory". Returns -ENOMEM. */
int wr__yaml_nomem(wr__yaml_ctx_t *c);

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */

/* One loaded document and what it takes to free it. */
typedef struct {
    struct fy_diag *diag;    /* collects libfyaml's errors */
    struct fy_parser *fyp;   /* the parser that built fyd */
    struct fy_document *fyd; /* the document, aliases and merges resolved */
} wr__yaml_doc_t;

/* What wr__yaml_load says about text that is not the one document the
 * caller expects. */
typedef struct {
    const char *no_document;     /* the message for text with no document */
    const char *second_document; /* the message for a second document */
    /* Words that, unquoted on the line of a syntax error, are named as its
     * likely cause (braces are syntax in a flow collection); NULL-ended. */
    const char *const *flow_words;
} wr__yaml_expect_t;

/* Loads text (NUL-terminated) as exactly one YAML document with a root,
 * refuses text that is not UTF-8 (at its first bad byte) or holds four
 * single quotes in a row (libfyaml leaks reading them), refuses one that would hold more than 100,000 nodes once its aliases
 * are expanded, or nest deeper than 64 levels (the error names the alias
 * that passes the bound), then resolves aliases and merge keys (<<). libfyaml refuses duplicate
 * keys while it builds the tree, before the merges, so a merge may still
 * override a key. On error the message names libfyaml's first error (the
 * key, for a duplicate key) and nothing is left to unload; on success the
 * caller unloads doc, which must outlive every node taken from it. */
int wr__yaml_load(wr__yaml_ctx_t *c, const char *text,
                  const wr__yaml_expect_t *expect, wr__yaml_doc_t *doc);

/* Frees what doc holds and zeroes it; a zeroed doc is left as it is. */
void wr__yaml_unload(wr__yaml_doc_t *doc);

/* ------------------------------------------------------------------ */
/* Scalars                                                              */
/* ------------------------------------------------------------------ */

/* Whether n is not NULL and of that kind. */
bool wr__yaml_is_scalar(struct fy_node *n);
bool wr__yaml_is_mapping(struct fy_node *n);
bool wr__yaml_is_sequence(struct fy_node *n);

/* Whether n is an unquoted scalar without a !!str tag: the only kind
 * YAML reads as null, a boolean or a number. */
bool wr__yaml_is_plain(struct fy_node *n);

/* Whether s is one of words (NULL-ended). */
bool wr__yaml_is_word(const char *s, const char *const *words);

/* Whether n is YAML's null: absent, empty, "~" or "null", unquoted. */
bool wr__yaml_is_null(struct fy_node *n);

/* "a mapping", "a sequence", "nothing" or the scalar quoted, for "got
 * ..." in messages. Returns buf, or a constant string. */
const char *wr__yaml_shown(struct fy_node *n, char *buf, size_t len);

/* Parses a whole decimal integer; false for anything else and for values
 * out of long long. */
bool wr__yaml_parse_ll(const char *s, long long *out);

/* Copies the string value v of key `what` into *out. Any non-null scalar
 * is text; mappings, sequences and nulls are refused, and so is "" unless
 * empty_ok. */
int wr__yaml_get_text(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                      bool empty_ok, char **out);

/* wr__yaml_get_text, refusing "". */
int wr__yaml_get_str(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                     char **out);

/* Reads the integer value v of key `what`, in min..max. Only unquoted
 * whole numbers are integers. */
int wr__yaml_get_int(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                     int min, int max, int *out);

/* ------------------------------------------------------------------ */
/* YAML to JSON                                                         */
/* ------------------------------------------------------------------ */

/* Converts node n (any kind) into a new JSON value, each scalar the way
 * YAML 1.2's core schema reads it: unquoted null, booleans, integers
 * (decimal, 0o, 0x) and floats become JSON values; everything else, and
 * everything quoted, is a string. Mapping keys must be strings. */
int wr__yaml_to_json(wr__yaml_ctx_t *c, struct fy_node *n, json_t **out);

/* ------------------------------------------------------------------ */
/* Mappings                                                             */
/* ------------------------------------------------------------------ */

/* Matches the keys of mapping map against names[0..n-1]: keys[i] and
 * vals[i] are set for each key present and left NULL otherwise. Unknown,
 * non-string and repeated keys are errors naming `where`. */
int wr__yaml_take_keys(wr__yaml_ctx_t *c, struct fy_node *map,
                       const char *where, const char *const *names, size_t n,
                       struct fy_node **keys, struct fy_node **vals);

/* An error for the required key `key` missing from map; `where` is NULL
 * for the top level. */
int wr__yaml_missing(wr__yaml_ctx_t *c, struct fy_node *map, const char *key,
                     const char *where);

/* Copies a sequence of strings (v, the value of key `what`) into a new
 * array; each item is passed to check (may be NULL) first. The array
 * and *nout are set before it is filled, so on error the caller frees
 * what it holds (the items not reached are NULL). */
int wr__yaml_get_str_list(wr__yaml_ctx_t *c, struct fy_node *v,
                          const char *what,
                          int (*check)(wr__yaml_ctx_t *, struct fy_node *,
                                       const char *),
                          char ***out, size_t *nout);

#endif
