/* wr_history_order.c - A history's order on the shared clock
 * (wr_history_sort()): each gateway trace in its own seq order, the
 * traces of a cluster merged by ns while the registry's operations keep
 * the cluster's one order, and the clients' and the harness's events
 * merged in by ns.
 *
 * The store (wr_history.c) gives the checkers' view to order by and
 * applies the permutation to its records. Threads: as the history. */
#include "history/wr_history.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "history/wr_history_int.h"

/* Sort keys: the event's order key, ties broken by add order, which makes
 * qsort stable. Gateway events sort by chain first. */
typedef struct {
    int64_t key;    /* seq (gateway) or ns (others) */
    uint32_t index; /* position in add order */
    unsigned chain; /* gateway events: their trace; 0 for the others */
} order_t;

static int order_cmp(const void *a, const void *b)
{
    const order_t *x = a, *y = b;

    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Merges the gateway events of several traces (gw, sorted by chain, then
 * seq) into one order, written back into gw: by ns, each trace in its own
 * order, and a registry operation (rseq) only once every operation before
 * it in the cluster's order is placed, so that the history replays the
 * registry as Redis applied it; a reading of the registry (rafter) comes
 * after the operations it saw and before the ones it did not. Within one trace rseq only grows (the
 * instance holds its lock across an operation and its event); should it
 * not, ns decides. Returns false when out of memory (gw unchanged). */
static bool merge_chains(const wr_event_t *view, order_t *gw, size_t ngw,
                         unsigned chains)
{
    size_t *head = calloc(chains + 1, sizeof(*head));
    size_t *end = calloc(chains + 1, sizeof(*end));
    uint64_t *next = malloc((ngw + 1) * sizeof(*next));
    order_t *out = malloc((ngw + 1) * sizeof(*out));
    size_t k = 0;

    if (head == NULL || end == NULL || next == NULL || out == NULL) {
        free(head);
        free(end);
        free(next);
        free(out);
        return false;
    }
    for (size_t i = 0; i < ngw; i++) {
        unsigned c = gw[i].chain < chains ? gw[i].chain : chains - 1;

        if (i == 0 || gw[i - 1].chain != gw[i].chain)
            head[c] = i;
        end[c] = i + 1;
    }
    /* next[i]: the first rseq at or after i in its chain, 0 when none. */
    for (size_t i = ngw; i-- > 0;) {
        uint64_t r = view[gw[i].index].rseq;

        next[i] = r != 0                                          ? r
                  : i + 1 < ngw && gw[i + 1].chain == gw[i].chain ? next[i + 1]
                                                                  : 0;
    }
    while (k < ngw) {
        uint64_t least = 0;
        int best = -1, any = -1, due = -1;

        for (unsigned c = 0; c < chains; c++)
            if (head[c] < end[c] && next[head[c]] != 0 &&
                (least == 0 || next[head[c]] < least))
                least = next[head[c]];
        for (unsigned c = 0; c < chains; c++) {
            const wr_event_t *e;

            if (head[c] >= end[c])
                continue;
            e = &view[gw[head[c]].index];
            if (any < 0 || e->ns < view[gw[head[any]].index].ns)
                any = (int)c;
            /* A reading that did not see operation `least` was made
             * before it: it goes first, whatever the clocks say. */
            if (e->rafter != 0 && least != 0 && e->rafter < least &&
                (due < 0 || e->ns < view[gw[head[due]].index].ns))
                due = (int)c;
            if (e->rseq != 0 && e->rseq != least)
                continue;
            /* A reading made after operation rafter follows it. */
            if (e->rafter != 0 && least != 0 && least <= e->rafter)
                continue;
            if (best < 0 || e->ns < view[gw[head[best]].index].ns)
                best = (int)c;
        }
        if (due >= 0)
            best = due;
        if (best < 0)
            best = any; /* an order the traces contradict: by time */
        out[k++] = gw[head[best]++];
    }
    memcpy(gw, out, ngw * sizeof(*gw));
    free(head);
    free(end);
    free(next);
    free(out);
    return true;
}

/* The sort's own memory is two arrays of keys, 16 bytes an event, and
 * the permutation, 4: it comes on top of the view, at the case's peak. */
void wr_history_sort(wr_history_t *h)
{
    order_t *gw, *other;
    size_t ngw = 0, nother = 0, i = 0, j = 0, k = 0, len;
    uint32_t *from;
    wr_event_t *view;

    len = wr_history_len(h);
    if (h == NULL || (view = wr__history_view(h)) == NULL || len < 2)
        return;
    for (size_t n = 0; n < len; n++)
        ngw += view[n].src == WR_SRC_GATEWAY;
    gw = malloc((ngw + 1) * sizeof(*gw));
    other = malloc((len - ngw + 1) * sizeof(*other));
    from = malloc(len * sizeof(*from));
    if (gw == NULL || other == NULL || from == NULL) {
        /* Out of memory: add order stays, which for a runner that adds the
         * trace in file order is already seq order. */
        free(gw);
        free(other);
        free(from);
        return;
    }
    ngw = 0;
    for (size_t n = 0; n < len; n++) {
        if (view[n].src == WR_SRC_GATEWAY)
            gw[ngw++] =
                (order_t){(int64_t)view[n].seq, (uint32_t)n, view[n].chain};
        else
            other[nother++] = (order_t){view[n].ns, (uint32_t)n, 0};
    }
    qsort(gw, ngw, sizeof(*gw), order_cmp);
    qsort(other, nother, sizeof(*other), order_cmp);
    for (size_t n = 0; n < ngw; n++)
        gw[n].key = view[gw[n].index].ns;
    if (wr__history_chains(h) > 1 &&
        merge_chains(view, gw, ngw, wr__history_chains(h))) {
        /* In a cluster an event's ns is when its instance wrote it, which
         * can be long after what it records happened: an instance stopped
         * between an operation's round trip and its trace line writes the
         * line when it runs again, yet Redis applied the operation before
         * every later one. An event then happened no later than any event
         * after it in the merged order: its time for the merge below is
         * the least ns from it on, so the clients' events of the stall do
         * not come before what the registry had already done. */
        for (size_t n = ngw; n-- > 1;)
            if (gw[n].key < gw[n - 1].key)
                gw[n - 1].key = gw[n].key;
    }
    /* Two-way merge on ns: gateway events never pass each other, and on a
     * tie the gateway event goes first (a client sees a gateway action only
     * after it happened). from[k] is the add-order index of the event that
     * goes to position k. */
    while (i < ngw || j < nother) {
        bool take_gw = j == nother || (i < ngw && gw[i].key <= other[j].key);

        from[k++] = take_gw ? gw[i++].index : other[j++].index;
    }
    free(gw);
    free(other);
    wr__history_permute(h, from);
    free(from);
}
