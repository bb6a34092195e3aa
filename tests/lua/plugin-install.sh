#!/bin/sh
# plugin-install.sh: plugins as a user of an installed berth meets them.
# `make install` into a staging root; a C backend plugin built outside the
# tree with berth-lua(7)'s build line, the installed header and
# berth-plugin.pc alone; the installed berth loads it and a Lua plugin from
# $BERTH_CONFIG_DIR/plugins; a plugin of the same name earlier in
# $BERTH_PLUGIN_PATH wins; a broken plugin in the config directory is
# reported by file and line, and the others still work.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd cc pkg-config make
root=$BERTH_TEST_TMP/root
out=$BERTH_TEST_TMP/out
err=$BERTH_TEST_TMP/err
unset BERTH_PLUGIN_PATH BERTH_SRC_LUA BERTH_LUA_PATH

env -u MAKEFLAGS -u MFLAGS make -s -C "$top_builddir" install DESTDIR="$root" >"$out" 2>&1 ||
	fail "make install DESTDIR=... failed: $(tail -20 "$out")"
pc=$(find "$root" -name berth-plugin.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "make install did not install berth-plugin.pc"
hdr=$(find "$root" -name berth-plugin.h | head -n 1)
[ -n "$hdr" ] || fail "make install did not install berth-plugin.h"
installed=$(find "$root" -path '*/bin/berth' -type f | head -n 1)
[ -x "$installed" ] || fail "make install did not install bin/berth"

# pkg-config from the staging root, as it would be from the prefix.
PKG_CONFIG_PATH=$(dirname "$pc"); export PKG_CONFIG_PATH
PKG_CONFIG_SYSROOT_DIR=$root; export PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags --libs berth-plugin) || fail "pkg-config berth-plugin failed"
case " $cflags " in
*" -I$(dirname "$hdr") "*) ;;
*) fail "pkg-config --cflags berth-plugin gives \`$cflags', not the installed header's directory $(dirname "$hdr")" ;;
esac

# A plugin written against the installed header only, in its own directory.
src=$BERTH_TEST_TMP/mine
mkdir -p "$src"
cat >"$src/mine.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <berth-plugin.h>

struct mconn { struct bconn base; };

static int m_open(struct bconn **out, const char *uri, struct loop *l, struct berr *err)
{
	struct mconn *c = calloc(1, sizeof *c);

	(void)l;
	if (c == NULL)
		return berr_set(err, ENOMEM, "mine: out of memory");
	if (uri != NULL && strcmp(uri, "mine:refuse") == 0) {
		free(c);
		return berr_set(err, BERR_INVALID, "mine: refusing `%s'", uri);
	}
	*out = &c->base;
	return 0;
}
static void m_close(struct bconn *c) { free(c); }
static int m_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct instance *i = instance_new("mine-1", INST_CONTAINER);

	(void)err;
	i->conn = c;
	i->state = INST_STOPPED;
	i->memory_kib = 4096;
	instance_set_str(&i->host, "localhost");
	return inst_list_push(out, i);
}
static const struct backend_ops ops = {
	.name = "mine", .description = "out-of-tree test plugin",
	.abi_version = BERTH_BACKEND_ABI,
	.open = m_open, .close = m_close, .list = m_list,
};
const struct backend_ops *berth_plugin_init(void) { return &ops; }
C
conf=$BERTH_CONFIG_DIR/plugins
mkdir -p "$conf"
# the build line of berth-lua(7), as printed
(cd "$src" && cc -shared -fPIC -o mine.so mine.c $(pkg-config --cflags --libs berth-plugin)) >"$out" 2>&1 ||
	fail "building a plugin with the installed header and pkg-config failed: $(cat "$out")"
cp "$src/mine.so" "$conf/mine.so"

# A Lua plugin in the config directory: a command and a column.
cat >"$conf/hello.lua" <<'LUA'
berth.command {
  name = "hello",
  summary = "say hello from the config directory",
  run = function(args, ctx)
    ctx.print("hello from config " .. (args[1] or "nobody"))
    return 0
  end,
}
LUA
"$installed" hello world >"$out" 2>"$err" || fail "berth hello (a config-dir plugin) failed: $(cat "$out" "$err")"
grep -qx "hello from config world" "$out" || fail "berth hello printed: $(cat "$out" "$err")"
"$installed" help >"$out" 2>"$err" || fail "berth help failed: $(cat "$err")"
grep -q "hello.*say hello from the config directory" "$out" || fail "berth help does not list the plugin's command: $(cat "$out")"

"$installed" run -e '
local where = {}
for _, p in ipairs(berth.plugins()) do where[p.name] = p.path .. " " .. p.kind .. " " .. tostring(p.error) end
print("mine", where.mine)
print("hello", where.hello)
local l = berth.list { backend = "mine" }
print("listed", #l, l[1] and l[1].name, l[1] and l[1].memory)
' >"$out" 2>"$err" || fail "berth run with the installed plugins failed: $(cat "$out" "$err")"
cat "$out"
grep -qx "mine	$conf/mine.so c nil" "$out" || fail "the C plugin was not loaded from the config directory: $(cat "$out" "$err")"
grep -qx "hello	$conf/hello.lua lua nil" "$out" || fail "the Lua plugin was not loaded from the config directory: $(cat "$out" "$err")"
grep -qx "listed	1	mine-1	4096" "$out" || fail "the out-of-tree backend did not list its instance: $(cat "$out" "$err")"
"$installed" list --backend mine >"$out" 2>"$err" || fail "berth list --backend mine failed: $(cat "$err")"
grep -q "mine-1" "$out" || fail "berth list does not show the plugin backend's instance: $(cat "$out")"

# First found wins: the same name earlier in $BERTH_PLUGIN_PATH.
early=$BERTH_TEST_TMP/early
mkdir -p "$early"
sed 's/hello from config/hello from the plugin path/' "$conf/hello.lua" >"$early/hello.lua"
BERTH_PLUGIN_PATH=$early "$installed" hello you >"$out" 2>"$err" || fail "berth hello with BERTH_PLUGIN_PATH failed: $(cat "$err")"
grep -qx "hello from the plugin path you" "$out" || fail "BERTH_PLUGIN_PATH did not take precedence: $(cat "$out" "$err")"

# A broken plugin is reported with its file and line; the rest still loads.
printf 'berth.command {\n  name = "broken",\n  run = function( end,\n}\n' >"$conf/broken.lua"
"$installed" hello again >"$out" 2>"$err" || fail "berth hello with a broken plugin beside it failed: $(cat "$out" "$err")"
grep -qx "hello from config again" "$out" || fail "a broken plugin stopped the others: $(cat "$out" "$err")"
grep -q "$conf/broken.lua:3:" "$err" || fail "the broken plugin is not reported by file and line: $(cat "$err")"
echo "installed plugins: out-of-tree C backend and config-dir Lua plugin loaded"
