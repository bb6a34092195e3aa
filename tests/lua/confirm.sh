#!/bin/sh
# confirm.sh: berth.confirm.  A front-end's hook (script_set_confirm_hook,
# set here by a C plugin the way the dashboard sets it) gets the question
# and its answer is returned, without stdin being read; with the hook
# removed the plain prompt is back.  The plain prompt on a terminal takes
# "y"/"yes" ended by "\n" or by "\r" (what Enter sends in raw mode), and
# end of file (^D) is "no".
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd cc pkg-config tmux

# --- the hook ---
dir=$BERTH_TEST_TMP/plugins
mkdir -p "$dir"
cat >"$BERTH_TEST_TMP/hook.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "berth-plugin.h"
void script_set_confirm_hook(int (*fn)(const char *question, void *arg), void *arg);
static int asked;
static int hook(const char *question, void *arg)
{
	FILE *log = fopen(arg, "a");
	if (log != NULL) {
		fprintf(log, "asked: %s\n", question);
		fclose(log);
	}
	if (strcmp(question, "remove the hook?") == 0)
		script_set_confirm_hook(NULL, NULL);
	return ++asked == 1 || strstr(question, "remove") != NULL;
}
static int t_open(struct bconn **out, const char *uri, struct loop *l, struct berr *err)
{ (void)out; (void)uri; (void)l; return berr_set(err, BERR_INVALID, "not a real backend"); }
static void t_close(struct bconn *c) { (void)c; }
static int t_list(struct bconn *c, struct inst_list *out, struct berr *err)
{ (void)c; (void)out; (void)err; return 0; }
static const struct backend_ops ops = {
	.name = "confirmhook", .description = "sets the confirm hook",
	.abi_version = BERTH_BACKEND_ABI, .open = t_open, .close = t_close, .list = t_list,
};
const struct backend_ops *berth_plugin_init(void)
{
	script_set_confirm_hook(hook, LOG_PATH);
	return &ops;
}
C
cc -shared -fPIC -I"$top_srcdir/src/core" $(pkg-config --cflags json-c) \
	-DLOG_PATH="\"$BERTH_TEST_TMP/asked\"" -o "$dir/confirmhook.so" "$BERTH_TEST_TMP/hook.c" ||
	fail "building the hook plugin failed"
out=$BERTH_TEST_TMP/out
# stdin has an answer that the hook must not consume.
echo "stdin-was-not-read" | BERTH_PLUGIN_PATH=$dir timeout 20 "$BERTH" run -e '
print("first", berth.confirm("first question?"))
print("second", berth.confirm("second question?"))
print("remove", berth.confirm("remove the hook?"))
print("after", berth.confirm("asked on stdin?"))
print("stdin", io.read("l"))
' >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || fail "berth run with the hook exited $rc"
grep -qx "first	true" "$out" || fail "the hook answered yes but berth.confirm did not return true"
grep -qx "second	false" "$out" || fail "the hook answered no but berth.confirm did not return false"
grep -qx "remove	true" "$out" || fail "the answer of the call that removed the hook was lost"
grep -qx "after	false" "$out" || fail "without the hook and with stdin not a terminal, confirm was not false"
grep -qx "stdin	stdin-was-not-read" "$out" || fail "berth.confirm read stdin although the hook answers"
printf 'asked: first question?\nasked: second question?\nasked: remove the hook?\n' >"$BERTH_TEST_TMP/want"
cmp -s "$BERTH_TEST_TMP/want" "$BERTH_TEST_TMP/asked" ||
	{ cat "$BERTH_TEST_TMP/asked"; fail "the hook did not get exactly the three questions asked while it was set"; }

# --- the plain prompt, on a terminal ---
sock=berth-confirm-test-$$
T() { tmux -L "$sock" "$@"; }
cleanup() { T kill-server 2>/dev/null; }
screen() { T capture-pane -p -t c; }
wait_screen() {	# PATTERN
	_n=0
	while ! screen | grep -q -- "$1"; do
		_n=$((_n + 1))
		[ $_n -gt $((100 * ${BERTH_TIME_SCALE:-1})) ] && { screen; fail "screen never showed '$1'"; }
		sleep 0.1
	done
}
cat >"$BERTH_TEST_TMP/ask.lua" <<'L'
for i = 1, 4 do
	-- The last question on a terminal in line mode again, where ^D is end of file.
	if i == 4 then os.execute("stty icanon icrnl") end
	print("answer" .. i, berth.confirm("question " .. i .. "?"))
end
L
# -icanon -icrnl: each key arrives at once and Enter as "\r", as in the raw
# mode of a full-screen program.
T new-session -d -s c -x 100 -y 30 \
	"stty -icanon -icrnl; env BERTH_PLUGIN_PATH= '$BERTH' run '$BERTH_TEST_TMP/ask.lua'; echo RUN-EXITED \$?; sleep 30"
wait_screen 'question 1? \[y/N\]'
T send-keys -t c 'y' C-m
wait_screen '^answer1[[:space:]]*true'
wait_screen 'question 2? \[y/N\]'
T send-keys -t c -l ' YES '
T send-keys -t c C-m
wait_screen '^answer2[[:space:]]*true'
wait_screen 'question 3? \[y/N\]'
T send-keys -t c 'nope' C-m
wait_screen '^answer3[[:space:]]*false'
wait_screen 'question 4? \[y/N\]'
T send-keys -t c C-d
wait_screen '^answer4[[:space:]]*false'
wait_screen 'RUN-EXITED 0'
screen | grep -q 'question 4? \[y/N\] *answer4' && fail "after end of file the answer was printed on the prompt's line"
exit 0
