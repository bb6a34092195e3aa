/*
 * portfuzz.c - writes pseudo-random bytes, words and dwords to every I/O
 * port 0..0xffff (and reads each back), then prints "SURVIVED <n> ports"
 * and exits 0: a VMM must absorb any port access from a guest.
 *
 * Skipped, because they end or corrupt the test rather than probe the
 * VMM: always the debug exit 0x501 and COM1 0x3f8-0x3ff (our console);
 * unless `noskip`, the PIC 0x20-0x21/0xa0-0xa1, the PIT 0x40-0x43, the i8042
 * 0x60-0x64 (0xfe resets), port 0x92 (fast reset) and 0xcf9 (reset
 * control); and unless `platform=minimal`, QEMU's own platform ports:
 * 0xcf8-0xcff (PCI config: could move the blocks below), fw_cfg 0x510-0x51b
 * (DMA to a garbage address), APM 0xb2-0xb3 (SMI), ACPI PM blocks
 * 0x600-0x6ff (q35, incl. the TCO watchdog) and 0xb000-0xb03f (pc), ACPI
 * hotplug 0xae00-0xafff and 0xcd8-0xce3.
 * Keys: ports=A-B (default 0-0xffff), seed=N, skip=A-B[,A-B...] (more ports
 * to leave alone), platform=minimal (berth-vmm: fuzz PCI config too),
 * noskip (only the debug exit and COM1 are skipped).
 */
#include "guest.h"

struct range {
	uint32_t lo, hi;
};

static const struct range reset_skip[] = {
	{ 0x020, 0x021 }, { 0x040, 0x043 }, { 0x060, 0x064 }, { 0x092, 0x092 },
	{ 0x0a0, 0x0a1 }, { 0xcf9, 0xcf9 },
};
static const struct range qemu_skip[] = {
	{ 0x0b2, 0x0b3 }, { 0x510, 0x51b }, { 0x600, 0x6ff }, { 0xcd8, 0xce3 },
	{ 0xcf8, 0xcff }, { 0xae00, 0xafff }, { 0xb000, 0xb03f },
};
static const struct range always_skip[] = {
	{ DEBUG_EXIT_PORT, DEBUG_EXIT_PORT }, { 0x3f8, 0x3ff },
};
static struct range extra_skip[16];
static unsigned n_extra;
static int use_reset_skip = 1, use_qemu_skip = 1;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int
in_list(const struct range *r, unsigned n, uint32_t lo, uint32_t hi)
{
	for (unsigned i = 0; i < n; i++)
		if (lo <= r[i].hi && r[i].lo <= hi)
			return 1;
	return 0;
}

static int
skipped(uint32_t port, unsigned width)
{
	uint32_t hi = port + width - 1;

	return in_list(always_skip, ARRAY_SIZE(always_skip), port, hi) ||
	       (use_reset_skip && in_list(reset_skip, ARRAY_SIZE(reset_skip), port, hi)) ||
	       (use_qemu_skip && in_list(qemu_skip, ARRAY_SIZE(qemu_skip), port, hi)) ||
	       in_list(extra_skip, n_extra, port, hi) || hi > 0xffff;
}

static int
parse_range(const char *s, struct range *r)
{
	char a[16], b[16];
	const char *dash = s;
	size_t n;
	uint64_t lo, hi;

	while (*dash && *dash != '-')
		dash++;
	n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof a)
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (*dash) {
		if (strlen(dash + 1) >= sizeof b)
			return -1;
		memcpy(b, dash + 1, strlen(dash + 1) + 1);
	} else {
		memcpy(b, a, n + 1);
	}
	if (parse_u64(a, &lo) < 0 || parse_u64(b, &hi) < 0 || lo > hi || hi > 0xffff)
		return -1;
	r->lo = (uint32_t)lo;
	r->hi = (uint32_t)hi;
	return 0;
}

static void
parse_skips(void)
{
	char buf[256], *p = buf;

	if (!cmdline_get("skip", buf, sizeof buf))
		return;
	while (*p && n_extra < ARRAY_SIZE(extra_skip)) {
		char *comma = p;

		while (*comma && *comma != ',')
			comma++;
		if (*comma)
			*comma++ = '\0';
		if (parse_range(p, &extra_skip[n_extra]) < 0)
			panic("bad skip range \"%s\"", p);
		n_extra++;
		p = comma;
	}
}

void
guest_main(void)
{
	struct range span = { 0, 0xffff };
	char buf[32];
	unsigned long done = 0, skipped_ports = 0;

	if (cmdline_get("ports", buf, sizeof buf) && parse_range(buf, &span) < 0)
		panic("bad ports range \"%s\"", buf);
	rng ^= cmdline_u64("seed", 0) * 0x2545f4914f6cdd1dull;
	if (cmdline_get("platform", buf, sizeof buf) && !strcmp(buf, "minimal"))
		use_qemu_skip = 0;
	if (cmdline_has("noskip"))
		use_reset_skip = use_qemu_skip = 0;
	parse_skips();
	printf("portfuzz: ports 0x%x-0x%x\n", span.lo, span.hi);
	for (uint32_t port = span.lo; port <= span.hi; port++) {
		uint16_t p = (uint16_t)port;

		if ((port & 0xfff) == 0 && port != span.lo)
			printf("portfuzz: at 0x%04x\n", port);
		if (skipped(port, 1)) {
			skipped_ports++;
			continue;
		}
		outb(p, (uint8_t)next_random());
		(void)inb(p);
		if (!(port & 1) && !skipped(port, 2)) {
			outw(p, (uint16_t)next_random());
			(void)inw(p);
		}
		if (!(port & 3) && !skipped(port, 4)) {
			outl(p, next_random());
			(void)inl(p);
		}
		done++;
	}
	printf("SURVIVED %lu ports (%lu skipped)\n", done, skipped_ports);
	guest_exit(GUEST_EXIT_OK);
}
