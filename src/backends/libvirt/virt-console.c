/*
 * virt-console.c - a domain's console as a plain connected fd.
 *
 * For: console_open.  virDomainOpenConsole gives a non-blocking virStream;
 * the caller gets one end of a socketpair, and a pump inside berth's loop
 * moves bytes between the stream and the other end (virStreamEventAddCallback
 * for the stream, a loop fd watch for the socket), with bounded buffers in
 * each direction.  When the guest side ends (domain stopped, connection
 * lost, stream error) the pending output is flushed and the socket closed,
 * so the caller reads EOF; when the caller closes its end the stream is
 * aborted.  The pump only runs while the loop runs.
 * Not for: terminal handling or escape keys (the front-end's console does).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"

#define VIRT_CONSOLE_BUF 16384

struct virt_console {
	struct virt_console *next;
	struct virt_conn *vc;
	struct loop *loop;
	virStreamPtr st;
	int fd;			/* our end of the socketpair, -1 once closed */
	int fd_watch;		/* loop watch id, -1 none */
	int st_cb;		/* stream callback registered */
	int refs;		/* owner + fd watch */
	int st_eof;		/* the stream ended or failed */
	int fd_eof;		/* the caller closed its end */
	int dead;
	size_t to_fd_len, to_st_len;
	char to_fd[VIRT_CONSOLE_BUF];	/* guest output waiting for the caller */
	char to_st[VIRT_CONSOLE_BUF];	/* caller input waiting for the guest */
};

static void
virt_console_unref(void *arg)
{
	struct virt_console *con = arg;

	if (--con->refs > 0)
		return;
	if (con->st != NULL)
		virStreamFree(con->st);
	virt_reset_error();
	free(con);
}

static void
virt_console_unlink(struct virt_console *con)
{
	struct virt_console **pp;

	for (pp = &con->vc->consoles; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == con) {
			*pp = con->next;
			break;
		}
	}
}

/* Close both sides.  Safe from inside either callback (the stream's runs
 * from a loop timer too): the structure lives on until the loop has swept
 * the removed fd watch, which happens only after the dispatch in progress. */
static void
virt_console_teardown(struct virt_console *con)
{
	if (con->dead)
		return;
	con->dead = 1;
	virt_console_unlink(con);
	if (con->fd_watch > 0)
		loop_remove_fd(con->loop, con->fd_watch);
	con->fd_watch = -1;
	if (con->fd >= 0)
		close(con->fd);
	con->fd = -1;
	if (con->st_cb) {
		virStreamEventRemoveCallback(con->st);
		con->st_cb = 0;
	}
	if (con->st_eof)
		virStreamFinish(con->st);
	else
		virStreamAbort(con->st);
	virt_reset_error();
	virt_console_unref(con);
}

static void
virt_console_pump(struct virt_console *con)
{
	int progress, ev;
	ssize_t n;

	do {
		progress = 0;
		if (con->to_fd_len > 0 && con->fd >= 0) {
			n = send(con->fd, con->to_fd, con->to_fd_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				memmove(con->to_fd, con->to_fd + n, con->to_fd_len - (size_t)n);
				con->to_fd_len -= (size_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				con->fd_eof = 1;	/* EPIPE: the caller is gone */
			}
		}
		if (!con->st_eof && con->to_fd_len < sizeof con->to_fd) {
			int r = virStreamRecv(con->st, con->to_fd + con->to_fd_len,
					      sizeof con->to_fd - con->to_fd_len);

			if (r > 0) {
				con->to_fd_len += (size_t)r;
				progress = 1;
			} else if (r == 0 || r == -1) {
				con->st_eof = 1;
				virt_reset_error();
			}
		}
		if (!con->st_eof && con->to_st_len > 0) {
			int r = virStreamSend(con->st, con->to_st, con->to_st_len);

			if (r > 0) {
				memmove(con->to_st, con->to_st + r, con->to_st_len - (size_t)r);
				con->to_st_len -= (size_t)r;
				progress = 1;
			} else if (r == -1) {
				con->st_eof = 1;
				virt_reset_error();
			}
		}
		if (!con->fd_eof && con->fd >= 0 && con->to_st_len < sizeof con->to_st) {
			n = recv(con->fd, con->to_st + con->to_st_len, sizeof con->to_st - con->to_st_len,
				 MSG_DONTWAIT);
			if (n > 0) {
				con->to_st_len += (size_t)n;
				progress = 1;
			} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
				con->fd_eof = 1;
			}
		}
	} while (progress && !con->fd_eof);

	if (con->fd_eof || (con->st_eof && con->to_fd_len == 0)) {
		virt_console_teardown(con);
		return;
	}
	ev = 0;
	if (!con->fd_eof && con->to_st_len < sizeof con->to_st)
		ev |= POLLIN;
	if (con->to_fd_len > 0)
		ev |= POLLOUT;
	loop_update_fd(con->loop, con->fd_watch, ev);
	ev = 0;
	if (!con->st_eof && con->to_fd_len < sizeof con->to_fd)
		ev |= VIR_STREAM_EVENT_READABLE;
	if (!con->st_eof && con->to_st_len > 0)
		ev |= VIR_STREAM_EVENT_WRITABLE;
	if (con->st_cb && virStreamEventUpdateCallback(con->st, ev) < 0)
		virt_reset_error();
}

static void
virt_console_on_fd(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct virt_console *con = arg;

	(void)l;
	(void)id;
	(void)fd;
	if (con->dead)
		return;
	virt_console_pump(con);
	/* HUP with nothing left to read: the caller is gone. */
	if (!con->dead && (revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)) {
		con->fd_eof = 1;
		virt_console_teardown(con);
	}
}

static void
virt_console_on_stream(virStreamPtr st, int events, void *opaque)
{
	struct virt_console *con = opaque;

	(void)st;
	if (con->dead)
		return;
	if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) {
		/* Take what is still buffered, then end. */
		virt_console_pump(con);
		if (!con->dead) {
			con->st_eof = 1;
			virt_console_pump(con);
		}
		return;
	}
	virt_console_pump(con);
}

int
virt_console_open(struct instance *inst, int *fd_out, struct berr *err)
{
	virDomainPtr dom = virt_inst_domain(inst, err);
	struct virt_conn *vc;
	struct virt_console *con;
	int sv[2];

	*fd_out = -1;
	if (dom == NULL)
		return berr_wrap(err, "opening the console of domain `%s'", inst->name);
	vc = virt_conn_of(inst->conn);
	if (vc->loop == NULL)
		return berr_set(err, BERR_NOTSUP,
				"opening the console of domain `%s': no event loop to run it in", inst->name);
	con = xcalloc(1, sizeof *con);
	con->vc = vc;
	con->loop = vc->loop;
	con->fd = con->fd_watch = -1;
	con->st = virStreamNew(vc->conn, VIR_STREAM_NONBLOCK);
	if (con->st == NULL) {
		free(con);
		return virt_err(err, "opening the console of domain `%s'", inst->name);
	}
	/* FORCE: take the console over from a stale session rather than fail. */
	if (virDomainOpenConsole(dom, NULL, con->st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		virt_err(err, "opening the console of domain `%s'", inst->name);
		virStreamFree(con->st);
		free(con);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		berr_errno(err, "opening the console of domain `%s': socketpair", inst->name);
		virStreamAbort(con->st);
		virStreamFree(con->st);
		virt_reset_error();
		free(con);
		return -1;
	}
	fd_set_nonblock(sv[1], 1);
	con->fd = sv[1];
	con->refs = 1;
	/* No free callback: libvirt's remote driver never calls it (its
	 * remoteStreamCallbackFree skips ff while a callback is set).  Once
	 * virStreamEventRemoveCallback returns, the callback is not called again,
	 * and if it is running, the fd watch's reference keeps `con' alive
	 * until the loop sweeps after dispatch. */
	if (virStreamEventAddCallback(con->st, VIR_STREAM_EVENT_READABLE, virt_console_on_stream, con,
				      NULL) < 0) {
		virt_err(err, "opening the console of domain `%s': watching the stream", inst->name);
		close(sv[0]);
		close(sv[1]);
		virStreamAbort(con->st);
		virStreamFree(con->st);
		virt_reset_error();
		free(con);
		return -1;
	}
	con->st_cb = 1;
	con->fd_watch = loop_add_fd(con->loop, con->fd, POLLIN, virt_console_on_fd, con, virt_console_unref);
	if (con->fd_watch > 0)
		con->refs++;
	con->next = vc->consoles;
	vc->consoles = con;
	if (con->fd_watch <= 0) {
		close(sv[0]);
		virt_console_teardown(con);
		return berr_set(err, ENOMEM, "opening the console of domain `%s': watching the socket",
				inst->name);
	}
	*fd_out = sv[0];
	return 0;
}

void
virt_console_close_all(struct virt_conn *vc)
{
	while (vc->consoles != NULL) {
		struct virt_console *con = vc->consoles;

		/* Let the caller read what arrived, then EOF. */
		if (con->to_fd_len > 0 && con->fd >= 0) {
			ssize_t n = send(con->fd, con->to_fd, con->to_fd_len, MSG_NOSIGNAL | MSG_DONTWAIT);

			(void)n;
		}
		con->st_eof = 1;
		virt_console_teardown(con);
	}
}
