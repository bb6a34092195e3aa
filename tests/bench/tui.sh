#!/bin/sh
# tests/bench/tui.sh - the dashboard with 1,000 instances (libvirt test
# driver): time from process start to the first full frame, CPU used over
# BENCH_SECONDS (default 60) at the default 1 s stats interval, RSS.
# Goals: first frame < 100 ms, CPU < 1% of a core.  Prints a Markdown
# section; never fails on a missed goal.  Needs tmux and a built berth.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
BERTH=${BERTH:-$top_builddir/berth}
secs=${BENCH_SECONDS:-60}
echo "## Dashboard (tests/bench/tui.sh)"
echo
if ! command -v tmux >/dev/null 2>&1; then echo "SKIP: tmux is not installed"; exit 0; fi
if [ ! -x "$BERTH" ]; then echo "SKIP: build berth first"; exit 0; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-tui.XXXXXX") || exit 1
sock="berth-bench-tui-$$"
TMUX_TMPDIR="$tmp"; export TMUX_TMPDIR	# the socket goes away with $tmp
trap 'tmux -L "$sock" kill-server >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/run" "$tmp/data" "$tmp/config"
awk -v n=1000 'BEGIN {
	print "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>16777216</memory>"
	for (i = 1; i <= n; i++)
		printf "<domain type=\"test\"><name>vm-%04d</name><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n", i
	print "</node>" }' > "$tmp/node.xml"
env="BERTH_RUN_DIR=$tmp/run BERTH_DATA_DIR=$tmp/data BERTH_CONFIG_DIR=$tmp/config BERTH_NO_DEFAULT_LIBVIRT=1"

# the same connect + list without the dashboard, for comparison
t0=$(date +%s%N)
env $env "$BERTH" --connect "test://$tmp/node.xml" list >/dev/null
t1=$(date +%s%N)

# and libvirt's own client on the same driver: the floor both stand on
# (the test driver parses the whole node XML on every connection)
vt=
if command -v virsh >/dev/null 2>&1; then
	v0=$(date +%s%N)
	virsh -c "test://$tmp/node.xml" list --all >/dev/null 2>&1 && v1=$(date +%s%N) && vt=$(( (v1 - v0) / 1000000 ))
fi

tmux -L "$sock" -f /dev/null new-session -d -x 200 -y 60 \
	"env LANG=C.UTF-8 TERM=screen $env BERTH_TUI_STATS='$tmp/stats' '$BERTH' --connect 'test://$tmp/node.xml'; sleep 600"
i=0
while ! grep -q first_frame "$tmp/stats" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 300 ]; then echo "(the dashboard did not start within 30 s)"; exit 1; fi
	sleep 0.1
done
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$tmp/stats")
first=$(sed -n 's/.*first_frame_ms=\([0-9]*\).*/\1/p' "$tmp/stats")
tuims=$(sed -n 's/.*tui_ms=\([0-9]*\).*/\1/p' "$tmp/stats")
sleep 3	# past start-up
hz=$(getconf CLK_TCK)
a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
sleep "$secs"
b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
tmux -L "$sock" send-keys q
i=0; while ! grep -q '^frames' "$tmp/stats" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cpu=$(awk -v t=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
frames=$(sed -n 's/^frames=\([0-9]*\).*/\1/p' "$tmp/stats")
tick=$(sed -n 's/.*refresh_ms_avg=\([0-9.]*\).*/\1/p' "$tmp/stats")

echo "1,000 libvirt test-driver domains, a 200x60 tmux pane, stats every 1 s."
echo "Command: \`make bench BENCH=tui\` (BENCH_SECONDS=$secs)."
echo
echo "| measure | value | goal |"
echo "|---|---|---|"
echo "| first full frame after process start | ${first} ms | < 100 ms |"
echo "| of which the dashboard (terminal set-up, list, host info, draw) | ${tuims} ms | |"
echo "| \`berth list\` alone (connect + list, no dashboard) | $(( (t1 - t0) / 1000000 )) ms | |"
echo "| \`virsh list --all\` on the same driver, for comparison | ${vt:-not measured (no virsh)}${vt:+ ms} | |"
echo "| CPU over ${secs} s | ${cpu}% of one core | < 1% |"
echo "| RSS | $((rss / 1024)) MiB | |"
echo "| frames drawn / stats ticks, average tick (list or stats, host info) | ${frames:-?} / ${secs}+ s, ${tick:-?} ms | |"
