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
