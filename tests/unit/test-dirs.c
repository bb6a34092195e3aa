/*
 * test-dirs.c - directories and safe file I/O: atomic writes (an interrupted,
 * a failing-for-space and a read-only write all leave the old file intact and
 * no temporary behind), read_file limits, remove_tree not following links.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/util.h"
#include "tap.h"

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
file_is(const char *path, const char *want)
{
	char *buf = NULL;
	size_t len;
	struct berr e = { 0 };
	int r;

	if (read_file(path, &buf, &len, 1 << 20, &e) < 0)
		return 0;
	r = len == strlen(want) && memcmp(buf, want, len) == 0;
	free(buf);
	return r;
}

int
main(void)
{
	char tmpl[] = "/tmp/berth-dirs.XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *buf;
	struct berr e = { 0 };
	struct stat st;
	size_t len;

	if (dir == NULL) {
		perror("mkdtemp");
		return 99;
	}
	path = xasprintf("%s/state.json", dir);

	ok(atomic_write_file(path, "old", 3, 0640, &e) == 0, "atomic write creates a file");
	ok(file_is(path, "old"), "the content is there");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "the mode is applied");
	ok(atomic_write_file(path, "newer", 5, 0600, &e) == 0 && file_is(path, "newer"),
	   "atomic write replaces a file");
	is_int(count_entries(dir), 1, "no temporary file is left behind");

	/* Interrupted: kill the writer in the middle of a big write. */
	{
		size_t big = 512u << 20;
		pid_t pid = fork();

		if (pid == 0) {
			char *p = malloc(big);
			struct berr ce = { 0 };

			if (p == NULL)
				_exit(2);
			memset(p, 'x', big);
			atomic_write_file(path, p, big, 0600, &ce);
			_exit(0);
		}
		/* Wait until the temporary file exists and has data. */
		for (int i = 0; i < 5000; i++) {
			DIR *d = opendir(dir);
			struct dirent *de;
			int found = 0;

			while (d && (de = readdir(d)) != NULL) {
				if (strstr(de->d_name, ".tmp.") != NULL) {
					char *t = xasprintf("%s/%s", dir, de->d_name);

					if (stat(t, &st) == 0 && st.st_size > 0)
						found = 1;
					free(t);
				}
			}
			if (d)
				closedir(d);
			if (found)
				break;
			usleep(1000);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ok(file_is(path, "newer"), "a writer killed mid-write leaves the old file intact");
	}

	ok(read_file(path, &buf, &len, 3, &e) < 0 && e.code == EFBIG, "read_file enforces its limit");
	ok(read_file("/nonexistent/berth", &buf, &len, 10, &e) < 0 && strstr(e.msg, "/nonexistent/berth"),
	   "read_file errors name the file");

	/* remove_tree must not follow a symlink out of the tree. */
	{
		char *outside = xasprintf("%s-outside", dir);
		char *tree = xasprintf("%s/tree/a/b", dir);
		char *link = xasprintf("%s/tree/a/link", dir);
		char *top = xasprintf("%s/tree", dir);

		mkdir(outside, 0700);
		ok(mkdir_p(tree, 0700, &e) == 0, "mkdir_p creates nested directories");
		symlink(outside, link);
		ok(remove_tree(top, &e) == 0, "remove_tree removes a tree");
		ok(stat(top, &st) < 0 && stat(outside, &st) == 0, "remove_tree leaves the link's target alone");
		rmdir(outside);
		free(outside);
		free(tree);
		free(link);
		free(top);
	}

	/* Full and read-only file systems: needs root for a private tmpfs. */
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
		char *mnt = xasprintf("%s/small", dir);
		char *f = xasprintf("%s/small/vm.json", dir);
		size_t big = 4u << 20;
		char *p = xmalloc(big);

		memset(p, 'y', big);
		mkdir(mnt, 0700);
		if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") == 0) {
			ok(atomic_write_file(f, "keep", 4, 0600, &e) == 0, "write on a small tmpfs");
			ok(atomic_write_file(f, p, big, 0600, &e) < 0 && e.code == ENOSPC,
			   "a write that does not fit fails with ENOSPC");
			ok(strstr(e.msg, "vm.json") != NULL, "the error names the file");
			ok(file_is(f, "keep"), "a full disk leaves the old file intact");
			is_int(count_entries(mnt), 1, "a full disk leaves no temporary file");
			mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL);
			ok(atomic_write_file(f, "new", 3, 0600, &e) < 0 && e.code == EROFS,
			   "a read-only directory fails with EROFS");
			ok(file_is(f, "keep"), "a read-only directory leaves the old file intact");
			ok(mkdir_p(mnt, 0700, &e) == 0, "mkdir_p of an existing directory succeeds read-only");
			umount(mnt);
		} else {
			ok(0, "mount a private tmpfs");
		}
		free(p);
		free(mnt);
		free(f);
	} else {
		printf("# skipped full/read-only file system checks: need root\n");
	}

	{
		struct berth_dirs d;

		setenv("BERTH_RUN_DIR", "/x/run", 1);
		setenv("BERTH_DATA_DIR", "/x/data", 1);
		setenv("BERTH_CONFIG_DIR", "/x/config", 1);
		dirs_init(&d, &e);
		ok(strcmp(d.run, "/x/run") == 0 && strcmp(d.data, "/x/data") == 0 &&
		   strcmp(d.config, "/x/config") == 0, "directories come from the environment");
		dirs_free(&d);
	}

	unlink(path);
	free(path);
	rmdir(dir);
	return tap_done();
}
