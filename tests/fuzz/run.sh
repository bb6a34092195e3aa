#!/bin/sh
# run.sh [TOP_SRCDIR] - build and run every libFuzzer target tests/fuzz/fuzz-*.c.
#
# Run from the build directory (`make check-fuzz` does): config.h is found
# there, and targets, corpora, logs and crash artifacts go to
# ./tests/fuzz/.  The source directory is $1, else $top_srcdir, else the
# directory two levels above this script.
#
# Each target names what it needs in comment lines:
#   // fuzz-sources: src/core/a.c src/core/b.c     (relative to TOP_SRCDIR)
#   // fuzz-libs: -ljson-c -lpthread
#   // fuzz-cflags: -DSOMETHING -I@top_srcdir@/x   (optional; @top_srcdir@ is replaced)
#   // fuzz-seed: {"id":0,...}\n{"id":1,...}        (optional, one seed per line;
#                                                  \n and \r are expanded)
# Environment: FUZZ_SECONDS (default 30) per target, CLANG (default clang),
# FUZZ_TARGETS (space-separated names such as "fuzz-proto" to run a subset).
# Exits 1 if a target does not build or finds a crash, 77 without clang.

srcdir=${1:-${top_srcdir:-}}
if [ -z "$srcdir" ]; then
	srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
srcdir=$(cd "$srcdir" && pwd) || exit 99
builddir=$(pwd)
CLANG=${CLANG:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP: $CLANG not found (apt-get install clang)"
	exit 77
fi
if [ ! -f "$builddir/config.h" ]; then
	echo "run.sh: no config.h in $builddir: run me from a configured build directory" >&2
	exit 99
fi

outdir=$builddir/tests/fuzz
mkdir -p "$outdir" || exit 99
failed=0
ran=0

for src in "$srcdir"/tests/fuzz/fuzz-*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
	sources=$(sed -n 's|^// fuzz-sources:||p' "$src")
	libs=$(sed -n 's|^// fuzz-libs:||p' "$src")
	cflags=$(sed -n 's|^// fuzz-cflags:||p' "$src" | sed "s|@top_srcdir@|$srcdir|g")
	paths=
	for s in $sources; do
		paths="$paths $srcdir/$s"
	done

	bin=$outdir/$name
	log=$outdir/$name.log
	echo "== $name: building"
	# shellcheck disable=SC2086 # word splitting of the lists is intended
	if ! "$CLANG" -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-I"$srcdir/src" -I"$builddir" $cflags \
		-o "$bin" "$src" $paths $libs >"$log" 2>&1; then
		cat "$log"
		echo "FAIL: $name does not build"
		failed=$((failed + 1))
		continue
	fi

	corpus=$outdir/$name.corpus
	mkdir -p "$corpus"
	i=0
	sed -n 's|^// fuzz-seed: ||p' "$src" | while IFS= read -r seed; do
		i=$((i + 1))
		printf '%b' "$seed" >"$corpus/seed-$i"
	done

	echo "== $name: fuzzing for ${FUZZ_SECONDS}s"
	ran=$((ran + 1))
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$outdir/$name-" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "PASS: $name (${runs:-?} runs, corpus $(ls "$corpus" | wc -l) inputs)"
	else
		tail -n 60 "$log"
		echo "FAIL: $name crashed; log $log, reproducer $(ls -t "$outdir/$name-"* 2>/dev/null | head -n 1)"
		failed=$((failed + 1))
	fi
done

if [ "$ran" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "run.sh: no fuzz targets in $srcdir/tests/fuzz"
fi
[ "$failed" -eq 0 ] || exit 1
exit 0
