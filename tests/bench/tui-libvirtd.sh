#!/bin/sh
# tests/bench/tui-libvirtd.sh - the dashboard's first frame with 1,000
# instances on a real libvirt daemon: a private libvirtd (as in the tests,
# tests/libvirt/libvirtd-env.sh) with 1,000 defined QEMU domains, shut off.
# tui.sh measures the same against libvirt's test driver, which re-reads
# its whole XML on every connection and so sets a floor of its own; this is
# what a user with a libvirtd sees.  Needs root, libvirtd, qemu and tmux.
# Prints a Markdown section; never fails on a missed goal.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
BERTH=${BERTH:-$top_builddir/berth}
echo "## Dashboard on a libvirtd with 1,000 domains (tests/bench/tui-libvirtd.sh)"
echo
if ! command -v tmux >/dev/null 2>&1; then echo "SKIP: tmux is not installed"; exit 0; fi
if [ ! -x "$BERTH" ]; then echo "SKIP: build berth first"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (a private libvirtd)"; exit 0; fi
for c in libvirtd virtlogd virsh qemu-system-x86_64 unshare; do
	command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c is not installed"; exit 0; }
done
BERTH_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-lvd.XXXXXX") || exit 1
export BERTH_TEST_TMP
tmp=$BERTH_TEST_TMP
sock="berth-bench-lvd-$$"
TMUX_TMPDIR="$tmp"; export TMUX_TMPDIR
. "$top_srcdir/tests/lib/sh-helpers.sh" >/dev/null 2>&1
. "$top_srcdir/tests/libvirt/libvirtd-env.sh"
trap 'tmux -L "$sock" kill-server >/dev/null 2>&1; virtd_stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
# skip/fail of the helpers exit: say why instead of an empty section
( virtd_start >"$tmp/virtd.out" 2>&1 ) || { echo "SKIP: a private libvirtd would not start: $(tail -n 2 "$tmp/virtd.out" | tr '\n' ' ')"; exit 0; }
VIRT_DIR="$tmp/libvirt-a"
VIRT_URI="qemu+unix:///system?socket=$VIRT_DIR/sock/libvirt-sock"
mkdir -p "$tmp/xml" "$tmp/run" "$tmp/data" "$tmp/config"
n=1000
i=1
: > "$tmp/cmds"
while [ $i -le $n ]; do
	f=$(printf '%s/xml/vm-%04d.xml' "$tmp" $i)
	printf "<domain type='qemu'><name>vm-%04d</name><memory unit='KiB'>262144</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>\n" $i > "$f"
	echo "define $f" >> "$tmp/cmds"
	i=$((i + 1))
done
t0=$(date +%s%N)
virsh -q -c "$VIRT_URI" < "$tmp/cmds" >/dev/null 2>"$tmp/define.err"
t1=$(date +%s%N)
have=$(virsh -q -c "$VIRT_URI" list --all --name | grep -c .)
if [ "$have" -lt "$n" ]; then
	echo "SKIP: only $have of $n domains could be defined: $(head -n 2 "$tmp/define.err" | tr '\n' ' ')"
	exit 0
fi
env="BERTH_RUN_DIR=$tmp/run BERTH_DATA_DIR=$tmp/data BERTH_CONFIG_DIR=$tmp/config BERTH_NO_DEFAULT_LIBVIRT=1"

l0=$(date +%s%N)
env $env "$BERTH" --connect "$VIRT_URI" list >/dev/null
l1=$(date +%s%N)
v0=$(date +%s%N)
virsh -q -c "$VIRT_URI" list --all >/dev/null
v1=$(date +%s%N)

runs=5
: > "$tmp/first"
: > "$tmp/tuims"
r=1
while [ $r -le $runs ]; do
	rm -f "$tmp/stats"
	tmux -L "$sock" -f /dev/null new-session -d -x 200 -y 60 \
		"env LANG=C.UTF-8 TERM=screen $env BERTH_TUI_STATS='$tmp/stats' '$BERTH' --connect '$VIRT_URI'; sleep 600"
	k=0
	while ! grep -q first_frame "$tmp/stats" 2>/dev/null; do
		k=$((k + 1))
		if [ $k -gt 300 ]; then echo "(the dashboard did not start within 30 s)"; exit 1; fi
		sleep 0.1
	done
	sed -n 's/.*first_frame_ms=\([0-9]*\).*/\1/p' "$tmp/stats" >> "$tmp/first"
	sed -n 's/.*tui_ms=\([0-9]*\).*/\1/p' "$tmp/stats" >> "$tmp/tuims"
	tmux -L "$sock" send-keys q
	sleep 0.5
	tmux -L "$sock" kill-server >/dev/null 2>&1
	r=$((r + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
first=$(median < "$tmp/first")
tuims=$(median < "$tmp/tuims")

echo "A private libvirtd 9.0 (QEMU driver) with $n defined, shut-off domains; a 200x60 tmux"
echo "pane. Command: \`make bench BENCH=tui-libvirtd\`."
echo
echo "| measure | value | goal |"
echo "|---|---|---|"
echo "| first full frame after process start, median of $runs | ${first} ms | < 100 ms |"
echo "| of which the dashboard (terminal set-up, list, host info, draw) | ${tuims} ms | |"
echo "| \`berth list\` alone (connect + list, no dashboard) | $(( (l1 - l0) / 1000000 )) ms | |"
echo "| \`virsh list --all\` on the same daemon, for comparison | $(( (v1 - v0) / 1000000 )) ms | |"
echo "| defining the $n domains (one virsh session) | $(( (t1 - t0) / 1000000 )) ms | |"
echo
echo "Running domains (stats every second) are measured in the section above with the test driver."
