#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the kselftests of tools/testing/selftests/knvram/ as static arm64
# programs, through their own Makefile and the kernel's lib.mk.
#
#   selftests.sh    installs them into $(knvram_work)/selftests/install/knvram
#                   with "run-list", the programs in the order to run them
#
# Our tree has only selftests/knvram/, not the rest of the kernel's
# selftests, so the build runs in a stage that mirrors a kernel tree:
#   stage/tools/testing/selftests/{lib.mk,kselftest*.h,kselftest/}  the kernel's
#   stage/tools/testing/selftests/knvram/   a copy of ours
#   stage/tools/include                     the kernel's (TOOLS_INCLUDES)
#   stage/include                           our include/ (-I../../../../include/uapi)
#   stage/usr/include                       the kernel's UAPI headers plus ours
#                                           (KHDR_INCLUDES, as after make headers)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ours=$KNVRAM_TOP/tools/testing/selftests/knvram
src=$(kernel_src_dir)
kobj=$(kernel_build_dir)
w=$(knvram_work)/selftests
stage=$w/stage
sel=$stage/tools/testing/selftests
install=$w/install/knvram

[ -f "$ours/Makefile" ] || die "no $ours/Makefile"
[ -d "$kobj/usr/include/linux" ] || die "no UAPI headers in $kobj (run scripts/kernel.sh)"
mkdir -p "$w"
exec 7>"$w/.lock"
flock 7

rm -rf "$stage" "$w/install"
mkdir -p "$sel" "$stage/tools" "$stage/usr"
cp -p "$src"/tools/testing/selftests/{lib.mk,kselftest.h,kselftest_harness.h,kselftest_module.h} "$sel/"
cp -pr "$src/tools/testing/selftests/kselftest" "$sel/"
ln -s "$src/tools/include" "$stage/tools/include"
ln -s "$KNVRAM_TOP/include" "$stage/include"
cp -pr "$kobj/usr/include" "$stage/usr/include"
cp -p "$KNVRAM_TOP"/include/uapi/linux/*.h "$stage/usr/include/linux/"
cp -pr "$ours" "$sel/knvram"

smake() {
	make -s -C "$sel/knvram" ARCH="$KNVRAM_ARCH" CROSS_COMPILE="$KNVRAM_CROSS" \
		OUTPUT="$w/build" USERLDFLAGS=-static "$@"
}
mkdir -p "$w/build"
smake -j"$KNVRAM_JOBS" all
smake INSTALL_PATH="$install" install >/dev/null
smake COLLECTION=knvram emit_tests | sed -n 's/^knvram://p' >"$install/run-list"

# The knvram command-line tool (tools/knvram), static arm64, for the
# guest's /bin (scripts/initramfs.sh).
mkdir -p "$w/install/bin"
make -s -C "$KNVRAM_TOP/tools/knvram" CROSS_COMPILE="$KNVRAM_CROSS" \
	LDFLAGS=-static KNVRAM_UAPI="$stage/usr/include" OUTPUT="$w/install/bin/"
file -b "$w/install/bin/knvram" | grep -q 'ARM aarch64.*statically linked' ||
	die "tools/knvram is not a static arm64 program"

while read -r t; do
	f=$install/$t
	[ -x "$f" ] || die "kselftest $t was not installed"
	if file -b "$f" | grep -q ELF && ! file -b "$f" | grep -q 'ARM aarch64.*statically linked'; then
		die "kselftest $t is not a static arm64 program: $(file -b "$f")"
	fi
done <"$install/run-list"
echo "# kselftests: $(xargs <"$install/run-list")"
