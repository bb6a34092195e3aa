#!/bin/sh
# man-examples.sh: every example of berth-lua(7) (between the
# `example-begin' and `example-end' marks) runs as printed against
# libvirt's test driver, exits 0 and prints what its `expect:' comments
# say (Perl regexes, each matching a line of the output).
. "$top_srcdir/tests/lib/sh-helpers.sh"
man=$top_srcdir/man/berth-lua.7
dir=$BERTH_TEST_TMP/examples
mkdir -p "$dir"
awk -v dir="$dir" '
/^\.\\" example-begin/ { n++; inside = 1; next }
/^\.\\" example-end/ { inside = 0; next }
inside && /^\.\\" expect: / { sub(/^\.\\" expect: /, ""); print > (dir "/example" n ".expect"); next }
inside && /^\.E[XE]/ { next }
inside { line = $0; gsub(/\\-/, "-", line); gsub(/\\\(dq/, "\"", line); gsub(/\\e/, "\\", line)
         print line > (dir "/example" n ".lua") }
END { print n > (dir "/count") }' "$man"
count=$(cat "$dir/count")
[ "$count" -ge 5 ] || fail "found only $count examples in berth-lua.7"
i=1
while [ $i -le "$count" ]; do
	f=$dir/example$i.lua
	timeout 30 "$BERTH" --connect test:///default run "$f" >"$dir/out$i" 2>&1 ||
		{ cat "$f"; fail "example $i of berth-lua.7 failed: $(cat "$dir/out$i")"; }
	echo "example $i:"; sed 's/^/  /' "$dir/out$i"
	[ -s "$dir/example$i.expect" ] || fail "example $i of berth-lua.7 has no expect: lines"
	while IFS= read -r re; do
		grep -qP -- "$re" "$dir/out$i" || fail "example $i of berth-lua.7 printed no line matching /$re/"
	done <"$dir/example$i.expect"
	i=$((i + 1))
done
grep -q "test is now paused" "$dir"/out* || fail "the events example printed no event"
echo "berth-lua.7: $count examples ran as printed"
