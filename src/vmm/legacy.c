/*
 * legacy.c - the small PC devices: i8042 keyboard controller (enough for
 * Linux to probe it, reset through 0xFE and receive Ctrl-Alt-Del), CMOS
 * RTC (wall-clock time in BCD or binary, status registers, NVRAM), the
 * isa-debug-exit port (QEMU's port and convention) and the port-0x80 sink.
 * Not for: the UART (serial.c) or timers (KVM's in-kernel PIT).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "vmm/devices.h"

/* ------------------------------------------------------------------ i8042 */
#define I8042_STR_OBF	0x01
#define I8042_STR_SYS	0x04
#define I8042_STR_CMD	0x08
#define I8042_STR_KEYLOCK 0x10
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_XLATE	0x40

static void
i8042_update_irq(struct i8042 *k, int new_data)
{
	int level = k->st.q_len && (k->st.ctr & I8042_CTR_KBDINT);

	/* The ISA line is edge-triggered: pulse it for each byte made visible. */
	if (level && new_data)
		k->host->irq_line(k->host->ctx, I8042_IRQ, 0);
	k->host->irq_line(k->host->ctx, I8042_IRQ, level);
}

static void
i8042_queue(struct i8042 *k, uint8_t v)
{
	struct i8042_state *st = &k->st;

	if (st->q_len == I8042_QUEUE)
		return;
	st->queue[(st->q_head + st->q_len) % I8042_QUEUE] = v;
	st->q_len++;
}

static void
i8042_kbd_command(struct i8042 *k, uint8_t v)
{
	struct i8042_state *st = &k->st;

	if (st->kbd_pending) {
		uint8_t cmd = st->kbd_pending;
		st->kbd_pending = 0;
		i8042_queue(k, 0xfa);
		if (cmd == 0xf0 && v == 0)
			i8042_queue(k, 0x02);	/* current scancode set */
		return;
	}
	switch (v) {
	case 0xff:			/* reset: ack, self-test passed */
		i8042_queue(k, 0xfa);
		i8042_queue(k, 0xaa);
		break;
	case 0xf2:			/* identify: MF2 keyboard */
		i8042_queue(k, 0xfa);
		i8042_queue(k, 0xab);
		i8042_queue(k, 0x83);
		break;
	case 0xee:
		i8042_queue(k, 0xee);
		break;
	case 0xed: case 0xf0: case 0xf3:	/* commands with a data byte */
		st->kbd_pending = v;
		i8042_queue(k, 0xfa);
		break;
	default:
		i8042_queue(k, 0xfa);
		break;
	}
}

static void
i8042_io(struct i8042 *k, unsigned port, uint8_t *data, uint32_t len, int is_write)
{
	struct i8042_state *st = &k->st;
	int new_data = 0, reset = 0;
	uint8_t v = data[0];

	memset(is_write ? data + 1 : data, 0, is_write ? len - 1 : len);
	pthread_mutex_lock(&k->lock);
	if (!is_write) {
		if (port == I8042_CMD_PORT) {
			data[0] = (uint8_t)(st->status | I8042_STR_KEYLOCK | (st->q_len ? I8042_STR_OBF : 0));
		} else if (st->q_len) {
			data[0] = st->queue[st->q_head];
			st->q_head = (st->q_head + 1) % I8042_QUEUE;
			st->q_len--;
			new_data = st->q_len > 0;
		}
	} else if (port == I8042_CMD_PORT) {
		st->status |= I8042_STR_CMD;
		switch (v) {
		case 0x20: i8042_queue(k, st->ctr); new_data = 1; break;
		case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
			st->pending_cmd = v;
			break;
		case 0xa7: case 0xa8: case 0xad: case 0xae: break;
		case 0xa9: i8042_queue(k, 0xff); new_data = 1; break;	/* no aux port */
		case 0xaa:
			st->status |= I8042_STR_SYS;
			i8042_queue(k, 0x55);
			new_data = 1;
			break;
		case 0xab: i8042_queue(k, 0x00); new_data = 1; break;
		case 0xd0: i8042_queue(k, st->outport); new_data = 1; break;
		case 0xfe: reset = 1; break;
		default: break;
		}
	} else {
		st->status &= (uint8_t)~I8042_STR_CMD;
		switch (st->pending_cmd) {
		case 0x60:
			st->ctr = v;
			if (v & 0x04)
				st->status |= I8042_STR_SYS;
			break;
		case 0xd1:
			st->outport = v;
			if (!(v & 1))
				reset = 1;
			break;
		case 0xd2: i8042_queue(k, v); new_data = 1; break;
		case 0xd3: case 0xd4: break;	/* no mouse */
		default: i8042_kbd_command(k, v); new_data = 1; break;
		}
		st->pending_cmd = 0;
	}
	i8042_update_irq(k, new_data);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		k->host->request(k->host->ctx, VM_REQ_RESET, 0);
}

static void
i8042_data_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	i8042_io(dev, I8042_DATA_PORT, data, len, is_write);
}

static void
i8042_cmd_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	i8042_io(dev, I8042_CMD_PORT, data, len, is_write);
}

int
i8042_init(struct i8042 *k, struct bus *pio, const struct dev_host *host, struct berr *err)
{
	memset(&k->st, 0, sizeof k->st);
	k->st.ctr = I8042_CTR_KBDINT | 0x04;
	k->st.outport = 0x01;
	k->host = host;
	pthread_mutex_init(&k->lock, NULL);
	if (bus_register(pio, I8042_DATA_PORT, 1, "i8042", i8042_data_io, k, err) < 0)
		return -1;
	return bus_register(pio, I8042_CMD_PORT, 1, "i8042", i8042_cmd_io, k, err);
}

void
i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

void
i8042_ctrl_alt_del(struct i8042 *k)
{
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	const uint8_t *codes;
	size_t n;

	pthread_mutex_lock(&k->lock);
	if (k->st.ctr & I8042_CTR_XLATE) {
		codes = set1;
		n = sizeof set1;
	} else {
		codes = set2;
		n = sizeof set2;
	}
	for (size_t i = 0; i < n; i++)
		i8042_queue(k, codes[i]);
	i8042_update_irq(k, 1);
	pthread_mutex_unlock(&k->lock);
}

/* ---------------------------------------------------------------- CMOS RTC */
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32
#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04

static uint8_t
rtc_encode(const struct rtc_state *st, int v)
{
	if (st->cmos[RTC_REG_B] & RTC_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t
rtc_read_reg(struct rtc_state *st, uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;
	int hour;

	gmtime_r(&now, &tm);
	switch (idx) {
	case RTC_SECONDS: return rtc_encode(st, tm.tm_sec);
	case RTC_MINUTES: return rtc_encode(st, tm.tm_min);
	case RTC_HOURS:
		if (st->cmos[RTC_REG_B] & RTC_B_24H)
			return rtc_encode(st, tm.tm_hour);
		hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return (uint8_t)(rtc_encode(st, hour) | (tm.tm_hour >= 12 ? 0x80 : 0));
	case RTC_WEEKDAY: return rtc_encode(st, tm.tm_wday + 1);
	case RTC_DAY: return rtc_encode(st, tm.tm_mday);
	case RTC_MONTH: return rtc_encode(st, tm.tm_mon + 1);
	case RTC_YEAR: return rtc_encode(st, tm.tm_year % 100);
	case RTC_CENTURY: return rtc_encode(st, (tm.tm_year + 1900) / 100);
	case RTC_REG_A: return st->cmos[RTC_REG_A] & 0x7f;	/* never "update in progress" */
	case RTC_REG_C: return 0;
	case RTC_REG_D: return 0x80;				/* battery good */
	default: return st->cmos[idx & 0x7f];
	}
}

static void
rtc_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	struct rtc *r = dev;
	struct rtc_state *st = &r->st;

	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		if (is_write)
			st->index = data[0] & 0x7f;	/* bit 7 is the NMI mask */
		else
			memset(data, 0xff, len);
	} else if (is_write) {
		uint8_t idx = st->index;
		if (idx == RTC_REG_C || idx == RTC_REG_D || idx <= RTC_YEAR || idx == RTC_CENTURY)
			;	/* time is the host's wall clock; flags are read-only */
		else
			st->cmos[idx] = data[0];
	} else {
		memset(data, 0, len);
		data[0] = rtc_read_reg(st, st->index);
	}
	pthread_mutex_unlock(&r->lock);
}

int
rtc_init(struct rtc *r, struct bus *pio, struct berr *err)
{
	memset(&r->st, 0, sizeof r->st);
	r->st.cmos[RTC_REG_A] = 0x26;
	r->st.cmos[RTC_REG_B] = RTC_B_24H;
	pthread_mutex_init(&r->lock, NULL);
	return bus_register(pio, 0x70, 2, "rtc", rtc_io, r, err);
}

void
rtc_destroy(struct rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}

/* ------------------------------------------------- debug exit and port 0x80 */
static void
debug_exit_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	struct debug_exit *d = dev;

	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	d->host->request(d->host->ctx, VM_REQ_EXIT, data[0]);
}

int
debug_exit_init(struct debug_exit *d, struct bus *pio, const struct dev_host *host,
		struct berr *err)
{
	d->host = host;
	return bus_register(pio, DEBUG_EXIT_PORT, 1, "debug-exit", debug_exit_io, d, err);
}

static void
post_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
}

int
post_port_init(struct bus *pio, struct berr *err)
{
	return bus_register(pio, 0x80, 1, "post", post_io, NULL, err);
}
