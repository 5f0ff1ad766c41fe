/* gw_registry_redis.c - The cluster's registry backend: every entry in one
 * Redis server that several gateway instances share (docs/DESIGN.md,
 * "Cluster mode").
 *
 * Data layout (prefix "wsr:"):
 *   e:KEY     hash: inst, conn (the owner), proc (its process: "INST.K",
 *             the instance's K-th incarnation), user, state, invalid
 *             (refusals in a row), coord (coordinator phase); PX ttl_ms,
 *             refreshed by the owner process's heartbeat
 *   t:KEY     "PROC CONN": the tombstone of the entry, without a TTL, so
 *             that an entry whose TTL ran out can be seen to have expired
 *   tombs     set of the keys that have a tombstone
 *   own:PROC  set of the keys process PROC registered (a restarted
 *             instance is a new process: it never refreshes the dead
 *             one's entries)
 *   live:PROC the process's presence, PX ttl_ms
 *   seq, log  the cluster-wide order: every change INCRs seq and XADDs one
 *             record (rseq, op, key, instance, conn, result, ...) to log
 *
 * Each operation that changes an entry is one Lua script, so it is atomic
 * in Redis: register is "create unless it exists", the swap a
 * check-and-rename, unregister a compare-and-delete on the owner, a
 * transition checks the owner and the lifecycle table (generated from
 * common/wsr_state.c into the script). Before it acts, a script looks at
 * the key's tombstone: an entry that expired is recorded as expired then,
 * in order; the heartbeat does the same for every tombstone, so a dead
 * instance's entries are seen to go within a heartbeat of their TTL.
 *
 * Threads: any. hiredis contexts are not thread-safe: each thread gets its
 * own (a thread-specific key), made on first use and remade after an I/O
 * error; every round trip is bounded by timeout_ms. Lock: `oplock` is held
 * across a changing script's round trip and the trace events it yields,
 * so within one instance the trace order is the cluster order (rseq);
 * reads take no lock. Lock order: oplock -> local registry's lock -> trace
 * lock. No sync point is hit with oplock held. */
#include "gw_registry_int.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARGS_MAX 12

enum {
    S_REGISTER,
    S_UNREGISTER,
    S_REKEY,
    S_TRANSITION,
    S_SETFIELD,
    S_LOG,
    S_HEARTBEAT,
    S_LIST,
    S_READ,
    S__COUNT
};

typedef struct {
    char host[64];
    int port;
    int instance;
    char inst[16]; /* instance as text, for the scripts */
    char proc[32]; /* "INST.INCARNATION": this process */
    unsigned ttl_ms;
    int timeout_ms;
    const wsr_faults_t *faults; /* read-only */
    gw_sync_t *sync;
    gw_trace_t *trace;
    pthread_key_t ctx_key;  /* this thread's redisContext */
    char *script[S__COUNT]; /* sources, for EVAL after a NOSCRIPT */
    char sha[S__COUNT][41]; /* their SHA1s (SCRIPT LOAD) */
    pthread_mutex_t oplock; /* see the header */
    gw_registry_t *local;   /* this instance's own entries, as it
                               saw them change (its memory) */
    pthread_t hb;           /* the heartbeat thread */
    bool hb_started;
    pthread_mutex_t hb_lock; /* guards hb_stop */
    pthread_cond_t hb_cond;
    bool hb_stop;
} rds_t;

/* ------------------------------------------------------------------ */
/* Scripts                                                              */
/* ------------------------------------------------------------------ */

/* Shared by every script: the log record, and the look at a tombstone. */
static const char prelude[] =
    "local P = 'wsr:'\n"
    "local function log(op, key, inst, conn, res, ...)\n"
    "  local n = redis.call('INCR', P .. 'seq')\n"
    "  redis.call('XADD', P .. 'log', '*', 'rseq', n, 'op', op, 'key', key,\n"
    "             'instance', inst, 'conn', conn, 'result', res, ...)\n"
    "  return n\n"
    "end\n"
    "local function observe(key, out)\n"
    "  local t = redis.call('GET', P .. 't:' .. key)\n"
    "  if not t or redis.call('EXISTS', P .. 'e:' .. key) == 1 then\n"
    "    return\n"
    "  end\n"
    "  redis.call('DEL', P .. 't:' .. key)\n"
    "  redis.call('SREM', P .. 'tombs', key)\n"
    "  local proc, conn = string.match(t, '^(%S+) (%d+)$')\n"
    "  local inst = string.match(proc, '^(%d+)')\n"
    "  redis.call('SREM', P .. 'own:' .. proc, key)\n"
    "  local n = log('expire', key, inst, conn, 'expired')\n"
    "  table.insert(out, key)\n"
    "  table.insert(out, n)\n"
    "  table.insert(out, inst)\n"
    "  table.insert(out, conn)\n"
    "end\n"
    "local function claim(key, proc, conn, ttl)\n"
    "  if tonumber(ttl) > 0 then\n"
    "    redis.call('PEXPIRE', P .. 'e:' .. key, ttl)\n"
    "  end\n"
    "  redis.call('SET', P .. 't:' .. key, proc .. ' ' .. conn)\n"
    "  redis.call('SADD', P .. 'tombs', key)\n"
    "  redis.call('SADD', P .. 'own:' .. proc, key)\n"
    "end\n"
    "local function release(key, proc)\n"
    "  redis.call('DEL', P .. 't:' .. key)\n"
    "  redis.call('SREM', P .. 'tombs', key)\n"
    "  if proc then redis.call('SREM', P .. 'own:' .. proc, key) end\n"
    "end\n";

/* Every changing script returns {result, rseq, extra, then KEY, RSEQ,
 * INST, CONN for each entry it saw had expired}. */
static const char *const bodies[S__COUNT] = {
    /* ARGV: key inst conn user coord ttl blind proc */
    [S_REGISTER] =
        "local key, inst, conn = ARGV[1], ARGV[2], ARGV[3]\n"
        "local ex, res = {}, 'created'\n"
        "observe(key, ex)\n"
        "local e = P .. 'e:' .. key\n"
        "if ARGV[7] ~= '1' and redis.call('EXISTS', e) == 1 then\n"
        "  res = 'duplicate'\n"
        "else\n"
        "  redis.call('DEL', e)\n"
        "  redis.call('HSET', e, 'inst', inst, 'conn', conn, 'proc', ARGV[8],\n"
        "             'user', ARGV[4], 'state', 'CONNECTING', 'invalid', 0,\n"
        "             'coord', ARGV[5])\n"
        "  claim(key, ARGV[8], conn, ARGV[6])\n"
        "end\n"
        "return {res, log('register', key, inst, conn, res), '', unpack(ex)}\n",
    /* ARGV: key inst conn blind */
    [S_UNREGISTER] =
        "local key, inst, conn = ARGV[1], ARGV[2], ARGV[3]\n"
        "local ex, res, victim = {}, 'unknown', ''\n"
        "observe(key, ex)\n"
        "local e = P .. 'e:' .. key\n"
        "local o = redis.call('HMGET', e, 'inst', 'conn', 'proc')\n"
        "if o[1] and (ARGV[4] == '1' or (o[1] == inst and o[2] == conn)) then\n"
        "  redis.call('DEL', e)\n"
        "  release(key, o[3])\n"
        "  res = 'removed'\n"
        "  if o[2] ~= conn then victim = o[2] end\n"
        "end\n"
        "return {res, log('unregister', key, inst, conn, res, 'owner',\n"
        "                 o[2] or ''), victim, unpack(ex)}\n",
    /* ARGV: old new inst conn ttl blind proc */
    [S_REKEY] =
        "local old, new, inst, conn = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
        "local ex, res, st = {}, 'unknown', ''\n"
        "observe(new, ex)\n"
        "local eo, en = P .. 'e:' .. old, P .. 'e:' .. new\n"
        "local o = redis.call('HMGET', eo, 'inst', 'conn', 'state')\n"
        "if o[1] == inst and o[2] == conn then\n"
        "  if ARGV[6] ~= '1' and redis.call('EXISTS', en) == 1 then\n"
        "    res = 'duplicate'\n"
        "  else\n"
        "    redis.call('RENAME', eo, en)\n"
        "    release(old, ARGV[7])\n"
        "    claim(new, ARGV[7], conn, ARGV[5])\n"
        "    res, st = 'moved', o[3]\n"
        "  end\n"
        "end\n"
        "return {res, log('rekey', new, inst, conn, res, 'from', old), st,\n"
        "        unpack(ex)}\n",
    /* ARGV: key inst conn to coord max-invalid */
    [S_TRANSITION] =
        "local key, inst, conn, to = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
        "local e = P .. 'e:' .. key\n"
        "local o = redis.call('HMGET', e, 'inst', 'conn', 'state', 'invalid')\n"
        "if o[1] ~= inst or o[2] ~= conn then\n"
        "  return {'absent', log('transition', key, inst, conn, 'absent',\n"
        "                        'to', to), ''}\n"
        "end\n"
        "local from, res = o[3], 'ok'\n"
        "if ALLOWED[from] and ALLOWED[from][to] then\n"
        "  redis.call('HSET', e, 'state', to, 'invalid', 0)\n"
        "  if ARGV[5] ~= '' then redis.call('HSET', e, 'coord', ARGV[5]) end\n"
        "else\n"
        "  local run = (tonumber(o[4]) or 0) + 1\n"
        "  if run >= tonumber(ARGV[6]) and from ~= 'FAILED' then\n"
        "    redis.call('HSET', e, 'state', 'FAILED', 'invalid', 0)\n"
        "    res = 'forced_failed'\n"
        "  else\n"
        "    redis.call('HSET', e, 'invalid', run)\n"
        "    res = 'refused'\n"
        "  end\n"
        "end\n"
        "return {res, log('transition', key, inst, conn, res, 'from', from,\n"
        "                 'to', to), from}\n",
    /* ARGV: key inst conn field value: sets a field of the caller's own
     * entry; not an operation of the registry's order (no record). */
    [S_SETFIELD] = "local e = P .. 'e:' .. ARGV[1]\n"
                   "local o = redis.call('HMGET', e, 'inst', 'conn')\n"
                   "if o[1] ~= ARGV[2] or o[2] ~= ARGV[3] then return 0 end\n"
                   "redis.call('HSET', e, ARGV[4], ARGV[5])\n"
                   "return 1\n",
    /* ARGV: op key inst conn result [from]: an outcome decided outside a
     * script (a fault's read, then its write) takes its place in order. */
    [S_LOG] = "local n\n"
              "if ARGV[6] then\n"
              "  n = log(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'from',\n"
              "          ARGV[6])\n"
              "else\n"
              "  n = log(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])\n"
              "end\n"
              "return {ARGV[5], n, ''}\n",
    /* ARGV: proc ttl: presence, the TTL of the process's own entries,
     * and every tombstone whose entry is gone. */
    [S_HEARTBEAT] =
        "local proc, ttl = ARGV[1], ARGV[2]\n"
        "local ex = {}\n"
        "redis.call('SET', P .. 'live:' .. proc, '1', 'PX', ttl)\n"
        "for _, k in ipairs(redis.call('SMEMBERS', P .. 'tombs')) do\n"
        "  observe(k, ex)\n"
        "end\n"
        "for _, k in ipairs(redis.call('SMEMBERS', P .. 'own:' .. proc)) do\n"
        "  local o = redis.call('HMGET', P .. 'e:' .. k, 'proc')\n"
        "  if o[1] == proc then\n"
        "    redis.call('PEXPIRE', P .. 'e:' .. k, ttl)\n"
        "  else\n"
        "    redis.call('SREM', P .. 'own:' .. proc, k)\n"
        "  end\n"
        "end\n"
        "return {'', 0, '', unpack(ex)}\n",
    /* ARGV: key. {CONN, STATE, USER, SEQ}: the entry and how many
     * operations the registry had applied when it was read. */
    [S_READ] = "local o = redis.call('HMGET', P .. 'e:' .. ARGV[1], 'conn',\n"
               "                     'state', 'user')\n"
               "return {o[1] or '', o[2] or '', o[3] or '',\n"
               "        tonumber(redis.call('GET', P .. 'seq') or '0')}\n",
    /* Every entry: KEY INST CONN USER STATE COORD, flat. */
    [S_LIST] = "local out = {}\n"
               "for _, e in ipairs(redis.call('KEYS', P .. 'e:*')) do\n"
               "  local o = redis.call('HMGET', e, 'inst', 'conn', 'user',\n"
               "                       'state', 'coord')\n"
               "  if o[1] then\n"
               "    table.insert(out, string.sub(e, #P + 3))\n"
               "    for i = 1, 5 do table.insert(out, o[i] or '') end\n"
               "  end\n"
               "end\n"
               "return out\n",
};

/* The lifecycle table of common/wsr_state.c as a Lua table, so that the
 * transition script and the in-process machine obey one table. */
static char *allowed_table(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fputs("local ALLOWED = {\n", f);
    for (int a = 0; a < WSR_ST__COUNT; a++) {
        fprintf(f, "  %s = {", wsr_state_name((wsr_state_t)a));
        for (int b = 0; b < WSR_ST__COUNT; b++)
            if (wsr_state_allowed((wsr_state_t)a, (wsr_state_t)b))
                fprintf(f, "%s = true, ", wsr_state_name((wsr_state_t)b));
        fputs("},\n", f);
    }
    fputs("}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int build_scripts(rds_t *r)
{
    char *table = allowed_table();

    if (!table)
        return -ENOMEM;
    for (int i = 0; i < S__COUNT; i++) {
        size_t n = strlen(prelude) + strlen(table) + strlen(bodies[i]) + 1;

        r->script[i] = malloc(n);
        if (!r->script[i]) {
            free(table);
            return -ENOMEM;
        }
        snprintf(r->script[i], n, "%s%s%s", prelude, table, bodies[i]);
    }
    free(table);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Round trips                                                          */
/* ------------------------------------------------------------------ */

static void ctx_free(void *c)
{
    redisFree(c);
}

/* This thread's context, connected; NULL when Redis cannot be reached. */
static redisContext *ctx_get(rds_t *r)
{
    redisContext *c = pthread_getspecific(r->ctx_key);
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};

    if (c && c->err) {
        redisFree(c);
        c = NULL;
        pthread_setspecific(r->ctx_key, NULL);
    }
    if (c)
        return c;
    c = redisConnectWithTimeout(r->host, r->port, tv);
    if (!c)
        return NULL;
    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return NULL;
    }
    pthread_setspecific(r->ctx_key, c);
    return c;
}

/* Runs one command (argv of argc words); NULL on an I/O error, after
 * which the context is made anew on the next call. */
static redisReply *command(rds_t *r, int argc, const char **argv)
{
    redisContext *c = ctx_get(r);
    redisReply *rep;

    if (!c)
        return NULL;
    rep = redisCommandArgv(c, argc, argv, NULL);
    if (!rep) {
        redisFree(c);
        pthread_setspecific(r->ctx_key, NULL);
    }
    return rep;
}

/* Runs script id with the arguments (NULL-ended), by its SHA1, and by its
 * source when the server has not got it (it restarted). NULL on an I/O
 * error or an error reply (printed once: a script error is a bug). */
static redisReply *script(rds_t *r, int id, ...)
{
    const char *argv[ARGS_MAX + 3];
    redisReply *rep;
    int argc = 3;
    va_list ap;

    argv[0] = "EVALSHA";
    argv[1] = r->sha[id];
    argv[2] = "0";
    va_start(ap, id);
    for (const char *a; argc < ARGS_MAX + 3 && (a = va_arg(ap, const char *));)
        argv[argc++] = a;
    va_end(ap);
    rep = command(r, argc, argv);
    if (rep && rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        argv[0] = "EVAL";
        argv[1] = r->script[id];
        rep = command(r, argc, argv);
    }
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        static _Atomic bool told;

        if (!atomic_exchange(&told, true))
            fprintf(stderr, "wsrace-gateway: registry script %d: %s\n", id,
                    rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* The string of element i of an array reply, "" when absent. */
static const char *elem_str(const redisReply *rep, size_t i)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || i >= rep->elements)
        return "";
    if (rep->element[i]->type == REDIS_REPLY_STRING ||
        rep->element[i]->type == REDIS_REPLY_STATUS)
        return rep->element[i]->str;
    return "";
}

static long long elem_int(const redisReply *rep, size_t i)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || i >= rep->elements)
        return 0;
    if (rep->element[i]->type == REDIS_REPLY_INTEGER)
        return rep->element[i]->integer;
    return strtoll(elem_str(rep, i), NULL, 10);
}

static bool key_ok(const char *key)
{
    return key && key[0] && strlen(key) < GW_KEY_MAX;
}

/* ------------------------------------------------------------------ */
/* Trace                                                                */
/* ------------------------------------------------------------------ */

/* The entries a script saw had expired (after element 3 of its reply), in
 * order, as registry.expired events of their owners; an entry of this
 * instance leaves its memory too. `oplock` held. */
static void trace_expired_locked(rds_t *r, const redisReply *rep)
{
    for (size_t i = 3;
         rep && rep->type == REDIS_REPLY_ARRAY && i + 4 <= rep->elements;
         i += 4) {
        const char *key = elem_str(rep, i);
        uint64_t owner = strtoull(elem_str(rep, i + 3), NULL, 10);
        long long inst = elem_int(rep, i + 2);

        gw_trace_emitf(r->trace, owner, key, "registry.expired",
                       "{s:s,s:I,s:I}", "result", "expired", "owner_instance",
                       (json_int_t)inst, "rseq",
                       (json_int_t)elem_int(rep, i + 1));
        if (inst == r->instance)
            gw_registry_unregister(r->local, key, owner);
    }
}

/* The entry of key as the owner conn (0: any owner) reads it: 0 with *st
 * (and user, when not NULL, GW_USER_MAX bytes); -ENOENT; -EIO. *after,
 * when not NULL, gets how many operations the registry had applied then
 * (a reading's place in the cluster's order: after that one). */
static int read_entry_at(rds_t *r, const char *key, uint64_t conn,
                         wsr_state_t *st, char *user, uint64_t *after)
{
    redisReply *rep;
    int rc = -ENOENT;

    if (!key_ok(key))
        return -ENOENT;
    rep = script(r, S_READ, key, NULL);
    if (!rep)
        return -EIO;
    if (after)
        *after = (uint64_t)elem_int(rep, 3);
    if (elem_str(rep, 0)[0] &&
        (conn == 0 || strtoull(elem_str(rep, 0), NULL, 10) == conn)) {
        *st = wsr_state_from_name(elem_str(rep, 1));
        if (user)
            snprintf(user, GW_USER_MAX, "%s", elem_str(rep, 2));
        rc = 0;
    }
    freeReplyObject(rep);
    return rc;
}

static int read_entry(rds_t *r, const char *key, uint64_t conn, wsr_state_t *st,
                      char *user)
{
    return read_entry_at(r, key, conn, st, user, NULL);
}

/* Whether key has an entry (a read of its own: the fault's check). */
static bool key_is_live(rds_t *r, const char *key)
{
    wsr_state_t st;

    return read_entry(r, key, 0, &st, NULL) == 0;
}

/* Gives an outcome decided outside a script its place in the order and
 * traces it. `oplock` held. */
static void log_outcome_locked(rds_t *r, const char *op, const char *event,
                               const char *key, const char *from,
                               const char *result, uint64_t conn)
{
    char cs[24];
    redisReply *rep;

    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    rep = script(r, S_LOG, op, key, r->inst, cs, result, from, NULL);
    if (from)
        gw_trace_emitf(r->trace, conn, key, event, "{s:s,s:s,s:I}", "result",
                       result, "from", from, "rseq",
                       (json_int_t)elem_int(rep, 1));
    else
        gw_trace_emitf(r->trace, conn, key, event, "{s:s,s:I}", "result",
                       result, "rseq", (json_int_t)elem_int(rep, 1));
    freeReplyObject(rep);
}

/* ------------------------------------------------------------------ */
/* Operations                                                           */
/* ------------------------------------------------------------------ */

static unsigned entry_ttl(const rds_t *r)
{
    /* stale-presence: entries are written without a TTL (and the
     * heartbeat never starts): a dead instance's sessions never expire. */
    if (wsr_fault_on(r->faults, WSR_FAULT_STALE_PRESENCE))
        return 0;
    return r->ttl_ms;
}

static int rds_register(void *self, const char *key, const char *user,
                        gw_coord_t *coord, uint64_t conn)
{
    rds_t *r = self;
    char cs[24], ttl[16];
    const char *blind = "0", *res;
    redisReply *rep;
    int rc;

    if (!key_ok(key))
        return -EINVAL;
    if (wsr_fault_on(r->faults, WSR_FAULT_DUPLICATE_REGISTRATION)) {
        /* duplicate-registration (cluster form): the check is a read of
         * its own and the write another round trip, so two instances can
         * both find the key free and both write it; a live key is
         * answered with its machine, not an error. */
        bool live = key_is_live(r, key);

        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, key);
        if (live) {
            pthread_mutex_lock(&r->oplock);
            log_outcome_locked(r, "register", "registry.register", key, NULL,
                               "existing", conn);
            pthread_mutex_unlock(&r->oplock);
            return GW_REG_EXISTING;
        }
        blind = "1";
    } else {
        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, key);
    }
    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    snprintf(ttl, sizeof(ttl), "%u", entry_ttl(r));
    pthread_mutex_lock(&r->oplock);
    rep = script(r, S_REGISTER, key, r->inst, cs, user ? user : "",
                 wsr_coord_phase_name(coord ? gw_coord_phase(coord)
                                            : WSR_CO_INITIALIZING),
                 ttl, blind, r->proc, NULL);
    if (!rep) {
        pthread_mutex_unlock(&r->oplock);
        return -EIO;
    }
    trace_expired_locked(r, rep);
    res = elem_str(rep, 0);
    gw_trace_emitf(r->trace, conn, key, "registry.register", "{s:s,s:I}",
                   "result", res, "rseq", (json_int_t)elem_int(rep, 1));
    rc = strcmp(res, "created") == 0 ? 0 : -EEXIST;
    if (rc == 0)
        gw_registry_register(r->local, key, user, NULL, conn);
    pthread_mutex_unlock(&r->oplock);
    freeReplyObject(rep);
    return rc;
}

static int rds_unregister(void *self, const char *key, uint64_t conn)
{
    rds_t *r = self;
    const char *blind = "0";
    char cs[24];
    redisReply *rep;
    int rc;

    if (!key_ok(key))
        return -ENOENT;
    if (wsr_fault_on(r->faults, WSR_FAULT_BLIND_UNREGISTER))
        /* blind-unregister: the entry is deleted without comparing its
         * owner with the caller. */
        blind = "1";
    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    pthread_mutex_lock(&r->oplock);
    rep = script(r, S_UNREGISTER, key, r->inst, cs, blind, NULL);
    if (!rep) {
        pthread_mutex_unlock(&r->oplock);
        return -EIO;
    }
    trace_expired_locked(r, rep);
    if (elem_str(rep, 2)[0])
        gw_trace_emitf(r->trace, conn, key, "registry.unregister",
                       "{s:s,s:I,s:I}", "result", elem_str(rep, 0), "owner",
                       (json_int_t)strtoull(elem_str(rep, 2), NULL, 10), "rseq",
                       (json_int_t)elem_int(rep, 1));
    else
        gw_trace_emitf(r->trace, conn, key, "registry.unregister", "{s:s,s:I}",
                       "result", elem_str(rep, 0), "rseq",
                       (json_int_t)elem_int(rep, 1));
    rc = strcmp(elem_str(rep, 0), "removed") == 0 ? 0 : -ENOENT;
    gw_registry_unregister(r->local, key, conn);
    pthread_mutex_unlock(&r->oplock);
    freeReplyObject(rep);
    return rc;
}

static int rds_rekey(void *self, const char *old_key, const char *new_key,
                     uint64_t conn)
{
    rds_t *r = self;
    char cs[24], ttl[16];
    const char *blind = "0", *res;
    redisReply *rep;
    int rc;

    if (!key_ok(old_key) || !key_ok(new_key))
        return -EINVAL;
    if (wsr_fault_on(r->faults, WSR_FAULT_STUCK_SWAP)) {
        /* stuck-swap: the machine is dropped with the old key and created
         * anew under the new one, in CONNECTING; its state is lost. */
        char user[GW_USER_MAX] = "";
        wsr_state_t st;

        if (read_entry(r, old_key, conn, &st, user) != 0)
            return -ENOENT;
        rds_unregister(r, old_key, conn);
        gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, old_key);
        return rds_register(r, new_key, user, NULL, conn);
    }
    if (wsr_fault_on(r->faults, WSR_FAULT_DUPLICATE_REGISTRATION)) {
        /* duplicate-registration (cluster form): as in rds_register, the
         * live-key check is a read and the rename another round trip. */
        bool live = key_is_live(r, new_key);

        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, new_key);
        if (live) {
            rds_unregister(r, old_key, conn);
            gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, old_key);
            pthread_mutex_lock(&r->oplock);
            log_outcome_locked(r, "rekey", "registry.rekey", new_key, old_key,
                               "existing", conn);
            pthread_mutex_unlock(&r->oplock);
            return GW_REG_EXISTING;
        }
        blind = "1";
    } else {
        gw_sync_hit(r->sync, WSR_SP_REGISTRY_CHECK, conn, new_key);
    }
    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    snprintf(ttl, sizeof(ttl), "%u", entry_ttl(r));
    pthread_mutex_lock(&r->oplock);
    rep = script(r, S_REKEY, old_key, new_key, r->inst, cs, ttl, blind, r->proc,
                 NULL);
    if (!rep) {
        pthread_mutex_unlock(&r->oplock);
        return -EIO;
    }
    trace_expired_locked(r, rep);
    res = elem_str(rep, 0);
    if (strcmp(res, "moved") == 0) {
        rc = 0;
        gw_trace_emitf(r->trace, conn, new_key, "registry.rekey",
                       "{s:s,s:s,s:s,s:I}", "result", "moved", "from", old_key,
                       "state", elem_str(rep, 2), "rseq",
                       (json_int_t)elem_int(rep, 1));
        gw_registry_rekey(r->local, old_key, new_key, conn);
    } else {
        rc = strcmp(res, "duplicate") == 0 ? -EEXIST : -ENOENT;
        gw_trace_emitf(r->trace, conn, new_key, "registry.rekey",
                       "{s:s,s:s,s:I}", "result", res, "from", old_key, "rseq",
                       (json_int_t)elem_int(rep, 1));
    }
    pthread_mutex_unlock(&r->oplock);
    freeReplyObject(rep);
    if (rc == 0)
        gw_sync_hit(r->sync, WSR_SP_SWAP_UNREGISTERED, conn, new_key);
    return rc;
}

/* Sets field of conn's own entry under key: 0, -ENOENT or -EIO. */
static int set_field(rds_t *r, const char *key, uint64_t conn,
                     const char *field, const char *value)
{
    char cs[24];
    redisReply *rep;
    int rc;

    if (!key_ok(key))
        return -ENOENT;
    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    rep = script(r, S_SETFIELD, key, r->inst, cs, field, value, NULL);
    if (!rep)
        return -EIO;
    rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 ? 0 : -ENOENT;
    freeReplyObject(rep);
    return rc;
}

static int rds_set_user(void *self, const char *key, const char *user,
                        uint64_t conn)
{
    rds_t *r = self;

    gw_registry_set_user(r->local, key, user, conn);
    return set_field(r, key, conn, "user", user);
}

static void rds_note_phase(void *self, const char *key, wsr_coord_phase_t phase,
                           uint64_t conn)
{
    /* ERROR and CLOSED come after the entry is gone. */
    if (phase == WSR_CO_HANDSHAKE_PENDING || phase == WSR_CO_CONNECTED)
        set_field(self, key, conn, "coord", wsr_coord_phase_name(phase));
}

/* Moves conn's machine under key to `to` (and the entry's coordinator
 * phase to coord, when not NULL); traced. `oplock` held. */
static int transition_locked(rds_t *r, const char *key, wsr_state_t to,
                             const char *coord, uint64_t conn)
{
    char cs[24], most[8];
    const char *res;
    redisReply *rep;
    int rc;

    snprintf(cs, sizeof(cs), "%" PRIu64, conn);
    snprintf(most, sizeof(most), "%d", GW_MACHINE_MAX_INVALID);
    rep = script(r, S_TRANSITION, key, r->inst, cs, wsr_state_name(to),
                 coord ? coord : "", most, NULL);
    if (!rep)
        return -EIO;
    res = elem_str(rep, 0);
    if (strcmp(res, "absent") == 0) {
        gw_trace_emitf(r->trace, conn, key, "machine.transition",
                       "{s:s,s:s,s:I}", "to", wsr_state_name(to), "result",
                       "absent", "rseq", (json_int_t)elem_int(rep, 1));
        rc = -ENOENT;
    } else {
        gw_trace_emitf(r->trace, conn, key, "machine.transition",
                       "{s:s,s:s,s:s,s:I}", "from", elem_str(rep, 2), "to",
                       wsr_state_name(to), "result", res, "rseq",
                       (json_int_t)elem_int(rep, 1));
        rc = strcmp(res, "ok") == 0              ? 0
             : strcmp(res, "forced_failed") == 0 ? -ELOOP
                                                 : -EINVAL;
        if (rc == 0)
            gw_registry_transition(r->local, key, to, conn);
        else if (rc == -ELOOP)
            gw_registry_transition(r->local, key, WSR_ST_FAILED, conn);
    }
    freeReplyObject(rep);
    return rc;
}

static int rds_transition(void *self, const char *key, wsr_state_t to,
                          uint64_t conn)
{
    rds_t *r = self;
    int rc;

    pthread_mutex_lock(&r->oplock);
    rc = transition_locked(r, key, to, NULL, conn);
    pthread_mutex_unlock(&r->oplock);
    return rc;
}

static int rds_state(void *self, const char *key, uint64_t conn,
                     wsr_state_t *out)
{
    int rc = read_entry(self, key, conn, out, NULL);

    return rc == -EIO ? -ENOENT : rc;
}

/* Readiness of key's machine as this instance answers it; *st gets the
 * state read (WSR_ST_NONE: absent) and *after the reading's place in the
 * cluster's order. */
static bool ready_of(rds_t *r, const char *key, uint64_t conn, wsr_state_t *st,
                     uint64_t *after)
{
    *st = WSR_ST_NONE;
    *after = 0;
    if (wsr_fault_on(r->faults, WSR_FAULT_LOCAL_READINESS)) {
        /* local-readiness: the instance's own memory answers, not the
         * shared registry: another instance's connection is never ready
         * here. */
        if (gw_registry_state(r->local, key, conn, st) != 0)
            *st = WSR_ST_NONE;
        return gw_registry_is_ready(r->local, key, conn);
    }
    if (read_entry_at(r, key, conn, st, NULL, after) == 0)
        return wsr_state_is_ready(*st);
    /* fallback-ready: "no machine registered, fall back to basic
     * connectivity" - an absent key is reported ready. */
    if (wsr_fault_on(r->faults, WSR_FAULT_FALLBACK_READY))
        return true;
    return false;
}

static bool rds_is_ready(void *self, const char *key, uint64_t conn)
{
    wsr_state_t st;
    uint64_t after;

    return ready_of(self, key, conn, &st, &after);
}

/* The answer of /debug/ready, traced with the state read and its place
 * ("rafter": after that many registry operations). The instance's lock
 * keeps the event in order with the instance's own operations. */
static bool rds_answer_ready(void *self, const char *key, bool *registered)
{
    rds_t *r = self;
    wsr_state_t st;
    uint64_t after;
    bool ready;

    pthread_mutex_lock(&r->oplock);
    ready = ready_of(r, key, 0, &st, &after);
    if (wsr_fault_on(r->faults, WSR_FAULT_LOCAL_READINESS) &&
        st == WSR_ST_NONE) {
        /* Registered is still read from the registry; readiness is the
         * part the instance answers from memory (the branch above). */
        wsr_state_t shared;

        if (read_entry_at(r, key, 0, &shared, NULL, &after) == 0)
            st = shared, ready = false;
    }
    *registered = st != WSR_ST_NONE;
    gw_trace_emitf(r->trace, 0, key, "debug.ready", "{s:b,s:b,s:s,s:I}",
                   "registered", *registered, "ready", ready, "machine",
                   wsr_state_name(st), "rafter", (json_int_t)after);
    pthread_mutex_unlock(&r->oplock);
    return ready;
}

static int rds_mark_ready(void *self, const char *key, gw_coord_t *coord,
                          uint64_t conn)
{
    rds_t *r = self;
    wsr_state_t st = WSR_ST_NONE;
    int rc;

    pthread_mutex_lock(&r->oplock);
    if (read_entry(r, key, conn, &st, NULL) != 0 ||
        !wsr_state_allowed(st, WSR_ST_PROCESSING_READY)) {
        /* Absent, or the machine refuses: traced (and a refusal counted),
         * the coordinator untouched. */
        rc = transition_locked(r, key, WSR_ST_PROCESSING_READY, NULL, conn);
    } else {
        /* Both move or neither does: the coordinator first, since it is
         * the one that can still refuse; only this instance moves its
         * own machine, so the state just read still holds. */
        rc = coord ? gw_coord_advance(coord, WSR_CO_READY) : 0;
        if (rc == 0)
            rc = transition_locked(r, key, WSR_ST_PROCESSING_READY,
                                   wsr_coord_phase_name(WSR_CO_READY), conn);
        if (rc == 0)
            st = WSR_ST_PROCESSING_READY;
        if (coord)
            gw_trace_emitf(r->trace, conn, key, "coordinator.phase",
                           "{s:s,s:s,s:s,s:b}", "phase", "READY_FOR_MESSAGES",
                           "machine", wsr_state_name(st), "result",
                           rc == 0 ? "ok" : "refused", "linked", 1);
    }
    pthread_mutex_unlock(&r->oplock);
    return rc;
}

static bool rds_ready_for_messages(void *self, const char *key,
                                   const gw_coord_t *coord, uint64_t conn,
                                   const char *correlation_id)
{
    rds_t *r = self;
    wsr_state_t st;
    uint64_t after;
    bool ready;

    pthread_mutex_lock(&r->oplock);
    ready = ready_of(r, key, conn, &st, &after) && coord &&
            gw_coord_phase(coord) == WSR_CO_READY;
    gw_trace_emitf(r->trace, conn, key, "message.gate",
                   "{s:s?,s:s,s:s,s:s,s:I}", "correlation_id", correlation_id,
                   "decision", ready ? "process" : "wait", "machine",
                   wsr_state_name(st), "coordinator",
                   coord ? wsr_coord_phase_name(gw_coord_phase(coord)) : "none",
                   "rafter", (json_int_t)after);
    pthread_mutex_unlock(&r->oplock);
    return ready;
}

static size_t rds_count(void *self)
{
    const char *argv[] = {"EVAL", "return #redis.call('KEYS', 'wsr:e:*')", "0"};
    redisReply *rep = command(self, 3, argv);
    size_t n = 0;

    if (rep && rep->type == REDIS_REPLY_INTEGER)
        n = (size_t)rep->integer;
    freeReplyObject(rep);
    return n;
}

static unsigned rds_count_key(void *self, const char *key)
{
    wsr_state_t st;

    return read_entry(self, key, 0, &st, NULL) == 0;
}

static void rds_foreach(void *self,
                        void (*cb)(const gw_registry_view_t *v, void *arg),
                        void *arg)
{
    rds_t *r = self;
    redisReply *rep = script(r, S_LIST, NULL);

    for (size_t i = 0; rep && i + 6 <= rep->elements; i += 6) {
        const char *coord = elem_str(rep, i + 5);
        gw_registry_view_t v = {
            .key = elem_str(rep, i),
            .instance = (int)elem_int(rep, i + 1),
            .owner = strtoull(elem_str(rep, i + 2), NULL, 10),
            .user = elem_str(rep, i + 3),
            .state = wsr_state_from_name(elem_str(rep, i + 4)),
            .coord_phase = coord[0] ? wsr_coord_phase_from_name(coord) : -1,
        };

        cb(&v, arg);
    }
    freeReplyObject(rep);
}

/* ------------------------------------------------------------------ */
/* Heartbeat                                                            */
/* ------------------------------------------------------------------ */

/* Every third of the TTL: the instance's presence, its entries' TTL, and
 * the expiries of everyone's entries, traced. */
static void *heartbeat_main(void *arg)
{
    rds_t *r = arg;
    unsigned period = r->ttl_ms / 3 ? r->ttl_ms / 3 : 1;
    char ttl[16];
    bool stop = false;

    gw_trace_set_thread_name("hb");
    snprintf(ttl, sizeof(ttl), "%u", r->ttl_ms);
    while (!stop) {
        struct timespec ts;
        redisReply *rep;

        pthread_mutex_lock(&r->oplock);
        rep = script(r, S_HEARTBEAT, r->proc, ttl, NULL);
        trace_expired_locked(r, rep);
        pthread_mutex_unlock(&r->oplock);
        freeReplyObject(rep);

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += period / 1000;
        ts.tv_nsec += (long)(period % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&r->hb_lock);
        while (!r->hb_stop &&
               pthread_cond_timedwait(&r->hb_cond, &r->hb_lock, &ts) == 0)
            ;
        stop = r->hb_stop;
        pthread_mutex_unlock(&r->hb_lock);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

static void rds_free(void *self)
{
    rds_t *r = self;
    redisContext *c;

    if (!r)
        return;
    if (r->hb_started) {
        pthread_mutex_lock(&r->hb_lock);
        r->hb_stop = true;
        pthread_cond_signal(&r->hb_cond);
        pthread_mutex_unlock(&r->hb_lock);
        pthread_join(r->hb, NULL);
    }
    c = pthread_getspecific(r->ctx_key);
    if (c) {
        redisFree(c);
        pthread_setspecific(r->ctx_key, NULL);
    }
    pthread_key_delete(r->ctx_key);
    for (int i = 0; i < S__COUNT; i++)
        free(r->script[i]);
    gw_registry_free(r->local);
    pthread_mutex_destroy(&r->oplock);
    pthread_mutex_destroy(&r->hb_lock);
    pthread_cond_destroy(&r->hb_cond);
    free(r);
}

static const gw_registry_ops_t rds_ops = {
    .name = "redis",
    .reg = rds_register,
    .unreg = rds_unregister,
    .rekey = rds_rekey,
    .set_user = rds_set_user,
    .transition = rds_transition,
    .state = rds_state,
    .is_ready = rds_is_ready,
    .mark_ready = rds_mark_ready,
    .answer_ready = rds_answer_ready,
    .ready_for_messages = rds_ready_for_messages,
    .note_phase = rds_note_phase,
    .count = rds_count,
    .count_key = rds_count_key,
    .foreach = rds_foreach,
    .free = rds_free,
};

/* Loads every script; their SHA1s go to r->sha. */
static int load_scripts(rds_t *r, char *err, size_t errlen)
{
    for (int i = 0; i < S__COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", r->script[i]};
        redisReply *rep = command(r, 3, argv);

        if (!rep) {
            snprintf(err, errlen, "cannot reach the registry at %s:%d", r->host,
                     r->port);
            return -ECONNREFUSED;
        }
        if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
            snprintf(err, errlen, "the registry at %s:%d refused a script: %s",
                     r->host, r->port,
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
            freeReplyObject(rep);
            return -EPROTO;
        }
        memcpy(r->sha[i], rep->str, 41);
        freeReplyObject(rep);
    }
    return 0;
}

gw_registry_t *gw_registry_new_redis(const gw_redis_opts_t *o, char *err,
                                     size_t errlen)
{
    rds_t *r = calloc(1, sizeof(*r));

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(r->host, sizeof(r->host), "%s", o->host);
    r->port = o->port;
    r->instance = o->instance < 0 ? 0 : o->instance;
    snprintf(r->inst, sizeof(r->inst), "%d", r->instance);
    snprintf(r->proc, sizeof(r->proc), "%d.%u", r->instance, o->incarnation);
    r->ttl_ms = o->ttl_ms ? o->ttl_ms : 3000;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    r->faults = o->faults;
    r->sync = o->sync;
    r->trace = o->trace;
    pthread_mutex_init(&r->oplock, NULL);
    pthread_mutex_init(&r->hb_lock, NULL);
    pthread_cond_init(&r->hb_cond, NULL);
    if (pthread_key_create(&r->ctx_key, ctx_free) != 0) {
        snprintf(err, errlen, "no thread-specific key");
        pthread_mutex_destroy(&r->oplock);
        pthread_mutex_destroy(&r->hb_lock);
        pthread_cond_destroy(&r->hb_cond);
        free(r);
        return NULL;
    }
    r->local = gw_registry_new(NULL, NULL, NULL);
    if (!r->local || build_scripts(r) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (load_scripts(r, err, errlen) != 0)
        goto fail;
    if (!wsr_fault_on(r->faults, WSR_FAULT_STALE_PRESENCE)) {
        /* stale-presence: the line above keeps the heartbeat from
         * starting; nothing refreshes or sweeps. */
        if (pthread_create(&r->hb, NULL, heartbeat_main, r) != 0) {
            snprintf(err, errlen, "cannot start the heartbeat thread");
            goto fail;
        }
        r->hb_started = true;
    }
    return gw_registry_wrap(&rds_ops, r);
fail:
    rds_free(r);
    return NULL;
}
