#!/bin/sh
# The create dialog defines and starts a VM through the backend's define op
# (here libvirt's test driver), shows define errors in full and keeps the
# form open; the container form says when no backend can run containers.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

for size in 80x24 200x60; do
	cols=${size%x*}; rows=${size#*x}
	tui_start "$cols" "$rows" --connect test:///default
	tui_wait 'berth +1 instances' 10
	tui_keys n
	tui_wait '┌ New VM ' 5 "dialog at $size"
	tui_wait 'Backend +< (kvm|libvirt) on localhost >' 5 "a VM backend is preselected (kvm first when connected)"
	# choose libvirt (the test driver): Up to the backend, Right cycles
	tui_keys Up
	n=0
	while ! tui_screen | grep -Eq 'Backend +< libvirt on localhost >'; do
		n=$((n + 1)); [ $n -le 4 ] || fail "Right never offered the libvirt backend"
		tui_keys Right; sleep 0.2
	done
	tui_keys Down
	tui_wait 'Memory MiB +256' 5 "defaults filled in"
	# Name is focused: an invalid name first
	tui_type '-bad'
	tui_keys Tab Tab Tab Tab Tab Tab Tab Tab
	tui_wait '\[ Create \]' 5
	tui_keys Enter
	tui_wait "name .-bad. must not start with" 5 "the name error is shown in the dialog at $size"
	tui_wait '┌ New VM ' 5 "the dialog stays open after an error"
	# fix the name, give a kernel, create
	tui_keys BTab BTab BTab BTab BTab BTab BTab BTab
	tui_keys C-u
	tui_type "newvm$cols"
	tui_keys Tab
	tui_type '/boot/vmlinuz-test'
	tui_keys Tab Tab Tab Tab Tab Tab Tab
	tui_keys Enter
	tui_wait_not '┌ New VM ' 5 "dialog closes after creating at $size"
	tui_wait "started VM .newvm$cols. on localhost" 5 "status reports the new VM"
	tui_wait "^ +newvm$cols +.*running" 5 "the new VM is in the table, running"
	tui_wait 'berth +2 instances, 2 running' 5

	# container: no container backend connected here
	tui_keys n
	tui_wait '┌ New VM ' 5
	tui_keys Up Up Right
	tui_wait '┌ New container ' 5 "kind switches the form at $size"
	tui_wait 'Image' 5 "container fields"
	tui_wait 'Backend +(< container on|\(none connected\))' 5 "only container backends offered"
	tui_keys Escape
	tui_wait_not '┌ New container ' 5
	tui_quit
done
