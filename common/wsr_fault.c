/* wsr_fault.c - The fault catalog and inject sets.
 *
 * The table is the project's claim about each fault: a scenario that
 * exposes it, run with it injected, must get FAIL from every check in
 * `detects`; `side_effects` are the other checks the fault is known to
 * break as a consequence (a gateway killed by scope-loss never welcomes
 * anyone, so liveness fails too): allowed to fail, not required to.
 * Static data; any thread. */
#include "wsr_fault.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wsr_check.h"

#define B(c) WSR_CHECK_BIT(WSR_CHECK_##c)

static const wsr_fault_info_t catalog[WSR_FAULT__COUNT] = {
    [WSR_FAULT_FALLBACK_READY] =
        {"fallback-ready", {NULL}, "test 5",
         "readiness of a key with no machine is reported true", true,
         B(FALSE_READINESS), 0, NULL, 0, -1},
    [WSR_FAULT_COORDINATOR_GAP] =
        {"coordinator-gap", {NULL}, "test 4",
         "the coordinator turns READY on its own and alone gates messages, "
         "unlinked from the machine",
         true, B(COORDINATOR_GAP),
         B(FALSE_READINESS) | B(NO_LOST_MESSAGES) | B(LIVENESS) | B(STEPS) |
             B(IDENTITY),
         "messages let through by the unlinked coordinator are processed "
         "while the machine is not ready, and their transitions are refused; "
         "a connection that sent three early messages has five refusals in "
         "a row, which force its machine to FAILED, so it is never welcomed "
         "and the scenario's own expects of it fail; its client hears the "
         "answers before any welcome (identity)",
         0, -1},
    [WSR_FAULT_DUPLICATE_REGISTRATION] =
        {"duplicate-registration", {NULL}, "test 1",
         "registering a live key silently returns its machine; check and "
         "insert are separate critical sections, so concurrent "
         "registrations both create a machine",
         true, B(DUPLICATE_REGISTRATION),
         B(ISOLATION) | B(NO_LOST_MESSAGES) | B(REGISTRY_LEAK) | B(LIVENESS) |
             B(SCOPE_LOSS),
         "two live machines under one key share its messages and its "
         "unregistration; a connection that silently got the first one's "
         "machine has its own ready step refused and is never ready, and "
         "its refusals and its close take the live one's machine with it",
         0, -1},
    [WSR_FAULT_SCOPE_LOSS] =
        {"scope-loss", {"crash", "error", "swallow", NULL}, "test 6",
         "the swap uses the registry handle of the init step, whose scope "
         "has ended",
         true, B(SCOPE_LOSS),
         B(LIVENESS) | B(REGISTRY_LEAK) | B(NO_LOST_MESSAGES) | B(STEPS),
         "connections that lose their machine are never ready, their "
         "messages never complete (so the scenario's own expects fail), and "
         "the stranded preliminary machine is never unregistered",
         /* the crash is a read through a null handle */
         B(MEMORY_SAFETY), WSR_SCOPE_CRASH},
    [WSR_FAULT_EARLY_WELCOME] =
        {"early-welcome", {NULL}, NULL,
         "the welcome claims connection_ready before the machine is "
         "PROCESSING_READY",
         false, B(FALSE_READINESS), B(SCOPE_LOSS),
         "a registry operation on the key that lands between the early "
         "welcome and the ready step (another instance's, in a cluster) "
         "finds a welcomed connection whose machine is not ready",
         0, -1},
    [WSR_FAULT_STUCK_SWAP] =
        {"stuck-swap", {NULL}, NULL,
         "the key swap re-creates the machine in CONNECTING; it never "
         "becomes ready",
         false, B(LIVENESS),
         B(NO_LOST_MESSAGES) | B(REGISTRY_LEAK) | B(STEPS) | B(SCOPE_LOSS),
         "a connection that is never ready is never welcomed and never "
         "completes its messages (the scenario's own expects fail), and its "
         "failed machine may stay registered; the swap unregisters the "
         "machine under the preliminary key in mid-life, neither CLOSED nor "
         "FAILED",
         0, -1},
    [WSR_FAULT_REGISTRY_LEAK] =
        {"registry-leak", {NULL}, NULL,
         "the machine is never unregistered when the connection closes",
         false, B(REGISTRY_LEAK), B(STEPS),
         "a client that reconnects with its session finds the leaked "
         "machine still registered and is refused as a duplicate, so its "
         "own steps fail",
         0, -1},
    /* The faults of a cluster: several gateways sharing a Redis registry
     * (docs/DESIGN.md, "Cluster mode"). duplicate-registration above has
     * a cluster form too: its read and its write are two round trips, so
     * two instances both find a session free and both take it. */
    [WSR_FAULT_BLIND_UNREGISTER] =
        {"blind-unregister", {NULL}, NULL,
         "unregistering deletes the key without comparing its owner: a "
         "connection whose lease expired removes its successor's entry "
         "when it closes",
         false, B(SCOPE_LOSS),
         B(NO_LOST_MESSAGES) | B(FALSE_READINESS) | B(STEPS),
         "the successor lives on with no machine, so its messages wait at "
         "the gate forever (the scenario's own expects fail) and its probes "
         "answer not ready",
         0, -1, true},
    [WSR_FAULT_STALE_PRESENCE] =
        {"stale-presence", {NULL}, NULL,
         "entries carry no TTL and the instance does not heartbeat: the "
         "sessions of an instance that dies stay registered, and ready, "
         "forever",
         false, B(REGISTRY_LEAK), B(STEPS),
         "a session whose instance stalled or died can never move: its "
         "successor is refused as a duplicate, so the scenario's own "
         "expects of it fail",
         0, -1, true},
    [WSR_FAULT_LOCAL_READINESS] =
        {"local-readiness", {NULL}, NULL,
         "an instance answers readiness from its own memory: a connection "
         "held by another instance is never ready there",
         false, B(FALSE_READINESS), 0, NULL, 0, -1, true},
};

const wsr_fault_info_t *wsr_fault_info(wsr_fault_id_t id)
{
    return (unsigned)id < WSR_FAULT__COUNT ? &catalog[id] : NULL;
}

const char *wsr_fault_name(wsr_fault_id_t id)
{
    return (unsigned)id < WSR_FAULT__COUNT ? catalog[id].name : "?";
}

int wsr_fault_from_name(const char *name, size_t len)
{
    for (int i = 0; name != NULL && i < WSR_FAULT__COUNT; i++)
        if (strlen(catalog[i].name) == len &&
            strncmp(catalog[i].name, name, len) == 0)
            return i;
    return -1;
}

int wsr_fault_mode_from_name(wsr_fault_id_t id, const char *mode, size_t len)
{
    const wsr_fault_info_t *f = wsr_fault_info(id);

    for (int m = 0; f != NULL && m < WSR_FAULT_MODES_MAX && f->modes[m]; m++)
        if (strlen(f->modes[m]) == len && strncmp(f->modes[m], mode, len) == 0)
            return m;
    return -1;
}

const char *wsr_fault_mode_name(wsr_fault_id_t id, unsigned m)
{
    const wsr_fault_info_t *f = wsr_fault_info(id);

    return f != NULL && m < WSR_FAULT_MODES_MAX ? f->modes[m] : NULL;
}

/* The modes of f as "crash, error, swallow" for messages. */
static void list_modes(const wsr_fault_info_t *f, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int m = 0; m < WSR_FAULT_MODES_MAX && f->modes[m] && used < len; m++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 m ? ", " : "", f->modes[m]);
}

int wsr_fault_parse_spec(const char *spec, size_t len, wsr_fault_id_t *id,
                         unsigned *mode, char *err, size_t errlen)
{
    const char *eq = memchr(spec, '=', len);
    size_t idlen = eq ? (size_t)(eq - spec) : len;
    int i = wsr_fault_from_name(spec, idlen), m = 0;
    char modes[64];

    if (i < 0) {
        snprintf(err, errlen, "unknown fault '%.*s'", (int)len, spec);
        return -EINVAL;
    }
    if (eq != NULL) {
        const char *mode_text = eq + 1;
        size_t mlen = len - idlen - 1;

        if (catalog[i].modes[0] == NULL) {
            snprintf(err, errlen, "fault '%s' takes no mode (got '=%.*s')",
                     catalog[i].name, (int)mlen, mode_text);
            return -EINVAL;
        }
        m = wsr_fault_mode_from_name((wsr_fault_id_t)i, mode_text, mlen);
        if (m < 0) {
            list_modes(&catalog[i], modes, sizeof(modes));
            snprintf(err, errlen, "unknown %s mode '%.*s' (%s)",
                     catalog[i].name, (int)mlen, mode_text, modes);
            return -EINVAL;
        }
    }
    *id = (wsr_fault_id_t)i;
    *mode = (unsigned)m;
    return 0;
}

int wsr_faults_parse(wsr_faults_t *f, const char *list, char *err,
                     size_t errlen)
{
    wsr_faults_t tmp = *f;
    const char *p = list;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        wsr_fault_id_t id;
        unsigned mode;

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0 && !(n == 4 && strncmp(p, "none", 4) == 0)) {
            if (wsr_fault_parse_spec(p, n, &id, &mode, err, errlen) != 0)
                return -EINVAL;
            tmp.mask |= 1u << id;
            tmp.mode[id] = (uint8_t)mode;
        }
        p = comma ? comma + 1 : NULL;
    }
    *f = tmp;
    return 0;
}

int wsr_faults_format(const wsr_faults_t *f, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        unsigned m = wsr_fault_mode(f, (wsr_fault_id_t)i);
        int n;

        if (!wsr_fault_on(f, (wsr_fault_id_t)i))
            continue;
        if (m != 0)
            n = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "",
                         catalog[i].name, catalog[i].modes[m]);
        else
            n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
                         catalog[i].name);
        if (n < 0 || (size_t)n >= len - used) {
            buf[0] = '\0';
            return -ENOSPC;
        }
        used += (size_t)n;
    }
    return (int)used;
}

unsigned wsr_faults_count(const wsr_faults_t *f)
{
    return (unsigned)__builtin_popcount(f->mask);
}

bool wsr_faults_equal(const wsr_faults_t *a, const wsr_faults_t *b)
{
    if (a->mask != b->mask)
        return false;
    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (wsr_fault_mode(a, (wsr_fault_id_t)i) !=
            wsr_fault_mode(b, (wsr_fault_id_t)i))
            return false;
    return true;
}

int wsr_faults_cluster_only(const wsr_faults_t *f)
{
    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (catalog[i].cluster_only && wsr_fault_on(f, (wsr_fault_id_t)i))
            return i;
    return -1;
}

wsr_faults_t wsr_faults_seed_bugs(void)
{
    wsr_faults_t f = {0};

    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (catalog[i].seed_bug)
            f.mask |= 1u << i;
    return f;
}
