#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The knvram UBI backend on the test board: nvram-ubi on UBI volume
# "knvram" of the flash's linux,ubi partition, with partitions ubicfg
# (64 KiB) and ubilog (4 MiB); nvram-ubi-tiny (a one-LEB volume) and
# nvram-ubi-missing (a volume that does not exist) must fail to probe.
# Checks the LEB statistics of a sync (each LEB it must write, computed
# from the layout, changed once), persistence across unbind/bind and
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

# The media layout (Documentation/driver-api/knvram.rst, Media format, and
# knvram-ubi.rst): 4 KiB blocks; a label of two blocks at the start; then
# per partition two banks of one header block, the checksum table (4 bytes
# a block, in whole blocks) and the data.
BS=4096
LABEL=$((2 * BS))

# be_num FILE BYTES: the first BYTES of FILE as one big-endian number.
be_num() {
	h=$(od -An -tx1 -N"$2" "$1" 2>/dev/null | tr -d ' \n')
	[ ${#h} -eq $(($2 * 2)) ] && echo $((0x$h))
}
# part_offset PART: PART's offset in the partition space, from the reg of
# its devicetree node; nothing if not found.
part_offset() {
	ac=$(be_num "$DEV/of_node/partitions/#address-cells" 4)
	[ -n "$ac" ] || return
	for d in "$DEV"/of_node/partitions/*/; do
		if [ "$(tr -d '\000' <"${d}label" 2>/dev/null)" = "$1" ]; then
			be_num "${d}reg" $((ac * 4))
			return
		fi
	done
}
# lebs_of OFF LEN: the LEBs that media bytes [OFF, OFF + LEN) lie in.
lebs_of() {
	l=$(($1 / leb_size))
	while [ $l -le $((($1 + $2 - 1) / leb_size)) ]; do
		echo $l
		l=$((l + 1))
	done
}
# want_lebs PART BANK BLOCK...: how many LEBs a sync of these blocks of
# PART into BANK writes: those of the bank's header, of the blocks and of
# their checksum table entries, each counted once.
want_lebs() {
	po=$(part_offset "$1")
	ps=$(cat "$SYS/$1/size")
	bank=$2
	shift 2
	ts=$(((ps / BS * 4 + BS - 1) / BS * BS))
	start=$((LABEL + po + bank * (BS + ts + ps)))
	{
		lebs_of $start 64
		for b in "$@"; do
			lebs_of $((start + BS + 4 * b)) 4
			lebs_of $((start + BS + ts + b * BS)) $BS
		done
	} | sort -un | wc -l
}
# sync_blocks PART BLOCK...: change these blocks of PART and sync them all
# in one sync (one writer; its close syncs). Sets lebs, flushes and bytes
# to the LEB changes, flushes and bytes written of that sync.
seq=0
sync_blocks() {
	p=$1
	shift
	args=
	for b in "$@"; do
		seq=$((seq + 1))
		args="$args $((b * BS + 8)) change-$seq"
	done
	l0=$(ubistat leb_changes)
	f0=$(ubistat flushes)
	b0=$(ubistat bytes_written)
	# shellcheck disable=SC2086 # word splitting of the offset/text pairs
	"$CTL" write "$p" $args
	lebs=$(($(ubistat leb_changes) - l0))
	flushes=$(($(ubistat flushes) - f0))
	bytes=$(($(ubistat bytes_written) - b0))
}
# A bank lacks what was committed since it was last written: after two
# syncs of the same blocks, each bank lacks only those.
# check_syncs DESC PART BLOCK...: then two more syncs of the same blocks
# (one into each bank) each change exactly the LEBs the layout gives for
# some bank, together those of both banks: no LEB twice, none it does not
# need.
check_syncs() {
	desc=$1
	part=$2
	shift 2
	w0=$(want_lebs "$part" 0 "$@")
	w1=$(want_lebs "$part" 1 "$@")
	sync_blocks "$part" "$@"
	sync_blocks "$part" "$@"
	sync_blocks "$part" "$@"
	got1=$lebs
	sync_blocks "$part" "$@"
	got2=$lebs
	if [ -z "$(part_offset "$part")" ]; then
		not_ok "$desc" "no devicetree reg for $part under $DEV/of_node"
	elif { [ "$got1" = "$w0" ] || [ "$got1" = "$w1" ]; } &&
	     [ $((got1 + got2)) = $((w0 + w1)) ]; then
		ok "$desc: $got1 and $got2 LEB changes, as the layout gives ($w0 / $w1)"
	else
		not_ok "$desc" "LEB changes $got1 and $got2; the layout gives $w0 (bank 0) and $w1 (bank 1)"
	fi
}

echo "TAP version 13"
if [ ! -d "$DEV" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP no nvram-ubi device or knvramctl"
	exit 4
fi
echo "1..19"

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

# 5-10: the LEBs a sync changes. ubicfg (64 KiB) has both banks in the
# first LEB: a sync of one block is one LEB change, in one flush. In ubilog
# (a bank spans 17 LEBs) a sync writes the LEBs of its blocks (a block may
# straddle two), of their checksums and of the header, each once.
leb_size=$(ubistat leb_size)
sync_blocks ubicfg 0
sync_blocks ubicfg 0
sync_blocks ubicfg 0
one=$(want_lebs ubicfg 0 0)
if [ "$one" = 1 ] && [ "$(want_lebs ubicfg 1 0)" = 1 ] && [ "$lebs" = 1 ] &&
   [ "$flushes" = 1 ]; then
	ok "a sync of one block of ubicfg is one LEB change"
else
	not_ok "a sync of one block of ubicfg is one LEB change" \
		"$lebs LEB changes in $flushes flushes; the layout gives $one"
fi
check_syncs "a sync of one block of ubicfg changes each LEB once" ubicfg 3
check_syncs "a sync of one block of ubilog changes each LEB once" ubilog 512
check_syncs "a sync of blocks in several LEBs changes each once" ubilog \
	0 1 63 64 500 700 1023
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

# 11: unbind and bind the backend's device.
test_unbind_bind knvram-ubi nvram-ubi ubicfg

# 12-14: the volume cannot go while partitions use it.
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

# 15: power fails: flash cannot be written in the NMI or hard IRQ of the
# power-fail signal; the core syncs ubicfg from a worker.
test_emergency_deferred ubicfg flash

# 16-17: a configfs partition on flash; its layout is kept in the media
# label across unbind/bind, as on any backend.
test_configfs_rebind knvram-ubi nvram-ubi ubirt configfs-on-flash

# 18-19: the backend follows the volume: UBI detached while the driver
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
