/* wr_history.h - One case's history: what the clients did and saw, what the
 * gateway traced, and what the harness observed of the target, merged on
 * the shared monotonic clock.
 *
 * Every event is kept twice: as the JSON line it was read from or recorded
 * as (for history.jsonl and for evidence), and as a flat struct of the
 * fields the checkers read. Strings in the struct are interned in the
 * history and live as long as it does.
 *
 * Sources and their events:
 *   gateway  the trace of wsrace-gateway, unchanged ("registry.register",
 *            "machine.transition", "welcome.sent", ...; see README "Trace").
 *   client   Jepsen-style operations of scenario clients. "type" is
 *            invoke | ok | fail | info:
 *              client.connect      invoke  session, user, token
 *              client.established  ok      connection_id (as key),
 * connection_ready client.connect      fail    code (HTTP status or -1), error
 *              client.send         invoke  msg_type, correlation_id
 *              client.recv         info    msg_type, correlation_id, key
 *                                          (data.connection_id if any), code
 *                                          (error code text in "error")
 *              client.closed       info    code (1006 when no close frame),
 *                                          by ("peer" | "client" | "transport")
 *              client.expect       ok|fail msg_type, within_ms
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
 * Not thread-safe: one thread builds a history, then checkers read it. */
#ifndef WR_HISTORY_H
#define WR_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    int8_t linked;              /* coordinator.phase linked */
    int8_t connection_ready;    /* welcome flag */
    int8_t ready, registered;   /* debug.ready / client.probe answer */
    int8_t stopped;             /* target.exit: the harness stopped it */
    int code;                   /* close code, exit code; -1 when absent */
    int sig;                    /* target.exit signal; 0 when none */
    int64_t count;              /* target.registry entries; -1 when absent */
    int instance;               /* a cluster's gateway instance; -1 when
                                   absent (a lone gateway) */
    uint64_t rseq;              /* the registry operation's place in the
                                   cluster-wide order; 0 when none */
    uint64_t rafter;            /* a reading of the registry: made after
                                   that many operations; 0 when none */
    unsigned chain;             /* gateway events: which trace file (its
                                   seq numbers are its own) */
    int line_no;                /* client.step_failed: scenario line; 0 */
    char *line;                 /* the event as one JSON object, no newline */
} wr_event_t;

typedef struct wr_history wr_history_t;

/* Returns an empty history, or NULL when out of memory. */
wr_history_t *wr_history_new(void);
void wr_history_free(wr_history_t *h);

/* Parses one JSON object and appends it. Its source is the "src" member when
 * present ("gateway" | "client" | "harness"), else src. The line is kept
 * with "src" added. Returns 0, or -EINVAL when line is not a JSON object
 * with a string "event" member, -ENOMEM. */
int wr_history_add_line(wr_history_t *h, wr_src_t src, const char *line);

/* Appends every line of a gateway trace file; each file loaded is a
 * chain of its own (a cluster has one per gateway process). A torn last line (the
 * gateway died mid-write: no newline, or not a JSON object) is skipped and
 * counted in *torn when torn is not NULL; empty lines are skipped. Returns
 * the number of events added, or negative errno (-EINVAL when a line
 * before the last is not an event: the trace is corrupt, not torn, and
 * nothing of it is added). */
long wr_history_load_trace(wr_history_t *h, const char *path, int *torn);

/* Appends every line of a history.jsonl written by wr_history_write().
 * Returns the number of events added, or negative errno. */
long wr_history_load(wr_history_t *h, const char *path);

/* Orders the history on the shared clock. Gateway events keep trace (seq)
 * order among themselves, since the trace takes ns before its lock; the
 * other sources are merged in by ns. Several traces (a cluster) are merged
 * by ns, each in its own seq order, except that registry operations keep
 * the cluster's one order (rseq) across traces. Call once, after every
 * add. */
void wr_history_sort(wr_history_t *h);

size_t wr_history_len(const wr_history_t *h);
const wr_event_t *wr_history_at(const wr_history_t *h, size_t i);

/* Index of ev in h (ev must come from wr_history_at). */
size_t wr_history_index(const wr_history_t *h, const wr_event_t *ev);

/* Whether a gateway trace is part of this history: false for an external
 * target (--url), where checks that need the trace answer UNKNOWN. It is
 * also true as soon as the history holds a gateway event (the gateway's
 * first event, gateway.start, precedes anything it can do), so a history
 * read back with wr_history_load() knows it too. */
void wr_history_set_has_trace(wr_history_t *h, bool has_trace);
bool wr_history_has_trace(const wr_history_t *h);

/* Writes one event per line to path (through a temporary name and a
 * rename). Returns 0 or negative errno. */
int wr_history_write(const wr_history_t *h, const char *path);

#endif
