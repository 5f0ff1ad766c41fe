/* fuzz_replay.c - The replay.json reader (harness/plan/wr_replay.c) on
 * any bytes: the JSON, every field's type and range, the fault list, the
 * recorded scenario's text through the scenario loader. */
#include <string.h>

#include "fuzz.h"
#include "plan/wr_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_replay_t r;
    char err[2048];

    err[0] = '\0';
    if (wr_replay_parse("fuzz.json", (const char *)data, size, &r, err,
                        sizeof(err)) == 0) {
        if (!r.scenario || r.version < 1)
            __builtin_trap();
        wr_replay_free(&r);
    } else if (err[0] == '\0') {
        __builtin_trap(); /* every refusal says why */
    }
    return 0;
}
