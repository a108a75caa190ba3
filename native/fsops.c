/*
 * fsops.c: filesystem syscalls Node lacks, used by the image store when it
 * unpacks layers into the form overlayfs expects (parent side, never in the
 * child). A whiteout is a character device 0:0; an opaque directory carries
 * the xattr trusted.overlay.opaque = "y" (kernel Documentation/filesystems/
 * overlayfs.rst). No policy here: TS decides what to create and where.
 * Man pages: mknod(2), makedev(3), lsetxattr(2), lgetxattr(2).
 */
#include "fsops.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

int fsops_mknod(const char *path, mode_t mode, unsigned int major, unsigned int minor) {
  return mknod(path, mode, makedev(major, minor));
}

int fsops_lsetxattr(const char *path, const char *name, const void *value, size_t size) {
  return lsetxattr(path, name, value, size, 0);
}

long fsops_lgetxattr(const char *path, const char *name, void *buf, size_t size) {
  return (long)lgetxattr(path, name, buf, size);
}
