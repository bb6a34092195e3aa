#!/bin/sh
# ssh-sshd.sh - ssh:// end to end: a private sshd on 127.0.0.1 (root,
# generated host and user keys), `berth list --connect ssh://root@...'
# running `berth proxy' on the far side with this test's private BERTH_*
# directories passed through ?env= (sshd resets the environment), and the
# failures ssh can give: a key the server refuses, a wrong berth path.
. "$top_srcdir/tests/lib/sh-helpers.sh"

[ -x "$BERTH" ] || skip "berth is not built ($BERTH)"
[ -x /usr/sbin/sshd ] || skip "needs /usr/sbin/sshd (openssh-server is not installed)"
need_cmd ssh ssh-keygen
need_root

T="$BERTH_TEST_TMP"
OUT="$T/out"
ERR="$T/err"

cleanup() {
	if [ -s "$T/sshd.pid" ]; then
		kill "$(cat "$T/sshd.pid")" 2>/dev/null
	fi
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	return 0
}

run() {
	want=$1
	shift
	timeout 60 "$BERTH" "$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "---- stdout"; cat "$OUT"; echo "---- stderr"; cat "$ERR"
		echo "---- sshd log"; cat "$T/sshd.log" 2>/dev/null
		fail "berth $*: exit $got, want $want"
	fi
}

has() {
	grep -F -q -- "$2" "$1" || { echo "---- $1"; cat "$1"; fail "$3: no \`$2'"; }
}

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || fail "ssh-keygen (host key)"
ssh-keygen -q -t ed25519 -N '' -f "$T/id" || fail "ssh-keygen (user key)"
ssh-keygen -q -t ed25519 -N '' -f "$T/other" || fail "ssh-keygen (other key)"
cp "$T/id.pub" "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
# sshd insists on its privilege separation directory.
[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd

# A free port: try a few at random until sshd binds one.
SSHD_PID=
for attempt in 1 2 3 4 5 6 7 8; do
	PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
	cat >"$T/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
CFG
	rm -f "$T/sshd.log"
	/usr/sbin/sshd -D -f "$T/sshd_config" -E "$T/sshd.log" &
	SSHD_PID=$!
	# Listening once the pid file is written (sshd writes it after binding).
	if wait_for 5 test -s "$T/sshd.pid"; then
		break
	fi
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
done
[ -n "$SSHD_PID" ] || { cat "$T/sshd.log" 2>/dev/null; fail "the private sshd did not start"; }

BERTH_SSH="-i $T/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
export BERTH_SSH
ENV="env=BERTH_RUN_DIR=$BERTH_RUN_DIR&env=BERTH_DATA_DIR=$BERTH_DATA_DIR&env=BERTH_CONFIG_DIR=$BERTH_CONFIG_DIR&env=BERTH_NO_DEFAULT_LIBVIRT=1"
[ -n "$BERTH_VMM" ] && ENV="$ENV&env=BERTH_VMM=$BERTH_VMM"
URI="ssh://root@127.0.0.1:$PORT?berth=$BERTH&$ENV&connect=test:///default"

# A kvm VM defined in this test's private data directory: seeing it through
# ssh proves the remote berth runs with the directories passed by ?env=.
mkdir -p "$BERTH_DATA_DIR/vm"
echo '{"name":"over-ssh","kernel":"/nonexistent","memory_mib":64,"vcpus":1}' >"$BERTH_DATA_DIR/vm/over-ssh.json"

run 0 list --json --connect "$URI"
has "$OUT" '"name": "test"' "list over ssh (libvirt test driver on the far side)"
has "$OUT" '"name": "over-ssh"' "list over ssh (kvm VM from the private data directory)"
has "$OUT" '"backend": "remote"' "list over ssh"
has "$OUT" '"host": "127.0.0.1"' "list over ssh: the host label is the ssh host"

run 0 info --json remote:over-ssh --connect "$URI"
has "$OUT" '"remote_backend": "kvm"' "info over ssh"

printf 'pause test\nlist --names --state paused\nresume test\n' |
	timeout 60 "$BERTH" shell --connect "$URI" >"$OUT" 2>"$ERR" ||
	{ cat "$OUT" "$ERR"; fail "shell session over ssh failed"; }
has "$OUT" "paused vm \`test'" "pause over ssh"
has "$OUT" "resumed vm \`test'" "resume over ssh"

run 0 hosts --json --connect "$URI"
has "$OUT" '"uri": "ssh://root@127.0.0.1' "hosts over ssh"

# A key the server does not accept: ssh's own reason, with the URI.
BERTH_SSH="-i $T/other -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" \
	run 4 list --connect "$URI"
has "$ERR" "connecting to remote \`ssh://root@127.0.0.1:$PORT" "refused key"
has "$ERR" "ssh exited 255" "refused key"
has "$ERR" "Permission denied (publickey" "refused key"

# berth is not where ?berth= says.
run 4 list --connect "ssh://root@127.0.0.1:$PORT?berth=/nonexistent/berth"
has "$ERR" "ssh exited 127" "wrong berth path"
has "$ERR" "/nonexistent/berth" "wrong berth path"

echo "ok: ssh:// reaches a remote berth proxy through a real sshd"
exit 0
