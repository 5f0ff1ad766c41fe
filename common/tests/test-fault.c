/* test-fault.c - The fault catalog and inject sets (wsr_fault.c).
 *
 * Checks the catalog's own consistency (every fault detected by some
 * check, detections and side effects apart, modes well formed), that a
 * fault list sets the right bits and modes, that each kind of bad item is
 * refused with a message naming it and leaves the set untouched, and that
 * wsr_faults_format() output parses back to the same set for every
 * combination. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "wsr_check.h"
#include "wsr_fault.h"

#define BIT(id) (1u << (id))

/* The fault ids of docs/DESIGN.md, in catalog order: the seed bugs in
 * the order of the original report (tests 5, 4, 1, 6), then the others. */
static const char *const design_names[WSR_FAULT__COUNT] = {
    "fallback-ready", "coordinator-gap", "duplicate-registration",
    "scope-loss",     "early-welcome",   "stuck-swap",
    "registry-leak",  "blind-unregister", "stale-presence",
    "local-readiness",
};

Test(fault, names_match_the_design_catalog, .timeout = 10)
{
    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        cr_assert(eq(str, (char *)wsr_fault_name((wsr_fault_id_t)i),
                     (char *)design_names[i]));
        cr_assert(ne(sz, strlen(wsr_fault_info((wsr_fault_id_t)i)->summary),
                     0));
    }
    cr_assert(eq(str, (char *)wsr_fault_name(WSR_FAULT__COUNT), "?"));
    cr_assert(zero(ptr, (void *)wsr_fault_info(WSR_FAULT__COUNT)));
    cr_assert(eq(str,
                 (char *)wsr_fault_mode_name(WSR_FAULT_SCOPE_LOSS,
                                             WSR_SCOPE_SWALLOW),
                 "swallow"));
    cr_assert(zero(ptr, (void *)wsr_fault_mode_name(WSR_FAULT_SCOPE_LOSS, 3)));
    cr_assert(zero(ptr, (void *)wsr_fault_mode_name(WSR_FAULT_STUCK_SWAP, 0)));
}

Test(fault, catalog_is_consistent, .timeout = 10)
{
    unsigned seed_bugs = 0;

    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);

        /* Every fault is detected by some scenario check, and a check
         * that detects it is not also listed as a side effect. */
        cr_assert(ne(uint, f->detects, 0), "%s detects nothing", f->name);
        cr_assert(eq(uint, f->detects & ~WSR_CHECKS_ALL, 0), "%s", f->name);
        cr_assert(eq(uint, f->side_effects & ~WSR_CHECKS_ALL, 0), "%s",
                  f->name);
        cr_assert(eq(uint, f->detects & f->side_effects, 0), "%s", f->name);
        cr_assert(eq(int, (f->side_effects != 0) == (f->why_side != NULL), 1),
                  "%s: side effects without a reason, or the reverse",
                  f->name);
        cr_assert(eq(uint, f->tool_detects & ~WSR_CHECKS_TOOL, 0), "%s",
                  f->name);
        if (f->tool_mode >= 0)
            cr_assert(not(zero(ptr, (void *)wsr_fault_mode_name(
                                        (wsr_fault_id_t)i,
                                        (unsigned)f->tool_mode))),
                      "%s: tool mode is not one of its modes", f->name);
        if (f->seed_bug) {
            seed_bugs |= 1u << i;
            cr_assert(not(zero(ptr, (void *)f->origin)), "%s", f->name);
        }
    }
    cr_assert(eq(uint, seed_bugs, wsr_faults_seed_bugs().mask));
    cr_assert(eq(uint, wsr_faults_count(&(wsr_faults_t){.mask = seed_bugs}),
                 4));
}

Test(fault, parse_sets_bits_and_scope_mode, .timeout = 10)
{
    wsr_faults_t f = {0};
    char err[256] = "";

    cr_assert(eq(int,
                 wsr_faults_parse(&f, "scope-loss=swallow,fallback-ready", err,
                                 sizeof(err)),
                 0),
              "%s", err);
    cr_assert(eq(uint, f.mask,
                 BIT(WSR_FAULT_SCOPE_LOSS) | BIT(WSR_FAULT_FALLBACK_READY)));
    cr_assert(eq(uint, wsr_fault_mode(&f, WSR_FAULT_SCOPE_LOSS), WSR_SCOPE_SWALLOW));
    cr_assert(wsr_fault_on(&f, WSR_FAULT_SCOPE_LOSS));
    cr_assert(wsr_fault_on(&f, WSR_FAULT_FALLBACK_READY));
    cr_assert(not(wsr_fault_on(&f, WSR_FAULT_STUCK_SWAP)));
}

Test(fault, every_fault_parses_to_its_own_bit, .timeout = 10)
{
    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        wsr_faults_t f = {0};
        char err[256] = "";

        cr_assert(
            eq(int, wsr_faults_parse(&f, design_names[i], err, sizeof(err)), 0),
            "%s: %s", design_names[i], err);
        cr_assert(eq(uint, f.mask, BIT(i)), "%s", design_names[i]);
    }
}

Test(fault, parse_adds_to_the_existing_set, .timeout = 10)
{
    wsr_faults_t f = {.mask = BIT(WSR_FAULT_STUCK_SWAP)};
    char err[256];

    cr_assert(
        eq(int, wsr_faults_parse(&f, "registry-leak", err, sizeof(err)), 0));
    cr_assert(eq(uint, f.mask,
                 BIT(WSR_FAULT_STUCK_SWAP) | BIT(WSR_FAULT_REGISTRY_LEAK)));
}

Test(fault, scope_modes_parse, .timeout = 10)
{
    static const struct {
        const char *list;
        wsr_scope_mode_t mode;
    } cases[] = {
        {"scope-loss", WSR_SCOPE_CRASH},
        {"scope-loss=crash", WSR_SCOPE_CRASH},
        {"scope-loss=error", WSR_SCOPE_ERROR},
        {"scope-loss=swallow", WSR_SCOPE_SWALLOW},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wsr_faults_t f = {0};
        char err[256] = "";

        cr_assert(
            eq(int, wsr_faults_parse(&f, cases[i].list, err, sizeof(err)), 0),
            "%s: %s", cases[i].list, err);
        cr_assert(eq(uint, f.mask, BIT(WSR_FAULT_SCOPE_LOSS)));
        cr_assert(eq(uint, wsr_fault_mode(&f, WSR_FAULT_SCOPE_LOSS), cases[i].mode),
                  "%s", cases[i].list);
    }
}

Test(fault, empty_none_and_spaces_are_accepted, .timeout = 10)
{
    wsr_faults_t f = {0};
    char err[256];

    cr_assert(eq(int, wsr_faults_parse(&f, "", err, sizeof(err)), 0));
    cr_assert(eq(int, wsr_faults_parse(&f, "none", err, sizeof(err)), 0));
    cr_assert(eq(uint, f.mask, 0));
    cr_assert(
        eq(int,
           wsr_faults_parse(&f, "stuck-swap, early-welcome,,", err, sizeof(err)),
           0));
    cr_assert(eq(uint, f.mask,
                 BIT(WSR_FAULT_STUCK_SWAP) | BIT(WSR_FAULT_EARLY_WELCOME)));
}

/* Parses list into a set holding fallback-ready and scope-loss=error and
 * checks the refusal: -EINVAL, the set untouched, err naming `needle`. */
static void expect_refused(const char *list, const char *needle)
{
    const wsr_faults_t before = {
        .mask = BIT(WSR_FAULT_FALLBACK_READY) | BIT(WSR_FAULT_SCOPE_LOSS),
        .mode[WSR_FAULT_SCOPE_LOSS] = WSR_SCOPE_ERROR,
    };
    wsr_faults_t f = before;
    char err[256] = "";

    cr_assert(eq(int, wsr_faults_parse(&f, list, err, sizeof(err)), -EINVAL),
              "'%s' was accepted", list);
    cr_assert(eq(uint, f.mask, before.mask), "'%s' changed the mask", list);
    cr_assert(eq(int, wsr_faults_equal(&f, &before) ? 1 : 0, 1),
              "'%s' changed the modes", list);
    cr_assert(not(zero(ptr, strstr(err, needle))),
              "error for '%s' does not name '%s': %s", list, needle, err);
}

Test(fault, unknown_fault_is_refused_and_named, .timeout = 10)
{
    expect_refused("bogus-fault", "bogus-fault");
    /* The good items before the bad one must not be applied either. */
    expect_refused("stuck-swap,registry-leak,bogus-fault", "bogus-fault");
}

Test(fault, unknown_scope_mode_is_refused_and_named, .timeout = 10)
{
    expect_refused("scope-loss=explode", "explode");
    expect_refused("stuck-swap,scope-loss=explode", "explode");
    expect_refused("scope-loss=swallow,scope-loss=", "scope-loss");
}

Test(fault, mode_on_a_fault_without_modes_is_refused, .timeout = 10)
{
    expect_refused("fallback-ready=swallow", "fallback-ready");
    expect_refused("scope-loss=swallow,stuck-swap=crash", "stuck-swap");
}

Test(fault, format_gives_the_command_line_form, .timeout = 10)
{
    wsr_faults_t f = {
        .mask = BIT(WSR_FAULT_SCOPE_LOSS) | BIT(WSR_FAULT_FALLBACK_READY),
        .mode[WSR_FAULT_SCOPE_LOSS] = WSR_SCOPE_SWALLOW,
    };
    wsr_faults_t none = {0};
    char buf[256];

    /* Catalog order, whatever order the list named them in. */
    cr_assert(eq(int, wsr_faults_format(&f, buf, sizeof(buf)),
                 (int)strlen("fallback-ready,scope-loss=swallow")));
    cr_assert(eq(str, buf, "fallback-ready,scope-loss=swallow"));
    f.mode[WSR_FAULT_SCOPE_LOSS] = WSR_SCOPE_CRASH; /* the default: left out */
    wsr_faults_format(&f, buf, sizeof(buf));
    cr_assert(eq(str, buf, "fallback-ready,scope-loss"));
    cr_assert(eq(int, wsr_faults_format(&none, buf, sizeof(buf)), 0));
    cr_assert(eq(str, buf, ""));
}

Test(fault, format_round_trips_every_set, .timeout = 10)
{
    for (unsigned mask = 0; mask < BIT(WSR_FAULT__COUNT); mask++) {
        for (int mode = WSR_SCOPE_CRASH; mode <= WSR_SCOPE_SWALLOW; mode++) {
            wsr_faults_t f = {.mask = mask};
            wsr_faults_t g = {0};
            char buf[WSR_FAULTS_TEXT_MAX], err[256] = "";

            if (mask & BIT(WSR_FAULT_SCOPE_LOSS))
                f.mode[WSR_FAULT_SCOPE_LOSS] = (uint8_t)mode;
            cr_assert(ge(int, wsr_faults_format(&f, buf, sizeof(buf)), 0));
            cr_assert(eq(int, wsr_faults_parse(&g, buf, err, sizeof(err)), 0),
                      "'%s': %s", buf, err);
            cr_assert(eq(int, wsr_faults_equal(&f, &g) ? 1 : 0, 1), "'%s'",
                      buf);
        }
    }
}

Test(fault, format_refuses_a_short_buffer_without_overrun, .timeout = 10)
{
    wsr_faults_t f = {.mask = BIT(WSR_FAULT__COUNT) - 1,
                      .mode[WSR_FAULT_SCOPE_LOSS] = WSR_SCOPE_SWALLOW};
    char buf[16];

    memset(buf, 'x', sizeof(buf));
    cr_assert(eq(int, wsr_faults_format(&f, buf, 12), -ENOSPC));
    cr_assert(eq(str, buf, ""), "a cut list must not pass for a whole one");
    cr_assert(eq(chr, buf[12], 'x'), "wrote past the given length");
}

Test(fault, seed_bugs_are_the_original_four_in_order, .timeout = 10)
{
    wsr_faults_t f = wsr_faults_seed_bugs();
    char buf[WSR_FAULTS_TEXT_MAX];

    wsr_faults_format(&f, buf, sizeof(buf));
    cr_assert(eq(str, buf,
                 "fallback-ready,coordinator-gap,duplicate-registration,"
                 "scope-loss"));
}

Test(fault, cluster_faults_are_marked_and_found, .timeout = 10)
{
    wsr_faults_t f = {0};
    char err[256] = "";

    cr_assert(not(wsr_fault_info(WSR_FAULT_DUPLICATE_REGISTRATION)
                      ->cluster_only),
              "duplicate-registration has an in-process form too");
    cr_assert(wsr_fault_info(WSR_FAULT_BLIND_UNREGISTER)->cluster_only);
    cr_assert(wsr_fault_info(WSR_FAULT_STALE_PRESENCE)->cluster_only);
    cr_assert(wsr_fault_info(WSR_FAULT_LOCAL_READINESS)->cluster_only);
    cr_assert(eq(int, wsr_faults_cluster_only(&f), -1));
    f = wsr_faults_seed_bugs();
    cr_assert(eq(int, wsr_faults_cluster_only(&f), -1));
    cr_assert(eq(int,
                 wsr_faults_parse(&f, "registry-leak,local-readiness", err,
                                  sizeof(err)),
                 0));
    cr_assert(eq(int, wsr_faults_cluster_only(&f), WSR_FAULT_LOCAL_READINESS));
}

Test(fault, every_fault_fits_the_text_bound, .timeout = 10)
{
    wsr_faults_t f = {.mask = BIT(WSR_FAULT__COUNT) - 1,
                      .mode[WSR_FAULT_SCOPE_LOSS] = WSR_SCOPE_SWALLOW};
    char buf[WSR_FAULTS_TEXT_MAX];

    cr_assert(gt(int, wsr_faults_format(&f, buf, sizeof(buf)), 0),
              "every fault at once does not fit WSR_FAULTS_TEXT_MAX");
}

Test(fault, fault_on_null_set_is_false, .timeout = 10)
{
    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        cr_assert(not(wsr_fault_on(NULL, (wsr_fault_id_t)i)));
}
