/*
 * backends.h - the backends compiled into berth.
 */
#ifndef BERTH_BACKENDS_H
#define BERTH_BACKENDS_H

#include "core/backend.h"

extern const struct backend_ops libvirt_backend_ops;
extern const struct backend_ops kvm_backend_ops;
extern const struct backend_ops container_backend_ops;

#endif
