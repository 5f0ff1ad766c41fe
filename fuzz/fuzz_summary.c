/* fuzz_summary.c - The summary.json loader (harness/report/wr_summary.c),
 * which merge, diff and the jobs of a run read back, on any bytes: cases,
 * verdicts, evidence, scenarios rebuilt or parsed from their text, the
 * safe-name rules of case ids and directories. */
#include <string.h>

#include "fuzz.h"
#include "run/wr_run.h"
#include "report/wr_summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_run_t run;
    char err[2048];

    err[0] = '\0';
    if (wr_summary_parse("fuzz.json", (const char *)data, size, NULL, 0, &run,
                         err, sizeof(err)) == 0) {
        for (size_t i = 0; i < run.ncases; i++) {
            /* "cases/<one name>": never a path out of the run. */
            const char *name = run.cases[i].dir + 6;

            if (strncmp(run.cases[i].dir, "cases/", 6) != 0 ||
                strchr(name, '/') != NULL || strcmp(name, "..") == 0 ||
                strcmp(name, ".") == 0 || name[0] == '\0')
                __builtin_trap();
        }
        wr_run_free(&run);
    } else if (err[0] == '\0') {
        __builtin_trap();
    }
    return 0;
}
