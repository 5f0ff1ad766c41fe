/* fuzz_client_msg.c - The client message parser (gw_proto.c) and the
 * connection's dispatcher (gw_conn_on_message: format errors, pings,
 * unknown types, user_messages queued before ready, the queue's bound)
 * on any frame, with the real worker pool and registry behind it.
 *
 * Each input is parsed, then given to a fresh connection that is not yet
 * ready, whose output is drained and which is then closed; the gateway
 * lives for the whole run, tracing to /dev/null. It has no worker pool:
 * jobs that cannot be queued run inline (the close path) or not at all
 * (the processor, which would find the connection not ready), so each
 * input runs on one thread and frees what it allocated before it returns
 * (libFuzzer scans for leaks after any input that does not). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gw_gateway.h"
#include "gw_proto.h"

static gw_gateway_t gw;

static void no_wake(void *ctx, gw_conn_t *c)
{
    (void)ctx;
    (void)c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gw_params_t p = {0};

    (void)argc;
    (void)argv;
    strcpy(p.secret, "fuzz-secret");
    p.max_queue = 4;
    p.max_send_queue = 65536;
    if (gw_gateway_init(&gw, &p, gw_trace_open("/dev/null"), NULL, 1) != 0)
        abort();
    gw_pool_free(gw.pool);
    gw.pool = NULL;
    gw.sink.wake = no_wake;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_client_msg_t m;
    char err[160];
    gw_conn_t *c;
    gw_frame_t *f;

    if (gw_client_msg_parse((const char *)data, size, &m, err, sizeof(err)) ==
        0) {
        if (!m.type || (strcmp(m.type, "user_message") == 0 && !m.content))
            abort();
        gw_client_msg_free(&m);
    }
    c = gw_conn_new(&gw, NULL, NULL);
    if (!c)
        return 0;
    gw_conn_on_message(c, (const char *)data, size);
    gw_conn_on_message(c, (const char *)data, size); /* a second, queued */
    while ((f = gw_conn_pop_frame(c)) != NULL)
        free(f);
    gw_conn_on_closed(c);
    gw_conn_unref(c);
    if (atomic_load(&gw.live) != 0)
        abort(); /* the connection outlived its last reference */
    return 0;
}
