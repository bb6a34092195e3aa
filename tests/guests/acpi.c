/*
 * acpi.c - count the CPUs the firmware or VMM describes in the ACPI MADT.
 * The RSDP comes from the loader (boot_params.acpi_rsdp_addr or PVH
 * rsdp_paddr) or from the BIOS areas; every table is bounds- and
 * checksum-checked because the VMM under test wrote it.
 * Not for: anything else in ACPI.
 */
#include "guest.h"

#define LIMIT 0x100000000ull

static int
checksum_ok(uint64_t addr, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + *(const volatile uint8_t *)(addr + i));
	return sum == 0;
}

static uint64_t
scan_rsdp(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 20 <= start + len; a += 16)
		if (memcmp((const void *)a, "RSD PTR ", 8) == 0 && checksum_ok(a, 20))
			return a;
	return 0;
}

static uint64_t
find_rsdp(void)
{
	uint64_t ebda;

	if (boot.rsdp_addr && boot.rsdp_addr < LIMIT - 36 &&
	    memcmp((const void *)boot.rsdp_addr, "RSD PTR ", 8) == 0)
		return boot.rsdp_addr;
	uint64_t bda = 0x40e;

	__asm__("" : "+r"(bda));	/* a physical address, not an object */
	ebda = (uint64_t)*(const volatile uint16_t *)bda << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000) {
		uint64_t a = scan_rsdp(ebda, 1024);
		if (a)
			return a;
	}
	return scan_rsdp(0xe0000, 0x20000);
}

/* A sane SDT at addr: returns its length, 0 if not. */
static uint32_t
sdt_len(uint64_t addr)
{
	uint32_t len;

	if (!addr || addr >= LIMIT - 36)
		return 0;
	len = *(const volatile uint32_t *)(addr + 4);
	if (len < 36 || len > 0x100000 || addr + len > LIMIT || !checksum_ok(addr, len))
		return 0;
	return len;
}

static int
madt_count(uint64_t madt, uint32_t len)
{
	int n = 0;
	uint64_t p = madt + 44, end = madt + len;

	while (p + 2 <= end) {
		uint8_t type = *(const volatile uint8_t *)p;
		uint8_t elen = *(const volatile uint8_t *)(p + 1);

		if (elen < 2 || p + elen > end)
			break;
		if (type == 0 && elen >= 8 && (*(const volatile uint32_t *)(p + 4) & 1))
			n++;
		else if (type == 9 && elen >= 16 && (*(const volatile uint32_t *)(p + 8) & 1))
			n++;
		p += elen;
	}
	return n;
}

int
acpi_cpu_count(void)
{
	uint64_t rsdp = find_rsdp(), root;
	uint32_t len, esize;

	if (!rsdp)
		return -1;
	if (*(const volatile uint8_t *)(rsdp + 15) >= 2 && *(const volatile uint64_t *)(rsdp + 24)) {
		root = *(const volatile uint64_t *)(rsdp + 24);
		esize = 8;
	} else {
		root = *(const volatile uint32_t *)(rsdp + 16);
		esize = 4;
	}
	len = sdt_len(root);
	if (!len)
		return -1;
	for (uint64_t e = root + 36; e + esize <= root + len; e += esize) {
		uint64_t t = esize == 8 ? *(const volatile uint64_t *)e : *(const volatile uint32_t *)e;
		uint32_t tlen = sdt_len(t);

		if (tlen >= 44 && memcmp((const void *)t, "APIC", 4) == 0)
			return madt_count(t, tlen);
	}
	return -1;
}
