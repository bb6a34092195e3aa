/*
 * error.c - error objects: set, wrap with context, name codes.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

int
berr_set(struct berr *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
berr_errno(struct berr *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t len;

	if (e == NULL)
		return -1;
	e->code = saved;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof e->msg - len, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int
berr_wrap(struct berr *e, const char *fmt, ...)
{
	char buf[BERR_MSG_MAX];
	size_t plen, olen;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	plen = strlen(buf);
	olen = strlen(e->msg);
	/* "<context>: <old>", truncated at the end if it does not fit. */
	if (olen > 0 && plen + 2 < sizeof buf) {
		size_t room = sizeof buf - plen - 3;

		memcpy(buf + plen, ": ", 2);
		if (olen > room)
			olen = room;
		memcpy(buf + plen + 2, e->msg, olen);
		buf[plen + 2 + olen] = '\0';
	}
	memcpy(e->msg, buf, sizeof e->msg);
	if (e->code == 0)
		e->code = EIO;
	return -1;
}

void
berr_clear(struct berr *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

static const struct {
	int code;
	const char *name;
} berr_names[] = {
	{ BERR_PROTO, "protocol" },
	{ BERR_VERSION, "version" },
	{ BERR_TIMEOUT, "timeout" },
	{ BERR_NOTSUP, "notsup" },
	{ BERR_NOTFOUND, "notfound" },
	{ BERR_AMBIGUOUS, "ambiguous" },
	{ BERR_INVALID, "invalid" },
	{ BERR_STATE, "state" },
	{ BERR_REMOTE, "remote" },
	{ ENOENT, "ENOENT" },
	{ EEXIST, "EEXIST" },
	{ EACCES, "EACCES" },
	{ EPERM, "EPERM" },
	{ EINVAL, "EINVAL" },
	{ ENOMEM, "ENOMEM" },
	{ ENOSPC, "ENOSPC" },
	{ EROFS, "EROFS" },
	{ EBUSY, "EBUSY" },
	{ EIO, "EIO" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ EPIPE, "EPIPE" },
	{ ENOTSUP, "ENOTSUP" },
};

/* errno values beyond the table travel as their symbolic names (glibc's
 * strerrorname_np), so the peer gets the same code back. */
#define BERR_ERRNO_MAX 200

const char *
berr_code_name(int code)
{
	size_t i;
	const char *n;

	for (i = 0; i < sizeof berr_names / sizeof berr_names[0]; i++)
		if (berr_names[i].code == code)
			return berr_names[i].name;
	if (code > 0 && code < BERR_ERRNO_MAX && (n = strerrorname_np(code)) != NULL)
		return n;
	return code == 0 ? "ok" : "error";
}

int
berr_code_from_name(const char *name)
{
	size_t i;
	int c;

	if (name == NULL)
		return BERR_REMOTE;
	for (i = 0; i < sizeof berr_names / sizeof berr_names[0]; i++)
		if (strcmp(berr_names[i].name, name) == 0)
			return berr_names[i].code;
	if (name[0] == 'E')
		for (c = 1; c < BERR_ERRNO_MAX; c++) {
			const char *n = strerrorname_np(c);

			if (n != NULL && strcmp(n, name) == 0)
				return c;
		}
	return BERR_REMOTE;
}
