#!/bin/sh
# A container from an image through the berth front-end: an image built with
# umoci (busybox, Env, Cmd, WorkingDir) is pushed by skopeo to Debian's
# docker-registry on loopback, pulled with `berth pull`, defined by
# reference, started (the image store assembles the root fs), exec'd into,
# stopped and undefined (the root fs is released).
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
need_cmd docker-registry skopeo umoci python3
[ -x "$BERTH" ] || skip "berth not built"
REG_PID=
cleanup() {
	"$BERTH" destroy img1 >/dev/null 2>&1
	"$BERTH" undefine img1 >/dev/null 2>&1
	ctr_cleanup_all
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
	wait 2>/dev/null
	true
}
T=$BERTH_TEST_TMP
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/registry"
cat > "$T/registry.yml" <<EOF2
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$PORT
EOF2
docker-registry serve "$T/registry.yml" > "$T/registry.log" 2>&1 &
REG_PID=$!
http_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }
wait_for 20 http_ok "http://127.0.0.1:$PORT/v2/" || fail "docker-registry did not start: $(cat "$T/registry.log")"
R=127.0.0.1:$PORT

make_bundle "$T/src"
umoci init --layout "$T/oci" >/dev/null || fail "umoci init"
umoci new --image "$T/oci:base" >/dev/null || fail "umoci new"
umoci unpack --image "$T/oci:base" "$T/u" >/dev/null || fail "umoci unpack"
cp -a "$T/src/rootfs/." "$T/u/rootfs/"
umoci repack --image "$T/oci:v1" "$T/u" >/dev/null || fail "umoci repack"
umoci config --image "$T/oci:v1" --config.env IMGVAR=fromimage --config.env PATH=/bin \
	--config.workingdir /home/user \
	--config.cmd sh --config.cmd -c --config.cmd 'echo image-env=$IMGVAR cwd=$(pwd); exec sleep 100' \
	>/dev/null || fail "umoci config"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$T/policy.json"
timeout 120 skopeo --policy "$T/policy.json" copy -q --dest-tls-verify=false "oci:$T/oci:v1" \
	"docker://$R/ctimg:v1" || fail "skopeo push"
timeout 120 "$BERTH" pull "$R/ctimg:v1" >/dev/null 2>&1 || fail "berth pull failed"

cat > "$T/img1.json" <<EOF2
{"name": "img1", "image": "$R/ctimg:v1", "env": ["EXTRA=added"], "memory_mib": 64}
EOF2
"$BERTH" define "$T/img1.json" >/dev/null || fail "define from an image failed"
timeout 60 "$BERTH" start img1 >/dev/null || fail "start from an image failed"
wait_for 10 sh -c "$CTR logs img1 | grep -q image-env" || fail "no output: $($CTR logs img1)"
$CTR logs img1 | grep -q "image-env=fromimage cwd=/home/user" || fail "image Env/WorkingDir/Cmd not applied: $($CTR logs img1)"
out=$(timeout 20 "$BERTH" exec img1 -- sh -c 'echo $EXTRA $IMGVAR')
[ "$out" = "added fromimage" ] || fail "exec env: '$out'"
timeout 30 "$BERTH" destroy img1 >/dev/null || fail "destroy failed"
timeout 30 "$BERTH" undefine img1 >/dev/null || fail "undefine failed"
[ -d "$BERTH_DATA_DIR/ct/img1" ] && fail "the container's root fs was not released"
exit 0
