// fuzz-sources: src/ctr/oci-config.c src/core/error.c
// fuzz-libs: -ljson-c
/*
 * fuzz-oci-config.c - libFuzzer target for berth-ctr's config.json parser.
 *
 * Any byte string goes through oci_config_parse: it must either fail with an
 * error message or produce a config whose invariants hold, never crash,
 * leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/oci-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config *c = NULL;
	struct berr err = { 0 };
	char *text;

	if (size > 1 << 20)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (oci_config_parse(text, size, &c, &err) == 0) {
		/* Invariants the runtime relies on. */
		if (c->args == NULL || c->args[0] == NULL || c->cwd == NULL || c->cwd[0] != '/' ||
		    c->root_path == NULL)
			abort();
		for (size_t i = 0; i < c->nmounts; i++)
			if (c->mounts[i].destination == NULL || c->mounts[i].destination[0] != '/')
				abort();
		(void)oci_config_namespace(c, 0);
		oci_config_free(c);
	} else if (err.msg[0] == '\0' || c != NULL) {
		abort();
	}
	free(text);
	return 0;
}
