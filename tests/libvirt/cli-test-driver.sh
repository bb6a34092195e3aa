#!/bin/sh
# cli-test-driver.sh - the libvirt backend through berth's CLI, against
# libvirt's in-process test driver (test:///default).
# The test driver lives inside each berth process, so its state starts anew
# with every command: each check here is about one command's behaviour.
. "$top_srcdir/tests/lib/sh-helpers.sh"

[ -x "$BERTH" ] || skip "berth is not built ($BERTH)"
"$BERTH" --help >/dev/null 2>&1 || skip "berth --help fails: the CLI is not ready"

U=test:///default
OUT="$BERTH_TEST_TMP/out"
ERR="$BERTH_TEST_TMP/err"

# run EXPECTED_EXIT CMD...: run berth (bounded), keep stdout/stderr.
run() {
	want=$1
	shift
	timeout 30 "$BERTH" "$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "---- stdout"; cat "$OUT"; echo "---- stderr"; cat "$ERR"
		fail "berth $*: exit $got, want $want"
	fi
}

# has FILE TEXT WHAT: the file contains TEXT (fixed string).
has() {
	grep -F -q -- "$2" "$1" || { echo "---- $1"; cat "$1"; fail "$3: no \`$2'"; }
}

# list --json shows the test driver's domain, running, as a libvirt VM.
run 0 list --json --connect "$U"
has "$OUT" '"name": "test"' "list --json"
has "$OUT" '"state": "running"' "list --json"
has "$OUT" '"backend": "libvirt"' "list --json"
has "$OUT" '"host": "localhost"' "list --json"
run 0 list --names --state running --connect "$U"
[ "$(cat "$OUT")" = test ] || fail "list --names --state running: got \`$(cat "$OUT")', want \`test'"
run 0 list --names --state paused --connect "$U"
[ -s "$OUT" ] && fail "list --state paused shows $(cat "$OUT") though nothing is paused"

# Each lifecycle command works on a fresh test driver.
run 0 pause test --connect "$U"
run 0 shutdown test --timeout 5 --connect "$U"
run 0 destroy test --connect "$U"
run 0 kill test --connect "$U"
# test is running, so these are state errors naming the domain.
run 1 resume test --connect "$U"
has "$ERR" "not paused" "resume of a running domain"
has "$ERR" "test" "resume of a running domain"
run 1 start test --connect "$U"
has "$ERR" "test" "start of a running domain"

# Unknown names are exit 3.
run 3 pause no-such-domain --connect "$U"
has "$ERR" "no-such-domain" "pause of an unknown domain"

# info --json carries libvirt's details.
run 0 info test --json --connect "$U"
has "$OUT" '"os_type": "hvm"' "info --json"
has "$OUT" '"persistent": true' "info --json"
has "$OUT" '"disks": [' "info --json"
has "$OUT" '"interfaces": [' "info --json"

# stats gives a valid sample for the running domain.
run 0 stats --json test --connect "$U"
has "$OUT" '"valid": true' "stats --json"
has "$OUT" '"vcpus": 2' "stats --json"

# hosts shows the connection and the host's capacity.
run 0 hosts --json --connect "$U"
has "$OUT" '"uri": "test:///default"' "hosts --json"
has "$OUT" '"cpus": 16' "hosts --json"

# define from XML, with a name that a shell would love to run.
NAME="vm with spaces; \$(touch pwned) \`id\` ünï ☃"
cat >"$BERTH_TEST_TMP/dom.xml" <<EOF
<domain type='test'><name>vm with spaces; \$(touch pwned) \`id\` ünï ☃</name>
<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
EOF
(cd "$BERTH_TEST_TMP" && timeout 30 "$BERTH" define --backend libvirt --host "$U" dom.xml --connect "$U") \
	>"$OUT" 2>"$ERR" || { cat "$OUT" "$ERR"; fail "define from XML with an awkward name failed"; }
[ -e "$BERTH_TEST_TMP/pwned" ] && fail "a domain name was run by a shell"

# An unreachable URI: a clear error naming it, quickly, and the other
# connection still answers (exit 4: partial).
start=$(date +%s)
run 4 list --names --connect "$U" --connect test:///nonexistent/berth.xml
[ $(( $(date +%s) - start )) -le 10 ] || fail "an unreachable URI took more than 10 s"
has "$ERR" "test:///nonexistent/berth.xml" "unreachable URI error"
has "$OUT" "test" "list with one unreachable URI"
run 4 list --names --connect "qemu+unix:///system?socket=$BERTH_TEST_TMP/no-such-sock"
has "$ERR" "$BERTH_TEST_TMP/no-such-sock" "unreachable socket error"

# Filters by host: a glob that matches lists the domain, one that does not
# lists nothing (and is not an error).
run 0 list --names --host 'local*' --connect "$U"
has "$OUT" "test" "list --host local*"
run 0 list --names --host 'elsewhere*' --connect "$U"
[ -s "$OUT" ] && fail "list --host elsewhere* listed: $(cat "$OUT")"

# stats --watch: a header and a row per round, --count rounds, then exit 0,
# at about --interval apart.
start=$(date +%s)
run 0 stats --watch --interval 1 --count 3 test --connect "$U"
[ "$(grep -c '^NAME ' "$OUT")" -eq 3 ] || fail "stats --watch --count 3: $(grep -c '^NAME ' "$OUT") rounds"
[ "$(grep -c '^test ' "$OUT")" -eq 3 ] || fail "stats --watch --count 3: not a row per round"
[ $(( $(date +%s) - start )) -ge 2 ] || fail "stats --watch --interval 1 did not wait between rounds"
run 0 stats --json --count 2 test --connect "$U"
has "$OUT" '"name": "test"' "stats --json --count 2"

# The test driver has no consoles: exit 5 (not supported) with the reason.
run 5 console test --no-stdin --timeout 2 --connect "$U"
has "$ERR" "console" "console on the test driver"

echo "ok: the CLI drives the libvirt test driver"
exit 0
