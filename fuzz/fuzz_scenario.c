/* fuzz_scenario.c - The scenario loader (harness/plan/wr_scenario.c and
 * the YAML layer under it, wr_yaml.c, over libfyaml) on any text: every
 * key, type and range check, templates, steps, the alias budget.
 *
 * A scenario that loads must be whole: named, with groups, each with
 * steps, within the client limit. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "plan/wr_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[1024];
    wr_scenario_t *s;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    s = wr_scenario_parse("fuzz.yaml", text, err, sizeof(err));
    if (s) {
        if (!s->name || s->ngroups == 0 ||
            wr_scenario_clients(s) > WR_SCENARIO_CLIENTS_MAX)
            abort();
        for (size_t g = 0; g < s->ngroups; g++) {
            char *x = wr_scenario_expand(s->groups[g].session, 0, (int)g, "u",
                                         NULL, 7);
            if (s->groups[g].nsteps == 0 || !x)
                abort();
            free(x);
        }
        wr_scenario_free(s);
    } else if (err[0] == '\0') {
        abort(); /* every refusal says why */
    }
    free(text);
    return 0;
}
