/*
 * counter.c - prints an increasing counter every period_ms (default 10) of
 * TSC time (calibrated against the PIT), forever: the guest for pause,
 * resume, snapshot and migration tests.  Lines:
 *   COUNTER START tsc_khz=<k> source=<pit|cpuid|guess> period_ms=<p>
 *   counter <n> t=<ms since start>
 * After a stall (a paused VM) it does not print a burst: it resynchronises.
 * count=N stops after N lines with "COUNTER DONE" and exit 0.
 */
#include "guest.h"

void
guest_main(void)
{
	uint64_t period = cmdline_u64("period_ms", 10), stop = cmdline_u64("count", 0);
	uint64_t next, now;

	if (!period)
		period = 1;
	time_init();
	printf("COUNTER START tsc_khz=%lu source=%s period_ms=%lu\n", tsc_khz, tsc_source, period);
	next = uptime_ms();
	for (uint64_t n = 0; !stop || n < stop; n++) {
		printf("counter %lu t=%lu\n", n, uptime_ms());
		next += period;
		while ((now = uptime_ms()) < next)
			cpu_relax();
		if (now > next + period)
			next = now;
	}
	printf("COUNTER DONE\n");
	guest_exit(GUEST_EXIT_OK);
}
