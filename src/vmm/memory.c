/*
 * memory.c - guest RAM allocation and guest-physical address translation.
 * Not for: KVM memory slots (machine.c) or loading images (boot*.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/memory.h"

static uint64_t
host_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || psz <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)psz;
}

int
gmem_check_size(uint64_t mib, struct berr *err)
{
	uint64_t host = host_ram_bytes();

	if (mib == 0)
		return berr_set(err, BERR_INVALID, "guest memory size is 0 MiB");
	if (mib < GMEM_MIN_MIB)
		return berr_set(err, BERR_INVALID, "guest memory of %llu MiB is too small (minimum %d MiB)",
				(unsigned long long)mib, GMEM_MIN_MIB);
	if (mib > GMEM_MAX_MIB)
		return berr_set(err, BERR_INVALID, "guest memory of %llu MiB is absurd (maximum %llu MiB)",
				(unsigned long long)mib, (unsigned long long)GMEM_MAX_MIB);
	if (host && mib > host / (1024 * 1024))
		return berr_set(err, BERR_INVALID,
				"guest memory of %llu MiB is more than this host's RAM (%llu MiB)",
				(unsigned long long)mib, (unsigned long long)(host / (1024 * 1024)));
	return 0;
}

int
gmem_alloc(struct guest_mem *m, uint64_t size, int want_huge, struct berr *err)
{
	void *p = MAP_FAILED;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	memset(m, 0, sizeof *m);
	if (want_huge && size % (2ULL << 20) == 0) {
		/* Without MAP_NORESERVE the pool must hold enough pages now; with it
		 * a short pool would mean SIGBUS on first touch. */
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED)
			m->hugepages = 1;
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return berr_errno(err, "mapping %llu MiB of guest memory",
				  (unsigned long long)(size >> 20));
	if (!m->hugepages)
		madvise(p, size, MADV_MERGEABLE);
	m->host = p;
	m->size = size;
	m->low_size = size < GMEM_PCI_HOLE_START ? size : GMEM_PCI_HOLE_START;
	m->high_size = size - m->low_size;
	return 0;
}

void
gmem_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	m->host = NULL;
}

void *
gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (m->host == NULL || gpa + len < gpa)
		return NULL;
	if (gpa + len <= m->low_size)
		return m->host + gpa;
	if (gpa >= GMEM_HIGH_START && gpa - GMEM_HIGH_START + len <= m->high_size)
		return m->host + m->low_size + (gpa - GMEM_HIGH_START);
	return NULL;
}

uint64_t
gmem_resident(const struct guest_mem *m)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t total = 0, off, chunk = 64ULL << 20;
	unsigned char *vec;

	if (m->host == NULL || psz <= 0)
		return 0;
	vec = malloc(chunk / psz);
	if (vec == NULL)
		return 0;
	for (off = 0; off < m->size; off += chunk) {
		uint64_t n = m->size - off < chunk ? m->size - off : chunk;
		size_t pages = (n + psz - 1) / psz, i;
		if (mincore(m->host + off, n, vec) < 0)
			break;
		for (i = 0; i < pages; i++)
			total += vec[i] & 1;
	}
	free(vec);
	return total * psz;
}
