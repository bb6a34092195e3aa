/*
 * virt-error.c - libvirt errors into struct berr.
 *
 * For: silencing libvirt's default printing to stderr (library code never
 * prints) and turning virGetLastError() into a berr with context and a berth
 * error code.  Not for: deciding how errors are shown (front-ends do that).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlerror.h>
#include <libxml/globals.h>

#include "backends/libvirt/virt.h"

/* libvirt calls this for every error it raises; the error stays available
 * through virGetLastError(), which is all we want. */
static void
virt_error_silent(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
}

/* libxml2 (used by libvirt's in-process drivers and by virt-xml.c) prints
 * some problems, such as a missing file, straight to stderr. */
static void
virt_xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static int virt_init_rc = -1;
static char virt_init_msg[256];

static void
virt_global_init_once(void)
{
	virSetErrorFunc(NULL, virt_error_silent);
	xmlSetGenericErrorFunc(NULL, virt_xml_silent);
	xmlThrDefSetGenericErrorFunc(NULL, virt_xml_silent);
	if (virInitialize() < 0) {
		virErrorPtr e = virGetLastError();

		snprintf(virt_init_msg, sizeof virt_init_msg, "%s",
			 e && e->message ? e->message : "unknown error");
		return;
	}
	virt_init_rc = 0;
}

int
virt_global_init(struct berr *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, virt_global_init_once);
	if (virt_init_rc < 0)
		return berr_set(err, BERR_NOTSUP, "initialising libvirt: %s", virt_init_msg);
	return 0;
}

/* Berth's code for a libvirt error number. */
static int
virt_code_map(const virError *e)
{
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_NO_DOMAIN_SNAPSHOT:
	case VIR_ERR_NO_NETWORK:
	case VIR_ERR_NO_STORAGE_POOL:
	case VIR_ERR_NO_STORAGE_VOL:
		return BERR_NOTFOUND;
	case VIR_ERR_OPERATION_INVALID:
		return BERR_STATE;
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
	case VIR_ERR_ARGUMENT_UNSUPPORTED:
		return BERR_NOTSUP;
	case VIR_ERR_INVALID_ARG:
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
	case VIR_ERR_CONFIG_UNSUPPORTED:
	case VIR_ERR_DOM_EXIST:
	case VIR_ERR_INVALID_DOMAIN:
		return BERR_INVALID;
	case VIR_ERR_OPERATION_TIMEOUT:
	case VIR_ERR_AGENT_UNRESPONSIVE:
		return BERR_TIMEOUT;
	case VIR_ERR_OPERATION_DENIED:
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_ACCESS_DENIED:
		return EACCES;
	case VIR_ERR_SYSTEM_ERROR:
		return e->int1 > 0 ? e->int1 : BERR_REMOTE;
	default:
		return BERR_REMOTE;
	}
}

int
virt_err(struct berr *err, const char *fmt, ...)
{
	char ctx[BERR_MSG_MAX];
	virErrorPtr e = virGetLastError();
	va_list ap;
	int code = BERR_REMOTE;
	const char *msg = "unknown libvirt error";

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	if (e != NULL && e->code != VIR_ERR_OK) {
		code = virt_code_map(e);
		if (e->message != NULL)
			msg = e->message;
	}
	/* XML errors come with the offending line and a caret drawn below it:
	 * keep the first line, which says what and where. */
	if (ctx[0] == '\0')
		berr_set(err, code, "%.*s", (int)strcspn(msg, "\n"), msg);
	else
		berr_set(err, code, "%s: %.*s", ctx, (int)strcspn(msg, "\n"), msg);
	virResetLastError();
	return -1;
}

int
virt_last_code(void)
{
	virErrorPtr e = virGetLastError();

	return e ? e->code : 0;
}

void
virt_reset_error(void)
{
	virResetLastError();
}
