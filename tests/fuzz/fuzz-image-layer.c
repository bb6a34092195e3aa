/*
 * fuzz-image-layer.c - libFuzzer target for layer extraction and
 * flattening: the input describes tar entries (one per line:
 * TYPE PATH [TAB TARGET], TYPE f file, d dir, l symlink, h hard link),
 * which are written as two layers with libarchive, extracted with
 * layer_extract() and flattened with layer_flatten().  Whatever the entries
 * say, nothing may appear outside the work directory: the fuzzer aborts if
 * anything shows up in /dev/shm/berth-fuzz-outside.
 * Built and run by tests/fuzz/run.sh (`make check-fuzz`).
 */
// fuzz-sources: src/image/layer.c src/image/manifest.c src/image/ref.c src/image/sha256.c src/core/util.c src/core/error.c src/core/dirs.c
// fuzz-libs: -larchive -ljson-c
// fuzz-seed: d etc\nf etc/passwd\nl link\t/dev/shm/berth-fuzz-outside\nf link/pwned\n--\nf etc/.wh.passwd\nf .wh..wh..opq
// fuzz-seed: l up\t../../../../../../dev/shm/berth-fuzz-outside\nh hl\tup/x\n--\nf up/y
// fuzz-seed: d a\nf a/b\nh a/c\ta/b\n--\nf a/.wh.b\nl a\t/dev/shm/berth-fuzz-outside
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/util.h"
#include "image/image-internal.h"

#define OUTSIDE "/dev/shm/berth-fuzz-outside"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *workdir;

/* Write the entries of one layer (lines up to "--" or the end) as a tar. */
static void
write_layer(const char *path, const char *text, size_t len)
{
	struct archive *a = archive_write_new();
	size_t off = 0;

	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	while (off < len) {
		const char *line = text + off, *nl = memchr(line, '\n', len - off), *tab;
		size_t n = nl ? (size_t)(nl - line) : len - off;
		char *name, *target = NULL;
		struct archive_entry *e;

		off += n + 1;
		if (n < 3 || line[1] != ' ')
			continue;
		tab = memchr(line, '\t', n);
		if (tab != NULL && tab < line + 2)
			continue;
		name = xstrndup(line + 2, (tab ? (size_t)(tab - line) : n) - 2);
		if (tab)
			target = xstrndup(tab + 1, n - (size_t)(tab + 1 - line));
		e = archive_entry_new();
		archive_entry_set_pathname(e, name);
		archive_entry_set_perm(e, 0755);
		switch (line[0]) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, target ? target : "");
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, target ? target : "");
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, 2);
			break;
		}
		archive_write_header(a, e);
		if (line[0] != 'd' && line[0] != 'l' && line[0] != 'h')
			archive_write_data(a, "x\n", 2);
		archive_entry_free(e);
		free(name);
		free(target);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void
check_outside_empty(void)
{
	DIR *d = opendir(OUTSIDE);
	struct dirent *de;

	if (d == NULL)
		abort();	/* replaced or removed by the layer: escaped */
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			abort();	/* something was written outside */
	closedir(d);
}

static void
remove_workdir(void)
{
	struct berr err = { 0 };

	image_remove_at(AT_FDCWD, workdir, &err);
	rmdir(OUTSIDE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep;
	struct berr err = { 0 };
	char *tar1, *tar2, *l1, *l2, *rootfs;
	size_t len1;
	int fd;

	if (workdir == NULL) {
		char tmpl[] = "/dev/shm/berth-fuzz-layer.XXXXXX";	/* tmpfs: fsync is free */

		workdir = xstrdup(mkdtemp(tmpl));
		mkdir(OUTSIDE, 0755);
		atexit(remove_workdir);
	}
	sep = memmem(text, size, "\n--\n", 4);
	len1 = sep ? (size_t)(sep - text) : size;
	tar1 = xasprintf("%s/1.tar", workdir);
	tar2 = xasprintf("%s/2.tar", workdir);
	l1 = xasprintf("%s/l1", workdir);
	l2 = xasprintf("%s/l2", workdir);
	rootfs = xasprintf("%s/rootfs", workdir);
	write_layer(tar1, text, len1);
	write_layer(tar2, sep ? sep + 4 : "", sep ? size - len1 - 4 : 0);
	mkdir(rootfs, 0755);
	fd = open(rootfs, O_RDONLY | O_DIRECTORY);
	if (layer_extract(tar1, NULL, l1, size % 2, &err) == 0 && layer_flatten(l1, fd, &err) == 0 &&
	    layer_extract(tar2, NULL, l2, size % 2, &err) == 0)
		(void)layer_flatten(l2, fd, &err);
	close(fd);
	check_outside_empty();
	image_remove_at(AT_FDCWD, l1, &err);
	image_remove_at(AT_FDCWD, l2, &err);
	image_remove_at(AT_FDCWD, rootfs, &err);
	unlink(tar1);
	unlink(tar2);
	free(tar1);
	free(tar2);
	free(l1);
	free(l2);
	free(rootfs);
	return 0;
}
