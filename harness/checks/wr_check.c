/* wr_check.c - The checkers: pure functions from a history to a
 * verdict with its evidence. This file runs one of them.
 *
 * wr_check_all() builds the clients' view of the history once, and hands
 * it to each checker asked for (wr_check_run() to one): those of the
 * gateway's registry are in wr_check_registry.c, those of what the
 * connections were promised in wr_check_clients.c, those of the reports
 * of valgrind and the sanitizers in wr_check_tool.c, and the registry model
 * they replay the trace into, with the helpers they share, in
 * wr_check_model.c (declared in wr_check_int.h).
 *
 * Each checker allocates its own scratch state and frees it before it
 * returns; the history is only read. Any thread; no locks. */
#include "checks/wr_check.h"

#include <stdio.h>

#include "checks/wr_check_int.h"

/* Runs checker id on h with the clients' view cl already built. */
static void run_one(wsr_check_id_t id, const wr_history_t *h,
                    const clients_t *cl, const wr_check_opts_t *opts,
                    wr_check_result_t *out)
{
    switch (id) {
    case WSR_CHECK_SCOPE_LOSS:
        wr__check_scope_loss(h, cl, out);
        break;
    case WSR_CHECK_FALSE_READINESS:
        wr__check_false_readiness(h, cl, out);
        break;
    case WSR_CHECK_DUPLICATE_REGISTRATION:
        wr__check_duplicate(h, cl, out);
        break;
    case WSR_CHECK_COORDINATOR_GAP:
        wr__check_coordinator_gap(h, out);
        break;
    case WSR_CHECK_LIVENESS:
        wr__check_liveness(h, cl, opts, out);
        break;
    case WSR_CHECK_REGISTRY_LEAK:
        wr__check_registry_leak(h, cl, out);
        break;
    case WSR_CHECK_ISOLATION:
        wr__check_isolation(h, cl, out);
        break;
    case WSR_CHECK_NO_LOST_MESSAGES:
        wr__check_no_lost(h, cl, opts, out);
        break;
    case WSR_CHECK_STEPS:
        wr__check_steps(h, cl, out);
        break;
    case WSR_CHECK_IDENTITY:
        wr__check_identity(h, cl, out);
        break;
    case WSR_CHECK_MEMORY_SAFETY:
        wr__check_memory_safety(h, out);
        break;
    case WSR_CHECK_DATA_RACE:
        wr__check_data_race(h, out);
        break;
    default:
        break;
    }
}

void wr_check_all(const wr_history_t *h, const wr_check_opts_t *opts,
                  unsigned mask, wr_check_result_t out[WSR_CHECK__COUNT])
{
    clients_t cl;

    for (int id = 0; id < WSR_CHECK__COUNT; id++) {
        wr__check_result_init(&out[id], (wsr_check_id_t)id);
        if (h == NULL || !(mask & (1u << id))) {
            out[id].verdict = WR_UNKNOWN;
            snprintf(out[id].summary, sizeof(out[id].summary), "%s",
                     h == NULL ? "no history to check" : "not run");
        }
    }
    if (h == NULL || (mask & (WSR_CHECKS_ALL | WSR_CHECKS_TOOL)) == 0)
        return;
    wr__check_clients_build(&cl, h);
    for (int id = 0; id < WSR_CHECK__COUNT; id++) {
        if (!(mask & (1u << id)))
            continue;
        if (cl.oom)
            wr__check_out_of_memory(&out[id]);
        else
            run_one((wsr_check_id_t)id, h, &cl, opts, &out[id]);
    }
    wr__check_clients_free(&cl);
}

void wr_check_run(wsr_check_id_t id, const wr_history_t *h,
                  const wr_check_opts_t *opts, wr_check_result_t *out)
{
    wr_check_result_t all[WSR_CHECK__COUNT];

    if ((unsigned)id >= WSR_CHECK__COUNT) {
        wr__check_result_init(out, id);
        out->verdict = WR_UNKNOWN;
        snprintf(out->summary, sizeof(out->summary), "no such check");
        return;
    }
    wr_check_all(h, opts, 1u << id, all);
    *out = all[id];
}
