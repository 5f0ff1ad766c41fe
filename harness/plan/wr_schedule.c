/* wr_schedule.c - Schedules: names, copies, JSON both ways. The JSON
 * read back comes from files (replay.json, scenarios): every field is
 * checked. Pure; any thread. */
#include "plan/wr_schedule.h"
#include "plan/wr_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_STEPS 1000000 /* releases a schedule may hold */

static const char *const kind_names[] = {"none", "random", "pct", "replay"};

const char *wr_sched_kind_name(wr_sched_kind_t k)
{
    return (unsigned)k <= WR_SCHED_REPLAY ? kind_names[k] : "?";
}

int wr_sched_kind_from_name(const char *name)
{
    for (int k = 0; name != NULL && k <= WR_SCHED_REPLAY; k++)
        if (strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

bool wr_sched_point_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;

    if (n == 0 || n >= sizeof(((wr_sched_step_t *)0)->point))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
              p[i] == '.' || p[i] == '_' || p[i] == '-'))
            return false;
    return true;
}

int wr_schedule_copy(wr_schedule_t *dst, const wr_schedule_t *src)
{
    *dst = *src;
    dst->steps = NULL;
    if (src->nsteps == 0)
        return 0;
    dst->steps = malloc(src->nsteps * sizeof(*dst->steps));
    if (dst->steps == NULL) {
        dst->nsteps = 0;
        return -ENOMEM;
    }
    memcpy(dst->steps, src->steps, src->nsteps * sizeof(*dst->steps));
    return 0;
}

void wr_schedule_clear(wr_schedule_t *s)
{
    free(s->steps);
    memset(s, 0, sizeof(*s));
}

uint64_t wr_schedule_hash(const wr_schedule_t *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < s->nsteps; i++) {
        const wr_sched_step_t *st = &s->steps[i];
        const char *parts[2] = {st->point, st->session};

        for (int k = 0; k < 2; k++) {
            for (const char *c = parts[k]; *c; c++)
                h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
            h = (h ^ 0xff) * 0x100000001b3ULL;
        }
        h = (h ^ (uint64_t)(unsigned)st->n) * 0x100000001b3ULL;
    }
    return h;
}

json_t *wr_schedule_json(const wr_schedule_t *s)
{
    json_t *rel = json_array(), *o;

    for (size_t i = 0; rel != NULL && i < s->nsteps; i++)
        if (json_array_append_new(rel, json_pack("[s,s,i,i]",
                                                 s->steps[i].point,
                                                 s->steps[i].session,
                                                 s->steps[i].n,
                                                 s->steps[i].parked)) != 0) {
            json_decref(rel);
            return NULL;
        }
    o = json_pack("{s:s,s:I,s:i,s:i,s:i,s:o}", "strategy",
                  wr_sched_kind_name(s->kind), "seed", (json_int_t)s->seed,
                  "depth", s->depth, "expected", s->expected, "quantum_us",
                  s->quantum_us, "releases", rel);
    return o;
}

int wr_schedule_from_json(wr_schedule_t *s, json_t *j, char *err,
                          size_t errlen)
{
    json_t *rel, *r;
    long long v;
    size_t i;
    int k;

    memset(s, 0, sizeof(*s));
    if (!json_is_object(j)) {
        snprintf(err, errlen, "a schedule must be an object");
        return -EINVAL;
    }
    k = wr_sched_kind_from_name(json_string_value(json_object_get(j, "strategy")));
    if (k < 0) {
        snprintf(err, errlen, "schedule: 'strategy' must be none, random, "
                              "pct or replay");
        return -EINVAL;
    }
    s->kind = (wr_sched_kind_t)k;
    if (!wr_json_int(j, "seed", 0, INT64_MAX, 0, &v))
        goto bad_field;
    s->seed = (uint64_t)v;
    if (!wr_json_int(j, "depth", 0, 100, 1, &v))
        goto bad_field;
    s->depth = (int)v;
    if (!wr_json_int(j, "expected", 0, MAX_STEPS, 0, &v))
        goto bad_field;
    s->expected = (int)v;
    if (!wr_json_int(j, "quantum_us", 0, 10000000, 0, &v))
        goto bad_field;
    s->quantum_us = (int)v;
    rel = json_object_get(j, "releases");
    if (rel != NULL && !json_is_array(rel)) {
        snprintf(err, errlen, "schedule: 'releases' must be a list");
        return -EINVAL;
    }
    if (json_array_size(rel) > MAX_STEPS) {
        snprintf(err, errlen, "schedule: more than %d releases", MAX_STEPS);
        return -EINVAL;
    }
    if (json_array_size(rel) > 0) {
        s->steps = calloc(json_array_size(rel), sizeof(*s->steps));
        if (s->steps == NULL) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    json_array_foreach(rel, i, r)
    {
        const char *point = json_string_value(json_array_get(r, 0));
        const char *session = json_string_value(json_array_get(r, 1));
        json_t *n = json_array_get(r, 2), *pk = json_array_get(r, 3);

        if ((json_array_size(r) != 3 && json_array_size(r) != 4) ||
            (pk != NULL && (!json_is_integer(pk) ||
                            json_integer_value(pk) < 0 ||
                            json_integer_value(pk) > 100000)) ||
            !wr_sched_point_ok(point) ||
            session == NULL ||
            strlen(session) >= sizeof(s->steps[0].session) ||
            !json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > MAX_STEPS) {
            snprintf(err, errlen,
                     "schedule: release %zu must be [sync point name ([a-z0-9._-], "
                     "under 32 bytes), session of "
                     "under %zu bytes, count, and parked, 0..100000, if "
                     "given]",
                     i + 1, sizeof(s->steps[0].session));
            wr_schedule_clear(s);
            return -EINVAL;
        }
        snprintf(s->steps[i].point, sizeof(s->steps[i].point), "%s", point);
        snprintf(s->steps[i].session, sizeof(s->steps[i].session), "%s",
                 session);
        s->steps[i].n = (int)json_integer_value(n);
        s->steps[i].parked = pk ? (int)json_integer_value(pk) : 0;
        s->nsteps++;
    }
    return 0;
bad_field:
    snprintf(err, errlen, "schedule: a number is out of range (seed, depth "
                          "1..100, expected, quantum_us)");
    wr_schedule_clear(s);
    return -EINVAL;
}
