/* gw_ticket.c - One-time connection tickets (see gw_ticket.h).
 *
 * A chained hash table keyed by the ticket text. Tickets come from
 * getrandom(2): 24 bytes, 192 bits, so a ticket cannot be guessed and the
 * table's lookup time says nothing useful about one. Expired tickets are
 * swept when the table is full, and by an issue at most once per ttl, so
 * the table holds about one ttl's worth.
 *
 * Threads: any. `lock` guards the table; it is a leaf. */
#include "gw_ticket.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NBUCKETS 1024

typedef struct ticket {
    struct ticket *next;
    int64_t expires; /* Unix seconds */
    char text[GW_TICKET_LEN + 1];
    char user[];
} ticket_t;

struct gw_tickets {
    pthread_mutex_t lock; /* guards every field below */
    ticket_t *buckets[NBUCKETS];
    size_t count;
    unsigned ttl_s;
    int64_t next_sweep; /* the next issue at or after this sweeps */
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % NBUCKETS);
}

gw_tickets_t *gw_tickets_new(unsigned ttl_s)
{
    gw_tickets_t *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->ttl_s = ttl_s;
    return t;
}

void gw_tickets_free(gw_tickets_t *t)
{
    if (t == NULL)
        return;
    for (size_t b = 0; b < NBUCKETS; b++)
        while (t->buckets[b] != NULL) {
            ticket_t *k = t->buckets[b];
            t->buckets[b] = k->next;
            free(k);
        }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Forgets expired tickets. `lock` held. */
static void sweep_locked(gw_tickets_t *t, int64_t now)
{
    for (size_t b = 0; b < NBUCKETS; b++)
        for (ticket_t **pp = &t->buckets[b]; *pp != NULL;) {
            ticket_t *k = *pp;

            if (k->expires > now) {
                pp = &k->next;
                continue;
            }
            *pp = k->next;
            free(k);
            t->count--;
        }
}

/* 24 random bytes as 32 base64url characters. */
static int random_text(char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char b[24];
    size_t got = 0;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        got += (size_t)n;
    }
    for (size_t i = 0, o = 0; i < sizeof(b); i += 3) {
        unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];

        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    out[GW_TICKET_LEN] = '\0';
    return 0;
}

int gw_tickets_issue(gw_tickets_t *t, const char *user, int64_t token_exp,
                     int64_t now, char *out, size_t outlen)
{
    size_t n = strlen(user);
    ticket_t *k;
    size_t b;
    int rc;

    if (outlen < GW_TICKET_LEN + 1)
        return -ENOSPC;
    k = malloc(sizeof(*k) + n + 1);
    if (k == NULL)
        return -ENOMEM;
    if ((rc = random_text(k->text)) != 0) {
        free(k);
        return rc;
    }
    memcpy(k->user, user, n + 1);
    k->expires = now + (int64_t)t->ttl_s;
    if (k->expires > token_exp)
        k->expires = token_exp;
    b = hash(k->text);
    pthread_mutex_lock(&t->lock);
    if (t->count >= GW_TICKETS_MAX || now >= t->next_sweep) {
        sweep_locked(t, now);
        t->next_sweep = now + (int64_t)t->ttl_s;
    }
    if (t->count >= GW_TICKETS_MAX) {
        pthread_mutex_unlock(&t->lock);
        free(k);
        return -ENOSPC;
    }
    k->next = t->buckets[b];
    t->buckets[b] = k;
    t->count++;
    pthread_mutex_unlock(&t->lock);
    memcpy(out, k->text, GW_TICKET_LEN + 1);
    return 0;
}

int gw_tickets_redeem(gw_tickets_t *t, const char *ticket, int64_t now,
                      char *user, size_t userlen)
{
    ticket_t **pp, *k = NULL;
    int rc;

    if (strlen(ticket) != GW_TICKET_LEN)
        return -ENOENT;
    pthread_mutex_lock(&t->lock);
    for (pp = &t->buckets[hash(ticket)]; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->text, ticket) == 0) {
            k = *pp;
            *pp = k->next; /* one use: gone whatever follows */
            t->count--;
            break;
        }
    pthread_mutex_unlock(&t->lock);
    if (k == NULL || k->expires <= now)
        rc = -ENOENT;
    else if ((size_t)snprintf(user, userlen, "%s", k->user) >= userlen)
        rc = -ENAMETOOLONG;
    else
        rc = 0;
    free(k);
    return rc;
}

size_t gw_tickets_count(gw_tickets_t *t)
{
    size_t n;

    pthread_mutex_lock(&t->lock);
    n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

unsigned gw_tickets_ttl(const gw_tickets_t *t)
{
    return t->ttl_s;
}
