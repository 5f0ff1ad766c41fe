/* wr_redis.h - The Redis server a cluster case shares, as a child process,
 * and the few commands the harness sends it.
 *
 * wr_redis_start() runs `redis-server` on a free private port of
 * 127.0.0.1 with no persistence (--save '' --appendonly no), its working
 * directory and log in the case directory, and waits (bounded) for it to
 * answer PING. The child dies with the harness (PR_SET_PDEATHSIG) and is
 * stopped by its pid. wr_redis_call() speaks RESP over a fresh loopback
 * connection, bounded by a timeout. One thread owns a server record. */
#ifndef WR_REDIS_H
#define WR_REDIS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid; /* 0 once reaped */
    int port;  /* 127.0.0.1:port */
    char log_path[PATH_MAX];
    int64_t up_ns;   /* when it first answered PING */
    char error[256]; /* why it could not start */
} wr_redis_t;

/* Starts redis-server for the case directory dir. Returns 0, or negative
 * errno with r->error saying why (not installed, did not answer within
 * timeout_ms); nothing is left running then. */
int wr_redis_start(wr_redis_t *r, const char *dir, int timeout_ms);

/* SIGTERM, then SIGKILL after timeout_ms; reaps. Safe on a stopped one. */
void wr_redis_stop(wr_redis_t *r, int timeout_ms);

/* Sends one command (argc words) to 127.0.0.1:port and returns its reply
 * as JSON: a string, an integer, null, an array of replies, or
 * {"error": TEXT} for an error reply. NULL when the server could not be
 * reached or did not answer within timeout_ms. */
json_t *wr_redis_call(int port, int timeout_ms, int argc,
                      const char *const *argv);

#endif
