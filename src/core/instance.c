/*
 * instance.c - instance objects, state and kind names, instance lists.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/instance.h"
#include "core/util.h"

struct instance *
instance_new(const char *name, enum inst_kind kind)
{
	struct instance *inst = xcalloc(1, sizeof *inst);

	inst->name = xstrdup(name ? name : "");
	inst->kind = kind;
	return inst;
}

void
instance_free(struct instance *inst)
{
	if (inst == NULL)
		return;
	if (inst->priv != NULL && inst->backend != NULL && inst->backend->free_priv != NULL)
		inst->backend->free_priv(inst);
	free(inst->name);
	free(inst->host);
	free(inst->reason);
	free(inst);
}

struct instance *
instance_dup(const struct instance *src)
{
	struct instance *inst = xmalloc(sizeof *inst);

	*inst = *src;
	inst->name = xstrdup(src->name);
	inst->host = xstrdup(src->host);
	inst->reason = xstrdup(src->reason);
	inst->priv = NULL;
	return inst;
}

int
instance_set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
	return 0;
}

static const char *const state_names[INST_STATE_MAX] = {
	[INST_UNKNOWN] = "unknown",
	[INST_STOPPED] = "stopped",
	[INST_CREATED] = "created",
	[INST_RUNNING] = "running",
	[INST_PAUSED] = "paused",
	[INST_SHUTDOWN] = "shutdown",
	[INST_CRASHED] = "crashed",
};

const char *
inst_state_name(enum inst_state s)
{
	if ((unsigned)s >= INST_STATE_MAX)
		return "unknown";
	return state_names[s];
}

enum inst_state
inst_state_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return INST_UNKNOWN;
	for (i = 0; i < INST_STATE_MAX; i++)
		if (strcmp(state_names[i], name) == 0)
			return (enum inst_state)i;
	if (strcmp(name, "shutoff") == 0 || strcmp(name, "stopped") == 0)
		return INST_STOPPED;
	return INST_UNKNOWN;
}

const char *
inst_kind_name(enum inst_kind k)
{
	return k == INST_CONTAINER ? "ct" : "vm";
}

int
inst_kind_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "vm") == 0)
		return INST_VM;
	if (strcmp(name, "ct") == 0 || strcmp(name, "container") == 0)
		return INST_CONTAINER;
	return -1;
}

int
inst_list_push(struct inst_list *l, struct instance *inst)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = inst;
	return 0;
}

void
inst_list_clear(struct inst_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		instance_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
