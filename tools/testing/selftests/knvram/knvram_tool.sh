#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The knvram command-line tool (tools/knvram, /bin/knvram on the board)
# against the knvram-sim partitions: every subcommand, its output checked
# against sysfs, configfs and the device, and the exit status of bad
# input (2), of kernel errors (1) and of what this kernel lacks (3).
#
# info and watch need KNVRAMIOC_INFO and poll() POLLPRI: without them the
# test checks the documented fallback (info from sysfs, watch exit 3).
#
# POSIX sh: the test guest has busybox, not bash.

set -u

CLASS=/sys/class/knvram
CFS=/sys/kernel/config/knvram
P=knvtest1		# 1 MiB, autot off; the test uses offsets from 512K
OFF=524288
RT=knvtooltest		# a runtime partition made and removed on sim0
TMP=/tmp/knvram_tool.$$

. "$(dirname "$0")/knvram_lib.sh"

echo "TAP version 13"
TOOL=$(command -v knvram) || TOOL=
if [ -z "$TOOL" ]; then
	echo "1..0 # SKIP no knvram tool in PATH"
	exit "$KSFT_SKIP"
fi
if [ ! -d $CLASS/$P ] || [ ! -d $CFS/sim0 ]; then
	echo "1..0 # SKIP no $CLASS/$P or $CFS/sim0 (knvram-sim not loaded)"
	exit "$KSFT_SKIP"
fi
mkdir -p $TMP
trap 'rm -rf $TMP' EXIT

# status WANT DESCRIPTION COMMAND...: the command exits with WANT; its
# stdout is in $TMP/out and its stderr in $TMP/err.
status() {
	want=$1 desc=$2
	shift 2
	"$@" >$TMP/out 2>$TMP/err
	got=$?
	if [ $got -eq "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc" "exit $got, not $want: $(head -c 300 $TMP/err)"
	fi
}

has() {
	grep -q -- "$1" "$2"
}

# zeroes_at PART OFFSET LEN: the tool reads LEN zero bytes there.
zeroes_at() {
	[ -z "$(knvram read "$1" -o "$2" -l "$3" | od -An -tx1 | tr -d ' 0\n')" ]
}
nonzero_at() {
	! zeroes_at "$@"
}

# bytes OFFSET LEN: the partition's bytes, from the device itself.
bytes() {
	dd if=/dev/knvram/$P bs=1 skip="$1" count="$2" 2>/dev/null
}

attr() {
	cat $CLASS/$P/"$1"
}

# help, usage errors
status 0 "help exits 0" knvram help
check "help names every subcommand" sh -c "for c in list info create enable \
disable remove read dump write txn sync watch format; do grep -qw \$c $TMP/out || exit 1; done"
status 2 "no command exits 2" knvram
status 2 "an unknown command exits 2" knvram frobnicate
check "an unknown command is named on stderr" has frobnicate $TMP/err

# list
status 0 "list exits 0" knvram list
check "list shows backend sim0" has '^sim0 ' $TMP/out
check "list shows $P on sim0, live" has "^$P  *sim0  *live " $TMP/out
status 0 "list --json exits 0" knvram list --json
check "list --json has $P" has "\"name\": \"$P\", \"backend\": \"sim0\"" $TMP/out
check "list --json has $P's size" has "\"name\": \"$P\".*\"size\": $(attr size)," $TMP/out
check "list --json is one object" sh -c "head -c 1 $TMP/out | grep -q '{' && tail -n 1 $TMP/out | grep -q '}$'"
status 2 "list with a bad option exits 2" knvram list --yaml

# write, read, dump
printf 'hello, tool' >$TMP/in
status 0 "write from stdin" sh -c "knvram write $P -o $OFF <$TMP/in"
check "read gives what was written" [ "$(knvram read $P -o $OFF -l 11)" = "hello, tool" ]
check "the device has it" [ "$(bytes $OFF 11)" = "hello, tool" ]
printf 'FILE' >$TMP/file
status 0 "write from a file" knvram write $P -o $((OFF + 7)) $TMP/file
check "the file's bytes are at the offset" [ "$(bytes $OFF 11)" = "hello, FILE" ]
status 0 "dump exits 0" knvram dump $P -o 0x80000 -l 5
check "dump prints offset and hex" has '^00080000  68 65 6c 6c 6f  *|hello|$' $TMP/out
size=$(attr size)
status 0 "read of the whole partition exits 0" knvram read $P
check "read without -l gives size bytes" [ "$(wc -c <$TMP/out)" -eq "$size" ]
status 2 "read past the end exits 2" knvram read $P -o $((size + 1))
status 2 "read beyond the end with -l exits 2" knvram read $P -o $((size - 4)) -l 8
status 2 "a bad offset exits 2" knvram read $P -o 12abc
status 1 "read of a missing partition exits 1" knvram read knvnosuch
check "its message has strerror" has "No such file or directory" $TMP/err
# The board's boardkern (linux,kernel-only): in sysfs, no device node.
if [ -d $CLASS/boardkern ]; then
	status 1 "read of a kernel-only partition exits 1" knvram read boardkern
	check "its message says it is for kernel code only" \
		has "boardkern: it is for kernel code only" $TMP/err
else
	skip "read of a kernel-only partition exits 1" "no boardkern"
	skip "its message says it is for kernel code only" "no boardkern"
fi
status 2 "a bad partition name exits 2" knvram read ../null
status 2 "write past the end exits 2" knvram write $P -o $((size - 2)) $TMP/in
check "and writes nothing" [ "$(bytes $((size - 2)) 2 | od -An -c | tr -d ' \n')" != "he" ]
status 1 "write from a missing file exits 1" knvram write $P -o $OFF $TMP/nosuch

# txn
commits=$(attr commit_count)
printf 'FILE2' >$TMP/f2
cat >$TMP/txn <<TXN
# a comment, then a blank line

$((OFF + 100)) 414243
0x$(printf %x $((OFF + 200))) @$TMP/f2
TXN
status 0 "txn from a file" knvram txn $P $TMP/txn
check "txn wrote its hex line" [ "$(bytes $((OFF + 100)) 3)" = ABC ]
check "txn wrote its @FILE line" [ "$(bytes $((OFF + 200)) 5)" = FILE2 ]
check "txn is one commit" [ "$(attr commit_count)" -eq $((commits + 1)) ]
printf '%s 5859\n' $((OFF + 100)) >$TMP/txn2
status 0 "txn from stdin" sh -c "knvram txn $P <$TMP/txn2"
check "txn from stdin wrote" [ "$(bytes $((OFF + 100)) 3)" = XYC ]
commits=$(attr commit_count)
aborts=$(attr abort_count)
printf '%s 5a5a\n%s 5g\n' $((OFF + 100)) $((OFF + 102)) >$TMP/bad
status 2 "txn with bad hex exits 2" knvram txn $P $TMP/bad
check "its message names the line" has "line 2" $TMP/err
printf '%s 5a5a\n%s 00\n' $((OFF + 100)) "$size" >$TMP/bad
status 2 "txn with a write past the end exits 2" knvram txn $P $TMP/bad
printf '%s 5a5a\n%s @%s\n' $((OFF + 100)) $OFF $TMP/nosuch >$TMP/bad
status 2 "txn with a missing @FILE exits 2" knvram txn $P $TMP/bad
printf 'nonsense\n' >$TMP/bad
status 2 "txn with a line without bytes exits 2" knvram txn $P $TMP/bad
status 2 "txn of nothing exits 2" sh -c "knvram txn $P </dev/null"
check "no bad txn wrote anything" [ "$(bytes $((OFF + 100)) 3)" = XYC ]
check "no bad txn committed" [ "$(attr commit_count)" -eq "$commits" ]
check "no bad txn began" [ "$(attr abort_count)" -eq "$aborts" ]
status 1 "txn on a missing partition exits 1" knvram txn knvnosuch $TMP/txn2

# sync
# A writer held open keeps its write dirty (its close would sync).
exec 5<>/dev/knvram/$P
printf 'dirty' >&5
check "a held writer's write is dirty" [ "$(attr dirty)" -gt 0 ]
syncs=$(attr sync_count)
status 0 "sync exits 0" knvram sync $P
check "sync counted a sync" [ "$(attr sync_count)" -gt "$syncs" ]
check "nothing dirty after sync" [ "$(attr dirty)" -eq 0 ]
exec 5>&-
status 1 "sync of a missing partition exits 1" knvram sync knvnosuch
status 2 "sync without a name exits 2" knvram sync

# info: KNVRAMIOC_INFO, or sysfs on a kernel without it
status 0 "info exits 0" knvram info $P
if has "not supported by this kernel" $TMP/err; then
	echo "# info: KNVRAMIOC_INFO not in this kernel, sysfs fallback"
	check "info (sysfs) has the size" has "^size: $size$" $TMP/out
	check "info (sysfs) has the backend" has "^backend: sim0$" $TMP/out
	status 3 "watch without KNVRAMIOC_INFO exits 3" knvram watch $P -n 1
	skip "info: KNVRAMIOC_INFO fields" "no KNVRAMIOC_INFO"
	skip "watch: one line per commit" "no KNVRAMIOC_INFO"
else
	check "info has the name" has "^name: $P$" $TMP/out
	check "info has the backend" has "^backend: sim0$" $TMP/out
	check "info has the size" has "^size: $size$" $TMP/out
	check "info has the commits" has "^commits: [0-9][0-9]*$" $TMP/out
	check "info has a flags line" has "^flags:" $TMP/out
	check "info of a reader shows no transaction" sh -c "! grep -q '^flags:.* txn' $TMP/out"
	knvram watch $P -n 2 >$TMP/watch 2>$TMP/watch.err &
	wpid=$!
	sleep 1
	knvram write $P -o $OFF $TMP/in
	sleep 1
	knvram txn $P $TMP/txn2
	wait_until "! kill -0 $wpid 2>/dev/null" 10
	kill $wpid 2>/dev/null
	wait $wpid
	wst=$?
	check "watch -n 2 exits 0 after two commits ($wst)" [ "$wst" -eq 0 ]
	check "watch printed two lines" [ "$(grep -c "^$P commits=" $TMP/watch)" -eq 2 ]
fi
status 1 "info of a missing partition exits 1" knvram info knvnosuch

# runtime partitions
rmdir $CFS/sim0/$RT 2>/dev/null
status 0 "create a runtime partition" knvram create sim0 $RT 64K --mode 0640
check "its device is there" [ -c /dev/knvram/$RT ]
check "its state is live" same_as $CFS/sim0/$RT/state live
check "list shows it live" sh -c "knvram list | grep -q '^$RT  *sim0  *live '"
status 1 "create it again exits 1" knvram create sim0 $RT 64K
check "the message has EEXIST" has "File exists" $TMP/err
status 2 "create with a bad size exits 2" knvram create sim0 knvtoolbad 12Q
check "and makes no directory" [ ! -d $CFS/sim0/knvtoolbad ]
status 1 "create with a size the kernel refuses exits 1" knvram create sim0 knvtoolbad 100
check "and leaves no directory" [ ! -d $CFS/sim0/knvtoolbad ]
status 1 "create on a missing backend exits 1" knvram create nosuchbe $RT 64K
status 0 "disable it" knvram disable $RT
check "its device is gone" [ ! -e /dev/knvram/$RT ]
check "list shows it disabled" sh -c "knvram list | grep -q '^$RT  *sim0  *disabled '"
check "list --json shows it disabled" sh -c \
	"knvram list --json | grep -q '\"name\": \"$RT\", \"backend\": \"sim0\", \"state\": \"disabled\"'"
status 0 "enable it by BACKEND/NAME" knvram enable sim0/$RT
check "its device is back" [ -c /dev/knvram/$RT ]
if [ -e $CFS/sim0/format ]; then
	printf 'not-zero' | knvram write $RT -o 100 >/dev/null 2>&1
	check "written before the format" nonzero_at $RT 100 8
	status 0 "format" knvram format $RT
	check "format leaves zeroes" zeroes_at $RT 100 8
	check "format leaves it ok" same_as $CLASS/$RT/state ok
	exec 7</dev/knvram/$RT
	status 1 "format of an open partition exits 1" knvram format sim0/$RT
	exec 7<&-
	check "the message says it is open" has "it is open" $TMP/err
	status 1 "format of a missing partition exits 1" knvram format knvnosuch
	status 2 "format with a bad name exits 2" knvram format sim0/a/b
else
	status 3 "format without the kernel's attribute exits 3" knvram format $RT
	check "format says not supported" has "not supported by this kernel" $TMP/err
fi
status 1 "enable of a missing runtime partition exits 1" knvram enable knvnosuch
status 2 "enable with a bad name exits 2" knvram enable sim0/a/b
status 0 "remove it" knvram remove $RT
check "its configfs directory is gone" [ ! -d $CFS/sim0/$RT ]
check "its device is gone after remove" [ ! -e /dev/knvram/$RT ]
status 1 "remove again exits 1" knvram remove $RT

# a write-protected runtime partition
RO=knvtoolro
rmdir $CFS/sim0/$RO 2>/dev/null
status 0 "create --read-only 1" knvram create sim0 $RO 64K --read-only 1
check "its read_only is 1" same_as $CFS/sim0/$RO/read_only 1
check "info says read-only" sh -c "knvram info $RO | grep -q read-only"
echo x >$TMP/one
status 1 "write to it exits 1" knvram write $RO $TMP/one
check "the message has EROFS" has "Read-only file system" $TMP/err
status 0 "remove the read-only partition" knvram remove $RO
status 1 "create --read-only 2 exits 1" knvram create sim0 $RO 64K --read-only 2
check "and leaves no directory" [ ! -d $CFS/sim0/$RO ]

ksft_done
