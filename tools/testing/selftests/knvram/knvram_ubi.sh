#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The knvram UBI backend on the test board: nvram-ubi on UBI volume
# "knvram" of the flash's linux,ubi partition, with partitions ubicfg
# (64 KiB) and ubilog (4 MiB); nvram-ubi-tiny (a one-LEB volume) and
# nvram-ubi-missing (a volume that does not exist) must fail to probe.
# Checks the LEB statistics of a sync, persistence across unbind/bind and
# across a detach and attach of UBI, that the volume cannot be removed
# while partitions use it, the deferred emergency sync, and configfs
# partitions on flash. POSIX sh.

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
SYS=/sys/class/knvram
DEV=/sys/bus/platform/devices/nvram-ubi
DRV=/sys/bus/platform/drivers/knvram-ubi

. "$DIR/knvram_lib.sh"

ubistat() {
	cat "$DEV/$1"
}

echo "TAP version 13"
if [ ! -d "$DEV" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP no nvram-ubi device or knvramctl"
	exit 4
fi
echo "1..16"

# 1-2: attached; the partitions from devicetree are there.
vol=$(ubistat volume)
if [ -n "$vol" ] && [ "$(cat "/sys/class/ubi/$vol/name" 2>/dev/null)" = knvram ]; then
	ok "nvram-ubi is on UBI volume knvram ($vol)"
else
	not_ok "nvram-ubi is on UBI volume knvram" "volume '$vol'"
fi
test_partitions_of nvram-ubi ubicfg ubilog
ubi=${vol%_*}
ubi_num=${ubi#ubi}
vol_id=${vol#*_}

# 3-4: clear probe errors.
msg=$(dmesg | grep 'nvram-ubi-tiny: UBI volume .* too small')
if [ -n "$msg" ] && [ ! -e $DRV/nvram-ubi-tiny ] && [ ! -e /dev/knvram/ubitiny ]; then
	ok "a volume too small fails the probe, saying so"
else
	not_ok "a volume too small fails the probe, saying so" \
		"message '$msg', bound: $([ -e $DRV/nvram-ubi-tiny ] && echo yes || echo no)"
fi
msg=$(dmesg | grep 'nvram-ubi-missing: .*no volume matching')
if [ -n "$msg" ] && [ ! -e $DRV/nvram-ubi-missing ]; then
	ok "a missing volume fails the probe, saying so"
else
	not_ok "a missing volume fails the probe, saying so" \
		"message '$msg', bound: $([ -e $DRV/nvram-ubi-missing ] && echo yes || echo no)"
fi

# 5-7: one block changed in ubilog (a bank spans 17 LEBs): the sync
# writes the block's LEBs (a block may straddle two), the LEB of its
# checksum and the LEB of the header: at most 4.
lebs0=$(ubistat leb_changes)
bytes0=$(ubistat bytes_written)
leb_size=$(ubistat leb_size)
"$CTL" write ubilog 2097152 one-block-changed
lebs=$(($(ubistat leb_changes) - lebs0))
bytes=$(($(ubistat bytes_written) - bytes0))
if [ "$lebs" -ge 1 ] && [ "$lebs" -le 4 ]; then
	ok "a sync of one block writes $lebs LEBs (1 to 4)"
else
	not_ok "a sync of one block writes 1 to 4 LEBs" "it wrote $lebs"
fi
if [ "$leb_size" -gt 0 ] && [ "$bytes" = $((lebs * leb_size)) ] &&
   [ "$(ubistat last_flush_bytes)" = $(($(ubistat last_flush_lebs) * leb_size)) ]; then
	ok "bytes_written counts whole LEBs of $leb_size bytes"
else
	not_ok "bytes_written counts whole LEBs" \
		"$bytes bytes for $lebs LEBs of $leb_size; last flush $(ubistat last_flush_bytes) for $(ubistat last_flush_lebs)"
fi
if [ "$(ubistat errors)" = 0 ] && [ "$(cat $SYS/ubilog/sync_errors)" = 0 ]; then
	ok "no flash error"
else
	not_ok "no flash error" "errors $(ubistat errors), sync_errors $(cat $SYS/ubilog/sync_errors)"
fi

# 8: unbind and bind the backend's device.
test_unbind_bind knvram-ubi nvram-ubi ubicfg

# 9-11: the volume cannot go while partitions use it.
hold ubicfg held-word
out=$("$CTL" ubi rmvol "$ubi_num" "$vol_id")
case "$out" in
"error 16 "*) ok "removing the volume in use fails with EBUSY" ;;
*) not_ok "removing the volume in use fails with EBUSY" "rmvol: $out" ;;
esac
out=$("$CTL" ubi detach "$ubi_num")
case "$out" in
"error 16 "*) ok "detaching its UBI device fails with EBUSY" ;;
*) not_ok "detaching its UBI device fails with EBUSY" "detach: $out" ;;
esac
got=$("$CTL" read ubicfg 0 9 2>&1)
if [ "$got" = held-word ] && [ -n "$(ubistat volume)" ]; then
	ok "the open partition is intact"
else
	not_ok "the open partition is intact" "read '$got', volume '$(ubistat volume)'"
fi
unhold

# 12: power fails: flash cannot be written in the NMI or hard IRQ of the
# power-fail signal; the core syncs ubicfg from a worker.
test_emergency_deferred ubicfg flash

# 13-14: a configfs partition on flash; its layout is kept in the media
# label across unbind/bind, as on any backend.
test_configfs_rebind knvram-ubi nvram-ubi ubirt configfs-on-flash

# 15-16: the backend follows the volume: UBI detached while the driver
# waits, then attached again.
mtd=$(cat "/sys/class/ubi/$ubi/mtd_num")
"$CTL" write ubicfg 0 detach-attach
echo nvram-ubi >$DRV/unbind
det=$("$CTL" ubi detach "$ubi_num")
echo nvram-ubi >$DRV/bind
waiting=$([ -z "$(ubistat volume)" ] && [ ! -e /dev/knvram/ubicfg ] && echo yes || echo no)
att=$("$CTL" ubi attach "$mtd")
# shellcheck disable=SC2016 # evaluated by wait_until
if [ "$det" = ok ] && [ "$waiting" = yes ] && [ "$att" = ok ] &&
   wait_until '[ -e /dev/knvram/ubicfg ] && [ -n "$(ubistat volume)" ]'; then
	ok "nvram-ubi waits for its volume and attaches when it appears"
else
	not_ok "nvram-ubi waits for its volume and attaches when it appears" \
		"detach: $det; waiting without volume: $waiting; attach: $att; volume '$(ubistat volume)'"
fi
got=$("$CTL" read ubicfg 0 13 2>&1)
if [ "$got" = detach-attach ]; then
	ok "ubicfg is intact after UBI detach and attach"
else
	not_ok "ubicfg is intact after UBI detach and attach" "read '$got'"
fi
[ "$failed" -eq 0 ]
