/*
 * time.c - time for the test guests: the TSC, calibrated against PIT
 * channel 0 by reading its counter back (no interrupts and no port 0x61
 * needed), so "10 ms" means 10 ms of the machine's own PIT time.
 * Not for: wall-clock time.
 */
#include "guest.h"

#define PIT_HZ		1193182u
#define PIT_CH0		0x40
#define PIT_CMD		0x43

uint64_t tsc_khz;
const char *tsc_source = "none";
static uint64_t tsc_boot;

static uint16_t
pit_read_ch0(void)
{
	uint8_t lo, hi;

	outb(PIT_CMD, 0x00);		/* latch channel 0 */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

/* Count TSC ticks over ~20 ms of PIT time; 0 if the PIT does not count. */
static uint64_t
calibrate_pit(void)
{
	uint16_t prev, cur;
	uint64_t t0, t1, elapsed = 0;
	unsigned long reads = 0;

	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi, mode 2 */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);		/* reload 65536: 54.9 ms */
	prev = pit_read_ch0();
	/* Wait for the first change so we start on a tick edge. */
	do {
		cur = pit_read_ch0();
		if (++reads > 2000000)
			return 0;
	} while (cur == prev);
	prev = cur;
	t0 = rdtsc();
	while (elapsed < PIT_HZ / 50) {
		cur = pit_read_ch0();
		elapsed += (uint16_t)(prev - cur);
		prev = cur;
		if (++reads > 50000000)
			return 0;
	}
	t1 = rdtsc();
	/* Leave the PIT in one-shot mode so it stops interrupting. */
	outb(PIT_CMD, 0x30);
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	return (t1 - t0) * PIT_HZ / elapsed / 1000;
}

void
time_init(void)
{
	uint32_t r[4];

	if (tsc_khz)
		return;
	tsc_boot = rdtsc();
	tsc_khz = calibrate_pit();
	if (tsc_khz) {
		tsc_source = "pit";
		return;
	}
	cpuid(0, 0, r);
	if (r[0] >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0]) {
			tsc_khz = (uint64_t)r[0] * 1000;
			tsc_source = "cpuid";
			return;
		}
	}
	tsc_khz = 1000000;		/* 1 GHz: better than nothing */
	tsc_source = "guess";
}

uint64_t
uptime_ms(void)
{
	if (!tsc_khz)
		time_init();
	return (rdtsc() - tsc_boot) / tsc_khz;
}

void
delay_ms(uint64_t ms)
{
	uint64_t end;

	if (!tsc_khz)
		time_init();
	end = rdtsc() + ms * tsc_khz;
	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

void
pit_periodic(unsigned hz)
{
	unsigned reload = PIT_HZ / hz;

	if (reload > 0xffff)
		reload = 0xffff;
	if (reload < 2)
		reload = 2;
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, (uint8_t)reload);
	outb(PIT_CH0, (uint8_t)(reload >> 8));
}
