/* gw_registry_mem.c - The in-process registry backend: a chained hash
 * table of connection state machines (the default; gw_registry_int.h).
 *
 * Threads: any (worker threads for the lifecycle, the service thread for
 * debug queries). Lock order: `lock` -> trace lock. No sync point is ever
 * hit with `lock` held: a held race window must not stall the registry.
 * Entries with the same key can only coexist under the
 * duplicate-registration fault; lookups then prefer the caller's own entry.
 */
#include "gw_registry_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 256u

typedef struct entry {
    struct entry *next;     /* bucket chain */
    char key[GW_KEY_MAX];   /* registry key */
    char user[GW_USER_MAX]; /* user id, "" until authenticated */
    gw_machine_t machine;   /* the connection's state machine */
    gw_coord_t *coord;      /* linked coordinator (a reference) or NULL */
    uint64_t owner;         /* connection that registered it */
} entry_t;

typedef struct {
    const wsr_faults_t *faults; /* read-only */
    gw_sync_t *sync;
    gw_trace_t *trace;
    pthread_mutex_t lock; /* guards everything below */
    entry_t **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
} mem_t;

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h;
}

static bool key_ok(const char *key)
{
    return key && key[0] && strlen(key) < GW_KEY_MAX;
}

static mem_t *mem_new(const wsr_faults_t *faults, gw_sync_t *sync,
                      gw_trace_t *trace)
{
    mem_t *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->buckets = calloc(INITIAL_BUCKETS, sizeof(*r->buckets));
    if (!r->buckets) {
        free(r);
        return NULL;
    }
    r->nbuckets = INITIAL_BUCKETS;
    r->faults = faults;
    r->sync = sync;
    r->trace = trace;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void entry_free(entry_t *e)
{
    if (e) {
        gw_coord_unref(e->coord);
        free(e);
    }
}

static void mem_free(void *self)
{
    mem_t *r = self;

    if (!r)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        entry_t *e = r->buckets[i];
        while (e) {
            entry_t *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static entry_t *entry_new(const char *key, const char *user, gw_coord_t *coord,
                          uint64_t conn)
{
    entry_t *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    strcpy(e->key, key); /* the caller checked key_ok() */
    if (user)
        snprintf(e->user, sizeof(e->user), "%s", user);
    gw_machine_init(&e->machine);
    e->coord = coord ? gw_coord_ref(coord) : NULL;
    e->owner = conn;
    return e;
}

/* Finds key's entry, conn's own first. `lock` must be held. */
static entry_t **find_locked(mem_t *r, const char *key, uint64_t conn)
{
    entry_t **slot = &r->buckets[hash_key(key) & (r->nbuckets - 1)];
    entry_t **first = NULL;

    for (; *slot; slot = &(*slot)->next) {
        if (strcmp((*slot)->key, key) != 0)
            continue;
        if (conn == 0 || (*slot)->owner == conn)
            return slot;
        if (!first)
            first = slot;
    }
    return first;
}

/* key's entry (conn's own first), or NULL for an absent or invalid key.
 * `lock` must be held. */
static entry_t *lookup_locked(mem_t *r, const char *key, uint64_t conn)
{
    entry_t **slot = key_ok(key) ? find_locked(r, key, conn) : NULL;

    return slot ? *slot : NULL;
}

static void grow_locked(mem_t *r)
{
    size_t n = r->nbuckets * 2;
    entry_t **b = calloc(n, sizeof(*b));

    if (!b)
        return; /* keep the longer chains; still correct */
    for (size_t i = 0; i < r->nbuckets; i++) {
        entry_t *e = r->buckets[i];
        while (e) {
            entry_t *next = e->next;
            size_t j = hash_key(e->key) & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
}

/* Links e at the head of its chain, without any check. */
static void link_locked(mem_t *r, entry_t *e)
{
    entry_t **head;

    if (r->count >= r->nbuckets)
        grow_locked(r);
    head = &r->buckets[hash_key(e->key) & (r->nbuckets - 1)];
    e->next = *head;
    *head = e;
    r->count++;
}

static entry_t *unlink_locked(mem_t *r, entry_t **slot)
{
    entry_t *e = *slot;

    *slot = e->next;
    e->next = NULL;
    r->count--;
    return e;
}

static bool key_is_live(mem_t *r, const char *key)
{
    bool live;

    pthread_mutex_lock(&r->lock);
    live = find_locked(r, key, 0) != NULL;
    pthread_mutex_unlock(&r->lock);
    return live;
}

static void trace_result(mem_t *r, uint64_t conn, const char *key,
                         const char *event, const char *result)
{
    gw_trace_emitf(r->trace, conn, key, event, "{s:s}", "result", result);
}

static int mem_register(void *self, const char *key, const char *user,
                         gw_coord_t *coord, uint64_t conn)
{
    mem_t *r = self;
    entry_t *e;
    int rc = 0;

    if (!key_ok(key))
        return -EINVAL;
    e = entry_new(key, user, coord, conn);
    if (!e)
        return -ENOMEM;
    if (wsr_fault_on(r->faults, WSR_FAULT_DUPLICATE_REGISTRATION)) {
        /* duplicate-registration: the check is a critical section of its
         * own, so concurrent callers can all see the key absent and all
         * insert; a live key is answered with its machine, not an error. */
        bool live = key_is_live(r, key);

        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, key);
        if (live) {
            entry_free(e);
            trace_result(r, conn, key, "registry.register", "existing");
            return GW_REG_EXISTING;
        }
        pthread_mutex_lock(&r->lock);
        link_locked(r, e);
        trace_result(r, conn, key, "registry.register", "created");
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, key);
    pthread_mutex_lock(&r->lock);
    if (find_locked(r, key, 0)) {
        rc = -EEXIST;
        trace_result(r, conn, key, "registry.register", "duplicate");
    } else {
        link_locked(r, e);
        e = NULL;
        trace_result(r, conn, key, "registry.register", "created");
    }
    pthread_mutex_unlock(&r->lock);
    entry_free(e);
    return rc;
}

static int mem_unregister(void *self, const char *key, uint64_t conn)
{
    mem_t *r = self;
    entry_t **slot, *e = NULL;

    if (!key_ok(key))
        return -ENOENT;
    pthread_mutex_lock(&r->lock);
    slot = find_locked(r, key, conn);
    if (slot)
        e = unlink_locked(r, slot);
    trace_result(r, conn, key, "registry.unregister",
                 e ? "removed" : "unknown");
    pthread_mutex_unlock(&r->lock);
    entry_free(e);
    return e ? 0 : -ENOENT;
}

static int mem_rekey(void *self, const char *old_key,
                      const char *new_key, uint64_t conn)
{
    mem_t *r = self;
    entry_t **slot, *e;
    wsr_state_t st;
    int rc = 0;

    if (!key_ok(old_key) || !key_ok(new_key))
        return -EINVAL;
    if (wsr_fault_on(r->faults, WSR_FAULT_STUCK_SWAP)) {
        /* stuck-swap: the machine is dropped with the old key and created
         * anew under the new one, in CONNECTING; its state is lost. */
        char user[GW_USER_MAX] = "";
        gw_coord_t *coord = NULL;

        pthread_mutex_lock(&r->lock);
        slot = find_locked(r, old_key, conn);
        if (slot) {
            snprintf(user, sizeof(user), "%s", (*slot)->user);
            coord = (*slot)->coord ? gw_coord_ref((*slot)->coord) : NULL;
        }
        pthread_mutex_unlock(&r->lock);
        if (!slot)
            return -ENOENT;
        mem_unregister(r, old_key, conn);
        gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, old_key);
        rc = mem_register(r, new_key, user, coord, conn);
        gw_coord_unref(coord);
        return rc;
    }
    if (wsr_fault_on(r->faults, WSR_FAULT_DUPLICATE_REGISTRATION)) {
        /* duplicate-registration: as in mem_register, the live-key
         * check and the move are separate critical sections. */
        bool live = key_is_live(r, new_key);

        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, new_key);
        if (live) {
            mem_unregister(r, old_key, conn);
            gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, old_key);
            trace_result(r, conn, new_key, "registry.rekey", "existing");
            return GW_REG_EXISTING;
        }
    } else {
        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, new_key);
    }
    pthread_mutex_lock(&r->lock);
    slot = find_locked(r, old_key, conn);
    if (!slot) {
        rc = -ENOENT;
    } else if (!wsr_fault_on(r->faults, WSR_FAULT_DUPLICATE_REGISTRATION) &&
               find_locked(r, new_key, 0)) {
        rc = -EEXIST;
    } else {
        e = unlink_locked(r, slot);
        strcpy(e->key, new_key);
        link_locked(r, e);
        st = e->machine.state;
        gw_trace_emitf(r->trace, conn, new_key, "registry.rekey",
                       "{s:s,s:s,s:s}", "result", "moved", "from", old_key,
                       "state", wsr_state_name(st));
    }
    if (rc)
        gw_trace_emitf(r->trace, conn, new_key, "registry.rekey", "{s:s,s:s}",
                       "result", rc == -EEXIST ? "duplicate" : "unknown",
                       "from", old_key);
    pthread_mutex_unlock(&r->lock);
    if (rc == 0)
        gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, new_key);
    return rc;
}

static int mem_set_user(void *self, const char *key, const char *user,
                         uint64_t conn)
{
    mem_t *r = self;
    entry_t *e;

    pthread_mutex_lock(&r->lock);
    e = lookup_locked(r, key, conn);
    if (e)
        snprintf(e->user, sizeof(e->user), "%s", user);
    pthread_mutex_unlock(&r->lock);
    return e ? 0 : -ENOENT;
}

/* Moves e's machine (e NULL: key is absent) and traces the attempt.
 * `lock` must be held. */
static int transition_locked(mem_t *r, const char *key, entry_t *e,
                             wsr_state_t to, uint64_t conn)
{
    wsr_state_t from;
    int rc;

    if (!e) {
        gw_trace_emitf(r->trace, conn, key, "machine.transition", "{s:s,s:s}",
                       "to", wsr_state_name(to), "result", "absent");
        return -ENOENT;
    }
    from = e->machine.state;
    rc = gw_machine_transition(&e->machine, to);
    gw_trace_emitf(
        r->trace, conn, e->key, "machine.transition", "{s:s,s:s,s:s}", "from",
        wsr_state_name(from), "to", wsr_state_name(to), "result",
        rc == 0 ? "ok" : (rc == -ELOOP ? "forced_failed" : "refused"));
    return rc;
}

static int mem_transition(void *self, const char *key, wsr_state_t to,
                           uint64_t conn)
{
    mem_t *r = self;
    int rc;

    pthread_mutex_lock(&r->lock);
    rc = transition_locked(r, key, lookup_locked(r, key, conn), to, conn);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static int mem_state(void *self, const char *key, uint64_t conn,
                      wsr_state_t *out)
{
    mem_t *r = self;
    entry_t *e;

    pthread_mutex_lock(&r->lock);
    e = lookup_locked(r, key, conn);
    if (e)
        *out = e->machine.state;
    pthread_mutex_unlock(&r->lock);
    return e ? 0 : -ENOENT;
}

static bool is_ready_locked(mem_t *r, const char *key, uint64_t conn)
{
    entry_t *e = lookup_locked(r, key, conn);

    if (e)
        return wsr_state_is_ready(e->machine.state);
    /* fallback-ready: "no machine registered, fall back to basic
     * connectivity" - an absent key is reported ready. */
    if (wsr_fault_on(r->faults, WSR_FAULT_FALLBACK_READY))
        return true;
    return false;
}

static bool mem_is_ready(void *self, const char *key, uint64_t conn)
{
    mem_t *r = self;
    bool ready;

    pthread_mutex_lock(&r->lock);
    ready = is_ready_locked(r, key, conn);
    pthread_mutex_unlock(&r->lock);
    return ready;
}

static int mem_mark_ready(void *self, const char *key, gw_coord_t *coord,
                           uint64_t conn)
{
    mem_t *r = self;
    entry_t *e;
    int rc;

    pthread_mutex_lock(&r->lock);
    e = lookup_locked(r, key, conn);
    if (!e || !wsr_state_allowed(e->machine.state, WSR_ST_PROCESSING_READY)) {
        /* Absent, or the machine refuses: traced (and a refusal counted),
         * the coordinator untouched. */
        rc = transition_locked(r, key, e, WSR_ST_PROCESSING_READY, conn);
    } else {
        /* Both move or neither does: the coordinator first, since it is the
         * one that can still refuse (a close may have ended it). */
        rc = coord ? gw_coord_advance(coord, WSR_CO_READY) : 0;
        if (rc == 0)
            rc = transition_locked(r, key, e, WSR_ST_PROCESSING_READY, conn);
        if (coord)
            gw_trace_emitf(r->trace, conn, key, "coordinator.phase",
                           "{s:s,s:s,s:s,s:b}", "phase", "READY_FOR_MESSAGES",
                           "machine", wsr_state_name(e->machine.state), "result",
                           rc == 0 ? "ok" : "refused", "linked", 1);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static bool mem_answer_ready(void *self, const char *key, bool *registered)
{
    mem_t *r = self;
    entry_t *e;
    bool ready;

    pthread_mutex_lock(&r->lock);
    e = lookup_locked(r, key, 0);
    ready = is_ready_locked(r, key, 0);
    *registered = e != NULL;
    gw_trace_emitf(r->trace, 0, key, "debug.ready", "{s:b,s:b,s:s}",
                   "registered", e != NULL, "ready", ready, "machine",
                   e ? wsr_state_name(e->machine.state) : "absent");
    pthread_mutex_unlock(&r->lock);
    return ready;
}

static bool mem_ready_for_messages(void *self, const char *key,
                                   const gw_coord_t *coord, uint64_t conn,
                                   const char *correlation_id)
{
    mem_t *r = self;
    entry_t *e;
    bool ready;

    pthread_mutex_lock(&r->lock);
    e = lookup_locked(r, key, conn);
    ready = is_ready_locked(r, key, conn) && coord &&
            gw_coord_phase(coord) == WSR_CO_READY;
    gw_trace_emitf(r->trace, conn, key, "message.gate", "{s:s?,s:s,s:s,s:s}",
                   "correlation_id", correlation_id, "decision",
                   ready ? "process" : "wait", "machine",
                   e ? wsr_state_name(e->machine.state) : "absent",
                   "coordinator",
                   coord ? wsr_coord_phase_name(gw_coord_phase(coord)) : "none");
    pthread_mutex_unlock(&r->lock);
    return ready;
}

static size_t mem_count(void *self)
{
    mem_t *r = self;
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static unsigned mem_count_key(void *self, const char *key)
{
    mem_t *r = self;
    unsigned n = 0;

    if (!key_ok(key))
        return 0;
    pthread_mutex_lock(&r->lock);
    for (entry_t *e = r->buckets[hash_key(key) & (r->nbuckets - 1)]; e;
         e = e->next)
        n += strcmp(e->key, key) == 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void mem_foreach(void *self,
                         void (*cb)(const gw_registry_view_t *v, void *arg),
                         void *arg)
{
    mem_t *r = self;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (entry_t *e = r->buckets[i]; e; e = e->next) {
            gw_registry_view_t v = {
                .key = e->key,
                .user = e->user,
                .state = e->machine.state,
                .coord_phase = e->coord ? (int)gw_coord_phase(e->coord) : -1,
                .owner = e->owner,
                .instance = -1,
            };
            cb(&v, arg);
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static const gw_registry_ops_t mem_ops = {
    .name = "memory",
    .reg = mem_register,
    .unreg = mem_unregister,
    .rekey = mem_rekey,
    .set_user = mem_set_user,
    .transition = mem_transition,
    .state = mem_state,
    .is_ready = mem_is_ready,
    .mark_ready = mem_mark_ready,
    .answer_ready = mem_answer_ready,
    .ready_for_messages = mem_ready_for_messages,
    .note_phase = NULL, /* entries link the coordinator itself */
    .count = mem_count,
    .count_key = mem_count_key,
    .foreach = mem_foreach,
    .free = mem_free,
};

gw_registry_t *gw_registry_new(const wsr_faults_t *faults, gw_sync_t *sync,
                               gw_trace_t *trace)
{
    mem_t *r = mem_new(faults, sync, trace);

    return r ? gw_registry_wrap(&mem_ops, r) : NULL;
}
