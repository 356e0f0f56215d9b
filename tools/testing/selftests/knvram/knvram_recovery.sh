#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Recovery of damaged media on the test board, with the knvram tool.
#
# A runtime partition of 4 blocks on nvram-blk (the virtio disk's GPT
# partition "knvram": vda1, or vdb1 once knvram_blk.sh took the disk away
# and back; the backend's block_device attribute names it) is written
# twice, so that both banks hold data, then disabled; the test damages its
# media on the disk with dd (the older bank's header, two data blocks of
# the newest bank) and enables it again.
# It checks the damaged state in sysfs (state, damage, bad_blocks,
# read_only), KNVRAMIOC_INFO's flags, EROFS on write, the salvaged content
# (good blocks intact, bad ones zero), `knvram format` refused while open
# and working once closed, then a write, sync and reload of the formatted
# partition. Then both headers damaged (all blocks zero and listed), the
# configfs errors of `format` (ENOENT, EROFS on a read-only fixed
# partition), and, if the backend's label records no other runtime
# partition, a label damaged in both banks and its format.
# POSIX sh.

DIR=$(dirname "$0")
CFS=/sys/kernel/config/knvram
BE=nvram-blk
B=$CFS/$BE
P=knvrec
SYS=/sys/class/knvram/$P
DRV=/sys/bus/platform/drivers/knvram-blk
DISK=/dev/$(cat /sys/bus/platform/devices/nvram-blk/block_device 2>/dev/null)
TMP=/tmp/knvram_recovery.$$

. "$DIR/knvram_lib.sh"

echo "TAP version 13"
if ! command -v knvram >/dev/null; then
	echo "1..0 # SKIP no knvram tool"
	exit "$KSFT_SKIP"
fi
if [ ! -d $B ] || [ ! -b "$DISK" ]; then
	echo "1..0 # SKIP no $B, or nvram-blk has no disk ($DISK)"
	exit "$KSFT_SKIP"
fi
mkdir -p $TMP
cleanup() {
	exec 7<&- 2>/dev/null
	[ -d $B/$P ] && { echo 0 >$B/$P/enable; rmdir $B/$P; } 2>/dev/null
	rm -rf $TMP
}
trap cleanup EXIT

bs=$(cat $B/block_size)
label=$((2 * (bs > 4096 ? bs : 4096)))

# fill FILE LETTERS: one block of each letter.
fill() {
	: >"$1"
	for c in $2; do
		head -c "$bs" /dev/zero | tr '\000' "$c" >>"$1"
	done
}
# block N: block N of the partition, through the device.
block() {
	dd if=/dev/knvram/$P bs="$bs" skip="$1" count=1 2>/dev/null
}
# is_block N LETTER: block N is all LETTER ("0": zeroes).
is_block() {
	if [ "$2" = 0 ]; then
		want=$(head -c "$bs" /dev/zero | od -An -tx1 | tr -d ' \n')
	else
		want=$(head -c "$bs" /dev/zero | tr '\000' "$2" | od -An -tx1 | tr -d ' \n')
	fi
	[ "$(block "$1" | od -An -tx1 | tr -d ' \n')" = "$want" ]
}
# smash OFFSET: 16 bytes of garbage at OFFSET of the disk partition,
# written around the page cache's stale copy and forced to the disk.
smash() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	printf 'garbage!garbage!' |
		dd of=$DISK bs=1 seek="$1" conv=notrunc 2>/dev/null
	sync
}
# disk_sum: checksum of the partition's two banks on the disk itself.
disk_sum() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if=$DISK bs="$bs" skip=$((off / bs)) count=12 2>/dev/null | md5sum
}
reload() {
	echo 0 >$B/$P/enable && echo 1 >$B/$P/enable
}

# The partition, 4 blocks; two syncs: generation 2 in bank 0, 3 in bank 1.
rmdir $B/$P 2>/dev/null
mkdir $B/$P && echo $((4 * bs)) >$B/$P/size && echo 1 >$B/$P/enable
fill $TMP/g2 "a b c d"
fill $TMP/g3 "e f g h"
knvram write $P $TMP/g2 && knvram write $P $TMP/g3
if [ "$(cat $SYS/state 2>/dev/null)" = ok ] && is_block 0 e && is_block 3 h; then
	ok "a partition of 4 blocks on $BE, written twice, state ok"
else
	not_ok "a partition of 4 blocks on $BE, written twice, state ok" \
		"state '$(cat $SYS/state 2>/dev/null)'"
fi

# Media offsets on the disk: header block, one table block, 4 data blocks.
off=$(($(cat $B/$P/offset) + label))
bank1=$((off + 6 * bs))
gen=$(knvram info $P | sed -n 's/^generation: //p')
new=$((gen & 1))
if [ "$new" = 1 ]; then newb=$bank1 oldb=$off; else newb=$off oldb=$bank1; fi

# Newest bank: blocks 1 and 2 damaged; older bank: its header.
echo 0 >$B/$P/enable
smash $((newb + 2 * bs + bs + 100))
smash $((newb + 2 * bs + 2 * bs + 7))
smash $((oldb + 8))
echo 1 >$B/$P/enable
check "damaged media: the partition is there, state damaged" \
	same_as $SYS/state damaged
check "bad_blocks lists the newest bank's failing blocks" \
	same_as $SYS/bad_blocks 1-2
if grep -qx "bank$new: generation $gen: 2 of 4 blocks fail their checksums, salvaged" $SYS/damage &&
   grep -qx "bank$((1 - new)): header invalid" $SYS/damage; then
	ok "damage names the header and the blocks, per bank"
else
	not_ok "damage names the header and the blocks, per bank" \
		"$(tr '\n' '|' <$SYS/damage)"
fi
check "read_only reads 1" same_as $SYS/read_only 1
check "KNVRAMIOC_INFO: damaged and read-only" \
	sh -c "knvram info $P | grep -q '^flags:.* read-only damaged'"
check "knvram list shows it damaged" \
	sh -c "knvram list | grep -q '^$P  *$BE  *damaged '"
fails_with "Read-only file system" "opening it for writing fails with EROFS" \
	knvram write $P $TMP/g2
if is_block 0 e && is_block 1 0 && is_block 2 0 && is_block 3 h; then
	ok "salvaged: good blocks intact, failing ones zero"
else
	not_ok "salvaged: good blocks intact, failing ones zero"
fi
sum=$(disk_sum)
reload
if [ "$(cat $SYS/state)" = damaged ] && [ "$(disk_sum)" = "$sum" ]; then
	ok "a reload leaves it damaged, the media unwritten"
else
	not_ok "a reload leaves it damaged, the media unwritten" \
		"state '$(cat $SYS/state)'"
fi

# Format: refused while open, then an empty, valid, writable partition.
exec 7</dev/knvram/$P
fails_with "busy" "knvram format while it is open fails (EBUSY)" knvram format $P
exec 7<&-
check "still damaged after the refused format" same_as $SYS/state damaged
check "knvram format once closed" knvram format $P
if [ "$(cat $SYS/state)" = ok ] && [ "$(cat $SYS/damage)" = none ] &&
   [ -z "$(cat $SYS/bad_blocks)" ] && [ "$(cat $SYS/read_only)" = 0 ] &&
   is_block 0 0 && is_block 3 0; then
	ok "formatted: state ok, no damage, zeroes, writable"
else
	not_ok "formatted: state ok, no damage, zeroes, writable" \
		"state '$(cat $SYS/state)', damage '$(cat $SYS/damage)', bad '$(cat $SYS/bad_blocks)'"
fi
fill $TMP/g4 "w x y z"
knvram write $P $TMP/g4 && knvram sync $P
reload
if [ "$(cat $SYS/state)" = ok ] && is_block 0 w && is_block 3 z; then
	ok "write, sync, reload after the format: valid, data intact"
else
	not_ok "write, sync, reload after the format: valid, data intact" \
		"state '$(cat $SYS/state)'"
fi

# Both headers damaged: every block zero and listed.
echo 0 >$B/$P/enable
smash $((off + 8))
smash $((bank1 + 8))
echo 1 >$B/$P/enable
if [ "$(cat $SYS/state)" = damaged ] && [ "$(cat $SYS/bad_blocks)" = 0-3 ] &&
   [ "$(cat $SYS/damage)" = "$(printf 'bank0: header invalid\nbank1: header invalid')" ] &&
   is_block 0 0 && is_block 3 0; then
	ok "both headers damaged: zeroes, every block listed"
else
	not_ok "both headers damaged: zeroes, every block listed" \
		"state '$(cat $SYS/state)', bad '$(cat $SYS/bad_blocks)', damage '$(tr '\n' '|' <$SYS/damage)'"
fi
check "knvram format BACKEND/NAME" knvram format $BE/$P
check "then state ok" same_as $SYS/state ok

# The configfs attribute's refusals.
fails_with "No such file" "format of a name not on the backend: ENOENT" \
	put $B/format knvnosuch
if [ -d /sys/class/knvram/boardro ]; then
	be=$(cat /sys/class/knvram/boardro/backend)
	fails_with "No such file" "format of another backend's partition: ENOENT" \
		put $B/format boardro
	fails_with "Read-only file system" \
		"format of a read-only fixed partition: EROFS" \
		put "$CFS/$be/format" boardro
else
	skip "format of another backend's partition: ENOENT" "no boardro"
	skip "format of a read-only fixed partition: EROFS" "no boardro"
fi
fails_with "Invalid argument" "format of a bad name: EINVAL" put $B/format .x

# The label area.
check "label_state reads ok" same_as $B/label_state ok
fails_with "busy" "label_format of a label that records a partition: EBUSY" \
	put $B/label_format 1
echo 0 >$B/$P/enable
rmdir $B/$P
if grep -q " runtime " $B/layout; then
	skip "label damaged in both banks" "other runtime partitions on $BE"
	skip "label_format makes it usable again" "other runtime partitions on $BE"
else
	smash 40
	smash $((label / 2 + 40))
	echo $BE >$DRV/unbind
	echo $BE >$DRV/bind
	mkdir $B/$P && echo $((4 * bs)) >$B/$P/size
	if [ "$(cat $B/label_state)" = damaged ] &&
	   ! put $B/$P/enable 1 2>/dev/null; then
		ok "label damaged in both banks: label_state damaged, no runtime partition"
	else
		not_ok "label damaged in both banks: label_state damaged, no runtime partition" \
			"label_state '$(cat $B/label_state)'"
	fi
	knvram format --label $BE
	if [ "$(cat $B/label_state)" = ok ] && put $B/$P/enable 1; then
		echo $BE >$DRV/unbind
		echo $BE >$DRV/bind
	fi
	if [ "$(cat $B/label_state)" = ok ] &&
	   grep -q "^$P .* runtime live" $B/layout; then
		ok "label_format makes it usable again, across a rebind"
	else
		not_ok "label_format makes it usable again, across a rebind" \
			"label_state '$(cat $B/label_state)'"
	fi
	echo 0 >$B/$P/enable 2>/dev/null
	rmdir $B/$P
fi

ksft_done
