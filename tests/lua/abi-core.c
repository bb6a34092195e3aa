/*
 * abi-core.c - test-plugin-abi: berth-plugin.h (the installed header for C
 * plugins) must describe exactly the structures berth uses internally.
 * Compares sizes, offsets and constants compiled from each side.
 */
#include "config.h"

#include <stddef.h>

#include "core/backend.h"
#include "core/error.h"
#include "core/instance.h"
#include "../lib/tap.h"
#include "abi-list.h"

void abi_public_facts(size_t *out);

static const char *const abi_names[] = {
#define ABI_NAME(f) #f,
	ABI_FACTS(ABI_NAME)
};

int
main(void)
{
	size_t core[ABI_COUNT], pub[ABI_COUNT], i = 0;

#define ABI_STORE(f) core[i++] = (size_t)(f);
	ABI_FACTS(ABI_STORE)
	abi_public_facts(pub);
	for (i = 0; i < ABI_COUNT; i++)
		is_int(pub[i], core[i], abi_names[i]);
	return tap_done();
}
