#!/bin/sh
# Colour and character-set fallbacks: colours by default on a colour
# terminal; none with NO_COLOR or on a monochrome terminal (vt100), where
# reverse video marks the cursor; ASCII graphs and arrows outside UTF-8.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

colour_codes() { tui_screen_esc | grep -Ec '\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7])(;[0-9;]*)?m'; }

TUI_TERM=screen tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10
[ "$(colour_codes)" -gt 0 ] || fail "no colours on a colour terminal (the test could not tell)"
tui_quit

TUI_ENV="NO_COLOR=1" tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10
[ "$(colour_codes)" -eq 0 ] || { tui_screen_esc | head -5; fail "colours despite NO_COLOR"; }
tui_screen_esc | grep -q '\[7m' || fail "no reverse video for the title/cursor under NO_COLOR"
tui_keys Enter
tui_wait '^CPU ' 5
[ "$(colour_codes)" -eq 0 ] || fail "colours in the detail view despite NO_COLOR"
tui_keys h
tui_quit

TUI_TERM=vt100 tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10 "dashboard on vt100"
tui_wait '^ +test +.*running' 5
[ "$(colour_codes)" -eq 0 ] || fail "colours on vt100"
tui_keys '?'
tui_wait 'berth dashboard keys' 5 "help on vt100"
tui_keys q
tui_quit

# overcommit past overcommit_warn (150%) is highlighted: 12 domains with
# 18 vCPUs on 8 CPUs (2.2x); test:///default's 2 on 16 (0.1x) is not
xml="$BERTH_TEST_TMP/node.xml"
make_node_xml "$xml" 12 0
TUI_ENV="NO_COLOR=1" tui_start 80 24 --connect "test://$xml"
tui_wait 'alloc vcpu [0-9]+/[0-9]+ [0-9.]+x' 10
tui_screen_esc | grep 'alloc' | grep -Eq '\[[0-9;]*7m ?vcpu [0-9]+/[0-9]+ [0-9.]+x' ||
	{ tui_screen_esc | grep alloc | cat -v; fail "overcommitted vCPUs not highlighted"; }
tui_quit
TUI_ENV="NO_COLOR=1" tui_start 80 24 --connect test:///default
tui_wait 'alloc vcpu 2/[0-9]+ 0\.[0-9]x' 10
if tui_screen_esc | grep 'alloc' | grep -Eq '\[[0-9;]*7m ?vcpu'; then
	tui_screen_esc | grep alloc | cat -v; fail "vCPUs highlighted below the threshold"
fi
tui_quit

# not UTF-8: ASCII only
TUI_LANG=C tui_start 80 24 --connect test:///default
tui_wait 'NAME\^' 10 "ASCII sort arrow"
sleep 2.5
tui_keys Enter
tui_wait '^Memory .*' 5
tui_wait '^[0-9.]+G +\| +#|^[0-9.]+G +\|.*#' 5 "ASCII graph bars"
if tui_screen | LC_ALL=C grep -q "$(printf '\342\240')"; then fail "braille outside UTF-8"; fi
tui_keys h
tui_quit
