#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Pack the guest's initramfs from what the other scripts built:
#   /init, /lib/knvram/lib.sh, /scenarios/   board/qemu-virt/
#   /bin/busybox                             busybox-static:arm64
#   /lib/modules/knvram/*.ko                 scripts/modules.sh
#   /kselftest/knvram/                       scripts/selftests.sh (if built)
#   /bin/knvram                              tools/knvram, by scripts/selftests.sh
#   /extra-tests/                            the executables of EXTRA_DIR
#
#   initramfs.sh OUT.cpio.gz [EXTRA_DIR]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT.cpio.gz [EXTRA_DIR]}
extra=${2:-}
board=$KNVRAM_TOP/board/qemu-virt
busybox=$(busybox_arm64)
[ -n "$busybox" ] || die "no arm64 busybox (run scripts/setup-host.sh)"

root=$(mktemp -d "${TMPDIR:-/tmp}/knvram-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/knvram,lib/modules/knvram,scenarios,kselftest,extra-tests}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 755 "$board/init" "$root/init"
install -m 644 "$board/guest-lib.sh" "$root/lib/knvram/lib.sh"
for f in "$board"/scenarios/*; do
	[ -f "$f" ] && install -m 755 "$f" "$root/scenarios/"
done

mdir=$(modules_dir)/src
if [ -d "$mdir" ]; then
	find "$mdir" -name '*.ko' -exec cp {} "$root/lib/modules/knvram/" \;
fi
# make check's second build, without CONFIG_KNVRAM_DEV (modules.sh with
# KNVRAM_DEV=n): only when asked for, so that no stale build comes along.
if [ -n "${KNVRAM_NODEV_MODULES:-}" ]; then
	mkdir -p "$root/lib/modules/knvram-nodev"
	find "$KNVRAM_NODEV_MODULES" -name '*.ko' \
		-exec cp {} "$root/lib/modules/knvram-nodev/" \;
fi

kst=$(knvram_work)/selftests/install/knvram
if [ -f "$kst/run-list" ]; then
	cp -r "$kst" "$root/kselftest/knvram"
fi

tool=$(knvram_work)/selftests/install/bin/knvram
if [ -x "$tool" ]; then
	install -m 755 "$tool" "$root/bin/knvram"
fi

if [ -n "$extra" ]; then
	[ -d "$extra" ] || die "EXTRA_TESTS=$extra is not a directory"
	for f in "$extra"/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$root/extra-tests/"
	done
fi

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "# initramfs:" "$(cd "$root" && find lib/modules/knvram extra-tests -type f |
	sed 's|^lib/modules/knvram/||; s|^extra-tests/|extra/|' | sort | xargs)"
