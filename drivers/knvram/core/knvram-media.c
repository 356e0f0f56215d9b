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
 * untouched, is the newest valid one. See Documentation/driver-api/knvram.rst.
 *
 * Every function here except knvram_media_load() runs in any context,
 * NMI included, when called with emergency = true: no locks, no sleeping,
 * no allocation.
 */

#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

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
static_assert(sizeof(struct knvram_bank_header) >= KNVRAM_MAX_WRITE_UNIT);

static u32 knvram_crc(const void *buf, size_t len)
{
	return ~crc32_le(~0U, buf, len);
}

static u32 knvram_header_crc(const struct knvram_bank_header *hdr)
{
	return knvram_crc(hdr, offsetof(struct knvram_bank_header, header_crc));
}

/* Over the entries only: the padding up to the block is never written. */
static u32 knvram_table_crc(struct knvram_partition *part, unsigned int bank)
{
	return knvram_crc(part->crc[bank], part->nblocks * sizeof(__le32));
}

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
	int i;

	part->shadow = vzalloc(part->size);
	if (!part->shadow)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		part->need[i] = bitmap_zalloc(part->nblocks, GFP_KERNEL);
		part->crc[i] = kvzalloc(part->table_size, GFP_KERNEL);
		if (!part->need[i] || !part->crc[i])
			return -ENOMEM;
	}
	return 0;
}

void knvram_media_free(struct knvram_partition *part)
{
	int i;

	for (i = 0; i < 2; i++) {
		kvfree(part->crc[i]);
		bitmap_free(part->need[i]);
	}
	vfree(part->shadow);
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

/* Write the table entries of blocks [first, last] of @bank. */
static int knvram_write_table(struct knvram_partition *part, unsigned int bank,
			      unsigned long first, unsigned long last,
			      u64 *written)
{
	u32 wu = part->be->write_unit;
	u64 start = round_down(first * sizeof(__le32), wu);
	u64 end = round_up((last + 1) * sizeof(__le32), wu);

	return knvram_media_write(part, knvram_table_start(part, bank) + start,
				  (u8 *)part->crc[bank] + start, end - start,
				  written);
}

/* Write shadow blocks [first, last) to @bank. */
static int knvram_write_data(struct knvram_partition *part, unsigned int bank,
			     unsigned long first, unsigned long last,
			     u64 *written)
{
	u64 off = (u64)first * part->bs;

	return knvram_media_write(part, knvram_data_start(part, bank) + off,
				  part->shadow + off,
				  (last - first) * part->bs, written);
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
	hdr->table_crc = cpu_to_le32(knvram_table_crc(part, bank));
	hdr->header_crc = cpu_to_le32(knvram_header_crc(hdr));
}

/*
 * Write one block of @bank from @src and record its checksum. The bit in
 * need[bank] is cleared by the caller once the table entry is written too.
 */
static int knvram_write_block(struct knvram_partition *part, unsigned int bank,
			      unsigned long blk, const void *src, u64 *written)
{
	part->crc[bank][blk] = cpu_to_le32(knvram_crc(src, part->bs));
	return knvram_media_write(part, knvram_data_start(part, bank) +
				  (u64)blk * part->bs, src, part->bs, written);
}

/**
 * knvram_media_sync() - write the committed state to the older bank
 * @part:      The partition.
 * @txn:       A transaction that is half published into the shadow, whose
 *             blocks replace the shadow's; NULL normally.
 * @emergency: Called by the emergency sync: any context, no lock held;
 *             statistics go to the emergency counters.
 *
 * Normally called with @part->sync_lock held, which keeps commits out. The
 * emergency sync calls it without any lock; it then only reads state that
 * a concurrent sync or commit either leaves alone or changes to the same
 * values: see the comments inside.
 *
 * Return: 0, or the backend's error. On error the blocks not yet written
 * stay in need[] and the next sync writes them.
 */
int knvram_media_sync(struct knvram_partition *part, struct knvram_txn *txn,
		      bool emergency)
{
	/* A concurrent normal sync may bump it: both then target a valid bank. */
	u64 gen = READ_ONCE(part->gen);
	unsigned int bank = (gen + 1) & 1;
	unsigned long *need = part->need[bank];
	struct knvram_bank_header hdr;
	unsigned long start, end, blk;
	u64 t0 = ktime_get_mono_fast_ns();
	u64 written = 0;
	void *copy;
	int ret;

	if (bitmap_empty(part->need[gen & 1], part->nblocks) &&
	    (!txn || xa_empty(&txn->blocks)))
		return 0;	/* nothing committed since the last sync */

	/*
	 * Blocks the older bank lacks, in runs. Blocks of @txn are written
	 * from the transaction below, not from the half-updated shadow.
	 */
	for_each_set_bitrange(start, end, need, part->nblocks) {
		unsigned long run = start;

		for (blk = start; blk <= end; blk++) {
			const u8 *src = part->shadow + (u64)blk * part->bs;

			if (blk < end && !(txn && xa_load(&txn->blocks, blk))) {
				part->crc[bank][blk] =
					cpu_to_le32(knvram_crc(src, part->bs));
				continue;
			}
			/* Write the run of shadow blocks before @blk. */
			if (blk > run) {
				ret = knvram_write_data(part, bank, run, blk,
							&written);
				if (ret)
					goto out;
			}
			run = blk + 1;
		}
		ret = knvram_write_table(part, bank, start, end - 1, &written);
		if (ret)
			goto out;
		/*
		 * Cleared only once data and table are written, so that a
		 * sync interrupted here (by the emergency sync, or an error)
		 * leaves the rest for the next one. Not atomic: an emergency
		 * sync may race with a commit's set_bit() here, but only for
		 * blocks of the transaction it writes itself; a lost bit is a
		 * block already written, a kept one costs a rewrite.
		 */
		bitmap_clear(need, start, end - start);
	}

	if (txn) {
		xa_for_each(&txn->blocks, blk, copy) {
			ret = knvram_write_block(part, bank, blk, copy, &written);
			if (!ret)
				ret = knvram_write_table(part, bank, blk, blk,
							 &written);
			if (ret)
				goto out;
		}
	}

	ret = knvram_media_flush(part);
	if (ret)
		goto out;
	knvram_fill_header(part, &hdr, gen + 1);
	ret = knvram_media_write(part, knvram_bank_start(part, bank), &hdr,
				 round_up(sizeof(hdr), part->be->write_unit),
				 &written);
	if (!ret)
		ret = knvram_media_flush(part);
	if (ret)
		goto out;
	/*
	 * The new generation is on the media. Pairs with the READ_ONCE()
	 * above in an emergency sync; if it reads the old value it rewrites
	 * this same bank with this same generation, which is harmless.
	 */
	WRITE_ONCE(part->gen, gen + 1);

out:
	t0 = ktime_get_mono_fast_ns() - t0;
	if (emergency) {
		atomic64_inc(&part->stats.emergency_sync_count);
		atomic64_set(&part->stats.emergency_sync_last_ns, t0);
		if (ret)
			atomic64_inc(&part->stats.sync_errors);
	} else if (ret) {
		atomic64_inc(&part->stats.sync_errors);
	} else {
		atomic64_inc(&part->stats.sync_count);
		atomic64_add(written, &part->stats.sync_bytes);
		atomic64_set(&part->stats.sync_last_ns, t0);
		if (t0 > atomic64_read(&part->stats.sync_max_ns))
			atomic64_set(&part->stats.sync_max_ns, t0);
	}
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
 * Read @bank's table and data into crc[bank] and @data, checking every
 * checksum. @data is the shadow, or NULL to compare against the shadow
 * instead and mark the blocks that differ in need[bank].
 */
static int knvram_read_bank(struct knvram_partition *part, unsigned int bank,
			    u32 table_crc, u8 *data, u8 *scratch)
{
	struct knvram_backend *be = part->be;
	unsigned long blk;
	int ret;

	ret = be->ops->read(be->priv, knvram_table_start(part, bank),
			    part->crc[bank], part->table_size);
	if (ret)
		return ret;
	if (knvram_table_crc(part, bank) != table_crc)
		return -EBADMSG;

	for (blk = 0; blk < part->nblocks; blk++) {
		u8 *buf = data ? data + (u64)blk * part->bs : scratch;

		ret = be->ops->read(be->priv, knvram_data_start(part, bank) +
				    (u64)blk * part->bs, buf, part->bs);
		if (ret)
			return ret;
		if (knvram_crc(buf, part->bs) !=
		    le32_to_cpu(part->crc[bank][blk]))
			return -EBADMSG;
		if (!data && memcmp(buf, part->shadow + (u64)blk * part->bs,
				    part->bs))
			__set_bit(blk, part->need[bank]);
	}
	return 0;
}

/* Write @bank whole: zero data, its table, then its header. */
static int knvram_format_bank(struct knvram_partition *part, unsigned int bank)
{
	struct knvram_bank_header hdr;
	u64 written = 0;
	int ret;

	ret = knvram_media_write(part, knvram_data_start(part, bank),
				 part->shadow, part->size, &written);
	if (!ret)
		ret = knvram_media_write(part, knvram_table_start(part, bank),
					 part->crc[bank], part->table_size,
					 &written);
	if (!ret)
		ret = knvram_media_flush(part);
	if (ret)
		return ret;
	knvram_fill_header(part, &hdr, bank);
	ret = knvram_media_write(part, knvram_bank_start(part, bank), &hdr,
				 round_up(sizeof(hdr), part->be->write_unit),
				 &written);
	return ret ?: knvram_media_flush(part);
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
	u32 zcrc;
	unsigned long blk;
	int ret, i;

	memset(part->shadow, 0, part->size);
	zcrc = knvram_crc(part->shadow, part->bs);
	for (i = 0; i < 2; i++) {
		memset(part->crc[i], 0, part->table_size);
		for (blk = 0; blk < part->nblocks; blk++)
			part->crc[i][blk] = cpu_to_le32(zcrc);
	}
	for (i = 0; i < 2; i++) {
		ret = knvram_format_bank(part, i);
		if (ret)
			return ret;
	}
	part->gen = 1;
	bitmap_zero(part->need[0], part->nblocks);
	bitmap_zero(part->need[1], part->nblocks);
	return 0;
}

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

/**
 * knvram_media_load() - bring the newest valid bank into the shadow
 * @part: A partition not yet visible to anyone.
 *
 * Blank media (both headers all 0x00 or all 0xff) is formatted. Media that
 * has a header but no valid bank is left alone.
 *
 * Context: Process context; sleeps.
 * Return: 0; -EUCLEAN if no bank is valid and the media is not blank;
 * -ENOMEM; or the backend's error.
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

		err = knvram_read_bank(part, bank, table_crc[bank],
				       part->shadow, NULL);
		if (err == -EBADMSG) {
			dev_warn(dev, "%s: bank %u (generation %llu) fails its checksums\n",
				 part->name, bank, gen[bank]);
			continue;
		}
		if (err)
			return err;

		part->gen = gen[bank];
		bitmap_zero(part->need[bank], part->nblocks);
		bitmap_zero(part->need[other], part->nblocks);
		/* What does the other bank lack? Compare, if it is valid. */
		err = -ENODATA;
		if (n == 2 && i == 0) {
			u8 *scratch __free(kfree) = kmalloc(part->bs,
							    GFP_KERNEL);

			if (!scratch)
				return -ENOMEM;
			err = knvram_read_bank(part, other, table_crc[other],
					       NULL, scratch);
		}
		if (err)
			bitmap_fill(part->need[other], part->nblocks);
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

	dev_err(dev, "%s: no valid bank on the media (headers: %d, %d); not formatting\n",
		part->name, ret[0], ret[1]);
	return -EUCLEAN;
}
