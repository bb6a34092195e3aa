/*
 * timer.c - counts timer interrupts, sleeping in HLT between them.
 * Keys: ticks=N (default 50), hz=N (default 100), timer=pit|lapic (default
 * pit: PIT channel 0 periodic on IRQ 0, via the PIC or the IOAPIC, see
 * irq=; lapic: the local APIC timer, periodic, calibrated against the TSC).
 *   TIMER OK <n> irq=<pic|ioapic|lapic> ms=<elapsed> expected_ms=<n*1000/hz>   exit 0
 *   TIMER FAIL: <why>                                                         exit 1
 * Fails when no interrupt arrives within 2 s, when the count stalls, or when
 * the ticks came more than 4 times too fast (duplicated delivery).
 */
#include "guest.h"

static volatile unsigned long ticks;

static void
timer_irq(int irq)
{
	ticks++;
}

void
guest_main(void)
{
	unsigned long want = cmdline_u64("ticks", 50), hz = cmdline_u64("hz", 100);
	uint64_t t0, now, expected_ms, limit_ms;
	char source[16] = "pit";
	const char *path;

	cmdline_get("timer", source, sizeof source);
	if (!want || !hz || hz > 10000)
		panic("bad ticks=%lu hz=%lu", want, hz);
	time_init();
	expected_ms = want * 1000 / hz;
	limit_ms = expected_ms * 10 + 2000;
	if (!strcmp(source, "lapic")) {
		uint32_t per_10ms;

		if (!lapic_present()) {
			printf("TIMER FAIL: timer=lapic but CPUID shows no local APIC\n");
			guest_exit(GUEST_EXIT_FAIL);
		}
		per_10ms = lapic_timer_rate(10);
		if (per_10ms == 0) {
			printf("TIMER FAIL: the LAPIC timer does not count\n");
			guest_exit(GUEST_EXIT_FAIL);
		}
		printf("TIMER lapic timer: %u counts per 10 ms\n", per_10ms);
		lapic_timer_start((uint32_t)((uint64_t)per_10ms * 100 / hz), timer_irq);
	} else if (!strcmp(source, "pit")) {
		irq_route_isa(0, timer_irq);
		pit_periodic((unsigned)hz);
	} else {
		panic("bad timer=%s (pit or lapic)", source);
	}
	t0 = uptime_ms();
	irq_enable();
	/* Spin until the first tick proves a path works, then sleep in HLT. */
	while (!ticks) {
		if (uptime_ms() - t0 > 2000) {
			printf("TIMER FAIL: no %s interrupt within 2 s (tsc %lu kHz from %s)\n", source,
			       tsc_khz, tsc_source);
			guest_exit(GUEST_EXIT_FAIL);
		}
		cpu_relax();
	}
	while (ticks < want) {
		wait_for_interrupt();
		if (uptime_ms() - t0 > limit_ms) {
			irq_disable();
			printf("TIMER FAIL: only %lu of %lu interrupts in %lu ms\n", ticks, want,
			       uptime_ms() - t0);
			guest_exit(GUEST_EXIT_FAIL);
		}
	}
	irq_disable();
	now = uptime_ms() - t0;
	lapic_timer_stop();
	if (now * 4 < expected_ms) {
		printf("TIMER FAIL: %lu interrupts in %lu ms, expected about %lu ms\n", ticks, now,
		       expected_ms);
		guest_exit(GUEST_EXIT_FAIL);
	}
	path = !strcmp(source, "lapic") ? "lapic" : irq_path();
	printf("TIMER OK %lu irq=%s ms=%lu expected_ms=%lu\n", ticks, path, now, expected_ms);
	guest_exit(GUEST_EXIT_OK);
}
