/*
 * rootfs.h - building the container's file-system view.
 *
 * For: resolving paths strictly inside the rootfs (openat2 RESOLVE_IN_ROOT,
 * or a descriptor-by-descriptor walk where openat2 is missing), the config's
 * mounts, /dev, pivot_root, masked and read-only paths.  Runs in the
 * container's init process before it executes the user's program.
 * Not for: namespaces, users or capabilities (container.c, security.c).
 */
#ifndef BERTH_CTR_ROOTFS_H
#define BERTH_CTR_ROOTFS_H

#include "core/error.h"
#include "ctr/oci-config.h"

enum rootfs_create { RF_NO_CREATE = 0, RF_CREATE_DIR, RF_CREATE_FILE };

/* Open path (absolute or relative, interpreted as if rootfd were "/") with
 * O_PATH.  Symlinks on the way are followed but can never leave the root;
 * a final component that is a symlink is refused.  Missing components are
 * created when asked.  Returns the fd or -1. */
int rootfs_resolve(int rootfd, const char *path, enum rootfs_create create, struct berr *err);
/* Force the fallback walk (tests set BERTH_CTR_NO_OPENAT2=1). */
int rootfs_have_openat2(void);
/* Tests: 0 forces the walk, 1 goes back to openat2 where the kernel has it. */
void rootfs_use_openat2(int on);

struct rootfs_opts {
	const struct oci_config *cfg;
	const char *rootfs;		/* absolute host path of the root */
	int userns;			/* in a new user namespace (no mknod) */
	int pty_slave;			/* bind onto /dev/console, or -1 */
};

/* Everything before pivot_root: propagation, mounts, devices; then
 * pivot_root into the root.  Afterwards "/" is the container's root. */
int rootfs_setup(const struct rootfs_opts *o, struct berr *err);
/* After pivot_root: masked paths, read-only paths, read-only root, sysctl. */
int rootfs_finalize(const struct rootfs_opts *o, struct berr *err);

#endif
