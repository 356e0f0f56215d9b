# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: GPL-2.0-only
# Shared settings of the knvram test bench. Sourced, not run.

# Once only: a second source would reset the phase timer.
[ -z "${_knvram_lib:-}" ] || return 0
_knvram_lib=1

# The bench runs Debian's tools, from the packages setup-host.sh installs,
# before anything installed by hand (a pyenv python3, /usr/local/bin).
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

KNVRAM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KNVRAM_CACHE=${KNVRAM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/knvram}
KNVRAM_ARCH=arm64
KNVRAM_CROSS=aarch64-linux-gnu-
KNVRAM_JOBS=${KNVRAM_JOBS:-$(nproc)}
# The board's kernel comes in two flavours, built from tinyconfig and these
# fragments: "debug" (the default; make run, make check) adds
# board/qemu-virt/debug.config (KASAN, lockdep, kmemleak...), "prod" is the
# same kernel without it (make bench). KNVRAM_KERNEL_FLAVOUR picks one.
KNVRAM_KERNEL_FLAVOUR=${KNVRAM_KERNEL_FLAVOUR:-debug}

# The config fragments of the flavour, one a line.
kernel_fragments() {
	echo "$KNVRAM_TOP/tools/testing/selftests/knvram/config"
	echo "$KNVRAM_TOP/board/qemu-virt/board.config"
	case "$KNVRAM_KERNEL_FLAVOUR" in
	debug) echo "$KNVRAM_TOP/board/qemu-virt/debug.config" ;;
	prod) ;;
	*) die "KNVRAM_KERNEL_FLAVOUR=$KNVRAM_KERNEL_FLAVOUR: not debug or prod" ;;
	esac
}

# Phase timer: "phase NAME" starts one, the next call (or phase_end)
# prints how long the previous one took.
_phase_name=
_phase_start=0
phase_end() {
	if [ -n "$_phase_name" ]; then
		printf '# phase %s: %ss\n' "$_phase_name" $(($(date +%s) - _phase_start))
	fi
	_phase_name=
}
phase() {
	phase_end
	_phase_name=$1
	_phase_start=$(date +%s)
}

die() {
	echo "error: $*" >&2
	exit 1
}

# The kernel source: Debian's linux-source-6.12, unpacked once per version.
kernel_src_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | tr '~:' '__'
}

kernel_src_dir() {
	echo "$KNVRAM_CACHE/src/linux-source-6.12-$(kernel_src_version)"
}

# The build directory is keyed by what the kernel is built from: source
# version, config fragments and compiler; a flavour other than debug also
# by its name (the debug key is the one of the builds from before
# flavours, so that their cache stays valid).
kernel_build_key() {
	local f
	{
		kernel_src_version
		for f in $(kernel_fragments); do cat "$f"; done
		"${KNVRAM_CROSS}gcc" --version | head -n 1
		[ "$KNVRAM_KERNEL_FLAVOUR" = debug ] ||
			echo "flavour $KNVRAM_KERNEL_FLAVOUR"
	} | sha256sum | cut -c1-16
}

kernel_build_dir() {
	echo "$KNVRAM_CACHE/build/$(kernel_build_key)"
}

# KDIR may point at another kernel build; default is the cached bench kernel.
kdir() {
	echo "${KDIR:-$(kernel_build_dir)}"
}

# The static arm64 busybox unpacked by setup-host.sh (empty if not yet).
busybox_arm64() {
	local f
	for f in "$KNVRAM_CACHE"/busybox/*/bin/busybox; do
		if [ -x "$f" ]; then
			echo "$f"
			return
		fi
	done
}

kmake() {
	make -s ARCH="$KNVRAM_ARCH" CROSS_COMPILE="$KNVRAM_CROSS" "$@"
}

# Per-tree work area in the cache (module build copy, kselftest stage,
# initramfs, board files, logs), so that two clones never share one.
knvram_work() {
	echo "$KNVRAM_CACHE/obj/$(printf %s "$KNVRAM_TOP" | sha256sum | cut -c1-12)"
}

# Where scripts/modules.sh builds for the kernel kdir() names.
modules_dir() {
	echo "$(knvram_work)/modules/$(printf %s "$(kdir)" | sha256sum | cut -c1-12)"
}

# The board: QEMU virt, GICv3 (pseudo-NMI), 2 CPUs, 1 GiB of RAM backed by
# a file and CFI pflash bank 1 backed by a 64 MiB file, so that both
# survive a power cycle. dumpdtb (scripts/dtb.sh) uses the same options.
KNVRAM_RAM_SIZE=1G
KNVRAM_FLASH_SIZE=64M
KNVRAM_APPEND="console=ttyAMA0 irqchip.gicv3_pseudo_nmi=1 panic=-1"

# qemu_board RAM_FILE FLASH_FILE [DISK_FILE]: set the array QEMU_BOARD.
# DISK_FILE backs a virtio-blk disk (blk_image); QEMU's DTB has its
# virtio-mmio slots with or without it.
qemu_board() {
	# shellcheck disable=SC2054 # commas in QEMU options
	QEMU_BOARD=(qemu-system-aarch64
		-machine virt,gic-version=3,memory-backend=ram
		-cpu max,pauth-impdef=on -smp 2 -m "$KNVRAM_RAM_SIZE"
		-object "memory-backend-file,id=ram,size=$KNVRAM_RAM_SIZE,mem-path=$1,share=on"
		-drive "if=pflash,unit=1,format=raw,file=$2"
		-no-reboot)
	if [ -n "${3:-}" ]; then
		QEMU_BOARD+=(-drive "if=none,id=disk0,format=raw,file=$3"
			-device virtio-blk-device,drive=disk0)
	fi
}

# Flash bank 1 holds UBI (board/qemu-virt/flash1-ubi.cfg): QEMU virt's CFI
# pflash erases 256 KiB sectors and programs single bytes.
KNVRAM_FLASH_PEB=256KiB
KNVRAM_FLASH_MIN_IO=1

# flash_image: print the path of the initial flash bank 1 image: the UBI
# volumes of flash1-ubi.cfg built by ubinize, the rest of the bank erased
# (0xff). Built once per configuration and cached.
flash_image() {
	local cfg=$KNVRAM_TOP/board/qemu-virt/flash1-ubi.cfg key dir img
	key=$({
		cat "$cfg"
		echo "$KNVRAM_FLASH_SIZE $KNVRAM_FLASH_PEB $KNVRAM_FLASH_MIN_IO"
		ubinize --version 2>&1
	} | sha256sum | cut -c1-12)
	dir=$(knvram_work)/flash
	img=$dir/flash1-$key.img
	if [ ! -f "$img" ]; then
		mkdir -p "$dir"
		rm -f "$dir"/flash1-*.img
		# A fixed image sequence number: the same input, the same image.
		ubinize -o "$dir/ubi.$$" -p "$KNVRAM_FLASH_PEB" \
			-m "$KNVRAM_FLASH_MIN_IO" -Q 0x6b6e7672 "$cfg" >&2 ||
			die "ubinize $cfg failed"
		head -c "$KNVRAM_FLASH_SIZE" /dev/zero | tr '\0' '\377' >"$dir/flash.$$"
		dd if="$dir/ubi.$$" of="$dir/flash.$$" conv=notrunc status=none
		rm -f "$dir/ubi.$$"
		mv "$dir/flash.$$" "$img"
	fi
	echo "$img"
}

# The board's disk: 8 MiB, 512-byte sectors, a GPT with the partitions
# "knvram" (4 MiB at 1 MiB, the block backend's) and "knvram-raw" (2 MiB,
# for raw writes next to it), the rest zero. Fixed GUIDs: the same image
# every time; the PARTUUID of "knvram" is KNVRAM_DISK_PARTUUID.
KNVRAM_DISK_SIZE=8M
KNVRAM_DISK_PARTUUID=6b6e7672-626c-6b00-8000-000000000001

# blk_image: print the path of the initial disk image, built once.
blk_image() {
	local dir img
	dir=$(knvram_work)/disk
	img=$dir/disk-$(echo "$KNVRAM_DISK_SIZE $KNVRAM_DISK_PARTUUID v1" |
		sha256sum | cut -c1-12).img
	if [ ! -f "$img" ]; then
		mkdir -p "$dir"
		rm -f "$dir"/disk-*.img
		python3 - "$dir/disk.$$" "$KNVRAM_DISK_PARTUUID" <<-'EOF' ||
			import struct, sys, uuid, zlib
			out, partuuid = sys.argv[1], sys.argv[2]
			nsect = 8 << 11                 # 8 MiB of 512-byte sectors
			linux = uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8e47de4")
			parts = [("knvram", 2048, 10239, uuid.UUID(partuuid)),
			         ("knvram-raw", 10240, 14335,
			          uuid.UUID("6b6e7672-626c-6b00-8000-000000000002"))]
			ents = b""
			for name, first, last, guid in parts:
			    ents += struct.pack("<16s16sQQQ72s", linux.bytes_le,
			                        guid.bytes_le, first, last, 0,
			                        name.encode("utf-16-le"))
			ents = ents.ljust(128 * 128, b"\0")
			disk = uuid.UUID("6b6e7672-626c-6b00-8000-000000000000")
			def header(me, alt, entries):
			    h = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART",
			                    0x10000, 92, 0, 0, me, alt, 34,
			                    nsect - 34, disk.bytes_le, entries,
			                    128, 128, zlib.crc32(ents))
			    h = h[:16] + struct.pack("<I", zlib.crc32(h)) + h[20:]
			    return h.ljust(512, b"\0")
			mbr = bytearray(512)
			mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xee,
			                           0xff, 0xff, 0xff, 1, nsect - 1)
			mbr[510:512] = b"\x55\xaa"
			img = bytearray(nsect * 512)
			img[0:512] = mbr
			img[512:1024] = header(1, nsect - 1, 2)
			img[1024:1024 + len(ents)] = ents
			back = (nsect - 33) * 512
			img[back:back + len(ents)] = ents
			img[(nsect - 1) * 512:] = header(nsect - 1, 1, nsect - 33)
			open(out, "wb").write(img)
		EOF
			die "cannot build the disk image"
		mv "$dir/disk.$$" "$img"
	fi
	echo "$img"
}

# board_files DIR: create the RAM and flash files of a board that is
# power-cycled by the boots of one test (RAM zeroed, flash bank 1 the
# fresh UBI image of flash_image, the disk of blk_image). They
# live in tmpfs (KNVRAM_BOARD_TMP, default /dev/shm: a RAM file on disk
# makes the guest twice as slow) and DIR gets symlinks to them; board_free
# DIR removes them. KNVRAM_BOARDS lists the DIRs made by this shell.
KNVRAM_BOARDS=()
board_files() {
	local tmp=${KNVRAM_BOARD_TMP:-/dev/shm} img
	mkdir -p "$1"
	board_free "$1"
	[ -d "$tmp" ] && [ -w "$tmp" ] || tmp=$1
	img=$(mktemp -d "$tmp/knvram-board.XXXXXX")
	truncate -s "$KNVRAM_RAM_SIZE" "$img/ram.img"
	cp "$(flash_image)" "$img/flash1.img"
	cp "$(blk_image)" "$img/disk.img"
	ln -s "$img/ram.img" "$1/ram.img"
	ln -s "$img/flash1.img" "$1/flash1.img"
	ln -s "$img/disk.img" "$1/disk.img"
	KNVRAM_BOARDS+=("$1")
}

board_free() {
	if [ -L "$1/ram.img" ]; then
		rm -rf "$(dirname "$(readlink "$1/ram.img")")"
	fi
	rm -f "$1/ram.img" "$1/flash1.img" "$1/disk.img"
}
