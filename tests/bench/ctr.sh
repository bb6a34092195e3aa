#!/bin/sh
# tests/bench/ctr.sh - berth-ctr start-up and footprint: `berth-ctr run` of
# /bin/true on a busybox bundle against `runc run` of the same bundle (median
# of 20 each, and the ratio), containers created, started and deleted per
# second (detached, sequential), and the monitor's RSS.
# The two runtimes alternate, run by run.  Prints a Markdown section; never
# fails on a slow number.
# bash for $EPOCHREALTIME: see the timed loop below.
if [ -z "${BASH_VERSION:-}" ] && command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
BERTH_CTR=${BERTH_CTR:-$top_builddir/berth-ctr}
echo "## berth-ctr (tests/bench/ctr.sh)"
echo
if [ ! -x "$BERTH_CTR" ]; then echo "SKIP: build berth-ctr first"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 0; fi
if [ ! -x /bin/busybox ]; then echo "SKIP: needs busybox-static"; exit 0; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-ctr.XXXXXX") || exit 1
root=$tmp/ct
CTR="$BERTH_CTR --root $root"
trap 'for i in $($CTR list -q 2>/dev/null); do $CTR delete -f $i >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT INT TERM
# The shared bundle builder of the tests (it only needs top_srcdir and tmp).
BERTH_RUN_DIR=$tmp/run; BERTH_TEST_TMP=$tmp
. "$top_srcdir/tests/ctr/lib.sh" >/dev/null 2>&1
trap 'for i in $($CTR list -q 2>/dev/null); do $CTR delete -f $i >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT INT TERM
C_ARGS='["/bin/true"]' make_bundle "$tmp/bundle"

ns() { date +%s%N; }
# The clock of a sample is read without starting a process: `t=$(date)`
# would add the start of one (milliseconds on a small VM) to every sample
# of both runtimes alike, which pulls the ratio towards 1.  bash's
# $EPOCHREALTIME has microseconds; without bash, date it is.
if [ -n "${BASH_VERSION:-}" ]; then
	sample() {	# sample FILE CMD...: append CMD's run time in us, if it succeeded
		local f=$1 t0 t1 rc
		shift
		t0=$EPOCHREALTIME; "$@" >/dev/null 2>&1; rc=$?; t1=$EPOCHREALTIME
		[ $rc -eq 0 ] && echo $(( 10#${t1/./} - 10#${t0/./} )) >> "$f"
		return 0
	}
else
	sample() {
		_f=$1; shift
		_t0=$(ns); "$@" >/dev/null 2>&1; _rc=$?; _t1=$(ns)
		[ $_rc -eq 0 ] && echo $(( (_t1 - _t0) / 1000 )) >> "$_f"
		return 0
	}
fi
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: > "$tmp/ours"; : > "$tmp/runc"
# Interleaved, one of each per round, so both see the same machine (the
# kernel tears network namespaces down in the background, for one).
have_runc=; command -v runc >/dev/null 2>&1 && have_runc=1
for i in $(seq 1 20); do
	sample "$tmp/ours" $CTR run -b "$tmp/bundle" b$i
	[ -n "$have_runc" ] && sample "$tmp/runc" runc --root "$tmp/runc-root" run -b "$tmp/bundle" r$i
done
ours=$(median < "$tmp/ours")
theirs=$(median < "$tmp/runc")
echo "| measure | value |"
echo "|---|---|"
echo "| \`berth-ctr run\` of /bin/true, median of 20 | $((ours / 1000)).$(( (ours % 1000) / 100 )) ms |"
if [ -n "$theirs" ]; then
	echo "| \`runc run\` of the same bundle, median of 20 | $((theirs / 1000)).$(( (theirs % 1000) / 100 )) ms ($(runc --version | head -1)) |"
	echo "| ratio berth-ctr / runc | $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }') |"
else
	echo "| \`runc run\` | not measured (runc missing or failed) |"
fi
# Detached create+start+delete, sequential.
C_ARGS='["sleep", "100"]' write_config "$tmp/bundle"
n=20
t0=$(ns)
for i in $(seq 1 $n); do
	$CTR run -d -b "$tmp/bundle" d$i >/dev/null 2>&1
	$CTR delete -f d$i >/dev/null 2>&1
done
t1=$(ns)
echo "| containers run -d + delete -f per second (sequential, $n) | $(awk -v n=$n -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (t / 1e9) }') |"
$CTR run -d -b "$tmp/bundle" rss >/dev/null 2>&1
mon=$($CTR state rss | sed -n 's/.*"monitorPid":\([0-9]*\).*/\1/p')
rss=$(sed -n 's/^VmRSS:[[:space:]]*//p' /proc/$mon/status 2>/dev/null)
echo "| monitor RSS (one idle container) | ${rss:-unknown} |"
echo
echo "Goal (issue 4): berth-ctr at most a third of runc's time (ratio 0.33 or less)."
echo
echo "Each sample's clock is read with $( [ -n "${BASH_VERSION:-}" ] && echo "bash's \$EPOCHREALTIME" || echo "date(1), whose start adds to every sample") (BENCHMARKS.md before 2026-12-08: date(1))."
echo
echo "Command: \`make bench BENCH=ctr\`; cgroups: $(grep -q cgroup2 /proc/mounts && grep -q ' cgroup ' /proc/mounts && echo hybrid || echo see host)."
