# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the knvram test guest (busybox sh), installed as
# /lib/knvram/lib.sh and sourced by /init and the scenarios.

KNVRAM_MODULES=/lib/modules/knvram
KNVRAM_SIM_PARTITIONS=knvtest0:64K,knvtest1:1M,knvtest2:64K:autot

# cmdline_arg NAME: the value of NAME=... on the kernel command line.
cmdline_arg() {
	# shellcheck disable=SC2013 # words, not lines
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		"$1"=*) echo "${arg#*=}"; return 0 ;;
		esac
	done
	return 1
}

# knvram_insmod N MODULE [PARAMS...]: load one of our modules and print
# KTAP result N.
knvram_insmod() {
	n=$1 ko=$KNVRAM_MODULES/$2.ko
	shift 2
	if [ ! -f "$ko" ]; then
		echo "# $ko was not built"
		echo "not ok $n insmod $(basename "$ko")"
		return 1
	fi
	name="insmod $(basename "$ko")${*:+ $*}"
	if out=$(insmod "$ko" "$@" 2>&1); then
		echo "ok $n $name"
		return 0
	fi
	echo "# $out"
	echo "not ok $n $name"
	return 1
}

# knvram_load: load the core, the sim backend with the test partitions and,
# if built, the MMIO, UBI, nvmem (after its test provider) and block
# backends, printing one KTAP document.
knvram_load() {
	mods=
	for m in knvram-mmio knvram-ubi knvram-nvmem-sim knvram-nvmem knvram-blk; do
		[ -f "$KNVRAM_MODULES/$m.ko" ] && mods="$mods $m"
	done
	echo "KTAP version 1"
	echo "1..$((2 + $(echo "$mods" | wc -w)))"
	knvram_insmod 1 knvram
	knvram_insmod 2 knvram-sim partitions=$KNVRAM_SIM_PARTITIONS
	num=3
	for m in $mods; do
		knvram_insmod $num "$m"
		num=$((num + 1))
	done
	return 0
}

# irq_count CHIP HWIRQ: total count (all CPUs) of the interrupt that CHIP's
# line HWIRQ raises, from /proc/interrupts; nothing if none is requested.
irq_count() {
	awk -v chip="$1" -v hwirq="$2" '
		NR == 1 { ncpu = NF; next }
		{
			for (i = 2; i <= ncpu + 1; i++) n += $i
			if (index($(ncpu + 2), chip) && $(ncpu + 3) == hwirq) {
				print n; exit
			}
			n = 0
		}' /proc/interrupts
}

# ubi_report: what the UBI backend's partitions hold, for the host-side
# test nvram-ubi-power-cycle: the text at the start of ubicfg, and whether
# ubilog is uniform.
ubi_report() {
	ctl=/kselftest/knvram/knvramctl
	if [ -e /dev/knvram/ubicfg ]; then
		echo "knvram-test: ubicfg $($ctl read ubicfg 0 16)"
	else
		echo "knvram-test: ubicfg absent"
	fi
	if [ -e /dev/knvram/ubilog ]; then
		echo "knvram-test: ubilog $($ctl check ubilog)"
	else
		echo "knvram-test: ubilog absent"
	fi
	# The data of ubilog's two banks, as the volume holds them: media
	# label (8 KiB), ubilog at 0x40000, banks of a header block, a table
	# block and 4 MiB of data. A bank left mixed is a sync cut off.
	vol=$(cat /sys/bus/platform/devices/nvram-ubi/volume 2>/dev/null)
	[ -n "$vol" ] || return 0
	for bank in 0 1; do
		off=$((0x42000 + bank * (0x400000 + 0x2000) + 0x2000))
		echo "knvram-test: ubilog-bank$bank $($ctl ubi bytes "/dev/$vol" $off 4194304)"
	done
}

# part_report CFG LOG FILE DATA0 BANK: what two partitions of a backend
# hold, for the host-side power-cycle tests (board/qemu-virt/power-cycle.sh):
# the text at the start of CFG, whether LOG is uniform, and the byte values
# of the data of LOG's two banks as FILE (the raw media) holds them, bank
# 0's at DATA0 and bank 1's BANK bytes after it. A bank left mixed is the
# target of a sync that was cut off.
part_report() {
	ctl=/kselftest/knvram/knvramctl
	if [ -e "/dev/knvram/$1" ]; then
		echo "knvram-test: $1 $($ctl read "$1" 0 16)"
	else
		echo "knvram-test: $1 absent"
	fi
	if [ -e "/dev/knvram/$2" ]; then
		echo "knvram-test: $2 $($ctl check "$2")"
	else
		echo "knvram-test: $2 absent"
		return 0
	fi
	[ -e "$3" ] || return 0
	len=$(cat "/sys/class/knvram/$2/size")
	for bank in 0 1; do
		echo "knvram-test: $2-bank$bank $($ctl ubi bytes "$3" $(($4 + bank * $5)) "$len")"
	done
}

# blk_report: part_report of the block backend, for the host-side test
# nvram-blk-power-cycle. On vda1: the media label (8 KiB), blklog at
# 0x40000, banks of a header block, a table block and 1 MiB of data. The
# backend does not write through the page cache: drop it first.
blk_report() {
	[ ! -b /dev/vda1 ] || echo 1 >/proc/sys/vm/drop_caches
	part_report blkcfg blklog /dev/vda1 $((0x42000 + 0x2000)) \
		$((0x100000 + 0x2000))
}

# nvmem_report: part_report of the nvmem backend, for the host-side test
# nvram-nvmem-power-cycle. On the nvmem device: the media label (8 KiB),
# nvmemlog at 0x40000, banks of a header block, a table block and 256 KiB
# of data.
nvmem_report() {
	part_report nvmemcfg nvmemlog /sys/bus/nvmem/devices/fram/nvmem \
		$((0x42000 + 0x2000)) $((0x40000 + 0x2000))
}

# The scenarios of the host-side power-cycle tests, on partition PART
# after the backend's report (board/qemu-virt/scenarios/*-write, -hold,
# -churn).

# pc_write PART: write knvram.word into PART; closing syncs it.
pc_write() {
	w=$(cmdline_arg knvram.word)
	/kselftest/knvram/knvramctl write "$1" 0 "$w" &&
		echo "knvram-test: wrote $w dirty=$(cat "/sys/class/knvram/$1/dirty")"
}

# pc_hold PART: write knvram.word into PART and keep the file open, so
# nothing syncs it; say "ready". The host presses the power button: the
# power-fail signal starts the emergency sync, which on a backend whose
# writes sleep runs in a worker; "saved" says when PART is clean again.
# Then wait for the host to cut the power.
pc_hold() {
	sys=/sys/class/knvram/$1
	/kselftest/knvram/knvramctl hold "$1" 0 "$(cmdline_arg knvram.word)" \
		>/tmp/hold.out &
	i=0
	while ! grep -q ready /tmp/hold.out && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "knvram-test: ready dirty=$(cat "$sys/dirty")"
	i=0
	while { [ "$(cat "$sys/dirty")" != 0 ] ||
		[ "$(cat "$sys/emergency_sync_count")" = 0 ]; } && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "knvram-test: saved dirty=$(cat "$sys/dirty") deferred=$(cat "$sys/emergency_sync_deferred" 2>/dev/null) ns=$(cat "$sys/emergency_sync_last_ns")"
	sleep 600
}

# pc_churn PART: say "ready", then fill PART with one byte value after the
# other (from knvram.byte on), each in one transaction, committed and
# synced, until the host cuts the power; "synced 0xNN" after each sync.
pc_churn() {
	echo "knvram-test: ready"
	/kselftest/knvram/knvramctl fill "$1" "$(cmdline_arg knvram.byte)" 1000
}
