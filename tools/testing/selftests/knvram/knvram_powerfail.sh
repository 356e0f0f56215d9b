#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The power-fail signal from software: the test board wires a gpio-sim line
# as the power-fail signal of an mmio-nvram node. Asserting it must run the
# emergency sync of every partition (counters move, committed data reaches
# the backend without a normal sync) and make changes fail with ESHUTDOWN
# until the signal drops. Once it drops, a partition of that same mmio
# backend (made in configfs) takes writes, commits and syncs again, and its
# data is on the media (unbind and bind the backend, read it back); a pulse
# shorter than the interrupt latency still runs the emergency sync.
# POSIX sh (busybox).

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
SYS=/sys/class/knvram
HELD=knvtest0
OTHER=knvtest1
THIRD=knvtest2
CFS=/sys/kernel/config/knvram
MMIO=nvram-test
MMIO_DRV=/sys/bus/platform/drivers/knvram-mmio
PB=pfback

. "$DIR/knvram_lib.sh"


pull=
for f in /sys/devices/platform/gpio-sim/gpiochip*/sim_gpio0/pull; do
	[ -e "$f" ] && pull=$f
done
echo "TAP version 13"
if [ -z "$pull" ] || [ ! -e "/dev/knvram/$HELD" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP no gpio-sim power-fail line, partition or knvramctl"
	exit 4
fi

# Committed, not synced: two writers keep their files open.
"$CTL" hold $HELD 0 powerfail-data >/dev/null &
holder=$!
"$CTL" hold $OTHER 0 other-data >/dev/null &
holder2=$!
# shellcheck disable=SC2016 # evaluated by wait_until
wait_until '[ "$(cat $SYS/$HELD/dirty)" != 0 ] && [ "$(cat $SYS/$OTHER/dirty)" != 0 ]'
count0=$(cat $SYS/$HELD/emergency_sync_count)
other0=$(cat $SYS/$OTHER/emergency_sync_count)
syncs0=$(cat $SYS/$HELD/sync_count)
if [ "$(cat $SYS/$HELD/dirty)" != 0 ] && [ "$(cat $SYS/$OTHER/dirty)" != 0 ]; then
	ok "committed data is dirty before the power fails"
else
	not_ok "committed data is dirty before the power fails" \
		"dirty: $(cat $SYS/$HELD/dirty), $(cat $SYS/$OTHER/dirty)"
fi

echo pull-up >"$pull"
# shellcheck disable=SC2016 # evaluated by wait_until
if wait_until '[ "$(cat $SYS/$HELD/emergency_sync_count)" -gt "$count0" ]'; then
	ok "asserting power-fail runs the emergency sync"
else
	not_ok "asserting power-fail runs the emergency sync" \
		"emergency_sync_count stayed $count0"
fi
if [ "$(cat $SYS/$HELD/dirty)" = 0 ] &&
   [ "$(cat $SYS/$HELD/sync_count)" = "$syncs0" ] &&
   [ "$(cat $SYS/$HELD/emergency_sync_last_ns)" -gt 0 ]; then
	ok "the emergency sync wrote the committed data"
else
	not_ok "the emergency sync wrote the committed data" \
		"dirty $(cat $SYS/$HELD/dirty), sync_count $syncs0 -> $(cat $SYS/$HELD/sync_count)"
fi
if [ "$(cat $SYS/$OTHER/emergency_sync_count)" -gt "$other0" ] &&
   [ "$(cat $SYS/$OTHER/dirty)" = 0 ]; then
	ok "every partition is synced, not only one"
else
	not_ok "every partition is synced, not only one" \
		"$OTHER: dirty $(cat $SYS/$OTHER/dirty), emergency syncs $other0 -> $(cat $SYS/$OTHER/emergency_sync_count)"
fi

out=$("$CTL" txn $THIRD 0 refused 2>&1)
status=$?
if [ $status != 0 ] && [ "${out#*endpoint shutdown}" != "$out" ]; then
	ok "writes fail with ESHUTDOWN while power fails"
else
	not_ok "writes fail with ESHUTDOWN while power fails" "status $status: $out"
fi

# The knvram tool's txn: TBEGIN works, its write fails, it aborts.
if command -v knvram >/dev/null; then
	aborts=$(cat $SYS/$THIRD/abort_count)
	commits=$(cat $SYS/$THIRD/commit_count)
	out=$(echo "0 726566757365" | knvram txn $THIRD 2>&1)
	status=$?
	if [ $status = 1 ] && [ "${out#*aborted}" != "$out" ] &&
	   [ "$(cat $SYS/$THIRD/abort_count)" = $((aborts + 1)) ] &&
	   [ "$(cat $SYS/$THIRD/commit_count)" = "$commits" ]; then
		ok "knvram txn aborts what it began when a write fails"
	else
		not_ok "knvram txn aborts what it began when a write fails" \
			"status $status: $out; aborts $aborts -> $(cat $SYS/$THIRD/abort_count)"
	fi
else
	skip "knvram txn aborts what it began when a write fails" "no knvram tool"
fi

echo pull-down >"$pull"
i=0
while ! out=$("$CTL" txn $THIRD 0 accepted 2>&1) && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ "$("$CTL" read $THIRD 0 8)" = accepted ]; then
	ok "writes work again once the power is back"
else
	not_ok "writes work again once the power is back" "$out"
fi

kill $holder $holder2
wait $holder $holder2 2>/dev/null
if [ "$("$CTL" read $HELD 0 14)" = powerfail-data ]; then
	ok "the held data is intact"
else
	not_ok "the held data is intact" "read '$("$CTL" read $HELD 0 14)'"
fi

# -- power back, on the mmio backend whose line it is ---------------------
if [ ! -d "$CFS/$MMIO" ] || [ ! -e "$MMIO_DRV/$MMIO" ]; then
	skip "the mmio backend works again once the power is back" \
		"no $MMIO backend in configfs"
	ksft_done
	exit
fi
mkdir "$CFS/$MMIO/$PB" && put "$CFS/$MMIO/$PB/size" 64K &&
	put "$CFS/$MMIO/$PB/enable" 1
if [ -c /dev/knvram/$PB ]; then
	ok "a partition on $MMIO"
else
	not_ok "a partition on $MMIO" "no /dev/knvram/$PB"
fi

# hold_dirty OFFSET TEXT: a writer keeps TEXT committed, not synced.
hold_dirty() {
	"$CTL" hold $PB "$1" "$2" >/dev/null &
	holder=$!
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(cat $SYS/$PB/dirty)" != 0 ]' 10
}

# emergency_synced: the emergency sync of $PB ran since count0.
emergency_synced() {
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(cat $SYS/$PB/emergency_sync_count)" -gt "$count0" ]' 10
}

hold_dirty 0 before-the-cut
count0=$(cat $SYS/$PB/emergency_sync_count)
echo pull-up >"$pull"
if emergency_synced && [ "$(cat $SYS/$PB/dirty)" = 0 ]; then
	ok "$MMIO: asserting its line runs the emergency sync"
else
	not_ok "$MMIO: asserting its line runs the emergency sync" \
		"emergency_sync_count $count0 -> $(cat $SYS/$PB/emergency_sync_count)"
fi
kill $holder
wait $holder 2>/dev/null
out=$("$CTL" txn $PB 0 refused 2>&1)
status=$?
if [ $status != 0 ] && [ "${out#*endpoint shutdown}" != "$out" ]; then
	ok "$MMIO: writes fail with ESHUTDOWN while its line is asserted"
else
	not_ok "$MMIO: writes fail with ESHUTDOWN while its line is asserted" \
		"status $status: $out"
fi

echo pull-down >"$pull"
syncs0=$(cat $SYS/$PB/sync_count)
# The line's interrupt runs in a thread (gpio-sim sleeps): allow it time.
# shellcheck disable=SC2016 # evaluated by wait_until
if wait_until '"$CTL" txn $PB 0 power- back >/dev/null 2>&1' 10; then
	ok "$MMIO: a transaction commits once the line drops"
else
	not_ok "$MMIO: a transaction commits once the line drops" \
		"$("$CTL" txn $PB 0 power- back 2>&1)"
fi
if "$CTL" write $PB 10 -plain >/dev/null 2>&1; then
	ok "$MMIO: a plain write commits once the line drops"
else
	not_ok "$MMIO: a plain write commits once the line drops"
fi
# Each close was the last one: a sync.
if [ "$(cat $SYS/$PB/sync_count)" -gt "$syncs0" ] &&
   [ "$(cat $SYS/$PB/dirty)" = 0 ]; then
	ok "$MMIO: synced once the line drops"
else
	not_ok "$MMIO: synced once the line drops" \
		"sync_count $syncs0 -> $(cat $SYS/$PB/sync_count), dirty $(cat $SYS/$PB/dirty)"
fi

# The backend loads its media anew: what the syncs wrote.
echo $MMIO >"$MMIO_DRV/unbind"
echo $MMIO >"$MMIO_DRV/bind"
wait_until "[ -c /dev/knvram/$PB ]" 10
got=$("$CTL" read $PB 0 16)
if [ "$got" = power-back-plain ]; then
	ok "$MMIO: the data is on the media (unbind, bind)"
else
	not_ok "$MMIO: the data is on the media (unbind, bind)" "read '$got'"
fi

# A pulse: asserted and deasserted before the handler reads the line, or
# just after; either way an emergency sync runs, then writes work again.
hold_dirty 20 pulse
count0=$(cat $SYS/$PB/emergency_sync_count)
echo pull-up >"$pull"
echo pull-down >"$pull"
if emergency_synced; then
	ok "$MMIO: a short pulse runs the emergency sync"
else
	not_ok "$MMIO: a short pulse runs the emergency sync" \
		"emergency_sync_count stayed $count0"
fi
kill $holder
wait $holder 2>/dev/null
# shellcheck disable=SC2016 # evaluated by wait_until
if wait_until '"$CTL" txn $PB 0 after-a-pulse >/dev/null 2>&1' 10 &&
   [ "$("$CTL" read $PB 0 13)" = after-a-pulse ]; then
	ok "$MMIO: writes work again after a short pulse"
else
	not_ok "$MMIO: writes work again after a short pulse" \
		"$("$CTL" txn $PB 0 after-a-pulse 2>&1)"
fi

put "$CFS/$MMIO/$PB/enable" 0
rmdir "$CFS/$MMIO/$PB"
ksft_done
