/*
 * security.h - the last steps before a container process runs the user's
 * program: user and groups, capabilities (capset/prctl, no libcap),
 * no_new_privs, seccomp (libseccomp), rlimits, closing stray descriptors.
 *
 * For: the container's init and processes joined with exec.  Not for:
 * namespaces or mounts.
 */
#ifndef BERTH_CTR_SECURITY_H
#define BERTH_CTR_SECURITY_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "ctr/oci-config.h"

struct sec_identity {
	uid_t uid;
	gid_t gid;
	const uint32_t *gids;
	size_t ngids;
};

int sec_set_rlimits(const struct oci_config *c, struct berr *err);
/* Drop privileges and apply caps, nnp and seccomp in the right order. */
int sec_finalize(const struct oci_config *c, const struct sec_identity *id, struct berr *err);
/* Mark every fd >= first close-on-exec. */
void sec_cloexec_from(int first);
/* Effective capability set the process will run with. */
uint64_t sec_effective_caps(const struct oci_config *c);
/* Build and load the seccomp filter (config's, or berth's default). */
int sec_seccomp_load(const struct oci_config *c, struct berr *err);

#endif
