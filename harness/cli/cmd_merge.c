/* cmd_merge.c - wsrace merge DIR... --out DIR: the shards of one plan
 * joined into one run.
 *
 * The shards' summaries are untrusted input: the summary loader refuses a
 * case whose directory is not "cases/<its id>" (report/wr_summary.h), and
 * every file is copied into a directory this command made, never opened
 * for writing where it already exists. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "judge/wr_matrix.h"
#include "report/wr_summary.h"
#include "run/wr_run.h"
#include "run/wr_store.h"

enum { OPT_OUT = 1, OPT_BASELINE };

static const wr_opt_t options[] = {
    {"out", OPT_OUT, true},
    {"baseline", OPT_BASELINE, true},
    {NULL, 0, false},
};

/* Copies one regular file to dst, which must not exist: a hard link when
 * both share a file system, else a copy. Returns 0 or negative errno. */
static int copy_file(const char *src, const char *dst)
{
    char buf[65536];
    int in, out, rc = 0;
    ssize_t n;

    if (link(src, dst) == 0)
        return 0;
    if (errno == EEXIST)
        return -EEXIST;
    if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -errno;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = -errno;
        close(in);
        return rc;
    }
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            rc = errno == EINTR ? 0 : -errno;
            continue;
        }
        if (write(out, buf, (size_t)n) != n)
            rc = -EIO;
    }
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    close(in);
    return rc;
}

/* Copies the regular files of the case directory src into dst, which it
 * makes (case directories are flat). Returns 0 or negative errno. */
static int copy_dir(const char *src, const char *dst)
{
    char a[PATH_MAX], b[PATH_MAX];
    struct dirent *e;
    DIR *d;
    int rc = 0;

    if (mkdir(dst, 0755) != 0)
        return -errno;
    if ((d = opendir(src)) == NULL)
        return -errno;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;

        if ((size_t)snprintf(a, sizeof(a), "%s/%s", src, e->d_name) >=
                sizeof(a) ||
            (size_t)snprintf(b, sizeof(b), "%s/%s", dst, e->d_name) >=
                sizeof(b)) {
            rc = -ENAMETOOLONG;
            break;
        }
        if (lstat(a, &st) == 0 && S_ISREG(st.st_mode))
            rc = copy_file(a, b);
    }
    closedir(d);
    return rc;
}

static int case_cmp(const void *a, const void *b)
{
    const wr_case_t *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

/* Checks that the runs are shards of one plan that cover it once, with no
 * case twice. */
static wr_status_t check_shards(wr_run_t *runs, size_t n, char **dirs)
{
    size_t total = 0, used = 0;
    char missing[512] = "";

    for (size_t i = 0; i < n; i++) {
        if (strcmp(runs[i].plan_id, runs[0].plan_id) != 0 ||
            runs[i].shard_count != runs[0].shard_count) {
            fprintf(stderr,
                    "wsrace merge: %s is not a shard of the plan of %s "
                    "(plan %s/%d shards, not %s/%d)\n",
                    dirs[i], dirs[0], runs[i].plan_id, runs[i].shard_count,
                    runs[0].plan_id, runs[0].shard_count);
            return WR_STATUS_BAD_INPUT;
        }
        for (size_t k = 0; k < i; k++)
            if (runs[k].shard_index == runs[i].shard_index) {
                fprintf(stderr,
                        "wsrace merge: %s and %s are the same shard %d\n",
                        dirs[k], dirs[i], runs[i].shard_index);
                return WR_STATUS_BAD_INPUT;
            }
        total += runs[i].ncases;
    }
    /* An exploration's shards hold what they found, not a share of a
     * fixed plan: each shard must be there, once, and no count applies. */
    if (strcmp(runs[0].kind, "explore") == 0)
        total = runs[0].planned;
    for (int s = 1; s <= runs[0].shard_count; s++) {
        bool have = false;

        for (size_t i = 0; i < n; i++)
            have |= runs[i].shard_index == s;
        if (!have && used < sizeof(missing))
            used += (size_t)snprintf(missing + used, sizeof(missing) - used,
                                     " %d", s);
    }
    if (total != runs[0].planned || missing[0]) {
        fprintf(stderr,
                "wsrace merge: the shards hold %zu of the plan's %zu cases "
                "(missing shard(s):%s)\n",
                total, runs[0].planned, missing[0] ? missing : " none");
        return WR_STATUS_BAD_INPUT;
    }
    return WR_STATUS_OK;
}

/* Whether two cases of the merged run share a plan index or a directory. */
static bool duplicates(const wr_run_t *m)
{
    bool explore = strcmp(m->kind, "explore") == 0;

    /* A finding and its shrunk case share an index. */
    for (size_t k = 1; k < m->ncases && !explore; k++)
        if (m->cases[k].index == m->cases[k - 1].index) {
            fprintf(stderr, "wsrace merge: two shards hold case %zu (%s)\n",
                    m->cases[k].index + 1, m->cases[k].id);
            return true;
        }
    for (size_t k = 0; k < m->ncases; k++)
        for (size_t j = 0; j < k; j++)
            if (strcmp(m->cases[j].dir, m->cases[k].dir) == 0) {
                fprintf(stderr, "wsrace merge: two cases share the directory "
                                "%s\n",
                        m->cases[k].dir);
                return true;
            }
    return false;
}

wr_status_t wr_cmd_merge(int argc, char **argv, const wr_cli_env_t *env)
{
    wr_run_opts_t o = {0};
    const char *out = NULL;
    char err[PATH_MAX + 256], tmp[PATH_MAX], parent[PATH_MAX],
        src[PATH_MAX], dst[PATH_MAX];
    wr_run_t *runs = NULL, merged;
    wr_args_t args;
    wr_status_t st = WR_STATUS_OK;
    size_t n, total = 0;
    struct stat sb;

    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace merge: %s\n", err);
        return WR_STATUS_BAD_INPUT;
    }
    for (size_t i = 0; i < args.nhits; i++) {
        if (args.hits[i].id == OPT_OUT)
            out = args.hits[i].arg;
        else
            o.baseline = args.hits[i].arg;
    }
    n = args.noperands;
    if (out == NULL || out[0] == '\0' || n < 1) {
        fprintf(stderr, "usage: wsrace merge DIR... --out DIR [--baseline "
                        "FILE]\n");
        st = WR_STATUS_BAD_INPUT;
        goto done;
    }
    if (lstat(out, &sb) == 0) {
        fprintf(stderr, "wsrace merge: %s exists; runs are never "
                        "overwritten\n",
                out);
        st = WR_STATUS_BAD_INPUT;
        goto done;
    }
    if (strlen(out) >= sizeof(merged.dir) - 512) {
        fprintf(stderr, "wsrace merge: --out: the path is too long\n");
        st = WR_STATUS_BAD_INPUT;
        goto done;
    }
    if (o.baseline && !wr_matrix_baseline_ok(o.baseline, err, sizeof(err))) {
        fprintf(stderr, "wsrace merge: --baseline: %s\n", err);
        st = WR_STATUS_BAD_INPUT;
        goto done;
    }
    runs = calloc(n, sizeof(*runs));
    if (runs == NULL) {
        st = WR_STATUS_INFRA;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (wr_summary_load(args.operands[i], NULL, 0, &runs[i], err,
                            sizeof(err)) != 0) {
            fprintf(stderr, "wsrace merge: %s\n", err);
            st = WR_STATUS_BAD_INPUT;
            goto done;
        }
    if ((st = check_shards(runs, n, args.operands)) != WR_STATUS_OK)
        goto done;

    /* The merged run: the first shard's run, every shard's cases. */
    merged = runs[0];
    memset(&runs[0], 0, sizeof(runs[0]));
    for (size_t i = 0; i < n; i++)
        total += i ? runs[i].ncases : merged.ncases;
    wr_case_t *cases = realloc(merged.cases, (total + 1) * sizeof(*cases));
    if (cases == NULL) {
        st = WR_STATUS_INFRA;
        wr_run_free(&merged);
        goto done;
    }
    merged.cases = cases;
    for (size_t i = 1; i < n; i++) {
        for (size_t k = 0; k < runs[i].ncases; k++) {
            wr_case_t *cc = &merged.cases[merged.ncases++];

            *cc = runs[i].cases[k];
            runs[i].cases[k].history = NULL;
            /* Rebind to the merged run's scenario of the same name. */
            for (size_t s = 0; s < merged.nscenarios; s++)
                if (strcmp(merged.scenarios[s]->name, cc->scenario->name) == 0)
                    cc->scenario = merged.scenarios[s];
        }
    }
    /* The explorations' records add up: counts, cells, findings. */
    for (size_t i = 1; i < n && merged.explored != NULL; i++)
        if (runs[i].explored == NULL ||
            wr_explored_merge(merged.explored, runs[i].explored) != 0) {
            fprintf(stderr, "wsrace merge: %s has no exploration record to "
                            "join\n",
                    args.operands[i]);
            st = WR_STATUS_BAD_INPUT;
            wr_run_free(&merged);
            goto done;
        }
    qsort(merged.cases, merged.ncases, sizeof(*merged.cases), case_cmp);
    if (duplicates(&merged)) {
        st = WR_STATUS_BAD_INPUT;
        wr_run_free(&merged);
        goto done;
    }

    /* dirname() may write into its argument and return a pointer into
     * it: give it a copy, and do not print it back into the same buffer. */
    snprintf(parent, sizeof(parent), "%s", out);
    snprintf(dst, sizeof(dst), "merge-%d", (int)getpid());
    if (wr_store_make_tmp(dirname(parent), dst, tmp, sizeof(tmp)) != 0 ||
        (size_t)snprintf(src, sizeof(src), "%s/cases", tmp) >= sizeof(src) ||
        mkdir(src, 0755) != 0) {
        fprintf(stderr, "wsrace merge: cannot create a directory beside %s: "
                        "%s\n",
                out, strerror(errno));
        wr_run_free(&merged);
        st = WR_STATUS_INFRA;
        goto done;
    }
    for (size_t k = 0; k < merged.ncases && st != WR_STATUS_INFRA; k++) {
        wr_case_t *cc = &merged.cases[k];
        const char *from = NULL;

        for (size_t i = 0; i < n && from == NULL; i++) {
            char sum[PATH_MAX];

            if (wr_summary_path(args.operands[i], sum, sizeof(sum)) != 0)
                continue;
            if ((size_t)snprintf(src, sizeof(src), "%s/%s", dirname(sum),
                                 cc->dir) < sizeof(src) &&
                lstat(src, &sb) == 0 && S_ISDIR(sb.st_mode))
                from = src;
        }
        if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", tmp, cc->dir) >=
                sizeof(dst) ||
            from == NULL || copy_dir(from, dst) != 0) {
            fprintf(stderr, "wsrace merge: the case directory %s is "
                            "missing or cannot be copied\n",
                    cc->dir);
            st = WR_STATUS_INFRA;
        }
        wr_case_set_replay(cc, env->self, out);
        if (!cc->as_expected && merged.explored == NULL)
            st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
    }
    if (st == WR_STATUS_INFRA) {
        wr_store_rm_rf(tmp);
        wr_run_free(&merged);
        goto done;
    }
    snprintf(merged.dir, sizeof(merged.dir), "%s", out);
    snprintf(src, sizeof(src), "%s", out);
    snprintf(merged.id, sizeof(merged.id), "%s", basename(src));
    snprintf(merged.argv_text, sizeof(merged.argv_text), "%s", env->argv_text);
    merged.shard_index = merged.shard_count = 0;
    o.print_matrix = strcmp(merged.kind, "matrix") == 0;
    if (merged.explored != NULL && merged.explored->nfindings > 0)
        st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
    printf("wsrace merge: %zu shard(s), %zu case(s) into %s\n", n,
           merged.ncases, out);
    st = wr_run_finish(&merged, &o, tmp, false, st);
    wr_run_free(&merged);
done:
    for (size_t i = 0; runs != NULL && i < n; i++)
        wr_run_free(&runs[i]);
    free(runs);
    wr_args_free(&args);
    return st;
}
