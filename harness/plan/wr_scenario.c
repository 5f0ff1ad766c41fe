/* wr_scenario.c - Loading and validating scenario files.
 *
 * A scenario is read in one pass over a libfyaml document tree: each
 * mapping is matched against the table of keys it may hold, each value is
 * converted and range-checked where it is read, and the first problem ends
 * the load with "FILE:LINE:COLUMN: message" naming the node that is wrong
 * (the key for an unknown key, the value for a bad value, the mapping for
 * a missing key). The checks that need a whole group or the whole file
 * (connection order, barriers) run once the tree is converted. This file
 * holds the schema; loading the document, positions, error messages,
 * typed scalars, key checks and the conversion to JSON are the YAML layer
 * under it, in wr_yaml.c.
 *
 * Invariants: a returned wr_scenario_t is complete and valid, otherwise it
 * is freed. Every array is allocated zeroed with its final length set
 * before it is filled, so wr_scenario_free can release a half-built
 * scenario from any point of the parse. Nothing kept points into the
 * libfyaml document, which never outlives the parse.
 *
 * Over 1,100 lines, and one cohesive unit: the schema of a scenario file,
 * every key of every mapping with its conversion and its message, and the
 * checks that need the whole file; split, each part would reach into the
 * same half-built scenario.
 *
 * Threads: any; loading shares no state. A loaded scenario is read-only. */
#include "plan/wr_scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "checks/wr_check.h"
#include "wsr_sync.h"
#include "plan/wr_yaml.h"

#define DEFAULT_WITHIN_MS  5000  /* connect, expect, expect_close */
#define BARRIER_WITHIN_MS  10000 /* barrier */
#define DEFAULT_READY_MS   5000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_DRAIN_MS   2000
#define MAX_BURST          64
#define MAX_GROUP_COUNT    WR_SCENARIO_CLIENTS_MAX
#define MAX_WORKERS        1024
#define MIN_MAX_MESSAGE    64

/* ------------------------------------------------------------------ */
/* Faults, sync points, checks                                          */
/* ------------------------------------------------------------------ */

/* Reads a sequence of fault specs ("id" or "id=mode") into *out. A fault
 * named twice is refused: its two modes cannot both be injected. */
static int get_faults(wr__yaml_ctx_t *c, struct fy_node *v, const char *what,
                      wsr_faults_t *out)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96], err[256];

    if (!wr__yaml_is_sequence(v))
        return wr__yaml_fail(c, v, "'%s' must be a sequence, got %s", what,
                             wr__yaml_shown(v, buf, sizeof buf));
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        const char *spec;
        wsr_fault_id_t id;
        unsigned mode;

        if (!wr__yaml_is_scalar(item) || wr__yaml_is_null(item))
            return wr__yaml_fail(c, item,
                                 "'%s' entries must be fault ids, got %s",
                                 what, wr__yaml_shown(item, buf, sizeof buf));
        spec = fy_node_get_scalar0(item);
        if (wsr_fault_parse_spec(spec, strlen(spec), &id, &mode, err,
                                 sizeof err) != 0)
            return wr__yaml_fail(c, item, "%s in '%s' (wsrace list shows the "
                                          "faults and their modes)",
                                 err, what);
        if (wsr_fault_on(out, id))
            return wr__yaml_fail(c, item, "fault '%s' is named twice in '%s'",
                                 wsr_fault_name(id), what);
        out->mask |= 1u << id;
        out->mode[id] = (uint8_t)mode;
    }
    return 0;
}

/* Validates a "POINT:ACTION" string with the gateway's own parser. */
static int check_sync(wr__yaml_ctx_t *c, struct fy_node *n, const char *what)
{
    wsr_sync_spec_t spec;
    char err[512];

    (void)what;
    if (wsr_sync_parse(fy_node_get_scalar0(n), &spec, err, sizeof err) != 0)
        return wr__yaml_fail(c, n, "%s", err);
    return 0;
}

/* Reads `checks`: "all" or a sequence of check names, into a bit mask. */
static int get_checks(wr__yaml_ctx_t *c, struct fy_node *v, unsigned *out)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];

    if (wr__yaml_is_scalar(v) && !wr__yaml_is_null(v) &&
        strcmp(fy_node_get_scalar0(v), "all") == 0) {
        *out = WSR_CHECKS_ALL;
        return 0;
    }
    if (!wr__yaml_is_sequence(v))
        return wr__yaml_fail(c, v,
                             "'checks' must be 'all' or a sequence of check "
                             "names, got %s",
                             wr__yaml_shown(v, buf, sizeof buf));
    if (fy_node_sequence_item_count(v) == 0)
        return wr__yaml_fail(c, v,
                             "'checks' is empty (leave it out, or write all)");
    *out = 0;
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        const char *name =
            wr__yaml_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
        int id = wsr_check_from_name(name);

        if (name != NULL && strcmp(name, "all") == 0) {
            *out |= WSR_CHECKS_ALL;
            continue;
        }
        if (id < 0 || wr__yaml_is_null(item)) {
            char known[256] = "";

            for (int i = 0; i < WSR_CHECK__COUNT; i++) {
                strncat(known, wsr_check_name((wsr_check_id_t)i),
                        sizeof known - strlen(known) - 1);
                strncat(known, ", ", sizeof known - strlen(known) - 1);
            }
            return wr__yaml_fail(c, item,
                                 "unknown check %s (expected %sor all)",
                                 wr__yaml_shown(item, buf, sizeof buf), known);
        }
        *out |= 1u << id;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */
/* ------------------------------------------------------------------ */

static const char *const step_names[] = {
    [WR_STEP_CONNECT] = "connect",
    [WR_STEP_BARRIER] = "barrier",
    [WR_STEP_SEND] = "send",
    [WR_STEP_EXPECT] = "expect",
    [WR_STEP_EXPECT_CLOSE] = "expect_close",
    [WR_STEP_SLEEP] = "sleep",
    [WR_STEP_PROBE_READY] = "probe_ready",
    [WR_STEP_CLOSE] = "close",
    [WR_STEP_KILL_INSTANCE] = "kill_instance",
    [WR_STEP_RESTART_INSTANCE] = "restart_instance",
    [WR_STEP_PAUSE_INSTANCE] = "pause_instance",
    [WR_STEP_RESUME_INSTANCE] = "resume_instance",
};

#define NSTEP_KINDS (sizeof step_names / sizeof step_names[0])
#define STEP_LIST                                                              \
    "connect, barrier, send, expect, expect_close, sleep, probe_ready, "       \
    "close, kill_instance, restart_instance, pause_instance, "                \
    "resume_instance"

static int step_kind(const char *name)
{
    for (size_t k = 0; k < NSTEP_KINDS; k++)
        if (strcmp(step_names[k], name) == 0)
            return (int)k;
    return -1;
}

/* connect, or connect: {within: MS}. */
static int parse_connect(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"within"};
    struct fy_node *keys[1], *vals[1];
    char buf[96];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (wr__yaml_is_null(v))
        return 0;
    if (!wr__yaml_is_mapping(v))
        return wr__yaml_fail(c, v,
                             "'connect' takes nothing or {within: MS}, got %s",
                             wr__yaml_shown(v, buf, sizeof buf));
    if ((rc = wr__yaml_take_keys(c, v, "'connect'", names, 1, keys, vals)) < 0)
        return rc;
    if (keys[0] != NULL)
        return wr__yaml_get_int(c, vals[0], "within", 1, INT_MAX,
                                &st->within_ms);
    return 0;
}

/* barrier: NAME, or barrier: {name: NAME, within: MS}. */
static int parse_barrier(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"name", "within"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    st->within_ms = BARRIER_WITHIN_MS;
    if (!wr__yaml_is_mapping(v))
        return wr__yaml_get_str(c, v, "barrier", &st->name);
    if ((rc = wr__yaml_take_keys(c, v, "'barrier'", names, 2, keys, vals)) < 0)
        return rc;
    if (keys[0] == NULL)
        return wr__yaml_missing(c, v, "name", "'barrier'");
    if ((rc = wr__yaml_get_str(c, vals[0], "name", &st->name)) < 0)
        return rc;
    if (keys[1] != NULL)
        return wr__yaml_get_int(c, vals[1], "within", 1, INT_MAX,
                                &st->within_ms);
    return 0;
}

/* send: {type: T, ...} (the message), or send: {raw: TEXT}. */
static int parse_send(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    struct fy_node *raw, *type;
    json_t *t;
    char buf[96];
    int rc;

    if (!wr__yaml_is_mapping(v))
        return wr__yaml_fail(
            c, v,
            "'send' must be the message (a mapping with a 'type') "
            "or {raw: TEXT}, got %s",
            wr__yaml_shown(v, buf, sizeof buf));
    raw = fy_node_mapping_lookup_key_by_string(v, "raw", 3);
    if (raw != NULL) {
        struct fy_node_pair *p;
        void *it = NULL;

        while ((p = fy_node_mapping_iterate(v, &it)) != NULL)
            if (fy_node_pair_key(p) != raw)
                return wr__yaml_fail(
                    c, fy_node_pair_key(p),
                    "'raw' sends text as it is; it takes no other "
                    "key");
        return wr__yaml_get_text(c,
                                 fy_node_mapping_lookup_by_string(v, "raw", 3),
                                 "raw", true, &st->raw);
    }
    if ((rc = wr__yaml_to_json(c, v, &st->message)) < 0)
        return rc;
    type = fy_node_mapping_lookup_by_string(v, "type", 4);
    t = json_object_get(st->message, "type");
    if (t == NULL)
        return wr__yaml_missing(c, v, "type", "'send'");
    if (!json_is_string(t) || json_string_length(t) == 0)
        return wr__yaml_fail(c, type, "'type' must be a string, got %s",
                             wr__yaml_shown(type, buf, sizeof buf));
    return 0;
}

/* expect: TYPE, or expect: {type: T, within: MS, match: {path: value}}. */
static int parse_expect(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    enum { TYPE, WITHIN, MATCH, N };
    static const char *const names[N] = {"type", "within", "match"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (!wr__yaml_is_mapping(v))
        return wr__yaml_get_str(c, v, "expect", &st->msg_type);
    if ((rc = wr__yaml_take_keys(c, v, "'expect'", names, N, keys, vals)) < 0)
        return rc;
    if (keys[TYPE] == NULL)
        return wr__yaml_missing(c, v, "type", "'expect'");
    if ((rc = wr__yaml_get_str(c, vals[TYPE], "type", &st->msg_type)) < 0)
        return rc;
    if (keys[WITHIN] != NULL &&
        (rc = wr__yaml_get_int(c, vals[WITHIN], "within", 1, INT_MAX,
                               &st->within_ms)) < 0)
        return rc;
    if (keys[MATCH] == NULL)
        return 0;
    if (!wr__yaml_is_mapping(vals[MATCH]))
        return wr__yaml_fail(
            c, vals[MATCH],
            "'match' must be a mapping of field paths to values, "
            "got %s",
            wr__yaml_shown(vals[MATCH], buf, sizeof buf));
    if (fy_node_mapping_item_count(vals[MATCH]) == 0)
        return 0; /* nothing to match: leave it NULL */
    return wr__yaml_to_json(c, vals[MATCH], &st->match);
}

static int get_close_code(wr__yaml_ctx_t *c, struct fy_node *v, int *out)
{
    char buf[96];
    long long x;

    if (wr__yaml_is_plain(v) && wr__yaml_parse_ll(fy_node_get_scalar0(v), &x) &&
        (x == 0 || (x >= 1000 && x <= 4999))) {
        *out = (int)x;
        return 0;
    }
    return wr__yaml_fail(
        c, v,
        "'code' must be a close code from 1000 to 4999, or 0 for "
        "any, got %s",
        wr__yaml_shown(v, buf, sizeof buf));
}

/* expect_close, expect_close: CODE, or {code: CODE, within: MS}. */
static int parse_expect_close(wr__yaml_ctx_t *c, struct fy_node *v,
                              wr_step_t *st)
{
    static const char *const names[] = {"code", "within"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    st->within_ms = DEFAULT_WITHIN_MS;
    if (wr__yaml_is_null(v))
        return 0;
    if (!wr__yaml_is_mapping(v))
        return get_close_code(c, v, &st->code);
    if ((rc = wr__yaml_take_keys(c, v, "'expect_close'", names, 2, keys,
                                 vals)) < 0)
        return rc;
    if (keys[0] != NULL && (rc = get_close_code(c, vals[0], &st->code)) < 0)
        return rc;
    if (keys[1] != NULL)
        return wr__yaml_get_int(c, vals[1], "within", 1, INT_MAX,
                                &st->within_ms);
    return 0;
}

/* sleep: MS, or sleep: {ms: MS, jitter_ms: MS}. */
static int parse_sleep(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"ms", "jitter_ms"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    if (!wr__yaml_is_mapping(v))
        return wr__yaml_get_int(c, v, "sleep", 0, INT_MAX, &st->ms);
    if ((rc = wr__yaml_take_keys(c, v, "'sleep'", names, 2, keys, vals)) < 0)
        return rc;
    if (keys[0] == NULL)
        return wr__yaml_missing(c, v, "ms", "'sleep'");
    if ((rc = wr__yaml_get_int(c, vals[0], "ms", 0, INT_MAX, &st->ms)) < 0)
        return rc;
    if (keys[1] != NULL)
        return wr__yaml_get_int(c, vals[1], "jitter_ms", 0, INT_MAX,
                                &st->jitter_ms);
    return 0;
}

/* probe_ready: KEY, or probe_ready: {key: KEY, instance: N}. */
static int parse_probe(wr__yaml_ctx_t *c, struct fy_node *v, wr_step_t *st)
{
    static const char *const names[] = {"key", "instance"};
    struct fy_node *keys[2], *vals[2];
    int rc;

    /* "probe_ready: {session}" is a template left unquoted, not a
     * mapping without its key: wr__yaml_get_str says so. */
    if (!wr__yaml_is_mapping(v) ||
        (fy_node_get_style(v) == FYNS_FLOW &&
         fy_node_mapping_lookup_by_string(v, "key", 3) == NULL))
        return wr__yaml_get_str(c, v, "probe_ready", &st->key);
    if ((rc = wr__yaml_take_keys(c, v, "'probe_ready'", names, 2, keys,
                                 vals)) < 0)
        return rc;
    if (keys[0] == NULL)
        return wr__yaml_missing(c, v, "key", "'probe_ready'");
    if ((rc = wr__yaml_get_str(c, vals[0], "key", &st->key)) < 0)
        return rc;
    if (keys[1] != NULL)
        return wr__yaml_get_str(c, vals[1], "instance", &st->instance);
    return 0;
}

/* One step: a bare name (connect, close, expect_close) or a mapping with
 * exactly one key, the step's kind. */
static int parse_step(wr__yaml_ctx_t *c, struct fy_node *n, wr_step_t *st)
{
    struct fy_node_pair *p;
    struct fy_node *k, *v = NULL;
    void *it = NULL;
    const char *name;
    char buf[96];
    int kind;

    wr__yaml_node_pos(n, &st->line, &st->column);
    if (wr__yaml_is_null(n) ||
        (wr__yaml_is_mapping(n) && fy_node_mapping_item_count(n) == 0))
        return wr__yaml_fail(c, n,
                             "empty step (expected one of " STEP_LIST ")");
    if (wr__yaml_is_scalar(n)) {
        k = n;
    } else if (wr__yaml_is_mapping(n)) {
        p = fy_node_mapping_iterate(n, &it);
        k = fy_node_pair_key(p);
        v = fy_node_pair_value(p);
        if ((p = fy_node_mapping_iterate(n, &it)) != NULL)
            return wr__yaml_fail(
                c, fy_node_pair_key(p),
                "a step has one key, but this one also has %s (start "
                "the next step with '- ')",
                wr__yaml_shown(fy_node_pair_key(p), buf, sizeof buf));
        if (!wr__yaml_is_scalar(k) || wr__yaml_is_null(k))
            return wr__yaml_fail(c, k,
                                 "a step's key must be one of " STEP_LIST);
    } else {
        return wr__yaml_fail(
            c, n,
            "a step must be a name or a mapping with one key, got "
            "%s",
            wr__yaml_shown(n, buf, sizeof buf));
    }
    name = fy_node_get_scalar0(k);
    kind = step_kind(name);
    if (kind < 0)
        return wr__yaml_fail(
            c, k, "unknown step '%s' (expected one of " STEP_LIST ")", name);
    st->kind = (wr_step_kind_t)kind;
    if (k == n && kind != WR_STEP_CONNECT && kind != WR_STEP_CLOSE &&
        kind != WR_STEP_EXPECT_CLOSE)
        return wr__yaml_fail(c, n, "step '%s' needs a value ('%s: ...')", name,
                             name);
    switch (st->kind) {
    case WR_STEP_CONNECT:
        return parse_connect(c, v, st);
    case WR_STEP_BARRIER:
        return parse_barrier(c, v, st);
    case WR_STEP_SEND:
        return parse_send(c, v, st);
    case WR_STEP_EXPECT:
        return parse_expect(c, v, st);
    case WR_STEP_EXPECT_CLOSE:
        return parse_expect_close(c, v, st);
    case WR_STEP_SLEEP:
        return parse_sleep(c, v, st);
    case WR_STEP_PROBE_READY:
        return parse_probe(c, v, st);
    case WR_STEP_KILL_INSTANCE:
    case WR_STEP_RESTART_INSTANCE:
    case WR_STEP_PAUSE_INSTANCE:
    case WR_STEP_RESUME_INSTANCE:
        /* The bound is the scenario's instances, checked once the gateway
         * block is read (check_cluster). */
        return wr__yaml_get_int(c, v, name, 0, WR_INSTANCES_MAX - 1,
                                &st->target);
    case WR_STEP_CLOSE:
        if (!wr__yaml_is_null(v))
            return wr__yaml_fail(c, v, "'close' takes no value, got %s",
                                 wr__yaml_shown(v, buf, sizeof buf));
        return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Groups and the whole file                                            */
/* ------------------------------------------------------------------ */

static const char *const token_names[] = {
    [WR_TOKEN_VALID] = "valid",
    [WR_TOKEN_EXPIRED] = "expired",
    [WR_TOKEN_BAD_SIGNATURE] = "bad-signature",
    [WR_TOKEN_NONE] = "none",
};

/* Whether v is written as null (`null`, `~`): a choice, unlike a key
 * left empty, which is reported as a missing value. */
static bool explicit_null(struct fy_node *v)
{
    const char *text = v != NULL ? fy_node_get_scalar0(v) : NULL;

    return text != NULL && text[0] != '\0' && wr__yaml_is_null(v);
}

static int parse_group(wr__yaml_ctx_t *c, struct fy_node *n, size_t index,
                       wr_group_t *g)
{
    enum { NAME, COUNT, USER, SESSION, TOKEN, JITTER, STEPS, INSTANCE, N };
    static const char *const names[N] = {
        "name",  "count",           "user",  "session",
        "token", "start_jitter_ms", "steps", "instance"};
    struct fy_node *keys[N], *vals[N], *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    wr__yaml_node_pos(n, &g->line, &g->column);
    g->count = 1;
    g->token = WR_TOKEN_VALID;
    if (!wr__yaml_is_mapping(n))
        return wr__yaml_fail(c, n, "a client group must be a mapping, got %s",
                             wr__yaml_shown(n, buf, sizeof buf));
    if ((rc = wr__yaml_take_keys(c, n, "client group", names, N, keys, vals)) <
        0)
        return rc;
    if (keys[STEPS] == NULL)
        return wr__yaml_missing(c, n, "steps", "client group");
    if (keys[NAME] != NULL) {
        if ((rc = wr__yaml_get_str(c, vals[NAME], "name", &g->name)) < 0)
            return rc;
    } else {
        snprintf(buf, sizeof buf, "group-%zu", index);
        if ((g->name = strdup(buf)) == NULL)
            return wr__yaml_nomem(c);
    }
    if (keys[COUNT] != NULL &&
        (rc = wr__yaml_get_int(c, vals[COUNT], "count", 1, MAX_GROUP_COUNT,
                               &g->count)) < 0)
        return rc;
    if (keys[USER] != NULL)
        rc = wr__yaml_get_str(c, vals[USER], "user", &g->user);
    else
        rc = (g->user = strdup("u{g}")) ? 0 : wr__yaml_nomem(c);
    if (rc < 0)
        return rc;
    if (explicit_null(vals[SESSION]))
        rc = 0; /* `session: null`: the clients name none */
    else if (keys[SESSION] != NULL)
        rc = wr__yaml_get_str(c, vals[SESSION], "session", &g->session);
    else
        rc = (g->session = strdup("s{g}")) ? 0 : wr__yaml_nomem(c);
    if (rc < 0)
        return rc;
    if (keys[TOKEN] != NULL) {
        const char *t = wr__yaml_is_scalar(vals[TOKEN])
                            ? fy_node_get_scalar0(vals[TOKEN])
                            : "";
        int k;

        for (k = WR_TOKEN_NONE; k >= 0 && strcmp(t, token_names[k]) != 0; k--)
            ;
        if (k < 0)
            return wr__yaml_fail(c, vals[TOKEN],
                                 "'token' must be one of valid, expired, "
                                 "bad-signature, none, got %s",
                                 wr__yaml_shown(vals[TOKEN], buf, sizeof buf));
        g->token = (wr_token_kind_t)k;
    }
    if (keys[JITTER] != NULL &&
        (rc = wr__yaml_get_int(c, vals[JITTER], "start_jitter_ms", 0, INT_MAX,
                               &g->start_jitter_ms)) < 0)
        return rc;
    if (keys[INSTANCE] != NULL &&
        (rc = wr__yaml_get_str(c, vals[INSTANCE], "instance", &g->instance)) <
            0)
        return rc;
    if (!wr__yaml_is_sequence(vals[STEPS]) ||
        fy_node_sequence_item_count(vals[STEPS]) == 0)
        return wr__yaml_fail(
            c, vals[STEPS],
            "'steps' must be a non-empty sequence of steps, got %s",
            wr__yaml_shown(vals[STEPS], buf, sizeof buf));
    g->nsteps = (size_t)fy_node_sequence_item_count(vals[STEPS]);
    if ((g->steps = calloc(g->nsteps, sizeof(*g->steps))) == NULL) {
        g->nsteps = 0;
        return wr__yaml_nomem(c);
    }
    while ((item = fy_node_sequence_iterate(vals[STEPS], &it)) != NULL)
        if ((rc = parse_step(c, item, &g->steps[i++])) < 0)
            return rc;
    return 0;
}

/* Send, expect and close need an open connection; connect needs none. An
 * expect_close may follow a close (waiting for the close handshake). */
static int check_connections(wr__yaml_ctx_t *c, const wr_group_t *g)
{
    const wr_step_t *open = NULL;  /* the connect of the open connection */
    const wr_step_t *ended = NULL; /* the step that ended the last one */

    for (size_t i = 0; i < g->nsteps; i++) {
        const wr_step_t *st = &g->steps[i];
        const char *name = wr_step_kind_name(st->kind);

        switch (st->kind) {
        case WR_STEP_CONNECT:
            if (open != NULL)
                return wr__yaml_fail_at(
                    c, st->line, st->column,
                    "second 'connect' while the connection "
                    "opened at %d:%d is still open (close it or "
                    "expect_close first)",
                    open->line, open->column);
            open = st;
            break;
        case WR_STEP_SEND:
        case WR_STEP_EXPECT:
        case WR_STEP_CLOSE:
        case WR_STEP_EXPECT_CLOSE:
            if (open == NULL && st->kind == WR_STEP_EXPECT_CLOSE &&
                ended != NULL && ended->kind == WR_STEP_CLOSE) {
                ended = st;
                break;
            }
            if (open == NULL && ended == NULL)
                return wr__yaml_fail_at(
                    c, st->line, st->column,
                    "'%s' before the first 'connect' (it needs "
                    "a connection)",
                    name);
            if (open == NULL)
                return wr__yaml_fail_at(
                    c, st->line, st->column,
                    "'%s' after the connection was closed at "
                    "%d:%d (it needs a connection: connect "
                    "again first)",
                    name, ended->line, ended->column);
            if (st->kind == WR_STEP_CLOSE || st->kind == WR_STEP_EXPECT_CLOSE) {
                ended = st;
                open = NULL;
            }
            break;
        case WR_STEP_BARRIER:
        case WR_STEP_SLEEP:
        case WR_STEP_PROBE_READY:
        case WR_STEP_KILL_INSTANCE:
        case WR_STEP_RESTART_INSTANCE:
        case WR_STEP_PAUSE_INSTANCE:
        case WR_STEP_RESUME_INSTANCE:
            break;
        }
    }
    return 0;
}

/* A barrier releases its clients once all of them arrive; one reached by a
 * single client (over all groups) is a mistake, reported at its first
 * occurrence, and so is a name used twice in one group. */
static int check_barriers(wr__yaml_ctx_t *c, const wr_scenario_t *s)
{
    struct barrier {
        const wr_step_t *first; /* first occurrence, for the message */
        size_t arrivals;        /* clients x occurrences */
    } *b = NULL;
    size_t nb = 0, total = 0;
    int rc = 0;

    for (size_t gi = 0; gi < s->ngroups; gi++)
        for (size_t i = 0; i < s->groups[gi].nsteps; i++)
            total += s->groups[gi].steps[i].kind == WR_STEP_BARRIER;
    if (total == 0)
        return 0;
    if ((b = calloc(total, sizeof(*b))) == NULL)
        return wr__yaml_nomem(c);
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        const wr_group_t *g = &s->groups[gi];

        for (size_t i = 0; i < g->nsteps; i++) {
            const wr_step_t *st = &g->steps[i];
            size_t j;

            if (st->kind != WR_STEP_BARRIER)
                continue;
            /* Barriers are one-shot: a client that met it once would wait
             * at its second occurrence for arrivals that never come. */
            for (size_t k = 0; k < i && rc == 0; k++)
                if (g->steps[k].kind == WR_STEP_BARRIER &&
                    strcmp(g->steps[k].name, st->name) == 0)
                    rc = wr__yaml_fail_at(
                        c, st->line, st->column,
                        "barrier '%s' appears twice in one group; "
                        "barriers are one-shot, use a new name",
                        st->name);
            if (rc != 0)
                goto out;
            for (j = 0; j < nb && strcmp(b[j].first->name, st->name) != 0; j++)
                ;
            if (j == nb)
                b[nb++].first = st;
            b[j].arrivals += (size_t)g->count;
        }
    }
    for (size_t j = 0; j < nb; j++)
        if (b[j].arrivals < 2) {
            rc = wr__yaml_fail_at(
                c, b[j].first->line, b[j].first->column,
                "barrier '%s' is reached by only one client in the "
                "whole scenario (a barrier lines up two or more)",
                b[j].first->name);
            break;
        }
out:
    free(b);
    return rc;
}

static bool name_ok(const char *name)
{
    if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9')))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
           strlen(name);
}

static int parse_gateway(wr__yaml_ctx_t *c, struct fy_node *n,
                         wr_gateway_opts_t *o)
{
    enum {
        INJECT,
        SYNC,
        WORKERS,
        LATENCY,
        QUEUE,
        MESSAGE,
        INSTANCES,
        REGISTRY,
        TTL,
        CONNS,
        N
    };
    static const char *const names[N] = {
        "inject",      "sync",      "workers",  "service_latency_ms",
        "max_queue",   "max_message", "instances", "registry",
        "registry_ttl_ms", "max_connections"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    if (!wr__yaml_is_mapping(n))
        return wr__yaml_fail(c, n, "'gateway' must be a mapping, got %s",
                             wr__yaml_shown(n, buf, sizeof buf));
    if ((rc = wr__yaml_take_keys(c, n, "'gateway'", names, N, keys, vals)) < 0)
        return rc;
    if (keys[INJECT] != NULL &&
        (rc = get_faults(c, vals[INJECT], "inject", &o->inject)) < 0)
        return rc;
    if (keys[SYNC] != NULL &&
        (rc = wr__yaml_get_str_list(c, vals[SYNC], "sync", check_sync, &o->sync,
                                    &o->nsync)) < 0)
        return rc;
    if (keys[WORKERS] != NULL &&
        (rc = wr__yaml_get_int(c, vals[WORKERS], "workers", 1, MAX_WORKERS,
                               &o->workers)) < 0)
        return rc;
    if (keys[LATENCY] != NULL &&
        (rc = wr__yaml_get_int(c, vals[LATENCY], "service_latency_ms", 0,
                               INT_MAX, &o->service_latency_ms)) < 0)
        return rc;
    if (keys[QUEUE] != NULL &&
        (rc = wr__yaml_get_int(c, vals[QUEUE], "max_queue", 1, INT_MAX,
                               &o->max_queue)) < 0)
        return rc;
    if (keys[MESSAGE] != NULL &&
        (rc = wr__yaml_get_int(c, vals[MESSAGE], "max_message", MIN_MAX_MESSAGE,
                               INT_MAX, &o->max_message)) < 0)
        return rc;
    if (keys[CONNS] != NULL &&
        (rc = wr__yaml_get_int(c, vals[CONNS], "max_connections", 1,
                               WR_SCENARIO_CLIENTS_MAX,
                               &o->max_connections)) < 0)
        return rc;
    if (keys[REGISTRY] != NULL) {
        const char *v = wr__yaml_is_scalar(vals[REGISTRY])
                            ? fy_node_get_scalar0(vals[REGISTRY])
                            : "";

        if (strcmp(v, "redis") == 0)
            o->registry = WR_REGISTRY_REDIS;
        else if (strcmp(v, "memory") != 0)
            return wr__yaml_fail(c, vals[REGISTRY],
                                 "'registry' must be memory or redis, got %s",
                                 wr__yaml_shown(vals[REGISTRY], buf,
                                                sizeof buf));
    }
    if (keys[INSTANCES] != NULL) {
        if ((rc = wr__yaml_get_int(c, vals[INSTANCES], "instances", 1,
                                   WR_INSTANCES_MAX, &o->instances)) < 0)
            return rc;
        if (o->instances > 1 && o->registry != WR_REGISTRY_REDIS)
            return wr__yaml_fail(c, vals[INSTANCES],
                                 "'instances: %d' needs 'registry: redis' "
                                 "(the instances of a cluster share one "
                                 "registry)",
                                 o->instances);
    }
    if (keys[TTL] != NULL) {
        if ((rc = wr__yaml_get_int(c, vals[TTL], "registry_ttl_ms", 100,
                                   600000, &o->registry_ttl_ms)) < 0)
            return rc;
        if (o->registry != WR_REGISTRY_REDIS)
            return wr__yaml_fail(c, keys[TTL],
                                 "'registry_ttl_ms' is the TTL of Redis "
                                 "entries; it needs 'registry: redis'");
    }
    return 0;
}

/* What a cluster needs, once the whole file is read: faults of a cluster
 * and nemesis steps only with a Redis registry, nemesis steps on an
 * instance that exists. */
static int check_cluster(wr__yaml_ctx_t *c, const wr_scenario_t *s,
                         struct fy_node *exposes, struct fy_node *gateway)
{
    int f;

    if (s->gateway.registry != WR_REGISTRY_REDIS) {
        if ((f = wsr_faults_cluster_only(&s->exposes)) >= 0)
            return wr__yaml_fail(c, exposes,
                                 "'%s' is a fault of a cluster; a scenario "
                                 "that exposes it needs 'registry: redis' "
                                 "in its gateway block",
                                 wsr_fault_name((wsr_fault_id_t)f));
        if ((f = wsr_faults_cluster_only(&s->gateway.inject)) >= 0)
            return wr__yaml_fail(c, gateway,
                                 "'%s' is a fault of a cluster; injecting it "
                                 "needs 'registry: redis'",
                                 wsr_fault_name((wsr_fault_id_t)f));
    }
    for (size_t gi = 0; gi < s->ngroups; gi++)
        for (size_t i = 0; i < s->groups[gi].nsteps; i++) {
            const wr_step_t *st = &s->groups[gi].steps[i];

            if (!WR_STEP_IS_NEMESIS(st->kind))
                continue;
            if (s->gateway.registry != WR_REGISTRY_REDIS)
                return wr__yaml_fail_at(
                    c, st->line, st->column,
                    "'%s' acts on an instance of a cluster; it needs "
                    "'registry: redis' in the gateway block",
                    wr_step_kind_name(st->kind));
            if (st->target >= s->gateway.instances)
                return wr__yaml_fail_at(
                    c, st->line, st->column,
                    "'%s: %d' names an instance the scenario does not have "
                    "(instances: %d, numbered from 0)",
                    wr_step_kind_name(st->kind), st->target,
                    s->gateway.instances);
        }
    return 0;
}

static int parse_clients(wr__yaml_ctx_t *c, struct fy_node *v, wr_scenario_t *s)
{
    struct fy_node *item;
    void *it = NULL;
    char buf[96];
    size_t i = 0;
    int rc;

    if (!wr__yaml_is_sequence(v) || fy_node_sequence_item_count(v) == 0)
        return wr__yaml_fail(c, v,
                             "'clients' must be a non-empty sequence of client "
                             "groups, got %s",
                             wr__yaml_shown(v, buf, sizeof buf));
    s->ngroups = (size_t)fy_node_sequence_item_count(v);
    if ((s->groups = calloc(s->ngroups, sizeof(*s->groups))) == NULL) {
        s->ngroups = 0;
        return wr__yaml_nomem(c);
    }
    size_t total = 0;
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        wr_group_t *g = &s->groups[i];

        if ((rc = parse_group(c, item, i, g)) < 0)
            return rc;
        if ((total += (size_t)g->count) > WR_SCENARIO_CLIENTS_MAX)
            return wr__yaml_fail_at(c, g->line, g->column,
                                    "this group brings the scenario to %zu "
                                    "clients, over the limit of %d",
                                    total, WR_SCENARIO_CLIENTS_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->groups[j].name, g->name) == 0)
                return wr__yaml_fail_at(c, g->line, g->column,
                                        "two client groups are named '%s' (the "
                                        "other at %d:%d)",
                                        g->name, s->groups[j].line,
                                        s->groups[j].column);
        if ((rc = check_connections(c, g)) < 0)
            return rc;
        i++;
    }
    return check_barriers(c, s);
}

/* Reads the `chaos` mapping. */
static int parse_chaos(wr__yaml_ctx_t *c, struct fy_node *n, wr_chaos_t *o)
{
    enum { CLOSE, RECONNECT, BURST, PROBE, N };
    static const char *const names[N] = {"close_percent",
                                         "reconnect_percent", "burst",
                                         "probe_percent"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    if (!wr__yaml_is_mapping(n))
        return wr__yaml_fail(c, n, "'chaos' must be a mapping or off, got %s",
                             wr__yaml_shown(n, buf, sizeof buf));
    if ((rc = wr__yaml_take_keys(c, n, "'chaos'", names, N, keys, vals)) < 0)
        return rc;
    o->on = true;
    if (keys[CLOSE] != NULL &&
        (rc = wr__yaml_get_int(c, vals[CLOSE], "close_percent", 0, 100,
                               &o->close_percent)) < 0)
        return rc;
    if (keys[RECONNECT] != NULL &&
        (rc = wr__yaml_get_int(c, vals[RECONNECT], "reconnect_percent", 0,
                               100, &o->reconnect_percent)) < 0)
        return rc;
    if (keys[BURST] != NULL &&
        (rc = wr__yaml_get_int(c, vals[BURST], "burst", 0, MAX_BURST,
                               &o->burst)) < 0)
        return rc;
    if (keys[PROBE] != NULL &&
        (rc = wr__yaml_get_int(c, vals[PROBE], "probe_percent", 0, 100,
                               &o->probe_percent)) < 0)
        return rc;
    return 0;
}

/* Reads a pinned `schedule` (as replay.json writes one; a shrunk case's):
 * {strategy, seed, depth, expected, quantum_us, releases: [[point,
 * session, n], ...]}. */
static int parse_schedule(wr__yaml_ctx_t *c, struct fy_node *n,
                          wr_schedule_t *out)
{
    json_t *j = NULL;
    char err[256];
    int rc;

    if (!wr__yaml_is_mapping(n))
        return wr__yaml_fail(c, n, "'schedule' must be a mapping");
    if ((rc = wr__yaml_to_json(c, n, &j)) < 0)
        return rc;
    rc = wr_schedule_from_json(out, j, err, sizeof err);
    json_decref(j);
    if (rc != 0)
        return wr__yaml_fail(c, n, "%s", err);
    if (out->kind == WR_SCHED_NONE)
        return wr__yaml_fail(c, n, "a pinned schedule needs a strategy "
                                   "other than none");
    return 0;
}

static int parse_root(wr__yaml_ctx_t *c, struct fy_node *root, wr_scenario_t *s)
{
    enum {
        NAME,
        DESC,
        EXPOSES,
        GATEWAY,
        CLIENTS,
        CHECKS,
        READY,
        TIMEOUT,
        DRAIN,
        CHAOS,
        SCHEDULE,
        SEED,
        N
    };
    static const char *const names[N] = {
        "name",       "description",      "exposes",    "gateway",
        "clients",    "checks",           "ready_timeout_ms",
        "timeout_ms", "drain_ms",         "chaos",      "schedule",
        "seed"};
    struct fy_node *keys[N], *vals[N];
    char buf[96];
    int rc;

    if (!wr__yaml_is_mapping(root))
        return wr__yaml_fail(c, root,
                             "a scenario must be a mapping (name, description, "
                             "clients, ...), got %s",
                             wr__yaml_shown(root, buf, sizeof buf));
    if ((rc = wr__yaml_take_keys(c, root, "the scenario", names, N, keys,
                                 vals)) < 0)
        return rc;
    if (keys[NAME] == NULL)
        return wr__yaml_missing(c, root, "name", NULL);
    if (keys[DESC] == NULL)
        return wr__yaml_missing(c, root, "description", NULL);
    if (keys[CLIENTS] == NULL)
        return wr__yaml_missing(c, root, "clients", NULL);
    if ((rc = wr__yaml_get_str(c, vals[NAME], "name", &s->name)) < 0)
        return rc;
    if (!name_ok(s->name) || strlen(s->name) > WR_SCENARIO_NAME_MAX)
        return wr__yaml_fail(c, vals[NAME],
                             "'name' must match [a-z0-9][a-z0-9-]* and be at "
                             "most %d characters, got '%.80s'",
                             WR_SCENARIO_NAME_MAX, s->name);
    if ((rc = wr__yaml_get_str(c, vals[DESC], "description", &s->description)) <
        0)
        return rc;
    if (s->description[strspn(s->description, " \t\n")] == '\0')
        return wr__yaml_fail(c, vals[DESC], "'description' must not be blank");
    if (keys[EXPOSES] != NULL &&
        (rc = get_faults(c, vals[EXPOSES], "exposes", &s->exposes)) < 0)
        return rc;
    if (keys[GATEWAY] != NULL &&
        (rc = parse_gateway(c, vals[GATEWAY], &s->gateway)) < 0)
        return rc;
    if (keys[CHECKS] != NULL &&
        (rc = get_checks(c, vals[CHECKS], &s->checks)) < 0)
        return rc;
    if (keys[READY] != NULL &&
        (rc = wr__yaml_get_int(c, vals[READY], "ready_timeout_ms", 1, INT_MAX,
                               &s->ready_timeout_ms)) < 0)
        return rc;
    if (keys[TIMEOUT] != NULL &&
        (rc = wr__yaml_get_int(c, vals[TIMEOUT], "timeout_ms", 1, INT_MAX,
                               &s->timeout_ms)) < 0)
        return rc;
    if (keys[DRAIN] != NULL &&
        (rc = wr__yaml_get_int(c, vals[DRAIN], "drain_ms", 0, 600000,
                               &s->drain_ms)) < 0)
        return rc;
    if (keys[CHAOS] != NULL && wr__yaml_is_scalar(vals[CHAOS]) &&
        strcmp(fy_node_get_scalar0(vals[CHAOS]), "off") == 0)
        s->chaos_off = true;
    else if (keys[CHAOS] != NULL &&
             (rc = parse_chaos(c, vals[CHAOS], &s->chaos)) < 0)
        return rc;
    if (keys[SCHEDULE] != NULL &&
        (rc = parse_schedule(c, vals[SCHEDULE], &s->schedule)) < 0)
        return rc;
    if (keys[SEED] != NULL) {
        int seed;

        if ((rc = wr__yaml_get_int(c, vals[SEED], "seed", 0, INT_MAX,
                                   &seed)) < 0)
            return rc;
        s->seed_pinned = true;
        s->seed = (unsigned long long)seed;
    }
    if ((rc = parse_clients(c, vals[CLIENTS], s)) < 0)
        return rc;
    return check_cluster(c, s, vals[EXPOSES] ? vals[EXPOSES] : root,
                         vals[GATEWAY] ? vals[GATEWAY] : root);
}

/* The template variables of wr_scenario_expand, as written in a file. */
static const char *const templates[] = {"{i}",       "{g}",    "{user}",
                                        "{session}", "{seed}", NULL};

/* What the loader says about a file that is not one scenario. */
static const wr__yaml_expect_t scenario_doc = {
    .no_document = "no YAML document (expected a mapping with name, "
                   "description and clients)",
    .second_document = "a second YAML document ('---'); a scenario file "
                       "holds one",
    .flow_words = templates,
};

/* Parses text, which the new scenario takes over (it is freed on error). */
static wr_scenario_t *parse_owned(wr__yaml_ctx_t *c, char *text)
{
    wr__yaml_doc_t doc = {NULL, NULL, NULL};
    wr_scenario_t *s;
    int rc = -ENOMEM;

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        free(text);
        wr__yaml_nomem(c);
        return NULL;
    }
    s->text = text;
    s->gateway.service_latency_ms = -1;
    s->gateway.instances = 1;
    s->checks = WSR_CHECKS_ALL;
    s->ready_timeout_ms = DEFAULT_READY_MS;
    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    s->drain_ms = DEFAULT_DRAIN_MS;
    if ((s->path = strdup(c->path)) == NULL || text == NULL)
        goto out;
    rc = wr__yaml_load(c, text, &scenario_doc, &doc);
    if (rc == 0)
        rc = parse_root(c, fy_document_root(doc.fyd), s);
out:
    if (rc == -ENOMEM)
        wr__yaml_nomem(c);
    wr__yaml_unload(&doc);
    if (rc < 0) {
        wr_scenario_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                     */
/* ------------------------------------------------------------------ */

wr_scenario_t *wr_scenario_parse(const char *path, const char *text, char *err,
                                 size_t errlen)
{
    wr__yaml_ctx_t c = {path ? path : "<scenario>", err, errlen};
    char *copy;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL) {
        wr__yaml_fail_at(&c, 0, 0, "no text");
        return NULL;
    }
    if ((copy = strdup(text)) == NULL) {
        wr__yaml_nomem(&c);
        return NULL;
    }
    return parse_owned(&c, copy);
}

wr_scenario_t *wr_scenario_load(const char *path, char *err, size_t errlen)
{
    wr__yaml_ctx_t c = {path ? path : "<scenario>", err, errlen};
    FILE *f = NULL;
    char *text = NULL, *nul;
    size_t len = 0, cap = 0;
    int e = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || (f = fopen(path, "r")) == NULL) {
        e = path ? errno : EINVAL;
        goto err;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            char *grown = realloc(text, cap * 2 + 4096);

            if (grown == NULL) {
                e = ENOMEM;
                goto err;
            }
            text = grown;
            cap = cap * 2 + 4096;
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        e = errno ? errno : EIO;
        goto err;
    }
    fclose(f);
    f = NULL;
    text[len] = '\0';
    /* libfyaml would stop at a NUL; say so instead of reading half. */
    if ((nul = memchr(text, '\0', len)) != NULL) {
        int line = 1, col = 1;

        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n') {
                line++;
                col = 0;
            }
        wr__yaml_fail_at(&c, line, col, "a NUL byte in the file");
        free(text);
        return NULL;
    }
    return parse_owned(&c, text);
err:
    if (f != NULL)
        fclose(f);
    free(text);
    wr__yaml_fail_at(&c, 0, 0, "cannot read: %s", strerror(e));
    return NULL;
}

void wr_scenario_free(wr_scenario_t *s)
{
    if (s == NULL)
        return;
    wr_schedule_clear(&s->schedule);
    for (size_t g = 0; g < s->ngroups; g++) {
        wr_group_t *gr = &s->groups[g];

        for (size_t i = 0; i < gr->nsteps; i++) {
            wr_step_t *st = &gr->steps[i];

            free(st->name);
            json_decref(st->message);
            free(st->raw);
            free(st->msg_type);
            json_decref(st->match);
            free(st->key);
            free(st->instance);
        }
        free(gr->steps);
        free(gr->name);
        free(gr->user);
        free(gr->session);
        free(gr->instance);
    }
    free(s->groups);
    for (size_t i = 0; i < s->gateway.nsync; i++)
        free(s->gateway.sync[i]);
    free(s->gateway.sync);
    free(s->name);
    free(s->description);
    free(s->text);
    free(s->path);
    free(s);
}

bool wr_scenario_cluster(const wr_scenario_t *s)
{
    return s != NULL && s->gateway.registry == WR_REGISTRY_REDIS;
}

int wr_scenario_instance(const wr_scenario_t *s, const wr_group_t *grp,
                         const wr_step_t *st, int i, int g, const char *user,
                         const char *session, unsigned long long seed)
{
    const char *tmpl = st != NULL && st->instance != NULL ? st->instance
                       : grp != NULL                      ? grp->instance
                                                          : NULL;
    int n = s != NULL && s->gateway.instances > 1 ? s->gateway.instances : 1;
    long long v = g;
    char *text;

    if (n == 1)
        return 0;
    if (tmpl != NULL &&
        (text = wr_scenario_expand(tmpl, i, g, user, session, seed)) != NULL) {
        /* N, or N+M ("{g}+1": the next instance); anything else is
         * round robin, as without the field. */
        char *plus = strchr(text, '+');
        long long add = 0;

        if (plus != NULL && plus != text)
            *plus = '\0';
        else
            plus = NULL;
        if (!wr__yaml_parse_ll(text, &v) ||
            (plus != NULL && !wr__yaml_parse_ll(plus + 1, &add)))
            v = g;
        else
            v += add;
        free(text);
    }
    v %= n;
    return (int)(v < 0 ? v + n : v);
}

size_t wr_scenario_clients(const wr_scenario_t *s)
{
    size_t n = 0;

    for (size_t g = 0; s != NULL && g < s->ngroups; g++)
        n += (size_t)s->groups[g].count;
    return n;
}

const char *wr_token_kind_name(wr_token_kind_t k)
{
    if ((unsigned)k >= sizeof token_names / sizeof token_names[0])
        return NULL;
    return token_names[k];
}

const char *wr_step_kind_name(wr_step_kind_t k)
{
    if ((unsigned)k >= NSTEP_KINDS)
        return NULL;
    return step_names[k];
}
