/* wr_faults.c - Which checks detect which injected fault.
 *
 * The table is the harness's claim: a scenario that exposes a fault, run
 * with that fault injected, must get FAIL from every check in `detects`.
 * `side_effects` are the other checks the fault is known to break as a
 * consequence (a gateway killed by scope-loss never welcomes anyone, so
 * liveness fails too); they are allowed to fail but not required to, and
 * every check outside both sets must still PASS. The seed bugs come first,
 * in the order the original report's tests are reproduced (5, 4, 1, 6).
 * Static data; any thread. */
#include <string.h>

#include "wr_faults.h"

#define BIT(c) (1u << (c))

static const wr_fault_info_t faults[] = {
    {"fallback-ready", NULL, "test 5",
     "readiness of a key with no machine is reported true",
     BIT(WR_CHECK_FALSE_READINESS), 0, NULL, 0, NULL},
    {"coordinator-gap", NULL, "test 4",
     "the coordinator turns READY on its own and alone gates messages",
     BIT(WR_CHECK_COORDINATOR_GAP),
     BIT(WR_CHECK_FALSE_READINESS) | BIT(WR_CHECK_NO_LOST_MESSAGES),
     "messages let through by the unlinked coordinator are processed while "
     "the machine is not ready, and their transitions are refused",
     0, NULL},
    {"duplicate-registration", NULL, "test 1",
     "registering a live key silently succeeds; concurrent registrations "
     "both create a machine",
     BIT(WR_CHECK_DUPLICATE_REGISTRATION),
     BIT(WR_CHECK_ISOLATION) | BIT(WR_CHECK_NO_LOST_MESSAGES) |
         BIT(WR_CHECK_REGISTRY_LEAK) | BIT(WR_CHECK_LIVENESS),
     "two live machines under one key share its messages and its "
     "unregistration; a connection that silently got the first one's "
     "machine has its own ready step refused and is never ready",
     0, NULL},
    {"scope-loss", "crash|error|swallow", "test 6",
     "the swap uses a registry handle whose scope has ended",
     BIT(WR_CHECK_SCOPE_LOSS),
     BIT(WR_CHECK_LIVENESS) | BIT(WR_CHECK_REGISTRY_LEAK) |
         BIT(WR_CHECK_NO_LOST_MESSAGES),
     "connections that lose their machine are never ready, their messages "
     "never complete, and the stranded preliminary machine is never "
     "unregistered",
     /* the crash is a read through a null handle */
     BIT(WR_CHECK_MEMORY_SAFETY), "crash"},
    {"early-welcome", NULL, NULL,
     "the welcome claims connection_ready before the machine is ready",
     BIT(WR_CHECK_FALSE_READINESS), 0, NULL, 0, NULL},
    {"stuck-swap", NULL, NULL,
     "the swap re-creates the machine in CONNECTING; it never becomes ready",
     BIT(WR_CHECK_LIVENESS),
     BIT(WR_CHECK_NO_LOST_MESSAGES) | BIT(WR_CHECK_REGISTRY_LEAK),
     "a connection that is never ready never completes its messages, and "
     "its failed machine may stay registered",
     0, NULL},
    {"registry-leak", NULL, NULL,
     "the machine is not unregistered when the connection closes",
     BIT(WR_CHECK_REGISTRY_LEAK), 0, NULL, 0, NULL},
};

#define NFAULTS (sizeof faults / sizeof faults[0])

size_t wr_fault_count(void)
{
    return NFAULTS;
}

const wr_fault_info_t *wr_fault_at(size_t i)
{
    return i < NFAULTS ? &faults[i] : NULL;
}

/* Whether mode (len bytes) is one of the '|'-separated modes. */
static int has_mode(const char *modes, const char *mode, size_t len)
{
    const char *p = modes;

    while (p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);

        if (n == len && strncmp(p, mode, len) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* Looks up the first len bytes of spec ("id" or "id=mode"). */
static const wr_fault_info_t *find_n(const char *spec, size_t len)
{
    const char *eq = memchr(spec, '=', len);
    size_t idlen = eq ? (size_t)(eq - spec) : len;

    for (size_t i = 0; i < NFAULTS; i++) {
        if (strlen(faults[i].id) != idlen ||
            strncmp(faults[i].id, spec, idlen) != 0)
            continue;
        if (eq == NULL)
            return &faults[i];
        if (!has_mode(faults[i].modes, eq + 1, len - idlen - 1))
            return NULL;
        return &faults[i];
    }
    return NULL;
}

const wr_fault_info_t *wr_fault_find(const char *spec)
{
    return spec ? find_n(spec, strlen(spec)) : NULL;
}

bool wr_fault_listed(const wr_fault_info_t *f, const char *list)
{
    const char *p = list;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);

        if (find_n(p, n) == f)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

bool wr_fault_exposed(const wr_fault_info_t *f, const wr_scenario_t *s)
{
    for (size_t i = 0; s != NULL && i < s->nexposes; i++)
        if (wr_fault_find(s->exposes[i]) == f)
            return true;
    return false;
}

/* How many fault specs the comma list names. */
static size_t count_listed(const char *list)
{
    size_t n = 0;

    for (const char *p = list; p != NULL && *p != '\0'; n++) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return n;
}

bool wr_fault_targeted(const wr_fault_info_t *f, const wr_case_t *c)
{
    return count_listed(c->inject) == 1 && wr_fault_listed(f, c->inject) &&
           wr_fault_exposed(f, c->scenario);
}

bool wr_fault_confirmed(const wr_fault_info_t *f, const wr_case_t *c)
{
    unsigned d = f->detects & wr_case_ran(c);

    return !wr_case_infra_problem(c) && d != 0 &&
           d == (d & wr_case_verdicts(c, WR_FAIL));
}

bool wr_fault_control(const wr_fault_info_t *f, const wr_case_t *c)
{
    return c->inject[0] == '\0' && wr_fault_exposed(f, c->scenario) &&
           (f->detects & wr_case_ran(c)) != 0;
}

bool wr_fault_absent(const wr_fault_info_t *f, const wr_case_t *c)
{
    unsigned d = f->detects & wr_case_ran(c);

    return !wr_case_infra_problem(c) && d == (d & wr_case_verdicts(c, WR_PASS));
}

void wr_faults_expect(const wr_scenario_t *s, const char *inject,
                      wr_expect_t expected[WR_CHECK__COUNT], unsigned *need_one)
{
    unsigned must = 0, may = 0, any = 0;
    bool alone = count_listed(inject) == 1, promised = false;

    for (size_t i = 0; i < wr_fault_count(); i++) {
        const wr_fault_info_t *f = wr_fault_at(i);

        if (!wr_fault_listed(f, inject))
            continue;
        any |= f->detects;
        if (!wr_fault_exposed(f, s)) {
            /* Not promised by the scenario, but injected: it may fire. */
            may |= f->detects | f->side_effects;
        } else if (alone) {
            must |= f->detects;
            may |= f->side_effects;
        } else {
            /* With other faults one may mask another (a crash ends the
             * case before a duplicate registers): one detection is due. */
            may |= f->detects | f->side_effects;
            promised = true;
        }
    }
    for (int c = 0; c < WR_CHECK__COUNT; c++) {
        if (must & BIT(c))
            expected[c] = WR_EXPECT_FAIL;
        else if (may & BIT(c))
            expected[c] = WR_EXPECT_ANY;
        else
            expected[c] = WR_EXPECT_PASS;
    }
    if (need_one != NULL)
        *need_one = promised ? any : 0;
}

/* The mode of a fault spec: after its '=', else the fault's first (its
 * default); "" for a fault without modes. */
static size_t spec_mode(const wr_fault_info_t *f, const char *spec,
                        const char **mode)
{
    const char *eq = strchr(spec, '=');

    *mode = eq ? eq + 1 : f->modes ? f->modes : "";
    return eq ? strlen(eq + 1) : strcspn(*mode, "|");
}

void wr_faults_expect_tool(const wr_scenario_t *s, const char *inject,
                           unsigned tool_checks,
                           wr_expect_t expected[WR_CHECK__COUNT])
{
    const wr_fault_info_t *f = wr_fault_find(inject);
    unsigned must = 0;

    if (f != NULL && count_listed(inject) == 1 && wr_fault_exposed(f, s)) {
        const char *mode;
        size_t n = spec_mode(f, inject, &mode);

        if (f->tool_mode == NULL ||
            (strlen(f->tool_mode) == n && strncmp(f->tool_mode, mode, n) == 0))
            must = f->tool_detects;
    }
    for (int c = 0; c < WR_CHECK__COUNT; c++) {
        if (!(tool_checks & BIT(c)))
            continue;
        expected[c] = must & BIT(c)       ? WR_EXPECT_FAIL
                      : inject[0] == '\0' ? WR_EXPECT_PASS
                                          : WR_EXPECT_ANY;
    }
}
