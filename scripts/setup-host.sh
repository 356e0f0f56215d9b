#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what the knvram test bench needs on a Debian 12 host. Idempotent:
# silent when everything is there, otherwise it says what it installs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Every package the bench uses, by name: with --no-install-recommends a
# package that is only recommended by another is absent on a fresh machine
# (static/host-packages in `make check` holds this list to that).
#  - gcc-aarch64-linux-gnu only recommends libc6-dev-arm64-cross, the arm64
#    C library headers and static libraries of the kselftests;
#  - qemu-system-arm only recommends ipxe-qemu, the ROM files of the virt
#    board's virtio devices (efi-virtio.rom);
#  - gcc and libc6-dev build the kernel's host programs;
#  - strace lets static/host-packages see which files the tools use.
packages="linux-source-6.12 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
qemu-system-arm ipxe-qemu device-tree-compiler dt-schema sparse gcc
libc6-dev bc bison flex libssl-dev libelf-dev cpio kmod xz-utils gzip
mtd-utils python3 rsync make perl file strace util-linux"

if [ "${1:-}" = --list ]; then
	echo $packages
	exit 0
fi

mkdir -p "$KNVRAM_CACHE"
exec 6>"$KNVRAM_CACHE/.setup.lock"
flock 6

sudo=
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi

updated=0
apt_update() {
	if [ $updated = 0 ]; then
		echo "# setup: apt-get update"
		$sudo apt-get update -qq
		updated=1
	fi
}

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in $packages; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "# setup: installing ${missing[*]}"
	apt_update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

# The guest's userland: Debian's static arm64 busybox, unpacked into the
# cache (not installed on the host).
if [ -z "$(busybox_arm64)" ]; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "# setup: dpkg --add-architecture arm64"
		$sudo dpkg --add-architecture arm64
		updated=0
		apt_update
	fi
	deb_dir="$KNVRAM_CACHE/deb"
	mkdir -p "$deb_dir"
	deb=$(find "$deb_dir" -name 'busybox-static_*_arm64.deb' | sort | tail -n 1)
	if [ -z "$deb" ]; then
		echo "# setup: fetching busybox-static:arm64 into $deb_dir"
		if ! (cd "$deb_dir" && apt-get download -qq busybox-static:arm64 2>/dev/null); then
			apt_update
			(cd "$deb_dir" && apt-get download -qq busybox-static:arm64)
		fi
		deb=$(find "$deb_dir" -name 'busybox-static_*_arm64.deb' | sort | tail -n 1)
	fi
	echo "# setup: unpacking $(basename "$deb")"
	dest="$KNVRAM_CACHE/busybox/$(basename "$deb" .deb)"
	rm -rf "$dest.tmp"
	mkdir -p "$(dirname "$dest")"
	dpkg -x "$deb" "$dest.tmp"
	mv "$dest.tmp" "$dest"
	[ -n "$(busybox_arm64)" ] || die "busybox-static:arm64 did not unpack as expected"
fi
