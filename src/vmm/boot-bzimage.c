/*
 * boot-bzimage.c - load a bzImage through the x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): validate the setup header, copy the
 * protected-mode kernel, build the zero page (boot_params) with the e820
 * map, command line and initrd, and identity page tables for the 64-bit
 * entry at load address + 0x200.
 * Not for: real-mode entry (berth never runs the 16-bit setup code).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vmm/boot.h"

/* Offsets in the image and in boot_params (the setup header sits at the
 * same offsets in both). */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_HEADER		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			4096

#define LOADED_HIGH	0x01
#define CAN_USE_HEAP	0x80
#define XLF_KERNEL_64	0x01

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

int
boot_load_bzimage(struct guest_mem *m, const uint8_t *k, size_t klen,
		  const uint8_t *initrd, size_t ilen, const char *cmdline,
		  struct boot_info *out, struct berr *err)
{
	size_t hdr_end, setup_size, payload, need, cmd_limit;
	unsigned setup_sects, version;
	uint64_t load, init_size, kend, initrd_max;
	struct boot_mem_range map[BOOT_MAX_RANGES];
	size_t nmap, i;
	uint8_t *bp, *dst;

	if (klen < HDR_HEADER + 4)
		return berr_set(err, BERR_INVALID,
				"kernel image is truncated (%zu bytes): too short for a bzImage header",
				klen);
	if (memcmp(k + HDR_HEADER, "HdrS", 4) != 0)
		return berr_set(err, BERR_INVALID,
				"kernel image is neither ELF nor a bzImage (no \"HdrS\" magic at 0x202)");
	hdr_end = HDR_JUMP + 2 + k[HDR_JUMP + 1];
	if (klen < hdr_end || klen < HDR_INIT_SIZE + 4)
		return berr_set(err, BERR_INVALID, "bzImage is truncated inside its setup header");
	if (le16(k + HDR_BOOT_FLAG) != 0xAA55)
		return berr_set(err, BERR_INVALID, "bzImage has a bad boot_flag (0x%04x, want 0xaa55)",
				le16(k + HDR_BOOT_FLAG));
	version = le16(k + HDR_VERSION);
	if (version < 0x206)
		return berr_set(err, BERR_INVALID, "bzImage boot protocol %u.%02u is too old (need 2.06+)",
				version >> 8, version & 0xff);
	if (version < 0x20c || hdr_end < HDR_INIT_SIZE + 4)
		return berr_set(err, BERR_INVALID,
				"bzImage boot protocol %u.%02u has no 64-bit entry (need 2.12+)",
				version >> 8, version & 0xff);
	if (!(k[HDR_XLOADFLAGS] & XLF_KERNEL_64))
		return berr_set(err, BERR_INVALID,
				"bzImage lacks XLF_KERNEL_64: it cannot be entered in 64-bit mode");
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return berr_set(err, BERR_INVALID,
				"bzImage is not LOADED_HIGH (a zImage loaded at 0x10000 is not supported)");
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	setup_size = (size_t)(setup_sects + 1) * 512;
	if (setup_size >= klen)
		return berr_set(err, BERR_INVALID,
				"bzImage is truncated: setup_sects says %zu bytes of setup but the file "
				"has %zu bytes", setup_size, klen);
	payload = klen - setup_size;
	if (le32(k + HDR_SYSSIZE) == 0)
		return berr_set(err, BERR_INVALID, "bzImage header has syssize 0");
	if ((uint64_t)le32(k + HDR_SYSSIZE) * 16 > payload)
		return berr_set(err, BERR_INVALID,
				"bzImage is truncated or lying: syssize says %llu bytes of kernel but "
				"the file holds %zu after the setup", (unsigned long long)le32(k + HDR_SYSSIZE) * 16,
				payload);
	if (payload <= 0x200)
		return berr_set(err, BERR_INVALID, "bzImage kernel is too small to hold a 64-bit entry");

	load = BOOT_KERNEL_ADDR;
	if (!k[HDR_RELOCATABLE])
		load = le64(k + HDR_PREF_ADDRESS);
	init_size = le32(k + HDR_INIT_SIZE);
	need = payload > init_size ? payload : init_size;
	if (load < BOOT_KERNEL_ADDR || load + need < load || load + need > m->low_size)
		return berr_set(err, BERR_INVALID,
				"kernel needs %zu bytes at 0x%llx but guest memory below 3 GiB ends at "
				"0x%llx", need, (unsigned long long)load, (unsigned long long)m->low_size);
	dst = gmem_ptr(m, load, payload);
	if (dst == NULL)
		return berr_set(err, BERR_INVALID, "kernel entry outside guest memory");
	memcpy(dst, k + setup_size, payload);
	kend = load + need;

	/* The zero page: copy the setup header as the kernel expects it back. */
	bp = gmem_ptr(m, BOOT_ZERO_PAGE_ADDR, BP_SIZE);
	if (bp == NULL)
		return berr_set(err, BERR_INVALID, "guest memory too small for boot_params");
	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] = (uint8_t)((k[HDR_LOADFLAGS] | CAN_USE_HEAP) & ~0x20); /* not QUIET */
	put16(bp + HDR_HEAP_END_PTR, 0xfe00);
	put32(bp + HDR_CODE32_START, (uint32_t)load);

	cmd_limit = le32(k + HDR_CMDLINE_SIZE);
	if (boot_put_cmdline(m, cmdline, cmd_limit, err) < 0)
		return -1;
	put32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put32(bp + BP_EXT_CMD_LINE_PTR, 0);

	initrd_max = le32(k + HDR_INITRD_ADDR_MAX);
	if (initrd_max == 0)
		initrd_max = 0x37ffffff;
	if (boot_place_initrd(m, initrd, ilen, (kend + 0xfff) & ~0xfffULL, initrd_max, out, err) < 0)
		return -1;
	put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)out->initrd_addr);
	put32(bp + HDR_RAMDISK_SIZE, (uint32_t)out->initrd_size);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(out->initrd_addr >> 32));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(out->initrd_size >> 32));

	nmap = boot_memory_map(m, map);
	for (i = 0; i < nmap; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		put64(e, map[i].addr);
		put64(e + 8, map[i].size);
		put32(e + 16, map[i].type);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)nmap;

	if (boot_write_page_tables(m, err) < 0)
		return -1;
	out->kind = BOOT_BZIMAGE;
	out->entry = load + 0x200;
	out->info_addr = BOOT_ZERO_PAGE_ADDR;
	out->kernel_start = load;
	out->kernel_end = kend;
	out->protocol = version;
	snprintf(out->desc, sizeof out->desc, "bzImage protocol %u.%02u", version >> 8, version & 0xff);
	return 0;
}
