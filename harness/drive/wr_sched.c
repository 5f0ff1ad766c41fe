/* wr_sched.c - The scheduler of a target's sync points (wr_sched.h,
 * docs/sync-control.md).
 *
 * One thread polls the listening socket, the target connections and a
 * wake pipe. Arrivals are parked; after each event the strategy may
 * release one (or, for none, every one). Every wait is bounded: poll's
 * timeout is the time left of the quantum or of a replay's wait.
 *
 * Locks: `lock` guards everything below it in the struct; the scheduler
 * thread holds it while it handles an event and decides, the runner's
 * thread while it restarts, records or reads. Socket writes happen under
 * it too: a release is one short line to a local socket. */
#include "drive/wr_sched.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "history/wr_clock.h"

#define MAX_TARGETS    16
#define LINE_MAX_BYTES 4096
#define DEFAULT_QUANTUM_US 1000
#define DEFAULT_REPLAY_WAIT_MS 200
#define PARKED_WAIT 20 /* quanta a replay waits for the recorded company */

typedef struct {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t have;
    bool hello;
    int workers;
} target_t;

typedef struct {
    int target;  /* index in targets[] */
    uint64_t id; /* the target's arrival id */
    uint64_t conn;
    char point[32];
    char session[96];
    char key[128];
    int n;
    int64_t ns;
} parked_t;

typedef struct {
    uint64_t conn;
    int64_t prio;
} prio_t;

typedef struct {
    char point[32];
    char session[96];
    int count;
} occ_t;

/* A replay's index: which step names an arrival. */
typedef struct {
    uint64_t hash; /* 0: empty */
    size_t step;
} step_slot_t;

struct wr_sched {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lfd;
    int wake[2];
    pthread_t th;
    bool running;

    pthread_mutex_t lock; /* guards every field below */
    bool stop;
    wr_schedule_t o; /* the run's strategy, its steps owned */
    target_t targets[MAX_TARGETS];
    int ntargets;
    parked_t *parked;
    size_t nparked, capparked;
    occ_t *occ; /* arrivals so far per (point, session) */
    size_t nocc, capocc;
    prio_t *prio; /* pct: priority per connection */
    size_t nprio, capprio;
    int *change; /* pct: release counts at which priorities drop */
    int nchange;
    uint64_t rng;
    size_t released;    /* releases of this run */
    size_t replay_at;   /* replay: the next step to find */
    step_slot_t *named; /* replay: step of each (point, session, n) */
    size_t capnamed;    /* slots of named (a power of two), 0: none */
    bool *used;         /* replay: steps released ahead of their turn */
    int64_t last_ns;    /* last arrival or release */
    ino_t ino;          /* the socket file, to remove only our own */
    dev_t dev;
    int64_t wait_since; /* replay: since when the next step is awaited */
    char **lines;       /* the run's events, JSON */
    size_t nlines, caplines;
    wr_sched_step_t *sched; /* the run's releases */
    size_t nsched, capsched;
    wr_sched_stats_t st;
};

/* splitmix64 */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Grows an array of n elements of size bytes to hold one more. */
static bool grow(void **p, size_t n, size_t *cap, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return true;
    c = *cap ? *cap * 2 : 16;
    q = realloc(*p, c * size);
    if (q == NULL)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* Keeps one event of the run (fields taken). `lock` held. */
static void note(wr_sched_t *s, const char *event, json_t *o)
{
    char *line;

    if (o == NULL)
        return;
    json_object_set_new(o, "src", json_string("harness"));
    json_object_set_new(o, "event", json_string(event));
    json_object_set_new(o, "ns", json_integer(wr_now_ns()));
    line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line == NULL || !grow((void **)&s->lines, s->nlines, &s->caplines,
                              sizeof(*s->lines))) {
        free(line);
        return;
    }
    s->lines[s->nlines++] = line;
}

/* Writes o (taken) as one line to target t; a target that does not take
 * it is dropped at its next read. */
static void send_line(target_t *t, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT), *line;
    size_t len, off = 0;

    json_decref(o);
    if (text == NULL || t->fd < 0) {
        free(text);
        return;
    }
    len = strlen(text);
    line = realloc(text, len + 2);
    if (line == NULL) {
        free(text);
        return;
    }
    line[len++] = '\n';
    line[len] = '\0';
    while (off < len) {
        ssize_t w = send(t->fd, line + off, len - off, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(line);
}

/* ------------------------------------------------------------------ */
/* Strategies                                                           */
/* ------------------------------------------------------------------ */

static int64_t *prio_of(wr_sched_t *s, uint64_t conn)
{
    for (size_t i = 0; i < s->nprio; i++)
        if (s->prio[i].conn == conn)
            return &s->prio[i].prio;
    if (!grow((void **)&s->prio, s->nprio, &s->capprio, sizeof(*s->prio)))
        return NULL;
    s->prio[s->nprio].conn = conn;
    /* Initial priorities lie above every change point's (1 .. d-1). */
    s->prio[s->nprio].prio =
        (int64_t)s->o.depth + (int64_t)(next_rand(&s->rng) >> 2);
    return &s->prio[s->nprio++].prio;
}

/* FNV-1a of an arrival's name (point, session, n); never 0. */
static uint64_t arrival_hash(const char *point, const char *session, int n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[2] = {point, session};

    for (int k = 0; k < 2; k++) {
        for (const char *c = parts[k]; *c; c++)
            h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;
    }
    h = (h ^ (uint64_t)(unsigned)n) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* Indexes the replay's steps by name. `lock` held. Returns 0 or
 * -ENOMEM. */
static int index_steps(wr_sched_t *s)
{
    size_t cap = 16;

    free(s->named);
    free(s->used);
    s->named = NULL;
    s->used = NULL;
    s->capnamed = 0;
    if (s->o.kind != WR_SCHED_REPLAY || s->o.nsteps == 0)
        return 0;
    if ((s->used = calloc(s->o.nsteps, sizeof(*s->used))) == NULL)
        return -ENOMEM;
    while (cap < s->o.nsteps * 2)
        cap *= 2;
    s->named = calloc(cap, sizeof(*s->named));
    if (s->named == NULL)
        return -ENOMEM;
    s->capnamed = cap;
    for (size_t i = 0; i < s->o.nsteps; i++) {
        const wr_sched_step_t *st = &s->o.steps[i];
        uint64_t h = arrival_hash(st->point, st->session, st->n);
        size_t at = (size_t)h & (cap - 1);

        while (s->named[at].hash != 0 && s->named[at].hash != h)
            at = (at + 1) & (cap - 1);
        if (s->named[at].hash == 0) /* a name twice: the first step */
            s->named[at] = (step_slot_t){h, i};
    }
    return 0;
}

/* The step not yet passed that names p, or SIZE_MAX: an arrival no step
 * names, or only a step the replay has passed or used, is free. `lock`
 * held. */
static size_t named_step(const wr_sched_t *s, const parked_t *p)
{
    uint64_t h;
    size_t at;

    if (s->capnamed == 0)
        return SIZE_MAX;
    h = arrival_hash(p->point, p->session, p->n);
    for (at = (size_t)h & (s->capnamed - 1); s->named[at].hash != 0;
         at = (at + 1) & (s->capnamed - 1))
        if (s->named[at].hash == h) {
            size_t k = s->named[at].step;

            return k >= s->replay_at && !s->used[k] ? k : SIZE_MAX;
        }
    return SIZE_MAX;
}

/* Releases parked[i]. `lock` held. */
static void release_at(wr_sched_t *s, size_t i, const char *why)
{
    parked_t p = s->parked[i];
    wr_sched_step_t *st;

    memmove(&s->parked[i], &s->parked[i + 1],
            (s->nparked - i - 1) * sizeof(*s->parked));
    s->nparked--;
    s->released++;
    s->last_ns = wr_now_ns();
    if (grow((void **)&s->sched, s->nsched, &s->capsched, sizeof(*s->sched))) {
        st = &s->sched[s->nsched++];
        snprintf(st->point, sizeof(st->point), "%s", p.point);
        snprintf(st->session, sizeof(st->session), "%s", p.session);
        st->n = p.n;
        st->parked = (int)s->nparked + 1;
    }
    note(s, "sched.release",
         json_pack("{s:I,s:I,s:s,s:I,s:s,s:i,s:s}", "id", (json_int_t)p.id,
                   "order", (json_int_t)s->released, "point", p.point, "conn",
                   (json_int_t)p.conn, "session", p.session, "n", p.n, "why",
                   why));
    if (p.target >= 0 && p.target < s->ntargets)
        send_line(&s->targets[p.target],
                  json_pack("{s:s,s:I}", "op", "release", "id",
                            (json_int_t)p.id));
    if (s->o.kind == WR_SCHED_PCT)
        for (int c = 0; c < s->nchange; c++)
            if ((size_t)s->change[c] == s->released) {
                int64_t *pr = prio_of(s, p.conn);

                if (pr != NULL)
                    *pr = c + 1; /* below every initial priority */
            }
}

static int workers(const wr_sched_t *s)
{
    int w = 0;

    for (int i = 0; i < s->ntargets; i++)
        if (s->targets[i].fd >= 0)
            w += s->targets[i].workers > 0 ? s->targets[i].workers : 0;
    return w;
}

/* Whether nothing else can arrive before a release: every worker is
 * parked. */
static bool all_parked(const wr_sched_t *s)
{
    int w = workers(s);

    return w > 0 && (int)s->nparked >= w;
}

/* A replay: an arrival no later step names goes at once; the one the
 * next step names goes once as many arrivals are parked as when it went
 * in the recording and the target is as quiet as the recording's
 * strategy waited for (every worker parked, or nothing new for the
 * quantum), so that what ran between two releases runs so again. A step
 * whose arrival does not come while the target is idle for the replay's
 * wait (or for ten times that in all) is skipped: the run has diverged
 * there, and its arrival, if it comes later, is free. */
static int64_t decide_replay(wr_sched_t *s, int64_t now)
{
    int64_t wait_ns = (int64_t)s->o.replay_wait_ms * 1000000;

    for (;;) {
        const wr_sched_step_t *want;
        size_t i;
        bool freed = false;

        for (i = 0; i < s->nparked;)
            if (named_step(s, &s->parked[i]) == SIZE_MAX) {
                release_at(s, i, s->replay_at < s->o.nsteps ? "free"
                                                            : "beyond");
                s->st.freed++;
                freed = true;
            } else {
                i++;
            }
        if (freed)
            now = wr_now_ns();
        while (s->replay_at < s->o.nsteps && s->used[s->replay_at])
            s->replay_at++;
        if (s->replay_at >= s->o.nsteps)
            return -1;
        want = &s->o.steps[s->replay_at];
        for (i = 0; i < s->nparked; i++)
            if (s->parked[i].n == want->n &&
                strcmp(s->parked[i].point, want->point) == 0 &&
                strcmp(s->parked[i].session, want->session) == 0)
                break;
        if (s->wait_since == 0)
            s->wait_since = now;
        if (i < s->nparked) {
            /* As many parked as when it went in the recording (who else
             * had arrived is what makes a race), unless the target has
             * gone quiet without them for PARKED_WAIT quanta: an arrival
             * that late is behind something this run does in another
             * order, and waiting longer at every step would make a
             * large case too slow to pass its own bounds. */
            int64_t pw = (int64_t)s->o.quantum_us * 1000 * PARKED_WAIT;

            if ((int)s->nparked < want->parked && !all_parked(s) &&
                now - s->last_ns < pw)
                return (pw - (now - s->last_ns)) / 1000 + 1;
            if (!all_parked(s) &&
                now - s->last_ns < (int64_t)s->o.quantum_us * 1000)
                return (s->o.quantum_us * 1000LL - (now - s->last_ns)) /
                           1000 + 1;
            s->replay_at++;
            s->wait_since = 0;
            s->st.replayed++;
            release_at(s, i, "replay");
            now = wr_now_ns();
            continue;
        }
        if (all_parked(s) && s->nparked > 0) {
            /* Every worker waits here and the one the step names is not
             * among them: other connections took the workers first this
             * time. The one the schedule names soonest goes ahead of its
             * turn, and its step is used. */
            size_t best = 0, best_step = SIZE_MAX;

            for (i = 0; i < s->nparked; i++) {
                size_t k = named_step(s, &s->parked[i]);

                if (k < best_step) {
                    best_step = k;
                    best = i;
                }
            }
            if (best_step != SIZE_MAX) {
                s->used[best_step] = true;
                s->st.ahead++;
                release_at(s, best, "ahead");
                now = wr_now_ns();
                continue;
            }
        }
        if (now - s->last_ns < wait_ns && now - s->wait_since < 10 * wait_ns)
            return (wait_ns - (now - s->last_ns)) / 1000 + 1;
        /* It did not come: the run diverged at this step. */
        s->st.diverged++;
        note(s, "sched.diverged",
             json_pack("{s:I,s:s,s:s,s:i}", "step", (json_int_t)s->replay_at,
                       "point", want->point, "session", want->session, "n",
                       want->n));
        s->replay_at++;
        s->wait_since = 0;
    }
}

/* Releases what the strategy says may go now. Returns the microseconds
 * until it may have to decide again, or -1 for "when something
 * arrives". `lock` held. */
static int64_t decide(wr_sched_t *s)
{
    int64_t now = wr_now_ns();

    if (s->o.kind == WR_SCHED_NONE) {
        while (s->nparked > 0)
            release_at(s, 0, "none");
        return -1;
    }
    if (s->nparked == 0)
        return -1;
    if (s->o.kind == WR_SCHED_REPLAY)
        return decide_replay(s, now);
    /* random, pct: one release each time nothing else happened for the
     * quantum, or at once when every worker is parked. */
    if (!all_parked(s) && now - s->last_ns < (int64_t)s->o.quantum_us * 1000)
        return (s->o.quantum_us * 1000LL - (now - s->last_ns)) / 1000 + 1;
    {
        size_t pick = 0;
        const char *why = s->nparked > 1 ? "decision" : "quantum";

        if (s->nparked > 1 && s->o.kind == WR_SCHED_RANDOM) {
            pick = (size_t)(next_rand(&s->rng) % s->nparked);
        } else if (s->nparked > 1) {
            int64_t best = -1;

            for (size_t i = 0; i < s->nparked; i++) {
                int64_t *p = prio_of(s, s->parked[i].conn);

                if (p != NULL && *p > best) {
                    best = *p;
                    pick = i;
                }
            }
        }
        if (s->nparked > 1)
            s->st.decisions++;
        else
            s->st.forced++;
        release_at(s, pick, why);
    }
    return s->nparked > 0 ? s->o.quantum_us + 1 : -1;
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

static int occurrence(wr_sched_t *s, const char *point, const char *session)
{
    for (size_t i = 0; i < s->nocc; i++)
        if (strcmp(s->occ[i].point, point) == 0 &&
            strcmp(s->occ[i].session, session) == 0)
            return s->occ[i].count++;
    if (!grow((void **)&s->occ, s->nocc, &s->capocc, sizeof(*s->occ)))
        return 0;
    snprintf(s->occ[s->nocc].point, sizeof(s->occ[0].point), "%s", point);
    snprintf(s->occ[s->nocc].session, sizeof(s->occ[0].session), "%s",
             session);
    s->occ[s->nocc].count = 1;
    s->nocc++;
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v ? v : "";
}

/* One line from target t. `lock` held. */
static void handle(wr_sched_t *s, int t, const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *op = jstr(o, "op");
    target_t *tg = &s->targets[t];

    if (strcmp(op, "hello") == 0) {
        if (strcmp(jstr(o, "protocol"), "wsrace-sync") == 0) {
            tg->hello = true;
            tg->workers = (int)json_integer_value(json_object_get(o, "workers"));
            s->st.targets++;
            send_line(tg, json_pack("{s:s,s:s,s:i}", "op", "hello",
                                    "protocol", "wsrace-sync", "version", 1));
        }
    } else if (strcmp(op, "arrive") == 0 && tg->hello &&
               json_is_integer(json_object_get(o, "id")) &&
               (!wr_sched_point_ok(jstr(o, "point")) ||
                strlen(jstr(o, "session")) >= sizeof(s->parked[0].session))) {
        /* Not a name a schedule can hold: let it go, say so. */
        send_line(tg, json_pack("{s:s,s:O}", "op", "release", "id",
                                json_object_get(o, "id")));
        note(s, "sched.refused",
             json_pack("{s:O,s:s}", "id", json_object_get(o, "id"), "why",
                       "a point must be 1-31 of [a-z0-9._-], a session "
                       "under 96 bytes"));
    } else if (strcmp(op, "arrive") == 0 && tg->hello &&
               json_is_integer(json_object_get(o, "id")) &&
               grow((void **)&s->parked, s->nparked, &s->capparked,
                    sizeof(*s->parked))) {
        parked_t *p = &s->parked[s->nparked++];

        memset(p, 0, sizeof(*p));
        p->target = t;
        p->id = (uint64_t)json_integer_value(json_object_get(o, "id"));
        p->conn = (uint64_t)json_integer_value(json_object_get(o, "conn"));
        snprintf(p->point, sizeof(p->point), "%s", jstr(o, "point"));
        snprintf(p->session, sizeof(p->session), "%s", jstr(o, "session"));
        snprintf(p->key, sizeof(p->key), "%s", jstr(o, "key"));
        p->n = occurrence(s, p->point, p->session);
        p->ns = wr_now_ns();
        s->last_ns = p->ns;
        s->st.arrivals++;
        note(s, "sched.arrive",
             json_pack("{s:I,s:s,s:I,s:s,s:s,s:i,s:s}", "id", (json_int_t)p->id,
                       "point", p->point, "conn", (json_int_t)p->conn, "key",
                       p->key, "session", p->session, "n", p->n, "thread",
                       jstr(o, "thread")));
    } else if (strcmp(op, "timeout") == 0) {
        uint64_t id = (uint64_t)json_integer_value(json_object_get(o, "id"));

        for (size_t i = 0; i < s->nparked; i++)
            if (s->parked[i].target == t && s->parked[i].id == id) {
                memmove(&s->parked[i], &s->parked[i + 1],
                        (s->nparked - i - 1) * sizeof(*s->parked));
                s->nparked--;
                s->st.timeouts++;
                note(s, "sched.timeout",
                     json_pack("{s:I}", "id", (json_int_t)id));
                break;
            }
    }
    json_decref(o);
}

/* Forgets target t's parked arrivals: its connection is gone. */
static void drop_target(wr_sched_t *s, int t)
{
    close(s->targets[t].fd);
    s->targets[t].fd = -1;
    for (size_t i = 0; i < s->nparked;) {
        if (s->parked[i].target == t) {
            memmove(&s->parked[i], &s->parked[i + 1],
                    (s->nparked - i - 1) * sizeof(*s->parked));
            s->nparked--;
        } else {
            i++;
        }
    }
}

static void read_target(wr_sched_t *s, int t)
{
    target_t *tg = &s->targets[t];
    ssize_t n = recv(tg->fd, tg->buf + tg->have, sizeof(tg->buf) - tg->have,
                     MSG_DONTWAIT);
    char *nl;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        drop_target(s, t);
        return;
    }
    tg->have += (size_t)n;
    while ((nl = memchr(tg->buf, '\n', tg->have)) != NULL) {
        size_t len = (size_t)(nl - tg->buf);

        handle(s, t, tg->buf, len);
        memmove(tg->buf, nl + 1, tg->have - len - 1);
        tg->have -= len + 1;
    }
    if (tg->have == sizeof(tg->buf))
        drop_target(s, t); /* a line longer than the protocol allows */
}

static void *sched_main(void *arg)
{
    wr_sched_t *s = arg;
    int64_t wait_us = -1;

    for (;;) {
        struct pollfd p[2 + MAX_TARGETS];
        int np = 0, map[2 + MAX_TARGETS];
        int timeout;

        p[np] = (struct pollfd){s->wake[0], POLLIN, 0};
        map[np++] = -2;
        p[np] = (struct pollfd){s->lfd, POLLIN, 0};
        map[np++] = -1;
        pthread_mutex_lock(&s->lock);
        if (s->stop) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        for (int t = 0; t < s->ntargets; t++)
            if (s->targets[t].fd >= 0) {
                p[np] = (struct pollfd){s->targets[t].fd, POLLIN, 0};
                map[np++] = t;
            }
        pthread_mutex_unlock(&s->lock);
        /* Bounded even when idle, so that nothing waits on a lost
         * wake-up. */
        timeout = wait_us < 0 ? 100 : (int)(wait_us / 1000) + 1;
        poll(p, (nfds_t)np, timeout);
        pthread_mutex_lock(&s->lock);
        for (int i = 0; i < np; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (map[i] == -2) {
                char b[64];

                while (read(s->wake[0], b, sizeof(b)) > 0)
                    ;
            } else if (map[i] == -1) {
                int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

                if (fd >= 0 && s->ntargets < MAX_TARGETS) {
                    target_t *t = &s->targets[s->ntargets++];

                    memset(t, 0, sizeof(*t));
                    t->fd = fd;
                } else if (fd >= 0) {
                    close(fd);
                }
            } else if (map[i] < s->ntargets && s->targets[map[i]].fd >= 0) {
                read_target(s, map[i]);
            }
        }
        wait_us = decide(s);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The API                                                              */
/* ------------------------------------------------------------------ */

/* Sets the strategy for a new run and clears the run's records. `lock`
 * held. */
static int set_opts(wr_sched_t *s, const wr_schedule_t *o)
{
    wr_schedule_t copy;

    if (wr_schedule_copy(&copy, o) != 0)
        return -ENOMEM;
    wr_schedule_clear(&s->o);
    s->o = copy;
    if (s->o.quantum_us <= 0)
        s->o.quantum_us = DEFAULT_QUANTUM_US;
    if (s->o.replay_wait_ms <= 0)
        s->o.replay_wait_ms = DEFAULT_REPLAY_WAIT_MS;
    if (s->o.depth < 1)
        s->o.depth = 1;
    s->rng = o->seed ^ 0x5c4ed5c4ed5c4edULL;
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i]);
    s->nlines = 0;
    s->nsched = 0;
    s->nocc = 0;
    s->nprio = 0;
    s->released = 0;
    s->replay_at = 0;
    s->wait_since = 0;
    s->last_ns = wr_now_ns();
    memset(&s->st, 0, sizeof(s->st));
    for (int t = 0; t < s->ntargets; t++)
        s->st.targets += s->targets[t].fd >= 0 && s->targets[t].hello;
    free(s->change);
    s->change = NULL;
    s->nchange = 0;
    if (index_steps(s) != 0)
        return -ENOMEM;
    if (s->o.kind == WR_SCHED_PCT && s->o.depth > 1) {
        int k = s->o.expected > 0 ? s->o.expected : 32;

        s->change = calloc((size_t)s->o.depth, sizeof(*s->change));
        if (s->change == NULL)
            return -ENOMEM;
        for (int c = 0; c < s->o.depth - 1; c++)
            s->change[s->nchange++] =
                1 + (int)(next_rand(&s->rng) % (uint64_t)k);
    }
    return 0;
}

static void wake(wr_sched_t *s)
{
    ssize_t n = write(s->wake[1], "w", 1);

    (void)n;
}

int wr_sched_start(wr_sched_t **out, const char *path,
                   const wr_schedule_t *o)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char tmp[sizeof(sa.sun_path)];
    wr_sched_t *s;
    struct stat st;
    bool bound = false;
    int rc;

    *out = NULL;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
        return -EEXIST;
    /* The socket is bound at a name of its own and renamed into place
     * once it listens: a target that finds the file can connect (one that
     * found a file nobody listened on would count this runner as gone and
     * run uncontrolled until it retries), and the rename replaces an old
     * socket file at once. A path too long for a suffix is bound as it
     * is. */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >=
        sizeof(tmp))
        snprintf(tmp, sizeof(tmp), "%s", path);
    if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(tmp); /* a socket file of a runner gone: nothing else */
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->lfd = -1;
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    snprintf(s->path, sizeof(s->path), "%s", path);
    memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
    if ((rc = set_opts(s, o)) != 0)
        goto fail;
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = -errno;
        goto fail;
    }
    {
        mode_t old = umask(077); /* the socket file: ours alone */

        rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        bound = rc == 0;
    }
    if (rc != 0 || listen(s->lfd, MAX_TARGETS) != 0 ||
        (strcmp(tmp, path) != 0 && rename(tmp, path) != 0)) {
        rc = -errno;
        if (bound)
            unlink(tmp);
        goto fail;
    }
    if (lstat(path, &st) == 0) {
        s->ino = st.st_ino;
        s->dev = st.st_dev;
    }
    if (pthread_create(&s->th, NULL, sched_main, s) != 0) {
        rc = -EAGAIN;
        unlink(path);
        goto fail;
    }
    s->running = true;
    *out = s;
    return 0;
fail:
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    wr_schedule_clear(&s->o);
    free(s->change);
    free(s->named);
    free(s->used);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}

int wr_sched_restart(wr_sched_t *s, const wr_schedule_t *o)
{
    int rc;

    pthread_mutex_lock(&s->lock);
    /* Whatever a former run left parked goes now. */
    while (s->nparked > 0)
        release_at(s, 0, "restart");
    rc = set_opts(s, o);
    pthread_mutex_unlock(&s->lock);
    wake(s);
    return rc;
}

void wr_sched_stop(wr_sched_t *s)
{
    struct stat st;

    if (s == NULL)
        return;
    /* The file goes before the socket closes, so that a target never
     * finds a file nobody listens on; and only while it is still ours (a
     * runner started since at the same path has renamed its own over
     * it). */
    if (lstat(s->path, &st) == 0 && st.st_ino == s->ino &&
        st.st_dev == s->dev)
        unlink(s->path);
    pthread_mutex_lock(&s->lock);
    while (s->nparked > 0)
        release_at(s, 0, "stop");
    s->stop = true;
    pthread_mutex_unlock(&s->lock);
    wake(s);
    if (s->running)
        pthread_join(s->th, NULL);
    for (int t = 0; t < s->ntargets; t++)
        if (s->targets[t].fd >= 0)
            close(s->targets[t].fd);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i]);
    free(s->lines);
    free(s->parked);
    free(s->occ);
    free(s->prio);
    free(s->change);
    free(s->sched);
    free(s->named);
    free(s->used);
    wr_schedule_clear(&s->o);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

bool wr_sched_connected(wr_sched_t *s)
{
    bool yes = false;

    pthread_mutex_lock(&s->lock);
    for (int t = 0; t < s->ntargets; t++)
        yes |= s->targets[t].fd >= 0 && s->targets[t].hello;
    pthread_mutex_unlock(&s->lock);
    return yes;
}

int wr_sched_record(wr_sched_t *s, wr_history_t *h)
{
    int rc = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nlines && rc == 0; i++)
        rc = wr_history_add_line(h, WR_SRC_HARNESS, s->lines[i]);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

size_t wr_sched_schedule(wr_sched_t *s, wr_sched_step_t **out)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->nsched;
    *out = malloc((n ? n : 1) * sizeof(**out));
    if (*out == NULL)
        n = 0;
    else if (n > 0)
        memcpy(*out, s->sched, n * sizeof(**out));
    pthread_mutex_unlock(&s->lock);
    return n;
}

void wr_sched_stats(wr_sched_t *s, wr_sched_stats_t *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->st;
    pthread_mutex_unlock(&s->lock);
}
