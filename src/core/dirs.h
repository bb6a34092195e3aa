/*
 * dirs.h - berth's runtime, data and config directories, and safe file I/O.
 *
 *   runtime  $BERTH_RUN_DIR     default /run/berth (root), $XDG_RUNTIME_DIR/berth
 *   data     $BERTH_DATA_DIR    default /var/lib/berth (root), $XDG_DATA_HOME/berth
 *   config   $BERTH_CONFIG_DIR  default /etc/berth (root), $XDG_CONFIG_HOME/berth
 * Layout below them:
 *   run/vm/<name>/{ctl.sock,console.sock,vmm.pid}   one berth-vmm each
 *   run/ct/<name>/{ctl.sock,console.sock,monitor.pid}
 *   data/vm/<name>.json                              kvm VM definitions
 *   data/ct/<name>/                                  container bundles/state
 *   data/images/{blobs/sha256,index.json}            OCI image store
 * Persistent files are written atomically: temp file, fsync, rename, fsync dir.
 */
#ifndef BERTH_DIRS_H
#define BERTH_DIRS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

struct berth_dirs {
	char *run;
	char *data;
	char *config;
};

/* Fill from the environment and defaults; creates nothing. */
int dirs_init(struct berth_dirs *d, struct berr *err);
void dirs_free(struct berth_dirs *d);
/* mkdir -p with mode for created components. */
int mkdir_p(const char *path, mode_t mode, struct berr *err);
/* Write the whole buffer to path atomically.  On any failure the old file
 * (if any) is untouched and no temp file is left behind. */
int atomic_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct berr *err);
/* Read a whole file (at most max bytes, else EFBIG); *buf NUL-terminated. */
int read_file(const char *path, char **buf, size_t *len, size_t max, struct berr *err);
/* rm -rf that does not follow symlinks and stays on the same fs. */
int remove_tree(const char *path, struct berr *err);
/* Valid instance name for file-system use: 1..64 chars, no '/', no NUL,
 * not "." or "..", no leading '-'.  Spaces and unicode are fine. */
int name_is_valid(const char *name, struct berr *err);

#endif
