#!/bin/sh
# Invalid config.json fields are refused with the JSON path of the problem;
# unknown fields are ignored.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"
good=$(cat "$B/config.json")

# expect_refused SED-EXPRESSION EXPECTED-MESSAGE
expect_refused() {
	printf '%s\n' "$good" | sed "$1" > "$B/config.json"
	out=$(timeout 20 $CTR run -b "$B" bad 2>&1) && fail "accepted a config edited with '$1'"
	echo "$out" | grep -qF "config.json: $2" || fail "for '$1': expected 'config.json: $2', got: $out"
}
expect_refused 's/"uid": 0/"uid": "zero"/' 'process.user.uid: expected an integer, got a string'
expect_refused 's/"uid": 0/"uid": -1/' 'process.user.uid: -1 is out of range'
expect_refused 's/"gid": 0/"gid": 1.5/' 'process.user.gid: expected an integer, got a number'
expect_refused 's/"terminal": false/"terminal": "no"/' 'process.terminal: expected a boolean'
expect_refused 's/"args": \[[^]]*\]/"args": []/' 'process.args: required'
expect_refused 's/"args": \[[^]]*\]/"args": ["sh", 5]/' 'process.args[1]: expected a string'
expect_refused 's/"PATH=\/bin:\/usr\/bin"/"NOEQUALS"/' 'process.env[0]: expected NAME=VALUE'
expect_refused 's/"cwd": "\/"/"cwd": "rel"/' 'process.cwd: must be an absolute path'
expect_refused 's/"type": "RLIMIT_NOFILE"/"type": "RLIMIT_BOGUS"/' 'process.rlimits[0].type: unknown resource limit'
expect_refused 's/"destination": "\/proc"/"destination": "proc"/' 'mounts[0].destination: must be an absolute path'
expect_refused 's/"destination": "\/sys", "type": "sysfs"/"destination": "\/sys", "type": 7/' 'mounts[5].type: expected a string'
expect_refused 's/{"type": "ipc"}/{"type": "bogus"}/' 'linux.namespaces[1].type: unknown namespace type "bogus"'
expect_refused 's/{"type": "ipc"}/{"type": "pid"}/' 'linux.namespaces[1].type: namespace "pid" given twice'
expect_refused 's/"resources": {}/"resources": {"memory": {"limit": "1G"}}/' 'linux.resources.memory.limit: expected an integer'
expect_refused 's/"resources": {}/"resources": {"cpu": {"cpus": "0-1;rm"}}/' 'linux.resources.cpu.cpus: expected a CPU list'
expect_refused 's/"resources": {}/"resources": {"pids": {"limit": 0}}/' 'linux.resources.pids.limit: must be positive'
expect_refused 's/"maskedPaths": \[/"maskedPaths": [ 3,/' 'linux.maskedPaths[0]: expected a string'
expect_refused 's/"readonly": false/"readonly": 0/' 'root.readonly: expected a boolean'
expect_refused 's/"root": {[^}]*}/"root": {}/' 'root.path: required'
expect_refused 's/"hostname": "berth-test"/"hostname": ["x"]/' 'hostname: expected a string'
expect_refused 's/"process": {/"process": 5, "unused": {/' 'process: expected an object, got an integer'
expect_refused '1s/{/[/' 'not valid JSON'
expect_refused 's/{"type": "ipc"}, //; s/{"type": "uts"}, //' 'hostname: needs a new uts namespace'
expect_refused 's/"resources": {}/"resources": {}, "seccomp": {"defaultAction": "SCMP_ACT_NOPE"}/' 'linux.seccomp.defaultAction: unknown seccomp action'
expect_refused 's/"resources": {}/"resources": {}, "sysctl": {"kernel.x": 1}/' 'linux.sysctl.kernel.x: expected a string'

# Unknown fields are ignored.
printf '%s\n' "$good" | sed 's/"ociVersion": "1.0.2",/"ociVersion": "1.0.2", "someFutureField": {"a": [1, 2]},/' > "$B/config.json"
timeout 20 $CTR run -b "$B" unknown1 || fail "an unknown field was not ignored"
# A namespaced sysctl is applied; a host-wide one is refused.
printf '%s\n' "$good" | sed 's/"resources": {}/"resources": {}, "sysctl": {"net.ipv4.ip_forward": "1"}/; s/"args": \[[^]]*\]/"args": ["cat", "\/proc\/sys\/net\/ipv4\/ip_forward"]/' > "$B/config.json"
out=$(timeout 20 $CTR run -b "$B" sysctl1) || fail "sysctl run failed: $out"
[ "$out" = 1 ] || fail "sysctl net.ipv4.ip_forward: expected 1 inside, got '$out'"
printf '%s\n' "$good" | sed 's/"resources": {}/"resources": {}, "sysctl": {"vm.swappiness": "10"}/' > "$B/config.json"
out=$(timeout 20 $CTR run -b "$B" sysctl2 2>&1) && fail "a host-wide sysctl was accepted"
echo "$out" | grep -q "vm.swappiness: not namespaced" || fail "host-wide sysctl message: $out"
exit 0
