/* gw_registry.h - The connection registry: key -> state machine.
 *
 * An operations table behind one API (gw_registry_int.h): the in-process
 * table by default (gw_registry_new), or a cluster's shared Redis registry
 * (gw_registry_new_redis, docs/DESIGN.md "Cluster mode"), whose every call
 * keeps the contracts below across processes. Thread-safe. Correct behaviour (docs/DESIGN.md, "The registry"): registering a live key
 * fails with -EEXIST, check and insert being one critical section;
 * unregistering an unknown key is reported (-ENOENT); a rekey moves the
 * machine atomically, so the live connection never lacks a machine;
 * readiness of an absent key is false. The faults duplicate-registration,
 * fallback-ready and stuck-swap change exactly those lines.
 *
 * Every call that changes an entry emits its trace event while it still
 * holds the registry lock, so the trace order is the registry order. (The
 * Redis backend holds its instance's lock across the round trip and the
 * event, which also carries the operation's place in the cluster-wide
 * order, "rseq".) */
#ifndef GW_REGISTRY_H
#define GW_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_coord.h"
#include "wsr_fault.h"
#include "gw_state.h"
#include "gw_sync.h"
#include "gw_trace.h"

#define GW_KEY_MAX  128 /* bytes of a key, NUL included */
#define GW_USER_MAX 128

typedef struct gw_registry gw_registry_t;

/* A positive result: the registry answered a live key with its existing
 * machine instead of an error (the duplicate-registration fault). */
#define GW_REG_EXISTING 1

/* One entry as seen by gw_registry_foreach(). */
typedef struct {
    const char *key;
    const char *user;
    wsr_state_t state;
    int coord_phase; /* a wsr_coord_phase_t, or -1 with no coordinator */
    uint64_t owner;  /* id of the connection that registered it */
    int instance;    /* the owner's gateway instance; -1 in-process */
} gw_registry_view_t;

/* A cluster's registry: the Redis server at host:port, shared by every
 * instance (docs/DESIGN.md "Cluster mode"). */
typedef struct {
    const char *host;         /* "127.0.0.1" */
    int port;                 /* 1..65535 */
    int instance;             /* this gateway's instance id, >= 0 */
    unsigned incarnation;     /* its restarts so far: a new process */
    unsigned ttl_ms;          /* lifetime of an entry without a heartbeat */
    int timeout_ms;           /* connect and command bound per round trip */
    const wsr_faults_t *faults; /* may be NULL; must outlive the registry */
    gw_sync_t *sync;          /* may be NULL */
    gw_trace_t *trace;        /* may be NULL */
} gw_redis_opts_t;

/* A registry that reads faults (may be NULL: none), holds its race windows
 * at sync (may be NULL) and traces to trace (may be NULL). All three must
 * outlive it. NULL when out of memory. */
gw_registry_t *gw_registry_new(const wsr_faults_t *faults, gw_sync_t *sync,
                               gw_trace_t *trace);

/* A registry kept in Redis (gw_registry_redis.c): connects (bounded by
 * o->timeout_ms), loads its scripts and starts the instance's heartbeat
 * thread. NULL with the reason in err when Redis cannot be reached. */
gw_registry_t *gw_registry_new_redis(const gw_redis_opts_t *o, char *err,
                                     size_t errlen);

/* Frees r and every entry left in it (a Redis registry stops its
 * heartbeat and keeps its entries: they belong to the cluster). */
void gw_registry_free(gw_registry_t *r);

/* "memory" or "redis". */
const char *gw_registry_backend(const gw_registry_t *r);

/* Registers a new machine in CONNECTING under key for connection conn.
 * coord, when not NULL, is linked to the entry (a reference is taken).
 * Returns 0; -EEXIST when key is live; GW_REG_EXISTING under
 * duplicate-registration; -EINVAL for an empty or too long key; -ENOMEM. */
int gw_registry_register(gw_registry_t *r, const char *key, const char *user,
                         gw_coord_t *coord, uint64_t conn);

/* Removes the machine under key (conn's own entry first when there are
 * several). Returns 0, or -ENOENT when key is unknown. */
int gw_registry_unregister(gw_registry_t *r, const char *key, uint64_t conn);

/* Moves the machine of old_key to new_key. Returns 0; -ENOENT when old_key
 * is unknown; -EEXIST when new_key is live (nothing changes);
 * GW_REG_EXISTING under duplicate-registration when new_key was live (the
 * old entry is dropped and the caller shares the live machine);
 * -EINVAL for a bad key; -ENOMEM. */
int gw_registry_rekey(gw_registry_t *r, const char *old_key,
                      const char *new_key, uint64_t conn);

/* Sets the user of key's machine. 0 or -ENOENT. */
int gw_registry_set_user(gw_registry_t *r, const char *key, const char *user,
                         uint64_t conn);

/* Moves key's machine to `to` (gw_machine_transition rules). Returns 0,
 * -ENOENT, -EINVAL (refused) or -ELOOP (refused and forced to FAILED). */
int gw_registry_transition(gw_registry_t *r, const char *key, wsr_state_t to,
                           uint64_t conn);

/* Current state of key's machine. 0, or -ENOENT. */
int gw_registry_state(gw_registry_t *r, const char *key, uint64_t conn,
                      wsr_state_t *out);

/* Whether key's machine is in the ready set; false for an absent key
 * (true under fallback-ready). */
bool gw_registry_is_ready(gw_registry_t *r, const char *key, uint64_t conn);

/* The linked ready step: in one critical section, key's machine moves to
 * PROCESSING_READY and coord to READY_FOR_MESSAGES; both move or neither
 * does. Returns 0; -ENOENT when key is absent; the transition's error
 * (-EINVAL or -ELOOP) when the machine refuses; -EINVAL when coord refuses
 * (e.g. already CLOSED). */
int gw_registry_mark_ready(gw_registry_t *r, const char *key, gw_coord_t *coord,
                           uint64_t conn);

/* The correct message gate: key's machine is ready (gw_registry_is_ready)
 * and coord is READY_FOR_MESSAGES, read in one critical section, which
 * also traces the decision ("message.gate": correlation_id, decision
 * process | wait, the machine and coordinator read): the trace places the
 * decision exactly among the registry's changes. */
bool gw_registry_ready_for_messages(gw_registry_t *r, const char *key,
                                    const gw_coord_t *coord, uint64_t conn,
                                    const char *correlation_id);

/* The answer of /debug/ready: whether key's machine is in the ready set
 * (gw_registry_is_ready), with *registered set when key has a machine,
 * read in one critical section that also traces the answer
 * ("debug.ready": registered, ready and the machine state read). */
bool gw_registry_answer_ready(gw_registry_t *r, const char *key,
                              bool *registered);

/* Records that key's coordinator (of connection conn) is now in phase, for
 * the views: the Redis backend keeps it in the entry; the in-process
 * table reads the linked coordinator and ignores this. */
void gw_registry_note_phase(gw_registry_t *r, const char *key,
                            wsr_coord_phase_t phase, uint64_t conn);

/* Entries in r, and entries under key (2 or more only under faults). */
size_t gw_registry_count(gw_registry_t *r);
unsigned gw_registry_count_key(gw_registry_t *r, const char *key);

/* Calls cb for every entry with the registry locked: cb must not call back
 * into r. */
void gw_registry_foreach(gw_registry_t *r,
                         void (*cb)(const gw_registry_view_t *v, void *arg),
                         void *arg);

#endif
