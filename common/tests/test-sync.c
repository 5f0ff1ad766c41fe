/* test-sync.c - The sync point table and the action parser (wsr_sync.c):
 * names, a spec formatted back parses to the same spec, and a bad spec is
 * refused naming what was wrong, listing the points when it was one. The
 * gateway's runtime of these actions is target/tests/test-sync.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "wsr_sync.h"

Test(sync, every_point_parses_back_from_its_name, .timeout = 10)
{
    for (int p = 0; p < WSR_SP__COUNT; p++) {
        const char *name = wsr_sync_point_name((wsr_sync_point_t)p);

        cr_assert(not(zero(ptr, (void *)name)));
        cr_assert(not(zero(ptr, (void *)wsr_sync_point_summary(
                                    (wsr_sync_point_t)p))));
        cr_assert(eq(int, wsr_sync_point_from_name(name, strlen(name)), p));
    }
    cr_assert(eq(int, wsr_sync_point_from_name("auth", 4), -1));
}

Test(sync, specs_format_back_to_the_same_spec, .timeout = 10)
{
    static const char *const specs[] = {
        "accept.registered:delay=0",
        "services.done:jitter=0..600000",
        "registry.check:rendezvous=1024,timeout=1",
        "coordinator.ready:rendezvous=2",
        "close.begin:none",
    };

    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        wsr_sync_spec_t a, b;
        char err[256], buf[128];

        cr_assert(eq(int, wsr_sync_parse(specs[i], &a, err, sizeof(err)), 0),
                  "%s: %s", specs[i], err);
        cr_assert(lt(int, 0, wsr_sync_format(&a, buf, sizeof(buf))));
        cr_assert(eq(int, wsr_sync_parse(buf, &b, err, sizeof(err)), 0),
                  "%s: %s", buf, err);
        cr_assert(eq(int, memcmp(&a, &b, sizeof(a)), 0), "%s -> %s",
                  specs[i], buf);
    }
}

Test(sync, unknown_point_lists_the_points, .timeout = 10)
{
    wsr_sync_spec_t s = {.point = WSR_SP_AUTH_DONE, .a_ms = 7};
    char err[512] = "";

    cr_assert(eq(int, wsr_sync_parse("nosuch:delay=1", &s, err, sizeof(err)),
                 -EINVAL));
    cr_assert(not(zero(ptr, strstr(err, "unknown point 'nosuch'"))), "%s",
              err);
    for (int p = 0; p < WSR_SP__COUNT; p++)
        cr_assert(not(zero(ptr, strstr(err, wsr_sync_point_name(
                                                 (wsr_sync_point_t)p)))),
                  "%s", err);
    cr_assert(eq(uint, s.a_ms, 7), "the spec was written on failure");
}

Test(sync, format_refuses_a_short_buffer, .timeout = 10)
{
    wsr_sync_spec_t s;
    char err[128], buf[8];

    cr_assert(eq(int,
                 wsr_sync_parse("registry.check:rendezvous=2", &s, err,
                                sizeof(err)),
                 0));
    cr_assert(eq(int, wsr_sync_format(&s, buf, sizeof(buf)), -ENOSPC));
    cr_assert(eq(str, buf, ""));
}
