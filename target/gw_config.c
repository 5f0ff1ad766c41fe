/* gw_config.c - Command-line parsing for wsrace-gateway.
 *
 * Main thread only, before anything starts. */
#include "gw_config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_sync.h"

void gw_config_usage(FILE *out)
{
    fputs("usage: wsrace-gateway [--host 127.0.0.1] [--port 8765 | --port 0]\n"
          "                      [--secret S] [--inject FAULT[=MODE][,...]]\n"
          "                      [--sync POINT:ACTION]... [--sync-file FILE]\n"
          "                      [--sync-control PATH]\n"
          "                      [--trace FILE]\n"
          "                      [--workers N] [--loops N] "
          "[--service-latency MS]\n"
          "                      [--seed N]"
          " [--max-message BYTES] [--max-queue N]\n"
          "                      [--max-connections N] [--max-send-queue BYTES]\n"
          "                      [--handshake-timeout S] [--session-hold S]\n"
          "                      [--ticket-ttl S] [--lifeline FD]\n"
          "                      [--registry memory | redis://HOST:PORT]\n"
          "                      [--instance-id N] [--incarnation N] "
          "[--registry-ttl MS]\n"
          "       wsrace-gateway token --user USER [--ttl SECONDS] "
          "[--secret S]\n"
          "       wsrace-gateway --list-faults | --list-sync-points | --help |"
          " --version\n"
          "\n"
          "The reference gateway of wsrace: a WebSocket chat gateway whose\n"
          "connection lifecycle is correct by default, with known races that\n"
          "can be injected (--inject) and race windows that can be widened or\n"
          "forced (--sync). Once listening it prints 'listening HOST:PORT'.\n"
          "\n"
          "  --host ADDR           address to bind (default 127.0.0.1)\n"
          "  --port N              port, 0 for any free one (default 8765)\n"
          "  --secret S            token HMAC secret (else $WSRACE_SECRET)\n"
          "  --inject LIST         faults to inject, e.g. scope-loss=swallow\n"
          "  --sync POINT:ACTION   delay=MS | jitter=MIN..MAX |\n"
          "                        rendezvous=N[,timeout=MS] | none\n"
          "  --trace FILE          lifecycle events as JSON lines\n"
          "  --sync-control PATH   report every sync point to the runner\n"
          "                        listening at PATH and wait for its\n"
          "                        release (docs/sync-control.md; also\n"
          "                        $WSRACE_SYNC_CONTROL)\n"
          "  --workers N           handshake worker threads (default 16)\n"
          "  --loops N             service loops (threads) sharing the port\n"
          "                        (default: one per core, at most 8)\n"
          "  --service-latency MS  simulated service start-up (default 0)\n"
          "  --seed N              seed for jitter and generated ids (default "
          "1)\n"
          "  --max-message BYTES   largest client message (default 65536)\n"
          "  --max-queue N         messages held before ready (default 32)\n"
          "  --max-connections N   open at once; more are closed with 1013\n"
          "                        (default 20000, 0 for no limit)\n"
          "  --max-send-queue BYTES  unread output per client before it is\n"
          "                        closed as a slow consumer, 1008 (default\n"
          "                        4194304, 0 for no limit)\n"
          "  --handshake-timeout S from TCP accept to a finished upgrade\n"
          "                        (default 10)\n"
          "  --session-hold S      a closed session id stays its user's\n"
          "                        (default 60)\n"
          "  --ticket-ttl S        life of a POST /ticket ticket (default 30)\n"
          "  --lifeline FD         stop when FD (a pipe) reaches end of file\n"
          "  --registry URL        memory (default), or redis://HOST:PORT: a\n"
          "                        registry shared by a cluster of gateways\n"
          "  --instance-id N       this gateway's instance in the cluster; its\n"
          "                        connection ids start at N << 40, and every\n"
          "                        trace event carries \"instance\"\n"
          "  --incarnation N       restarts of the instance so far (0..255)\n"
          "  --registry-ttl MS     lifetime of a Redis entry without a "
          "heartbeat\n"
          "                        (default 3000)\n"
          "\n"
          "Endpoints: ws://HOST:PORT/ws (token: 'Authorization: Bearer T',\n"
          "subprotocol 'jwt.T', or a one-time ticket: ?ticket=T or subprotocol\n"
          "'ticket.T'; session: 'X-Session-Id' or ?session=ID), POST /ticket\n"
          "(Authorization: Bearer T), GET /healthz, /debug/registry,\n"
          "/debug/ready?id=KEY (loopback only). The secret may come from\n"
          "$WSRACE_SECRET instead of --secret, out of sight of ps.\n",
          out);
}

/* One loop per core: a loop only moves bytes (the handshake runs on the
 * worker pool), so more loops than cores add thread switches and no
 * throughput (4 loops on 2 cores were no faster than 2), while each loop
 * fewer leaves the others more connections, and lws's per-context costs
 * (its sorted timeout list, its descriptor-table scans) grow with the
 * connections of one context. At most 8: each loop is one more lws
 * context to create (and its descriptor table to allocate). */
unsigned gw_config_loops(const gw_config_t *cfg)
{
    long n;

    if (cfg->loops > 0)
        return cfg->loops;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static int parse_u64(const char *s, unsigned long long min,
                     unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-' || *s == '+')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int bad(FILE *err, const char *opt, const char *val, const char *want)
{
    fprintf(err, "wsrace-gateway: %s: invalid value '%s' (%s)\n", opt,
            val ? val : "", want);
    return 2;
}

/* Parses one POINT:ACTION spec into cfg. where names its origin in
 * messages ("--sync", "FILE:LINE"). Returns 0 or -1 after a message. */
static int add_sync(gw_config_t *cfg, const char *spec, const char *where,
                    FILE *err)
{
    char msg[256];

    if (cfg->nsync == GW_MAX_SYNC_SPECS) {
        fprintf(err, "wsrace-gateway: %s: more than %d sync actions\n", where,
                GW_MAX_SYNC_SPECS);
        return -1;
    }
    if (wsr_sync_parse(spec, &cfg->sync_specs[cfg->nsync], msg, sizeof(msg))) {
        fprintf(err, "wsrace-gateway: %s: %s\n", where, msg);
        return -1;
    }
    cfg->nsync++;
    return 0;
}

/* One POINT:ACTION per line; blank lines and '#' comments are skipped. */
static int read_sync_file(gw_config_t *cfg, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    char line[512], where[600];
    unsigned lineno = 0;
    int rc = 0;

    if (!f) {
        fprintf(err, "wsrace-gateway: --sync-file: cannot open '%s': %s\n",
                path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *p = line, *end;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(err, "wsrace-gateway: %s:%u: line too long\n", path,
                    lineno);
            rc = -1;
            break;
        }
        if ((end = strchr(p, '#')))
            *end = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && strchr(" \t\r\n", end[-1]))
            *--end = '\0';
        if (!*p)
            continue;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        rc = add_sync(cfg, p, where, err);
    }
    fclose(f);
    return rc;
}

/* "memory", or "redis://HOST:PORT" into redis_host and redis_port.
 * Returns 0 or -EINVAL. */
static int parse_registry(gw_config_t *cfg, const char *val)
{
    const char *host, *colon;
    unsigned long long port;

    if (strcmp(val, "memory") == 0) {
        cfg->redis_host[0] = '\0';
        cfg->redis_port = 0;
        return 0;
    }
    if (strncmp(val, "redis://", 8) != 0)
        return -EINVAL;
    host = val + 8;
    colon = strrchr(host, ':');
    if (!colon || colon == host ||
        (size_t)(colon - host) >= sizeof(cfg->redis_host) ||
        parse_u64(colon + 1, 1, 65535, &port) != 0)
        return -EINVAL;
    snprintf(cfg->redis_host, sizeof(cfg->redis_host), "%.*s",
             (int)(colon - host), host);
    cfg->redis_port = (int)port;
    return 0;
}

int gw_config_parse(gw_config_t *cfg, int argc, char **argv, FILE *err)
{
    const char *env = getenv("WSRACE_SECRET");
    char msg[256];
    int i = 1;

    memset(cfg, 0, sizeof(*cfg));
    cfg->command = GW_CMD_SERVE;
    strcpy(cfg->host, "127.0.0.1");
    cfg->port = 8765;
    cfg->workers = 16;
    cfg->seed = 1;
    cfg->max_message = 65536;
    cfg->max_queue = 32;
    cfg->max_connections = 20000;
    cfg->max_send_queue = 4u << 20;
    cfg->handshake_timeout_s = 10;
    cfg->session_hold_s = 60;
    cfg->ticket_ttl_s = 30;
    cfg->lifeline_fd = -1;
    cfg->instance_id = -1;
    cfg->registry_ttl_ms = 3000;
    cfg->token_ttl = 3600;
    if (env && *env && strlen(env) < sizeof(cfg->secret)) {
        strcpy(cfg->secret, env);
    } else {
        strcpy(cfg->secret, GW_DEV_SECRET);
        cfg->secret_is_default = 1;
    }
    if (argc > 1 && strcmp(argv[1], "token") == 0) {
        cfg->command = GW_CMD_TOKEN;
        i = 2;
    }
    for (; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v;
        int takes = 1;

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            cfg->command = GW_CMD_HELP;
            return 0;
        } else if (strcmp(opt, "--version") == 0) {
            cfg->command = GW_CMD_VERSION;
            return 0;
        } else if (strcmp(opt, "--list-faults") == 0) {
            cfg->command = GW_CMD_LIST_FAULTS;
            return 0;
        } else if (strcmp(opt, "--list-sync-points") == 0) {
            cfg->command = GW_CMD_LIST_SYNC_POINTS;
            return 0;
        }
        if (!val) {
            fprintf(err, "wsrace-gateway: %s needs a value (see --help)\n",
                    opt);
            return 2;
        }
        if (strcmp(opt, "--secret") == 0) {
            if (!*val || strlen(val) >= sizeof(cfg->secret))
                return bad(err, opt, val, "1..255 bytes");
            strcpy(cfg->secret, val);
            cfg->secret_is_default = 0;
        } else if (cfg->command == GW_CMD_TOKEN && strcmp(opt, "--user") == 0) {
            if (!*val || strlen(val) >= 128)
                return bad(err, opt, val, "1..127 bytes");
            cfg->token_user = val;
        } else if (cfg->command == GW_CMD_TOKEN && strcmp(opt, "--ttl") == 0) {
            char *end;
            errno = 0;
            cfg->token_ttl = strtoll(val, &end, 10);
            if (errno || *end || !*val || cfg->token_ttl > GW_TOKEN_TTL_MAX ||
                cfg->token_ttl < -GW_TOKEN_TTL_MAX)
                return bad(err, opt, val,
                           "seconds within 100 years, negative for an "
                           "expired token");
        } else if (cfg->command == GW_CMD_TOKEN) {
            fprintf(err, "wsrace-gateway token: unknown option '%s'\n", opt);
            return 2;
        } else if (strcmp(opt, "--host") == 0) {
            if (!*val || strlen(val) >= sizeof(cfg->host))
                return bad(err, opt, val, "an address such as 127.0.0.1");
            strcpy(cfg->host, val);
        } else if (strcmp(opt, "--port") == 0) {
            if (parse_u64(val, 0, 65535, &v))
                return bad(err, opt, val, "0..65535");
            cfg->port = (int)v;
        } else if (strcmp(opt, "--inject") == 0) {
            if (wsr_faults_parse(&cfg->faults, val, msg, sizeof(msg))) {
                fprintf(err, "wsrace-gateway: --inject: %s\n", msg);
                return 2;
            }
        } else if (strcmp(opt, "--sync") == 0) {
            if (add_sync(cfg, val, "--sync", err))
                return 2;
        } else if (strcmp(opt, "--sync-file") == 0) {
            if (read_sync_file(cfg, val, err))
                return 2;
        } else if (strcmp(opt, "--sync-control") == 0) {
            if (!*val)
                return bad(err, opt, val, "a Unix socket path");
            cfg->sync_control = val;
        } else if (strcmp(opt, "--trace") == 0) {
            if (!*val)
                return bad(err, opt, val, "a file path");
            cfg->trace_path = val;
        } else if (strcmp(opt, "--workers") == 0) {
            if (parse_u64(val, 1, 1024, &v))
                return bad(err, opt, val, "1..1024");
            cfg->workers = (unsigned)v;
        } else if (strcmp(opt, "--loops") == 0) {
            if (parse_u64(val, 1, GW_LOOPS_MAX, &v))
                return bad(err, opt, val, "1..64");
            cfg->loops = (unsigned)v;
        } else if (strcmp(opt, "--service-latency") == 0) {
            if (parse_u64(val, 0, 600000, &v))
                return bad(err, opt, val, "milliseconds 0..600000");
            cfg->service_latency_ms = (unsigned)v;
        } else if (strcmp(opt, "--seed") == 0) {
            if (parse_u64(val, 0, UINT64_MAX, &v))
                return bad(err, opt, val, "an unsigned 64-bit number");
            cfg->seed = v;
        } else if (strcmp(opt, "--max-message") == 0) {
            if (parse_u64(val, 64, 64u << 20, &v))
                return bad(err, opt, val, "bytes 64..67108864");
            cfg->max_message = (size_t)v;
        } else if (strcmp(opt, "--max-queue") == 0) {
            if (parse_u64(val, 0, 100000, &v))
                return bad(err, opt, val, "0..100000");
            cfg->max_queue = (unsigned)v;
        } else if (strcmp(opt, "--max-connections") == 0) {
            if (parse_u64(val, 0, 1000000, &v))
                return bad(err, opt, val, "0..1000000");
            cfg->max_connections = (unsigned)v;
        } else if (strcmp(opt, "--max-send-queue") == 0) {
            if (parse_u64(val, 0, 1ull << 32, &v) || (v && v < 4096))
                return bad(err, opt, val, "0, or bytes 4096..4294967296");
            cfg->max_send_queue = (size_t)v;
        } else if (strcmp(opt, "--handshake-timeout") == 0) {
            if (parse_u64(val, 1, 3600, &v))
                return bad(err, opt, val, "seconds 1..3600");
            cfg->handshake_timeout_s = (unsigned)v;
        } else if (strcmp(opt, "--session-hold") == 0) {
            if (parse_u64(val, 0, 86400, &v))
                return bad(err, opt, val, "seconds 0..86400");
            cfg->session_hold_s = (unsigned)v;
        } else if (strcmp(opt, "--ticket-ttl") == 0) {
            if (parse_u64(val, 1, 3600, &v))
                return bad(err, opt, val, "seconds 1..3600");
            cfg->ticket_ttl_s = (unsigned)v;
        } else if (strcmp(opt, "--lifeline") == 0) {
            if (parse_u64(val, 3, 65535, &v))
                return bad(err, opt, val, "a descriptor number 3..65535");
            cfg->lifeline_fd = (int)v;
        } else if (strcmp(opt, "--registry") == 0) {
            if (parse_registry(cfg, val) != 0)
                return bad(err, opt, val, "memory or redis://HOST:PORT");
        } else if (strcmp(opt, "--instance-id") == 0) {
            if (parse_u64(val, 0, GW_INSTANCE_MAX, &v))
                return bad(err, opt, val, "0..65535");
            cfg->instance_id = (int)v;
        } else if (strcmp(opt, "--incarnation") == 0) {
            if (parse_u64(val, 0, GW_INCARNATION_MAX, &v))
                return bad(err, opt, val, "0..255");
            cfg->incarnation = (unsigned)v;
        } else if (strcmp(opt, "--registry-ttl") == 0) {
            if (parse_u64(val, 100, 600000, &v))
                return bad(err, opt, val, "milliseconds 100..600000");
            cfg->registry_ttl_ms = (unsigned)v;
        } else {
            fprintf(err, "wsrace-gateway: unknown option '%s' (see --help)\n",
                    opt);
            return 2;
        }
        i += takes;
    }
    if (cfg->command == GW_CMD_SERVE && cfg->redis_port == 0) {
        int f = wsr_faults_cluster_only(&cfg->faults);

        if (f >= 0) {
            fprintf(err,
                    "wsrace-gateway: --inject %s: a fault of a cluster; it "
                    "needs --registry redis://HOST:PORT (this gateway keeps "
                    "its registry in process)\n",
                    wsr_fault_name((wsr_fault_id_t)f));
            return 2;
        }
    }
    if (cfg->command == GW_CMD_TOKEN && !cfg->token_user) {
        fprintf(err, "wsrace-gateway token: --user is required\n");
        return 2;
    }
    return 0;
}
