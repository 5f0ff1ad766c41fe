/* gw_session.c - Session id validation and the session -> user binding
 * (see gw_session.h).
 *
 * The binding table is a chained hash table of entries {session, user,
 * live holders, expiry}. An entry with live holders never expires; one
 * without is forgotten once its expiry has passed: a claim that finds it
 * drops it, and a release sweeps every expired entry at most once per
 * hold (or per second), so the table holds what the last hold's
 * connections left, and never more than GW_SESSIONS_HELD_MAX closed
 * entries.
 *
 * Threads: any. `lock` guards everything in the table; it is a leaf. */
#include "gw_session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

typedef struct entry {
    struct entry *next;
    char *user;
    unsigned live;   /* connections holding it now */
    int64_t expires; /* when live == 0: forgotten at this time (ms) */
    char session[];
} entry_t;

struct gw_sessions {
    pthread_mutex_t lock; /* guards every field below */
    entry_t *buckets[NBUCKETS];
    size_t count; /* entries */
    size_t held;  /* entries with live == 0 */
    unsigned hold_s;
    int64_t next_sweep; /* ms: the next release sweeps expired entries */
};

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

bool gw_text_printable(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p, cp;
        int n;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; /* a continuation byte, or 0xc0, 0xc1, 0xf5.. */
        }
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            (cp >= 0x80 && cp <= 0x9f))
            return false; /* overlong, out of range, surrogate, C1 */
        p += n + 1;
    }
    return true;
}

const char *gw_session_id_problem(const char *s, size_t len)
{
    if (len == 0)
        return "session id is empty";
    if (len > GW_SESSION_LEN_MAX)
        return "session id is longer than 127 bytes";
    if (!gw_text_printable(s, len))
        return "session id is not printable UTF-8";
    if (strncmp(s, "pre-", 4) == 0 || strncmp(s, "sess-", 5) == 0)
        return "session ids starting with 'pre-' or 'sess-' are the "
               "gateway's own";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The binding table                                                    */
/* ------------------------------------------------------------------ */

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % NBUCKETS);
}

gw_sessions_t *gw_sessions_new(unsigned hold_s)
{
    gw_sessions_t *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->hold_s = hold_s;
    return t;
}

void gw_sessions_free(gw_sessions_t *t)
{
    if (t == NULL)
        return;
    for (size_t b = 0; b < NBUCKETS; b++)
        while (t->buckets[b] != NULL) {
            entry_t *e = t->buckets[b];
            t->buckets[b] = e->next;
            free(e->user);
            free(e);
        }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Unlinks and frees *pp. `lock` held. */
static void drop_locked(gw_sessions_t *t, entry_t **pp)
{
    entry_t *e = *pp;

    *pp = e->next;
    if (e->live == 0)
        t->held--;
    t->count--;
    free(e->user);
    free(e);
}

/* Forgets every closed entry that has expired; when more than the bound
 * are still held, the soonest to expire too. `lock` held. */
static void sweep_locked(gw_sessions_t *t, int64_t now)
{
    for (size_t b = 0; b < NBUCKETS; b++)
        for (entry_t **pp = &t->buckets[b]; *pp != NULL;)
            if ((*pp)->live == 0 && (*pp)->expires <= now)
                drop_locked(t, pp);
            else
                pp = &(*pp)->next;
    while (t->held > GW_SESSIONS_HELD_MAX) {
        entry_t **soonest = NULL;

        for (size_t b = 0; b < NBUCKETS; b++)
            for (entry_t **pp = &t->buckets[b]; *pp != NULL; pp = &(*pp)->next)
                if ((*pp)->live == 0 &&
                    (soonest == NULL || (*pp)->expires < (*soonest)->expires))
                    soonest = pp;
        drop_locked(t, soonest);
    }
}

int gw_sessions_claim(gw_sessions_t *t, const char *session, const char *user,
                      int64_t now)
{
    size_t b = hash(session), n = strlen(session);
    entry_t **pp, *e;
    int rc = 0;

    pthread_mutex_lock(&t->lock);
    for (pp = &t->buckets[b]; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->session, session) == 0)
            break;
    if (*pp != NULL && (*pp)->live == 0 && (*pp)->expires <= now)
        drop_locked(t, pp); /* expired: as if never seen */
    if ((e = *pp) != NULL) {
        if (strcmp(e->user, user) != 0) {
            rc = -EACCES;
        } else {
            if (e->live++ == 0)
                t->held--;
        }
        goto out;
    }
    e = malloc(sizeof(*e) + n + 1);
    if (e == NULL || (e->user = strdup(user)) == NULL) {
        free(e);
        rc = -ENOMEM;
        goto out;
    }
    memcpy(e->session, session, n + 1);
    e->live = 1;
    e->expires = 0;
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->count++;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void gw_sessions_release(gw_sessions_t *t, const char *session, int64_t now)
{
    entry_t *e;

    pthread_mutex_lock(&t->lock);
    for (e = t->buckets[hash(session)]; e != NULL; e = e->next)
        if (strcmp(e->session, session) == 0)
            break;
    if (e != NULL && e->live > 0 && --e->live == 0) {
        e->expires = now + (int64_t)t->hold_s * 1000;
        t->held++;
        if (t->held > GW_SESSIONS_HELD_MAX || now >= t->next_sweep) {
            sweep_locked(t, now);
            t->next_sweep =
                now + (t->hold_s ? (int64_t)t->hold_s * 1000 : 1000);
        }
    }
    pthread_mutex_unlock(&t->lock);
}

size_t gw_sessions_count(gw_sessions_t *t)
{
    size_t n;

    pthread_mutex_lock(&t->lock);
    n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
