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

# blk_report: what the block backend's partitions hold, for the host-side
# test nvram-blk-power-cycle: the text at the start of blkcfg, whether
# blklog is uniform, and the data of blklog's two banks on vda1.
blk_report() {
	ctl=/kselftest/knvram/knvramctl
	if [ -e /dev/knvram/blkcfg ]; then
		echo "knvram-test: blkcfg $($ctl read blkcfg 0 16)"
	else
		echo "knvram-test: blkcfg absent"
	fi
	if [ -e /dev/knvram/blklog ]; then
		echo "knvram-test: blklog $($ctl check blklog)"
	else
		echo "knvram-test: blklog absent"
	fi
	# Media label (8 KiB), blklog at 0x40000, banks of a header block, a
	# table block and 1 MiB of data. A bank left mixed is a sync cut off.
	[ -b /dev/vda1 ] || return 0
	echo 1 >/proc/sys/vm/drop_caches
	for bank in 0 1; do
		off=$((0x42000 + bank * (0x100000 + 0x2000) + 0x2000))
		echo "knvram-test: blklog-bank$bank $($ctl ubi bytes /dev/vda1 $off 1048576)"
	done
}
