#!/bin/sh
# The metrics history outlives the dashboard: samples taken in one session
# are saved (metrics-history in the data directory) at exit and every
# BERTH_HISTORY_SAVE_S seconds, and the next session graphs them; a corrupt
# file is reported and the dashboard opens with empty graphs.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"
hist="$BERTH_DATA_DIR/metrics-history"

# count_samples: the number of memory samples of `test' in the last 10 min,
# as the dashboard's Lua sees them, shown as "samples N"
count_samples() {
	tui_keys :
	tui_type 'lua local v = berth.get("test"):history("mem", 600) local c = 0 for _, x in ipairs(v) do if x == x then c = c + 1 end end print("samples " .. c)'
	tui_keys Enter
	tui_wait '^samples [0-9]+' 5 "the history count"
	tui_screen | sed -n 's/^samples \([0-9]*\).*/\1/p' | tail -n 1
}

TUI_ENV="BERTH_HISTORY_SAVE_S=2" tui_start 80 24 --connect test:///default
tui_wait 'berth +1 instances' 10
sleep 7
wait_for 10 test -s "$hist" || fail "no $hist after a few seconds (it is saved every 2 s here)"
n1=$(count_samples)
[ "${n1:-0}" -ge 4 ] || fail "only ${n1:-0} samples after 7 s"
tui_quit
[ -s "$hist" ] || fail "no $hist after the dashboard quit"

# A new session sees the old samples at once: more than it could have taken.
tui_start 80 24 --connect test:///default
tui_wait 'berth +1 instances' 10
n2=$(count_samples)
[ "${n2:-0}" -ge "$n1" ] || fail "the next session has ${n2:-0} samples, the last one had $n1"

tui_quit

# A corrupt file: reported, graphs start empty, the dashboard works.
printf 'BERTHMH2 this is not a history' >"$hist"
tui_start 80 24 --connect test:///default
tui_wait 'graphs start empty' 10 "the corrupt history is reported"
tui_wait 'graphs start empty: .*metrics-history. is not a metri' 2 "with the reason"
tui_keys Escape
sleep 1
tui_wait 'berth +1 instances' 2
n3=$(count_samples)
[ "${n3:-0}" -le 3 ] || fail "$n3 samples from a corrupt history"
tui_quit
# and at exit the file is replaced by a valid one
head -c 8 "$hist" | grep -q BERTHMH2 || fail "no valid history written over the corrupt one"
tui_start 80 24 --connect test:///default
tui_wait 'berth +1 instances' 10
tui_expect_not 'metrics history' "the rewritten history loads without complaint"
tui_quit
