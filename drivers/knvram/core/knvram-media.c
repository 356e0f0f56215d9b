// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram media format: two banks per partition, checksummed, so that a sync
 * cut off at any byte leaves the last fully synced state readable.
 *
 * A partition of N blocks occupies two banks on the media, one after the
 * other. A bank is: one header block, a table of N little-endian CRC32s
 * (one per data block, rounded up to whole blocks), and the N data blocks.
 * Generation g lives in bank g & 1. A sync writes the bank that holds the
 * older generation: first the data blocks that bank lacks and their table
 * entries, then (after a flush) the header with generation g + 1 and the
 * CRC32 of the whole table, then a flush. Until the header is complete, the
 * bank fails its header, table or block checksums and the other bank,
 * untouched, is the newest valid one. On a backend with an atomic unit,
 * the bytes of the data and table that lie in the header's unit are
 * written after the middle flush, right before the header, and land with
 * it; the middle flush is skipped when nothing lies outside that unit.
 * See Documentation/driver-api/knvram.rst.
 *
 * A normal sync (knvram_media_sync()) writes a snapshot of the committed
 * blocks taken under the partition's map lock; the emergency sync
 * (knvram_media_emergency()) writes the frozen latch copy, in any context,
 * NMI included: no lock, no sleeping, no allocation. Who writes the media
 * is settled in knvram-emergency.c; what a bank holds is tracked per block
 * (@bank_ver, @crc, @tcrc), by whoever writes it.
 */

#include <linux/bitmap.h>
#include <linux/cleanup.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include <kunit/visibility.h>

#include "knvram-internal.h"

#define KNVRAM_MAGIC	0x52564e4b	/* "KNVR" in media byte order */
#define KNVRAM_VERSION	1

/**
 * struct knvram_bank_header - the header block of a bank, little endian
 * @magic:       %KNVRAM_MAGIC.
 * @version:     %KNVRAM_VERSION.
 * @header_size: sizeof(struct knvram_bank_header).
 * @generation:  Sync generation; even in bank 0, odd in bank 1.
 * @size:        Usable bytes of the partition.
 * @block_size:  Block size.
 * @nblocks:     Data blocks, = @size / @block_size.
 * @table_crc:   CRC32 of this bank's checksum table entries (not the
 *               padding after them).
 * @reserved:    Zero.
 * @header_crc:  CRC32 of the bytes before it.
 */
struct knvram_bank_header {
	__le32 magic;
	__le16 version;
	__le16 header_size;
	__le64 generation;
	__le64 size;
	__le32 block_size;
	__le32 nblocks;
	__le32 table_crc;
	__le32 reserved[6];
	__le32 header_crc;
} __packed;

static_assert(sizeof(struct knvram_bank_header) == 64);

/**
 * knvram_crc() - the checksum of the media format
 * @buf: Bytes.
 * @len: How many.
 *
 * Return: CRC32 (IEEE 802.3, as crc32_le() with ~0 in and out).
 */
u32 knvram_crc(const void *buf, size_t len)
{
	return ~crc32_le(~0U, buf, len);
}

static u32 knvram_header_crc(const struct knvram_bank_header *hdr)
{
	return knvram_crc(hdr, offsetof(struct knvram_bank_header, header_crc));
}

/* Over the entries only: the padding up to the block is never written. */
u64 knvram_media_label_size(const struct knvram_backend *be)
{
	return 2 * (u64)max_t(u32, KNVRAM_LABEL_BANK, be->block_size);
}

/* Media offsets of a bank's parts. */
static u64 knvram_bank_start(struct knvram_partition *part, unsigned int bank)
{
	return part->offset + bank * part->bank_size;
}

static u64 knvram_table_start(struct knvram_partition *part, unsigned int bank)
{
	return knvram_bank_start(part, bank) + part->bs;
}

static u64 knvram_data_start(struct knvram_partition *part, unsigned int bank)
{
	return knvram_table_start(part, bank) + part->table_size;
}

/**
 * knvram_media_geometry() - compute bank layout from size and block size
 * @part: Partition with @size and @bs set.
 *
 * Return: 0, or -EINVAL if the size is not a non-zero multiple of the block
 * size or the partition would need more than U32_MAX blocks.
 */
int knvram_media_geometry(struct knvram_partition *part)
{
	int ret = knvram_bank_size(part->size, part->bs, &part->bank_size);

	if (ret)
		return ret;
	part->nblocks = div_u64(part->size, part->bs);
	part->table_size = part->bank_size - part->bs - part->size;
	return 0;
}

/**
 * knvram_bank_size() - media bytes of one bank of a partition
 * @size:      Usable bytes.
 * @bs:        Block size.
 * @bank_size: Result: header block, checksum table and data.
 *
 * Return: 0, or -EINVAL as knvram_media_geometry().
 */
int knvram_bank_size(u64 size, u32 bs, u64 *bank_size)
{
	u64 nblocks;

	if (!size || size % bs)
		return -EINVAL;
	nblocks = div_u64(size, bs);
	if (nblocks > U32_MAX / sizeof(__le32))
		return -EINVAL;
	*bank_size = bs + round_up(nblocks * sizeof(__le32), bs) + size;
	return 0;
}

int knvram_media_alloc(struct knvram_partition *part)
{
	/* The header block's first write unit, the rest of it zero. */
	part->hdr_buf = kzalloc(round_up(sizeof(struct knvram_bank_header),
					 part->be->write_unit),
				GFP_KERNEL_ACCOUNT);
	if (!part->hdr_buf)
		return -ENOMEM;
	part->bad = bitmap_zalloc(part->nblocks, GFP_KERNEL_ACCOUNT);
	if (!part->bad) {
		kfree(part->hdr_buf);
		part->hdr_buf = NULL;
		return -ENOMEM;
	}
	return knvram_io_alloc(part);
}

void knvram_media_free(struct knvram_partition *part)
{
	knvram_io_free(part);
	kfree(part->hdr_buf);
	bitmap_free(part->bad);
}

/* Recompute a bank's table checksum from its entries. */
static void knvram_tcrc_full(struct knvram_partition *part, unsigned int bank)
{
	part->tcrc[bank] = knvram_crc(part->crc[bank],
				      part->nblocks * sizeof(__le32));
	part->tcrc_stale[bank] = false;
}

/*
 * Set entry @b of @bank's table and keep its checksum current in O(log n):
 * the CRC of the table changes by the CRC of the change (CRC32 is linear),
 * shifted over the entries after it.
 */
static void knvram_set_entry(struct knvram_partition *part, unsigned int bank,
			     unsigned long b, u32 crc, bool update_tcrc)
{
	__le32 new = cpu_to_le32(crc);
	__le32 delta = new ^ part->crc[bank][b];

	if (!delta)
		return;
	part->crc[bank][b] = new;
	__set_bit(b, part->tpend[bank]);
	if (!update_tcrc)
		part->tcrc_stale[bank] = true;
	else if (!part->tcrc_stale[bank])
		part->tcrc[bank] ^= crc32_le_shift(crc32_le(0, (u8 *)&delta,
							    sizeof(delta)),
						   (part->nblocks - 1 - b) *
						   sizeof(__le32));
}

/*
 * Many changed entries: one pass over the table is cheaper. The table's
 * checksum is then stale until knvram_write_header() recomputes it.
 */
static bool knvram_tcrc_incremental(struct knvram_partition *part,
				    unsigned long changed)
{
	return changed * 64 < part->nblocks;
}

static int knvram_media_write(struct knvram_partition *part, u64 off,
			      const void *buf, size_t len, u64 *written)
{
	struct knvram_backend *be = part->be;
	int ret;

	ret = be->ops->write(be->priv, off, buf, len);
	if (!ret)
		*written += len;
	return ret;
}

static int knvram_media_flush(struct knvram_partition *part)
{
	struct knvram_backend *be = part->be;

	return be->ops->flush ? be->ops->flush(be->priv) : 0;
}

/*
 * The backend's atomic unit that holds @bank's header, [lo, hi) on the
 * media, or an empty span without one. What a sync writes there after its
 * middle flush lands together with the header (struct
 * knvram_backend_config, @atomic_unit): the header's write is one write
 * unit (at least 64 bytes) at a block boundary, and the unit a multiple
 * of both, so the header lies inside it.
 */
struct knvram_span {
	u64 lo;
	u64 hi;
};

static struct knvram_span knvram_header_unit(struct knvram_partition *part,
					     unsigned int bank)
{
	u64 start = knvram_bank_start(part, bank);
	u32 au = part->be->atomic_unit, rem;

	if (!au)
		return (struct knvram_span){ 0, 0 };
	div_u64_rem(start, au, &rem);
	return (struct knvram_span){ start - rem, start - rem + au };
}

/* Does [@off, @off + @len) share a byte with @unit? */
static bool knvram_span_touches(const struct knvram_span *unit, u64 off,
				u64 len)
{
	return off < unit->hi && off + len > unit->lo;
}

/*
 * Write the bytes of [@off, @off + @len) that lie outside @unit (@late
 * false: before the middle flush of a sync) or inside it (@late true:
 * after it, to land with the header). The pieces stay aligned to the write
 * unit: the atomic unit is a multiple of it.
 */
static int knvram_write_span(struct knvram_partition *part,
			     const struct knvram_span *unit, bool late,
			     u64 off, const void *buf, size_t len,
			     u64 *written)
{
	u64 end = off + len;
	u64 lo = clamp(unit->lo, off, end), hi = clamp(unit->hi, off, end);
	int ret = 0;

	if (late)
		return hi > lo ? knvram_media_write(part, lo, buf + (lo - off),
						    hi - lo, written) : 0;
	if (lo > off)
		ret = knvram_media_write(part, off, buf, lo - off, written);
	if (!ret && end > hi)
		ret = knvram_media_write(part, hi, buf + (hi - off), end - hi,
					 written);
	return ret;
}

/* Write the table entries of blocks [first, last] of @bank, as above. */
static int knvram_write_table(struct knvram_partition *part, unsigned int bank,
			      unsigned long first, unsigned long last,
			      const struct knvram_span *unit, bool late,
			      u64 *written)
{
	u32 wu = part->be->write_unit;
	u64 start = round_down(first * sizeof(__le32), wu);
	u64 end = round_up((last + 1) * sizeof(__le32), wu);

	return knvram_write_span(part, unit, late,
				 knvram_table_start(part, bank) + start,
				 (u8 *)part->crc[bank] + start, end - start,
				 written);
}

/*
 * The next run, from entry @from on, of table entries of @bank that differ
 * from the media (@tpend): write its part outside or inside @unit (@late),
 * and move @from past it. They stay in @tpend until a flush made them
 * durable. Return: 1 if there was none, 0 or the error.
 */
static int knvram_write_table_run(struct knvram_partition *part,
				  unsigned int bank, unsigned long *from,
				  const struct knvram_span *unit, bool late,
				  u64 *written)
{
	unsigned long first, last;
	int ret;

	first = find_next_bit(part->tpend[bank], part->nblocks, *from);
	if (first >= part->nblocks)
		return 1;
	last = find_next_zero_bit(part->tpend[bank], part->nblocks, first) - 1;
	ret = knvram_write_table(part, bank, first, last, unit, late, written);
	*from = last + 1;
	return ret;
}

/*
 * After the middle flush: the table entries of @bank outside @unit are
 * durable. Entries are 4 bytes at 4-byte offsets from a block boundary and
 * the unit's ends are multiples of 64: each entry is wholly in or out.
 */
static void knvram_tpend_outside_durable(struct knvram_partition *part,
					 unsigned int bank,
					 const struct knvram_span *unit)
{
	u64 ts = knvram_table_start(part, bank), lo = 0, hi = 0;

	if (unit->hi > ts)
		hi = min_t(u64, div_u64(unit->hi - ts, sizeof(__le32)),
			   part->nblocks);
	if (unit->lo > ts)
		lo = min_t(u64, div_u64(unit->lo - ts, sizeof(__le32)), hi);
	if (lo >= hi) {
		bitmap_zero(part->tpend[bank], part->nblocks);
		return;
	}
	bitmap_clear(part->tpend[bank], 0, lo);
	bitmap_clear(part->tpend[bank], hi, part->nblocks - hi);
}

static void knvram_fill_header(struct knvram_partition *part,
			       struct knvram_bank_header *hdr, u64 gen)
{
	unsigned int bank = gen & 1;

	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = cpu_to_le32(KNVRAM_MAGIC);
	hdr->version = cpu_to_le16(KNVRAM_VERSION);
	hdr->header_size = cpu_to_le16(sizeof(*hdr));
	hdr->generation = cpu_to_le64(gen);
	hdr->size = cpu_to_le64(part->size);
	hdr->block_size = cpu_to_le32(part->bs);
	hdr->nblocks = cpu_to_le32(part->nblocks);
	hdr->table_crc = cpu_to_le32(part->tcrc[bank]);
	hdr->header_crc = cpu_to_le32(knvram_header_crc(hdr));
}

/*
 * Flush (unless done), write the header of generation @gen's bank, flush.
 * The header is written padded with zeros to a whole write unit, from
 * @part->hdr_buf: the caller writes the media (see its kernel-doc).
 */
static int knvram_write_header(struct knvram_partition *part, u64 gen,
			       bool flush_first, u64 *written)
{
	struct knvram_bank_header *hdr = part->hdr_buf;
	int ret;

	ret = flush_first ? knvram_media_flush(part) : 0;
	if (ret)
		return ret;
	if (part->tcrc_stale[gen & 1])
		knvram_tcrc_full(part, gen & 1);
	knvram_fill_header(part, hdr, gen);
	ret = knvram_media_write(part, knvram_bank_start(part, gen & 1), hdr,
				 round_up(sizeof(*hdr), part->be->write_unit),
				 written);
	return ret ?: knvram_media_flush(part);
}

/* Media bytes of block @b of @bank. */
static u64 knvram_blk_start(struct knvram_partition *part, unsigned int bank,
			    unsigned long b)
{
	return knvram_data_start(part, bank) + (u64)b * part->bs;
}

/*
 * Write block @b of @bank from @blk: its bytes outside @unit and, in
 * memory, its table entry (@late false); or its bytes inside @unit (@late
 * true). Until a flush of this CPU makes all of it durable, @bank holds an
 * unknown version of the block: an emergency sync that takes over the
 * media from another CPU must write it again.
 */
static int knvram_write_blk(struct knvram_partition *part, unsigned int bank,
			    unsigned long b, struct knvram_blk *blk,
			    const struct knvram_span *unit, bool late,
			    bool update_tcrc, u64 *written)
{
	u32 crc;
	int ret;

	if (late)
		return knvram_write_span(part, unit, true,
					 knvram_blk_start(part, bank, b),
					 blk->data, part->bs, written);
	crc = knvram_blk_crc(part, blk);
	WRITE_ONCE(part->bank_ver[bank][b], U64_MAX);
	ret = knvram_write_span(part, unit, false,
				knvram_blk_start(part, bank, b), blk->data,
				part->bs, written);
	if (ret)
		return ret;
	knvram_set_entry(part, bank, b, crc, update_tcrc);
	return 0;
}

/* Has block @b of @bank bytes in @unit: is it finished after the middle flush? */
static bool knvram_blk_late(struct knvram_partition *part, unsigned int bank,
			    unsigned long b, const struct knvram_span *unit)
{
	return knvram_span_touches(unit, knvram_blk_start(part, bank, b),
				   part->bs);
}

/*
 * After the flush that made a normal sync's writes outside @unit durable
 * (@late false), or all of them (@late true, after the header): what @bank
 * holds now, for an emergency sync that may take over from here.
 */
static void knvram_sync_durable(struct knvram_partition *part,
				unsigned int bank, u32 n,
				const struct knvram_span *unit, bool late)
{
	u32 i;

	for (i = 0; i < n; i++) {
		u32 b = part->snap[i].idx;

		if (knvram_blk_late(part, bank, b, unit) == late)
			WRITE_ONCE(part->bank_ver[bank][b],
				   part->snap[i].blk->ver);
	}
	if (late)
		bitmap_zero(part->tpend[bank], part->nblocks);
	else
		knvram_tpend_outside_durable(part, bank, unit);
}

/* Does the newest bank lack a block of the committed copy @map? */
static bool knvram_needs_sync(struct knvram_partition *part,
			      struct knvram_blk **map)
{
	unsigned int bank = part->gen & 1;
	unsigned long b;

	for_each_set_bit(b, part->dirty[bank], part->nblocks)
		if (map[b]->ver != part->bank_ver[bank][b])
			return true;
	return false;
}

/*
 * Snapshot, under @map_lock: the blocks the older bank lacks. A commit
 * that replaces one of them meanwhile hands it to us (@pinned, @handed).
 * Return: entries of @snap (0: the bank has them all, from a sync that
 * failed later), or -1 if nothing committed is unsynced.
 */
static int knvram_take_snapshot(struct knvram_partition *part,
				unsigned int bank, bool *frozen)
{
	struct knvram_blk **map;
	unsigned long b;
	int n = 0;
	long s;

	spin_lock(&part->map_lock);
	/* No commit runs: both copies are equal. */
	s = atomic_long_read(&part->state);
	*frozen = s & KNVRAM_FROZEN;
	map = part->map[knvram_latch_copy(s)];
	if (!knvram_needs_sync(part, map)) {
		spin_unlock(&part->map_lock);
		return -1;
	}
	for_each_set_bit(b, part->dirty[bank], part->nblocks) {
		if (map[b]->ver == part->bank_ver[bank][b]) {
			clear_bit(b, part->dirty[bank]);
			continue;
		}
		part->snap[n].blk = map[b];
		part->snap[n].idx = b;
		__set_bit(b, part->pinned);
		n++;
	}
	spin_unlock(&part->map_lock);
	return n;
}

/* After a sync: unpin its blocks, retire the handed ones, clear hints. */
static void knvram_drop_snapshot(struct knvram_partition *part,
				 unsigned int bank, u32 n)
{
	struct knvram_blk *blk, *tmp;
	LIST_HEAD(handed);
	u32 i;

	scoped_guard(spinlock, &part->map_lock) {
		long s = atomic_long_read(&part->state);
		struct knvram_blk **map = part->map[knvram_latch_copy(s)];

		for (i = 0; i < n; i++) {
			u32 b = part->snap[i].idx;

			__clear_bit(b, part->pinned);
			if (map[b]->ver == READ_ONCE(part->bank_ver[bank][b]))
				clear_bit(b, part->dirty[bank]);
		}
		list_splice_init(&part->handed, &handed);
	}
	list_for_each_entry_safe(blk, tmp, &handed, node) {
		list_del(&blk->node);
		knvram_blk_retire(part, blk);
	}
}

/*
 * Before each backend call of a normal sync: may it go ahead? Not if an
 * emergency sync owns the media or wrote it since the snapshot (@epoch),
 * nor if the partition froze after the snapshot of a deferred backend.
 * knvram_io_end() follows either way.
 */
static int knvram_sync_io_begin(struct knvram_partition *part, bool frozen,
				u32 epoch)
{
	int ret = knvram_io_begin(part, frozen);

	if (!ret && READ_ONCE(part->media_epoch) != epoch)
		ret = -EAGAIN;
	return ret;
}

/*
 * One phase of a normal sync: the snapshot's blocks and the table runs,
 * their parts outside @unit (@late false) or inside it (@late true).
 */
static int knvram_sync_phase(struct knvram_partition *part, unsigned int bank,
			     u32 n, const struct knvram_span *unit, bool late,
			     bool frozen, u32 epoch, u64 *written)
{
	unsigned long from = 0;
	bool incr = knvram_tcrc_incremental(part, n);
	int ret = 0;
	u32 i;

	for (i = 0; i < n && !ret; i++) {
		u32 b = part->snap[i].idx;

		if (late && !knvram_blk_late(part, bank, b, unit))
			continue;
		ret = knvram_sync_io_begin(part, frozen, epoch);
		if (!ret)
			ret = knvram_write_blk(part, bank, b, part->snap[i].blk,
					       unit, late, incr, written);
		knvram_io_end(part);
		cond_resched();
	}
	/*
	 * The table entries that differ from the media, in runs: these
	 * blocks, and those of an earlier sync that failed before its table.
	 */
	while (!ret) {
		ret = knvram_sync_io_begin(part, frozen, epoch);
		if (!ret)
			ret = knvram_write_table_run(part, bank, &from, unit,
						     late, written);
		knvram_io_end(part);
	}
	return ret == 1 ? 0 : ret;
}

/*
 * The header of the bank, the flush after it, what that made durable, and
 * the generation the partition is at.
 */
static int knvram_sync_header(struct knvram_partition *part, u64 gen, u32 n,
			      const struct knvram_span *unit, bool frozen,
			      u32 epoch, u64 *written)
{
	int ret = knvram_sync_io_begin(part, frozen, epoch);

	if (!ret)
		ret = knvram_write_header(part, gen, false, written);
	if (!ret) {
		knvram_sync_durable(part, gen & 1, n, unit, true);
		WRITE_ONCE(part->gen, gen);
	}
	knvram_io_end(part);
	return ret;
}

/**
 * knvram_media_sync() - write the committed state to the older bank
 * @part: The partition; the caller holds its sync mutex.
 *
 * Takes a snapshot of the blocks the older bank lacks under the map lock
 * (at memory speed: pointers only), then writes them, their table
 * entries and the bank's header without holding any lock that reads,
 * writes or commits take. If an emergency sync takes over the media
 * meanwhile, this waits for it and starts again.
 *
 * What lies outside the backend's atomic unit that holds the header is
 * written first and flushed; what lies inside it is written after that
 * flush, then the header, then a flush: so each atomic unit is changed
 * once, and a sync that fits in the header's unit is one atomic change
 * with no middle flush.
 *
 * Context: Process context; sleeps.
 * Return: 0, or the backend's error. On error the blocks not yet written
 * stay dirty and the next sync writes them.
 */
int knvram_media_sync(struct knvram_partition *part)
{
	u64 t0 = ktime_get_mono_fast_ns(), written = 0, early;
	struct knvram_span unit;
	unsigned int bank;
	u32 n, epoch;
	bool frozen;
	u64 gen;
	int ret;

	lockdep_assert_held(&part->sync_mutex);
	/* Never written; nothing is ever committed to it either. */
	if (knvram_part_read_only(part))
		return 0;
restart:
	/* Only a sync, or an emergency sync that we wait for, changes it. */
	gen = READ_ONCE(part->gen);
	bank = (gen + 1) & 1;
	unit = knvram_header_unit(part, bank);
	/* Pairs with the release of @media by the emergency sync. */
	epoch = smp_load_acquire(&part->media_epoch);
	ret = knvram_take_snapshot(part, bank, &frozen);
	if (ret < 0)
		return 0;
	n = ret;

	early = written;
	ret = knvram_sync_phase(part, bank, n, &unit, false, frozen, epoch,
				&written);
	/*
	 * Make what was written outside the header's unit durable, then
	 * record it so. If nothing was, there is nothing to flush: all this
	 * bank still lacks lies in the unit (what an earlier sync left
	 * unflushed is still dirty or pending, and rewritten here).
	 */
	if (!ret && written != early) {
		ret = knvram_sync_io_begin(part, frozen, epoch);
		if (!ret)
			ret = knvram_media_flush(part);
		if (!ret)
			knvram_sync_durable(part, bank, n, &unit, false);
		knvram_io_end(part);
	}
	if (!ret)
		ret = knvram_sync_phase(part, bank, n, &unit, true, frozen,
					epoch, &written);
	if (!ret)
		ret = knvram_sync_header(part, gen + 1, n, &unit, frozen, epoch,
					 &written);
	knvram_drop_snapshot(part, bank, n);

	if (ret == -EAGAIN) {
		/* An emergency sync owns the media, or the state froze. */
		while (atomic_read_acquire(&part->media))
			usleep_range(500, 1000);
		goto restart;
	}
	t0 = ktime_get_mono_fast_ns() - t0;
	if (ret) {
		atomic64_inc(&part->stats.sync_errors);
		return ret;
	}
	atomic64_inc(&part->stats.sync_count);
	atomic64_add(written, &part->stats.sync_bytes);
	atomic64_set(&part->stats.sync_last_ns, t0);
	if (t0 > atomic64_read(&part->stats.sync_max_ns))
		atomic64_set(&part->stats.sync_max_ns, t0);
	return 0;
}

/**
 * knvram_media_emergency() - write the frozen copy to the older bank
 * @part:  The partition; the caller owns its media (knvram-emergency.c).
 * @state: @part->state as the freeze found it: names the latch copy.
 *
 * Context: Any context, NMI included: no lock, no sleep, no allocation.
 * Return: 0, or the backend's error.
 */
int knvram_media_emergency(struct knvram_partition *part, long state)
{
	struct knvram_blk **map = part->map[knvram_latch_copy(state)];
	u64 gen = READ_ONCE(part->gen), written = 0;
	unsigned int bank = (gen + 1) & 1;
	struct knvram_span unit;
	bool incr, late;
	unsigned long b;
	int ret = 0;

	if (knvram_part_read_only(part) || !knvram_needs_sync(part, map))
		return 0;
	unit = knvram_header_unit(part, bank);
	incr = knvram_tcrc_incremental(part, bitmap_weight(part->dirty[bank],
							   part->nblocks));
	/* As knvram_media_sync(): outside the header's unit, flush, inside. */
	for (late = false; ; late = true) {
		for_each_set_bit(b, part->dirty[bank], part->nblocks) {
			if (map[b]->ver == READ_ONCE(part->bank_ver[bank][b]) ||
			    (late && !knvram_blk_late(part, bank, b, &unit)))
				continue;
			ret = knvram_write_blk(part, bank, b, map[b], &unit,
					       late, incr, &written);
			if (ret)
				goto out;
		}
		b = 0;
		do {
			ret = knvram_write_table_run(part, bank, &b, &unit,
						     late, &written);
		} while (!ret);
		if (ret < 0 || late)
			break;
		ret = written ? knvram_media_flush(part) : 0;
		if (ret)
			break;
	}
	if (ret < 0)
		goto out;
	ret = knvram_write_header(part, gen + 1, false, &written);
	if (ret)
		goto out;
	for_each_set_bit(b, part->dirty[bank], part->nblocks)
		if (READ_ONCE(part->bank_ver[bank][b]) == U64_MAX)
			WRITE_ONCE(part->bank_ver[bank][b], map[b]->ver);
	bitmap_zero(part->tpend[bank], part->nblocks);
	WRITE_ONCE(part->gen, gen + 1);
out:
	/* A normal sync that resumes starts again (knvram_sync_io_begin()). */
	WRITE_ONCE(part->media_epoch, part->media_epoch + 1);
	return ret;
}

/* Read and check bank @bank's header; returns its generation or -errno. */
static int knvram_read_header(struct knvram_partition *part, unsigned int bank,
			      u64 *gen, u32 *table_crc, bool *blank)
{
	struct knvram_backend *be = part->be;
	struct knvram_bank_header hdr;
	int ret;

	ret = be->ops->read(be->priv, knvram_bank_start(part, bank), &hdr,
			    sizeof(hdr));
	if (ret)
		return ret;
	*blank = !memchr_inv(&hdr, 0, sizeof(hdr)) ||
		 !memchr_inv(&hdr, 0xff, sizeof(hdr));
	if (*blank)
		return -ENODATA;
	if (le32_to_cpu(hdr.magic) != KNVRAM_MAGIC ||
	    le32_to_cpu(hdr.header_crc) != knvram_header_crc(&hdr))
		return -EBADMSG;
	if (le16_to_cpu(hdr.version) != KNVRAM_VERSION ||
	    le64_to_cpu(hdr.size) != part->size ||
	    le32_to_cpu(hdr.block_size) != part->bs ||
	    le32_to_cpu(hdr.nblocks) != part->nblocks ||
	    (le64_to_cpu(hdr.generation) & 1) != bank)
		return -EMEDIUMTYPE;
	*gen = le64_to_cpu(hdr.generation);
	*table_crc = le32_to_cpu(hdr.table_crc);
	return 0;
}

/*
 * Read @bank's checksum table into @part->crc[bank] and its checksum.
 * Return: 0, -EBADMSG if it is not @table_crc, or the backend's error.
 */
static int knvram_read_table(struct knvram_partition *part,
			     unsigned int bank, u32 table_crc)
{
	struct knvram_backend *be = part->be;
	int ret;

	ret = be->ops->read(be->priv, knvram_table_start(part, bank),
			    part->crc[bank], part->nblocks * sizeof(__le32));
	if (ret)
		return ret;
	knvram_tcrc_full(part, bank);
	return part->tcrc[bank] != table_crc ? -EBADMSG : 0;
}

/*
 * Read @bank's table and data into crc[bank] and the blocks, checking every
 * checksum. With @compare, compare against the blocks instead and record
 * in bank_ver[bank] and dirty[bank] the blocks that differ.
 */
static int knvram_read_bank(struct knvram_partition *part, unsigned int bank,
			    u32 table_crc, bool compare, u8 *scratch)
{
	struct knvram_backend *be = part->be;
	unsigned long b;
	int ret;

	ret = knvram_read_table(part, bank, table_crc);
	if (ret)
		return ret;

	for (b = 0; b < part->nblocks; b++) {
		struct knvram_blk *blk = part->map[0][b];
		u8 *buf = compare ? scratch : blk->data;
		u32 crc;

		ret = be->ops->read(be->priv, knvram_data_start(part, bank) +
				    (u64)b * part->bs, buf, part->bs);
		if (ret)
			return ret;
		crc = knvram_crc(buf, part->bs);
		if (crc != le32_to_cpu(part->crc[bank][b]))
			return -EBADMSG;
		if (!compare) {
			blk->crc = crc;
			blk->crc_ok = true;
		} else if (memcmp(buf, blk->data, part->bs)) {
			part->bank_ver[bank][b] = U64_MAX;
			__set_bit(b, part->dirty[bank]);
		}
	}
	return 0;
}

/* Every block zero, both banks' bookkeeping saying so. */
static void knvram_zero_blocks(struct knvram_partition *part)
{
	u32 zcrc = 0;
	unsigned long b;
	int i;

	for (b = 0; b < part->nblocks; b++) {
		struct knvram_blk *blk = part->map[0][b];

		memset(blk->data, 0, part->bs);
		if (!b)
			zcrc = knvram_crc(blk->data, part->bs);
		blk->crc = zcrc;
		blk->crc_ok = true;
		blk->ver = 0;
		for (i = 0; i < 2; i++) {
			part->crc[i][b] = cpu_to_le32(zcrc);
			part->bank_ver[i][b] = 0;
		}
	}
	for (i = 0; i < 2; i++) {
		bitmap_zero(part->dirty[i], part->nblocks);
		bitmap_zero(part->tpend[i], part->nblocks);
		knvram_tcrc_full(part, i);
	}
}

/* Write @bank whole from the blocks: data, its table, then its header. */
static int knvram_format_bank(struct knvram_partition *part, unsigned int bank)
{
	u64 tbytes = round_up(part->nblocks * sizeof(__le32),
			      part->be->write_unit);
	u64 written = 0;
	unsigned long b;
	int ret;

	for (b = 0; b < part->nblocks; b++) {
		ret = knvram_media_write(part, knvram_data_start(part, bank) +
					 (u64)b * part->bs,
					 part->map[0][b]->data, part->bs,
					 &written);
		if (ret)
			return ret;
	}
	/* The whole table, its padding zeroed: a format leaves no old bytes. */
	ret = knvram_media_write(part, knvram_table_start(part, bank),
				 part->crc[bank], tbytes, &written);
	if (!ret && part->table_size > tbytes) {
		memset(part->bounce, 0, part->bs);
		ret = knvram_media_write(part, knvram_table_start(part, bank) +
					 tbytes, part->bounce,
					 part->table_size - tbytes, &written);
	}
	return ret ?: knvram_write_header(part, bank, true, &written);
}

/**
 * knvram_format() - write an empty partition over whatever the media holds
 * @part: A partition not yet visible to anyone.
 *
 * Both banks get zeroes, as generations 0 and 1. Once a format is complete
 * no header is ever blank again, which is how knvram_media_load() tells an
 * interrupted format from damage.
 *
 * Context: Process context; sleeps.
 * Return: 0 or the backend's error.
 */
int knvram_format(struct knvram_partition *part)
{
	int ret, i;

	knvram_zero_blocks(part);
	for (i = 0; i < 2; i++) {
		ret = knvram_format_bank(part, i);
		if (ret)
			return ret;
	}
	part->gen = 1;
	return 0;
}

/**
 * knvram_partition_format() - format a live partition, at the admin's word
 * @part: Partition, on its backend's list.
 *
 * Writes an empty partition over the media (both banks zeroes, valid) and
 * makes the partition's content zeroes: it is then valid, not damaged, and
 * writable (unless write-protected). Nothing is written while any handle
 * is open or while an emergency sync writes it.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0; -EROFS if the partition is write-protected (damage aside);
 * -EBUSY if it is open; or the backend's error, after which the
 * partition is damaged (half-formatted) and reads as zeroes.
 */
int knvram_partition_format(struct knvram_partition *part)
{
	int ret;

	lockdep_assert_held(&knvram_lock);
	/*
	 * No normal sync (a closed writer's, the deferred emergency sync),
	 * then no open: the sync mutex first, as a sync that closes a handle
	 * would take them.
	 */
	guard(mutex)(&part->sync_mutex);
	guard(mutex)(&part->lock);
	if (part->dead)
		return -ENODEV;
	if (part->read_only)
		return -EROFS;
	if (part->nhandles)
		return -EBUSY;
	/*
	 * Nor an emergency sync: it claims @media, then reads @damaged
	 * (knvram_media_emergency()); we store @damaged, then read @media.
	 * A full barrier on each side: one of us sees the other.
	 */
	WRITE_ONCE(part->damaged, true);
	smp_mb();	/* pairs with the claim's cmpxchg */
	while (atomic_read_acquire(&part->media))
		usleep_range(500, 1000);
	/* The checksum worker of the last commit reads the blocks. */
	flush_work(&part->crc_work);

	ret = knvram_format(part);
	memset(&part->damage, 0, sizeof(part->damage));
	if (ret) {
		part->damage.salvaged = -1;
		part->damage.format_err = ret;
		bitmap_fill(part->bad, part->nblocks);
		dev_err(part->be->dev, "%s: format failed (%pe): damaged\n",
			part->name, ERR_PTR(ret));
		return ret;
	}
	bitmap_zero(part->bad, part->nblocks);
	WRITE_ONCE(part->damaged, false);
	dev_info(part->be->dev, "%s: formatted\n", part->name);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_partition_format);

/* Is @bank blank from its header to its last data byte? */
static int knvram_bank_blank(struct knvram_partition *part, unsigned int bank)
{
	u8 *buf __free(kfree) = kmalloc(part->bs, GFP_KERNEL);
	struct knvram_backend *be = part->be;
	u64 off;
	int ret;

	if (!buf)
		return -ENOMEM;
	for (off = 0; off < part->bank_size; off += part->bs) {
		ret = be->ops->read(be->priv, knvram_bank_start(part, bank) + off,
				    buf, part->bs);
		if (ret)
			return ret;
		if (memchr_inv(buf, 0, part->bs) &&
		    memchr_inv(buf, 0xff, part->bs))
			return 0;
	}
	return 1;
}

/*
 * Salvage from @bank, whose header is accepted: check its table and each
 * block against its table entry. Into the blocks if @scratch is NULL: a
 * block that fails reads as zeroes and is set in @part->bad. Into
 * @scratch otherwise, only to count. Return: 0 or the backend's error.
 */
static int knvram_salvage_bank(struct knvram_partition *part,
			       unsigned int bank, u32 table_crc, u8 *scratch,
			       struct knvram_bank_damage *d)
{
	struct knvram_backend *be = part->be;
	unsigned long b;
	int ret;

	ret = knvram_read_table(part, bank, table_crc);
	if (ret && ret != -EBADMSG)
		return ret;
	d->table_bad = ret == -EBADMSG;

	for (b = 0; b < part->nblocks; b++) {
		struct knvram_blk *blk = part->map[0][b];
		u8 *buf = scratch ?: blk->data;
		u32 crc;

		cond_resched();
		ret = be->ops->read(be->priv, knvram_data_start(part, bank) +
				    (u64)b * part->bs, buf, part->bs);
		if (ret)
			return ret;
		crc = knvram_crc(buf, part->bs);
		if (crc == le32_to_cpu(part->crc[bank][b])) {
			if (!scratch)
				blk->crc = crc;
			continue;
		}
		d->nbad++;
		if (!scratch) {
			memset(blk->data, 0, part->bs);
			blk->crc = knvram_crc(blk->data, part->bs);
			__set_bit(b, part->bad);
		}
	}
	return 0;
}

/*
 * No bank is valid and the media is not blank: keep the partition, damaged
 * (read-only, never written), with the newest content that can be read:
 * the newest bank whose header is accepted, its failing blocks as zeroes.
 * @hret, @blank, @gen, @table_crc as knvram_media_load() found the
 * headers; @order, the @n banks whose header is accepted, newest first.
 */
static int knvram_load_damaged(struct knvram_partition *part,
			       const int *hret, const bool *blank,
			       const u64 *gen, const u32 *table_crc,
			       const unsigned int *order, int n)
{
	u8 *scratch __free(kfree) = NULL;
	struct knvram_damage *d = &part->damage;
	int i, ret;

	memset(d, 0, sizeof(*d));
	d->salvaged = n ? order[0] : -1;
	for (i = 0; i < 2; i++) {
		d->bank[i].header = !hret[i] ? KNVRAM_BANK_ACCEPTED :
				    blank[i] ? KNVRAM_BANK_BLANK :
				    KNVRAM_BANK_INVALID;
		if (!hret[i])
			d->bank[i].gen = gen[i];
	}
	knvram_zero_blocks(part);
	bitmap_zero(part->bad, part->nblocks);
	if (!n)
		bitmap_fill(part->bad, part->nblocks);
	for (i = 0; i < n; i++) {
		if (i) {
			scratch = kmalloc(part->bs, GFP_KERNEL);
			if (!scratch)
				return -ENOMEM;
		}
		ret = knvram_salvage_bank(part, order[i], table_crc[order[i]],
					  scratch, &d->bank[order[i]]);
		if (ret)
			return ret;
	}
	part->gen = n ? gen[order[0]] : 0;
	WRITE_ONCE(part->damaged, true);
	if (n)
		dev_err(part->be->dev, "%s: no valid bank on the media: damaged, read-only; bank %u (generation %llu) salvaged, %u blocks lost\n",
			part->name, order[0], gen[order[0]],
			d->bank[order[0]].nbad);
	else
		dev_err(part->be->dev, "%s: no valid bank on the media (headers: %d, %d): damaged, read-only, reads as zeroes\n",
			part->name, hret[0], hret[1]);
	return 0;
}

/**
 * knvram_media_load() - bring the newest valid bank into the blocks
 * @part: A partition not yet visible to anyone.
 *
 * Blank media (both headers all 0x00 or all 0xff) is formatted. Media that
 * has a header but no valid bank is left alone: the partition is damaged
 * (@part->damaged), read-only, with what could be salvaged.
 *
 * Context: Process context; sleeps.
 * Return: 0, -ENOMEM, or the backend's error.
 */
int knvram_media_load(struct knvram_partition *part)
{
	struct device *dev = part->be->dev;
	bool blank[2] = { false, false };
	u32 table_crc[2] = { 0, 0 };
	u64 gen[2] = { 0, 0 };
	unsigned int order[2];
	int ret[2], i, n;

	for (i = 0; i < 2; i++)
		ret[i] = knvram_read_header(part, i, &gen[i], &table_crc[i],
					    &blank[i]);

	for (i = 0; i < 2; i++) {
		if (!ret[i] || blank[i])
			continue;
		if (ret[i] != -EBADMSG && ret[i] != -EMEDIUMTYPE)
			return ret[i];	/* the backend failed */
		dev_warn(dev, "%s: bank %d header invalid (%pe)\n",
			 part->name, i, ERR_PTR(ret[i]));
	}

	if (blank[0] && blank[1] && part->read_only) {
		/* Read as zeroes; formatted once it is no longer read-only. */
		dev_info(dev, "%s: blank media, read-only: not formatted\n",
			 part->name);
		knvram_zero_blocks(part);
		return 0;
	}
	if (blank[0] && blank[1]) {
		dev_info(dev, "%s: blank media, formatting\n", part->name);
		return knvram_format(part);
	}

	/* Candidate banks, newest first. */
	n = 0;
	if (!ret[0] && !ret[1]) {
		order[0] = gen[1] > gen[0];
		order[1] = !order[0];
		n = 2;
	} else if (!ret[0] || !ret[1]) {
		order[0] = ret[0] ? 1 : 0;
		n = 1;
	}

	for (i = 0; i < n; i++) {
		unsigned int bank = order[i], other = !bank;
		int err;

		knvram_zero_blocks(part);
		err = knvram_read_bank(part, bank, table_crc[bank], false, NULL);
		if (err == -EBADMSG) {
			dev_warn(dev, "%s: bank %u (generation %llu) fails its checksums\n",
				 part->name, bank, gen[bank]);
			continue;
		}
		if (err)
			return err;

		part->gen = gen[bank];
		/* What does the other bank lack? Compare, if it is valid. */
		err = -ENODATA;
		if (n == 2 && i == 0) {
			u8 *scratch __free(kfree) = kmalloc(part->bs,
							    GFP_KERNEL);

			if (!scratch)
				return -ENOMEM;
			err = knvram_read_bank(part, other, table_crc[other],
					       true, scratch);
		}
		if (err) {
			/* Unknown content: the next sync rewrites it all. */
			memset(part->bank_ver[other], 0xff,
			       part->nblocks * sizeof(u64));
			bitmap_fill(part->dirty[other], part->nblocks);
			bitmap_fill(part->tpend[other], part->nblocks);
		}
		if (i)
			dev_warn(dev, "%s: using the older bank %u (generation %llu)\n",
				 part->name, bank, gen[bank]);
		return 0;
	}

	/*
	 * A format cut off in bank 0's header leaves that header invalid and
	 * bank 1 blank to its end; nothing was ever stored there. After a
	 * complete format bank 1 is never blank again.
	 */
	if (ret[0] && blank[1]) {
		int err = knvram_bank_blank(part, 1);

		if (err < 0)
			return err;
		if (err) {
			dev_warn(dev, "%s: interrupted format, formatting again\n",
				 part->name);
			return knvram_format(part);
		}
	}

	return knvram_load_damaged(part, ret, blank, gen, table_crc, order, n);
}
