/* test-target.c - What the harness reads from a gateway that may not be
 * ours (wr_target.c): HTTP statuses and ports parsed whole and in range,
 * responses bounded in size, probe keys percent-encoded.
 *
 * The lying server is a forked child serving one canned response, so the
 * suite starts no thread. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drive/wr_target.h"

/* Serves `head` once, then `body_bytes` bytes of 'x' (in a child); returns
 * the port and the child's pid in *pid. */
static int serve_once(const char *head, size_t body_bytes, pid_t *pid)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(eq(int, bind(s, (struct sockaddr *)&a, sizeof(a)), 0));
    cr_assert(eq(int, listen(s, 1), 0));
    cr_assert(eq(int, getsockname(s, (struct sockaddr *)&a, &len), 0));
    *pid = fork();
    if (*pid == 0) {
        static char chunk[65536];
        int c = accept(s, NULL, NULL);
        char req[4096];

        signal(SIGPIPE, SIG_IGN);
        memset(chunk, 'x', sizeof(chunk));
        if (read(c, req, sizeof(req)) < 0)
            _exit(1);
        if (write(c, head, strlen(head)) < 0)
            _exit(1);
        while (body_bytes > 0) {
            size_t n = body_bytes < sizeof(chunk) ? body_bytes : sizeof(chunk);
            if (write(c, chunk, n) <= 0)
                break;
            body_bytes -= n;
        }
        _exit(0);
    }
    close(s);
    return ntohs(a.sin_port);
}

static int get(const char *head, size_t body_bytes, char **body)
{
    pid_t pid;
    int port = serve_once(head, body_bytes, &pid);
    int st = wr_http_get("127.0.0.1", port, "/x", 5000, body);

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return st;
}

Test(target, http_status_is_three_digits_in_range, .timeout = 20)
{
    char *body = NULL;

    cr_assert(
        eq(int, get("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, &body),
           200));
    cr_assert(eq(str, body, "ok"));
    free(body);
    cr_assert(
        eq(int,
           get("HTTP/1.1 4294967496 OK\r\nContent-Length: 0\r\n\r\n", 0, &body),
           -EPROTO));
    cr_assert(eq(int,
                 get("HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n", 0, &body),
                 -EPROTO));
    cr_assert(eq(int, get("SMTP ready\r\n\r\n", 0, &body), -EPROTO));
}

Test(target, endless_response_is_cut_at_the_bound, .timeout = 30)
{
    char *body = NULL;

    cr_assert(eq(int,
                 get("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n"
                     "\r\n",
                     (size_t)WR_HTTP_RESPONSE_MAX * 2, &body),
                 -EMSGSIZE));
    cr_assert(eq(ptr, body, NULL));
}

Test(target, ports_are_whole_and_in_range, .timeout = 10)
{
    cr_assert(eq(int, wr_parse_port("8765", -1), 8765));
    cr_assert(eq(int, wr_parse_port("65535", -1), 65535));
    cr_assert(eq(int, wr_parse_port("65536", -1), -1));
    cr_assert(eq(int, wr_parse_port("0", -1), -1));
    cr_assert(eq(int, wr_parse_port("4294967297", -1), -1));
    cr_assert(eq(int, wr_parse_port("80x", -1), -1));
    cr_assert(eq(int, wr_parse_port("-80", -1), -1));
    cr_assert(eq(int, wr_parse_port("", -1), -1));
    cr_assert(eq(int, wr_parse_port("8080\n", 4), 8080));
}

Test(target, query_values_are_percent_encoded, .timeout = 10)
{
    char out[64];

    cr_assert(eq(int, wr_url_encode("s&x=1 +%", out, sizeof(out)), 0));
    cr_assert(eq(str, out, "s%26x%3D1%20%2B%25"));
    cr_assert(eq(int, wr_url_encode("a-b.c_d~E9", out, sizeof(out)), 0));
    cr_assert(eq(str, out, "a-b.c_d~E9"));
    cr_assert(eq(int, wr_url_encode("\xff/", out, sizeof(out)), 0));
    cr_assert(eq(str, out, "%FF%2F"));
    cr_assert(eq(int, wr_url_encode("&&&", out, 9), -ENAMETOOLONG));
    cr_assert(eq(int, wr_url_encode("&&&", out, 10), 0));
}
