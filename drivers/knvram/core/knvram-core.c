// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram core: backends, partitions, handles, transactions, sync.
 *
 * See knvram-internal.h for the concurrency model and
 * Documentation/driver-api/knvram.rst for the API.
 */

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cleanup.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/idr.h>
#include <linux/irq_work.h>
#include <linux/kdev_t.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/overflow.h>
#include <linux/property.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uidgid.h>
#include <linux/uio.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "knvram-internal.h"

#define KNVRAM_MINORS	256

/* Protects the lists of backends and partitions, and partition names. */
DEFINE_MUTEX(knvram_lock);
EXPORT_SYMBOL_IF_KUNIT(knvram_lock);
LIST_HEAD(knvram_backends);
/* Every live partition; RCU for the emergency sync, knvram_lock to change. */
LIST_HEAD(knvram_partitions);
static DEFINE_IDA(knvram_minors);
static dev_t knvram_devt;
/* Frees published transactions; drained (after rcu_barrier()) at exit. */
static struct workqueue_struct *knvram_wq;

static char *knvram_devnode(const struct device *dev, umode_t *mode,
			    kuid_t *uid, kgid_t *gid)
{
	const struct knvram_partition *part = to_knvram_partition(dev);

	/*
	 * Runtime partitions carry the owner and mode set in configfs.
	 * Removing the node asks for its name only.
	 */
	if (part->runtime && mode && uid && gid) {
		*mode = part->mode;
		*uid = part->uid;
		*gid = part->gid;
	}
	return kasprintf(GFP_KERNEL, "knvram/%s", dev_name(dev));
}

static const struct device_type knvram_partition_type = {
	.name = "knvram_partition",
	.devnode = knvram_devnode,
};

const struct class knvram_class = {
	.name = "knvram",
	.dev_groups = knvram_groups,
};

/* ------------------------------------------------------------------ */
/* Syncs */

/**
 * knvram_sync_part() - write a partition's committed state to its backend
 * @part:     Partition.
 * @nonblock: Fail with -EAGAIN rather than wait for another sync.
 *
 * Context: Process context; sleeps (backend I/O).
 * Return: 0, -ENODEV once removed, -EAGAIN, or the backend's error.
 */
int knvram_sync_part(struct knvram_partition *part, bool nonblock)
{
	int ret;

	if (nonblock) {
		if (!mutex_trylock(&part->sync_mutex))
			return -EAGAIN;
	} else {
		mutex_lock(&part->sync_mutex);
	}
	ret = READ_ONCE(part->dead) ? -ENODEV : knvram_media_sync(part);
	mutex_unlock(&part->sync_mutex);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_sync_part);

/**
 * knvram_dirty_bytes() - committed bytes the newest bank lacks
 * @part: Partition.
 *
 * Return: Bytes, a multiple of the block size.
 */
u64 knvram_dirty_bytes(struct knvram_partition *part)
{
	unsigned long b, n = 0;
	struct knvram_blk **map;
	unsigned int bank;

	spin_lock(&part->map_lock);
	map = part->map[knvram_latch_copy(atomic_long_read(&part->state))];
	bank = READ_ONCE(part->gen) & 1;
	for_each_set_bit(b, part->dirty[bank], part->nblocks)
		if (map[b]->ver != READ_ONCE(part->bank_ver[bank][b]))
			n++;
	spin_unlock(&part->map_lock);
	return (u64)n * part->bs;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_dirty_bytes);

/* ------------------------------------------------------------------ */
/* Handles */

/*
 * The commit sequence of @part: the latch sequence, which only a commit
 * changes (knvram_commit()'s flip adds %KNVRAM_SEQ_ONE).
 */
static long knvram_commit_seq(struct knvram_partition *part)
{
	return atomic_long_read(&part->state) >> KNVRAM_SEQ_SHIFT;
}

/* -ENODEV once the partition behind @h is removed. */
int knvram_handle_check(struct knvram_handle *h)
{
	return READ_ONCE(h->part->dead) ? -ENODEV : 0;
}

static int knvram_attach_locked(struct knvram_partition *part,
				struct knvram_handle *h)
{
	lockdep_assert_held(&part->lock);
	if (part->dead)
		return -ENODEV;
	if ((h->flags & KNVRAM_WRITE) && knvram_part_read_only(part))
		return -EROFS;
	if ((h->flags & KNVRAM_WRITE) && part->writer)
		return -EBUSY;
	if (!try_module_get(part->be->owner))
		return -ENODEV;
	h->owner = part->be->owner;
	h->part = part;
	h->autot = READ_ONCE(part->autot);
	atomic_long_set(&h->seen, knvram_commit_seq(part));
	get_device(&part->dev);
	if (h->flags & KNVRAM_WRITE)
		WRITE_ONCE(part->writer, h);
	part->nhandles++;
	return 0;
}

/* A non-blocking open does not wait for the partition's lock. */
static int knvram_attach_handle(struct knvram_partition *part,
				struct knvram_handle *h)
{
	int ret;

	if (h->flags & KNVRAM_NONBLOCK) {
		if (!mutex_trylock(&part->lock))
			return -EAGAIN;
	} else {
		mutex_lock(&part->lock);
	}
	ret = knvram_attach_locked(part, h);
	mutex_unlock(&part->lock);
	return ret;
}

struct knvram_handle *knvram_open_partition(struct knvram_partition *part,
					    unsigned int flags)
{
	struct knvram_handle *h;
	int ret;

	if (flags & ~(KNVRAM_WRITE | KNVRAM_NONBLOCK | KNVRAM_SYNC))
		return ERR_PTR(-EINVAL);

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return ERR_PTR(-ENOMEM);
	mutex_init(&h->lock);
	h->flags = flags;

	/* Before any partition lock: it takes configfs' locks. */
	h->pin = knvram_configfs_pin(part, flags & KNVRAM_NONBLOCK);
	if (IS_ERR(h->pin)) {
		ret = PTR_ERR(h->pin);
		kfree(h);
		return ERR_PTR(ret);
	}
	ret = knvram_attach_handle(part, h);
	if (ret) {
		knvram_configfs_unpin(h->pin);
		kfree(h);
		return ERR_PTR(ret);
	}
	return h;
}

/**
 * knvram_open() - open a partition by name
 * @name:  Partition name, as in /dev/knvram/<name>.
 * @flags: %KNVRAM_WRITE for the partition's writer (a reader otherwise),
 *         %KNVRAM_NONBLOCK, %KNVRAM_SYNC.
 *
 * Context: Process context; sleeps.
 * Return: A handle, or ERR_PTR(): -ENOENT if no such partition, -EROFS if
 * opening a read-only partition for writing, -EBUSY if opening for
 * writing and the partition has a writer, -ENODEV if it is
 * being removed, -EINVAL for unknown flags, -ENOMEM.
 */
struct knvram_handle *knvram_open(const char *name, unsigned int flags)
{
	struct knvram_partition *part, *found = NULL;
	struct knvram_handle *h;

	/*
	 * Under RCU, not knvram_lock, which admin work holds across media
	 * I/O: an open never waits for it. On the list, a partition holds its
	 * reference until a grace period after it leaves it.
	 */
	scoped_guard(rcu) {
		list_for_each_entry_rcu(part, &knvram_partitions, all_node) {
			if (!strcmp(part->name, name)) {
				found = part;
				get_device(&found->dev);
				break;
			}
		}
	}
	if (!found)
		return ERR_PTR(-ENOENT);
	h = knvram_open_partition(found, flags);
	put_device(&found->dev);
	return h;
}
EXPORT_SYMBOL_NS_GPL(knvram_open, KNVRAM);

/* The sync of a non-blocking writer's close, which must not wait for it. */
static void knvram_close_sync_work(struct work_struct *work)
{
	struct knvram_partition *part = container_of(work,
						     struct knvram_partition,
						     sync_work);
	int ret = knvram_sync_part(part, false);

	if (ret && ret != -ENODEV)
		dev_err_ratelimited(&part->dev, "sync on close failed: %d\n",
				    ret);
	put_device(&part->dev);
}

/**
 * knvram_close() - close a handle
 * @h: Handle from knvram_open().
 *
 * An open transaction is aborted. When the writer is closed, the committed
 * state is synced to the backend (for a %KNVRAM_NONBLOCK handle, by a
 * worker, after this returns); a failure is logged (rate limited) and the
 * data stays dirty in memory. Closing a reader never syncs.
 *
 * Context: Process context; sleeps.
 */
void knvram_close(struct knvram_handle *h)
{
	struct knvram_partition *part = h->part;
	bool writer;
	int ret;

	scoped_guard(mutex, &part->lock) {
		writer = part->writer == h;
		if (writer) {
			if (h->in_txn) {
				knvram_txn_drop(part);
				atomic64_inc(&part->stats.abort_count);
			}
			WRITE_ONCE(part->writer, NULL);
		}
		part->nhandles--;
	}

	if (writer && !(h->flags & KNVRAM_NONBLOCK)) {
		ret = knvram_sync_part(part, false);
		if (ret && ret != -ENODEV)
			dev_err_ratelimited(&part->dev,
					    "sync on close failed: %d\n", ret);
	} else if (writer) {
		get_device(&part->dev);
		if (!queue_work(system_unbound_wq, &part->sync_work))
			put_device(&part->dev);
	}

	knvram_configfs_unpin(h->pin);
	module_put(h->owner);
	put_device(&part->dev);
	kfree(h);
}
EXPORT_SYMBOL_NS_GPL(knvram_close, KNVRAM);

/*
 * Begin one call on a handle: CLASS(knvram_call, hl)(h, write) yields @h
 * locked, or ERR_PTR(): -EBADF if @write and @h is a reader, -EAGAIN for a
 * non-blocking handle whose lock is taken, -ENODEV once the partition is
 * removed. The lock is dropped when @hl goes out of scope.
 */
struct knvram_handle *knvram_call_begin(struct knvram_handle *h, bool write)
{
	if (write && !(h->flags & KNVRAM_WRITE))
		return ERR_PTR(-EBADF);
	if (h->flags & KNVRAM_NONBLOCK) {
		if (!mutex_trylock(&h->lock))
			return ERR_PTR(-EAGAIN);
	} else {
		mutex_lock(&h->lock);
	}
	if (READ_ONCE(h->part->dead)) {
		mutex_unlock(&h->lock);
		return ERR_PTR(-ENODEV);
	}
	return h;
}

void knvram_call_end(struct knvram_handle *h)
{
	if (!IS_ERR(h))
		mutex_unlock(&h->lock);
}

/**
 * knvram_sync() - write the committed state to the backend
 * @h: Handle opened with %KNVRAM_WRITE, or a reader whose caller has
 *     CAP_SYS_ADMIN.
 *
 * Writes only the blocks committed since the last sync, to the older of
 * the partition's two banks, then commits them with the bank's header; an
 * open transaction is not part of it. The sync takes a snapshot of the
 * committed blocks at memory speed and writes it without holding anything
 * that reads, writes and commits wait for.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0; -EBADF for a reader without CAP_SYS_ADMIN (a read-only user
 * must not wear out the media); -ENODEV; -EAGAIN if non-blocking and
 * another sync of the partition is running; or the backend's error (the
 * data stays dirty and the next sync tries again).
 */
int knvram_sync(struct knvram_handle *h)
{
	if (!(h->flags & KNVRAM_WRITE) && !capable(CAP_SYS_ADMIN))
		return -EBADF;
	return knvram_sync_part(h->part, h->flags & KNVRAM_NONBLOCK);
}
EXPORT_SYMBOL_NS_GPL(knvram_sync, KNVRAM);

/**
 * knvram_setautot() - turn automatic transactions on or off
 * @h:  Handle opened with %KNVRAM_WRITE.
 * @on: With autot on, a write with no open transaction starts one.
 *
 * Turning autot off does not end an open transaction.
 *
 * Context: Any context that may take a mutex.
 * Return: 0, -EBADF (reader), -EAGAIN (non-blocking).
 */
int knvram_setautot(struct knvram_handle *h, bool on)
{
	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);
	WRITE_ONCE(h->autot, on);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(knvram_setautot, KNVRAM);

/**
 * knvram_getautot() - is autot on?
 * @h: Handle.
 *
 * Return: The handle's autot setting.
 */
bool knvram_getautot(struct knvram_handle *h)
{
	return READ_ONCE(h->autot);
}
EXPORT_SYMBOL_NS_GPL(knvram_getautot, KNVRAM);

/**
 * knvram_size() - size of the partition behind a handle
 * @h: Handle.
 *
 * Return: Usable bytes.
 */
u64 knvram_size(struct knvram_handle *h)
{
	return h->part->size;
}
EXPORT_SYMBOL_NS_GPL(knvram_size, KNVRAM);

/* Grow the struct only at its end, and add KNVRAM_INFO_SIZE_VER1. */
static_assert(sizeof(struct knvram_info) == KNVRAM_INFO_SIZE_VER0);

/*
 * Fill @info for knvram_get_info() and KNVRAMIOC_INFO; @seq: the commit
 * sequence the fields are as new as, for knvram_info_seen() once the
 * caller has the struct.
 */
int knvram_info_fill(struct knvram_handle *h, struct knvram_info *info,
		     long *seq)
{
	struct knvram_partition *part = h->part;

	CLASS(knvram_call, hl)(h, false);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	/* Before the commit count: a commit after it shows up in poll(). */
	*seq = knvram_commit_seq(part);
	if (READ_ONCE(part->writer))
		info->flags |= KNVRAM_INFO_WRITER;
	if (h->in_txn)
		info->flags |= KNVRAM_INFO_TXN;
	if (READ_ONCE(h->autot))
		info->flags |= KNVRAM_INFO_AUTOT;
	if (knvram_frozen(part))
		info->flags |= KNVRAM_INFO_FROZEN;
	if (knvram_part_read_only(part))
		info->flags |= KNVRAM_INFO_READ_ONLY;
	if (READ_ONCE(part->damaged))
		info->flags |= KNVRAM_INFO_DAMAGED;
	info->part_size = part->size;
	info->block_size = part->bs;
	info->generation = READ_ONCE(part->gen);
	info->dirty_bytes = knvram_dirty_bytes(part);
	info->commits = atomic64_read(&part->stats.commit_count);
	strscpy(info->name, part->name);
	strscpy(info->backend, part->backend_name);
	return 0;
}

/*
 * The caller of knvram_info_fill() got its struct: @h has seen the commits
 * up to @seq. Only forward: of two calls on one handle racing, the older
 * sequence must not win and report a commit the handle was told of.
 */
void knvram_info_seen(struct knvram_handle *h, long seq)
{
	long old = atomic_long_read(&h->seen);

	while (old < seq && !atomic_long_try_cmpxchg(&h->seen, &old, seq))
		;
}

/**
 * knvram_get_info() - the state of a partition and of a handle
 * @h:    Handle.
 * @info: Filled: every field of struct knvram_info, @info->size set to
 *        sizeof(*info), the reserved fields zero.
 *
 * Also marks the handle as having seen the partition's commits up to now:
 * poll() on it reports EPOLLPRI again only after a later commit.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0, -ENODEV if the partition was removed, -EAGAIN if the handle
 * is non-blocking and another call on it is running.
 */
int knvram_get_info(struct knvram_handle *h, struct knvram_info *info)
{
	long seq;
	int ret;

	ret = knvram_info_fill(h, info, &seq);
	if (!ret)
		knvram_info_seen(h, seq);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(knvram_get_info, KNVRAM);

/*
 * poll() of a handle: EPOLLIN | EPOLLRDNORM always (a read never waits),
 * EPOLLOUT | EPOLLWRNORM for the writer, EPOLLPRI once the partition has
 * a commit newer than the handle last saw, EPOLLERR | EPOLLHUP once it is
 * removed.
 */
__poll_t knvram_poll(struct knvram_handle *h, struct file *file,
		     poll_table *wait)
{
	struct knvram_partition *part = h->part;
	__poll_t mask = EPOLLIN | EPOLLRDNORM;

	poll_wait(file, &part->poll_wq, wait);
	/*
	 * Queued before reading the sequence and @dead: pairs with the
	 * barrier of wq_has_sleeper() in knvram_poll_wake(), which comes
	 * after the commit's flip (or the store to @dead). Either we see the
	 * new sequence or the waker sees us queued.
	 */
	smp_mb();
	if (READ_ONCE(part->dead))
		return EPOLLERR | EPOLLHUP;
	if (h->flags & KNVRAM_WRITE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (knvram_commit_seq(part) != atomic_long_read(&h->seen))
		mask |= EPOLLPRI;
	return mask;
}

/*
 * Wake the handles polling @part, if any. Called by the checksum worker
 * that every commit queues, after the commit's flip, so that the commit
 * path itself pays nothing; and by removal.
 */
void knvram_poll_wake(struct knvram_partition *part)
{
	/* Full barrier, then the list: see knvram_poll(). */
	if (wq_has_sleeper(&part->poll_wq))
		wake_up_interruptible_poll(&part->poll_wq,
					   EPOLLPRI | EPOLLIN | EPOLLRDNORM);
}

/* ------------------------------------------------------------------ */
/* Partitions */

static void knvram_partition_release(struct device *dev)
{
	struct knvram_partition *part = to_knvram_partition(dev);

	if (MINOR(dev->devt) || MAJOR(dev->devt))
		ida_free(&knvram_minors, MINOR(dev->devt));
	knvram_media_free(part);
	kfree(part->backend_name);
	kfree(part);
}

bool knvram_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > KNVRAM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) || (!isalnum(name[i]) &&
					  !strchr("_.-", name[i])))
			return false;
	return true;
}

struct knvram_partition *knvram_find_locked(const char *name)
{
	struct knvram_partition *part;

	lockdep_assert_held(&knvram_lock);
	list_for_each_entry(part, &knvram_partitions, all_node)
		if (!strcmp(part->name, name))
			return part;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_find_locked);

/**
 * knvram_partition_footprint() - media bytes a partition of @size needs
 * @be:   Backend.
 * @size: Usable bytes.
 *
 * Return: Bytes of partition space (two banks of header, checksum table
 * and data), or 0 if @size is not a non-zero multiple of the block size.
 */
u64 knvram_partition_footprint(struct knvram_backend *be, u64 size)
{
	u64 bank_size;

	if (knvram_bank_size(size, be->block_size, &bank_size))
		return 0;
	return 2 * bank_size;
}
EXPORT_SYMBOL_NS_GPL(knvram_partition_footprint, KNVRAM);

/**
 * knvram_backend_space() - bytes of the backend available to partitions
 * @be: Backend.
 *
 * Partition offsets count from the start of this space; the media before
 * it holds the backend's label.
 *
 * Return: Bytes.
 */
u64 knvram_backend_space(struct knvram_backend *be)
{
	return be->size - knvram_media_label_size(be);
}
EXPORT_SYMBOL_NS_GPL(knvram_backend_space, KNVRAM);

/*
 * Is [start, start + len) of partition space free for partition @name?
 * Returns 0, -ENOSPC if it is not inside the space, or -EBUSY.
 */
int knvram_check_range(struct knvram_backend *be, const char *name,
		       u64 start, u64 len)
{
	struct knvram_partition *other;
	u64 end, e_end;
	u32 i;

	lockdep_assert_held(&knvram_lock);
	if (check_add_overflow(start, len, &end) ||
	    end > knvram_backend_space(be))
		return -ENOSPC;
	/*
	 * Runtime partitions: enabled or not, their space is theirs. Their
	 * numbers come from the media: one that runs past 2^64 takes
	 * everything from its offset on.
	 */
	for (i = 0; be->label && i < be->label->n; i++) {
		const struct knvram_label_entry *e = &be->label->e[i];
		u64 fp = knvram_partition_footprint(be, e->size);

		if (check_add_overflow(e->offset, fp, &e_end))
			e_end = U64_MAX;
		if (strcmp(e->name, name) && start < e_end && e->offset < end)
			return -EBUSY;
	}
	start += knvram_media_label_size(be);
	end += knvram_media_label_size(be);
	list_for_each_entry(other, &be->partitions, be_node)
		if (start < other->offset + 2 * other->bank_size &&
		    other->offset < end)
			return -EBUSY;
	return 0;
}

/*
 * A new partition of @info's name and size: the device, initialised, and
 * the geometry, checked. Its media state (shadow, tables) is allocated by
 * knvram_partition_add() once the range is known to fit: a size from the
 * devicetree or the label allocates nothing before that. Release it with
 * put_device().
 */
struct knvram_partition *
knvram_partition_alloc(struct knvram_backend *be,
		       const struct knvram_partition_info *info)
{
	struct knvram_partition *part;
	int ret;

	part = kzalloc(sizeof(*part), GFP_KERNEL);
	if (!part)
		return ERR_PTR(-ENOMEM);
	part->be = be;
	part->bs = be->block_size;
	part->size = info->size;
	part->autot = info->autot;
	part->read_only = info->read_only;
	part->kernel_only = info->kernel_only ||
			    !IS_ENABLED(CONFIG_KNVRAM_DEV);
	strscpy(part->name, info->name);
	mutex_init(&part->lock);
	mutex_init(&part->sync_mutex);
	init_waitqueue_head(&part->poll_wq);
	INIT_WORK(&part->sync_work, knvram_close_sync_work);
	knvram_io_init(part);
	device_initialize(&part->dev);
	part->dev.class = &knvram_class;
	part->dev.type = &knvram_partition_type;
	part->dev.parent = be->dev;
	part->dev.release = knvram_partition_release;
	/* From here on, put_device() frees everything. */

	ret = knvram_media_geometry(part);
	if (!ret) {
		part->backend_name = kstrdup(be->name, GFP_KERNEL);
		if (!part->backend_name)
			ret = -ENOMEM;
	}
	if (!ret)
		ret = dev_set_name(&part->dev, "%s", part->name);
	if (ret) {
		put_device(&part->dev);
		return ERR_PTR(ret);
	}
	return part;
}

/*
 * Place, allocate, load (or, if @fresh, format) and publish a new
 * partition; the range is checked first, so a partition that does not fit
 * allocates nothing. With @label, write that label once the partition is
 * on the media and before it becomes visible, and make it the backend's.
 * On failure the caller put_device()s @part.
 */
int knvram_partition_add(struct knvram_partition *part, u64 offset,
			 bool fresh, struct knvram_label *label)
{
	struct knvram_backend *be = part->be;
	struct knvram_label *old;
	int minor, ret;

	lockdep_assert_held(&knvram_lock);
	if (knvram_find_locked(part->name))
		return -EEXIST;
	ret = knvram_check_range(be, part->name, offset, 2 * part->bank_size);
	if (ret)
		return ret;
	part->offset = knvram_media_label_size(be) + offset;
	ret = knvram_media_alloc(part);
	if (ret)
		return ret;

	/* No device number, no /dev node: the device is in sysfs only. */
	if (!part->kernel_only) {
		minor = ida_alloc_max(&knvram_minors, KNVRAM_MINORS - 1,
				      GFP_KERNEL);
		if (minor < 0)
			return minor;
		part->dev.devt = MKDEV(MAJOR(knvram_devt), minor);
	}

	ret = fresh ? knvram_format(part) : knvram_media_load(part);
	if (ret)
		return ret;
	if (label) {
		ret = knvram_label_store(be, label);
		if (ret)
			return ret;
	}
	ret = knvram_cdev_add(part);
	if (ret) {
		/* Put the old label back; if that fails it shows at boot. */
		if (label && knvram_label_store(be, be->label))
			dev_err(be->dev, "%s: label of '%s' left on the media\n",
				be->name, part->name);
		return ret;
	}
	if (label) {
		old = be->label;
		be->label = label;
		kfree(old);
	}

	list_add_tail(&part->be_node, &be->partitions);
	list_add_tail_rcu(&part->all_node, &knvram_partitions);
	knvram_freeze_new(part);
	return 0;
}

/**
 * knvram_partition_create() - create a partition on a backend
 * @be:   Backend.
 * @info: Name, offset, size and default autot.
 *
 * Loads the partition's newest valid bank from the media into a new
 * shadow image (formatting blank media), then creates /dev/knvram/<name>.
 *
 * Context: Process context; sleeps.
 * Return: The partition, or ERR_PTR(): -EINVAL for a bad name or a size or
 * offset that is not a non-zero multiple of the block size, -EEXIST if the
 * name is taken, -ENOSPC if it does not fit in the backend, -EBUSY if it
 * overlaps another partition, -ENOMEM, or the backend's error. Media that
 * holds no valid bank and is not blank gives a damaged partition
 * (read-only, salvaged content; see knvram_partition_format()).
 */
struct knvram_partition *
knvram_partition_create(struct knvram_backend *be,
			const struct knvram_partition_info *info)
{
	struct knvram_partition *part;
	u64 fp, end;
	int ret;

	if (!info->name || !knvram_name_valid(info->name) ||
	    info->offset % be->block_size)
		return ERR_PTR(-EINVAL);
	/* Nothing is allocated for what cannot fit; add checks overlaps. */
	fp = knvram_partition_footprint(be, info->size);
	if (!fp)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(info->offset, fp, &end) ||
	    end > knvram_backend_space(be))
		return ERR_PTR(-ENOSPC);

	part = knvram_partition_alloc(be, info);
	if (IS_ERR(part))
		return part;
	scoped_guard(mutex, &knvram_lock)
		ret = knvram_partition_add(part, info->offset, false, NULL);
	if (ret) {
		put_device(&part->dev);
		return ERR_PTR(ret);
	}
	return part;
}
EXPORT_SYMBOL_NS_GPL(knvram_partition_create, KNVRAM);

/*
 * Removal, first half: no new call, a final sync, out of the lists. The
 * partition stays on @be_node's new list, if any, for the second half.
 */
static void knvram_partition_unlink(struct knvram_partition *part,
				    struct list_head *removed)
{
	int ret;

	lockdep_assert_held(&knvram_lock);

	scoped_guard(mutex, &part->lock)
		knvram_set_dead(part, true);
	knvram_poll_wake(part);

	/* Nothing committed is lost: write it before the backend goes. */
	scoped_guard(mutex, &part->sync_mutex) {
		ret = knvram_media_sync(part);
		if (ret)
			dev_err(&part->dev,
				"final sync failed (%d): unsynced commits lost\n",
				ret);
	}

	list_del_rcu(&part->all_node);
	list_move_tail(&part->be_node, removed);
}

/* Second half, once no emergency sync can see them: the devices go. */
static void knvram_partitions_free(struct list_head *removed)
{
	struct knvram_partition *part, *tmp;

	list_for_each_entry_safe(part, tmp, removed, be_node) {
		list_del(&part->be_node);
		knvram_cdev_del(part);
		put_device(&part->dev);
	}
}

void knvram_partition_remove_locked(struct knvram_partition *part)
{
	LIST_HEAD(removed);

	knvram_partition_unlink(part, &removed);
	/* No emergency sync still uses the partition or its backend. */
	synchronize_rcu();
	knvram_partitions_free(&removed);
}

/**
 * knvram_partition_remove() - remove a partition
 * @part: Partition from knvram_partition_create().
 *
 * Syncs what was committed, then removes the device. Handles that are still
 * open stay valid; their calls fail with -ENODEV and nothing is freed until
 * the last one is closed.
 *
 * Context: Process context; sleeps.
 */
void knvram_partition_remove(struct knvram_partition *part)
{
	guard(mutex)(&knvram_lock);
	knvram_partition_remove_locked(part);
}
EXPORT_SYMBOL_NS_GPL(knvram_partition_remove, KNVRAM);

/* ------------------------------------------------------------------ */
/* Backends */

/* Fixed partitions from the devicetree: the "partitions" child node. */
static void knvram_add_of_partitions(struct knvram_backend *be)
{
	struct device_node *np __free(device_node) =
		of_get_child_by_name(be->dev->of_node, "partitions");

	if (!np)
		return;

	for_each_available_child_of_node_scoped(np, child) {
		struct knvram_partition_info info = { };
		struct knvram_partition *part;
		u64 fp, end;
		int ret;

		ret = of_property_read_string(child, "label", &info.name);
		if (ret) {
			dev_err(be->dev, "%pOF: missing or bad 'label'\n", child);
			continue;
		}
		ret = of_property_read_reg(child, 0, &info.offset, &info.size);
		if (ret) {
			dev_err(be->dev, "%pOF: missing or bad 'reg'\n", child);
			continue;
		}
		/* Checked here to name the property; create checks it too. */
		fp = knvram_partition_footprint(be, info.size);
		if (!fp) {
			dev_err(be->dev, "%pOF: 'reg' size %#llx is 0, too large or not a multiple of the block size (%u)\n",
				child, info.size, be->block_size);
			continue;
		}
		if (info.offset % be->block_size) {
			dev_err(be->dev, "%pOF: 'reg' offset %#llx is not a multiple of the block size (%u)\n",
				child, info.offset, be->block_size);
			continue;
		}
		if (check_add_overflow(info.offset, fp, &end) ||
		    end > knvram_backend_space(be)) {
			dev_err(be->dev, "%pOF: 'reg' <%#llx %#llx> (%#llx bytes with its banks) does not fit in the %#llx bytes of partition space\n",
				child, info.offset, info.size, fp,
				knvram_backend_space(be));
			continue;
		}
		info.autot = of_property_read_bool(child,
						   "linux,auto-transactions");
		info.read_only = of_property_read_bool(child, "read-only");
		info.kernel_only = of_property_read_bool(child,
							 "linux,kernel-only");
		part = knvram_partition_create(be, &info);
		if (IS_ERR(part))
			dev_err(be->dev, "%pOF: partition '%s' not created: %pe\n",
				child, info.name, part);
	}
}

/*
 * Fixed partitions from the provider's config: created here, before the
 * runtime partitions and before configfs can place one, so that a runtime
 * partition never takes their space (the board's description wins).
 */
static void knvram_add_config_partitions(struct knvram_backend *be,
					 const struct knvram_backend_config *config)
{
	u64 next = 0;
	unsigned int i;

	for (i = 0; i < config->npartitions; i++) {
		struct knvram_partition_info info = config->partitions[i];
		struct knvram_partition *part;

		if (info.offset == KNVRAM_OFFSET_NEXT)
			info.offset = next;
		part = knvram_partition_create(be, &info);
		if (IS_ERR(part)) {
			dev_err(be->dev, "partition '%s' not created: %pe\n",
				info.name, part);
			continue;
		}
		next = info.offset + knvram_partition_footprint(be, info.size);
	}
}

/**
 * __knvram_backend_register() - register a backend
 * @config: Description of the backend; copied.
 * @owner:  Module of the provider; use knvram_backend_register().
 *
 * Creates the fixed partitions of the "partitions" child of the
 * devicetree node of @config->dev, if any, and those of
 * @config->partitions, then the runtime partitions of the backend's label;
 * only then can configfs create new ones.
 *
 * Context: Process context; sleeps.
 * Return: The backend, or ERR_PTR(-EINVAL) for a config the core cannot
 * use (or a device with a wp-gpios property: no backend drives one),
 * -EEXIST for a name in use, -ENOMEM.
 */
struct knvram_backend *
__knvram_backend_register(const struct knvram_backend_config *config,
			  struct module *owner)
{
	u32 bs = config->block_size ?: KNVRAM_DEFAULT_BLOCK;
	u32 wu = config->write_unit ?: 1;
	struct knvram_backend *be, *other;
	int ret;

	if (!config->dev || !config->name || !config->ops ||
	    !config->ops->read || !config->ops->write ||
	    !is_power_of_2(bs) || bs < KNVRAM_MIN_BLOCK ||
	    bs > KNVRAM_MAX_BLOCK || !is_power_of_2(wu) || wu > bs ||
	    config->flags & ~KNVRAM_BACKEND_NMI_SAFE ||
	    config->atomic_unit % max_t(u32, wu, KNVRAM_ATOMIC_ALIGN))
		return ERR_PTR(-EINVAL);
	/*
	 * No backend drives a write-protect line: mmio-nvram writes from the
	 * power-fail NMI, where no GPIO can be driven, and an nvmem device's
	 * /WP is its provider's own wp-gpios, which the nvmem core drives.
	 * Refused rather than ignored: the board would think it protected.
	 */
	if (device_property_present(config->dev, "wp-gpios"))
		return ERR_PTR(dev_err_probe(config->dev, -EINVAL,
					     "wp-gpios: not supported on a knvram backend\n"));

	be = kzalloc(sizeof(*be), GFP_KERNEL);
	if (!be)
		return ERR_PTR(-ENOMEM);
	be->name = kstrdup(config->name, GFP_KERNEL);
	if (!be->name) {
		kfree(be);
		return ERR_PTR(-ENOMEM);
	}
	be->dev = config->dev;
	be->owner = owner;
	be->ops = config->ops;
	be->priv = config->priv;
	be->size = config->size;
	be->block_size = bs;
	be->write_unit = wu;
	be->atomic_unit = config->atomic_unit;
	be->flags = config->flags;
	INIT_LIST_HEAD(&be->partitions);

	scoped_guard(mutex, &knvram_lock) {
		list_for_each_entry(other, &knvram_backends, node) {
			if (!strcmp(other->name, be->name)) {
				kfree(be->name);
				kfree(be);
				return ERR_PTR(-EEXIST);
			}
		}
		if (be->size <= knvram_media_label_size(be)) {
			kfree(be->name);
			kfree(be);
			return ERR_PTR(-EINVAL);
		}
		list_add_tail(&be->node, &knvram_backends);
	}

	/*
	 * Fixed partitions first: the board's description wins over a
	 * runtime partition that a changed devicetree now overlaps.
	 */
	knvram_add_of_partitions(be);
	knvram_add_config_partitions(be, config);
	ret = knvram_label_load(be);
	if (ret) {
		knvram_backend_unregister(be);
		return ERR_PTR(ret);
	}
	knvram_restore_runtime(be);
	knvram_configfs_backend_add(be);
	return be;
}
EXPORT_SYMBOL_NS_GPL(__knvram_backend_register, KNVRAM);

/**
 * knvram_backend_unregister() - remove a backend and its partitions
 * @be: Backend from knvram_backend_register().
 *
 * Every partition is synced and removed as by knvram_partition_remove().
 *
 * Context: Process context; sleeps.
 */
void knvram_backend_unregister(struct knvram_backend *be)
{
	struct knvram_partition *part, *tmp;
	LIST_HEAD(removed);

	/* Its configfs items go offline; this takes configfs' locks. */
	knvram_configfs_backend_del(be);
	scoped_guard(mutex, &knvram_lock) {
		list_for_each_entry_safe(part, tmp, &be->partitions, be_node)
			knvram_partition_unlink(part, &removed);
		list_del(&be->node);
		/* One grace period for all: none is seen by an emergency sync. */
		synchronize_rcu();
		knvram_partitions_free(&removed);
	}
	/* A deferred emergency sync may still hold one of them. */
	knvram_emergency_flush();
	kfree(be->label);
	kfree(be->name);
	kfree(be);
}
EXPORT_SYMBOL_NS_GPL(knvram_backend_unregister, KNVRAM);

static void knvram_backend_unregister_action(void *be)
{
	knvram_backend_unregister(be);
}

/**
 * __devm_knvram_backend_register() - managed knvram_backend_register()
 * @dev:    Device whose unbinding unregisters the backend.
 * @config: As for knvram_backend_register().
 * @owner:  Module of the provider; use devm_knvram_backend_register().
 *
 * Context: Process context; sleeps.
 * Return: As knvram_backend_register().
 */
struct knvram_backend *
__devm_knvram_backend_register(struct device *dev,
			       const struct knvram_backend_config *config,
			       struct module *owner)
{
	struct knvram_backend *be;
	int ret;

	be = __knvram_backend_register(config, owner);
	if (IS_ERR(be))
		return be;
	ret = devm_add_action_or_reset(dev, knvram_backend_unregister_action,
				       be);
	return ret ? ERR_PTR(ret) : be;
}
EXPORT_SYMBOL_NS_GPL(__devm_knvram_backend_register, KNVRAM);

/* ------------------------------------------------------------------ */

static int __init knvram_init(void)
{
	int ret;

	knvram_wq = alloc_workqueue("knvram", 0, 0);
	if (!knvram_wq)
		return -ENOMEM;
	if (IS_ENABLED(CONFIG_KNVRAM_DEV)) {
		ret = alloc_chrdev_region(&knvram_devt, 0, KNVRAM_MINORS,
					  "knvram");
		if (ret)
			goto err_wq;
	}
	ret = class_register(&knvram_class);
	if (ret)
		goto err_chrdev;
	ret = knvram_configfs_init();
	if (ret)
		goto err_class;
	return 0;

err_class:
	class_unregister(&knvram_class);
err_chrdev:
	if (IS_ENABLED(CONFIG_KNVRAM_DEV))
		unregister_chrdev_region(knvram_devt, KNVRAM_MINORS);
err_wq:
	destroy_workqueue(knvram_wq);
	return ret;
}

static void __exit knvram_exit(void)
{
	knvram_configfs_exit();
	knvram_emergency_exit();
	class_unregister(&knvram_class);
	if (IS_ENABLED(CONFIG_KNVRAM_DEV))
		unregister_chrdev_region(knvram_devt, KNVRAM_MINORS);
	/* Transactions waiting for a grace period, then for the worker. */
	rcu_barrier();
	destroy_workqueue(knvram_wq);
}

module_init(knvram_init);
module_exit(knvram_exit);

MODULE_DESCRIPTION("knvram: non-volatile RAM partitions with transactions");
MODULE_LICENSE("GPL");
