/* main.c - wsrace-gateway: parse the command line, start the gateway,
 * serve until SIGINT/SIGTERM (or the end of its --lifeline), shut down in
 * order.
 *
 * Threads: main (the first service loop), one thread per further loop
 * (--loops), a watch thread (a signalfd and the lifeline, in one poll), the
 * worker pool. SIGINT/SIGTERM are blocked before any thread exists, so only
 * the watch thread takes them.
 *
 * The lifeline: the harness keeps the write end of a pipe whose read end
 * it gives the gateway (--lifeline FD). When the harness dies, however
 * (SIGKILL included), the kernel closes the write end and the gateway
 * reads end of file: it stops as on SIGTERM, and dies by SIGALRM if the
 * orderly stop takes more than LIFELINE_GRACE_S. Unlike PR_SET_PDEATHSIG,
 * which covers only the direct child, this reaches a gateway started under
 * a wrapper that forks (docs/DESIGN.md, "Limits"). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "gw_config.h"
#include "gw_gateway.h"
#include "gw_server.h"
#include "wsr_token.h"

#ifndef WSRACE_VERSION
#define WSRACE_VERSION "0.0.0"
#endif

#define LIFELINE_GRACE_S 10 /* an orderly stop after the lifeline ends */

static _Atomic bool stop;

typedef struct {
    sigset_t set;
    int sigfd;    /* signalfd of set */
    int lifeline; /* read end of the harness's pipe, or -1 */
    gw_server_t *server;
} sigctx_t;

/* Waits for SIGINT/SIGTERM or the end of the lifeline, then stops the
 * service loop. */
static void *watch_main(void *arg)
{
    sigctx_t *sc = arg;
    struct pollfd p[2] = {{sc->sigfd, POLLIN, 0}, {sc->lifeline, POLLIN, 0}};
    nfds_t n = sc->lifeline >= 0 ? 2 : 1;

    for (;;) {
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break; /* a signal */
        if (n == 2 && p[1].revents) {
            char buf[64];
            ssize_t r = read(sc->lifeline, buf, sizeof(buf));

            if (r > 0 || (r < 0 && errno == EINTR))
                continue; /* bytes mean nothing; only the end counts */
            fprintf(stderr, "wsrace-gateway: the lifeline ended (the "
                            "harness is gone): stopping\n");
            alarm(LIFELINE_GRACE_S); /* SIGALRM ends a stop that hangs */
            break;
        }
    }
    atomic_store(&stop, true);
    gw_server_interrupt(sc->server);
    return NULL;
}

static int cmd_token(const gw_config_t *cfg)
{
    char tok[WSR_TOKEN_MAX];
    /* |token_ttl| <= GW_TOKEN_TTL_MAX (gw_config.c): no overflow. */
    int n =
        wsr_token_sign(cfg->secret, cfg->token_user,
                      (int64_t)time(NULL) + cfg->token_ttl, tok, sizeof(tok));

    if (n < 0) {
        fprintf(stderr, "wsrace-gateway token: cannot sign: %s\n",
                strerror(-n));
        return 1;
    }
    puts(tok);
    return 0;
}

/* One line per fault of the catalog: its id, what it changes and its
 * modes (the first is the default). */
static void list_faults(void)
{
    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);

        printf("%-24s %s", f->name, f->summary);
        for (int m = 0; m < WSR_FAULT_MODES_MAX && f->modes[m]; m++)
            printf("%s%s", m ? ", " : " (modes: ", f->modes[m]);
        printf("%s\n", f->modes[0] ? ")" : "");
    }
}

static void list_sync_points(void)
{
    for (int i = 0; i < WSR_SP__COUNT; i++)
        printf("%-20s %s\n", wsr_sync_point_name((wsr_sync_point_t)i),
               wsr_sync_point_summary((wsr_sync_point_t)i));
}

/* lws sizes its tables from the descriptor limit: raise the soft limit
 * towards the hard one (at most 65536, as each slot costs table memory), so
 * thousands of connections need no ulimit by hand. */
static void raise_fd_limit(void)
{
    const rlim_t want = 65536;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static int serve(const gw_config_t *cfg)
{
    gw_trace_t *trace = NULL;
    gw_sync_t *sync = NULL;
    gw_server_t *server = NULL;
    gw_gateway_t gw;
    gw_params_t params = {0};
    gw_server_opts_t opts = {cfg->host, cfg->port, cfg->max_message,
                             gw_config_loops(cfg),
                             cfg->handshake_timeout_s};
    pthread_t sig_tid;
    sigctx_t sc = {.sigfd = -1, .lifeline = -1};
    char err[256], faults[256], syncs[1024];
    const char *control;
    int port = 0, rc = 3;

    if (cfg->lifeline_fd >= 0 && fcntl(cfg->lifeline_fd, F_GETFD) < 0) {
        fprintf(stderr, "wsrace-gateway: --lifeline: descriptor %d is not "
                        "open\n",
                cfg->lifeline_fd);
        return 2;
    }
    if (cfg->lifeline_fd >= 0)
        fcntl(cfg->lifeline_fd, F_SETFD, FD_CLOEXEC);
    if (cfg->trace_path && !(trace = gw_trace_open(cfg->trace_path))) {
        fprintf(stderr, "wsrace-gateway: --trace: cannot open '%s': %s\n",
                cfg->trace_path, strerror(errno));
        return 2;
    }
    sync = gw_sync_new(cfg->seed, trace);
    if (!sync)
        goto out;
    for (unsigned i = 0; i < cfg->nsync; i++)
        gw_sync_apply(sync, &cfg->sync_specs[i]);
    if (gw_sync_max_rendezvous(sync) > cfg->workers) {
        fprintf(stderr,
                "wsrace-gateway: --sync: a rendezvous of %u needs --workers "
                ">= %u (have %u)\n",
                gw_sync_max_rendezvous(sync), gw_sync_max_rendezvous(sync),
                cfg->workers);
        rc = 2;
        goto out;
    }
    control = cfg->sync_control;
    if (control == NULL && getenv("WSRACE_SYNC_CONTROL") != NULL &&
        getenv("WSRACE_SYNC_CONTROL")[0] != '\0')
        control = getenv("WSRACE_SYNC_CONTROL");
    if (control != NULL) {
        /* Before any thread: the workers' hits find it attached. */
        gw_sync_control_t *ctl =
            gw_sync_control_open(control, cfg->workers, trace, err, sizeof(err));

        if (ctl == NULL) {
            fprintf(stderr, "wsrace-gateway: %s\n", err);
            rc = 2;
            goto out;
        }
        gw_sync_attach_control(sync, ctl);
    }
    if (cfg->secret_is_default)
        fprintf(stderr, "wsrace-gateway: warning: no --secret or "
                        "WSRACE_SECRET; using the development secret\n");

    params.faults = cfg->faults;
    snprintf(params.secret, sizeof(params.secret), "%s", cfg->secret);
    params.service_latency_ms = cfg->service_latency_ms;
    params.max_queue = cfg->max_queue;
    params.seed = cfg->seed;
    params.max_connections = cfg->max_connections;
    params.max_send_queue = cfg->max_send_queue;
    params.handshake_timeout_s = cfg->handshake_timeout_s;
    params.session_hold_s = cfg->session_hold_s;
    params.ticket_ttl_s = cfg->ticket_ttl_s;
    params.instance = cfg->instance_id;
    params.incarnation = cfg->incarnation;
    snprintf(params.redis_host, sizeof(params.redis_host), "%s",
             cfg->redis_host);
    params.redis_port = cfg->redis_port;
    params.registry_ttl_ms = cfg->registry_ttl_ms;
    gw_trace_set_instance(trace, cfg->instance_id);

    sigemptyset(&sc.set);
    sigaddset(&sc.set, SIGINT);
    sigaddset(&sc.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sc.lifeline = cfg->lifeline_fd;
    sc.sigfd = signalfd(-1, &sc.set, SFD_CLOEXEC);
    if (sc.sigfd < 0) {
        fprintf(stderr, "wsrace-gateway: signalfd: %s\n", strerror(errno));
        goto out;
    }

    raise_fd_limit();
    if (gw_gateway_init(&gw, &params, trace, sync, cfg->workers) != 0) {
        fprintf(stderr, "wsrace-gateway: %s\n", gw.error);
        goto out;
    }
    server = gw_server_new(&gw, &opts, &port, err, sizeof(err));
    if (!server) {
        fprintf(stderr, "wsrace-gateway: %s\n", err);
        goto stop_gateway;
    }
    sc.server = server;
    if (pthread_create(&sig_tid, NULL, watch_main, &sc) != 0) {
        fprintf(stderr, "wsrace-gateway: cannot start the watch thread\n");
        goto stop_server;
    }
    wsr_faults_format(&cfg->faults, faults, sizeof(faults));
    gw_sync_format(sync, syncs, sizeof(syncs));
    if (cfg->redis_port > 0)
        /* A cluster's instance says which registry it shares, and which
         * restart of itself it is. */
        gw_trace_emitf(
            trace, 0, NULL, "gateway.start",
            "{s:s,s:i,s:s,s:i,s:s,s:s,s:I,s:i,s:i,s:s,s:i,s:i,s:i}", "version",
            WSRACE_VERSION, "pid", (int)getpid(), "host", cfg->host, "port",
            port, "faults", faults, "sync", syncs, "seed",
            (json_int_t)cfg->seed, "workers", cfg->workers, "loops",
            (int)opts.loops, "registry", "redis", "redis_port",
            cfg->redis_port, "incarnation", (int)cfg->incarnation, "ttl_ms",
            (int)cfg->registry_ttl_ms);
    else
        gw_trace_emitf(trace, 0, NULL, "gateway.start",
                       "{s:s,s:i,s:s,s:i,s:s,s:s,s:I,s:i,s:i}", "version",
                       WSRACE_VERSION, "pid", (int)getpid(), "host", cfg->host,
                       "port", port, "faults", faults, "sync", syncs, "seed",
                       (json_int_t)cfg->seed, "workers", cfg->workers, "loops",
                       (int)opts.loops);
    fprintf(stderr, "wsrace-gateway %s: faults [%s] sync [%s]\n",
            WSRACE_VERSION, faults, syncs);
    printf("listening %s:%d\n", cfg->host, port);
    fflush(stdout);

    gw_server_run(server);

    if (!atomic_load(&stop))
        pthread_cancel(sig_tid); /* a loop failed; no signal came */
    pthread_join(sig_tid, NULL);
    rc = atomic_load(&stop) ? 0 : 3;

    /* Orderly shutdown: close every connection (wakes become no-ops), then
     * release held race windows and drain the workers, then free. */
stop_server:
    gw_server_close(server);
stop_gateway:
    gw_gateway_shutdown(&gw); /* workers drained: nobody wakes the server */
    gw_server_free(server);
    gw_trace_emit(trace, 0, NULL, "gateway.stop", NULL);
out:
    if (sc.sigfd >= 0)
        close(sc.sigfd);
    gw_sync_free(sync);
    gw_trace_close(trace);
    return rc;
}

int main(int argc, char **argv)
{
    gw_config_t cfg;
    int rc = gw_config_parse(&cfg, argc, argv, stderr);

    if (rc == 0) {
        switch (cfg.command) {
        case GW_CMD_HELP:
            gw_config_usage(stdout);
            break;
        case GW_CMD_VERSION:
            printf("wsrace-gateway %s\n", WSRACE_VERSION);
            break;
        case GW_CMD_LIST_FAULTS:
            list_faults();
            break;
        case GW_CMD_LIST_SYNC_POINTS:
            list_sync_points();
            break;
        case GW_CMD_TOKEN:
            rc = cmd_token(&cfg);
            break;
        case GW_CMD_SERVE:
            rc = serve(&cfg);
            break;
        }
    }
    return rc;
}
