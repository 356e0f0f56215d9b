# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
# TAP helpers of the knvram shell selftests (POSIX sh: the test guest has
# busybox). Source it with . "$(dirname "$0")/knvram_lib.sh".

KSFT_SKIP=4
KNVRAM_CTL=$(dirname "$0")/knvramctl
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}

# not_ok DESCRIPTION [WHY]
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	[ $# -lt 2 ] || echo "# $2"
	echo "not ok $n $1"
}

# check DESCRIPTION COMMAND...: one result for the command's status.
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# skip DESCRIPTION WHY: a result that could not be tested here.
skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

# wait_until TEST [SECONDS]: eval TEST every 0.1 s until it succeeds, for
# SECONDS at most (default 30); the status of the last try.
wait_until() {
	i=0
	while [ $i -lt $((${2:-30} * 10)) ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# same_as FILE VALUE: FILE reads VALUE.
same_as() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

# put FILE VALUE: write VALUE to a sysfs or configfs attribute in one
# write(); a failure's message names the errno (busybox's shell may not).
put() {
	"$KNVRAM_CTL" put "$1" "$2"
}

# fails_with TEXT DESCRIPTION COMMAND...: the command fails and its
# message has TEXT (the strerror() of the expected errno).
fails_with() {
	text=$1 desc=$2
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$desc" "succeeded"
		return
	fi
	case $out in
	*"$text"*) ok "$desc" ;;
	*) not_ok "$desc" "not '$text': $out" ;;
	esac
}

# ksft_done: the plan, after the results; the exit status.
ksft_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

# Checks that knvram_blk.sh, knvram_nvmem.sh and knvram_ubi.sh make on
# their backend: the platform device BACKEND (nvram-blk...) of driver DRV
# (/sys/bus/platform/drivers/DRV), its partitions PART.

# hold PART WORD: write WORD at 0 of PART and keep the file open (nothing
# syncs it) until unhold.
hold() {
	"$KNVRAM_CTL" hold "$1" 0 "$2" >/tmp/knvram-hold.out &
	holder=$!
	wait_until 'grep -q ready /tmp/knvram-hold.out' 10
}
unhold() {
	kill "$holder"
	wait "$holder" 2>/dev/null
}

# backend_of PART: the backend attribute of partition PART.
backend_of() {
	cat "/sys/class/knvram/$1/backend" 2>/dev/null
}

# test_partitions_of BACKEND PART1 PART2: one result, both are
# partitions of BACKEND.
test_partitions_of() {
	if [ "$(backend_of "$2")" = "$1" ] && [ "$(backend_of "$3")" = "$1" ]; then
		ok "$2 and $3 are partitions of $1"
	else
		not_ok "$2 and $3 are partitions of $1" \
			"backends '$(backend_of "$2")' '$(backend_of "$3")'"
	fi
}

# test_unbind_bind DRV BACKEND PART: one result, PART goes when the
# backend's device is unbound and comes back with its data when it is
# bound again.
test_unbind_bind() {
	"$KNVRAM_CTL" write "$3" 0 unbind-bind-word
	echo "$2" >"/sys/bus/platform/drivers/$1/unbind"
	gone=$([ -e "/dev/knvram/$3" ] && echo no || echo yes)
	echo "$2" >"/sys/bus/platform/drivers/$1/bind"
	got=$("$KNVRAM_CTL" read "$3" 0 16 2>&1)
	if [ "$gone" = yes ] && [ "$got" = unbind-bind-word ]; then
		ok "$3 goes with unbind and comes back with bind, data intact"
	else
		not_ok "$3 goes with unbind and comes back with bind, data intact" \
			"gone after unbind: $gone; read '$got'"
	fi
}

# test_emergency_deferred PART MEDIA [ON_MEDIA]: one result. The board's
# gpio-sim power-fail line rises while PART holds an unsynced word: the
# backend cannot be written in the NMI or hard IRQ of the signal, so the
# core syncs PART from a worker (emergency_sync_deferred counts it).
# ON_MEDIA, a command run with the word as its argument, checks that the
# word reached the media. MEDIA names it in the result: "the emergency
# sync of MEDIA is deferred and saves the data". A skip without the line.
test_emergency_deferred() {
	desc="the emergency sync of $2 is deferred and saves the data"
	pull=
	for f in /sys/devices/platform/gpio-sim/gpiochip*/sim_gpio0/pull; do
		[ -e "$f" ] && pull=$f
	done
	if [ -z "$pull" ]; then
		skip "$desc" "no gpio-sim power-fail line"
		return
	fi
	esys=/sys/class/knvram/$1
	hold "$1" power-fail-word
	count0=$(cat "$esys/emergency_sync_count")
	deferred0=$(cat "$esys/emergency_sync_deferred" 2>/dev/null)
	dirty=$(cat "$esys/dirty")
	echo pull-up >"$pull"
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(cat "$esys/dirty")" = 0 ] &&
		[ "$(cat "$esys/emergency_sync_count")" -gt "$count0" ]'
	count=$(cat "$esys/emergency_sync_count")
	deferred=$(cat "$esys/emergency_sync_deferred" 2>/dev/null)
	echo pull-down >"$pull"
	unhold
	echo "# emergency_sync_deferred: ${deferred0:-absent} -> ${deferred:-absent}"
	if [ "$dirty" != 0 ] && [ "$(cat "$esys/dirty")" = 0 ] &&
	   [ "$count" -gt "$count0" ] &&
	   { [ -z "$deferred0" ] || [ "$deferred" -gt "$deferred0" ]; } &&
	   { [ -z "${3:-}" ] || "$3" power-fail-word; }; then
		ok "$desc"
	else
		not_ok "$desc" \
			"dirty $dirty -> $(cat "$esys/dirty"), emergency syncs $count0 -> $count, deferred ${deferred0:-absent} -> ${deferred:-absent}"
	fi
}

# test_configfs_rebind DRV BACKEND PART WORD: two results. A configfs
# partition PART (64 KiB) on BACKEND holds WORD; the backend's device is
# unbound and bound again: PART is live again with WORD, its layout kept
# in the media label. PART is removed afterwards. Skips without configfs.
test_configfs_rebind() {
	cfs=/sys/kernel/config/knvram/$2
	rt=$cfs/$3
	if [ ! -d "$cfs" ]; then
		skip "a configfs partition on $2" "no $cfs"
		skip "the configfs partition is back after unbind/bind" "no $cfs"
		return
	fi
	mkdir "$rt" && echo 64K >"$rt/size" && echo 1 >"$rt/enable" &&
		"$KNVRAM_CTL" write "$3" 0 "$4"
	got=$("$KNVRAM_CTL" read "$3" 0 ${#4} 2>&1)
	if [ "$(backend_of "$3")" = "$2" ] && [ "$got" = "$4" ]; then
		ok "a configfs partition on $2"
	else
		not_ok "a configfs partition on $2" \
			"backend '$(backend_of "$3")', read '$got'"
	fi
	echo "$2" >"/sys/bus/platform/drivers/$1/unbind"
	echo "$2" >"/sys/bus/platform/drivers/$1/bind"
	got=$("$KNVRAM_CTL" read "$3" 0 ${#4} 2>&1)
	if [ "$(cat "$rt/state" 2>/dev/null)" = live ] && [ "$got" = "$4" ]; then
		ok "the configfs partition is back after unbind/bind"
	else
		not_ok "the configfs partition is back after unbind/bind" \
			"state '$(cat "$rt/state" 2>/dev/null)', read '$got'"
	fi
	echo 0 >"$rt/enable"
	rmdir "$rt"
}
