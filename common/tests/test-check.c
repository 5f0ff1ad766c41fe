/* test-check.c - Check names (wsr_check.c): every id has a distinct
 * snake_case name that maps back to it, and the two sets are apart. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "wsr_check.h"

Test(check, names_round_trip_and_are_distinct, .timeout = 10)
{
    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
        const char *name = wsr_check_name((wsr_check_id_t)i);

        cr_assert(not(zero(ptr, (void *)name)));
        cr_assert(eq(int, wsr_check_from_name(name), i), "%s", name);
        cr_assert(eq(sz, strspn(name, "abcdefghijklmnopqrstuvwxyz_"),
                     strlen(name)),
                  "'%s' is not snake_case", name);
        for (int j = 0; j < i; j++)
            cr_assert(ne(str, (char *)name,
                         (char *)wsr_check_name((wsr_check_id_t)j)));
    }
    cr_assert(zero(ptr, (void *)wsr_check_name(WSR_CHECK__COUNT)));
    cr_assert(eq(int, wsr_check_from_name("no_such_check"), -1));
    cr_assert(eq(int, wsr_check_from_name(NULL), -1));
}

Test(check, scenario_and_tool_sets_are_apart_and_cover_all, .timeout = 10)
{
    cr_assert(eq(uint, WSR_CHECKS_ALL & WSR_CHECKS_TOOL, 0));
    cr_assert(eq(uint, WSR_CHECKS_ALL | WSR_CHECKS_TOOL,
                 (1u << WSR_CHECK__COUNT) - 1));
}
