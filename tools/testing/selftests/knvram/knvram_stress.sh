#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Stress: a writer and two readers on each of several partitions (the
# simulated backend's knvtest0..2, a runtime partition on it, one on the
# mmio backend nvram-test, and ubicfg on UBI) commit, sync and check what
# they read, while at the same time the simulated backend is unbound and
# bound again, runtime partitions are made and removed in configfs,
# unloading the backends' modules is tried (refused: they are in use) and
# the power fails and comes back (the gpio-sim power-fail line). The
# concurrent part is knvram_stress (threads); it reports what each thread
# saw. Then, with everything quiet again, each partition must hold its last
# commit, also after an unbind/bind of its backend; with the simulated
# backend's writes failing, an unbind must leave the last synced commit.
# Last, the kernel log of the run must hold no splat.
#
# KNVRAM_STRESS_SECONDS sets the length of the concurrent part (default
# 90: with the rest, about 2-3 minutes on TCG with the debug kernel; it
# can be given on the kernel command line of the quick loop, which passes
# it to init), KNVRAM_STRESS_SEED its random seed. POSIX sh (busybox).

DIR=$(dirname "$0")
STRESS=$DIR/knvram_stress
CFS=/sys/kernel/config/knvram
SIM_DRV=/sys/bus/platform/drivers/knvram-sim
MMIO_DRV=/sys/bus/platform/drivers/knvram-mmio
UBI_DRV=/sys/bus/platform/drivers/knvram-ubi
BLK_DRV=/sys/bus/platform/drivers/knvram-blk
FAIL=/sys/kernel/debug/knvram-sim/fail_write
OUT=/tmp/knvram_stress.out
SECS=${KNVRAM_STRESS_SECONDS:-90}
SIM_PARTS=knvtest0:64K,knvtest1:1M,knvtest2:64K:autot

. "$DIR/knvram_lib.sh"

echo "TAP version 13"
if [ ! -c /dev/knvram/knvtest0 ] || [ ! -d $CFS/sim0 ] || [ ! -x "$STRESS" ]; then
	echo "1..0 # SKIP no knvtest0, sim0 configfs group or knvram_stress"
	exit $KSFT_SKIP
fi
# shellcheck source=/dev/null # the guest's, if there
[ -r /lib/knvram/lib.sh ] && SIM_PARTS=$(. /lib/knvram/lib.sh && echo "$KNVRAM_SIM_PARTITIONS")

# mkrt BACKEND NAME SIZE: a live runtime partition (adopted if it is
# still on the media from an earlier run).
mkrt() {
	d=$CFS/$1/$2
	[ -d "$d" ] || mkdir "$d" || return 1
	[ "$(cat "$d/state")" = live ] && return 0
	put "$d/size" "$3" && put "$d/enable" 1
}

# rmrt BACKEND NAME: remove a runtime partition, adopting it first.
rmrt() {
	[ -d "$CFS/$1/$2" ] || mkdir "$CFS/$1/$2" 2>/dev/null
	rmdir "$CFS/$1/$2"
}

# backend_cycle DRIVER DEVICE: unbind and bind again.
backend_cycle() {
	put "$1/unbind" "$2" && put "$1/bind" "$2"
}

parts="knvtest0 knvtest1 knvtest2"
sim_parts="knvtest0 knvtest1 knvtest2"
check "runtime partition stress_rt on sim0" mkrt sim0 stress_rt 64K
[ -c /dev/knvram/stress_rt ] && parts="$parts stress_rt" && sim_parts="$sim_parts stress_rt"
args="-c sim0 -m knvram_sim"
if [ -d $CFS/nvram-test ]; then
	check "runtime partition stress_mm on nvram-test" mkrt nvram-test stress_mm 64K
	[ -c /dev/knvram/stress_mm ] && parts="$parts stress_mm"
	args="$args -c nvram-test"
fi
grep -q '^knvram_mmio ' /proc/modules && args="$args -m knvram_mmio"
[ -c /dev/knvram/ubicfg ] && parts="$parts ubicfg"
# The block backend too: blkcfg on a disk partition.
[ -c /dev/knvram/blkcfg ] && parts="$parts blkcfg"
grep -q '^knvram_blk ' /proc/modules && args="$args -m knvram_blk"
[ -d $SIM_DRV ] && args="$args -u"
pull=
for f in /sys/devices/platform/gpio-sim/gpiochip*/sim_gpio0/pull; do
	[ -e "$f" ] && pull=$f
done
[ -n "$pull" ] && args="$args -f $pull"
[ -n "$KNVRAM_STRESS_SEED" ] && args="$args -s $KNVRAM_STRESS_SEED"

echo "# knvram_stress: ${SECS}s on $parts ($args)"
echo "knvram_stress: begin" >/dev/kmsg
start=$(date +%s)
# shellcheck disable=SC2086 # word splitting of the lists is intended
"$STRESS" run -t "$SECS" $args $parts >$OUT
status=$?
echo "# knvram_stress: concurrent part took $(($(date +%s) - start))s, exit $status"

# The helper's results, and each partition's last commit.
while read -r kind word rest; do
	case $kind in
	result)
		if [ "$word" = ok ]; then ok "$rest"; else not_ok "$rest"; fi
		;;
	state)
		# state NAME COMMITTED SYNCED MAYBE
		# shellcheck disable=SC2086 # three words
		set -- $rest
		eval "committed_$word=$1 synced_$word=$2 maybe_$word=$3"
		;;
	unloaded)
		echo "# $word was unloaded: loading it again"
		case $word in
		knvram_sim) insmod /lib/modules/knvram/knvram-sim.ko "partitions=$SIM_PARTS" ;;
		*) insmod "/lib/modules/knvram/$(echo "$word" | tr _ -).ko" ;;
		esac
		;;
	esac
done <$OUT
if [ $status != 0 ]; then
	not_ok "knvram_stress run ended with status $status"
fi

# verify_all WHAT: each partition holds its last commit (or the one an
# O_SYNC call may have committed).
verify_all() {
	for p in $parts; do
		eval "c=\$committed_$p m=\$maybe_$p"
		if [ -z "$c" ]; then
			not_ok "$p: $1" "no state from knvram_stress"
			continue
		fi
		[ "$m" = 0 ] && m=$c
		check "$p: $1 ($c)" "$STRESS" verify "$p" "$c" "$m"
	done
}

verify_all "holds its last commit after the stress"

# Every backend once more: what was committed survives unbind/bind.
[ -d $SIM_DRV ] && check "unbind/bind knvram-sim.0" backend_cycle $SIM_DRV knvram-sim.0
[ -e $MMIO_DRV/nvram-test ] && check "unbind/bind nvram-test" backend_cycle $MMIO_DRV nvram-test
[ -e $UBI_DRV/nvram-ubi ] && check "unbind/bind nvram-ubi" backend_cycle $UBI_DRV nvram-ubi
[ -e $BLK_DRV/nvram-blk ] && check "unbind/bind nvram-blk" backend_cycle $BLK_DRV nvram-blk
wait_until '[ -c /dev/knvram/knvtest0 ]' 10
verify_all "holds its last commit after unbind/bind of its backend"

# With every write of the simulated backend failing, unbind's final sync
# fails: the partitions come back with their last synced commit.
if [ -d $FAIL ] && [ -d $SIM_DRV ]; then
	good=1 s=
	for p in $sim_parts; do
		eval "s=\$((committed_$p + 1))"
		"$STRESS" commit "$p" "$s" sync || good=0
	done
	put $FAIL/probability 100
	put $FAIL/interval 1
	put $FAIL/times -1
	put $FAIL/verbose 0
	put $FAIL/space 0
	for p in $sim_parts; do
		eval "s=\$((committed_$p + 2))"
		# Committed; the sync of the last close fails.
		"$STRESS" commit "$p" "$s" || good=0
	done
	put $SIM_DRV/unbind knvram-sim.0 || good=0
	put $FAIL/probability 0
	put $FAIL/times 1
	put $SIM_DRV/bind knvram-sim.0 || good=0
	wait_until '[ -c /dev/knvram/knvtest0 ]' 10
	check "a synced and an unsynced commit on each sim partition, unbind with writes failing, bind" \
		[ $good = 1 ]
	for p in $sim_parts; do
		eval "s=\$((committed_$p + 1))"
		check "$p: holds its last synced commit $s, not the unsynced $((s + 1))" \
			"$STRESS" verify "$p" "$s"
	done
else
	skip "unbind with the sim's writes failing keeps the synced commit" "no $FAIL"
fi

# Clean up: the runtime partitions of this test, and any that a removal
# left on the media (a partition removed while its backend was unbound).
rmrt sim0 stress_rt
[ -d $CFS/nvram-test ] && rmrt nvram-test stress_mm
left=
for be in sim0 nvram-test; do
	[ -d $CFS/$be ] || continue
	for d in "$CFS/$be"/stc*; do
		[ -d "$d" ] && left="$left $be/$(basename "$d")(dir)" && rmdir "$d"
	done
	names=$(sed -n 's/^\(stc[0-9_]*\) .*/\1/p' "$CFS/$be/layout")
	for name in $names; do
		left="$left $be/$name"
		rmrt "$be" "$name"
	done
done
if [ -z "$left" ]; then
	ok "every runtime partition removed by the stress is gone from configfs and the layout"
else
	not_ok "every runtime partition removed by the stress is gone from configfs and the layout" \
		"left:$left"
fi
check "stress_rt and stress_mm removed" \
	sh -c '[ ! -e /dev/knvram/stress_rt ] && [ ! -e /dev/knvram/stress_mm ]'

# The kernel log since the start: no splat (the bench scans it too).
splats=$(dmesg | sed -n '/knvram_stress: begin/,$p' |
	grep -E 'WARNING:|BUG:|Oops|Internal error|possible circular|inconsistent lock|possible recursive|KASAN:|UBSAN:|unreferenced object|scheduling while atomic|blocked for more than|soft lockup|detected stalls')
if [ -z "$splats" ]; then
	ok "no kernel splat during the stress"
else
	echo "$splats" | head -n 20 | sed 's/^/# /'
	not_ok "no kernel splat during the stress"
fi
ksft_done
