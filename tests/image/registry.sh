#!/bin/sh
# registry.sh - `berth pull`, `berth images` and `berth rmi` against a real
# registry (Debian's docker-registry on loopback) filled with images built by
# umoci and pushed by skopeo (OCI, Docker v2s2, zstd, a multi-arch index),
# and against a fake registry (tests/image/fake-registry.py) that serves
# malformed manifests, lies about digests, wants a bearer token, or stalls
# half way through a blob.
. "$top_srcdir/tests/lib/sh-helpers.sh"

need_cmd docker-registry skopeo umoci python3
BUSYBOX=$(command -v busybox) || skip "needs busybox (busybox-static)"
[ -x "$BERTH" ] || fail "berth not built at $BERTH"

T=$BERTH_TEST_TMP
STORE=$BERTH_DATA_DIR/images
REG_PID= FAKE_PID=
cleanup() {
	for d in "$T"/ct-*; do
		[ -d "$d/rootfs" ] && umount "$d/rootfs" 2>/dev/null
	done
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
b() { timeout 120 "$BERTH" "$@"; }
# state of the store that a failed pull must not change
store_state() {
	(cd "$STORE" && find blobs layers tmp -mindepth 1 -maxdepth 2 | sort; cat index.json 2>/dev/null) | sha256sum
}
manifest_digest() {	# registry ref -> digest of its top-level manifest
	skopeo inspect --raw --tls-verify=false "docker://$1" | python3 -c \
		'import sys,hashlib; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}
index_field() {	# ref field -> value from the store's index.json
	python3 - "$STORE/index.json" "$1" "$2" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["images"].get(sys.argv[2])
print("" if e is None else e[sys.argv[3]])
EOF
}
count() { find "$1" -mindepth 1 -maxdepth 1 | wc -l; }

# ---- a real registry on loopback ----
PORT=$(free_port)
mkdir -p "$T/registry"
cat > "$T/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$T/registry.yml" > "$T/registry.log" 2>&1 &
REG_PID=$!
http_ok() {
	python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"
}
wait_for 20 http_ok "http://127.0.0.1:$PORT/v2/" || { cat "$T/registry.log"; fail "docker-registry did not start on port $PORT"; }
R=127.0.0.1:$PORT

# ---- images built with umoci ----
cat > "$T/policy.json" <<'EOF'
{"default": [{"type": "insecureAcceptAnything"}]}
EOF
sk() { timeout 120 skopeo --policy "$T/policy.json" "$@"; }
OCI=$T/oci
umoci init --layout "$OCI" || fail "umoci init"
umoci new --image "$OCI:base" || fail "umoci new"
umoci unpack --image "$OCI:base" "$T/b1" > /dev/null || fail "umoci unpack"
mkdir -p "$T/b1/rootfs/bin" "$T/b1/rootfs/etc" "$T/b1/rootfs/data"
cp "$BUSYBOX" "$T/b1/rootfs/bin/busybox"
ln -s busybox "$T/b1/rootfs/bin/sh"
echo "v1" > "$T/b1/rootfs/etc/version"
echo "doomed" > "$T/b1/rootfs/data/doomed"
umoci repack --image "$OCI:v1" "$T/b1" > /dev/null || fail "umoci repack v1"
umoci config --image "$OCI:v1" --config.cmd /bin/sh --config.env FOO=bar || fail "umoci config"
# v2 = v1 + a layer that deletes data/doomed (a whiteout) and adds a file
umoci unpack --image "$OCI:v1" "$T/b2" > /dev/null || fail "umoci unpack v1"
rm "$T/b2/rootfs/data/doomed"
echo "v2" > "$T/b2/rootfs/etc/version"
umoci repack --image "$OCI:v2" "$T/b2" > /dev/null || fail "umoci repack v2"
# v3: one more layer, to be corrupted in the registry
umoci unpack --image "$OCI:v1" "$T/b3" > /dev/null || fail "umoci unpack v1"
head -c 200000 /dev/urandom > "$T/b3/rootfs/data/random"
umoci repack --image "$OCI:v3" "$T/b3" > /dev/null || fail "umoci repack v3"

# a multi-arch index: linux/arm64 (v2's manifest) listed before linux/amd64 (v1's)
python3 - "$OCI" <<'EOF' || fail "writing the index"
import hashlib, json, os, sys
oci = sys.argv[1]
idx = json.load(open(os.path.join(oci, "index.json")))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
def plat(m, arch):
    m = dict(m); m.pop("annotations", None)
    m["platform"] = {"os": "linux", "architecture": arch}
    return m
inner = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [plat(by["v2"], "arm64"), plat(by["v1"], "amd64"),
                       dict(plat(by["v3"], "amd64"), platform={"os": "windows", "architecture": "amd64"})]}
raw = json.dumps(inner).encode()
h = hashlib.sha256(raw).hexdigest()
open(os.path.join(oci, "blobs", "sha256", h), "wb").write(raw)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + h,
                         "size": len(raw), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(os.path.join(oci, "index.json"), "w"))
EOF

for t in v1 v2 v3; do
	sk copy -q --dest-tls-verify=false "oci:$OCI:$t" "docker://$R/busybox:$t" || fail "skopeo push $t"
done
sk copy -q --all --dest-tls-verify=false "oci:$OCI:multi" "docker://$R/busybox:multi" || fail "skopeo push index"
sk copy -q --dest-tls-verify=false --format v2s2 "oci:$OCI:v1" "docker://$R/docker/busybox:v1" || fail "skopeo push v2s2"
# recompress into a second layout first: skopeo keeps zstd layers as they are on push
sk copy -q --dest-compress --dest-compress-format zstd "oci:$OCI:v1" "oci:$T/oci-zstd:v1" || fail "skopeo zstd recompression"
sk copy -q --dest-tls-verify=false "oci:$T/oci-zstd:v1" "docker://$R/zstd/busybox:v1" || fail "skopeo push zstd"

# ---- pull ----
b pull "$R/busybox:v1" > "$T/out" 2> "$T/err" || { cat "$T/err"; fail "pull of an OCI image from the registry failed"; }
want=$(manifest_digest "$R/busybox:v1")
got=$(tail -n 1 "$T/out")
[ "$got" = "$want" ] || fail "pull printed digest '$got', registry's manifest is '$want'"
grep -q "^layer sha256:" "$T/err" || fail "no per-layer progress lines on stderr: $(cat "$T/err")"
[ "$(index_field "$R/busybox:v1" digest)" = "$want" ] || fail "index.json does not map $R/busybox:v1 to $want"
ls "$STORE"/layers/*/root/bin/busybox > /dev/null 2>&1 || fail "the layer was not extracted (no bin/busybox)"
nblobs=$(count "$STORE/blobs/sha256")
[ "$nblobs" -eq 3 ] || fail "expected 3 blobs (manifest, config, layer) after pulling v1, found $nblobs"
[ "$(count "$STORE/tmp")" -eq 0 ] || fail "pull left files in tmp/: $(ls "$STORE/tmp")"

b pull "$R/busybox:v2" > /dev/null 2>&1 || fail "pull of v2 failed"
[ "$(count "$STORE/layers")" -eq 2 ] || fail "v1 and v2 share a layer: expected 2 extracted layers, found $(count "$STORE/layers")"
grep -l '"data/doomed"' "$STORE"/layers/*/whiteouts.json > /dev/null 2>&1 ||
	fail "v2's layer deletes data/doomed, but no whiteouts.json records it"
if [ "$(id -u)" -eq 0 ]; then
	found=
	for f in "$STORE"/layers/*/root/data/doomed; do
		[ -c "$f" ] && found=$f
	done
	[ -n "$found" ] || fail "as root, v2's whiteout of data/doomed should be an overlay whiteout (char device)"
fi
nblobs=$(count "$STORE/blobs/sha256")
[ "$nblobs" -eq 6 ] || fail "expected 6 blobs (shared layer stored once) after v2, found $nblobs"

# the pulled image runs: assemble v2's root fs (overlay as root, and a copy)
# and run its busybox in it
TOOL=$top_builddir/tests/image/image-rootfs-tool
[ -x "$TOOL" ] || fail "test helper not built: $TOOL"
for mode in overlay copy; do
	if [ $mode = copy ]; then
		BERTH_IMAGE_NO_OVERLAY=1; export BERTH_IMAGE_NO_OVERLAY
	fi
	"$TOOL" prepare "$STORE" "$R/busybox:v2" "$T/ct-$mode" > "$T/prep" 2> "$T/err" ||
		fail "$mode: image_rootfs_prepare failed: $(cat "$T/err")"
	rootfs=$(head -n 1 "$T/prep")
	grep -q '"FOO=bar"' "$T/prep" || fail "$mode: config_out lacks the image's Env: $(cat "$T/prep")"
	if [ "$(id -u)" -eq 0 ]; then
		ver=$(chroot "$rootfs" /bin/busybox sh -c 'busybox cat /etc/version; busybox ls /data' 2>&1)
		[ "$ver" = "v2" ] || fail "$mode: in the root fs, /etc/version + ls /data gave '$ver', want 'v2' (and no doomed)"
		fstype=$(stat -f -c %T "$rootfs")
		case $mode in
		overlay) [ "$fstype" = overlayfs ] || fail "overlay: root fs is '$fstype', not an overlay mount" ;;
		copy) [ "$fstype" != overlayfs ] || fail "copy: root fs is an overlay mount" ;;
		esac
	else
		[ ! -e "$rootfs/data/doomed" ] || fail "$mode: data/doomed was deleted by v2 but is in the root fs"
	fi
	"$TOOL" release "$T/ct-$mode" || fail "$mode: release failed"
	[ ! -e "$T/ct-$mode" ] || fail "$mode: release left $T/ct-$mode"
done
unset BERTH_IMAGE_NO_OVERLAY

# the index: linux/amd64 is v1's manifest even though arm64 comes first
b pull "$R/busybox:multi" > "$T/out" 2> "$T/err" || { cat "$T/err"; fail "pull of a multi-arch index failed"; }
v1m=$(index_field "$R/busybox:v1" manifest)
[ "$(index_field "$R/busybox:multi" manifest)" = "$v1m" ] ||
	fail "from the index, berth picked $(index_field "$R/busybox:multi" manifest), linux/amd64 is $v1m"
[ "$(index_field "$R/busybox:multi" digest)" = "$(manifest_digest "$R/busybox:multi")" ] ||
	fail "the index's own digest is not what was recorded for $R/busybox:multi"

# by digest, Docker v2s2, zstd
b pull "$R/busybox@$want" > /dev/null 2>&1 || fail "pull by digest failed"
b pull "$R/docker/busybox:v1" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "pull of a Docker v2s2 image failed"; }
b pull "$R/zstd/busybox:v1" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "pull of a zstd-compressed image failed"; }
grep -q 'tar+zstd' "$STORE/index.json" || fail "the zstd image's layer media type is not tar+zstd (skopeo did not compress with zstd?)"
[ "$(count "$STORE/layers")" -eq 2 ] || fail "the same layer in gzip and zstd must share one extraction (by diff_id); found $(count "$STORE/layers")"

# a wrong digest pinned in the reference is refused
bad=sha256:$(echo "$want" | cut -c8- | tr '0-9a-f' '1-9a-f0')
b pull "$R/busybox@$bad" > /dev/null 2>&1 && fail "pull by a digest the registry does not have succeeded"

# ---- images ----
b images > "$T/images" || fail "berth images failed"
for r in busybox:v1 busybox:v2 busybox:multi docker/busybox:v1 zstd/busybox:v1; do
	grep -q "^$R/$r " "$T/images" || fail "berth images does not list $R/$r: $(cat "$T/images")"
done
b images --json | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert len(l) == 6, l
for e in l:
    assert e["digest"].startswith("sha256:") and e["size"] > 500000 and e["created"], e
' || fail "berth images --json is not the expected array of 6 {ref,digest,size,created}"

# ---- a corrupted blob in the registry is refused; the store is unchanged ----
layer3=$(python3 - "$OCI" <<'EOF'
import json, os, sys
oci = sys.argv[1]
idx = json.load(open(os.path.join(oci, "index.json")))
m = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v3"][0]
man = json.load(open(os.path.join(oci, "blobs", "sha256", m["digest"][7:])))
print(man["layers"][-1]["digest"][7:])
EOF
)
data=$(find "$T/registry" -path "*/blobs/sha256/*/$layer3/data")
[ -f "$data" ] || fail "cannot find v3's layer $layer3 in the registry storage"
python3 - "$data" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(len(b) // 2, len(b) // 2 + 64):
    b[i] ^= 0xff
open(p, "wb").write(b)
EOF
before=$(store_state)
b pull "$R/busybox:v3" > /dev/null 2> "$T/err" && fail "pull of an image with a tampered layer succeeded"
grep -q "corrupted or tampered" "$T/err" || fail "tampered layer: unexpected error: $(cat "$T/err")"
[ "$(store_state)" = "$before" ] || fail "a refused pull changed the store"
[ "$(count "$STORE/tmp")" -eq 0 ] || fail "a refused pull left files in tmp/"

# ---- the fake registry: malformed manifests, lying headers, token auth, stall ----
python3 "$top_srcdir/tests/image/fake-registry.py" "$T/fake.port" > "$T/fake.log" 2>&1 &
FAKE_PID=$!
wait_for 20 test -s "$T/fake.port" || fail "fake registry did not start"
F=127.0.0.1:$(cat "$T/fake.port")

before=$(store_state)
for repo in bad/json bad/nolayers bad/digest bad/header bad/size; do
	b pull "$F/$repo:x" > /dev/null 2> "$T/err" && fail "pull of $repo (malformed) succeeded"
	[ "$(store_state)" = "$before" ] || fail "refused pull of $repo changed the store"
	echo "# $repo: $(cat "$T/err")"
done
grep -q "larger than\|more than" "$T/err" || fail "bad/size: expected an over-size error, got: $(cat "$T/err")"

b pull "$F/auth/img:x" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "pull through the bearer-token flow failed"; }
b pull "$F/good/img:x" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "pull from the fake registry failed"; }

before=$(store_state)
start=$(date +%s)
b pull --timeout 2 "$F/stall/img:x" > /dev/null 2> "$T/err" && fail "pull from a stalling registry succeeded"
took=$(( $(date +%s) - start ))
grep -q "stalled" "$T/err" || fail "stalled transfer: unexpected error: $(cat "$T/err")"
[ "$took" -le 20 ] || fail "the stalled pull took ${took}s with --timeout 2"
[ "$(store_state)" = "$before" ] || fail "the stalled pull changed the store"
[ "$(count "$STORE/tmp")" -eq 0 ] || fail "the stalled pull left a partial file in tmp/"

# ---- rmi ----
b rmi "$F/auth/img:x" "$F/good/img:x" > /dev/null || fail "rmi of the fake registry's images failed"
v2only=$(python3 - "$STORE/index.json" "$R/busybox:v2" "$R/busybox:v1" <<'EOF'
import json, sys
im = json.load(open(sys.argv[1]))["images"]
a = {l["diff_id"] for l in im[sys.argv[2]]["layers"]}
b = {l["diff_id"] for l in im[sys.argv[3]]["layers"]}
print(" ".join(d[7:] for d in a - b))
print(" ".join(d[7:] for d in a & b))
EOF
)
only=$(echo "$v2only" | head -n 1)
shared=$(echo "$v2only" | tail -n 1)
[ -n "$only" ] && [ -n "$shared" ] || fail "could not work out v2's own and shared layers"
b rmi "$R/busybox:v2" > /dev/null || fail "rmi v2 failed"
[ ! -e "$STORE/layers/$only" ] || fail "rmi v2 left its own layer $only"
[ -d "$STORE/layers/$shared" ] || fail "rmi v2 removed the layer $shared that v1 still uses"
b images | grep -q "busybox:v2 " && fail "berth images still lists v2 after rmi"
b rmi "$R/busybox:v2" > /dev/null 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "rmi of an image not in the store exited $rc, want 3"
# v1 and busybox@<v1's digest> share a digest: a prefix of it is ambiguous
b rmi "$(echo "$want" | cut -c8-21)" > /dev/null 2> "$T/err"
rc=$?
[ "$rc" -eq 3 ] && grep -q "matches 2 images" "$T/err" || fail "rmi of an ambiguous digest prefix: exit $rc, $(cat "$T/err")"
# the Docker-format image has a digest of its own: remove it by a prefix
prefix=$(index_field "$R/docker/busybox:v1" digest | cut -c8-19)
b rmi "$prefix" > /dev/null || fail "rmi by the digest prefix $prefix failed"
[ -z "$(index_field "$R/docker/busybox:v1" digest)" ] || fail "rmi $prefix did not remove $R/docker/busybox:v1"
b rmi "$R/busybox:v1" "$R/busybox:multi" "$R/busybox@$want" "$R/zstd/busybox:v1" > /dev/null ||
	fail "rmi of the remaining images failed"
[ "$(count "$STORE/blobs/sha256")" -eq 0 ] || fail "blobs left after removing every image: $(ls "$STORE/blobs/sha256")"
[ "$(count "$STORE/layers")" -eq 0 ] || fail "layers left after removing every image: $(ls "$STORE/layers")"
[ "$(b images --json | tr -d ' \n')" = "[]" ] || fail "berth images is not empty after removing everything"

# ---- a tag that moves: the re-pull drops what only the old image used ----
sk copy -q --dest-tls-verify=false "oci:$OCI:v2" "docker://$R/busybox:moving" || fail "skopeo push moving=v2"
b pull "$R/busybox:moving" > /dev/null 2>&1 || fail "pull moving (v2) failed"
[ "$(count "$STORE/layers")" -eq 2 ] || fail "moving=v2: expected 2 layers"
sk copy -q --dest-tls-verify=false "oci:$OCI:v1" "docker://$R/busybox:moving" || fail "skopeo push moving=v1"
b pull "$R/busybox:moving" > /dev/null 2>&1 || fail "re-pull of moving (now v1) failed"
[ "$(count "$STORE/layers")" -eq 1 ] || fail "after the tag moved to v1, v2's own layer should be gone: $(ls "$STORE/layers")"
[ "$(count "$STORE/blobs/sha256")" -eq 3 ] || fail "after the tag moved to v1, expected 3 blobs, found $(count "$STORE/blobs/sha256")"

# ---- concurrent pulls into one store ----
pids=
for i in 1 2 3 4; do
	b pull "$R/busybox:v2" > "$T/par$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "one of 4 concurrent pulls of v2 failed: $(cat "$T"/par?)"
done
[ "$(count "$STORE/tmp")" -eq 0 ] || fail "concurrent pulls left files in tmp/"
[ "$(count "$STORE/layers")" -eq 2 ] || fail "concurrent pulls: expected 2 layers, found $(count "$STORE/layers")"
[ "$(count "$STORE/blobs/sha256")" -eq 6 ] || fail "concurrent pulls: expected 6 blobs, found $(count "$STORE/blobs/sha256")"
echo "ok"
