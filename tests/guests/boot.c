/*
 * boot.c - turn what the loader handed over (a Linux boot_params zero page
 * or a PVH hvm_start_info) into one struct boot_info: memory map, command
 * line, initrd, RSDP; and the command-line lookups the guests use.
 * The loader is the thing under test, so every pointer it gives is checked
 * against the identity map (4 GiB) and oddities land in boot.problem
 * instead of crashing the guest.
 * Not for: judging whether the values are right (bootparams.c does).
 */
#include "guest.h"

#define BP_ACPI_RSDP		0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_CMDLINE_SIZE		0x238
#define BP_E820_TABLE		0x2d0

#define PVH_MAGIC		0x336ec578
#define MAPPED_LIMIT		0x100000000ull
#define CMDLINE_MAX		4096

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct boot_info boot;
static char cmdline_copy[CMDLINE_MAX + 1];

static uint8_t rd8(uint64_t a) { return *(volatile uint8_t *)a; }
static uint16_t rd16(uint64_t a) { return *(volatile uint16_t *)a; }
static uint32_t rd32(uint64_t a) { return *(volatile uint32_t *)a; }
static uint64_t rd64(uint64_t a) { return *(volatile uint64_t *)a; }

static int
mapped(uint64_t addr, uint64_t len)
{
	return addr < MAPPED_LIMIT && len <= MAPPED_LIMIT - addr;
}

static void
problem(const char *what)
{
	if (!boot.problem[0])
		snprintf(boot.problem, sizeof boot.problem, "%s", what);
}

/* Copy the command line at addr, at most limit bytes before its NUL. */
static void
take_cmdline(uint64_t addr, size_t limit)
{
	size_t n;

	boot.cmdline = "";
	boot.cmdline_addr = addr;
	if (!addr)
		return;
	if (limit > CMDLINE_MAX)
		limit = CMDLINE_MAX;
	if (!mapped(addr, limit + 1)) {
		problem("command line pointer beyond 4 GiB");
		return;
	}
	n = strnlen((const char *)addr, limit + 1);
	if (n > limit) {
		problem("command line is not NUL-terminated within cmdline_size");
		n = limit;
	}
	memcpy(cmdline_copy, (const char *)addr, n);
	cmdline_copy[n] = '\0';
	boot.cmdline = cmdline_copy;
}

static void
from_boot_params(uint64_t bp)
{
	unsigned n;

	if (!mapped(bp, 4096)) {
		problem("boot_params pointer beyond 4 GiB");
		return;
	}
	boot.boot_protocol = rd16(bp + BP_VERSION);
	boot.type_of_loader = rd8(bp + BP_TYPE_OF_LOADER);
	boot.rsdp_addr = boot.boot_protocol >= 0x20e ? rd64(bp + BP_ACPI_RSDP) : 0;
	boot.cmdline_size = rd32(bp + BP_CMDLINE_SIZE);
	take_cmdline(rd32(bp + BP_CMD_LINE_PTR) | (uint64_t)rd32(bp + BP_EXT_CMD_LINE_PTR) << 32,
		     boot.cmdline_size ? boot.cmdline_size : 255);
	boot.initrd_addr = rd32(bp + BP_RAMDISK_IMAGE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	boot.initrd_size = rd32(bp + BP_RAMDISK_SIZE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_SIZE) << 32;
	n = rd8(bp + BP_E820_ENTRIES);
	if (n > BOOT_MEM_MAX) {
		problem("e820_entries above 128");
		n = BOOT_MEM_MAX;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = bp + BP_E820_TABLE + 20 * i;
		boot.mem[i].addr = rd64(e);
		boot.mem[i].size = rd64(e + 8);
		boot.mem[i].type = rd32(e + 16);
	}
	boot.nmem = n;
}

static void
from_pvh(uint64_t si)
{
	const struct hvm_start_info *h = (const void *)si;

	if (!mapped(si, sizeof *h)) {
		problem("hvm_start_info pointer beyond 4 GiB");
		return;
	}
	if (h->magic != PVH_MAGIC) {
		problem("hvm_start_info has a bad magic");
		return;
	}
	boot.rsdp_addr = h->rsdp_paddr;
	boot.cmdline_size = CMDLINE_MAX;
	take_cmdline(h->cmdline_paddr, CMDLINE_MAX);
	if (h->nr_modules) {
		const struct hvm_modlist_entry *m = (const void *)h->modlist_paddr;
		if (!mapped(h->modlist_paddr, sizeof *m))
			problem("PVH modlist beyond 4 GiB");
		else {
			boot.initrd_addr = m->paddr;
			boot.initrd_size = m->size;
		}
	}
	if (h->version >= 1 && h->memmap_entries) {
		unsigned n = h->memmap_entries;
		const struct hvm_memmap_entry *e = (const void *)h->memmap_paddr;

		if (n > BOOT_MEM_MAX) {
			problem("PVH memmap has more than 128 entries");
			n = BOOT_MEM_MAX;
		}
		if (!mapped(h->memmap_paddr, (uint64_t)n * sizeof *e)) {
			problem("PVH memmap beyond 4 GiB");
			return;
		}
		for (unsigned i = 0; i < n; i++) {
			boot.mem[i].addr = e[i].addr;
			boot.mem[i].size = e[i].size;
			boot.mem[i].type = e[i].type;
		}
		boot.nmem = n;
	} else {
		problem("PVH start info has no memory map (version 0)");
	}
}

void boot_info_init(int kind, uint64_t info);

void
boot_info_init(int kind, uint64_t info)
{
	static const char *const names[] = {
		[BOOT_KIND_BP64] = "bzImage 64-bit entry",
		[BOOT_KIND_BP32] = "bzImage 32-bit entry",
		[BOOT_KIND_SETUP16] = "bzImage real-mode setup",
		[BOOT_KIND_PVH] = "PVH entry",
	};

	boot.kind = kind;
	boot.info_addr = info;
	boot.cmdline = "";
	boot.kind_name = kind >= 1 && kind <= 4 ? names[kind] : "unknown entry";
	if (kind == BOOT_KIND_PVH)
		from_pvh(info);
	else
		from_boot_params(info);
	if (!boot.initrd_size)
		boot.initrd_addr = 0;
}

uint64_t
boot_ram_bytes(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < boot.nmem; i++)
		if (boot.mem[i].type == 1)
			sum += boot.mem[i].size;
	return sum;
}

const char *
e820_type_name(uint32_t type)
{
	switch (type) {
	case 1: return "usable";
	case 2: return "reserved";
	case 3: return "ACPI data";
	case 4: return "ACPI NVS";
	case 5: return "unusable";
	case 7: return "persistent";
	default: return "unknown type";
	}
}

/* ---- command line */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Find word `key` or `key=value`; returns the value start (or the word end). */
static const char *
cmdline_find(const char *key, size_t *vlen, int *has_value)
{
	size_t klen = strlen(key);
	const char *p = boot.cmdline;

	while (*p) {
		const char *w, *e;

		while (is_space(*p))
			p++;
		w = p;
		while (*p && !is_space(*p))
			p++;
		e = p;
		if ((size_t)(e - w) >= klen && strncmp(w, key, klen) == 0) {
			if (w + klen == e) {
				*vlen = 0;
				*has_value = 0;
				return e;
			}
			if (w[klen] == '=') {
				*vlen = (size_t)(e - (w + klen + 1));
				*has_value = 1;
				return w + klen + 1;
			}
		}
	}
	return NULL;
}

int
cmdline_get(const char *key, char *buf, size_t size)
{
	size_t vlen;
	int has;
	const char *v = cmdline_find(key, &vlen, &has);

	if (!v || !has)
		return 0;
	if (vlen >= size)
		vlen = size - 1;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return 1;
}

int
cmdline_has(const char *word)
{
	size_t vlen;
	int has;

	return cmdline_find(word, &vlen, &has) != NULL;
}

int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

uint64_t
cmdline_u64(const char *key, uint64_t dflt)
{
	char buf[32];
	uint64_t v;

	if (!cmdline_get(key, buf, sizeof buf) || parse_u64(buf, &v) < 0)
		return dflt;
	return v;
}
