#!/bin/sh
# The kvm backend's ops table driven directly (tests/vmm/test-kvm-backend.c),
# one level down when this host has no /dev/kvm.
. "$top_srcdir/tests/vmm/lib.sh"
exec "$top_builddir/tests/vmm/test-kvm-backend"
