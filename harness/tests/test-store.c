/* test-store.c - The report store (wr_store.c): directories made, runs
 * published, swept and pruned.
 *
 * Everything works in a mkdtemp(3) directory removed after each test.
 * Run directories hold a file or two written here: the store does not
 * read what is in them. A dead pid is that of a child that has exited
 * and been reaped.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/wr_store.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static char test_dir[32];

static char *make_dir(void)
{
    snprintf(test_dir, sizeof(test_dir), "/tmp/wr-store-XXXXXX");
    cr_assert(not(zero(ptr, mkdtemp(test_dir))), "mkdtemp: %s",
              strerror(errno));
    return test_dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : errno;
}

/* WR_TEST_KEEP=1 keeps the directory for reading. */
static void remove_test_dir(void)
{
    if (test_dir[0] == '\0')
        return;
    if (getenv("WR_TEST_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", test_dir);
    else
        nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .fini = remove_test_dir);

static bool exists(const char *dir, const char *name)
{
    char path[2 * PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[2 * PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert(not(zero(ptr, f)), "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert(eq(int, fclose(f), 0));
}

/* How many entries of dir (but . and ..) have part in their name. */
static int entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    cr_assert(not(zero(ptr, d)), "%s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strstr(de->d_name, part) != NULL)
            n++;
    closedir(d);
    return n;
}

/* Makes root/name as a run directory: two report files in it. */
static void make_run_dir(const char *root, const char *name, char *out,
                         size_t len)
{
    snprintf(out, len, "%s/%s", root, name);
    cr_assert(eq(int, mkdir(out, 0755), 0), "%s: %s", out, strerror(errno));
    write_file(out, "summary.json", "{}\n");
    write_file(out, "report.md", "# a run\n");
}

static void assert_latest(const char *root, const char *want)
{
    char path[PATH_MAX], target[PATH_MAX];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/latest", root);
    n = readlink(path, target, sizeof(target) - 1);
    cr_assert(lt(int, 0, (int)n), "readlink: %s", strerror(errno));
    target[n] = '\0';
    cr_assert(eq(str, target, (char *)want));
}

/* A pid that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    int st;

    cr_assert(not(eq(int, pid, -1)));
    if (pid == 0)
        _exit(0);
    cr_assert(eq(int, waitpid(pid, &st, 0), pid));
    return pid;
}

/* ------------------------------------------------------------------ */
/* wr_store_mkdirs                                                      */
/* ------------------------------------------------------------------ */

Test(store, mkdirs_makes_every_missing_parent, .timeout = 10)
{
    char *root = make_dir();
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/a/b/c", root);
    cr_assert(eq(int, wr_store_mkdirs(path), 0));
    cr_assert(eq(int, is_dir(path) ? 1 : 0, 1));
    /* Again: an existing directory is fine, with or without a slash. */
    cr_assert(eq(int, wr_store_mkdirs(path), 0));
    snprintf(path, sizeof(path), "%s/a/b/c/", root);
    cr_assert(eq(int, wr_store_mkdirs(path), 0));
    snprintf(path, sizeof(path), "%s/a//d", root);
    cr_assert(eq(int, wr_store_mkdirs(path), 0));
    cr_assert(eq(int, exists(root, "a/d") ? 1 : 0, 1));
    cr_assert(eq(int, wr_store_mkdirs(""), -EINVAL));
}

Test(store, mkdirs_refuses_a_symlink_in_the_last_component, .timeout = 10)
{
    char *root = make_dir();
    char path[PATH_MAX], link[PATH_MAX];

    snprintf(path, sizeof(path), "%s/elsewhere", root);
    cr_assert(eq(int, mkdir(path, 0755), 0));
    snprintf(link, sizeof(link), "%s/reports", root);
    cr_assert(eq(int, symlink("elsewhere", link), 0));
    cr_assert(eq(int, wr_store_mkdirs(link), -EEXIST));
    /* Also when the path ends with a slash, which lstat(2) follows. */
    snprintf(link, sizeof(link), "%s/reports/", root);
    cr_assert(eq(int, wr_store_mkdirs(link), -EEXIST));
    snprintf(link, sizeof(link), "%s/reports//", root);
    cr_assert(eq(int, wr_store_mkdirs(link), -EEXIST));
    /* A dangling link too. */
    snprintf(link, sizeof(link), "%s/dangling", root);
    cr_assert(eq(int, symlink("nowhere", link), 0));
    cr_assert(eq(int, wr_store_mkdirs(link), -EEXIST));
    cr_assert(eq(int, exists(root, "nowhere") ? 1 : 0, 0));
    /* A link among the parents is the user's business. */
    snprintf(path, sizeof(path), "%s/reports/run", root);
    cr_assert(eq(int, wr_store_mkdirs(path), 0));
    cr_assert(eq(int, exists(root, "elsewhere/run") ? 1 : 0, 1));
}

Test(store, mkdirs_refuses_a_file_in_the_way, .timeout = 10)
{
    char *root = make_dir();
    char path[PATH_MAX];

    write_file(root, "plain", "x");
    snprintf(path, sizeof(path), "%s/plain", root);
    cr_assert(eq(int, wr_store_mkdirs(path), -ENOTDIR));
    snprintf(path, sizeof(path), "%s/plain/", root);
    cr_assert(eq(int, wr_store_mkdirs(path), -ENOTDIR));
    snprintf(path, sizeof(path), "%s/plain/sub/dir", root);
    cr_assert(eq(int, wr_store_mkdirs(path), -ENOTDIR));
}

Test(store, mkdirs_refuses_a_path_too_long, .timeout = 10)
{
    char *path = malloc(PATH_MAX + 16);

    memset(path, 'a', PATH_MAX + 15);
    path[0] = '/';
    path[PATH_MAX + 15] = '\0';
    cr_assert(eq(int, wr_store_mkdirs(path), -ENAMETOOLONG));
    free(path);
}

/* ------------------------------------------------------------------ */
/* wr_store_make_tmp                                                    */
/* ------------------------------------------------------------------ */

Test(store, make_tmp_makes_a_fresh_unpredictable_dir_each_call,
     .timeout = 10)
{
    char *dir = make_dir();
    char root[PATH_MAX], a[PATH_MAX], b[PATH_MAX], prefix[PATH_MAX + 64];
    struct stat st;

    /* The root is made when missing. */
    snprintf(root, sizeof(root), "%s/reports/sub", dir);
    cr_assert(eq(int, wr_store_make_tmp(root, "20261126T162000Z-42", a,
                                        sizeof(a)),
                 0));
    cr_assert(eq(int, wr_store_make_tmp(root, "20261126T162000Z-42", b,
                                        sizeof(b)),
                 0));
    cr_assert(not(eq(str, a, b)));
    snprintf(prefix, sizeof(prefix), "%s/.tmp-20261126T162000Z-42.", root);
    cr_assert(eq(int, strncmp(a, prefix, strlen(prefix)), 0), "%s", a);
    cr_assert(eq(int, strncmp(b, prefix, strlen(prefix)), 0), "%s", b);
    /* Six characters that mkdtemp(3) chose, none left as X. */
    cr_assert(eq(sz, strlen(a), strlen(prefix) + 6));
    cr_assert(not(eq(str, a + strlen(prefix), "XXXXXX")));
    cr_assert(eq(int, is_dir(a) ? 1 : 0, 1));
    cr_assert(eq(int, is_dir(b) ? 1 : 0, 1));
    /* Private to its owner: mkdtemp makes it 0700. */
    cr_assert(eq(int, stat(a, &st), 0));
    cr_assert(eq(u32, (unsigned)(st.st_mode & 0777), 0700));
    cr_assert(eq(int, entries(root, ".tmp-"), 2));
}

Test(store, make_tmp_fails_cleanly_when_the_name_does_not_fit,
     .timeout = 10)
{
    char *dir = make_dir();
    char out[48], *root;

    /* The buffer is too small: nothing made with a shorter name. */
    cr_assert(eq(int, wr_store_make_tmp(dir, "20261126T162000Z-42", out,
                                        sizeof(out)),
                 -ENAMETOOLONG));
    cr_assert(eq(int, entries(dir, ""), 0));
    /* The root itself is too long. */
    root = malloc(PATH_MAX + 16);
    snprintf(root, PATH_MAX + 16, "%s/", dir);
    memset(root + strlen(root), 'r', PATH_MAX);
    root[PATH_MAX + 15] = '\0';
    cr_assert(eq(int, wr_store_make_tmp(root, "20261126T162000Z-42", out,
                                        sizeof(out)),
                 -ENAMETOOLONG));
    cr_assert(eq(int, entries(dir, ""), 0));
    free(root);
}

Test(store, make_tmp_refuses_a_root_that_is_a_link, .timeout = 10)
{
    char *dir = make_dir();
    char root[PATH_MAX], out[PATH_MAX];

    snprintf(root, sizeof(root), "%s/elsewhere", dir);
    cr_assert(eq(int, mkdir(root, 0755), 0));
    snprintf(root, sizeof(root), "%s/reports", dir);
    cr_assert(eq(int, symlink("elsewhere", root), 0));
    cr_assert(eq(int, wr_store_make_tmp(root, "20261126T162000Z-42", out,
                                        sizeof(out)),
                 -EEXIST));
    snprintf(root, sizeof(root), "%s/reports/", dir);
    cr_assert(eq(int, wr_store_make_tmp(root, "20261126T162000Z-42", out,
                                        sizeof(out)),
                 -EEXIST));
    snprintf(root, sizeof(root), "%s/elsewhere", dir);
    cr_assert(eq(int, entries(root, ""), 0));
}

/* ------------------------------------------------------------------ */
/* Publication                                                          */
/* ------------------------------------------------------------------ */

Test(store, publish_renames_and_moves_latest, .timeout = 10)
{
    char *root = make_dir();
    char tmp[PATH_MAX], fin[PATH_MAX];

    make_run_dir(root, ".tmp-20261126T162000Z-4242.aaaaaa", tmp, sizeof(tmp));
    snprintf(fin, sizeof(fin), "%s/20261126T162000Z-4242", root);
    cr_assert(eq(int, wr_store_publish(tmp, fin, root), 0));
    cr_assert(eq(int, exists(root, ".tmp-20261126T162000Z-4242.aaaaaa") ? 1 : 0,
                 0));
    cr_assert(eq(int, exists(fin, "report.md") ? 1 : 0, 1));
    assert_latest(root, "20261126T162000Z-4242");

    make_run_dir(root, ".tmp-20261126T163000Z-4243.bbbbbb", tmp, sizeof(tmp));
    snprintf(fin, sizeof(fin), "%s/20261126T163000Z-4243", root);
    cr_assert(eq(int, wr_store_publish(tmp, fin, root), 0));
    assert_latest(root, "20261126T163000Z-4243");
    cr_assert(eq(int, entries(root, ".tmp"), 0));
    /* The link resolves. */
    cr_assert(eq(int, exists(root, "latest/summary.json") ? 1 : 0, 1));
}

Test(store, publish_refuses_an_existing_run, .timeout = 10)
{
    char *root = make_dir();
    char tmp[PATH_MAX], fin[PATH_MAX], first[PATH_MAX];

    make_run_dir(root, ".tmp-A-1.aaaaaa", tmp, sizeof(tmp));
    snprintf(first, sizeof(first), "%s/A", root);
    cr_assert(eq(int, wr_store_publish(tmp, first, root), 0));

    /* Over a full run directory, then over an empty one (which a plain
     * rename(2) would replace). */
    make_run_dir(root, ".tmp-B-1.bbbbbb", tmp, sizeof(tmp));
    cr_assert(eq(int, wr_store_publish(tmp, first, root), -EEXIST));
    cr_assert(eq(int, exists(tmp, "report.md") ? 1 : 0, 1));
    snprintf(fin, sizeof(fin), "%s/empty", root);
    cr_assert(eq(int, mkdir(fin, 0755), 0));
    cr_assert(eq(int, wr_store_publish(tmp, fin, root), -EEXIST));
    cr_assert(eq(int, exists(tmp, "summary.json") ? 1 : 0, 1));
    cr_assert(eq(int, exists(fin, "summary.json") ? 1 : 0, 0));
    assert_latest(root, "A");
    cr_assert(eq(int, entries(root, ".latest.tmp"), 0));
}

Test(store, publish_without_a_root_moves_no_link, .timeout = 10)
{
    char *root = make_dir();
    char tmp[PATH_MAX], fin[PATH_MAX];

    make_run_dir(root, ".tmp-C-1.cccccc", tmp, sizeof(tmp));
    snprintf(fin, sizeof(fin), "%s/C", root);
    cr_assert(eq(int, wr_store_publish(tmp, fin, NULL), 0));
    cr_assert(eq(int, exists(fin, "report.md") ? 1 : 0, 1));
    cr_assert(eq(int, exists(root, "latest") ? 1 : 0, 0));
}

/* ------------------------------------------------------------------ */
/* Sweeping                                                             */
/* ------------------------------------------------------------------ */

Test(store, sweep_removes_only_dead_runs, .timeout = 10)
{
    pid_t gone = dead_pid(); /* first: the child copies no allocation */
    char *root = make_dir();
    char dead[64], live[64], path[PATH_MAX];

    snprintf(dead, sizeof(dead), ".tmp-20261126T162000Z-%ld.Xa1b2c",
             (long)gone);
    snprintf(live, sizeof(live), ".tmp-20261126T162000Z-%ld.Xd3e4f",
             (long)getpid());
    snprintf(path, sizeof(path), "%s/%s", root, dead);
    cr_assert(eq(int, mkdir(path, 0755), 0));
    snprintf(path, sizeof(path), "%s/%s/cases", root, dead);
    cr_assert(eq(int, mkdir(path, 0755), 0));
    write_file(path, "trace.jsonl", "{}\n");
    snprintf(path, sizeof(path), "%s/%s", root, live);
    cr_assert(eq(int, mkdir(path, 0755), 0));
    /* Not a run directory: no pid, or not a directory. */
    snprintf(path, sizeof(path), "%s/.tmp-nopid", root);
    cr_assert(eq(int, mkdir(path, 0755), 0));
    snprintf(path, sizeof(path), ".tmp-file-%ld.Xa1b2c", (long)gone);
    write_file(root, path, "");

    cr_assert(eq(int, wr_store_sweep(root), 1));
    cr_assert(eq(int, exists(root, dead) ? 1 : 0, 0));
    cr_assert(eq(int, exists(root, live) ? 1 : 0, 1));
    cr_assert(eq(int, exists(root, ".tmp-nopid") ? 1 : 0, 1));
    cr_assert(eq(int, exists(root, path) ? 1 : 0, 1));
    cr_assert(eq(int, wr_store_sweep(root), 0));
    cr_assert(eq(int, wr_store_sweep("/tmp/wr-store-no/such"), 0));
}

Test(store, sweep_understands_the_names_make_tmp_makes, .timeout = 10)
{
    pid_t gone = dead_pid();
    char *root = make_dir();
    char id[64], dead[PATH_MAX], live[PATH_MAX], other[PATH_MAX];

    snprintf(id, sizeof(id), "20261126T162000Z-%ld", (long)gone);
    cr_assert(eq(int, wr_store_make_tmp(root, id, dead, sizeof(dead)), 0));
    cr_assert(eq(int, wr_store_make_tmp(root, id, other, sizeof(other)), 0));
    write_file(dead, "summary.json", "{}\n");
    snprintf(id, sizeof(id), "20261126T162000Z-%ld", (long)getpid());
    cr_assert(eq(int, wr_store_make_tmp(root, id, live, sizeof(live)), 0));

    cr_assert(eq(int, wr_store_sweep(root), 2));
    cr_assert(eq(int, access(dead, F_OK), -1));
    cr_assert(eq(int, access(other, F_OK), -1));
    cr_assert(eq(int, is_dir(live) ? 1 : 0, 1));
}

Test(store, sweep_keeps_names_that_are_not_its_own, .timeout = 10)
{
    pid_t gone = dead_pid();
    char *root = make_dir();
    static const char *const fmts[] = {
        ".tmp-20261126T162000Z-%ld",         /* no suffix: not mkdtemp's */
        ".tmp-20261126T162000Z-%ldx.Xa1b2c", /* not a number */
        ".tmp-20261126T162000Z+%ld.Xa1b2c",  /* no dash before the pid */
        "tmp-20261126T162000Z-%ld.Xa1b2c",   /* not hidden */
    };
    const int nfmts = (int)(sizeof(fmts) / sizeof(fmts[0]));
    char name[128], path[PATH_MAX];

    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        snprintf(name, sizeof(name), fmts[i], (long)gone);
        snprintf(path, sizeof(path), "%s/%s", root, name);
        cr_assert(eq(int, mkdir(path, 0755), 0), "%s", path);
    }
    /* A link to a dead run's directory is not followed. */
    snprintf(name, sizeof(name), ".tmp-20261126T162000Z-%ld.Xlink0",
             (long)gone);
    snprintf(path, sizeof(path), "%s/%s", root, name);
    cr_assert(eq(int, symlink(".", path), 0));
    cr_assert(eq(int, wr_store_sweep(root), 0));
    cr_assert(eq(int, entries(root, "tmp-"), nfmts + 1));
}

/* ------------------------------------------------------------------ */
/* Pruning                                                              */
/* ------------------------------------------------------------------ */

static const char *const runs[] = {
    "20261126T160000Z-1", "20261126T161000Z-99", "20261126T162000Z-7",
    "20261126T163000Z-12", "20261127T000000Z-3",
};
#define NRUNS (sizeof(runs) / sizeof(runs[0]))

/* A store with every run (made in no particular order) and entries that
 * are not runs. */
static char *make_store(void)
{
    char *root = make_dir();
    char path[PATH_MAX];
    static const int order[NRUNS] = {3, 0, 4, 1, 2};

    for (size_t i = 0; i < NRUNS; i++)
        make_run_dir(root, runs[order[i]], path, sizeof(path));
    make_run_dir(root, "notes", path, sizeof(path));
    make_run_dir(root, ".tmp-20261125T000000Z-1.Xa1b2c", path, sizeof(path));
    snprintf(path, sizeof(path), "%s/latest", root);
    cr_assert(eq(int, symlink(runs[NRUNS - 1], path), 0));
    return root;
}

static void assert_runs(const char *root, unsigned kept_mask)
{
    for (size_t i = 0; i < NRUNS; i++)
        cr_assert(eq(int, exists(root, runs[i]) ? 1 : 0,
                     (kept_mask >> i) & 1 ? 1 : 0),
                  "%s", runs[i]);
    cr_assert(eq(int, exists(root, "notes/report.md") ? 1 : 0, 1));
    cr_assert(eq(int, exists(root, ".tmp-20261125T000000Z-1.Xa1b2c") ? 1 : 0,
                 1));
    cr_assert(eq(int, exists(root, "latest") ? 1 : 0, 1));
}

Test(store, prune_keeps_the_newest_n, .timeout = 10)
{
    char *root = make_store();

    wr_store_prune(root, 3, runs[NRUNS - 1]);
    assert_runs(root, 0x1c); /* the three newest */
    wr_store_prune(root, 1, runs[NRUNS - 1]);
    assert_runs(root, 0x10);
}

Test(store, prune_never_removes_the_one_named_newest, .timeout = 10)
{
    char *root = make_store();

    /* The run just published may not sort last (a clock set back). */
    wr_store_prune(root, 2, runs[1]);
    assert_runs(root, 0x12);
    wr_store_prune(root, 1, runs[1]);
    assert_runs(root, 0x02);
}

Test(store, prune_with_nothing_to_prune, .timeout = 10)
{
    char *root = make_store();

    wr_store_prune(root, 0, runs[0]);
    assert_runs(root, 0x1f);
    wr_store_prune(root, -3, runs[0]);
    assert_runs(root, 0x1f);
    wr_store_prune(root, (int)NRUNS, runs[NRUNS - 1]);
    assert_runs(root, 0x1f);
    wr_store_prune("/tmp/wr-store-no/such", 1, runs[0]);
}

Test(store, run_ids_look_like_run_ids, .timeout = 10)
{
    static const char *const good[] = {"20261126T162000Z-4242",
                                       "20261126T162000Z-1"};
    static const char *const bad[] = {
        "latest", "notes", "20261126T162000Z-", "20261126T162000Z-12x",
        "20261126T162000Z", ".tmp-20261126T162000Z-1", "20261126-162000Z-1",
        "",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert(eq(int, wr_store_is_run_id(good[i]) ? 1 : 0, 1), "%s",
                  good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert(eq(int, wr_store_is_run_id(bad[i]) ? 1 : 0, 0), "%s",
                  bad[i]);
}

Test(store, rm_rf_never_follows_a_link, .timeout = 10)
{
    char *root = make_dir();
    char path[PATH_MAX], keep[PATH_MAX];

    make_run_dir(root, "kept", keep, sizeof(keep));
    make_run_dir(root, "doomed", path, sizeof(path));
    snprintf(path, sizeof(path), "%s/doomed/link", root);
    cr_assert(eq(int, symlink(keep, path), 0));
    snprintf(path, sizeof(path), "%s/doomed", root);
    wr_store_rm_rf(path);
    cr_assert(eq(int, exists(root, "doomed") ? 1 : 0, 0));
    cr_assert(eq(int, exists(root, "kept/report.md") ? 1 : 0, 1));
}
