/*
 * memory.h - guest RAM of berth-vmm: one anonymous mapping split around the
 * PCI hole (RAM above 3 GiB appears at 4 GiB and up).
 *
 * gmem_ptr() is the only way to turn a guest-physical address into a host
 * pointer: it checks the whole range lies in one RAM region, so a guest or
 * a kernel file can never make the VMM touch memory outside the mapping.
 * Not for: KVM slots (machine.c registers the regions) or dirty tracking.
 */
#ifndef BERTH_VMM_MEMORY_H
#define BERTH_VMM_MEMORY_H

#include <stdint.h>
#include <stddef.h>

#include "core/error.h"

#define GMEM_PCI_HOLE_START 0xC0000000ULL	/* 3 GiB */
#define GMEM_HIGH_START 0x100000000ULL		/* 4 GiB */
#define GMEM_MIN_MIB 2
#define GMEM_MAX_MIB (1024ULL * 1024)		/* 1 TiB */

struct guest_mem {
	uint8_t *host;		/* whole mapping: low region then high region */
	uint64_t size;		/* guest RAM in bytes */
	uint64_t low_size;	/* RAM at [0, low_size) */
	uint64_t high_size;	/* RAM at [4 GiB, 4 GiB + high_size) */
	int hugepages;		/* mapping is backed by hugetlbfs pages */
};

/* Check a size in MiB: not 0, not absurd (over GMEM_MAX_MIB or over the
 * host's RAM). */
int gmem_check_size(uint64_t mib, struct berr *err);
/* Map size bytes; want_huge tries MAP_HUGETLB first and falls back. */
int gmem_alloc(struct guest_mem *m, uint64_t size, int want_huge, struct berr *err);
void gmem_free(struct guest_mem *m);
/* Host pointer for [gpa, gpa+len) if it lies in RAM, else NULL. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Highest guest-physical address + 1 of RAM below 4 GiB. */
static inline uint64_t gmem_low_end(const struct guest_mem *m) { return m->low_size; }
/* Resident bytes of the guest mapping (mincore), or 0 on error. */
uint64_t gmem_resident(const struct guest_mem *m);

#endif
