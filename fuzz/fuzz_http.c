/* fuzz_http.c - The HTTP endpoints (gw_http.c) on any request, and the
 * session id rules (gw_session.c) on any id.
 *
 * Input: a flags byte (method, loopback), then lines: the path, the
 * Authorization header (empty line: none), and query arguments
 * "name=value" as lws hands them over (decoded). The last line is also
 * checked as a session id. The clock is fixed so that the seed corpus's
 * signed tokens buy tickets; the ticket table's bound keeps memory flat. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gw_http.h"
#include "gw_session.h"

#define NOW ((int64_t)1700000000)

static gw_gateway_t gw;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gw_params_t p = {0};

    (void)argc;
    (void)argv;
    strcpy(p.secret, "fuzz-secret");
    p.max_connections = 10;
    if (gw_gateway_init(&gw, &p, gw_trace_open("/dev/null"), NULL, 1) != 0)
        abort();
    gw_pool_free(gw.pool); /* one thread: nothing here queues a job */
    gw.pool = NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *args[GW_HTTP_ARGS_MAX];
    char *buf, *line, *save = NULL, *last = NULL;
    gw_http_req_t r = {0};
    size_t nlines = 0;
    json_t *a;
    int status = 0;

    if (size < 1)
        return 0;
    r.method = (gw_http_method_t)(data[0] % 3);
    r.loopback = data[0] & 4;
    if (data[0] & 8)
        r.args_error = "more than 32 query arguments";
    if (!(buf = malloc(size)))
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), nlines++) {
        if (nlines == 0)
            r.path = line;
        else if (nlines == 1)
            r.authorization = strcmp(line, "-") == 0 ? NULL : line;
        else if (r.nargs < GW_HTTP_ARGS_MAX)
            args[r.nargs++] = line;
        last = line;
    }
    r.args = args;
    a = gw_http_answer(&gw, &r, NOW, &status);
    if (a == NULL || status < 200 || status > 599)
        abort();
    free(json_dumps(a, JSON_COMPACT));
    json_decref(a);
    if (last && gw_session_id_problem(last, strlen(last)) == NULL &&
        (strlen(last) > GW_SESSION_LEN_MAX ||
         !gw_text_printable(last, strlen(last))))
        abort();
    free(buf);
    return 0;
}
