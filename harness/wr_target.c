/* wr_target.c - Start, watch and stop the gateway under test.
 *
 * The gateway's stdout and stderr go to one log file, which is also where
 * its `listening HOST:PORT` line is read from: a pipe would have to be
 * drained for the rest of the run or the gateway would block on it. The
 * child is made to die with the harness (PR_SET_PDEATHSIG) and gets its own
 * process group so that a terminal's ^C reaches the harness first, which
 * then stops the gateway in order. Every wait is bounded.
 *
 * Called from the runner thread only. */
#include <errno.h>
#include <fcntl.h>
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

#include "wr_target.h"

#define MAX_ARGS 128

int64_t wr_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
            char *nb = realloc(b, cap * 2);
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
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
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

/* ------------------------------------------------------------------ */
/* Process                                                             */
/* ------------------------------------------------------------------ */

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

    if (t->pgid <= 0 || group_gone(t->pgid))
        return;
    kill(-t->pgid, SIGTERM);
    while (!group_gone(t->pgid) && wr_now_ns() < deadline)
        sleep_ms(2);
    if (!group_gone(t->pgid))
        kill(-t->pgid, SIGKILL);
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
    for (p = buf; (p = strstr(p, "listening ")) != NULL; p++) {
        char host[64];
        int port;

        if ((p == buf || p[-1] == '\n') &&
            sscanf(p, "listening %63[^:]:%d", host, &port) == 2 &&
            strchr(p, '\n') != NULL) {
            snprintf(t->host, sizeof(t->host), "%s", host);
            t->port = port;
            return true;
        }
    }
    return false;
}

/* Builds argv: [wrapper words...] path --port 0 --trace TRACE args... */
static int build_argv(const wr_target_opts_t *o, const char *trace, char **argv,
                      char *wrapbuf, size_t wraplen)
{
    int n = 0;

    if (o->wrapper != NULL && o->wrapper[0] != '\0') {
        char *save = NULL, *w;

        snprintf(wrapbuf, wraplen, "%s", o->wrapper);
        for (w = strtok_r(wrapbuf, " ", &save); w && n < MAX_ARGS / 2;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = (char *)o->path;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--trace";
    argv[n++] = (char *)trace;
    for (size_t i = 0; o->args != NULL && o->args[i] != NULL; i++) {
        if (n >= MAX_ARGS - 1)
            return -E2BIG;
        argv[n++] = o->args[i];
    }
    argv[n] = NULL;
    return n;
}

int wr_target_start(wr_target_t *t, const wr_target_opts_t *o)
{
    char *argv[MAX_ARGS], wrapbuf[512];
    int timeout = o->start_timeout_ms > 0 ? o->start_timeout_ms : 10000;
    int64_t deadline;
    int logfd;
    pid_t pid;

    memset(t, 0, sizeof(*t));
    t->state = WR_TARGET_NO_START;
    t->exit_code = -1;
    snprintf(t->log_path, sizeof(t->log_path), "%s/gateway.log", o->dir);
    snprintf(t->trace_path, sizeof(t->trace_path), "%s/trace.jsonl", o->dir);
    if (access(o->path, X_OK) != 0) {
        snprintf(t->error, sizeof(t->error), "gateway %s: %s", o->path,
                 strerror(errno));
        return -ENOENT;
    }
    if (build_argv(o, t->trace_path, argv, wrapbuf, sizeof(wrapbuf)) < 0) {
        snprintf(t->error, sizeof(t->error), "too many gateway options");
        return -E2BIG;
    }
    logfd = open(t->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(t->error, sizeof(t->error), "%.180s: %s", t->log_path,
                 strerror(errno));
        return -errno;
    }
    t->spawn_ns = wr_now_ns();
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(logfd);
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
        execvp(argv[0], argv);
        dprintf(STDERR_FILENO, "wsrace: exec %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(logfd);
    t->pid = pid;
    t->pgid = pid;
    deadline = t->spawn_ns + (int64_t)timeout * 1000000;
    while (!find_listening(t)) {
        if (!wr_target_alive(t)) {
            snprintf(t->error, sizeof(t->error),
                     "gateway exited before listening (%s %d); see %.180s",
                     t->sig ? "signal" : "status",
                     t->sig ? t->sig : t->exit_code, t->log_path);
            t->state = WR_TARGET_NO_START;
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
