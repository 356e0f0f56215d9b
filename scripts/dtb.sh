#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The board's devicetree: QEMU's own virt DTB, dumped with the options the
# board boots with, plus the overlay board/qemu-virt/knvram-board.dtso when
# it exists.
#
#   dtb.sh OUT.dtb
#
# QEMU's DTB has no labels; so that the overlay can say &pl061, every node
# under / gets a symbol in /__symbols__: its name without the unit address
# ("-" and "," turned into "_"), or with "_<unit address>" appended when
# several nodes share the name (virtio_mmio_a000000). fdtoverlay resolves
# a symbol to its node's phandle: nodes that have none get a new one.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT.dtb}
overlay=$KNVRAM_TOP/board/qemu-virt/knvram-board.dtso
w=$(knvram_work)/dtb
mkdir -p "$w"
exec 7>"$w/.lock"
flock 7

board_files "$w/dump"
qemu_board "$w/dump/ram.img" "$w/dump/flash1.img"
"${QEMU_BOARD[@]}" -machine "dumpdtb=$w/qemu-virt.dtb" -display none \
	>"$w/dump.log" 2>&1 || { cat "$w/dump.log"; die "QEMU could not dump its DTB"; }
board_free "$w/dump"

base=$w/qemu-virt.dtb
nodes=$(fdtget -l "$base" /)
# The highest phandle in use.
phandle=$(dtc -q -I dtb -O dts "$base" |
	sed -n 's/^[[:space:]]*phandle = <\(0x[0-9a-f]*\)>;/\1/p' |
	while read -r p; do echo $((p)); done | sort -n | tail -n 1)
phandle=${phandle:-0}
fdtput -c "$base" /__symbols__
for node in $nodes; do
	name=${node%%@*}
	label=$(echo "$name" | tr -- '-,' '__')
	if [ "$node" != "$name" ] && [ "$(echo "$nodes" | grep -c "^$name@")" -gt 1 ]; then
		label=${label}_${node#*@}
	fi
	fdtput -t s "$base" /__symbols__ "$label" "/$node"
	if ! fdtget "$base" "/$node" phandle >/dev/null 2>&1; then
		phandle=$((phandle + 1))
		fdtput -t u "$base" "/$node" phandle "$phandle"
	fi
done

if [ ! -f "$overlay" ]; then
	cp "$base" "$out"
	echo "# dtb: no $overlay yet: QEMU's DTB as is"
	exit 0
fi

src=$(kernel_src_dir)
cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp -P \
	-I "$src/scripts/dtc/include-prefixes" -I "$src/include" \
	-o "$w/knvram-board.pp.dtso" "$overlay"
dtc -q -@ -I dts -O dtb -o "$w/knvram-board.dtbo" "$w/knvram-board.pp.dtso"
fdtoverlay -i "$base" -o "$out" "$w/knvram-board.dtbo"
echo "# dtb: QEMU's DTB + $(basename "$overlay")"
