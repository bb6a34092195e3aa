#!/bin/sh
# tests/bench/lua.sh - the Lua API's speed: a batch script that creates,
# starts, stops and deletes 100 containers end to end on berth's own
# container backend (berth-ctr, a busybox bundle, as root), the same
# through the command line for comparison, calls per second of
# berth.list() and inst:stats() over 1,000 instances of a libvirt
# test-driver host (XML), and (when podman runs here) the batch of 100
# through the Podman plugin.  Prints a Markdown section naming the command
# behind each number; never fails on a slow number.
BERTH=${BERTH:-$(pwd)/berth}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
BERTH_CTR=${BERTH_CTR:-$top_builddir/berth-ctr}
[ -x "$BERTH" ] || { echo "## Lua API"; echo; echo "SKIP: no $BERTH"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-lua.XXXXXX") || exit 1
svc=
cleanup() {
	[ -n "$svc" ] && kill $svc 2>/dev/null && wait $svc 2>/dev/null
	for pid in $(pgrep -f -- "-b $tmp/podman/storage/" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	if [ -x "$BERTH_CTR" ]; then
		for id in $("$BERTH_CTR" --root "$tmp/run/ct" list -q 2>/dev/null); do
			timeout 20 "$BERTH_CTR" --root "$tmp/run/ct" delete -f "$id" >/dev/null 2>&1
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/run" "$tmp/data" "$tmp/config"
export BERTH_RUN_DIR="$tmp/run" BERTH_DATA_DIR="$tmp/data" BERTH_CONFIG_DIR="$tmp/config"
export BERTH_NO_DEFAULT_LIBVIRT=1 BERTH_SRC_LUA="$top_srcdir/lua" BERTH_PLUGIN_PATH= BERTH_CTR
awk -v n=1000 'BEGIN {
	print "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>16777216</memory>"
	for (i = 1; i <= n; i++)
		printf "<domain type=\"test\"><name>vm-%04d</name><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n", i
	print "</node>" }' > "$tmp/node.xml"

echo "## Lua API (tests/bench/lua.sh)"
echo

# ---- 100 containers on berth-ctr, end to end.
echo "### A batch of 100 containers on berth's container backend"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: berth's container backend needs root."
elif [ ! -x "$BERTH_CTR" ]; then
	echo "SKIP: berth-ctr is not built ($BERTH_CTR)."
elif [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	echo "SKIP: needs a static /bin/busybox (busybox-static)."
else
	# The tests' bundle builder: a busybox rootfs whose sh exits on SIGTERM.
	BERTH_TEST_TMP=$tmp
	. "$top_srcdir/tests/ctr/lib.sh" >/dev/null 2>&1
	trap cleanup EXIT INT TERM
	C_ARGS='["sh", "-c", "trap \"exit 0\" TERM; sleep 600 & wait"]' make_bundle "$tmp/bundle"
	cat >"$tmp/batch-100.lua" <<'LUA'
-- batch-100.lua BUNDLE: create, start, stop (graceful) and delete 100
-- containers on berth's container backend, one phase after the other.
local bundle = assert(arg[1])
local n = 100
local insts, names = {}, {}
for i = 1, n do names[i] = string.format("bench-%03d", i) end
local total = 0
local function phase(label, fn)
  local t0, bad, first = berth.clock(), 0, nil
  for i = 1, n do
    local ok, err = fn(i)
    if not ok then bad = bad + 1; first = first or (names[i] .. ": " .. tostring(err)) end
  end
  local dt = berth.clock() - t0
  total = total + dt
  print(string.format("| %s | %.2f s | %.1f ms | %d%s |", label, dt, dt * 1000 / n, bad,
    first and (" (" .. first .. ")") or ""))
end
print("| phase | time | per container | failed |")
print("|---|---|---|---|")
phase("create 100 (`berth.create{backend = \"container\", bundle = ...}`)", function(i)
  local err
  insts[i], err = berth.create { backend = "container", name = names[i], bundle = bundle, network = "none" }
  return insts[i], err
end)
phase("start 100 (`inst:start()`)", function(i) return insts[i] and insts[i]:start() end)
local running = #berth.list { backend = "container", state = "running", name = "bench-*" }
phase("stop 100 (`inst:shutdown(10)`: SIGTERM, the container exits)", function(i)
  return insts[i] and insts[i]:shutdown(10)
end)
local forced = 0
for i = 1, n do if insts[i] and insts[i].reason ~= "exit 0" then forced = forced + 1 end end
phase("delete 100 (`inst:undefine()`)", function(i) return insts[i] and insts[i]:undefine() end)
print(string.format("| **end to end** | **%.2f s** | %.1f ms | |", total, total * 1000 / n))
print()
print(string.format("Running after the start phase: %d of %d; stopped by their own exit: %d (forced: %d).",
  running, n, n - forced, forced))
LUA
	echo "Command: \`berth run batch-100.lua BUNDLE\` as root (the script is in tests/bench/lua.sh;"
	echo "BUNDLE: static busybox running \`sh -c 'trap \"exit 0\" TERM; sleep 600 & wait'\`, network none)."
	echo "Each phase runs over all 100 before the next starts."
	echo
	timeout 600 "$BERTH" run "$tmp/batch-100.lua" "$tmp/bundle" 2>"$tmp/batch.err" ||
		echo "(batch-100.lua exited $?: $(tail -n 3 "$tmp/batch.err" | tr '\n' ' '))"
	echo
	# The same through the command line: one berth process per operation.
	for i in $(seq 1 100); do
		printf '{"name": "cli-%03d", "bundle": "%s", "network": "none"}\n' "$i" "$tmp/bundle" >"$tmp/cli-$i.json"
	done
	ns() { date +%s%N; }
	t0=$(ns); bad=0
	for i in $(seq 1 100); do timeout 30 "$BERTH" define "$tmp/cli-$i.json" >/dev/null 2>&1 || bad=$((bad + 1)); done
	t1=$(ns)
	for i in $(seq 1 100); do timeout 30 "$BERTH" start "$(printf cli-%03d "$i")" >/dev/null 2>&1 || bad=$((bad + 1)); done
	t2=$(ns)
	for i in $(seq 1 100); do timeout 30 "$BERTH" shutdown --timeout 10 "$(printf cli-%03d "$i")" >/dev/null 2>&1 || bad=$((bad + 1)); done
	t3=$(ns)
	for i in $(seq 1 100); do timeout 30 "$BERTH" undefine "$(printf cli-%03d "$i")" >/dev/null 2>&1 || bad=$((bad + 1)); done
	t4=$(ns)
	s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f s", (b - a) / 1e9 }'; }
	echo "The same 100 through the command line, one \`berth\` process per operation"
	echo "(\`berth define ct.json\`, \`berth start\`, \`berth shutdown --timeout 10\`, \`berth undefine\` in a shell loop):"
	echo "define $(s "$t0" "$t1"), start $(s "$t1" "$t2"), stop $(s "$t2" "$t3"), delete $(s "$t3" "$t4"),"
	echo "end to end **$(s "$t0" "$t4")**, $bad failed."
fi
echo

# ---- calls per second.
echo "### Calls per second on 1,000 instances"
echo
echo "Command: \`berth --connect test://node.xml run -e CODE\` (node.xml: libvirt's test driver with"
echo "1,000 domains, written by tests/bench/lua.sh; each call repeated for 1-3 s):"
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
	echo "### A batch of 100 Podman containers through the podman plugin"
	echo
	echo "Command: \`BERTH_PODMAN_SOCKET=p.sock berth run -e CODE\` (tests/bench/lua.sh; \`berth.parallel\`, max 8,"
	echo "each phase over all 100 before the next):"
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
	echo "### A batch of 100 libvirt test-driver domains"
	echo
	echo "Command: \`berth --connect test:///default run -e CODE\` (tests/bench/lua.sh; podman is not usable here):"
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
