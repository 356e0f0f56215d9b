#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The power-fail signal from software: the test board wires a gpio-sim line
# as the power-fail signal of an mmio-nvram node. Asserting it must run the
# emergency sync of every partition (counters move, committed data reaches
# the backend without a normal sync) and make changes fail with ESHUTDOWN
# until the signal drops. POSIX sh (busybox).

DIR=$(dirname "$0")
CTL=$DIR/knvramctl
SYS=/sys/class/knvram
HELD=knvtest0
OTHER=knvtest1
THIRD=knvtest2

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
echo "1..7"

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
[ "$failed" -eq 0 ]
