#!/bin/sh
# run.sh - `make bench`: run every tests/bench/*.sh (except this one) from the
# build directory and write their Markdown sections into BENCHMARKS.md in the
# source tree, with the machine, the date and the command behind each number.
# BENCH=name runs one and replaces only its section.
# Benchmarks never decide pass or fail; a benchmark that cannot run says why.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
BERTH=${BERTH:-$top_builddir/berth}; export BERTH
BERTH_VMM=${BERTH_VMM:-$top_builddir/berth-vmm}; export BERTH_VMM
BERTH_CTR=${BERTH_CTR:-$top_builddir/berth-ctr}; export BERTH_CTR
BERTH_TEST_CACHE=${BERTH_TEST_CACHE:-$top_builddir/tests/.cache}; export BERTH_TEST_CACHE
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
only=${BENCH:-}

out=$(mktemp)
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (tests/bench/run.sh) on $(date -u +%Y-%m-%d)."
	echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)),"
	echo "$(free -g | awk '/^Mem:/{print $2}') GiB RAM, $(uname -sr)."
	echo "Each section names the script and command that produced its numbers;"
	echo "run one alone with \`make bench BENCH=name\`."
	echo
} > "$out"
for b in "$top_srcdir"/tests/bench/*.sh; do
	name=$(basename "$b" .sh)
	[ "$name" = run ] && continue
	[ -n "$only" ] && [ "$only" != "$name" ] && continue
	echo "bench: $name" >&2
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
	section=$(BERTH_RUN_DIR="$tmp/run" BERTH_DATA_DIR="$tmp/data" BERTH_CONFIG_DIR="$tmp/config" \
		BERTH_TEST_TMP="$tmp" sh "$b" 2>"$tmp/stderr")
	rc=$?
	{
		echo "$section"
		echo
		echo "Measured on $(date -u +%Y-%m-%d)."
		if [ $rc -ne 0 ]; then
			echo
			echo "(\`tests/bench/$name.sh\` exited $rc: $(tail -n 3 "$tmp/stderr" | tr '\n' ' '))"
		fi
		echo
	} >> "$out"
	rm -rf "$tmp"
done
if [ -n "$only" ] && [ -f "$top_srcdir/BENCHMARKS.md" ]; then
	# One benchmark: its section replaces the one with the same heading
	# (or is appended); the others stay as they were.
	sec=$(mktemp)
	sed -n '/^## /,$p' "$out" > "$sec"
	head=$(head -n 1 "$sec")
	cat "$sec"
	awk -v head="$head" -v secfile="$sec" '
		function put() { while ((getline l < secfile) > 0) print l; done = 1 }
		$0 == head { put(); skip = 1; next }
		skip && /^## / { skip = 0 }
		!skip { print }
		END { if (!done) { print ""; put() } }
	' "$top_srcdir/BENCHMARKS.md" > "$sec.new" && mv "$sec.new" "$top_srcdir/BENCHMARKS.md"
	rm -f "$sec"
	echo "bench: BENCH=$only: its section in $top_srcdir/BENCHMARKS.md replaced" >&2
else
	cp "$out" "$top_srcdir/BENCHMARKS.md"
	echo "bench: wrote $top_srcdir/BENCHMARKS.md" >&2
fi
rm -f "$out"
