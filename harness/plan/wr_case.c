/* wr_case.c - Names of expectations, target states and statuses, what a
 * finished case says at a glance (which checks ran, which failed, whether
 * its target could be run), and the release of a run record. Static data;
 * any thread. */
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plan/wr_case.h"
#include "checks/wr_check.h"

const char *wr_expect_name(wr_expect_t e)
{
    switch (e) {
    case WR_EXPECT_PASS:
        return "PASS";
    case WR_EXPECT_FAIL:
        return "FAIL";
    case WR_EXPECT_ANY:
        return "ANY";
    }
    return "?";
}

unsigned wr_case_ran(const wr_case_t *c)
{
    unsigned m = 0;

    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        if (c->ran[i])
            m |= 1u << i;
    return m;
}

unsigned wr_case_verdicts(const wr_case_t *c, wr_verdict_t v)
{
    unsigned m = 0;

    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        if (c->ran[i] && c->results[i].verdict == v)
            m |= 1u << i;
    return m;
}

bool wr_case_infra_problem(const wr_case_t *c)
{
    return c->target_state == WR_TARGET_NO_START ||
           c->target_state == WR_TARGET_HUNG || c->target_error[0] != '\0';
}

int wr_expect_from_name(const char *name)
{
    for (int e = WR_EXPECT_PASS; name != NULL && e <= WR_EXPECT_ANY; e++)
        if (strcmp(name, wr_expect_name((wr_expect_t)e)) == 0)
            return e;
    return -1;
}

const char *wr_target_state_name(wr_target_state_t s)
{
    switch (s) {
    case WR_TARGET_OK:
        return "ok";
    case WR_TARGET_CRASHED:
        return "crashed";
    case WR_TARGET_HUNG:
        return "hung";
    case WR_TARGET_NO_START:
        return "no-start";
    case WR_TARGET_EXTERNAL:
        return "external";
    }
    return "?";
}

static const char *const status_names[] = {
    [WR_STATUS_OK] = "ok",
    [WR_STATUS_UNEXPECTED] = "unexpected",
    [WR_STATUS_BAD_INPUT] = "bad-input",
    [WR_STATUS_INFRA] = "infra",
    [WR_STATUS_INTERRUPTED] = "interrupted",
};

static const char *const status_meanings[] = {
    [WR_STATUS_OK] = "every verdict as expected",
    [WR_STATUS_UNEXPECTED] = "an unexpected verdict",
    [WR_STATUS_BAD_INPUT] = "bad usage or input",
    [WR_STATUS_INFRA] = "the target could not be run or the report not "
                        "written",
    [WR_STATUS_INTERRUPTED] = "interrupted",
};

wr_status_t wr_status_worse(wr_status_t a, wr_status_t b)
{
    return a > b ? a : b;
}

const char *wr_status_name(wr_status_t s)
{
    return (unsigned)s <= WR_STATUS_INTERRUPTED ? status_names[s] : "?";
}

const char *wr_status_meaning(wr_status_t s)
{
    return (unsigned)s <= WR_STATUS_INTERRUPTED ? status_meanings[s] : "?";
}

wr_status_t wr_status_from_name(const char *name)
{
    for (int s = 0; name != NULL && s <= WR_STATUS_INTERRUPTED; s++)
        if (strcmp(status_names[s], name) == 0)
            return (wr_status_t)s;
    return WR_STATUS_INFRA;
}

/* Appends word to out (used bytes of len), in single quotes unless it
 * holds only characters a shell takes literally. Returns false when it
 * does not fit. */
static bool put_word(char *out, size_t len, size_t *used, const char *word,
                     bool space)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "@%+=:,./-_";
    bool quote = word[0] == '\0' || strspn(word, plain) != strlen(word);
    size_t u = *used;

#define PUT(ch)                                                                \
    do {                                                                       \
        if (u + 1 >= len)                                                      \
            return false;                                                      \
        out[u++] = (ch);                                                       \
    } while (0)
    if (space)
        PUT(' ');
    if (quote)
        PUT('\'');
    for (const char *p = word; *p; p++) {
        if (quote && *p == '\'') {
            /* ' ends the quote, \' is a quote, ' opens it again */
            PUT('\'');
            PUT('\\');
            PUT('\'');
            PUT('\'');
        } else {
            PUT(*p);
        }
    }
    if (quote)
        PUT('\'');
#undef PUT
    out[u] = '\0';
    *used = u;
    return true;
}

int wr_case_set_replay(wr_case_t *c, const char *self, const char *run_dir)
{
    char file[PATH_MAX];
    size_t used = 0;

    c->replay[0] = '\0';
    if ((size_t)snprintf(file, sizeof(file), "%s/%s/replay.json", run_dir,
                         c->dir) >= sizeof(file) ||
        !put_word(c->replay, sizeof(c->replay), &used, self, false) ||
        !put_word(c->replay, sizeof(c->replay), &used, "replay", true) ||
        !put_word(c->replay, sizeof(c->replay), &used, file, true)) {
        c->replay[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

void wr_case_init(wr_case_t *c, size_t index, const wr_scenario_t *s,
                  const wsr_faults_t *f, unsigned long long seed,
                  const char *prefix)
{
    char label[WSR_FAULTS_TEXT_MAX], pos[32];

    memset(c, 0, sizeof(*c));
    c->index = index;
    c->scenario = s;
    c->faults = *f;
    wsr_faults_format(f, c->inject, sizeof(c->inject));
    c->seed = seed;
    c->target_exit_code = -1;
    c->first_fail_ns = -1;
    snprintf(label, sizeof(label), "%s", c->inject[0] ? c->inject : "none");
    for (char *p = label; *p; p++)
        if (*p == ',' || *p == '=')
            *p = '+';
    if (prefix == NULL) {
        snprintf(pos, sizeof(pos), "%02zu", index + 1);
        prefix = pos;
    }
    snprintf(c->id, sizeof(c->id), "%.40s-%s-%s-s%llu", prefix, s->name,
             label, seed);
    snprintf(c->dir, sizeof(c->dir), "cases/%s", c->id);
}
