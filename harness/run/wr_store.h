/* wr_store.h - The report store: where runs live on disk.
 *
 * A run is built in a hidden temporary directory under the store's root
 * (<root>/.tmp-<run id>.XXXXXX, made with mkdtemp: a name nobody can
 * plant in advance), published by renaming it to <root>/<run id> (which
 * must not exist) and pointing <root>/latest at it; an interrupted run
 * leaves only its hidden directory, which the next run removes once its
 * owner is gone. Runs are never overwritten; the oldest can be pruned.
 * Single-threaded. */
#ifndef WR_STORE_H
#define WR_STORE_H

#include <stddef.h>

/* Makes path and its missing parents (mode 0755). An existing directory
 * is fine; anything else in the way (a file, a symbolic link) is
 * -ENOTDIR / -EEXIST. Returns 0 or negative errno. */
int wr_store_mkdirs(const char *path);

/* Makes the hidden temporary directory of run id under root (root is
 * made when missing) and writes its path into out. Returns 0, or negative
 * errno (-ENAMETOOLONG when it does not fit in len). */
int wr_store_make_tmp(const char *root, const char *id, char *out, size_t len);

/* Renames tmpdir to finaldir (which must not exist) and points
 * root/latest at it (a relative symlink, replaced atomically; no link when
 * root is NULL). Returns 0 or negative errno; on error tmpdir is left as
 * it was. */
int wr_store_publish(const char *tmpdir, const char *finaldir,
                     const char *root);

/* Removes hidden temporary run directories under root that no running
 * process owns (the pid in the run id is gone). Returns how many were
 * removed; 0 when root does not exist, negative errno when it cannot be
 * read. */
int wr_store_sweep(const char *root);

/* Removes the oldest runs under root until keep are left, never the run
 * called newest. Run ids sort by time. */
void wr_store_prune(const char *root, int keep, const char *newest);

/* Recursively removes path, never following a symbolic link. */
void wr_store_rm_rf(const char *path);

/* Whether name looks like a run id ("20261126T162000Z-1234"). */
int wr_store_is_run_id(const char *name);

#endif
