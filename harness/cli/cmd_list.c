/* cmd_list.c - wsrace list [SCENARIO...]: the faults (the catalog the
 * gateway injects from), the checks, the sync points and the scenarios. */
#include <glob.h>
#include <stdio.h>

#include "checks/wr_check.h"
#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "wsr_fault.h"
#include "wsr_sync.h"

static const wr_opt_t options[] = {{NULL, 0, false}};

static void list_faults(void)
{
    printf("faults (gateway --inject; scenario `exposes`):\n");
    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);

        printf("  %-24s %-8s detected by:", f->name,
               f->origin ? f->origin : f->cluster_only ? "cluster" : "");
        for (int c = 0; c < WSR_CHECK__COUNT; c++)
            if (f->detects & (1u << c))
                printf(" %s", wsr_check_name((wsr_check_id_t)c));
        printf("\n  %-24s %s", "", f->summary);
        for (int m = 0; m < WSR_FAULT_MODES_MAX && f->modes[m]; m++)
            printf("%s%s", m ? ", " : "; modes ", f->modes[m]);
        printf("\n");
    }
}

static void list_scenarios(char **paths, size_t n)
{
    if (n > 0)
        printf("\nscenarios:\n");
    for (size_t i = 0; i < n; i++) {
        char err[1024], exposes[WSR_FAULTS_TEXT_MAX];
        wr_scenario_t *s = wr_scenario_load(paths[i], err, sizeof(err));

        if (s == NULL) {
            printf("  %s: INVALID: %s\n", paths[i], err);
            continue;
        }
        wsr_faults_format(&s->exposes, exposes, sizeof(exposes));
        if (wr_scenario_cluster(s))
            printf("  %s\n      name %s, %zu client(s) on %d instance(s) "
                   "sharing Redis, exposes: %s\n      %s\n",
                   paths[i], s->name, wr_scenario_clients(s),
                   s->gateway.instances, exposes[0] ? exposes : "nothing",
                   s->description);
        else
            printf("  %s\n      name %s, %zu client(s), exposes: %s\n"
                   "      %s\n",
                   paths[i], s->name, wr_scenario_clients(s),
                   exposes[0] ? exposes : "nothing", s->description);
        wr_scenario_free(s);
    }
}

wr_status_t wr_cmd_list(int argc, char **argv, const wr_cli_env_t *env)
{
    wr_args_t args;
    glob_t g = {0};
    char err[256];

    (void)env;
    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace list: %s\n", err);
        return WR_STATUS_BAD_INPUT;
    }
    list_faults();
    printf("\nchecks:\n");
    for (int c = 0; c < WSR_CHECK__COUNT; c++)
        printf("  %s\n", wsr_check_name((wsr_check_id_t)c));
    printf("\nsync points (scenario gateway.sync POINT:ACTION):\n");
    for (int p = 0; p < WSR_SP__COUNT; p++)
        printf("  %-20s %s\n", wsr_sync_point_name((wsr_sync_point_t)p),
               wsr_sync_point_summary((wsr_sync_point_t)p));
    if (args.noperands > 0)
        list_scenarios(args.operands, args.noperands);
    else if (glob("scenarios/*.yaml", 0, NULL, &g) == 0)
        list_scenarios(g.gl_pathv, g.gl_pathc);
    globfree(&g);
    wr_args_free(&args);
    return WR_STATUS_OK;
}
