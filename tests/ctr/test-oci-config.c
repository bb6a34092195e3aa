/*
 * test-oci-config.c - unit tests of berth-ctr's config.json parser and the
 * root-free pieces of the runtime (path resolution inside a root), runnable
 * without root.
 */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/oci-config.h"
#include "ctr/rootfs.h"
#include "tap.h"

static struct oci_config *
parse(const char *text, struct berr *err)
{
	struct oci_config *c = NULL;

	berr_clear(err);
	if (oci_config_parse(text, strlen(text), &c, err) < 0)
		return NULL;
	return c;
}

#define MIN "\"process\": {\"args\": [\"sh\"]}, \"root\": {\"path\": \"rootfs\"}"

static void
test_parser(void)
{
	struct berr err;
	struct oci_config *c;

	c = parse("{" MIN "}", &err);
	ok(c != NULL, "minimal config parses");
	if (c) {
		is_str(c->cwd, "/", "cwd defaults to /");
		ok(!c->has_caps, "no capabilities given: the runtime default applies");
		ok(c->seccomp == NULL && !c->seccomp_disabled, "no seccomp given: the default profile");
		oci_config_free(c);
	}
	c = parse("{" MIN ", \"unknownField\": [1, {\"x\": null}]}", &err);
	ok(c != NULL, "unknown fields are ignored");
	oci_config_free(c);

	c = parse("{\"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": \"0\"}}, \"root\": {\"path\": \"r\"}}", &err);
	ok(c == NULL, "string uid refused");
	is_str(err.msg, "process.user.uid: expected an integer, got a string", "uid error names the JSON path");

	c = parse("{" MIN ", \"mounts\": [{\"destination\": \"/a\", \"type\": \"tmpfs\"}, {\"destination\": \"b\", \"type\": \"tmpfs\"}]}", &err);
	ok(c == NULL, "relative mount destination refused");
	is_str(err.msg, "mounts[1].destination: must be an absolute path", "mount error names the index");

	c = parse("{" MIN ", \"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/s\", \"options\": [\"rbind\", \"ro\", \"nosuid\", \"rslave\", \"size=1m\"]}]}", &err);
	ok(c != NULL, "bind mount with options parses");
	if (c) {
		ok(c->mounts[0].bind, "bind recognised");
		ok(c->mounts[0].flags & MS_RDONLY, "ro flag");
		ok(c->mounts[0].flags & MS_NOSUID, "nosuid flag");
		ok(c->mounts[0].flags & MS_REC, "rbind is recursive");
		is_int(c->mounts[0].propagation, MS_SLAVE | MS_REC, "rslave propagation");
		is_str(c->mounts[0].data, "size=1m", "unknown options go to the fs data");
		oci_config_free(c);
	}

	c = parse("{" MIN ", \"hostname\": \"h\", \"linux\": {\"namespaces\": [{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}],"
		  " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
		  " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
		  " \"resources\": {\"memory\": {\"limit\": 1048576}, \"cpu\": {\"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\"}, \"pids\": {\"limit\": 10}}}}", &err);
	ok(c != NULL, "linux section parses");
	if (c) {
		ok(oci_config_namespace(c, CLONE_NEWUSER) != NULL, "user namespace");
		is_int(c->nuid_mappings, 1, "one uid mapping");
		is_int(c->uid_mappings[0].host_id, 1000, "uid mapping host id");
		is_int(c->resources.memory_limit, 1048576, "memory limit");
		is_int(c->resources.cpu_quota, 50000, "cpu quota");
		is_str(c->resources.cpus, "0-1", "cpuset");
		is_int(c->resources.pids_limit, 10, "pids limit");
		oci_config_free(c);
	}
	c = parse("{" MIN ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}", &err);
	ok(c == NULL, "a new user namespace without mappings is refused");

	c = parse("{" MIN ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 7, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}}", &err);
	ok(c == NULL, "seccomp arg index out of range refused");
	is_str(err.msg, "linux.seccomp.syscalls[0].args[0].index: 7 is out of range [0, 5]", "seccomp error path");

	c = parse("{" MIN ", \"process\": {\"args\": [\"sh\"], \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_NOPE\"]}}}", &err);
	ok(c == NULL, "unknown capability refused");
	is_str(err.msg, "process.capabilities.bounding[1]: unknown capability \"CAP_NOPE\"", "capability error path");

	/* "/" would make the host's root cgroup the container's: on delete or a
	 * failed create every process in it would be killed. */
	c = parse("{" MIN ", \"linux\": {\"cgroupsPath\": \"/\"}}", &err);
	ok(c == NULL, "cgroupsPath \"/\" (the root cgroup) refused");
	oci_config_free(c);
	c = parse("{" MIN ", \"linux\": {\"cgroupsPath\": \"//\"}}", &err);
	ok(c == NULL, "cgroupsPath \"//\" (the root cgroup) refused");
	oci_config_free(c);
	c = parse("{" MIN ", \"linux\": {\"cgroupsPath\": \"\"}}", &err);
	ok(c == NULL, "an empty cgroupsPath refused");
	oci_config_free(c);
	c = parse("{" MIN ", \"linux\": {\"cgroupsPath\": \"/berth/x\"}}", &err);
	ok(c != NULL, "a cgroupsPath below the root parses");
	oci_config_free(c);

	c = parse("{" MIN "} trailing", &err);
	ok(c == NULL, "trailing garbage refused");
	c = parse("[1, 2]", &err);
	ok(c == NULL, "a non-object refused");
	{
		char deep[4096];
		int i, n = 0;

		for (i = 0; i < 1000; i++)
			deep[n++] = '[';
		deep[n] = '\0';
		c = parse(deep, &err);
		ok(c == NULL, "deep nesting refused without crashing");
	}
	ok(oci_cap_from_name("CAP_SYS_ADMIN") == 21, "CAP_SYS_ADMIN is 21");
	ok((oci_default_caps() & (1ULL << 21)) == 0, "the default set has no CAP_SYS_ADMIN");
}

/* Path resolution inside a root, both flavours. */
static void
test_resolve(int use_openat2)
{
	char tmpl[] = "/tmp/berth-rf.XXXXXX", path[512];
	struct berr err = { 0 };
	struct stat st;
	int rootfd, fd;
	const char *label = use_openat2 ? "openat2" : "walk";
	char what[128];

	if (mkdtemp(tmpl) == NULL)
		return;
	rootfs_use_openat2(use_openat2);
	snprintf(path, sizeof path, "%s/root", tmpl);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/outside", tmpl);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/root/up", tmpl);
	symlink("../../../../../..", path);
	snprintf(path, sizeof path, "%s/root/abs", tmpl);
	symlink("/etc", path);
	snprintf(path, sizeof path, "%s/root/final", tmpl);
	symlink("/etc/passwd", path);
	snprintf(path, sizeof path, "%s/root", tmpl);
	rootfd = open(path, O_PATH | O_DIRECTORY);

	fd = rootfs_resolve(rootfd, "/up/outside/x", RF_CREATE_DIR, &err);
	snprintf(what, sizeof what, "%s: .. through a symlink stays in the root", label);
	ok(fd >= 0, what);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s/outside/x", tmpl);
	snprintf(what, sizeof what, "%s: nothing created outside the root", label);
	ok(stat(path, &st) < 0, what);
	snprintf(path, sizeof path, "%s/root/outside/x", tmpl);
	snprintf(what, sizeof what, "%s: created inside instead", label);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), what);

	fd = rootfs_resolve(rootfd, "/abs/berth-test-file", RF_CREATE_FILE, &err);
	if (fd >= 0)
		close(fd);
	snprintf(what, sizeof what, "%s: an absolute symlink is taken relative to the root", label);
	ok(access("/etc/berth-test-file", F_OK) < 0, what);
	snprintf(path, sizeof path, "%s/root/etc/berth-test-file", tmpl);
	ok(access(path, F_OK) == 0, what);

	berr_clear(&err);
	fd = rootfs_resolve(rootfd, "/final", RF_NO_CREATE, &err);
	snprintf(what, sizeof what, "%s: a final symlink is refused", label);
	ok(fd < 0 && strstr(err.msg, "symlink") != NULL, what);
	close(rootfd);
	{
		char cmd[600];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpl);
	}
}

int
main(void)
{
	test_parser();
	test_resolve(1);
	test_resolve(0);
	return tap_done();
}
