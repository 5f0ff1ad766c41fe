/* cmd_replay.c - wsrace replay FILE: one case again, from its replay.json.
 *
 * The file is untrusted: it chooses the scenario, the faults, the seed,
 * the time scale and the analysis tool (a name from a fixed set; the tool
 * itself is ours), never a program, a command or an address. A case that
 * ran against an external gateway is replayed only with --url on the
 * command line. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "drive/wr_tool.h"
#include "plan/wr_replay.h"
#include "run/wr_run.h"

#ifndef WSRACE_SUPPRESSIONS
#define WSRACE_SUPPRESSIONS "/nonexistent"
#endif

enum { OPT_WRAPPER = WR_REPLAY_OPT__NEXT, OPT_HELP };

static const wr_opt_t options[] = {
    WR_REPLAY_OPTIONS,
    {"wrapper", OPT_WRAPPER, true},
    {"help", OPT_HELP, false},
    {NULL, 0, false},
};

static const char usage[] =
    "usage: wsrace replay FILE [--report-dir DIR] [--target PATH | --url "
    "URL [--sync-control PATH]]\n"
    "                     [--time-scale X] [--wrapper CMD] "
    "[--early-verdict]\n";

/* Prints how the verdicts of c differ from the recorded ones; returns how
 * many differ. */
static int compare_verdicts(const wr_case_t *c, const wr_replay_t *r)
{
    int differ = 0;

    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const char *name = wsr_check_name((wsr_check_id_t)k);
        const char *was = r->ran[k] ? wr_verdict_name(r->verdicts[k]) : "-";
        const char *now =
            c->ran[k] ? wr_verdict_name(c->results[k].verdict) : "-";

        /* A check the recording did not judge (an early verdict's case
         * ended before it could be) is not compared. */
        if (strcmp(was, now) == 0 || !r->ran[k])
            continue;
        printf("  %-24s was %s, now %s%s%s\n", name, was, now,
               c->ran[k] && c->results[k].summary[0] ? ": " : "",
               c->ran[k] ? c->results[k].summary : "");
        differ++;
    }
    return differ;
}

wr_status_t wr_cmd_replay(int argc, char **argv, const wr_cli_env_t *env)
{
    char gateway[PATH_MAX], build[PATH_MAX + 32], err[PATH_MAX + 512];
    wr_run_opts_t o = {0};
    wr_inject_t inject;
    wr_replay_t r;
    wr_args_t args;
    wr_run_t run;
    wr_status_t st = WR_STATUS_OK;
    bool scale_given = false, target_given = false;
    int tool;

    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace replay: %s\n%s", err, usage);
        return WR_STATUS_BAD_INPUT;
    }
    wr_cli_default_gateway(gateway, sizeof(gateway));
    o.self = env->self;
    o.gateway = gateway;
    o.report_root = "reports";
    o.argv_text = env->argv_text;
    o.stop = env->stop;
    o.secret = wr_cli_secret();
    o.plan.kind = "replay";
    o.plan.repeat = 1;
    for (size_t i = 0; i < args.nhits && st == WR_STATUS_OK; i++) {
        const wr_opt_hit_t *h = &args.hits[i];

        if (wr_cli_replay_option("replay", h, &o, &target_given,
                                 &scale_given, &st))
            continue;
        switch (h->id) {
        case OPT_WRAPPER:
            o.wrapper = h->arg;
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            wr_args_free(&args);
            return WR_STATUS_OK;
        }
    }
    st = wr_cli_open_replay("replay", usage, st, &args, target_given, &o,
                            &r);
    if (st != WR_STATUS_OK) {
        wr_args_free(&args);
        return st;
    }
    /* The analysis tool it ran under: valgrind around our gateway, or our
     * sanitizer build of it. */
    tool = wr_tool_from_name(r.tool[0] ? r.tool : "none");
    if (tool > 0 && o.url != NULL) {
        fprintf(stderr, "wsrace replay: the case ran under %s, which needs "
                        "a gateway of ours, not --url\n",
                r.tool);
        st = WR_STATUS_BAD_INPUT;
        goto out;
    }
    if (tool > 0) {
        o.tool = tool;
        if (wr_tool_is_valgrind((wr_tool_t)tool)) {
            if (access(WSRACE_SUPPRESSIONS, R_OK) == 0)
                o.suppressions = WSRACE_SUPPRESSIONS;
        } else if (!target_given) {
            snprintf(build, sizeof(build), "%s-%s", gateway, r.tool);
            o.gateway = build;
            setenv("UBSAN_OPTIONS", "print_stacktrace=1", 0);
            setenv("TSAN_OPTIONS", "halt_on_error=0", 0);
        }
    }
    if (!scale_given)
        o.time_scale = r.time_scale > 0 ? r.time_scale : 1.0;
    inject.kind = r.faults.mask ? WR_INJECT_SET : WR_INJECT_NONE;
    inject.set = r.faults;
    o.plan.injects = &inject;
    o.plan.ninjects = 1;
    o.plan.seed = r.seed;
    o.plan.no_sync = r.no_sync;
    o.plan.chaos = r.chaos.on ? &r.chaos : NULL;
    o.plan.sched = r.controlled ? &r.sched : NULL;
    {
        char faults[WSR_FAULTS_TEXT_MAX];

        wsr_faults_format(&r.faults, faults, sizeof(faults));
        printf("wsrace replay: %s inject=%s seed=%llu%s%s%s\n",
               r.scenario->name, faults[0] ? faults : "none", r.seed,
               r.no_sync ? " no-sync" : "", r.tool[0] ? " tool=" : "",
               r.tool);
    }
    fflush(stdout);
    st = wr_run(&o, &r.scenario, 1, &run);
    if (st == WR_STATUS_OK || st == WR_STATUS_UNEXPECTED) {
        int differ = run.ncases == 1 ? compare_verdicts(&run.cases[0], &r) : 1;

        printf("replay: %s\n", differ ? "the verdicts DIFFER from the "
                                        "recorded ones"
                                      : "the same verdicts recurred");
        if (run.ncases == 1 && run.cases[0].controlled &&
            run.cases[0].sched.kind == WR_SCHED_REPLAY)
            /* Why a replay can differ: its schedule was not followed. */
            printf("replay: schedule of %zu steps: %zu diverged (the "
                   "arrival did not come in time), %zu went ahead of their "
                   "turn\n",
                   run.cases[0].sched_steps, run.cases[0].sched_diverged,
                   run.cases[0].sched_ahead);
        st = differ ? WR_STATUS_UNEXPECTED : WR_STATUS_OK;
    }
    wr_run_free(&run);
out:
    wr_replay_free(&r);
    wr_args_free(&args);
    return st;
}
