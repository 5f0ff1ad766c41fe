/* wr_scenario.h - Scenario files: what to run, against which gateway, with
 * which clients doing which steps, and which checks decide the verdict.
 *
 * A scenario is YAML (parsed with libfyaml). Every error names the file,
 * line and column of the node that is wrong. Templates in strings: {i} is
 * the client's index in its group, {g} its index in the whole scenario
 * (both from 0), {user} and {session} the client's own values, {seed} the
 * run's seed. A loaded scenario is immutable and may be shared by threads. */
#ifndef WR_SCENARIO_H
#define WR_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_schedule.h"
#include "wsr_fault.h"

typedef enum {
    WR_TOKEN_VALID,
    WR_TOKEN_EXPIRED,
    WR_TOKEN_BAD_SIGNATURE,
    WR_TOKEN_NONE,
} wr_token_kind_t;

typedef enum {
    WR_STEP_CONNECT,      /* open the WebSocket; done on the upgrade */
    WR_STEP_BARRIER,      /* wait until every client of the barrier is here */
    WR_STEP_SEND,         /* send one text message */
    WR_STEP_EXPECT,       /* wait for a message of a type (and fields) */
    WR_STEP_EXPECT_CLOSE, /* wait for the connection to close (with code) */
    WR_STEP_SLEEP,        /* wait ms (plus seeded jitter) */
    WR_STEP_PROBE_READY,  /* GET /debug/ready?id=KEY */
    WR_STEP_CLOSE,        /* close normally (1000) */
    /* A cluster's nemesis (gateway `instances`): what happens to one
     * instance, done by the harness when a client reaches the step. */
    WR_STEP_KILL_INSTANCE,    /* SIGKILL; its sessions must expire */
    WR_STEP_RESTART_INSTANCE, /* start a killed one again, same port */
    WR_STEP_PAUSE_INSTANCE,   /* SIGSTOP: alive, but silent */
    WR_STEP_RESUME_INSTANCE,  /* SIGCONT */
} wr_step_kind_t;

/* Whether a step acts on an instance of the cluster, not on a connection. */
#define WR_STEP_IS_NEMESIS(k)                                                  \
    ((k) >= WR_STEP_KILL_INSTANCE && (k) <= WR_STEP_RESUME_INSTANCE)

typedef struct {
    wr_step_kind_t kind;
    int line, column; /* position of the step in the file */
    char *name;       /* BARRIER: its name */
    json_t *message;  /* SEND: the message object (templates in strings) */
    char *raw;        /* SEND: raw text to send instead (may be invalid) */
    char *msg_type;   /* EXPECT: message type */
    json_t *match;    /* EXPECT: {"data.connection_ready": true, ...} or NULL */
    int within_ms;    /* CONNECT, EXPECT, EXPECT_CLOSE, BARRIER: timeout */
    int code;         /* EXPECT_CLOSE: close code, 0 for any */
    int ms;           /* SLEEP: base time */
    int jitter_ms;    /* SLEEP: plus 0..jitter_ms from the seed */
    char *key;        /* PROBE_READY: key (templates) */
    char *instance;   /* PROBE_READY: the instance asked (a template whose
                         value is taken modulo the instances); NULL: the
                         client's own */
    int target;       /* the nemesis steps: the instance acted on */
} wr_step_t;

typedef struct {
    char *name;            /* group name (defaults to "group-N") */
    int line, column;      /* position of the group */
    int count;             /* clients in the group, >= 1 */
    char *user;            /* user id template (default "u{g}") */
    char *session;         /* session id template (default "s{g}");
                              NULL: the clients name no session and the
                              gateway generates one for each */
    wr_token_kind_t token; /* default VALID */
    char *instance;        /* which gateway instance each client connects
                              to: a template whose value, N or N+M, is
                              taken modulo the instances; NULL: round
                              robin on {g} */
    int start_jitter_ms;   /* each client starts after 0..N ms (seeded) */
    wr_step_t *steps;
    size_t nsteps;
} wr_group_t;

typedef enum {
    WR_REGISTRY_MEMORY, /* each gateway's own, in process (the default) */
    WR_REGISTRY_REDIS,  /* one Redis server the instances share */
} wr_registry_kind_t;

typedef struct {
    wsr_faults_t inject; /* faults injected unless the run says otherwise */
    char **sync; /* "POINT:ACTION" as the gateway takes it */
    size_t nsync;
    int workers;            /* 0: the gateway's default */
    int service_latency_ms; /* -1: default */
    int max_queue;          /* 0: default */
    int max_message;        /* 0: default */
    int max_connections;    /* 0: default; more are closed with 1013 */
    int instances;          /* gateway instances, 1 unless a cluster */
    wr_registry_kind_t registry;
    int registry_ttl_ms; /* 0: the gateway's default */
} wr_gateway_opts_t;

#define WR_INSTANCES_MAX 16 /* gateway instances of one scenario */

#define WR_SCENARIO_NAME_MAX 64 /* characters of a scenario's name */

/* Client-side chaos, drawn from each client's seed so that a case
 * replays: an abrupt close at a random point of a client's steps (the
 * handshake included), a reconnect with the same session, a burst of
 * messages before the welcome, readiness probes at random moments. */
typedef struct {
    bool on;               /* a chaos block was given (or --chaos) */
    int close_percent;     /* clients that close abruptly once */
    int reconnect_percent; /* of those, the ones that reconnect with the
                              same session and run their steps again */
    int burst;             /* up to this many user_messages right after
                              the upgrade, before the welcome */
    int probe_percent;     /* at each step, the chance of a probe of the
                              client's own key, another's or an absent
                              one */
} wr_chaos_t;

/* The chaos --chaos turns on for a scenario that has none. */
#define WR_CHAOS_DEFAULT                                                       \
    ((wr_chaos_t){true, 20, 50, 3, 20})

typedef struct {
    char *path;        /* as given */
    char *text;        /* the whole file, for replay */
    char *name;        /* required; [a-z0-9-]+ */
    char *description; /* required */
    wsr_faults_t exposes; /* faults (and modes) it is meant to catch */
    wr_gateway_opts_t gateway;
    wr_group_t *groups; /* at least one */
    size_t ngroups;
    unsigned checks;      /* bit per wsr_check_id_t; default WSR_CHECKS_ALL */
    int ready_timeout_ms; /* liveness bound, default 5000 */
    int timeout_ms;       /* whole case bound, default 30000 */
    int drain_ms; /* how long a client that finished its steps waits for
                     the answers to its messages before it closes, default
                     2000 */
    wr_chaos_t chaos;
    /* `chaos: off`: the scenario's promises are exact (a queue bound, a
     * connection limit, a starved pool): --chaos leaves it without. */
    bool chaos_off;
    /* A pinned schedule of the target's sync points (a shrunk case's):
     * kind NONE when there is none. Owned. */
    wr_schedule_t schedule;
    /* `seed`: every case of the scenario runs with this seed, whatever
     * the run's (a shrunk case's chaos and jitter are its seed's). */
    bool seed_pinned;
    unsigned long long seed;
} wr_scenario_t;

/* Loads and validates path. On error returns NULL and writes
 * "FILE:LINE:COLUMN: what is wrong" into err (errlen bytes). Unknown keys,
 * wrong types, missing required fields, bad values (negative counts,
 * unknown fault or check names, a barrier only one client reaches, ...) are
 * all errors. */
wr_scenario_t *wr_scenario_load(const char *path, char *err, size_t errlen);

/* Same, from text in memory; path is used in messages only. */
wr_scenario_t *wr_scenario_parse(const char *path, const char *text, char *err,
                                 size_t errlen);

void wr_scenario_free(wr_scenario_t *s);

/* Clients one scenario may hold (every group together): each is a
 * connection, a descriptor and about 20 KiB of history in the harness
 * (docs/DESIGN.md, "Limits"). More is an error at load time naming the
 * group that passes it. */
#define WR_SCENARIO_CLIENTS_MAX 20000

/* Connections a run may hold open at once: its largest scenario's clients
 * times the cases that run together (--jobs). More is refused before
 * anything starts. */
#define WR_RUN_CLIENTS_MAX 50000

/* Whether s runs a cluster: gateways sharing a Redis registry. */
bool wr_scenario_cluster(const wr_scenario_t *s);

/* The instance a client (index i in its group, g overall) is placed on,
 * and the one its probe of step st asks (st may be NULL): 0 ..
 * instances - 1. */
int wr_scenario_instance(const wr_scenario_t *s, const wr_group_t *grp,
                         const wr_step_t *st, int i, int g, const char *user,
                         const char *session, unsigned long long seed);

/* Total clients over all groups. */
size_t wr_scenario_clients(const wr_scenario_t *s);

/* Expands templates of tmpl for one client into a new string (caller
 * frees), or NULL when out of memory. Unknown {names} are kept as they are.
 * user and session may be NULL while they are being expanded themselves. */
char *wr_scenario_expand(const char *tmpl, int i, int g, const char *user,
                         const char *session, unsigned long long seed);

const char *wr_token_kind_name(wr_token_kind_t k);
const char *wr_step_kind_name(wr_step_kind_t k);

#endif
