#!/bin/sh
# console.sh: inst:console_send / console_expect / console_read through the
# event loop, against a tiny C backend plugin (built here against
# berth-plugin.h) whose consoles are socketpairs served by a child process:
# it prints a banner, a "login:" prompt after a delay, then echoes lines.
# Also: expects on two consoles overlap inside berth.parallel, timeouts and
# a closed console give nil and a message.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd cc pkg-config
dir=$BERTH_TEST_TMP/plugins
mkdir -p "$dir"
cat >"$BERTH_TEST_TMP/fakecons.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "berth-plugin.h"
struct fconn { struct bconn base; };
static int f_open(struct bconn **out, const char *uri, struct loop *l, struct berr *err)
{
	struct fconn *c = calloc(1, sizeof *c);
	(void)uri; (void)l; (void)err;
	signal(SIGCHLD, SIG_IGN);
	*out = &c->base;
	return 0;
}
static void f_close(struct bconn *c) { free(c); }
static struct instance *mk(struct bconn *c, const char *name)
{
	struct instance *i = instance_new(name, INST_VM);
	i->conn = c;
	i->state = INST_RUNNING;
	instance_set_str(&i->host, "localhost");
	return i;
}
static int f_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	(void)err;
	inst_list_push(out, mk(c, "slow"));
	inst_list_push(out, mk(c, "fast"));
	inst_list_push(out, mk(c, "dies"));
	return 0;
}
static int f_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	if (strcmp(name, "slow") && strcmp(name, "fast") && strcmp(name, "dies"))
		return berr_set(err, BERR_NOTFOUND, "no %s", name);
	*out = mk(c, name);
	(*out)->backend = c->ops;
	return 0;
}
static int f_console(struct instance *inst, int *fd, struct berr *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return berr_errno(err, "socketpair");
	if (fork() == 0) {
		char buf[256];
		ssize_t n;
		FILE *f;
		int delay = strcmp(inst->name, "slow") == 0 ? 600000 : 300000;
		close(sv[0]);
		f = fdopen(sv[1], "r+");
		setvbuf(f, NULL, _IONBF, 0);
		fprintf(f, "booting %s...\n", inst->name);
		usleep(delay);
		if (strcmp(inst->name, "dies") == 0)
			_exit(0);
		fprintf(f, "%s login: ", inst->name);
		while ((n = read(sv[1], buf, sizeof buf - 1)) > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\r\n")] = 0;
			fprintf(f, "you said: %s\n", buf);
		}
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}
static const struct backend_ops ops = {
	.name = "fakecons", .description = "consoles for tests", .abi_version = BERTH_BACKEND_ABI,
	.open = f_open, .close = f_close, .list = f_list, .get = f_get, .console_open = f_console,
};
const struct backend_ops *berth_plugin_init(void) { return &ops; }
C
cc -shared -fPIC -I"$top_srcdir/src/core" $(pkg-config --cflags json-c) -o "$dir/fakecons.so" \
	"$BERTH_TEST_TMP/fakecons.c" || fail "building the console plugin failed"
BERTH_PLUGIN_PATH=$dir; export BERTH_PLUGIN_PATH
timeout 60 "$BERTH" run -e '
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local fast = assert(berth.get("fast"))
local m, err = fast:console_expect("login: ", 5)
T.is(m, "login: ", "console_expect returns the matched text")
T.is(fast:console_send("hello world\n"), true, "console_send")
local line, word = fast:console_expect("you said: (%w+)", 5)
T.is(line, "you said: hello", "console_expect with a capture: the match")
T.is(word, "hello", "... and the capture")
fast:console_send("again\n")
berth.sleep(0.3)
T.like(fast:console_read(), "you said: again", "console_read returns what arrived")
local none, terr = fast:console_expect("never shown", 0.3)
T.is(none, nil, "a timeout returns nil")
T.like(terr, "timeout after 0.3 s waiting for `never shown\x27", "... and says what it waited for")

-- Objects of one instance share its console connection: close this one,
-- or the parallel object of "fast" below would take it over (past its
-- login prompt) instead of opening a new one.
fast:close()

-- Two consoles in parallel: the 0.3 s and 0.6 s waits overlap.
local t0 = berth.clock()
local res, errs = berth.parallel({ "slow", "fast" }, function(name)
  local inst = assert(berth.get(name))
  local got = assert(inst:console_expect("(%w+) login:", 5))
  return got
end)
local dt = berth.clock() - t0
T.is(res[1], "slow login:", "parallel expect on slow")
T.is(res[2], "fast login:", "parallel expect on fast")
T.ok(dt < 0.85, "the two waits overlapped (took less than 0.3 + 0.6 s)", dt)

local dies = assert(berth.get("dies"))
local d, derr = dies:console_expect("login:", 5)
T.is(d, nil, "a console that closes returns nil")
T.like(derr, "closed before", "... saying it closed")
T.done()
' || fail "console checks failed"
