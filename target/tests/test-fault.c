/* test-fault.c - The fault catalog and its parser (gw_fault.c).
 *
 * Checks that a fault list sets the right bits and scope-loss mode, that
 * each kind of bad item is refused with a message naming it and leaves the
 * set untouched, and that gw_faults_format() output parses back to the
 * same set for every combination. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "gw_fault.h"

#define BIT(id) (1u << (id))

/* The fault ids of DESIGN.md section 1, in enum order. */
static const char *const design_names[GW_FAULT__COUNT] = {
    "scope-loss",      "fallback-ready",
    "coordinator-gap", "duplicate-registration",
    "early-welcome",   "stuck-swap",
    "registry-leak",
};

Test(fault, names_match_the_design_catalog, .timeout = 10)
{
    for (int i = 0; i < GW_FAULT__COUNT; i++) {
        cr_assert(eq(str, (char *)gw_fault_name((gw_fault_id_t)i),
                     (char *)design_names[i]));
        cr_assert(ne(sz, strlen(gw_fault_summary((gw_fault_id_t)i)), 0));
    }
    cr_assert(eq(str, (char *)gw_fault_name(GW_FAULT__COUNT), "?"));
    cr_assert(eq(str, (char *)gw_scope_mode_name(GW_SCOPE_SWALLOW), "swallow"));
    cr_assert(eq(str, (char *)gw_scope_mode_name((gw_scope_mode_t)3), "?"));
}

Test(fault, parse_sets_bits_and_scope_mode, .timeout = 10)
{
    gw_faults_t f = {0};
    char err[256] = "";

    cr_assert(eq(int,
                 gw_faults_parse(&f, "scope-loss=swallow,fallback-ready", err,
                                 sizeof(err)),
                 0),
              "%s", err);
    cr_assert(eq(uint, f.mask,
                 BIT(GW_FAULT_SCOPE_LOSS) | BIT(GW_FAULT_FALLBACK_READY)));
    cr_assert(eq(int, f.scope_mode, GW_SCOPE_SWALLOW));
    cr_assert(gw_fault_on(&f, GW_FAULT_SCOPE_LOSS));
    cr_assert(gw_fault_on(&f, GW_FAULT_FALLBACK_READY));
    cr_assert(not(gw_fault_on(&f, GW_FAULT_STUCK_SWAP)));
}

Test(fault, every_fault_parses_to_its_own_bit, .timeout = 10)
{
    for (int i = 0; i < GW_FAULT__COUNT; i++) {
        gw_faults_t f = {0};
        char err[256] = "";

        cr_assert(
            eq(int, gw_faults_parse(&f, design_names[i], err, sizeof(err)), 0),
            "%s: %s", design_names[i], err);
        cr_assert(eq(uint, f.mask, BIT(i)), "%s", design_names[i]);
    }
}

Test(fault, parse_adds_to_the_existing_set, .timeout = 10)
{
    gw_faults_t f = {.mask = BIT(GW_FAULT_STUCK_SWAP)};
    char err[256];

    cr_assert(
        eq(int, gw_faults_parse(&f, "registry-leak", err, sizeof(err)), 0));
    cr_assert(eq(uint, f.mask,
                 BIT(GW_FAULT_STUCK_SWAP) | BIT(GW_FAULT_REGISTRY_LEAK)));
}

Test(fault, scope_modes_parse, .timeout = 10)
{
    static const struct {
        const char *list;
        gw_scope_mode_t mode;
    } cases[] = {
        {"scope-loss", GW_SCOPE_CRASH},
        {"scope-loss=crash", GW_SCOPE_CRASH},
        {"scope-loss=error", GW_SCOPE_ERROR},
        {"scope-loss=swallow", GW_SCOPE_SWALLOW},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_faults_t f = {0};
        char err[256] = "";

        cr_assert(
            eq(int, gw_faults_parse(&f, cases[i].list, err, sizeof(err)), 0),
            "%s: %s", cases[i].list, err);
        cr_assert(eq(uint, f.mask, BIT(GW_FAULT_SCOPE_LOSS)));
        cr_assert(eq(int, f.scope_mode, cases[i].mode), "%s", cases[i].list);
    }
}

Test(fault, empty_none_and_spaces_are_accepted, .timeout = 10)
{
    gw_faults_t f = {0};
    char err[256];

    cr_assert(eq(int, gw_faults_parse(&f, "", err, sizeof(err)), 0));
    cr_assert(eq(int, gw_faults_parse(&f, "none", err, sizeof(err)), 0));
    cr_assert(eq(uint, f.mask, 0));
    cr_assert(
        eq(int,
           gw_faults_parse(&f, "stuck-swap, early-welcome,,", err, sizeof(err)),
           0));
    cr_assert(eq(uint, f.mask,
                 BIT(GW_FAULT_STUCK_SWAP) | BIT(GW_FAULT_EARLY_WELCOME)));
}

/* Parses list into a set holding fallback-ready and scope-loss=error and
 * checks the refusal: -EINVAL, the set untouched, err naming `needle`. */
static void expect_refused(const char *list, const char *needle)
{
    const gw_faults_t before = {
        .mask = BIT(GW_FAULT_FALLBACK_READY) | BIT(GW_FAULT_SCOPE_LOSS),
        .scope_mode = GW_SCOPE_ERROR,
    };
    gw_faults_t f = before;
    char err[256] = "";

    cr_assert(eq(int, gw_faults_parse(&f, list, err, sizeof(err)), -EINVAL),
              "'%s' was accepted", list);
    cr_assert(eq(uint, f.mask, before.mask), "'%s' changed the mask", list);
    cr_assert(eq(int, f.scope_mode, before.scope_mode),
              "'%s' changed the scope mode", list);
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
    gw_faults_t f = {
        .mask = BIT(GW_FAULT_SCOPE_LOSS) | BIT(GW_FAULT_FALLBACK_READY),
        .scope_mode = GW_SCOPE_SWALLOW,
    };
    gw_faults_t none = {0};
    char buf[256];

    cr_assert(eq(str, gw_faults_format(&f, buf, sizeof(buf)),
                 "scope-loss=swallow,fallback-ready"));
    f.scope_mode = GW_SCOPE_CRASH; /* the default is left out */
    cr_assert(eq(str, gw_faults_format(&f, buf, sizeof(buf)),
                 "scope-loss,fallback-ready"));
    cr_assert(eq(str, gw_faults_format(&none, buf, sizeof(buf)), ""));
}

Test(fault, format_round_trips_every_set, .timeout = 10)
{
    for (unsigned mask = 0; mask < BIT(GW_FAULT__COUNT); mask++) {
        for (int mode = GW_SCOPE_CRASH; mode <= GW_SCOPE_SWALLOW; mode++) {
            gw_faults_t f = {.mask = mask, .scope_mode = (gw_scope_mode_t)mode};
            gw_faults_t g = {0};
            char buf[512], err[256] = "";

            gw_faults_format(&f, buf, sizeof(buf));
            cr_assert(eq(int, gw_faults_parse(&g, buf, err, sizeof(err)), 0),
                      "'%s': %s", buf, err);
            cr_assert(eq(uint, g.mask, mask), "'%s'", buf);
            if (mask & BIT(GW_FAULT_SCOPE_LOSS))
                cr_assert(eq(int, g.scope_mode, mode), "'%s'", buf);
        }
    }
}

Test(fault, format_truncates_within_the_buffer, .timeout = 10)
{
    gw_faults_t f = {.mask = BIT(GW_FAULT__COUNT) - 1,
                     .scope_mode = GW_SCOPE_SWALLOW};
    char buf[16];

    memset(buf, 'x', sizeof(buf));
    gw_faults_format(&f, buf, 12);
    cr_assert(lt(sz, strlen(buf), 12));
    cr_assert(eq(chr, buf[12], 'x'), "wrote past the given length");
}

Test(fault, fault_on_null_set_is_false, .timeout = 10)
{
    for (int i = 0; i < GW_FAULT__COUNT; i++)
        cr_assert(not(gw_fault_on(NULL, (gw_fault_id_t)i)));
}
