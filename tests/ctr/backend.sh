#!/bin/sh
# The container backend through the berth front-end: define from a bundle,
# start, list, info, exec, stats, console; the monitor survives a SIGKILL of
# the front-end and the container is found and re-attached by a new berth
# (scrollback included); stop, start again from the definition, undefine.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
[ -x "$BERTH" ] || skip "berth not built"
cleanup() {
	[ -n "$conpid" ] && kill -9 "$conpid" 2>/dev/null
	"$BERTH" destroy web1 >/dev/null 2>&1
	ctr_cleanup_all
}
B=$BERTH_TEST_TMP/bundle
C_ARGS='["sh", "-c", "echo early-line; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done"]' \
	make_bundle "$B"
cat > "$BERTH_TEST_TMP/web1.json" <<EOF2
{"name": "web1", "bundle": "$B", "memory_mib": 64, "cpus": 1, "pids_max": 50,
 "network": "none", "env": ["FOO=bar"], "terminal": false}
EOF2
"$BERTH" define "$BERTH_TEST_TMP/web1.json" || fail "define failed"
"$BERTH" list | grep -q "web1.*ct.*container.*stopped" || fail "defined container not listed: $("$BERTH" list)"
timeout 30 "$BERTH" start web1 || fail "start failed"
"$BERTH" list | grep -q "web1.*running" || fail "not running after start: $("$BERTH" list)"

# Limits from the definition reached the cgroup.
$CTR stats web1 | grep -q '"memory_limit":67108864' || fail "memory_mib not applied: $($CTR stats web1)"
$CTR stats web1 | grep -q '"pids_limit":50' || fail "pids_max not applied: $($CTR stats web1)"

# exec: status and environment.
out=$(timeout 20 "$BERTH" exec web1 -- sh -c 'echo $FOO; hostname; exit 4'); rc=$?
[ "$rc" -eq 4 ] || fail "berth exec status: expected 4, got $rc"
[ "$out" = "bar
web1" ] || fail "berth exec output: '$out'"

# stats and info.
timeout 20 "$BERTH" stats --json web1 > "$BERTH_TEST_TMP/stats" 2>&1 || fail "stats failed: $(cat "$BERTH_TEST_TMP/stats")"
grep -q web1 "$BERTH_TEST_TMP/stats" || fail "stats lack web1: $(cat "$BERTH_TEST_TMP/stats")"
"$BERTH" info web1 | grep -q "oci_state.status: *running" || fail "info: $("$BERTH" info web1)"

# A front-end attached to the console is killed with SIGKILL.
mon=$($CTR state web1 | sed -n 's/.*"monitorPid":\([0-9]*\).*/\1/p')
[ -n "$mon" ] || fail "no monitor"
"$BERTH" console --no-stdin --quiet web1 > "$BERTH_TEST_TMP/con1" 2>&1 &
conpid=$!
sleep 1
kill -9 "$conpid"
wait "$conpid" 2>/dev/null
conpid=
grep -q "tick-" "$BERTH_TEST_TMP/con1" || fail "the first console saw no output: $(cat "$BERTH_TEST_TMP/con1")"
sleep 1
kill -0 "$mon" || fail "the monitor died with the front-end"
$CTR state web1 | grep -q '"status":"running"' || fail "the container stopped with the front-end"
# A new front-end finds it and re-attaches: the scrollback comes first.
"$BERTH" list | grep -q "web1.*running" || fail "not rediscovered: $("$BERTH" list)"
out=$(timeout 10 "$BERTH" console --no-stdin --quiet --timeout 1 web1 2>&1)
echo "$out" | grep -q "early-line" || fail "scrollback not replayed on re-attach: $out"
last=$(echo "$out" | grep -o 'tick-[0-9]*' | tail -1 | cut -d- -f2)
[ "${last:-0}" -gt 8 ] || fail "re-attached console does not show live output: $out"

# stop, then start again from the definition.
timeout 30 "$BERTH" stop --timeout 2 web1 || fail "stop failed"
"$BERTH" list | grep -q "web1.*stopped" || fail "not stopped: $("$BERTH" list)"
timeout 30 "$BERTH" start web1 || fail "second start failed"
"$BERTH" list | grep -q "web1.*running" || fail "not running after the second start"
timeout 30 "$BERTH" destroy web1 || fail "destroy failed"
timeout 30 "$BERTH" undefine web1 || fail "undefine failed"
"$BERTH" list | grep -q web1 && fail "web1 still listed after undefine"
[ -d "$BERTH_DATA_DIR/ct/web1" ] && fail "definition left behind"
exit 0
