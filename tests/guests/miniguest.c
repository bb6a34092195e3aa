/*
 * miniguest.c - an interactive guest for console, pause/resume and
 * migration tests.  Prints "miniguest ready" then the prompt "miniguest> "
 * on COM1 and reads lines:
 *   help         the command list
 *   info         "memory: <MiB> MiB", "vcpus: <n|unknown>", "uptime: <s.ms> s",
 *                "entry: <boot path>", "dirty generation: <n>"
 *   burn <sec>   busy loop for sec seconds of TSC time ("burned <sec> s")
 *   dirty <MiB>  write every 4 KiB page of MiB of free RAM ("dirtied <n> MiB")
 *   halt         "halting", exit 0
 * Ctrl-Alt-Del from the i8042 (berth-vmm's graceful shutdown) prints
 * "ctrl-alt-del: shutting down" and resets through the i8042, as a Linux
 * guest would reboot.
 * Input comes from the UART receive interrupt with HLT between keys (a PIT
 * tick at 20 Hz also wakes it to poll, in case the VMM delivers no IRQ 4);
 * if no interrupt works at all it falls back to polling.
 */
#include "guest.h"

#define COM1	0x3f8

static volatile unsigned long wakeups, rx_irqs;
static int polling;
static uint64_t dirty_generation;

static void
wake_irq(int irq)
{
	wakeups++;
	if (irq == 4) {
		rx_irqs++;
		(void)inb(COM1 + 2);
	}
}

#define I8042_DATA	0x60
#define I8042_STATUS	0x64

/* Scancodes of set 1 (translated) or set 2: Ctrl and Alt held, then Del. */
static void
poll_keyboard(void)
{
	static int ctrl, alt, ext, brk;

	while (inb(I8042_STATUS) & 1) {
		uint8_t sc = inb(I8042_DATA);

		if (sc == 0xe0) {
			ext = 1;
			continue;
		}
		if (sc == 0xf0) {		/* set 2 break prefix */
			brk = 1;
			continue;
		}
		if (sc == 0x1d || sc == 0x14)
			ctrl = !brk;
		else if (sc == 0x9d)
			ctrl = 0;
		else if (sc == 0x38 || sc == 0x11)
			alt = !brk;
		else if (sc == 0xb8)
			alt = 0;
		else if (ext && !brk && (sc == 0x53 || sc == 0x71) && ctrl && alt) {
			printf("\nctrl-alt-del: shutting down\n");
			outb(I8042_STATUS, 0xfe);	/* pulse reset */
			for (;;)
				wait_for_interrupt();
		}
		ext = brk = 0;
	}
}

static int
read_char(void)
{
	for (;;) {
		int c = serial_getc_nowait();

		poll_keyboard();
		if (c >= 0)
			return c;
		if (polling)
			cpu_relax();
		else
			wait_for_interrupt();
	}
}

static void
read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = read_char();

		if (c == '\r' || c == '\n') {
			serial_write("\n", 1);
			break;
		}
		if (c == 0x7f || c == 0x08) {
			if (n) {
				n--;
				serial_write("\b \b", 3);
			}
			continue;
		}
		if (c < 0x20 || c > 0x7e || n + 1 >= size)
			continue;
		buf[n++] = (char)c;
		serial_putc((char)c);
	}
	buf[n] = '\0';
}

static void
cmd_info(void)
{
	int cpus = acpi_cpu_count();
	uint64_t up = uptime_ms();

	printf("memory: %lu MiB\n", (boot_ram_bytes() + (1 << 19)) >> 20);
	if (cpus > 0)
		printf("vcpus: %d\n", cpus);
	else
		printf("vcpus: unknown\n");
	printf("uptime: %lu.%03lu s\n", up / 1000, up % 1000);
	printf("entry: %s\n", boot.kind_name);
	printf("input: %s\n", polling ? "polling" : irq_path());
	printf("dirty generation: %lu\n", dirty_generation);
}

static void
cmd_burn(const char *arg)
{
	uint64_t sec, end, loops = 0;

	if (parse_u64(arg, &sec) < 0 || sec > 86400) {
		printf("usage: burn <seconds>\n");
		return;
	}
	end = uptime_ms() + sec * 1000;
	while (uptime_ms() < end)
		loops++;
	printf("burned %lu s (%lu loops)\n", sec, loops);
}

static int
page_is_free(uint64_t a)
{
	if (a < GUEST_LOAD_ADDR + 0x100000)	/* below 2 MiB: BIOS, loader, us */
		return 0;
	if (a < (uint64_t)_end)
		return 0;
	if (boot.initrd_size && a + 4096 > boot.initrd_addr && a < boot.initrd_addr + boot.initrd_size)
		return 0;
	return a + 4096 <= 0x100000000ull;
}

static void
cmd_dirty(const char *arg)
{
	uint64_t mib, pages, done = 0;

	if (parse_u64(arg, &mib) < 0) {
		printf("usage: dirty <MiB>\n");
		return;
	}
	pages = mib << 8;
	dirty_generation++;
	for (unsigned i = 0; i < boot.nmem && done < pages; i++) {
		const struct boot_mem *m = &boot.mem[i];

		if (m->type != 1)
			continue;
		for (uint64_t a = (m->addr + 4095) & ~4095ull; a + 4096 <= m->addr + m->size && done < pages;
		     a += 4096) {
			if (!page_is_free(a))
				continue;
			*(volatile uint64_t *)a = dirty_generation ^ a;
			done++;
		}
	}
	if (done < pages)
		printf("dirtied only %lu MiB of %lu (no more free RAM)\n", done >> 8, mib);
	else
		printf("dirtied %lu MiB\n", mib);
}

void
guest_main(void)
{
	char line[128];
	uint64_t t0;

	time_init();
	irq_route_isa(4, wake_irq);
	irq_route_isa(0, wake_irq);
	outb(COM1 + 1, 0x01);			/* IER: received data */
	pit_periodic(20);
	irq_enable();
	t0 = uptime_ms();
	while (!wakeups && uptime_ms() - t0 < 1000)
		cpu_relax();
	if (!wakeups) {
		polling = 1;
		irq_disable();
	}
	printf("miniguest ready (type help)\n");
	for (;;) {
		char *arg;

		printf("miniguest> ");
		read_line(line, sizeof line);
		for (arg = line; *arg && *arg != ' '; arg++)
			;
		if (*arg)
			*arg++ = '\0';
		while (*arg == ' ')
			arg++;
		if (!line[0])
			continue;
		if (!strcmp(line, "help"))
			printf("commands: help, info, burn <sec>, dirty <MiB>, halt\n");
		else if (!strcmp(line, "info"))
			cmd_info();
		else if (!strcmp(line, "burn"))
			cmd_burn(arg);
		else if (!strcmp(line, "dirty"))
			cmd_dirty(arg);
		else if (!strcmp(line, "halt")) {
			printf("halting\n");
			guest_exit(GUEST_EXIT_OK);
		} else
			printf("unknown command: %s (try help)\n", line);
	}
}
