/* wr_store.c - Run directories: temporary, published, swept, pruned.
 *
 * Every path is built with a length check; a name that does not fit is
 * an error, never a shorter name. Single-threaded. */
#include "run/wr_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir that takes an existing directory (not a link to one) as done. */
static int mkdir_one(const char *path)
{
    struct stat st;

    if (mkdir(path, 0755) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    if (lstat(path, &st) != 0)
        return -errno;
    if (S_ISLNK(st.st_mode))
        return -EEXIST;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int wr_store_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    int rc;

    if (n == 0)
        return -EINVAL;
    if (n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    /* "reports/" names reports itself; lstat(2) of it with the slash
     * would follow a link there. */
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    for (char *p = buf + 1; *p; p++) {
        struct stat st;

        if (*p != '/')
            continue;
        *p = '\0';
        /* A parent may be a link the user made on purpose (/tmp ->
         * /private/tmp): only the last component must be a directory of
         * ours. */
        if (stat(buf, &st) != 0 && (rc = mkdir_one(buf)) != 0)
            return rc;
        *p = '/';
    }
    return mkdir_one(buf);
}

int wr_store_make_tmp(const char *root, const char *id, char *out, size_t len)
{
    int rc = wr_store_mkdirs(root);

    if (rc != 0)
        return rc;
    if ((size_t)snprintf(out, len, "%s/.tmp-%s.XXXXXX", root, id) >= len)
        return -ENAMETOOLONG;
    if (mkdtemp(out) == NULL)
        return -errno;
    return 0;
}

/* rename(2) that fails with EEXIST when to exists, even as an empty
 * directory (which plain rename would replace). */
static int rename_noreplace(const char *from, const char *to)
{
    struct stat st;

    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* The file system cannot do it atomically: check, then rename. */
    if (lstat(to, &st) == 0)
        return -EEXIST;
    return rename(from, to) == 0 ? 0 : -errno;
}

/* The name latest should point at: finaldir relative to root, or its last
 * component when it is not under root. */
static const char *relative_to(const char *finaldir, const char *root)
{
    size_t n = strlen(root);
    const char *slash;

    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(finaldir, root, n) == 0 && finaldir[n] == '/') {
        finaldir += n;
        while (*finaldir == '/')
            finaldir++;
        return finaldir;
    }
    slash = strrchr(finaldir, '/');
    return slash ? slash + 1 : finaldir;
}

int wr_store_publish(const char *tmpdir, const char *finaldir,
                     const char *root)
{
    const char *rel;
    char link_tmp[PATH_MAX], latest[PATH_MAX];
    int rc;

    if (root == NULL)
        return rename_noreplace(tmpdir, finaldir);
    rel = relative_to(finaldir, root);
    if (*rel == '\0')
        return -EINVAL;
    if ((size_t)snprintf(link_tmp, sizeof(link_tmp), "%s/.latest.tmp-%ld", root,
                         (long)getpid()) >= sizeof(link_tmp) ||
        (size_t)snprintf(latest, sizeof(latest), "%s/latest", root) >=
            sizeof(latest))
        return -ENAMETOOLONG;

    /* The new link is made first, so that after the directory is renamed
     * the one step left is a rename over the old link. */
    (void)unlink(link_tmp); /* a leftover of this pid's failed attempt */
    if (symlink(rel, link_tmp) != 0)
        return -errno;
    rc = rename_noreplace(tmpdir, finaldir);
    if (rc < 0)
        goto err_link;
    if (rename(link_tmp, latest) != 0) {
        rc = -errno;
        goto err_dir;
    }
    return 0;

err_dir:
    (void)rename(finaldir, tmpdir);
err_link:
    (void)unlink(link_tmp);
    return rc;
}

/* The pid of a ".tmp-<run id>.XXXXXX" name (the run id ends with
 * "-<pid>"), or 0 when the name is not one. */
static pid_t tmp_owner(const char *name)
{
    const char *dot = strrchr(name, '.'), *dash;
    char *end;
    long pid;

    if (strncmp(name, ".tmp-", 5) != 0 || dot == NULL || dot < name + 5)
        return 0;
    for (dash = dot - 1; dash > name + 5 && *dash != '-'; dash--)
        ;
    if (*dash != '-' || dash[1] < '0' || dash[1] > '9')
        return 0;
    errno = 0;
    pid = strtol(dash + 1, &end, 10);
    if (errno != 0 || end != dot || pid <= 0 || pid > INT_MAX)
        return 0;
    return (pid_t)pid;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : errno;
}

void wr_store_rm_rf(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int wr_store_sweep(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *de;
    int removed = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d)) != NULL) {
        pid_t pid = tmp_owner(de->d_name);
        char path[PATH_MAX];
        struct stat st;

        if (pid == 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        /* EPERM means the process lives under another user: keep it. */
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, de->d_name) >=
            sizeof(path))
            continue;
        if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int wr_store_is_run_id(const char *name)
{
    int n = 0;
    unsigned pid;

    return strlen(name) >= 18 && name[8] == 'T' && name[15] == 'Z' &&
           name[16] == '-' && sscanf(name + 17, "%u%n", &pid, &n) == 1 &&
           name[17 + n] == '\0';
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void wr_store_prune(const char *root, int keep, const char *newest)
{
    DIR *d = opendir(root);
    char **names = NULL, path[PATH_MAX];
    size_t n = 0;
    struct dirent *e;

    if (d == NULL || keep <= 0) {
        if (d)
            closedir(d);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char **p;

        if (!wr_store_is_run_id(e->d_name) || strcmp(e->d_name, newest) == 0)
            continue;
        p = realloc(names, (n + 1) * sizeof(*names));
        if (p == NULL)
            break;
        names = p;
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (n - i > (size_t)(keep - 1) &&
            (size_t)snprintf(path, sizeof(path), "%s/%s", root, names[i]) <
                sizeof(path))
            wr_store_rm_rf(path);
        free(names[i]);
    }
    free(names);
}
