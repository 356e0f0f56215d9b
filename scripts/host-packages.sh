#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# static/host-packages: every file the bench uses outside its cache comes
# from a package that scripts/setup-host.sh names, or from one that such a
# package Depends on (Recommends do not count: setup-host.sh installs with
# --no-install-recommends, so on a fresh machine they are absent).
#
# The files are found by using the tools as the bench does: a static arm64
# program is compiled (every header, library and program the cross
# compiler touched is traced), QEMU starts the board far enough to dump
# its DTB (every file it opens under /usr is traced), and the other tools
# are looked up on PATH. A tool that does not work at all fails the check
# too, with its own message.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=$tmp/files
: >"$files"
status=0

fail() {
	echo "not ok: $*"
	status=1
}

# The cross compiler, its C library headers, start files and static
# libraries, its assembler and linker: what the kselftests' build uses.
cat >"$tmp/t.c" <<'EOF'
#include <stdio.h>
#include <pthread.h>
#include <sys/ioctl.h>
int main(void) { puts("knvram"); return 0; }
EOF
cc=${KNVRAM_CROSS}gcc
if command -v "$cc" >/dev/null; then
	if strace -f -qq -e trace=openat,execve -e status=successful \
		-o "$tmp/cc.trace" "$cc" -static -pthread -O2 "$tmp/t.c" \
		-o "$tmp/t" >"$tmp/cc.log" 2>&1; then
		sed -n 's/.*\(openat\|execve\)([^"]*"\([^"]*\)".*/\2/p' "$tmp/cc.trace" |
			xargs -r -d '\n' realpath -m | grep '^/usr/' >>"$files" || true
	else
		fail "$cc cannot build a static arm64 program:"
		sed 's/^/#   /' "$tmp/cc.log" | head -n 5
	fi
	command -v "$cc" >>"$files"
else
	fail "no $cc"
fi

# QEMU and the firmware and ROM files it loads for the board's devices.
if command -v qemu-system-aarch64 >/dev/null; then
	truncate -s "$KNVRAM_RAM_SIZE" "$tmp/ram.img"
	truncate -s "$KNVRAM_FLASH_SIZE" "$tmp/flash1.img"
	qemu_board "$tmp/ram.img" "$tmp/flash1.img"
	if strace -f -qq -e trace=openat,execve -e status=successful \
		-o "$tmp/qemu.trace" "${QEMU_BOARD[@]}" \
		-machine "dumpdtb=$tmp/board.dtb" -display none \
		>"$tmp/qemu.log" 2>&1; then
		sed -n 's/.*\(openat\|execve\)([^"]*"\([^"]*\)".*/\2/p' "$tmp/qemu.trace" |
			xargs -r -d '\n' realpath -m | grep -E '^/usr/(share|lib)/' >>"$files" || true
	else
		fail "QEMU cannot start the board:"
		sed 's/^/#   /' "$tmp/qemu.log" | head -n 5
	fi
else
	fail "no qemu-system-aarch64"
fi

# The other tools, by the names the scripts call them.
for t in dtc fdtoverlay fdtget fdtput dt-doc-validate dt-mk-schema \
	dt-validate ubinize sparse bc bison flex cpio depmod xz gzip \
	python3 rsync make perl file gcc strace flock; do
	if p=$(command -v "$t"); then
		echo "$p" >>"$files"
	else
		fail "no $t on PATH"
	fi
done
# The kernel source, and the host headers the kernel's host programs need.
for f in /usr/src/linux-source-6.12.tar.xz /usr/include/openssl/ssl.h \
	/usr/include/gelf.h /usr/include/stdio.h; do
	if [ -e "$f" ]; then
		echo "$f" >>"$files"
	else
		fail "no $f"
	fi
done

# What setup-host.sh installs, and everything that pulls in by Depends
# and Pre-Depends: the first alternative of an "a | b" only, as apt
# picks on a fresh machine; a virtual package counts as its providers.
# Debian's Essential packages are on every machine.
dpkg-query -W -f='${Package}\t${Provides}\t${Pre-Depends}, ${Depends}\t${Essential}\n' >"$tmp/db"
# shellcheck disable=SC2046 # one word a package
python3 - "$tmp/db" $("$(dirname "$0")/setup-host.sh" --list) >"$tmp/closure" <<'EOF'
import re, sys
name = lambda s: re.sub(r'[:\s(].*', '', s.strip())
deps, prov, todo = {}, {}, sys.argv[2:]
for line in open(sys.argv[1]):
    pkg, provides, depends, essential = line.rstrip('\n').split('\t')
    if essential == 'yes':
        todo.append(pkg)
    deps[pkg] = [name(d.split('|')[0]) for d in depends.split(',') if d.strip()]
    for p in provides.split(','):
        if p.strip():
            prov.setdefault(name(p), []).append(pkg)
seen = set()
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    todo += deps.get(p, []) + prov.get(p, [])
print('\n'.join(sorted(seen)))
EOF

# owner FILE: the package that holds FILE (or the target of a link to it).
owner() {
	local f g
	for f in "$1" "$(readlink -f "$1")"; do
		# usrmerge: packages may list /bin/x for /usr/bin/x.
		for g in "$f" "${f#/usr}"; do
			dpkg-query -S "$g" 2>/dev/null | sed -n '1s/:.*//p' | cut -d, -f1 |
				grep . && return 0
		done
	done
	return 1
}

# Locale and time zone data are used when present: no input of the bench.
checked=0
: >"$tmp/owners"
while read -r f; do
	[ -e "$f" ] || continue
	if ! pkg=$(owner "$f"); then
		fail "$f belongs to no package"
		continue
	fi
	checked=$((checked + 1))
	printf '%s\t%s\n' "${pkg%:*}" "$(realpath -m "$f")" >>"$tmp/owners"
done < <(sort -u "$files" | grep -Ev '^/usr/(share/zoneinfo|(share|lib)/locale)/')
# One line a package that is missing from the closure, with a file of it.
while IFS=$'\t' read -r pkg f n; do
	fail "$pkg is neither in setup-host.sh's list nor a Depends of it ($n files, e.g. $f)"
done < <(sort -u "$tmp/owners" | awk -F'\t' 'NR == FNR { ok[$0] = 1; next }
	!($1 in ok) { n[$1]++; if (!($1 in f)) f[$1] = $2 }
	END { for (p in n) printf "%s\t%s\t%d\n", p, f[p], n[p] }' "$tmp/closure" - | sort)
echo "# host-packages: $checked files checked, from $(cut -f1 "$tmp/owners" | sort -u | wc -l) packages"
exit $status
