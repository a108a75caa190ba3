/*
 * fsops.h: thin, policy-free wrappers for filesystem calls Node lacks
 * (parent side): mknod(2) for overlay whiteouts, lsetxattr(2) and
 * lgetxattr(2) for the overlay opaque marker.
 */
#ifndef POD_LAUNCH_FSOPS_H
#define POD_LAUNCH_FSOPS_H

#include <stddef.h>
#include <sys/types.h>

/* mknod(2) of `path` with `mode` (type | permissions) and device major:minor. 0, or -1 with errno.
 */
int fsops_mknod(const char *path, mode_t mode, unsigned int major, unsigned int minor);

/* lsetxattr(2): set (create or replace) `name` on `path`, not following a final symlink. 0, or -1
 * with errno. */
int fsops_lsetxattr(const char *path, const char *name, const void *value, size_t size);

/* lgetxattr(2): the value's length (<= size) copied to `buf`, or -1 with errno (ENODATA: not set).
 */
long fsops_lgetxattr(const char *path, const char *name, void *buf, size_t size);

#endif
