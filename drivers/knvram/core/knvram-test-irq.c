// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "knvram_interleave": the emergency sync fired for real, from
 * a hard interrupt (a pinned hrtimer) or from an NMI (a PMU overflow, which
 * arm64 delivers as an NMI with pseudo-NMI on), on one CPU while a writer
 * commits and a syncer syncs in loops on CPU 0.
 *
 * The backend is a fake of its own here: media in RAM and, in most cases, a
 * per-CPU write-back cache in front of it. A write lands in the cache of the
 * CPU that issued it; a flush writes that CPU's cache (only) to the media,
 * as a cache clean and barrier of one CPU do on memory-mapped NVRAM. When an
 * emergency sync returns, the test copies the media as it is at that
 * instant: what the board keeps if the power dies right then, without the
 * unflushed writes of the other CPU. (If the emergency sync handed its
 * write to a normal sync it interrupted on its own CPU, or left it to the
 * other CPU's emergency sync that waits for that interrupted backend call,
 * the write is done once that call returns, and the copy is taken then.)
 * The caches are coherent: a write supersedes what the other CPU's cache
 * holds for the same bytes, as on real hardware. At the end of a round,
 * the caches are written back: what it keeps if the power held.
 *
 * Each commit is a transaction of a few blocks far apart, which depend on
 * its sequence number; every block it writes carries that number. A media
 * image is correct if it holds the state after one successful commit S,
 * every block as S left it, with S no older than the last commit that had
 * returned 0 before the emergency sync was called. And, since a commit that
 * is publishing when the partition freezes is part of the emergency sync,
 * while every later one fails, S must be the last commit that returned 0.
 *
 * The test uses the consumer and provider APIs, and looks inside the
 * partition only to see whether an emergency sync handed its write off.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hardirq.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/knvram.h>
#include <linux/knvram-provider.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/perf_event.h>
#include <linux/random.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "knvram-internal.h"

#define KI_BS		4096
#define KI_WU		8
#define KI_NBLOCKS	16
#define KI_SIZE		(KI_NBLOCKS * KI_BS)
#define KI_MEDIA	(512 * 1024)
#define KI_UNITS	(KI_MEDIA / KI_WU)
#define KI_BACKEND	"kunit-irq-nv"
#define KI_PART		"kunit-irq0"
/* A second partition, all dirty, to make an emergency sync last. */
#define KI_BALLAST	"kunit-irq1"
#define KI_CHK_BACKEND	"kunit-irq-chk"
/* Media images checked at once, as partitions of one checker backend. */
#define KI_BATCH	32
#define KI_MAGIC	0x4b495251	/* "KIRQ" */
#define KI_MAX_SEQ	BIT(16)
/* The writer's and the syncer's CPU; the other one is KI_OTHER_CPU. */
#define KI_LOOP_CPU	0
#define KI_OTHER_CPU	1
#define KI_CPUS		2
#define KI_SLOTS	2
/* Rounds per case: at least KI_ROUNDS_MIN, then until the budget is spent. */
#define KI_ROUNDS_MIN	8
#define KI_ROUNDS_MAX	400
#define KI_BUDGET_MS	2000
#define KI_WAIT_MS	3000
/* Cycles between PMU overflows: 5 ms at the 1 GHz QEMU's PMU counts. */
#define KI_PMU_PERIOD	5000000

/**
 * struct ki_fake - fake NMI-safe backend with per-CPU write-back caches
 * @mem:    The media: what survives a power cut.
 * @size:   Its size.
 * @cache:  Per CPU, bytes written and not yet flushed.
 * @dirty:  Per CPU, the write units of @cache not yet flushed.
 * @cached: Writes go to @cache (of CPUs 0 and 1) until flushed; when off,
 *          every write is durable when it returns.
 * @bad_io: Requests out of the media or not aligned to the write unit.
 *
 * The ops disable interrupts around their per-CPU work, so a hard IRQ on
 * the same CPU never sees a half-done one. An NMI could: cases where an NMI
 * interrupts a CPU that also runs backend I/O use @cached off.
 */
struct ki_fake {
	u8 *mem;
	size_t size;
	u8 *cache[KI_CPUS];
	unsigned long *dirty[KI_CPUS];
	bool cached;
	atomic_t bad_io;
};

/**
 * struct ki_slot - one emergency sync fired by the test
 * @ctx:       The test.
 * @timer:     The hrtimer that fires it (timer cases).
 * @cpu:       The CPU it fires on.
 * @expires:   When.
 * @end:       It calls knvram_emergency_end() instead.
 * @aim:       It waits for a normal sync to be running on CPU 0.
 * @freeze_ok: The last commit that had returned 0 when it was called.
 * @ret:       What knvram_emergency_sync() returned.
 * @t0:        When it was called (ktime_get_mono_fast_ns()).
 * @t1:        When it returned.
 * @after:     (@end) The emergency sync had returned before it began.
 * @nmi:       It ran in NMI.
 * @hardirq:   It ran in hard IRQ.
 * @ran_on:    The CPU it ran on.
 * @handoff:   Its write was still to be done when it returned (see above).
 * @snap:      The partition's media as it was when the emergency sync
 *             returned.
 */
struct ki_slot {
	struct ki_ctx *ctx;
	struct hrtimer timer;
	unsigned int cpu;
	ktime_t expires;
	bool end;
	bool aim;
	unsigned long freeze_ok;
	int ret;
	u64 t0;
	u64 t1;
	bool after;
	bool nmi;
	bool hardirq;
	int ran_on;
	bool handoff;
	u8 *snap;
};

/**
 * struct ki_image - a media image to check
 * @what:  Where it comes from, for messages.
 * @round: The round.
 * @held:  The power held: no older than the round's power-cut images.
 * @lo:    It must hold this commit or a later one.
 * @exact: It must hold this commit; -1 for any (from @lo on).
 */
struct ki_image {
	char what[64];
	unsigned int round;
	bool held;
	long lo;
	long exact;
};

/**
 * struct ki_ctx - state of one case
 * @test:       The test.
 * @dev:        Parent device of the backends.
 * @fake:       The backend of the partition under test.
 * @chk:        A second fake backend, to load copies of the media.
 * @be:         Its registration.
 * @part:       The partition the loops use.
 * @w:          The writer handle (the writer thread's during a round).
 * @rs:         A reader handle, the syncer thread's.
 * @ballast:    The writer of the second partition.
 * @seq:        The last sequence number used (each attempt takes one).
 * @last_ok:    The last commit that returned 0 (release/acquire).
 * @committed:  Bitmap of the commits that returned 0; 0 is the first one.
 * @fired:      Emergency syncs of this round that returned.
 * @end_clean:  knvram_emergency_end() ran after the emergency sync returned.
 * @end_done:   The end slot ran.
 * @check_lost: Count @lost: no knvram_emergency_end() in the round.
 * @slot:       The emergency syncs (and end) of a round.
 * @nslots:     Slots in use this round.
 * @writer:     The writer thread.
 * @syncer:     The syncer thread.
 * @wbuf:       The writer's block buffer.
 * @lost:       Commits that returned 0 though they began after an
 *              emergency sync had returned: the frozen flag was lost.
 * @stuck:      Commits refused though they began after a clean
 *              knvram_emergency_end(): the frozen flag was left behind.
 * @ok:         Commits that returned 0 (writer thread, this case).
 * @refused:    Commits that failed with -ESHUTDOWN.
 * @errors:     Commits that failed otherwise.
 * @last_err:   The last such error.
 * @syncs:      knvram_sync() calls that returned 0.
 * @sync_errs:  knvram_sync() calls that failed.
 * @overlaps:   Rounds where the end overlapped the emergency sync.
 * @missed:     Rounds where the end did not see the emergency sync begin.
 * @sync_ns:    Duration of the last emergency sync.
 * @load_ns:    Time spent loading media images.
 * @label:      Bytes of the label area, before the partition space.
 * @fp:         Media bytes of the partition.
 * @img:        Media images waiting to be checked (their partitions are
 *              in @chk, one after the other).
 * @nimg:       Entries of @img in use.
 * @checked:    Images checked.
 * @started:    The emergency sync of the round is being called.
 * @in_sync:    The syncer is in knvram_sync().
 * @normal_ns:  Duration of the syncer's last knvram_sync().
 * @aimed:      Emergency syncs that began during a normal sync.
 * @event:      The PMU counter (NMI cases).
 * @nmi_armed:  The PMU handler fires the emergency sync.
 * @nmi_claimed: The handler of this round has been taken.
 * @overflows:  PMU overflow handler calls.
 */
struct ki_ctx {
	struct kunit *test;
	struct device *dev;
	struct ki_fake fake;
	struct ki_fake chk;
	struct knvram_backend *be;
	struct knvram_partition *part;
	struct knvram_handle *w;
	struct knvram_handle *rs;
	struct knvram_handle *ballast;
	unsigned long seq;
	unsigned long last_ok;
	unsigned long *committed;
	atomic_t fired;
	bool end_clean;
	bool end_done;
	bool check_lost;
	struct ki_slot slot[KI_SLOTS];
	unsigned int nslots;
	struct task_struct *writer;
	struct task_struct *syncer;
	u32 *wbuf;
	atomic_t lost;
	atomic_t stuck;
	unsigned long ok;
	unsigned long refused;
	unsigned long errors;
	int last_err;
	unsigned long syncs;
	unsigned long sync_errs;
	unsigned int overlaps;
	unsigned int missed;
	u64 sync_ns;
	u64 load_ns;
	u64 label;
	u64 fp;
	struct ki_image img[KI_BATCH];
	unsigned int nimg;
	unsigned int checked;
	bool started;
	bool in_sync;
	u64 normal_ns;
	unsigned int aimed;
	struct perf_event *event;
	bool nmi_armed;
	atomic_t nmi_claimed;
	atomic_t overflows;
};

/* ------------------------------------------------------------------ */
/* The fake backend */

static bool ki_fake_bad(struct ki_fake *fake, u64 off, size_t len)
{
	if (off > fake->size || len > fake->size - off ||
	    !IS_ALIGNED(off, KI_WU) || !IS_ALIGNED(len, KI_WU)) {
		atomic_inc(&fake->bad_io);
		return true;
	}
	return false;
}

static int ki_fake_read(void *priv, u64 off, void *buf, size_t len)
{
	struct ki_fake *fake = priv;

	if (off > fake->size || len > fake->size - off) {
		atomic_inc(&fake->bad_io);
		return -EINVAL;
	}
	memcpy(buf, fake->mem + off, len);
	return 0;
}

static int ki_fake_write(void *priv, u64 off, const void *buf, size_t len)
{
	struct ki_fake *fake = priv;
	unsigned long flags;
	int cpu;

	if (ki_fake_bad(fake, off, len))
		return -EINVAL;
	local_irq_save(flags);
	cpu = smp_processor_id();
	if (READ_ONCE(fake->cached)) {
		int other;

		/* Coherence: the latest write of these bytes wins. */
		for (other = 0; other < KI_CPUS; other++)
			if (other != cpu)
				bitmap_clear(fake->dirty[other], off / KI_WU,
					     len / KI_WU);
	}
	if (READ_ONCE(fake->cached) && cpu < KI_CPUS) {
		memcpy(fake->cache[cpu] + off, buf, len);
		bitmap_set(fake->dirty[cpu], off / KI_WU, len / KI_WU);
	} else {
		memcpy(fake->mem + off, buf, len);
	}
	local_irq_restore(flags);
	return 0;
}

/* Write CPU @cpu's cache back to the media. */
static void ki_fake_writeback(struct ki_fake *fake, int cpu)
{
	unsigned long start, end;

	for_each_set_bitrange(start, end, fake->dirty[cpu], KI_UNITS)
		memcpy(fake->mem + start * KI_WU,
		       fake->cache[cpu] + start * KI_WU,
		       (end - start) * KI_WU);
	bitmap_zero(fake->dirty[cpu], KI_UNITS);
}

static int ki_fake_flush(void *priv)
{
	struct ki_fake *fake = priv;
	unsigned long flags;
	int cpu;

	local_irq_save(flags);
	cpu = smp_processor_id();
	if (cpu < KI_CPUS)
		ki_fake_writeback(fake, cpu);
	local_irq_restore(flags);
	return 0;
}

static const struct knvram_backend_ops ki_fake_ops = {
	.read = ki_fake_read,
	.write = ki_fake_write,
	.flush = ki_fake_flush,
};

/* The power held: every cache reaches the media. No I/O may be running. */
static void ki_fake_drain(struct ki_fake *fake)
{
	int cpu;

	WRITE_ONCE(fake->cached, false);
	for (cpu = 0; cpu < KI_CPUS; cpu++)
		ki_fake_writeback(fake, cpu);
}

KUNIT_DEFINE_ACTION_WRAPPER(ki_vfree, vfree, const void *);
KUNIT_DEFINE_ACTION_WRAPPER(ki_close_action, knvram_close,
			    struct knvram_handle *);
KUNIT_DEFINE_ACTION_WRAPPER(ki_unregister_action, knvram_backend_unregister,
			    struct knvram_backend *);
KUNIT_DEFINE_ACTION_WRAPPER(ki_release_event, perf_event_release_kernel,
			    struct perf_event *);

static void ki_emergency_end_action(void *unused)
{
	knvram_emergency_end();
}

static void *ki_vzalloc(struct kunit *test, size_t size)
{
	void *p = vzalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ki_vfree, p), 0);
	return p;
}

static void ki_fake_init(struct kunit *test, struct ki_fake *fake,
			 size_t size, bool caches)
{
	int cpu;

	fake->mem = ki_vzalloc(test, size);
	fake->size = size;
	if (!caches)
		return;
	for (cpu = 0; cpu < KI_CPUS; cpu++) {
		fake->cache[cpu] = ki_vzalloc(test, KI_MEDIA);
		fake->dirty[cpu] = ki_vzalloc(test, BITS_TO_LONGS(KI_UNITS) *
						    sizeof(unsigned long));
	}
}

static struct knvram_backend *ki_register(struct kunit *test,
					  struct ki_ctx *ctx,
					  struct ki_fake *fake,
					  const char *name)
{
	struct knvram_backend_config cfg = { };

	cfg.dev = ctx->dev;
	cfg.name = name;
	cfg.ops = &ki_fake_ops;
	cfg.priv = fake;
	cfg.size = fake->size;
	cfg.block_size = KI_BS;
	cfg.write_unit = KI_WU;
	cfg.flags = KNVRAM_BACKEND_NMI_SAFE;
	return knvram_backend_register(&cfg);
}

static struct knvram_handle *ki_open(struct kunit *test, const char *name,
				     unsigned int flags)
{
	struct knvram_handle *h = knvram_open(name, flags);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ki_close_action,
							h), 0);
	return h;
}

/* ------------------------------------------------------------------ */
/* Commits and their check */

/*
 * The blocks commit @seq writes: commit 0 all, the others three or four
 * far apart, so that what a sync writes is several runs of blocks.
 */
static bool ki_touches(unsigned long seq, unsigned int blk)
{
	return !seq || !((blk + seq) % 5);
}

static u32 ki_word(unsigned long seq, unsigned int blk)
{
	return (u32)(seq * 2654435761UL) ^ (blk << 24) ^ 0x5a5a5a5a;
}

/* Block @blk as commit @seq writes it: magic, block, seq, then a word. */
static void ki_fill(u32 *buf, unsigned long seq, unsigned int blk)
{
	buf[0] = KI_MAGIC;
	buf[1] = blk;
	buf[2] = lower_32_bits(seq);
	buf[3] = upper_32_bits((u64)seq);
	memset32(buf + 4, ki_word(seq, blk), KI_BS / 4 - 4);
}

/* The commit that block @buf holds, or -1 if it holds no whole one. */
static long ki_decode(const u32 *buf, unsigned int blk)
{
	unsigned long seq = buf[2] | ((u64)buf[3] << 32);
	unsigned int i;

	if (buf[0] != KI_MAGIC || buf[1] != blk || seq >= KI_MAX_SEQ)
		return -1;
	for (i = 4; i < KI_BS / 4; i++)
		if (buf[i] != ki_word(seq, blk))
			return -1;
	return seq;
}

/* One transaction: commit @seq. 0, or the first error (then aborted). */
static int ki_commit(struct ki_ctx *ctx, struct knvram_handle *w,
		     unsigned long seq)
{
	unsigned int blk;
	ssize_t n;
	loff_t pos;
	int ret;

	ret = knvram_tbegin(w);
	if (ret)
		return ret;
	for (blk = 0; blk < KI_NBLOCKS; blk++) {
		if (!ki_touches(seq, blk))
			continue;
		ki_fill(ctx->wbuf, seq, blk);
		pos = blk * KI_BS;
		n = knvram_write(w, ctx->wbuf, KI_BS, &pos);
		if (n != KI_BS) {
			knvram_tabort(w);
			return n < 0 ? n : -EIO;
		}
	}
	ret = knvram_tcommit(w);
	if (ret)
		knvram_tabort(w);
	return ret;
}

static void ki_committed(struct ki_ctx *ctx, unsigned long seq)
{
	set_bit(seq, ctx->committed);
	/*
	 * Pairs with the smp_load_acquire() in ki_fire(): an emergency sync
	 * that reads @seq here is called after this commit returned, and
	 * must write it (or a later one).
	 */
	smp_store_release(&ctx->last_ok, seq);
}

/* The last successful commit, not after @seq, that wrote @blk. */
static long ki_expected(struct ki_ctx *ctx, unsigned long seq,
			unsigned int blk)
{
	long s;

	for (s = seq; s >= 0; s--)
		if (test_bit(s, ctx->committed) && ki_touches(s, blk))
			return s;
	return -1;
}

/*
 * The commit a loaded image holds: every block must be as that one
 * successful commit left it. -1 (with the failure reported) if not.
 */
static long ki_decode_image(struct kunit *test, struct ki_ctx *ctx,
			    const u8 *buf, const char *what)
{
	long seqs[KI_NBLOCKS], s = -1, want;
	unsigned int blk;

	for (blk = 0; blk < KI_NBLOCKS; blk++) {
		seqs[blk] = ki_decode((u32 *)(buf + blk * KI_BS), blk);
		if (seqs[blk] < 0) {
			KUNIT_FAIL(test, "%s: block %u is no commit's", what,
				   blk);
			return -1;
		}
		s = max(s, seqs[blk]);
	}
	if (!test_bit(s, ctx->committed)) {
		KUNIT_FAIL(test, "%s: holds commit %ld, which failed", what, s);
		return -1;
	}
	for (blk = 0; blk < KI_NBLOCKS; blk++) {
		want = ki_expected(ctx, s, blk);
		if (seqs[blk] != want) {
			KUNIT_FAIL(test,
				   "%s: not one commit's state: newest block is commit %ld, block %u is commit %ld, should be %ld",
				   what, s, blk, seqs[blk], want);
			return -1;
		}
	}
	return s;
}

/* Check one loaded image against what it must hold. */
static bool ki_check_image(struct kunit *test, struct ki_ctx *ctx,
			   const struct ki_image *img, const u8 *buf,
			   long *round_min)
{
	long s = ki_decode_image(test, ctx, buf, img->what);

	if (s < 0)
		return false;
	if (s < img->lo) {
		KUNIT_FAIL(test,
			   "%s: holds commit %ld, older than commit %ld, which returned 0 before the emergency sync was called",
			   img->what, s, img->lo);
		return false;
	}
	if (img->held && s < *round_min) {
		KUNIT_FAIL(test,
			   "%s: holds commit %ld, older than the emergency sync wrote (%ld)",
			   img->what, s, *round_min);
		return false;
	}
	if (img->exact >= 0 && s != img->exact) {
		KUNIT_FAIL(test,
			   "%s: holds commit %ld, but the last commit that returned 0 is %ld",
			   img->what, s, img->exact);
		return false;
	}
	if (!img->held)
		*round_min = max(*round_min, s);
	return true;
}

/*
 * Load the images as a board would at the next boot: each is a partition
 * of a second backend, whose media holds them one after the other (the
 * media format does not depend on where a partition is). Registering it
 * once for many images spares an RCU grace period per image.
 */
static bool ki_verify(struct kunit *test, struct ki_ctx *ctx)
{
	struct knvram_partition_info info = { .size = KI_SIZE };
	unsigned int i, n = ctx->nimg, bad = n;
	struct knvram_backend *be;
	struct knvram_handle *h;
	long round_min = 0;
	char name[32];
	u64 t0 = ktime_get_ns();
	bool ok = true;
	ssize_t len;
	loff_t pos;
	u8 *buf;

	if (!n)
		return true;
	ctx->nimg = 0;
	buf = kunit_kmalloc(test, n * KI_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	be = ki_register(test, ctx, &ctx->chk, KI_CHK_BACKEND);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "kunit-irqchk%u", i);
		info.name = name;
		info.offset = i * ctx->fp;
		if (IS_ERR(knvram_partition_create(be, &info))) {
			bad = i;
			break;
		}
		len = -ENOENT;
		h = knvram_open(name, 0);
		if (!IS_ERR(h)) {
			pos = 0;
			len = knvram_read(h, buf + i * KI_SIZE, KI_SIZE, &pos);
			knvram_close(h);
		}
		if (len != KI_SIZE) {
			bad = i;
			break;
		}
	}
	/* Removes every partition, after one grace period. */
	knvram_backend_unregister(be);
	ctx->load_ns += ktime_get_ns() - t0;

	for (i = 0; i < n && ok; i++) {
		if (i && ctx->img[i].round != ctx->img[i - 1].round)
			round_min = 0;
		if (i == bad) {
			KUNIT_FAIL(test, "%s: the media does not load",
				   ctx->img[i].what);
			ok = false;
		} else {
			ok = ki_check_image(test, ctx, &ctx->img[i],
					    buf + i * KI_SIZE, &round_min);
		}
		ctx->checked++;
	}
	kunit_kfree(test, buf);
	return ok;
}

/* Keep the partition's media from @media (the whole backend) for a check. */
static bool ki_keep(struct kunit *test, struct ki_ctx *ctx, const u8 *media,
		    const struct ki_image *img)
{
	if (ctx->nimg == KI_BATCH && !ki_verify(test, ctx))
		return false;
	memcpy(ctx->chk.mem + ctx->label + ctx->nimg * ctx->fp, media, ctx->fp);
	ctx->img[ctx->nimg++] = *img;
	return true;
}

/* ------------------------------------------------------------------ */
/* The loops on CPU 0 */

static int ki_writer_fn(void *data)
{
	struct ki_ctx *ctx = data;
	unsigned long seq;
	bool frozen, thawed;
	int ret;

	while (!kthread_should_stop()) {
		if (ctx->seq + 1 >= KI_MAX_SEQ) {
			usleep_range(1000, 2000);
			continue;
		}
		seq = ++ctx->seq;
		/* Pairs with the release in ki_fire(): it had returned. */
		frozen = atomic_read_acquire(&ctx->fired);
		/* Pairs with the release in ki_end(): it had returned. */
		thawed = smp_load_acquire(&ctx->end_clean);
		ret = ki_commit(ctx, ctx->w, seq);
		if (!ret) {
			ki_committed(ctx, seq);
			ctx->ok++;
			if (frozen && ctx->check_lost)
				atomic_inc(&ctx->lost);
		} else if (ret == -ESHUTDOWN) {
			ctx->refused++;
			if (thawed)
				atomic_inc(&ctx->stuck);
			usleep_range(50, 100);
		} else {
			ctx->errors++;
			ctx->last_err = ret;
		}
		cond_resched();
	}
	return 0;
}

static int ki_syncer_fn(void *data)
{
	struct ki_ctx *ctx = data;

	u64 t0;
	int ret;

	while (!kthread_should_stop()) {
		t0 = ktime_get_mono_fast_ns();
		WRITE_ONCE(ctx->in_sync, true);
		ret = knvram_sync(ctx->rs);
		WRITE_ONCE(ctx->in_sync, false);
		WRITE_ONCE(ctx->normal_ns, ktime_get_mono_fast_ns() - t0);
		if (ret)
			ctx->sync_errs++;
		else
			ctx->syncs++;
		/* Back to back, the syncer would starve the writer's commits. */
		usleep_range(20, 20 + get_random_u32_below(200));
	}
	return 0;
}

static int ki_start_loops(struct ki_ctx *ctx)
{
	ctx->writer = kthread_run_on_cpu(ki_writer_fn, ctx, KI_LOOP_CPU,
					 "knvram-ki-w/%u");
	if (IS_ERR(ctx->writer))
		return PTR_ERR(ctx->writer);
	ctx->syncer = kthread_run_on_cpu(ki_syncer_fn, ctx, KI_LOOP_CPU,
					 "knvram-ki-s/%u");
	if (IS_ERR(ctx->syncer)) {
		kthread_stop(ctx->writer);
		return PTR_ERR(ctx->syncer);
	}
	return 0;
}

static void ki_stop_loops(struct ki_ctx *ctx)
{
	kthread_stop(ctx->syncer);
	kthread_stop(ctx->writer);
}

/* ------------------------------------------------------------------ */
/* What the interrupts do */

/*
 * Aim at the middle of a normal sync on CPU 0: wait (in hard IRQ, 10 ms at
 * most) until one runs, then up to as long as the last one took.
 */
static void ki_aim(struct ki_ctx *ctx)
{
	u64 deadline = ktime_get_mono_fast_ns() + 10 * NSEC_PER_MSEC;

	while (!READ_ONCE(ctx->in_sync)) {
		if (ktime_get_mono_fast_ns() > deadline)
			return;
		cpu_relax();
	}
	udelay(get_random_u32_below(div_u64(READ_ONCE(ctx->normal_ns),
					    NSEC_PER_USEC) + 1));
	if (READ_ONCE(ctx->in_sync))
		ctx->aimed++;
}

/* The power fails: emergency sync, then the media as the power cut finds it. */
static void ki_fire(struct ki_ctx *ctx, struct ki_slot *slot)
{
	if (slot->aim)
		ki_aim(ctx);
	/* Pairs with the smp_store_release() in ki_committed(). */
	slot->freeze_ok = smp_load_acquire(&ctx->last_ok);
	slot->nmi = in_nmi();
	slot->hardirq = in_hardirq();
	slot->ran_on = smp_processor_id();
	slot->t0 = ktime_get_mono_fast_ns();
	WRITE_ONCE(ctx->started, true);
	slot->ret = knvram_emergency_sync();
	slot->t1 = ktime_get_mono_fast_ns();
	/*
	 * Still claimed: handed off to the sync we interrupted, or owned by
	 * the other CPU's emergency sync, which waits for the backend call we
	 * interrupted. Either writes once we return.
	 */
	slot->handoff = atomic_read(&ctx->part->media);
	if (!slot->handoff)
		memcpy(slot->snap, ctx->fake.mem + ctx->label, ctx->fp);
	/*
	 * Pairs with the acquires in the writer and in ki_wait(): the slot
	 * is complete, and a commit that begins after this was seen must
	 * be refused.
	 */
	atomic_inc_return_release(&ctx->fired);
}

static void ki_end(struct ki_ctx *ctx, struct ki_slot *slot)
{
	u64 deadline = ktime_get_mono_fast_ns() + 20 * NSEC_PER_MSEC;

	/*
	 * Land inside the emergency sync of the other CPU: wait (in hard
	 * IRQ, 20 ms at most) until it is called, then up to half as
	 * long as the last one took.
	 */
	while (!READ_ONCE(ctx->started)) {
		if (ktime_get_mono_fast_ns() > deadline) {
			ctx->missed++;
			break;
		}
		cpu_relax();
	}
	udelay(get_random_u32_below(div_u64(ctx->sync_ns, 2 * NSEC_PER_USEC) +
				    1));

	/* Pairs with the release in ki_fire(). */
	slot->after = atomic_read_acquire(&ctx->fired) > 0;
	slot->nmi = in_nmi();
	slot->hardirq = in_hardirq();
	slot->ran_on = smp_processor_id();
	slot->t0 = ktime_get_mono_fast_ns();
	knvram_emergency_end();
	slot->t1 = ktime_get_mono_fast_ns();
	if (slot->after)
		/* Pairs with the acquire in the writer: commits work again. */
		smp_store_release(&ctx->end_clean, true);
	/* Pairs with the acquire in ki_wait(): the slot is complete. */
	smp_store_release(&ctx->end_done, true);
}

static enum hrtimer_restart ki_timer_fn(struct hrtimer *timer)
{
	struct ki_slot *slot = container_of(timer, struct ki_slot, timer);

	if (slot->end)
		ki_end(slot->ctx, slot);
	else
		ki_fire(slot->ctx, slot);
	return HRTIMER_NORESTART;
}

/* On @slot->cpu, by IPI: a timer pinned there, in hard IRQ. */
static void ki_arm_here(void *data)
{
	struct ki_slot *slot = data;

	hrtimer_start(&slot->timer, slot->expires,
		      HRTIMER_MODE_ABS_PINNED_HARD);
}

static void ki_pmu_overflow(struct perf_event *event,
			    struct perf_sample_data *data,
			    struct pt_regs *regs)
{
	struct ki_ctx *ctx = event->overflow_handler_context;

	atomic_inc(&ctx->overflows);
	if (!READ_ONCE(ctx->nmi_armed) || atomic_xchg(&ctx->nmi_claimed, 1))
		return;
	ki_fire(ctx, &ctx->slot[0]);
}

/* ------------------------------------------------------------------ */
/* Cases */

/**
 * struct ki_variant - one way of interleaving
 * @desc:   Name of the case.
 * @fire:   Bitmap of the CPUs whose hrtimer fires an emergency sync.
 * @end:    The CPU whose hrtimer calls knvram_emergency_end() while the
 *          emergency sync of CPU 1 runs; -1 for none.
 * @pmu:    The CPU of the PMU counter whose NMI fires the emergency sync;
 *          -1 for none (hrtimers).
 * @cached: The fake's per-CPU write-back caches.
 */
struct ki_variant {
	const char *desc;
	unsigned int fire;
	int end;
	int pmu;
	bool cached;
};

static const struct ki_variant ki_timer_variants[] = {
	{ "other-cpu", BIT(KI_OTHER_CPU), -1, -1, true },
	{ "same-cpu", BIT(KI_LOOP_CPU), -1, -1, true },
	{ "both-cpus", BIT(KI_LOOP_CPU) | BIT(KI_OTHER_CPU), -1, -1, true },
	{ "end-during", BIT(KI_OTHER_CPU), KI_LOOP_CPU, -1, true },
};

static const struct ki_variant ki_nmi_variants[] = {
	{ "nmi-other-cpu", 0, -1, KI_OTHER_CPU, true },
	/* The NMI may interrupt the fake's ops: durable writes only. */
	{ "nmi-same-cpu", 0, -1, KI_LOOP_CPU, false },
};

KUNIT_ARRAY_PARAM_DESC(ki_timer, ki_timer_variants, desc);
KUNIT_ARRAY_PARAM_DESC(ki_nmi, ki_nmi_variants, desc);

static int ki_init(struct kunit *test)
{
	struct knvram_partition_info info = {
		.name = KI_PART, .offset = 0, .size = KI_SIZE,
	};
	struct knvram_partition *part;
	struct ki_ctx *ctx;
	int i;

	if (num_online_cpus() < 2 || !cpu_online(KI_LOOP_CPU) ||
	    !cpu_online(KI_OTHER_CPU))
		kunit_skip(test, "needs CPUs %d and %d online", KI_LOOP_CPU,
			   KI_OTHER_CPU);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	test->priv = ctx;
	ctx->test = test;
	for (i = 0; i < KI_SLOTS; i++) {
		ctx->slot[i].ctx = ctx;
		hrtimer_init(&ctx->slot[i].timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_ABS_PINNED_HARD);
		ctx->slot[i].timer.function = ki_timer_fn;
	}
	ctx->dev = kunit_device_register(test, "knvram-kunit-irq");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);
	ki_fake_init(test, &ctx->fake, KI_MEDIA, true);
	ctx->committed = ki_vzalloc(test, BITS_TO_LONGS(KI_MAX_SEQ) *
					  sizeof(unsigned long));
	ctx->wbuf = kunit_kmalloc(test, KI_BS, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->wbuf);
	ctx->sync_ns = 200 * NSEC_PER_USEC;

	ctx->be = ki_register(test, ctx, &ctx->fake, KI_BACKEND);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->be);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							ki_unregister_action,
							ctx->be), 0);
	ctx->label = KI_MEDIA - knvram_backend_space(ctx->be);
	ctx->fp = knvram_partition_footprint(ctx->be, KI_SIZE);
	KUNIT_ASSERT_GT(test, ctx->fp, 0);
	KUNIT_ASSERT_LE(test, ctx->label + ctx->fp, KI_MEDIA);
	for (i = 0; i < KI_SLOTS; i++)
		ctx->slot[i].snap = ki_vzalloc(test, ctx->fp);
	ki_fake_init(test, &ctx->chk, ctx->label + KI_BATCH * ctx->fp, false);
	/* Runs after the handles are closed, before the unregistration. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							ki_emergency_end_action,
							NULL), 0);
	part = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	ctx->part = part;
	info.name = KI_BALLAST;
	info.offset = ctx->fp;
	KUNIT_ASSERT_LE(test, ctx->label + 2 * ctx->fp, KI_MEDIA);
	part = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	ctx->w = ki_open(test, KI_PART, KNVRAM_WRITE);
	ctx->rs = ki_open(test, KI_PART, 0);
	ctx->ballast = ki_open(test, KI_BALLAST, KNVRAM_WRITE);

	/* Commit 0 writes every block: the state before the first round. */
	KUNIT_ASSERT_EQ(test, ki_commit(ctx, ctx->w, 0), 0);
	ki_committed(ctx, 0);
	KUNIT_ASSERT_EQ(test, knvram_sync(ctx->w), 0);
	return 0;
}

static void ki_exit(struct kunit *test)
{
	struct ki_ctx *ctx = test->priv;
	int i;

	if (!ctx)
		return;
	for (i = 0; i < KI_SLOTS; i++)
		hrtimer_cancel(&ctx->slot[i].timer);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&ctx->fake.bad_io), 0,
			    "backend requests out of range or misaligned");
}

/* Wait for the round's interrupts; false (and reported) after KI_WAIT_MS. */
static bool ki_wait(struct kunit *test, struct ki_ctx *ctx, int fires,
		    bool end)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(KI_WAIT_MS);

	/*
	 * Pairs with the releases in ki_fire() and ki_end(): their slots
	 * are complete once counted.
	 */
	while (atomic_read_acquire(&ctx->fired) < fires ||
	       /* Pairs with the release at the end of ki_end(). */
	       (end && !smp_load_acquire(&ctx->end_done))) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(200, 500);
	}
	return true;
}

static void ki_round_reset(struct ki_ctx *ctx)
{
	int i;

	atomic_set(&ctx->fired, 0);
	WRITE_ONCE(ctx->started, false);
	WRITE_ONCE(ctx->end_clean, false);
	WRITE_ONCE(ctx->end_done, false);
	atomic_set(&ctx->nmi_claimed, 0);
	for (i = 0; i < KI_SLOTS; i++) {
		ctx->slot[i].end = false;
		ctx->slot[i].aim = false;
		ctx->slot[i].after = false;
	}
	ctx->nslots = 0;
}

/* Arm the round's timers: @v's emergency syncs, and its end if any. */
static void ki_arm(struct ki_ctx *ctx, const struct ki_variant *v)
{
	ktime_t at = ktime_add_us(ktime_get(), get_random_u32_below(2000) +
				  3000);
	unsigned long fire = v->fire;
	struct ki_slot *slot;
	unsigned int cpu;

	for_each_set_bit(cpu, &fire, KI_CPUS) {
		slot = &ctx->slot[ctx->nslots++];
		slot->cpu = cpu;
		slot->expires = at;
		/* Every other round, from the CPU that does not sync. */
		slot->aim = cpu != KI_LOOP_CPU && (get_random_u32() & 1);
	}
	if (v->end >= 0) {
		/* Before it: ki_end() waits for the emergency sync to begin. */
		slot = &ctx->slot[ctx->nslots++];
		slot->end = true;
		slot->cpu = v->end;
		slot->expires = ktime_sub_us(at, 500);
	}
	/*
	 * The end first, since it waits for the emergency sync; all of
	 * them well before @at, since an IPI to a busy vCPU takes time.
	 */
	for (slot = ctx->slot + ctx->nslots - 1; slot >= ctx->slot; slot--)
		smp_call_function_single(slot->cpu, ki_arm_here, slot, 1);
}

/* After a round: keep the media as each power cut finds it, then thaw. */
static bool ki_after_round(struct kunit *test, struct ki_ctx *ctx,
			   const struct ki_variant *v, unsigned int round)
{
	bool end = v->end >= 0;
	long last = ctx->last_ok, lo = 0;
	struct ki_image img = { .round = round, .exact = end ? -1 : last };
	struct ki_slot *slot, *fire = NULL;
	int ret;

	for (slot = ctx->slot; slot < ctx->slot + ctx->nslots; slot++) {
		if (slot->end)
			continue;
		fire = slot;
		KUNIT_EXPECT_EQ_MSG(test, slot->ret, 0,
				    "round %u: the emergency sync returned",
				    round);
		/*
		 * The hand-off is done: nothing else writes the media until
		 * the partition thaws at the end of the round.
		 */
		if (slot->handoff)
			memcpy(slot->snap, ctx->fake.mem + ctx->label, ctx->fp);
		/* Everything that returned 0 before it was called. */
		img.lo = slot->freeze_ok;
		lo = max(lo, img.lo);
		snprintf(img.what, sizeof(img.what),
			 "%s round %u, power cut after the sync on CPU %d",
			 v->desc, round, slot->ran_on);
		if (!ki_keep(test, ctx, slot->snap, &img))
			return false;
	}

	/* The power held: every write reaches the media. */
	ki_fake_drain(&ctx->fake);
	img.held = true;
	img.lo = lo;
	snprintf(img.what, sizeof(img.what), "%s round %u, power held",
		 v->desc, round);
	if (!ki_keep(test, ctx, ctx->fake.mem + ctx->label, &img))
		return false;

	if (end) {
		slot = &ctx->slot[ctx->nslots - 1];
		if (slot->t0 < fire->t1 && slot->t1 > fire->t0)
			ctx->overlaps++;
		/* Never left behind: a clean end thaws. */
		knvram_emergency_end();
		ret = ki_commit(ctx, ctx->w, ++ctx->seq);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0,
				    "round %u: a commit after a clean end", round);
		if (!ret)
			ki_committed(ctx, ctx->seq);
		/* Never lost: a clean emergency sync freezes. */
		KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	}
	/* Frozen until the end. */
	ret = ki_commit(ctx, ctx->w, ++ctx->seq);
	KUNIT_EXPECT_EQ_MSG(test, ret, -ESHUTDOWN,
			    "round %u: a commit while frozen", round);
	if (!ret)
		ki_committed(ctx, ctx->seq);
	knvram_emergency_end();

	/* Thawed: commits and syncs work (the next round checks the media). */
	ret = ki_commit(ctx, ctx->w, ++ctx->seq);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "round %u: a commit after the end",
			    round);
	if (!ret)
		ki_committed(ctx, ctx->seq);
	KUNIT_EXPECT_EQ(test, knvram_sync(ctx->w), 0);
	return !ret;
}

static void ki_report(struct kunit *test, struct ki_ctx *ctx,
		      const struct ki_variant *v, unsigned int rounds)
{
	kunit_info(test,
		   "%s: %u rounds, commits %lu ok / %lu refused / %lu failed, syncs %lu ok / %lu failed, last emergency sync %llu us\n",
		   v->desc, rounds, ctx->ok, ctx->refused, ctx->errors,
		   ctx->syncs, ctx->sync_errs, ctx->sync_ns / NSEC_PER_USEC);
	kunit_info(test, "%s: %u emergency syncs began during a normal sync on CPU %d\n",
		   v->desc, ctx->aimed, KI_LOOP_CPU);
	kunit_info(test, "%s: %u media images checked, in %llu ms\n", v->desc,
		   ctx->checked, ctx->load_ns / NSEC_PER_MSEC);
	if (v->end >= 0)
		kunit_info(test, "%s: the end overlapped the emergency sync in %u rounds (%u began too late)\n",
			   v->desc, ctx->overlaps, ctx->missed);
	KUNIT_EXPECT_EQ_MSG(test, ctx->errors, 0,
			    "commits failed with other errors (last %d)",
			    ctx->last_err);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&ctx->lost), 0,
			    "commits succeeded that began after an emergency sync returned: the frozen flag was lost");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&ctx->stuck), 0,
			    "commits refused that began after a clean knvram_emergency_end(): the frozen flag was left behind");
}

/* Commit every block of the second partition: the next sync writes all. */
static void ki_dirty_ballast(struct kunit *test, struct ki_ctx *ctx)
{
	unsigned int blk;
	loff_t pos = 0;

	for (blk = 0; blk < KI_NBLOCKS; blk++) {
		ki_fill(ctx->wbuf, ctx->seq, blk);
		KUNIT_EXPECT_EQ(test, knvram_write(ctx->ballast, ctx->wbuf,
						   KI_BS, &pos), KI_BS);
	}
}

/* Run rounds of @v, each fired by @fire_round (false: stop the case). */
static void ki_run(struct kunit *test, const struct ki_variant *v,
		   bool (*fire_round)(struct kunit *test, struct ki_ctx *ctx,
				      const struct ki_variant *v))
{
	struct ki_ctx *ctx = test->priv;
	u64 budget = ktime_get_ns() + KI_BUDGET_MS * NSEC_PER_MSEC;
	unsigned int round;
	int ret;

	for (round = 0; round < KI_ROUNDS_MAX; round++) {
		if (round >= KI_ROUNDS_MIN && ktime_get_ns() > budget)
			break;
		ki_round_reset(ctx);
		ctx->check_lost = v->end < 0;
		if (v->end >= 0)
			ki_dirty_ballast(test, ctx);
		WRITE_ONCE(ctx->fake.cached, v->cached);
		ret = ki_start_loops(ctx);
		KUNIT_ASSERT_EQ(test, ret, 0);
		usleep_range(1000, 1000 + get_random_u32_below(3000));
		if (!fire_round(test, ctx, v)) {
			ki_stop_loops(ctx);
			ki_fake_drain(&ctx->fake);
			break;
		}
		ki_stop_loops(ctx);
		if (!ki_after_round(test, ctx, v, round))
			break;
	}
	if (round == KI_ROUNDS_MAX || ktime_get_ns() > budget) {
		/* The last state, synced after the end. */
		struct ki_image img = {
			.round = round, .lo = ctx->last_ok,
			.exact = ctx->last_ok,
		};

		snprintf(img.what, sizeof(img.what), "%s, after the end",
			 v->desc);
		ki_keep(test, ctx, ctx->fake.mem + ctx->label, &img);
	}
	ki_verify(test, ctx);
	ki_report(test, ctx, v, round);
}

static bool ki_timer_round(struct kunit *test, struct ki_ctx *ctx,
			   const struct ki_variant *v)
{
	int fires = hweight32(v->fire), i;
	bool ok;

	ki_arm(ctx, v);
	ok = ki_wait(test, ctx, fires, v->end >= 0);
	for (i = 0; i < ctx->nslots; i++)
		hrtimer_cancel(&ctx->slot[i].timer);
	if (!ok) {
		KUNIT_FAIL(test, "the timers did not fire within %d ms",
			   KI_WAIT_MS);
		return false;
	}
	for (i = 0; i < ctx->nslots; i++) {
		KUNIT_EXPECT_TRUE(test, ctx->slot[i].hardirq);
		KUNIT_EXPECT_EQ(test, ctx->slot[i].ran_on,
				(int)ctx->slot[i].cpu);
		if (!ctx->slot[i].end)
			ctx->sync_ns = ctx->slot[i].t1 - ctx->slot[i].t0;
	}
	return true;
}

/*
 * Emergency syncs from hard IRQ on CPU 1, on CPU 0 (interrupting the
 * loops), on both at once, and one on CPU 1 with knvram_emergency_end()
 * from CPU 0 somewhere in it.
 */
static void ki_timer_interleave(struct kunit *test)
{
	ki_run(test, test->param_value, ki_timer_round);
}

static bool ki_nmi_round(struct kunit *test, struct ki_ctx *ctx,
			 const struct ki_variant *v)
{
	struct ki_slot *slot = &ctx->slot[0];
	bool ok;

	slot->cpu = v->pmu;
	ctx->nslots = 1;
	/* Pairs with READ_ONCE() in the handler; the slot is reset. */
	smp_store_release(&ctx->nmi_armed, true);
	ok = ki_wait(test, ctx, 1, false);
	WRITE_ONCE(ctx->nmi_armed, false);
	if (!ok) {
		/* It did not come: make sure no handler runs it late. */
		if (!atomic_xchg(&ctx->nmi_claimed, 1)) {
			KUNIT_FAIL(test, "no PMU overflow within %d ms",
				   KI_WAIT_MS);
			return false;
		}
		if (!ki_wait(test, ctx, 1, false)) {
			KUNIT_FAIL(test, "the emergency sync in NMI hangs");
			return false;
		}
	}
	KUNIT_EXPECT_TRUE_MSG(test, slot->nmi,
			      "the PMU overflow handler ran outside NMI");
	KUNIT_EXPECT_EQ(test, slot->ran_on, v->pmu);
	ctx->sync_ns = slot->t1 - slot->t0;
	return true;
}

/*
 * The emergency sync from a real NMI: a PMU cycle counter's overflow
 * handler, which arm64 runs in NMI when pseudo-NMI is on, on CPU 1 while
 * CPU 0 commits and syncs, or on CPU 0 itself.
 */
static void ki_nmi_interleave(struct kunit *test)
{
	const struct ki_variant *v = test->param_value;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.size = sizeof(attr),
		.sample_period = KI_PMU_PERIOD,
		.pinned = 1,
	};
	struct ki_ctx *ctx = test->priv;
	unsigned long deadline;
	int ret;

	ctx->event = perf_event_create_kernel_counter(&attr, v->pmu, NULL,
						      ki_pmu_overflow, ctx);
	if (IS_ERR(ctx->event))
		kunit_skip(test,
			   "no PMU cycle counter on CPU %d (%ld): no hardware PMU, or QEMU without one",
			   v->pmu, PTR_ERR(ctx->event));
	ret = kunit_add_action_or_reset(test, ki_release_event, ctx->event);
	KUNIT_ASSERT_EQ(test, ret, 0);

	deadline = jiffies + msecs_to_jiffies(KI_WAIT_MS);
	while (!atomic_read(&ctx->overflows) && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	if (!atomic_read(&ctx->overflows))
		kunit_skip(test,
			   "the PMU counter on CPU %d never overflowed in %d ms: no overflow interrupt",
			   v->pmu, KI_WAIT_MS);

	ki_run(test, v, ki_nmi_round);
	kunit_info(test, "%s: %d PMU overflows; the emergency sync ran in %s on CPU %d\n",
		   v->desc, atomic_read(&ctx->overflows),
		   ctx->slot[0].nmi ? "NMI" : ctx->slot[0].hardirq ?
		   "hard IRQ, not NMI" : "neither NMI nor hard IRQ",
		   ctx->slot[0].ran_on);
}

static struct kunit_case ki_cases[] = {
	KUNIT_CASE_PARAM_ATTR(ki_timer_interleave, ki_timer_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM_ATTR(ki_nmi_interleave, ki_nmi_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite ki_suite = {
	.name = "knvram_interleave",
	.init = ki_init,
	.exit = ki_exit,
	.test_cases = ki_cases,
};

kunit_test_suite(ki_suite);
