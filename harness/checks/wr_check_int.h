/* wr_check_int.h - What the checkers share: the registry model replayed
 * from the gateway trace, the views of the gateway's and the clients'
 * connections, the result helpers, and the small tools under them.
 * Private to wr_check*.c; the API is wr_check.h.
 *
 * Each function here is declared once, here, and defined once: the
 * checkers in wr_check_registry.c and wr_check_clients.c, everything else
 * in wr_check_model.c. Helpers that one file alone uses stay static in it.
 * Names with linkage carry the wr__check_ prefix (libuv's uv__
 * convention): internal to the module, though not static. The types keep
 * their short names; they have no linkage and no file outside the module
 * sees them.
 *
 * A model, a gconns_t and a clients_t belong to the one checker that
 * builds them, on its thread; nothing here has static state or locks. */
#ifndef WR_CHECK_INT_H
#define WR_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/wr_check.h"
#include "wsr_state.h"

/* ------------------------------------------------------------------ */
/* Small tools                                                          */
/* ------------------------------------------------------------------ */

/* Whether ev is the event called name. */
bool wr__check_is(const wr_event_t *ev, const char *name);

/* Whether a and b are equal strings; false when either is NULL. */
bool wr__check_eq(const char *a, const char *b);

/* Whether ev comes from the gateway's trace. */
bool wr__check_from_gateway(const wr_event_t *ev);

/* Whether ev comes from a client of the harness. */
bool wr__check_from_client(const wr_event_t *ev);

/* s, or "?" for NULL. */
const char *wr__check_str(const char *s);

/* ------------------------------------------------------------------ */
/* Result building                                                      */
/* ------------------------------------------------------------------ */

/* Sets r to a PASS of check id, with no summary, evidence or violation. */
void wr__check_result_init(wr_check_result_t *r, wsr_check_id_t id);

/* Counts one violation. The first one writes the summary; returns whether
 * this was the first, so callers cite evidence for that one only. */
bool wr__check_violation(wr_check_result_t *r, const char *fmt, ...);

/* Adds ev to the evidence unless already there or full. */
void wr__check_cite(wr_check_result_t *r, const wr_event_t *ev);

/* Sets the verdict. With violations: FAIL, the evidence in history order
 * (events are one array) and the count appended when more than one.
 * Without: `otherwise`, and the summary why when it is still empty. */
void wr__check_finish(wr_check_result_t *r, wr_verdict_t otherwise,
                      const char *fmt, ...);

/* Resets r to UNKNOWN: the checker ran out of memory. */
void wr__check_out_of_memory(wr_check_result_t *r);

/* ------------------------------------------------------------------ */
/* Pair map: (a, b) -> int, open addressing                             */
/* ------------------------------------------------------------------ */

typedef struct {
    uint64_t a, b; /* key; a slot is empty when used is 0 */
    int value;
    int used;
} pslot_t;

typedef struct {
    pslot_t *s;
    size_t size, count; /* slots (a power of two) / used */
} pmap_t;

/* Frees m's slots; m is empty after, and may be used again. */
void wr__check_pmap_free(pmap_t *m);

/* The value slot of (a, b). With insert, a missing key is added with
 * value -1; NULL when missing (without insert) or out of memory. */
int *wr__check_pmap_at(pmap_t *m, uint64_t a, uint64_t b, bool insert);

/* The value of (a, b), -1 when missing. */
int wr__check_pmap_get(const pmap_t *m, uint64_t a, uint64_t b);

/* An interned string as a key. */
uint64_t wr__check_pkey(const char *s);

/* A growable array of T, zero-filled when it grows. */
#define VEC_RESERVE(ptr, n, cap)                                               \
    wr__check_vec_reserve((void **)&(ptr), (n), &(cap), sizeof(*(ptr)))

/* Grows *ptr (*cap elements of size bytes) to hold more than n;
 * false when out of memory, *ptr left as it was. */
bool wr__check_vec_reserve(void **ptr, size_t n, size_t *cap, size_t size);

/* ------------------------------------------------------------------ */
/* Registry model                                                       */
/* ------------------------------------------------------------------ */

/* One machine the gateway registered, live or since removed. */
typedef struct {
    const char *key;       /* current key (interned) */
    uint64_t conn;         /* owner: the connection that registered it */
    wsr_state_t state;            /* WSR_ST_NONE when a rekey did not say */
    const wr_event_t *reg; /* the event that put it under key */
    int next;              /* next live machine under the same key, -1 */
    bool live;
} machine_t;

/* The registry as the trace has told it so far: pass each gateway
 * event, in history order, to wr__check_model_apply(). Zero-initialised
 * is empty. */
typedef struct {
    machine_t *m;
    size_t n, cap;
    pmap_t heads; /* key -> first live machine (the newest), -1: none */
    bool oom;
} model_t;

void wr__check_model_free(model_t *md);

/* The newest live machine under key, or -1. */
int wr__check_model_head(const model_t *md, const char *key);

/* key's machine as the gateway looks it up for conn: conn's own first,
 * else the newest; -1 when the key has none. */
int wr__check_model_find(const model_t *md, const char *key, uint64_t conn);

/* conn's own machine under key, or -1. */
int wr__check_model_own(const model_t *md, const char *key, uint64_t conn);

/* How many live machines key holds. */
size_t wr__check_model_count(const model_t *md, const char *key);

/* Whether a live machine under key is in the ready set. */
bool wr__check_model_any_ready(const model_t *md, const char *key);

/* Applies one gateway event. Returns the machine it registered, moved or
 * changed, or -1. */
int wr__check_model_apply(model_t *md, const wr_event_t *ev);

/* ------------------------------------------------------------------ */
/* Gateway connections                                                  */
/* ------------------------------------------------------------------ */

/* What the trace says of one gateway connection. */
typedef struct {
    uint64_t id;
    const wr_event_t *auth_ok;      /* auth.ok */
    const wr_event_t *swap_begin;   /* swap.begin */
    const wr_event_t *swapped;      /* swap.done or swap.swallowed */
    const wr_event_t *welcome;      /* first welcome.sent */
    const wr_event_t *ready_failed; /* ready.failed */
    const wr_event_t *failed;       /* conn.failed */
    const wr_event_t *ended;        /* transport_closed or conn.failed */
    const wr_event_t *closed;       /* conn.closed */
    const wr_event_t *gate;         /* last message.gate that let one in */
    const wr_event_t *coord;        /* last coordinator.phase reached */
    const char *final_key;          /* key after the swap */
    bool shared;                    /* swap.done existing: not its machine */
    bool flagged;                   /* a violation was counted for it */
    bool bare;                      /* seen alive without its machine */
} gconn_t;

/* Every connection the trace named; zero-initialised is empty. */
typedef struct {
    gconn_t *c;
    size_t n, cap;
    pmap_t index; /* conn id -> c[] */
    bool oom;
} gconns_t;

void wr__check_gconns_free(gconns_t *g);

/* Records what a gateway event says of its connection; returns the
 * connection's record, NULL when the event has none. */
gconn_t *wr__check_gconn_note(gconns_t *g, const wr_event_t *ev);

/* ------------------------------------------------------------------ */
/* Client connections                                                   */
/* ------------------------------------------------------------------ */

/* One connection attempt of a client: from its client.connect invoke to
 * the next one. */
typedef struct {
    int client;
    const wr_event_t *connect;     /* client.connect invoke */
    const wr_event_t *fail;        /* client.connect fail */
    const wr_event_t *established; /* client.established ok */
    const wr_event_t *welcome;     /* client.recv connection_established */
    const wr_event_t *close_req;   /* client.close invoke */
    const wr_event_t *closed;      /* client.closed */
    const wr_event_t *refusal;     /* error_message DUPLICATE_SESSION,
                                      AUTH_FAILED or OVERLOADED */
    const char *session;           /* asked for (connect key) */
    const char *key;               /* given (welcome connection_id) */
} cconn_t;

/* The clients' side of a case, as wr__check_clients_build() groups it. */
typedef struct {
    cconn_t *c;
    size_t n, cap;
    int *of;      /* history index -> c[] of that client event, or -1 */
    pmap_t cur;   /* client -> its current attempt */
    pmap_t names; /* interned session/key -> first attempt naming it */
    const wr_event_t *crash;    /* target.exit of a gateway that died */
    const wr_event_t *regcount; /* last target.registry */
    int64_t end_ns;             /* latest ns in the history */
    bool oom;
} clients_t;

void wr__check_clients_free(clients_t *cl);

/* Groups the client events into attempts and notes the harness events. */
void wr__check_clients_build(clients_t *cl, const wr_history_t *h);

/* "died of signal 11" or "exited on its own with status 1". */
const char *wr__check_death(const wr_event_t *exit, char *buf, size_t len);

/* When the client stopped using the attempt: its close request, else its
 * close; NULL while open. */
const wr_event_t *wr__check_stopped(const cconn_t *c);

/* When the attempt learnt its key: its client.established, else the
 * welcome it received; NULL when it never did. */
const wr_event_t *wr__check_welcomed_at(const cconn_t *c);

/* Whether the attempt's token was valid; one that names none is. */
bool wr__check_token_valid(const cconn_t *c);

/* ------------------------------------------------------------------ */
/* Readiness as the gateway saw it                                      */
/* ------------------------------------------------------------------ */

/* Whether the gateway's own reading (the event's "machine" field) or, when
 * it has none, the model says the connection's machine is not ready.
 * *st receives the state that was judged. */
bool wr__check_not_ready(const model_t *md, const wr_event_t *ev,
                         const gconn_t *c, wsr_state_t *st);

/* The next event of conn after ev that makes its machine ready, or NULL. */
const wr_event_t *wr__check_next_ready(const wr_history_t *h,
                                       const wr_event_t *ev);

/* ------------------------------------------------------------------ */
/* Checkers                                                             */
/* ------------------------------------------------------------------ */

/* Each decides one invariant of h into r, which wr_check_run() has
 * initialised; see the definition for the invariant. cl is the clients'
 * view of h. In wr_check_registry.c: */
void wr__check_scope_loss(const wr_history_t *h, const clients_t *cl,
                          wr_check_result_t *r);
void wr__check_duplicate(const wr_history_t *h, const clients_t *cl,
                         wr_check_result_t *r);
void wr__check_coordinator_gap(const wr_history_t *h, wr_check_result_t *r);
void wr__check_registry_leak(const wr_history_t *h, const clients_t *cl,
                             wr_check_result_t *r);

/* In wr_check_clients.c: */
void wr__check_false_readiness(const wr_history_t *h, const clients_t *cl,
                               wr_check_result_t *r);
void wr__check_liveness(const wr_history_t *h, const clients_t *cl,
                        const wr_check_opts_t *opts, wr_check_result_t *r);
void wr__check_isolation(const wr_history_t *h, const clients_t *cl,
                         wr_check_result_t *r);
void wr__check_no_lost(const wr_history_t *h, const clients_t *cl,
                       const wr_check_opts_t *opts, wr_check_result_t *r);

/* In wr_check_flow.c: */
void wr__check_steps(const wr_history_t *h, const clients_t *cl,
                     wr_check_result_t *r);
void wr__check_identity(const wr_history_t *h, const clients_t *cl,
                        wr_check_result_t *r);

/* In wr_check_tool.c (tool.error and tool.report events, wr_tool.h): */
void wr__check_memory_safety(const wr_history_t *h, wr_check_result_t *r);
void wr__check_data_race(const wr_history_t *h, wr_check_result_t *r);

#endif
