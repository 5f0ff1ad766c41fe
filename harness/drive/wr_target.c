/* wr_target.c - Start, watch and stop the gateway under test.
 *
 * The gateway's stdout and stderr go to one log file, which is also where
 * its `listening HOST:PORT` line is read from: a pipe would have to be
 * drained for the rest of the run or the gateway would block on it. The
 * child is made to die with the harness (PR_SET_PDEATHSIG) and gets its own
 * process group so that a terminal's ^C reaches the harness first, which
 * then stops the gateway in order. PR_SET_PDEATHSIG reaches only the
 * direct child, so the gateway also gets a lifeline: the read end of a
 * pipe (--lifeline FD) whose write end only this process holds (O_CLOEXEC
 * keeps it out of every other child). When the harness dies, however, the
 * kernel closes it and the gateway, under any wrapper, reads end of file
 * and stops. Every wait is bounded.
 *
 * Everything read from a gateway is untrusted, since --url drives one that
 * is not ours: responses are bounded in size, statuses and ports parsed
 * whole and range-checked.
 *
 * Called from the runner thread only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "drive/wr_target.h"
#include "history/wr_clock.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* HTTP over loopback                                                  */
/* ------------------------------------------------------------------ */

/* Reads until the response is complete (Content-Length, or the peer
 * closing) or the deadline. Returns bytes read, or negative errno. */
static ssize_t read_response(int fd, char **buf, int64_t deadline)
{
    size_t cap = 4096, got = 0;
    char *b = malloc(cap);

    if (b == NULL)
        return -ENOMEM;
    for (;;) {
        int64_t left = (deadline - wr_now_ns()) / 1000000;
        struct pollfd p = {fd, POLLIN, 0};
        char *hdr_end;
        ssize_t r;

        if (left <= 0) {
            free(b);
            return -ETIMEDOUT;
        }
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (cap - got < 2048) {
            char *nb;

            if (cap >= WR_HTTP_RESPONSE_MAX) {
                free(b);
                return -EMSGSIZE;
            }
            nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                return -ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        r = read(fd, b + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        b[got] = '\0';
        hdr_end = strstr(b, "\r\n\r\n");
        if (hdr_end != NULL) {
            const char *cl = strcasestr(b, "\r\ncontent-length:");
            if (cl != NULL && cl < hdr_end) {
                size_t want = strtoul(cl + 17, NULL, 10);
                if (got >= (size_t)(hdr_end + 4 - b) + want)
                    break;
            }
        }
    }
    b[got] = '\0';
    *buf = b;
    return (ssize_t)got;
}

int wr_http_get(const char *host, int port, const char *path, int timeout_ms,
                char **body)
{
    struct sockaddr_in sa = {0};
    int64_t deadline = wr_now_ns() + (int64_t)timeout_ms * 1000000;
    char req[1024], *resp = NULL, *start;
    int fd, status = -EPROTO;
    ssize_t n;

    *body = NULL;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -EINVAL;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        errno != EINPROGRESS) {
        status = -errno;
        goto out;
    }
    {
        struct pollfd p = {fd, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof(err);

        if (poll(&p, 1, timeout_ms) <= 0) {
            status = -ETIMEDOUT;
            goto out;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            status = -err;
            goto out;
        }
    }
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
             host);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        status = -EIO;
        goto out;
    }
    n = read_response(fd, &resp, deadline);
    if (n < 0) {
        status = (int)n;
        goto out;
    }
    /* "HTTP/1.x NNN ": three digits, whole (sscanf's %d overflows). */
    if (n < 13 || strncmp(resp, "HTTP/1.", 7) != 0 || resp[8] != ' ' ||
        strspn(resp + 9, "0123456789") != 3 || resp[12] != ' ' ||
        (status = atoi(resp + 9)) < 100 || status > 599) {
        status = -EPROTO;
        goto out;
    }
    start = strstr(resp, "\r\n\r\n");
    *body = strdup(start ? start + 4 : "");
    if (*body == NULL)
        status = -ENOMEM;
out:
    free(resp);
    close(fd);
    return status;
}

int wr_url_encode(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);

        if (o + (plain ? 1 : 3) >= len)
            return -ENAMETOOLONG;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (len == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return 0;
}

int wr_parse_port(const char *s, int n)
{
    int port = 0, i;

    if (n < 0)
        n = (int)strlen(s);
    if (n < 1 || n > 5)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        port = port * 10 + (s[i] - '0');
    }
    return port >= 1 && port <= 65535 ? port : -1;
}

int wr_target_parse_url(const char *url, char *host, size_t hostlen,
                        int *port, char *path, size_t pathlen)
{
    const char *p, *colon, *slash;
    char *end;
    long v;

    if (strncmp(url, "ws://", 5) != 0)
        return -EINVAL;
    p = url + 5;
    colon = strchr(p, ':');
    if (colon == NULL || colon == p || (size_t)(colon - p) >= hostlen)
        return -EINVAL;
    errno = 0;
    v = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || v < 1 || v > 65535 ||
        (*end != '\0' && *end != '/'))
        return -EINVAL;
    slash = *end == '/' ? end : "/ws";
    if (strlen(slash) >= pathlen)
        return -EINVAL;
    snprintf(host, hostlen, "%.*s", (int)(colon - p), p);
    *port = (int)v;
    snprintf(path, pathlen, "%s", slash);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Process                                                             */
/* ------------------------------------------------------------------ */

/* Closes the harness's end of the lifeline: a gateway still running then
 * stops on its own (target/main.c). */
static void lifeline_cut(wr_target_t *t)
{
    if (t->has_lifeline) {
        close(t->lifeline);
        t->has_lifeline = false;
    }
}

/* Records how the reaped child ended. */
static void record_status(wr_target_t *t, int st)
{
    t->exited = true;
    t->exit_ns = wr_now_ns();
    t->pid = 0;
    if (WIFSIGNALED(st)) {
        t->exit_code = -1;
        t->sig = WTERMSIG(st);
    } else {
        t->exit_code = WEXITSTATUS(st);
        t->sig = 0;
    }
    if (!t->stopped_by_us)
        t->state = WR_TARGET_CRASHED;
}

bool wr_target_alive(wr_target_t *t)
{
    int st;
    pid_t r;

    if (t->pid <= 0)
        return false;
    r = waitpid(t->pid, &st, WNOHANG);
    if (r == t->pid) {
        record_status(t, st);
        return false;
    }
    return r == 0;
}

/* Waits up to ms for the child to end. Returns true when it has. */
static bool wait_exit(wr_target_t *t, int ms)
{
    int64_t deadline = wr_now_ns() + (int64_t)ms * 1000000;

    while (wr_target_alive(t)) {
        if (wr_now_ns() >= deadline)
            return false;
        sleep_ms(2);
    }
    return true;
}

static bool group_gone(pid_t pgid)
{
    return kill(-pgid, 0) != 0 && errno == ESRCH;
}

void wr_target_sweep(wr_target_t *t, int timeout_ms)
{
    int64_t deadline = wr_now_ns() + (int64_t)timeout_ms * 1000000;

    if (t->pgid <= 0 || group_gone(t->pgid)) {
        lifeline_cut(t);
        return;
    }
    kill(-t->pgid, SIGTERM);
    while (!group_gone(t->pgid) && wr_now_ns() < deadline)
        sleep_ms(2);
    if (!group_gone(t->pgid))
        kill(-t->pgid, SIGKILL);
    lifeline_cut(t);
}

void wr_target_stop(wr_target_t *t, int timeout_ms)
{
    if (!wr_target_alive(t)) {
        wr_target_sweep(t, timeout_ms);
        return;
    }
    t->stopped_by_us = true;
    /* The whole group: under a wrapper that does not pass signals on
     * (GNU time), the gateway is the wrapper's child. */
    kill(-t->pgid, SIGTERM);
    if (wait_exit(t, timeout_ms)) {
        wr_target_sweep(t, timeout_ms);
        return;
    }
    t->killed = true;
    t->state = WR_TARGET_HUNG;
    snprintf(t->error, sizeof(t->error),
             "gateway did not exit within %d ms of SIGTERM; killed",
             timeout_ms);
    kill(-t->pgid, SIGKILL);
    if (!wait_exit(t, 5000)) {
        /* A process that survives SIGKILL for 5 s is stuck in the kernel;
         * leave it to init rather than block the run. */
        t->pid = 0;
    }
    lifeline_cut(t);
}

/* Finds "listening HOST:PORT" in the log. Returns true when found. */
static bool find_listening(wr_target_t *t)
{
    char buf[8192];
    int fd = open(t->log_path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    char *p;

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* "listening HOST:PORT\n", the port whole and in range (sscanf's %d
     * would overflow on a long number). */
    for (p = buf; (p = strstr(p, "listening ")) != NULL; p++) {
        const char *host = p + 10, *nl = strchr(host, '\n'),
                   *colon = nl ? memrchr(host, ':', (size_t)(nl - host)) : NULL;
        int port = colon ? wr_parse_port(colon + 1, (int)(nl - colon - 1)) : -1;

        if ((p == buf || p[-1] == '\n') && port > 0 && colon > host &&
            (size_t)(colon - host) < sizeof(t->host) &&
            !memchr(host, ' ', (size_t)(colon - host))) {
            snprintf(t->host, sizeof(t->host), "%.*s", (int)(colon - host),
                     host);
            t->port = port;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Argument lists                                                       */
/* ------------------------------------------------------------------ */

int wr_argv_push(wr_argv_t *a, const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        return -ENOMEM;
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL) {
            free(copy);
            return -ENOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return 0;
}

int wr_argv_push_int(wr_argv_t *a, const char *opt, long long v)
{
    char num[32];
    int rc = wr_argv_push(a, opt);

    snprintf(num, sizeof(num), "%lld", v);
    return rc != 0 ? rc : wr_argv_push(a, num);
}

int wr_argv_push_words(wr_argv_t *a, const char *words)
{
    const char *p = words;

    while (p != NULL && *p != '\0') {
        size_t n;
        char *w;
        int rc;

        while (*p == ' ')
            p++;
        n = strcspn(p, " ");
        if (n == 0)
            break;
        if ((w = strndup(p, n)) == NULL)
            return -ENOMEM;
        rc = wr_argv_push(a, w);
        free(w);
        if (rc != 0)
            return rc;
        p += n;
    }
    return 0;
}

void wr_argv_free(wr_argv_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

int wr_target_gateway_args(wr_argv_t *a, const wr_scenario_t *s,
                           const wsr_faults_t *faults,
                           unsigned long long seed, bool no_sync)
{
    const wr_gateway_opts_t *g = &s->gateway;
    char list[WSR_FAULTS_TEXT_MAX];
    int rc = 0;

    if (faults->mask != 0) {
        if (wsr_faults_format(faults, list, sizeof(list)) < 0)
            return -E2BIG;
        rc = wr_argv_push(a, "--inject");
        rc = rc ? rc : wr_argv_push(a, list);
    }
    for (size_t i = 0; rc == 0 && !no_sync && i < g->nsync; i++) {
        rc = wr_argv_push(a, "--sync");
        rc = rc ? rc : wr_argv_push(a, g->sync[i]);
    }
    if (rc == 0 && g->workers > 0)
        rc = wr_argv_push_int(a, "--workers", g->workers);
    if (rc == 0 && g->service_latency_ms >= 0)
        rc = wr_argv_push_int(a, "--service-latency", g->service_latency_ms);
    if (rc == 0 && g->max_queue > 0)
        rc = wr_argv_push_int(a, "--max-queue", g->max_queue);
    if (rc == 0 && g->max_connections > 0)
        rc = wr_argv_push_int(a, "--max-connections", g->max_connections);
    if (rc == 0 && g->max_message > 0)
        rc = wr_argv_push_int(a, "--max-message", g->max_message);
    return rc ? rc : wr_argv_push_int(a, "--seed", (long long)seed);
}

/* Builds argv: [wrapper words...] path --host 127.0.0.1 --port 0 --trace
 * TRACE --lifeline FD args... */
static int build_argv(const wr_target_opts_t *o, const char *trace,
                      int lifeline, wr_argv_t *a)
{
    int rc = 0;

    if (o->wrapper != NULL)
        rc = wr_argv_push_words(a, o->wrapper);
    rc = rc ? rc : wr_argv_push(a, o->path);
    rc = rc ? rc : wr_argv_push(a, "--host");
    rc = rc ? rc : wr_argv_push(a, "127.0.0.1");
    rc = rc ? rc : wr_argv_push_int(a, "--port", o->port > 0 ? o->port : 0);
    rc = rc ? rc : wr_argv_push(a, "--trace");
    rc = rc ? rc : wr_argv_push(a, trace);
    rc = rc ? rc : wr_argv_push_int(a, "--lifeline", lifeline);
    for (size_t i = 0; rc == 0 && o->args != NULL && o->args[i] != NULL; i++)
        rc = wr_argv_push(a, o->args[i]);
    return rc;
}

/* The environment of the gateway: ours, with WSRACE_SECRET set to secret
 * (when not NULL). NULL-ended, in env (free with wr_argv_free). */
static int build_env(const char *secret, wr_argv_t *env)
{
    extern char **environ;
    int rc = 0;

    for (char **e = environ; rc == 0 && e && *e; e++)
        if (!secret || strncmp(*e, "WSRACE_SECRET=", 14) != 0)
            rc = wr_argv_push(env, *e);
    if (rc == 0 && secret) {
        char *kv = malloc(strlen(secret) + 15);

        if (!kv)
            return -ENOMEM;
        sprintf(kv, "WSRACE_SECRET=%s", secret);
        rc = wr_argv_push(env, kv);
        free(kv);
    }
    return rc;
}

/* A pipe whose read end (for the gateway, at 3 or above, close-on-exec
 * until the child clears it) is in fds[0]; both ends close-on-exec. */
static int lifeline_pipe(int fds[2])
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    if (p[0] < 3) {
        int r = fcntl(p[0], F_DUPFD_CLOEXEC, 3);

        close(p[0]);
        if (r < 0) {
            close(p[1]);
            return -errno;
        }
        p[0] = r;
    }
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}

int wr_target_start(wr_target_t *t, const wr_target_opts_t *o)
{
    int rc = wr_target_spawn(t, o);

    return rc != 0 ? rc : wr_target_wait_up(t);
}

int wr_target_spawn(wr_target_t *t, const wr_target_opts_t *o)
{
    wr_argv_t argv = {0}, env = {0};
    int timeout = o->start_timeout_ms > 0 ? o->start_timeout_ms : 10000;
    int logfd, life[2] = {-1, -1};
    pid_t pid;

    memset(t, 0, sizeof(*t));
    t->state = WR_TARGET_NO_START;
    t->exit_code = -1;
    if ((size_t)snprintf(t->log_path, sizeof(t->log_path), "%s/gateway%s%s.log",
                         o->dir, o->tag ? "-" : "", o->tag ? o->tag : "") >=
            sizeof(t->log_path) ||
        (size_t)snprintf(t->trace_path, sizeof(t->trace_path),
                         "%s/trace%s%s.jsonl", o->dir, o->tag ? "-" : "",
                         o->tag ? o->tag : "") >= sizeof(t->trace_path)) {
        snprintf(t->error, sizeof(t->error), "case directory path too long");
        return -ENAMETOOLONG;
    }
    if (access(o->path, X_OK) != 0) {
        snprintf(t->error, sizeof(t->error), "gateway %s: %s", o->path,
                 strerror(errno));
        return -ENOENT;
    }
    if (lifeline_pipe(life) != 0) {
        snprintf(t->error, sizeof(t->error), "pipe: %s", strerror(errno));
        return -EMFILE;
    }
    if (build_argv(o, t->trace_path, life[0], &argv) != 0 ||
        build_env(o->secret, &env) != 0) {
        wr_argv_free(&argv);
        wr_argv_free(&env);
        close(life[0]);
        close(life[1]);
        snprintf(t->error, sizeof(t->error), "out of memory");
        return -ENOMEM;
    }
    logfd = open(t->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        int e = errno;

        wr_argv_free(&argv);
        wr_argv_free(&env);
        close(life[0]);
        close(life[1]);
        snprintf(t->error, sizeof(t->error), "%.180s: %s", t->log_path,
                 strerror(e));
        return -e;
    }
    t->spawn_ns = wr_now_ns();
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(logfd);
        close(life[0]);
        close(life[1]);
        wr_argv_free(&argv);
        wr_argv_free(&env);
        snprintf(t->error, sizeof(t->error), "fork: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        fcntl(life[0], F_SETFD, 0); /* the lifeline crosses exec */
        execvpe(argv.v[0], argv.v, env.v);
        dprintf(STDERR_FILENO, "wsrace: exec %s: %s\n", argv.v[0],
                strerror(errno));
        _exit(127);
    }
    /* The group exists when fork returns, not when the child gets to its
     * own setpgid: a stop right after the spawn (a spare that is not
     * taken) would otherwise signal no group. One of the two calls fails
     * harmlessly. */
    setpgid(pid, pid);
    close(logfd);
    close(life[0]);
    wr_argv_free(&argv);
    wr_argv_free(&env);
    t->pid = pid;
    t->pgid = pid;
    t->lifeline = life[1];
    t->has_lifeline = true;
    t->start_timeout_ms = timeout;
    return 0;
}

int wr_target_wait_up(wr_target_t *t)
{
    int timeout = t->start_timeout_ms > 0 ? t->start_timeout_ms : 10000;
    int64_t deadline = t->spawn_ns + (int64_t)timeout * 1000000;

    while (!find_listening(t)) {
        if (!wr_target_alive(t)) {
            snprintf(t->error, sizeof(t->error),
                     "gateway exited before listening (%s %d); see %.180s",
                     t->sig ? "signal" : "status",
                     t->sig ? t->sig : t->exit_code, t->log_path);
            t->state = WR_TARGET_NO_START;
            wr_target_sweep(t, 2000);
            return -ECHILD;
        }
        if (wr_now_ns() >= deadline) {
            snprintf(t->error, sizeof(t->error),
                     "no 'listening' line within %d ms; see %.180s", timeout,
                     t->log_path);
            goto fail;
        }
        sleep_ms(2);
    }
    for (;;) {
        char *body = NULL;
        int st = wr_http_get(t->host, t->port, "/healthz", 1000, &body);

        free(body);
        if (st == 200)
            break;
        if (!wr_target_alive(t) || wr_now_ns() >= deadline) {
            snprintf(t->error, sizeof(t->error),
                     "/healthz on %s:%d did not answer 200 within %d ms",
                     t->host, t->port, timeout);
            goto fail;
        }
        sleep_ms(5);
    }
    t->up_ns = wr_now_ns();
    t->state = WR_TARGET_OK;
    return 0;
fail:
    wr_target_stop(t, 2000);
    t->state = WR_TARGET_NO_START;
    return -ETIMEDOUT;
}
