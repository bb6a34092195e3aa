/*
 * test-boot.c - the Linux loaders (src/vmm/boot*.c) against valid and
 * hostile images: valid bzImage and PVH ELF images load with the expected
 * entry, zero page and start info; then thousands of deterministic random
 * mutations (flipped header bytes, truncations, random initrd and command
 * line sizes) must each either load inside guest memory or be refused with
 * a message, never crash (run under ASan in the sanitizer build).
 * Built with -DBOOT_FUZZER it is a libFuzzer target instead
 * (LLVMFuzzerTestOneInput), for tests/fuzz.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/boot.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

#define BZ_LEN (1024 + 0x600)
#define ELF_LEN 0x1400

static void
make_bzimage(uint8_t *img)
{
	memset(img, 0, BZ_LEN);
	img[0x1f1] = 1;
	put32(img + 0x1f4, 0x600 / 16);
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x66;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01;
	put32(img + 0x22c, 0x7fffffff);
	img[0x234] = 1;
	img[0x236] = 1;
	put32(img + 0x238, 255);
	put32(img + 0x260, 0x10000);
	memset(img + 1024, 0x90, 0x600);
}

static void
make_elf(uint8_t *img)
{
	uint8_t *ph = img + 64, *n = img + 0x200;

	memset(img, 0, ELF_LEN);
	memcpy(img, "\177ELF", 4);
	img[4] = 2; img[5] = 1; img[6] = 1;
	put16(img + 16, 2);
	put16(img + 18, 62);
	put64(img + 32, 64);
	put16(img + 54, 56);
	put16(img + 56, 2);
	put32(ph, 1);
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0x200000);
	put64(ph + 24, 0x200000);
	put64(ph + 32, 0x400);
	put64(ph + 40, 0x2000);
	ph += 56;
	put32(ph, 4);
	put64(ph + 8, 0x200);
	put64(ph + 32, 20);
	put32(n, 4);
	put32(n + 4, 4);
	put32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	put32(n + 16, 0x200010);
	memset(img + 0x1000, 0xf4, 0x400);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Load and check the invariants of a success.  Returns 1 loaded, 0 refused, -1 broken. */
static int
try_load(struct guest_mem *m, const uint8_t *k, size_t klen, const uint8_t *rd, size_t rdlen,
	 const char *cmdline)
{
	struct boot_info bi;
	struct berr err;

	berr_clear(&err);
	if (boot_load(m, k, klen, rd, rdlen, cmdline, &bi, &err) < 0)
		return err.msg[0] ? 0 : -1;
	if (gmem_ptr(m, bi.entry, 1) == NULL || bi.entry < BOOT_KERNEL_ADDR)
		return -1;
	if (rd && (bi.initrd_addr + bi.initrd_size > m->low_size ||
		   (rdlen && bi.initrd_addr < bi.kernel_end)))
		return -1;
	return 1;
}

#ifdef BOOT_FUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem m;
	struct berr err;
	static const uint8_t rd[5000];

	if (m.host == NULL && gmem_alloc(&m, 64 << 20, 0, &err) < 0)
		abort();
	if (try_load(&m, data, size, size & 1 ? rd : NULL, size % 5000, "console=ttyS0") < 0)
		abort();
	return 0;
}
#else
int
main(void)
{
	struct guest_mem m;
	struct berr err;
	struct boot_info bi;
	uint8_t bz[BZ_LEN], elf[ELF_LEN], img[ELF_LEN > BZ_LEN ? ELF_LEN : BZ_LEN];
	static uint8_t rd[1 << 20];
	char cmd[600];
	int loaded = 0, refused = 0, broken = 0;

	ok(gmem_alloc(&m, 64 << 20, 0, &err) == 0, "64 MiB of guest memory");
	make_bzimage(bz);
	make_elf(elf);
	memset(rd, 0xab, sizeof rd);

	berr_clear(&err);
	is_int(boot_load(&m, bz, BZ_LEN, rd, 12345, "console=ttyS0", &bi, &err), 0, "valid bzImage loads");
	is_int(bi.kind, BOOT_BZIMAGE, "bzImage kind");
	is_int(bi.entry, 0x100200, "64-bit entry at load address + 0x200");
	is_int(get32(m.host + BOOT_ZERO_PAGE_ADDR + 0x228), BOOT_CMDLINE_ADDR, "cmd_line_ptr");
	is_int(m.host[BOOT_ZERO_PAGE_ADDR + 0x210], 0xff, "type_of_loader");
	is_int(get32(m.host + BOOT_ZERO_PAGE_ADDR + 0x21c), 12345, "ramdisk_size");
	is_int(get32(m.host + BOOT_ZERO_PAGE_ADDR + 0x218) % 4096, 0, "ramdisk_image page aligned");
	is_int(m.host[BOOT_ZERO_PAGE_ADDR + 0x1e8], 3, "three e820 entries");
	ok(memcmp(m.host + get32(m.host + BOOT_ZERO_PAGE_ADDR + 0x218), rd, 12345) == 0, "initrd bytes");
	ok(strcmp((char *)m.host + BOOT_CMDLINE_ADDR, "console=ttyS0") == 0, "command line bytes");

	is_int(boot_load(&m, elf, ELF_LEN, rd, 100, "pvh", &bi, &err), 0, "valid PVH ELF loads");
	is_int(bi.kind, BOOT_PVH, "PVH kind");
	is_int(bi.entry, 0x200010, "PVH entry from the note");
	is_int(get32(m.host + BOOT_PVH_INFO_ADDR), 0x336ec578, "hvm_start_info magic");
	is_int(get32(m.host + BOOT_PVH_INFO_ADDR + 12), 1, "one module (the initrd)");
	is_int(get32(m.host + BOOT_PVH_INFO_ADDR + 48), 3, "three memmap entries");

	memset(cmd, 'x', 300);
	cmd[300] = 0;
	ok(boot_load(&m, bz, BZ_LEN, NULL, 0, cmd, &bi, &err) < 0 && strstr(err.msg, "limit of 255"),
	   "cmdline over cmdline_size refused");
	ok(boot_load(&m, bz, 0x100, NULL, 0, NULL, &bi, &err) < 0 && strstr(err.msg, "truncated"),
	   "truncated header refused");

	for (int i = 0; i < 20000; i++) {
		int elfcase = rnd() & 1, r;
		size_t len = elfcase ? ELF_LEN : BZ_LEN, rdlen = 0, hot = elfcase ? 0x220 : 0x270;
		int flips = 1 + (int)(rnd() % 8);

		memcpy(img, elfcase ? elf : bz, len);
		for (int f = 0; f < flips; f++) {
			size_t at = (rnd() % 4) ? 0x1f0 * !elfcase + rnd() % hot : rnd() % len;
			if (at < len)
				img[at] = (uint8_t)rnd();
		}
		if (rnd() % 8 == 0)
			len = rnd() % len;
		if (rnd() % 2)
			rdlen = rnd() % sizeof rd;
		memset(cmd, 'c', sizeof cmd);
		cmd[rnd() % sizeof cmd] = 0;
		r = try_load(&m, img, len, rnd() % 2 ? rd : NULL, rdlen, cmd);
		if (r > 0)
			loaded++;
		else if (r == 0)
			refused++;
		else
			broken++;
	}
	printf("# mutations: %d loaded, %d refused with a reason, %d broken\n", loaded, refused, broken);
	is_int(broken, 0, "every mutated image loads within memory or is refused with a reason");
	ok(loaded > 0 && refused > 0, "mutations exercise both outcomes");
	gmem_free(&m);
	return tap_done();
}
#endif
