#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: build the board as make check does, boot it once running the
# benchmark (board/qemu-virt/scenarios/bench: knvram_bench from the
# kselftests), print its table, and keep its figures as one line each.
#
#   bench.sh
#
# Files, in $(knvram_work)/runs/bench-DATE-PID/: console.log, table.txt and
# results.txt ("# key: value" lines on the run, then the "knvram-bench:"
# lines of knvram_bench: one per figure, times in ns, sizes in bytes).
# KNVRAM_BENCH_OUT=FILE also copies results.txt there; KNVRAM_BENCH_RUNS=N
# takes N runs per figure instead of knvram_bench's default (5);
# KNVRAM_BENCH_SECTIONS=LIST runs only those sections of knvram_bench (-x:
# mem,lat,txn,reader,sync,ubi,emerg); the guest is killed after
# KNVRAM_BENCH_TIMEOUT seconds (1800). The exit status is
# non-zero if the benchmark failed or the kernel log has a splat.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$KNVRAM_TOP"
# The board boots the bench kernel: build the modules for it.
unset KDIR

TIMEOUT=${KNVRAM_BENCH_TIMEOUT:-1800}
w=$(knvram_work)
run=$w/runs/bench-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"
find "$w/runs" -mindepth 1 -maxdepth 1 -name 'bench-*' | sort | head -n -5 |
	xargs -r rm -rf
echo "# knvram bench: logs in $run"

# quiet LOG CMD...: run CMD, its output in LOG, shown only if it fails.
quiet() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log"; die "$* failed (log: $log)"; }
}

# See check.sh: one build of the tree's guest files at a time.
exec 5>"$w/.check.lock"
flock 5
phase setup
scripts/setup-host.sh
phase kernel
scripts/kernel.sh
phase guest-build
quiet "$run/modules.log" scripts/modules.sh
quiet "$run/selftests.log" scripts/selftests.sh
[ -x "$w/selftests/install/knvram/knvram_bench" ] ||
	die "knvram_bench was not built (log: $run/selftests.log)"
quiet "$run/dtb.log" scripts/dtb.sh "$run/board.dtb"
quiet "$run/initramfs.log" scripts/initramfs.sh "$run/initrd-base.gz"

# The floor module, built out of tree like ours, in a second cpio archive
# after the first (the kernel unpacks concatenated archives).
floor=$w/bench-floor
mkdir -p "$floor"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
	--exclude=Module.symvers "$KNVRAM_TOP/board/qemu-virt/bench/" "$floor/src/"
quiet "$run/floor.log" kmake -C "$(kernel_build_dir)" M="$floor/src" modules
stage=$run/initrd-bench
mkdir -p "$stage/lib/modules/knvram-bench"
cp "$floor/src/knvram-bench-floor.ko" "$stage/lib/modules/knvram-bench/"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
	>"$run/initrd-bench.gz"
cat "$run/initrd-base.gz" "$run/initrd-bench.gz" >"$run/initrd.gz"
exec 5>&-

phase guest
# shellcheck source=scripts/board.sh
. scripts/board.sh
export KNVRAM_KERNEL KNVRAM_INITRD KNVRAM_DTB
KNVRAM_KERNEL=$(kernel_build_dir)/arch/arm64/boot/Image
KNVRAM_INITRD=$run/initrd.gz
KNVRAM_DTB=$run/board.dtb
log=$run/console.log
: >"$log"
# Progress: the benchmark's stderr lines, as they come.
tail -n +1 -F "$log" 2>/dev/null | grep -a --line-buffered '^# knvram_bench: ' &
follower=$!
status=0
board_boot "$run/board" "$log" "$TIMEOUT" knvram.scenario=bench \
	${KNVRAM_BENCH_RUNS:+knvram.bench_runs=$KNVRAM_BENCH_RUNS} \
	${KNVRAM_BENCH_SECTIONS:+knvram.bench_sections=$KNVRAM_BENCH_SECTIONS} ||
	status=$?
kill "$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true
board_free "$run/board"
phase_end
[ $status = 124 ] && echo "# bench: the guest was killed after ${TIMEOUT}s"

# The benchmark's output, without kernel messages that cut into it.
out=$run/out.txt
tr -d '\r' <"$log" | grep -av '^\[ *[0-9]*\.[0-9]*\]' >"$out"
sed -n '/^==== knvram-bench: table begin ====$/,/^==== knvram-bench: table end ====$/p' \
	"$out" | sed '1d;$d' >"$run/table.txt"
commit=$(git -C "$KNVRAM_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$KNVRAM_TOP" status --porcelain 2>/dev/null)" ]; then
	commit="$commit plus uncommitted changes"
fi
{
	echo "# commit: $commit"
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# host: $(uname -m), $(nproc) CPUs, $(qemu-system-aarch64 --version | head -n 1)"
	sed -n 's/^knvram-bench: kernel /# guest: /p' "$out"
	grep -a '^knvram-bench: [a-z]* ' "$out" | grep -v '^knvram-bench: kernel ' || true
} >"$run/results.txt"

cat "$run/table.txt"
echo
echo "# results: $run/results.txt"
if [ -n "${KNVRAM_BENCH_OUT:-}" ]; then
	cp "$run/results.txt" "$KNVRAM_BENCH_OUT"
	echo "# results copied to $KNVRAM_BENCH_OUT"
fi

fail=0
if ! grep -q '^knvram-bench: done figures=[0-9]* errors=0$' "$out"; then
	echo "# bench: knvram_bench did not finish cleanly:"
	grep -a -E '^knvram-bench: (error|done|exit|cannot|no )|^# knvram_bench: error' "$out" | sed 's/^/#   /'
	fail=1
fi
if tr -d '\r' <"$log" | grep -a -E 'WARNING:|BUG:|Oops|KASAN:|UBSAN:|possible circular locking|blocked for more than|Kernel panic' >"$run/splats.txt"; then
	echo "# bench: kernel splats in the log ($log):"
	head -n 10 "$run/splats.txt" | sed 's/^/#   /'
	fail=1
fi
[ $status = 0 ] || fail=1
exit $fail
