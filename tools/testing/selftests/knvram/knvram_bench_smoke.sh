#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Smoke test of knvram_bench, the program of `make bench`: a tiny run on the
# test partitions must finish without error and print every figure it was
# asked for, each a positive, finite number. No figure is compared with
# anything: timing belongs to `make bench`, not to the tests. POSIX sh
# (busybox). With the UBI backend's ubicfg (64 KiB) and the raw UBI volume
# "knvram-raw", the UBI rows run too (about a hundred LEB changes); without
# them, their tests are skipped. With blkcfg (the block backend, and the
# disk's spare partition "knvram-raw") and nvmemcfg (the nvmem backend on
# "fram"), row 5b runs on both (the nvmem backend is unbound and bound
# again once). Whether a target is met is not tested, only that each is
# printed with its verdict.

DIR=$(dirname "$0")
BENCH=$DIR/knvram_bench
OUT=/tmp/knvram_bench_smoke.$$
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
notok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "# $2"
	echo "not ok $n $1"
}

# check NAME COUNT REGEX KEY...: COUNT lines of the output match REGEX,
# and each has every KEY=value, a number greater than 0.
check() {
	name=$1 want=$2 re=$3
	shift 3
	if msg=$(awk -v want="$want" -v re="$re" -v keys="$*" '
		$0 ~ re {
			got++
			nk = split(keys, k, " ")
			for (i = 1; i <= nk; i++) {
				v = ""
				for (f = 1; f <= NF; f++)
					if (index($f, k[i] "=") == 1)
						v = substr($f, length(k[i]) + 2)
				if (v !~ /^[0-9]+(\.[0-9]+)?$/ || v + 0 <= 0)
					bad = bad " " k[i] "=" v
			}
		}
		END {
			if (got != want || bad != "") {
				printf "%d lines (want %d); bad values:%s", got, want, bad
				exit 1
			}
		}' "$OUT"); then
		ok "$name"
	else
		notok "$name" "$msg"
	fi
}

echo "TAP version 13"
if [ ! -x "$BENCH" ] || [ ! -e /dev/knvram/knvtest0 ] ||
   [ ! -e /dev/knvram/knvtest1 ]; then
	echo "1..0 # SKIP no knvram_bench or no knvtest0/knvtest1"
	exit 4
fi
echo "1..19"

raw=
for v in /sys/class/ubi/ubi*_*; do
	[ "$(cat "$v/name" 2>/dev/null)" = knvram-raw ] && raw=/dev/${v##*/}
done
ubi=none
[ -e /dev/knvram/ubicfg ] && [ -n "$raw" ] && ubi=ubicfg

dev=
ndev=0
for b in /sys/class/block/*; do
	if grep -qx PARTNAME=knvram-raw "$b/uevent" 2>/dev/null &&
	   [ -e /dev/knvram/blkcfg ]; then
		dev=blkcfg=/dev/${b##*/}
		ndev=1
	fi
done
if [ -e /dev/knvram/nvmemcfg ] && [ -e /sys/bus/nvmem/devices/fram/nvmem ]; then
	dev=${dev:+$dev,}nvmemcfg=/sys/bus/nvmem/devices/fram/nvmem
	ndev=$((ndev + 1))
fi

wsync=knvtest1
[ $ubi = none ] || wsync=knvtest1,$ubi
"$BENCH" -r 3 -n 5 -d 100 -x lat,txn,reader,sync,wsync,ubi,dev,emerg \
	-l knvtest1 -t knvtest0,knvtest1 -k 1,16,256 -c knvtest1 -s knvtest1 \
	-w $wsync -u $ubi ${raw:+-U "$raw" -N 2} ${dev:+-b "$dev"} \
	>$OUT 2>$OUT.err
status=$?
if [ $status = 0 ] && grep -q '^knvram-bench: done figures=[0-9]* errors=0$' $OUT; then
	ok "knvram_bench runs without error"
else
	notok "knvram_bench runs without error" \
		"exit $status; $(grep -E 'error|done' $OUT $OUT.err | head -n 5 | tr '\n' ' ')"
fi

missing=
for row in "1. Latency" "1b. " "2. Transaction" "3. A reader" "3b. A writer" \
	"4. Sync" "4b. Emergency" "5. UBI" "5b. Block and nvmem" "7. Targets"; do
	sed -n '/table begin/,/table end/p' $OUT | grep -q "^$row" ||
		missing="$missing '$row'"
done
if [ -z "$missing" ]; then
	ok "the table has every section"
else
	notok "the table has every section" "missing:$missing"
fi

# 4 calls (pwrite; pwrite in a transaction, into a new block and into a
# held one; pread) x 4 sizes on knvram, 2 x 4 on tmpfs.
check "latency figures" 24 '^knvram-bench: lat .*target=(knvram|tmpfs)' \
	med_ns med_ns_lo med_ns_hi p99_ns max_ns
check "knvram/tmpfs ratios" 8 '^knvram-bench: ratio .*to=tmpfs ' med p99
check "writes in a transaction / tmpfs pwrite" 8 \
	'^knvram-bench: ratio op=pwrite-txn-.*to=tmpfs-pwrite ' med p99
# knvtest0 (16 blocks): k=1, k=16 (packed only: it is the whole partition);
# knvtest1 (256 blocks): k=1, k=16 packed and spread, k=256.
check "transaction figures" 6 '^knvram-bench: txn .*runs=' ns ns_lo ns_hi \
	writes_ns commit_ns
check "reader figures, idle and busy" 2 '^knvram-bench: reader ' med_ns p99_ns
# A writer alone and next to syncs, on knvtest1 (and ubicfg).
nw=2
[ $ubi = none ] || nw=4
check "writer figures, alone and next to syncs" $nw \
	'^knvram-bench: wsync .*syncer=' med_ns p99_ns max_ns calls
check "syncs ran next to the writer" $((nw / 2)) \
	'^knvram-bench: wsync .*syncer=fsync-loop' syncs
# The targets: 4 per write size up to 4 KiB (12), the commit and the
# memory of the 256-block transaction, the reader, 2 per writer partition
# (knvtest1, and ubicfg), the 4 of row 5 (UBI: time and LEB changes of
# 1 block and 1%); the emergency sync's need the floor module, which only
# make bench loads.
nt=$((12 + 2 + 1 + nw + 4))
check "targets, each with its verdict" $nt \
	'^knvram-bench: target id=[a-z0-9KM-]* .* met=(yes|no)$' value limit
check "sync figures: 1 block, 1%, 100%" 3 '^knvram-bench: sync ' \
	ns fsync_ns written_bytes
if grep -q '^knvram-bench: emergency status=not-measured' $OUT; then
	ok "emergency sync figures # SKIP no gpio-sim power-fail line"
else
	check "emergency sync figures" 3 '^knvram-bench: emergency ' ns
fi

# The raw UBI volume: pwrite (an atomic LEB change) and pread x 4 sizes,
# their ratios; the UBI backend's syncs of 1 block, 1% (1 block) and 100%
# of ubicfg, with the LEBs written, next to raw writes of as many bytes.
if [ $ubi = none ]; then
	for t in "raw UBI latency figures" "raw UBI atomic writes change LEBs" \
		"knvram/raw UBI ratios" \
		"UBI backend sync figures" "raw UBI write figures"; do
		ok "$t # SKIP no ubicfg or no UBI volume knvram-raw"
	done
else
	check "raw UBI latency figures" 8 \
		'^knvram-bench: lat .*target=ubi-raw dev=' med_ns p99_ns max_ns
	check "raw UBI atomic writes change LEBs" 4 \
		'^knvram-bench: lat op=pwrite .*target=ubi-raw' lebs_per_call
	check "knvram/raw UBI ratios" 8 \
		'^knvram-bench: ratio op=p.*to=ubi-raw' med p99
	check "UBI backend sync figures" 3 '^knvram-bench: ubisync part=ubicfg ' \
		ns fsync_ns written_bytes lebs flash_bytes leb_bytes
	check "raw UBI write figures" 3 '^knvram-bench: ubiraw ' ns lebs
fi

# Row 5b: knvram's fsync() and emergency sync of 1 block, 1% (1 block)
# and 100% of blkcfg and nvmemcfg, next to raw writes of as many bytes.
if [ $ndev = 0 ]; then
	for t in "block and nvmem sync figures" "raw device write figures"; do
		ok "$t # SKIP no blkcfg or nvmemcfg"
	done
else
	check "block and nvmem sync figures" $((3 * ndev)) \
		'^knvram-bench: devsync part=' fsync_ns emergency_ns
	check "raw device write figures" $((3 * ndev)) '^knvram-bench: devraw ' ns
fi

if [ $fails != 0 ]; then
	echo "# knvram_bench output:"
	sed 's/^/# /' $OUT $OUT.err | head -n 150
fi
rm -f $OUT $OUT.err
[ $fails = 0 ]
