/*
 * abi-public.c - layout facts as a plugin sees them: only berth-plugin.h.
 */
#include <stddef.h>

#include "berth-plugin.h"
#include "abi-list.h"

void abi_public_facts(size_t *out);

void
abi_public_facts(size_t *out)
{
	size_t i = 0;

#define ABI_STORE(f) out[i++] = (size_t)(f);
	ABI_FACTS(ABI_STORE)
}
