/* wr_report_util.c - What the report writers share: text, the facts
 * about a case more than one report states, the atomic write of a file.
 *
 * Each writer (summary.json in wr_report_json.c, junit.xml in
 * wr_report_junit.c, report.md in wr_report_md.c) renders its whole file
 * in memory (open_memstream), and wr__report_write_file() writes it to
 * "<name>.tmp" in the run directory, fsyncs it and renames it over <name>:
 * a reader sees the old file or the new one, never half of one, and a
 * failed write leaves no .tmp behind. The writers only read the run, its
 * cases and their histories.
 *
 * Text from outside (check summaries, target errors, command lines, event
 * lines) may hold any bytes. Every writer passes it through the one UTF-8
 * decoder here, wr__report_utf8_next(), and replaces invalid sequences
 * with U+FFFD, so each file is valid UTF-8 whatever a case produced.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/wr_report_util.h"

/* ------------------------------------------------------------------------
 * Text: UTF-8 decoding, times
 * ---------------------------------------------------------------------- */

size_t wr__report_utf8_next(const char *str, long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t n;
    long v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) { /* also stops at the NUL */
            *cp = -1;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        v = -1;
    *cp = v;
    return n;
}

const char *wr__report_utc_time(int64_t unix_s, const char *fmt, char *buf,
                                size_t len)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00");
    return buf;
}

double wr__report_seconds(int64_t ns)
{
    return ns > 0 ? (double)ns / 1e9 : 0.0;
}

/* ------------------------------------------------------------------------
 * Verdicts and cases
 * ---------------------------------------------------------------------- */

const char *wr__report_scenario_name(const wr_case_t *c)
{
    return c->scenario && c->scenario->name ? c->scenario->name : "(none)";
}

const char *wr__report_inject_name(const wr_case_t *c)
{
    return c->inject[0] != '\0' ? c->inject : "none";
}

const char *wr__report_case_dir(const wr_case_t *c, char *buf, size_t len)
{
    if (c->dir[0] != '\0')
        return c->dir;
    snprintf(buf, len, "cases/%s", c->id);
    return buf;
}

const char *wr__report_src_name(wr_src_t s)
{
    switch (s) {
    case WR_SRC_GATEWAY:
        return "gateway";
    case WR_SRC_CLIENT:
        return "client";
    case WR_SRC_HARNESS:
        return "harness";
    }
    return "?";
}

size_t wr__report_nevidence(const wr_check_result_t *r)
{
    return r->nevidence < WR_EVIDENCE_MAX ? r->nevidence : WR_EVIDENCE_MAX;
}

int64_t wr__report_case_t0(const wr_case_t *c)
{
    int64_t t0 = INT64_MAX;

    if (c->history != NULL && wr_history_len(c->history) > 0)
        return wr_history_at(c->history, 0)->ns;
    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        for (size_t k = 0;
             c->ran[i] && k < wr__report_nevidence(&c->results[i]); k++)
            if (c->results[i].evidence[k] != NULL &&
                c->results[i].evidence[k]->ns < t0)
                t0 = c->results[i].evidence[k]->ns;
    return t0 == INT64_MAX ? 0 : t0;
}

/* ------------------------------------------------------------------------
 * Files: render in memory, then "<name>.tmp", fsync, rename
 * ---------------------------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int wr__report_write_file(const char *dir, const char *name, render_fn render,
                          const wr_run_t *run)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;
    int fd, rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
            sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return -ENOMEM;
    rc = render(run, mem);
    if (rc == 0 && ferror(mem))
        rc = -ENOMEM;
    if (fclose(mem) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc < 0)
        goto out;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write_all(fd, buf, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
out:
    free(buf);
    return rc;
}

