/* wr_json.c - Numbers out of untrusted JSON (wr_json.h). */
#include "plan/wr_json.h"

bool wr_json_int(json_t *o, const char *k, long long lo, long long hi,
                 long long dflt, long long *out)
{
    json_t *v = json_object_get(o, k);

    *out = dflt;
    if (v == NULL)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi)
        return false;
    *out = json_integer_value(v);
    return true;
}
