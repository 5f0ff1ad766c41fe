/* wr_opts.c - Options in any order, repeated options kept in order. */
#include "cli/wr_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const wr_opt_t *find(const wr_opt_t *table, const char *name,
                            size_t len)
{
    for (const wr_opt_t *o = table; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int wr_opts_parse(int argc, char **argv, const wr_opt_t *table,
                  wr_args_t *out, char *err, size_t errlen)
{
    bool options = true;

    memset(out, 0, sizeof(*out));
    out->hits = calloc((size_t)argc + 1, sizeof(*out->hits));
    out->operands = calloc((size_t)argc + 1, sizeof(*out->operands));
    if (out->hits == NULL || out->operands == NULL) {
        wr_args_free(out);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i], *eq;
        const wr_opt_t *o;
        size_t len;

        if (!options || w[0] != '-' || w[1] == '\0') {
            out->operands[out->noperands++] = argv[i];
            continue;
        }
        if (strcmp(w, "--") == 0) {
            options = false;
            continue;
        }
        if (w[1] != '-') {
            snprintf(err, errlen, "unknown option '%.64s' (options are "
                                  "--long-names)",
                     w);
            goto bad;
        }
        w += 2;
        eq = strchr(w, '=');
        len = eq ? (size_t)(eq - w) : strlen(w);
        if ((o = find(table, w, len)) == NULL) {
            snprintf(err, errlen, "unknown option '--%.*s'", (int)len, w);
            goto bad;
        }
        out->hits[out->nhits].id = o->id;
        out->hits[out->nhits].name = o->name;
        if (o->has_arg) {
            if (eq != NULL) {
                out->hits[out->nhits].arg = eq + 1;
            } else if (i + 1 < argc) {
                out->hits[out->nhits].arg = argv[++i];
            } else {
                snprintf(err, errlen, "--%s wants a value", o->name);
                goto bad;
            }
        } else if (eq != NULL) {
            snprintf(err, errlen, "--%s takes no value", o->name);
            goto bad;
        }
        out->nhits++;
    }
    return 0;
bad:
    wr_args_free(out);
    return -EINVAL;
}

void wr_args_free(wr_args_t *a)
{
    free(a->hits);
    free(a->operands);
    memset(a, 0, sizeof(*a));
}

bool wr_opts_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || !*s || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

bool wr_opts_u64(const char *s, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool wr_opts_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !*s || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
