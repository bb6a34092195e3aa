/*
 * boot.h - Linux direct boot: load a bzImage (64-bit boot protocol, 2.12+)
 * or an ELF vmlinux with a PVH entry note into guest memory, with the
 * command line, initrd, memory map and boot-info page, and say how the boot
 * vCPU must start.
 *
 * Kernel and initrd bytes come from files a user handed us: every size and
 * offset in them is checked, and a bad image is refused with a sentence
 * saying what is wrong.  Pure functions over struct guest_mem, so they can
 * be fuzzed without KVM.
 * Not for: setting vCPU registers (machine.c applies struct boot_info).
 */
#ifndef BERTH_VMM_BOOT_H
#define BERTH_VMM_BOOT_H

#include <stdint.h>
#include <stddef.h>

#include "core/error.h"
#include "vmm/memory.h"

/* Guest-physical layout of the boot structures (all below 1 MiB). */
#define BOOT_GDT_ADDR		0x500
#define BOOT_PVH_INFO_ADDR	0x6000
#define BOOT_PVH_MODLIST_ADDR	0x6040
#define BOOT_PVH_MEMMAP_ADDR	0x6080
#define BOOT_ZERO_PAGE_ADDR	0x7000
#define BOOT_STACK_TOP		0x8ff0
#define BOOT_PML4_ADDR		0x9000
#define BOOT_PDPT_ADDR		0xa000
#define BOOT_PD_ADDR		0xb000		/* 4 pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE_ADDR	0x20000
#define BOOT_CMDLINE_MAX	0x10000
#define BOOT_EBDA_START		0x9fc00
#define BOOT_KERNEL_ADDR	0x100000	/* 1 MiB */

#define BOOT_SEL_CODE32	0x08
#define BOOT_SEL_CODE64	0x10
#define BOOT_SEL_DATA	0x18

enum boot_kind {
	BOOT_BZIMAGE = 1,	/* 64-bit entry, RSI = boot_params, paging on */
	BOOT_PVH,		/* 32-bit protected mode, EBX = hvm_start_info */
};

struct boot_info {
	enum boot_kind kind;
	uint64_t entry;		/* guest-physical entry point */
	uint64_t info_addr;	/* boot_params or hvm_start_info */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_addr, initrd_size;
	unsigned protocol;	/* bzImage boot protocol version (0x20f...), 0 for PVH */
	char desc[64];		/* "bzImage protocol 2.15", "ELF PVH" */
};

/* Load kernel (and initrd, may be NULL/0) with cmdline (may be NULL) into m.
 * Recognises ELF by its magic, else treats the file as a bzImage. */
int boot_load(struct guest_mem *m, const uint8_t *kernel, size_t klen,
	      const uint8_t *initrd, size_t ilen, const char *cmdline,
	      struct boot_info *out, struct berr *err);

/* One e820-style RAM/reserved range of the guest map. */
struct boot_mem_range {
	uint64_t addr, size;
	uint32_t type;		/* 1 RAM, 2 reserved */
};
#define BOOT_MAX_RANGES 4
/* The guest memory map (respecting the PCI hole).  Returns the count. */
size_t boot_memory_map(const struct guest_mem *m, struct boot_mem_range *v);

/* Shared helpers for the two loaders (boot.c). */
int boot_put_cmdline(struct guest_mem *m, const char *cmdline, size_t limit, struct berr *err);
int boot_place_initrd(struct guest_mem *m, const uint8_t *initrd, size_t ilen,
		      uint64_t min_addr, uint64_t max_addr, struct boot_info *bi, struct berr *err);
int boot_write_gdt(struct guest_mem *m, struct berr *err);
int boot_write_page_tables(struct guest_mem *m, struct berr *err);
int boot_load_bzimage(struct guest_mem *m, const uint8_t *k, size_t klen,
		      const uint8_t *initrd, size_t ilen, const char *cmdline,
		      struct boot_info *out, struct berr *err);
int boot_load_pvh(struct guest_mem *m, const uint8_t *k, size_t klen,
		  const uint8_t *initrd, size_t ilen, const char *cmdline,
		  struct boot_info *out, struct berr *err);

#endif
