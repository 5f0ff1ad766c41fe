/* wr_redis.c - A private redis-server for a cluster case, and a small
 * RESP client for the commands the harness sends it.
 *
 * The port is one the kernel hands out for a socket bound to port 0 and
 * closed again; another process could take it in between, so a server
 * that exits at start is retried on a new port, a few times. Every wait is
 * bounded. Called from the runner thread (start, stop) and from any thread
 * for wr_redis_call (which shares nothing). */
#include "drive/wr_redis.h"

#include <arpa/inet.h>
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

#include "drive/wr_target.h"
#include "history/wr_clock.h"

#define START_TRIES 3

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* RESP                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    int fd;
    int64_t deadline;
    char buf[8192];
    size_t len, off;
} conn_t;

/* One more byte of the reply; -1 on error, EOF or the deadline. */
static int next_byte(conn_t *c)
{
    while (c->off == c->len) {
        int64_t left = (c->deadline - wr_now_ns()) / 1000000;
        struct pollfd p = {c->fd, POLLIN, 0};
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        n = read(c->fd, c->buf, sizeof(c->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c->len = (size_t)n;
        c->off = 0;
    }
    return (unsigned char)c->buf[c->off++];
}

/* A line up to CRLF (without it) into out (at most len - 1 bytes kept). */
static int read_line(conn_t *c, char *out, size_t len)
{
    size_t n = 0;
    int b, prev = 0;

    while ((b = next_byte(c)) >= 0) {
        if (prev == '\r' && b == '\n') {
            out[n > 0 ? n - 1 : 0] = '\0';
            return 0;
        }
        if (n + 1 < len)
            out[n++] = (char)b;
        prev = b;
    }
    return -1;
}

static json_t *read_reply(conn_t *c, int depth)
{
    char line[512];
    long long n;
    int type = next_byte(c);

    if (type < 0 || depth > 8 || read_line(c, line, sizeof(line)) != 0)
        return NULL;
    switch (type) {
    case '+':
        return json_string(line);
    case '-':
        return json_pack("{s:s}", "error", line);
    case ':':
        return json_integer(strtoll(line, NULL, 10));
    case '$': {
        char *s;
        json_t *v;

        n = strtoll(line, NULL, 10);
        if (n < 0)
            return json_null();
        if (n > (64 << 20) || (s = malloc((size_t)n + 2)) == NULL)
            return NULL;
        for (long long i = 0; i < n + 2; i++) {
            int b = next_byte(c);

            if (b < 0) {
                free(s);
                return NULL;
            }
            s[i] = (char)b;
        }
        v = json_stringn(s, (size_t)n);
        free(s);
        return v;
    }
    case '*': {
        json_t *a;

        n = strtoll(line, NULL, 10);
        if (n < 0)
            return json_null();
        a = json_array();
        for (long long i = 0; a != NULL && i < n; i++) {
            json_t *v = read_reply(c, depth + 1);

            if (v == NULL) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    }
    return NULL;
}

static int write_all(int fd, const char *p, size_t len, int64_t deadline)
{
    while (len > 0) {
        int64_t left = (deadline - wr_now_ns()) / 1000000;
        struct pollfd pf = {fd, POLLOUT, 0};
        ssize_t n;

        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -ETIMEDOUT;
        n = write(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

json_t *wr_redis_call(int port, int timeout_ms, int argc,
                      const char *const *argv)
{
    struct sockaddr_in sa = {0};
    conn_t c = {.fd = -1};
    char *req = NULL;
    size_t reqlen = 0;
    FILE *m;
    json_t *reply = NULL;

    c.deadline = wr_now_ns() + (int64_t)timeout_ms * 1000000;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((m = open_memstream(&req, &reqlen)) == NULL)
        return NULL;
    fprintf(m, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        fprintf(m, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (fclose(m) != 0)
        goto out;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c.fd < 0)
        goto out;
    if (connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        errno != EINPROGRESS)
        goto out;
    if (write_all(c.fd, req, reqlen, c.deadline) != 0)
        goto out;
    reply = read_reply(&c, 0);
out:
    if (c.fd >= 0)
        close(c.fd);
    free(req);
    return reply;
}

/* ------------------------------------------------------------------ */
/* Process                                                              */
/* ------------------------------------------------------------------ */

/* A port of 127.0.0.1 that was free a moment ago, or -1. */
static int free_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    if (fd < 0)
        return -1;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static bool reaped(wr_redis_t *r, int *status)
{
    return r->pid > 0 && waitpid(r->pid, status, WNOHANG) == r->pid;
}

/* One attempt on one port: 0, -EADDRINUSE (it exited: try another port),
 * or another negative errno. */
static int start_once(wr_redis_t *r, const char *dir, int timeout_ms)
{
    char port[16];
    const char *argv[] = {"redis-server", "--port", port, "--bind",
                          "127.0.0.1",    "--save", "",   "--appendonly",
                          "no",           "--dir",  dir,  "--daemonize",
                          "no",           NULL};
    int64_t deadline = wr_now_ns() + (int64_t)timeout_ms * 1000000;
    int logfd, status;
    pid_t pid;

    r->port = free_port();
    if (r->port <= 0) {
        snprintf(r->error, sizeof(r->error), "no free port for Redis");
        return -EADDRNOTAVAIL;
    }
    snprintf(port, sizeof(port), "%d", r->port);
    logfd = open(r->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(r->error, sizeof(r->error), "%.200s: %s", r->log_path,
                 strerror(errno));
        return -errno;
    }
    pid = fork();
    if (pid < 0) {
        close(logfd);
        snprintf(r->error, sizeof(r->error), "fork: %s", strerror(errno));
        return -errno;
    }
    if (pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        execvp(argv[0], (char *const *)argv);
        dprintf(STDERR_FILENO, "wsrace: exec redis-server: %s\n",
                strerror(errno));
        _exit(127);
    }
    close(logfd);
    r->pid = pid;
    for (;;) {
        const char *ping[] = {"PING"};
        json_t *j = wr_redis_call(r->port, 500, 1, ping);
        bool up =
            json_is_string(j) && strcmp(json_string_value(j), "PONG") == 0;

        json_decref(j);
        if (up) {
            r->up_ns = wr_now_ns();
            return 0;
        }
        if (reaped(r, &status)) {
            r->pid = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                snprintf(r->error, sizeof(r->error),
                         "redis-server is not installed (scripts/setup "
                         "installs it); see %.150s",
                         r->log_path);
                return -ENOENT;
            }
            return -EADDRINUSE;
        }
        if (wr_now_ns() >= deadline) {
            snprintf(r->error, sizeof(r->error),
                     "redis-server did not answer PING on port %d within %d "
                     "ms; see %.150s",
                     r->port, timeout_ms, r->log_path);
            wr_redis_stop(r, 1000);
            return -ETIMEDOUT;
        }
        sleep_ms(5);
    }
}

int wr_redis_start(wr_redis_t *r, const char *dir, int timeout_ms)
{
    int rc = -EADDRINUSE;

    memset(r, 0, sizeof(*r));
    if ((size_t)snprintf(r->log_path, sizeof(r->log_path), "%s/redis.log",
                         dir) >= sizeof(r->log_path)) {
        snprintf(r->error, sizeof(r->error), "case directory path too long");
        return -ENAMETOOLONG;
    }
    for (int i = 0; i < START_TRIES && rc == -EADDRINUSE; i++)
        rc = start_once(r, dir, timeout_ms);
    if (rc == -EADDRINUSE)
        snprintf(r->error, sizeof(r->error),
                 "redis-server exited at start %d times; see %.150s",
                 START_TRIES, r->log_path);
    return rc;
}

void wr_redis_stop(wr_redis_t *r, int timeout_ms)
{
    int64_t deadline = wr_now_ns() + (int64_t)timeout_ms * 1000000;
    int status;

    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    while (!reaped(r, &status)) {
        if (wr_now_ns() >= deadline) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &status, 0);
            break;
        }
        sleep_ms(2);
    }
    r->pid = 0;
}
