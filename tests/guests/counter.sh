#!/bin/sh
# counter: the guest prints an increasing counter every 10 ms of PIT-
# calibrated TSC time (count=N makes it stop, for this test).
. "$top_srcdir/tests/guests/guest-test.sh"

out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	guest_run "$out" 60 "$(guest_image counter $fmt)" -append "count=100 period_ms=10"
	guest_expect_exit 0 "$out"
	guest_expect_line '^COUNTER START tsc_khz=[1-9][0-9]* source=pit' "$out"
	guest_expect_line '^COUNTER DONE' "$out"
	tr -d '\r' <"$out" | awk '
		/^counter / { n++; split($3, t, "="); ms = t[2] + 0
			if ($2 != n - 1) { print "counter " $2 " out of sequence, expected " n - 1; bad = 1 }
			if (n > 1 && ms < last) { print "time went backwards at " $2; bad = 1 }
			if (n == 1) first = ms; last = ms }
		END { if (n != 100) { print n " counter lines, expected 100"; bad = 1 }
			span = last - first
			if (span < 900 || span > 5000) { print "100 periods took " span " ms of guest time"; bad = 1 }
			exit bad }' >"$BERTH_TEST_TMP/why" || fail "counter.$fmt: $(cat "$BERTH_TEST_TMP/why")"
	echo "ok: counter.$fmt"
done
