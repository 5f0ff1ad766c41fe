/* wsr_fault.h - The fault catalog: every bug the reference gateway can
 * switch on, what it changes, and which checks must and may catch it; and
 * the inject set, the type a run's list of faults is parsed into once.
 *
 * One table serves both programs: the gateway's --inject and
 * --list-faults, and the harness's scenario validation, expectations,
 * matrix rows and reports. The seed bugs (the original report's four)
 * come first, in the order the report reproduces them (tests 5, 4, 1, 6).
 * Static data and pure functions; any thread. */
#ifndef WSR_FAULT_H
#define WSR_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    WSR_FAULT_FALLBACK_READY,
    WSR_FAULT_COORDINATOR_GAP,
    WSR_FAULT_DUPLICATE_REGISTRATION,
    WSR_FAULT_SCOPE_LOSS,
    WSR_FAULT_EARLY_WELCOME,
    WSR_FAULT_STUCK_SWAP,
    WSR_FAULT_REGISTRY_LEAK,
    /* Faults of a cluster (a shared Redis registry), after the others: */
    WSR_FAULT_BLIND_UNREGISTER,
    WSR_FAULT_STALE_PRESENCE,
    WSR_FAULT_LOCAL_READINESS,
    WSR_FAULT__COUNT
} wsr_fault_id_t;

/* The modes of scope-loss: how the stale handle shows itself. */
typedef enum {
    WSR_SCOPE_CRASH,   /* dereferenced: SIGSEGV (the default) */
    WSR_SCOPE_ERROR,   /* the error fails the connection: close 1011 */
    WSR_SCOPE_SWALLOW, /* logged and ignored; no machine under the key */
} wsr_scope_mode_t;

#define WSR_FAULT_MODES_MAX 4 /* modes of one fault, the NULL end included */

typedef struct {
    const char *name;    /* "scope-loss", as --inject and `exposes` say */
    const char *modes[WSR_FAULT_MODES_MAX]; /* NULL-ended, the first is the
                                               default; {NULL}: none */
    const char *origin;  /* "test 6" of the original report, or NULL */
    const char *summary; /* one sentence: what the fault changes */
    bool seed_bug;       /* one of the original report's four */
    unsigned detects;      /* checks (bits of wsr_check_id_t) that must
                              FAIL when a scenario exposing it runs it */
    unsigned side_effects; /* checks it is known to break as well */
    const char *why_side;  /* one sentence on the side effects, or NULL */
    /* Analysis checks that must FAIL when the fault runs alone under a
     * tool that looks for such errors, in mode tool_mode (-1: any). */
    unsigned tool_detects;
    int tool_mode;
    /* Only a cluster has it (a gateway with --registry redis): the
     * in-process gateway refuses it, and a matrix plans it only for
     * scenarios whose gateway block says `registry: redis`. */
    bool cluster_only;
} wsr_fault_info_t;

/* The entry of id; NULL when out of range. */
const wsr_fault_info_t *wsr_fault_info(wsr_fault_id_t id);

/* "scope-loss"; "?" when out of range. */
const char *wsr_fault_name(wsr_fault_id_t id);

/* The id named by the first len bytes of name (no mode), or -1. */
int wsr_fault_from_name(const char *name, size_t len);

/* The index of mode (len bytes) among id's modes, or -1. */
int wsr_fault_mode_from_name(wsr_fault_id_t id, const char *mode, size_t len);

/* The name of id's mode m; NULL when id has no such mode. */
const char *wsr_fault_mode_name(wsr_fault_id_t id, unsigned m);

/* ------------------------------------------------------------------ */
/* Inject sets                                                          */
/* ------------------------------------------------------------------ */

/* A set of faults with their modes, parsed once from a list such as
 * "scope-loss=swallow,fallback-ready". Zero-initialised is the empty
 * set. Plain value: compare with wsr_faults_equal, copy by assignment. */
typedef struct {
    uint32_t mask;                  /* bit id: fault id is in the set */
    uint8_t mode[WSR_FAULT__COUNT]; /* its mode; 0 (the default) when not */
} wsr_faults_t;

static inline bool wsr_fault_on(const wsr_faults_t *f, wsr_fault_id_t id)
{
    return f != NULL && (unsigned)id < WSR_FAULT__COUNT &&
           (f->mask & (1u << id)) != 0;
}

/* The mode of id in f (0, the default, when id has none). */
static inline unsigned wsr_fault_mode(const wsr_faults_t *f, wsr_fault_id_t id)
{
    return wsr_fault_on(f, id) ? f->mode[id] : 0;
}

/* Parses one "id" or "id=mode" of len bytes. Returns 0 with *id and
 * *mode set, or -EINVAL with the reason in err (unknown fault, unknown
 * mode, a mode for a fault that takes none). */
int wsr_fault_parse_spec(const char *spec, size_t len, wsr_fault_id_t *id,
                         unsigned *mode, char *err, size_t errlen);

/* Adds the faults of a comma-separated list to *f; "" and "none" add
 * nothing, blanks around items are ignored. A fault named twice keeps the
 * later mode. Returns 0, or -EINVAL with a message naming the bad item
 * in err; *f is unchanged on error. */
int wsr_faults_parse(wsr_faults_t *f, const char *list, char *err,
                     size_t errlen);

/* Writes f as its canonical list: catalog order, "=mode" only for a mode
 * that is not the default, "" for the empty set. Returns the length, or
 * -ENOSPC when buf (len bytes) is too small (buf then holds "").
 * 160 bytes always suffice for every fault with its longest mode (159
 * with the NUL; a test holds it to that). */
int wsr_faults_format(const wsr_faults_t *f, char *buf, size_t len);
#define WSR_FAULTS_TEXT_MAX 160

/* How many faults f holds. */
unsigned wsr_faults_count(const wsr_faults_t *f);

/* Whether a and b hold the same faults in the same modes. */
bool wsr_faults_equal(const wsr_faults_t *a, const wsr_faults_t *b);

/* The seed bugs together, each in its default mode. */
wsr_faults_t wsr_faults_seed_bugs(void);

/* The first fault of f that only a cluster has, or -1 when none is. */
int wsr_faults_cluster_only(const wsr_faults_t *f);

#endif
