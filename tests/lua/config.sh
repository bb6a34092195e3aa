#!/bin/sh
# config.sh: init.lua in $BERTH_CONFIG_DIR - options through berth.set, a
# global `options` table and a returned table take effect; mistakes are
# reported with file, line and option and stop berth (exit 1).
. "$top_srcdir/tests/lib/sh-helpers.sh"
cfg=$BERTH_CONFIG_DIR/init.lua
out=$BERTH_TEST_TMP/out
show='print(berth.option("stats_interval"), berth.option("color"), berth.option("webhook_url"), table.concat(berth.option("libvirt_uris"), ","))'

# No init.lua: defaults.
got=$("$BERTH" run -e "$show") || fail "berth run without init.lua failed"
[ "$got" = "$(printf '1\ttrue\t\t')" ] || fail "defaults: got '$got'"

# berth.set.
cat >"$cfg" <<'LUA'
-- a comment
berth.set("stats_interval", 3)
berth.set("color", false)
berth.set("libvirt_uris", { "test:///default", "qemu:///session" })
LUA
got=$("$BERTH" run -e "$show") || fail "berth run with berth.set failed"
[ "$got" = "$(printf '3\tfalse\t\ttest:///default,qemu:///session')" ] || fail "berth.set: got '$got'"

# A global options table and a returned table.
cat >"$cfg" <<'LUA'
options = {
  stats_interval = 7,
}
return {
  webhook_url = "http://127.0.0.1:1/hook",
  color = "no",
}
LUA
got=$("$BERTH" run -e "$show") || fail "berth run with tables failed"
[ "$got" = "$(printf '7\tfalse\thttp://127.0.0.1:1/hook\t')" ] || fail "tables: got '$got'"

# Errors: file, line and option.
check_error() {	# expected-pattern
	"$BERTH" run -e 'print("ran")' >"$out" 2>&1
	rc=$?
	[ $rc -ne 0 ] || fail "a bad init.lua did not stop berth: $(cat "$out")"
	grep -qx "ran" "$out" && fail "the command ran despite a bad init.lua"
	grep -q -- "$1" "$out" || fail "want '$1' in: $(cat "$out")"
}
printf 'berth.set("color", true)\n\nberth.set("stats_interval", 0)\n' >"$cfg"
check_error "init.lua:3: option \`stats_interval': 0 is out of range 1..3600"
printf 'berth.set("stats_intervall", 2)\n' >"$cfg"
check_error "init.lua:1: unknown option \`stats_intervall' (did you mean \`stats_interval'?)"
printf 'berth.set("color", 3)\n' >"$cfg"
check_error "init.lua:1: option \`color' takes a boolean"
printf 'return {\n  color = true,\n  overcommit_warn = "lots",\n}\n' >"$cfg"
check_error "init.lua:3: option \`overcommit_warn': \`lots' is not an integer"
printf 'options = {\n\n  no_such_thing = 1,\n}\n' >"$cfg"
check_error "init.lua:3: unknown option \`no_such_thing'"
# The line of an option is found outside comments and strings, and in the
# ["name"] = value form.
printf -- '-- overcommit_warn = 2 was the old value\n--[[ overcommit_warn = 3\n]] local s = "overcommit_warn = 4"\nreturn {\n  color = true,\n  overcommit_warn = "lots",\n}\n' >"$cfg"
check_error "init.lua:6: option \`overcommit_warn': \`lots' is not an integer"
printf 'return {\n  color = true,\n  ["overcommit_warn"] = "lots",\n}\n' >"$cfg"
check_error "init.lua:3: option \`overcommit_warn': \`lots' is not an integer"
printf 'return {\n  color = true,\n  "stray",\n}\n' >"$cfg"
check_error "init.lua: the returned table has an entry that is not \`name = value' (a string value under a number key)"
printf 'berth.set("columns", { "name", "stat" })\n' >"$cfg"
check_error "init.lua:1: option \`columns': unknown item \`stat' (did you mean \`state'?)"
printf 'return {\n  columns = "cpu,bogus",\n}\n' >"$cfg"
check_error "init.lua:2: option \`columns': unknown item \`bogus' (one of: name, kind, backend"
printf 'berth.set("columns", { "cpu", "spark" })\n' >"$cfg"
got=$("$BERTH" run -e 'print(table.concat(berth.option("columns"), ","))' 2>&1)
[ "$got" = "cpu,spark" ] || fail "columns from init.lua: got '$got'"
printf 'berth.set("color", true\n' >"$cfg"
check_error "init.lua:2: ')' expected"
printf 'return 42\n' >"$cfg"
check_error "init.lua: returned a number"

# berth.connect in init.lua connects the session.
printf 'berth.connect("test:///default")\n' >"$cfg"
got=$("$BERTH" run -e 'print(#berth.list{backend = "libvirt"})') || fail "berth.connect in init.lua failed"
[ "$got" = "1" ] || fail "berth.connect in init.lua: got '$got' instances"
got=$("$BERTH" list --names 2>&1) || fail "berth list with berth.connect in init.lua: $got"
echo "$got" | grep -qx test || fail "berth list does not see init.lua's connection: $got"
# libvirt_uris replaces the default libvirt connection (when none is given
# with --connect and the default is not switched off).
printf 'berth.set("libvirt_uris", { "test:///default" })\n' >"$cfg"
got=$(env -u BERTH_NO_DEFAULT_LIBVIRT "$BERTH" hosts --json 2>&1) || fail "berth hosts with libvirt_uris: $got"
echo "$got" | grep -q '"uri": "test:///default"' || fail "libvirt_uris did not connect test:///default: $got"
echo "$got" | grep -q 'qemu:///' && fail "libvirt_uris set, yet the built-in default was connected too: $got"
got=$(env -u BERTH_NO_DEFAULT_LIBVIRT "$BERTH" list --names 2>&1) || fail "berth list with libvirt_uris: $got"
echo "$got" | grep -qx test || fail "berth list does not see libvirt_uris' domain: $got"
# --no-default-libvirt switches it off; an explicit --connect replaces it.
got=$(env -u BERTH_NO_DEFAULT_LIBVIRT "$BERTH" --no-default-libvirt list --names 2>&1)
echo "$got" | grep -qx test && fail "--no-default-libvirt still connected libvirt_uris: $got"
printf 'berth.set("libvirt_uris", { "test:///nonexistent/berth-cfg.xml" })\n' >"$cfg"
env -u BERTH_NO_DEFAULT_LIBVIRT "$BERTH" list --names >"$out" 2>&1
grep -q "test:///nonexistent/berth-cfg.xml" "$out" || fail "an unreachable libvirt_uris entry is not named: $(cat "$out")"
got=$(env -u BERTH_NO_DEFAULT_LIBVIRT "$BERTH" --connect test:///default list --names 2>/dev/null)
[ "$got" = test ] || fail "--connect should replace libvirt_uris: $got"
echo "config: all good"
