/* cmd_diff.c - wsrace diff OLD NEW: two runs compared check by check. */
#include <stdio.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "report/wr_diff.h"
#include "report/wr_summary.h"
#include "run/wr_run.h"

static const wr_opt_t options[] = {{NULL, 0, false}};

wr_status_t wr_cmd_diff(int argc, char **argv, const wr_cli_env_t *env)
{
    wr_run_t a, b;
    wr_diff_t d;
    wr_args_t args;
    char err[PATH_MAX + 256];
    wr_status_t st;

    (void)env;
    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0 ||
        args.noperands != 2) {
        fprintf(stderr, "usage: wsrace diff OLD NEW (run directories or "
                        "summary.json files)\n");
        if (args.operands != NULL)
            wr_args_free(&args);
        return WR_STATUS_BAD_INPUT;
    }
    if (wr_summary_load(args.operands[0], NULL, 0, &a, err, sizeof(err)) !=
        0) {
        fprintf(stderr, "wsrace diff: %s\n", err);
        wr_args_free(&args);
        return WR_STATUS_BAD_INPUT;
    }
    if (wr_summary_load(args.operands[1], NULL, 0, &b, err, sizeof(err)) !=
        0) {
        fprintf(stderr, "wsrace diff: %s\n", err);
        wr_run_free(&a);
        wr_args_free(&args);
        return WR_STATUS_BAD_INPUT;
    }
    if (wr_diff_runs(&a, &b, &d) == 0) {
        printf("wsrace diff: %s (%s) -> %s (%s)\n", args.operands[0], a.id,
               args.operands[1], b.id);
        wr_diff_print(&d, stdout);
        st = d.count[WR_DIFF_NEWLY_FAILING] > 0 ? WR_STATUS_UNEXPECTED
                                                : WR_STATUS_OK;
        wr_diff_free(&d);
    } else {
        st = WR_STATUS_INFRA;
    }
    wr_run_free(&a);
    wr_run_free(&b);
    wr_args_free(&args);
    return st;
}
