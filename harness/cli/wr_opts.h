/* wr_opts.h - The one option parser of every wsrace command.
 *
 * Options and operands may come in any order ("wsrace replay FILE
 * --report-dir D" and "wsrace replay --report-dir D FILE" are the same);
 * "--" ends the options. An option takes its value as the next word or
 * after '=' ("--seed 7", "--seed=7"). Each hit is kept in command-line
 * order, so a repeated option (--inject) is seen as often as it was given.
 * Single-threaded; keeps no state. */
#ifndef WR_OPTS_H
#define WR_OPTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name; /* without the dashes: "report-dir" */
    int id;           /* what the command switches on; > 0 */
    bool has_arg;
} wr_opt_t;

typedef struct {
    int id;
    const char *name; /* as in the table */
    const char *arg;  /* NULL for an option without a value */
} wr_opt_hit_t;

typedef struct {
    wr_opt_hit_t *hits; /* in command-line order */
    size_t nhits;
    char **operands; /* in command-line order; point into argv */
    size_t noperands;
} wr_args_t;

/* Parses argv[0..argc) (the words after the command) against table, which
 * ends with an entry whose name is NULL. Returns 0, or -EINVAL with a
 * message in err ("unknown option --x", "--seed wants a value"), or
 * -ENOMEM. Free out with wr_args_free. */
int wr_opts_parse(int argc, char **argv, const wr_opt_t *table,
                  wr_args_t *out, char *err, size_t errlen);

void wr_args_free(wr_args_t *a);

/* Value parsers: each takes the whole string or fails. */
bool wr_opts_int(const char *s, long lo, long hi, int *out);
bool wr_opts_u64(const char *s, unsigned long long *out);
/* A finite number in [lo, hi]. */
bool wr_opts_double(const char *s, double lo, double hi, double *out);

#endif
