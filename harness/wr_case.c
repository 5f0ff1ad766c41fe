/* wr_case.c - Names of checks, verdicts, expectations and target states,
 * and what a finished case says at a glance (which checks ran, which
 * failed, whether its target could be run).
 *
 * Kept apart from the checkers so that report writers and the CLI can name
 * things without linking them. Static data; any thread. */
#include <string.h>

#include "wr_case.h"
#include "wr_check.h"

static const char *const check_names[WR_CHECK__COUNT] = {
    [WR_CHECK_SCOPE_LOSS] = "scope_loss",
    [WR_CHECK_FALSE_READINESS] = "false_readiness",
    [WR_CHECK_DUPLICATE_REGISTRATION] = "duplicate_registration",
    [WR_CHECK_COORDINATOR_GAP] = "coordinator_gap",
    [WR_CHECK_LIVENESS] = "liveness",
    [WR_CHECK_REGISTRY_LEAK] = "registry_leak",
    [WR_CHECK_ISOLATION] = "isolation",
    [WR_CHECK_NO_LOST_MESSAGES] = "no_lost_messages",
    [WR_CHECK_MEMORY_SAFETY] = "memory_safety",
    [WR_CHECK_DATA_RACE] = "data_race",
};

const char *wr_check_name(wr_check_id_t id)
{
    if ((unsigned)id >= WR_CHECK__COUNT)
        return NULL;
    return check_names[id];
}

int wr_check_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < WR_CHECK__COUNT; i++)
        if (strcmp(check_names[i], name) == 0)
            return i;
    return -1;
}

const char *wr_verdict_name(wr_verdict_t v)
{
    switch (v) {
    case WR_PASS:
        return "PASS";
    case WR_FAIL:
        return "FAIL";
    case WR_UNKNOWN:
        return "UNKNOWN";
    }
    return "?";
}

const char *wr_expect_name(wr_expect_t e)
{
    switch (e) {
    case WR_EXPECT_PASS:
        return "PASS";
    case WR_EXPECT_FAIL:
        return "FAIL";
    case WR_EXPECT_ANY:
        return "ANY";
    }
    return "?";
}

unsigned wr_case_ran(const wr_case_t *c)
{
    unsigned m = 0;

    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i])
            m |= 1u << i;
    return m;
}

unsigned wr_case_verdicts(const wr_case_t *c, wr_verdict_t v)
{
    unsigned m = 0;

    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i] && c->results[i].verdict == v)
            m |= 1u << i;
    return m;
}

bool wr_case_infra_problem(const wr_case_t *c)
{
    return c->target_state == WR_TARGET_NO_START ||
           c->target_state == WR_TARGET_HUNG || c->target_error[0] != '\0';
}

const char *wr_target_state_name(wr_target_state_t s)
{
    switch (s) {
    case WR_TARGET_OK:
        return "ok";
    case WR_TARGET_CRASHED:
        return "crashed";
    case WR_TARGET_HUNG:
        return "hung";
    case WR_TARGET_NO_START:
        return "no-start";
    case WR_TARGET_EXTERNAL:
        return "external";
    }
    return "?";
}
