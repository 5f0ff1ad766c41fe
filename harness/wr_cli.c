/* wr_cli.c - replay, diff and merge. */
#include "wr_cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wr_diff.h"
#include "wr_matrix.h"
#include "wr_run.h"
#include "wr_summary.h"

#define DEFAULT_SECRET "wsrace-harness-secret"

void wr_cli_default_gateway(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        snprintf(out, len, "build/target/wsrace-gateway");
        return;
    }
    self[n] = '\0';
    snprintf(out, len, "%s/../target/wsrace-gateway", dirname(self));
    if (realpath(out, self) != NULL)
        snprintf(out, len, "%s", self);
}

/* ------------------------------------------------------------------------
 * replay
 * ---------------------------------------------------------------------- */

static const char *jstr_or(json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? v : dflt;
}

/* Prints how the verdicts of c differ from the recorded ones; returns how
 * many differ. */
static int compare_verdicts(const wr_case_t *c, json_t *recorded)
{
    int differ = 0;

    for (int k = 0; k < WR_CHECK__COUNT; k++) {
        const char *name = wr_check_name((wr_check_id_t)k);
        const char *was = jstr_or(recorded, name, "-");
        const char *now =
            c->ran[k] ? wr_verdict_name(c->results[k].verdict) : "-";

        if (strcmp(was, now) == 0)
            continue;
        printf("  %-24s was %s, now %s%s%s\n", name, was, now,
               c->ran[k] && c->results[k].summary[0] ? ": " : "",
               c->ran[k] ? c->results[k].summary : "");
        differ++;
    }
    return differ;
}

int wr_cli_replay(int argc, char **argv, const char *self,
                  const char *argv_text, atomic_int *stop)
{
    static const struct option opts[] = {
        {"report-dir", required_argument, NULL, 'd'},
        {"target", required_argument, NULL, 't'},
        {"time-scale", required_argument, NULL, 'x'},
        {"wrapper", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *inject_set[1];
    char gateway[PATH_MAX], err[1024], *end;
    wr_run_opts_t o = {0};
    json_error_t je;
    json_t *j;
    wr_scenario_t *s;
    wr_run_t run;
    int c, rc, differ;

    wr_cli_default_gateway(gateway, sizeof(gateway));
    o.self = self;
    o.report_root = "reports";
    o.argv_text = argv_text;
    o.stop = stop;
    o.kind = "replay";
    o.repeat = 1;
    o.secret =
        getenv("WSRACE_SECRET") ? getenv("WSRACE_SECRET") : DEFAULT_SECRET;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.report_root = optarg;
            break;
        case 't':
            o.gateway = optarg;
            o.gateway_given = true;
            break;
        case 'x':
            o.time_scale = strtod(optarg, &end);
            if (*end || o.time_scale <= 0 || o.time_scale > 1000) {
                fprintf(stderr, "wsrace replay: --time-scale wants a number "
                                "in (0, 1000]\n");
                return 2;
            }
            break;
        case 'w':
            o.wrapper = optarg;
            break;
        default:
            fprintf(stderr, "usage: wsrace replay FILE [--report-dir DIR] "
                            "[--target PATH] [--time-scale X] [--wrapper "
                            "CMD]\n");
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "wsrace replay: give one replay.json\n");
        return 2;
    }
    j = json_load_file(argv[optind], 0, &je);
    if (j == NULL) {
        fprintf(stderr, "wsrace replay: %s:%d:%d: %s\n", argv[optind], je.line,
                je.column, je.text);
        return 2;
    }
    if (json_integer_value(json_object_get(j, "wsrace_replay")) != 1 ||
        !json_is_object(json_object_get(j, "scenario"))) {
        fprintf(stderr, "wsrace replay: %s: not a wsrace replay.json\n",
                argv[optind]);
        json_decref(j);
        return 2;
    }
    s = wr_scenario_parse(
        jstr_or(json_object_get(j, "scenario"), "path", argv[optind]),
        jstr_or(json_object_get(j, "scenario"), "text", ""), err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "wsrace replay: the recorded scenario: %s\n", err);
        json_decref(j);
        return 2;
    }
    inject_set[0] =
        jstr_or(j, "inject", "")[0] ? jstr_or(j, "inject", "") : "none";
    o.injects = inject_set;
    o.ninjects = 1;
    o.seed = (unsigned long long)json_integer_value(json_object_get(j, "seed"));
    o.no_sync = json_is_true(json_object_get(j, "no_sync"));
    if (o.time_scale <= 0)
        o.time_scale = json_number_value(json_object_get(j, "time_scale")) > 0
                           ? json_number_value(json_object_get(j, "time_scale"))
                           : 1.0;
    if (o.wrapper == NULL)
        o.wrapper = json_string_value(json_object_get(j, "wrapper"));
    o.url = json_string_value(json_object_get(j, "url"));
    if (!o.gateway_given && o.url == NULL) {
        const char *t = json_string_value(json_object_get(j, "target"));

        o.gateway = t && access(t, X_OK) == 0 ? t : gateway;
    }
    printf("wsrace replay: %s inject=%s seed=%llu%s\n", s->name, inject_set[0],
           o.seed, o.no_sync ? " no-sync" : "");
    fflush(stdout);
    rc = wr_run(&o, &s, 1, &run);
    if (rc == 0 || rc == 1) {
        differ = run.ncases == 1
                     ? compare_verdicts(&run.cases[0],
                                        json_object_get(j, "verdicts"))
                     : 1;
        printf("replay: %s\n", differ ? "the verdicts DIFFER from the recorded "
                                        "ones"
                                      : "the same verdicts recurred");
        rc = differ ? 1 : 0;
    }
    wr_run_free(&run);
    wr_scenario_free(s);
    json_decref(j);
    return rc;
}

/* ------------------------------------------------------------------------
 * diff
 * ---------------------------------------------------------------------- */

int wr_cli_diff(int argc, char **argv)
{
    wr_run_t a, b;
    wr_diff_t d;
    char err[1200];
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: wsrace diff OLD NEW (run directories or "
                        "summary.json files)\n");
        return 2;
    }
    if (wr_summary_load(argv[1], NULL, 0, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace diff: %s\n", err);
        return 2;
    }
    if (wr_summary_load(argv[2], NULL, 0, &b, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace diff: %s\n", err);
        wr_run_free(&a);
        return 2;
    }
    rc = wr_diff_runs(&a, &b, &d);
    if (rc == 0) {
        printf("wsrace diff: %s (%s) -> %s (%s)\n", argv[1], a.id, argv[2],
               b.id);
        wr_diff_print(&d, stdout);
        rc = d.count[WR_DIFF_NEWLY_FAILING] > 0 ? 1 : 0;
        wr_diff_free(&d);
    } else {
        rc = 3;
    }
    wr_run_free(&a);
    wr_run_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------
 * merge
 * ---------------------------------------------------------------------- */

/* Copies one file: a hard link when src and dst share a file system,
 * else a copy. Returns 0 or -errno. */
static int copy_file(const char *src, const char *dst)
{
    char buf[65536];
    FILE *in, *out;
    size_t n;
    int rc = 0;

    if (link(src, dst) == 0)
        return 0;
    in = fopen(src, "rb");
    out = in ? fopen(dst, "wb") : NULL;
    if (in == NULL || out == NULL)
        rc = -errno;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -EIO;
    if (in && ferror(in))
        rc = -EIO;
    if (out && fclose(out) != 0 && rc == 0)
        rc = -EIO;
    if (in)
        fclose(in);
    return rc;
}

/* Copies the files of the case directory src into dst (case directories
 * are flat). Returns 0 or -errno. */
static int copy_dir(const char *src, const char *dst)
{
    char a[5000], b[5000];
    struct dirent *e;
    DIR *d;
    int rc = 0;

    if (mkdir(dst, 0755) != 0 && errno != EEXIST)
        return -errno;
    if ((d = opendir(src)) == NULL)
        return -errno;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;

        snprintf(a, sizeof(a), "%s/%s", src, e->d_name);
        snprintf(b, sizeof(b), "%s/%s", dst, e->d_name);
        if (stat(a, &st) == 0 && S_ISREG(st.st_mode))
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

/* Checks that the runs are shards of one plan that cover it once. */
static int check_shards(wr_run_t *runs, int n, char **dirs)
{
    size_t total = 0;
    char missing[512] = "";
    size_t used = 0;

    for (int i = 0; i < n; i++) {
        if (strcmp(runs[i].plan_id, runs[0].plan_id) != 0 ||
            runs[i].shard_count != runs[0].shard_count) {
            fprintf(stderr,
                    "wsrace merge: %s is not a shard of the plan of %s "
                    "(plan %s/%d shards, not %s/%d)\n",
                    dirs[i], dirs[0], runs[i].plan_id, runs[i].shard_count,
                    runs[0].plan_id, runs[0].shard_count);
            return 2;
        }
        for (int k = 0; k < i; k++)
            if (runs[k].shard_index == runs[i].shard_index) {
                fprintf(stderr,
                        "wsrace merge: %s and %s are the same shard %d\n",
                        dirs[k], dirs[i], runs[i].shard_index);
                return 2;
            }
        total += runs[i].ncases;
    }
    for (int s = 1; s <= runs[0].shard_count; s++) {
        bool have = false;

        for (int i = 0; i < n; i++)
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
        return 2;
    }
    return 0;
}

int wr_cli_merge(int argc, char **argv, const char *self, const char *argv_text)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"baseline", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    wr_run_opts_t o = {0};
    const char *out = NULL;
    char err[1200], tmp[PATH_MAX + 16], parent[PATH_MAX], src[4700], dst[4700];
    wr_run_t *runs, merged;
    int c, n, rc = 0;
    size_t total = 0;
    struct stat st;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'b')
            o.baseline = optarg;
        else
            return 2;
    }
    n = argc - optind;
    if (out == NULL || n < 1) {
        fprintf(stderr, "usage: wsrace merge DIR... --out DIR [--baseline "
                        "FILE]\n");
        return 2;
    }
    if (stat(out, &st) == 0) {
        fprintf(stderr,
                "wsrace merge: %s exists; runs are never "
                "overwritten\n",
                out);
        return 2;
    }
    if (o.baseline && !wr_matrix_baseline_ok(o.baseline, err, sizeof(err))) {
        fprintf(stderr, "wsrace merge: --baseline: %s\n", err);
        return 2;
    }
    runs = calloc((size_t)n, sizeof(*runs));
    if (runs == NULL)
        return 3;
    for (int i = 0; i < n; i++)
        if (wr_summary_load(argv[optind + i], NULL, 0, &runs[i], err,
                            sizeof(err)) != 0) {
            fprintf(stderr, "wsrace merge: %s\n", err);
            rc = 2;
            goto done;
        }
    if ((rc = check_shards(runs, n, argv + optind)) != 0)
        goto done;

    /* The merged run: the first shard's run, every shard's cases. */
    merged = runs[0];
    memset(&runs[0], 0, sizeof(runs[0]));
    for (int i = 0; i < n; i++)
        total += i ? runs[i].ncases : merged.ncases;
    wr_case_t *cases = realloc(merged.cases, (total + 1) * sizeof(*cases));
    if (cases == NULL) {
        rc = 3;
        wr_run_free(&merged);
        goto done;
    }
    merged.cases = cases;
    for (int i = 1; i < n; i++) {
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
    qsort(merged.cases, merged.ncases, sizeof(*merged.cases), case_cmp);

    /* dirname() may write into its argument and return a pointer into
     * it: give it a copy, and do not print it back into the same buffer. */
    snprintf(parent, sizeof(parent), "%s", out);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-merge-%d", dirname(parent),
             (int)getpid());
    snprintf(src, sizeof(src), "%s/cases", tmp);
    if (mkdir(tmp, 0755) != 0 || mkdir(src, 0755) != 0) {
        fprintf(stderr, "wsrace merge: cannot create %s: %s\n", tmp,
                strerror(errno));
        wr_run_free(&merged);
        rc = 3;
        goto done;
    }
    for (size_t k = 0; k < merged.ncases && rc == 0; k++) {
        wr_case_t *cc = &merged.cases[k];
        const char *from = NULL;

        for (int i = 0; i < n && from == NULL; i++) {
            char sum[PATH_MAX];

            wr_summary_path(argv[optind + i], sum, sizeof(sum));
            snprintf(src, sizeof(src), "%s/%s", dirname(sum), cc->dir);
            if (stat(src, &st) == 0)
                from = src;
        }
        snprintf(dst, sizeof(dst), "%s/%s", tmp, cc->dir);
        if (from == NULL || copy_dir(from, dst) != 0) {
            fprintf(stderr, "wsrace merge: the case directory %s is missing\n",
                    cc->dir);
            rc = 3;
        }
        snprintf(cc->replay, sizeof(cc->replay), "%s replay %s/%s/replay.json",
                 self, out, cc->dir);
        if (!cc->as_expected && rc == 0)
            rc = 1;
    }
    if (rc == 3) {
        wr_run_rm_rf(tmp);
        wr_run_free(&merged);
        goto done;
    }
    snprintf(merged.dir, sizeof(merged.dir), "%s", out);
    snprintf(src, sizeof(src), "%s", out);
    snprintf(merged.id, sizeof(merged.id), "%s", basename(src));
    snprintf(merged.argv_text, sizeof(merged.argv_text), "%s", argv_text);
    merged.shard_index = merged.shard_count = 0;
    o.print_matrix = strcmp(merged.kind, "matrix") == 0;
    printf("wsrace merge: %d shard(s), %zu case(s) into %s\n", n, merged.ncases,
           out);
    rc = wr_run_finish(&merged, &o, tmp, false, rc);
    wr_run_free(&merged);
done:
    for (int i = 0; i < n; i++)
        wr_run_free(&runs[i]);
    free(runs);
    return rc;
}
