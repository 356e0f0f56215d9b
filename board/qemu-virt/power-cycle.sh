# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# The steps of the host-side power-cycle tests of a backend with a small
# partition $PC_CFG and a larger one $PC_LOG (tests/nvram-blk-power-cycle,
# tests/nvram-nvmem-power-cycle). Sourced after scripts/board.sh, with
# $PC_SCENARIO the prefix of the backend's guest scenarios
# (scenarios/PREFIX-write, -hold, -churn, -check, built on pc_write,
# pc_hold, pc_churn and part_report of guest-lib.sh).
#
#   pc_write WORD            test: WORD written and synced by close
#   pc_hold NAME WORD CUT [DTB]
#                            boot with WORD held unsynced in $PC_CFG, press
#                            the power button, cut the power once the
#                            guest says "saved" (CUT "saved", at most 60 s)
#                            or CUT seconds after the press
#   pc_expect NAME KEY WANT DESC [MORE]
#                            test: NAME.log reports WANT for KEY (MORE is
#                            added to the diagnostic of a failure)
#   pc_churn ROUNDS WORD BEFORE DESC
#                            ROUNDS boots that sync $PC_LOG over and over
#                            until the power is cut at a random moment;
#                            the first tests that $PC_CFG holds WORD, the
#                            word pc_hold held, not BEFORE (DESC), the
#                            others what the previous cut left
#   pc_check_round R LOG     test: round R's cut left $PC_LOG old or new
#
# Each boot reports what the previous one left, so a round is one boot.
# Results are KTAP lines on stdout; console logs are $dir/NAME.log.

dir=${KNVRAM_TEST_DIR:-$(mktemp -d)}
board=$dir/board
board_files "$board"
trap board_cleanup EXIT

n=0
ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
notok() {
	n=$((n + 1))
	echo "# $2"
	echo "not ok $n $1"
}
# said LOG KEY: what the guest reported after "knvram-test: KEY ".
said() {
	tr -d '\r' <"$1" | sed -n "s/^knvram-test: $2 //p" | tail -n 1
}
random_word() {
	echo "w$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
}
# start NAME SCENARIO [KERNEL-ARGS...]: boot in the background, console
# in NAME.log, and wait until the scenario is ready.
start() {
	local log=$dir/$1.log scenario=$2
	shift 2
	board_start "$board" "$log" "knvram.scenario=$scenario" "$@"
	board_wait "$log" "knvram-test: ready" 300 ||
		echo "# $(basename "$log" .log): the guest never got ready"
}

pc_expect() {
	local got
	got=$(said "$dir/$1.log" "$2")
	if [ "$got" = "$3" ]; then
		ok "$4"
	else
		notok "$4" "read '$got', expected '$3'${5:-}"
	fi
}

pc_write() {
	local got
	board_boot "$board" "$dir/write.log" 300 \
		"knvram.scenario=$PC_SCENARIO-write" knvram.word="$1" ||
		echo "# write: status $?"
	got=$(said "$dir/write.log" wrote)
	if [ "$got" = "$1 dirty=0" ]; then
		ok "write and close syncs $PC_CFG"
	else
		notok "write and close syncs $PC_CFG" "guest said '$got'"
	fi
}

pc_hold() {
	local name=$1 word=$2 cut=$3 dtb=${4:-$KNVRAM_DTB}
	KNVRAM_DTB=$dtb start "$name" "$PC_SCENARIO-hold" knvram.word="$word"
	echo "# $name: $(said "$dir/$name.log" ready)"
	board_qmp system_powerdown >/dev/null || true
	if [ "$cut" = saved ]; then
		board_wait "$dir/$name.log" "knvram-test: saved" 60 || true
	else
		sleep "$cut"
	fi
	board_kill
	echo "# $name: saved $(said "$dir/$name.log" saved)"
}

# pc_check_round R LOG: $PC_LOG, as LOG reports it, holds the last value that
# round R synced ($last) or the one it was syncing, never a mix. Counts
# in $torn the rounds whose cut left a bank holding two values.
pc_check_round() {
	local got new banks
	got=$(said "$2" "$PC_LOG")
	new=$(printf 0x%02x $((last + 1)))
	# A bank holding two values is the target of a sync that was cut.
	banks=$(tr -d '\r' <"$2" |
		sed -n "s/^knvram-test: $PC_LOG-bank\([01]\) /bank \1: /p")
	if echo "$banks" | grep -q ' 0x.* 0x'; then
		echo "# round $1: the cut tore a sync; $(echo "$banks" | tr '\n' ';')"
		torn=$((torn + 1))
	fi
	if [ -n "$last" ] && { [ "$got" = "uniform $last" ] || [ "$got" = "uniform $new" ]; }; then
		ok "sync cut by a power cut, round $1: old or new ($got)"
	else
		notok "sync cut by a power cut, round $1: old or new" \
			"after 'synced ${last:-none}': '$got'"
	fi
}

# The boot of round r reports what round r - 1 (or the hold boot) left.
pc_churn() {
	local rounds=$1 word=$2 before=$3 desc=$4 byte=16 round log t0 period ms
	last=
	torn=0
	for round in $(seq 1 "$rounds"); do
		log=$dir/churn$round.log
		start "churn$round" "$PC_SCENARIO-churn" knvram.byte=$byte
		if [ "$round" = 1 ]; then
			pc_expect churn1 "$PC_CFG" "$word" "$desc" \
				" (synced before: '$before')"
		else
			pc_check_round $((round - 1)) "$log"
		fi
		# Let a few syncs complete, time one more (a fill of $PC_LOG
		# in memory, then its sync), then cut at a random moment of
		# the next one.
		board_wait "$log" "synced 0x$(printf %02x $((byte + round)))" 300 || true
		t0=$(date +%s%N)
		board_wait "$log" "synced 0x$(printf %02x $((byte + round + 1)))" 300 || true
		period=$((($(date +%s%N) - t0) / 1000000))
		ms=$(((RANDOM * 32768 + RANDOM) % (period > 0 ? period : 1)))
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		board_kill
		last=$(tr -d '\r' <"$log" | sed -n 's/^synced //p' | tail -n 1)
		byte=$((byte + 64))
	done
}
