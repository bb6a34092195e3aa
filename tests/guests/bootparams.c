/*
 * bootparams.c - checks what the loader handed over against what the test
 * says it passed, and prints one verdict line:
 *   BOOTPARAMS OK                       exit 0
 *   BOOTPARAMS FAIL: <what differed>    one line per problem, exit 1
 * Command-line keys (all optional):
 *   expect_mem_mib=N         usable e820 RAM is N MiB, less at most
 *                            mem_slack_kib (default 2048) for BIOS/ACPI holes
 *   expect_initrd_size=N     initrd size in bytes (0: no initrd)
 *   expect_initrd_crc32=HEX  CRC-32 (zlib/gzip) of the initrd bytes
 *   expect_cmdline_len=N     strlen of the whole command line (truncation)
 *   expect_entry=bp64|bp32|setup16|pvh   the entry the loader used
 * Also always checked: e820 entries non-empty, of known type, not
 * overlapping, no reserved range inside low RAM, our image and the initrd
 * in usable RAM and not overlapping each other or the command line.
 * Prints "BOOTPARAMS cmdline: <text>" so the test can compare it.
 */
#include "guest.h"

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf("BOOTPARAMS FAIL: %s\n", buf);
	failures++;
}

static int
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Is [addr, addr+len) entirely inside one usable e820 entry? */
static int
in_usable_ram(uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < boot.nmem; i++) {
		const struct boot_mem *m = &boot.mem[i];
		if (m->type == 1 && addr >= m->addr && addr + len <= m->addr + m->size)
			return 1;
	}
	return 0;
}

static void
check_e820(void)
{
	uint64_t low_end = 0;

	if (boot.nmem == 0) {
		fail("no e820 memory map");
		return;
	}
	for (unsigned i = 0; i < boot.nmem; i++) {
		const struct boot_mem *m = &boot.mem[i];

		if (m->size == 0)
			fail("e820 entry %u at 0x%lx has size 0", i, m->addr);
		if (m->addr + m->size < m->addr)
			fail("e820 entry %u wraps around", i);
		if (!(m->type >= 1 && m->type <= 5) && m->type != 7)
			fail("e820 entry %u has unknown type %u", i, m->type);
		for (unsigned j = i + 1; j < boot.nmem; j++)
			if (overlaps(m->addr, m->size, boot.mem[j].addr, boot.mem[j].size))
				fail("e820 entries %u (0x%lx+0x%lx) and %u (0x%lx+0x%lx) overlap", i,
				     m->addr, m->size, j, boot.mem[j].addr, boot.mem[j].size);
		/* The end of the usable RAM that holds our image. */
		if (m->type == 1 && m->addr <= GUEST_LOAD_ADDR && m->addr + m->size > GUEST_LOAD_ADDR)
			low_end = m->addr + m->size;
	}
	if (!in_usable_ram(GUEST_LOAD_ADDR, (uint64_t)_end - GUEST_LOAD_ADDR))
		fail("the guest image 0x%x-0x%lx is not in usable e820 RAM", GUEST_LOAD_ADDR,
		     (uint64_t)_end);
	for (unsigned i = 0; i < boot.nmem; i++) {
		const struct boot_mem *m = &boot.mem[i];

		if (m->type != 1 && overlaps(m->addr, m->size, GUEST_LOAD_ADDR, low_end - GUEST_LOAD_ADDR))
			fail("e820 %s range 0x%lx-0x%lx sits inside low RAM", e820_type_name(m->type),
			     m->addr, m->addr + m->size - 1);
	}
}

static void
check_mem(void)
{
	uint64_t mib = cmdline_u64("expect_mem_mib", 0);
	uint64_t slack = cmdline_u64("mem_slack_kib", 2048) << 10;
	uint64_t ram = boot_ram_bytes(), want = mib << 20;

	if (!mib)
		return;
	if (ram > want)
		fail("e820 usable RAM is %lu KiB, more than the %lu MiB given", ram >> 10, mib);
	else if (ram + slack < want)
		fail("e820 usable RAM is %lu KiB, expected %lu MiB less at most %lu KiB", ram >> 10,
		     mib, slack >> 10);
}

static void
check_cmdline(void)
{
	size_t len = strlen(boot.cmdline);
	uint64_t want = cmdline_u64("expect_cmdline_len", (uint64_t)-1);

	puts_raw("BOOTPARAMS cmdline: ");
	puts_raw(boot.cmdline);
	puts_raw("\n");
	if (want != (uint64_t)-1 && want != len)
		fail("command line is %zu bytes, expected %lu", len, want);
	if (boot.kind != BOOT_KIND_PVH && boot.cmdline_size && len > boot.cmdline_size)
		fail("command line is %zu bytes, above the header's cmdline_size %u", len,
		     boot.cmdline_size);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)boot.cmdline[i] < 0x20 || (unsigned char)boot.cmdline[i] > 0x7e) {
			fail("command line byte %zu is 0x%02x (not printable)", i,
			     (unsigned char)boot.cmdline[i]);
			break;
		}
	if (boot.cmdline_addr && overlaps(boot.cmdline_addr, len + 1, GUEST_LOAD_ADDR,
					  (uint64_t)_end - GUEST_LOAD_ADDR))
		fail("command line at 0x%lx overlaps the guest image", boot.cmdline_addr);
}

static void
check_initrd(void)
{
	char buf[32];
	uint64_t want_size = cmdline_u64("expect_initrd_size", (uint64_t)-1), want_crc;
	uint32_t crc;

	if (want_size == (uint64_t)-1)
		return;
	if (boot.initrd_size != want_size) {
		fail("initrd size is %lu, expected %lu", boot.initrd_size, want_size);
		return;
	}
	if (!want_size)
		return;
	if (boot.initrd_addr >= 0x100000000ull || boot.initrd_size > 0x100000000ull - boot.initrd_addr) {
		fail("initrd at 0x%lx+%lu is beyond the guest's 4 GiB map", boot.initrd_addr,
		     boot.initrd_size);
		return;
	}
	if (!in_usable_ram(boot.initrd_addr, boot.initrd_size))
		fail("initrd at 0x%lx+%lu is not in usable e820 RAM", boot.initrd_addr, boot.initrd_size);
	if (overlaps(boot.initrd_addr, boot.initrd_size, GUEST_LOAD_ADDR, (uint64_t)_end - GUEST_LOAD_ADDR))
		fail("initrd at 0x%lx+%lu overlaps the guest image (ends 0x%lx)", boot.initrd_addr,
		     boot.initrd_size, (uint64_t)_end);
	if (overlaps(boot.initrd_addr, boot.initrd_size, boot.cmdline_addr, strlen(boot.cmdline) + 1))
		fail("initrd overlaps the command line");
	crc = crc32(0, (const void *)boot.initrd_addr, boot.initrd_size);
	printf("BOOTPARAMS initrd: 0x%lx+%lu crc32 %08x\n", boot.initrd_addr, boot.initrd_size, crc);
	if (cmdline_get("expect_initrd_crc32", buf, sizeof buf)) {
		const char *h = buf;
		char hex[40];

		if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
			h += 2;
		snprintf(hex, sizeof hex, "0x%s", h);
		if (parse_u64(hex, &want_crc) < 0)
			fail("expect_initrd_crc32=%s is not hexadecimal", buf);
		else if (want_crc != crc)
			fail("initrd crc32 is %08x, expected %08lx", crc, want_crc);
	}
}

static void
check_entry(void)
{
	static const char *const keys[] = {
		[BOOT_KIND_BP64] = "bp64", [BOOT_KIND_BP32] = "bp32",
		[BOOT_KIND_SETUP16] = "setup16", [BOOT_KIND_PVH] = "pvh",
	};
	char want[16];

	if (boot.kind != BOOT_KIND_PVH && boot.type_of_loader == 0)
		fail("boot_params type_of_loader is 0 (the loader must set it)");
	if (cmdline_get("expect_entry", want, sizeof want) &&
	    (boot.kind < 1 || boot.kind > 4 || strcmp(want, keys[boot.kind]) != 0))
		fail("entered via %s, expected %s", boot.kind_name, want);
}

void
guest_main(void)
{
	printf("BOOTPARAMS entry: %s, %u e820 entries, %lu KiB usable\n", boot.kind_name, boot.nmem,
	       boot_ram_bytes() >> 10);
	for (unsigned i = 0; i < boot.nmem; i++)
		printf("BOOTPARAMS e820: 0x%016lx-0x%016lx %s\n", boot.mem[i].addr,
		       boot.mem[i].addr + boot.mem[i].size - 1, e820_type_name(boot.mem[i].type));
	if (boot.problem[0])
		fail("%s", boot.problem);
	check_entry();
	check_e820();
	check_mem();
	check_cmdline();
	check_initrd();
	if (failures) {
		printf("BOOTPARAMS: %d problem%s\n", failures, failures == 1 ? "" : "s");
		guest_exit(GUEST_EXIT_FAIL);
	}
	printf("BOOTPARAMS OK\n");
	guest_exit(GUEST_EXIT_OK);
}
