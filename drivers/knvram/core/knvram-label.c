// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram label: the list of runtime partitions of a backend, kept at the
 * start of its media so that they come back after a power cycle.
 *
 * The label area is two banks of max(4096, block size) bytes. A bank holds
 * a 64-byte header and up to KNVRAM_LABEL_ENTRIES records of 64 bytes; one
 * CRC32 in the header covers the header and the records in use. Generation
 * g lives in bank g & 1. An update writes the whole new label into the bank
 * of the older generation and flushes: until that write is complete the
 * bank fails its checksum and the other bank, untouched, is the newest
 * valid one. Fixed partitions (devicetree, a driver's own) are not in the
 * label: the label only records what configfs created.
 */

#include <linux/crc32.h>
#include <linux/device.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include "knvram-internal.h"

#define KNVRAM_LABEL_MAGIC	0x4c564e4b	/* "KNVL" in media byte order */
#define KNVRAM_LABEL_VERSION	1

/**
 * struct knvram_label_header - header of a label bank, little endian
 * @magic:       %KNVRAM_LABEL_MAGIC.
 * @version:     %KNVRAM_LABEL_VERSION.
 * @header_size: sizeof(struct knvram_label_header).
 * @generation:  Update count; even in bank 0, odd in bank 1.
 * @nentries:    Records in use after the header.
 * @entry_size:  sizeof(struct knvram_label_record).
 * @block_size:  Block size of the backend that wrote it.
 * @reserved:    Zero.
 * @crc:         CRC32 of the header up to this field, then of the records.
 */
struct knvram_label_header {
	__le32 magic;
	__le16 version;
	__le16 header_size;
	__le64 generation;
	__le32 nentries;
	__le32 entry_size;
	__le32 block_size;
	__le32 reserved[8];
	__le32 crc;
} __packed;

/**
 * struct knvram_label_record - one runtime partition, little endian
 * @name:     Name, NUL-padded (not terminated when 32 characters long).
 * @offset:   Byte offset in the backend's partition space.
 * @size:     Usable bytes.
 * @uid:      Owner of the device node, in the initial user namespace.
 * @gid:      Group of the device node, in the initial user namespace.
 * @mode:     Permission bits of the device node.
 * @flags:    %KNVRAM_LABEL_AUTOT, %KNVRAM_LABEL_ENABLED,
 *            %KNVRAM_LABEL_KERNEL_ONLY, %KNVRAM_LABEL_READ_ONLY; other
 *            bits zero (an entry with one is not created).
 * @reserved: Zero.
 */
struct knvram_label_record {
	char name[KNVRAM_NAME_MAX];
	__le64 offset;
	__le64 size;
	__le32 uid;
	__le32 gid;
	__le16 mode;
	__le16 flags;
	__le32 reserved;
} __packed;

static_assert(sizeof(struct knvram_label_header) == 64);
static_assert(sizeof(struct knvram_label_record) == 64);
static_assert(sizeof(struct knvram_label_header) +
	      KNVRAM_LABEL_ENTRIES * sizeof(struct knvram_label_record) <=
	      KNVRAM_LABEL_BANK);

/* The bank as it is on the media. */
struct knvram_label_bank {
	struct knvram_label_header hdr;
	struct knvram_label_record rec[KNVRAM_LABEL_ENTRIES];
} __packed;

static u32 knvram_label_crc(const struct knvram_label_bank *b, u32 n)
{
	u32 crc = crc32_le(~0U, (const u8 *)&b->hdr,
			   offsetof(struct knvram_label_header, crc));

	return ~crc32_le(crc, (const u8 *)b->rec, n * sizeof(b->rec[0]));
}

static u64 knvram_label_bank_start(const struct knvram_backend *be,
				   unsigned int bank)
{
	return bank * (knvram_media_label_size(be) / 2);
}

/*
 * Read and check @bank into @b; fill @out from it. Returns 0, -ENODATA if
 * the header is blank, -EBADMSG if it is damaged, or the backend's error.
 */
static int knvram_label_read(struct knvram_backend *be, unsigned int bank,
			     struct knvram_label_bank *b,
			     struct knvram_label *out)
{
	const struct knvram_label_header *h = &b->hdr;
	u32 i, n;
	int ret;

	ret = be->ops->read(be->priv, knvram_label_bank_start(be, bank), b,
			    sizeof(*b));
	if (ret)
		return ret;
	if (!memchr_inv(h, 0, sizeof(*h)) || !memchr_inv(h, 0xff, sizeof(*h)))
		return -ENODATA;
	n = le32_to_cpu(h->nentries);
	if (le32_to_cpu(h->magic) != KNVRAM_LABEL_MAGIC ||
	    le16_to_cpu(h->version) != KNVRAM_LABEL_VERSION ||
	    le16_to_cpu(h->header_size) != sizeof(*h) ||
	    le32_to_cpu(h->entry_size) != sizeof(b->rec[0]) ||
	    n > KNVRAM_LABEL_ENTRIES ||
	    (le64_to_cpu(h->generation) & 1) != bank ||
	    le32_to_cpu(h->crc) != knvram_label_crc(b, n))
		return -EBADMSG;

	memset(out, 0, sizeof(*out));
	out->gen = le64_to_cpu(h->generation);
	out->n = n;
	for (i = 0; i < n; i++) {
		const struct knvram_label_record *r = &b->rec[i];
		struct knvram_label_entry *e = &out->e[i];

		memcpy(e->name, r->name, sizeof(r->name));
		e->offset = le64_to_cpu(r->offset);
		e->size = le64_to_cpu(r->size);
		e->uid = le32_to_cpu(r->uid);
		e->gid = le32_to_cpu(r->gid);
		e->mode = le16_to_cpu(r->mode);
		e->flags = le16_to_cpu(r->flags);
	}
	return 0;
}

/**
 * knvram_label_load() - read the newest valid label of a backend
 * @be: Backend, before any runtime partition exists on it.
 *
 * A blank label area (both headers all 0x00 or all 0xff) is an empty
 * label. A label area with no valid bank is left alone and recorded in
 * @be->label->err: its runtime partitions are not restored and no new ones
 * can be created, so that nothing on the media is overwritten.
 *
 * Context: Process context; sleeps.
 * Return: 0 (with @be->label set), -ENOMEM, or the backend's error.
 */
int knvram_label_load(struct knvram_backend *be)
{
	struct knvram_label_bank *b __free(kfree) = kmalloc(sizeof(*b),
							    GFP_KERNEL);
	struct knvram_label *l[2] = { NULL, NULL };
	int ret[2], i, best = -1;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		l[i] = kzalloc(sizeof(*l[i]), GFP_KERNEL);
		if (!l[i]) {
			kfree(l[0]);
			return -ENOMEM;
		}
	}
	for (i = 0; i < 2; i++) {
		ret[i] = knvram_label_read(be, i, b, l[i]);
		if (ret[i] && ret[i] != -ENODATA && ret[i] != -EBADMSG) {
			kfree(l[0]);
			kfree(l[1]);
			return ret[i];
		}
		if (!ret[i] && (best < 0 || l[i]->gen > l[best]->gen))
			best = i;
	}

	if (best < 0) {
		best = 0;
		memset(l[0], 0, sizeof(*l[0]));
		if (ret[0] != -ENODATA || ret[1] != -ENODATA) {
			dev_err(be->dev, "%s: no valid label (banks: %d, %d); runtime partitions disabled\n",
				be->name, ret[0], ret[1]);
			l[0]->err = -EUCLEAN;
		}
	} else if (ret[!best] == -EBADMSG) {
		dev_warn(be->dev, "%s: label bank %d damaged, using generation %llu\n",
			 be->name, !best, l[best]->gen);
	}
	be->label = l[best];
	kfree(l[!best]);
	return 0;
}

/* Write @new as generation @gen, into bank @gen & 1, and flush. */
static int knvram_label_write(struct knvram_backend *be,
			      const struct knvram_label *new, u64 gen)
{
	/* Room to pad the label to a write unit (at most the label bank). */
	struct knvram_label_bank *b __free(kfree) =
		kzalloc(max_t(size_t, sizeof(*b), be->write_unit), GFP_KERNEL);
	size_t len;
	u32 i;
	int ret;

	if (!b)
		return -ENOMEM;

	for (i = 0; i < new->n; i++) {
		const struct knvram_label_entry *e = &new->e[i];
		struct knvram_label_record *r = &b->rec[i];

		memcpy(r->name, e->name, strnlen(e->name, sizeof(r->name)));
		r->offset = cpu_to_le64(e->offset);
		r->size = cpu_to_le64(e->size);
		r->uid = cpu_to_le32(e->uid);
		r->gid = cpu_to_le32(e->gid);
		r->mode = cpu_to_le16(e->mode);
		r->flags = cpu_to_le16(e->flags);
	}
	b->hdr.magic = cpu_to_le32(KNVRAM_LABEL_MAGIC);
	b->hdr.version = cpu_to_le16(KNVRAM_LABEL_VERSION);
	b->hdr.header_size = cpu_to_le16(sizeof(b->hdr));
	b->hdr.generation = cpu_to_le64(gen);
	b->hdr.nentries = cpu_to_le32(new->n);
	b->hdr.entry_size = cpu_to_le32(sizeof(b->rec[0]));
	b->hdr.block_size = cpu_to_le32(be->block_size);
	b->hdr.crc = cpu_to_le32(knvram_label_crc(b, new->n));

	/* In whole write units: the zeros after the records pad it. */
	len = round_up(sizeof(b->hdr) + new->n * sizeof(b->rec[0]),
		       be->write_unit);
	ret = be->ops->write(be->priv, knvram_label_bank_start(be, gen & 1),
			     b, len);
	if (!ret && be->ops->flush)
		ret = be->ops->flush(be->priv);
	if (ret)
		dev_err_ratelimited(be->dev, "%s: label update failed: %d\n",
				    be->name, ret);
	return ret;
}

/**
 * knvram_label_store() - write a new label
 * @be:  Backend.
 * @new: The new label; its @gen is set on success.
 *
 * Writes @new as the generation after @be->label's into the older bank.
 * The caller then replaces @be->label with @new. On failure the media
 * still holds the old label as its newest valid one.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0, -EUCLEAN if the label could not be read at load time,
 * -ENOMEM, or the backend's error.
 */
int knvram_label_store(struct knvram_backend *be, struct knvram_label *new)
{
	u64 gen = be->label->gen + 1;
	int ret;

	lockdep_assert_held(&knvram_lock);
	if (be->label->err)
		return be->label->err;
	ret = knvram_label_write(be, new, gen);
	if (ret)
		return ret;
	new->gen = gen;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_label_store);

/*
 * Write @new as knvram_label_store() does and, if that worked, make it
 * @be's label, freeing the old one. On failure @new is still the caller's.
 */
int knvram_label_replace(struct knvram_backend *be, struct knvram_label *new)
{
	struct knvram_label *old = be->label;
	int ret;

	ret = knvram_label_store(be, new);
	if (ret)
		return ret;
	be->label = new;
	kfree(old);
	return 0;
}

/* Remove entry @e from @label. */
void knvram_label_erase(struct knvram_label *label,
			struct knvram_label_entry *e)
{
	memmove(e, e + 1, (u8 *)&label->e[label->n] - (u8 *)(e + 1));
	label->n--;
}

/**
 * knvram_label_format() - write an empty label over the label area
 * @be: Backend.
 *
 * For a label damaged in both banks (@be->label->err): both banks get an
 * empty label, and runtime partitions can be made again. A valid label is
 * formatted only if it records no runtime partition: this never erases one.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0; -EBUSY if the label is valid and records a runtime
 * partition; -ENOMEM, or the backend's error (the label is then damaged
 * or empty, as before or half-written; @be->label is unchanged).
 */
int knvram_label_format(struct knvram_backend *be)
{
	struct knvram_label *l __free(kfree) = kzalloc(sizeof(*l), GFP_KERNEL);
	u64 gen;
	int ret;

	lockdep_assert_held(&knvram_lock);
	if (!be->label->err && be->label->n)
		return -EBUSY;
	if (!l)
		return -ENOMEM;
	/* Bank 0 first: once it is written the label is valid, and empty. */
	for (gen = 0; gen < 2; gen++) {
		ret = knvram_label_write(be, l, gen);
		if (ret)
			return ret;
	}
	l->gen = 1;
	kfree(be->label);
	be->label = no_free_ptr(l);
	dev_info(be->dev, "%s: label formatted\n", be->name);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_label_format);

/**
 * knvram_label_find() - the entry of a runtime partition, by name
 * @l:    Label.
 * @name: Partition name.
 *
 * Return: The entry, or NULL.
 */
struct knvram_label_entry *knvram_label_find(struct knvram_label *l,
					     const char *name)
{
	u32 i;

	for (i = 0; i < l->n; i++)
		if (!strncmp(l->e[i].name, name, KNVRAM_NAME_MAX + 1))
			return &l->e[i];
	return NULL;
}
