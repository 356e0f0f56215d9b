// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram emergency sync: the power is failing, write what is committed.
 *
 * knvram_emergency_sync() runs in any context, NMI included, and takes no
 * lock. For each partition it does three things:
 *
 * 1. Freeze (knvram_emergency_freeze()). One cmpxchg of @state sets FROZEN
 *    and adds one to the count of emergency syncs reading the partition
 *    (ESYNC). The value it replaced names, in its latch sequence, the copy
 *    of the block map that holds the last committed state. A commit
 *    publishes with a cmpxchg of the same word that requires FROZEN and
 *    ESYNC clear (knvram_commit() in knvram-io.c), so the two are totally
 *    ordered:
 *    a. commit flip, then freeze: the freeze reads the new sequence; the
 *       commit finished the copy it names before its flip (both cmpxchgs
 *       are fully ordered: LMM(knvram_commit:flip) pairs with
 *       LMM(knvram_emergency_freeze)), and only a later flip would make
 *       the commit touch that copy again;
 *    b. freeze, then commit flip: the flip fails, the commit restores its
 *       spare copy (which the emergency sync does not read) and returns
 *       -ESHUTDOWN; the transaction stays open.
 *    So the emergency sync always reads a complete committed state that
 *    no one changes while it runs, without waiting: it may have
 *    interrupted the committer on its own CPU (case b, or a committer
 *    between its flip and the end of its second copy, case a). Every
 *    commit that returned 0 before knvram_emergency_sync() was called is
 *    in it. While ESYNC is not zero no commit flips, even after
 *    knvram_emergency_end() cleared FROZEN: commits wait for the count to
 *    drop (bounded: the emergency syncs are running).
 *
 * 2. Own the media (knvram_emergency_claim()). A normal sync of the same
 *    partition may be writing the same bank from an older snapshot. Each
 *    of its backend calls is bracketed by knvram_io_begin()/_end(), which
 *    publish the calling CPU in @io_cpu and then read @media; the
 *    emergency sync claims @media and then reads @io_cpu. Both sides have
 *    a full barrier between their store and their load (LMM(io_begin)
 *    pairs with LMM(emergency_claim)), so at least one sees the other:
 *    a. the sync sees the claim: it makes no backend call and restarts
 *       once the claim is released (its next snapshot finds nothing left
 *       to write, or, if the power came back, what was committed since);
 *    b. the emergency sync sees a CPU in @io_cpu:
 *       - another CPU: that call runs with preemption disabled (backends
 *         that the emergency sync writes from atomic context never
 *         sleep), so the emergency sync spins until @io_cpu is -1, which
 *         knvram_io_end() stores with release after the call and its
 *         bookkeeping (LMM(io_end) pairs with the acquire in the spin);
 *       - its own CPU: it interrupted that call, which cannot finish
 *         before it returns. Writing now would let the rest of that call
 *         overwrite a block of the emergency sync's bank with older data.
 *         It sets HANDOFF instead; knvram_io_end(), right after the call
 *         (same CPU, preemption still disabled, so nothing else runs in
 *         between), sees it and runs the emergency write itself. The
 *         write is delayed by the remainder of one backend call.
 *    A second emergency sync of the partition (two power-fail sources, a
 *    line that fires again, an NMI over a hard IRQ) finds @media claimed.
 *    If the claim is its own CPU's, it interrupted the first (or a
 *    pending hand-off) and returns: the first finishes the same write
 *    from the same frozen copy once it resumes. If it interrupted a
 *    normal sync's backend call on its own CPU, the owner (another CPU)
 *    is waiting for that call to end: it returns too, and the owner
 *    writes once it has. Otherwise it waits for the claim to be
 *    released, so that the write is done when it returns.
 *
 * 3. Write (knvram_media_emergency() in knvram-media.c): the blocks of the
 *    frozen copy that the older bank lacks, their checksums (computed at
 *    commit time by a worker; computed here only for the newest blocks),
 *    its table, and its header. No allocation, no lock.
 *
 * Backends that cannot write in atomic context are frozen the same way
 * and marked; a high-priority worker then syncs them as a normal sync
 * would (under their sync mutex; a normal sync that took its snapshot
 * before the freeze restarts at its next backend call, so the worker waits
 * for one call at most). The worker walks the partitions under RCU and
 * holds a device reference while it writes: it waits for nothing that
 * admin actions or other partitions hold.
 */

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
#include <linux/preempt.h>
#include <linux/rculist.h>
#include <linux/smp.h>
#include <linux/workqueue.h>

#include "knvram-internal.h"

/* Between knvram_emergency_sync() and knvram_emergency_end(). */
static bool knvram_power_failing;

/**
 * knvram_frozen() - does the partition refuse changes?
 * @part: Partition.
 *
 * Return: true between an emergency sync and knvram_emergency_end().
 */
bool knvram_frozen(struct knvram_partition *part)
{
	return atomic_long_read(&part->state) & KNVRAM_FROZEN;
}

/*
 * Freeze @part and count this emergency sync as a reader of the frozen
 * copy (@count), or only freeze. Return: @state before.
 */
static long knvram_emergency_freeze(struct knvram_partition *part, bool count)
{
	long s = atomic_long_read(&part->state), n;

	do {
		n = s | KNVRAM_FROZEN;
		if (count) {
			/* 127 at once: as many as there are power-fail lines. */
			if (WARN_ON_ONCE((n & KNVRAM_ESYNC_MASK) ==
					 KNVRAM_ESYNC_MASK))
				return -1;
			n += KNVRAM_ESYNC_ONE;
		}
		/* LMM(knvram_emergency_freeze): pairs with knvram_commit:flip. */
	} while (!atomic_long_try_cmpxchg(&part->state, &s, n));
	return s;
}

static void knvram_emergency_unfreeze_count(struct knvram_partition *part)
{
	atomic_long_sub(KNVRAM_ESYNC_ONE, &part->state);
}

/* Write the frozen copy, give the media back, drop the reader count. */
static int knvram_emergency_write(struct knvram_partition *part, long state)
{
	u64 t0 = ktime_get_mono_fast_ns();
	int ret = knvram_media_emergency(part, state);

	atomic64_inc(&part->stats.emergency_sync_count);
	atomic64_set(&part->stats.emergency_sync_last_ns,
		     ktime_get_mono_fast_ns() - t0);
	if (ret)
		atomic64_inc(&part->stats.sync_errors);
	/* The bank and its bookkeeping are complete before the release. */
	atomic_set_release(&part->media, 0);
	knvram_emergency_unfreeze_count(part);
	return ret;
}

/* Wait, on another CPU, until a claim of @part's media is released. */
static void knvram_emergency_wait_media(struct knvram_partition *part)
{
	int m;

	while ((m = atomic_read_acquire(&part->media))) {
		if ((m >> KNVRAM_MEDIA_CPU_SHIFT) == raw_smp_processor_id())
			return;	/* ours: it resumes when we return */
		cpu_relax();
	}
}

/* Steps 2 and 3 for a backend that writes in any context. */
static int knvram_emergency_claim(struct knvram_partition *part, long state)
{
	int cpu = raw_smp_processor_id();
	int claim = KNVRAM_MEDIA_CLAIM | (cpu << KNVRAM_MEDIA_CPU_SHIFT);
	int old = 0;

	if (!atomic_try_cmpxchg(&part->media, &old, claim)) {
		knvram_emergency_unfreeze_count(part);
		/*
		 * The owner may be another CPU waiting for the backend call
		 * that we interrupted: waiting here would deadlock. It
		 * writes once we return.
		 */
		if (atomic_read(&part->io_cpu) != cpu)
			knvram_emergency_wait_media(part);
		return 0;
	}
	/* LMM(emergency_claim): pairs with LMM(io_begin). */
	smp_mb__after_atomic();
	if (atomic_read(&part->io_cpu) == cpu) {
		/* We interrupted a normal sync's backend call: hand off. */
		WRITE_ONCE(part->esync_state, state);
		atomic_or(KNVRAM_MEDIA_HANDOFF, &part->media);
		return 0;
	}
	/* Pairs with LMM(io_end): its bookkeeping is visible. */
	while (atomic_read_acquire(&part->io_cpu) != -1)
		cpu_relax();
	return knvram_emergency_write(part, state);
}

/**
 * knvram_io_begin() - a normal sync is about to call its backend
 * @part:        Partition; the caller holds its sync mutex.
 * @snap_frozen: The sync's snapshot was taken while the partition was
 *               frozen (it is the final state).
 *
 * For a backend that the emergency sync writes from atomic context, this
 * disables preemption until knvram_io_end(), and refuses while an
 * emergency sync owns the media. For the others, it refuses once the
 * partition froze after the snapshot, so that the sync starts again with
 * the final state.
 *
 * Return: 0, or -EAGAIN: do not call the backend; restart the sync after
 * knvram_io_end() (which must be called either way).
 */
int knvram_io_begin(struct knvram_partition *part, bool snap_frozen)
{
	if (!(part->be->flags & KNVRAM_BACKEND_NMI_SAFE))
		return !snap_frozen && knvram_frozen(part) ? -EAGAIN : 0;

	preempt_disable();
	atomic_set(&part->io_cpu, smp_processor_id());
	/* LMM(io_begin): pairs with LMM(emergency_claim). */
	smp_mb__after_atomic();
	return atomic_read(&part->media) ? -EAGAIN : 0;
}

/**
 * knvram_io_end() - the backend call of knvram_io_begin() is done
 * @part: Partition.
 *
 * Runs the emergency write that an emergency sync handed off to this CPU.
 */
void knvram_io_end(struct knvram_partition *part)
{
	if (!(part->be->flags & KNVRAM_BACKEND_NMI_SAFE))
		return;

	/* LMM(io_end): the call and its bookkeeping before the release. */
	atomic_set_release(&part->io_cpu, -1);
	/*
	 * An emergency sync that interrupted us set HANDOFF before it
	 * returned to us: program order on this CPU, no barrier needed.
	 */
	if (atomic_read(&part->media) & KNVRAM_MEDIA_HANDOFF)
		knvram_emergency_write(part, READ_ONCE(part->esync_state));
	preempt_enable();
}

/* ------------------------------------------------------------------ */
/* Backends that cannot write in atomic context */

static void knvram_deferred_sync(struct work_struct *work);
static DECLARE_WORK(knvram_deferred_work, knvram_deferred_sync);

/* The next partition with a deferred emergency sync due, referenced. */
static struct knvram_partition *knvram_deferred_next(void)
{
	struct knvram_partition *part;

	guard(rcu)();
	list_for_each_entry_rcu(part, &knvram_partitions, all_node) {
		/*
		 * On the list, a partition holds its reference until a grace
		 * period after it leaves it: taking one here is safe.
		 */
		if (test_and_clear_bit(0, &part->esync_pending)) {
			get_device(&part->dev);
			return part;
		}
	}
	return NULL;
}

/*
 * The deferred emergency sync, as soon as it can get a CPU. The partitions
 * are frozen already, so the sync writes the final state.
 */
static void knvram_deferred_sync(struct work_struct *work)
{
	struct knvram_partition *part;

	while ((part = knvram_deferred_next())) {
		u64 t0;

		atomic64_inc(&part->stats.emergency_sync_deferred);
		t0 = ktime_get_mono_fast_ns();
		if (!knvram_sync_part(part, false)) {
			atomic64_inc(&part->stats.emergency_sync_count);
			atomic64_set(&part->stats.emergency_sync_last_ns,
				     ktime_get_mono_fast_ns() - t0);
		}
		put_device(&part->dev);
	}
}

static void knvram_deferred_kick(struct irq_work *work)
{
	queue_work(system_highpri_wq, &knvram_deferred_work);
}

static DEFINE_IRQ_WORK(knvram_deferred_irq_work, knvram_deferred_kick);

/**
 * knvram_emergency_flush() - wait for the deferred emergency sync
 */
void knvram_emergency_flush(void)
{
	irq_work_sync(&knvram_deferred_irq_work);
	flush_work(&knvram_deferred_work);
}

/**
 * knvram_emergency_exit() - module exit: nothing may still run
 */
void knvram_emergency_exit(void)
{
	knvram_emergency_flush();
}

/* ------------------------------------------------------------------ */

/**
 * knvram_emergency_sync() - the power is failing: sync every partition now
 *
 * Freezes every partition (writes and commits then fail with -ESHUTDOWN
 * until knvram_emergency_end()) and writes its last committed state to the
 * backend. Backends that can write in any context are written before this
 * returns (one that a normal sync of the same partition was writing from
 * this CPU, right after that backend call, in the interrupted context);
 * the others are synced by a high-priority worker as soon as possible,
 * and the power supply's hold-up time must cover that. Calls from several
 * CPUs, or nested in each other, write each partition once.
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
		long state;
		int err;

		if (!(part->be->flags & KNVRAM_BACKEND_NMI_SAFE)) {
			knvram_emergency_freeze(part, false);
			set_bit(0, &part->esync_pending);
			deferred = true;
			continue;
		}
		state = knvram_emergency_freeze(part, true);
		if (state < 0)
			continue;
		err = knvram_emergency_claim(part, state);
		if (err && !ret)
			ret = err;
	}
	rcu_read_unlock();

	if (deferred)
		irq_work_queue(&knvram_deferred_irq_work);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(knvram_emergency_sync, KNVRAM);

/**
 * knvram_emergency_end() - the power is back: accept changes again
 *
 * An emergency sync still running keeps commits waiting until it is done.
 *
 * Context: Any context.
 */
void knvram_emergency_end(void)
{
	struct knvram_partition *part;

	WRITE_ONCE(knvram_power_failing, false);
	/* Pairs with knvram_freeze_new(). */
	smp_mb();
	rcu_read_lock();
	list_for_each_entry_rcu(part, &knvram_partitions, all_node)
		atomic_long_andnot(KNVRAM_FROZEN, &part->state);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(knvram_emergency_end, KNVRAM);

/**
 * knvram_freeze_new() - freeze a new partition if the power is failing
 * @part: A partition just added to the list.
 *
 * Either the emergency sync's walk of the list sees it, or (full barriers
 * on both sides) this sees knvram_power_failing.
 */
void knvram_freeze_new(struct knvram_partition *part)
{
	/* Pairs with knvram_emergency_sync(): on the list, then the flag. */
	smp_mb();
	if (READ_ONCE(knvram_power_failing))
		atomic_long_or(KNVRAM_FROZEN, &part->state);
}
