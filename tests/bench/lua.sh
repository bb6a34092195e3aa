#!/bin/sh
# tests/bench/lua.sh - the Lua API's speed: calls per second of
# berth.list() and inst:stats() over 1,000 instances of a libvirt
# test-driver host (XML), and a batch create/start/stop/delete of 100
# containers (Podman plugin when podman runs here, else 100 test-driver
# domains).  Prints a Markdown section; never fails on a slow number.
BERTH=${BERTH:-$(pwd)/berth}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
[ -x "$BERTH" ] || { echo "## Lua API"; echo; echo "SKIP: no $BERTH"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-lua.XXXXXX") || exit 1
svc=
cleanup() {
	[ -n "$svc" ] && kill $svc 2>/dev/null && wait $svc 2>/dev/null
	for pid in $(pgrep -f -- "-b $tmp/podman/storage/" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/run" "$tmp/data" "$tmp/config"
export BERTH_RUN_DIR="$tmp/run" BERTH_DATA_DIR="$tmp/data" BERTH_CONFIG_DIR="$tmp/config"
export BERTH_NO_DEFAULT_LIBVIRT=1 BERTH_SRC_LUA="$top_srcdir/lua" BERTH_PLUGIN_PATH=
awk -v n=1000 'BEGIN {
	print "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>16777216</memory>"
	for (i = 1; i <= n; i++)
		printf "<domain type=\"test\"><name>vm-%04d</name><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n", i
	print "</node>" }' > "$tmp/node.xml"

echo "## Lua API (tests/bench/lua.sh)"
echo
echo "\`berth --connect test://node.xml run\` with 1,000 test-driver domains:"
echo
"$BERTH" --connect "test://$tmp/node.xml" run -e '
local function rate(name, seconds, fn)
  local n, t0 = 0, berth.clock()
  repeat fn(); n = n + 1 until berth.clock() - t0 >= seconds
  local dt = berth.clock() - t0
  print(string.format("- %s: %.1f calls/s (%d calls in %.2f s)", name, n / dt, n, dt))
end
local all = berth.list()
print(string.format("- instances listed: %d", #all))
rate("berth.list() of 1,000 instances", 3, function() berth.list() end)
rate("berth.list{name = \"vm-00*\"} (glob filter)", 3, function() berth.list { name = "vm-00*" } end)
local one = all[1]
rate("inst:stats() of one instance", 2, function() one:stats() end)
local t0 = berth.clock()
local st = berth.stats(all)
print(string.format("- berth.stats(all 1,000), first call (two samples 250 ms apart): %.2f s", berth.clock() - t0))
rate("berth.stats(all 1,000) (one batched sample)", 3, function() berth.stats(all) end)
rate("berth.get(name) among 1,000", 2, function() berth.get("vm-0500") end)
rate("field access (inst.name, inst.state)", 1, function() local _ = one.name .. one.state end)
'
echo

# A batch of 100: Podman containers when podman works here.
plugin=$top_builddir/plugins/.libs/podman.so
if [ "$(id -u)" -eq 0 ] && command -v podman >/dev/null && [ -f "$plugin" ] && command -v busybox >/dev/null; then
	d=$tmp/podman
	mkdir -p "$d/rootfs/bin"
	printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$d/containers.conf"
	export CONTAINERS_CONF="$d/containers.conf"
	pargs="--root $d/storage --runroot $d/runroot --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file --tmpdir $d/tmp"
	P() { podman $pargs "$@"; }
	cp "$(command -v busybox)" "$d/rootfs/bin/busybox"
	ln -s busybox "$d/rootfs/bin/sleep"
	tar -C "$d/rootfs" -cf "$d/rootfs.tar" . && P import "$d/rootfs.tar" localhost/bench:1 >/dev/null 2>&1
	podman $pargs system service --time=0 "unix://$d/p.sock" >/dev/null 2>&1 &
	svc=$!
	i=0; while [ ! -S "$d/p.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo "Batch of 100 Podman containers through the podman plugin (\`berth.parallel\`, max 8):"
	echo
	BERTH_PODMAN_SOCKET="$d/p.sock" BERTH_PLUGIN_PATH=$(dirname "$plugin") "$BERTH" run -e '
local names = {}
for i = 1, 100 do names[i] = string.format("bench-%03d", i) end
local function phase(label, fn)
  local t0 = berth.clock()
  local res, err = berth.parallel(names, fn, { max = 8 })
  local bad = 0
  for _ in pairs(err) do bad = bad + 1 end
  print(string.format("- %s: %.2f s (%d failed)", label, berth.clock() - t0, bad))
end
local insts = {}
phase("create 100", function(n, i)
  insts[i] = assert(berth.create { backend = "podman", name = n, image = "localhost/bench:1",
    command = { "sleep", "600" }, netns = { nsmode = "none" } })
end)
phase("start 100", function(_, i) assert(insts[i]:start()) end)
phase("stop 100 (SIGKILL)", function(_, i) assert(insts[i]:destroy()) end)
phase("delete 100", function(_, i) assert(insts[i]:undefine()) end)
'
	P rm -af >/dev/null 2>&1
else
	echo "Batch of 100 test-driver domains (podman is not usable here):"
	echo
	"$BERTH" --connect test:///default run -e '
local names = {}
for i = 1, 100 do names[i] = string.format("bench-%03d", i) end
local t0 = berth.clock()
local insts = {}
berth.parallel(names, function(n, i)
  insts[i] = assert(berth.create { backend = "libvirt", xml = "<domain type=\"test\"><name>" .. n ..
    "</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>" })
  assert(insts[i]:start()); assert(insts[i]:destroy()); assert(insts[i]:undefine())
end)
print(string.format("- define/start/destroy/undefine 100: %.2f s", berth.clock() - t0))
'
fi
