/*
 * test-error.c - error objects: set, errno, wrapping with context, code names.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/error.h"
#include "tap.h"

int
main(void)
{
	struct berr e = { 0 };
	char big[3000];
	int r;

	r = berr_set(&e, ENOENT, "opening disk `%s'", "/x.img");
	is_int(r, -1, "berr_set returns -1");
	is_int(e.code, ENOENT, "berr_set keeps the code");
	is_str(e.msg, "opening disk `/x.img'", "berr_set formats the message");

	berr_wrap(&e, "starting vm `%s'", "web1");
	is_str(e.msg, "starting vm `web1': opening disk `/x.img'", "berr_wrap prefixes context");
	is_int(e.code, ENOENT, "berr_wrap keeps the original code");

	errno = EACCES;
	berr_errno(&e, "reading `%s'", "/etc/x");
	is_str(e.msg, "reading `/etc/x': Permission denied", "berr_errno appends strerror");
	is_int(e.code, EACCES, "berr_errno records errno");
	is_int(errno, EACCES, "berr_errno leaves errno as it was");

	berr_clear(&e);
	is_int(e.code, 0, "berr_clear resets the code");
	is_str(e.msg, "", "berr_clear empties the message");

	berr_wrap(&e, "context only");
	is_str(e.msg, "context only", "wrapping an empty error gives the context alone");
	ok(e.code != 0, "wrapping an empty error sets a code");

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	berr_set(&e, EIO, "%s", big);
	ok(strlen(e.msg) == BERR_MSG_MAX - 1, "an over-long message is truncated, terminated");
	berr_wrap(&e, "outer");
	ok(strncmp(e.msg, "outer: aaa", 10) == 0, "wrapping a full message keeps the context first");
	ok(strlen(e.msg) < BERR_MSG_MAX, "a wrapped full message stays in bounds");

	is_str(berr_code_name(BERR_TIMEOUT), "timeout", "code names: timeout");
	is_int(berr_code_from_name("notfound"), BERR_NOTFOUND, "code names parse back");
	is_int(berr_code_from_name("no-such-code"), BERR_REMOTE, "unknown code names map to remote");
	is_int(berr_set(NULL, EIO, "x"), -1, "a NULL error object is tolerated");
	is_str(berr_code_name(ECONNRESET), "ECONNRESET", "errno values beyond the table have names");
	is_int(berr_code_from_name("EXDEV"), EXDEV, "and come back as the same errno");
	return tap_done();
}
