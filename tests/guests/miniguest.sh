#!/bin/sh
# miniguest: the interactive guest answers help/info/burn/dirty and halts
# with 0.
. "$top_srcdir/tests/guests/guest-test.sh"

cleanup() { guest_stop; }
out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	guest_start "$out" "$(guest_image miniguest $fmt)"
	guest_wait_for 60 '^miniguest> '
	guest_send "help
"
	guest_wait_for 20 '^commands: help, info, burn <sec>, dirty <MiB>, halt'
	guest_send "info
"
	guest_wait_for 20 '^dirty generation: '
	guest_expect_line '^memory: 12[78] MiB$' "$out"
	guest_expect_line '^vcpus: 1$' "$out"
	guest_expect_line '^uptime: [0-9]*\.[0-9][0-9][0-9] s$' "$out"
	guest_send "burn 1
"
	guest_wait_for 30 '^burned 1 s'
	guest_send "dirty 16
"
	guest_wait_for 30 '^dirtied 16 MiB$'
	guest_send "frobnicate
"
	guest_wait_for 20 '^unknown command: frobnicate'
	guest_send "halt
"
	guest_wait_exit 30
	guest_expect_exit 0 "$out"
	guest_expect_line '^halting$' "$out"
	echo "ok: miniguest.$fmt"
done
