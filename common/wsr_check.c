/* wsr_check.c - Check names. Static data; any thread. */
#include "wsr_check.h"

#include <string.h>

static const char *const names[WSR_CHECK__COUNT] = {
    [WSR_CHECK_SCOPE_LOSS] = "scope_loss",
    [WSR_CHECK_FALSE_READINESS] = "false_readiness",
    [WSR_CHECK_DUPLICATE_REGISTRATION] = "duplicate_registration",
    [WSR_CHECK_COORDINATOR_GAP] = "coordinator_gap",
    [WSR_CHECK_LIVENESS] = "liveness",
    [WSR_CHECK_REGISTRY_LEAK] = "registry_leak",
    [WSR_CHECK_ISOLATION] = "isolation",
    [WSR_CHECK_NO_LOST_MESSAGES] = "no_lost_messages",
    [WSR_CHECK_STEPS] = "steps",
    [WSR_CHECK_IDENTITY] = "identity",
    [WSR_CHECK_MEMORY_SAFETY] = "memory_safety",
    [WSR_CHECK_DATA_RACE] = "data_race",
};

const char *wsr_check_name(wsr_check_id_t id)
{
    return (unsigned)id < WSR_CHECK__COUNT ? names[id] : NULL;
}

int wsr_check_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < WSR_CHECK__COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}
