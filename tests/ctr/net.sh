#!/bin/sh
# Networking: none (own namespace, loopback up), host (the host's
# interfaces), bridge (a veth into berth0 with a private address; host and
# container reach each other).  All of it runs inside a network namespace
# this test creates, so nothing touches the machine's real network.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
need_cmd ip nsenter
NS=berth-ctr-test-$$
cleanup() { ctr_cleanup_all; ip netns del "$NS" 2>/dev/null; true; }
ip netns add "$NS" || skip "cannot create a network namespace"
ip netns exec "$NS" ip link set lo up
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"
IN_NS="nsenter --net=/run/netns/$NS"

# none: only loopback, and it is up.
C_ARGS='["sh", "-c", "ip -o link | cut -d: -f2 | tr -d \" \\n\"; echo; ip -o link show lo | grep -q UP && echo lo-up; ping -c1 -W2 127.0.0.1 >/dev/null && echo ping-lo"]' \
	write_config "$B"
out=$($IN_NS timeout 20 $CTR run --net none -b "$B" n1) || fail "net none run failed: $out"
[ "$(echo "$out" | head -1)" = lo ] || fail "net none: interfaces: $out"
echo "$out" | grep -q lo-up || fail "net none: lo is down: $out"
echo "$out" | grep -q ping-lo || fail "net none: cannot ping loopback: $out"

# host: the namespace we run in (a dummy interface proves it is shared).
$IN_NS ip link add hostdummy0 type veth peer name hostdummy1 || fail "cannot create a veth pair"
C_ARGS='["sh", "-c", "ip -o link | grep -c \": hostdummy0@\""]' write_config "$B"
out=$($IN_NS timeout 20 $CTR run --net host -b "$B" n2)
[ "$out" = 1 ] || fail "net host: the host's interfaces are not visible: $out"

# Joining an existing network namespace by path (as pods do).
C_NS="[{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"network\", \"path\": \"/run/netns/$NS\"}]" \
	C_ARGS='["sh", "-c", "ip -o link | grep -c \": hostdummy0@\""]' write_config "$B"
out=$(timeout 20 $CTR run -b "$B" n2b)
[ "$out" = 1 ] || fail "network namespace by path: not joined: $out"
C_NS= write_config "$B"

# bridge: veth into berth0.
C_ARGS='["sh", "-c", "sleep 60"]' write_config "$B"
$IN_NS timeout 20 $CTR run -d --net bridge -b "$B" n3 || fail "net bridge run failed"
addr=$($CTR state n3 | sed -n 's/.*"address":"\([0-9.]*\)\/.*/\1/p')
[ -n "$addr" ] || fail "net bridge: no address in the state: $($CTR state n3)"
$IN_NS ip -o addr show berth0 | grep -q "10.213.0.1/24" || fail "berth0 has no address"
$IN_NS /bin/busybox ping -c1 -W3 "$addr" >/dev/null || fail "net bridge: host cannot ping the container at $addr"
out=$(timeout 10 $CTR exec n3 -- sh -c 'ip -o addr show eth0; ping -c1 -W3 10.213.0.1 >/dev/null && echo ping-gw; ip route')
echo "$out" | grep -q "$addr/24" || fail "net bridge: eth0 lacks $addr: $out"
echo "$out" | grep -q ping-gw || fail "net bridge: container cannot ping the bridge: $out"
echo "$out" | grep -q "default via 10.213.0.1" || fail "net bridge: no default route: $out"
# berth stats shows the container's packet rates while the host pings it
# (5 a second; the container answers each).
$IN_NS /bin/busybox ping -i 0.2 -c 25 -W1 "$addr" >/dev/null 2>&1 &
pinger=$!
sleep 1
js=$(timeout 30 "$BERTH" --no-default-libvirt stats --json --interval 2 n3) || fail "berth stats n3 failed: $js"
wide=$(timeout 30 "$BERTH" --no-default-libvirt stats --wide --interval 1 n3) || fail "berth stats --wide failed"
kill $pinger 2>/dev/null; wait $pinger 2>/dev/null
pps() { echo "$js" | tr -d '\n ' | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
rx=$(pps net_rx_pps); tx=$(pps net_tx_pps); echo "packets/s: rx $rx tx $tx"
awk -v r="$rx" -v t="$tx" 'BEGIN { exit !(r >= 2 && r <= 20 && t >= 2 && t <= 20) }' ||
	fail "stats --json: a container pinged 5 times a second shows rx $rx, tx $tx packets/s: $js"
echo "$wide" | head -1 | grep -q "RX-PKT/s *TX-PKT/s" || fail "stats --wide lacks the packet columns: $wide"
row=$(echo "$wide" | grep "^n3 ")
set -- $row
[ "$#" -eq 13 ] || fail "stats --wide row has $# cells, not 13: $row"
awk -v r="${12}" 'BEGIN { exit !(r + 0 >= 2) }' || fail "stats --wide shows $12 received packets/s: $wide"

# A second container gets another address.
$IN_NS timeout 20 $CTR run -d --net bridge -b "$B" n4 || fail "second bridge container failed"
addr4=$($CTR state n4 | sed -n 's/.*"address":"\([0-9.]*\)\/.*/\1/p')
[ -n "$addr4" ] && [ "$addr4" != "$addr" ] || fail "second container address '$addr4' (first $addr)"
out=$(timeout 10 $CTR exec n4 -- ping -c1 -W3 "$addr")
[ $? -eq 0 ] || fail "containers on berth0 cannot reach each other: $out"
veth=$($CTR state n3 >/dev/null; cat "$CTR_ROOT/n3/state.json" | sed -n 's/.*"veth":"\([^"]*\)".*/\1/p')
[ -n "$veth" ] || fail "no veth recorded"
$IN_NS timeout 20 $CTR delete -f n3
$IN_NS ip link show "$veth" >/dev/null 2>&1 && fail "veth $veth left after delete"
$IN_NS timeout 20 $CTR delete -f n4
exit 0
