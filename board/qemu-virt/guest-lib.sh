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
# if built, the MMIO backend, printing one KTAP document.
knvram_load() {
	plan=2
	[ -f $KNVRAM_MODULES/knvram-mmio.ko ] && plan=3
	echo "KTAP version 1"
	echo "1..$plan"
	knvram_insmod 1 knvram
	knvram_insmod 2 knvram-sim partitions=$KNVRAM_SIM_PARTITIONS
	[ $plan = 3 ] && knvram_insmod 3 knvram-mmio
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
