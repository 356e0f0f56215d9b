#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot the board, for host-side tests that power-cycle it.
#
# As a library (". scripts/board.sh" after scripts/lib.sh), with the
# guest's files in KNVRAM_KERNEL, KNVRAM_INITRD and KNVRAM_DTB:
#   board_boot DIR LOG SECS [KERNEL-ARGS...]  boot, wait for the guest to
#                                     power off; status 124 if stopped after SECS
#   board_start DIR LOG [KERNEL-ARGS...]   boot in the background, with QMP
#   board_wait LOG TEXT SECS          wait for a console line containing TEXT
#   board_qmp COMMAND [JSON-ARGS]     a QMP command (scripts/qmp.py)
#   board_kill                        SIGKILL QEMU: a power cut
#   board_wait_exit SECS              wait for QEMU to end (SIGKILL after SECS)
#   board_cleanup                     kill QEMU, free the boards' files; runs
#                                     on exit (a test that sets its own EXIT
#                                     trap calls it there)
# DIR holds the board's RAM and flash files (scripts/lib.sh board_files):
# every boot with the same DIR finds them as the previous boot left them.
# KERNEL-ARGS are appended to the command line, e.g. knvram.scenario=NAME.
#
# As a command:
#   board.sh DIR MARKER ACTION [KERNEL-ARGS...]
# boots in the background, waits for a console line containing MARKER, then
# does ACTION: "powerdown" (the power button, QMP system_powerdown), "kill"
# (SIGKILL QEMU) or "quit" (QMP quit), and waits for QEMU to end. The
# console log is DIR/console.log.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${KNVRAM_KERNEL:=$(kernel_build_dir)/arch/arm64/boot/Image}"
: "${KNVRAM_INITRD:=$(knvram_work)/guest/initrd.gz}"
: "${KNVRAM_DTB:=$(knvram_work)/guest/board.dtb}"

BOARD_PID=
BOARD_QMP=

# board_cmd DIR [KERNEL-ARGS...]: set QEMU_BOARD to the whole command line.
board_cmd() {
	local dir=$1
	shift
	[ -f "$dir/ram.img" ] || board_files "$dir"
	qemu_board "$dir/ram.img" "$dir/flash1.img" "$dir/disk.img"
	QEMU_BOARD+=(-nographic -kernel "$KNVRAM_KERNEL" -initrd "$KNVRAM_INITRD"
		-dtb "$KNVRAM_DTB" -append "$KNVRAM_APPEND $*")
}

board_boot() {
	local dir=$1 log=$2 secs=$3
	shift 3
	board_cmd "$dir" "$@"
	timeout -k 10 "$secs" "${QEMU_BOARD[@]}" </dev/null >"$log" 2>&1 && return 0
	local status=$?
	if [ $status = 124 ] || [ $status = 137 ]; then
		echo "# board: killed after ${secs}s" >>"$log"
		return 124
	fi
	return $status
}

board_start() {
	local dir=$1 log=$2
	shift 2
	board_cmd "$dir" "$@"
	BOARD_QMP=$(mktemp -d /tmp/knvram-qmp.XXXXXX)/qmp.sock
	"${QEMU_BOARD[@]}" -qmp "unix:$BOARD_QMP,server=on,wait=off" \
		</dev/null >"$log" 2>&1 &
	BOARD_PID=$!
}

board_running() {
	[ -n "$BOARD_PID" ] && kill -0 "$BOARD_PID" 2>/dev/null
}

board_wait() {
	local log=$1 text=$2 secs=$3 t=0
	while ! grep -qF -- "$text" "$log" 2>/dev/null; do
		board_running || return 1
		[ $t -lt $((secs * 10)) ] || return 1
		sleep 0.1
		t=$((t + 1))
	done
}

board_qmp() {
	python3 "$KNVRAM_TOP/scripts/qmp.py" "$BOARD_QMP" "$@"
}

board_kill() {
	board_running && kill -KILL "$BOARD_PID"
	board_wait_exit 10 || true
}

board_wait_exit() {
	local secs=$1 t=0 status=0
	while board_running && [ $t -lt $((secs * 10)) ]; do
		sleep 0.1
		t=$((t + 1))
	done
	board_running && kill -KILL "$BOARD_PID"
	[ -n "$BOARD_PID" ] && { wait "$BOARD_PID" 2>/dev/null || status=$?; }
	BOARD_PID=
	[ -n "$BOARD_QMP" ] && rm -rf "$(dirname "$BOARD_QMP")"
	BOARD_QMP=
	return $status
}

board_cleanup() {
	local dir
	if board_running; then
		kill -KILL "$BOARD_PID"
		wait "$BOARD_PID" 2>/dev/null || true
	fi
	[ -n "$BOARD_QMP" ] && rm -rf "$(dirname "$BOARD_QMP")"
	for dir in "${KNVRAM_BOARDS[@]}"; do
		board_free "$dir"
	done
	KNVRAM_BOARDS=()
}
trap board_cleanup EXIT

board_main() {
	set -euo pipefail
	[ $# -ge 3 ] || die "usage: $0 DIR MARKER powerdown|kill|quit [KERNEL-ARGS...]"
	local dir=$1 marker=$2 action=$3
	shift 3
	mkdir -p "$dir"
	board_start "$dir" "$dir/console.log" "$@"
	board_wait "$dir/console.log" "$marker" 600 ||
		die "no \"$marker\" on the console ($dir/console.log)"
	case "$action" in
	powerdown) board_qmp system_powerdown >/dev/null ;;
	quit) board_qmp quit >/dev/null ;;
	kill) board_kill ;;
	*) die "unknown action $action" ;;
	esac
	board_wait_exit 600 || true
	echo "$dir/console.log"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	board_main "$@"
fi
