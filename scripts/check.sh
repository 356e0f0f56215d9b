#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make check: every test of knvram, counted in one summary.
#
#   check.sh [--extra-tests DIR]
#
# Static checks (one result each), then one boot of the board running every
# guest suite (KUnit, kselftests, DIR's programs, kmemleak), then the
# host-side tests of board/qemu-virt/tests/ that power-cycle the board.
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero on any failure. Logs stay in $(knvram_work)/runs/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

extra=
while [ $# -gt 0 ]; do
	case "$1" in
	--extra-tests) extra=$(cd "${2:?}" && pwd); shift 2 ;;
	*) die "usage: $0 [--extra-tests DIR]" ;;
	esac
done
# The board boots the bench kernel: build the modules for it.
unset KDIR
# The debug kernel always (KNVRAM_KERNEL_FLAVOUR is for make bench).
export KNVRAM_KERNEL_FLAVOUR=debug

GUEST_TIMEOUT=${KNVRAM_GUEST_TIMEOUT:-2400}
HOST_TEST_TIMEOUT=${KNVRAM_HOST_TEST_TIMEOUT:-1800}

w=$(knvram_work)
run=$w/runs/check-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"
# One check (or the build half of make run) of a tree at a time: they share
# its modules, kselftests and DTB in the cache.
exec 5>"$w/.check.lock"
flock 5
# Keep the logs of the last five runs.
find "$w/runs" -mindepth 1 -maxdepth 1 -name 'check-*' | sort | head -n -5 |
	xargs -r rm -rf
tally=$run/tally
board=$KNVRAM_TOP/board/qemu-virt
binding=$KNVRAM_TOP/Documentation/devicetree/bindings/knvram.yaml

# The boards' RAM and flash files are in tmpfs: free them, even on ^C.
free_boards() {
	local link
	find "$1" -name ram.img -type l | while read -r link; do
		board_free "$(dirname "$link")"
	done
}
trap 'free_boards "$run"' EXIT

ktap() {
	python3 "$KNVRAM_TOP/scripts/ktap.py" "$@" --tally "$tally"
}

# result NAME LOG CMD...: CMD's success is one result; on failure, the
# first lines of LOG are shown.
result() {
	local name=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		ktap result "$name" ok
	else
		ktap result "$name" fail "see $log"
		if [ "$(wc -l <"$log")" -gt 30 ]; then
			{ head -n 25 "$log"; echo "[...]"; tail -n 3 "$log"; }
		else
			cat "$log"
		fi | sed 's/^/#   /'
	fi
}

cd "$KNVRAM_TOP"
echo "# knvram check: logs in $run"
start=$(date +%s)

phase setup
scripts/setup-host.sh
# Before anything is built: every input outside the cache comes from a
# package that setup-host.sh names (or from one of its Depends).
result "static/host-packages" "$run/host-packages.log" scripts/host-packages.sh
phase kernel
scripts/kernel.sh
src=$(kernel_src_dir)

phase static
result "static/modules W=1 C=1" "$run/modules.log" scripts/modules.sh --check
# Without CONFIG_KNVRAM_DEV too: the guest boots it after the main run.
result "static/modules W=1 C=1 CONFIG_KNVRAM_DEV=n" "$run/modules-nodev.log" \
	env KNVRAM_DEV=n scripts/modules.sh --check
export KNVRAM_NODEV_MODULES
KNVRAM_NODEV_MODULES=$(modules_dir)-nodev/src

checkpatch() {
	local f status=0
	for f in "$@"; do
		perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet \
			--show-types -f "$f" || status=1
	done
	return $status
}
# kbuild's generated *.mod.c (an in-tree build) are not ours to check.
mapfile -t kfiles < <(find drivers include -name '*.[ch]' ! -name '*.mod.c' | sort)
if [ ${#kfiles[@]} -gt 0 ]; then
	result "static/checkpatch drivers include" "$run/checkpatch.log" \
		checkpatch "${kfiles[@]}"
else
	ktap result "static/checkpatch drivers include" skip "no C files yet"
fi
mapfile -t tfiles < <(find tools/testing/selftests/knvram tools/knvram -name '*.[ch]' | sort)
if [ ${#tfiles[@]} -gt 0 ]; then
	result "static/checkpatch selftests" "$run/checkpatch-selftests.log" \
		checkpatch "${tfiles[@]}"
else
	ktap result "static/checkpatch selftests" skip "no C files yet"
fi

if [ -f "$binding" ]; then
	result "static/dt-doc-validate knvram.yaml" "$run/dt-doc-validate.log" \
		dt-doc-validate "$binding"
else
	ktap result "static/dt-doc-validate knvram.yaml" skip "no $binding yet"
fi

phase guest-build
mkdir -p "$w/guest"
export KNVRAM_KERNEL KNVRAM_INITRD KNVRAM_DTB
KNVRAM_KERNEL=$(kernel_build_dir)/arch/arm64/boot/Image
KNVRAM_INITRD=$run/initrd.gz
KNVRAM_DTB=$run/board.dtb
if [ -f tools/testing/selftests/knvram/Makefile ]; then
	result "build/kselftests" "$run/selftests.log" scripts/selftests.sh
	grep '^# kselftests:' "$run/selftests.log" || true
else
	rm -rf "$w/selftests/install"
	ktap result "build/kselftests" skip "no tools/testing/selftests/knvram/Makefile yet"
fi
result "build/board dtb" "$run/dtb.log" scripts/dtb.sh "$KNVRAM_DTB"
grep '^# dtb:' "$run/dtb.log" || true
scripts/initramfs.sh "$KNVRAM_INITRD" "$extra"

# The board's DTB against our binding, processed together with dtschema's
# own schemas; -l limits the check to the nodes our binding selects (QEMU's
# own nodes have no schema here), and one node at least must be selected.
dt_validate() {
	local out
	dt-mk-schema -j -o "$run/processed-schema.json" "$(dirname "$binding")"
	out=$(dt-validate -s "$run/processed-schema.json" -l knvram "$KNVRAM_DTB" 2>&1)
	echo "$out"
	[ -z "$out" ] || return 1
	dt-validate -s "$run/processed-schema.json" -l knvram -M "$KNVRAM_DTB" 2>&1 |
		grep -B1 'schemas/knvram.yaml' || { echo "no node uses the binding"; return 1; }
}
if [ ! -f "$binding" ]; then
	ktap result "static/dt-validate board dtb" skip "no $binding yet"
elif [ ! -f "$board/knvram-board.dtso" ]; then
	ktap result "static/dt-validate board dtb" skip "no $board/knvram-board.dtso yet"
else
	result "static/dt-validate board dtb" "$run/dt-validate.log" dt_validate
fi

phase guest
# shellcheck source=scripts/board.sh
. scripts/board.sh
trap 'board_cleanup; free_boards "$run"' EXIT
status=0
board_boot "$run/guest" "$run/guest.log" "$GUEST_TIMEOUT" || status=$?
[ $status = 124 ] && echo "# guest: killed after ${GUEST_TIMEOUT}s"
board_free "$run/guest"
ktap guest "$run/guest.log"

phase host-tests
for t in "$board"/tests/*; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	if [ ! -x "$t" ]; then
		ktap result "host/$name" fail "$t is not executable"
		continue
	fi
	dir=$run/host/$name
	mkdir -p "$dir"
	status=0
	KNVRAM_TEST_DIR=$dir timeout -s KILL "$HOST_TEST_TIMEOUT" "$t" \
		>"$dir/out" 2>&1 </dev/null || status=$?
	ktap doc "host/$name" "$dir/out" --exit "$status" --scan "$dir"/*.log
	free_boards "$dir"
done
phase_end

echo "# knvram check: $(($(date +%s) - start))s, logs in $run"
ktap total
