/*
 * test-cmdsplit.c - command-line splitting for the shell and `:` line.
 */
#include "config.h"

#include "cmd/cmd.h"
#include "tap.h"

int
main(void)
{
	int argc;
	char **argv;
	struct berr e = { 0 };

	ok(cmd_split("list  --json web*", &argc, &argv, &e) == 0, "split a simple line");
	is_int(argc, 3, "three words");
	is_str(argv[2], "web*", "globs are not expanded");
	cmd_free_argv(argc, argv);

	ok(cmd_split("start 'my vm' \"x \\\"y\\\"\" a\\ b", &argc, &argv, &e) == 0, "split quotes");
	is_int(argc, 4, "quoted words stay whole");
	is_str(argv[1], "my vm", "single quotes");
	is_str(argv[2], "x \"y\"", "double quotes with escapes");
	is_str(argv[3], "a b", "backslash-escaped space");
	cmd_free_argv(argc, argv);

	ok(cmd_split("info ''", &argc, &argv, &e) == 0 && argc == 2 && argv[1][0] == '\0',
	   "an empty quoted word is kept");
	cmd_free_argv(argc, argv);

	ok(cmd_split("   # just a comment", &argc, &argv, &e) == 0 && argc == 0, "comments give no words");
	cmd_free_argv(argc, argv);

	ok(cmd_split("start 'unterminated", &argc, &argv, &e) < 0, "an unterminated quote is an error");
	is_str(e.msg, "unterminated ' quote", "the error says which quote");
	return tap_done();
}
