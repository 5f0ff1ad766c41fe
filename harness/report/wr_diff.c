/* wr_diff.c - Run against run, check by check. */
#include "report/wr_diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[WR_DIFF__COUNT] = {
    [WR_DIFF_NEWLY_FAILING] = "newly failing",
    [WR_DIFF_NEWLY_PASSING] = "newly passing",
    [WR_DIFF_STILL_FAILING] = "still failing",
    [WR_DIFF_EVIDENCE] = "evidence changed",
    [WR_DIFF_OTHER] = "other verdict changes",
};

const char *wr_diff_kind_name(wr_diff_kind_t k)
{
    return (unsigned)k < WR_DIFF__COUNT ? kind_names[k] : "?";
}

static const char *name_of(const wr_case_t *c)
{
    return c->scenario && c->scenario->name ? c->scenario->name : "";
}

/* Whether a and b are the same case of two runs: same scenario and seed,
 * and the same faults unless loose. */
static bool same_case(const wr_case_t *a, const wr_case_t *b, bool loose)
{
    return strcmp(name_of(a), name_of(b)) == 0 && a->seed == b->seed &&
           (loose || strcmp(a->inject, b->inject) == 0);
}

/* What a failure rests on: its sentence minus numbers that change from run
 * to run (times, ids), and the names of its evidence events. */
static void signature(const wr_check_result_t *r, char *out, size_t len)
{
    size_t used = 0;

    for (const char *p = r->summary; *p && used + 1 < len; p++)
        if (!(*p >= '0' && *p <= '9'))
            out[used++] = *p;
    out[used] = '\0';
    for (size_t e = 0; e < r->nevidence && used < len; e++)
        used += (size_t)snprintf(out + used, len - used, "|%s",
                                 r->evidence[e] && r->evidence[e]->event
                                     ? r->evidence[e]->event
                                     : "?");
}

static int add_row(wr_diff_t *d, wr_diff_kind_t kind, const wr_case_t *o,
                   const wr_case_t *n, int k, const char *was, const char *now)
{
    wr_diff_row_t *p = realloc(d->rows, (d->nrows + 1) * sizeof(*p));

    if (p == NULL)
        return -ENOMEM;
    d->rows = p;
    p = &p[d->nrows++];
    p->kind = kind;
    p->old_case = o;
    p->new_case = n;
    p->check = k;
    snprintf(p->was, sizeof(p->was), "%s", was);
    snprintf(p->now, sizeof(p->now), "%s", now);
    d->count[kind]++;
    return 0;
}

static const char *verdict_of(const wr_case_t *c, int k)
{
    return c && c->ran[k] ? wr_verdict_name(c->results[k].verdict) : "-";
}

static int compare_case(wr_diff_t *d, const wr_case_t *o, const wr_case_t *n)
{
    int rc = 0;

    for (int k = 0; rc == 0 && k < WSR_CHECK__COUNT; k++) {
        const char *was = verdict_of(o, k), *now = verdict_of(n, k);
        bool fw = strcmp(was, "FAIL") == 0, fn = strcmp(now, "FAIL") == 0;

        if (fn && !fw)
            rc = add_row(d, WR_DIFF_NEWLY_FAILING, o, n, k, was, now);
        else if (fw && strcmp(now, "PASS") == 0)
            rc = add_row(d, WR_DIFF_NEWLY_PASSING, o, n, k, was, now);
        else if (fw && fn) {
            char a[1024], b[1024];

            signature(&o->results[k], a, sizeof(a));
            signature(&n->results[k], b, sizeof(b));
            rc = add_row(d,
                         strcmp(a, b) == 0 ? WR_DIFF_STILL_FAILING
                                           : WR_DIFF_EVIDENCE,
                         o, n, k, was, now);
        } else if (strcmp(was, now) != 0 && o && n)
            rc = add_row(d, WR_DIFF_OTHER, o, n, k, was, now);
    }
    return rc;
}

int wr_diff_runs(const wr_run_t *old, const wr_run_t *nw, wr_diff_t *d)
{
    bool *used_old = calloc(old->ncases + 1, sizeof(bool));
    bool *used_new = calloc(nw->ncases + 1, sizeof(bool));
    int rc = used_old && used_new ? 0 : -ENOMEM;

    memset(d, 0, sizeof(*d));
    /* Exact partners first, then loose ones among the rest. */
    for (int loose = 0; loose < 2; loose++)
        for (size_t i = 0; rc == 0 && i < nw->ncases; i++)
            for (size_t j = 0; !used_new[i] && j < old->ncases; j++) {
                if (used_old[j] ||
                    !same_case(&old->cases[j], &nw->cases[i], loose))
                    continue;
                used_old[j] = used_new[i] = true;
                d->matched++;
                rc = compare_case(d, &old->cases[j], &nw->cases[i]);
            }
    for (size_t i = 0; rc == 0 && i < nw->ncases; i++)
        if (!used_new[i]) {
            d->only_new++;
            rc = compare_case(d, NULL, &nw->cases[i]);
        }
    for (size_t j = 0; j < old->ncases; j++)
        d->only_old += !used_old[j];
    free(used_old);
    free(used_new);
    if (rc != 0)
        wr_diff_free(d);
    return rc;
}

void wr_diff_free(wr_diff_t *d)
{
    free(d->rows);
    memset(d, 0, sizeof(*d));
}

static const char *case_label(const wr_case_t *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s inject=%s seed=%llu", name_of(c),
             c->inject[0] ? c->inject : "none", c->seed);
    return buf;
}

void wr_diff_print(const wr_diff_t *d, FILE *out)
{
    char a[400], b[400];

    fprintf(out, "%zu case(s) matched, %zu only in the old run, %zu only in "
                 "the new run\n",
            d->matched, d->only_old, d->only_new);
    for (int k = 0; k < WR_DIFF__COUNT; k++) {
        fprintf(out, "%s: %zu\n", kind_names[k], d->count[k]);
        for (size_t i = 0; i < d->nrows; i++) {
            const wr_diff_row_t *r = &d->rows[i];
            const wr_case_t *c = r->new_case ? r->new_case : r->old_case;

            if ((int)r->kind != k)
                continue;
            fprintf(out, "  %-24s %s -> %s  %s", wsr_check_name(r->check),
                    r->was, r->now, case_label(c, a, sizeof(a)));
            if (r->old_case && r->new_case &&
                strcmp(r->old_case->inject, r->new_case->inject) != 0)
                fprintf(out, " (was %s)",
                        case_label(r->old_case, b, sizeof(b)));
            fprintf(out, "\n");
            if (r->new_case && r->kind != WR_DIFF_NEWLY_PASSING &&
                r->kind != WR_DIFF_OTHER)
                fprintf(out, "      %s\n", r->new_case->results[r->check].summary);
        }
    }
}
