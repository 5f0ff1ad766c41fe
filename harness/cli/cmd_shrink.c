/* cmd_shrink.c - wsrace shrink FILE: a failing case, from its
 * replay.json, reduced to the smallest variant that still fails the same
 * check; written as a run whose report shows the original and the
 * shrunk case side by side, the shrunk scenario ready to commit.
 *
 * The file is untrusted, as for replay: it names a scenario, faults, a
 * seed, chaos and a schedule, never a program or an address. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "drive/wr_sched.h"
#include "drive/wr_target.h"
#include "history/wr_clock.h"
#include "plan/wr_replay.h"
#include "run/wr_run.h"
#include "run/wr_shrink.h"
#include "run/wr_store.h"
#include "plan/wr_explored.h"

enum {
    OPT_BUDGET = WR_REPLAY_OPT__NEXT,
    OPT_CONFIRM,
    OPT_CHECK,
    OPT_HELP
};

static const wr_opt_t options[] = {
    WR_REPLAY_OPTIONS,
    {"budget", OPT_BUDGET, true},
    {"confirm", OPT_CONFIRM, true},
    {"check", OPT_CHECK, true},
    {"help", OPT_HELP, false},
    {NULL, 0, false},
};

static const char usage[] =
    "usage: wsrace shrink FILE [--report-dir DIR] [--target PATH | --url "
    "URL\n"
    "                     [--sync-control PATH]] [--budget SECONDS] "
    "[--confirm N]\n"
    "                     [--check NAME] [--time-scale X] "
    "[--early-verdict]\n";

wr_status_t wr_cmd_shrink(int argc, char **argv, const wr_cli_env_t *env)
{
    char gateway[PATH_MAX], err[PATH_MAX + 512], tmpdir[PATH_MAX],
        work[PATH_MAX + 16], odir[2 * PATH_MAX], sdir[2 * PATH_MAX],
        oid[300], sid[300], name[WR_SCENARIO_NAME_MAX + 1];
    wr_run_opts_t o = {0};
    wr_shrink_opts_t so = {.budget_s = 60, .confirm = 10};
    wr_shrink_result_t res;
    wr_replay_t r;
    wr_args_t args;
    wr_run_t run;
    wr_sched_t *shared = NULL;
    wr_status_t st = WR_STATUS_OK;
    bool target_given = false, scale_given = false;
    int check = -1;

    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace shrink: %s\n%s", err, usage);
        return WR_STATUS_BAD_INPUT;
    }
    wr_cli_default_gateway(gateway, sizeof(gateway));
    o.self = env->self;
    o.gateway = gateway;
    o.report_root = "reports";
    o.argv_text = env->argv_text;
    o.stop = env->stop;
    o.secret = wr_cli_secret();
    o.time_scale = 1.0;
    for (size_t i = 0; i < args.nhits && st == WR_STATUS_OK; i++) {
        const wr_opt_hit_t *h = &args.hits[i];
        int n;

        if (wr_cli_replay_option("shrink", h, &o, &target_given,
                                 &scale_given, &st))
            continue;
        switch (h->id) {
        case OPT_BUDGET:
            if (!wr_opts_double(h->arg, 1, 86400, &so.budget_s)) {
                fprintf(stderr, "wsrace shrink: --budget wants seconds in "
                                "[1, 86400]\n");
                st = WR_STATUS_BAD_INPUT;
            }
            break;
        case OPT_CONFIRM:
            if (!wr_opts_int(h->arg, 1, 1000, &n)) {
                fprintf(stderr, "wsrace shrink: --confirm wants 1..1000\n");
                st = WR_STATUS_BAD_INPUT;
            }
            so.confirm = n;
            break;
        case OPT_CHECK:
            check = wsr_check_from_name(h->arg);
            if (check < 0) {
                fprintf(stderr, "wsrace shrink: --check: no check '%s' "
                                "(wsrace list shows them)\n",
                        h->arg);
                st = WR_STATUS_BAD_INPUT;
            }
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            wr_args_free(&args);
            return WR_STATUS_OK;
        }
    }
    st = wr_cli_open_replay("shrink", usage, st, &args, target_given, &o,
                            &r);
    if (st != WR_STATUS_OK) {
        wr_args_free(&args);
        return st;
    }
    if (r.tool[0] != '\0') {
        fprintf(stderr, "wsrace shrink: the case ran under %s; shrink a "
                        "native case (replay it under the tool afterwards)\n",
                r.tool);
        st = WR_STATUS_BAD_INPUT;
        goto out;
    }
    if (check < 0)
        check = wr_shrink_target_replay(&r);
    if (check < 0) {
        fprintf(stderr, "wsrace shrink: the recorded case failed no check; "
                        "name one with --check\n");
        st = WR_STATUS_BAD_INPUT;
        goto out;
    }
    if (!scale_given)
        o.time_scale = r.time_scale > 0 ? r.time_scale : 1.0;

    memset(&run, 0, sizeof(run));
    snprintf(run.kind, sizeof(run.kind), "shrink");
    run.seed = r.seed;
    run.explored = calloc(1, sizeof(*run.explored));
    if (run.explored == NULL) {
        st = WR_STATUS_INFRA;
        goto out;
    }
    snprintf(run.explored->strategy, sizeof(run.explored->strategy), "%s",
             r.controlled ? "replay" : "none");
    run.explored->first_seed = r.seed;
    if ((st = wr_run_open(&run, &o, tmpdir, sizeof(tmpdir))) != WR_STATUS_OK) {
        wr_run_free(&run);
        goto out;
    }
    snprintf(name, sizeof(name), "%.*s-min", WR_SCENARIO_NAME_MAX - 4,
             r.scenario->name);
    snprintf(oid, sizeof(oid), "01-%s-original-s%llu", r.scenario->name,
             r.seed);
    snprintf(sid, sizeof(sid), "02-%s", name);
    snprintf(work, sizeof(work), "%s/work", tmpdir);
    snprintf(odir, sizeof(odir), "%s/cases/%s", tmpdir, oid);
    snprintf(sdir, sizeof(sdir), "%s/cases/%s", tmpdir, sid);
    snprintf(err, sizeof(err), "%s/cases", tmpdir);
    if (wr_store_mkdirs(work) != 0 || wr_store_mkdirs(err) != 0) {
        fprintf(stderr, "wsrace shrink: cannot write in %s\n", tmpdir);
        wr_store_rm_rf(tmpdir);
        wr_run_free(&run);
        st = WR_STATUS_INFRA;
        goto out;
    }
    so.run = &o;
    so.workdir = work;
    if ((st = wr_run_listen(&o, &shared)) != WR_STATUS_OK) {
        wr_store_rm_rf(tmpdir);
        wr_run_free(&run);
        goto out;
    }
    so.shared = shared;
    printf("wsrace shrink: %s, seed %llu, check %s\n", r.scenario->name,
           r.seed, wsr_check_name((wsr_check_id_t)check));
    fflush(stdout);
    int64_t t0 = wr_now_ns();
    st = wr_shrink(&so, &r, (wsr_check_id_t)check, name, odir, oid, sdir,
                   sid, &res);
    wr_run_unlisten(&o, shared);
    wr_store_rm_rf(work);
    if (st != WR_STATUS_OK) {
        if (st == WR_STATUS_INTERRUPTED)
            fprintf(stderr, "wsrace: interrupted; no report written\n");
        wr_store_rm_rf(tmpdir);
        wr_run_free(&run);
        goto out;
    }
    {
        wr_finding_t *f = wr_explored_add_finding(run.explored);

        if (f == NULL ||
            wr_shrink_into_run(&run, &res, (wsr_check_id_t)check, o.self,
                               f) != 0) {
            wr_shrink_result_clear(&res);
            wr_store_rm_rf(tmpdir);
            wr_run_free(&run);
            st = WR_STATUS_INFRA;
            goto out;
        }
        wr_shrink_result_clear(&res);
        printf("shrunk: %d -> %d clients, %d -> %d steps, %d -> %d pinned "
               "releases%s in %d runs, %.1f s; the shrunk case failed %s "
               "in %d of %d replays\n",
               f->before.clients, f->after.clients, f->before.steps,
               f->after.steps, f->before.releases, f->after.releases,
               f->before.chaos && !f->after.chaos ? ", chaos dropped" : "",
               f->shrink_runs, f->shrink_s, f->check, f->confirmed,
               f->confirm_runs);
        st = f->confirmed > 0 ? WR_STATUS_OK : WR_STATUS_UNEXPECTED;
    }
    run.duration_ns = wr_now_ns() - t0;
    st = wr_run_finish(&run, &o, tmpdir, true, st);
    if (run.explored != NULL && run.explored->nfindings == 1)
        printf("scenario: %s/%s\n", run.dir, run.explored->findings[0].yaml);
    wr_run_free(&run);
out:
    wr_replay_free(&r);
    wr_args_free(&args);
    return st;
}
