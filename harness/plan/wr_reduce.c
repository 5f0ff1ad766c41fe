/* wr_reduce.c - A reduction applied to a scenario's YAML tree
 * (wr_reduce.h). The tree is the one the scenario parser reads: the
 * `clients` sequence holds one mapping per group, in order, and each
 * group's `steps` one item per step, so positions map one to one. */
#include "plan/wr_reduce.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wr_yaml.h"

int wr_reduction_init(wr_reduction_t *r, const wr_scenario_t *s)
{
    memset(r, 0, sizeof(*r));
    r->ngroups = s->ngroups;
    r->keep_group = calloc(s->ngroups, sizeof(*r->keep_group));
    r->count = calloc(s->ngroups, sizeof(*r->count));
    r->nsteps = calloc(s->ngroups, sizeof(*r->nsteps));
    r->keep_step = calloc(s->ngroups, sizeof(*r->keep_step));
    r->nsync = s->gateway.nsync;
    r->keep_sync = calloc(s->gateway.nsync + 1, sizeof(*r->keep_sync));
    if (!r->keep_group || !r->count || !r->nsteps || !r->keep_step ||
        !r->keep_sync) {
        wr_reduction_clear(r);
        return -ENOMEM;
    }
    for (size_t g = 0; g < s->ngroups; g++) {
        r->keep_group[g] = true;
        r->count[g] = s->groups[g].count;
        r->nsteps[g] = s->groups[g].nsteps;
        r->keep_step[g] = calloc(s->groups[g].nsteps + 1, sizeof(bool));
        if (r->keep_step[g] == NULL) {
            wr_reduction_clear(r);
            return -ENOMEM;
        }
        for (size_t i = 0; i < s->groups[g].nsteps; i++)
            r->keep_step[g][i] = true;
    }
    for (size_t i = 0; i < r->nsync; i++)
        r->keep_sync[i] = true;
    r->chaos = s->chaos;
    r->seed_pinned = s->seed_pinned;
    r->seed = s->seed;
    if (wr_schedule_copy(&r->schedule, &s->schedule) != 0) {
        wr_reduction_clear(r);
        return -ENOMEM;
    }
    return 0;
}

int wr_reduction_copy(wr_reduction_t *dst, const wr_reduction_t *src)
{
    size_t n = src->ngroups;

    *dst = *src;
    dst->keep_group = malloc((n + 1) * sizeof(bool));
    dst->count = malloc((n + 1) * sizeof(int));
    dst->nsteps = malloc((n + 1) * sizeof(size_t));
    dst->keep_step = calloc(n + 1, sizeof(bool *));
    dst->keep_sync = malloc((src->nsync + 1) * sizeof(bool));
    dst->schedule.steps = NULL;
    dst->schedule.nsteps = 0;
    if (!dst->keep_group || !dst->count || !dst->nsteps || !dst->keep_step ||
        !dst->keep_sync || wr_schedule_copy(&dst->schedule, &src->schedule)) {
        wr_reduction_clear(dst);
        return -ENOMEM;
    }
    memcpy(dst->keep_group, src->keep_group, n * sizeof(bool));
    memcpy(dst->count, src->count, n * sizeof(int));
    memcpy(dst->nsteps, src->nsteps, n * sizeof(size_t));
    memcpy(dst->keep_sync, src->keep_sync, src->nsync * sizeof(bool));
    for (size_t g = 0; g < n; g++) {
        dst->keep_step[g] = malloc((src->nsteps[g] + 1) * sizeof(bool));
        if (dst->keep_step[g] == NULL) {
            wr_reduction_clear(dst);
            return -ENOMEM;
        }
        memcpy(dst->keep_step[g], src->keep_step[g],
               src->nsteps[g] * sizeof(bool));
    }
    return 0;
}

void wr_reduction_clear(wr_reduction_t *r)
{
    for (size_t g = 0; r->keep_step != NULL && g < r->ngroups; g++)
        free(r->keep_step[g]);
    free(r->keep_step);
    free(r->keep_group);
    free(r->count);
    free(r->nsteps);
    free(r->keep_sync);
    wr_schedule_clear(&r->schedule);
    memset(r, 0, sizeof(*r));
}

size_t wr_reduction_steps(const wr_reduction_t *r, size_t g)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nsteps[g]; i++)
        n += r->keep_step[g][i];
    return n;
}

wr_case_size_t wr_reduction_size(const wr_reduction_t *r)
{
    wr_case_size_t s = {0};

    for (size_t g = 0; g < r->ngroups; g++)
        if (r->keep_group[g]) {
            s.clients += r->count[g];
            s.steps += r->count[g] * (int)wr_reduction_steps(r, g);
        }
    for (size_t i = 0; i < r->nsync; i++)
        s.sync += r->keep_sync[i];
    s.releases = r->schedule.kind == WR_SCHED_NONE ? 0
                                                    : (int)r->schedule.nsteps;
    s.chaos = r->chaos.on;
    return s;
}

/* ------------------------------------------------------------------ */
/* The tree                                                             */
/* ------------------------------------------------------------------ */

static void drop_key(struct fy_node *map, const char *key)
{
    struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_string(map, key,
                                                                   FY_NT);

    if (p != NULL)
        fy_node_mapping_remove(map, p);
}

/* Sets map[key] to the YAML yaml (built in map's document, from a copy
 * the document keeps: its nodes point into their source text). */
static int set_key(struct fy_document *d, struct fy_node *map,
                   const char *key, const char *yaml)
{
    char *copy = strdup(yaml);
    struct fy_node *v, *k;

    if (copy == NULL)
        return -ENOMEM;
    if ((v = fy_node_build_from_malloc_string(d, copy, FY_NT)) == NULL) {
        free(copy);
        return -ENOMEM;
    }
    {
        struct fy_node_pair *p =
            fy_node_mapping_lookup_pair_by_string(map, key, FY_NT);

        /* In place when the key is there: the author's order stays. */
        if (p != NULL) {
            if (fy_node_pair_set_value(p, v) != 0) {
                fy_node_free(v);
                return -ENOMEM;
            }
            return 0;
        }
    }
    k = fy_node_create_scalar_copy(d, key, FY_NT);
    if (k == NULL || fy_node_mapping_append(map, k, v) != 0) {
        fy_node_free(k);
        fy_node_free(v);
        return -ENOMEM;
    }
    return 0;
}

/* Removes the items of seq whose keep[i] is false; n must be its count. */
static int keep_items(struct fy_node *seq, const bool *keep, size_t n)
{
    if (!fy_node_is_sequence(seq) ||
        (size_t)fy_node_sequence_item_count(seq) != n)
        return -EINVAL;
    for (size_t i = n; i-- > 0;)
        if (!keep[i]) {
            struct fy_node *item = fy_node_sequence_get_by_index(seq, (int)i);

            fy_node_free(fy_node_sequence_remove(seq, item));
        }
    return 0;
}

/* The `schedule` as YAML, one release per line ([point, "session", n,
 * parked]),
 * so that a shrunk scenario reads and diffs well; the emitter would give
 * each release four lines. */
static char *schedule_yaml(const wr_schedule_t *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fprintf(f, "strategy: %s\nseed: %llu\ndepth: %d\n",
            wr_sched_kind_name(s->kind), (unsigned long long)s->seed,
            s->depth);
    if (s->quantum_us > 0)
        fprintf(f, "quantum_us: %d\n", s->quantum_us);
    if (s->nsteps > 0) {
        fprintf(f, "releases:\n");
        for (size_t i = 0; i < s->nsteps; i++) {
            json_t *session = json_string(s->steps[i].session);
            char *q = session ? json_dumps(session, JSON_ENCODE_ANY) : NULL;

            fprintf(f, "  - [%s, %s, %d, %d]\n", s->steps[i].point,
                    q ? q : "\"\"", s->steps[i].n, s->steps[i].parked);
            free(q);
            json_decref(session);
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int apply(struct fy_document *d, struct fy_node *root,
                 const wr_reduction_t *r, char *err, size_t errlen)
{
    struct fy_node *clients = fy_node_mapping_lookup_by_string(root, "clients",
                                                               FY_NT);
    struct fy_node *gw = fy_node_mapping_lookup_by_string(root, "gateway",
                                                          FY_NT);
    char num[160];
    int rc;

    if (clients == NULL || !fy_node_is_sequence(clients) ||
        (size_t)fy_node_sequence_item_count(clients) != r->ngroups) {
        snprintf(err, errlen, "the reduction does not fit the scenario "
                              "(another number of client groups)");
        return -EINVAL;
    }
    for (size_t g = 0; g < r->ngroups; g++) {
        struct fy_node *grp = fy_node_sequence_get_by_index(clients, (int)g);
        struct fy_node *steps =
            fy_node_mapping_lookup_by_string(grp, "steps", FY_NT);

        if (!r->keep_group[g])
            continue;
        snprintf(num, sizeof(num), "%d", r->count[g]);
        if ((rc = set_key(d, grp, "count", num)) != 0)
            return rc;
        if (keep_items(steps, r->keep_step[g], r->nsteps[g]) != 0) {
            snprintf(err, errlen, "the reduction does not fit the scenario "
                                  "(group %zu has another number of steps)",
                     g + 1);
            return -EINVAL;
        }
    }
    if (keep_items(clients, r->keep_group, r->ngroups) != 0)
        return -EINVAL;
    if (gw != NULL && fy_node_is_mapping(gw) && r->nsync > 0) {
        struct fy_node *sync = fy_node_mapping_lookup_by_string(gw, "sync",
                                                                FY_NT);
        size_t kept = 0;

        for (size_t i = 0; i < r->nsync; i++)
            kept += r->keep_sync[i];
        if (kept == 0)
            drop_key(gw, "sync");
        else if (keep_items(sync, r->keep_sync, r->nsync) != 0) {
            snprintf(err, errlen, "the reduction does not fit the scenario "
                                  "(another number of sync actions)");
            return -EINVAL;
        }
    }
    drop_key(root, "chaos");
    if (r->chaos.on) {
        snprintf(num, sizeof(num),
                 "{close_percent: %d, reconnect_percent: %d, burst: %d, "
                 "probe_percent: %d}",
                 r->chaos.close_percent, r->chaos.reconnect_percent,
                 r->chaos.burst, r->chaos.probe_percent);
        if ((rc = set_key(d, root, "chaos", num)) != 0)
            return rc;
    }
    drop_key(root, "seed");
    if (r->seed_pinned) {
        snprintf(num, sizeof(num), "%llu", r->seed);
        if ((rc = set_key(d, root, "seed", num)) != 0)
            return rc;
    }
    if (r->set_exposes) {
        char list[WSR_FAULTS_TEXT_MAX + 2];

        drop_key(root, "exposes");
        if (r->exposes.mask != 0) {
            wsr_faults_format(&r->exposes, list + 1, sizeof(list) - 2);
            list[0] = '[';
            strcat(list, "]");
            if ((rc = set_key(d, root, "exposes", list)) != 0)
                return rc;
        }
    }
    if (r->name[0] && (rc = set_key(d, root, "name", r->name)) != 0)
        return rc;
    if (r->description[0]) {
        json_t *q = json_string(r->description);
        char *t = q ? json_dumps(q, JSON_ENCODE_ANY) : NULL;

        json_decref(q);
        rc = t ? set_key(d, root, "description", t) : -ENOMEM;
        free(t);
        if (rc != 0)
            return rc;
    }
    /* The schedule is written after the tree, in a form of its own. */
    drop_key(root, "schedule");
    return 0;
}

char *wr_reduce_text(const char *text, const wr_reduction_t *r,
                     const char *comment, char *err, size_t errlen)
{
    static const wr__yaml_expect_t expect = {
        .no_document = "no YAML document",
        .second_document = "a second YAML document",
        .flow_words = NULL,
    };
    wr__yaml_ctx_t ctx = {.path = "scenario", .err = err, .errlen = errlen};
    wr__yaml_doc_t doc;
    char *body, *out = NULL;
    size_t len = 0;
    FILE *f;

    if (wr__yaml_load(&ctx, text, &expect, &doc) != 0)
        return NULL;
    if (!fy_node_is_mapping(fy_document_root(doc.fyd))) {
        snprintf(err, errlen, "the scenario is not a mapping");
        wr__yaml_unload(&doc);
        return NULL;
    }
    if (apply(doc.fyd, fy_document_root(doc.fyd), r, err, errlen) != 0) {
        wr__yaml_unload(&doc);
        return NULL;
    }
    body = fy_emit_document_to_string(doc.fyd, FYECF_MODE_PRETTY |
                                                   FYECF_WIDTH_INF |
                                                   FYECF_INDENT_DEFAULT);
    wr__yaml_unload(&doc);
    if (body == NULL || (f = open_memstream(&out, &len)) == NULL) {
        free(body);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    while (comment != NULL && *comment) {
        size_t n = strcspn(comment, "\n");

        fprintf(f, "#%s%.*s\n", n ? " " : "", (int)n, comment);
        comment += n + (comment[n] == '\n');
    }
    fputs(body, f);
    free(body);
    if (r->schedule.kind != WR_SCHED_NONE) {
        char *sched = schedule_yaml(&r->schedule), *line = sched;

        fputs("schedule:\n", f);
        while (line != NULL && *line) {
            size_t n = strcspn(line, "\n");

            fprintf(f, "  %.*s\n", (int)n, line);
            line += n + (line[n] == '\n');
        }
        free(sched);
        if (sched == NULL) {
            fclose(f);
            free(out);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }
    if (fclose(f) != 0) {
        free(out);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return out;
}
