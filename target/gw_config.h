/* gw_config.h - The gateway's command line. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wsr_fault.h"
#include "gw_sync.h"

#define GW_MAX_SYNC_SPECS 64

typedef enum {
    GW_CMD_SERVE,
    GW_CMD_TOKEN,
    GW_CMD_HELP,
    GW_CMD_VERSION,
    GW_CMD_LIST_FAULTS,
    GW_CMD_LIST_SYNC_POINTS,
} gw_command_t;

typedef struct {
    gw_command_t command;
    char host[64];
    int port;
    char secret[256];
    int secret_is_default; /* neither --secret nor WSRACE_SECRET */
    wsr_faults_t faults;
    wsr_sync_spec_t sync_specs[GW_MAX_SYNC_SPECS]; /* in given order */
    unsigned nsync;
    const char *trace_path; /* NULL: no trace */
    const char *sync_control; /* runner's socket (docs/sync-control.md) */
    unsigned workers;
    unsigned loops; /* service loops; 0: one per core (gw_config_loops) */
    unsigned service_latency_ms;
    uint64_t seed;
    size_t max_message;
    unsigned max_queue;
    unsigned max_connections;     /* 0: no limit */
    size_t max_send_queue;        /* bytes; 0: no limit */
    unsigned handshake_timeout_s; /* TCP accept to upgrade */
    unsigned session_hold_s;      /* a closed session stays its user's */
    unsigned ticket_ttl_s;        /* a ticket's life */
    int lifeline_fd;              /* -1: none; EOF on it stops the gateway */
    /* cluster mode (docs/DESIGN.md "Cluster mode") */
    char redis_host[64];      /* --registry redis://HOST:PORT; "" in-process */
    int redis_port;           /* 0 in-process */
    int instance_id;          /* --instance-id, -1 when not given */
    unsigned incarnation;     /* --incarnation: restarts of the instance */
    unsigned registry_ttl_ms; /* --registry-ttl */
    /* token sub-command */
    const char *token_user;
    long long token_ttl;
} gw_config_t;

/* --ttl is bounded so that now + ttl cannot overflow: 100 years. */
#define GW_TOKEN_TTL_MAX (100LL * 366 * 24 * 3600)

/* Bounds of the cluster options; a connection id is instance << 40 |
 * incarnation << 32 | a count from 1 (gw_gateway.h). */
#define GW_INSTANCE_MAX    65535
#define GW_INCARNATION_MAX 255

#define GW_DEV_SECRET "wsrace-development-secret"
#define GW_LOOPS_MAX  64 /* --loops bound */

/* The service loops to run: cfg->loops, or by default one per online
 * core, at most 8 (see gw_config.c). */
unsigned gw_config_loops(const gw_config_t *cfg);

/* Parses argv into cfg (defaults first, WSRACE_SECRET from the
 * environment). Returns 0, or 2 after printing a message naming the bad
 * option (or FILE:LINE of a --sync-file) to err. Sync specs, from --sync
 * and --sync-file in command-line order, are parsed here too. */
int gw_config_parse(gw_config_t *cfg, int argc, char **argv, FILE *err);

void gw_config_usage(FILE *out);

#endif
