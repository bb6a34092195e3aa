#!/bin/sh
# Install what berth needs to build (and, with --test, to run its whole test
# suite) from Debian's archive.  Non-interactive and idempotent: packages that
# are already present are not touched, and nothing is done when all are there.
set -e

build_pkgs="build-essential autoconf automake libtool pkg-config
  libncurses-dev libvirt-dev liblua5.4-dev lua5.4 libcurl4-openssl-dev
  libreadline-dev libjson-c-dev libvterm-dev libseccomp-dev libarchive-dev
  libzstd-dev zlib1g-dev libxml2-dev busybox-static"
test_pkgs="tmux qemu-system-x86 cpio xz-utils util-linux
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  docker-registry skopeo umoci runc iproute2 clang libclang-rt-14-dev
  openssh-server openssh-client kmod python3 podman lz4"

pkgs="$build_pkgs"
[ "$1" = "--test" ] && pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "berth: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || $SUDO apt-get update
# Do not let package scripts start system services (libvirtd, sshd, the
# registry): berth's tests start their own private instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends $missing
