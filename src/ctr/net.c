/*
 * net.c - container networking over rtnetlink with raw sockets.
 *
 * For: loopback up in a new network namespace; the bridge berth0 with a
 * private address that never leaves the host; veth pairs whose container end
 * is created directly inside the container's namespace (IFLA_NET_NS_PID) as
 * eth0; address and default route inside.  Not for: NAT, DNS or port
 * forwarding.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctr/net.h"

struct nl_req {
	struct nlmsghdr h;
	char buf[2048];
};

static struct rtattr *
nl_attr(struct nlmsghdr *h, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static struct rtattr *
nl_nest(struct nlmsghdr *h, int type)
{
	return nl_attr(h, type, NULL, 0);
}

static void
nl_nest_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* Send one request and wait for its acknowledgement. */
static int
nl_talk(struct nlmsghdr *h, const char *what, int ok_errno, struct berr *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	ssize_t n;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return berr_errno(err, "netlink socket");
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		berr_errno(err, "netlink: %s", what);
		close(fd);
		return -1;
	}
	for (;;) {
		struct nlmsghdr *r;

		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			berr_errno(err, "netlink: %s", what);
			close(fd);
			return -1;
		}
		for (r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(r);

				close(fd);
				if (e->error == 0 || -e->error == ok_errno)
					return 0;
				errno = -e->error;
				return berr_errno(err, "netlink: %s", what);
			}
			if (r->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return 0;
			}
		}
	}
}

static void
req_init(struct nl_req *r, int type, int flags, size_t hdrlen)
{
	memset(r, 0, sizeof *r);
	r->h.nlmsg_len = (unsigned)NLMSG_LENGTH(hdrlen);
	r->h.nlmsg_type = (unsigned short)type;
	r->h.nlmsg_flags = (unsigned short)flags;
}

static int
link_up(const char *name, struct berr *err)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return berr_errno(err, "socket");
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		berr_errno(err, "interface %s", name);
		close(fd);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		berr_errno(err, "bringing %s up", name);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
net_loopback_up(struct berr *err)
{
	return link_up("lo", err);
}

static int
add_addr(const char *ifname, const char *addr, int prefix, struct berr *err)
{
	struct nl_req r;
	struct ifaddrmsg *ifa;
	struct in_addr a;
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0)
		return berr_errno(err, "interface %s", ifname);
	if (inet_pton(AF_INET, addr, &a) != 1)
		return berr_set(err, EINVAL, "bad address %s", addr);
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
	ifa = NLMSG_DATA(&r.h);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = idx;
	nl_attr(&r.h, IFA_LOCAL, &a, sizeof a);
	nl_attr(&r.h, IFA_ADDRESS, &a, sizeof a);
	return nl_talk(&r.h, "adding an address", EEXIST, err);
}

static int
ensure_bridge(struct berr *err)
{
	struct nl_req r;
	struct rtattr *li;

	if (if_nametoindex(NET_BRIDGE_NAME) == 0) {
		req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
		((struct ifinfomsg *)NLMSG_DATA(&r.h))->ifi_family = AF_UNSPEC;
		nl_attr(&r.h, IFLA_IFNAME, NET_BRIDGE_NAME, strlen(NET_BRIDGE_NAME) + 1);
		li = nl_nest(&r.h, IFLA_LINKINFO);
		nl_attr(&r.h, IFLA_INFO_KIND, "bridge", 6);
		nl_nest_end(&r.h, li);
		if (nl_talk(&r.h, "creating bridge " NET_BRIDGE_NAME, EEXIST, err) < 0)
			return -1;
	}
	if (add_addr(NET_BRIDGE_NAME, NET_BRIDGE_ADDR, NET_BRIDGE_PREFIX, err) < 0)
		return -1;
	return link_up(NET_BRIDGE_NAME, err);
}

int
net_bridge_attach(pid_t pid, const char *id, char host_if[16], struct berr *err)
{
	struct nl_req r;
	struct rtattr *li, *data, *peer;
	struct ifinfomsg *ifi;
	unsigned long h = 5381;
	const char *p;
	unsigned br;
	int32_t npid = pid;

	if (ensure_bridge(err) < 0)
		return berr_wrap(err, "bridge " NET_BRIDGE_NAME);
	for (p = id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	snprintf(host_if, 16, "bv%05lx%05x", h & 0xfffff, (unsigned)pid & 0xfffff);
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	nl_attr(&r.h, IFLA_IFNAME, host_if, strlen(host_if) + 1);
	li = nl_nest(&r.h, IFLA_LINKINFO);
	nl_attr(&r.h, IFLA_INFO_KIND, "veth", 4);
	data = nl_nest(&r.h, IFLA_INFO_DATA);
	peer = nl_nest(&r.h, VETH_INFO_PEER);
	/* The peer's ifinfomsg header comes first inside VETH_INFO_PEER. */
	ifi = (struct ifinfomsg *)((char *)&r.h + r.h.nlmsg_len);
	memset(ifi, 0, sizeof *ifi);
	r.h.nlmsg_len += (unsigned)NLMSG_ALIGN(sizeof *ifi);
	nl_attr(&r.h, IFLA_IFNAME, "eth0", 5);
	nl_attr(&r.h, IFLA_NET_NS_PID, &npid, sizeof npid);
	nl_nest_end(&r.h, peer);
	nl_nest_end(&r.h, data);
	nl_nest_end(&r.h, li);
	if (nl_talk(&r.h, "creating a veth pair", 0, err) < 0)
		return -1;
	br = if_nametoindex(NET_BRIDGE_NAME);
	req_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	ifi = NLMSG_DATA(&r.h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)if_nametoindex(host_if);
	nl_attr(&r.h, IFLA_MASTER, &br, sizeof br);
	if (nl_talk(&r.h, "adding the veth to " NET_BRIDGE_NAME, 0, err) < 0 ||
	    link_up(host_if, err) < 0) {
		(void)net_link_delete(host_if, NULL);
		return -1;
	}
	return 0;
}

int
net_container_configure(const char *addr_cidr, const char *gateway, struct berr *err)
{
	char addr[64];
	const char *slash = strchr(addr_cidr, '/');
	int prefix = slash ? atoi(slash + 1) : 24;
	struct nl_req r;
	struct rtmsg *rt;
	struct in_addr gw;
	unsigned idx;

	snprintf(addr, sizeof addr, "%.*s", slash ? (int)(slash - addr_cidr) : (int)strlen(addr_cidr),
		 addr_cidr);
	if (add_addr("eth0", addr, prefix, err) < 0 || link_up("eth0", err) < 0)
		return berr_wrap(err, "configuring eth0");
	if (gateway == NULL)
		return 0;
	if (inet_pton(AF_INET, gateway, &gw) != 1)
		return berr_set(err, EINVAL, "bad gateway %s", gateway);
	idx = if_nametoindex("eth0");
	req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt);
	rt = NLMSG_DATA(&r.h);
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	nl_attr(&r.h, RTA_GATEWAY, &gw, sizeof gw);
	nl_attr(&r.h, RTA_OIF, &idx, sizeof idx);
	return nl_talk(&r.h, "adding the default route", EEXIST, err);
}

/* Only a host end that berth named (bv + 10 hex digits): the name comes
 * back from state.json, and a tampered one must not take down eth0. */
static int
is_berth_veth(const char *ifname)
{
	return strncmp(ifname, "bv", 2) == 0 && strlen(ifname) == 12 &&
	       strspn(ifname + 2, "0123456789abcdef") == 10;
}

int
net_link_delete(const char *ifname, struct berr *err)
{
	struct nl_req r;
	unsigned idx;

	if (!is_berth_veth(ifname))
		return berr_set(err, BERR_INVALID, "link %.32s: not a berth veth (refused)", ifname);
	idx = if_nametoindex(ifname);
	if (idx == 0)
		return 0;
	req_init(&r, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	((struct ifinfomsg *)NLMSG_DATA(&r.h))->ifi_index = (int)idx;
	return nl_talk(&r.h, "deleting a link", ENODEV, err);
}
