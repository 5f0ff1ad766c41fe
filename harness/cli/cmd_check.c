/* cmd_check.c - wsrace check SCENARIO...: validate without running. */
#include <stdio.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"

static const wr_opt_t options[] = {{NULL, 0, false}};

wr_status_t wr_cmd_check(int argc, char **argv, const wr_cli_env_t *env)
{
    wr_args_t args;
    char err[1024];
    size_t bad = 0;

    (void)env;
    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace check: %s\n", err);
        return WR_STATUS_BAD_INPUT;
    }
    if (args.noperands == 0) {
        fprintf(stderr, "wsrace check: no scenario given\n");
        wr_args_free(&args);
        return WR_STATUS_BAD_INPUT;
    }
    for (size_t i = 0; i < args.noperands; i++) {
        wr_scenario_t *s = wr_scenario_load(args.operands[i], err,
                                            sizeof(err));

        if (s == NULL) {
            fprintf(stderr, "%s\n", err);
            bad++;
            continue;
        }
        printf("%s: ok (%s, %zu clients)\n", args.operands[i], s->name,
               wr_scenario_clients(s));
        wr_scenario_free(s);
    }
    wr_args_free(&args);
    return bad ? WR_STATUS_BAD_INPUT : WR_STATUS_OK;
}
