/*
 * bus.h - address-range buses of berth-vmm (port I/O and MMIO).
 *
 * A device registers the ranges it decodes with a handler and an opaque
 * pointer; it never learns which bus it sits on.  The bus finds the range
 * for an access and calls the handler with the offset inside the range.
 * Registration happens before vCPUs start; lookups afterwards take no lock
 * (handlers serialise on their device's own lock).
 * Not for: device state (each device keeps its own plain struct).
 */
#ifndef BERTH_VMM_BUS_H
#define BERTH_VMM_BUS_H

#include <stdint.h>
#include <stddef.h>

#include "core/error.h"

/* data holds len bytes (1, 2, 4 or 8) in guest (little-endian) order; a
 * read handler fills it, a write handler consumes it. */
typedef void (*bus_io_fn)(void *dev, uint64_t offset, uint8_t *data, uint32_t len, int is_write);

struct bus_range {
	uint64_t base, len;
	const char *name;
	bus_io_fn fn;
	void *dev;
};

struct bus {
	const char *name;		/* "pio", "mmio" */
	struct bus_range *v;		/* sorted by base, no overlaps */
	size_t n, cap;
};

void bus_init(struct bus *b, const char *name);
void bus_free(struct bus *b);
/* Fails (EEXIST) when the range overlaps one already registered. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const char *name,
		 bus_io_fn fn, void *dev, struct berr *err);
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);
/* Dispatch an access: 0 when a device claimed it, -1 when nobody did (a
 * read then returns all ones). */
int bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write);

#endif
