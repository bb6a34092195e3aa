/*
 * echo.c - echoes every byte received on COM1, taking input through the
 * UART's receive interrupt (IRQ 4 via the PIC or the IOAPIC, whichever the
 * VMM wires).  Prints "ECHO READY" once it listens; on 'q' prints
 * "ECHO BYE irq=<pic|ioapic>" and exits 0.  If bytes wait in the UART for
 * 2 s while no interrupt arrives it prints "ECHO FAIL: ..." and exits 1.
 */
#include "guest.h"

#define COM1		0x3f8
#define LSR_DR		0x01

static volatile uint8_t ring[256];
static volatile unsigned ring_head, ring_tail;
static volatile unsigned long rx_irqs;

static void
com1_irq(int irq)
{
	(void)inb(COM1 + 2);			/* IIR: acknowledge */
	while (inb(COM1 + 5) & LSR_DR) {
		uint8_t c = inb(COM1);
		if (ring_head - ring_tail < sizeof ring)
			ring[ring_head++ % sizeof ring] = c;
	}
	rx_irqs++;
}

void
guest_main(void)
{
	uint64_t stuck_since = 0;
	unsigned long stuck_irqs = 0;

	time_init();
	irq_route_isa(4, com1_irq);
	outb(COM1 + 1, 0x01);			/* IER: received data available */
	irq_enable();
	printf("ECHO READY\n");
	for (;;) {
		uint8_t c;

		if (ring_tail == ring_head) {
			/* Interrupts are under test: watch for data nobody signals. */
			if (inb(COM1 + 5) & LSR_DR) {
				if (!stuck_since || rx_irqs != stuck_irqs) {
					stuck_since = uptime_ms() + 1;
					stuck_irqs = rx_irqs;
				} else if (uptime_ms() + 1 - stuck_since > 2000) {
					printf("\nECHO FAIL: input waits in the UART but IRQ 4 never "
					       "arrived (%lu interrupts so far)\n", rx_irqs);
					guest_exit(GUEST_EXIT_FAIL);
				}
			} else {
				stuck_since = 0;
			}
			delay_ms(1);
			continue;
		}
		stuck_since = 0;
		c = ring[ring_tail++ % sizeof ring];
		if (c == '\r')
			serial_putc('\r'), c = '\n';
		serial_putc((char)c);
		if (c == 'q') {
			printf("\nECHO BYE irq=%s\n", irq_path());
			guest_exit(GUEST_EXIT_OK);
		}
	}
}
