/*
 * boot-pvh.c - load an ELF kernel (vmlinux) through its PVH entry: the
 * XEN_ELFNOTE_PHYS32_ENTRY note gives a 32-bit protected-mode entry point
 * that receives EBX = guest-physical address of a struct hvm_start_info
 * (xen/include/public/arch-x86/hvm/start_info.h) with the memory map,
 * command line and the initrd as module 0.
 * Not for: Xen hypercalls or any other Xen ELF note.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vmm/boot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578
#define PVH_CMDLINE_LIMIT 2047		/* x86 COMMAND_LINE_SIZE - 1 */
#define PT_LOAD 1
#define PT_NOTE 4

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void
read_phdr(const uint8_t *p, int is64, struct phdr *ph)
{
	ph->type = le32(p);
	if (is64) {
		ph->offset = le64(p + 8);
		ph->paddr = le64(p + 24);
		ph->filesz = le64(p + 32);
		ph->memsz = le64(p + 40);
	} else {
		ph->offset = le32(p + 4);
		ph->paddr = le32(p + 12);
		ph->filesz = le32(p + 16);
		ph->memsz = le32(p + 20);
	}
}

/* Search one PT_NOTE segment for the PVH entry.  1 found, 0 not, -1 bad. */
static int
find_pvh_note(const uint8_t *n, uint64_t len, uint64_t *entry)
{
	uint64_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = le32(n + off), descsz = le32(n + off + 4), type = le32(n + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ULL);
		uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ULL);

		if (desc_off > len || next > len || desc_off + descsz > len)
			return -1;
		if (namesz == 4 && memcmp(n + name_off, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			if (descsz == 4)
				*entry = le32(n + desc_off);
			else if (descsz == 8)
				*entry = le64(n + desc_off);
			else
				return -1;
			return 1;
		}
		off = next;
	}
	return 0;
}

int
boot_load_pvh(struct guest_mem *m, const uint8_t *k, size_t klen,
	      const uint8_t *initrd, size_t ilen, const char *cmdline,
	      struct boot_info *out, struct berr *err)
{
	int is64, found = 0, nload = 0;
	uint64_t phoff, entry = 0, kstart = UINT64_MAX, kend = 0;
	unsigned phnum, phentsize, i;
	struct boot_mem_range map[BOOT_MAX_RANGES];
	size_t nmap;
	uint8_t *si, *mm, *ml;

	if (klen < 52)
		return berr_set(err, BERR_INVALID, "ELF kernel is truncated (%zu bytes)", klen);
	if (k[4] != 1 && k[4] != 2)
		return berr_set(err, BERR_INVALID, "ELF kernel has a bad class (%u)", k[4]);
	is64 = k[4] == 2;
	if (k[5] != 1)
		return berr_set(err, BERR_INVALID, "ELF kernel is not little-endian");
	if (le16(k + 18) != 62 && le16(k + 18) != 3)
		return berr_set(err, BERR_INVALID, "ELF kernel is not for x86 (e_machine %u)",
				le16(k + 18));
	if (is64 && klen < 64)
		return berr_set(err, BERR_INVALID, "ELF kernel is truncated inside its header");
	phoff = is64 ? le64(k + 32) : le32(k + 28);
	phentsize = le16(k + (is64 ? 54 : 42));
	phnum = le16(k + (is64 ? 56 : 44));
	if (phnum == 0 || phentsize < (is64 ? 56u : 32u) || phoff > klen ||
	    (uint64_t)phnum * phentsize > klen - phoff)
		return berr_set(err, BERR_INVALID,
				"ELF kernel program headers are truncated or lying (phoff %llu, %u x %u "
				"bytes, file %zu bytes)", (unsigned long long)phoff, phnum, phentsize, klen);

	for (i = 0; i < phnum; i++) {
		struct phdr ph;
		read_phdr(k + phoff + (uint64_t)i * phentsize, is64, &ph);
		if (ph.type != PT_LOAD && ph.type != PT_NOTE)
			continue;
		if (ph.offset > klen || ph.filesz > klen - ph.offset)
			return berr_set(err, BERR_INVALID,
					"ELF kernel is truncated: segment %u needs bytes %llu..%llu of a "
					"%zu-byte file", i, (unsigned long long)ph.offset,
					(unsigned long long)(ph.offset + ph.filesz), klen);
		if (ph.type == PT_NOTE) {
			int r = found ? 0 : find_pvh_note(k + ph.offset, ph.filesz, &entry);
			if (r < 0)
				return berr_set(err, BERR_INVALID, "ELF kernel has a malformed note segment");
			if (r > 0)
				found = 1;
			continue;
		}
		if (ph.filesz > ph.memsz)
			return berr_set(err, BERR_INVALID,
					"ELF segment %u is lying: file size %llu over memory size %llu", i,
					(unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
		if (ph.memsz == 0)
			continue;
		if (ph.paddr < BOOT_KERNEL_ADDR)
			return berr_set(err, BERR_INVALID,
					"ELF segment %u at 0x%llx is below 1 MiB, where berth keeps boot "
					"structures", i, (unsigned long long)ph.paddr);
		uint8_t *dst = gmem_ptr(m, ph.paddr, ph.memsz);
		if (dst == NULL || ph.paddr + ph.memsz > m->low_size)
			return berr_set(err, BERR_INVALID,
					"ELF segment %u (0x%llx, %llu bytes) lies outside guest memory "
					"(RAM below 3 GiB ends at 0x%llx)", i, (unsigned long long)ph.paddr,
					(unsigned long long)ph.memsz, (unsigned long long)m->low_size);
		memcpy(dst, k + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		if (ph.paddr < kstart)
			kstart = ph.paddr;
		if (ph.paddr + ph.memsz > kend)
			kend = ph.paddr + ph.memsz;
		nload++;
	}
	if (!found)
		return berr_set(err, BERR_INVALID,
				"ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
				"build it with CONFIG_PVH=y or boot the bzImage");
	if (nload == 0)
		return berr_set(err, BERR_INVALID, "ELF kernel has no loadable segment");
	if (entry < kstart || entry >= kend || entry > 0xffffffffULL)
		return berr_set(err, BERR_INVALID,
				"PVH entry 0x%llx lies outside the loaded kernel (0x%llx..0x%llx)",
				(unsigned long long)entry, (unsigned long long)kstart,
				(unsigned long long)kend);

	if (boot_put_cmdline(m, cmdline, PVH_CMDLINE_LIMIT, err) < 0)
		return -1;
	if (boot_place_initrd(m, initrd, ilen, (kend + 0xfff) & ~0xfffULL, 0xffffffffULL, out, err) < 0)
		return -1;

	si = gmem_ptr(m, BOOT_PVH_INFO_ADDR, 56);
	ml = gmem_ptr(m, BOOT_PVH_MODLIST_ADDR, 32);
	mm = gmem_ptr(m, BOOT_PVH_MEMMAP_ADDR, 24 * BOOT_MAX_RANGES);
	if (!si || !ml || !mm)
		return berr_set(err, BERR_INVALID, "guest memory too small for hvm_start_info");
	memset(si, 0, 56);
	memset(ml, 0, 32);
	nmap = boot_memory_map(m, map);
	for (size_t j = 0; j < nmap; j++) {
		put64(mm + 24 * j, map[j].addr);
		put64(mm + 24 * j + 8, map[j].size);
		put32(mm + 24 * j + 16, map[j].type);
		put32(mm + 24 * j + 20, 0);
	}
	put32(si, HVM_START_MAGIC);
	put32(si + 4, 1);				/* version: has memmap */
	put32(si + 8, 0);				/* flags */
	put32(si + 12, initrd ? 1 : 0);			/* nr_modules */
	put64(si + 16, initrd ? BOOT_PVH_MODLIST_ADDR : 0);
	put64(si + 24, BOOT_CMDLINE_ADDR);
	put64(si + 32, 0);				/* rsdp_paddr: no ACPI yet */
	put64(si + 40, BOOT_PVH_MEMMAP_ADDR);
	put32(si + 48, (uint32_t)nmap);
	if (initrd) {
		put64(ml, out->initrd_addr);
		put64(ml + 8, out->initrd_size);
	}
	out->kind = BOOT_PVH;
	out->entry = entry;
	out->info_addr = BOOT_PVH_INFO_ADDR;
	out->kernel_start = kstart;
	out->kernel_end = kend;
	snprintf(out->desc, sizeof out->desc, "ELF%d PVH", is64 ? 64 : 32);
	return 0;
}
