/*
 * serial.c - an 8250/16550A UART as Linux's ttyS0 driver uses it: THR/RBR,
 * IER, IIR/FCR with FIFO, LCR with DLAB, MCR with loopback, LSR, MSR, SCR.
 * Transmission is instant (THR is always empty); received bytes come from
 * the console through serial_rx_push().  The interrupt line is recomputed
 * after every register access and changed only on transitions.
 * Not for: the console socket (console.c) or baud-rate timing.
 */
#include "config.h"

#include <string.h>

#include "vmm/devices.h"

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NONE	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLR_RX	0x02
#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

static uint8_t
serial_iir(const struct serial_state *st)
{
	uint8_t fifo = (st->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((st->ier & UART_IER_RDI) && st->rx_len)
		return fifo | UART_IIR_RDI;
	if ((st->ier & UART_IER_THRI) && st->thr_ipending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NONE;
}

static void
serial_update_irq(struct serial *s)
{
	uint8_t level = !(serial_iir(&s->st) & UART_IIR_NONE);

	if (level != s->st.irq_level) {
		s->st.irq_level = level;
		s->host->irq_line(s->host->ctx, s->irq, level);
	}
}

static size_t
rx_push_locked(struct serial_state *st, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && st->rx_len < SERIAL_RX_MAX; i++) {
		st->rx[(st->rx_head + st->rx_len) % SERIAL_RX_MAX] = buf[i];
		st->rx_len++;
	}
	st->rx_bytes += i;
	return i;
}

static uint8_t
serial_read(struct serial *s, uint64_t off)
{
	struct serial_state *st = &s->st;
	uint8_t v = 0;

	switch (off) {
	case 0:
		if (st->lcr & UART_LCR_DLAB)
			return st->dll;
		if (st->rx_len) {
			v = st->rx[st->rx_head];
			st->rx_head = (st->rx_head + 1) % SERIAL_RX_MAX;
			st->rx_len--;
		}
		return v;
	case 1:
		return (st->lcr & UART_LCR_DLAB) ? st->dlm : st->ier;
	case 2:
		v = serial_iir(st);
		if ((v & 0x0f) == UART_IIR_THRI)
			st->thr_ipending = 0;
		return v;
	case 3:
		return st->lcr;
	case 4:
		return st->mcr;
	case 5:
		return UART_LSR_THRE | UART_LSR_TEMT | (st->rx_len ? UART_LSR_DR : 0);
	case 6:
		if (st->mcr & UART_MCR_LOOP) {
			v = 0;
			if (st->mcr & UART_MCR_RTS) v |= UART_MSR_CTS;
			if (st->mcr & UART_MCR_DTR) v |= UART_MSR_DSR;
			if (st->mcr & UART_MCR_OUT1) v |= UART_MSR_RI;
			if (st->mcr & UART_MCR_OUT2) v |= UART_MSR_DCD;
			return v;
		}
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	default:
		return st->scr;
	}
}

static void
serial_write(struct serial *s, uint64_t off, uint8_t v)
{
	struct serial_state *st = &s->st;

	switch (off) {
	case 0:
		if (st->lcr & UART_LCR_DLAB) {
			st->dll = v;
			break;
		}
		if (st->mcr & UART_MCR_LOOP) {
			rx_push_locked(st, &v, 1);
		} else {
			st->tx_bytes++;
			if (s->tx)
				s->tx(s->tx_arg, &v, 1);
		}
		st->thr_ipending = 1;
		break;
	case 1:
		if (st->lcr & UART_LCR_DLAB) {
			st->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it at once, as on hardware. */
		if (!(st->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			st->thr_ipending = 1;
		st->ier = v & 0x0f;
		break;
	case 2:
		if (v & UART_FCR_CLR_RX)
			st->rx_len = 0;
		st->fcr = v & 0xc9;
		break;
	case 3:
		st->lcr = v;
		break;
	case 4:
		st->mcr = v & 0x1f;
		break;
	case 7:
		st->scr = v;
		break;
	default:		/* LSR, MSR: read-only */
		break;
	}
}

static void
serial_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, off, data[0]);
	else {
		data[0] = serial_read(s, off);
		for (uint32_t i = 1; i < len; i++)
			data[i] = 0;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

int
serial_init(struct serial *s, struct bus *pio, uint16_t base, int irq,
	    const struct dev_host *host, struct berr *err)
{
	memset(&s->st, 0, sizeof s->st);
	s->st.mcr = UART_MCR_OUT2;
	s->irq = irq;
	s->host = host;
	pthread_mutex_init(&s->lock, NULL);
	return bus_register(pio, base, 8, "serial", serial_io, s, err);
}

void
serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

size_t
serial_rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t done;

	pthread_mutex_lock(&s->lock);
	done = rx_push_locked(&s->st, buf, n);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return done;
}

size_t
serial_rx_space(struct serial *s)
{
	size_t space;

	pthread_mutex_lock(&s->lock);
	space = SERIAL_RX_MAX - s->st.rx_len;
	pthread_mutex_unlock(&s->lock);
	return space;
}
