// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram data path: committed blocks, transactions, reads and writes.
 *
 * The committed state of a partition is an array of blocks, each an
 * immutable struct knvram_blk, kept in two copies that form a latch:
 *
 *	state = part->state (atomic_long_t): sequence << 8 | ESYNC | FROZEN
 *	map[seq & 1]   the copy readers use
 *	map[!(seq & 1)] the copy the one writer may change
 *
 * A commit changes the spare copy, flips the sequence with one cmpxchg of
 * @state (which fails if the partition is frozen: that is the commit's
 * point of no return), then makes the other copy equal. A reader reads the
 * copy that the sequence names and retries if the sequence moved (see
 * raw_read_seqcount_latch()); a reader never waits for a writer, and the
 * emergency sync, which cannot retry in NMI, reads the copy named by the
 * state it froze: no flip succeeds after that, so no writer changes it.
 *
 * Blocks replaced by a commit are freed, or reused by the writer's pool,
 * only after an RCU grace period: readers copy from the blocks they found
 * in the latch inside rcu_read_lock(). The one exception is a block that a
 * running sync is writing to the media (@pinned): the commit hands it to
 * the sync, which retires it when it is done.
 *
 * The writer stages a transaction in private blocks (@txn); user data is
 * copied into a fresh block, or through a bounce buffer into a block the
 * transaction already holds, so that a fault changes nothing. Checksums
 * are not computed on this path: a worker computes them after the commit,
 * and a sync computes any it finds missing.
 */

#include <linux/bitmap.h>
#include <linux/cleanup.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "knvram-internal.h"

/* Free blocks the pool keeps for the writer beyond what it needs. */
#define KNVRAM_POOL_KEEP	16
/* Reads of up to this many blocks snapshot their pointers on the stack. */
#define KNVRAM_READ_STACK	16
/* Writes of up to this many bytes into a staged block bounce on the stack. */
#define KNVRAM_BOUNCE_STACK	64

/* ------------------------------------------------------------------ */
/* Blocks and the pool */

static struct knvram_blk *knvram_blk_alloc(struct knvram_partition *part)
{
	struct knvram_blk *blk;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL_ACCOUNT);
	if (!blk)
		return NULL;
	blk->data = kvmalloc(part->bs, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!blk->data) {
		kfree(blk);
		return NULL;
	}
	return blk;
}

static void knvram_blk_free(struct knvram_blk *blk)
{
	kvfree(blk->data);
	kfree(blk);
}

/**
 * knvram_blk_get() - a block for the writer to stage data in
 * @part: Partition.
 *
 * From the pool when it has one (a free block, or a retired one whose
 * grace period is over), else newly allocated, charged to the caller's
 * memory cgroup.
 *
 * Context: Process context; may sleep to allocate.
 * Return: The block (its data undefined), or NULL.
 */
struct knvram_blk *knvram_blk_get(struct knvram_partition *part)
{
	struct knvram_blk *blk = NULL;

	scoped_guard(spinlock, &part->pool_lock) {
		blk = list_first_entry_or_null(&part->pool_free,
					       struct knvram_blk, node);
		if (blk) {
			part->pool_nfree--;
		} else {
			blk = list_first_entry_or_null(&part->pool_retired,
						       struct knvram_blk, node);
			if (blk && !poll_state_synchronize_rcu(blk->cookie))
				blk = NULL;
		}
		if (blk)
			list_del(&blk->node);
	}
	if (!blk)
		blk = knvram_blk_alloc(part);
	if (blk) {
		blk->crc_ok = false;
		blk->ver = 0;
	}
	return blk;
}

/*
 * Free what the pool holds beyond KNVRAM_POOL_KEEP and no reader can see.
 * Blocks still in their grace period stay retired, and the trim is queued
 * again to run after a grace period: a partition that goes idle after a
 * large commit gives that memory back.
 */
static void knvram_pool_trim(struct knvram_partition *part)
{
	LIST_HEAD(gone);
	struct knvram_blk *blk, *tmp;
	bool again;

	scoped_guard(spinlock, &part->pool_lock) {
		list_for_each_entry_safe(blk, tmp, &part->pool_retired, node) {
			if (!poll_state_synchronize_rcu(blk->cookie))
				break;
			if (part->pool_nfree < KNVRAM_POOL_KEEP) {
				list_move(&blk->node, &part->pool_free);
				part->pool_nfree++;
			} else {
				list_move(&blk->node, &gone);
			}
		}
		again = !list_empty(&part->pool_retired);
	}
	list_for_each_entry_safe(blk, tmp, &gone, node)
		knvram_blk_free(blk);
	if (again)
		queue_rcu_work(system_unbound_wq, &part->trim_work);
}

static void knvram_trim_work(struct work_struct *work)
{
	knvram_pool_trim(container_of(to_rcu_work(work),
				      struct knvram_partition, trim_work));
}

/**
 * knvram_pool_drain() - free every block the pool holds
 * @part: Partition.
 *
 * For tests that need the writer's next blocks to be allocated.
 *
 * Context: Process context; waits for an RCU grace period.
 */
VISIBLE_IF_KUNIT void knvram_pool_drain(struct knvram_partition *part)
{
	struct knvram_blk *blk, *tmp;
	LIST_HEAD(gone);

	synchronize_rcu();
	scoped_guard(spinlock, &part->pool_lock) {
		list_splice_init(&part->pool_free, &gone);
		list_splice_init(&part->pool_retired, &gone);
		part->pool_nfree = 0;
	}
	list_for_each_entry_safe(blk, tmp, &gone, node)
		knvram_blk_free(blk);
}
EXPORT_SYMBOL_IF_KUNIT(knvram_pool_drain);

/**
 * knvram_blk_put() - give back a block that no one else has seen
 * @part: Partition.
 * @blk:  A staged block that was never committed.
 */
void knvram_blk_put(struct knvram_partition *part, struct knvram_blk *blk)
{
	scoped_guard(spinlock, &part->pool_lock) {
		if (part->pool_nfree < KNVRAM_POOL_KEEP) {
			list_add(&blk->node, &part->pool_free);
			part->pool_nfree++;
			return;
		}
	}
	knvram_blk_free(blk);
}

/**
 * knvram_blk_retire() - a committed block was replaced
 * @part: Partition.
 * @blk:  The block; readers may still copy from it until a grace period
 *        has passed.
 */
void knvram_blk_retire(struct knvram_partition *part, struct knvram_blk *blk)
{
	blk->cookie = get_state_synchronize_rcu();
	scoped_guard(spinlock, &part->pool_lock)
		list_add_tail(&blk->node, &part->pool_retired);
}

/**
 * knvram_blk_crc() - the checksum of a committed block
 * @part: Partition.
 * @blk:  Committed block.
 *
 * Computes and records it if no one has yet. Several contexts may compute
 * it at once (the worker, a sync, the emergency sync): they store the same
 * value.
 *
 * Context: Any context, NMI included.
 * Return: knvram_crc() of the block's data.
 */
u32 knvram_blk_crc(struct knvram_partition *part, struct knvram_blk *blk)
{
	u32 crc;

	/* Pairs with the smp_store_release() below: @crc is valid. */
	if (smp_load_acquire(&blk->crc_ok))
		return READ_ONCE(blk->crc);
	crc = knvram_crc(blk->data, part->bs);
	WRITE_ONCE(blk->crc, crc);
	/* Pairs with the smp_load_acquire() above: @crc before the flag. */
	smp_store_release(&blk->crc_ok, true);
	return crc;
}

/*
 * The committed block @b, for a reader inside rcu_read_lock(): read from
 * the latch copy the sequence names, again if the sequence moved meanwhile
 * (the copy may then have been changing). Pairs with LMM(knvram_commit:flip).
 */
static struct knvram_blk *knvram_committed_blk(struct knvram_partition *part,
					       unsigned long b)
{
	struct knvram_blk *blk;
	long s;

	do {
		s = atomic_long_read_acquire(&part->state);
		blk = READ_ONCE(part->map[knvram_latch_copy(s)][b]);
		/* The copy before the re-read of the sequence, as in a latch. */
		smp_rmb();
	} while ((atomic_long_read(&part->state) ^ s) >> KNVRAM_SEQ_SHIFT);
	return blk;
}

/* Checksums of newly committed blocks, soon after the commit. */
static void knvram_crc_work(struct work_struct *work)
{
	struct knvram_partition *part = container_of(work,
						     struct knvram_partition,
						     crc_work);
	unsigned long b;

	for_each_set_bit(b, part->crc_todo, part->nblocks) {
		if (!test_and_clear_bit(b, part->crc_todo))
			continue;
		/* After the bit: a commit sets the bit after its flip. */
		smp_mb__after_atomic();
		rcu_read_lock();
		knvram_blk_crc(part, knvram_committed_blk(part, b));
		rcu_read_unlock();
		cond_resched();
	}
	knvram_pool_trim(part);
	/* After the commit that queued us: poll() sees its sequence. */
	knvram_poll_wake(part);
}

/**
 * knvram_io_init() - initialise what knvram_io_free() relies on
 * @part: A new partition.
 */
void knvram_io_init(struct knvram_partition *part)
{
	spin_lock_init(&part->map_lock);
	spin_lock_init(&part->pool_lock);
	INIT_LIST_HEAD(&part->pool_free);
	INIT_LIST_HEAD(&part->pool_retired);
	INIT_LIST_HEAD(&part->handed);
	INIT_WORK(&part->crc_work, knvram_crc_work);
	INIT_RCU_WORK(&part->trim_work, knvram_trim_work);
	atomic_set(&part->io_cpu, -1);
}

/**
 * knvram_io_alloc() - allocate a partition's blocks and tables
 * @part: Partition with its geometry set.
 *
 * Every block is zeroed; knvram_media_load() or knvram_format() fills
 * them. Sizes come from the partition's geometry, which the caller has
 * validated against the backend.
 *
 * Return: 0 or -ENOMEM.
 */
int knvram_io_alloc(struct knvram_partition *part)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN;
	u32 n = part->nblocks, i;
	/* The table is written in whole write units. */
	size_t tbytes = round_up((size_t)n * sizeof(__le32),
				 max_t(u32, part->be->write_unit,
				       sizeof(__le32)));

	for (i = 0; i < 2; i++) {
		part->map[i] = kvcalloc(n, sizeof(*part->map[i]), gfp);
		part->dirty[i] = bitmap_zalloc(n, gfp);
		part->bank_ver[i] = kvcalloc(n, sizeof(u64), gfp);
		part->crc[i] = kvzalloc(tbytes, gfp);
		part->tpend[i] = bitmap_zalloc(n, gfp);
		if (!part->map[i] || !part->dirty[i] || !part->bank_ver[i] ||
		    !part->crc[i] || !part->tpend[i])
			return -ENOMEM;
	}
	part->pinned = bitmap_zalloc(n, gfp);
	part->txn_map = bitmap_zalloc(n, gfp);
	part->crc_todo = bitmap_zalloc(n, gfp);
	part->snap = kvcalloc(n, sizeof(*part->snap), gfp);
	part->txn = kvcalloc(n, sizeof(*part->txn), gfp);
	part->bounce = kvmalloc(part->bs, gfp);
	if (!part->pinned || !part->txn_map || !part->crc_todo ||
	    !part->snap || !part->txn || !part->bounce)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		struct knvram_blk *blk = knvram_blk_alloc(part);

		if (!blk)
			return -ENOMEM;
		memset(blk->data, 0, part->bs);
		part->map[0][i] = blk;
		part->map[1][i] = blk;
	}
	return 0;
}

/**
 * knvram_io_free() - free what knvram_io_alloc() allocated
 * @part: Partition that no one can reach any more.
 */
void knvram_io_free(struct knvram_partition *part)
{
	struct knvram_blk *blk, *tmp;
	u32 i;

	cancel_work_sync(&part->crc_work);
	/*
	 * The trim queues itself again while blocks wait for their grace
	 * period; none is retired any more, so it stops after one more run.
	 * The requeue sets the pending bit before the run returns, which
	 * flush_rcu_work() waits for.
	 */
	do {
		flush_rcu_work(&part->trim_work);
	} while (work_pending(&part->trim_work.work));
	if (part->map[0]) {
		for (i = 0; i < part->nblocks; i++)
			if (part->map[0][i])
				knvram_blk_free(part->map[0][i]);
	}
	if (part->txn) {
		for (i = 0; i < part->nblocks; i++)
			if (part->txn[i])
				knvram_blk_free(part->txn[i]);
	}
	/* Retired blocks: whoever could see them is gone (see release). */
	list_splice_init(&part->pool_retired, &part->pool_free);
	list_splice_init(&part->handed, &part->pool_free);
	list_for_each_entry_safe(blk, tmp, &part->pool_free, node)
		knvram_blk_free(blk);
	for (i = 0; i < 2; i++) {
		kvfree(part->map[i]);
		bitmap_free(part->dirty[i]);
		kvfree(part->bank_ver[i]);
		kvfree(part->crc[i]);
		bitmap_free(part->tpend[i]);
	}
	bitmap_free(part->pinned);
	bitmap_free(part->txn_map);
	bitmap_free(part->crc_todo);
	kvfree(part->snap);
	kvfree(part->txn);
	kvfree(part->bounce);
}

/* ------------------------------------------------------------------ */
/* Transactions */

/* The transaction is empty again: clear @txn_map's range. */
static void knvram_txn_clear(struct knvram_partition *part)
{
	bitmap_clear(part->txn_map, part->txn_lo,
		     part->txn_end - part->txn_lo);
	part->txn_lo = 0;
	part->txn_end = 0;
	part->txn_n = 0;
}

/* Add block @b, staged in @blk, to the writer's transaction. */
static void knvram_txn_add(struct knvram_partition *part, unsigned long b,
			   struct knvram_blk *blk)
{
	part->txn[b] = blk;
	__set_bit(b, part->txn_map);
	if (!part->txn_n++) {
		part->txn_lo = b;
		part->txn_end = b + 1;
	} else {
		part->txn_lo = min_t(u32, part->txn_lo, b);
		part->txn_end = max_t(u32, part->txn_end, b + 1);
	}
}

/**
 * knvram_txn_drop() - abort the writer's transaction
 * @part: Partition; the caller is its writer.
 */
void knvram_txn_drop(struct knvram_partition *part)
{
	unsigned long b;

	b = part->txn_lo;
	for_each_set_bit_from(b, part->txn_map, part->txn_end) {
		knvram_blk_put(part, part->txn[b]);
		part->txn[b] = NULL;
	}
	knvram_txn_clear(part);
}

/*
 * Publish the writer's transaction. Only the writer changes @map, and only
 * here; @map_lock keeps a sync's snapshot out meanwhile.
 *
 * The flip is the commit: a cmpxchg of @state from a value without
 * FROZEN and without emergency syncs to the next sequence. The emergency
 * sync freezes with a cmpxchg of the same word (knvram_emergency_freeze()):
 * the two are ordered, and
 *  - if the flip came first, the state the emergency sync froze names the
 *    new copy, which this function completed before the flip (the cmpxchg
 *    is fully ordered: LMM(knvram_commit:flip) pairs with
 *    LMM(knvram_emergency_freeze)), and no later flip can succeed, so it
 *    is never changed while the emergency sync reads it;
 *  - if the freeze came first, the flip fails, the spare copy is put back
 *    and the commit returns -ESHUTDOWN with the transaction still open.
 * The dirty hints are set before the flip, so an emergency sync that froze
 * after it finds them.
 */
VISIBLE_IF_KUNIT int knvram_commit(struct knvram_partition *part, bool nonblock)
{
	unsigned long b;
	unsigned int cur, nxt;
	long s;
	u64 ver;

	spin_lock(&part->map_lock);
	s = atomic_long_read(&part->state);
	for (;;) {
		/*
		 * The handle's check (knvram_call_begin()) came before the
		 * removal, but the final sync may have taken its snapshot:
		 * a commit now would be lost. The removal sets @dead under
		 * @map_lock before that snapshot (knvram_set_dead()).
		 */
		if (part->dead) {
			spin_unlock(&part->map_lock);
			return -ENODEV;
		}
		if (s & KNVRAM_FROZEN) {
			spin_unlock(&part->map_lock);
			return -ESHUTDOWN;
		}
		if (!(s & KNVRAM_ESYNC_MASK))
			break;
		/*
		 * The power came back while an emergency sync still reads
		 * the frozen copy: it ends in bounded time.
		 */
		spin_unlock(&part->map_lock);
		if (nonblock)
			return -EAGAIN;
		cpu_relax();
		spin_lock(&part->map_lock);
		s = atomic_long_read(&part->state);
	}

	cur = knvram_latch_copy(s);
	nxt = !cur;
	ver = part->commit_seq + 1;
	b = part->txn_lo;
	for_each_set_bit_from(b, part->txn_map, part->txn_end) {
		part->txn[b]->ver = ver;
		WRITE_ONCE(part->map[nxt][b], part->txn[b]);
		set_bit(b, part->dirty[0]);
		set_bit(b, part->dirty[1]);
	}

	/* LMM(knvram_commit:flip) */
	if (!atomic_long_try_cmpxchg(&part->state, &s, s + KNVRAM_SEQ_ONE)) {
		/* Only a freeze changes @state under us. */
		b = part->txn_lo;
		for_each_set_bit_from(b, part->txn_map, part->txn_end)
			WRITE_ONCE(part->map[nxt][b], part->map[cur][b]);
		spin_unlock(&part->map_lock);
		return -ESHUTDOWN;
	}
	part->commit_seq = ver;

	/* Readers now use @nxt; bring @cur level, keep the old blocks. */
	b = part->txn_lo;
	for_each_set_bit_from(b, part->txn_map, part->txn_end) {
		struct knvram_blk *old = part->map[cur][b];

		WRITE_ONCE(part->map[cur][b], part->txn[b]);
		if (__test_and_clear_bit(b, part->pinned)) {
			/* A sync is writing @old: it retires it. */
			list_add_tail(&old->node, &part->handed);
			part->txn[b] = NULL;
		} else {
			part->txn[b] = old;
		}
		set_bit(b, part->crc_todo);
	}
	spin_unlock(&part->map_lock);

	b = part->txn_lo;
	for_each_set_bit_from(b, part->txn_map, part->txn_end) {
		if (part->txn[b])
			knvram_blk_retire(part, part->txn[b]);
		part->txn[b] = NULL;
	}
	knvram_txn_clear(part);
	queue_work(system_unbound_wq, &part->crc_work);
	atomic64_inc(&part->stats.commit_count);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_commit);

/* The committed block @b as the writer sees it (it alone changes @map). */
static struct knvram_blk *knvram_writer_blk(struct knvram_partition *part,
					    unsigned long b)
{
	return part->map[knvram_latch_copy(atomic_long_read(&part->state))][b];
}

/*
 * Stage [pos, pos + len) of @from into the writer's transaction, block by
 * block. Each block changes whole or not at all: user data goes into a
 * fresh block, or through a bounce buffer into one the transaction holds.
 * Return: bytes staged (short if a block could not be), or -errno if
 * none.
 */
static ssize_t knvram_stage(struct knvram_partition *part,
			    struct iov_iter *from, u64 pos, size_t len)
{
	size_t done = 0;

	while (done < len) {
		u64 off = pos + done;
		unsigned long b = div_u64(off, part->bs);
		u32 boff = off - (u64)b * part->bs;
		size_t n = min_t(size_t, len - done, part->bs - boff);
		struct knvram_blk *blk = part->txn[b];
		u8 small[KNVRAM_BOUNCE_STACK];
		int err = 0;

		if (!blk) {
			blk = knvram_blk_get(part);
			if (!blk) {
				err = -ENOMEM;
			} else if (copy_from_iter(blk->data + boff, n, from) != n) {
				knvram_blk_put(part, blk);
				err = -EFAULT;
			} else {
				const u8 *src = knvram_writer_blk(part, b)->data;

				memcpy(blk->data, src, boff);
				memcpy(blk->data + boff + n, src + boff + n,
				       part->bs - boff - n);
				knvram_txn_add(part, b, blk);
			}
		} else {
			u8 *bounce = n <= sizeof(small) ? small : part->bounce;

			if (copy_from_iter(bounce, n, from) != n)
				err = -EFAULT;
			else
				memcpy(blk->data + boff, bounce, n);
		}
		if (err) {
			iov_iter_revert(from, iov_iter_count(from) -
					(len - done));
			return done ?: err;
		}
		done += n;
	}
	return done;
}

/* ------------------------------------------------------------------ */
/* Reads and writes */

/*
 * A reader: snapshot the block pointers of the range from the latch, then
 * copy from those blocks inside one RCU read-side section, with page
 * faults off (a fault ends the copy; the pages are faulted in outside and
 * the whole read is done again from a new snapshot). The range is read
 * from one committed state: all old or all new.
 */
static ssize_t knvram_read_committed(struct knvram_partition *part,
				     struct iov_iter *to, u64 pos, size_t len)
{
	unsigned long first = div_u64(pos, part->bs);
	unsigned long n = div_u64(pos + len - 1, part->bs) - first + 1;
	struct knvram_blk *small[KNVRAM_READ_STACK];
	struct knvram_blk **blks = small, **map;
	ssize_t ret;

	if (n > ARRAY_SIZE(small)) {
		blks = kvmalloc_array(n, sizeof(*blks), GFP_KERNEL);
		if (!blks)
			return -ENOMEM;
	}

	for (;;) {
		unsigned long i;
		size_t done = 0;
		long s;

		rcu_read_lock();
		do {
			/* Pairs with LMM(knvram_commit:flip). */
			s = atomic_long_read_acquire(&part->state);
			map = part->map[knvram_latch_copy(s)];
			for (i = 0; i < n; i++)
				blks[i] = READ_ONCE(map[first + i]);
			/* The pointers before the re-read of the sequence. */
			smp_rmb();
		} while ((atomic_long_read(&part->state) ^ s) >>
			 KNVRAM_SEQ_SHIFT);

		pagefault_disable();
		for (i = 0; i < n && done < len; i++) {
			u64 off = pos + done;
			u32 boff = off - (u64)(first + i) * part->bs;
			size_t c = min_t(size_t, len - done, part->bs - boff);
			size_t got = copy_to_iter(blks[i]->data + boff, c, to);

			done += got;
			if (got != c)
				break;
		}
		pagefault_enable();
		rcu_read_unlock();
		if (done == len) {
			ret = done;
			break;
		}

		iov_iter_revert(to, done);
		len -= fault_in_iov_iter_writeable(to, len);
		if (!len) {
			ret = -EFAULT;
			break;
		}
	}
	if (blks != small)
		kvfree(blks);
	return ret;
}

ssize_t knvram_read_iter(struct knvram_handle *h, struct iov_iter *to,
			 loff_t *pos)
{
	struct knvram_partition *part = h->part;
	size_t len = iov_iter_count(to), done = 0;
	ssize_t ret;

	if (*pos < 0)
		return -EINVAL;
	CLASS(knvram_call, hl)(h, false);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (*pos >= part->size || !len)
		return 0;
	len = min_t(u64, len, part->size - *pos);

	if (part->writer == h) {
		/* The writer: its own blocks first; only it changes @map. */
		while (done < len) {
			u64 off = *pos + done;
			unsigned long b = div_u64(off, part->bs);
			u32 boff = off - (u64)b * part->bs;
			size_t n = min_t(size_t, len - done, part->bs - boff);
			struct knvram_blk *blk = part->txn[b] ?:
						 knvram_writer_blk(part, b);
			size_t copied = copy_to_iter(blk->data + boff, n, to);

			done += copied;
			if (copied != n)
				break;
		}
	} else {
		ret = knvram_read_committed(part, to, *pos, len);
		if (ret < 0)
			return ret;
		done = ret;
	}

	if (!done)
		return -EFAULT;
	*pos += done;
	return done;
}

ssize_t knvram_write_iter(struct knvram_handle *h, struct iov_iter *from,
			  loff_t *pos)
{
	struct knvram_partition *part = h->part;
	size_t len = iov_iter_count(from);
	bool implicit;
	ssize_t ret;
	int err;

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
	/* A buffer that cannot be read at all changes nothing. */
	if (fault_in_iov_iter_readable(from, len))
		return -EFAULT;

	implicit = !h->in_txn && !h->autot;
	/* O_SYNC and O_NONBLOCK: fail now rather than wait for a sync later. */
	if (implicit && (h->flags & (KNVRAM_SYNC | KNVRAM_NONBLOCK)) ==
	    (KNVRAM_SYNC | KNVRAM_NONBLOCK) && mutex_is_locked(&part->sync_mutex))
		return -EAGAIN;

	ret = knvram_stage(part, from, *pos, len);
	if (ret < 0) {
		if (!h->in_txn)
			knvram_txn_drop(part);
		return ret;
	}

	if (implicit) {
		/* A write outside a transaction is a transaction of one. */
		err = knvram_commit(part, h->flags & KNVRAM_NONBLOCK);
		if (err) {
			knvram_txn_drop(part);
			iov_iter_revert(from, ret);
			return err;
		}
		*pos += ret;
		/* As for files: the write happened even if the sync fails. */
		if (h->flags & KNVRAM_SYNC) {
			err = knvram_sync_part(part, h->flags & KNVRAM_NONBLOCK);
			if (err)
				return err;
		}
		return ret;
	}
	h->in_txn = true;
	*pos += ret;
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
 * whole range, all old or all new data. A read never waits for a commit
 * or a sync.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: Bytes read (0 at or past the end), or -ENODEV if the partition
 * was removed, -EAGAIN if non-blocking and another call on the same handle
 * is running, -EINVAL for a negative @pos.
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
 * A write crossing the end of the partition is short. The write touches
 * memory only; it never waits for a sync.
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
 * Return: 0, -EALREADY if one is open, -EBADF (reader), -ENODEV, -EAGAIN.
 */
int knvram_tbegin(struct knvram_handle *h)
{
	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (h->in_txn)
		return -EALREADY;
	h->in_txn = true;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(knvram_tbegin, KNVRAM);

/**
 * knvram_tcommit() - publish the open transaction
 * @h: Handle with an open transaction.
 *
 * Every write of the transaction becomes visible to all handles at once.
 * The commit swaps the transaction's blocks in: its cost grows with the
 * number of blocks, not their size, and it never waits for a sync. With
 * %KNVRAM_SYNC the committed state is synced before returning.
 *
 * Context: Process context; sleeps unless the handle is non-blocking.
 * Return: 0; -EINVAL if no transaction is open; -ESHUTDOWN if the power is
 * failing, -EAGAIN if non-blocking and it would wait (the transaction
 * stays open in both cases); -EBADF, -ENODEV; or a sync error with
 * %KNVRAM_SYNC (the commit itself happened).
 */
int knvram_tcommit(struct knvram_handle *h)
{
	struct knvram_partition *part = h->part;
	bool nonblock = h->flags & KNVRAM_NONBLOCK;
	int ret;

	CLASS(knvram_call, hl)(h, true);
	if (IS_ERR(hl))
		return PTR_ERR(hl);

	if (!h->in_txn)
		return -EINVAL;
	if ((h->flags & KNVRAM_SYNC) && nonblock &&
	    mutex_is_locked(&part->sync_mutex))
		return -EAGAIN;
	ret = knvram_commit(part, nonblock);
	if (ret)
		return ret;
	h->in_txn = false;
	if (h->flags & KNVRAM_SYNC)
		return knvram_sync_part(part, nonblock);
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

	if (!h->in_txn)
		return -EINVAL;
	knvram_txn_drop(h->part);
	h->in_txn = false;
	atomic64_inc(&h->part->stats.abort_count);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(knvram_tabort, KNVRAM);
