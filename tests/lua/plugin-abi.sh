#!/bin/sh
# plugin-abi.sh: C backend plugins.  A plugin built against berth-plugin.h
# alone loads and its backend registers; one whose ops table carries the
# wrong ABI version is refused with a message naming the file and both
# versions; a shared object without berth_plugin_init is refused too.
# Neither stops berth.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd cc pkg-config
dir=$BERTH_TEST_TMP/plugins
mkdir -p "$dir"
cat >"$BERTH_TEST_TMP/plug.c" <<'C'
#include <stdlib.h>
#include "berth-plugin.h"
struct tconn { struct bconn base; };
static int t_open(struct bconn **out, const char *uri, struct loop *l, struct berr *err)
{
	struct tconn *c = calloc(1, sizeof *c);
	(void)uri; (void)l; (void)err;
	*out = &c->base;
	return 0;
}
static void t_close(struct bconn *c) { free(c); }
static int t_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct instance *i = instance_new("abi-ct", INST_CONTAINER);
	(void)err;
	i->conn = c;
	i->state = INST_RUNNING;
	instance_set_str(&i->host, "localhost");
	return inst_list_push(out, i);
}
static const struct backend_ops ops = {
	.name = PLUGIN_NAME, .description = "test plugin", .abi_version = PLUGIN_ABI,
	.open = t_open, .close = t_close, .list = t_list,
};
const struct backend_ops *berth_plugin_init(void) { return &ops; }
C
cflags="-shared -fPIC -I$top_srcdir/src/core $(pkg-config --cflags json-c)"
cc $cflags -DPLUGIN_NAME='"abigood"' -DPLUGIN_ABI=BERTH_BACKEND_ABI -o "$dir/good.so" "$BERTH_TEST_TMP/plug.c" ||
	fail "building the good plugin failed"
cc $cflags -DPLUGIN_NAME='"abibad"' -DPLUGIN_ABI=999 -o "$dir/bad.so" "$BERTH_TEST_TMP/plug.c" ||
	fail "building the bad plugin failed"
echo 'int nothing_here;' >"$BERTH_TEST_TMP/empty.c"
cc -shared -fPIC -o "$dir/empty.so" "$BERTH_TEST_TMP/empty.c" || fail "building empty.so failed"

BERTH_PLUGIN_PATH=$dir; export BERTH_PLUGIN_PATH
out=$BERTH_TEST_TMP/out
err=$BERTH_TEST_TMP/err
"$BERTH" run -e '
local names = {}
for _, b in ipairs(berth.backends()) do names[b.name] = true end
print("good", names.abigood and "registered" or "missing")
print("bad", names.abibad and "registered" or "missing")
for _, p in ipairs(berth.plugins()) do print("plugin", p.name, p.error and "error" or "ok") end
local l = berth.list { backend = "abigood" }
print("listed", #l, l[1] and l[1].name)
' >"$out" 2>"$err"
rc=$?
cat "$out" "$err"
[ $rc -eq 0 ] || fail "berth run exited $rc with a bad plugin present"
grep -q "^good	registered" "$out" || fail "the good plugin's backend was not registered"
grep -q "^bad	missing" "$out" || fail "the bad plugin's backend was registered"
grep -q "^listed	1	abi-ct" "$out" || fail "the good plugin's backend did not list its instance"
grep -q "plugin \`$dir/bad.so' was built for backend ABI version 999, but this berth has version 1" "$err" ||
	fail "no message naming the file and both versions"
grep -q "plugin \`$dir/empty.so': no symbol berth_plugin_init" "$err" ||
	fail "no message for a shared object without berth_plugin_init"
echo "plugin ABI: good loaded, bad refused"
