#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runtime partitions through configfs (/sys/kernel/config/knvram/): every
# attribute, every bad input (each must fail with its errno and change
# nothing), enable/disable/rmdir, rmdir and rmmod refused while in use, a
# partition without a /dev node (dev 0), a write-protected one (read_only
# 1: formatted at enable, EROFS, changed while disabled, kept by the label),
# the layout kept on the media across an unbind/bind of the simulated
# backend, a torn label write, and mkdir/rmdir from two processes while a
# third does I/O.
#
# Runs on the knvram-sim backend "sim0" (64 MiB, partitions knvtest0..2
# from its module parameter) and, if present, the mmio backend
# "nvram-test". POSIX sh: the test guest has busybox, not bash.

set -u

CFS=/sys/kernel/config/knvram
BE=$CFS/sim0
SIM_DEV=knvram-sim.0
SIM_DRV=/sys/bus/platform/drivers/knvram-sim
FAIL=/sys/kernel/debug/knvram-sim/fail_write
CTL=./knvramctl

. "$(dirname "$0")/knvram_lib.sh"

layout_has() {
	grep -q "^$1 " "$BE/layout"
}

EINVAL="Invalid argument"
EBUSY="busy"
ENOSPC="No space left"
EEXIST="File exists"
ENAMETOOLONG="too long"
ERANGE="out of range"
EROFS="Read-only file system"

if [ ! -d $BE ]; then
	echo "1..0 # SKIP no $BE (knvram or knvram-sim not loaded)"
	exit $KSFT_SKIP
fi

echo "TAP version 13"

# -- the backend group ------------------------------------------------
check "sim0 block_size is 4096" same_as $BE/block_size 4096
space=$(cat $BE/space)
check "sim0 space is under 64 MiB ($space)" \
	[ "$space" -gt 0 ] && [ "$space" -lt $((64 << 20)) ]
check "layout lists the fixed partition knvtest1" \
	grep -q "^knvtest1 [0-9]* 1048576 [0-9]* fixed live$" $BE/layout
if [ -d $CFS/nvram-test ]; then
	ok "mmio backend nvram-test has a group"
else
	not_ok "mmio backend nvram-test has a group"
fi

# -- a pending partition and its defaults ------------------------------
P=$BE/cfgA
check "mkdir sim0/cfgA" mkdir $P
check "default size 0" same_as $P/size 0
check "default offset auto" same_as $P/offset auto
check "default autot 0" same_as $P/autot 0
check "default uid 0" same_as $P/uid 0
check "default gid 0" same_as $P/gid 0
check "default mode 0600" same_as $P/mode 0600
check "default enable 0" same_as $P/enable 0
check "state pending" same_as $P/state pending
check "footprint 0 without a size" same_as $P/footprint 0
check "no device while pending" [ ! -e /dev/knvram/cfgA ]

# -- bad input: each fails and changes nothing -------------------------
fails_with "$EINVAL" "enable without a size" put $P/enable 1
fails_with "$EINVAL" "size 0" put $P/size 0
fails_with "$EINVAL" "size not a multiple of the block size" put $P/size 1000
fails_with "$EINVAL" "size not a number" put $P/size lots
fails_with "$ENOSPC" "size larger than the backend" put $P/size 1G
check "size unchanged after bad writes" same_as $P/size 0
fails_with "$EINVAL" "offset not aligned" put $P/offset 1000
fails_with "$ENOSPC" "offset out of bounds" put $P/offset 1G
check "offset unchanged" same_as $P/offset auto
fails_with "$EINVAL" "mode with setuid bit" put $P/mode 4755
fails_with "$EINVAL" "mode not octal" put $P/mode 99
fails_with "$EINVAL" "uid -1" put $P/uid 4294967295
fails_with "$EINVAL" "autot 2" put $P/autot 2
fails_with "$EINVAL" "enable 2" put $P/enable 2
check "still pending" same_as $P/state pending

fails_with "$ENAMETOOLONG" "mkdir of a 33-character name" \
	mkdir $BE/abcdefghijklmnopqrstuvwxyz0123456
fails_with "$EINVAL" "mkdir of a name with '*'" mkdir "$BE/bad*name"
fails_with "$EINVAL" "mkdir of a name starting with '-'" mkdir "$BE/-x"
fails_with "$EEXIST" "mkdir of a fixed partition's name" mkdir $BE/knvtest0
if [ -d $CFS/nvram-test ]; then
	fails_with "$EEXIST" "mkdir of a name pending on another backend" \
		mkdir $CFS/nvram-test/cfgA
fi

# Overlap: offset 0 is knvtest0's.
put $P/size 64K
put $P/offset 0
fails_with "$EBUSY" "enable over a fixed partition" put $P/enable 1
check "not enabled after the overlap" same_as $P/enable 0
check "no device after the overlap" [ ! -e /dev/knvram/cfgA ]
check "layout has no cfgA after the overlap" sh -c "! grep -q '^cfgA ' $BE/layout"
# Does not fit: the last block of the space.
put $P/offset $((space - 4096))
fails_with "$ENOSPC" "enable past the end" put $P/enable 1
check "still pending after the failures" same_as $P/state pending

# -- enable --------------------------------------------------------------
put $P/offset auto
put $P/size 128K
put $P/uid 1000
put $P/gid 100
put $P/mode 0640
check "footprint of 128K is 2 x (4K header + 4K table + 128K)" \
	same_as $P/footprint $((2 * (4096 + 4096 + 131072)))
check "enable" put $P/enable 1
check "enable reads 1" same_as $P/enable 1
check "state live" same_as $P/state live
check "/dev/knvram/cfgA exists" [ -c /dev/knvram/cfgA ]
owner=$(stat -c '%u %g %a' /dev/knvram/cfgA 2>/dev/null)
check "device node owner and mode 1000 100 640 ($owner)" \
	[ "$owner" = "1000 100 640" ]
check "sysfs size 131072" same_as /sys/class/knvram/cfgA/size 131072
check "sysfs autot 0 (the default)" same_as /sys/class/knvram/cfgA/autot 0
off=$(cat $P/offset)
check "offset placed ($off)" [ "$off" != auto ]
check "layout lists cfgA at its offset" \
	grep -q "^cfgA $off 131072 [0-9]* runtime live$" $BE/layout
check "enable 1 again is a no-op" put $P/enable 1
fails_with "$EBUSY" "size while enabled" put $P/size 64K
fails_with "$EBUSY" "offset while enabled" put $P/offset auto
fails_with "$EBUSY" "autot while enabled" put $P/autot 0
fails_with "$EBUSY" "uid while enabled" put $P/uid 0
fails_with "$EBUSY" "gid while enabled" put $P/gid 0
fails_with "$EBUSY" "mode while enabled" put $P/mode 0600
check "size unchanged" same_as $P/size 131072

# A second partition cannot take cfgA's space.
Q=$BE/cfgB
mkdir $Q
put $Q/size 64K
put $Q/offset "$off"
fails_with "$EBUSY" "enable over cfgA" put $Q/enable 1
put $Q/offset auto
put $Q/autot 1
check "cfgB enables elsewhere" put $Q/enable 1
check "cfgB sysfs autot 1 (as set)" same_as /sys/class/knvram/cfgB/autot 1
offb=$(cat $Q/offset)
check "cfgB does not overlap cfgA ($offb)" \
	[ "$offb" -ge $((off + $(cat $P/footprint))) ] || [ $((offb + $(cat $Q/footprint))) -le "$off" ]

# -- data, open handles, disable and re-enable --------------------------
$CTL write cfgA 100 "configfs data" >/dev/null
got=$($CTL read cfgA 100 13)
check "data reads back ($got)" [ "$got" = "configfs data" ]

exec 3</dev/knvram/cfgA
fails_with "$EBUSY" "rmdir while open" rmdir $P
fails_with "$EBUSY" "disable while open" put $P/enable 0
check "still live while open" [ -c /dev/knvram/cfgA ]
exec 3<&-
# The items pin the backend's module, not only open files.
if rmmod knvram-sim 2>/dev/null; then
	not_ok "rmmod of the backend module refused while it has items"
	exit 1
fi
ok "rmmod of the backend module refused while it has items"
check "cfgA still live after the refused rmmod" [ -c /dev/knvram/cfgA ]

check "disable" put $P/enable 0
check "state disabled" same_as $P/state disabled
check "device gone when disabled" [ ! -e /dev/knvram/cfgA ]
check "layout keeps cfgA, disabled" grep -q "^cfgA $off .* runtime disabled$" $BE/layout
fails_with "$EBUSY" "size of a partition on the media" put $P/size 64K
check "re-enable" put $P/enable 1
got=$($CTL read cfgA 100 13)
check "data kept across disable/enable ($got)" [ "$got" = "configfs data" ]

# -- unbind/bind: the layout comes back from the media ------------------
$CTL txn cfgB 0 "second" >/dev/null
put $SIM_DRV/unbind $SIM_DEV
check "devices gone after unbind" [ ! -e /dev/knvram/cfgA ]
check "items offline" same_as $P/state offline
fails_with "No such device" "enable while offline" put $Q/enable 1
put $SIM_DRV/bind $SIM_DEV
check "cfgA back after bind" [ -c /dev/knvram/cfgA ]
check "cfgA item live again" same_as $P/state live
got=$($CTL read cfgA 100 13)
check "cfgA data back ($got)" [ "$got" = "configfs data" ]
got=$($CTL read cfgB 0 6)
check "cfgB data back ($got)" [ "$got" = "second" ]
owner=$(stat -c '%u %g %a' /dev/knvram/cfgA 2>/dev/null)
check "owner and mode back ($owner)" [ "$owner" = "1000 100 640" ]

# -- a torn label write changes nothing ---------------------------------
R=$BE/cfgC
mkdir $R
put $R/size 4K
if [ -d $FAIL ]; then
	# Formatting a 4K partition writes 2 x (4096 data + 4096 table +
	# 64 header) bytes; with a budget one byte larger, the next write
	# (the label's) fails.
	put $FAIL/space $((2 * (4096 + 4096 + 64) + 1))
	put $FAIL/probability 100
	put $FAIL/interval 1
	put $FAIL/times 1
	put $FAIL/verbose 0
	fails_with "Input/output error" "enable with the label write failing" \
		put $R/enable 1
	put $FAIL/probability 0
	put $FAIL/space 0
	check "no cfgC device after the failed label write" [ ! -e /dev/knvram/cfgC ]
	check "cfgC still pending" same_as $R/state pending
	check "layout without cfgC" sh -c "! grep -q '^cfgC ' $BE/layout"
	check "cfgC enables once writes work" put $R/enable 1
else
	echo "# no $FAIL: torn label write not tested"
	check "cfgC enables" put $R/enable 1
fi

# -- rmdir ----------------------------------------------------------------
check "rmdir cfgA" rmdir $P
check "device gone after rmdir" [ ! -e /dev/knvram/cfgA ]
check "layout forgets cfgA" sh -c "! grep -q '^cfgA ' $BE/layout"
mkdir $P
put $P/size 128K
put $P/offset "$off"
check "new cfgA in the same space" put $P/enable 1
got=$($CTL check cfgA)
check "new cfgA starts zeroed ($got)" [ "$got" = "uniform 0x00" ]
rmdir $P
rmdir $Q
rmdir $R

# -- dev 0: a partition for the kernel only -------------------------------
K=$BE/cfgK
mkdir $K
check "default dev 1" same_as $K/dev 1
fails_with "$EINVAL" "dev 2" put $K/dev 2
put $K/size 64K
check "dev 0" put $K/dev 0
check "dev reads 0" same_as $K/dev 0
check "cfgK enables" put $K/enable 1
check "cfgK state live" same_as $K/state live
check "cfgK in sysfs" same_as /sys/class/knvram/cfgK/size 65536
check "cfgK has no device number" [ ! -e /sys/class/knvram/cfgK/dev ]
check "cfgK has no /dev node" [ ! -e /dev/knvram/cfgK ]
fails_with "$EBUSY" "dev while enabled" put $K/dev 1
put $SIM_DRV/unbind $SIM_DEV
put $SIM_DRV/bind $SIM_DEV
check "cfgK back after bind, in sysfs" [ -d /sys/class/knvram/cfgK ]
check "cfgK back without a /dev node" [ ! -e /dev/knvram/cfgK ]
check "cfgK dev still 0" same_as $K/dev 0
check "rmdir cfgK" rmdir $K
check "cfgK gone from sysfs" [ ! -e /sys/class/knvram/cfgK ]

# -- read_only: a write-protected runtime partition ---------------------
W=$BE/cfgW
WS=/sys/class/knvram/cfgW
mkdir $W
check "default read_only 0" same_as $W/read_only 0
fails_with "$EINVAL" "read_only 2" put $W/read_only 2
check "read_only still 0 after the bad write" same_as $W/read_only 0
put $W/size 64K
check "read_only 1 while pending" put $W/read_only 1
check "read_only reads 1" same_as $W/read_only 1
check "cfgW enables, read-only" put $W/enable 1
check "cfgW sysfs read_only 1" same_as $WS/read_only 1
fails_with "$EROFS" "cfgW: open for writing" $CTL write cfgW 0 x
got=$($CTL check cfgW)
check "cfgW formatted at enable: zeroes ($got)" [ "$got" = "uniform 0x00" ]
fails_with "$EBUSY" "read_only while live" put $W/read_only 0
syncs=$(cat $WS/sync_count)
if command -v knvram >/dev/null; then
	check "a sync of read-only cfgW succeeds" knvram sync cfgW
	check "and writes nothing (sync_bytes 0)" same_as $WS/sync_bytes 0
	check "nor counts a sync" same_as $WS/sync_count "$syncs"
else
	skip "a sync of read-only cfgW writes nothing" "no knvram tool"
fi
put $W/enable 0
check "read_only 0 while disabled" put $W/read_only 0
check "read_only reads 0 while disabled" same_as $W/read_only 0
check "cfgW enables, writable" put $W/enable 1
check "cfgW sysfs read_only 0" same_as $WS/read_only 0
check "cfgW takes a write" $CTL write cfgW 0 "was writable"
put $W/enable 0
check "read_only 1 while disabled" put $W/read_only 1
check "cfgW enables, protected again" put $W/enable 1
check "cfgW sysfs read_only 1 again" same_as $WS/read_only 1
fails_with "$EROFS" "cfgW: open for writing again" $CTL write cfgW 0 y
got=$($CTL read cfgW 0 12)
check "cfgW keeps what it had ($got)" [ "$got" = "was writable" ]
put $SIM_DRV/unbind $SIM_DEV
fails_with "No such device" "read_only while the backend is gone" \
	put $W/read_only 0
put $SIM_DRV/bind $SIM_DEV
check "cfgW back after bind, read-only" same_as $WS/read_only 1
check "cfgW item read_only 1 after bind" same_as $W/read_only 1
fails_with "$EROFS" "cfgW: open for writing after bind" $CTL write cfgW 0 z
got=$($CTL read cfgW 0 12)
check "cfgW data back after bind ($got)" [ "$got" = "was writable" ]
check "rmdir read-only cfgW" rmdir $W
check "cfgW gone" [ ! -e $WS ]

# -- the label holds 63 runtime partitions ------------------------------
# 32-character names: the layout then no longer fits in one page.
long=xxxxxxxxxxxxxxxxxxxxxxxxx
i=0
while [ $i -lt 63 ]; do
	d=$BE/m$(printf %02d $i)_$long
	mkdir "$d" && put "$d/size" 64K && put "$d/enable" 1 || break
	i=$((i + 1))
done
check "63 runtime partitions ($i)" [ $i -eq 63 ]
d=$BE/m63_$long
mkdir $d
put $d/size 4K
fails_with "$ENOSPC" "a 64th does not fit in the label" put $d/enable 1
check "a layout longer than a page ends with '...'" \
	[ "$(tail -n 1 $BE/layout)" = "..." ]
check "the layout's first lines are whole" \
	grep -q "^m00_$long [0-9]* 65536 147456 runtime live$" $BE/layout
i=0
while [ $i -le 63 ]; do
	rmdir $BE/m$(printf %02d $i)_$long
	i=$((i + 1))
done
check "layout empty of runtime partitions" sh -c "! grep -q runtime $BE/layout"

# -- numbers past 2^64 are refused, never wrapped ------------------------
P=$BE/cfgN
mkdir $P
fails_with "$ERANGE" "size 2^64 + 4096 (would wrap to 4096)" \
	put $P/size 18446744073709555712
fails_with "$ERANGE" "size 17592186044417M (2^64 + 1 MiB)" \
	put $P/size 17592186044417M
fails_with "$ERANGE" "size 17179869185G (2^64 + 1 GiB)" \
	put $P/size 17179869185G
check "size unchanged after the numbers that do not fit" same_as $P/size 0
fails_with "$ERANGE" "offset 2^64 + 4096" put $P/offset 18446744073709555712
fails_with "$ERANGE" "offset 17592186044417M" put $P/offset 17592186044417M
fails_with "$EINVAL" "offset 2^64 - 1 (not taken for auto)" \
	put $P/offset 18446744073709551615
fails_with "$ENOSPC" "offset 2^64 - 4096" put $P/offset 18446744073709547520
check "offset unchanged after the numbers that do not fit" \
	same_as $P/offset auto
fails_with "$EINVAL" "size with two suffixes" put $P/size 1KK
fails_with "$EINVAL" "size that is only a suffix" put $P/size K
check "size 64k (lower-case suffix)" put $P/size 64k
check "size reads 65536" same_as $P/size 65536
check "size 0x100000" put $P/size 0x100000
check "size reads 1048576" same_as $P/size 1048576
check "offset 2M" put $P/offset 2M
check "offset reads 2097152" same_as $P/offset 2097152
rmdir $P

# -- mkdir adopts only a runtime partition of its own backend ------------
# The names of a partition of another backend, or of a fixed one, can be
# in a label too: media moved between boards, or a backend that was away
# while the name was taken elsewhere. mkdir then fails with EEXIST and
# leaves that partition alone.
T=$CFS/nvram-test
MMIO_DRV=/sys/bus/platform/drivers/knvram-mmio
if [ -d $T ] && [ -e $MMIO_DRV/nvram-test ]; then
	# nvram-test's label records knvtest0 while sim0 is away; then
	# sim0's fixed knvtest0 is back. rmdir erases nvram-test's entry
	# only, and mkdir cannot bind sim0's knvtest0.
	put $SIM_DRV/unbind $SIM_DEV
	mkdir $T/knvtest0
	put $T/knvtest0/size 64K
	check "nvram-test/knvtest0 enabled while sim0 is away" \
		put $T/knvtest0/enable 1
	put $T/knvtest0/enable 0
	put $SIM_DRV/bind $SIM_DEV
	check "sim0's fixed knvtest0 is back" [ -c /dev/knvram/knvtest0 ]
	$CTL write knvtest0 0 "fixed knvtest0" >/dev/null
	check "rmdir nvram-test/knvtest0 erases its own entry" \
		rmdir $T/knvtest0
	check "nvram-test's layout has no knvtest0 left" \
		sh -c "! grep -q '^knvtest0 ' $T/layout"
	fails_with "$EEXIST" "mkdir nvram-test/knvtest0 (sim0's fixed partition)" \
		mkdir $T/knvtest0
	if [ -d $T/knvtest0 ]; then
		put $T/knvtest0/enable 0
		rmdir $T/knvtest0
	fi
	got=$($CTL read knvtest0 0 14)
	check "sim0's knvtest0 untouched ($got)" [ "$got" = "fixed knvtest0" ]
	check "sim0's layout still has knvtest0, fixed" \
		grep -q "^knvtest0 0 65536 [0-9]* fixed live$" $BE/layout

	# An item whose partition is on the media cannot be removed while
	# its backend is gone: its label entry could not be erased, and the
	# partition would come back live with no item. (Two labels holding
	# one name, which rmdir while away used to make possible, are tested
	# in KUnit: kt_harden_adopt.)
	mkdir $T/cfgX
	put $T/cfgX/size 64K
	put $T/cfgX/enable 1
	$CTL write cfgX 0 "mmio cfgX" >/dev/null
	put $MMIO_DRV/unbind nvram-test
	fails_with "Device or resource busy" \
		"rmdir nvram-test/cfgX while nvram-test is away" rmdir $T/cfgX
	put $MMIO_DRV/bind nvram-test
	check "nvram-test/cfgX live again after its bind" \
		same_as $T/cfgX/state live
	got=$($CTL read cfgX 0 9)
	check "nvram-test's cfgX data kept ($got)" [ "$got" = "mmio cfgX" ]
	check "rmdir nvram-test/cfgX once it is back" rmdir $T/cfgX
	check "no cfgX left on either backend" \
		sh -c "! grep -q '^cfgX ' $BE/layout $T/layout"
else
	skip "mkdir adopts only its own backend's partitions" "no nvram-test"
fi

# -- two processes mkdir/rmdir while a third does I/O --------------------
churn() {
	tag=$1 be=$2 rounds=$3
	i=0
	while [ $i -lt "$rounds" ]; do
		d=$be/$tag$i
		mkdir $d || return 1
		put $d/size 64K || return 1
		put $d/enable 1 || return 1
		name=$tag$i
		$CTL write $name 0 "$name" >/dev/null || return 1
		[ "$($CTL read $name 0 ${#name})" = "$name" ] || return 1
		rmdir $d || return 1
		i=$((i + 1))
	done
}

other=$BE
[ -d $CFS/nvram-test ] && other=$CFS/nvram-test
churn ca $BE 25 &
pa=$!
churn cb "$other" 25 &
pb=$!
(
	i=0
	while [ $i -lt 20 ]; do
		$CTL fill knvtest1 $((i + 1)) >/dev/null || exit 1
		[ "$($CTL check knvtest1)" = "uniform 0x$(printf %02x $((i + 1)))" ] ||
			exit 1
		i=$((i + 1))
	done
) &
pio=$!
wait $pa
check "churn on sim0 from process 1" [ $? -eq 0 ]
wait $pb
check "churn on $(basename "$other") from process 2" [ $? -eq 0 ]
wait $pio
check "I/O on knvtest1 meanwhile, every fill read back whole" [ $? -eq 0 ]
check "no runtime partition left" sh -c "! grep -q runtime $BE/layout"
check "no item left" sh -c "[ -z \"\$(ls -d $BE/*/ 2>/dev/null)\" ]"

ksft_done
