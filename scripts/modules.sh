#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the knvram modules out of tree (make -C $KDIR M=...) against KDIR,
# by default the bench kernel of scripts/kernel.sh.
#
#   modules.sh          build (incremental)
#   modules.sh --check  build from clean with W=1 C=1 (sparse); any compiler,
#                       sparse or modpost warning fails
#   modules.sh clean    remove the build
#
# KNVRAM_DEV=n builds (or cleans) the variant without CONFIG_KNVRAM_DEV, in
# $(modules_dir)-nodev, apart from the usual one.
#
# kbuild writes its objects next to the sources of an M= build. Several
# tools (an editor's build, `make check`, a second clone) may build at the
# same time, so this builds in a private copy of the kbuild files, one per
# work tree and kernel ($(modules_dir)/src, synced with rsync, mtimes kept
# so rebuilds stay incremental), under a lock on that copy. The work tree
# itself stays clean; the modules are left in $(modules_dir)/src.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

mode=build
case "${1:-}" in
"") ;;
--check) mode=check ;;
clean) mode=clean ;;
*) die "usage: $0 [--check|clean]" ;;
esac

k=$(kdir)
dir=$(modules_dir)
# KNVRAM_DEV=n: the variant without the character devices, built apart.
devopt=()
if [ "${KNVRAM_DEV:-y}" = n ]; then
	dir=$dir-nodev
	devopt=(CONFIG_KNVRAM_DEV=n)
fi
src=$dir/src
mkdir -p "$dir"
exec 8>"$dir/.lock"
flock 8

if [ $mode = clean ]; then
	rm -rf "$src"
	echo "# modules: removed $src"
	exit 0
fi

if [ ! -f "$k/Module.symvers" ] || [ ! -f "$k/.config" ]; then
	die "KDIR=$k is not a built kernel tree (no .config or Module.symvers)"
fi

# Build products are excluded (and so kept in the copy); everything else
# but the kbuild files is left out.
rsync -a --delete \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='.*.d' --exclude='*.a' \
	--exclude=modules.order --exclude=Module.symvers --exclude='.tmp_*' \
	--include=/Makefile --include=/Kconfig \
	--include='/drivers/***' --include='/include/***' --exclude='*' \
	"$KNVRAM_TOP/" "$src/"

log=$dir/build.log
status=0
# __FILE__ (in WARN and KUnit messages) relative to the tree, not the copy.
export KCFLAGS="${KCFLAGS:-} -fmacro-prefix-map=$src/="
if [ $mode = check ]; then
	kmake -C "$k" M="$src" clean
	# Serial, so that warnings come out whole and in order.
	kmake -C "$k" M="$src" "${devopt[@]}" W=1 C=1 modules >"$log" 2>&1 || status=$?
else
	kmake -C "$k" M="$src" "${devopt[@]}" -j"$KNVRAM_JOBS" modules >"$log" 2>&1 || status=$?
fi
sed "s|$src/||g" "$log"

if [ $status != 0 ]; then
	# Never leave a stale module behind for the initramfs.
	find "$src" -name '*.ko' -delete
	die "the knvram modules do not build against $k (see above)"
fi
if [ $mode = check ] && grep -qiE 'warning:|error:' "$log"; then
	die "the W=1 C=1 build of the knvram modules has warnings (see above)"
fi
kos=$(cd "$src" && find . -name '*.ko' -printf '%f\n' | sort | xargs)
echo "# modules: ${kos:-none} in $src"
