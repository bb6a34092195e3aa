/*
 * console.c - console.sock: scrollback ring, fan-out to readers, one writer.
 * Not for: the UART registers (serial.c); see console.h for the rules.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/util.h"
#include "vmm/console.h"
#include "vmm/devices.h"
#include "vmm/vm.h"

static const char note_busy[] = "\r\n[berth-vmm: another client owns the console input; "
				"your input is ignored]\r\n";

static void client_out_cb(struct loop *l, int id, int fd, int revents, void *arg);
static void console_push_input(struct console *c);

static void
client_close(struct console *c, struct console_client *cl)
{
	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i] == cl)
			c->clients[i] = NULL;
	if (c->writer == cl)
		c->writer = NULL;
	if (cl->in_watch > 0)
		loop_remove_fd(c->loop, cl->in_watch);
	if (cl->out_watch > 0)
		loop_remove_fd(c->loop, cl->out_watch);
	if (!cl->is_stdio)
		close(cl->in_fd);
	free(cl);
}

/* Send what this client can take.  0 ok, -1 the client was closed.
 * Bytes are copied out of the ring under the lock and written without it,
 * so a vCPU adding output never waits for a write(2) to a peer (or to a
 * stdout that is a slow file). */
static int
client_flush(struct console *c, struct console_client *cl)
{
	static uint8_t chunk[64 * 1024];	/* main thread only */
	int want_out = 0;

	for (;;) {
		size_t off, n;
		ssize_t w;

		pthread_mutex_lock(&c->lock);
		if (c->total - cl->pos > c->ring_size) {
			if (!cl->is_stdio) {
				pthread_mutex_unlock(&c->lock);
				c->readers_dropped++;
				vmm_log("console: dropping a reader that fell %zu bytes behind", c->ring_size);
				client_close(c, cl);
				return -1;
			}
			cl->pos = c->total - c->ring_size;	/* the terminal loses the oldest bytes */
		}
		off = (size_t)(cl->pos % c->ring_size);
		n = (size_t)(c->total - cl->pos);
		if (n > c->ring_size - off)
			n = c->ring_size - off;
		if (n > sizeof chunk)
			n = sizeof chunk;
		memcpy(chunk, c->ring + off, n);
		pthread_mutex_unlock(&c->lock);
		if (n == 0)
			break;
		w = write(cl->out_fd, chunk, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				want_out = 1;
				break;
			}
			client_close(c, cl);
			return -1;
		}
		cl->pos += (uint64_t)w;	/* pos is the main thread's alone */
	}
	if (want_out && cl->out_watch <= 0)
		cl->out_watch = loop_add_fd(c->loop, cl->out_fd, POLLOUT, client_out_cb, cl, NULL);
	else if (!want_out && cl->out_watch > 0) {
		loop_remove_fd(c->loop, cl->out_watch);
		cl->out_watch = 0;
	}
	return 0;
}

static void
client_out_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console_client *cl = arg;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		client_close(cl->con, cl);
		return;
	}
	client_flush(cl->con, cl);
}

void
console_flush(struct console *c)
{
	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i])
			client_flush(c, c->clients[i]);
}

static void
notify_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console *c = arg;
	uint64_t v;

	if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
		vmm_log("console notify: %s", strerror(errno));
	pthread_mutex_lock(&c->lock);
	c->notified = 0;
	pthread_mutex_unlock(&c->lock);
	console_flush(c);
}

void
console_output(void *arg, const uint8_t *buf, size_t n)
{
	struct console *c = arg;
	uint64_t one = 1;
	int wake = 0;

	pthread_mutex_lock(&c->lock);
	while (n) {
		size_t off = (size_t)(c->total % c->ring_size);
		size_t k = n < c->ring_size - off ? n : c->ring_size - off;
		memcpy(c->ring + off, buf, k);
		c->total += k;
		buf += k;
		n -= k;
	}
	if (!c->notified) {
		c->notified = 1;
		wake = 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (wake && write(c->notify_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		vmm_log("console notify: %s", strerror(errno));
}

static void
in_timer_cb(struct loop *l, int id, void *arg)
{
	console_push_input(arg);
}

/* Hand pending input to the UART; retry on a timer while it is full. */
static void
console_push_input(struct console *c)
{
	size_t done = c->in_len ? serial_rx_push(c->serial, c->in, c->in_len) : 0;

	if (done) {
		memmove(c->in, c->in + done, c->in_len - done);
		c->in_len -= done;
	}
	if (c->in_len && c->in_timer <= 0)
		c->in_timer = loop_add_timer(c->loop, 10, in_timer_cb, c, NULL);
	else if (!c->in_len && c->in_timer > 0) {
		loop_remove_timer(c->loop, c->in_timer);
		c->in_timer = 0;
	}
	if (c->writer && !c->writer->in_closed && c->writer->in_watch > 0)
		loop_update_fd(c->loop, c->writer->in_watch, c->in_len < CONSOLE_IN_MAX ? POLLIN : 0);
}

static void
client_in_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console_client *cl = arg;
	struct console *c = cl->con;
	uint8_t buf[CONSOLE_IN_MAX];
	size_t room = CONSOLE_IN_MAX - c->in_len;
	ssize_t n;

	if (c->writer == NULL)
		c->writer = cl;
	if (c->writer != cl)
		room = sizeof buf;
	if (room == 0) {
		loop_update_fd(c->loop, cl->in_watch, 0);
		return;
	}
	n = read(fd, buf, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (cl->is_stdio) {
			loop_remove_fd(c->loop, cl->in_watch);
			cl->in_watch = 0;
			cl->in_closed = 1;
			if (c->writer == cl)
				c->writer = NULL;
		} else {
			client_close(c, cl);
		}
		return;
	}
	if (cl->is_stdio && c->tty_raw) {
		/* Ctrl-A x leaves; Ctrl-A Ctrl-A sends one Ctrl-A.  An armed
		 * escape may come from the previous read, so filter into a copy
		 * that can grow by that one byte; keep it within the room. */
		uint8_t out[CONSOLE_IN_MAX + 1];
		ssize_t j = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (c->escape_armed) {
				c->escape_armed = 0;
				if (buf[i] == 'x' || buf[i] == 'X') {
					if (c->on_escape)
						c->on_escape(c->escape_arg);
					continue;
				}
				if (buf[i] != 0x01)
					out[j++] = 0x01;
			} else if (buf[i] == 0x01) {
				c->escape_armed = 1;
				continue;
			}
			out[j++] = buf[i];
		}
		if ((size_t)j > room)
			j = (ssize_t)room;	/* at most one Ctrl-A lost when the buffer is full */
		memcpy(buf, out, (size_t)j);
		n = j;
		if (n == 0)
			return;
	}
	if (c->writer != cl) {
		c->input_refused += (uint64_t)n;
		if (!cl->noted) {
			cl->noted = 1;
			if (write(cl->out_fd, note_busy, sizeof note_busy - 1) < 0)
				(void)0;
		}
		return;
	}
	memcpy(c->in + c->in_len, buf, (size_t)n);
	c->in_len += (size_t)n;
	console_push_input(c);
}

static int
console_add_client(struct console *c, int in_fd, int out_fd, int is_stdio)
{
	struct console_client *cl;
	int slot = -1;

	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i] == NULL) {
			slot = i;
			break;
		}
	if (slot < 0)
		return -1;
	cl = xcalloc(1, sizeof *cl);
	cl->con = c;
	cl->in_fd = in_fd;
	cl->out_fd = out_fd;
	cl->is_stdio = is_stdio;
	pthread_mutex_lock(&c->lock);
	cl->pos = c->total > c->ring_size ? c->total - c->ring_size : 0;
	pthread_mutex_unlock(&c->lock);
	c->clients[slot] = cl;
	cl->in_watch = loop_add_fd(c->loop, in_fd, POLLIN, client_in_cb, cl, NULL);
	client_flush(c, cl);
	return 0;
}

static void
listen_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console *c = arg;
	int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (s < 0)
		return;
	if (console_add_client(c, s, s, 0) < 0) {
		static const char full[] = "[berth-vmm: too many console clients]\r\n";
		if (write(s, full, sizeof full - 1) < 0)
			(void)0;
		close(s);
	}
}

int
console_init(struct console *c, struct loop *l, struct serial *serial, size_t ring_size,
	     struct berr *err)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	c->loop = l;
	c->serial = serial;
	c->listen_fd = -1;
	c->ring_size = ring_size;
	c->ring = malloc(ring_size);
	if (c->ring == NULL)
		return berr_errno(err, "console ring");
	c->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->notify_fd < 0)
		return berr_errno(err, "console eventfd");
	c->notify_watch = loop_add_fd(l, c->notify_fd, POLLIN, notify_cb, c, NULL);
	return 0;
}

int
console_listen(struct console *c, const char *path, struct berr *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return berr_set(err, ENAMETOOLONG, "console socket path `%s' is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_errno(err, "console socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		berr_errno(err, "console socket `%s'", path);
		close(fd);
		return -1;
	}
	c->listen_fd = fd;
	c->path = xstrdup(path);
	c->listen_watch = loop_add_fd(c->loop, fd, POLLIN, listen_cb, c, NULL);
	return 0;
}

int
console_add_stdio(struct console *c, struct berr *err)
{
	if (isatty(0) && tcgetattr(0, &c->tty_saved) == 0) {
		struct termios raw = c->tty_saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR;	/* keep our log lines readable */
		if (tcsetattr(0, TCSANOW, &raw) == 0)
			c->tty_raw = 1;
	}
	fd_set_nonblock(0, 1);
	fd_set_nonblock(1, 1);
	if (console_add_client(c, 0, 1, 1) < 0)
		return berr_set(err, BERR_INVALID, "console: no client slot for stdio");
	return 0;
}

size_t
console_nclients(const struct console *c)
{
	size_t n = 0;

	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		n += c->clients[i] != NULL;
	return n;
}

int
console_pending(struct console *c)
{
	int pending = 0;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i] && c->clients[i]->pos < c->total)
			pending = 1;
	pthread_mutex_unlock(&c->lock);
	return pending;
}

void
console_destroy(struct console *c)
{
	for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
		struct console_client *cl = c->clients[i];
		if (cl && cl->is_stdio) {
			fd_set_nonblock(0, 0);
			fd_set_nonblock(1, 0);
			if (c->tty_raw)
				tcsetattr(0, TCSANOW, &c->tty_saved);
			c->tty_raw = 0;
		}
		if (cl)
			client_close(c, cl);
	}
	if (c->in_timer > 0)
		loop_remove_timer(c->loop, c->in_timer);
	if (c->listen_watch > 0)
		loop_remove_fd(c->loop, c->listen_watch);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->path) {
		unlink(c->path);
		free(c->path);
	}
	if (c->notify_watch > 0)
		loop_remove_fd(c->loop, c->notify_watch);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	free(c->ring);
	c->ring = NULL;
}
