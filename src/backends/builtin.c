/*
 * builtin.c - register the backends linked into this binary.  References
 * are weak so that a build without one of them still links.
 */
#include "config.h"

#include "backends/backends.h"

extern const struct backend_ops libvirt_backend_ops __attribute__((weak));
extern const struct backend_ops kvm_backend_ops __attribute__((weak));
extern const struct backend_ops container_backend_ops __attribute__((weak));
extern const struct backend_ops remote_backend_ops __attribute__((weak));

void
backend_register_builtin(void)
{
	struct berr err = { 0 };

	if (&kvm_backend_ops != NULL)
		backend_register(&kvm_backend_ops, &err);
	if (&container_backend_ops != NULL)
		backend_register(&container_backend_ops, &err);
	if (&libvirt_backend_ops != NULL)
		backend_register(&libvirt_backend_ops, &err);
	if (&remote_backend_ops != NULL)
		backend_register(&remote_backend_ops, &err);
}
