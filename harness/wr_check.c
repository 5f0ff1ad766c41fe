/* wr_check.c - The eight checkers: pure functions from a history to a
 * verdict with its evidence. This file runs one of them.
 *
 * wr_check_run() builds the clients' view of the history, which every
 * checker reads, and hands it to the checker asked for: those of the
 * gateway's registry are in wr_check_registry.c, those of what the
 * connections were promised in wr_check_clients.c, and the registry model
 * they replay the trace into, with the helpers they share, in
 * wr_check_model.c (declared in wr_check_int.h).
 *
 * Each checker allocates its own scratch state and frees it before it
 * returns; the history is only read. Any thread; no locks. */
#include "wr_check.h"

#include <stdio.h>

#include "wr_check_int.h"

void wr_check_run(wr_check_id_t id, const wr_history_t *h,
                  const wr_check_opts_t *opts, wr_check_result_t *out)
{
    clients_t cl;

    wr__check_result_init(out, id);
    if (h == NULL || (unsigned)id >= WR_CHECK__COUNT) {
        out->verdict = WR_UNKNOWN;
        snprintf(out->summary, sizeof(out->summary), "no history to check");
        return;
    }
    wr__check_clients_build(&cl, h);
    if (cl.oom) {
        wr__check_out_of_memory(out);
        wr__check_clients_free(&cl);
        return;
    }
    switch (id) {
    case WR_CHECK_SCOPE_LOSS:
        wr__check_scope_loss(h, &cl, out);
        break;
    case WR_CHECK_FALSE_READINESS:
        wr__check_false_readiness(h, &cl, out);
        break;
    case WR_CHECK_DUPLICATE_REGISTRATION:
        wr__check_duplicate(h, &cl, out);
        break;
    case WR_CHECK_COORDINATOR_GAP:
        wr__check_coordinator_gap(h, out);
        break;
    case WR_CHECK_LIVENESS:
        wr__check_liveness(h, &cl, opts, out);
        break;
    case WR_CHECK_REGISTRY_LEAK:
        wr__check_registry_leak(h, &cl, out);
        break;
    case WR_CHECK_ISOLATION:
        wr__check_isolation(h, &cl, out);
        break;
    case WR_CHECK_NO_LOST_MESSAGES:
        wr__check_no_lost(h, &cl, opts, out);
        break;
    default:
        break;
    }
    wr__check_clients_free(&cl);
}
