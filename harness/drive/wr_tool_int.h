/* wr_tool_int.h - What the tool report readers share with wr_tool.c.
 * Private to drive/wr_tool*.c; the API is wr_tool.h. Names carry the
 * wr__tool_ prefix: internal to the module, though not static. */
#ifndef WR_TOOL_INT_H
#define WR_TOOL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "drive/wr_tool.h"

/* Whether s begins with prefix. */
bool wr__tool_starts(const char *s, const char *prefix);

/* Frees what s and e hold and zeroes them. */
void wr__tool_stack_free(wr_tool_stack_t *s);
void wr__tool_error_free(wr_tool_error_t *e);

/* A new zeroed error of tool at the end of r, or NULL when out of
 * memory. */
wr_tool_error_t *wr__tool_error_new(wr_tool_report_t *r, wr_tool_t tool);

/* Fills in what the kind implies and counts e in the totals. Returns 0,
 * or -ENOMEM (e is then dropped). */
int wr__tool_error_done(wr_tool_report_t *r, wr_tool_error_t *e);

/* The next auxiliary stack of e, described by what (taken), or NULL
 * when e has WR_TOOL_AUX_MAX already (what is then freed). */
wr_tool_stack_t *wr__tool_aux_new(wr_tool_error_t *e, char *what);

/* Drops the errors from index n on: a file that turned out not to be
 * one. */
void wr__tool_truncate_errors(wr_tool_report_t *r, size_t n);

/* Reads a whole file into a NUL-terminated buffer (free it). Returns 0
 * or negative errno. */
int wr__tool_slurp(const char *path, char **buf, size_t *len);

#endif
