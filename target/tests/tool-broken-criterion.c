/* tool-broken-criterion.c - The deliberate bugs of tool_broken.h inside
 * Criterion tests, each of which passes on its own: Criterion runs every
 * test in a forked process, and a tool's report there does not fail the
 * test. The tool self-test (tool_selftest.py) proves that the tool setups
 * fail them anyway. Run one with --filter 'broken/uaf'. */
#include <criterion/criterion.h>

#include "tool_broken.h"

Test(broken, clean) { cr_assert(broken_run("clean") == 0); }
Test(broken, uaf) { cr_assert(broken_run("uaf") == 0); }
Test(broken, leak) { cr_assert(broken_run("leak") == 0); }
Test(broken, race, .timeout = 60) { cr_assert(broken_run("race") == 0); }
Test(broken, ub) { cr_assert(broken_run("ub") == 0); }
