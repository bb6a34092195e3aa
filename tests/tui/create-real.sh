#!/bin/sh
# The create dialog on the bundled backends, end to end, in two dashboard
# sessions.  Containers: a busybox container (from a bundle built here out
# of Debian's busybox-static, with memory, CPU and pids limits) started from
# the form, an image container only defined from it, the console pane into
# the busybox one (a shell command), then with a second busybox container
# (defined from the command line) a batch pause and resume of both, a batch
# destroy and undefine.  VM: a miniguest VM on berth-vmm started from the
# form, the console pane into it (`info' at the miniguest prompt), a batch
# pause and resume, destroy and undefine.  The container part runs here;
# the VM part needs /dev/kvm and runs one level down where this host has
# none.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
. "$top_srcdir/tests/tui/tui-lib.sh"

[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
[ -x "$BERTH_CTR" ] || fail "berth-ctr was not built ($BERTH_CTR)"
kernel="$top_builddir/tests/guests/miniguest.bzImage"
[ -f "$kernel" ] || fail "$kernel was not built (make builds the test guests)"
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"

stop_all() {
	timeout 20 "$BERTH" destroy tvm >/dev/null 2>&1
	timeout 20 "$BERTH" destroy tct >/dev/null 2>&1
	timeout 20 "$BERTH" destroy tct2 >/dev/null 2>&1
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	return 0
}
tui_extra_cleanup=stop_all

if non_kvm_parts; then
	# a busybox bundle: rootfs + OCI config
	bundle="$BERTH_TEST_TMP/bb"
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/tmp" \
		"$bundle/rootfs/sys" "$bundle/rootfs/etc" || fail "mkdir bundle"
	cp /bin/busybox "$bundle/rootfs/bin/busybox" || fail "copy busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$a"
	done
	cat >"$bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh"],
              "env": ["PATH=/bin", "TERM=xterm", "HOME=/"], "cwd": "/"},
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "tct",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance", "ptmxmode=0666"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}
  ],
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}, {"type": "network"}]}
}
JSON
	# the second container's own copy, for the batch
	bundle2="$BERTH_TEST_TMP/bb2"
	cp -a "$bundle" "$bundle2" || fail "copy the bundle"

	tui_start 100 30
	tui_wait 'berth +0 instances' 15 "the dashboard starts with the bundled backends"

	# ---- the container form
	tui_keys n
	tui_wait '┌ New VM ' 5
	tui_keys BTab BTab Space
	tui_wait '┌ New container ' 5 "kind switches to container"
	tui_wait 'Backend +< container on localhost >' 5 "the container backend is offered"
	tui_keys Tab Tab
	tui_type tct
	tui_keys Tab
	tui_type "$bundle"
	tui_keys Tab C-u
	tui_type '/bin/sh'
	tui_keys Tab
	tui_type 64
	tui_keys Tab
	tui_type 1
	tui_keys Tab
	tui_type 32
	tui_keys Tab Tab
	tui_wait '\[ Create \]' 5
	tui_keys Enter
	tui_wait_not '┌ New container ' 20 "the container form closes after creating"
	tui_wait "started container .tct. on localhost" 5 "status reports the new container"
	tui_wait '^ +tct +ct +container +.*running' 10 "the container runs"
	def="$BERTH_DATA_DIR/ct/tct/definition.json"
	[ -f "$def" ] || def=$(ls "$BERTH_DATA_DIR"/*/tct/*.json 2>/dev/null | head -1)
	flat=$(tr -d ' \\\n' <"$def")
	for k in '"bundle":"'"$bundle"'"' '"memory_mib":64' '"cpus":1' '"pids_max":32' '"command":["/bin/sh"]' '"terminal":true'; do
		case $flat in *"$k"*) ;; *) cat "$def"; fail "the definition lacks $k" ;; esac
	done

	# an image reference (not a path) goes to the definition's `image' key;
	# start no: the store here is empty, so only the definition is checked
	tui_keys n
	tui_wait '┌ New VM ' 5
	tui_keys BTab BTab Space
	tui_wait '┌ New container ' 5
	tui_wait "Image/bundle +image from .berth images', or /path/to/bundle" 5 "the image field says what it takes"
	tui_keys Tab Tab
	tui_type timg
	tui_keys Tab
	tui_type 'localhost/busybox:1'
	tui_keys Tab Tab Tab Tab Tab
	tui_wait 'Start now +< yes >' 5
	tui_keys Space
	tui_wait 'Start now +< no >' 5
	tui_keys Tab Enter
	tui_wait "defined container .timg. on localhost" 10 "the image container is defined"
	flat=$(tr -d ' \\\n' <"$BERTH_DATA_DIR/ct/timg/definition.json")
	case $flat in *'"image":"localhost/busybox:1"'*) ;; *) echo "$flat"; fail "the definition lacks the image" ;; esac
	case $flat in *'"command"'*|*'"memory_mib"'*|*'"bundle"'*) echo "$flat"; fail "empty fields must not be in the definition" ;; esac
	timeout 20 "$BERTH" undefine timg >/dev/null || fail "undefine timg"
	tui_wait_not '^ +timg ' 10 "the undefine shows"

	# ---- console pane
	tui_keys g
	tui_keys c
	tui_wait '^ console tct \(container on localhost\)' 5 "container console pane"
	sleep 0.5
	tui_type 'echo hi$((40+2))'
	tui_keys Enter
	tui_wait '^hi42' 10 "the busybox shell ran the command"
	tui_keys C-]
	tui_wait 'NAME.*STATE' 5 "Ctrl-] leaves the container pane"

	# ---- a second container, for the batch
	printf '{"name": "tct2", "bundle": "%s"}\n' "$bundle2" >"$BERTH_TEST_TMP/tct2.json"
	timeout 60 "$BERTH" define --start "$BERTH_TEST_TMP/tct2.json" >/dev/null ||
		fail "could not define and start the second container"
	tui_wait '^ +tct2 +ct +container +.*running' 10 "the second container runs"
	tui_wait 'berth +2 instances, 2 running' 5

	# ---- batch pause / resume
	tui_keys '*'
	tui_wait '2 selected' 5
	tui_keys p
	tui_wait 'pause 2 instances' 5
	tui_keys y
	tui_wait 'pause: 2 done' 15 "both containers paused"
	tui_wait '^ +tct .*paused' 5
	tui_wait '^ +tct2 .*paused' 5
	tui_keys '*'
	tui_wait '2 selected' 5
	tui_keys R
	tui_wait 'resume 2 instances' 5
	tui_keys y
	tui_wait 'resume: 2 done' 15 "both containers resumed"
	tui_wait 'berth +2 instances, 2 running' 5

	# ---- destroy both
	tui_keys '*'
	tui_wait '2 selected' 5
	tui_keys D
	tui_wait 'destroy 2 instances' 5
	tui_keys y
	tui_wait 'berth +2 instances, 0 running' 20 "both containers destroyed"
	tui_quit
	timeout 20 "$BERTH" undefine tct >/dev/null || fail "undefine tct"
	timeout 20 "$BERTH" undefine tct2 >/dev/null || fail "undefine tct2"
fi

need_kvm
tui_start 100 30
tui_wait 'berth +0 instances' 15 "the dashboard starts with the bundled backends"

# ---- the VM form
tui_keys n
tui_wait '┌ New VM ' 5
tui_wait 'Backend +< kvm on localhost >' 5 "kvm is preselected for VMs"
tui_expect_not 'Disk image' "berth-vmm has no disk key: the field is hidden"
tui_type tvm
tui_keys Tab
tui_type "$kernel"
tui_keys Tab Tab Tab C-u
tui_type 48
tui_keys Tab C-u
tui_type 1
tui_keys Tab Tab
tui_wait '\[ Create \]' 5
tui_keys Enter
tui_wait_not '┌ New VM ' 20 "the VM form closes after creating"
tui_wait '^ +tvm +vm +kvm +.*running' 10 "the VM runs"

# ---- console pane
tui_keys g
tui_keys c
tui_wait '^ console tvm \(kvm on localhost\)' 5 "VM console pane"
tui_keys Enter
tui_wait '^miniguest>' 15 "the miniguest prompt"
tui_type info
tui_keys Enter
tui_wait '^memory: 4[78] MiB' 10 "the guest reports the memory given in the form"
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "Ctrl-] leaves the VM pane"

# ---- batch pause / resume (one instance selected: no confirmation asked)
tui_keys '*'
tui_wait '1 selected' 5
tui_keys p
tui_wait 'pause: 1 done' 15 "the VM paused"
tui_wait '^ +tvm .*paused' 5
tui_keys '*'
tui_wait '1 selected' 5
tui_keys R
tui_wait 'resume: 1 done' 15 "the VM resumed"
tui_wait 'berth +1 instances, 1 running' 5

# ---- destroy
tui_keys '*'
tui_wait '1 selected' 5
tui_keys D
tui_wait 'destroy 1 instance: tvm' 5
tui_keys y
tui_wait 'berth +1 instances, 0 running' 20 "the VM destroyed"
tui_quit
timeout 20 "$BERTH" undefine tvm >/dev/null || fail "undefine tvm"
