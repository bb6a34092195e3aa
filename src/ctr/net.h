/*
 * net.h - container networking over rtnetlink (no `ip` needed): loopback up
 * in a new network namespace, and a veth pair into the host bridge berth0.
 *
 * For: the host side (bridge, veth, moving the peer into the container's
 * namespace) and the container side (address, default route).
 * Not for: NAT or firewalling: the bridge only reaches the host.
 */
#ifndef BERTH_CTR_NET_H
#define BERTH_CTR_NET_H

#include <sys/types.h>

#include "core/error.h"

#define NET_BRIDGE_NAME "berth0"
#define NET_BRIDGE_ADDR "10.213.0.1"
#define NET_BRIDGE_PREFIX 24

/* Bring "lo" up in the current network namespace. */
int net_loopback_up(struct berr *err);
/* Host side: make sure berth0 exists with NET_BRIDGE_ADDR, create a veth
 * pair, put one end in the bridge and move the other, named eth0, into the
 * network namespace of pid.  host_if receives the host end's name. */
int net_bridge_attach(pid_t pid, const char *id, char host_if[16], struct berr *err);
/* Container side: address eth0 with addr/prefix, bring it up, route
 * everything through gateway. */
int net_container_configure(const char *addr_cidr, const char *gateway, struct berr *err);
/* Delete a host veth end that berth created (its peer goes with it); any
 * other name is refused. */
int net_link_delete(const char *ifname, struct berr *err);

#endif
