/* wr_pool.c - Warm gateways (wr_pool.h). */
#include "drive/wr_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_MS 2000 /* a spare that is not taken is stopped this fast */

typedef struct {
    wr_target_t t;
    /* The options it was started with, deep copies. */
    char *path, *dir, *wrapper, *secret, *tag;
    int port, start_timeout_ms;
    wr_argv_t args;
} spare_t;

struct wr_pool {
    size_t max, n;
    size_t taken, wasted;
    spare_t *s;
};

wr_pool_t *wr_pool_new(size_t max)
{
    wr_pool_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->max = max > 0 ? max : 1;
    p->s = calloc(p->max, sizeof(*p->s));
    if (p->s == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static size_t nargs(char *const *v)
{
    size_t n = 0;

    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

static bool same_args(char *const *a, char *const *b)
{
    size_t n = nargs(a);

    if (n != nargs(b))
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

bool wr_pool_same(const wr_target_opts_t *a, const wr_target_opts_t *b)
{
    return same_str(a->path, b->path) && same_str(a->dir, b->dir) &&
           same_str(a->wrapper, b->wrapper) &&
           same_str(a->secret, b->secret) && same_str(a->tag, b->tag) &&
           a->port == b->port && same_args(a->args, b->args);
}

static void spare_opts(const spare_t *s, wr_target_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->path = s->path;
    o->dir = s->dir;
    o->wrapper = s->wrapper;
    o->secret = s->secret;
    o->tag = s->tag;
    o->port = s->port;
    o->start_timeout_ms = s->start_timeout_ms;
    o->args = s->args.v;
}

static void spare_clear(spare_t *s)
{
    free(s->path);
    free(s->dir);
    free(s->wrapper);
    free(s->secret);
    free(s->tag);
    wr_argv_free(&s->args);
    memset(s, 0, sizeof(*s));
}

/* Removes spare i from the pool (the last one takes its place). */
static void remove_at(wr_pool_t *p, size_t i)
{
    spare_clear(&p->s[i]);
    p->n--;
    if (i != p->n) {
        p->s[i] = p->s[p->n];
        memset(&p->s[p->n], 0, sizeof(p->s[p->n]));
    }
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d = s ? strdup(s) : NULL;

    if (s != NULL && d == NULL)
        *oom = true;
    return d;
}

int wr_pool_warm(wr_pool_t *p, const wr_target_opts_t *o)
{
    spare_t *s;
    bool oom = false;
    int rc = 0;

    if (p->n >= p->max)
        return -EBUSY;
    for (size_t i = 0; i < p->n; i++)
        if (same_str(p->s[i].dir, o->dir) && same_str(p->s[i].tag, o->tag))
            return -EEXIST;
    s = &p->s[p->n];
    memset(s, 0, sizeof(*s));
    s->path = dup_or_null(o->path, &oom);
    s->dir = dup_or_null(o->dir, &oom);
    s->wrapper = dup_or_null(o->wrapper, &oom);
    s->secret = dup_or_null(o->secret, &oom);
    s->tag = dup_or_null(o->tag, &oom);
    s->port = o->port;
    s->start_timeout_ms = o->start_timeout_ms;
    for (size_t i = 0; !oom && rc == 0 && o->args && o->args[i]; i++)
        rc = wr_argv_push(&s->args, o->args[i]);
    if (oom || rc != 0) {
        spare_clear(s);
        return -ENOMEM;
    }
    {
        wr_target_opts_t so;

        spare_opts(s, &so);
        rc = wr_target_spawn(&s->t, &so);
    }
    if (rc != 0) {
        spare_clear(s);
        return rc;
    }
    p->n++;
    return 0;
}

int wr_pool_take(wr_pool_t *p, wr_target_t *t, const wr_target_opts_t *o)
{
    int rc = -ENOENT;

    for (size_t i = 0; i < p->n;) {
        wr_target_opts_t so;

        spare_opts(&p->s[i], &so);
        if (rc != 0 && wr_pool_same(&so, o)) {
            if (wr_target_wait_up(&p->s[i].t) == 0) {
                *t = p->s[i].t;
                p->taken++;
                rc = 0;
            } else {
                /* wait_up stopped and reaped it; its files are the
                 * case's, which starts a gateway of its own. */
                p->wasted++;
            }
            remove_at(p, i);
            continue;
        }
        wr_target_stop(&p->s[i].t, DRAIN_MS);
        p->wasted++;
        remove_at(p, i);
    }
    return rc;
}

size_t wr_pool_spares(const wr_pool_t *p)
{
    return p ? p->n : 0;
}

size_t wr_pool_taken(const wr_pool_t *p)
{
    return p ? p->taken : 0;
}

size_t wr_pool_wasted(const wr_pool_t *p)
{
    return p ? p->wasted : 0;
}

void wr_pool_drain(wr_pool_t *p, int timeout_ms)
{
    if (p == NULL)
        return;
    while (p->n > 0) {
        wr_target_stop(&p->s[p->n - 1].t, timeout_ms);
        p->wasted++;
        remove_at(p, p->n - 1);
    }
}

void wr_pool_free(wr_pool_t *p)
{
    if (p == NULL)
        return;
    wr_pool_drain(p, DRAIN_MS);
    free(p->s);
    free(p);
}
