/* wr_check_tool.c - The checkers of what valgrind and the sanitizers
 * reported: memory_safety and data_race.
 *
 * Both read the tool.error and tool.report events that wr_tool.h writes
 * into the history (the harness's; see wr_tool.h for their members), so
 * they stay pure functions of the history and need neither libxml2 nor
 * the tool reports themselves:
 *
 *   memory_safety  FAIL: a tool.error of class "memory" (invalid read,
 *                  write or free, uninitialised value, a sanitizer's
 *                  memory error or undefined behaviour) or "leak"
 *                  (definitely lost). Possibly lost and still reachable
 *                  blocks are not violations.
 *   data_race      FAIL: a tool.error of class "race" (helgrind Race, drd
 *                  ConflictingAccess, TSan data race) or "thread": lock
 *                  order violations and misuse of the threading API
 *                  count too, since each can deadlock or corrupt the
 *                  state a lock guards as surely as a race.
 *
 * Without a violation: PASS when a tool.report of a tool that looks for
 * such errors (its checks_memory / checks_races member) says it read its
 * output to the end; UNKNOWN when no such tool ran, or when its output
 * was cut short (the process was killed before the tool wrote it all).
 *
 * Evidence of the first violation: the tool.error, the target.exit just
 * before it, and the gateway's last events before it: the very last one,
 * then the last one of each other connection, newest first (a tool's
 * error carries no connection; its place is the target's exit, so these
 * are the events around the crash or the shutdown). Later violations add
 * their tool.error while there is room. Any thread; no locks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checks/wr_check_int.h"

#define CONTEXT_MAX 4 /* gateway events cited around the first error */

/* What one check looks for. */
typedef struct {
    const char *classes[3]; /* tool.error classes that violate it */
    const char *checks;     /* tool.report member: the tool looks */
    const char *looks_for;  /* "memory errors" */
    const char *none;       /* what a clean report shows */
} tool_check_t;

static const tool_check_t memory_safety = {
    {"memory", "leak", NULL},
    "checks_memory",
    "memory errors",
    "no memory error and no definitely lost block",
};

static const tool_check_t data_race = {
    {"race", "thread", NULL},
    "checks_races",
    "data races",
    "no data race and no lock order or threading API error",
};

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool violates(const tool_check_t *tc, const char *klass)
{
    for (size_t i = 0; klass != NULL && tc->classes[i] != NULL; i++)
        if (strcmp(tc->classes[i], klass) == 0)
            return true;
    return false;
}

/* Cites the events around h's event at index i: the target.exit before
 * it, the last gateway event, and the last one of each other connection,
 * up to CONTEXT_MAX gateway events. */
static void cite_context(const wr_history_t *h, size_t i, wr_check_result_t *r)
{
    uint64_t seen[CONTEXT_MAX];
    size_t nseen = 0, cited = 0;
    bool exit_seen = false;

    while (i-- > 0 && cited < CONTEXT_MAX) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool dup = false;

        if (!exit_seen && wr__check_is(ev, "target.exit")) {
            wr__check_cite(r, ev);
            exit_seen = true;
            continue;
        }
        if (!wr__check_from_gateway(ev))
            continue;
        for (size_t k = 0; k < nseen; k++)
            dup |= seen[k] == ev->conn;
        if (cited > 0 && (ev->conn == 0 || dup))
            continue;
        if (ev->conn != 0 && !dup)
            seen[nseen++] = ev->conn;
        wr__check_cite(r, ev);
        cited++;
    }
}

static void check_tool(const wr_history_t *h, const tool_check_t *tc,
                       wr_check_result_t *r)
{
    const char *ran = NULL, *cut = NULL, *other = NULL;
    char tool[32] = "", cut_tool[32] = "", other_tool[32] = "";

    for (size_t i = 0; i < wr_history_len(h); i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool is_error = wr__check_is(ev, "tool.error");
        json_t *o;
        char *line;

        if (!is_error && !wr__check_is(ev, "tool.report"))
            continue;
        line = wr_event_line(ev);
        o = line ? json_loads(line, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
        free(line);
        if (o == NULL)
            continue;
        if (is_error && violates(tc, jstr(o, "class"))) {
            const char *top = jstr(o, "top");

            if (wr__check_violation(r, "%s reported %s%s%s: %s%s",
                                    wr__check_str(jstr(o, "tool")),
                                    wr__check_str(jstr(o, "kind")),
                                    top ? " in " : "", top ? top : "",
                                    wr__check_str(jstr(o, "what")),
                                    json_is_true(json_object_get(o, "fatal"))
                                        ? "; the process died of it"
                                        : ""))
                cite_context(h, i, r);
            wr__check_cite(r, ev);
        } else if (!is_error) {
            const char *name = wr__check_str(jstr(o, "tool"));

            if (json_is_true(json_object_get(o, tc->checks))) {
                snprintf(tool, sizeof(tool), "%s", name);
                ran = tool;
                if (!json_is_true(json_object_get(o, "complete")) &&
                    cut == NULL) {
                    snprintf(cut_tool, sizeof(cut_tool), "%s", name);
                    cut = cut_tool;
                }
            } else if (other == NULL) {
                snprintf(other_tool, sizeof(other_tool), "%s", name);
                other = other_tool;
            }
        }
        json_decref(o);
    }
    if (r->violations > 0)
        wr__check_finish(r, WR_FAIL, "%s", "");
    else if (ran == NULL && other != NULL)
        wr__check_finish(r, WR_UNKNOWN,
                         "only %s ran, which does not look for %s", other,
                         tc->looks_for);
    else if (ran == NULL)
        wr__check_finish(r, WR_UNKNOWN,
                         "no tool that looks for %s ran (no tool.report)",
                         tc->looks_for);
    else if (cut != NULL)
        wr__check_finish(r, WR_UNKNOWN,
                         "%s's output was cut short (the process was killed "
                         "before the tool wrote all of it) and shows %s so far",
                         cut, tc->none);
    else
        wr__check_finish(r, WR_PASS, "%s ran and reported %s", ran, tc->none);
}

void wr__check_memory_safety(const wr_history_t *h, wr_check_result_t *r)
{
    check_tool(h, &memory_safety, r);
}

void wr__check_data_race(const wr_history_t *h, wr_check_result_t *r)
{
    check_tool(h, &data_race, r);
}
