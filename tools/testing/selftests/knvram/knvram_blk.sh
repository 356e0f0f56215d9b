#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The knvram block backend on the test board: nvram-blk on the GPT
# partition "knvram" of the virtio-blk disk (vda1), with partitions blkcfg
# (64 KiB) and blklog (1 MiB). Checks where it attached, that a sync
# writes whole logical blocks and flushes the device's cache, that the
# data is on the disk, persistence across unbind/bind and across rmmod and
# insmod, that rmmod is refused while a partition is open, the deferred
# emergency sync, a configfs partition on the disk, that a write the disk
# fails (fail_make_request, the first request only) fails its sync and
# loses nothing, and that the backend lets the disk go when it disappears
# and attaches again when it is back. POSIX sh.

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
SYS=/sys/class/knvram
DEV=/sys/bus/platform/devices/nvram-blk
MOD=/lib/modules/knvram/knvram-blk.ko

. "$DIR/knvram_lib.sh"

blkstat() {
	cat "$DEV/$1" 2>/dev/null
}
# on_disk WORD: the raw partition holds WORD (the page cache dropped first:
# the backend writes with bios, around it).
on_disk() {
	sync
	echo 1 >/proc/sys/vm/drop_caches
	dd if=/dev/vda1 bs=64k 2>/dev/null | grep -q "$1"
}

echo "TAP version 13"
if [ ! -d "$DEV" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP no nvram-blk device or knvramctl"
	exit 4
fi

# 1-2: attached to vda1; the partitions from devicetree are there.
if [ "$(blkstat block_device)" = vda1 ] &&
   [ "$(blkstat logical_block_size)" = 512 ]; then
	ok "nvram-blk is on vda1, logical block 512"
else
	not_ok "nvram-blk is on vda1, logical block 512" \
		"block_device '$(blkstat block_device)', logical_block_size '$(blkstat logical_block_size)'"
fi
test_partitions_of nvram-blk blkcfg blklog

# 3-5: one block changed in blklog: whole logical blocks written, at least
# two cache flushes (after the data, after the header), the data on disk.
bytes0=$(blkstat bytes_written)
flushes0=$(blkstat flushes)
"$CTL" write blklog 524288 one-block-on-disk
bytes=$(($(blkstat bytes_written) - bytes0))
flushes=$(($(blkstat flushes) - flushes0))
if [ "$bytes" -ge 4096 ] && [ $((bytes % 512)) = 0 ] &&
   [ "$bytes" -le 65536 ]; then
	ok "a sync of one block writes $bytes bytes, whole logical blocks"
else
	not_ok "a sync of one block writes whole logical blocks" \
		"it wrote $bytes bytes"
fi
if [ "$flushes" -ge 2 ] && [ "$(blkstat errors)" = 0 ] &&
   [ "$(cat $SYS/blklog/sync_errors)" = 0 ]; then
	ok "the sync flushes the disk's cache ($flushes flushes), no error"
else
	not_ok "the sync flushes the disk's cache, no error" \
		"flushes $flushes, errors $(blkstat errors), sync_errors $(cat $SYS/blklog/sync_errors)"
fi
if on_disk one-block-on-disk; then
	ok "the synced data is on vda1"
else
	not_ok "the synced data is on vda1"
fi

# 6: the disk fails the sync's first request (a data write, submitted
# without waiting): the sync fails, the data stays dirty and in memory;
# the next sync writes it.
FMR=/sys/kernel/debug/fail_make_request
part_fail=/sys/class/block/$(blkstat block_device)/make-it-fail
if [ -d $FMR ] && [ -w "$part_fail" ] && command -v knvram >/dev/null; then
	errs0=$(cat $SYS/blkcfg/sync_errors)
	berrs0=$(blkstat errors)
	echo 0 >$FMR/verbose
	echo 100 >$FMR/probability
	echo 1 >$FMR/interval
	echo 1 >$FMR/times
	echo 1 >"$part_fail"
	echo blk-write-fails | knvram write blkcfg -o 4096 2>/dev/null
	echo 0 >"$part_fail"
	d=$(cat $SYS/blkcfg/dirty)
	e=$(($(cat $SYS/blkcfg/sync_errors) - errs0))
	be=$(($(blkstat errors) - berrs0))
	got=$("$CTL" read blkcfg 4096 15)
	if [ "$e" -ge 1 ] && [ "$be" -ge 1 ] && [ "$d" != 0 ] &&
	   [ "$got" = blk-write-fails ] && knvram sync blkcfg &&
	   [ "$(cat $SYS/blkcfg/dirty)" = 0 ] && on_disk blk-write-fails; then
		ok "a failed disk write fails its sync, loses nothing; the next sync writes it"
	else
		not_ok "a failed disk write fails its sync, loses nothing; the next sync writes it" \
			"sync_errors +$e, errors +$be, dirty $d, read '$got', dirty now $(cat $SYS/blkcfg/dirty)"
	fi
	echo 0 >$FMR/probability
else
	skip "a failed disk write fails its sync, loses nothing" \
		"no fail_make_request, make-it-fail or knvram tool"
fi

# 7: unbind and bind the backend's device.
test_unbind_bind knvram-blk nvram-blk blkcfg

# 8-9: rmmod is refused while a partition is open; once closed, rmmod
# and insmod bring the partition back with what the close synced.
hold blkcfg held-word
if rmmod knvram-blk 2>/dev/null; then
	not_ok "rmmod knvram-blk is refused while blkcfg is open"
	insmod $MOD
else
	ok "rmmod knvram-blk is refused while blkcfg is open"
fi
unhold
if rmmod knvram-blk && [ ! -e /dev/knvram/blkcfg ] && insmod $MOD &&
   wait_until '[ -e /dev/knvram/blkcfg ]' 10 &&
   [ "$("$CTL" read blkcfg 0 9 2>&1)" = held-word ]; then
	ok "rmmod and insmod of knvram-blk: blkcfg back with its data"
else
	not_ok "rmmod and insmod of knvram-blk: blkcfg back with its data" \
		"read '$("$CTL" read blkcfg 0 9 2>&1)'"
fi

# 10: power fails: a disk cannot be written in the NMI or hard IRQ of the
# power-fail signal; the core syncs blkcfg from a worker.
test_emergency_deferred blkcfg "the disk" on_disk

# 11-12: a configfs partition on the disk, kept in the media label across
# unbind/bind.
test_configfs_rebind knvram-blk nvram-blk blkrt configfs-on-disk

# 13-14: the disk goes (its virtio driver unbound): the backend lets it
# go; the disk comes back: the backend attaches again, data intact.
VDRV=/sys/bus/virtio/drivers/virtio_blk
vdev=
for d in "$VDRV"/virtio*; do
	[ -e "$d/block/vda" ] && vdev=${d##*/}
done
if [ -z "$vdev" ]; then
	skip "nvram-blk lets the disk go when it disappears" "no virtio disk vda"
	skip "nvram-blk attaches again when the disk is back" "no virtio disk vda"
else
	"$CTL" write blkcfg 0 disk-comes-back
	echo "$vdev" >$VDRV/unbind
	# shellcheck disable=SC2016 # evaluated by wait_until
	if wait_until '[ -z "$(blkstat block_device)" ] &&
		[ ! -e /dev/knvram/blkcfg ]' 10; then
		ok "nvram-blk lets the disk go when it disappears"
	else
		not_ok "nvram-blk lets the disk go when it disappears" \
			"block_device '$(blkstat block_device)'"
	fi
	echo "$vdev" >$VDRV/bind
	# shellcheck disable=SC2016 # evaluated by wait_until
	if wait_until '[ -e /dev/knvram/blkcfg ]' 10 &&
	   [ "$("$CTL" read blkcfg 0 15 2>&1)" = disk-comes-back ]; then
		ok "nvram-blk attaches again when the disk is back, data intact"
	else
		not_ok "nvram-blk attaches again when the disk is back, data intact" \
			"block_device '$(blkstat block_device)', read '$("$CTL" read blkcfg 0 15 2>&1)'"
	fi
fi
ksft_done
