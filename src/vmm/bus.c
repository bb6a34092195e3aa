/*
 * bus.c - sorted range tables for port I/O and MMIO dispatch.
 * Not for: knowing any device; see bus.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"

void
bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof *b);
	b->name = name;
}

void
bus_free(struct bus *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

int
bus_register(struct bus *b, uint64_t base, uint64_t len, const char *name,
	     bus_io_fn fn, void *dev, struct berr *err)
{
	size_t i;

	if (len == 0 || base + len < base)
		return berr_set(err, BERR_INVALID, "%s bus: bad range for %s", b->name, name);
	for (i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->v[i];
		if (base < r->base + r->len && r->base < base + len)
			return berr_set(err, EEXIST, "%s bus: %s at 0x%llx overlaps %s", b->name,
					name, (unsigned long long)base, r->name);
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *v = realloc(b->v, cap * sizeof *v);
		if (v == NULL)
			return berr_errno(err, "%s bus", b->name);
		b->v = v;
		b->cap = cap;
	}
	for (i = b->n; i > 0 && b->v[i - 1].base > base; i--)
		b->v[i] = b->v[i - 1];
	b->v[i] = (struct bus_range){ .base = base, .len = len, .name = name, .fn = fn, .dev = dev };
	b->n++;
	return 0;
}

const struct bus_range *
bus_find(const struct bus *b, uint64_t addr)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->v[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int
bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write)
{
	const struct bus_range *r = bus_find(b, addr);

	if (r == NULL) {
		if (!is_write)
			memset(data, 0xff, len);
		return -1;
	}
	r->fn(r->dev, addr - r->base, data, len, is_write);
	return 0;
}
