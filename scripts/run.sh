#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make run: boot the demo board with knvram loaded and a shell on the
# console. Without a terminal (CI=true, or stdin not a tty) it runs the
# short scripted demo (board/qemu-virt/scenarios/demo) and powers off.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$KNVRAM_TOP"
unset KDIR
# The debug kernel always (KNVRAM_KERNEL_FLAVOUR is for make bench).
export KNVRAM_KERNEL_FLAVOUR=debug

w=$(knvram_work)
mkdir -p "$w/guest"
# See check.sh: one build of the tree's guest files at a time.
exec 5>"$w/.check.lock"
flock 5

phase setup
scripts/setup-host.sh
phase kernel
scripts/kernel.sh
phase guest-build
scripts/modules.sh
if [ -f tools/testing/selftests/knvram/Makefile ]; then
	scripts/selftests.sh
fi
w=$w/guest
export KNVRAM_KERNEL KNVRAM_INITRD KNVRAM_DTB
KNVRAM_KERNEL=$(kernel_build_dir)/arch/arm64/boot/Image
KNVRAM_INITRD=$w/initrd.gz
KNVRAM_DTB=$w/board.dtb
scripts/dtb.sh "$KNVRAM_DTB"
scripts/initramfs.sh "$KNVRAM_INITRD"
phase_end
exec 5>&-

# shellcheck source=scripts/board.sh
. scripts/board.sh
# A fresh board each time: RAM and flash files in $w/board.
board_files "$w/board"
if [ -t 0 ] && [ -z "${CI:-}" ]; then
	echo "# run: knvram demo board; leave the shell with \"exit\" (or Ctrl-A x)"
	board_cmd "$w/board" knvram.shell=1
	"${QEMU_BOARD[@]}"
else
	echo "# run: no terminal: scripted demo"
	status=0
	board_boot "$w/board" "$w/demo.log" 600 knvram.scenario=demo || status=$?
	# The demo's lines, without the boot messages.
	sed -n '/^# knvram: scenario/,$p' "$w/demo.log" | tr -d '\r' |
		grep -v '^\[ *[0-9]*\.[0-9]*\]'
	[ $status = 0 ] || die "the demo board did not power off (log: $w/demo.log)"
fi
