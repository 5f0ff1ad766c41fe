/* wr_replay.h - replay.json: everything needed to run one case again,
 * written beside every case and read back by `wsrace replay`.
 *
 * What it holds: the scenario's whole text (the file need not exist any
 * more), the faults, the seed, the time scale, whether the sync actions
 * were dropped, the analysis tool the gateway ran under, and the verdicts
 * the case gave. The target, URL, wrapper and gateway arguments are
 * recorded for people only: a replay file is untrusted input, and nothing
 * in it picks a program to run, a command or a place to connect to (the
 * user says so on the command line). Format version 2; version 1 files
 * (no tool) are read too. Single-threaded. */
#ifndef WR_REPLAY_H
#define WR_REPLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "checks/wr_check.h"
#include "plan/wr_case.h"
#include "plan/wr_scenario.h"
#include "plan/wr_schedule.h"
#include "wsr_fault.h"

#define WR_REPLAY_VERSION 2

/* What the runner knows of a case beyond the case itself. */
typedef struct {
    const char *tool;        /* "memcheck", "asan", ...; NULL or "": none */
    double time_scale;       /* as run */
    const char *target;      /* gateway binary, NULL for --url */
    const char *url;         /* external gateway, or NULL */
    const char *wrapper;     /* --wrapper, or NULL */
    char *const *gateway_args; /* as passed, NULL-ended (may be NULL) */
    const json_t *topology; /* a cluster's instances, ports and Redis, for
                               people (NULL: a lone gateway) */
} wr_replay_ctx_t;

/* Writes path (through "<path>.tmp" and a rename). Every argument that
 * follows "--secret" is written as "<secret>". Returns 0 or negative
 * errno; on error no file is left. */
int wr_replay_write(const char *path, const wr_case_t *c,
                    const wr_replay_ctx_t *ctx);

/* A replay file read back and checked. */
typedef struct {
    int version;
    char case_id[256];
    wr_scenario_t *scenario; /* parsed from the recorded text; owned */
    wsr_faults_t faults;
    bool no_sync;
    unsigned long long seed;
    double time_scale; /* 0: not recorded */
    char tool[16];     /* "" for none */
    char url[512];     /* the external gateway it ran against, "" if ours */
    bool ran[WSR_CHECK__COUNT];
    wr_verdict_t verdicts[WSR_CHECK__COUNT]; /* of the checks that ran */
    wr_chaos_t chaos;   /* client chaos it ran with (on=false: none beyond
                           the scenario's own) */
    bool controlled;    /* its sync points were scheduled: */
    wr_schedule_t sched; /* the releases that happened, as a replay */
} wr_replay_t;

/* Reads and validates path. Returns 0, or negative errno with
 * "PATH: what is wrong" in err: -ENOENT, -EINVAL for anything that is not
 * a replay file of a version this wsrace reads, or whose fields are out
 * of range (an unknown fault or tool, a bad seed or time scale, a
 * scenario that does not load). Free with wr_replay_free. */
int wr_replay_read(const char *path, wr_replay_t *out, char *err,
                   size_t errlen);

/* wr_replay_read of a file already in memory (len bytes of buf); name is
 * used in messages. */
int wr_replay_parse(const char *name, const char *buf, size_t len,
                    wr_replay_t *out, char *err, size_t errlen);

void wr_replay_free(wr_replay_t *r);

#endif
