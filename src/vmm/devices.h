/*
 * devices.h - berth-vmm's legacy PC devices: 16550 UART, i8042 (reset and
 * Ctrl-Alt-Del), CMOS RTC, the isa-debug-exit port and a sink for port 0x80.
 *
 * Each device is a plain struct (its whole state, for save/restore) plus a
 * lock; it registers its ranges on a bus and raises interrupts and machine
 * requests through the small callback structs below, so it knows neither
 * KVM nor which bus it sits on.
 * Not for: virtio devices (later), in-kernel PIC/IOAPIC/PIT (KVM has them).
 */
#ifndef BERTH_VMM_DEVICES_H
#define BERTH_VMM_DEVICES_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#include "core/error.h"
#include "vmm/bus.h"

/* How devices reach the machine. */
enum vm_request {
	VM_REQ_RESET = 1,	/* guest asked for a reset (i8042, triple fault) */
	VM_REQ_EXIT,		/* guest wrote `code` to the debug-exit port */
};

struct dev_host {
	void (*irq_line)(void *ctx, int irq, int level);
	void (*request)(void *ctx, enum vm_request req, int code);
	void *ctx;
};

/* ------------------------------------------------------------- 16550 UART */
#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_RX_MAX 4096	/* bytes accepted from the console ahead of the guest */

struct serial_state {		/* everything a snapshot needs */
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	uint8_t thr_ipending;	/* THR-empty interrupt pending */
	uint8_t irq_level;
	uint8_t rx[SERIAL_RX_MAX];
	uint32_t rx_head, rx_len;
	uint64_t tx_bytes, rx_bytes;
};

struct serial {
	pthread_mutex_t lock;
	struct serial_state st;
	int irq;
	const struct dev_host *host;
	/* Output from the guest (called with the lock held; must not block). */
	void (*tx)(void *arg, const uint8_t *buf, size_t n);
	void *tx_arg;
};

int serial_init(struct serial *s, struct bus *pio, uint16_t base, int irq,
		const struct dev_host *host, struct berr *err);
void serial_destroy(struct serial *s);
/* Feed console input; returns how many bytes were accepted. */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t n);
size_t serial_rx_space(struct serial *s);

/* ------------------------------------------------------------------ i8042 */
#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_IRQ 1
#define I8042_QUEUE 32

struct i8042_state {
	uint8_t ctr;		/* controller command byte */
	uint8_t status;
	uint8_t pending_cmd;	/* controller command waiting for its data byte */
	uint8_t kbd_pending;	/* keyboard command waiting for its data byte */
	uint8_t outport;
	uint8_t queue[I8042_QUEUE];
	uint32_t q_head, q_len;
};

struct i8042 {
	pthread_mutex_t lock;
	struct i8042_state st;
	const struct dev_host *host;
};

int i8042_init(struct i8042 *k, struct bus *pio, const struct dev_host *host, struct berr *err);
void i8042_destroy(struct i8042 *k);
/* Press and release Ctrl-Alt-Del (Linux reboots, or tells init). */
void i8042_ctrl_alt_del(struct i8042 *k);

/* ---------------------------------------------------------------- CMOS RTC */
struct rtc_state {
	uint8_t index;
	uint8_t cmos[128];	/* status registers and NVRAM; time is computed */
};

struct rtc {
	pthread_mutex_t lock;
	struct rtc_state st;
};

int rtc_init(struct rtc *r, struct bus *pio, struct berr *err);
void rtc_destroy(struct rtc *r);

/* ------------------------------------------------- debug exit and port 0x80 */
#define DEBUG_EXIT_PORT 0x501

struct debug_exit {
	const struct dev_host *host;
};

int debug_exit_init(struct debug_exit *d, struct bus *pio, const struct dev_host *host,
		    struct berr *err);
/* Port 0x80 (POST codes / Linux's I/O delay): writes ignored, reads 0xff. */
int post_port_init(struct bus *pio, struct berr *err);

#endif
