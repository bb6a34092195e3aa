/*
 * test-image-unit.c - unit tests of the image store's building blocks:
 * SHA-256 test vectors, reference parsing, layer extraction (whiteouts,
 * gzip/zstd, diff_id check, hostile paths and links) and root fs assembly
 * from layers, both as an overlay mount (root) and as a flattened copy.
 * Layer tars are built here with libarchive.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/dirs.h"
#include "core/util.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/sha256.h"
#include "../lib/tap.h"

#define OVERLAYFS_MAGIC 0x794c7630

static char *tmpdir;

/* ---- SHA-256 ---- */

static void
test_sha256(void)
{
	static const struct { size_t n_a; const char *hex; } a_runs[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	};
	char hex[SHA256_HEX_LEN + 1], msg[64];
	struct sha256_ctx c;
	char *million;
	size_t i, off;

	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256(\"\")");
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(\"abc\")");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 of the 448-bit FIPS vector");
	for (i = 0; i < sizeof a_runs / sizeof a_runs[0]; i++) {
		char *s = xmalloc(a_runs[i].n_a);

		memset(s, 'a', a_runs[i].n_a);
		sha256_hex(s, a_runs[i].n_a, hex);
		snprintf(msg, sizeof msg, "sha256 of %zu 'a' (padding boundary)", a_runs[i].n_a);
		is_str(hex, a_runs[i].hex, msg);
		free(s);
	}
	million = xmalloc(1000000);
	memset(million, 'a', 1000000);
	/* uneven chunks exercise the buffering */
	sha256_init(&c);
	for (off = 0, i = 1; off < 1000000; i = i * 7 % 1013 + 1) {
		size_t n = i > 1000000 - off ? 1000000 - off : i;

		sha256_update(&c, million + off, n);
		off += n;
	}
	sha256_final_hex(&c, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a' fed in uneven chunks");
	free(million);
}

/* ---- references ---- */

static void
test_refs(void)
{
	static const struct { const char *in, *registry, *repo, *tag, *digest, *canon; } good[] = {
		{ "busybox", "docker.io", "library/busybox", "latest", NULL, "docker.io/library/busybox:latest" },
		{ "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "docker.io/library/busybox:1.36" },
		{ "docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "docker.io/library/busybox:latest" },
		{ "index.docker.io/user/app:v2", "docker.io", "user/app", "v2", NULL, "docker.io/user/app:v2" },
		{ "user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest" },
		{ "127.0.0.1:5000/busybox:t1", "127.0.0.1:5000", "busybox", "t1", NULL, "127.0.0.1:5000/busybox:t1" },
		{ "localhost/a/b/c", "localhost", "a/b/c", "latest", NULL, "localhost/a/b/c:latest" },
		{ "quay.io/org/x-y_z.w:Tag_1.0-rc", "quay.io", "org/x-y_z.w", "Tag_1.0-rc", NULL, "quay.io/org/x-y_z.w:Tag_1.0-rc" },
		{ "[::1]:5000/img", "[::1]:5000", "img", "latest", NULL, "[::1]:5000/img:latest" },
		{ "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "docker.io", "library/busybox", NULL,
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "h:1/r:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "h:1", "r", "t", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "h:1/r:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
	};
	static const char *const bad[] = {
		"", "Busybox", "busybox:", "busybox:-x", "a//b", "a/-b", "a_/b", "/busybox", "busybox/",
		"host:99999/x", "host:/x", "busybox@sha256:abc", "busybox@md5:0123456789abcdef0123456789abcdef",
		"busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"bad host/x", "x:tag with space", "-h.io/x",
	};
	size_t i;
	char msg[256];

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct image_ref r;
		struct berr err = { 0 };
		char *c;

		snprintf(msg, sizeof msg, "parse `%s'", good[i].in);
		if (!ok(image_ref_parse(good[i].in, &r, &err) == 0, msg)) {
			printf("#   %s\n", err.msg);
			continue;
		}
		is_str(r.registry, good[i].registry, "  registry");
		is_str(r.repo, good[i].repo, "  repository");
		is_str(r.tag, good[i].tag, "  tag");
		is_str(r.digest, good[i].digest, "  digest");
		c = image_ref_canonical(&r);
		is_str(c, good[i].canon, "  canonical name");
		free(c);
		image_ref_free(&r);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct image_ref r;
		struct berr err = { 0 };
		int rc = image_ref_parse(bad[i], &r, &err);

		snprintf(msg, sizeof msg, "refuse `%s'", bad[i]);
		ok(rc < 0 && err.code == BERR_INVALID, msg);
		if (rc == 0)
			image_ref_free(&r);
	}
	{
		char longname[260];
		struct image_ref r;
		struct berr err = { 0 };

		/* 240 characters: fine alone, too long as docker.io/library/<name> */
		memset(longname, 'a', 240);
		longname[240] = '\0';
		ok(image_ref_parse(longname, &r, &err) < 0 && err.code == BERR_INVALID,
		   "a name that is too long once canonical (> 255) is refused (found by fuzzing)");
	}
	ok(strcmp(image_registry_endpoint("docker.io"), "registry-1.docker.io") == 0, "docker.io is served by registry-1.docker.io");
	ok(image_registry_is_loopback("127.0.0.1:5000") && image_registry_is_loopback("localhost") &&
	   image_registry_is_loopback("[::1]:80") && image_registry_is_loopback("127.1.2.3"),
	   "loopback registries are recognised (plain HTTP allowed)");
	ok(!image_registry_is_loopback("127.0.0.1.evil.com") && !image_registry_is_loopback("localhost.evil.com") &&
	   !image_registry_is_loopback("quay.io") && !image_registry_is_loopback("10.0.0.1:5000"),
	   "look-alike names are not loopback");
}

/* ---- manifests, indexes, configs ---- */

#define D64(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DESC(mt, c, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" D64(c) "\",\"size\":" #size "}"
#define L_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_M "application/vnd.oci.image.manifest.v1+json"
#define OCI_C "application/vnd.oci.image.config.v1+json"

static void
test_manifests(void)
{
	static const struct { const char *what, *body; int code; } bad[] = {
		{ "not JSON", "{\"schemaVersion\":2,", BERR_INVALID },
		{ "trailing junk", "{\"schemaVersion\":2,\"mediaType\":\"" OCI_M "\"} x", BERR_INVALID },
		{ "a JSON array", "[1,2]", BERR_INVALID },
		{ "schema 1", "{\"schemaVersion\":1,\"fsLayers\":[]}", BERR_NOTSUP },
		{ "no schemaVersion", "{\"mediaType\":\"" OCI_M "\"}", BERR_NOTSUP },
		{ "an unknown media type", "{\"schemaVersion\":2,\"mediaType\":\"application/x-helm\"}", BERR_NOTSUP },
	};
	static const struct { const char *what, *body; int code; } bad_info[] = {
		{ "no config", "{\"schemaVersion\":2,\"layers\":[]}", BERR_INVALID },
		{ "no layers", "{\"schemaVersion\":2,\"config\":" DESC(OCI_C, "a", 10) "}", BERR_INVALID },
		{ "a negative size", "{\"schemaVersion\":2,\"config\":" DESC(OCI_C, "a", -1) ",\"layers\":[]}", BERR_INVALID },
		{ "a string size", "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D64("a") "\",\"size\":\"10\"},\"layers\":[]}", BERR_INVALID },
		{ "a sha512 digest", "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha512:00\",\"size\":1},\"layers\":[]}", BERR_INVALID },
		{ "an uppercase digest", "{\"schemaVersion\":2,\"config\":" DESC(OCI_C, "A", 1) ",\"layers\":[]}", BERR_INVALID },
		{ "a foreign layer", "{\"schemaVersion\":2,\"config\":" DESC(OCI_C, "a", 1) ",\"layers\":["
		  DESC("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "b", 1) "]}", BERR_NOTSUP },
		{ "a non-image config", "{\"schemaVersion\":2,\"config\":" DESC("application/vnd.cncf.helm.config.v1+json", "a", 1)
		  ",\"layers\":[]}", BERR_NOTSUP },
		{ "a layer digest with a path", "{\"schemaVersion\":2,\"config\":" DESC(OCI_C, "a", 1) ",\"layers\":["
		  "{\"mediaType\":\"" L_GZ "\",\"digest\":\"sha256:../../etc/passwd\",\"size\":1}]}", BERR_INVALID },
	};
	const char *good = "{\"schemaVersion\":2,\"mediaType\":\"" OCI_M "\",\"config\":" DESC(OCI_C, "a", 100)
			   ",\"layers\":[" DESC(L_GZ, "b", 1000) "," DESC(L_GZ, "c", 2000) "]}";
	const char *index = "{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"" OCI_M "\",\"digest\":\"" D64("1") "\",\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" OCI_M "\",\"digest\":\"" D64("2") "\",\"size\":10,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
		"{\"mediaType\":\"" OCI_M "\",\"digest\":\"" D64("3") "\",\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		"{\"mediaType\":\"" OCI_M "\",\"digest\":\"" D64("4") "\",\"size\":10,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
	struct image_manifest_info info;
	struct image_desc d;
	json_object *o, *cfg;
	const char *kind;
	struct berr err = { 0 };
	char msg[160];
	size_t i;

	ok(image_manifest_parse(good, strlen(good), NULL, &o, &kind, &err) == 0 && strcmp(kind, MT_OCI_MANIFEST) == 0,
	   "a good OCI manifest parses as a manifest");
	if (ok(image_manifest_info(o, &info, &err) == 0, "its descriptors validate")) {
		is_int(info.nlayers, 2, "two layers");
		is_int(info.total_size, 3100, "total size is config + layers");
		is_str(info.layers[1].digest, D64("c"), "layer digests are kept in order");
		{
			const char *c1 = "{\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D64("d") "\",\"" D64("e") "\"]}}";
			const char *c2 = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D64("d") "\"]}}";
			const char *c3 = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D64("d") "\",\"md5:x\"]}}";

			ok(image_config_parse(c1, strlen(c1), &info, &cfg, &err) == 0 && info.layers[1].diff_id != NULL &&
			   strcmp(info.layers[1].diff_id, D64("e")) == 0, "a config's diff_ids are matched to the layers");
			json_object_put(cfg);
			ok(image_config_parse(c2, strlen(c2), &info, &cfg, &err) < 0, "a config with fewer diff_ids than layers is refused");
			ok(image_config_parse(c3, strlen(c3), &info, &cfg, &err) < 0, "a config with a bad diff_id is refused");
		}
		image_manifest_info_free(&info);
	}
	json_object_put(o);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = image_manifest_parse(bad[i].body, strlen(bad[i].body), NULL, &o, &kind, &err);

		snprintf(msg, sizeof msg, "a manifest that is %s is refused", bad[i].what);
		ok(rc < 0 && err.code == bad[i].code, msg);
		if (rc == 0)
			json_object_put(o);
	}
	for (i = 0; i < sizeof bad_info / sizeof bad_info[0]; i++) {
		int rc = -1;

		if (image_manifest_parse(bad_info[i].body, strlen(bad_info[i].body), NULL, &o, &kind, &err) == 0) {
			rc = image_manifest_info(o, &info, &err);
			if (rc == 0)
				image_manifest_info_free(&info);
			json_object_put(o);
		}
		snprintf(msg, sizeof msg, "a manifest with %s is refused", bad_info[i].what);
		if (!ok(rc < 0 && err.code == bad_info[i].code, msg))
			printf("#   rc %d, %s\n", rc, err.msg);
	}

	ok(image_manifest_parse(index, strlen(index), NULL, &o, &kind, &err) == 0 && strcmp(kind, MT_OCI_INDEX) == 0,
	   "an index without mediaType is recognised by its manifests array");
	ok(image_index_select(o, "amd64", &d, &err) == 0 && strcmp(d.digest, D64("3")) == 0,
	   "linux/amd64 is picked from an index that lists arm64 and windows first");
	ok(image_index_select(o, "arm64", &d, &err) == 0 && strcmp(d.digest, D64("1")) == 0, "linux/arm64 too");
	ok(image_index_select(o, "s390x", &d, &err) < 0 && err.code == BERR_NOTFOUND &&
	   strstr(err.msg, "linux/arm64/v8, windows/amd64, linux/amd64") != NULL,
	   "a missing platform is BERR_NOTFOUND naming the platforms there are");
	json_object_put(o);
	{
		const char *list = "{\"schemaVersion\":2,\"manifests\":[]}";

		ok(image_manifest_parse(list, strlen(list), MT_DOCKER_LIST, &o, &kind, &err) == 0 &&
		   strcmp(kind, MT_OCI_INDEX) == 0, "a Docker manifest list (by Content-Type) is an index");
		json_object_put(o);
	}
}

/* ---- building layer tars ---- */

enum { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_FILE_XATTR, T_SUID_CAP };

/* vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (bit 13) */
static const unsigned char cap_net_raw[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };

struct tent {
	int type;
	const char *path;
	const char *data;	/* file content or link target */
};

struct mem {
	char *buf;
	size_t len, cap;
};

static la_ssize_t
mem_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct mem *m = arg;

	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->buf = xrealloc(m->buf, m->cap);
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return (la_ssize_t)len;
}

/* Write a tar of the entries (compressed with filter: "gzip", "zstd" or
 * NULL) to path; diff_id gets "sha256:<hex of the uncompressed tar>". */
static void
make_layer(const char *path, const char *filter, const struct tent *ents, size_t n, char *diff_id)
{
	struct archive *a = archive_write_new();
	struct mem m = { 0 };
	struct archive_entry *e;
	char hex[SHA256_HEX_LEN + 1];
	size_t i;
	FILE *f;

	archive_write_set_format_pax_restricted(a);
	archive_write_open(a, &m, NULL, mem_write, NULL);
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].path);
		archive_entry_set_mtime(e, 1700000000, 0);
		switch (ents[i].type) {
		case T_FILE:
		case T_FILE_XATTR:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
			if (ents[i].type == T_FILE_XATTR) {
				archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
				archive_entry_xattr_add_entry(e, "user.keep", "yes", 3);
			}
			break;
		case T_SUID_CAP:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 04755);
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
			archive_entry_xattr_add_entry(e, "security.capability", cap_net_raw, sizeof cap_net_raw);
			break;
		case T_DIR:
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case T_SYMLINK:
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, ents[i].data);
			break;
		case T_HARDLINK:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, ents[i].data);
			archive_entry_set_size(e, 0);
			break;
		}
		archive_write_header(a, e);
		if (ents[i].type == T_FILE || ents[i].type == T_FILE_XATTR || ents[i].type == T_SUID_CAP)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	sha256_hex(m.buf, m.len, hex);
	if (diff_id != NULL)
		sprintf(diff_id, "sha256:%s", hex);
	if (filter == NULL) {
		f = fopen(path, "wb");
		fwrite(m.buf, 1, m.len, f);
		fclose(f);
	} else {
		a = archive_write_new();
		archive_write_set_format_raw(a);
		if (strcmp(filter, "gzip") == 0)
			archive_write_add_filter_gzip(a);
		else
			archive_write_add_filter_zstd(a);
		archive_write_open_filename(a, path);
		e = archive_entry_new();
		archive_entry_set_pathname(e, "data");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)m.len);
		archive_write_header(a, e);
		archive_write_data(a, m.buf, m.len);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
	}
	free(m.buf);
}

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static int
exists_at(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct stat sb;
	int r = lstat(p, &sb) == 0;

	free(p);
	return r;
}

static char *
read_at(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel), *buf = NULL;
	struct berr err = { 0 };

	if (read_file(p, &buf, NULL, 1 << 20, &err) < 0)
		buf = NULL;
	free(p);
	return buf;
}

/* Layer 1 and layer 2 of a two-layer image: layer 2 deletes a/gone and
 * /link, and makes d/ opaque (hiding d/old*), adding d/new. */
static const struct tent layer1[] = {
	{ T_DIR, "./", NULL },
	{ T_DIR, "./etc/", NULL },
	{ T_FILE, "./etc/passwd", "root:x:0:0::/root:/bin/sh\n" },
	{ T_DIR, "./a/", NULL },
	{ T_FILE, "./a/keep", "keep\n" },
	{ T_FILE, "./a/gone", "gone\n" },
	{ T_DIR, "./d/", NULL },
	{ T_FILE, "./d/old1", "old1\n" },
	{ T_DIR, "./d/sub/", NULL },
	{ T_FILE, "./d/sub/old2", "old2\n" },
	{ T_FILE, "./hl-target", "linked\n" },
	{ T_HARDLINK, "./hl", "./hl-target" },
	{ T_SYMLINK, "./link", "/etc/passwd" },
	{ T_FILE_XATTR, "./x", "xattr\n" },
	{ T_SUID_CAP, "./ping", "ping\n" },
};
static const struct tent layer2[] = {
	{ T_FILE, "a/.wh.gone", "" },
	{ T_FILE, "d/.wh..wh..opq", "" },
	{ T_FILE, "d/new", "new\n" },
	{ T_FILE, ".wh.link", "" },
	{ T_FILE, "newfile", "layer2\n" },
	{ T_FILE, "etc/passwd", "root:x:0:0::/root:/bin/ash\n" },
};

/* The merged view of layer1+layer2, whichever way it was assembled. */
static void
check_merged(const char *root, const char *how)
{
	char msg[160], *s;
	struct stat a, b;
	char *p1, *p2;

	snprintf(msg, sizeof msg, "%s: a/keep from layer 1 is there", how);
	ok(exists_at(root, "a/keep"), msg);
	snprintf(msg, sizeof msg, "%s: a/gone is deleted by layer 2's whiteout", how);
	ok(!exists_at(root, "a/gone"), msg);
	snprintf(msg, sizeof msg, "%s: /link is deleted by a whiteout at the root", how);
	ok(!exists_at(root, "link"), msg);
	snprintf(msg, sizeof msg, "%s: opaque d/ hides d/old1 and d/sub", how);
	ok(!exists_at(root, "d/old1") && !exists_at(root, "d/sub"), msg);
	snprintf(msg, sizeof msg, "%s: d/new from layer 2 is there", how);
	ok(exists_at(root, "d/new"), msg);
	s = read_at(root, "etc/passwd");
	snprintf(msg, sizeof msg, "%s: layer 2's etc/passwd replaces layer 1's", how);
	is_str(s, "root:x:0:0::/root:/bin/ash\n", msg);
	free(s);
	snprintf(msg, sizeof msg, "%s: no whiteout names leak into the root fs", how);
	ok(!exists_at(root, "a/.wh.gone") && !exists_at(root, "d/.wh..wh..opq") && !exists_at(root, ".wh.link"),
	   msg);
	p1 = xasprintf("%s/ping", root);
	/* (without root, libarchive rightly drops set-uid on files it cannot
	 * give their owner) */
	if (geteuid() == 0) {
		snprintf(msg, sizeof msg, "%s: the set-uid bit survives", how);
		ok(stat(p1, &a) == 0 && (a.st_mode & 07777) == 04755, msg);
		unsigned char cap[32];

		snprintf(msg, sizeof msg, "%s: the security.capability xattr survives", how);
		ok(lgetxattr(p1, "security.capability", cap, sizeof cap) == 20 && memcmp(cap, cap_net_raw, 20) == 0,
		   msg);
	}
	free(p1);
	p1 = xasprintf("%s/hl", root);
	p2 = xasprintf("%s/hl-target", root);
	snprintf(msg, sizeof msg, "%s: the hard link is kept as one inode", how);
	ok(stat(p1, &a) == 0 && stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 2, msg);
	free(p1);
	free(p2);
}

static void
write_store_image(struct image_store *st, const char *key, const char *const *diff_ids, size_t n)
{
	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],"
			  "\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/w\"},\"rootfs\":{\"type\":\"layers\"}}";
	char hex[SHA256_HEX_LEN + 1], *path, *idx, *cfgdigest;
	json_object *index, *images, *e, *layers, *blobs;
	struct berr err = { 0 };
	size_t i;

	sha256_hex(cfg, strlen(cfg), hex);
	path = xasprintf("%s/%s", st->blobs, hex);
	atomic_write_file(path, cfg, strlen(cfg), 0644, &err);
	free(path);
	index = json_object_new_object();
	images = json_object_new_object();
	e = json_object_new_object();
	json_object_object_add(index, "images", images);
	json_object_object_add(images, key, e);
	json_object_object_add(e, "digest", json_object_new_string("sha256:1111111111111111111111111111111111111111111111111111111111111111"));
	cfgdigest = xasprintf("sha256:%s", hex);
	json_object_object_add(e, "config", json_object_new_string(cfgdigest));
	free(cfgdigest);
	layers = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "diff_id", json_object_new_string(diff_ids[i]));
		json_object_object_add(l, "digest", json_object_new_string(diff_ids[i]));
		json_object_array_add(layers, l);
	}
	json_object_object_add(e, "layers", layers);
	blobs = json_object_new_array();
	json_object_array_add(blobs, json_object_new_string(json_object_get_string(json_object_object_get(e, "config"))));
	json_object_object_add(e, "blobs", blobs);
	idx = xasprintf("%s/index.json", st->dir);
	atomic_write_file(idx, json_object_to_json_string(index), strlen(json_object_to_json_string(index)), 0644,
			  &err);
	free(idx);
	json_object_put(index);
}

static void
test_layers_and_rootfs(void)
{
	char d1[80], d2[80], *t1 = tpath("l1.tar"), *t2 = tpath("l2.tar.gz");
	char *storedir = tpath("store"), *x1, *x2, *l1root, *dest, *rootfs = NULL, xv[16];
	struct image_store *st;
	struct berr err = { 0 };
	json_object *cfg = NULL, *v;
	struct statfs sfs;
	struct stat sb;
	int is_root = geteuid() == 0;
	const char *ids[2];

	make_layer(t1, NULL, layer1, sizeof layer1 / sizeof layer1[0], d1);
	make_layer(t2, "gzip", layer2, sizeof layer2 / sizeof layer2[0], d2);
	if (!ok(image_store_open(storedir, &st, &err) == 0, "open a store in a fresh directory")) {
		printf("#   %s\n", err.msg);
		return;
	}
	x1 = xasprintf("%s/%s", st->layers, d1 + 7);
	x2 = xasprintf("%s/%s", st->layers, d2 + 7);
	if (!ok(layer_extract(t1, d1, x1, 1, &err) == 0, "extract an uncompressed layer, diff_id verified"))
		printf("#   %s\n", err.msg);
	if (!ok(layer_extract(t2, d2, x2, 1, &err) == 0, "extract a gzip layer with whiteouts, diff_id verified"))
		printf("#   %s\n", err.msg);
	l1root = xasprintf("%s/root", x1);
	ok(exists_at(l1root, "etc/passwd") && exists_at(l1root, "d/sub/old2"), "layer 1's files are extracted");
	{
		char *p = xasprintf("%s/root/x", x1);

		ok(lgetxattr(p, "trusted.overlay.redirect", xv, sizeof xv) < 0,
		   "trusted.overlay.* xattrs from the tar are dropped");
		if (is_root)
			ok(lgetxattr(p, "user.keep", xv, sizeof xv) == 3, "other xattrs are kept");
		free(p);
	}
	if (is_root) {
		char *wh = xasprintf("%s/root/a/gone", x2), *op = xasprintf("%s/root/d", x2);

		ok(lstat(wh, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0),
		   "`.wh.gone' becomes an overlay whiteout (char 0/0)");
		ok(lgetxattr(op, "trusted.overlay.opaque", xv, sizeof xv) == 1 && xv[0] == 'y',
		   "`.wh..wh..opq' marks the directory trusted.overlay.opaque=y");
		ok(layer_has_overlay_whiteouts(x2), "the layer is usable as an overlay lowerdir");
		free(wh);
		free(op);
	}
	{
		char *meta = read_at(x2, "whiteouts.json");

		ok(meta != NULL && strstr(meta, "\"a/gone\"") && strstr(meta, "\"link\"") && strstr(meta, "\"d\""),
		   "whiteouts.json records the whiteouts and the opaque directory");
		free(meta);
	}

	ids[0] = d1;
	ids[1] = d2;
	write_store_image(st, "docker.io/test/img:1", ids, 2);
	dest = tpath("ct-overlay");
	if (is_root) {
		if (ok(image_rootfs_prepare(st, "test/img:1", dest, &rootfs, &cfg, &err) == 0,
		       "prepare a root fs (overlay as root)")) {
			ok(statfs(rootfs, &sfs) == 0 && sfs.f_type == OVERLAYFS_MAGIC, "the root fs is an overlay mount");
			check_merged(rootfs, "overlay");
			ok(json_object_object_get_ex(cfg, "WorkingDir", &v) &&
			   strcmp(json_object_get_string(v), "/w") == 0 &&
			   json_object_object_get_ex(cfg, "Cmd", &v), "config_out is the image config's config object");
			{
				char *f = xasprintf("%s/written", rootfs);

				ok(atomic_write_file(f, "x", 1, 0644, &err) == 0 && exists_at(dest, "upper/written"),
				   "writes land in dest/upper");
				free(f);
			}
			/* rmi while mounted keeps the layers (in use) */
			ok(image_remove(st, "test/img:1", &err) == 0, "rmi the image while its overlay is mounted");
			ok(exists_at(x1, "root/etc/passwd") && exists_at(x2, "whiteouts.json"),
			   "layers of a mounted overlay survive GC");
			ok(image_rootfs_release(dest, &err) == 0 && !exists_at(tmpdir, "ct-overlay"),
			   "release unmounts and removes the directory");
			store_collect_garbage(st, &err);
			ok(!exists_at(st->layers, d1 + 7) && !exists_at(st->layers, d2 + 7),
			   "after release, GC removes the unreferenced layers");
			write_store_image(st, "docker.io/test/img:1", ids, 2);
			layer_extract(t1, d1, x1, 1, &err);
			layer_extract(t2, d2, x2, 1, &err);
		} else {
			printf("#   %s\n", err.msg);
		}
		json_object_put(cfg);
		cfg = NULL;
		free(rootfs);
		rootfs = NULL;
	} else {
		printf("# not root: overlay assembly not tested\n");
	}

	setenv("BERTH_IMAGE_NO_OVERLAY", "1", 1);
	free(dest);
	dest = tpath("ct-copy");
	if (ok(image_rootfs_prepare(st, "docker.io/test/img:1", dest, &rootfs, &cfg, &err) == 0,
	       "prepare a root fs as a flattened copy")) {
		ok(statfs(rootfs, &sfs) == 0 && sfs.f_type != OVERLAYFS_MAGIC, "the copy is not a mount");
		check_merged(rootfs, "copy");
		{
			char *again = NULL;

			ok(image_rootfs_prepare(st, "test/img:1", dest, &again, NULL, &err) == 0 && again != NULL &&
			   strcmp(again, rootfs) == 0 && exists_at(again, "d/new"),
			   "preparing the same directory again reuses it");
			free(again);
		}
		ok(image_rootfs_release(dest, &err) == 0 && !exists_at(tmpdir, "ct-copy"), "release removes the copy");
	} else {
		printf("#   %s\n", err.msg);
	}
	unsetenv("BERTH_IMAGE_NO_OVERLAY");
	json_object_put(cfg);
	free(rootfs);
	rootfs = NULL;
	ok(image_rootfs_prepare(st, "nosuch/img", dest, &rootfs, NULL, &err) < 0 && err.code == BERR_NOTFOUND,
	   "an image not in the store is BERR_NOTFOUND");
	image_store_free(st);
	free(dest);
	free(l1root);
	free(x1);
	free(x2);
	free(t1);
	free(t2);
	free(storedir);
}

static void
test_layer_formats(void)
{
	static const struct tent simple[] = { { T_FILE, "hello", "world\n" } };
	char d[80], *t = tpath("z.tar.zst"), *x = tpath("zx"), *s;
	struct berr err = { 0 };

	make_layer(t, "zstd", simple, 1, d);
	ok(layer_extract(t, d, x, 1, &err) == 0, "extract a zstd layer");
	s = read_at(x, "root/hello");
	is_str(s, "world\n", "zstd layer content");
	free(s);
	free(x);
	x = tpath("zbad");
	d[10] ^= 1;
	ok(layer_extract(t, d, x, 1, &err) < 0 && strstr(err.msg, "diff_id") != NULL,
	   "a layer whose content does not match its diff_id is refused");
	ok(!exists_at(tmpdir, "zbad"), "nothing is left of a refused layer");
	free(x);
	free(t);

	/* an empty layer (just the end-of-archive blocks, as Docker writes) */
	t = tpath("empty.tar.gz");
	x = tpath("emptyx");
	make_layer(t, "gzip", NULL, 0, d);
	if (!ok(layer_extract(t, d, x, 1, &err) == 0, "extract an empty layer"))
		printf("#   %s\n", err.msg);
	free(x);
	free(t);

	/* gzip of something that is not a tar */
	t = tpath("junk.gz");
	x = tpath("junkx");
	{
		struct archive *a = archive_write_new();
		struct archive_entry *e = archive_entry_new();
		static const char junk[] = "this is not a tar archive at all, just some text that goes on";

		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
		archive_write_open_filename(a, t);
		archive_entry_set_pathname(e, "data");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, sizeof junk);
		archive_write_header(a, e);
		archive_write_data(a, junk, sizeof junk);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
	}
	ok(layer_extract(t, NULL, x, 1, &err) < 0 && !exists_at(tmpdir, "junkx"),
	   "a layer that is not a tar is refused, leaving nothing");
	printf("#   (%s)\n", err.msg);
	free(x);
	free(t);
}

static void
test_hostile_layers(void)
{
	static const struct tent abs_path[] = { { T_FILE, "/etc/evil", "x" } };
	static const struct tent dotdot[] = { { T_FILE, "a/../../evil", "x" } };
	static const struct tent dotdot2[] = { { T_FILE, "../evil", "x" } };
	static const struct tent hl_out[] = { { T_HARDLINK, "h", "../../../etc/passwd" } };
	static const struct tent hl_abs[] = { { T_HARDLINK, "h", "/etc/passwd" } };
	char *outside = tpath("outside"), *sym_target, *victim;
	struct tent through_symlink[2], hl_through[2];
	struct { const char *name; const struct tent *e; size_t n; } cases[] = {
		{ "an absolute path", abs_path, 1 },
		{ "a path with `..' escaping the root", dotdot, 1 },
		{ "a path starting with `..'", dotdot2, 1 },
		{ "a hard link to `../../../etc/passwd'", hl_out, 1 },
		{ "a hard link to `/etc/passwd'", hl_abs, 1 },
		{ "a file written through a symlink pointing outside", through_symlink, 2 },
		{ "a hard link through a symlink pointing outside", hl_through, 2 },
	};
	size_t i;
	char msg[160];

	mkdir(outside, 0755);
	victim = xasprintf("%s/victim", outside);
	atomic_write_file(victim, "v", 1, 0644, &(struct berr){ 0 });
	sym_target = xstrdup(outside);
	through_symlink[0] = (struct tent){ T_SYMLINK, "evil", sym_target };
	through_symlink[1] = (struct tent){ T_FILE, "evil/pwned", "x" };
	hl_through[0] = (struct tent){ T_SYMLINK, "s", sym_target };
	hl_through[1] = (struct tent){ T_HARDLINK, "h", "s/victim" };
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = tpath("evil.tar"), *x = tpath("evilx");
		struct berr err = { 0 };
		int rc;

		make_layer(t, NULL, cases[i].e, cases[i].n, NULL);
		rc = layer_extract(t, NULL, x, 1, &err);
		snprintf(msg, sizeof msg, "a layer with %s is refused", cases[i].name);
		if (!ok(rc < 0, msg))
			printf("#   extraction succeeded\n");
		else
			printf("#   (%s)\n", err.msg);
		free(t);
		free(x);
	}
	ok(!exists_at(outside, "pwned"), "nothing was written outside the layer");
	{
		struct stat sb;

		ok(stat(victim, &sb) == 0 && sb.st_nlink == 1, "no hard link to a file outside was made");
	}
	ok(!exists_at(tmpdir, "evilx"), "refused layers leave no directory behind");
	{
		char *p = layer_clean_path("./a//b/./c/");

		is_str(p, "a/b/c", "layer paths are normalised");
		free(p);
		ok(layer_clean_path("a/../b") == NULL, "`..' anywhere is refused");
	}
	free(victim);
	free(sym_target);
	free(outside);
}

int
main(void)
{
	char tmpl[] = "/tmp/berth-image-unit.XXXXXX";
	const char *base = getenv("BERTH_TEST_TMP");
	struct berr err = { 0 };

	if (base != NULL) {
		tmpdir = xasprintf("%s/unit", base);
		mkdir(tmpdir, 0755);
	} else {
		tmpdir = xstrdup(mkdtemp(tmpl));
	}
	test_sha256();
	test_refs();
	test_manifests();
	test_layer_formats();
	test_hostile_layers();
	test_layers_and_rootfs();
	if (base == NULL)
		image_remove_at(AT_FDCWD, tmpdir, &err);
	free(tmpdir);
	return tap_done();
}
