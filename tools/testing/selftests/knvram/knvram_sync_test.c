// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram syncs: fsync()/KNVRAMIOC_SYNC/O_SYNC/last close and their sysfs
 * statistics, sync failures (EIO) injected in the knvram-sim backend,
 * persistence across unbind/bind of the sim device, ENODEV on files open
 * across the unbind, and syncs cut at every stage by failing sim writes.
 *
 * Needs knvram-sim.ko loaded with
 * partitions=knvtest0:64K,knvtest1:1M,knvtest2:64K:autot; the fault tests
 * need CONFIG_FAULT_INJECTION_DEBUG_FS. Tests skip what is missing.
 */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "knvram_helpers.h"

FIXTURE(sync) {
	const char *name;
	size_t size;
};

FIXTURE_VARIANT(sync) {
	const char *name;
	size_t size;
};

FIXTURE_VARIANT_ADD(sync, knvtest0) {
	.name = "knvtest0",
	.size = 64 << 10,
};

FIXTURE_VARIANT_ADD(sync, knvtest1) {
	.name = "knvtest1",
	.size = 1 << 20,
};

FIXTURE_SETUP(sync)
{
	/* A test that died half way may have left the device unbound. */
	if (!knv_sim_bound() && knv_sim_can_rebind())
		knv_sim_bind(variant->name);
	if (!knv_present(variant->name))
		SKIP(return, "no %s%s", KNV_DEV_DIR, variant->name);
	self->name = variant->name;
	self->size = variant->size;
	ASSERT_EQ(self->size, knv_attr(_metadata, self->name, "size"));
}

/* Whatever the test did or where it failed: no fault, device bound. */
FIXTURE_TEARDOWN(sync)
{
	if (knv_fault_present())
		EXPECT_EQ(0, knv_fault_clear());
	if (!knv_sim_bound())
		EXPECT_EQ(0, knv_sim_bind(self->name));
}

#define ATTR(attr)	knv_attr(_metadata, self->name, attr)

static bool can_rebind(void)
{
	return knv_sim_can_rebind() && knv_sim_bound();
}

/* Flip the byte at @off: a committed 1-byte change. */
static void flip_byte(struct __test_metadata *_metadata, int fd, off_t off)
{
	__u8 c;

	ASSERT_EQ(1, pread(fd, &c, 1, off));
	c ^= 0xff;
	ASSERT_EQ(1, pwrite(fd, &c, 1, off));
}

TEST_F(sync, stats)
{
	__u64 count, bytes, last;
	int w, r;
	__u8 two[2];

	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0U, ATTR("dirty"));

	/* Dirty counts bytes, whole 4 KiB blocks. */
	flip_byte(_metadata, w, 5000);
	ASSERT_EQ(4096U, ATTR("dirty"));
	count = ATTR("sync_count");
	bytes = ATTR("sync_bytes");
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));
	ASSERT_LE(bytes + 4096, ATTR("sync_bytes"));
	last = ATTR("sync_last_ns");
	ASSERT_LT(0U, last);
	ASSERT_LE(last, ATTR("sync_max_ns"));

	/* Two bytes across a block boundary dirty two blocks. */
	ASSERT_EQ(2, pread(w, two, 2, 2 * KNV_BLOCK - 1));
	two[0] ^= 0xff;
	two[1] ^= 0xff;
	ASSERT_EQ(2, pwrite(w, two, 2, 2 * KNV_BLOCK - 1));
	ASSERT_EQ(8192U, ATTR("dirty"));
	flip_byte(_metadata, w, 2 * KNV_BLOCK + 1);
	ASSERT_EQ(8192U, ATTR("dirty"));
	count = ATTR("sync_count");
	bytes = ATTR("sync_bytes");
	/* KNVRAMIOC_SYNC, on a reader. */
	ASSERT_EQ(0, ioctl(r, KNVRAMIOC_SYNC));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));
	ASSERT_LE(bytes + 8192, ATTR("sync_bytes"));
	ASSERT_LE(ATTR("sync_last_ns"), ATTR("sync_max_ns"));

	/* The whole partition, synced by fsync() on the reader. */
	knv_pat_write(_metadata, w, 0, self->size, 30);
	ASSERT_EQ(self->size, ATTR("dirty"));
	count = ATTR("sync_count");
	bytes = ATTR("sync_bytes");
	ASSERT_EQ(0, fsync(r));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));
	ASSERT_LE(bytes + self->size, ATTR("sync_bytes"));
	knv_pat_expect(_metadata, r, 0, self->size, 30);
	close(r);
	close(w);
}

TEST_F(sync, txn_not_synced)
{
	int w = OPEN(self->name, O_RDWR);

	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, KNV_BLOCK, 3 * KNV_BLOCK, 31);
	/* An open transaction is not committed state: nothing dirty. */
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(3U * KNV_BLOCK, ATTR("dirty"));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_SYNC));
	ASSERT_EQ(0U, ATTR("dirty"));
	close(w);
}

TEST_F(sync, commit_abort_counts)
{
	__u64 commits = ATTR("commit_count"), aborts = ATTR("abort_count");
	int w = OPEN(self->name, O_RDWR), on = 1;

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, 2 * KNV_BLOCK, 32);
	knv_pat_write(_metadata, w, KNV_BLOCK, 2 * KNV_BLOCK, 33);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(commits + 1, ATTR("commit_count"));
	ASSERT_EQ(aborts, ATTR("abort_count"));

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 34);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(commits + 1, ATTR("commit_count"));
	ASSERT_EQ(aborts + 1, ATTR("abort_count"));

	/* Failed calls count nothing. */
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(ENOSPC, pwrite(w, &on, 1, self->size));
	ASSERT_EQ(commits + 1, ATTR("commit_count"));
	ASSERT_EQ(aborts + 1, ATTR("abort_count"));

	/* A write outside a transaction is a transaction of its own. */
	knv_pat_write(_metadata, w, 0, 3 * KNV_BLOCK, 38);
	ASSERT_EQ(commits + 2, ATTR("commit_count"));

	/* Automatic transactions count the same. */
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_SETAUTOT, &on));
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 35);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(commits + 3, ATTR("commit_count"));
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 36);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(aborts + 2, ATTR("abort_count"));

	/* Closing with a transaction open is an abort. */
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 37);
	ASSERT_EQ(0, close(w));
	ASSERT_EQ(commits + 3, ATTR("commit_count"));
	ASSERT_EQ(aborts + 3, ATTR("abort_count"));
}

static void osync(struct __test_metadata *_metadata, const char *name,
		  int flag)
{
	__u64 count;
	int r, w;

	/* The reader keeps the partition open: no sync at last close. */
	r = OPEN(name, O_RDONLY);
	ASSERT_EQ(0, fsync(r));
	ASSERT_EQ(0U, knv_attr(_metadata, name, "dirty"));

	/* Control: a plain writer leaves its write dirty until it closes. */
	w = OPEN(name, O_RDWR);
	flip_byte(_metadata, w, 0);
	ASSERT_EQ(4096U, knv_attr(_metadata, name, "dirty"));
	ASSERT_EQ(0, close(w));
	ASSERT_EQ(0U, knv_attr(_metadata, name, "dirty"));
	w = OPEN(name, O_RDWR);
	flip_byte(_metadata, w, 0);
	ASSERT_EQ(4096U, knv_attr(_metadata, name, "dirty"));
	ASSERT_EQ(0, close(w));

	w = OPEN(name, O_RDWR | flag);
	count = knv_attr(_metadata, name, "sync_count");
	flip_byte(_metadata, w, 3 * KNV_BLOCK);
	ASSERT_EQ(0U, knv_attr(_metadata, name, "dirty"));
	ASSERT_LT(count, knv_attr(_metadata, name, "sync_count"));

	/* In a transaction, the commit is what syncs. */
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, KNV_BLOCK, 2 * KNV_BLOCK, 38);
	ASSERT_EQ(0U, knv_attr(_metadata, name, "dirty"));
	count = knv_attr(_metadata, name, "sync_count");
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(0U, knv_attr(_metadata, name, "dirty"));
	ASSERT_LT(count, knv_attr(_metadata, name, "sync_count"));
	knv_pat_expect(_metadata, r, KNV_BLOCK, 2 * KNV_BLOCK, 38);
	close(w);
	close(r);
}

TEST_F(sync, o_sync)
{
	osync(_metadata, self->name, O_SYNC);
}

TEST_F(sync, o_dsync)
{
	osync(_metadata, self->name, O_DSYNC);
}

TEST_F(sync, writer_close_syncs)
{
	__u64 count;
	int w, r, i;

	/* Closing the writer syncs, even while a reader is open... */
	r = OPEN(self->name, O_RDONLY);
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, fsync(w));
	count = ATTR("sync_count");
	flip_byte(_metadata, w, 100);
	ASSERT_EQ(4096U, ATTR("dirty"));
	ASSERT_EQ(0, close(w));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));

	/* ...closing a reader never does, not even the last handle. */
	w = OPEN(self->name, O_RDWR);
	knv_pat_write(_metadata, w, 0, 2 * KNV_BLOCK, 39);
	ASSERT_EQ(8192U, ATTR("dirty"));
	ASSERT_EQ(0, close(r));
	ASSERT_EQ(8192U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));
	ASSERT_EQ(0, close(w));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 2, ATTR("sync_count"));

	/* A non-blocking writer's close leaves the sync to a worker. */
	w = OPEN(self->name, O_RDWR | O_NONBLOCK);
	flip_byte(_metadata, w, 5 * KNV_BLOCK);
	ASSERT_EQ(4096U, ATTR("dirty"));
	ASSERT_EQ(0, close(w));
	for (i = 0; i < 200 && ATTR("dirty"); i++)
		usleep(10000);
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 3, ATTR("sync_count"));
}

/* Drop CAP_SYS_ADMIN from this process's effective set. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &=
		~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

/* A sync needs the writer, or CAP_SYS_ADMIN: readers cannot wear the media. */
TEST_F(sync, reader_sync_needs_admin)
{
	int w, r, status;
	__u64 count;
	pid_t pid;

	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);
	flip_byte(_metadata, w, 0);
	count = ATTR("sync_count");

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (drop_sys_admin())
			_exit(2);
		if (fsync(r) != -1 || errno != EBADF)
			_exit(3);
		if (ioctl(r, KNVRAMIOC_SYNC) != -1 || errno != EBADF)
			_exit(4);
		/* The writer's own file description may sync. */
		if (fsync(w))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(count + 1, ATTR("sync_count"));

	/* With CAP_SYS_ADMIN a reader may. */
	flip_byte(_metadata, w, 0);
	ASSERT_EQ(0, fsync(r));
	ASSERT_EQ(0U, ATTR("dirty"));
	close(r);
	close(w);
}

TEST_F(sync, sync_eio)
{
	__u64 count, errors;
	int w, r;

	if (!knv_fault_present())
		SKIP(return, "no %s", KNV_SIM_FAIL);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, fsync(w));
	knv_pat_write(_metadata, w, 0, self->size, 40);
	ASSERT_EQ(self->size, ATTR("dirty"));

	count = ATTR("sync_count");
	errors = ATTR("sync_errors");
	ASSERT_EQ(0, knv_fault_arm(0, -1));
	ASSERT_ERRNO(EIO, fsync(w));
	ASSERT_ERRNO(EIO, ioctl(w, KNVRAMIOC_SYNC));
	ASSERT_ERRNO(EIO, fsync(r));
	ASSERT_EQ(errors + 3, ATTR("sync_errors"));
	ASSERT_EQ(count, ATTR("sync_count"));
	/* The data stays, committed and dirty. */
	ASSERT_EQ(self->size, ATTR("dirty"));
	knv_pat_expect(_metadata, w, 0, self->size, 40);
	knv_pat_expect(_metadata, r, 0, self->size, 40);
	/* Writes and commits still work; they only add dirty data. */
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 41);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 41);

	/* The next sync tries again, and succeeds once the fault is gone. */
	ASSERT_EQ(0, knv_fault_clear());
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0U, ATTR("dirty"));
	ASSERT_EQ(count + 1, ATTR("sync_count"));
	ASSERT_EQ(errors + 3, ATTR("sync_errors"));
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 41);
	knv_pat_expect(_metadata, r, KNV_BLOCK, self->size - KNV_BLOCK, 40);
	close(r);
	close(w);
}

/* A failed sync at last close keeps the data, dirty, for the next one. */
TEST_F(sync, close_sync_eio)
{
	int w, r;

	if (!knv_fault_present())
		SKIP(return, "no %s", KNV_SIM_FAIL);
	w = OPEN(self->name, O_RDWR);
	knv_pat_write(_metadata, w, 0, self->size, 42);
	ASSERT_EQ(0, knv_fault_arm(0, -1));
	close(w);
	ASSERT_EQ(self->size, ATTR("dirty"));

	r = OPEN(self->name, O_RDONLY);
	knv_pat_expect(_metadata, r, 0, self->size, 42);
	ASSERT_EQ(0, knv_fault_clear());
	ASSERT_EQ(0, fsync(r));
	ASSERT_EQ(0U, ATTR("dirty"));
	close(r);
}

/* Synced data comes back after unbind and bind. */
TEST_F(sync, rebind_synced)
{
	char path[PATH_MAX];
	int w, r;

	if (!can_rebind())
		SKIP(return, "cannot unbind/bind %s", KNV_SIM_DEV);
	knv_pat_set(_metadata, self->name, self->size, 43);
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, fsync(w));
	knv_pat_write(_metadata, w, 0, self->size, 44);
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0, close(w));

	ASSERT_EQ(0, knv_sim_unbind());
	ASSERT_ERRNO(ENOENT, knv_open(self->name, O_RDONLY));
	knv_attr_path(path, sizeof(path), self->name, "size");
	ASSERT_ERRNO(ENOENT, access(path, F_OK));
	ASSERT_EQ(0, knv_sim_bind(self->name));

	/* A new device: its statistics start again. */
	ASSERT_EQ(0U, ATTR("sync_count"));
	ASSERT_EQ(0U, ATTR("commit_count"));
	r = OPEN(self->name, O_RDONLY);
	knv_pat_expect(_metadata, r, 0, self->size, 44);
	ASSERT_EQ(0U, ATTR("dirty"));
	close(r);
}

/*
 * Files open across the unbind get ENODEV and close cleanly; the
 * committed but unsynced data is synced by the removal, the open
 * transaction is not.
 */
TEST_F(sync, rebind_open_files)
{
	int w, r, w2, v = 1;
	__u8 c = 0;

	if (!can_rebind())
		SKIP(return, "cannot unbind/bind %s", KNV_SIM_DEV);
	knv_pat_set(_metadata, self->name, self->size, 45);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, fsync(w));
	knv_pat_write(_metadata, w, 0, self->size, 46);
	ASSERT_EQ(self->size, ATTR("dirty"));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, 2 * KNV_BLOCK, 47);

	ASSERT_EQ(0, knv_sim_unbind());
	ASSERT_ERRNO(ENODEV, read(w, &c, 1));
	ASSERT_ERRNO(ENODEV, pread(w, &c, 1, 0));
	ASSERT_ERRNO(ENODEV, write(w, &c, 1));
	ASSERT_ERRNO(ENODEV, pwrite(w, &c, 1, 0));
	ASSERT_ERRNO(ENODEV, fsync(w));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_SYNC));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_SETAUTOT, &v));
	ASSERT_ERRNO(ENODEV, ioctl(w, KNVRAMIOC_GETAUTOT, &v));
	ASSERT_ERRNO(ENODEV, read(r, &c, 1));
	ASSERT_ERRNO(ENODEV, pread(r, &c, 1, 0));
	ASSERT_ERRNO(ENODEV, fsync(r));
	ASSERT_ERRNO(ENODEV, ioctl(r, KNVRAMIOC_GETAUTOT, &v));
	/* "Every later call" includes lseek(); checked last, not fatal. */
	errno = 0;
	EXPECT_EQ(-1, lseek(r, 0, SEEK_END));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, close(r));

	/* The stale writer does not hold the new partition's writer slot. */
	ASSERT_EQ(0, knv_sim_bind(self->name));
	w2 = OPEN(self->name, O_RDWR);
	ASSERT_ERRNO(ENODEV, pread(w, &c, 1, 0));
	ASSERT_EQ(0, close(w));
	knv_pat_expect(_metadata, w2, 0, self->size, 46);
	ASSERT_EQ(0U, ATTR("dirty"));
	knv_pat_write(_metadata, w2, 0, KNV_BLOCK, 48);
	knv_pat_expect(_metadata, w2, 0, KNV_BLOCK, 48);
	ASSERT_EQ(0, close(w2));
}

/*
 * Torn syncs. The sim passes each backend write's length to should_fail():
 * with a budget of B bytes in fail_write/space, writes go through until
 * one no longer fits in what is left of B, and that one and all later
 * ones fail. A sync of a given dirty set writes T bytes (sync_bytes tells
 * T), so budgets from 1 to T cut that sync at every stage, the last write
 * included. After each cut the device is taken away (its removal sync
 * fails too) and brought back: the partition must hold exactly the old or
 * exactly the new committed content, and still open for writing.
 *
 * Every other block changes, so that the sync writes many separate runs.
 * Before that, the old content goes to both banks of the partition (two
 * syncs), so that the cut sync writes only the changed blocks.
 */
#define TORN_CUTS	16

struct torn {
	size_t size;
	__u8 *old, *new, *buf;
};

/* Old content everywhere, new content in every other block. */
static void torn_fill(struct torn *t, unsigned int seed)
{
	size_t off;

	knv_pat_fill(t->old, t->size, 0, seed);
	memcpy(t->new, t->old, t->size);
	for (off = 0; off < t->size; off += 2 * KNV_BLOCK)
		knv_pat_fill(t->new + off, KNV_BLOCK, off, seed + 1);
}

/*
 * Commit old, sync it to both banks, commit new, then sync with @budget
 * bytes of backend writes (< 0: no fault). Returns fsync()'s result and,
 * if it succeeded, what it wrote in @bytes. Leaves the fault armed with
 * no budget, so that no later write (close, removal) lands.
 */
static int torn_sync(struct __test_metadata *_metadata, const char *name,
		     struct torn *t, long budget, __u64 *bytes)
{
	__u64 before;
	size_t off;
	int fd, ret;

	fd = OPEN(name, O_RDWR);
	ASSERT_EQ((ssize_t)t->size, pwrite(fd, t->old, t->size, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(KNV_BLOCK, pwrite(fd, t->old, KNV_BLOCK, 0));
	ASSERT_EQ(0, fsync(fd));

	ASSERT_EQ(0, ioctl(fd, KNVRAMIOC_TBEGIN));
	for (off = 0; off < t->size; off += 2 * KNV_BLOCK)
		ASSERT_EQ(KNV_BLOCK, pwrite(fd, t->new + off, KNV_BLOCK, off));
	ASSERT_EQ(0, ioctl(fd, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(t->size / 2, knv_attr(_metadata, name, "dirty"));

	before = knv_attr(_metadata, name, "sync_bytes");
	if (budget >= 0)
		ASSERT_EQ(0, knv_fault_arm(budget, -1));
	ret = fsync(fd);
	if (ret)
		ASSERT_EQ(EIO, errno);
	if (budget >= 0)
		ASSERT_EQ(0, knv_fault_arm(0, -1));
	if (!ret)
		*bytes = knv_attr(_metadata, name, "sync_bytes") - before;
	close(fd);
	return ret;
}

/* Unbind, clear the fault, bind. Returns 1 if new came back, 0 if old. */
static int torn_reload(struct __test_metadata *_metadata, const char *name,
		       struct torn *t)
{
	size_t dold = 0, dnew = 0;
	int fd;

	ASSERT_EQ(0, knv_sim_unbind());
	ASSERT_EQ(0, knv_fault_clear());
	ASSERT_EQ(0, knv_sim_bind(name));
	/* Not found corrupt: it opens for writing. */
	fd = OPEN(name, O_RDWR);
	ASSERT_EQ((ssize_t)t->size, pread(fd, t->buf, t->size, 0));
	ASSERT_EQ(0, close(fd));

	while (dnew < t->size && t->buf[dnew] == t->new[dnew])
		dnew++;
	if (dnew == t->size)
		return 1;
	while (dold < t->size && t->buf[dold] == t->old[dold])
		dold++;
	ASSERT_EQ(t->size, dold) {
		TH_LOG("neither old nor new: differs from old at %zu, from new at %zu",
		       dold, dnew);
	}
	return 0;
}

TEST_F_TIMEOUT(sync, torn_sync, 900)
{
	struct torn t = { .size = self->size };
	int i, ret, got, nold = 0, nnew = 0;
	__u64 total = 0, bytes = 0;
	long budget;

	if (!knv_fault_present())
		SKIP(return, "no %s", KNV_SIM_FAIL);
	if (!can_rebind())
		SKIP(return, "cannot unbind/bind %s", KNV_SIM_DEV);
	t.old = knv_alloc(_metadata, t.size);
	t.new = knv_alloc(_metadata, t.size);
	t.buf = knv_alloc(_metadata, t.size);

	/* Uncut, to learn the size T of the sync. */
	torn_fill(&t, 1000);
	ASSERT_EQ(0, torn_sync(_metadata, self->name, &t, -1, &total));
	ASSERT_EQ(1, torn_reload(_metadata, self->name, &t));
	ASSERT_LE(t.size / 2, total);

	/* Budgets 1 .. T cut it; T + 1 lets it through. */
	for (i = 0; i <= TORN_CUTS + 1; i++) {
		if (i <= TORN_CUTS)
			budget = 1 + (long)(i * (total - 1) / TORN_CUTS);
		else
			budget = total + 1;
		torn_fill(&t, 1002 + 2 * i);
		ret = torn_sync(_metadata, self->name, &t, budget, &bytes);
		got = torn_reload(_metadata, self->name, &t);
		TH_LOG("budget %ld of %llu: sync %s, %s content", budget,
		       (unsigned long long)total, ret ? "failed" : "done",
		       got ? "new" : "old");
		/* A sync that succeeded is on the media. */
		if (!ret)
			ASSERT_EQ(1, got);
		/* Nothing written at all: the old content, surely. */
		if (budget == 1) {
			ASSERT_NE(0, ret);
			ASSERT_EQ(0, got);
		}
		nold += !got;
		nnew += got;
	}
	TH_LOG("%d cuts: %d old, %d new", i, nold, nnew);
	free(t.buf);
	free(t.new);
	free(t.old);
}

TEST_HARNESS_MAIN
