#!/bin/sh
# tests/bench/tui.sh - the dashboard with 1,000 instances (libvirt test
# driver): time from process start to the first full frame, CPU used over
# BENCH_SECONDS (default 60) at the default 1 s stats interval, RSS.
# Goals: first frame < 100 ms, CPU < 1% of a core.  Prints one line per
# measure; never fails on a missed goal (benchmarks are not pass/fail).
# Needs: tmux, a built berth ($BERTH or ./berth).
BERTH=${BERTH:-$(pwd)/berth}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${BENCH_SECONDS:-60}
command -v tmux >/dev/null 2>&1 || { echo "tui bench: SKIP (no tmux)"; exit 0; }
[ -x "$BERTH" ] || { echo "tui bench: SKIP (no $BERTH)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-tui.XXXXXX") || exit 1
sock="berth-bench-tui-$$"
trap 'tmux -L "$sock" kill-server >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/run" "$tmp/data" "$tmp/config"
awk -v n=1000 'BEGIN {
	print "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>16777216</memory>"
	for (i = 1; i <= n; i++)
		printf "<domain type=\"test\"><name>vm-%04d</name><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n", i
	print "</node>" }' > "$tmp/node.xml"

# the same connect + list without the dashboard, for comparison
t0=$(date +%s%N)
BERTH_RUN_DIR="$tmp/run" BERTH_DATA_DIR="$tmp/data" BERTH_CONFIG_DIR="$tmp/config" BERTH_NO_DEFAULT_LIBVIRT=1 \
	"$BERTH" --connect "test://$tmp/node.xml" list >/dev/null
t1=$(date +%s%N)

tmux -L "$sock" -f /dev/null new-session -d -x 200 -y 60 \
	"env LANG=C.UTF-8 TERM=screen BERTH_RUN_DIR='$tmp/run' BERTH_DATA_DIR='$tmp/data' BERTH_CONFIG_DIR='$tmp/config' BERTH_NO_DEFAULT_LIBVIRT=1 BERTH_TUI_STATS='$tmp/stats' '$BERTH' --connect 'test://$tmp/node.xml'; sleep 600"
i=0
while ! grep -q first_frame "$tmp/stats" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 200 ] && { echo "tui bench: dashboard did not start"; exit 1; }
	sleep 0.1
done
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$tmp/stats")
first=$(sed -n 's/.*first_frame_ms=\([0-9]*\).*/\1/p' "$tmp/stats")
sleep 3	# past start-up
hz=$(getconf CLK_TCK)
a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
sleep "$secs"
b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
tmux -L "$sock" send-keys q
sleep 1
echo "tui bench: 1000 instances, 200x60, stats every 1 s"
echo "tui bench: berth list (connect + list, no dashboard): $(( (t1 - t0) / 1000000 )) ms"
echo "tui bench: first full frame after process start: ${first} ms (goal < 100 ms)"
awk -v t=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "tui bench: CPU over %d s: %.2f%% of one core (goal < 1%%)\n", s, 100 * t / hz / s }'
echo "tui bench: RSS: $((rss / 1024)) MiB"
sed -n 's/^frames/tui bench: frames/p' "$tmp/stats"
