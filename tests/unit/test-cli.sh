#!/bin/sh
# test-cli.sh - the CLI dispatcher end to end through the real binary, with
# libvirt's in-process test driver: listing (table and JSON), filters, name
# resolution (unknown names with close matches, ambiguity), unreachable
# URIs (clear error, other backends still listed, exit 4), names with spaces,
# unicode and shell metacharacters, usage errors and exit codes.
. "$top_srcdir/tests/lib/sh-helpers.sh"
[ -x "$BERTH" ] || fail "berth binary not built"
$BERTH version | grep -q libvirt || skip "berth built without the libvirt backend"

T=test:///default
out=$BERTH_TEST_TMP/out
err=$BERTH_TEST_TMP/err

expect_rc() {	# expect_rc WANT CMD...
	want=$1; shift
	"$@" >"$out" 2>"$err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "\`$*' exited $rc, want $want; stderr: $(cat "$err")"
}

$BERTH --version | grep -q '^berth [0-9]' || fail "--version prints the version"

expect_rc 2 $BERTH lsit
grep -q "unknown command \`lsit'" "$err" || fail "unknown command is named: $(cat "$err")"
grep -q "did you mean \`list'" "$err" || fail "a close command is suggested: $(cat "$err")"

expect_rc 2 $BERTH list --bogus
grep -q "unknown option \`--bogus'" "$err" || fail "unknown option is named: $(cat "$err")"
expect_rc 2 $BERTH info
grep -q "expected NAME" "$err" || fail "missing argument is explained: $(cat "$err")"
expect_rc 0 $BERTH help list
grep -q -- "--json" "$out" || fail "help list shows the options"

expect_rc 0 $BERTH list --connect $T
grep -q '^test  *vm  *libvirt  *localhost  *running' "$out" || fail "table shows domain test running: $(cat "$out")"
expect_rc 0 $BERTH list --json --connect $T
python3 - "$out" <<'PY' || fail "JSON list has domain test running"
import json, sys
l = json.load(open(sys.argv[1]))
t = [i for i in l if i["name"] == "test"]
assert len(t) == 1 and t[0]["state"] == "running" and t[0]["kind"] == "vm" and t[0]["backend"] == "libvirt", l
PY
expect_rc 0 $BERTH list --names --state paused --connect $T
[ ! -s "$out" ] || fail "state filter excludes running domains: $(cat "$out")"
expect_rc 0 $BERTH list --names 'te*' --kind vm --connect $T
[ "$(cat "$out")" = test ] || fail "glob and kind filters: $(cat "$out")"
expect_rc 2 $BERTH list --kind banana --connect $T

expect_rc 0 $BERTH info test --connect $T
grep -q '^state: *running' "$out" || fail "info shows the state: $(cat "$out")"
expect_rc 3 $BERTH info tset --connect $T
grep -q "no instance named \`tset'; did you mean \`test'" "$err" || fail "close matches offered: $(cat "$err")"

# The same domain through two connections is ambiguous.
expect_rc 3 $BERTH info test --connect $T --connect $T
grep -q "ambiguous" "$err" || fail "ambiguity is reported: $(cat "$err")"

# An unreachable URI: clear error naming it, the rest still listed, exit 4.
bad="qemu+unix:///system?socket=$BERTH_TEST_TMP/no-such.sock"
expect_rc 4 $BERTH list --connect $T --connect "$bad"
grep -q "no-such.sock" "$err" || fail "the unreachable URI is named: $(cat "$err")"
grep -q '^test ' "$out" || fail "other connections are still listed"

# Names with spaces, unicode and shell metacharacters.
cat > "$BERTH_TEST_TMP/nodes.xml" <<'XML'
<node>
  <domain type="test"><name>web 1</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
  <domain type="test"><name>ünïcødé-vm</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
  <domain type="test"><name>$(touch PWNED);`touch PWNED2`|x&amp;</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
</node>
XML
U="test://$BERTH_TEST_TMP/nodes.xml"
cd "$BERTH_TEST_TMP" || fail "cd"
expect_rc 0 $BERTH list --json --connect "$U"
python3 - "$out" <<'PY' || fail "odd names survive listing exactly"
import json, sys
names = sorted(i["name"] for i in json.load(open(sys.argv[1])))
assert names == sorted(["web 1", "ünïcødé-vm", "$(touch PWNED);`touch PWNED2`|x&"]), names
PY
expect_rc 0 $BERTH info "web 1" --connect "$U"
expect_rc 0 $BERTH info 'ünïcødé-vm' --connect "$U"
expect_rc 0 $BERTH pause '$(touch PWNED);`touch PWNED2`|x&' --connect "$U"
grep -q "paused vm" "$out" || fail "odd name paused: $(cat "$out")"
[ ! -e PWNED ] && [ ! -e PWNED2 ] || fail "a name was executed by a shell"

expect_rc 0 $BERTH stats test --json --connect $T
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["name"]=="test" and d[0]["valid"], d' "$out" \
	|| fail "stats --json: $(cat "$out")"
expect_rc 0 $BERTH hosts --connect $T
grep -q "libvirt  *localhost  *test:///default  *connected" "$out" || fail "hosts lists the connection: $(cat "$out")"
# Close-match suggestions with long names never overflow (they used to).
python3 - "$BERTH_TEST_TMP/long.xml" <<'PY'
import sys
doms = "".join('<domain type="test"><name>zz%s%d</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>' % ("9" * 250, i) for i in range(4))
open(sys.argv[1], "w").write("<node>%s</node>" % doms)
PY
expect_rc 3 $BERTH info zz --connect "test://$BERTH_TEST_TMP/long.xml"
grep -q "no instance named \`zz'; did you mean" "$err" || fail "long close matches: $(cat "$err")"

# A name carrying a C1 control (CSI) is not passed raw to the terminal table.
printf '<node><domain type="test"><name>evil\302\23331mred</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain></node>' > "$BERTH_TEST_TMP/evil.xml"
expect_rc 0 $BERTH list --connect "test://$BERTH_TEST_TMP/evil.xml"
grep -q "evil??31mred" "$out" || fail "the control character is neutralised: $(od -c "$out" | head)"
LC_ALL=C grep -q "$(printf '\302\233')" "$out" && fail "a raw C1 control reached the output"
exit 0
