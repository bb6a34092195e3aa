#!/bin/sh
# berth-vmm(1) documents every option of --help, every control op the VMM
# serves and every exit status the code defines.
. "$top_srcdir/tests/vmm/lib.sh"
man="$top_srcdir/man/berth-vmm.1"
[ -r "$man" ] || fail "man/berth-vmm.1 is missing"
for opt in $("$BERTH_VMM" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	esc=$(echo "$opt" | sed 's/-/\\\\-/g')
	grep -q -- "$esc" "$man" || fail "option $opt is not in berth-vmm(1)"
done
start_vmm man --kernel "$(guest counter)" --memory 16
ops=$(ctl no-such-op 2>&1 | sed -n 's/.*serves \(.*\))$/\1/p' | tr -d ',')
[ -n "$ops" ] || fail "could not learn the op list from the VMM"
for op in $ops; do
	grep -q "^\.B $op\$" "$man" || fail "op $op is not documented in berth-vmm(1)"
done
ctl kill >/dev/null
for st in 0 2 4 6 8 10; do
	grep -q "^\.B $st\$" "$man" || fail "exit status $st is not documented"
	grep -q "= $st,\|=  *$st,\| $st  *[a-z]" "$top_srcdir/src/vmm/vmm.h" || fail "exit status $st not in vmm.h"
done
for ev in state exit reset panic; do
	grep -q "^\.B $ev\$" "$man" || fail "event $ev is not documented"
	grep -q "\"$ev\"" "$top_srcdir/src/vmm/main.c" "$top_srcdir/src/vmm/control.c" || fail "event $ev is not emitted by the code"
done
# The hello example runs exactly as printed, from the build tree, and leaves
# no run directory behind.
cmd=$(grep 'tests/guests/hello' "$man" | sed 's/\\-/-/g; s/^ *//')
case "$cmd" in berth-vmm\ *) ;; *) fail "no hello example in berth-vmm(1): '$cmd'";; esac
[ -f "$top_builddir/tests/guests/hello.bzImage" ] || fail "tests/guests/hello.bzImage was not built"
out=$(cd "$top_builddir" && PATH="$(dirname "$BERTH_VMM"):$PATH" timeout 30 sh -c "$cmd" </dev/null 2>"$T/example.err")
st=$?
[ "$st" -eq 1 ] || fail "'$cmd' exited $st, want 1 (guest exit 0): $(cat "$T/example.err")"
case "$out" in *"Hello from berth guest"*) ;; *) fail "'$cmd' printed '$out'";; esac
left=$(ls "$BERTH_RUN_DIR/vm" 2>/dev/null)
[ -z "$left" ] || fail "the example left run directories behind: $left"
echo "ok: options, ops, events and exit statuses documented; the example runs"
