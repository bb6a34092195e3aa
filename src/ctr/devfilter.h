/*
 * devfilter.h - device access control on cgroup v2 (an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup).
 * Not for: v1, where cgroup.c writes devices.allow/devices.deny.
 */
#ifndef BERTH_CTR_DEVFILTER_H
#define BERTH_CTR_DEVFILTER_H

#include <stddef.h>

#include "core/error.h"
#include "ctr/oci-config.h"

#define devfilter_rule oci_device_rule

/* Rules in order (later ones override earlier ones, as in v1); anything no
 * rule matches is denied. */
int devfilter_attach(const char *cgroup_dir, const struct devfilter_rule *rules, size_t nrules,
		     struct berr *err);

#endif
