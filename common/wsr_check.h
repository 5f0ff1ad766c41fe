/* wsr_check.h - The names of the invariants wsrace checks.
 *
 * The vocabulary the fault catalog (wsr_fault.h) and the harness's
 * checkers share: an id per check, its snake_case name as reports and
 * scenarios spell it, and the two sets every scenario and every analysis
 * tool run. What each check decides is the harness's business
 * (harness/checks/); docs/DESIGN.md lists them. Static data; any thread. */
#ifndef WSR_CHECK_H
#define WSR_CHECK_H

typedef enum {
    WSR_CHECK_SCOPE_LOSS,
    WSR_CHECK_FALSE_READINESS,
    WSR_CHECK_DUPLICATE_REGISTRATION,
    WSR_CHECK_COORDINATOR_GAP,
    WSR_CHECK_LIVENESS,
    WSR_CHECK_REGISTRY_LEAK,
    WSR_CHECK_ISOLATION,
    WSR_CHECK_NO_LOST_MESSAGES,
    WSR_CHECK_STEPS,         /* the scenario's own steps (expect, ...) */
    WSR_CHECK_IDENTITY,      /* welcomed as asked, and not refused after */
    WSR_CHECK_MEMORY_SAFETY, /* an analysis tool's memory errors, leaks */
    WSR_CHECK_DATA_RACE,     /* an analysis tool's races, lock order */
    WSR_CHECK__COUNT
} wsr_check_id_t;

#define WSR_CHECK_BIT(id) (1u << (id))

/* The checks of every scenario (its default `checks: all`). */
#define WSR_CHECKS_ALL ((1u << (WSR_CHECK_IDENTITY + 1)) - 1)

/* The checks of an analysis tool's report: they run when the gateway ran
 * under valgrind or was a sanitizer build. */
#define WSR_CHECKS_TOOL                                                        \
    (WSR_CHECK_BIT(WSR_CHECK_MEMORY_SAFETY) |                                  \
     WSR_CHECK_BIT(WSR_CHECK_DATA_RACE))

/* "scope_loss", ...; NULL for an id out of range. */
const char *wsr_check_name(wsr_check_id_t id);

/* The id of name, or -1 for NULL or an unknown name. */
int wsr_check_from_name(const char *name);

#endif
