#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The knvram nvmem backend on the test board: nvram-nvmem on the nvmem
# device "fram" (knvram-nvmem-sim, a stand-in for an SPI F-RAM), with
# partitions nvmemcfg (64 KiB) and nvmemlog (256 KiB). Checks that syncs
# reach the nvmem device, persistence across unbind/bind, that neither
# module can be removed while in use, fault injection on the provider's
# writes, the deferred emergency sync, and configfs partitions on nvmem.
# POSIX sh.

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
SYS=/sys/class/knvram
DEV=/sys/bus/platform/devices/nvram-nvmem
DRV=/sys/bus/platform/drivers/knvram-nvmem
NVMEM=/sys/bus/nvmem/devices/fram/nvmem
FAIL=/sys/kernel/debug/knvram-nvmem-sim/fail_write

. "$DIR/knvram_lib.sh"

# on_media WORD: WORD is somewhere on the nvmem device.
on_media() {
	tr -c 'a-z0-9-' '\n' <$NVMEM | grep -qx "$1"
}

echo "TAP version 13"
if [ ! -e "$DEV/driver" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP no bound nvram-nvmem device or knvramctl"
	exit 4
fi
echo "1..11"

# 1: the partitions from devicetree are there.
test_partitions_of nvram-nvmem nvmemcfg nvmemlog

# 2: a sync goes through the nvmem device.
word=nvmem-sync-$$
"$CTL" write nvmemcfg 0 "$word"
if [ -r $NVMEM ] && on_media "$word" &&
   [ "$(cat $SYS/nvmemcfg/sync_errors)" = 0 ]; then
	ok "a sync writes the data to the nvmem device"
else
	not_ok "a sync writes the data to the nvmem device" \
		"on media: $(on_media "$word" && echo yes || echo no), sync_errors $(cat $SYS/nvmemcfg/sync_errors)"
fi

# 3: unbind and bind the backend's device.
test_unbind_bind knvram-nvmem nvram-nvmem nvmemcfg

# 4-6: neither module goes while in use; the open partition is intact.
hold nvmemcfg held-word
if rmmod knvram-nvmem 2>/dev/null; then
	not_ok "rmmod knvram-nvmem is refused while a partition is open"
else
	ok "rmmod knvram-nvmem is refused while a partition is open"
fi
unhold
if rmmod knvram-nvmem-sim 2>/dev/null; then
	not_ok "rmmod of the nvmem provider is refused while the backend uses it"
else
	ok "rmmod of the nvmem provider is refused while the backend uses it"
fi
got=$("$CTL" read nvmemcfg 0 9 2>&1)
if [ "$got" = held-word ] && [ -e "$DEV/driver" ]; then
	ok "the partition is intact after the refused removals"
else
	not_ok "the partition is intact after the refused removals" "read '$got'"
fi

# 7-8: the provider's writes fail: the sync fails, then a sync with the
# fault gone succeeds and survives unbind/bind.
if [ ! -d $FAIL ]; then
	skip "a failing nvmem write fails the sync" "no $FAIL"
	skip "the next sync succeeds and is kept" "no $FAIL"
else
	errs0=$(cat $SYS/nvmemcfg/sync_errors)
	echo 0 >$FAIL/verbose
	echo 100 >$FAIL/probability
	echo -1 >$FAIL/times
	out=$("$CTL" fill nvmemcfg 0x21 2>&1)
	echo 0 >$FAIL/probability
	echo 1 >$FAIL/times
	errs=$(cat $SYS/nvmemcfg/sync_errors)
	echo "# fill while failing: $out; sync_errors $errs0 -> $errs"
	if [ "$errs" -gt "$errs0" ]; then
		ok "a failing nvmem write fails the sync"
	else
		not_ok "a failing nvmem write fails the sync" \
			"fill: $out; sync_errors $errs0 -> $errs"
	fi
	out=$("$CTL" fill nvmemcfg 0x42 2>&1)
	echo nvram-nvmem >$DRV/unbind
	echo nvram-nvmem >$DRV/bind
	got=$("$CTL" check nvmemcfg 2>&1)
	if [ "$out" = "synced 0x42" ] && [ "$got" = "uniform 0x42" ]; then
		ok "the next sync succeeds and is kept"
	else
		not_ok "the next sync succeeds and is kept" \
			"fill: $out; after unbind/bind: $got"
	fi
fi

# 9: power fails (the board's gpio-sim line): nvmem writes sleep, the
# core syncs nvmemcfg from a worker.
test_emergency_deferred nvmemcfg nvmem on_media

# 10-11: a configfs partition on nvmem, kept across unbind/bind.
test_configfs_rebind knvram-nvmem nvram-nvmem nvmemrt configfs-on-nvmem
[ "$failed" -eq 0 ]
