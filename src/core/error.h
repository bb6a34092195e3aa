/*
 * error.h - error objects for every berth library layer.
 *
 * A fallible function returns a negative value and fills the struct berr
 * passed as its last argument.  Callers add context while unwinding with
 * berr_wrap(), so the front-end ends up with one readable sentence such as
 * "starting vm `web1': opening disk `/x.img': No such file or directory".
 * Library code never prints and never exits; only front-ends decide how an
 * error is shown.  Not for: logging (see log.h).
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stddef.h>

#define BERR_MSG_MAX 1024

/* Codes beyond errno values, for failures that have no errno of their own. */
enum {
	BERR_PROTO = 10000,	/* peer spoke the control protocol wrongly */
	BERR_VERSION,		/* protocol version mismatch */
	BERR_TIMEOUT,		/* peer did not answer in time */
	BERR_NOTSUP,		/* backend does not support the operation */
	BERR_NOTFOUND,		/* no such instance/host/object */
	BERR_AMBIGUOUS,		/* name matches several instances */
	BERR_INVALID,		/* bad argument or malformed input */
	BERR_STATE,		/* operation not valid in the current state */
	BERR_REMOTE,		/* error reported by a remote peer */
};

struct berr {
	int code;		/* errno value or BERR_* (0: no error) */
	char msg[BERR_MSG_MAX];
};

/* Set the error; always returns -1 so callers can `return berr_set(...)`. */
int berr_set(struct berr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like berr_set with code errno, appending ": strerror(errno)". */
int berr_errno(struct berr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix context: "<context>: <previous message>".  Returns -1. */
int berr_wrap(struct berr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void berr_clear(struct berr *e);
/* A short stable name for the code: "ENOENT", "timeout", "notsup"... */
const char *berr_code_name(int code);
/* Parse the name back (for errors carried over the protocol). */
int berr_code_from_name(const char *name);

#endif
