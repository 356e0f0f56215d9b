// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram core: backends, partitions, handles, transactions, sync.
 *
 * See knvram-internal.h for the concurrency model and
 * Documentation/driver-api/knvram.rst for the API.
 */

#include <linux/bitmap.h>
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

static void knvram_deferred_sync(struct work_struct *work);
static DECLARE_WORK(knvram_deferred_work, knvram_deferred_sync);

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
/* Transactions */

static struct knvram_txn *knvram_txn_alloc(void)
{
	struct knvram_txn *txn = kzalloc(sizeof(*txn), GFP_KERNEL);

	if (txn)
		xa_init(&txn->blocks);
	return txn;
}

static void knvram_txn_destroy(struct knvram_txn *txn)
{
	unsigned long idx;
	void *blk;

	xa_for_each(&txn->blocks, idx, blk)
		kfree(blk);
	xa_destroy(&txn->blocks);
	kfree(txn);
}

static void knvram_txn_free_work(struct work_struct *work)
{
	knvram_txn_destroy(container_of(to_rcu_work(work), struct knvram_txn,
					free));
}

/*
 * A published transaction may still be read by an emergency sync that
 * found it in @pubstate: free it after an RCU grace period.
 */
static void knvram_txn_free_rcu(struct knvram_txn *txn)
{
	INIT_RCU_WORK(&txn->free, knvram_txn_free_work);
	queue_rcu_work(knvram_wq, &txn->free);
}

static bool knvram_frozen(struct knvram_partition *part)
{
	return atomic_long_read(&part->pubstate) & KNVRAM_FROZEN;
}

/*
 * Publish @txn into the shadow. Called with the handle's lock held; the
 * caller frees @txn (after RCU) on success and keeps it on failure.
 */
static int knvram_publish(struct knvram_partition *part,
			  struct knvram_txn *txn, bool nonblock)
{
	long state = 0;
	unsigned long idx;
	void *blk;

	if (nonblock) {
		if (!mutex_trylock(&part->sync_lock))
			return -EAGAIN;
	} else {
		mutex_lock(&part->sync_lock);
	}
	if (READ_ONCE(part->dead)) {
		mutex_unlock(&part->sync_lock);
		return -ENODEV;
	}
	if (nonblock) {
		if (!down_write_trylock(&part->publish_lock)) {
			mutex_unlock(&part->sync_lock);
			return -EAGAIN;
		}
	} else {
		down_write(&part->publish_lock);
	}

	/*
	 * One atomic step decides whether this commit happens: either the
	 * emergency sync froze the partition before (we refuse), or it will
	 * see @txn in @pubstate and write its blocks itself.
	 */
	if (!atomic_long_try_cmpxchg(&part->pubstate, &state, (long)txn)) {
		up_write(&part->publish_lock);
		mutex_unlock(&part->sync_lock);
		return -ESHUTDOWN;
	}

	xa_for_each(&txn->blocks, idx, blk) {
		memcpy(part->shadow + idx * part->bs, blk, part->bs);
		set_bit(idx, part->need[0]);
		set_bit(idx, part->need[1]);
	}

	/* Fully ordered: the shadow and need[] are complete before this. */
	state = (long)txn;
	if (!atomic_long_try_cmpxchg(&part->pubstate, &state, 0))
		atomic_long_set(&part->pubstate, KNVRAM_FROZEN);

	up_write(&part->publish_lock);
	mutex_unlock(&part->sync_lock);
	atomic64_inc(&part->stats.commit_count);
	return 0;
}

static int knvram_sync_part(struct knvram_partition *part, bool nonblock)
{
	int ret;

	if (nonblock) {
		if (!mutex_trylock(&part->sync_lock))
			return -EAGAIN;
	} else {
		mutex_lock(&part->sync_lock);
	}
	if (READ_ONCE(part->dead))
		ret = -ENODEV;
	else
		ret = knvram_media_sync(part, NULL, false);
	mutex_unlock(&part->sync_lock);
	return ret;
}

u64 knvram_dirty_bytes(struct knvram_partition *part)
{
	unsigned int bank = READ_ONCE(part->gen) & 1;

	return (u64)bitmap_weight(part->need[bank], part->nblocks) * part->bs;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_dirty_bytes);

/* ------------------------------------------------------------------ */
/* Handles */

/* -ENODEV once the partition behind @h is removed. */
int knvram_handle_check(struct knvram_handle *h)
{
	return READ_ONCE(h->part->dead) ? -ENODEV : 0;
}

static int knvram_attach_handle(struct knvram_partition *part,
				struct knvram_handle *h)
{
	guard(mutex)(&part->lock);
	if (part->dead)
		return -ENODEV;
	if ((h->flags & KNVRAM_WRITE) && part->writer)
		return -EBUSY;
	if (!try_module_get(part->be->owner))
		return -ENODEV;
	h->owner = part->be->owner;
	h->part = part;
	h->autot = READ_ONCE(part->autot);
	get_device(&part->dev);
	if (h->flags & KNVRAM_WRITE)
		part->writer = h;
	part->nhandles++;
	return 0;
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
	h->pin = knvram_configfs_pin(part);
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
 * Return: A handle, or ERR_PTR(): -ENOENT if no such partition, -EBUSY if
 * opening for writing and the partition has a writer, -ENODEV if it is
 * being removed, -EINVAL for unknown flags, -ENOMEM.
 */
struct knvram_handle *knvram_open(const char *name, unsigned int flags)
{
	struct knvram_partition *part, *found = NULL;
	struct knvram_handle *h;

	scoped_guard(mutex, &knvram_lock) {
		list_for_each_entry(part, &knvram_partitions, all_node) {
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

/**
 * knvram_close() - close a handle
 * @h: Handle from knvram_open().
 *
 * An open transaction is aborted. When the last handle of the partition is
 * closed, the committed state is synced to the backend; a failure is
 * logged (rate limited) and the data stays dirty in the shadow.
 *
 * Context: Process context; sleeps.
 */
void knvram_close(struct knvram_handle *h)
{
	struct knvram_partition *part = h->part;
	bool last;
	int ret;

	if (h->txn) {
		knvram_txn_destroy(h->txn);
		atomic64_inc(&part->stats.abort_count);
	}

	scoped_guard(mutex, &part->lock) {
		if (part->writer == h)
			part->writer = NULL;
		last = !--part->nhandles;
	}

	if (last) {
		ret = knvram_sync_part(part, false);
		if (ret && ret != -ENODEV)
			dev_err_ratelimited(&part->dev,
					    "sync on last close failed: %d\n",
					    ret);
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
static struct knvram_handle *knvram_call_begin(struct knvram_handle *h,
					       bool write)
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

static void knvram_call_end(struct knvram_handle *h)
{
	if (!IS_ERR(h))
		mutex_unlock(&h->lock);
}

DEFINE_CLASS(knvram_call, struct knvram_handle *, knvram_call_end(_T),
	     knvram_call_begin(h, write), struct knvram_handle *h, bool write)

/*
 * A reader copies the shadow under @publish_lock with page faults off, so
 * that a commit never waits for a user page to be faulted in (it would
 * hold @sync_lock meanwhile). A fault ends the copy; the pages are faulted
 * in without the lock and the whole copy is done again. What cannot be
 * faulted in at all shortens the read.
 */
static ssize_t knvram_read_shadow(struct knvram_partition *part,
				  struct iov_iter *to, u64 pos, size_t len,
				  bool nonblock)
{
	size_t done;

	for (;;) {
		if (nonblock) {
			if (!down_read_trylock(&part->publish_lock))
				return -EAGAIN;
		} else {
			down_read(&part->publish_lock);
		}
		pagefault_disable();
		done = copy_to_iter(part->shadow + pos, len, to);
		pagefault_enable();
		up_read(&part->publish_lock);
		if (done == len)
			return done;

		iov_iter_revert(to, done);
		len -= fault_in_iov_iter_writeable(to, len);
		if (!len)
			return -EFAULT;
	}
}

ssize_t knvram_read_iter(struct knvram_handle *h, struct iov_iter *to,
			 loff_t *pos)
{
	struct knvram_partition *part = h->part;
	size_t len = iov_iter_count(to), done = 0;
	bool nonblock = h->flags & KNVRAM_NONBLOCK;
	ssize_t ret;

	if (*pos < 0)
		return -EINVAL;
	CLASS(knvram_call, hl)(h, false);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (*pos >= part->size || !len)
		return 0;
	len = min_t(u64, len, part->size - *pos);

	if (h->txn) {
		/* The writer: its own blocks first, else the shadow. */
		while (done < len) {
			u64 off = *pos + done;
			unsigned long blk = div_u64(off, part->bs);
			u32 boff = off - (u64)blk * part->bs;
			size_t n = min_t(size_t, len - done, part->bs - boff);
			u8 *src = xa_load(&h->txn->blocks, blk);
			size_t copied;

			src = src ? src + boff : part->shadow + off;
			copied = copy_to_iter(src, n, to);
			done += copied;
			if (copied != n)
				break;
		}
	} else if (part->writer == h) {
		/* Only this handle changes the shadow: no lock needed. */
		done = copy_to_iter(part->shadow + *pos, len, to);
	} else {
		ret = knvram_read_shadow(part, to, *pos, len, nonblock);
		if (ret < 0)
			return ret;
		done = ret;
	}

	if (!done)
		return -EFAULT;
	*pos += done;
	return done;
}

/* Undo a failed knvram_txn_write(): @txn is as it was. */
static void knvram_txn_unstage(struct knvram_txn *txn, void **copies,
			       unsigned long first, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		kfree(copies[i]);
		/* Releases only the slots reserved (not yet stored) here. */
		xa_release(&txn->blocks, first + i);
	}
}

/*
 * Stage a write into @txn, all or nothing: every touched block gets a new
 * copy, the data is copied into the copies, and only if all of it arrived
 * do the copies replace the transaction's blocks. A fault or an allocation
 * failure leaves @txn as it was.
 */
static int knvram_txn_stage(struct knvram_partition *part,
			    struct knvram_txn *txn, struct iov_iter *from,
			    u64 pos, size_t len, void **copies)
{
	unsigned long first = div_u64(pos, part->bs);
	unsigned long n = div_u64(pos + len - 1, part->bs) - first + 1;
	unsigned long i;
	size_t done = 0;

	for (i = 0; i < n; i++) {
		unsigned long blk = first + i;
		u64 bstart = (u64)blk * part->bs;
		void *old = xa_load(&txn->blocks, blk);

		copies[i] = kmalloc(part->bs, GFP_KERNEL);
		/* Reserve new slots so that the final store cannot fail. */
		if (!copies[i] ||
		    (!old && xa_reserve(&txn->blocks, blk, GFP_KERNEL))) {
			knvram_txn_unstage(txn, copies, first, i + 1);
			return -ENOMEM;
		}
		/* Keep what the write does not cover. */
		if (pos > bstart || pos + len < bstart + part->bs)
			memcpy(copies[i], old ?: part->shadow + bstart,
			       part->bs);
	}

	while (done < len) {
		u64 off = pos + done;
		unsigned long i = div_u64(off, part->bs) - first;
		u32 boff = off - (u64)(first + i) * part->bs;
		size_t chunk = min_t(size_t, len - done, part->bs - boff);

		size_t copied = copy_from_iter(copies[i] + boff, chunk, from);

		if (copied != chunk) {
			knvram_txn_unstage(txn, copies, first, n);
			iov_iter_revert(from, done + copied);
			return -EFAULT;
		}
		done += chunk;
	}

	for (i = 0; i < n; i++) {
		/* A reserved slot reads back as NULL: a new block. */
		void *old = xa_store(&txn->blocks, first + i, copies[i],
				     GFP_KERNEL);

		if (!old)
			txn->nblocks++;
		kfree(old);
	}
	return 0;
}

static int knvram_txn_write(struct knvram_partition *part,
			    struct knvram_txn *txn, struct iov_iter *from,
			    u64 pos, size_t len)
{
	unsigned long n = div_u64(pos + len - 1, part->bs) -
			  div_u64(pos, part->bs) + 1;
	void *small[8] = { };
	void **copies;
	int ret;

	if (n <= ARRAY_SIZE(small))
		return knvram_txn_stage(part, txn, from, pos, len, small);

	copies = kvcalloc(n, sizeof(*copies), GFP_KERNEL);
	if (!copies)
		return -ENOMEM;
	ret = knvram_txn_stage(part, txn, from, pos, len, copies);
	kvfree(copies);
	return ret;
}

ssize_t knvram_write_iter(struct knvram_handle *h, struct iov_iter *from,
			  loff_t *pos)
{
	struct knvram_partition *part = h->part;
	size_t len = iov_iter_count(from);
	struct knvram_txn *txn;
	bool implicit = false;
	int ret;

	if (*pos < 0)
		return -EINVAL;
	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (knvram_frozen(part))
		return -ESHUTDOWN;
	if (!len)
		return 0;
	if (*pos >= part->size)
		return -ENOSPC;
	len = min_t(u64, len, part->size - *pos);

	txn = h->txn;
	if (!txn) {
		txn = knvram_txn_alloc();
		if (!txn)
			return -ENOMEM;
		implicit = !h->autot;
	}

	ret = knvram_txn_write(part, txn, from, *pos, len);
	if (ret)
		goto err_txn;

	if (implicit) {
		/* A write outside a transaction is a transaction of one. */
		ret = knvram_publish(part, txn, h->flags & KNVRAM_NONBLOCK);
		if (ret) {
			iov_iter_revert(from, len);
			goto err_txn;
		}
		knvram_txn_free_rcu(txn);
		*pos += len;
		/* As for files: the write happened even if the sync fails. */
		if (h->flags & KNVRAM_SYNC) {
			ret = knvram_sync_part(part, false);
			if (ret)
				return ret;
		}
		return len;
	}
	h->txn = txn;
	*pos += len;
	return len;

err_txn:
	if (txn != h->txn)
		knvram_txn_destroy(txn);
	return ret;
}

/**
 * knvram_read() - read from a partition
 * @h:   Handle.
 * @buf: Destination.
 * @len: Bytes to read.
 * @pos: Offset in the partition; advanced by what was read.
 *
 * A reader sees the committed state, the writer also its own open
 * transaction. A read running at the same time as a commit returns, for its
 * whole range, all old or all new data.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: Bytes read (0 at or past the end), or -ENODEV if the partition
 * was removed, -EAGAIN if non-blocking and it would sleep, -EINVAL for a
 * negative @pos.
 */
ssize_t knvram_read(struct knvram_handle *h, void *buf, size_t len,
		    loff_t *pos)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, len);
	return knvram_read_iter(h, &iter, pos);
}
EXPORT_SYMBOL_NS_GPL(knvram_read, KNVRAM);

/**
 * knvram_write() - write to a partition
 * @h:   Handle opened with %KNVRAM_WRITE.
 * @buf: Source.
 * @len: Bytes to write.
 * @pos: Offset in the partition; advanced by what was written.
 *
 * Inside a transaction (or with autot on, which starts one) the data is
 * staged in the transaction. Otherwise it is published at once, as a
 * transaction of its own, and with %KNVRAM_SYNC synced before returning.
 * A write crossing the end of the partition is short.
 *
 * Context: Process context; sleeps.
 * Return: Bytes written, or -EBADF (reader), -ENOSPC (@pos at or past the
 * end), -ESHUTDOWN (power failing), -ENODEV (removed), -EAGAIN
 * (non-blocking), -ENOMEM, or a sync error with %KNVRAM_SYNC.
 */
ssize_t knvram_write(struct knvram_handle *h, const void *buf, size_t len,
		     loff_t *pos)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	return knvram_write_iter(h, &iter, pos);
}
EXPORT_SYMBOL_NS_GPL(knvram_write, KNVRAM);

/**
 * knvram_tbegin() - start a transaction
 * @h: Handle opened with %KNVRAM_WRITE.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0, -EALREADY if one is open, -EBADF (reader), -ENODEV, -EAGAIN,
 * -ENOMEM.
 */
int knvram_tbegin(struct knvram_handle *h)
{
	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (h->txn)
		return -EALREADY;
	h->txn = knvram_txn_alloc();
	return h->txn ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_NS_GPL(knvram_tbegin, KNVRAM);

/**
 * knvram_tcommit() - publish the open transaction
 * @h: Handle with an open transaction.
 *
 * Every write of the transaction becomes visible to all handles at once.
 * With %KNVRAM_SYNC the committed state is synced before returning.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0; -EINVAL if no transaction is open; -ESHUTDOWN if the power is
 * failing, -EAGAIN if non-blocking and it would sleep (the transaction
 * stays open in both cases); -EBADF, -ENODEV; or a sync error with
 * %KNVRAM_SYNC (the commit itself happened).
 */
int knvram_tcommit(struct knvram_handle *h)
{
	struct knvram_partition *part = h->part;
	int ret;

	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (!h->txn)
		return -EINVAL;
	ret = knvram_publish(part, h->txn, h->flags & KNVRAM_NONBLOCK);
	if (ret)
		return ret;
	knvram_txn_free_rcu(h->txn);
	h->txn = NULL;
	if (h->flags & KNVRAM_SYNC)
		return knvram_sync_part(part, false);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(knvram_tcommit, KNVRAM);

/**
 * knvram_tabort() - drop the open transaction
 * @h: Handle with an open transaction.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0, -EINVAL if no transaction is open, -EBADF, -ENODEV, -EAGAIN.
 */
int knvram_tabort(struct knvram_handle *h)
{
	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (!h->txn)
		return -EINVAL;
	knvram_txn_destroy(h->txn);
	h->txn = NULL;
	atomic64_inc(&h->part->stats.abort_count);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(knvram_tabort, KNVRAM);

/**
 * knvram_sync() - write the committed state to the backend
 * @h: Handle (reader or writer).
 *
 * Writes only the blocks committed since the last sync, to the older of
 * the partition's two banks, then commits them with the bank's header; an
 * open transaction is not part of it.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0, -ENODEV, -EAGAIN, or the backend's error (the data stays
 * dirty and the next sync tries again).
 */
int knvram_sync(struct knvram_handle *h)
{
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

/* ------------------------------------------------------------------ */
/* Emergency sync */

static bool knvram_deferred_pending;
/* Between knvram_emergency_sync() and knvram_emergency_end(). */
static bool knvram_power_failing;

/*
 * Partitions whose backend cannot write in atomic context are synced from
 * here, in process context, as soon as the emergency sync can get a CPU.
 * They are frozen already, so nothing new is committed.
 */
static void knvram_deferred_sync(struct work_struct *work)
{
	struct knvram_partition *part;

	guard(mutex)(&knvram_lock);
	WRITE_ONCE(knvram_deferred_pending, false);
	list_for_each_entry(part, &knvram_partitions, all_node) {
		u64 t0;

		if (part->be->flags & KNVRAM_BACKEND_NMI_SAFE)
			continue;
		atomic64_inc(&part->stats.emergency_sync_deferred);
		t0 = ktime_get_mono_fast_ns();
		if (!knvram_sync_part(part, false)) {
			atomic64_inc(&part->stats.emergency_sync_count);
			atomic64_set(&part->stats.emergency_sync_last_ns,
				     ktime_get_mono_fast_ns() - t0);
		}
	}
}

static void knvram_deferred_kick(struct irq_work *work)
{
	queue_work(system_highpri_wq, &knvram_deferred_work);
}

static DEFINE_IRQ_WORK(knvram_deferred_irq_work, knvram_deferred_kick);

/**
 * knvram_emergency_sync() - the power is failing: sync every partition now
 *
 * Freezes every partition (writes and commits then fail with -ESHUTDOWN
 * until knvram_emergency_end()) and writes its committed state to the
 * backend. A commit that is half published when this runs is written
 * whole. Backends that can write in any context are written before this
 * returns; the others are synced by a high-priority worker as soon as
 * possible, and the power supply's hold-up time must cover that.
 *
 * Context: Any context, NMI included: takes no lock and sleeps on nothing.
 * Return: 0, or the first backend error.
 */
int knvram_emergency_sync(void)
{
	struct knvram_partition *part;
	bool deferred = false;
	int ret = 0;

	WRITE_ONCE(knvram_power_failing, true);
	/* Pairs with knvram_freeze_new(): the flag, then the walk. */
	smp_mb();
	/*
	 * The list is RCU-protected; partitions leave it, and are waited
	 * for with synchronize_rcu(), before their backend goes away.
	 */
	rcu_read_lock();
	list_for_each_entry_rcu(part, &knvram_partitions, all_node) {
		long state = atomic_long_fetch_or(KNVRAM_FROZEN,
						  &part->pubstate);
		struct knvram_txn *txn;
		int err;

		if (!(part->be->flags & KNVRAM_BACKEND_NMI_SAFE)) {
			deferred = true;
			continue;
		}
		/*
		 * Fully ordered with the commit's cmpxchg: if a commit is
		 * publishing, @txn is complete and is written in place of
		 * the half-updated shadow; it is freed only after RCU.
		 */
		txn = (struct knvram_txn *)(state & ~KNVRAM_FROZEN);
		err = knvram_media_sync(part, txn, true);
		if (err && !ret)
			ret = err;
	}
	rcu_read_unlock();

	if (deferred && !READ_ONCE(knvram_deferred_pending)) {
		WRITE_ONCE(knvram_deferred_pending, true);
		irq_work_queue(&knvram_deferred_irq_work);
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(knvram_emergency_sync, KNVRAM);

/**
 * knvram_emergency_end() - the power is back: accept changes again
 *
 * Context: Any context.
 */
void knvram_emergency_end(void)
{
	struct knvram_partition *part;

	WRITE_ONCE(knvram_power_failing, false);
	rcu_read_lock();
	list_for_each_entry_rcu(part, &knvram_partitions, all_node)
		atomic_long_andnot(KNVRAM_FROZEN, &part->pubstate);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(knvram_emergency_end, KNVRAM);

/*
 * A partition added while the power fails is frozen like the others: either
 * the emergency sync's walk of the list sees it, or (full barriers on both
 * sides) it sees knvram_power_failing.
 */
static void knvram_freeze_new(struct knvram_partition *part)
{
	/* Pairs with knvram_emergency_sync(): on the list, then the flag. */
	smp_mb();
	if (READ_ONCE(knvram_power_failing))
		atomic_long_or(KNVRAM_FROZEN, &part->pubstate);
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
	strscpy(part->name, info->name);
	mutex_init(&part->lock);
	mutex_init(&part->sync_lock);
	init_rwsem(&part->publish_lock);
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

	minor = ida_alloc_max(&knvram_minors, KNVRAM_MINORS - 1, GFP_KERNEL);
	if (minor < 0)
		return minor;
	part->dev.devt = MKDEV(MAJOR(knvram_devt), minor);

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
 * overlaps another partition, -EUCLEAN if the media holds no valid bank
 * and is not blank, -ENOMEM, or the backend's error.
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
		WRITE_ONCE(part->dead, true);

	/* Nothing committed is lost: write it before the backend goes. */
	scoped_guard(mutex, &part->sync_lock) {
		ret = knvram_media_sync(part, NULL, false);
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
		part = knvram_partition_create(be, &info);
		if (IS_ERR(part))
			dev_err(be->dev, "%pOF: partition '%s' not created: %pe\n",
				child, info.name, part);
	}
}

/**
 * __knvram_backend_register() - register a backend
 * @config: Description of the backend; copied.
 * @owner:  Module of the provider; use knvram_backend_register().
 *
 * Creates the fixed partitions of the "partitions" child of the
 * devicetree node of @config->dev, if any.
 *
 * Context: Process context; sleeps.
 * Return: The backend, or ERR_PTR(-EINVAL) for a config the core cannot
 * use, -EEXIST for a name in use, -ENOMEM.
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
	    bs > KNVRAM_MAX_BLOCK || !is_power_of_2(wu) ||
	    wu > KNVRAM_MAX_WRITE_UNIT || config->flags & ~KNVRAM_BACKEND_NMI_SAFE)
		return ERR_PTR(-EINVAL);

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
	/* A deferred emergency sync may still be walking the old list. */
	flush_work(&knvram_deferred_work);
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
	ret = alloc_chrdev_region(&knvram_devt, 0, KNVRAM_MINORS, "knvram");
	if (ret)
		goto err_wq;
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
	unregister_chrdev_region(knvram_devt, KNVRAM_MINORS);
err_wq:
	destroy_workqueue(knvram_wq);
	return ret;
}

static void __exit knvram_exit(void)
{
	knvram_configfs_exit();
	irq_work_sync(&knvram_deferred_irq_work);
	flush_work(&knvram_deferred_work);
	class_unregister(&knvram_class);
	unregister_chrdev_region(knvram_devt, KNVRAM_MINORS);
	/* Transactions waiting for a grace period, then for the worker. */
	rcu_barrier();
	destroy_workqueue(knvram_wq);
}

module_init(knvram_init);
module_exit(knvram_exit);

MODULE_DESCRIPTION("knvram: non-volatile RAM partitions with transactions");
MODULE_LICENSE("GPL");
