#!/bin/sh
# tests/bench/vmm.sh - berth-vmm start-up and footprint: exec to the hello
# guest's first serial byte and to its exit (median of 20), the VMM's RSS with
# a 128 MiB guest, and VMs created and torn down per second (sequential).
# Prints a Markdown section; never fails on a slow number.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
BERTH_VMM=${BERTH_VMM:-$top_builddir/berth-vmm}
MKGUEST=$top_builddir/tests/vmm/mkguest
VMMCTL=$top_builddir/tests/vmm/vmmctl
echo "## berth-vmm (tests/bench/vmm.sh)"
echo
if [ ! -x "$BERTH_VMM" ] || [ ! -x "$MKGUEST" ] || [ ! -x "$VMMCTL" ]; then
	echo "SKIP: build berth-vmm and the test helpers first (make check builds tests/vmm/mkguest)"
	exit 0
fi
if [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm is not usable here"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-vmm.XXXXXX") || exit 1
trap 'kill $cpid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
"$MKGUEST" hello "$tmp/hello" && "$MKGUEST" counter "$tmp/counter" || exit 1

ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$tmp/first"; : >"$tmp/exit"
for i in $(seq 1 20); do
	t0=$(ns)
	"$BERTH_VMM" --name b$i --run-dir "$tmp/r$i" --memory 128 --kernel "$tmp/hello" --console stdio \
		2>/dev/null </dev/null | { head -c 1 >/dev/null; echo $(( ($(ns) - t0) / 1000 )) >>"$tmp/first"; cat >/dev/null; }
	echo $(( ($(ns) - t0) / 1000 )) >>"$tmp/exit"
done
first=$(median <"$tmp/first")
exitt=$(median <"$tmp/exit")

"$BERTH_VMM" --name rss --run-dir "$tmp/rss" --memory 128 --kernel "$tmp/counter" 2>/dev/null </dev/null &
cpid=$!
i=0; while [ ! -S "$tmp/rss/ctl.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 1
stats=$("$VMMCTL" call "$tmp/rss/ctl.sock" stats)
rss=$(echo "$stats" | sed -n 's/.*"vmm_rss_bytes":\([0-9]*\).*/\1/p')
res=$(echo "$stats" | sed -n 's/.*"memory_resident_bytes":\([0-9]*\).*/\1/p')
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null

n=0; t0=$(ns); end=$((t0 + 5000000000))
while [ "$(ns)" -lt $end ]; do
	"$BERTH_VMM" --name c$n --run-dir "$tmp/c" --memory 64 --kernel "$tmp/hello" </dev/null >/dev/null 2>&1
	n=$((n + 1))
done
rate=$(awk -v n=$n -v t=$(( $(ns) - t0 )) 'BEGIN { printf "%.1f", n / (t / 1e9) }')

echo "Guest: the inline \`hello\` test guest (bzImage, 64-bit entry; prints one line, exits via port 0x501)."
echo "Host /dev/kvm here is the nested kvm_pvm: every exit is slow, so these are upper bounds."
echo
echo "| measure | value |"
echo "|---|---|"
echo "| exec to first serial byte (median of 20, 128 MiB guest) | $((first / 1000)).$(( (first % 1000) / 100 )) ms |"
echo "| exec to exit (median of 20) | $((exitt / 1000)).$(( (exitt % 1000) / 100 )) ms |"
echo "| VMM RSS, 128 MiB guest running (\`stats\` vmm_rss_bytes) | $((rss / 1024)) KiB |"
echo "| guest memory resident in that VM (mincore) | $((res / 1024)) KiB |"
echo "| VMs created and torn down per second (sequential, 64 MiB) | $rate |"
