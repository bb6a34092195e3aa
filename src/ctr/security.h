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

/* A compiled seccomp filter (BPF), in memory the compiling and the
 * installing process can share.  set: compiled (ninsns 0: no filter). */
#define SEC_BPF_MAX 4096	/* the kernel's BPF_MAXINSNS */
struct sec_bpf {
	unsigned set;
	unsigned ninsns;
	uint64_t insns[SEC_BPF_MAX];	/* struct sock_filter, 8 bytes each */
};

int sec_set_rlimits(const struct oci_config *c, struct berr *err);
/* Drop privileges and apply caps, nnp and seccomp in the right order; the
 * filter is bpf when it is set, else compiled here. */
int sec_finalize(const struct oci_config *c, const struct sec_identity *id, const struct sec_bpf *bpf,
		 struct berr *err);
/* Mark every fd >= first close-on-exec. */
void sec_cloexec_from(int first);
/* Effective capability set the process will run with. */
uint64_t sec_effective_caps(const struct oci_config *c);
/* Build the seccomp filter (the config's, or berth's default) into out;
 * loading it leaves no_new_privs to the config. */
int sec_seccomp_compile(const struct oci_config *c, struct sec_bpf *out, struct berr *err);

#endif
