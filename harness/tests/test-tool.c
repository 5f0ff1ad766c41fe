/* test-tool.c - Reading valgrind's XML and sanitizer logs (wr_tool.c), and
 * the memory_safety and data_race checks of what they reported
 * (wr_check_tool.c).
 *
 * The fixtures in data/tool/ are real output: memcheck, helgrind and an
 * ASan+UBSan build of wsrace-gateway with scope-loss=crash and without
 * injection, and helgrind, drd, TSan, ASan and LSan on the small programs
 * racy.c and uaf.c kept next to them. memcheck-crash-history.jsonl is the
 * history of the memcheck crash run. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checks/wr_check.h"
#include "history/wr_history.h"
#include "drive/wr_tool.h"

#define DATA WR_TEST_DATA "/tool/"

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof(path), DATA "%s", name);
    f = fopen(path, "rb");
    cr_assert(not(eq(ptr, f, NULL)), "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert(not(eq(ptr, buf, NULL)));
    cr_assert(eq(sz, fread(buf, 1, (size_t)n, f), (size_t)n));
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void vg(wr_tool_report_t *r, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), DATA "%s", name);
    cr_assert(eq(int, wr_tool_read_valgrind(r, path), 0), "%s", name);
}

static void san(wr_tool_report_t *r, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), DATA "%s", name);
    cr_assert(eq(int, wr_tool_read_sanitizer(r, path), 0), "%s", name);
}

/* Criterion's eq(str, ...) takes char *. */
static char *fn(const wr_tool_stack_t *s, size_t i)
{
    return i < s->nframes && s->frames[i].fn ? s->frames[i].fn
                                             : (char *)"(none)";
}

static char *top(const wr_tool_stack_t *s)
{
    const wr_tool_frame_t *f = wr_tool_top_frame(s);

    return f && f->fn ? f->fn : (char *)"(none)";
}

/* ------------------------------------------------------------------ */
/* valgrind                                                             */
/* ------------------------------------------------------------------ */

Test(tool, memcheck_crash_reads_the_invalid_read_and_its_stack)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "memcheck-crash.xml");
    cr_assert(eq(int, r.tool, WR_TOOL_MEMCHECK));
    cr_assert(eq(sz, r.nerrors, 6));
    cr_assert(eq(sz, r.files, 1));
    cr_assert(wr_tool_complete(&r));
    cr_assert(eq(int, r.signal, 11));
    cr_assert(eq(sz, r.nonleak, 1));
    cr_assert(eq(sz, r.leaks, 2));
    cr_assert(eq(u64, r.leaked_bytes, 962 + 1182));
    cr_assert(eq(u64, r.leaked_blocks, 2));

    e = &r.errors[0];
    cr_assert(eq(str, e->kind, "InvalidRead"));
    cr_assert(eq(str, e->what, "Invalid read of size 8"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_MEMORY));
    cr_assert(eq(long, e->pid, 2226));
    cr_assert(eq(long, e->tid, 4));
    cr_assert(e->fatal);
    cr_assert(not(e->leak));
    cr_assert(eq(sz, e->stack.nframes, 6));
    cr_assert(eq(str, fn(&e->stack, 0), "gw_registry_rekey"));
    cr_assert(eq(str, e->stack.frames[0].file, "gw_registry.c"));
    cr_assert(eq(int, e->stack.frames[0].line, 269));
    cr_assert(eq(str, fn(&e->stack, 1), "step_swap"));
    cr_assert(eq(str, fn(&e->stack, 2), "handshake_job"));
    cr_assert(eq(sz, e->naux, 1));
    cr_assert(eq(sz, e->aux[0].nframes, 0));
    cr_assert(eq(str, e->aux[0].what,
                 "Address 0x0 is not stack'd, malloc'd or (recently) free'd"));

    e = &r.errors[1];
    cr_assert(eq(str, e->kind, "Leak_PossiblyLost"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_MINOR_LEAK));
    cr_assert(e->leak);
    cr_assert(not(e->fatal));
    cr_assert(eq(u64, e->bytes, 137));
    cr_assert(eq(str, fn(&e->stack, 0), "malloc"));
    cr_assert(eq(ptr, e->stack.frames[1].fn, NULL)); /* libjansson, no fn */
    cr_assert(eq(str, e->stack.frames[1].obj,
                 "/usr/lib/x86_64-linux-gnu/libjansson.so.4.14.0"));

    e = &r.errors[3];
    cr_assert(eq(str, e->kind, "Leak_DefinitelyLost"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_LEAK));
    cr_assert(eq(u64, e->bytes, 962));
    cr_assert(eq(u64, e->blocks, 1));
    cr_assert(eq(str, top(&e->stack), "json_object")); /* past malloc */
    cr_assert(eq(str, fn(&e->stack, 2), "gw_trace_emit"));
    wr_tool_report_free(&r);
}

Test(tool, memcheck_clean_run_has_no_error)
{
    wr_tool_report_t r;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "memcheck-clean.xml");
    cr_assert(eq(int, r.tool, WR_TOOL_MEMCHECK));
    cr_assert(eq(sz, r.nerrors, 0));
    cr_assert(eq(sz, r.files, 1));
    cr_assert(wr_tool_complete(&r));
    cr_assert(eq(u64, r.leaked_bytes, 0));
    cr_assert(eq(int, r.signal, 0));
    wr_tool_report_free(&r);
}

/* The file cut at len bytes. */
static int read_cut(wr_tool_report_t *r, const char *buf, size_t len)
{
    char *cut = malloc(len + 1);
    int rc;

    cr_assert(not(eq(ptr, cut, NULL)));
    memcpy(cut, buf, len);
    cut[len] = '\0';
    rc = wr_tool_read_valgrind_mem(r, cut, len);
    free(cut);
    return rc;
}

Test(tool, truncated_file_keeps_the_errors_written_in_full)
{
    size_t len;
    char *buf = slurp("memcheck-crash.xml", &len);
    const char *kind = strstr(buf, "<kind>InvalidRead");
    const char *end1 = strstr(buf, "</error>") + strlen("</error>");
    const char *mid2 = strstr(end1, "<leakedbytes>137");
    wr_tool_report_t r;

    /* In the middle of the first error: nothing, but the file counts. */
    wr_tool_report_init(&r, WR_TOOL_NONE);
    cr_assert(eq(int, read_cut(&r, buf, (size_t)(kind - buf) + 8), 0));
    cr_assert(eq(int, r.tool, WR_TOOL_MEMCHECK));
    cr_assert(eq(sz, r.nerrors, 0));
    cr_assert(eq(sz, r.files, 1));
    cr_assert(eq(sz, r.incomplete, 1));
    cr_assert(not(wr_tool_complete(&r)));
    wr_tool_report_free(&r);

    /* Just after it, and in the middle of the next: the first, whole. */
    for (int k = 0; k < 2; k++) {
        const char *at = k == 0 ? end1 : mid2;

        wr_tool_report_init(&r, WR_TOOL_NONE);
        cr_assert(eq(int, read_cut(&r, buf, (size_t)(at - buf)), 0));
        cr_assert(eq(sz, r.nerrors, 1));
        cr_assert(eq(str, r.errors[0].kind, "InvalidRead"));
        cr_assert(eq(sz, r.errors[0].stack.nframes, 6));
        cr_assert(eq(str, fn(&r.errors[0].stack, 0), "gw_registry_rekey"));
        cr_assert(eq(sz, r.errors[0].naux, 1));
        cr_assert(eq(sz, r.incomplete, 1));
        wr_tool_report_free(&r);
    }

    /* Every cut: never more than the whole, never complete, no crash. */
    for (size_t n = 0; n < len; n += 37) {
        wr_tool_report_init(&r, WR_TOOL_NONE);
        cr_assert(eq(int, read_cut(&r, buf, n), 0), "cut at %zu", n);
        cr_assert(le(sz, r.nerrors, 6));
        cr_assert(eq(sz, r.incomplete, 1), "cut at %zu", n);
        wr_tool_report_free(&r);
    }
    free(buf);
}

Test(tool, garbage_is_an_error_not_a_crash)
{
    static const char *const bad[] = {
        "hello world\n",
        "<html><body>not valgrind</body></html>",
        "\x01\x02\xff\xfe garbage",
        "{\"event\":\"tool.error\"}",
    };
    static const char old[] = "<?xml version=\"1.0\"?>\n<valgrindoutput>\n"
                              "<protocolversion>3</protocolversion>\n"
                              "</valgrindoutput>\n";
    wr_tool_report_t r;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        cr_assert(eq(int, wr_tool_read_valgrind_mem(&r, bad[i], strlen(bad[i])),
                     -EINVAL),
                  "input %zu", i);
    cr_assert(eq(int, wr_tool_read_valgrind_mem(&r, old, strlen(old)),
                 -EPROTONOSUPPORT));
    cr_assert(
        eq(int, wr_tool_read_valgrind(&r, DATA "no-such-file.xml"), -ENOENT));
    cr_assert(
        eq(int, wr_tool_read_valgrind(&r, DATA "asan-crash.log"), -EINVAL));
    cr_assert(eq(sz, r.nerrors, 0));
    cr_assert(eq(sz, r.files, 0));

    /* Empty: valgrind made the file and the process died at once. */
    cr_assert(eq(int, wr_tool_read_valgrind_mem(&r, "", 0), 0));
    cr_assert(eq(sz, r.files, 1));
    cr_assert(eq(sz, r.incomplete, 1));

    /* A sanitizer log of anything else is only a log without reports. */
    cr_assert(
        eq(int, wr_tool_read_sanitizer_mem(&r, bad[2], strlen(bad[2]), -1), 0));
    cr_assert(eq(sz, r.nerrors, 0));
    wr_tool_report_free(&r);
}

Test(tool, glob_reads_every_file_of_a_run)
{
    wr_tool_report_t r;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    cr_assert(
        eq(long, wr_tool_read_valgrind_glob(&r, DATA "memcheck-*.xml"), 2));
    cr_assert(eq(sz, r.files, 2));
    cr_assert(eq(sz, r.nerrors, 6));
    cr_assert(
        eq(long, wr_tool_read_valgrind_glob(&r, DATA "nothing-here.*.xml"), 0));
    wr_tool_report_free(&r);
}

Test(tool, helgrind_races_and_lock_order)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "helgrind-racy.xml");
    cr_assert(eq(int, r.tool, WR_TOOL_HELGRIND));
    cr_assert(eq(sz, r.nerrors, 3));
    cr_assert(wr_tool_complete(&r));

    e = &r.errors[0];
    cr_assert(eq(str, e->kind, "Race"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_RACE));
    cr_assert(eq(str, e->what,
                 "Possible data race during read of size 4 at "
                 "0x10C060 by thread #3"));
    cr_assert(eq(str, fn(&e->stack, 0), "bump"));
    cr_assert(eq(int, e->stack.frames[0].line, 13));
    cr_assert(eq(str, e->aux[0].what,
                 "This conflicts with a previous write of size 4 by thread "
                 "#2"));
    cr_assert(eq(str, top(&e->aux[0]), "bump"));

    e = &r.errors[2];
    cr_assert(eq(str, e->kind, "LockOrder"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_THREAD));
    cr_assert(eq(str, top(&e->stack), "main")); /* past the preload frame */
    cr_assert(eq(sz, e->naux, 4));
    cr_assert(eq(str, top(&e->aux[0]), "ab"));
    wr_tool_report_free(&r);

    /* The gateway's own: OpenSSL's lazy init and the atomic refcount of
     * gw_conn_unref, which helgrind does not understand. */
    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "helgrind-gateway.xml");
    cr_assert(eq(sz, r.nerrors, 7));
    cr_assert(eq(str, top(&r.errors[6].stack), "gw_conn_unref"));
    cr_assert(
        eq(str, top(&r.errors[6].aux[0]), "__pthread_mutex_unlock_usercnt"));
    wr_tool_report_free(&r);

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "helgrind-clean.xml");
    cr_assert(eq(int, r.tool, WR_TOOL_HELGRIND));
    cr_assert(eq(sz, r.nerrors, 0));
    cr_assert(wr_tool_complete(&r));
    wr_tool_report_free(&r);
}

Test(tool, drd_conflicting_accesses)
{
    wr_tool_report_t r;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "drd-racy.xml");
    cr_assert(eq(int, r.tool, WR_TOOL_DRD));
    cr_assert(eq(sz, r.nerrors, 3));
    for (size_t i = 0; i < r.nerrors; i++) {
        cr_assert(eq(str, r.errors[i].kind, "ConflictingAccess"));
        cr_assert(eq(int, r.errors[i].klass, WR_TOOL_CLASS_RACE));
        cr_assert(eq(str, top(&r.errors[i].stack), "bump"));
        cr_assert(eq(long, r.errors[i].tid, 2));
    }
    cr_assert(eq(str, r.errors[0].what,
                 "Conflicting load by thread 3 at 0x0010c060 size 4"));
    cr_assert(eq(str, r.errors[0].aux[0].what,
                 "Allocation context: BSS section of /tmp/fx/racy/racy"));
    wr_tool_report_free(&r);
}

/* ------------------------------------------------------------------ */
/* sanitizers                                                           */
/* ------------------------------------------------------------------ */

Test(tool, asan_crash_of_the_gateway)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    san(&r, "asan-crash.log");
    cr_assert(eq(int, r.tool, WR_TOOL_ASAN)); /* from UBSan's error */
    cr_assert(eq(sz, r.nerrors, 2));
    cr_assert(wr_tool_complete(&r));
    cr_assert(eq(int, r.signal, 11));

    e = &r.errors[0];
    cr_assert(eq(int, e->tool, WR_TOOL_UBSAN));
    cr_assert(eq(str, e->kind, "runtime error"));
    cr_assert(eq(str, e->what,
                 "member access within null pointer of type "
                 "'struct gw_registry_t'"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_MEMORY));
    cr_assert(eq(sz, e->stack.nframes, 1));
    cr_assert(eq(str, e->stack.frames[0].file, "../target/gw_registry.c"));
    cr_assert(eq(int, e->stack.frames[0].line, 269));
    cr_assert(not(e->fatal));

    e = &r.errors[1];
    cr_assert(eq(int, e->tool, WR_TOOL_ASAN));
    cr_assert(eq(str, e->kind, "SEGV"));
    cr_assert(eq(str, e->what, "SEGV on unknown address 0x000000000000"));
    cr_assert(eq(long, e->pid, 14447));
    cr_assert(eq(long, e->tid, 2));
    cr_assert(e->fatal);
    cr_assert(eq(sz, e->stack.nframes, 6));
    cr_assert(eq(str, fn(&e->stack, 0), "gw_registry_rekey"));
    cr_assert(eq(str, e->stack.frames[0].file, "../target/gw_registry.c"));
    cr_assert(eq(int, e->stack.frames[0].line, 269));
    cr_assert(eq(str, fn(&e->stack, 1), "step_swap"));
    cr_assert(eq(sz, e->naux, 1));
    cr_assert(eq(str, e->aux[0].what, "Thread T2 created by T0 here"));
    cr_assert(eq(str, fn(&e->aux[0], 0), "__interceptor_pthread_create"));
    cr_assert(eq(str, top(&e->aux[0]), "gw_pool_new"));
    wr_tool_report_free(&r);

    /* The runner knows the gateway's pid; UBSan's errors do not say it. */
    {
        size_t len;
        char *buf = slurp("asan-crash.log", &len);

        wr_tool_report_init(&r, WR_TOOL_ASAN);
        cr_assert(eq(int, wr_tool_read_sanitizer_mem(&r, buf, len, 777), 0));
        cr_assert(eq(sz, r.nerrors, 2));
        cr_assert(eq(long, r.errors[0].pid, 777));
        cr_assert(eq(long, r.errors[1].pid, 14447));
        wr_tool_report_free(&r);
        free(buf);
    }

    wr_tool_report_init(&r, WR_TOOL_ASAN);
    san(&r, "asan-clean.log");
    cr_assert(eq(sz, r.nerrors, 0));
    cr_assert(eq(sz, r.files, 1));
    cr_assert(wr_tool_complete(&r));
    wr_tool_report_free(&r);
}

Test(tool, asan_use_after_free_with_its_stacks)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    san(&r, "asan-uaf.log");
    cr_assert(eq(sz, r.nerrors, 1));
    e = &r.errors[0];
    cr_assert(eq(str, e->kind, "heap-use-after-free"));
    cr_assert(eq(str, e->what,
                 "heap-use-after-free on address "
                 "0x602000000013; READ of size 1 at "
                 "0x602000000013 thread T0"));
    cr_assert(eq(long, e->tid, 0));
    cr_assert(eq(long, e->pid, 14592));
    cr_assert(e->fatal);
    cr_assert(eq(str, fn(&e->stack, 0), "use"));
    cr_assert(eq(str, e->stack.frames[0].file, "/tmp/fx/racy/uaf.c"));
    cr_assert(eq(int, e->stack.frames[0].line, 9));
    cr_assert(eq(str, fn(&e->stack, 4), "_start"));
    cr_assert(eq(str, e->stack.frames[4].obj, "/tmp/fx/racy/uaf-asan"));
    cr_assert(eq(sz, e->naux, 3)); /* not the shadow bytes */
    cr_assert(eq(sz, e->aux[0].nframes, 0));
    cr_assert(eq(str, e->aux[1].what, "freed by thread T0 here"));
    cr_assert(eq(str, top(&e->aux[1]), "main"));
    cr_assert(eq(int, wr_tool_top_frame(&e->aux[1])->line, 18));
    cr_assert(
        eq(str, e->aux[2].what, "previously allocated by thread T0 here"));
    cr_assert(wr_tool_complete(&r));
    wr_tool_report_free(&r);
}

Test(tool, lsan_direct_leak)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    san(&r, "lsan-leak.log");
    cr_assert(eq(int, r.tool, WR_TOOL_ASAN));
    cr_assert(eq(sz, r.nerrors, 1));
    e = &r.errors[0];
    cr_assert(eq(int, e->tool, WR_TOOL_LSAN));
    cr_assert(eq(str, e->kind, "Direct leak"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_LEAK));
    cr_assert(e->leak);
    cr_assert(eq(u64, e->bytes, 40));
    cr_assert(eq(u64, e->blocks, 1));
    cr_assert(eq(long, e->pid, 14593));
    cr_assert(eq(str, top(&e->stack), "main"));
    cr_assert(eq(u64, r.leaked_bytes, 40));
    cr_assert(eq(sz, r.nonleak, 0));
    cr_assert(wr_tool_complete(&r));
    wr_tool_report_free(&r);
}

Test(tool, tsan_race_and_lock_order_inversion)
{
    wr_tool_report_t r;
    const wr_tool_error_t *e;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    san(&r, "tsan-racy.log");
    cr_assert(eq(int, r.tool, WR_TOOL_TSAN));
    cr_assert(eq(sz, r.nerrors, 2));
    cr_assert(wr_tool_complete(&r));

    e = &r.errors[0];
    cr_assert(eq(str, e->kind, "data race"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_RACE));
    cr_assert(eq(long, e->pid, 14376));
    cr_assert(eq(long, e->tid, 2));
    cr_assert(eq(str, e->what,
                 "data race; Read of size 4 at 0x56115661b108 "
                 "by thread T2"));
    cr_assert(eq(str, fn(&e->stack, 0), "bump"));
    cr_assert(eq(str, e->stack.frames[0].file, "/tmp/fx/racy/racy.c"));
    cr_assert(eq(int, e->stack.frames[0].line, 12));
    cr_assert(eq(str, e->stack.frames[0].obj, "racy-tsan"));
    cr_assert(eq(sz, e->naux, 4));
    cr_assert(eq(str, e->aux[0].what,
                 "Previous write of size 4 at 0x56115661b108 by thread T1"));
    cr_assert(eq(str, fn(&e->aux[0], 0), "bump"));
    cr_assert(eq(sz, e->aux[1].nframes, 0)); /* Location is global ... */
    cr_assert(eq(str, top(&e->aux[2]), "main"));

    e = &r.errors[1];
    cr_assert(eq(str, e->kind, "lock-order-inversion (potential deadlock)"));
    cr_assert(eq(int, e->klass, WR_TOOL_CLASS_THREAD));
    cr_assert(eq(long, e->tid, 3));
    cr_assert(eq(str, fn(&e->stack, 0), "pthread_mutex_lock"));
    cr_assert(eq(str, top(&e->stack), "ab"));
    cr_assert(eq(str, top(&e->aux[0]), "main"));
    wr_tool_report_free(&r);
}

Test(tool, sanitizer_report_cut_before_its_summary_is_incomplete)
{
    size_t len;
    char *buf = slurp("asan-uaf.log", &len);
    const char *cut = strstr(buf, "freed by thread");
    wr_tool_report_t r;

    wr_tool_report_init(&r, WR_TOOL_ASAN);
    cr_assert(eq(
        int, wr_tool_read_sanitizer_mem(&r, buf, (size_t)(cut - buf), -1), 0));
    cr_assert(eq(sz, r.nerrors, 1));
    cr_assert(eq(str, r.errors[0].kind, "heap-use-after-free"));
    cr_assert(not(wr_tool_complete(&r)));
    wr_tool_report_free(&r);
    free(buf);
}

static bool jtrue(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

Test(tool, events_as_json)
{
    wr_tool_report_t r;
    json_t *o, *frames;
    char *line;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    vg(&r, "memcheck-crash.xml");
    line = wr_tool_error_json(&r.errors[0], 42);
    o = json_loads(line, 0, NULL);
    cr_assert(not(eq(ptr, o, NULL)), "%s", line);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "event")),
                 "tool.error"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "src")),
                 "harness"));
    cr_assert(eq(i64, json_integer_value(json_object_get(o, "ns")), 42));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "kind")),
                 "InvalidRead"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "class")),
                 "memory"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "top")),
                 "gw_registry_rekey (gw_registry.c:269)"));
    cr_assert(jtrue(o, "fatal"));
    cr_assert(not(jtrue(o, "leak")));
    frames = json_object_get(o, "frames");
    cr_assert(eq(sz, json_array_size(frames), 6));
    cr_assert(eq(str, (char *)json_string_value(json_array_get(frames, 1)),
                 "step_swap (gw_conn.c:644)"));
    cr_assert(eq(sz, json_array_size(json_object_get(o, "aux")), 1));
    json_decref(o);
    free(line);

    line = wr_tool_report_json(&r, 43);
    o = json_loads(line, 0, NULL);
    cr_assert(not(eq(ptr, o, NULL)), "%s", line);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "event")),
                 "tool.report"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "tool")),
                 "memcheck"));
    cr_assert(eq(i64, json_integer_value(json_object_get(o, "errors")), 1));
    cr_assert(
        eq(i64, json_integer_value(json_object_get(o, "leaked_bytes")), 2144));
    cr_assert(eq(i64, json_integer_value(json_object_get(o, "files")), 1));
    cr_assert(eq(i64, json_integer_value(json_object_get(o, "signal")), 11));
    cr_assert(jtrue(o, "complete"));
    cr_assert(jtrue(o, "checks_memory"));
    cr_assert(not(jtrue(o, "checks_races")));
    json_decref(o);
    free(line);
    wr_tool_report_free(&r);
}

Test(tool, names_and_classes)
{
    cr_assert(eq(str, (char *)wr_tool_name(WR_TOOL_HELGRIND), "helgrind"));
    cr_assert(eq(int, wr_tool_from_name("tsan"), WR_TOOL_TSAN));
    cr_assert(eq(int, wr_tool_from_name("nope"), -1));
    cr_assert(eq(ptr, (void *)wr_tool_name(WR_TOOL__COUNT), NULL));
    cr_assert(eq(int, wr_tool_classify(WR_TOOL_MEMCHECK, "UninitCondition"),
                 WR_TOOL_CLASS_MEMORY));
    cr_assert(eq(int, wr_tool_classify(WR_TOOL_MEMCHECK, "Leak_StillReachable"),
                 WR_TOOL_CLASS_MINOR_LEAK));
    cr_assert(eq(int, wr_tool_classify(WR_TOOL_DRD, "MutexErr"),
                 WR_TOOL_CLASS_THREAD));
    cr_assert(eq(int, wr_tool_classify(WR_TOOL_TSAN, "heap-use-after-free"),
                 WR_TOOL_CLASS_MEMORY));
    cr_assert(eq(int, wr_tool_classify(WR_TOOL_LSAN, "Indirect leak"),
                 WR_TOOL_CLASS_MINOR_LEAK));
    cr_assert(wr_tool_checks_memory(WR_TOOL_ASAN));
    cr_assert(not(wr_tool_checks_memory(WR_TOOL_HELGRIND)));
    cr_assert(wr_tool_checks_races(WR_TOOL_DRD));
}

/* ------------------------------------------------------------------ */
/* The checks                                                           */
/* ------------------------------------------------------------------ */

/* The history of the memcheck crash run, with r's events (if any) at the
 * ns of its target.exit. */
static wr_history_t *crash_history(const wr_tool_report_t *r)
{
    wr_history_t *h = wr_history_new();
    int64_t exit_ns = -1;

    cr_assert(not(eq(ptr, h, NULL)));
    cr_assert(
        gt(long, wr_history_load(h, DATA "memcheck-crash-history.jsonl"), 0));
    for (size_t i = 0; i < wr_history_len(h); i++)
        if (strcmp(wr_history_at(h, i)->event, "target.exit") == 0)
            exit_ns = wr_history_at(h, i)->ns;
    cr_assert(gt(i64, exit_ns, 0));
    if (r != NULL)
        cr_assert(eq(int, wr_tool_history_add(h, r, exit_ns), 0));
    wr_history_sort(h);
    return h;
}

static wr_history_t *with_report(const char *name, bool sanitizer,
                                 wr_tool_t tool)
{
    wr_tool_report_t r;
    wr_history_t *h;

    wr_tool_report_init(&r, tool);
    if (sanitizer)
        san(&r, name);
    else
        vg(&r, name);
    h = crash_history(&r);
    wr_tool_report_free(&r);
    return h;
}

static bool cites(const wr_check_result_t *res, const char *event,
                  const char *handle)
{
    for (size_t i = 0; i < res->nevidence; i++)
        if (strcmp(res->evidence[i]->event, event) == 0 &&
            (handle == NULL || (res->evidence[i]->handle != NULL &&
                                strcmp(res->evidence[i]->handle, handle) == 0)))
            return true;
    return false;
}

Test(tool_check, ids_names_and_masks)
{
    cr_assert(eq(str, (char *)wsr_check_name(WSR_CHECK_MEMORY_SAFETY),
                 "memory_safety"));
    cr_assert(eq(str, (char *)wsr_check_name(WSR_CHECK_DATA_RACE), "data_race"));
    cr_assert(eq(int, wsr_check_from_name("data_race"), WSR_CHECK_DATA_RACE));
    cr_assert(eq(uint, WSR_CHECKS_ALL & WSR_CHECKS_TOOL, 0));
    cr_assert(
        eq(uint, WSR_CHECKS_ALL | WSR_CHECKS_TOOL, (1u << WSR_CHECK__COUNT) - 1));
    cr_assert(eq(uint, WSR_CHECKS_ALL & (1u << WSR_CHECK_NO_LOST_MESSAGES),
                 1u << WSR_CHECK_NO_LOST_MESSAGES));
}

Test(tool_check, memcheck_crash_fails_memory_safety_with_evidence)
{
    wr_history_t *h = with_report("memcheck-crash.xml", false, WR_TOOL_NONE);
    wr_check_result_t res;

    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_FAIL), "%s", res.summary);
    cr_assert(eq(sz, res.violations, 3)); /* InvalidRead, 2 definite leaks */
    cr_assert(not(eq(ptr,
                     strstr(res.summary, "memcheck reported InvalidRead "
                                         "in gw_registry_rekey "
                                         "(gw_registry.c:269)"),
                     NULL)),
              "%s", res.summary);
    cr_assert(not(eq(ptr, strstr(res.summary, "died of it"), NULL)));
    cr_assert(cites(&res, "tool.error", NULL));
    cr_assert(cites(&res, "swap.begin", "out-of-scope"));
    cr_assert(cites(&res, "target.exit", NULL));
    cr_assert(le(sz, res.nevidence, WR_EVIDENCE_MAX));
    for (size_t i = 1; i < res.nevidence; i++) /* history order */
        cr_assert(lt(sz, wr_history_index(h, res.evidence[i - 1]),
                     wr_history_index(h, res.evidence[i])));

    /* memcheck does not look for races. */
    wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_UNKNOWN), "%s", res.summary);
    cr_assert(eq(str, res.summary,
                 "only memcheck ran, which does not look for data races"));
    wr_history_free(h);
}

Test(tool_check, asan_crash_fails_memory_safety)
{
    wr_history_t *h = with_report("asan-crash.log", true, WR_TOOL_ASAN);
    wr_check_result_t res;

    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_FAIL), "%s", res.summary);
    cr_assert(eq(sz, res.violations, 2));
    cr_assert(
        not(eq(ptr, strstr(res.summary, "ubsan reported runtime error"), NULL)),
        "%s", res.summary);
    cr_assert(cites(&res, "swap.begin", "out-of-scope"));
    wr_history_free(h);
}

Test(tool_check, clean_reports_pass)
{
    wr_history_t *h = with_report("memcheck-clean.xml", false, WR_TOOL_NONE);
    wr_check_result_t res;

    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_PASS), "%s", res.summary);
    cr_assert(eq(str, res.summary,
                 "memcheck ran and reported no memory error "
                 "and no definitely lost block"));
    cr_assert(eq(sz, res.nevidence, 0));
    wr_history_free(h);

    h = with_report("asan-clean.log", true, WR_TOOL_ASAN);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_PASS), "%s", res.summary);
    wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_UNKNOWN), "%s", res.summary);
    wr_history_free(h);

    h = with_report("helgrind-clean.xml", false, WR_TOOL_NONE);
    wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_PASS), "%s", res.summary);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_UNKNOWN), "%s", res.summary);
    wr_history_free(h);

    /* A TSan build whose log shows nothing. */
    h = with_report("asan-clean.log", true, WR_TOOL_TSAN);
    wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_PASS), "%s", res.summary);
    wr_history_free(h);
}

Test(tool_check, unknown_without_a_tool_report)
{
    wr_history_t *h = crash_history(NULL);
    wr_check_result_t res[WSR_CHECK__COUNT];

    wr_check_all(h, NULL, WSR_CHECKS_TOOL, res);
    cr_assert(eq(int, res[WSR_CHECK_MEMORY_SAFETY].verdict, WR_UNKNOWN));
    cr_assert(eq(str, res[WSR_CHECK_MEMORY_SAFETY].summary,
                 "no tool that looks for memory errors ran (no tool.report)"));
    cr_assert(eq(int, res[WSR_CHECK_DATA_RACE].verdict, WR_UNKNOWN));
    /* The scenario checks were not asked for. */
    cr_assert(eq(str, res[WSR_CHECK_SCOPE_LOSS].summary, "not run"));

    /* And the tool checks are not among the scenario's. */
    wr_check_all(h, NULL, WSR_CHECKS_ALL, res);
    cr_assert(eq(int, res[WSR_CHECK_SCOPE_LOSS].verdict, WR_FAIL));
    cr_assert(eq(str, res[WSR_CHECK_MEMORY_SAFETY].summary, "not run"));
    cr_assert(eq(str, res[WSR_CHECK_DATA_RACE].summary, "not run"));
    wr_history_free(h);
}

Test(tool_check, incomplete_output_without_errors_is_unknown)
{
    size_t len;
    char *buf = slurp("memcheck-crash.xml", &len);
    const char *kind = strstr(buf, "<kind>InvalidRead");
    wr_tool_report_t r;
    wr_history_t *h;
    wr_check_result_t res;

    wr_tool_report_init(&r, WR_TOOL_NONE);
    cr_assert(eq(int, read_cut(&r, buf, (size_t)(kind - buf)), 0));
    h = crash_history(&r);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_UNKNOWN), "%s", res.summary);
    cr_assert(not(eq(ptr, strstr(res.summary, "cut short"), NULL)));
    wr_history_free(h);
    wr_tool_report_free(&r);

    /* Cut after the invalid read: that one is enough to fail. */
    wr_tool_report_init(&r, WR_TOOL_NONE);
    cr_assert(eq(
        int, read_cut(&r, buf, (size_t)(strstr(buf, "<fatal_signal>") - buf)),
        0));
    h = crash_history(&r);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_FAIL), "%s", res.summary);
    wr_history_free(h);
    wr_tool_report_free(&r);
    free(buf);
}

Test(tool_check, data_race_fails_on_races_and_lock_order)
{
    static const char *const fixtures[] = {"helgrind-racy.xml", "drd-racy.xml",
                                           "tsan-racy.log",
                                           "helgrind-gateway.xml"};
    wr_check_result_t res;

    for (size_t i = 0; i < sizeof(fixtures) / sizeof(*fixtures); i++) {
        wr_history_t *h =
            with_report(fixtures[i], strstr(fixtures[i], ".log"), WR_TOOL_NONE);

        wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
        cr_assert(eq(int, res.verdict, WR_FAIL), "%s: %s", fixtures[i],
                  res.summary);
        cr_assert(cites(&res, "tool.error", NULL));
        wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
        cr_assert(eq(int, res.verdict, WR_UNKNOWN), "%s: %s", fixtures[i],
                  res.summary);
        wr_history_free(h);
    }

    /* A lock-order violation alone fails it too. */
    {
        wr_history_t *h = crash_history(NULL);

        cr_assert(eq(
            int,
            wr_history_add_line(h, WR_SRC_HARNESS,
                                "{\"event\":\"tool.error\",\"ns\":1,\"tool\":"
                                "\"helgrind\",\"kind\":\"LockOrder\",\"class\":"
                                "\"thread\",\"what\":\"lock order violated\"}"),
            0));
        cr_assert(eq(int,
                     wr_history_add_line(
                         h, WR_SRC_HARNESS,
                         "{\"event\":\"tool.report\",\"ns\":1,\"tool\":"
                         "\"helgrind\",\"complete\":true,\"checks_races\":"
                         "true}"),
                     0));
        wr_history_sort(h);
        wr_check_run(WSR_CHECK_DATA_RACE, h, NULL, &res);
        cr_assert(eq(int, res.verdict, WR_FAIL), "%s", res.summary);
        cr_assert(eq(str, res.summary,
                     "helgrind reported LockOrder: lock order violated"));
        wr_history_free(h);
    }
}

Test(tool_check, possibly_lost_alone_passes_and_definitely_lost_fails)
{
    static const char report[] =
        "{\"event\":\"tool.report\",\"ns\":5,\"tool\":\"memcheck\","
        "\"complete\":true,\"checks_memory\":true}";
    wr_check_result_t res;
    wr_history_t *h = crash_history(NULL);

    cr_assert(eq(int,
                 wr_history_add_line(
                     h, WR_SRC_HARNESS,
                     "{\"event\":\"tool.error\",\"ns\":5,\"tool\":"
                     "\"memcheck\",\"kind\":\"Leak_PossiblyLost\",\"class\":"
                     "\"minor-leak\",\"leak\":true,\"bytes\":137}"),
                 0));
    cr_assert(eq(int, wr_history_add_line(h, WR_SRC_HARNESS, report), 0));
    wr_history_sort(h);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_PASS), "%s", res.summary);
    wr_history_free(h);

    h = with_report("lsan-leak.log", true, WR_TOOL_ASAN);
    wr_check_run(WSR_CHECK_MEMORY_SAFETY, h, NULL, &res);
    cr_assert(eq(int, res.verdict, WR_FAIL), "%s", res.summary);
    cr_assert(not(eq(ptr,
                     strstr(res.summary, "lsan reported Direct leak in "
                                         "main (/tmp/fx/racy/uaf.c:16)"),
                     NULL)),
              "%s", res.summary);
    wr_history_free(h);
}
