/*
 * console.h - the serial console's socket side: console.sock accepts any
 * number of readers, each first replayed the scrollback (the last
 * ring_size bytes of output, 1 MiB unless configured) then fed live; one writer at a time owns the
 * input.  Guest output is appended from vCPU threads without ever blocking
 * on a peer: a reader that falls a whole ring behind is disconnected.
 * Not for: the UART itself (serial.c).
 */
#ifndef BERTH_VMM_CONSOLE_H
#define BERTH_VMM_CONSOLE_H

#include <pthread.h>
#include <termios.h>
#include <stdint.h>
#include <stddef.h>

#include "core/error.h"

#define CONSOLE_RING_DEFAULT (1024 * 1024)
#define CONSOLE_RING_MIN (16 * 1024)
#define CONSOLE_RING_MAX (64 * 1024 * 1024)
#define CONSOLE_MAX_CLIENTS 32
#define CONSOLE_IN_MAX 4096

struct loop;
struct serial;

struct console_client {
	struct console *con;
	int in_fd, out_fd;	/* the same socket, or stdin/stdout */
	int in_watch, out_watch;
	uint64_t pos;		/* next output byte (absolute) to send; main thread only */
	int is_stdio;
	int noted;		/* told it does not own the input */
	int in_closed;
};

struct console {
	pthread_mutex_t lock;	/* ring, total, notified */
	uint8_t *ring;
	size_t ring_size;	/* scrollback bytes (fixed at init) */
	uint64_t total;		/* bytes of output ever produced */
	int notified;
	int notify_fd;		/* eventfd: output waiting */
	int notify_watch;

	struct loop *loop;
	struct serial *serial;
	int listen_fd, listen_watch;
	char *path;
	struct console_client *clients[CONSOLE_MAX_CLIENTS];
	struct console_client *writer;
	uint8_t in[CONSOLE_IN_MAX];
	size_t in_len;
	int in_timer;
	uint64_t readers_dropped, input_refused;
	/* stdio on a terminal: raw mode, Ctrl-A x calls on_escape */
	int tty_raw;
	struct termios tty_saved;
	int escape_armed;
	void (*on_escape)(void *arg);
	void *escape_arg;
};

/* ring_size: the scrollback in bytes, CONSOLE_RING_MIN..CONSOLE_RING_MAX. */
int console_init(struct console *c, struct loop *l, struct serial *serial, size_t ring_size,
		 struct berr *err);
/* Listen on path (0600). */
int console_listen(struct console *c, const char *path, struct berr *err);
/* Use stdin/stdout as one more client.  When stdin is a terminal it is put
 * in raw mode (restored by console_destroy) and Ctrl-A x calls on_escape. */
int console_add_stdio(struct console *c, struct berr *err);
void console_destroy(struct console *c);
/* Guest output (any thread, never blocks). */
void console_output(void *console, const uint8_t *buf, size_t n);
/* Write whatever readers can take now (main thread, e.g. before exiting). */
void console_flush(struct console *c);
size_t console_nclients(const struct console *c);
/* Does any client still have output to receive? */
int console_pending(struct console *c);

#endif
