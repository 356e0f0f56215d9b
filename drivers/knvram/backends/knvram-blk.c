// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram backend on a block device partition, for boards whose
 * non-volatile storage is eMMC, SD or another disk.
 *
 * The media is the partition, found by its GPT name (partition-label) or
 * by its unique ID (partition-uuid, the PARTUUID of root=). Reads and
 * writes are bios on the partition. A write is copied into pages of its
 * own and submitted without waiting, in one bio with the writes it
 * follows on the disk (at most KNVRAM_BLK_INFLIGHT bytes in flight): a
 * sync's blocks go to the disk in a few large requests, not one round trip
 * each. flush() waits for every write in flight, then flushes the cache
 * (REQ_PREFLUSH) of the device; it returns the error of a write that
 * failed, as does the next write or read. The knvram core writes a sync's
 * data and checksum table, flushes, writes the bank header and flushes
 * again: the header is submitted only once the data it commits is on
 * stable media, so a sync cut off anywhere leaves each partition its old
 * or its new state.
 *
 * The device's logical block is its atomic write unit, and the backend's
 * write unit: every write of the core is whole logical blocks, so none
 * needs a read first. The core's blocks (4096 bytes, or the logical block
 * if larger) start every bank, so a logical block never holds bytes of two
 * banks.
 *
 * Disk writes sleep: the backend is not NMI-safe, and the knvram core runs
 * its part of an emergency sync in a high-priority worker.
 *
 * The partition may appear after the backend probes (a disk driver that
 * loads later, a card inserted): like root=PARTLABEL=, the backend looks
 * for it again until it is there. It lets the partition go when the block
 * layer marks it dead, and looks for it again. See
 * Documentation/driver-api/knvram.rst; devicetree binding:
 * Documentation/devicetree/bindings/knvram.yaml.
 */

#include <linux/align.h>
#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/knvram-provider.h>
#include <linux/ktime.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

/* The core's block, at least; see knvram_blk_needed(). */
#define KNVRAM_BLK_BLOCK	4096
/* Bytes a bio moves at most: the bounce buffer. */
#define KNVRAM_BLK_BOUNCE	SZ_64K
/* Bytes of writes in flight at most; a write beyond waits for some. */
#define KNVRAM_BLK_INFLIGHT	SZ_1M
/* Bytes of one bio of adjacent writes at most. */
#define KNVRAM_BLK_BIO_MAX	SZ_256K
/* How often to look for the partition while it is not there. */
#define KNVRAM_BLK_POLL_MS	100

/**
 * struct knvram_blk - a knvram backend on a block device partition
 * @dev:          The platform device of the devicetree node.
 * @label:        partition-label, or NULL.
 * @uuid:         partition-uuid, or NULL.
 * @hold_up_us:   hold-up-time-us, or 0.
 * @work:         Looks for the partition and attaches it, or detaches it
 *                once dead.
 * @state_lock:   Protects the fields up to @io_lock.
 * @stopping:     Remove has begun: @work must not attach again.
 * @dead:         The block layer marked the open partition dead.
 * @waiting_said: "waiting for" was logged for this absence.
 * @probed:       Probe's own attempt to attach is over.
 * @attach_err:   Error of the last attach.
 * @bdev_file:    The open partition, or NULL.
 * @be:           The registered backend, or NULL.
 * @attaching:    The backend is being registered: partitions are loaded
 *                or formatted, not synced.
 * @io_lock:      Serialises media I/O; protects the fields below.
 * @bdev:         The block device of @bdev_file.
 * @lbs:          Its logical block size.
 * @size:         Its size in bytes, a multiple of @lbs.
 * @bounce:       Bounce buffer, %KNVRAM_BLK_BOUNCE bytes.
 * @bytes_written: Bytes written to the device, in total.
 * @flushes:      Cache flushes issued.
 * @errors:       Failed reads, writes and flushes.
 * @inflight:     Bytes of writes submitted and not completed.
 * @write_err:    The first error of a completed write, until reported.
 * @io_wait:      Woken as writes complete.
 * @win_lo:       With @win_hi, bytes that hold every write in flight (if
 *                any): a write into them waits for those first, as the
 *                block layer does not order writes in flight.
 * @win_hi:       One past the last.
 * @pend:         Writes not submitted yet, adjacent on the media: the
 *                next adjacent one joins them; anything else submits
 *                them first.
 */
struct knvram_blk {
	struct device *dev;
	const char *label;
	const char *uuid;
	u32 hold_up_us;
	struct delayed_work work;

	/* protects the open partition and the backend on it */
	struct mutex state_lock;
	bool stopping;
	bool dead;
	bool waiting_said;
	bool probed;
	int attach_err;
	struct file *bdev_file;
	struct knvram_backend *be;
	bool attaching;

	/* serialises media I/O; protects the bounce buffer and statistics */
	struct mutex io_lock;
	struct block_device *bdev;
	unsigned int lbs;
	u64 size;
	void *bounce;
	u64 bytes_written;
	u64 flushes;
	u64 errors;
	atomic_t inflight;
	int write_err;
	wait_queue_head_t io_wait;
	u64 win_lo;
	u64 win_hi;
	struct bio *pend;
};

/* One bio of @len bytes at byte @pos of the device, to or from the bounce. */
static int knvram_blk_bio(struct knvram_blk *nv, blk_opf_t opf, u64 pos,
			  size_t len)
{
	void *p = nv->bounce;
	struct bio *bio;
	int ret;

	lockdep_assert_held(&nv->io_lock);
	bio = bio_alloc(nv->bdev, 1, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
	/* One physically contiguous segment: the block layer splits it. */
	__bio_add_page(bio, virt_to_page(p), len, offset_in_page(p));
	ret = submit_bio_wait(bio);
	bio_put(bio);
	if (ret)
		nv->errors++;
	return ret;
}

static void knvram_blk_write_done(struct bio *bio)
{
	struct knvram_blk *nv = bio->bi_private;
	unsigned int len = 0, i;
	struct bio_vec *bv;

	if (bio->bi_status)
		cmpxchg(&nv->write_err, 0, blk_status_to_errno(bio->bi_status));
	/* Each segment is one allocation (__bio_add_page() merges none). */
	bio_for_each_bvec_all(bv, bio, i) {
		len += bv->bv_len;
		__free_pages(bv->bv_page, get_order(bv->bv_len));
	}
	bio_put(bio);
	/* The waiter rechecks @inflight after its wakeup. */
	atomic_sub(len, &nv->inflight);
	wake_up(&nv->io_wait);
}

/* Submit the pending writes, if any. */
static void knvram_blk_kick(struct knvram_blk *nv)
{
	lockdep_assert_held(&nv->io_lock);
	if (nv->pend)
		submit_bio(nv->pend);
	nv->pend = NULL;
}

/* Wait for every write in flight. Return: the first one's error, or 0. */
static int knvram_blk_drain(struct knvram_blk *nv)
{
	int ret;

	lockdep_assert_held(&nv->io_lock);
	knvram_blk_kick(nv);
	wait_event(nv->io_wait, !atomic_read(&nv->inflight));
	ret = xchg(&nv->write_err, 0);
	if (ret)
		nv->errors++;
	return ret;
}

/*
 * Queue a write of @len bytes of @buf at byte @pos, from a copy, without
 * waiting for it: with the pending writes if it follows them. Return: 0,
 * or -ENOMEM (nothing queued).
 */
static int knvram_blk_submit(struct knvram_blk *nv, u64 pos, const void *buf,
			     size_t len)
{
	struct bio *bio = nv->pend;
	struct page *page;

	lockdep_assert_held(&nv->io_lock);
	page = alloc_pages(GFP_NOIO | __GFP_NOWARN, get_order(len));
	if (!page)
		return -ENOMEM;
	memcpy(page_address(page), buf, len);
	if (bio && (bio_end_sector(bio) != pos >> SECTOR_SHIFT ||
		    bio->bi_vcnt == bio->bi_max_vecs ||
		    bio->bi_iter.bi_size + len > KNVRAM_BLK_BIO_MAX)) {
		knvram_blk_kick(nv);
		bio = NULL;
	}
	if (atomic_read(&nv->inflight) > KNVRAM_BLK_INFLIGHT - (int)len) {
		knvram_blk_kick(nv);
		bio = NULL;
		wait_event(nv->io_wait, atomic_read(&nv->inflight) <=
			   KNVRAM_BLK_INFLIGHT - (int)len);
	}
	/* Only this function adds to @inflight: at 0 nothing is in flight. */
	if (!atomic_read(&nv->inflight)) {
		nv->win_lo = pos;
		nv->win_hi = pos + len;
	} else {
		nv->win_lo = min(nv->win_lo, pos);
		nv->win_hi = max(nv->win_hi, pos + len);
	}
	if (!bio) {
		bio = bio_alloc(nv->bdev, BIO_MAX_VECS, REQ_OP_WRITE | REQ_SYNC,
				GFP_NOIO);
		bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
		bio->bi_end_io = knvram_blk_write_done;
		bio->bi_private = nv;
		nv->pend = bio;
	}
	__bio_add_page(bio, page, len, 0);
	atomic_add(len, &nv->inflight);
	return 0;
}

static bool knvram_blk_in_range(struct knvram_blk *nv, u64 offset,
				size_t len)
{
	return offset <= nv->size && len <= nv->size - offset;
}

static int knvram_blk_read(void *priv, u64 offset, void *buf, size_t len)
{
	struct knvram_blk *nv = priv;
	int ret;

	guard(mutex)(&nv->io_lock);
	if (!knvram_blk_in_range(nv, offset, len))
		return -EINVAL;
	/* After the writes before it, which may be to the same bytes. */
	ret = knvram_blk_drain(nv);
	if (ret)
		return ret;

	while (len) {
		u64 start = round_down(offset, nv->lbs);
		u64 end = min(round_up(offset + len, nv->lbs),
			      start + KNVRAM_BLK_BOUNCE);
		size_t n = min_t(u64, len, end - offset);

		ret = knvram_blk_bio(nv, REQ_OP_READ, start, end - start);
		if (ret)
			return ret;
		memcpy(buf, nv->bounce + (offset - start), n);
		buf += n;
		len -= n;
		offset += n;
	}
	return 0;
}

/*
 * The core writes whole write units, logical blocks. Each bio is a plain
 * write, not waited for: durability and order come from flush(), which
 * the core calls before the header that commits the data, and after it.
 * Without memory for a copy, the write goes through the bounce buffer and
 * is waited for.
 */
static int knvram_blk_write(void *priv, u64 offset, const void *buf,
			    size_t len)
{
	struct knvram_blk *nv = priv;
	int ret;

	guard(mutex)(&nv->io_lock);
	if (!knvram_blk_in_range(nv, offset, len) ||
	    !IS_ALIGNED(offset | len, nv->lbs))
		return -EINVAL;
	/* A write that failed since the last flush fails this one. */
	if (READ_ONCE(nv->write_err))
		return knvram_blk_drain(nv);

	while (len) {
		size_t n = min_t(size_t, len, KNVRAM_BLK_BOUNCE);

		if (atomic_read(&nv->inflight) && offset < nv->win_hi &&
		    offset + n > nv->win_lo) {
			ret = knvram_blk_drain(nv);
			if (ret)
				return ret;
		}
		ret = knvram_blk_submit(nv, offset, buf, n);
		if (ret) {
			ret = knvram_blk_drain(nv);
			if (ret)
				return ret;
			memcpy(nv->bounce, buf, n);
			ret = knvram_blk_bio(nv, REQ_OP_WRITE | REQ_SYNC,
					     offset, n);
		}
		if (ret)
			return ret;
		nv->bytes_written += n;
		buf += n;
		len -= n;
		offset += n;
	}
	return 0;
}

/*
 * Make every write durable: wait for those in flight, then an empty
 * REQ_PREFLUSH bio.
 */
static int knvram_blk_flush(void *priv)
{
	struct knvram_blk *nv = priv;
	u64 t0;
	int ret;

	guard(mutex)(&nv->io_lock);
	ret = knvram_blk_drain(nv);
	if (ret)
		return ret;
	t0 = ktime_get_ns();
	ret = blkdev_issue_flush(nv->bdev);
	if (ret) {
		nv->errors++;
		return ret;
	}
	nv->flushes++;

	t0 = div_u64(ktime_get_ns() - t0, NSEC_PER_USEC);
	if (nv->hold_up_us && t0 > nv->hold_up_us && !READ_ONCE(nv->attaching))
		dev_warn_once(nv->dev,
			      "a cache flush took %llu us, more than hold-up-time-us (%u): an emergency sync may not finish\n",
			      t0, nv->hold_up_us);
	return 0;
}

static const struct knvram_backend_ops knvram_blk_ops = {
	.read = knvram_blk_read,
	.write = knvram_blk_write,
	.flush = knvram_blk_flush,
};

/*
 * Called by the block layer with bdev->bd_holder_lock held, which it is
 * ours to release: the partition is going away. Detach from the worker:
 * unregistering syncs, which must not happen under the block layer's
 * locks.
 */
static void knvram_blk_mark_dead(struct block_device *bdev, bool surprise)
{
	struct knvram_blk *nv = bdev->bd_holder;

	mutex_unlock(&bdev->bd_holder_lock);
	WRITE_ONCE(nv->dead, true);
	mod_delayed_work(system_long_wq, &nv->work, 0);
}

static const struct blk_holder_ops knvram_blk_holder_ops = {
	.mark_dead = knvram_blk_mark_dead,
};

/* Does @bdev carry the partition label or UUID of @nv? */
static bool knvram_blk_match(struct knvram_blk *nv, struct block_device *bdev)
{
	const struct partition_meta_info *info = READ_ONCE(bdev->bd_meta_info);

	if (!info)
		return false;
	if (nv->label &&
	    strncmp(info->volname, nv->label, sizeof(info->volname)))
		return false;
	if (nv->uuid && strncasecmp(info->uuid, nv->uuid, sizeof(info->uuid)))
		return false;
	return true;
}

/*
 * The device number of the partition, or 0 if it is not there. A module
 * cannot reach the block device class, nor early_lookup_bdev() (init
 * code): walk the block devices' inodes as the block layer's own
 * iterate_bdevs() does. A device found here may not be openable yet:
 * its open fails and the caller tries again later.
 */
static dev_t knvram_blk_find(struct knvram_blk *nv)
{
	struct super_block *sb = blockdev_superblock;
	struct inode *inode;
	dev_t devt = 0;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if (S_ISBLK(inode->i_mode) &&
		    !(inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) &&
		    knvram_blk_match(nv, I_BDEV(inode)))
			devt = I_BDEV(inode)->bd_dev;
		spin_unlock(&inode->i_lock);
		if (devt)
			break;
	}
	spin_unlock(&sb->s_inode_list_lock);
	return devt;
}

/* Unregister the backend (which syncs its partitions), close the device. */
static void knvram_blk_detach(struct knvram_blk *nv)
{
	lockdep_assert_held(&nv->state_lock);

	if (nv->be) {
		knvram_backend_unregister(nv->be);
		nv->be = NULL;
		dev_info(nv->dev, "%pg detached\n", nv->bdev);
	}
	if (nv->bdev_file) {
		/* Unregistering flushed; nothing is in flight. */
		scoped_guard(mutex, &nv->io_lock)
			knvram_blk_drain(nv);
		bdev_fput(nv->bdev_file);
		nv->bdev_file = NULL;
		scoped_guard(mutex, &nv->io_lock) {
			free_pages((unsigned long)nv->bounce,
				   get_order(KNVRAM_BLK_BOUNCE));
			nv->bounce = NULL;
			nv->bdev = NULL;
		}
	}
}

static int knvram_blk_attach(struct knvram_blk *nv, dev_t devt)
{
	struct knvram_backend_config config = {};
	struct block_device *bdev;
	struct knvram_backend *be;
	struct file *file;
	unsigned int lbs;
	void *bounce;

	lockdep_assert_held(&nv->state_lock);

	file = bdev_file_open_by_dev(devt, BLK_OPEN_READ | BLK_OPEN_WRITE, nv,
				     &knvram_blk_holder_ops);
	/* Not openable yet (its disk is still being added): -EAGAIN. */
	if (IS_ERR(file))
		return PTR_ERR(file) == -ENXIO || PTR_ERR(file) == -ENODEV ?
		       -EAGAIN : PTR_ERR(file);
	bdev = file_bdev(file);
	lbs = bdev_logical_block_size(bdev);
	nv->bdev_file = file;
	if (lbs > KNVRAM_BLK_BOUNCE || bdev_read_only(bdev)) {
		if (lbs > KNVRAM_BLK_BOUNCE)
			dev_err(nv->dev, "%pg: logical block of %u bytes, more than %u\n",
				bdev, lbs, KNVRAM_BLK_BOUNCE);
		else
			dev_err(nv->dev, "%pg is read-only\n", bdev);
		knvram_blk_detach(nv);
		return lbs > KNVRAM_BLK_BOUNCE ? -EMEDIUMTYPE : -EROFS;
	}
	bounce = (void *)__get_free_pages(GFP_KERNEL,
					  get_order(KNVRAM_BLK_BOUNCE));
	if (!bounce) {
		knvram_blk_detach(nv);
		return -ENOMEM;
	}
	scoped_guard(mutex, &nv->io_lock) {
		nv->bounce = bounce;
		nv->bdev = bdev;
		nv->lbs = lbs;
		nv->size = round_down(bdev_nr_bytes(bdev), lbs);
	}

	config.dev = nv->dev;
	config.name = dev_name(nv->dev);
	config.ops = &knvram_blk_ops;
	config.priv = nv;
	config.size = nv->size;
	config.block_size = max(KNVRAM_BLK_BLOCK, lbs);
	/* Not above the block size, nor above the bounce buffer (checked). */
	config.write_unit = lbs;
	WRITE_ONCE(nv->attaching, true);
	be = knvram_backend_register(&config);
	WRITE_ONCE(nv->attaching, false);
	if (IS_ERR(be)) {
		dev_err(nv->dev, "cannot register backend on %pg: %pe\n",
			bdev, be);
		knvram_blk_detach(nv);
		return PTR_ERR(be);
	}
	nv->be = be;
	dev_info(nv->dev, "%pg: %llu bytes, logical block %u bytes\n", bdev,
		 nv->size, lbs);
	return 0;
}

static void knvram_blk_work(struct work_struct *work)
{
	struct knvram_blk *nv = container_of(to_delayed_work(work),
					     struct knvram_blk, work);
	dev_t devt;
	int ret;

	guard(mutex)(&nv->state_lock);
	if (READ_ONCE(nv->dead)) {
		knvram_blk_detach(nv);
		WRITE_ONCE(nv->dead, false);
		nv->waiting_said = false;
	}
	if (nv->stopping || nv->bdev_file)
		return;

	devt = knvram_blk_find(nv);
	ret = devt ? knvram_blk_attach(nv, devt) : -EAGAIN;
	/* Not there, or not yet openable: look again later. */
	if (ret == -EAGAIN) {
		if (!nv->waiting_said)
			dev_info(nv->dev, "waiting for partition %s%s\n",
				 nv->label ? "label " : "uuid ",
				 nv->label ?: nv->uuid);
		nv->waiting_said = true;
		queue_delayed_work(system_long_wq, &nv->work,
				   msecs_to_jiffies(KNVRAM_BLK_POLL_MS));
		return;
	}
	nv->attach_err = ret;
	/* Probe reports the error of its own attempt. */
	if (ret && nv->probed)
		dev_err(nv->dev, "cannot use the partition: %pe\n",
			ERR_PTR(ret));
}

/*
 * Detach first: once the partition is closed the block layer calls
 * mark_dead no more, so nothing queues the work after it is cancelled;
 * a run of it meanwhile sees @stopping and attaches nothing.
 */
static void knvram_blk_stop(struct knvram_blk *nv)
{
	scoped_guard(mutex, &nv->state_lock) {
		nv->stopping = true;
		knvram_blk_detach(nv);
	}
	cancel_delayed_work_sync(&nv->work);
}

/* An optional string property; -EINVAL if present but not one string. */
static int knvram_blk_string(struct device *dev, const char *prop,
			     const char **val, size_t max)
{
	int ret;

	if (!device_property_present(dev, prop))
		return 0;
	ret = device_property_read_string(dev, prop, val);
	if (ret || !**val || strlen(*val) >= max)
		return dev_err_probe(dev, -EINVAL,
				     "%s: not one string of 1 to %zu characters\n",
				     prop, max - 1);
	return 0;
}

static int knvram_blk_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct knvram_blk *nv;
	int ret;

	nv = devm_kzalloc(dev, sizeof(*nv), GFP_KERNEL);
	if (!nv)
		return -ENOMEM;
	nv->dev = dev;
	mutex_init(&nv->state_lock);
	mutex_init(&nv->io_lock);
	init_waitqueue_head(&nv->io_wait);
	INIT_DELAYED_WORK(&nv->work, knvram_blk_work);

	ret = knvram_blk_string(dev, "partition-label", &nv->label,
				sizeof_field(struct partition_meta_info, volname));
	if (ret)
		return ret;
	ret = knvram_blk_string(dev, "partition-uuid", &nv->uuid,
				sizeof_field(struct partition_meta_info, uuid));
	if (ret)
		return ret;
	if (!nv->label && !nv->uuid)
		return dev_err_probe(dev, -EINVAL,
				     "partition-label or partition-uuid: one of them is required\n");

	if (device_property_present(dev, "hold-up-time-us") &&
	    (device_property_count_u32(dev, "hold-up-time-us") != 1 ||
	     device_property_read_u32(dev, "hold-up-time-us",
				      &nv->hold_up_us) || !nv->hold_up_us))
		return dev_err_probe(dev, -EINVAL,
				     "hold-up-time-us: not one non-zero u32\n");
	platform_set_drvdata(pdev, nv);

	/* Attach now if the partition is there, as the other backends do. */
	queue_delayed_work(system_long_wq, &nv->work, 0);
	flush_delayed_work(&nv->work);

	scoped_guard(mutex, &nv->state_lock) {
		nv->probed = true;
		if (nv->be || !nv->attach_err)
			return 0;
		ret = nv->attach_err;
	}
	knvram_blk_stop(nv);
	return dev_err_probe(dev, ret, "cannot use partition %s %s\n",
			     nv->label ? "partition-label" : "partition-uuid",
			     nv->label ?: nv->uuid);
}

static void knvram_blk_remove(struct platform_device *pdev)
{
	knvram_blk_stop(platform_get_drvdata(pdev));
}

/*
 * Statistics: cumulative since probe. Each attribute's var is the offset
 * of its u64 in struct knvram_blk.
 */
static ssize_t knvram_blk_stat_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr,
						    struct dev_ext_attribute,
						    attr);
	struct knvram_blk *nv = dev_get_drvdata(dev);
	u64 v;

	scoped_guard(mutex, &nv->io_lock)
		v = *(u64 *)((u8 *)nv + (uintptr_t)ea->var);
	return sysfs_emit(buf, "%llu\n", v);
}

#define KNVRAM_BLK_STAT(_name)						\
	static struct dev_ext_attribute knvram_blk_##_name = {		\
		.attr = {						\
			.attr = { .name = __stringify(_name), .mode = 0444 }, \
			.show = knvram_blk_stat_show,			\
		},							\
		.var = (void *)offsetof(struct knvram_blk, _name),	\
	}

KNVRAM_BLK_STAT(bytes_written);
KNVRAM_BLK_STAT(flushes);
KNVRAM_BLK_STAT(errors);

static ssize_t block_device_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct knvram_blk *nv = dev_get_drvdata(dev);

	guard(mutex)(&nv->io_lock);
	if (!nv->bdev)
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "%pg\n", nv->bdev);
}
static DEVICE_ATTR_RO(block_device);

static ssize_t logical_block_size_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	struct knvram_blk *nv = dev_get_drvdata(dev);

	guard(mutex)(&nv->io_lock);
	return sysfs_emit(buf, "%u\n", nv->bdev ? nv->lbs : 0);
}
static DEVICE_ATTR_RO(logical_block_size);

static struct attribute *knvram_blk_attrs[] = {
	&knvram_blk_bytes_written.attr.attr,
	&knvram_blk_flushes.attr.attr,
	&knvram_blk_errors.attr.attr,
	&dev_attr_block_device.attr,
	&dev_attr_logical_block_size.attr,
	NULL
};
ATTRIBUTE_GROUPS(knvram_blk);

static const struct of_device_id knvram_blk_of_match[] = {
	{ .compatible = "block-nvram" },
	{ }
};
MODULE_DEVICE_TABLE(of, knvram_blk_of_match);

static struct platform_driver knvram_blk_driver = {
	.probe = knvram_blk_probe,
	.remove = knvram_blk_remove,
	.driver = {
		.name = "knvram-blk",
		.of_match_table = knvram_blk_of_match,
		.dev_groups = knvram_blk_groups,
	},
};
module_platform_driver(knvram_blk_driver);

MODULE_DESCRIPTION("knvram backend on a block device partition");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(KNVRAM);
