// fuzz-sources: src/ctr/oci-config.c src/core/error.c
// fuzz-libs: -ljson-c
// fuzz-seed: {"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0,"additionalGids":[1]},"args":["sh","-c","true"],"env":["PATH=/bin"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true,"oomScoreAdj":10},"root":{"path":"rootfs","readonly":true},"hostname":"h","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/x","type":"bind","source":"/tmp","options":["rbind","ro","rslave"]}],"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}],"resources":{"memory":{"limit":1048576,"swap":2097152},"cpu":{"quota":50000,"period":100000,"cpus":"0"},"pids":{"limit":5},"devices":[{"allow":false,"access":"rwm"}]},"maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"sysctl":{"net.ipv4.ip_forward":"1"},"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]},"rootfsPropagation":"rslave"}}
/*
 * fuzz-oci-config.c - libFuzzer target for berth-ctr's config.json parser.
 *
 * Any byte string goes through oci_config_parse: it must either fail with an
 * error message or produce a config whose invariants hold, never crash,
 * leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/oci-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config *c = NULL;
	struct berr err = { 0 };
	char *text;

	if (size > 1 << 20)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (oci_config_parse(text, size, &c, &err) == 0) {
		/* Invariants the runtime relies on. */
		if (c->args == NULL || c->args[0] == NULL || c->cwd == NULL || c->cwd[0] != '/' ||
		    c->root_path == NULL)
			abort();
		for (size_t i = 0; i < c->nmounts; i++)
			if (c->mounts[i].destination == NULL || c->mounts[i].destination[0] != '/')
				abort();
		(void)oci_config_namespace(c, 0);
		oci_config_free(c);
	} else if (err.msg[0] == '\0' || c != NULL) {
		abort();
	}
	free(text);
	return 0;
}
