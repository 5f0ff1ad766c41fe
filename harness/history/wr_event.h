/* wr_event.h - One event of a case's history as the checkers read it:
 * the fields they judge, strings interned by the history that holds the
 * event (equal strings are one pointer there).
 *
 * Sources and their events:
 *   gateway  the trace of wsrace-gateway, unchanged ("registry.register",
 *            "machine.transition", "welcome.sent", ...; see README "Trace").
 *   client   Jepsen-style operations of scenario clients. "type" is
 *            invoke | ok | fail | info:
 *              client.connect      invoke  session, user, token
 *              client.established  ok      connection_id (as key),
 *                                          connection_ready
 *              client.connect      fail    code (HTTP status or -1), error
 *              client.send         invoke  msg_type, correlation_id
 *              client.recv         info    msg_type, correlation_id, key
 *                                          (data.connection_id if any), code
 *                                          (error code text in "error")
 *              client.closed       info    code (1006 when no close frame),
 *                                          by ("peer" | "client" | "transport")
 *              client.expect       ok|fail msg_type, within_ms
 *              client.probe        invoke  key (the request, before
 *                                          it is sent)
 *              client.probe        ok|fail key, registered, ready
 *              client.barrier      info    name
 *            The session of client.connect may be given as "session" or
 *            as "key"; it is read into `key` either way. The runner may
 *            also record client.close invoke (the client starts a close):
 *            checkers then know exactly when a client stopped using its
 *            connection.
 *   harness  target.start (ns at /healthz ok), target.exit (code, sig,
 *            stopped: false when it died on its own),
 *            target.registry (count: entries left after every client closed;
 *            keys in "keys"), case.end. A cluster's events carry
 *            "instance"; the nemesis steps add instance.kill,
 *            instance.restart, instance.pause and instance.resume, and the
 *            registry's log in Redis adds one redis.op per operation (rseq,
 *            op, key, instance, conn, result), beside its trace event.
 *
 */
#ifndef WR_EVENT_H
#define WR_EVENT_H

#include <stdint.h>

struct wr_history;

typedef enum {
    WR_SRC_GATEWAY,
    WR_SRC_CLIENT,
    WR_SRC_HARNESS,
} wr_src_t;

/* One event. Interned string fields are NULL when absent; small integer
 * flags are -1 when absent. */
typedef struct wr_event {
    int64_t ns;         /* CLOCK_MONOTONIC ns, shared by gateway and harness */
    uint64_t seq;       /* gateway trace seq; 0 for client and harness events */
    uint64_t conn;      /* gateway connection id; 0 when none or unknown */
    int client;         /* scenario client index; -1 when none */
    wr_src_t src;       /* who recorded it */
    const char *event;  /* "registry.rekey", "client.recv", ... */
    const char *type;   /* client op type: invoke|ok|fail|info */
    const char *key;    /* registry key / session / probed id */
    const char *result; /* created|duplicate|existing|moved|ok|... */
    const char *from, *to;      /* transition states or rekey keys */
    const char *state;          /* machine state carried by a rekey */
    const char *phase;          /* coordinator phase */
    const char *machine;        /* machine state seen by the event */
    const char *coordinator;    /* coordinator phase seen by the event */
    const char *handle;         /* swap.begin: endpoint|out-of-scope */
    const char *decision;       /* message.gate: process|wait|... */
    const char *correlation_id; /* message correlation id */
    const char *user;           /* user id */
    const char *msg_type;       /* wire message type (client events) */
    const char *error;          /* error code or text */
    const char *token;          /* client.connect: valid|expired|... */
    const char *by;             /* client.closed: peer|client|transport */
    const char *user_id;        /* client.recv: the user a welcome names */
    const char *why;            /* client.close, client.abandoned: reason */
    const char *step;           /* client.step_failed: the step's kind */
    int64_t count;              /* target.registry entries; -1 when absent */
    uint64_t rseq;              /* the registry operation's place in the
                                   cluster-wide order; 0 when none */
    uint64_t rafter;            /* a reading of the registry: made after
                                   that many operations; 0 when none */
    const struct wr_history *history; /* the history that holds it */
    int code;                   /* close code, exit code; -1 when absent */
    int sig;                    /* target.exit signal; 0 when none */
    int instance;               /* a cluster's gateway instance; -1 when
                                   absent (a lone gateway) */
    unsigned chain;             /* gateway events: which trace file (its
                                   seq numbers are its own) */
    int line_no;                /* client.step_failed: scenario line; 0 */
    uint32_t index;             /* its position in its history */
    int8_t linked;              /* coordinator.phase linked */
    int8_t connection_ready;    /* welcome flag */
    int8_t ready, registered;   /* debug.ready / client.probe answer */
    int8_t stopped;             /* target.exit: the harness stopped it */
} wr_event_t;

/* "gateway" | "client" | "harness", as a line's "src" member says. */
static inline const char *wr_src_name(wr_src_t src)
{
    return src == WR_SRC_CLIENT    ? "client"
           : src == WR_SRC_HARNESS ? "harness"
                                   : "gateway";
}

#endif
