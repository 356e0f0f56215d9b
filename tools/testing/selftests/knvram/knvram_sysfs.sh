#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# sysfs attributes of the knvram-sim test partitions (knvtest0, knvtest1,
# knvtest2): each one is there, the numeric ones are numbers that agree
# with each other and with the device, `backend` names sim0, and `autot`
# takes 0 and 1 and refuses anything else; `read_only` is 0.
#
# POSIX sh: the test guest has busybox, not bash.

set -eu

CLASS=/sys/class/knvram
NUMERIC="size autot dirty sync_count sync_bytes sync_last_ns sync_max_ns
sync_errors emergency_sync_count emergency_sync_last_ns
emergency_sync_deferred commit_count abort_count read_only"

. "$(dirname "$0")/knvram_lib.sh"

is_number() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
}

# $1 is a whole number of 4 KiB blocks, at most $2.
blocks_within() {
	[ $(($1 % 4096)) -eq 0 ] && [ "$1" -le "$2" ]
}

# Write $2 to attribute file $1.
write_attr() {
	(printf '%s\n' "$2" >"$1") 2>/dev/null
}

write_fails() {
	! write_attr "$@"
}

# check_partition NAME DEFAULT_AUTOT
check_partition() {
	name=$1
	dir=$CLASS/$name

	for a in $NUMERIC; do
		v=$(cat "$dir/$a" 2>/dev/null) || v=
		check "$name/$a is a number ($v)" is_number "$v"
	done
	backend=$(cat "$dir/backend" 2>/dev/null) || backend=
	check "$name/backend is sim0 ($backend)" [ "$backend" = sim0 ]
	check "$name/read_only is 0" [ "$(cat "$dir/read_only")" = 0 ]

	size=$(cat "$dir/size")
	dirty=$(cat "$dir/dirty")
	last=$(cat "$dir/sync_last_ns")
	max=$(cat "$dir/sync_max_ns")
	is_number "$size$dirty$last$max" || return 0

	# Read to the end, the device gives exactly size bytes.
	bytes=$(($(wc -c <"/dev/knvram/$name")))
	check "$name: device reads $bytes bytes, size $size" \
		[ "$bytes" -eq "$size" ]
	check "$name: size is whole blocks" [ $((size % 4096)) -eq 0 ]
	check "$name: dirty $dirty counts whole blocks of the partition" \
		blocks_within "$dirty" "$size"
	check "$name: sync_max_ns $max >= sync_last_ns $last" \
		[ "$max" -ge "$last" ]

	for a in $NUMERIC backend; do
		[ "$a" = autot ] && continue
		check "$name/$a is read-only" write_fails "$dir/$a" 0
	done

	autot=$(cat "$dir/autot")
	check "$name/autot defaults to $2" [ "$autot" = "$2" ]
	for bad in 2 -1 bar; do
		check "$name/autot refuses '$bad'" write_fails "$dir/autot" "$bad"
	done
	check "$name/autot unchanged after refusals" \
		[ "$(cat "$dir/autot")" = "$autot" ]
	for good in 1 0 "$autot"; do
		check "$name/autot takes $good" write_attr "$dir/autot" "$good"
		check "$name/autot reads $good" [ "$(cat "$dir/autot")" = "$good" ]
	done
}

echo "TAP version 13"
found=0
for part in knvtest0:0 knvtest1:0 knvtest2:1; do
	name=${part%:*}
	if [ ! -d "$CLASS/$name" ]; then
		echo "# SKIP $name: no $CLASS/$name"
		continue
	fi
	found=$((found + 1))
	check_partition "$name" "${part#*:}"
done

if [ "$found" -eq 0 ]; then
	echo "# SKIP no knvram-sim test partition"
	exit $KSFT_SKIP
fi
ksft_done
