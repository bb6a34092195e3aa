#!/bin/sh
# examples.sh: the scripts in lua/examples run as printed against a libvirt
# test-driver host described in XML (some domains stopped, some running).
. "$top_srcdir/tests/lib/sh-helpers.sh"
ex=$top_srcdir/lua/examples
node=$BERTH_TEST_TMP/node.xml
{
	echo "<node><cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets>"
	echo "<cores>4</cores><threads>1</threads></cpu><memory>8388608</memory>"
	for n in 1 2 3; do
		echo "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
		echo "<name>web$n</name><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
		echo "<test:runstate>5</test:runstate></domain>"
	done
	echo "<domain type='test'><name>db1</name><memory>524288</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>"
	echo "</node>"
} >"$node"
out=$BERTH_TEST_TMP/out

# start-stopped.lua: the three stopped VMs start.
timeout 60 "$BERTH" --connect "test://$node" run "$ex/start-stopped.lua" localhost >"$out" 2>&1 ||
	fail "start-stopped.lua failed: $(cat "$out")"
cat "$out"
for n in 1 2 3; do grep -qx "started web$n" "$out" || fail "web$n was not started"; done
grep -q "db1" "$out" && fail "db1 (running) was touched"
timeout 60 "$BERTH" --connect "test://$node" run "$ex/start-stopped.lua" nosuchhost >"$out" 2>&1 ||
	fail "start-stopped.lua on an unknown host failed: $(cat "$out")"
grep -qx "nothing to start on nosuchhost" "$out" || fail "start-stopped.lua nosuchhost: $(cat "$out")"

# drain-host.lua: with one host there is nowhere to go; --dry-run --shutdown
# reports what it would shut down and exits 0.
timeout 60 "$BERTH" --connect "test://$node" run -- "$ex/drain-host.lua" localhost --shutdown --dry-run >"$out" 2>&1 ||
	fail "drain-host.lua --dry-run failed: $(cat "$out")"
grep -q "db1: no host with room for it; shutting down" "$out" || fail "drain-host.lua: $(cat "$out")"
timeout 60 "$BERTH" --connect "test://$node" run "$ex/drain-host.lua" >"$out" 2>&1
[ $? -eq 2 ] || fail "drain-host.lua without a host should exit 2"

# rolling-restart.lua: the test driver has no console, so the health check
# fails on the first VM and the rollout stops there (exit 1).
timeout 60 "$BERTH" --connect "test://$node" run "$ex/rolling-restart.lua" 'db*' 'login:' >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 1 ] || fail "rolling-restart.lua: exit $rc, want 1"
grep -q "restarting 1 instance(s), 1 at a time" "$out" || fail "rolling-restart.lua did not select db1"
grep -q "db1: health check: " "$out" || fail "rolling-restart.lua: no health-check failure reported"
echo "examples: ran as printed"

# From the build tree without the test suite's paths: berth finds lua/ and
# plugins/ of its source tree itself, as a user trying the examples sees it.
env -u BERTH_SRC_LUA -u BERTH_PLUGIN_PATH -u BERTH_LUA_PATH \
	timeout 60 "$BERTH" --connect "test://$node" run "$ex/start-stopped.lua" nosuchhost >"$out" 2>&1 ||
	fail "start-stopped.lua without BERTH_SRC_LUA failed: $(cat "$out")"
grep -qx "nothing to start on nosuchhost" "$out" || fail "start-stopped.lua without BERTH_SRC_LUA: $(cat "$out")"
env -u BERTH_SRC_LUA -u BERTH_PLUGIN_PATH -u BERTH_LUA_PATH \
	timeout 60 "$BERTH" --connect "test://$node" help >"$out" 2>&1 || fail "berth help failed: $(cat "$out")"
grep -q "balance" "$out" || fail "the bundled plugins' commands are not found from the build tree: $(cat "$out")"
