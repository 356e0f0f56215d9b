#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or reuse from the cache) the arm64 kernel of the test bench: the
# debug kernel, or with KNVRAM_KERNEL_FLAVOUR=prod the production kernel
# (the same without board/qemu-virt/debug.config; scripts/lib.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

src=$(kernel_src_dir)
[ -n "$(kernel_src_version)" ] || die "linux-source-6.12 is not installed (run scripts/setup-host.sh)"
obj=$(kernel_build_dir)
fragments=$(kernel_fragments)
mkdir -p "$KNVRAM_CACHE"
exec 9>"$KNVRAM_CACHE/.lock"
flock 9

if [ ! -f "$src/.knvram-unpacked" ]; then
	echo "# unpacking linux-source-6.12 $(kernel_src_version) into $src"
	tmp=$(mktemp -d "$KNVRAM_CACHE/src.XXXXXX")
	tar -C "$tmp" -xf /usr/src/linux-source-6.12.tar.xz
	rm -rf "$src"
	mkdir -p "$(dirname "$src")"
	mv "$tmp/linux-source-6.12" "$src"
	rmdir "$tmp"
	touch "$src/.knvram-unpacked"
fi

if [ -f "$obj/.knvram-built" ]; then
	# UAPI headers for the kselftests (builds from before they were made).
	[ -d "$obj/usr/include/linux" ] || kmake -C "$src" O="$obj" headers
	echo "# kernel ($KNVRAM_KERNEL_FLAVOUR): cached build $obj"
	exit 0
fi

echo "# kernel ($KNVRAM_KERNEL_FLAVOUR): building $obj (a few minutes)"
rm -rf "$obj"
mkdir -p "$obj"
kmake -C "$src" O="$obj" tinyconfig >/dev/null
# shellcheck disable=SC2086
(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" .config $fragments >/dev/null)
kmake -C "$src" O="$obj" olddefconfig >/dev/null

# Every option a fragment asks for must have landed; a silently dropped
# option would make a test pass for the wrong reason.
missing=0
for f in $fragments; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}
			if grep -q "^$opt=" "$obj/.config"; then
				echo "kernel config: $line not honoured ($f)" >&2; missing=1
			fi ;;
		CONFIG_*=*)
			if ! grep -qx "$line" "$obj/.config"; then
				echo "kernel config: $line not honoured ($f)" >&2; missing=1
			fi ;;
		esac
	done <"$f"
done
[ $missing = 0 ] || die "kernel configuration fragments do not apply"

kmake -C "$src" O="$obj" -j"$KNVRAM_JOBS" Image modules headers
touch "$obj/.knvram-built"
echo "# kernel ($KNVRAM_KERNEL_FLAVOUR): built $obj"
