/*
 * lib.c - the test guests' C runtime: string functions (gcc may emit calls
 * to memset/memcpy), CRC-32, the COM1 8250 console, printf, and the way out
 * (the debug-exit port 0x501).  guest_start() is called by head.S.
 * Not for: interrupts (irq.c) or boot information (boot.c).
 */
#include "guest.h"

#define COM1		0x3f8
#define UART_RBR	0
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define LSR_DR		0x01
#define LSR_THRE	0x20

void *
memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *
memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib and gzip compute it). */
uint32_t
crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const uint8_t *p = buf;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- console */

void
serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80);		/* DLAB: 115200 baud */
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03);		/* 8N1 */
	outb(COM1 + UART_FCR, 0x07);		/* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x0b);		/* DTR, RTS, OUT2 (IRQ gate) */
}

void
serial_putc(char c)
{
	/* Bounded wait: a VMM without a transmitter model must not hang us. */
	for (int spin = 0; spin < 100000; spin++) {
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1 + UART_THR, (uint8_t)c);
}

void
serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

int
serial_getc_nowait(void)
{
	if (inb(COM1 + UART_LSR) & LSR_DR)
		return inb(COM1 + UART_RBR);
	return -1;
}

void
puts_raw(const char *s)
{
	serial_write(s, strlen(s));
}

/* ---- printf: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, l ll z */

struct outbuf {
	char *buf;
	size_t size, len;
};

static void
out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
out_number(struct outbuf *o, uint64_t v, int neg, unsigned base, int upper,
	   int width, int zero, int left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, total;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	total = n + neg;
	if (!left && !zero)
		for (; total < width; total++)
			out_char(o, ' ');
	if (neg)
		out_char(o, '-');
	if (!left && zero)
		for (; total < width; total++)
			out_char(o, '0');
	while (n)
		out_char(o, tmp[--n]);
	for (; left && total < width; total++)
		out_char(o, ' ');
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0, zero = 0, left = 0, lng = 0;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
			out_number(&o, u, s < 0, 10, 0, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			out_number(&o, u, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero, left);
			break;
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (uint64_t)va_arg(ap, void *), 0, 16, 0, width, zero, left);
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n;

			if (!str)
				str = "(null)";
			n = (int)strlen(str);
			for (; !left && n < width; width--)
				out_char(&o, ' ');
			while (*str)
				out_char(&o, *str++);
			for (; left && n < width; width--)
				out_char(&o, ' ');
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int
printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	serial_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
	return n;
}

/* ---- the way out */

noreturn void
guest_exit(int value)
{
	outb(DEBUG_EXIT_PORT, (uint8_t)value);
	/* No debug-exit device: stop here for good. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

noreturn void
panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf("\nGUEST PANIC: %s\n", buf);
	guest_exit(GUEST_EXIT_PANIC);
}

void guest_start(uint32_t kind, uint64_t info);
void boot_info_init(int kind, uint64_t info);

/* Called by head.S on the guest's own stack and page tables. */
void
guest_start(uint32_t kind, uint64_t info)
{
	serial_init();
	irq_init();
	boot_info_init((int)kind, info);
	if (cmdline_has("verbose")) {
		printf("berth guest: entered via %s, info at 0x%lx, cmdline \"%s\"\n",
		       boot.kind_name, boot.info_addr, boot.cmdline);
		for (unsigned i = 0; i < boot.nmem; i++)
			printf("berth guest: e820 %016lx-%016lx %s\n", boot.mem[i].addr,
			       boot.mem[i].addr + boot.mem[i].size - 1, e820_type_name(boot.mem[i].type));
		if (boot.initrd_size)
			printf("berth guest: initrd at 0x%lx, %lu bytes\n", boot.initrd_addr, boot.initrd_size);
	}
	guest_main();
	guest_exit(GUEST_EXIT_OK);
}
