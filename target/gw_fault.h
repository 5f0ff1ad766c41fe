/* gw_fault.h - The catalog of injectable faults and the set a run enables.
 *
 * A gw_faults_t is filled once at start-up, before any thread exists, and is
 * read-only afterwards, so readers need no lock. */
#ifndef GW_FAULT_H
#define GW_FAULT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    GW_FAULT_SCOPE_LOSS,
    GW_FAULT_FALLBACK_READY,
    GW_FAULT_COORDINATOR_GAP,
    GW_FAULT_DUPLICATE_REGISTRATION,
    GW_FAULT_EARLY_WELCOME,
    GW_FAULT_STUCK_SWAP,
    GW_FAULT_REGISTRY_LEAK,
    GW_FAULT__COUNT
} gw_fault_id_t;

/* How scope-loss shows itself. */
typedef enum {
    GW_SCOPE_CRASH,   /* the stale handle is dereferenced: SIGSEGV */
    GW_SCOPE_ERROR,   /* the error fails the connection: close 1011 */
    GW_SCOPE_SWALLOW, /* the error is logged and ignored */
} gw_scope_mode_t;

typedef struct {
    unsigned mask;              /* bit i set: fault i is injected */
    gw_scope_mode_t scope_mode; /* meaningful when scope-loss is on */
} gw_faults_t;

/* Fault id as used on the command line ("scope-loss"). */
const char *gw_fault_name(gw_fault_id_t id);

/* One sentence saying what the fault changes. */
const char *gw_fault_summary(gw_fault_id_t id);

/* Name of a scope-loss mode ("crash"). */
const char *gw_scope_mode_name(gw_scope_mode_t m);

static inline bool gw_fault_on(const gw_faults_t *f, gw_fault_id_t id)
{
    return f != NULL && (f->mask & (1u << id)) != 0;
}

/* Adds the faults of a comma-separated list such as
 * "scope-loss=swallow,fallback-ready" to *f. Returns 0, or -EINVAL with a
 * message naming the bad item in err; *f is unchanged on error. */
int gw_faults_parse(gw_faults_t *f, const char *list, char *err, size_t errlen);

/* Writes the enabled faults as a comma-separated list ("" when none), with
 * the scope-loss mode when it is not the default. Returns buf. */
char *gw_faults_format(const gw_faults_t *f, char *buf, size_t len);

#endif
