/* wr_template.c - Template expansion of scenario strings: {i}, {g},
 * {user}, {session}, {seed} (wr_scenario.h). Unknown names stay as they
 * are. Pure; any thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wr_scenario.h"

/* A growing string for wr_scenario_expand. */
typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

static int sbuf_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);

        if (p == NULL)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* The value of template variable name (len bytes) for one client, or NULL
 * when it is unknown (or user/session not known yet). num holds numbers. */
static const char *template_value(const char *name, size_t len, int i, int g,
                                  const char *user, const char *session,
                                  unsigned long long seed, char *num,
                                  size_t numlen)
{
    if (len == 1 && name[0] == 'i')
        snprintf(num, numlen, "%d", i);
    else if (len == 1 && name[0] == 'g')
        snprintf(num, numlen, "%d", g);
    else if (len == 4 && strncmp(name, "seed", 4) == 0)
        snprintf(num, numlen, "%llu", seed);
    else if (len == 4 && strncmp(name, "user", 4) == 0)
        return user;
    else if (len == 7 && strncmp(name, "session", 7) == 0)
        return session;
    else
        return NULL;
    return num;
}

char *wr_scenario_expand(const char *tmpl, int i, int g, const char *user,
                         const char *session, unsigned long long seed)
{
    sbuf_t b = {NULL, 0, 0};
    const char *p = tmpl;

    if (tmpl == NULL || sbuf_add(&b, "", 0) < 0)
        return NULL;
    while (*p != '\0') {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        const char *value;
        char num[32];

        if (close == NULL) {
            if (sbuf_add(&b, p, strlen(p)) < 0)
                goto err;
            break;
        }
        if (sbuf_add(&b, p, (size_t)(open - p)) < 0)
            goto err;
        value = template_value(open + 1, (size_t)(close - open - 1), i, g, user,
                               session, seed, num, sizeof num);
        if (value != NULL) {
            if (sbuf_add(&b, value, strlen(value)) < 0)
                goto err;
            p = close + 1;
        } else {
            /* Unknown: keep the '{' and look for a name after it, so
             * "{{i}" keeps one brace and expands the rest. */
            if (sbuf_add(&b, open, 1) < 0)
                goto err;
            p = open + 1;
        }
    }
    return b.p;
err:
    free(b.p);
    return NULL;
}
