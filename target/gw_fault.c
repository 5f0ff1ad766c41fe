/* gw_fault.c - Names, summaries and parsing of the fault catalog.
 *
 * Called from the main thread at start-up only. */
#include "gw_fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *summary;
} catalog[GW_FAULT__COUNT] = {
    [GW_FAULT_SCOPE_LOSS] = {"scope-loss",
                             "the swap uses the registry handle of the init "
                             "step, which is gone (modes: crash, error, "
                             "swallow)"},
    [GW_FAULT_FALLBACK_READY] = {"fallback-ready",
                                 "readiness of a key with no machine is "
                                 "reported true"},
    [GW_FAULT_COORDINATOR_GAP] = {"coordinator-gap",
                                  "the coordinator turns READY on its own and "
                                  "alone gates messages, unlinked from the "
                                  "machine"},
    [GW_FAULT_DUPLICATE_REGISTRATION] = {"duplicate-registration",
                                         "registering a live key silently "
                                         "returns its machine; check and "
                                         "insert are separate critical "
                                         "sections"},
    [GW_FAULT_EARLY_WELCOME] = {"early-welcome",
                                "the welcome claims connection_ready before "
                                "the machine is PROCESSING_READY"},
    [GW_FAULT_STUCK_SWAP] = {"stuck-swap",
                             "the key swap re-creates the machine in "
                             "CONNECTING; it never becomes ready"},
    [GW_FAULT_REGISTRY_LEAK] = {"registry-leak",
                                "the machine is never unregistered when the "
                                "connection closes"},
};

static const char *const scope_modes[] = {"crash", "error", "swallow"};

const char *gw_fault_name(gw_fault_id_t id)
{
    return (unsigned)id < GW_FAULT__COUNT ? catalog[id].name : "?";
}

const char *gw_fault_summary(gw_fault_id_t id)
{
    return (unsigned)id < GW_FAULT__COUNT ? catalog[id].summary : "?";
}

const char *gw_scope_mode_name(gw_scope_mode_t m)
{
    return (unsigned)m < 3 ? scope_modes[m] : "?";
}

static int parse_one(gw_faults_t *f, char *item, char *err, size_t errlen)
{
    char *mode = strchr(item, '=');

    if (mode)
        *mode++ = '\0';
    for (int i = 0; i < GW_FAULT__COUNT; i++) {
        if (strcmp(item, catalog[i].name) != 0)
            continue;
        if (mode && i != GW_FAULT_SCOPE_LOSS) {
            snprintf(err, errlen, "fault '%s' takes no mode (got '=%s')", item,
                     mode);
            return -EINVAL;
        }
        if (mode) {
            int m;

            for (m = 0; m < 3; m++)
                if (strcmp(mode, scope_modes[m]) == 0)
                    break;
            if (m == 3) {
                snprintf(err, errlen,
                         "unknown scope-loss mode '%s' (crash, error, "
                         "swallow)",
                         mode);
                return -EINVAL;
            }
            f->scope_mode = (gw_scope_mode_t)m;
        }
        f->mask |= 1u << i;
        return 0;
    }
    snprintf(err, errlen, "unknown fault '%s' (see --list-faults)", item);
    return -EINVAL;
}

int gw_faults_parse(gw_faults_t *f, const char *list, char *err, size_t errlen)
{
    gw_faults_t tmp = *f;
    char *copy = strdup(list), *save = NULL;
    int rc = 0;

    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok == '\0' || strcmp(tok, "none") == 0)
            continue;
        rc = parse_one(&tmp, tok, err, errlen);
        if (rc)
            break;
    }
    free(copy);
    if (rc == 0)
        *f = tmp;
    return rc;
}

char *gw_faults_format(const gw_faults_t *f, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (int i = 0; i < GW_FAULT__COUNT && off < len; i++) {
        if (!gw_fault_on(f, (gw_fault_id_t)i))
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
                         catalog[i].name);
        if (n > 0)
            off += (size_t)n;
        if (i == GW_FAULT_SCOPE_LOSS && f->scope_mode != GW_SCOPE_CRASH &&
            off < len) {
            n = snprintf(buf + off, len - off, "=%s",
                         scope_modes[f->scope_mode]);
            if (n > 0)
                off += (size_t)n;
        }
    }
    return buf;
}
