/*
 * console-peer.c - a fake guest console for the dashboard's console tests.
 *
 * Listens on a unix socket (the dashboard connects to it through the hidden
 * BERTH_TUI_TEST_CONSOLE hook).  Each connection gets a banner and a prompt;
 * typed bytes are echoed like a terminal in echo mode, and each line is
 * answered with "reply: <line>"; the line "many" adds 100 numbered lines.  With --flood it also sends output as fast
 * as the reader takes it, to prove detaching never waits on the guest.
 * With --silent it accepts and never reads or writes.
 * Exits after 300 s in any case, so a failed test leaves nothing behind.
 *
 * usage: console-peer SOCKET [--flood|--silent]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void
send_str(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				if (poll(&p, 1, 1000) <= 0)
					return;
				continue;
			}
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	int lfd, cfd = -1, flood = 0, silent = 0;
	char line[1024];
	size_t linelen = 0;
	unsigned long seq = 0;
	time_t end = time(NULL) + 300;

	if (argc < 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: console-peer SOCKET [--flood|--silent]\n");
		return 2;
	}
	flood = argc > 2 && strcmp(argv[2], "--flood") == 0;
	silent = argc > 2 && strcmp(argv[2], "--silent") == 0;
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
		perror("console-peer");
		return 1;
	}
	while (time(NULL) < end) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = cfd, .events = POLLIN } };
		int n;

		if (flood && cfd >= 0)
			p[1].events |= POLLOUT;
		if (silent)
			p[1].events = 0;
		n = poll(p, cfd >= 0 ? 2 : 1, 1000);
		if (n <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			int nfd = accept(lfd, NULL, NULL);

			if (nfd >= 0) {
				if (cfd >= 0)
					close(cfd);
				cfd = nfd;
				linelen = 0;
				if (!silent) {
					fcntl(cfd, F_SETFL, O_NONBLOCK);
					send_str(cfd, "console-peer ready\r\n$ ");
				}
			}
			continue;
		}
		if (cfd < 0)
			continue;
		if (p[1].revents & (POLLHUP | POLLERR)) {
			close(cfd);
			cfd = -1;
			continue;
		}
		if (p[1].revents & POLLOUT) {
			char buf[4096];
			int len = 0;

			while (len < (int)sizeof buf - 64)
				len += snprintf(buf + len, sizeof buf - len, "flood line %lu\r\n", seq++);
			if (write(cfd, buf, len) < 0 && errno != EAGAIN) {
				close(cfd);
				cfd = -1;
				continue;
			}
		}
		if (p[1].revents & POLLIN) {
			char buf[512];
			ssize_t r = read(cfd, buf, sizeof buf), i;

			if (r <= 0) {
				if (r == 0 || errno != EAGAIN) {
					close(cfd);
					cfd = -1;
				}
				continue;
			}
			for (i = 0; i < r; i++) {
				char c = buf[i];

				if (c == '\r' || c == '\n') {
					char reply[1100];

					line[linelen] = '\0';
					snprintf(reply, sizeof reply, "\r\nreply: %s\r\n", line);
					send_str(cfd, reply);
					if (strcmp(line, "many") == 0) {
						int k;

						for (k = 1; k <= 100; k++) {
							snprintf(reply, sizeof reply, "many %d\r\n", k);
							send_str(cfd, reply);
						}
					}
					send_str(cfd, "$ ");
					linelen = 0;
				} else if (c == 0x7f || c == 8) {
					if (linelen > 0) {
						linelen--;
						send_str(cfd, "\b \b");
					}
				} else if (linelen < sizeof line - 1) {
					char echo[2] = { c, 0 };

					line[linelen++] = c;
					send_str(cfd, echo);
				}
			}
		}
	}
	return 0;
}
