/*
 * boot.c - what both Linux boot paths share: the memory map, the command
 * line, initrd placement, GDT and identity page tables.
 * Not for: parsing kernel formats (boot-bzimage.c, boot-pvh.c).
 */
#include "config.h"

#include <string.h>

#include "vmm/boot.h"

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t
boot_memory_map(const struct guest_mem *m, struct boot_mem_range *v)
{
	size_t n = 0;

	v[n++] = (struct boot_mem_range){ 0, BOOT_EBDA_START, 1 };
	v[n++] = (struct boot_mem_range){ BOOT_EBDA_START, BOOT_KERNEL_ADDR - BOOT_EBDA_START, 2 };
	if (m->low_size > BOOT_KERNEL_ADDR)
		v[n++] = (struct boot_mem_range){ BOOT_KERNEL_ADDR, m->low_size - BOOT_KERNEL_ADDR, 1 };
	if (m->high_size)
		v[n++] = (struct boot_mem_range){ GMEM_HIGH_START, m->high_size, 1 };
	return n;
}

int
boot_put_cmdline(struct guest_mem *m, const char *cmdline, size_t limit, struct berr *err)
{
	size_t len = cmdline ? strlen(cmdline) : 0;
	uint8_t *p;

	if (limit > BOOT_CMDLINE_MAX - 1)
		limit = BOOT_CMDLINE_MAX - 1;
	if (len > limit)
		return berr_set(err, BERR_INVALID,
				"kernel command line is %zu bytes, over the limit of %zu", len, limit);
	p = gmem_ptr(m, BOOT_CMDLINE_ADDR, len + 1);
	if (p == NULL)
		return berr_set(err, BERR_INVALID, "guest memory too small for the command line");
	if (len)
		memcpy(p, cmdline, len);
	p[len] = 0;
	return 0;
}

int
boot_place_initrd(struct guest_mem *m, const uint8_t *initrd, size_t ilen,
		  uint64_t min_addr, uint64_t max_addr, struct boot_info *bi, struct berr *err)
{
	uint64_t top, addr;
	uint8_t *p;

	bi->initrd_addr = bi->initrd_size = 0;
	if (initrd == NULL)
		return 0;
	if (ilen > m->size)
		return berr_set(err, BERR_INVALID,
				"initrd of %zu bytes is larger than guest memory (%llu bytes)",
				ilen, (unsigned long long)m->size);
	top = m->low_size;
	if (max_addr + 1 < top)
		top = max_addr + 1;
	if (ilen == 0) {
		bi->initrd_addr = top & ~0xfffULL;
		return 0;
	}
	if (ilen > top)
		return berr_set(err, BERR_INVALID,
				"initrd of %zu bytes does not fit below 0x%llx", ilen,
				(unsigned long long)top);
	addr = (top - ilen) & ~0xfffULL;
	if (addr < min_addr)
		return berr_set(err, BERR_INVALID,
				"initrd of %zu bytes would overlap the kernel (kernel ends at 0x%llx, "
				"initrd must lie below 0x%llx)", ilen, (unsigned long long)min_addr,
				(unsigned long long)top);
	p = gmem_ptr(m, addr, ilen);
	if (p == NULL)
		return berr_set(err, BERR_INVALID, "initrd placement outside guest memory");
	memcpy(p, initrd, ilen);
	bi->initrd_addr = addr;
	bi->initrd_size = ilen;
	return 0;
}

int
boot_write_gdt(struct guest_mem *m, struct berr *err)
{
	static const uint64_t gdt[] = {
		0,
		0x00cf9b000000ffffULL,	/* 0x08: 32-bit code, flat */
		0x00af9b000000ffffULL,	/* 0x10: 64-bit code */
		0x00cf93000000ffffULL,	/* 0x18: data, flat */
	};
	uint8_t *p = gmem_ptr(m, BOOT_GDT_ADDR, sizeof gdt);

	if (p == NULL)
		return berr_set(err, BERR_INVALID, "guest memory too small for the GDT");
	for (size_t i = 0; i < sizeof gdt / sizeof gdt[0]; i++)
		put_le64(p + 8 * i, gdt[i]);
	return 0;
}

/* Identity-map the first 4 GiB with 2 MiB pages: enough for the kernel,
 * the zero page and the command line wherever they sit below 4 GiB. */
int
boot_write_page_tables(struct guest_mem *m, struct berr *err)
{
	uint8_t *pml4 = gmem_ptr(m, BOOT_PML4_ADDR, 4096);
	uint8_t *pdpt = gmem_ptr(m, BOOT_PDPT_ADDR, 4096);
	uint8_t *pd = gmem_ptr(m, BOOT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return berr_set(err, BERR_INVALID, "guest memory too small for page tables");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put_le64(pml4, BOOT_PDPT_ADDR | 0x3);
	for (uint64_t i = 0; i < 4; i++)
		put_le64(pdpt + 8 * i, (BOOT_PD_ADDR + i * 4096) | 0x3);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put_le64(pd + 8 * i, (i << 21) | 0x83);
	return 0;
}

int
boot_load(struct guest_mem *m, const uint8_t *kernel, size_t klen,
	  const uint8_t *initrd, size_t ilen, const char *cmdline,
	  struct boot_info *out, struct berr *err)
{
	memset(out, 0, sizeof *out);
	if (m->low_size < 2 * BOOT_KERNEL_ADDR)
		return berr_set(err, BERR_INVALID, "guest memory below 2 MiB cannot boot a kernel");
	if (klen < 4)
		return berr_set(err, BERR_INVALID, "kernel image is truncated (%zu bytes)", klen);
	if (boot_write_gdt(m, err) < 0)
		return -1;
	if (memcmp(kernel, "\177ELF", 4) == 0)
		return boot_load_pvh(m, kernel, klen, initrd, ilen, cmdline, out, err);
	return boot_load_bzimage(m, kernel, klen, initrd, ilen, cmdline, out, err);
}
