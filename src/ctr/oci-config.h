/*
 * oci-config.h - the OCI runtime configuration (a bundle's config.json) as
 * berth-ctr understands it.
 *
 * For: parsing hostile config.json text into plain C data, refusing invalid
 * fields with the JSON path of the problem ("process.user.uid: expected an
 * integer").  Unknown fields are ignored, as the OCI spec asks.
 * Not for: applying any of it (container.c, mount.c, cgroup.c do that).
 */
#ifndef BERTH_CTR_OCI_CONFIG_H
#define BERTH_CTR_OCI_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "core/error.h"

#define OCI_CONFIG_MAX_BYTES (4 * 1024 * 1024)

enum oci_cap_set {
	OCI_CAP_BOUNDING = 0,
	OCI_CAP_EFFECTIVE,
	OCI_CAP_INHERITABLE,
	OCI_CAP_PERMITTED,
	OCI_CAP_AMBIENT,
	OCI_CAP_NSETS
};

struct oci_rlimit {
	int resource;			/* RLIMIT_* */
	uint64_t soft, hard;
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_namespace {
	int type;			/* CLONE_NEW* */
	char *path;			/* join this one, or NULL: new */
};

struct oci_mount {
	char *destination;
	char *type;			/* may be NULL for bind mounts */
	char *source;
	unsigned long flags;		/* MS_* to set */
	unsigned long clear_flags;	/* MS_* explicitly cleared (rw, suid...) */
	unsigned long propagation;	/* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
	char *data;			/* comma-joined fs options, or NULL */
	int bind;			/* bind or rbind */
};

struct oci_device {
	char *path;
	char type;			/* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	uint32_t file_mode;
	int has_mode;
	uint32_t uid, gid;
};

struct oci_device_rule {
	int allow;
	char type;			/* 'a', 'c', 'b' */
	int64_t major, minor;		/* -1: any */
	char access[4];			/* subset of "rwm" */
};

/* Seccomp actions and comparison operators, named as in the OCI spec;
 * seccomp.c maps them onto libseccomp's values. */
enum oci_scmp_action {
	OCI_SCMP_KILL_THREAD = 0, OCI_SCMP_KILL_PROCESS, OCI_SCMP_TRAP, OCI_SCMP_ERRNO,
	OCI_SCMP_TRACE, OCI_SCMP_ALLOW, OCI_SCMP_LOG,
};
enum oci_scmp_op {
	OCI_SCMP_CMP_NE = 0, OCI_SCMP_CMP_LT, OCI_SCMP_CMP_LE, OCI_SCMP_CMP_EQ,
	OCI_SCMP_CMP_GE, OCI_SCMP_CMP_GT, OCI_SCMP_CMP_MASKED_EQ,
};

struct oci_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	enum oci_scmp_op op;
};

struct oci_seccomp_rule {
	char **names;
	size_t nnames;
	enum oci_scmp_action action;
	int errno_ret;			/* -1: default (EPERM) */
	struct oci_seccomp_arg args[6];
	size_t nargs;
};

struct oci_seccomp {
	enum oci_scmp_action default_action;
	int default_errno;		/* -1: default (EPERM) */
	char **archs;
	size_t narchs;
	struct oci_seccomp_rule *rules;
	size_t nrules;
};

struct oci_resources {
	int has_memory_limit, has_memory_reservation, has_memory_swap;
	int64_t memory_limit, memory_reservation, memory_swap;
	int has_cpu_shares, has_cpu_quota, has_cpu_period;
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota;
	char *cpus, *mems;
	int has_pids_limit;
	int64_t pids_limit;
	struct oci_device_rule *devices;
	size_t ndevices;
};

struct oci_config {
	char *oci_version;

	/* process */
	int terminal;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t nadditional_gids;
	char **args;			/* NULL-terminated */
	char **env;			/* NULL-terminated */
	char *cwd;
	int has_caps;			/* else the default set */
	uint64_t caps[OCI_CAP_NSETS];	/* bit masks of CAP_* */
	int no_new_privileges;
	int has_oom_score_adj;
	int oom_score_adj;
	struct oci_rlimit *rlimits;
	size_t nrlimits;

	/* root */
	char *root_path;
	int root_readonly;

	char *hostname;

	struct oci_mount *mounts;
	size_t nmounts;

	/* linux */
	struct oci_namespace namespaces[8];
	size_t nnamespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t nuid_mappings, ngid_mappings;
	char *cgroups_path;
	struct oci_resources resources;
	struct oci_device *devices;
	size_t ndevices;
	char **masked_paths;
	size_t nmasked_paths;
	char **readonly_paths;
	size_t nreadonly_paths;
	char **sysctl_keys, **sysctl_values;
	size_t nsysctl;
	struct oci_seccomp *seccomp;	/* NULL: berth's default profile */
	int seccomp_disabled;		/* "seccomp": null asked for none */
	unsigned long rootfs_propagation;	/* 0: default (MS_REC|MS_PRIVATE... see mount.c) */
};

/* Parse config text.  Errors name the JSON path: "process.user.uid:
 * expected an integer". */
int oci_config_parse(const char *text, size_t len, struct oci_config **out, struct berr *err);
/* Read and parse <bundle>/config.json; errors start with "config.json: ". */
int oci_config_load(const char *bundle, struct oci_config **out, struct berr *err);
void oci_config_free(struct oci_config *c);

/* Does the config ask for a new namespace of this CLONE_NEW* type (or to
 * join one)?  Returns the entry or NULL. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *c, int type);

/* Capability helpers shared with the runtime. */
int oci_cap_from_name(const char *name);	/* "CAP_KILL" -> 5, -1 unknown */
const char *oci_cap_name(int cap);
uint64_t oci_default_caps(void);
int oci_cap_last(void);

#endif
