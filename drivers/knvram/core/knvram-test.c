// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the knvram core, against a fake backend: media in RAM,
 * write and flush counters, a log of the writes, and a "power fails after N
 * writes" knob whose failing write may land half of its bytes (torn). With
 * an atomic unit, the fake stages writes per unit until a flush, as the UBI
 * backend stages LEBs, and the power may fail before any write or before
 * any unit a flush replaces.
 *
 * The tests use the consumer and provider APIs. They look at the
 * partition's internals (geometry, generation, statistics) only to check
 * results, and to build the state of a commit cut in half by the power
 * failure, which no API call can produce.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/knvram.h>
#include <linux/knvram-provider.h>
#include <linux/module.h>
#include <linux/property.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "knvram-internal.h"

#define KT_BS		4096
#define KT_WU		8
/* A disk's logical block, for kt_media_write_unit(). */
#define KT_WIDE_WU	512
#define KT_NBLOCKS	16
#define KT_SIZE		(KT_NBLOCKS * KT_BS)
#define KT_MEDIA	(512 * 1024)
#define KT_LOG_MAX	64
#define KT_BACKEND	"kunit-nv0"
#define KT_PART		"kunit-p0"
#define KT_PART1	"kunit-p1"
#define KT_SWEEP_MAX	4000

struct kt_write {
	u64 off;
	size_t len;
};

/**
 * struct kt_fake - the fake backend
 * @mem:        The media.
 * @size:       Its size.
 * @writes:     Write calls that succeeded.
 * @bytes:      Bytes they wrote.
 * @flushes:    Flush calls that succeeded.
 * @armed:      The power fails at write number @fail_after + 1.
 * @fail_after: Writes that still succeed once @armed.
 * @torn:       The write that fails lands the first half of its bytes.
 * @dead:       The power failed: every write and flush fails.
 * @bad_io:     Requests out of the media or not aligned to the write unit.
 * @wu:         The write unit, if not %KT_WU.
 * @nlog:       Entries in @log.
 * @log_full:   More writes happened than @log holds.
 * @log:        What was written where (the landed part of a torn write);
 *              with @unit, flushes too, as entries of length 0.
 * @unit:       Atomic unit declared to the core, or 0: writes go to @stage
 *              and reach @mem, unit by unit in order, at a flush.
 * @stage:      The media as read back: @mem and the staged writes.
 * @staged:     Units written since their last flush.
 * @changes:    Per unit, how often a flush replaced it.
 * @steps:      Writes and unit replacements that succeeded (with @unit,
 *              what @fail_after counts).
 * @stall:      The next write sets @stalled and spins until @go is set
 *              (with preemption disabled, as the core calls it): another
 *              CPU then acts in the middle of a sync.
 * @stalled:    A write is held by @stall.
 * @go:         Let it go on.
 *
 * The ops take no lock and sleep on nothing, so the backend is NMI-safe
 * and the emergency sync writes it directly. The tests run one thread,
 * but for kt_harden_commit_vs_remove().
 */
struct kt_fake {
	u8 *mem;
	size_t size;
	unsigned int writes;
	u64 bytes;
	unsigned int flushes;
	bool armed;
	unsigned int fail_after;
	bool torn;
	bool dead;
	unsigned int bad_io;
	unsigned int wu;
	unsigned int nlog;
	bool log_full;
	struct kt_write log[KT_LOG_MAX];
	u32 unit;
	u8 *stage;
	unsigned long *staged;
	unsigned int *changes;
	unsigned int steps;
	bool stall;
	atomic_t stalled;
	atomic_t go;
};

#define KT_UNITS_MAX	(KT_MEDIA / 1024)

struct kt_ctx {
	struct device *dev;
	struct kt_fake fake;
	struct knvram_backend *be;
	struct knvram_partition_info info;
	struct knvram_partition *part;
	/* Geometry of the default partition, on the media. */
	u64 bank_start[2];
	u64 table_start[2];
	u64 data_start[2];
	u64 footprint;
	/* Generation of freshly formatted media. */
	u64 gen0;
};

static int kt_fake_read(void *priv, u64 off, void *buf, size_t len)
{
	struct kt_fake *fake = priv;

	if (off > fake->size || len > fake->size - off) {
		fake->bad_io++;
		return -EINVAL;
	}
	memcpy(buf, (fake->unit ? fake->stage : fake->mem) + off, len);
	return 0;
}

/* Writes, or with an atomic unit steps, that happened so far. */
static unsigned int kt_fake_count(struct kt_fake *fake)
{
	return fake->unit ? fake->steps : fake->writes;
}

static void kt_fake_log(struct kt_fake *fake, u64 off, size_t len)
{
	if (fake->nlog < KT_LOG_MAX)
		fake->log[fake->nlog++] = (struct kt_write){ off, len };
	else
		fake->log_full = true;
}

static int kt_fake_write(void *priv, u64 off, const void *buf, size_t len)
{
	struct kt_fake *fake = priv;
	unsigned int wu = fake->wu ?: KT_WU;
	size_t landed;

	if (off > fake->size || len > fake->size - off ||
	    !IS_ALIGNED(off, wu) || !IS_ALIGNED(len, wu)) {
		fake->bad_io++;
		return -EINVAL;
	}
	if (fake->dead)
		return -EIO;
	if (READ_ONCE(fake->stall)) {
		WRITE_ONCE(fake->stall, false);
		atomic_set_release(&fake->stalled, 1);
		while (!atomic_read_acquire(&fake->go))
			cpu_relax();
	}
	if (fake->armed && kt_fake_count(fake) >= fake->fail_after) {
		fake->dead = true;
		landed = fake->torn && !fake->unit ?
			 round_down(len / 2, wu) : 0;
		memcpy(fake->mem + off, buf, landed);
		if (landed)
			kt_fake_log(fake, off, landed);
		return -EIO;
	}
	if (fake->unit) {
		memcpy(fake->stage + off, buf, len);
		bitmap_set(fake->staged, off / fake->unit,
			   (off + len - 1) / fake->unit - off / fake->unit + 1);
		fake->steps++;
	} else {
		memcpy(fake->mem + off, buf, len);
	}
	kt_fake_log(fake, off, len);
	fake->writes++;
	fake->bytes += len;
	return 0;
}

/* Replace the staged units in order, each at once; stop where power fails. */
static int kt_fake_flush_units(struct kt_fake *fake)
{
	unsigned long u;

	kt_fake_log(fake, 0, 0);
	for_each_set_bit(u, fake->staged, KT_UNITS_MAX) {
		size_t off = u * fake->unit;
		size_t len = min_t(size_t, fake->unit, fake->size - off);

		if (fake->armed && fake->steps >= fake->fail_after) {
			fake->dead = true;
			return -EIO;
		}
		memcpy(fake->mem + off, fake->stage + off, len);
		__clear_bit(u, fake->staged);
		fake->changes[u]++;
		fake->steps++;
	}
	return 0;
}

static int kt_fake_flush(void *priv)
{
	struct kt_fake *fake = priv;

	if (fake->dead)
		return -EIO;
	if (fake->unit && kt_fake_flush_units(fake))
		return -EIO;
	fake->flushes++;
	return 0;
}

static const struct knvram_backend_ops kt_fake_ops = {
	.read = kt_fake_read,
	.write = kt_fake_write,
	.flush = kt_fake_flush,
};

/* The power fails at the write after the next @n ones. */
static void kt_fake_arm(struct kt_fake *fake, unsigned int n, bool torn)
{
	fake->armed = true;
	fake->fail_after = kt_fake_count(fake) + n;
	fake->torn = torn;
}

/* The power is back. */
static void kt_fake_disarm(struct kt_fake *fake)
{
	fake->armed = false;
	fake->dead = false;
}

static void kt_fake_log_reset(struct kt_fake *fake)
{
	fake->nlog = 0;
	fake->log_full = false;
}

KUNIT_DEFINE_ACTION_WRAPPER(kt_vfree, vfree, const void *);
KUNIT_DEFINE_ACTION_WRAPPER(kt_close_action, knvram_close,
			    struct knvram_handle *);
KUNIT_DEFINE_ACTION_WRAPPER(kt_unregister_action, knvram_backend_unregister,
			    struct knvram_backend *);

static void kt_emergency_end_action(void *unused)
{
	knvram_emergency_end();
}

static void *kt_vzalloc(struct kunit *test, size_t size)
{
	void *p = vzalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_vfree, p), 0);
	return p;
}

static void *kt_snapshot(struct kunit *test, struct kt_ctx *ctx)
{
	void *p = kt_vzalloc(test, KT_MEDIA);

	memcpy(p, ctx->fake.mem, KT_MEDIA);
	return p;
}

static void kt_restore(struct kt_ctx *ctx, const void *snap)
{
	memcpy(ctx->fake.mem, snap, KT_MEDIA);
}

/* A byte pattern that differs at every offset and for every seed. */
static void kt_fill(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = seed + i + (i >> 12) * 37;
}

/* Offset of the first difference, or -1. */
static long kt_diff(const u8 *a, const u8 *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

static struct knvram_handle *kt_open(struct kunit *test, const char *name,
				     unsigned int flags)
{
	struct knvram_handle *h = knvram_open(name, flags);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_close_action,
							h), 0);
	return h;
}

static void kt_close(struct kunit *test, struct knvram_handle *h)
{
	kunit_release_action(test, kt_close_action, h);
}

/* The errno of an open that is expected to fail; 0 if it succeeded. */
static long kt_open_err(const char *name, unsigned int flags)
{
	struct knvram_handle *h = knvram_open(name, flags);

	if (IS_ERR(h))
		return PTR_ERR(h);
	knvram_close(h);
	return 0;
}

static struct knvram_partition *kt_create(struct kunit *test,
					  struct kt_ctx *ctx)
{
	struct knvram_partition *part;

	part = knvram_partition_create(ctx->be, &ctx->info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	ctx->part = part;
	return part;
}

static void kt_remove(struct kt_ctx *ctx)
{
	knvram_partition_remove(ctx->part);
	ctx->part = NULL;
}

/* The errno of a create that is expected to fail; 0 if it succeeded. */
static long kt_create_err(struct knvram_backend *be, const char *name,
			  u64 offset, u64 size)
{
	struct knvram_partition_info info = {
		.name = name, .offset = offset, .size = size,
	};
	struct knvram_partition *part = knvram_partition_create(be, &info);

	if (IS_ERR(part))
		return PTR_ERR(part);
	knvram_partition_remove(part);
	return 0;
}

static void kt_pwrite(struct kunit *test, struct knvram_handle *h,
		      const void *buf, size_t len, loff_t pos)
{
	loff_t p = pos;

	KUNIT_ASSERT_EQ(test, knvram_write(h, buf, len, &p), (ssize_t)len);
	KUNIT_ASSERT_EQ(test, p, pos + (loff_t)len);
}

/* Write @src over the range of @model and of the partition. */
static void kt_pwrite_model(struct kunit *test, struct knvram_handle *h,
			    u8 *model, const u8 *src, size_t len, loff_t pos)
{
	kt_pwrite(test, h, src, len, pos);
	memcpy(model + pos, src, len);
}

/* Read the whole partition through @h into @buf. */
static void kt_read_all(struct kunit *test, struct knvram_handle *h, u8 *buf)
{
	loff_t pos = 0;

	KUNIT_ASSERT_EQ(test, knvram_read(h, buf, KT_SIZE, &pos),
			(ssize_t)KT_SIZE);
}

/* Expect the whole partition, as seen through @h, to be @want. */
static void kt_expect_content(struct kunit *test, struct knvram_handle *h,
			      const u8 *want, const char *what)
{
	u8 *buf = kunit_kmalloc(test, KT_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	kt_read_all(test, h, buf);
	KUNIT_EXPECT_EQ_MSG(test, kt_diff(buf, want, KT_SIZE), -1L,
			    "%s: first wrong byte", what);
	kunit_kfree(test, buf);
}

/* Open the partition @name as a reader and expect its content. */
static void kt_expect_part(struct kunit *test, const char *name,
			   const u8 *want, const char *what)
{
	struct knvram_handle *h = kt_open(test, name, 0);

	kt_expect_content(test, h, want, what);
	kt_close(test, h);
}

static u8 *kt_buf(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

/* Open handles pin the backend's module: this one, unless built in. */
#ifdef MODULE
#define KT_HANDLE_REFS	1
static int kt_module_refs(void)
{
	return module_refcount(THIS_MODULE);
}
#else
#define KT_HANDLE_REFS	0
static int kt_module_refs(void)
{
	return 0;
}
#endif

/* Register the fake backend on ctx->fake, as a probe would. */
static void kt_register(struct kunit *test, struct kt_ctx *ctx)
{
	struct knvram_backend_config cfg = { };
	int ret;

	cfg.dev = ctx->dev;
	cfg.name = KT_BACKEND;
	cfg.ops = &kt_fake_ops;
	cfg.priv = &ctx->fake;
	cfg.size = KT_MEDIA;
	cfg.block_size = KT_BS;
	cfg.write_unit = KT_WU;
	cfg.flags = KNVRAM_BACKEND_NMI_SAFE;
	cfg.atomic_unit = ctx->fake.unit;
	ctx->be = knvram_backend_register(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->be);
	ret = kunit_add_action_or_reset(test, kt_unregister_action, ctx->be);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

/* Unbind and probe again: what a power cycle leaves is loaded anew. */
static void kt_reregister(struct kunit *test, struct kt_ctx *ctx)
{
	kunit_release_action(test, kt_unregister_action, ctx->be);
	ctx->be = NULL;
	ctx->part = NULL;
	kt_register(test, ctx);
}

static int kt_init(struct kunit *test)
{
	struct kt_ctx *ctx;
	int i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	test->priv = ctx;

	ctx->dev = kunit_device_register(test, "knvram-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);

	ctx->fake.mem = kt_vzalloc(test, KT_MEDIA);
	ctx->fake.size = KT_MEDIA;
	kt_register(test, ctx);

	ctx->info.name = KT_PART;
	ctx->info.offset = 0;
	ctx->info.size = KT_SIZE;
	kt_create(test, ctx);

	ctx->gen0 = ctx->part->gen;
	ctx->footprint = knvram_partition_footprint(ctx->be, KT_SIZE);
	KUNIT_ASSERT_EQ(test, ctx->footprint, 2 * ctx->part->bank_size);
	for (i = 0; i < 2; i++) {
		ctx->bank_start[i] = ctx->part->offset +
				     i * ctx->part->bank_size;
		ctx->table_start[i] = ctx->bank_start[i] + KT_BS;
		ctx->data_start[i] = ctx->table_start[i] +
				     ctx->part->table_size;
	}
	return 0;
}

static void kt_exit(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;

	if (ctx)
		KUNIT_EXPECT_EQ_MSG(test, ctx->fake.bad_io, 0,
				    "backend requests out of range or misaligned");
}

/* ------------------------------------------------------------------ */
/* Handles */

static void kt_open_rules(struct kunit *test)
{
	struct knvram_handle *w, *r[3];
	unsigned int i;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE), -EBUSY);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE | KNVRAM_SYNC),
			-EBUSY);
	for (i = 0; i < ARRAY_SIZE(r); i++)
		r[i] = kt_open(test, KT_PART, i ? KNVRAM_NONBLOCK : 0);
	KUNIT_EXPECT_EQ(test, knvram_size(r[2]), KT_SIZE);

	KUNIT_EXPECT_EQ(test, kt_open_err("kunit-none", 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_open_err("kunit-none", KNVRAM_WRITE), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, BIT(7)), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, BIT(31)), -EINVAL);

	/* Once the writer is gone, the next one gets in; readers stay. */
	kt_close(test, w);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE), -EBUSY);
	kt_close(test, w);
}

/* A read-only partition: no writer, and not one write to the media. */
static void kt_read_only(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_info info;
	struct knvram_handle *r;
	unsigned int writes;

	KUNIT_EXPECT_FALSE(test, ctx->part->read_only);
	kt_remove(ctx);
	ctx->info.read_only = true;
	writes = ctx->fake.writes;
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE), -EROFS);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE |
					  KNVRAM_NONBLOCK), -EROFS);
	r = kt_open(test, KT_PART, 0);
	KUNIT_ASSERT_EQ(test, knvram_get_info(r, &info), 0);
	KUNIT_EXPECT_EQ(test, info.flags, KNVRAM_INFO_READ_ONLY);
	/* A sync (from a reader, as CAP_SYS_ADMIN) and the removal's. */
	KUNIT_EXPECT_EQ(test, knvram_sync_part(ctx->part, false), 0);
	kt_close(test, r);
	kt_remove(ctx);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
}

/* A kernel-only partition: no device number, knvram_open() works. */
static void kt_kernel_only(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *h;
	u8 in = 0x5a, out = 0;
	loff_t pos = 0;

	KUNIT_EXPECT_NE(test, ctx->part->dev.devt, 0);
	kt_remove(ctx);
	ctx->info.kernel_only = true;
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->part->dev.devt, 0);
	KUNIT_EXPECT_TRUE(test, device_is_registered(&ctx->part->dev));
	h = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_pwrite(test, h, &in, 1, 7);
	pos = 7;
	KUNIT_EXPECT_EQ(test, knvram_read(h, &out, 1, &pos), 1);
	KUNIT_EXPECT_EQ(test, out, in);
	kt_close(test, h);
}

static void kt_reader_cannot_write(struct kunit *test)
{
	struct knvram_handle *r = kt_open(test, KT_PART, 0);
	u8 byte = 1;
	loff_t pos = 0;

	KUNIT_EXPECT_EQ(test, knvram_write(r, &byte, 1, &pos), (ssize_t)-EBADF);
	KUNIT_EXPECT_EQ(test, pos, 0);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(r), -EBADF);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(r), -EBADF);
	KUNIT_EXPECT_EQ(test, knvram_tabort(r), -EBADF);
	KUNIT_EXPECT_EQ(test, knvram_setautot(r, true), -EBADF);
	KUNIT_EXPECT_FALSE(test, knvram_getautot(r));
	/* A reader may sync. */
	KUNIT_EXPECT_EQ(test, knvram_sync(r), 0);
}

/* ------------------------------------------------------------------ */
/* Transactions */

/* Commit @seed's pattern over the whole partition; @model follows. */
static void kt_commit_all(struct kunit *test, struct knvram_handle *w,
			  u8 *model, u8 seed)
{
	u8 *buf = kt_buf(test, KT_SIZE);

	kt_fill(buf, KT_SIZE, seed);
	kt_pwrite_model(test, w, model, buf, KT_SIZE, 0);
	kunit_kfree(test, buf);
}

static void kt_txn_isolation(struct kunit *test)
{
	struct knvram_handle *w, *r1, *r2;
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	u8 *src = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	u64 commits;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r1 = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0x10);
	memcpy(model, old, KT_SIZE);

	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_fill(src, KT_SIZE, 0x60);
	kt_pwrite_model(test, w, model, src, 200, KT_BS + 100);
	kt_pwrite_model(test, w, model, src + 3 * KT_BS, KT_BS, 3 * KT_BS);
	kt_pwrite_model(test, w, model, src, 1, KT_SIZE - 1);

	/* The writer sees its transaction, everybody else the old state. */
	kt_expect_content(test, w, model, "writer during txn");
	kt_expect_content(test, r1, old, "reader during txn");
	r2 = kt_open(test, KT_PART, 0);
	kt_expect_content(test, r2, old, "reader opened during txn");

	commits = atomic64_read(&ctx->part->stats.commit_count);
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->part->stats.commit_count),
			commits + 1);
	kt_expect_content(test, r1, model, "reader after commit");
	kt_expect_content(test, r2, model, "second reader after commit");
	kt_expect_content(test, w, model, "writer after commit");

	/* The transaction is over. */
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -EINVAL);
	KUNIT_EXPECT_EQ(test, knvram_tabort(w), -EINVAL);
}

static void kt_txn_abort(struct kunit *test)
{
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r;
	u64 aborts;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0x20);
	memcpy(model, old, KT_SIZE);

	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), -EALREADY);
	kt_commit_all(test, w, model, 0x70);
	kt_expect_content(test, w, model, "writer during txn");

	aborts = atomic64_read(&ctx->part->stats.abort_count);
	KUNIT_ASSERT_EQ(test, knvram_tabort(w), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->part->stats.abort_count),
			aborts + 1);
	kt_expect_content(test, w, old, "writer after abort");
	kt_expect_content(test, r, old, "reader after abort");
	KUNIT_EXPECT_EQ(test, knvram_tabort(w), -EINVAL);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -EINVAL);

	/* A new transaction starts from the committed state. */
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_expect_content(test, w, old, "writer in a new txn");
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), 0);
	kt_expect_content(test, r, old, "reader after an empty commit");
}

static void kt_txn_close_aborts(struct kunit *test)
{
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r;
	u64 aborts;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0x30);
	memcpy(model, old, KT_SIZE);

	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_commit_all(test, w, model, 0x31);
	aborts = atomic64_read(&ctx->part->stats.abort_count);
	kt_close(test, w);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->part->stats.abort_count),
			aborts + 1);
	kt_expect_content(test, r, old, "reader after the writer closed");

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_expect_content(test, w, old, "new writer");
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -EINVAL);
}

static void kt_txn_autot(struct kunit *test)
{
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	struct knvram_partition_info info = { };
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r, *w1;
	struct knvram_partition *p1;
	unsigned int writes;
	u8 src[64];

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	KUNIT_EXPECT_FALSE(test, knvram_getautot(w));
	kt_commit_all(test, w, old, 0x40);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	memcpy(model, old, KT_SIZE);

	KUNIT_ASSERT_EQ(test, knvram_setautot(w, true), 0);
	KUNIT_EXPECT_TRUE(test, knvram_getautot(w));
	kt_fill(src, sizeof(src), 0x41);
	kt_pwrite_model(test, w, model, src, sizeof(src), 5 * KT_BS - 10);

	/* The write started a transaction: it is not visible, not synced. */
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), -EALREADY);
	kt_expect_content(test, r, old, "reader after an autot write");
	kt_expect_content(test, w, model, "writer after an autot write");
	writes = ctx->fake.writes;
	KUNIT_EXPECT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);

	/* More writes join it; nothing lands before the commit. */
	kt_pwrite_model(test, w, model, src, 1, 0);
	kt_expect_content(test, r, old, "reader after a second autot write");
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	kt_expect_content(test, r, model, "reader after commit");

	/* The next write starts a new one; an abort drops it. */
	memcpy(old, model, KT_SIZE);
	kt_pwrite(test, w, src, 8, 100);
	kt_expect_content(test, r, old, "reader after a third autot write");
	KUNIT_ASSERT_EQ(test, knvram_tabort(w), 0);
	kt_expect_content(test, w, old, "writer after abort");

	/* Turning autot off does not end the open transaction. */
	kt_pwrite(test, w, src, 8, 100);
	KUNIT_ASSERT_EQ(test, knvram_setautot(w, false), 0);
	KUNIT_EXPECT_FALSE(test, knvram_getautot(w));
	kt_expect_content(test, r, old, "reader after autot off");
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), 0);
	memcpy(model + 100, src, 8);
	kt_expect_content(test, r, model, "reader after the last commit");

	/* A partition's default autot applies to new handles. */
	info.name = KT_PART1;
	info.offset = ctx->footprint;
	info.size = KT_SIZE;
	info.autot = true;
	p1 = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p1);
	w1 = kt_open(test, KT_PART1, KNVRAM_WRITE);
	KUNIT_EXPECT_TRUE(test, knvram_getautot(w1));
	kt_pwrite(test, w1, src, 8, 0);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w1), -EALREADY);
	KUNIT_EXPECT_EQ(test, knvram_tabort(w1), 0);
	kt_close(test, w1);
	knvram_partition_remove(p1);
}

static void kt_txn_overlap(struct kunit *test)
{
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	u8 *x = kt_buf(test, 3 * KT_BS), *y = kt_buf(test, 3 * KT_BS);
	struct knvram_handle *w, *r;
	u8 *buf = kt_buf(test, KT_SIZE);
	loff_t pos;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0x50);
	memcpy(model, old, KT_SIZE);
	kt_fill(x, 3 * KT_BS, 0xa0);
	kt_fill(y, 3 * KT_BS, 0xc0);

	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	/* Blocks 0-1, then 0-2 again from the middle of block 0. */
	kt_pwrite_model(test, w, model, x, 5000, 100);
	kt_pwrite_model(test, w, model, y, 8000, 3000);
	/* Inside one block already in the transaction. */
	kt_pwrite_model(test, w, model, x + 7, 10, KT_BS + 5);
	/* Block 9 alone, leaving 7-8 and 10-15 to the shadow. */
	kt_pwrite_model(test, w, model, y, 16, 9 * KT_BS + 40);
	kt_expect_content(test, w, model, "writer, overlapping writes");

	/*
	 * Reads that start and end in shadow blocks and cross transaction
	 * blocks, and reads inside one transaction block.
	 */
	pos = 7 * KT_BS + 1;
	KUNIT_ASSERT_EQ(test, knvram_read(w, buf, 4 * KT_BS, &pos),
			(ssize_t)(4 * KT_BS));
	KUNIT_EXPECT_EQ(test, kt_diff(buf, model + 7 * KT_BS + 1, 4 * KT_BS),
			-1L);
	KUNIT_EXPECT_EQ(test, pos, 11 * KT_BS + 1);
	pos = 2 * KT_BS - 3;
	KUNIT_ASSERT_EQ(test, knvram_read(w, buf, KT_BS + 6, &pos),
			(ssize_t)(KT_BS + 6));
	KUNIT_EXPECT_EQ(test, kt_diff(buf, model + 2 * KT_BS - 3, KT_BS + 6),
			-1L);
	pos = KT_BS + 3;
	KUNIT_ASSERT_EQ(test, knvram_read(w, buf, 20, &pos), (ssize_t)20);
	KUNIT_EXPECT_EQ(test, kt_diff(buf, model + KT_BS + 3, 20), -1L);

	kt_expect_content(test, r, old, "reader before commit");
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	kt_expect_content(test, r, model, "reader after commit");
	kt_expect_content(test, w, model, "writer after commit");
}

static void kt_write_limits(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE), *src = kt_buf(test, 256);
	struct knvram_handle *w, *r;
	u8 buf[256];
	loff_t pos;
	int round;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_fill(src, 256, 0x33);

	/* Once outside, once inside a transaction. */
	for (round = 0; round < 2; round++) {
		if (round)
			KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
		pos = KT_SIZE - 10;
		KUNIT_EXPECT_EQ(test, knvram_write(w, src, 100, &pos),
				(ssize_t)10);
		KUNIT_EXPECT_EQ(test, pos, KT_SIZE);
		memcpy(model + KT_SIZE - 10, src, 10);
		KUNIT_EXPECT_EQ(test, knvram_write(w, src, 1, &pos),
				(ssize_t)-ENOSPC);
		KUNIT_EXPECT_EQ(test, pos, KT_SIZE);
		pos = KT_SIZE + 4096;
		KUNIT_EXPECT_EQ(test, knvram_write(w, src, 1, &pos),
				(ssize_t)-ENOSPC);
		pos = -1;
		KUNIT_EXPECT_EQ(test, knvram_write(w, src, 1, &pos),
				(ssize_t)-EINVAL);
		pos = 0;
		KUNIT_EXPECT_EQ(test, knvram_write(w, src, 0, &pos), 0);
		kt_expect_content(test, w, model, "writer after writes at the end");
		if (round)
			KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
		src[0]++;
	}
	kt_expect_content(test, r, model, "reader");

	/* Reads: short across the end, 0 at and past it. */
	pos = KT_SIZE - 10;
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos),
			(ssize_t)10);
	KUNIT_EXPECT_EQ(test, kt_diff(buf, model + KT_SIZE - 10, 10), -1L);
	KUNIT_EXPECT_EQ(test, pos, KT_SIZE);
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos), 0);
	pos = KT_SIZE + 1;
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos), 0);
	pos = -5;
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos),
			(ssize_t)-EINVAL);
}

static void kt_write_plain(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE), src[100];
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r;
	unsigned int writes = ctx->fake.writes;
	u64 commits = atomic64_read(&ctx->part->stats.commit_count);

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_fill(src, sizeof(src), 0x77);
	kt_pwrite_model(test, w, model, src, sizeof(src), 2 * KT_BS - 50);

	/* Visible at once, one commit, in the shadow only. */
	kt_expect_content(test, r, model, "reader after a plain write");
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->part->stats.commit_count),
			commits + 1);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 2 * KT_BS);
	kt_close(test, w);

	/* With KNVRAM_SYNC, the write returns once on the backend. */
	w = kt_open(test, KT_PART, KNVRAM_WRITE | KNVRAM_SYNC);
	kt_pwrite_model(test, w, model, src, 10, 7 * KT_BS);
	KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);
	writes = ctx->fake.writes;
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite_model(test, w, model, src, 10, 9 * KT_BS);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);
	kt_expect_content(test, r, model, "reader after synced writes");
}

/* ------------------------------------------------------------------ */
/* Dirty ranges and sync */

/* Commit a change to blocks 0, 5 and 6 (partial writes). */
static void kt_touch_0_5_6(struct kunit *test, struct knvram_handle *w,
			   u8 *model, u8 seed)
{
	u8 src[300];

	kt_fill(src, sizeof(src), seed);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite_model(test, w, model, src, 100, 100);
	/* Crosses from block 5 into block 6. */
	kt_pwrite_model(test, w, model, src, 300, 6 * KT_BS - 150);
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
}

static void kt_dirty_ranges(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE);
	DECLARE_BITMAP(seen, KT_NBLOCKS) = { };
	DECLARE_BITMAP(want, KT_NBLOCKS) = { };
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition *part = ctx->part;
	u64 data_bytes = 0, other_bytes = 0, meta_bytes = 0;
	u64 bytes, sync_bytes;
	unsigned int i, bank, writes, flushes;
	struct knvram_handle *w;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);

	/*
	 * First round: whatever its sync writes, the older bank then lacks
	 * blocks 0, 5 and 6 and nothing else.
	 */
	kt_touch_0_5_6(test, w, model, 1);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 3 * KT_BS);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);

	/* Second round: the older bank lacks exactly blocks 0, 5 and 6. */
	kt_touch_0_5_6(test, w, model, 2);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 3 * KT_BS);
	kt_fake_log_reset(&ctx->fake);
	bytes = ctx->fake.bytes;
	sync_bytes = atomic64_read(&part->stats.sync_bytes);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);
	KUNIT_EXPECT_EQ(test, part->gen, ctx->gen0 + 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&part->stats.sync_bytes) -
			sync_bytes, ctx->fake.bytes - bytes);

	KUNIT_ASSERT_FALSE(test, ctx->fake.log_full);
	bank = part->gen & 1;
	for (i = 0; i < ctx->fake.nlog; i++) {
		struct kt_write *e = &ctx->fake.log[i];
		u64 d = ctx->data_start[bank];
		unsigned long blk;

		if (e->off >= d && e->off < d + KT_SIZE) {
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED(e->off - d, KT_BS));
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED(e->len, KT_BS));
			for (blk = (e->off - d) / KT_BS;
			     blk < (e->off - d + e->len) / KT_BS; blk++)
				KUNIT_EXPECT_FALSE_MSG(test,
						       __test_and_set_bit(blk, seen),
						       "block %lu written twice",
						       blk);
			data_bytes += e->len;
		} else if (e->off >= ctx->bank_start[bank] && e->off < d) {
			/* Header and checksum table of the bank. */
			KUNIT_EXPECT_LE(test, e->off + e->len, d);
			meta_bytes += e->len;
		} else {
			other_bytes += e->len;
		}
	}
	__set_bit(0, want);
	__set_bit(5, want);
	__set_bit(6, want);
	KUNIT_EXPECT_TRUE(test, bitmap_equal(seen, want, KT_NBLOCKS));
	KUNIT_EXPECT_EQ(test, data_bytes, 3 * KT_BS);
	KUNIT_EXPECT_EQ(test, other_bytes, 0);
	KUNIT_EXPECT_GT(test, meta_bytes, 0);
	KUNIT_EXPECT_LT(test, meta_bytes, KT_BS + part->table_size);

	/* Nothing committed since: the next sync writes nothing. */
	writes = ctx->fake.writes;
	flushes = ctx->fake.flushes;
	KUNIT_EXPECT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, ctx->fake.flushes, flushes);
	KUNIT_EXPECT_EQ(test, part->gen, ctx->gen0 + 2);

	/* And the last close of a clean partition writes nothing either. */
	kt_close(test, w);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	kt_expect_part(test, KT_PART, model, "content");
}

static void kt_sync_error(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w;
	u64 errors;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, model, 0x15);
	kt_fake_arm(&ctx->fake, 0, false);
	errors = atomic64_read(&ctx->part->stats.sync_errors);
	KUNIT_EXPECT_EQ(test, knvram_sync(w), -EIO);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->part->stats.sync_errors),
			errors + 1);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), KT_SIZE);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0);
	kt_expect_content(test, w, model, "shadow after a failed sync");

	/* The next sync tries again. */
	kt_fake_disarm(&ctx->fake);
	KUNIT_EXPECT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 1);
	kt_close(test, w);
	kt_remove(ctx);
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, model, "re-created after a retried sync");
}

/* ------------------------------------------------------------------ */
/* Media */

static void kt_media_recreate(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w;
	unsigned int writes;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, model, 0x21);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_close(test, w);

	/* Nothing is dirty: removal and re-creation write nothing. */
	writes = ctx->fake.writes;
	kt_remove(ctx);
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 1);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);
	kt_expect_part(test, KT_PART, model, "re-created");

	/* Committed, not synced: the removal syncs it. */
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_pwrite_model(test, w, model, "knvram", 6, 3 * KT_BS + 7);
	kt_close(test, w);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_pwrite_model(test, w, model, "kunit", 5, 11 * KT_BS);
	writes = ctx->fake.writes;
	kt_remove(ctx);
	KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
	kt_close(test, w);
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, model, "re-created after removal");
}

static void kt_media_blank(struct kunit *test)
{
	u8 *zero = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	unsigned int writes;
	int fill;

	/* kt_init() formatted zeroed media. */
	KUNIT_EXPECT_GT(test, ctx->fake.writes, 0);
	kt_expect_part(test, KT_PART, zero, "formatted");

	for (fill = 0; fill < 2; fill++) {
		kt_remove(ctx);
		/* Erased flash reads 0xff. */
		memset(ctx->fake.mem + ctx->bank_start[0], fill ? 0xff : 0,
		       ctx->footprint);
		writes = ctx->fake.writes;
		kt_create(test, ctx);
		KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
		kt_expect_part(test, KT_PART, zero, "formatted");

		/* The format is valid: loading it writes nothing. */
		kt_remove(ctx);
		writes = ctx->fake.writes;
		kt_create(test, ctx);
		KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
		KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0);
		kt_expect_part(test, KT_PART, zero, "loaded");
	}
}

/*
 * Cut the format of blank media at every write, whole or torn: the next
 * creation formats again or finds the format complete; it never takes the
 * half-formatted media for damage.
 */
static void kt_media_torn_format(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	u8 *zero = kt_buf(test, KT_SIZE);
	struct knvram_partition *part;
	unsigned int k, n, w0, torn;

	kt_remove(ctx);
	memset(ctx->fake.mem, 0, KT_MEDIA);
	w0 = ctx->fake.writes;
	kt_create(test, ctx);
	n = ctx->fake.writes - w0;
	KUNIT_ASSERT_GT(test, n, 0);
	kunit_info(test, "format: %u writes\n", n);
	kt_remove(ctx);

	for (k = 0; k < n; k++) {
		for (torn = 0; torn < 2; torn++) {
			/* Erased flash reads 0xff, new FRAM 0. */
			memset(ctx->fake.mem, torn ? 0xff : 0, KT_MEDIA);
			kt_fake_arm(&ctx->fake, k, torn);
			part = knvram_partition_create(ctx->be, &ctx->info);
			KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(part), -EIO,
					    "k=%u torn=%u", k, torn);
			if (!IS_ERR(part))
				knvram_partition_remove(part);
			kt_fake_disarm(&ctx->fake);

			part = knvram_partition_create(ctx->be, &ctx->info);
			KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(part), 0,
					    "k=%u torn=%u: not created after an interrupted format",
					    k, torn);
			if (IS_ERR(part))
				continue;
			ctx->part = part;
			kt_expect_part(test, KT_PART, zero, "formatted");
			kt_remove(ctx);
			/* Whatever that creation did left valid media. */
			w0 = ctx->fake.writes;
			kt_create(test, ctx);
			KUNIT_EXPECT_EQ(test, ctx->fake.writes, w0);
			kt_expect_part(test, KT_PART, zero, "loaded");
			kt_remove(ctx);
		}
	}
	memset(ctx->fake.mem, 0, KT_MEDIA);
	kt_create(test, ctx);
}

/*
 * Two synced generations: gen0 + 1 (pattern @s1) and gen0 + 2 (@s2), one
 * in each bank. Returns a snapshot of the media, the partition removed.
 */
static u8 *kt_two_generations(struct kunit *test, struct kt_ctx *ctx,
			      u8 *m1, u8 s1, u8 *m2, u8 s2)
{
	struct knvram_handle *w = kt_open(test, KT_PART, KNVRAM_WRITE);

	kt_commit_all(test, w, m1, s1);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_commit_all(test, w, m2, s2);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	KUNIT_ASSERT_EQ(test, ctx->part->gen, ctx->gen0 + 2);
	kt_close(test, w);
	kt_remove(ctx);
	return kt_snapshot(test, ctx);
}

/* A byte to damage in the newest or the older bank, after two syncs. */
struct kt_corruption {
	const char *desc;
	bool older;
	int where;	/* 0 header, 1 table, 2 data */
};

static const struct kt_corruption kt_one_bank_cases[] = {
	{ "newest bank header", false, 0 },
	{ "newest bank table", false, 1 },
	{ "newest bank data", false, 2 },
	{ "older bank header", true, 0 },
	{ "older bank data", true, 2 },
};

static void kt_corrupt(struct kt_ctx *ctx, const struct kt_corruption *c)
{
	static const u64 at[] = { 8, 1, 5 * KT_BS + 17 };
	const u64 *base[] = { ctx->bank_start, ctx->table_start,
			      ctx->data_start };
	unsigned int bank = (ctx->gen0 + 2 + c->older) & 1;

	ctx->fake.mem[base[c->where][bank] + at[c->where]] ^= 0x5a;
}

static void kt_media_one_bank_bad(struct kunit *test)
{
	u8 *m1 = kt_buf(test, KT_SIZE), *m2 = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w;
	unsigned int i, writes;
	u8 *base;

	base = kt_two_generations(test, ctx, m1, 0x61, m2, 0x62);

	for (i = 0; i < ARRAY_SIZE(kt_one_bank_cases); i++) {
		const struct kt_corruption *c = &kt_one_bank_cases[i];
		bool newest_bad = !c->older;

		kunit_info(test, "corrupt: %s\n", c->desc);
		kt_restore(ctx, base);
		kt_corrupt(ctx, c);
		writes = ctx->fake.writes;
		kt_create(test, ctx);
		KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
		KUNIT_EXPECT_EQ(test, ctx->part->gen,
				ctx->gen0 + (newest_bad ? 1 : 2));
		kt_expect_part(test, KT_PART, newest_bad ? m1 : m2, c->desc);
		/* Nothing was committed: the removal writes nothing. */
		kt_remove(ctx);
		KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	}

	/* The next sync rewrites the corrupt bank whole. */
	kt_restore(ctx, base);
	kt_corrupt(ctx, &kt_one_bank_cases[0]);
	kt_create(test, ctx);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_pwrite_model(test, w, m1, "x", 1, 0);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 2);
	kt_close(test, w);
	kt_remove(ctx);
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 2);
	kt_expect_part(test, KT_PART, m1, "after repairing the bad bank");
}

/* Damage block @b of the newest (or the older) bank of kt_two_generations(). */
static void kt_corrupt_block(struct kt_ctx *ctx, bool older, unsigned int b)
{
	unsigned int bank = (ctx->gen0 + 2 + older) & 1;

	ctx->fake.mem[ctx->data_start[bank] + (u64)b * KT_BS + 100] ^= 0xa5;
}

static int kt_format(struct knvram_partition *part)
{
	guard(mutex)(&knvram_lock);
	return knvram_partition_format(part);
}

/* @part's bad block list, as its sysfs file shows it. */
static void kt_expect_bad(struct kunit *test, struct knvram_partition *part,
			  const char *want, const char *what)
{
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	bitmap_print_to_pagebuf(true, buf, part->bad, part->nblocks);
	KUNIT_EXPECT_STREQ_MSG(test, buf, want, "%s: bad blocks", what);
}

/* A damaged partition: read-only, never written, content @want. */
static void kt_expect_damaged(struct kunit *test, struct kt_ctx *ctx,
			      const u8 *want, const char *bad,
			      const char *what)
{
	unsigned int writes = ctx->fake.writes;
	struct knvram_info info;
	struct knvram_handle *r;

	KUNIT_EXPECT_TRUE_MSG(test, ctx->part->damaged, "%s", what);
	kt_expect_bad(test, ctx->part, bad, what);
	KUNIT_EXPECT_EQ_MSG(test, kt_open_err(KT_PART, KNVRAM_WRITE), -EROFS,
			    "%s", what);
	r = kt_open(test, KT_PART, 0);
	KUNIT_ASSERT_EQ(test, knvram_get_info(r, &info), 0);
	KUNIT_EXPECT_EQ_MSG(test, info.flags &
			    (KNVRAM_INFO_DAMAGED | KNVRAM_INFO_READ_ONLY),
			    KNVRAM_INFO_DAMAGED | KNVRAM_INFO_READ_ONLY,
			    "%s", what);
	kt_expect_content(test, r, want, what);
	/* Neither an admin's sync nor the emergency sync writes it. */
	KUNIT_EXPECT_EQ(test, knvram_sync(r), 0);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	knvram_emergency_end();
	kt_close(test, r);
	KUNIT_EXPECT_EQ_MSG(test, ctx->fake.writes, writes, "%s: written",
			    what);
}

/*
 * No valid bank: the partition is created damaged, with what the newest
 * bank whose header is accepted holds (failing blocks as zeroes), and the
 * media is left as it is.
 */
static void kt_media_both_banks_bad(struct kunit *test)
{
	u8 *m1 = kt_buf(test, KT_SIZE), *m2 = kt_buf(test, KT_SIZE);
	u8 *want = kt_buf(test, KT_SIZE);
	static const struct kt_corruption hdr0 = { "header", false, 0 };
	static const struct kt_corruption hdr1 = { "header", true, 0 };
	static const struct kt_corruption dat1 = { "data", true, 2 };
	static const struct kt_corruption tab0 = { "table", false, 1 };
	struct kt_ctx *ctx = test->priv;
	unsigned int nb = (ctx->gen0 + 2) & 1, ob = !nb;
	struct knvram_partition_info info;
	struct knvram_damage *d;
	unsigned int i, writes;
	u8 *base, *before;

	base = kt_two_generations(test, ctx, m1, 0x71, m2, 0x72);
	before = kt_vzalloc(test, KT_MEDIA);

	for (i = 0; i < 4; i++) {
		static const char * const bad[] = { "0-15\n", "5\n", "0\n",
						    "3,7-9\n" };

		kt_restore(ctx, base);
		if (i == 3) {
			kt_corrupt_block(ctx, false, 3);
			kt_corrupt_block(ctx, false, 7);
			kt_corrupt_block(ctx, false, 8);
			kt_corrupt_block(ctx, false, 9);
		} else {
			kt_corrupt(ctx, i == 2 ? &tab0 : &hdr0);
		}
		kt_corrupt(ctx, i == 1 ? &dat1 : &hdr1);
		memcpy(before, ctx->fake.mem, KT_MEDIA);
		writes = ctx->fake.writes;

		kt_create(test, ctx);
		d = &ctx->part->damage;
		switch (i) {
		case 0:	/* both headers bad: zeroes */
			memset(want, 0, KT_SIZE);
			KUNIT_EXPECT_EQ(test, d->salvaged, -1);
			KUNIT_EXPECT_EQ(test, d->bank[nb].header,
					KNVRAM_BANK_INVALID);
			break;
		case 1:	/* newest header bad, older block 5 bad */
			memcpy(want, m1, KT_SIZE);
			memset(want + 5 * KT_BS, 0, KT_BS);
			KUNIT_EXPECT_EQ(test, d->salvaged, ob);
			KUNIT_EXPECT_EQ(test, d->bank[ob].nbad, 1);
			KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 1);
			break;
		case 2:	/* newest table (entry 0) bad, older header bad */
			memcpy(want, m2, KT_SIZE);
			memset(want, 0, KT_BS);
			KUNIT_EXPECT_EQ(test, d->salvaged, nb);
			KUNIT_EXPECT_TRUE(test, d->bank[nb].table_bad);
			KUNIT_EXPECT_EQ(test, d->bank[nb].nbad, 1);
			break;
		default: /* newest blocks bad, older header bad */
			memcpy(want, m2, KT_SIZE);
			memset(want + 3 * KT_BS, 0, KT_BS);
			memset(want + 7 * KT_BS, 0, 3 * KT_BS);
			KUNIT_EXPECT_EQ(test, d->salvaged, nb);
			KUNIT_EXPECT_FALSE(test, d->bank[nb].table_bad);
			KUNIT_EXPECT_EQ(test, d->bank[nb].nbad, 4);
			KUNIT_EXPECT_EQ(test, d->bank[ob].header,
					KNVRAM_BANK_INVALID);
			KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 2);
			break;
		}
		kt_expect_damaged(test, ctx, want, bad[i], "damaged");
		kt_remove(ctx);
		KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
		KUNIT_EXPECT_EQ_MSG(test, kt_diff(before, ctx->fake.mem,
						  KT_MEDIA), -1L,
				    "case %u: media changed", i);
	}

	/* Media of another partition geometry is not formatted either. */
	kt_restore(ctx, base);
	info = ctx->info;
	info.size = KT_SIZE / 2;
	writes = ctx->fake.writes;
	ctx->part = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->part);
	KUNIT_EXPECT_TRUE(test, ctx->part->damaged);
	KUNIT_EXPECT_EQ(test, ctx->part->damage.salvaged, -1);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE), -EROFS);
	kt_remove(ctx);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, kt_diff(base, ctx->fake.mem, KT_MEDIA), -1L);

	/* The intact media still loads, not damaged. */
	kt_create(test, ctx);
	KUNIT_EXPECT_FALSE(test, ctx->part->damaged);
	kt_expect_bad(test, ctx->part, "\n", "intact");
	kt_expect_part(test, KT_PART, m2, "intact media");
}

/*
 * Formatting a damaged partition: refused while any handle is open, then
 * an empty valid partition, writable, that a reload finds valid.
 */
static void kt_media_format(struct kunit *test)
{
	u8 *m1 = kt_buf(test, KT_SIZE), *m2 = kt_buf(test, KT_SIZE);
	u8 *zero = kt_buf(test, KT_SIZE);
	static const struct kt_corruption hdr0 = { "header", false, 0 };
	static const struct kt_corruption hdr1 = { "header", true, 0 };
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition_info info;
	struct knvram_partition *ro;
	struct knvram_handle *h, *w;
	struct knvram_info ki;
	unsigned int writes;

	kt_two_generations(test, ctx, m1, 0x41, m2, 0x42);
	kt_corrupt(ctx, &hdr0);
	kt_corrupt(ctx, &hdr1);
	kt_create(test, ctx);
	KUNIT_ASSERT_TRUE(test, ctx->part->damaged);

	/* Open, by a reader: refused, nothing written. */
	h = kt_open(test, KT_PART, 0);
	writes = ctx->fake.writes;
	KUNIT_EXPECT_EQ(test, kt_format(ctx->part), -EBUSY);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_TRUE(test, ctx->part->damaged);
	kt_close(test, h);

	KUNIT_ASSERT_EQ(test, kt_format(ctx->part), 0);
	KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_FALSE(test, ctx->part->damaged);
	kt_expect_bad(test, ctx->part, "\n", "formatted");
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	KUNIT_ASSERT_EQ(test, knvram_get_info(w, &ki), 0);
	KUNIT_EXPECT_EQ(test, ki.flags &
			(KNVRAM_INFO_DAMAGED | KNVRAM_INFO_READ_ONLY), 0);
	kt_expect_content(test, w, zero, "formatted");
	/* Open by the writer: refused too. */
	KUNIT_EXPECT_EQ(test, kt_format(ctx->part), -EBUSY);
	kt_fill(m1, KT_SIZE, 0x43);
	kt_pwrite(test, w, m1 + KT_BS, KT_BS, KT_BS);
	memcpy(zero + KT_BS, m1 + KT_BS, KT_BS);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_close(test, w);

	/* Valid across a reload: loaded, not formatted or damaged. */
	kt_remove(ctx);
	writes = ctx->fake.writes;
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_FALSE(test, ctx->part->damaged);
	kt_expect_part(test, KT_PART, zero, "after format, write, reload");

	/* A healthy partition formats as well. */
	w = kt_open(test, KT_PART, KNVRAM_WRITE | KNVRAM_NONBLOCK);
	kt_pwrite(test, w, m1, 64, 0);
	kt_close(test, w);
	flush_work(&ctx->part->sync_work);
	KUNIT_ASSERT_EQ(test, kt_format(ctx->part), 0);
	memset(zero, 0, KT_SIZE);
	kt_expect_part(test, KT_PART, zero, "formatted again");
	kt_remove(ctx);
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, zero, "formatted again, reloaded");

	/* Write-protected by configuration: refused, whatever the media. */
	info = ctx->info;
	info.name = KT_PART1;
	info.offset = ctx->footprint;
	info.read_only = true;
	ro = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	writes = ctx->fake.writes;
	KUNIT_EXPECT_EQ(test, kt_format(ro), -EROFS);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	knvram_partition_remove(ro);
}

/* A format that fails leaves the partition damaged, reading zeroes. */
static void kt_media_format_fails(struct kunit *test)
{
	u8 *zero = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;

	kt_fake_arm(&ctx->fake, 3, false);
	KUNIT_EXPECT_EQ(test, kt_format(ctx->part), -EIO);
	kt_fake_disarm(&ctx->fake);
	KUNIT_EXPECT_TRUE(test, ctx->part->damaged);
	KUNIT_EXPECT_EQ(test, ctx->part->damage.format_err, -EIO);
	kt_expect_damaged(test, ctx, zero, "0-15\n", "format failed");
	KUNIT_EXPECT_EQ(test, kt_format(ctx->part), 0);
	KUNIT_EXPECT_FALSE(test, ctx->part->damaged);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE), 0);
}

struct kt_torn_case {
	const char *desc;
	bool incremental;
};

static const struct kt_torn_case kt_torn_cases[] = {
	{ "full sync", false },
	{ "incremental sync", true },
};

static void kt_torn_desc(const struct kt_torn_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kt_torn, kt_torn_cases, kt_torn_desc);

/* Commit the change whose sync is cut: @model goes from old to new. */
static void kt_torn_change(struct kunit *test, struct knvram_handle *w,
			   const struct kt_torn_case *c, u8 *model)
{
	u8 *src = kt_buf(test, KT_SIZE);

	kt_fill(src, KT_SIZE, 0xd0);
	if (!c->incremental) {
		kt_pwrite_model(test, w, model, src, KT_SIZE, 0);
	} else {
		KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
		kt_pwrite_model(test, w, model, src, 10, KT_BS + 1);
		kt_pwrite_model(test, w, model, src, 10, 6 * KT_BS + 9);
		kt_pwrite_model(test, w, model, src, KT_BS, 12 * KT_BS);
		KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	}
	kunit_kfree(test, src);
}

/*
 * Cut the sync of a change at every write it makes, whole or torn in the
 * middle, and load what the media holds then: exactly the old state or
 * exactly the new one. Then let the power come back: a second sync
 * completes the first.
 */
static void kt_media_torn_sync(struct kunit *test)
{
	const struct kt_torn_case *c = test->param_value;
	u8 *old = kt_buf(test, KT_SIZE), *new = kt_buf(test, KT_SIZE);
	u8 *got = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	unsigned int k, n, w0, torn;
	struct knvram_handle *w, *r;
	u8 *base, *cut, *done;
	bool is_old, is_new;

	/* The old state: one or two generations on the media. */
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, old, 0x81);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	if (c->incremental) {
		/* Banks that differ in some blocks only. */
		kt_touch_0_5_6(test, w, old, 0x82);
		KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	}
	kt_close(test, w);
	kt_remove(ctx);
	base = kt_snapshot(test, ctx);
	cut = kt_vzalloc(test, KT_MEDIA);
	done = kt_vzalloc(test, KT_MEDIA);
	memcpy(new, old, KT_SIZE);

	/* How many writes the sync makes, when nothing fails. */
	kt_create(test, ctx);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_torn_change(test, w, c, new);
	w0 = ctx->fake.writes;
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	n = ctx->fake.writes - w0;
	KUNIT_ASSERT_GT(test, n, 1);
	kunit_info(test, "%s: %u writes\n", c->desc, n);
	kt_close(test, w);
	kt_remove(ctx);

	for (k = 0; k <= n; k++) {
		for (torn = 0; torn < 2; torn++) {
			kt_restore(ctx, base);
			kt_create(test, ctx);
			w = kt_open(test, KT_PART, KNVRAM_WRITE);
			memcpy(got, old, KT_SIZE);
			kt_torn_change(test, w, c, got);
			kt_fake_arm(&ctx->fake, k, torn);
			KUNIT_EXPECT_EQ_MSG(test, knvram_sync(w), k < n ? -EIO : 0,
					    "k=%u torn=%u", k, torn);
			memcpy(cut, ctx->fake.mem, KT_MEDIA);

			/* The power is back: the next sync completes it. */
			kt_fake_disarm(&ctx->fake);
			KUNIT_EXPECT_EQ(test, knvram_sync(w), 0);
			KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(ctx->part), 0);
			memcpy(done, ctx->fake.mem, KT_MEDIA);
			kt_close(test, w);
			kt_remove(ctx);

			/* What the media held when the power failed. */
			kt_restore(ctx, cut);
			kt_create(test, ctx);
			r = kt_open(test, KT_PART, 0);
			kt_read_all(test, r, got);
			kt_close(test, r);
			is_old = !memcmp(got, old, KT_SIZE);
			is_new = !memcmp(got, new, KT_SIZE);
			KUNIT_EXPECT_TRUE_MSG(test, is_old || is_new,
					      "k=%u torn=%u: mixed state (first difference from old at %ld, from new at %ld)",
					      k, torn, kt_diff(got, old, KT_SIZE),
					      kt_diff(got, new, KT_SIZE));
			if (k == 0)
				KUNIT_EXPECT_TRUE_MSG(test, is_old,
						      "torn=%u", torn);
			if (k == n)
				KUNIT_EXPECT_TRUE_MSG(test, is_new,
						      "torn=%u", torn);
			kt_remove(ctx);

			/* What it held after the second sync. */
			kt_restore(ctx, done);
			kt_create(test, ctx);
			kt_expect_part(test, KT_PART, new, "after the retry");
			kt_remove(ctx);
		}
	}
	kt_restore(ctx, base);
	kt_create(test, ctx);
}

static void kt_media_generations(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE), src[64];
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w;
	u64 gen;

	for (gen = ctx->gen0 + 1; gen <= ctx->gen0 + 6; gen++) {
		w = kt_open(test, KT_PART, KNVRAM_WRITE);
		kt_fill(src, sizeof(src), gen);
		kt_pwrite_model(test, w, model, src, sizeof(src), 0);
		kt_pwrite_model(test, w, model, src, sizeof(src),
				(gen % KT_NBLOCKS) * KT_BS + gen % 256);
		KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
		KUNIT_EXPECT_EQ(test, ctx->part->gen, gen);
		kt_close(test, w);

		kt_remove(ctx);
		kt_create(test, ctx);
		KUNIT_EXPECT_EQ(test, ctx->part->gen, gen);
		kt_expect_part(test, KT_PART, model, "re-created");
	}
}

/* ------------------------------------------------------------------ */
/* Emergency sync */

static void kt_emergency(struct kunit *test)
{
	u8 *old = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	struct knvram_partition_info info = { };
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r, *w1;
	struct knvram_partition *p1;
	unsigned int writes;
	u8 src[32];
	loff_t pos;
	u8 *snap;

	info.name = KT_PART1;
	info.offset = ctx->footprint;
	info.size = KT_SIZE;
	p1 = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p1);
	w1 = kt_open(test, KT_PART1, KNVRAM_WRITE);

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0x91);
	memcpy(model, old, KT_SIZE);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_fill(src, sizeof(src), 0x92);
	kt_pwrite_model(test, w, model, src, sizeof(src), 2 * KT_BS);

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	writes = ctx->fake.writes;
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	KUNIT_EXPECT_GT(test, ctx->fake.writes, writes);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 1);
	KUNIT_EXPECT_EQ(test,
			atomic64_read(&ctx->part->stats.emergency_sync_count),
			1);
	snap = kt_snapshot(test, ctx);

	/* Frozen: no write, no commit, in any partition. */
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_write(w, src, 1, &pos),
			(ssize_t)-ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, pos, 0);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, knvram_write(w1, src, 1, &pos),
			(ssize_t)-ESHUTDOWN);
	/* The transaction survives the refused commit. */
	kt_expect_content(test, w, model, "writer after a refused commit");
	kt_expect_content(test, r, old, "reader after a refused commit");

	knvram_emergency_end();
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), 0);
	kt_expect_content(test, r, model, "reader after the commit");
	kt_pwrite(test, w1, src, 1, 0);
	kt_close(test, w1);
	knvram_partition_remove(p1);

	/* The media held the committed state, without the transaction. */
	kt_close(test, w);
	kt_close(test, r);
	kt_remove(ctx);
	kt_restore(ctx, snap);
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 1);
	kt_expect_part(test, KT_PART, old, "after the emergency sync");
}

/* A partition made while the power fails is frozen until it is back. */
static void kt_emergency_new_partition(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition_info info = {
		.name = KT_PART1, .offset = ctx->footprint, .size = KT_SIZE,
	};
	struct knvram_partition *part;
	struct knvram_handle *w;
	loff_t pos = 0;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	part = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	w = kt_open(test, KT_PART1, KNVRAM_WRITE);
	KUNIT_EXPECT_EQ(test, knvram_write(w, "x", 1, &pos), -ESHUTDOWN);
	knvram_emergency_end();
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_write(w, "x", 1, &pos), 1);
}

/*
 * The power fails while a commit is between its two latch copies: the
 * spare copy already names the new blocks, the flip has not happened. The
 * emergency sync writes the last committed state, not the transaction;
 * the commit then fails and its transaction stays open, and commits once
 * the power is back.
 */
static void kt_emergency_mid_commit(struct kunit *test)
{
	u8 *committed = kt_buf(test, KT_SIZE), *model = kt_buf(test, KT_SIZE);
	u8 *src = kt_buf(test, 2 * KT_BS);
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition *part = ctx->part;
	struct knvram_handle *w;
	unsigned int cur, b;
	u8 *snap;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, committed, 0xa1);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	/* Committed, not synced: the emergency sync has this to write. */
	kt_fill(src, KT_BS, 0xa3);
	kt_pwrite_model(test, w, committed, src, 100, 5 * KT_BS + 7);
	memcpy(model, committed, KT_SIZE);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_fill(src, 2 * KT_BS, 0xa2);
	kt_pwrite_model(test, w, model, src, 2 * KT_BS - 4, 2 * KT_BS + 2);
	KUNIT_ASSERT_NOT_NULL(test, part->txn[2]);
	KUNIT_ASSERT_NOT_NULL(test, part->txn[3]);

	/* What knvram_commit() has done when the power fails. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	cur = knvram_latch_copy(atomic_long_read(&part->state));
	for (b = 2; b <= 3; b++)
		WRITE_ONCE(part->map[!cur][b], part->txn[b]);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	for (b = 2; b <= 3; b++)
		WRITE_ONCE(part->map[!cur][b], part->map[cur][b]);
	KUNIT_EXPECT_EQ(test, part->gen, ctx->gen0 + 2);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -ESHUTDOWN);
	snap = kt_snapshot(test, ctx);

	knvram_emergency_end();
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), 0);
	kt_close(test, w);
	kt_expect_part(test, KT_PART, model, "the commit after the power is back");
	kt_remove(ctx);

	kt_restore(ctx, snap);
	kt_create(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->part->gen, ctx->gen0 + 2);
	kt_expect_part(test, KT_PART, committed, "after a commit cut before its flip");
}

/*
 * A backend that cannot write in atomic context is frozen at once by the
 * emergency sync and synced soon after by the high-priority worker.
 */
static void kt_emergency_deferred_run(struct kunit *test, bool admin_busy)
{
	struct knvram_partition_info info = {
		.name = "kt-slow0", .size = 4 * KT_BS,
	};
	struct knvram_backend_config cfg = { };
	struct kt_ctx *ctx = test->priv;
	struct kt_fake *slow = kunit_kzalloc(test, sizeof(*slow), GFP_KERNEL);
	struct knvram_partition *part;
	struct knvram_backend *be;
	struct knvram_handle *w;
	loff_t pos = 0;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, slow);
	slow->size = KT_MEDIA;
	slow->mem = kt_vzalloc(test, KT_MEDIA);
	cfg.dev = ctx->dev;
	cfg.name = "kt-slow";
	cfg.ops = &kt_fake_ops;
	cfg.priv = slow;
	cfg.size = KT_MEDIA;
	cfg.block_size = KT_BS;
	cfg.write_unit = KT_WU;
	be = knvram_backend_register(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_unregister_action,
							be), 0);
	part = knvram_partition_create(be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);

	w = kt_open(test, "kt-slow0", KNVRAM_WRITE);
	KUNIT_ASSERT_EQ(test, knvram_write(w, "deferred", 8, &pos), 8);
	KUNIT_ASSERT_EQ(test, knvram_dirty_bytes(part), (u64)KT_BS);
	slow->writes = 0;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	/*
	 * An admin action (configfs enable: a format and a label write, a
	 * backend registering) holds knvram_lock across slow media I/O: the
	 * emergency sync must not wait for it.
	 */
	if (admin_busy)
		mutex_lock(&knvram_lock);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	/* Frozen now, even though nothing could be written yet. */
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_write(w, "refused!", 8, &pos),
			(ssize_t)-ESHUTDOWN);

	/* The worker runs soon; bounded wait, not a timing assertion. */
	for (i = 0; i < 250 && !atomic64_read(&part->stats.emergency_sync_count);
	     i++)
		msleep(20);
	if (admin_busy)
		mutex_unlock(&knvram_lock);
	KUNIT_EXPECT_EQ(test, atomic64_read(&part->stats.emergency_sync_count),
			1);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);
	KUNIT_EXPECT_GT(test, slow->writes, 0);
	KUNIT_EXPECT_EQ(test, slow->bad_io, 0);
	knvram_emergency_end();
}

static void kt_emergency_deferred(struct kunit *test)
{
	kt_emergency_deferred_run(test, false);
}

/* ...and while an admin action holds knvram_lock. */
static void kt_emergency_deferred_admin_busy(struct kunit *test)
{
	kt_emergency_deferred_run(test, true);
}

/* ------------------------------------------------------------------ */
/* Removal under open handles */

static void kt_remove_open(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE), buf[16];
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w, *r, *n;
	int refs = kt_module_refs();
	loff_t pos = 0;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	KUNIT_EXPECT_EQ(test, kt_module_refs(), refs + 2 * KT_HANDLE_REFS);
	kt_commit_all(test, w, model, 0xb1);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite(test, w, "lost", 4, 0);

	kt_remove(ctx);
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos),
			(ssize_t)-ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_read(w, buf, sizeof(buf), &pos),
			(ssize_t)-ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_write(w, buf, sizeof(buf), &pos),
			(ssize_t)-ENODEV);
	KUNIT_EXPECT_EQ(test, pos, 0);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), -ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), -ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_tabort(w), -ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_sync(w), -ENODEV);
	KUNIT_EXPECT_EQ(test, knvram_sync(r), -ENODEV);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, 0), -ENOENT);

	/*
	 * The name is free again while the old handles are open; the new
	 * partition has what was committed, not the open transaction.
	 */
	kt_create(test, ctx);
	n = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_expect_content(test, n, model, "re-created");
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos),
			(ssize_t)-ENODEV);

	kt_close(test, w);
	kt_close(test, r);
	KUNIT_EXPECT_EQ(test, kt_module_refs(), refs + KT_HANDLE_REFS);
	kt_close(test, n);
	KUNIT_EXPECT_EQ(test, kt_module_refs(), refs);
}

/* ------------------------------------------------------------------ */
/* Bad configurations */

static long kt_register_err(const struct knvram_backend_config *cfg)
{
	struct knvram_backend *be = knvram_backend_register(cfg);

	if (IS_ERR(be))
		return PTR_ERR(be);
	knvram_backend_unregister(be);
	return 0;
}

static int kt_no_write(void *priv, u64 off, const void *buf, size_t len)
{
	return -EIO;
}

static int kt_no_read(void *priv, u64 off, void *buf, size_t len)
{
	return -EIO;
}

static const struct knvram_backend_ops kt_ops_no_read = {
	.write = kt_no_write,
};

static const struct knvram_backend_ops kt_ops_no_write = {
	.read = kt_no_read,
};

/*
 * A device with a wp-gpios property: no backend drives a write-protect
 * line (the nvmem core drives an nvmem provider's own), so the core
 * refuses it rather than leave the board unprotected without a word.
 */
static void kt_backend_wp_gpios(struct kunit *test)
{
	static const struct property_entry props[] = {
		PROPERTY_ENTRY_BOOL("wp-gpios"),
		{ }
	};
	struct kt_ctx *ctx = test->priv;
	struct knvram_backend_config cfg = {
		.name = "kunit-nv1", .ops = &kt_fake_ops,
		.priv = &ctx->fake, .size = KT_MEDIA,
	};

	cfg.dev = kunit_device_register(test, "knvram-kunit-wp");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cfg.dev);
	KUNIT_EXPECT_EQ(test, kt_register_err(&cfg), 0);
	KUNIT_ASSERT_EQ(test, device_create_managed_software_node(cfg.dev,
								  props, NULL),
			0);
	KUNIT_EXPECT_EQ(test, kt_register_err(&cfg), -EINVAL);
}

static void kt_backend_bad_config(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_backend_config good = {
		.dev = ctx->dev, .name = "kunit-nv1", .ops = &kt_fake_ops,
		.priv = &ctx->fake, .size = KT_MEDIA,
	};
	struct knvram_backend_config cfg;
	struct knvram_backend *be;

#define KT_BAD(field, value, err)					\
	do {								\
		cfg = good;						\
		cfg.field = value;					\
		KUNIT_EXPECT_EQ_MSG(test, kt_register_err(&cfg), err,	\
				    #field " = " #value);		\
	} while (0)

	KT_BAD(block_size, 3000, -EINVAL);
	KT_BAD(block_size, 4097, -EINVAL);
	KT_BAD(block_size, 32, -EINVAL);
	KT_BAD(block_size, 131072, -EINVAL);
	KT_BAD(write_unit, 3, -EINVAL);
	/* More than the block size (4096 by default). */
	KT_BAD(write_unit, 8192, -EINVAL);
	KT_BAD(ops, NULL, -EINVAL);
	KT_BAD(ops, &kt_ops_no_read, -EINVAL);
	KT_BAD(ops, &kt_ops_no_write, -EINVAL);
	KT_BAD(name, NULL, -EINVAL);
	KT_BAD(dev, NULL, -EINVAL);
	KT_BAD(flags, BIT(5), -EINVAL);
	KT_BAD(atomic_unit, 100, -EINVAL);
	KT_BAD(atomic_unit, 4096 + 32, -EINVAL);
	KT_BAD(size, 0, -EINVAL);
	KT_BAD(size, 2 * KT_BS, -EINVAL);
	KT_BAD(name, KT_BACKEND, -EEXIST);
	/* The limits themselves are fine. */
	KT_BAD(write_unit, 4096, 0);
	KT_BAD(block_size, 64, 0);
	KT_BAD(block_size, 65536, 0);
	KT_BAD(atomic_unit, 64, 0);
	KT_BAD(atomic_unit, 262016, 0);
#undef KT_BAD

	/* An atomic unit is whole write units too. */
	cfg = good;
	cfg.write_unit = KT_WIDE_WU;
	cfg.atomic_unit = 3 * 64;
	KUNIT_EXPECT_EQ(test, kt_register_err(&cfg), -EINVAL);
	cfg.atomic_unit = 2 * KT_WIDE_WU;
	KUNIT_EXPECT_EQ(test, kt_register_err(&cfg), 0);

	/* 0 means the defaults: 4096-byte blocks, byte writes. */
	be = knvram_backend_register(&good);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be);
	KUNIT_EXPECT_EQ(test, be->block_size, 4096);
	KUNIT_EXPECT_EQ(test, be->write_unit, 1);
	/* The label: two banks of 4 KiB at the start of the media. */
	KUNIT_EXPECT_EQ(test, knvram_backend_space(be), KT_MEDIA - 2 * 4096);
	knvram_backend_unregister(be);
	KUNIT_EXPECT_EQ(test, ctx->fake.bad_io, 0);
}

static void kt_partition_bad_args(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_backend_config cfg = {
		.dev = ctx->dev, .name = "kunit-nv1", .ops = &kt_fake_ops,
		.priv = &ctx->fake, .size = KT_MEDIA, .block_size = KT_BS,
		.write_unit = KT_WU,
	};
	u64 fp = ctx->footprint, space = knvram_backend_space(ctx->be);
	struct knvram_backend *be = ctx->be, *be1;
	unsigned int writes = ctx->fake.writes;
	char name[41];

	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp, KT_BS + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp, KT_BS / 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp + 100, KT_BS),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, KT_BS, KT_BS),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp - KT_BS, KT_BS),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp, space), -ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, space, KT_BS),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1,
					    round_down(U64_MAX, KT_BS), KT_BS),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, "", fp, KT_BS), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, "a/b", fp, KT_BS), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, ".x", fp, KT_BS), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, "a b", fp, KT_BS), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, NULL, fp, KT_BS), -EINVAL);
	memset(name, 'n', 40);
	name[40] = '\0';
	KUNIT_EXPECT_EQ(test, kt_create_err(be, name, fp, KT_BS), -EINVAL);
	name[KNVRAM_NAME_MAX + 1] = '\0';
	KUNIT_EXPECT_EQ(test, kt_create_err(be, name, fp, KT_BS), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART, fp, KT_BS), -EEXIST);
	/* Nothing above touched the media. */
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);

	/* The boundaries: a 32-character name, a partition right after. */
	name[KNVRAM_NAME_MAX] = '\0';
	KUNIT_EXPECT_EQ(test, kt_create_err(be, name, fp, KT_BS), 0);
	KUNIT_EXPECT_EQ(test, kt_create_err(be, KT_PART1, fp, KT_BS), 0);

	/* Names are unique across backends. */
	be1 = knvram_backend_register(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be1);
	KUNIT_EXPECT_EQ(test, kt_create_err(be1, KT_PART, fp, KT_BS), -EEXIST);
	KUNIT_EXPECT_EQ(test, kt_create_err(be1, KT_PART1, 2 * fp, KT_BS), 0);
	knvram_backend_unregister(be1);
}

/* ------------------------------------------------------------------ */
/* Allocation failures, injected with failslab's fail-nth */

#ifdef CONFIG_FAULT_INJECTION

/*
 * The task's fail-nth counter (/proc/<pid>/fail-nth, here set directly):
 * the nth slab allocation of this task fails. failslab only counts
 * allocations that may sleep with 'N' in
 * /sys/kernel/debug/failslab/ignore-gfp-wait, which a test module cannot
 * write (debugfs attributes take no kernel_write()): the bench sets it.
 */
static void kt_fail_nth(unsigned int n)
{
	WRITE_ONCE(current->fail_nth, n);
}

/* Stop injecting; true if the nth allocation was reached (and failed). */
static bool kt_fail_nth_end(void)
{
	bool hit = !READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return hit;
}

static void kt_require_failslab(struct kunit *test)
{
	void *p;
	bool hit;

	kt_fail_nth(1);
	p = kmalloc(32, GFP_KERNEL);
	hit = kt_fail_nth_end();
	kfree(p);
	if (p || !hit)
		kunit_skip(test,
			   "failslab does not fail GFP_KERNEL allocations: needs CONFIG_FAILSLAB and N in /sys/kernel/debug/failslab/ignore-gfp-wait");
}

enum kt_nomem_mode { KT_IN_TXN, KT_PLAIN, KT_AUTOT, KT_MANY_BLOCKS };

static const char * const kt_nomem_mode_name[] = {
	[KT_IN_TXN] = "write in a transaction",
	[KT_PLAIN] = "write outside a transaction",
	[KT_AUTOT] = "write starting an autot transaction",
	[KT_MANY_BLOCKS] = "write of 13 blocks in a transaction",
};

static void kt_nomem_write_mode(struct kunit *test, enum kt_nomem_mode mode)
{
	u8 *old = kt_buf(test, KT_SIZE), *txnview = kt_buf(test, KT_SIZE);
	u8 *src = kt_buf(test, KT_SIZE), *want = kt_buf(test, KT_SIZE);
	struct knvram_handle *w, *r;
	unsigned int n, failures = 0;
	size_t len;
	loff_t pos, start;
	ssize_t ret;
	bool hit;

	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	r = kt_open(test, KT_PART, 0);
	kt_commit_all(test, w, old, 0xc1);
	kt_fill(src, KT_SIZE, 0xc2);
	/* Blocks 1-3: block 2 is already in the transaction, 1 and 3 not. */
	start = KT_BS + 10;
	len = 2 * KT_BS + 20;
	if (mode == KT_MANY_BLOCKS) {
		start = 10;
		len = 12 * KT_BS;
	}

	for (n = 1; ; n++) {
		KUNIT_ASSERT_LT(test, n, KT_SWEEP_MAX);
		memcpy(txnview, old, KT_SIZE);
		if (mode == KT_IN_TXN || mode == KT_MANY_BLOCKS) {
			KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
			kt_pwrite_model(test, w, txnview, src + 2 * KT_BS, 8,
					2 * KT_BS + 40);
		}
		KUNIT_ASSERT_EQ(test, knvram_setautot(w, mode == KT_AUTOT), 0);
		memcpy(want, txnview, KT_SIZE);
		memcpy(want + start, src, len);

		pos = start;
		/* Every block the write needs is allocated. */
		knvram_pool_drain(w->part);
		kt_fail_nth(n);
		ret = knvram_write(w, src, len, &pos);
		hit = kt_fail_nth_end();

		if (ret >= 0 && ret < len) {
			/* Short: the blocks before the one it could not get. */
			failures++;
			KUNIT_EXPECT_TRUE(test, hit);
			KUNIT_EXPECT_EQ(test, (start + ret) % KT_BS, 0);
			KUNIT_EXPECT_EQ(test, pos, start + ret);
			memcpy(want, txnview, KT_SIZE);
			memcpy(want + start, src, ret);
			kt_expect_content(test, w, want, "writer after a short write");
			if (mode == KT_PLAIN) {
				kt_expect_content(test, r, want, "reader");
				kt_pwrite(test, w, old, KT_SIZE, 0);
			} else {
				kt_expect_content(test, r, old, "reader");
				KUNIT_EXPECT_EQ(test, knvram_tabort(w), 0);
			}
		} else if (ret == -ENOMEM) {
			failures++;
			KUNIT_EXPECT_TRUE(test, hit);
			KUNIT_EXPECT_EQ(test, pos, start);
			kt_expect_content(test, w, txnview, "writer after ENOMEM");
			kt_expect_content(test, r, old, "reader after ENOMEM");
			/* No transaction appeared, none was lost. */
			KUNIT_EXPECT_EQ(test, knvram_tabort(w),
					mode == KT_IN_TXN ||
					mode == KT_MANY_BLOCKS ? 0 : -EINVAL);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, ret, (ssize_t)len, "n=%u", n);
			KUNIT_EXPECT_EQ(test, pos, start + (loff_t)len);
			kt_expect_content(test, w, want, "writer after a write");
			if (mode == KT_PLAIN) {
				kt_expect_content(test, r, want, "reader");
				/* Back to the old state for the next round. */
				kt_pwrite(test, w, old, KT_SIZE, 0);
			} else {
				kt_expect_content(test, r, old, "reader");
				KUNIT_EXPECT_EQ(test, knvram_tabort(w), 0);
			}
		}
		if (!hit)
			break;	/* every allocation of the call was failed once */
	}
	kunit_info(test, "%s: %u allocations, %u failed the call\n",
		   kt_nomem_mode_name[mode], n - 1, failures);
	KUNIT_EXPECT_GT(test, failures, 0);
	kt_close(test, r);
	kt_close(test, w);
}

static void kt_nomem_write(struct kunit *test)
{
	kt_require_failslab(test);
	kt_nomem_write_mode(test, KT_IN_TXN);
	kt_nomem_write_mode(test, KT_PLAIN);
	kt_nomem_write_mode(test, KT_AUTOT);
	kt_nomem_write_mode(test, KT_MANY_BLOCKS);
}

/* Real time: starting a transaction allocates nothing and cannot fail. */
static void kt_nomem_tbegin(struct kunit *test)
{
	struct knvram_handle *w;
	bool hit;
	int ret;

	kt_require_failslab(test);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_fail_nth(1);
	ret = knvram_tbegin(w);
	hit = kt_fail_nth_end();
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_FALSE(test, hit);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), -EALREADY);
	KUNIT_EXPECT_EQ(test, knvram_tabort(w), 0);
}

static void kt_nomem_create_on(struct kunit *test, struct kt_ctx *ctx,
			       const u8 *want, bool blank)
{
	struct knvram_partition_info info = {
		.name = KT_PART1, .offset = ctx->footprint, .size = KT_SIZE,
	};
	struct knvram_partition *part;
	unsigned int n, failures = 0;
	u8 *before = kt_snapshot(test, ctx);
	bool hit;

	for (n = 1; ; n++) {
		KUNIT_ASSERT_LT(test, n, KT_SWEEP_MAX);
		kt_restore(ctx, before);
		kt_fail_nth(n);
		part = knvram_partition_create(ctx->be, &info);
		hit = kt_fail_nth_end();
		if (IS_ERR(part)) {
			failures++;
			KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(part), -ENOMEM,
					    "n=%u", n);
			KUNIT_EXPECT_TRUE(test, hit);
			KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART1, 0),
					-ENOENT);
			/* Only a blank partition may have been formatted. */
			if (!blank)
				KUNIT_EXPECT_EQ_MSG(test,
						    kt_diff(before,
							    ctx->fake.mem,
							    KT_MEDIA), -1L,
						    "n=%u: media changed", n);
			/* It can be created now. */
			part = knvram_partition_create(ctx->be, &info);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
		}
		kt_expect_part(test, KT_PART1, want, "created");
		knvram_partition_remove(part);
		if (!hit)
			break;
	}
	kunit_info(test, "%s media: %u allocations, %u failed the call\n",
		   blank ? "blank" : "valid", n - 1, failures);
	KUNIT_EXPECT_GT(test, failures, 0);
	kt_restore(ctx, before);
}

static void kt_nomem_partition_create(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_SIZE), src[64];
	struct knvram_partition_info info;
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition *part;
	struct knvram_handle *w;

	kt_require_failslab(test);
	kt_nomem_create_on(test, ctx, model, true);

	/* Two valid banks that differ: loading compares them. */
	info = ctx->info;
	info.name = KT_PART1;
	info.offset = ctx->footprint;
	part = knvram_partition_create(ctx->be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	w = kt_open(test, KT_PART1, KNVRAM_WRITE);
	kt_commit_all(test, w, model, 0xe1);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_fill(src, sizeof(src), 0xe2);
	kt_pwrite_model(test, w, model, src, sizeof(src), 4 * KT_BS);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_close(test, w);
	knvram_partition_remove(part);
	kt_nomem_create_on(test, ctx, model, false);
}

#else /* CONFIG_FAULT_INJECTION */

static void kt_nomem_write(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB");
}

static void kt_nomem_tbegin(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB");
}

static void kt_nomem_partition_create(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB");
}

#endif /* CONFIG_FAULT_INJECTION */

/* ------------------------------------------------------------------ */
/* Runtime partitions and the label */

#define KT_RT0		"kunit-r0"
#define KT_RT1		"kunit-r1"
#define KT_RT_SIZE	KT_SIZE

static int kt_rt_enable(struct knvram_backend *be, const char *name,
			u64 size, u64 offset)
{
	struct knvram_label_entry e = {
		.size = size, .offset = offset, .mode = 0600,
	};
	struct knvram_partition *part;

	strscpy(e.name, name);
	guard(mutex)(&knvram_lock);
	return knvram_runtime_enable(be, &e, true, &part);
}

static int kt_rt_erase(const char *name)
{
	struct knvram_partition *part;

	guard(mutex)(&knvram_lock);
	part = knvram_find_locked(name);
	if (!part)
		return -ENOENT;
	return knvram_runtime_disable(part, true);
}

/* Write @seed's pattern over runtime partition @name, synced on close. */
static void kt_rt_fill(struct kunit *test, const char *name, u8 *model,
		       u8 seed)
{
	struct knvram_handle *w = kt_open(test, name, KNVRAM_WRITE);

	kt_fill(model, KT_RT_SIZE, seed);
	kt_pwrite(test, w, model, KT_RT_SIZE, 0);
	kt_close(test, w);
}

static void kt_label_restore(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	u64 off;

	/* Placed after the fixed partition, the first free space. */
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	off = ctx->be->label->e[0].offset;
	KUNIT_EXPECT_EQ(test, off, ctx->footprint);
	kt_rt_fill(test, KT_RT0, model, 0x31);

	/* Every bad request fails and leaves the label as it was. */
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), -EEXIST);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_PART, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), -EEXIST);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE, off),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE, 0),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_BS + 1,
					   KNVRAM_OFFSET_AUTO), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_MEDIA,
					   KNVRAM_OFFSET_AUTO), -ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, "bad/name", KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 1);
	KUNIT_EXPECT_EQ(test, ctx->be->label->gen, 1);

	/* Made and erased: gone for good. */
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	KUNIT_EXPECT_EQ(test, kt_rt_erase(KT_RT1), 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->gen, 3);

	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->gen, 3);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 1);
	kt_expect_part(test, KT_RT0, model, "restored at registration");
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT1, 0), -ENOENT);
}

/*
 * Cut the creation (format, then label) of a runtime partition at every
 * write, whole or torn, then register again: the label is always valid,
 * the partition made before is intact, and the new one is there if the
 * creation succeeded (and maybe if only the final flush failed), zeroed.
 */
static void kt_label_torn(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_RT_SIZE);
	u8 *zero = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	unsigned int n, torn, cuts = 0;
	void *snap;
	int ret;

	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT1, model, 0x52);
	snap = kt_snapshot(test, ctx);

	for (torn = 0; torn < 2; torn++) {
		for (n = 0; n < KT_SWEEP_MAX; n++) {
			kt_restore(ctx, snap);
			kt_reregister(test, ctx);
			kt_fake_arm(&ctx->fake, n, torn);
			ret = kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO);
			if (!ret && !ctx->fake.dead)
				break;	/* no write was cut */
			cuts++;
			kt_fake_disarm(&ctx->fake);
			kt_reregister(test, ctx);
			KUNIT_EXPECT_EQ_MSG(test, ctx->be->label->err, 0,
					    "cut at write %u", n);
			kt_expect_part(test, KT_RT1, model, "made before");
			if (!ret)
				kt_expect_part(test, KT_RT0, zero, "made");
			else if (kt_open_err(KT_RT0, 0) != -ENOENT)
				kt_expect_part(test, KT_RT0, zero,
					       "failed at the last flush");
		}
		KUNIT_ASSERT_LT(test, n, KT_SWEEP_MAX);
		kt_fake_disarm(&ctx->fake);
	}
	/* Two banks of three writes each, then the label and its flush. */
	KUNIT_EXPECT_GE(test, cuts, 2 * 7);
}

/* Damaged labels: fall back to the older bank, or refuse to touch any. */
static void kt_label_damaged(struct kunit *test)
{
	u64 bank = KNVRAM_LABEL_BANK;	/* label bank 1; KT_BS is no larger */
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	void *snap;

	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT0, model, 0x73);
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	KUNIT_ASSERT_EQ(test, ctx->be->label->gen, 2);

	/* Generation 2, in bank 0, damaged: generation 1 has KT_RT0 only. */
	ctx->fake.mem[100] ^= 1;
	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->gen, 1);
	kt_expect_part(test, KT_RT0, model, "from the older label");
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT1, 0), -ENOENT);

	/* Both damaged: nothing restored, nothing written, nothing made. */
	ctx->fake.mem[bank + 100] ^= 1;
	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, -EUCLEAN);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, 0), -ENOENT);
	snap = kt_snapshot(test, ctx);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), -EUCLEAN);
	KUNIT_EXPECT_EQ(test, kt_diff(snap, ctx->fake.mem, KT_MEDIA), -1);
	/* Fixed partitions do not depend on the label. */
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, ctx->footprint,
					    KT_SIZE), 0);
}

static int kt_label_format(struct knvram_backend *be)
{
	guard(mutex)(&knvram_lock);
	return knvram_label_format(be);
}

/*
 * Formatting the label: refused while a valid label records a runtime
 * partition; a label damaged in both banks becomes an empty, valid one.
 */
static void kt_label_format_damaged(struct kunit *test)
{
	u64 bank = KNVRAM_LABEL_BANK;
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	void *snap;

	/* An empty valid label formats; one with an entry does not. */
	KUNIT_EXPECT_EQ(test, kt_label_format(ctx->be), 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT0, model, 0x37);
	snap = kt_snapshot(test, ctx);
	KUNIT_EXPECT_EQ(test, kt_label_format(ctx->be), -EBUSY);
	KUNIT_EXPECT_EQ(test, kt_diff(snap, ctx->fake.mem, KT_MEDIA), -1);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 1);

	/* Both banks damaged (in their headers' reserved words). */
	ctx->fake.mem[40] ^= 1;
	ctx->fake.mem[bank + 40] ^= 1;
	kt_reregister(test, ctx);
	KUNIT_ASSERT_EQ(test, ctx->be->label->err, -EUCLEAN);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, 0), -ENOENT);
	KUNIT_ASSERT_EQ(test, kt_label_format(ctx->be), 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 0);
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT1, model, 0x38);

	/* Valid across a reload, both banks: the new partition is back. */
	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 1);
	kt_expect_part(test, KT_RT1, model, "after a label format");
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, 0), -ENOENT);
}

static int kt_rt_set_read_only(struct knvram_backend *be, const char *name,
			       bool ro)
{
	guard(mutex)(&knvram_lock);
	return knvram_runtime_set_read_only(be, name, ro);
}

/* The label entry of @name, or NULL; the caller holds knvram_lock. */
static struct knvram_label_entry *kt_rt_entry(struct knvram_backend *be,
					      const char *name)
{
	u32 i;

	for (i = 0; i < be->label->n; i++)
		if (!strcmp(be->label->e[i].name, name))
			return &be->label->e[i];
	return NULL;
}

/* Enable 1 (not fresh) or 0 of the runtime partition @name. */
static int kt_rt_switch(struct knvram_backend *be, const char *name, bool on)
{
	struct knvram_partition *part;
	struct knvram_label_entry *e;

	guard(mutex)(&knvram_lock);
	if (!on) {
		part = knvram_find_locked(name);
		return part ? knvram_runtime_disable(part, false) : -ENOENT;
	}
	e = kt_rt_entry(be, name);
	return e ? knvram_runtime_enable(be, e, false, &part) : -ENOENT;
}

/*
 * A read-only runtime partition: its first enable formats it, and then
 * nothing writes its banks (no sync, no removal, no re-registration). The
 * flag is in the label, and changes only while the partition is not live.
 */
static void kt_label_read_only(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_RT_SIZE);
	u8 *zero = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_label_entry e = {
		.name = KT_RT0, .size = KT_RT_SIZE,
		.offset = KNVRAM_OFFSET_AUTO, .mode = 0600,
		.flags = KNVRAM_LABEL_READ_ONLY,
	};
	struct knvram_partition *part;
	u64 start, fp = ctx->footprint;
	struct knvram_handle *r;
	bool ro = true;
	void *snap;
	int ret;

	/* Old banks in its space: the format must overwrite them. */
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT1, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT1, model, 0x1e);
	KUNIT_ASSERT_EQ(test, kt_rt_erase(KT_RT1), 0);

	scoped_guard(mutex, &knvram_lock)
		ret = knvram_runtime_enable(ctx->be, &e, true, &part);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, part->read_only);
	start = part->offset;
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, KNVRAM_WRITE), -EROFS);
	kt_expect_part(test, KT_RT0, zero, "formatted at the first enable");
	KUNIT_EXPECT_EQ(test, kt_rt_set_read_only(ctx->be, KT_RT0, false),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, kt_rt_set_read_only(ctx->be, KT_RT1, false),
			-ENOENT);

	/* Disabled: made writable, then written. */
	KUNIT_ASSERT_EQ(test, kt_rt_switch(ctx->be, KT_RT0, false), 0);
	KUNIT_EXPECT_EQ(test, kt_rt_set_read_only(ctx->be, KT_RT0, false), 0);
	scoped_guard(mutex, &knvram_lock) {
		struct knvram_label_entry *le = kt_rt_entry(ctx->be, KT_RT0);

		ro = !le || (le->flags & KNVRAM_LABEL_READ_ONLY);
	}
	KUNIT_EXPECT_FALSE(test, ro);
	KUNIT_ASSERT_EQ(test, kt_rt_switch(ctx->be, KT_RT0, true), 0);
	kt_rt_fill(test, KT_RT0, model, 0x3c);

	/* Disabled again, protected, and brought back by a registration. */
	KUNIT_ASSERT_EQ(test, kt_rt_switch(ctx->be, KT_RT0, false), 0);
	KUNIT_EXPECT_EQ(test, kt_rt_set_read_only(ctx->be, KT_RT0, true), 0);
	KUNIT_ASSERT_EQ(test, kt_rt_switch(ctx->be, KT_RT0, true), 0);
	snap = kt_snapshot(test, ctx);
	kt_reregister(test, ctx);
	scoped_guard(mutex, &knvram_lock)
		part = knvram_find_locked(KT_RT0);
	KUNIT_ASSERT_NOT_NULL(test, part);
	KUNIT_EXPECT_TRUE(test, part->read_only);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, KNVRAM_WRITE), -EROFS);
	kt_expect_part(test, KT_RT0, model, "protected, with its data");
	r = kt_open(test, KT_RT0, 0);
	KUNIT_EXPECT_EQ(test, knvram_sync_part(part, false), 0);
	kt_close(test, r);
	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, kt_diff((u8 *)snap + start, ctx->fake.mem + start,
				      fp), -1);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Fail each allocation of making, then of erasing, a runtime partition:
 * the call fails with -ENOMEM and the label and partitions are as before.
 */
static void kt_label_nomem(struct kunit *test)
{
	u8 *zero = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	unsigned int n, failures = 0;
	u32 entries;
	bool hit;
	int ret;

	kt_require_failslab(test);
	for (n = 1; ; n++) {
		KUNIT_ASSERT_LT(test, n, KT_SWEEP_MAX);
		entries = ctx->be->label->n;
		kt_fail_nth(n);
		ret = kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
				   KNVRAM_OFFSET_AUTO);
		hit = kt_fail_nth_end();
		if (ret) {
			failures++;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "make, n=%u", n);
			/* (Rolled back, maybe as a newer generation.) */
			KUNIT_EXPECT_EQ(test, ctx->be->label->n, entries);
			KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, 0), -ENOENT);
			KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0,
							   KT_RT_SIZE,
							   KNVRAM_OFFSET_AUTO),
					0);
		}
		kt_expect_part(test, KT_RT0, zero, "made");

		entries = ctx->be->label->n;
		kt_fail_nth(n);
		ret = kt_rt_erase(KT_RT0);
		hit |= kt_fail_nth_end();
		if (ret) {
			failures++;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "erase, n=%u", n);
			KUNIT_EXPECT_EQ(test, ctx->be->label->n, entries);
			kt_expect_part(test, KT_RT0, zero, "not erased");
			KUNIT_ASSERT_EQ(test, kt_rt_erase(KT_RT0), 0);
		}
		KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT0, 0), -ENOENT);
		if (!hit)
			break;
	}
	kunit_info(test, "%u allocations, %u failed the call\n", n - 1,
		   failures);
	KUNIT_EXPECT_GT(test, failures, 0);
}
#else
static void kt_label_nomem(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB");
}
#endif

/* ------------------------------------------------------------------ */

/*
 * A write unit of a disk's logical block, more than the 64-byte bank
 * header: every write is whole units (the fake refuses others), with the
 * header, the table runs and the label padded; a sync, an emergency sync
 * and a runtime partition's label write succeed, and the partition loads
 * back what they wrote.
 */
static void kt_media_write_unit(struct kunit *test)
{
	struct knvram_partition_info info = {
		.name = "kunit-wide0", .size = 4 * KT_BS,
	};
	struct kt_fake *fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	struct kt_ctx *ctx = test->priv;
	struct knvram_backend_config cfg = {
		.dev = ctx->dev, .name = "kunit-wide", .ops = &kt_fake_ops,
		.priv = fake, .size = KT_MEDIA, .block_size = KT_BS,
		.write_unit = KT_WIDE_WU, .flags = KNVRAM_BACKEND_NMI_SAFE,
	};
	struct knvram_partition *part;
	struct knvram_backend *be;
	struct knvram_handle *h;
	char buf[8];
	loff_t pos;

	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->size = KT_MEDIA;
	fake->mem = kt_vzalloc(test, KT_MEDIA);
	fake->wu = KT_WIDE_WU;
	be = knvram_backend_register(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_unregister_action,
							be), 0);
	KUNIT_EXPECT_EQ(test, be->write_unit, KT_WIDE_WU);
	part = knvram_partition_create(be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);

	h = kt_open(test, info.name, KNVRAM_WRITE);
	kt_pwrite(test, h, "wide-wu1", 8, KT_BS + 100);
	KUNIT_EXPECT_EQ(test, knvram_sync(h), 0);
	/* The backend is NMI-safe: the emergency sync writes it itself. */
	kt_pwrite(test, h, "wide-wu2", 8, 3 * KT_BS - 4);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);
	knvram_emergency_end();
	kt_close(test, h);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(be, "kunit-wide1", KT_BS,
					   KNVRAM_OFFSET_AUTO), 0);

	knvram_partition_remove(part);
	part = knvram_partition_create(be, &info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);
	h = kt_open(test, info.name, 0);
	pos = KT_BS + 100;
	KUNIT_EXPECT_EQ(test, knvram_read(h, buf, 8, &pos), (ssize_t)8);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "wide-wu1", 8), 0);
	pos = 3 * KT_BS - 4;
	KUNIT_EXPECT_EQ(test, knvram_read(h, buf, 8, &pos), (ssize_t)8);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "wide-wu2", 8), 0);
	kt_close(test, h);
	KUNIT_EXPECT_EQ(test, fake->bad_io, 0);
}

/* ------------------------------------------------------------------ */
/* Atomic units */

struct kt_unit_case {
	const char *desc;
	u32 unit;
};

/*
 * The default partition's banks are [8K, 80K) and [80K, 152K): one unit
 * holds both; or bank 1's header, table and first ten blocks share a unit;
 * or units of 10 KiB hold one bank header each, cut block 0 of bank 1 in
 * two, and never hold a header and its table together in bank 0.
 */
static const struct kt_unit_case kt_unit_cases[] = {
	{ "one unit of 256 KiB for both banks", 256 * 1024 },
	{ "units of 64 KiB", 64 * 1024 },
	{ "units of 10 KiB, blocks straddling them", 10 * 1024 },
};

static void kt_unit_desc(const struct kt_unit_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kt_unit, kt_unit_cases, kt_unit_desc);

/* Register the fake again, staging writes per @unit and declaring it. */
static void kt_unit_setup(struct kunit *test, struct kt_ctx *ctx, u32 unit)
{
	struct kt_fake *fake = &ctx->fake;

	kunit_release_action(test, kt_unregister_action, ctx->be);
	ctx->be = NULL;
	ctx->part = NULL;
	fake->stage = kt_vzalloc(test, KT_MEDIA);
	memcpy(fake->stage, fake->mem, KT_MEDIA);
	fake->staged = kunit_kcalloc(test, BITS_TO_LONGS(KT_UNITS_MAX),
				     sizeof(long), GFP_KERNEL);
	fake->changes = kunit_kcalloc(test, KT_UNITS_MAX,
				      sizeof(*fake->changes), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake->staged);
	KUNIT_ASSERT_NOT_NULL(test, fake->changes);
	fake->unit = unit;
	kt_register(test, ctx);
	kt_create(test, ctx);
}

/* Media image @img, durable, nothing staged. */
static void kt_unit_restore(struct kt_ctx *ctx, const void *img)
{
	memcpy(ctx->fake.mem, img, KT_MEDIA);
	memcpy(ctx->fake.stage, img, KT_MEDIA);
	bitmap_zero(ctx->fake.staged, KT_UNITS_MAX);
}

static void kt_units_of(unsigned long *set, u32 unit, u64 off, u64 len)
{
	bitmap_set(set, off / unit, (off + len - 1) / unit - off / unit + 1);
}

/*
 * The units a sync of blocks @blocks into @bank writes, computed from the
 * layout: the bank's header, the blocks, and their table entries as
 * written (rounded out to the write unit).
 */
static void kt_unit_want(struct kt_ctx *ctx, unsigned int bank, u32 blocks,
			 unsigned long *want)
{
	u32 unit = ctx->fake.unit;
	unsigned long b;

	bitmap_zero(want, KT_UNITS_MAX);
	kt_units_of(want, unit, ctx->bank_start[bank], 64);
	for (b = 0; b < KT_NBLOCKS; b++) {
		if (!(blocks & BIT(b)))
			continue;
		kt_units_of(want, unit, ctx->table_start[bank] +
			    round_down(b * 4, KT_WU), KT_WU);
		kt_units_of(want, unit, ctx->data_start[bank] + b * KT_BS,
			    KT_BS);
	}
}

/* Commit a change of blocks @blocks (a few bytes in each) into @model. */
static void kt_unit_change(struct kunit *test, struct knvram_handle *w,
			   u8 *model, u32 blocks, u8 seed)
{
	unsigned long b;
	u8 src[16];

	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	for (b = 0; b < KT_NBLOCKS; b++) {
		if (!(blocks & BIT(b)))
			continue;
		kt_fill(src, sizeof(src), seed + b);
		kt_pwrite_model(test, w, model, src, sizeof(src),
				b * KT_BS + 7 * b);
	}
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
}

/*
 * The writes and flushes of one sync into @bank, as logged: the header is
 * the last write and a flush follows it; every write after the flush
 * before it lies in the header's unit, so it lands with the header; and
 * each unit in @want changed once, the others not at all.
 */
static void kt_unit_check_sync(struct kunit *test, struct kt_ctx *ctx,
			       unsigned int bank, const unsigned long *want,
			       const unsigned int *before, const char *what)
{
	struct kt_fake *fake = &ctx->fake;
	u64 lo = round_down(ctx->bank_start[bank], fake->unit);
	u64 hi = lo + fake->unit;
	unsigned int i, hdr = fake->nlog, flush = 0, u;

	KUNIT_ASSERT_FALSE(test, fake->log_full);
	for (i = 0; i < fake->nlog; i++) {
		struct kt_write *e = &fake->log[i];

		if (!e->len && hdr == fake->nlog)
			flush = i;
		else if (e->off == ctx->bank_start[bank] && e->len == 64)
			hdr = i;
	}
	KUNIT_ASSERT_LT_MSG(test, hdr, fake->nlog, "%s: no header write", what);
	KUNIT_EXPECT_EQ_MSG(test, hdr + 2, fake->nlog,
			    "%s: the header is not the last write, then a flush",
			    what);
	KUNIT_EXPECT_EQ_MSG(test, fake->log[fake->nlog - 1].len, 0,
			    "%s: no flush after the header", what);
	for (i = flush; i < hdr; i++) {
		struct kt_write *e = &fake->log[i];

		if (e->len)
			KUNIT_EXPECT_TRUE_MSG(test, e->off >= lo &&
					      e->off + e->len <= hi,
					      "%s: write %u [%llu, +%zu) after the middle flush is outside the header's unit [%llu, %llu)",
					      what, i, e->off, e->len, lo, hi);
	}
	for (u = 0; u < KT_UNITS_MAX; u++) {
		unsigned int once = test_bit(u, want);

		KUNIT_EXPECT_EQ_MSG(test, fake->changes[u] - before[u], once,
				    "%s: changes of unit %u", what, u);
	}
}

/*
 * A backend with an atomic unit: each sync changes each unit it must write
 * once, computed from the layout, and nothing else; it flushes once when
 * the header's unit holds all of it, twice otherwise. A bank lacks what
 * was committed since it was last written: the blocks of this sync's
 * change and of the one before.
 */
static void kt_unit_changes(struct kunit *test)
{
	static const u32 patterns[] = {
		BIT(0), BIT(15), BIT(0) | BIT(5) | BIT(6), BIT(2) | BIT(10),
		GENMASK(KT_NBLOCKS - 1, 0),
	};
	const struct kt_unit_case *c = test->param_value;
	unsigned int *before = kunit_kcalloc(test, KT_UNITS_MAX,
					     sizeof(*before), GFP_KERNEL);
	unsigned long *want = kunit_kcalloc(test, BITS_TO_LONGS(KT_UNITS_MAX),
					    sizeof(long), GFP_KERNEL);
	u8 *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	unsigned int p, round, bank, flushes, units;
	u32 prev = GENMASK(KT_NBLOCKS - 1, 0);
	struct knvram_handle *w;
	char what[64];

	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, want);
	kt_unit_setup(test, ctx, c->unit);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, model, 0x31);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_commit_all(test, w, model, 0x32);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);

	/* Rounds 1 and 2 change the same blocks as round 0: both banks. */
	for (p = 0; p < ARRAY_SIZE(patterns); p++) {
		for (round = 0; round < 3; round++) {
			snprintf(what, sizeof(what), "blocks %#x, round %u",
				 patterns[p], round);
			kt_unit_change(test, w, model, patterns[p],
				       0x40 + 3 * p + round);
			bank = (ctx->part->gen + 1) & 1;
			kt_unit_want(ctx, bank, prev | patterns[p], want);
			prev = patterns[p];
			memcpy(before, ctx->fake.changes,
			       KT_UNITS_MAX * sizeof(*before));
			flushes = ctx->fake.flushes;
			kt_fake_log_reset(&ctx->fake);
			KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
			kt_unit_check_sync(test, ctx, bank, want, before, what);
			/* One flush if only the header's unit is written. */
			units = bitmap_weight(want, KT_UNITS_MAX);
			KUNIT_EXPECT_EQ_MSG(test, ctx->fake.flushes - flushes,
					    units == 1 ? 1U : 2U,
					    "%s: flushes for %u units", what,
					    units);
		}
	}
	kt_close(test, w);
	kt_remove(ctx);
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, model, "re-created");
}

/*
 * Cut the power before every write and before every unit a flush replaces,
 * in syncs into either bank: the media then loads old or new. The change
 * touches the header's unit and, with smaller units, others.
 */
static void kt_unit_torn_sync(struct kunit *test)
{
	const u32 blocks = BIT(0) | BIT(1) | BIT(9) | BIT(15);
	const struct kt_unit_case *c = test->param_value;
	u8 *old = kt_buf(test, KT_SIZE), *new = kt_buf(test, KT_SIZE);
	u8 *got = kt_buf(test, KT_SIZE);
	u8 *base = kt_vzalloc(test, KT_MEDIA), *cut = kt_vzalloc(test, KT_MEDIA);
	u8 *done = kt_vzalloc(test, KT_MEDIA);
	struct kt_ctx *ctx = test->priv;
	unsigned int round, k, n, s0;
	struct knvram_handle *w, *r;
	bool is_old, is_new;

	kt_unit_setup(test, ctx, c->unit);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	kt_commit_all(test, w, old, 0x51);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_close(test, w);

	for (round = 0; round < 2; round++) {
		/* Round 1: one more sync first, so the other bank is cut. */
		w = kt_open(test, KT_PART, KNVRAM_WRITE);
		if (round)
			kt_unit_change(test, w, old, BIT(3) | BIT(9), 0x52);
		KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
		kt_close(test, w);
		kt_remove(ctx);
		memcpy(base, ctx->fake.mem, KT_MEDIA);
		memcpy(new, old, KT_SIZE);

		/* How many steps the sync takes, when nothing fails. */
		kt_create(test, ctx);
		w = kt_open(test, KT_PART, KNVRAM_WRITE);
		kt_unit_change(test, w, new, blocks, 0x60 + round);
		s0 = ctx->fake.steps;
		KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
		n = ctx->fake.steps - s0;
		kunit_info(test, "round %u: bank %llu, %u steps\n", round,
			   ctx->part->gen & 1, n);
		kt_close(test, w);
		kt_remove(ctx);

		for (k = 0; k <= n; k++) {
			kt_unit_restore(ctx, base);
			kt_create(test, ctx);
			w = kt_open(test, KT_PART, KNVRAM_WRITE);
			memcpy(got, old, KT_SIZE);
			kt_unit_change(test, w, got, blocks, 0x60 + round);
			kt_fake_arm(&ctx->fake, k, false);
			KUNIT_EXPECT_EQ_MSG(test, knvram_sync(w),
					    k < n ? -EIO : 0,
					    "round %u k=%u", round, k);
			memcpy(cut, ctx->fake.mem, KT_MEDIA);

			/* The power is back: the next sync completes it. */
			kt_fake_disarm(&ctx->fake);
			KUNIT_EXPECT_EQ(test, knvram_sync(w), 0);
			memcpy(done, ctx->fake.mem, KT_MEDIA);
			kt_close(test, w);
			kt_remove(ctx);

			/* What the media held when the power failed. */
			kt_unit_restore(ctx, cut);
			kt_create(test, ctx);
			r = kt_open(test, KT_PART, 0);
			kt_read_all(test, r, got);
			kt_close(test, r);
			is_old = !memcmp(got, old, KT_SIZE);
			is_new = !memcmp(got, new, KT_SIZE);
			KUNIT_EXPECT_TRUE_MSG(test, is_old || is_new,
					      "round %u k=%u: mixed state (first difference from old at %ld, from new at %ld)",
					      round, k, kt_diff(got, old, KT_SIZE),
					      kt_diff(got, new, KT_SIZE));
			if (k == 0)
				KUNIT_EXPECT_TRUE(test, is_old);
			if (k == n)
				KUNIT_EXPECT_TRUE(test, is_new);
			kt_remove(ctx);

			/* What it held after the second sync. */
			kt_unit_restore(ctx, done);
			kt_create(test, ctx);
			kt_expect_part(test, KT_PART, new, "after the retry");
			kt_remove(ctx);
		}
		kt_unit_restore(ctx, base);
		kt_create(test, ctx);
	}
}

/* The emergency sync orders its writes the same way. */
static void kt_unit_emergency(struct kunit *test)
{
	const u32 blocks = BIT(0) | BIT(9);
	const struct kt_unit_case *c = test->param_value;
	unsigned int *before = kunit_kcalloc(test, KT_UNITS_MAX,
					     sizeof(*before), GFP_KERNEL);
	unsigned long *want = kunit_kcalloc(test, BITS_TO_LONGS(KT_UNITS_MAX),
					    sizeof(long), GFP_KERNEL);
	u8 *model = kt_buf(test, KT_SIZE);
	struct kt_ctx *ctx = test->priv;
	struct knvram_handle *w;
	unsigned int bank;

	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, want);
	kt_unit_setup(test, ctx, c->unit);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	/* Then the older bank lacks only the blocks of the last two changes. */
	kt_commit_all(test, w, model, 0x71);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_unit_change(test, w, model, blocks, 0x72);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_unit_change(test, w, model, blocks, 0x73);
	KUNIT_ASSERT_EQ(test, knvram_sync(w), 0);
	kt_unit_change(test, w, model, blocks, 0x74);

	bank = (ctx->part->gen + 1) & 1;
	kt_unit_want(ctx, bank, blocks, want);
	memcpy(before, ctx->fake.changes, KT_UNITS_MAX * sizeof(*before));
	kt_fake_log_reset(&ctx->fake);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_emergency_end_action,
							NULL), 0);
	KUNIT_EXPECT_EQ(test, knvram_emergency_sync(), 0);
	KUNIT_EXPECT_EQ(test, ctx->part->gen & 1, bank);
	kt_unit_check_sync(test, ctx, bank, want, before, "emergency sync");
	knvram_emergency_end();

	kt_close(test, w);
	kt_remove(ctx);
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, model, "after the emergency sync");
}

static struct kunit_case kt_unit_test_cases[] = {
	KUNIT_CASE_PARAM(kt_unit_changes, kt_unit_gen_params),
	KUNIT_CASE_PARAM_ATTR(kt_unit_torn_sync, kt_unit_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM(kt_unit_emergency, kt_unit_gen_params),
	{}
};

static struct kunit_suite kt_unit_suite = {
	.name = "knvram_atomic_unit",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_unit_test_cases,
};

static struct kunit_case kt_handle_cases[] = {
	KUNIT_CASE(kt_open_rules),
	KUNIT_CASE(kt_reader_cannot_write),
	KUNIT_CASE(kt_txn_isolation),
	KUNIT_CASE(kt_txn_abort),
	KUNIT_CASE(kt_txn_close_aborts),
	KUNIT_CASE(kt_txn_autot),
	KUNIT_CASE(kt_txn_overlap),
	KUNIT_CASE(kt_write_limits),
	KUNIT_CASE(kt_write_plain),
	KUNIT_CASE(kt_remove_open),
	KUNIT_CASE(kt_read_only),
	KUNIT_CASE(kt_kernel_only),
	{}
};

static struct kunit_suite kt_handle_suite = {
	.name = "knvram_handle",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_handle_cases,
};

static struct kunit_case kt_media_cases[] = {
	KUNIT_CASE(kt_dirty_ranges),
	KUNIT_CASE(kt_sync_error),
	KUNIT_CASE(kt_media_recreate),
	KUNIT_CASE(kt_media_blank),
	KUNIT_CASE_SLOW(kt_media_torn_format),
	KUNIT_CASE(kt_media_one_bank_bad),
	KUNIT_CASE(kt_media_both_banks_bad),
	KUNIT_CASE(kt_media_format),
	KUNIT_CASE(kt_media_format_fails),
	KUNIT_CASE_PARAM_ATTR(kt_media_torn_sync, kt_torn_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE(kt_media_generations),
	KUNIT_CASE(kt_media_write_unit),
	{}
};

static struct kunit_suite kt_media_suite = {
	.name = "knvram_media",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_media_cases,
};

static struct kunit_case kt_emergency_cases[] = {
	KUNIT_CASE(kt_emergency),
	KUNIT_CASE(kt_emergency_mid_commit),
	KUNIT_CASE(kt_emergency_new_partition),
	KUNIT_CASE(kt_emergency_deferred),
	KUNIT_CASE(kt_emergency_deferred_admin_busy),
	{}
};

static struct kunit_suite kt_emergency_suite = {
	.name = "knvram_emergency",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_emergency_cases,
};

static struct kunit_case kt_config_cases[] = {
	KUNIT_CASE(kt_backend_bad_config),
	KUNIT_CASE(kt_backend_wp_gpios),
	KUNIT_CASE(kt_partition_bad_args),
	KUNIT_CASE(kt_nomem_write),
	KUNIT_CASE(kt_nomem_tbegin),
	KUNIT_CASE_SLOW(kt_nomem_partition_create),
	{}
};

static struct kunit_suite kt_config_suite = {
	.name = "knvram_config",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_config_cases,
};

static struct kunit_case kt_label_cases[] = {
	KUNIT_CASE(kt_label_restore),
	KUNIT_CASE_SLOW(kt_label_torn),
	KUNIT_CASE(kt_label_damaged),
	KUNIT_CASE(kt_label_format_damaged),
	KUNIT_CASE(kt_label_read_only),
	KUNIT_CASE_SLOW(kt_label_nomem),
	{}
};

static struct kunit_suite kt_label_suite = {
	.name = "knvram_label",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_label_cases,
};

/* ------------------------------------------------------------------ */
/* Hardening: numbers from the devicetree and the label, adoption */

#define KT_BACKEND1	"kunit-nv1"
#define KT_RT2		"kunit-r2"
#define KT_RT3		"kunit-r3"
/* A valid geometry (2^28 blocks), far beyond the media and the RAM. */
#define KT_HUGE		BIT_ULL(40)

/* Append an entry to @l, as the media may hold it (valid CRC or not). */
static void kt_label_add(struct kunit *test, struct knvram_label *l,
			 const char *name, u64 offset, u64 size, u16 flags)
{
	struct knvram_label_entry *e;

	KUNIT_ASSERT_LT(test, l->n, KNVRAM_LABEL_ENTRIES);
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	strscpy(e->name, name);
	e->offset = offset;
	e->size = size;
	e->mode = 0600;
	e->flags = flags;
}

/* Write @l to @be's media as its next label, with a valid CRC. */
static void kt_label_write(struct kunit *test, struct knvram_backend *be,
			   struct knvram_label *l)
{
	int ret;

	scoped_guard(mutex, &knvram_lock)
		ret = knvram_label_store(be, l);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

/* A copy of @be's label, to change and write. */
static struct knvram_label *kt_label_copy(struct kunit *test,
					  struct knvram_backend *be)
{
	struct knvram_label *l = kunit_kmalloc(test, sizeof(*l), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, l);
	scoped_guard(mutex, &knvram_lock)
		memcpy(l, be->label, sizeof(*l));
	return l;
}

static const struct knvram_label_entry *
kt_label_entry(struct knvram_backend *be, const char *name)
{
	u32 i;

	for (i = 0; i < be->label->n; i++)
		if (!strcmp(be->label->e[i].name, name))
			return &be->label->e[i];
	return NULL;
}

/*
 * knvram_partition_create() (and so a devicetree 'reg') refuses a size
 * that does not fit before it allocates the shadow: -ENOSPC, not a
 * failed vmalloc of a terabyte.
 */
static void kt_harden_create_huge(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	unsigned int writes = ctx->fake.writes;
	u64 top = round_down(U64_MAX, KT_BS), fp = ctx->footprint;
	/* The largest size of a valid geometry: 2^30 - 1 blocks. */
	u64 max = (U32_MAX / sizeof(__le32)) * (u64)KT_BS;

	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, fp, KT_HUGE),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, fp, max),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, fp, max + KT_BS),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1,
					    top - KT_HUGE, KT_HUGE), -ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, top, KT_HUGE),
			-ENOSPC);
	/* The same through a runtime partition at a given offset. */
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_HUGE, fp),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_BS, top),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 0);
	KUNIT_EXPECT_EQ(test, ctx->fake.writes, writes);
	/* Still room for a real one. */
	KUNIT_EXPECT_EQ(test, kt_create_err(ctx->be, KT_PART1, fp, KT_SIZE),
			0);
}

/*
 * Label entries with a valid CRC and numbers that do not fit are refused
 * at registration, before anything is allocated for them, each with its
 * errno in the entry's err; the good ones are restored, and placement
 * works around the bad ones (an offset near 2^64 wraps nowhere).
 */
static void kt_harden_label_numbers(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	u64 top = round_down(U64_MAX, KT_BS), fp = ctx->footprint;
	u64 space = knvram_backend_space(ctx->be);
	const struct knvram_label_entry *e;
	struct knvram_label *l;
	int ret;

	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	KUNIT_ASSERT_EQ(test, ctx->be->label->e[0].offset, fp);
	kt_rt_fill(test, KT_RT0, model, 0x29);

	l = kt_label_copy(test, ctx->be);
	kt_label_add(test, l, KT_RT1, space, KT_HUGE, KNVRAM_LABEL_ENABLED);
	kt_label_add(test, l, KT_RT2, top, KT_BS, KNVRAM_LABEL_ENABLED);
	kt_label_add(test, l, KT_RT3, 3 * fp + 100, KT_BS,
		     KNVRAM_LABEL_ENABLED);
	kt_label_add(test, l, "kunit/r4", 3 * fp, KT_BS, KNVRAM_LABEL_ENABLED);
	kt_label_add(test, l, "kunit-r5", 3 * fp, 0, KNVRAM_LABEL_ENABLED);
	kt_label_write(test, ctx->be, l);

	kt_reregister(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->be->label->err, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 6);
	kt_expect_part(test, KT_RT0, model, "restored next to bad entries");
	e = kt_label_entry(ctx->be, KT_RT0);
	KUNIT_EXPECT_TRUE(test, e && !e->err);
	e = kt_label_entry(ctx->be, KT_RT1);
	KUNIT_EXPECT_TRUE(test, e && e->err == -ENOSPC);
	e = kt_label_entry(ctx->be, KT_RT2);
	KUNIT_EXPECT_TRUE(test, e && e->err == -ENOSPC);
	e = kt_label_entry(ctx->be, KT_RT3);
	KUNIT_EXPECT_TRUE(test, e && e->err == -EINVAL);
	e = kt_label_entry(ctx->be, "kunit/r4");
	KUNIT_EXPECT_TRUE(test, e && e->err == -EINVAL);
	e = kt_label_entry(ctx->be, "kunit-r5");
	KUNIT_EXPECT_TRUE(test, e && e->err == -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT1, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT2, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT3, 0), -ENOENT);

	/* Enabling one again (configfs' enable 1) is refused the same way. */
	scoped_guard(mutex, &knvram_lock) {
		struct knvram_partition *part;

		ret = knvram_runtime_enable(ctx->be, kt_label_entry(ctx->be,
								    KT_RT1),
					    false, &part);
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);

	/*
	 * Placement is first fit around the bad entries: at 0 (the fixed
	 * partition of kt_init() is not made again at registration), then
	 * after KT_RT0.
	 */
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, "kunit-r6", KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	e = kt_label_entry(ctx->be, "kunit-r6");
	KUNIT_EXPECT_TRUE(test, e && e->offset == 0);
	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, "kunit-r7", KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	e = kt_label_entry(ctx->be, "kunit-r7");
	KUNIT_EXPECT_TRUE(test, e && e->offset == 2 * fp);

	/* The admin can erase the bad entries (configfs' rmdir). */
	scoped_guard(mutex, &knvram_lock) {
		ret = knvram_runtime_forget(ctx->be, KT_RT1);
		if (!ret)
			ret = knvram_runtime_forget(ctx->be, KT_RT2);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, ctx->be->label->n, 6);
	kt_expect_part(test, KT_RT0, model, "after the erases");
}

/*
 * A label entry with a flag this version does not know (a newer kernel's,
 * which might write-protect it) is left alone: not created, and enabling
 * it is refused, while the entry next to it is restored.
 */
static void kt_harden_label_flags(struct kunit *test)
{
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	const struct knvram_label_entry *e;
	struct knvram_partition *part;
	struct knvram_label *l;
	int ret;

	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT0, model, 0x4b);
	l = kt_label_copy(test, ctx->be);
	kt_label_add(test, l, KT_RT1, 2 * ctx->footprint, KT_RT_SIZE,
		     KNVRAM_LABEL_ENABLED | (KNVRAM_LABEL_FLAGS + 1));
	kt_label_write(test, ctx->be, l);

	kt_reregister(test, ctx);
	kt_expect_part(test, KT_RT0, model, "restored next to it");
	e = kt_label_entry(ctx->be, KT_RT1);
	KUNIT_EXPECT_TRUE(test, e && e->err == -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT1, 0), -ENOENT);
	scoped_guard(mutex, &knvram_lock)
		ret = knvram_runtime_enable(ctx->be, e, false, &part);
	KUNIT_EXPECT_EQ(test, ret, -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_RT1, 0), -ENOENT);
}

/* Register a second fake backend, on media of its own. */
static struct knvram_backend *kt_register1(struct kunit *test,
					   struct kt_fake *fake)
{
	struct kt_ctx *ctx = test->priv;
	struct knvram_backend_config cfg = {
		.dev = ctx->dev, .name = KT_BACKEND1, .ops = &kt_fake_ops,
		.priv = fake, .size = KT_MEDIA, .block_size = KT_BS,
		.write_unit = KT_WU, .flags = KNVRAM_BACKEND_NMI_SAFE,
	};
	struct knvram_backend *be = knvram_backend_register(&cfg);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, be);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kt_unregister_action,
							be), 0);
	return be;
}

/*
 * Two backends whose labels hold the same names (media moved between
 * boards): a configfs item binds only a runtime partition of its own
 * backend (knvram_runtime_lookup()), erasing an entry touches only its
 * own backend's label, and nothing removes a fixed partition.
 */
static void kt_harden_adopt(struct kunit *test)
{
	struct kt_fake *fake1 = kunit_kzalloc(test, sizeof(*fake1), GFP_KERNEL);
	u8 *model = kt_buf(test, KT_RT_SIZE);
	struct kt_ctx *ctx = test->priv;
	const struct knvram_label_entry *ce;
	struct knvram_partition *part, *rt0;
	struct knvram_label_entry *e;
	struct knvram_backend *be1;
	struct knvram_label *l;
	u64 fp = ctx->footprint;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, fake1);
	fake1->mem = kt_vzalloc(test, KT_MEDIA);
	fake1->size = KT_MEDIA;

	KUNIT_ASSERT_EQ(test, kt_rt_enable(ctx->be, KT_RT0, KT_RT_SIZE,
					   KNVRAM_OFFSET_AUTO), 0);
	kt_rt_fill(test, KT_RT0, model, 0x47);

	/* be1's label: KT_RT0 and KT_PART, as on be, and one of its own. */
	be1 = kt_register1(test, fake1);
	l = kt_label_copy(test, be1);
	kt_label_add(test, l, KT_RT0, 0, KT_RT_SIZE, KNVRAM_LABEL_ENABLED);
	kt_label_add(test, l, KT_PART, fp, KT_SIZE, 0);
	kt_label_add(test, l, KT_RT1, 2 * fp, KT_SIZE, 0);
	kt_label_write(test, be1, l);
	kunit_release_action(test, kt_unregister_action, be1);
	be1 = kt_register1(test, fake1);
	KUNIT_EXPECT_EQ(test, be1->label->n, 3);
	ce = kt_label_entry(be1, KT_RT0);
	KUNIT_ASSERT_NOT_NULL(test, ce);
	KUNIT_EXPECT_EQ(test, ce->err, -EEXIST);

	scoped_guard(mutex, &knvram_lock) {
		rt0 = knvram_find_locked(KT_RT0);
		KUNIT_EXPECT_PTR_EQ(test, knvram_runtime_lookup(be1, KT_RT0,
								&part),
				    ERR_PTR(-EEXIST));
		KUNIT_EXPECT_NULL(test, part);
		KUNIT_EXPECT_PTR_EQ(test, knvram_runtime_lookup(be1, KT_PART,
								&part),
				    ERR_PTR(-EEXIST));
		KUNIT_EXPECT_PTR_EQ(test, knvram_runtime_lookup(be1, KT_RT3,
								&part),
				    ERR_PTR(-ENOENT));
		e = knvram_runtime_lookup(be1, KT_RT1, &part);
		KUNIT_EXPECT_FALSE(test, IS_ERR(e));
		KUNIT_EXPECT_NULL(test, part);
		e = knvram_runtime_lookup(ctx->be, KT_RT0, &part);
		KUNIT_EXPECT_FALSE(test, IS_ERR(e));
		KUNIT_EXPECT_PTR_EQ(test, part, rt0);
		/* be's fixed partition is not in be's label. */
		KUNIT_EXPECT_PTR_EQ(test, knvram_runtime_lookup(ctx->be,
								KT_PART,
								&part),
				    ERR_PTR(-ENOENT));

		/* A fixed partition is no runtime one: left alone. */
		KUNIT_EXPECT_EQ(test,
				knvram_runtime_disable(ctx->part, true),
				-EINVAL);
		/* be1's entry goes; be's partition of that name stays. */
		ret = knvram_runtime_forget(be1, KT_RT0);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NULL(test, kt_label_entry(be1, KT_RT0));
	KUNIT_EXPECT_NOT_NULL(test, kt_label_entry(ctx->be, KT_RT0));
	kt_expect_part(test, KT_RT0, model, "after be1's entry was erased");
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, 0), 0);
	KUNIT_EXPECT_EQ(test, fake1->bad_io, 0);
}

/*
 * O_NONBLOCK never sleeps on a lock or on backend I/O. This thread holds
 * each lock a non-blocking call could meet, as another caller would (an
 * open or close, another call on the handle, a sync's backend I/O): every
 * call returns at once. Code that waited would deadlock here on its first
 * call, which lockdep reports.
 */
static void kt_harden_nonblock(struct kunit *test)
{
	const unsigned int nb = KNVRAM_NONBLOCK;
	struct kt_ctx *ctx = test->priv;
	struct knvram_partition *part = ctx->part;
	struct knvram_handle *w, *r, *s;
	loff_t pos = 0;
	char buf[8];

	/* An open or a close of another handle in progress. */
	mutex_lock(&part->lock);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, nb), -EAGAIN);
	KUNIT_EXPECT_EQ(test, kt_open_err(KT_PART, KNVRAM_WRITE | nb), -EAGAIN);
	mutex_unlock(&part->lock);

	w = kt_open(test, KT_PART, KNVRAM_WRITE | nb);
	r = kt_open(test, KT_PART, nb);

	/* Another call on the same handle in progress: nothing happens. */
	mutex_lock(&w->lock);
	KUNIT_EXPECT_EQ(test, knvram_write(w, "x", 1, &pos), (ssize_t)-EAGAIN);
	KUNIT_EXPECT_EQ(test, pos, 0);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), -EAGAIN);
	mutex_unlock(&w->lock);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);

	/* A sync of the partition in progress. */
	mutex_lock(&part->sync_mutex);
	KUNIT_EXPECT_EQ(test, knvram_sync(w), -EAGAIN);
	KUNIT_EXPECT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite(test, w, "nonblock", 8, 0);
	KUNIT_EXPECT_EQ(test, knvram_tcommit(w), 0);
	/* The writer's close hands its sync to a worker. */
	kt_close(test, w);
	/* O_SYNC: refused before it changes anything. */
	s = kt_open(test, KT_PART, KNVRAM_WRITE | KNVRAM_SYNC | nb);
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_write(s, "refused!", 8, &pos),
			(ssize_t)-EAGAIN);
	KUNIT_EXPECT_EQ(test, pos, 0);
	mutex_unlock(&part->sync_mutex);

	flush_work(&part->sync_work);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_read(r, buf, sizeof(buf), &pos),
			(ssize_t)sizeof(buf));
	KUNIT_EXPECT_MEMEQ(test, buf, "nonblock", sizeof(buf));
	/* With no sync running, the O_SYNC write writes and syncs. */
	pos = 0;
	KUNIT_EXPECT_EQ(test, knvram_write(s, "O_SYNC!!", 8, &pos), 8);
	KUNIT_EXPECT_EQ(test, knvram_dirty_bytes(part), 0);
}

struct kt_remover {
	struct kt_ctx *ctx;
	struct completion done;
};

static int kt_remove_thread(void *data)
{
	struct kt_remover *r = data;

	knvram_partition_remove(r->ctx->part);
	complete(&r->done);
	return 0;
}

/*
 * A commit and the removal of its partition, for real on two CPUs: the
 * commit passed its handle's check (knvram_call_begin()) before the
 * removal began, and reaches knvram_commit() while the final sync, its
 * snapshot taken, writes the media. It must fail: a commit that returned
 * 0 there would be in no sync, and lost with the partition. The removal
 * runs in a thread; the fake backend holds the final sync's first write
 * until the commit has returned.
 */
static void kt_harden_commit_vs_remove(struct kunit *test)
{
	struct kt_ctx *ctx = test->priv;
	struct kt_remover *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	u8 *a = kt_buf(test, KT_SIZE), *b = kt_buf(test, KT_SIZE);
	struct task_struct *t;
	struct knvram_handle *w;
	unsigned int tries;
	int ret;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	KUNIT_ASSERT_NOT_NULL(test, r);
	memset(a, 0xaa, KT_BS);
	memset(b, 0xbb, KT_BS);
	w = kt_open(test, KT_PART, KNVRAM_WRITE);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite(test, w, a, KT_BS, 0);
	KUNIT_ASSERT_EQ(test, knvram_tcommit(w), 0);
	KUNIT_ASSERT_EQ(test, knvram_tbegin(w), 0);
	kt_pwrite(test, w, b, KT_BS, 0);

	r->ctx = ctx;
	init_completion(&r->done);
	WRITE_ONCE(ctx->fake.stall, true);
	t = kthread_run(kt_remove_thread, r, "kt-remove");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	/* 10 s at most: the sync on the other CPU reaches its first write. */
	for (tries = 0; !atomic_read_acquire(&ctx->fake.stalled) &&
	     tries < 10000; tries++)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&ctx->fake.stalled), 1,
			    "the final sync never wrote");

	/* The rest of knvram_tcommit() after its handle's check. */
	mutex_lock(&w->lock);
	ret = knvram_commit(ctx->part, false);
	mutex_unlock(&w->lock);
	atomic_set_release(&ctx->fake.go, 1);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&r->done, 60 * HZ),
			0UL);
	KUNIT_EXPECT_EQ(test, ret, -ENODEV);
	kt_close(test, w);

	/* The media holds what the commits that returned 0 wrote. */
	kt_create(test, ctx);
	kt_expect_part(test, KT_PART, ret ? a : b, "after the removal");
}

static struct kunit_case kt_harden_cases[] = {
	KUNIT_CASE(kt_harden_create_huge),
	KUNIT_CASE(kt_harden_label_numbers),
	KUNIT_CASE(kt_harden_label_flags),
	KUNIT_CASE(kt_harden_adopt),
	KUNIT_CASE(kt_harden_nonblock),
	KUNIT_CASE(kt_harden_commit_vs_remove),
	{}
};

static struct kunit_suite kt_harden_suite = {
	.name = "knvram_harden",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = kt_harden_cases,
};

kunit_test_suites(&kt_handle_suite, &kt_media_suite, &kt_emergency_suite,
		  &kt_config_suite, &kt_label_suite, &kt_harden_suite,
		  &kt_unit_suite);

MODULE_IMPORT_NS(KNVRAM);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests of the knvram core");
MODULE_LICENSE("GPL");
