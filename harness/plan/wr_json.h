/* wr_json.h - Reading numbers out of JSON that came from disk (replay.json,
 * summary.json): one rule for every loader, so a member that is there
 * but out of range or of the wrong type is refused the same way
 * everywhere. */
#ifndef WR_JSON_H
#define WR_JSON_H

#include <jansson.h>
#include <stdbool.h>

/* o's integer member k into *out: dflt when absent; false when present
 * but not an integer in [lo, hi] (*out is then dflt). */
bool wr_json_int(json_t *o, const char *k, long long lo, long long hi,
                 long long dflt, long long *out);

#endif
