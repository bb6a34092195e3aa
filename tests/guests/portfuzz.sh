#!/bin/sh
# portfuzz: garbage written to (and read from) every I/O port does not
# bring the machine down; the guest prints SURVIVED and exits 0.
. "$top_srcdir/tests/guests/guest-test.sh"

out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	guest_run "$out" 120 "$(guest_image portfuzz $fmt)" -append "seed=$$"
	guest_expect_exit 0 "$out"
	guest_expect_line '^SURVIVED [0-9]* ports' "$out"
	echo "ok: portfuzz.$fmt: $(tr -d '\r' <"$out" | grep '^SURVIVED')"
done
