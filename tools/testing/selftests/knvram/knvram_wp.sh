#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The write-protect pin of the test board's simulated SPI F-RAM ("fram",
# knvram-nvmem-sim): its wp-gpios is gpio-sim line 1, active low. The
# nvmem core keeps the line asserted (low) except around each write, and
# the simulated chip, as a real one, ignores a write that finds it low
# and counts it (debugfs knvram-nvmem-sim/wp_ignored; stored writes in
# .../writes). Checks: the line is low at idle; a sync of nvmemlog
# (256 KiB, through nvram-nvmem) is stored, not one write ignored, and
# reads back from the chip after an unbind/bind; the line is low after;
# the same for an emergency sync (the power-fail line, gpio-sim line 0:
# the core syncs nvmemcfg from its worker).
# (Were the line not raised around the writes, or raised by nobody, the
# chip would drop them all: counted, and the data would not come back.)
# POSIX sh.

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
DBG=/sys/kernel/debug/knvram-nvmem-sim
DRV=/sys/bus/platform/drivers/knvram-nvmem
PART=nvmemlog
SYS=/sys/class/knvram

. "$DIR/knvram_lib.sh"

echo "TAP version 13"
wp=
for f in /sys/devices/platform/gpio-sim/gpiochip*/sim_gpio1/value; do
	[ -e "$f" ] && wp=$f
done
if [ -z "$wp" ] || [ ! -e $DBG/wp_ignored ] || [ ! -x "$CTL" ] ||
   [ ! -c /dev/knvram/$PART ] || [ ! -e $DRV/nvram-nvmem ]; then
	echo "1..0 # SKIP no F-RAM write-protect line, $PART or knvramctl"
	exit "$KSFT_SKIP"
fi

check "wp line asserted (low) at idle" same_as "$wp" 0
byte=$((0x20 + $$ % 0xc0))
hex=$(printf %02x $byte)
w0=$(cat $DBG/writes)
i0=$(cat $DBG/wp_ignored)
out=$("$CTL" fill $PART $byte)
check "fill and sync $PART with 0x$hex ($out)" [ "$out" = "synced 0x$hex" ]
w1=$(cat $DBG/writes)
i1=$(cat $DBG/wp_ignored)
check "the sync's writes were stored ($w0 -> $w1)" [ "$w1" -gt "$w0" ]
check "no write ignored for the line ($i0 -> $i1)" [ "$i1" = "$i0" ]
check "wp line asserted (low) again after the sync" same_as "$wp" 0

put $DRV/unbind nvram-nvmem
put $DRV/bind nvram-nvmem
got=$("$CTL" check $PART)
check "$PART back from the chip after unbind/bind ($got)" \
	[ "$got" = "uniform 0x$hex" ]
i2=$(cat $DBG/wp_ignored)
check "still no write ignored ($i2)" [ "$i2" = "$i0" ]

# The emergency sync: held (unsynced) data of nvmemcfg, then power fails.
pull=${wp%/sim_gpio1/value}/sim_gpio0/pull
if [ ! -e "$pull" ] || [ ! -c /dev/knvram/nvmemcfg ]; then
	skip "the emergency sync's writes are stored" "no power-fail line"
else
	# Far from offset 0, which knvram_nvmem.sh writes and looks for.
	word=wp-$hex-emergency
	"$CTL" hold nvmemcfg 32768 $word >/tmp/wp-hold.out &
	holder=$!
	wait_until 'grep -q ready /tmp/wp-hold.out' 10
	w0=$(cat $DBG/writes)
	count0=$(cat $SYS/nvmemcfg/emergency_sync_count)
	echo pull-up >"$pull"
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(cat $SYS/nvmemcfg/dirty)" = 0 ] &&
		[ "$(cat $SYS/nvmemcfg/emergency_sync_count)" -gt "$count0" ]'
	# Counted before the holder closes (its close would sync too).
	w1=$(cat $DBG/writes)
	i3=$(cat $DBG/wp_ignored)
	echo pull-down >"$pull"
	kill $holder
	wait $holder 2>/dev/null
	check "the emergency sync's writes are stored ($w0 -> $w1)" \
		[ "$w1" -gt "$w0" ]
	check "none of them ignored ($i3)" [ "$i3" = "$i0" ]
	put $DRV/unbind nvram-nvmem
	put $DRV/bind nvram-nvmem
	got=$("$CTL" read nvmemcfg 32768 ${#word})
	check "its data back from the chip ($got)" [ "$got" = "$word" ]
fi
check "wp line asserted (low) at the end" same_as "$wp" 0

ksft_done
