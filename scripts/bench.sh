#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: build the board as make check does, boot it once per kernel
# running the benchmark (board/qemu-virt/scenarios/bench: knvram_bench from
# the kselftests), print its table, and keep its figures as one line each.
#
#   bench.sh
#
# KNVRAM_BENCH_KERNEL picks the kernel: prod (the default: the board's
# kernel without board/qemu-virt/debug.config, what a product runs), debug
# (the kernel of make check: KASAN, lockdep, kmemleak...) or both (one boot
# each, production first, and a table of the targets on both).
#
# Files, in $(knvram_work)/runs/bench-DATE-PID/: per kernel, in prod/ and
# debug/, console.log, table.txt and results.txt ("# key: value" lines on
# the run, then the "knvram-bench:" lines of knvram_bench, each with
# kernel=prod or kernel=debug as its first key: one per figure, times in
# ns, sizes in bytes); results.txt next to them holds those of every kernel
# run. KNVRAM_BENCH_OUT=FILE also copies that results.txt there;
# KNVRAM_BENCH_RUNS=N takes N runs per figure instead of knvram_bench's
# default (5); KNVRAM_BENCH_SECTIONS=LIST runs only those sections of
# knvram_bench (-x: mem,lat,txn,reader,sync,wsync,ubi,emerg); each guest is
# killed after KNVRAM_BENCH_TIMEOUT seconds (3600). The exit status is
# non-zero if the benchmark failed or a kernel log has a splat. Whether the
# targets are met does not change it: they are figures, not tests.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$KNVRAM_TOP"
# The board boots the bench kernels: build the modules for them.
unset KDIR

case "${KNVRAM_BENCH_KERNEL:-prod}" in
prod) kernels=prod ;;
debug) kernels=debug ;;
both) kernels="prod debug" ;;
*) die "KNVRAM_BENCH_KERNEL=$KNVRAM_BENCH_KERNEL: not prod, debug or both" ;;
esac
TIMEOUT=${KNVRAM_BENCH_TIMEOUT:-3600}
w=$(knvram_work)
run=$w/runs/bench-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"
find "$w/runs" -mindepth 1 -maxdepth 1 -name 'bench-*' | sort | head -n -5 |
	xargs -r rm -rf
echo "# knvram bench: kernel $kernels; logs in $run"

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
for k in $kernels; do
	phase "kernel-$k"
	KNVRAM_KERNEL_FLAVOUR=$k scripts/kernel.sh
done
phase guest-build
# The kselftests are static programs: one build serves every kernel (the
# UAPI headers of the first).
quiet "$run/selftests.log" env KNVRAM_KERNEL_FLAVOUR="${kernels%% *}" \
	scripts/selftests.sh
[ -x "$w/selftests/install/knvram/knvram_bench" ] ||
	die "knvram_bench was not built (log: $run/selftests.log)"
quiet "$run/dtb.log" scripts/dtb.sh "$run/board.dtb"
for k in $kernels; do
	export KNVRAM_KERNEL_FLAVOUR=$k
	mkdir -p "$run/$k"
	quiet "$run/$k/modules.log" scripts/modules.sh
	quiet "$run/$k/initramfs.log" scripts/initramfs.sh "$run/$k/initrd-base.gz"

	# The floor module, built out of tree like ours against this kernel,
	# in a second cpio archive after the first (the kernel unpacks
	# concatenated archives).
	floor=$w/bench-floor/$k
	mkdir -p "$floor"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
		--exclude=Module.symvers "$KNVRAM_TOP/board/qemu-virt/bench/" "$floor/src/"
	quiet "$run/$k/floor.log" kmake -C "$(kernel_build_dir)" M="$floor/src" modules
	stage=$run/$k/initrd-bench
	mkdir -p "$stage/lib/modules/knvram-bench"
	cp "$floor/src/knvram-bench-floor.ko" "$stage/lib/modules/knvram-bench/"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
		>"$run/$k/initrd-bench.gz"
	cat "$run/$k/initrd-base.gz" "$run/$k/initrd-bench.gz" >"$run/$k/initrd.gz"
done
exec 5>&-

# shellcheck source=scripts/board.sh
. scripts/board.sh
commit=$(git -C "$KNVRAM_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$KNVRAM_TOP" status --porcelain 2>/dev/null)" ]; then
	commit="$commit plus uncommitted changes"
fi
fail=0
: >"$run/results.txt"

# bench_on KERNEL: boot the board on that kernel flavour running the
# benchmark; its files in $run/KERNEL/.
bench_on() {
	local k=$1 d=$run/$1 log=$run/$1/console.log out=$run/$1/out.txt
	local follower status=0 fragments

	phase "guest-$k"
	export KNVRAM_KERNEL_FLAVOUR=$k KNVRAM_KERNEL KNVRAM_INITRD KNVRAM_DTB
	KNVRAM_KERNEL=$(kernel_build_dir)/arch/arm64/boot/Image
	KNVRAM_INITRD=$d/initrd.gz
	KNVRAM_DTB=$run/board.dtb
	: >"$log"
	# Progress: the benchmark's stderr lines, as they come.
	tail -n +1 -F "$log" 2>/dev/null | grep -a --line-buffered '^# knvram_bench: ' &
	follower=$!
	board_boot "$d/board" "$log" "$TIMEOUT" knvram.scenario=bench \
		${KNVRAM_BENCH_RUNS:+knvram.bench_runs=$KNVRAM_BENCH_RUNS} \
		${KNVRAM_BENCH_SECTIONS:+knvram.bench_sections=$KNVRAM_BENCH_SECTIONS} ||
		status=$?
	kill "$follower" 2>/dev/null || true
	wait "$follower" 2>/dev/null || true
	board_free "$d/board"
	phase_end
	[ $status = 124 ] && echo "# bench: the $k guest was killed after ${TIMEOUT}s"

	# The benchmark's output, without kernel messages that cut into it.
	tr -d '\r' <"$log" | grep -av '^\[ *[0-9]*\.[0-9]*\]' >"$out"
	sed -n '/^==== knvram-bench: table begin ====$/,/^==== knvram-bench: table end ====$/p' \
		"$out" | sed '1d;$d' >"$d/table.txt"
	fragments=$(kernel_fragments | sed "s|^$KNVRAM_TOP/||" | xargs)
	{
		echo "# kernel: $k ($(basename "$(kernel_build_dir)"): tinyconfig + $fragments)"
		echo "# commit: $commit"
		echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "# host: $(uname -m), $(nproc) CPUs, $(qemu-system-aarch64 --version | head -n 1)"
		sed -n 's/^knvram-bench: kernel /# guest: /p' "$out"
		grep -a '^knvram-bench: [a-z]* ' "$out" | grep -v '^knvram-bench: kernel ' |
			sed "s/^knvram-bench: \([a-z]*\) /knvram-bench: \1 kernel=$k /" || true
	} >"$d/results.txt"
	cat "$d/results.txt" >>"$run/results.txt"

	echo
	echo "## kernel: $k"
	cat "$d/table.txt"
	echo
	echo "# results ($k): $d/results.txt"

	if ! grep -q '^knvram-bench: done figures=[0-9]* errors=0$' "$out"; then
		echo "# bench: knvram_bench did not finish cleanly on the $k kernel:"
		grep -a -E '^knvram-bench: (error|done|exit|cannot|no )|^# knvram_bench: error' "$out" | sed 's/^/#   /'
		fail=1
	fi
	if tr -d '\r' <"$log" | grep -a -E 'WARNING:|BUG:|Oops|KASAN:|UBSAN:|possible circular locking|blocked for more than|Kernel panic' >"$d/splats.txt"; then
		echo "# bench: kernel splats in the log ($log):"
		head -n 10 "$d/splats.txt" | sed 's/^/#   /'
		fail=1
	fi
	[ $status = 0 ] || fail=1
}

for k in $kernels; do
	bench_on "$k"
done

# Both kernels: their targets side by side.
if [ "$kernels" = "prod debug" ]; then
	echo
	echo "## targets (issue 12), production and debug kernel"
	awk '
		# A ratio, or bytes in KiB.
		function show(x, u) {
			return u == "bytes" ? sprintf("%.1f KiB", x / 1024) : sprintf("%.2fx", x)
		}
		/^knvram-bench: target / {
			k = t = v = l = m = u = ""
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "kernel") k = kv[2]
				else if (kv[1] == "id") t = kv[2]
				else if (kv[1] == "value") v = kv[2]
				else if (kv[1] == "limit") l = kv[2]
				else if (kv[1] == "unit") u = kv[2]
				else if (kv[1] == "met") m = kv[2]
			}
			if (!(t in seen)) {
				seen[t] = 1
				order[++n] = t
				lim[t] = show(l, u)
			}
			cell[t, k] = show(v, u) " " (m == "yes" ? "met" : "NOT met")
		}
		END {
			printf "   %-30s %9s  %-20s %-20s\n", "target", "<=", "prod", "debug"
			for (i = 1; i <= n; i++) {
				t = order[i]
				printf "   %-30s %9s  %-20s %-20s\n", t, lim[t],
					cell[t, "prod"], cell[t, "debug"]
			}
		}' "$run/results.txt"
fi

echo
echo "# results: $run/results.txt"
if [ -n "${KNVRAM_BENCH_OUT:-}" ]; then
	cp "$run/results.txt" "$KNVRAM_BENCH_OUT"
	echo "# results copied to $KNVRAM_BENCH_OUT"
fi
exit $fail
