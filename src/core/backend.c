/*
 * backend.c - the registry of backend types (built-in and plugins).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/backend.h"

#define BACKEND_MAX 32

static const struct backend_ops *backends[BACKEND_MAX];
static size_t nbackends;

int
backend_notsup(const struct backend_ops *ops, const char *op, struct berr *err)
{
	return berr_set(err, BERR_NOTSUP, "the %s backend does not support %s",
			ops ? ops->name : "?", op);
}

int
backend_register(const struct backend_ops *ops, struct berr *err)
{
	size_t i;

	if (ops == NULL || ops->name == NULL || ops->open == NULL || ops->list == NULL)
		return berr_set(err, BERR_INVALID, "backend has no name, open or list operation");
	if (ops->abi_version != BERTH_BACKEND_ABI)
		return berr_set(err, BERR_VERSION,
				"backend `%s' has ABI version %d, berth needs %d", ops->name,
				ops->abi_version, BERTH_BACKEND_ABI);
	for (i = 0; i < nbackends; i++) {
		if (backends[i] == ops)
			return 0;
		if (strcmp(backends[i]->name, ops->name) == 0)
			return berr_set(err, EEXIST, "a backend named `%s' is already registered", ops->name);
	}
	if (nbackends == BACKEND_MAX)
		return berr_set(err, ENOSPC, "too many backends (%d)", BACKEND_MAX);
	backends[nbackends++] = ops;
	return 0;
}

const struct backend_ops *
backend_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < nbackends; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

size_t
backend_count(void)
{
	return nbackends;
}

const struct backend_ops *
backend_at(size_t i)
{
	return i < nbackends ? backends[i] : NULL;
}
