// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram character device: open modes, read/write/seek, ioctls,
 * transactions, automatic transactions, and concurrent readers, as
 * Documentation/userspace-api/knvram.rst describes them.
 *
 * Runs on the partitions of the knvram-sim test backend (knvram-sim.ko
 * partitions=knvtest0:64K,knvtest1:1M,knvtest2:64K:autot); tests skip when
 * a partition is missing.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "knvram_helpers.h"

FIXTURE(knvram) {
	const char *name;
	size_t size;
	__u64 autot;		/* sysfs default, restored by teardown */
};

FIXTURE_VARIANT(knvram) {
	const char *name;
	size_t size;
};

FIXTURE_VARIANT_ADD(knvram, knvtest0) {
	.name = "knvtest0",
	.size = 64 << 10,
};

FIXTURE_VARIANT_ADD(knvram, knvtest1) {
	.name = "knvtest1",
	.size = 1 << 20,
};

FIXTURE_SETUP(knvram)
{
	if (!knv_present(variant->name))
		SKIP(return, "no %s%s", KNV_DEV_DIR, variant->name);
	self->name = variant->name;
	self->size = variant->size;
	self->autot = knv_attr(_metadata, self->name, "autot");
}

FIXTURE_TEARDOWN(knvram)
{
	knv_attr_write(self->name, "autot", self->autot ? "1" : "0");
}

static int getautot(int fd)
{
	int v = -1;

	if (ioctl(fd, KNVRAMIOC_GETAUTOT, &v))
		return -errno;
	return v;
}

static int setautot(int fd, int v)
{
	return ioctl(fd, KNVRAMIOC_SETAUTOT, &v) ? -errno : 0;
}

TEST_F(knvram, size)
{
	int fd = OPEN(self->name, O_RDONLY);

	ASSERT_EQ((off_t)self->size, knv_fd_size(fd));
	ASSERT_EQ(self->size, knv_attr(_metadata, self->name, "size"));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(knvram, one_writer)
{
	int w, r[4], i;

	w = OPEN(self->name, O_RDWR);
	ASSERT_ERRNO(EBUSY, knv_open(self->name, O_RDWR));
	ASSERT_ERRNO(EBUSY, knv_open(self->name, O_WRONLY));
	for (i = 0; i < 4; i++)
		r[i] = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, close(w));

	/* The slot is free again, for O_WRONLY as for O_RDWR. */
	w = OPEN(self->name, O_WRONLY);
	ASSERT_ERRNO(EBUSY, knv_open(self->name, O_RDWR));
	ASSERT_EQ(0, close(w));
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, close(w));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, close(r[i]));
}

TEST_F(knvram, readers_see_writes)
{
	int w, r1, r2;

	knv_pat_set(_metadata, self->name, self->size, 1);
	r1 = OPEN(self->name, O_RDONLY);
	w = OPEN(self->name, O_RDWR);
	r2 = OPEN(self->name, O_RDONLY);
	knv_pat_expect(_metadata, r1, 0, self->size, 1);

	/* A write outside a transaction is published at once. */
	knv_pat_write(_metadata, w, 0, self->size, 2);
	knv_pat_expect(_metadata, r1, 0, self->size, 2);
	knv_pat_expect(_metadata, r2, 0, self->size, 2);
	knv_pat_expect(_metadata, w, 0, self->size, 2);
	close(r2);
	close(w);
	close(r1);
}

TEST_F(knvram, reader_ebadf)
{
	int fd = OPEN(self->name, O_RDONLY);
	char c = 0;

	ASSERT_ERRNO(EBADF, write(fd, &c, 1));
	ASSERT_ERRNO(EBADF, pwrite(fd, &c, 1, 0));
	ASSERT_ERRNO(EBADF, ioctl(fd, KNVRAMIOC_TBEGIN));
	ASSERT_ERRNO(EBADF, ioctl(fd, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(EBADF, ioctl(fd, KNVRAMIOC_TABORT));
	ASSERT_EQ(-EBADF, setautot(fd, 1));
	ASSERT_EQ(-EBADF, setautot(fd, 0));
	/* What a reader may do. */
	ASSERT_EQ(0, getautot(fd));
	ASSERT_EQ(0, ioctl(fd, KNVRAMIOC_SYNC));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	close(fd);
}

TEST_F(knvram, lseek)
{
	off_t size = self->size;
	int fd = OPEN(self->name, O_RDONLY);

	ASSERT_EQ(size, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, lseek(fd, -size, SEEK_END));
	ASSERT_EQ(size - 1, lseek(fd, -1, SEEK_END));
	ASSERT_EQ(size, lseek(fd, size, SEEK_SET));
	ASSERT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_EQ(110, lseek(fd, 10, SEEK_CUR));
	ASSERT_EQ(105, lseek(fd, -5, SEEK_CUR));
	ASSERT_EQ(105, lseek(fd, 0, SEEK_CUR));

	/* Outside [0, size]: EINVAL, and the position stays. */
	ASSERT_ERRNO(EINVAL, lseek(fd, size + 1, SEEK_SET));
	ASSERT_ERRNO(EINVAL, lseek(fd, -1, SEEK_SET));
	ASSERT_ERRNO(EINVAL, lseek(fd, 1, SEEK_END));
	ASSERT_ERRNO(EINVAL, lseek(fd, -size - 1, SEEK_END));
	ASSERT_ERRNO(EINVAL, lseek(fd, -106, SEEK_CUR));
	ASSERT_ERRNO(EINVAL, lseek(fd, size - 104, SEEK_CUR));
	ASSERT_EQ(105, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(size, lseek(fd, size - 105, SEEK_CUR));
	close(fd);
}

TEST_F(knvram, read_bounds)
{
	size_t size = self->size;
	__u8 buf[256];
	int fd;

	knv_pat_set(_metadata, self->name, size, 3);
	fd = OPEN(self->name, O_RDONLY);

	/* Reads advance the position; crossing the end is short. */
	ASSERT_EQ((off_t)size - 10, lseek(fd, size - 10, SEEK_SET));
	ASSERT_EQ(10, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(-1, knv_pat_diff(buf, 10, size - 10, 3));
	ASSERT_EQ((off_t)size, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));

	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), size));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), size + 1));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), size + (1 << 20)));
	ASSERT_EQ(1, pread(fd, buf, sizeof(buf), size - 1));
	ASSERT_EQ(knv_pat(3, size - 1), buf[0]);

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(100, read(fd, buf, 100));
	ASSERT_EQ(100, read(fd, buf + 100, 100));
	ASSERT_EQ(-1, knv_pat_diff(buf, 200, 0, 3));
	ASSERT_EQ(200, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(knvram, write_bounds)
{
	size_t size = self->size;
	__u8 buf[256];
	int fd;

	knv_pat_set(_metadata, self->name, size, 4);
	fd = OPEN(self->name, O_RDWR);
	knv_pat_fill(buf, sizeof(buf), 0, 5);

	ASSERT_ERRNO(ENOSPC, pwrite(fd, buf, 1, size));
	ASSERT_ERRNO(ENOSPC, pwrite(fd, buf, 1, size + 1));
	ASSERT_ERRNO(ENOSPC, pwrite(fd, buf, 100, size + (1 << 20)));

	/* pwrite crossing the end: short, up to the end. */
	ASSERT_EQ(10, pwrite(fd, buf, 100, size - 10));
	ASSERT_EQ(0, pread(fd, buf + 128, 1, size));
	ASSERT_EQ(10, pread(fd, buf + 128, 100, size - 10));
	ASSERT_EQ(0, memcmp(buf, buf + 128, 10));
	knv_pat_expect(_metadata, fd, size - 4096, 4096 - 10, 4);

	/* write() advances the position, then ENOSPC at the end. */
	ASSERT_EQ((off_t)size - 20, lseek(fd, size - 20, SEEK_SET));
	ASSERT_EQ(20, write(fd, buf, 100));
	ASSERT_EQ((off_t)size, lseek(fd, 0, SEEK_CUR));
	ASSERT_ERRNO(ENOSPC, write(fd, buf, 1));
	ASSERT_EQ((off_t)size, lseek(fd, 0, SEEK_CUR));

	ASSERT_EQ(50, lseek(fd, 50, SEEK_SET));
	ASSERT_EQ(30, write(fd, buf, 30));
	ASSERT_EQ(80, lseek(fd, 0, SEEK_CUR));
	knv_pat_expect(_metadata, fd, 0, 50, 4);
	knv_pat_expect(_metadata, fd, 80, 4096, 4);
	ASSERT_EQ(30, pread(fd, buf + 128, 30, 50));
	ASSERT_EQ(0, memcmp(buf, buf + 128, 30));
	close(fd);
}

/* Two pages, the second inaccessible: a buffer that faults half way. */
static __u8 *fault_pages(struct __test_metadata *_metadata)
{
	__u8 *p = mmap(NULL, 2 * KNV_BLOCK, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + KNV_BLOCK, KNV_BLOCK, PROT_NONE));
	memset(p, 0x5a, KNV_BLOCK);
	return p;
}

TEST_F(knvram, efault)
{
	__u8 *p = fault_pages(_metadata), *bad = p + KNV_BLOCK;
	int fd, v = 1;

	knv_pat_set(_metadata, self->name, self->size, 6);
	fd = OPEN(self->name, O_RDWR);

	ASSERT_ERRNO(EFAULT, pwrite(fd, bad, 100, 0));
	ASSERT_ERRNO(EFAULT, pwrite(fd, bad, 3 * KNV_BLOCK, KNV_BLOCK - 8));
	/* Valid for a whole block, then faulting: still nothing written. */
	ASSERT_ERRNO(EFAULT, pwrite(fd, p, 2 * KNV_BLOCK, 0));
	ASSERT_ERRNO(EFAULT, pwrite(fd, p + 100, 2 * KNV_BLOCK, 3000));
	ASSERT_ERRNO(EFAULT, write(fd, bad, 10));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	knv_pat_expect(_metadata, fd, 0, self->size, 6);

	ASSERT_ERRNO(EFAULT, pread(fd, bad, 100, 0));
	ASSERT_ERRNO(EFAULT, read(fd, bad, 100));
	ASSERT_ERRNO(EFAULT, ioctl(fd, KNVRAMIOC_GETAUTOT, bad));
	ASSERT_ERRNO(EFAULT, ioctl(fd, KNVRAMIOC_SETAUTOT, bad));
	ASSERT_EQ(0, getautot(fd));
	ASSERT_ERRNO(EFAULT, ioctl(fd, KNVRAMIOC_SETAUTOT, (void *)1));
	ASSERT_ERRNO(EFAULT, ioctl(fd, KNVRAMIOC_GETAUTOT, (void *)1));
	ASSERT_EQ(0, ioctl(fd, KNVRAMIOC_SETAUTOT, &v));
	ASSERT_EQ(1, getautot(fd));
	close(fd);

	fd = OPEN(self->name, O_RDONLY);
	knv_pat_expect(_metadata, fd, 0, self->size, 6);
	close(fd);
	munmap(p, 2 * KNV_BLOCK);
}

TEST_F(knvram, efault_in_txn)
{
	__u8 *p = fault_pages(_metadata), *bad = p + KNV_BLOCK;
	int w, r;

	knv_pat_set(_metadata, self->name, self->size, 7);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 100, 3 * KNV_BLOCK, 8);
	ASSERT_ERRNO(EFAULT, pwrite(w, bad, 200, 1000));
	ASSERT_ERRNO(EFAULT, pwrite(w, p, 2 * KNV_BLOCK, 50));
	ASSERT_ERRNO(EFAULT, pwrite(w, p, 2 * KNV_BLOCK, 5 * KNV_BLOCK));

	/* The earlier writes of the transaction are intact... */
	knv_pat_expect(_metadata, w, 0, 100, 7);
	knv_pat_expect(_metadata, w, 100, 3 * KNV_BLOCK, 8);
	knv_pat_expect(_metadata, w, 100 + 3 * KNV_BLOCK,
		       self->size - 100 - 3 * KNV_BLOCK, 7);
	knv_pat_expect(_metadata, r, 0, self->size, 7);

	/* ...and the transaction is still open and commits them. */
	ASSERT_ERRNO(EALREADY, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 0, 100, 7);
	knv_pat_expect(_metadata, r, 100, 3 * KNV_BLOCK, 8);
	knv_pat_expect(_metadata, r, 100 + 3 * KNV_BLOCK,
		       self->size - 100 - 3 * KNV_BLOCK, 7);
	close(r);
	close(w);
	munmap(p, 2 * KNV_BLOCK);
}

TEST_F(knvram, unknown_ioctl)
{
	int w = OPEN(self->name, O_RDWR), r = OPEN(self->name, O_RDONLY);
	long arg = 0;

	ASSERT_ERRNO(ENOTTY, ioctl(w, _IO(KNVRAM_IOC_MAGIC, 0x40)));
	ASSERT_ERRNO(ENOTTY, ioctl(r, _IO(KNVRAM_IOC_MAGIC, 0x40)));
	ASSERT_ERRNO(ENOTTY, ioctl(w, _IO(KNVRAM_IOC_MAGIC, 0x06)));
	ASSERT_ERRNO(ENOTTY, ioctl(w, _IO('x', 0x01)));
	/* Known numbers with the wrong direction or size are unknown too. */
	ASSERT_ERRNO(ENOTTY, ioctl(w, _IOR(KNVRAM_IOC_MAGIC, 0x05, long),
				   &arg));
	ASSERT_ERRNO(ENOTTY, ioctl(w, _IOW(KNVRAM_IOC_MAGIC, 0x01, int),
				   &arg));
	ASSERT_ERRNO(ENOTTY, ioctl(r, _IOWR(KNVRAM_IOC_MAGIC, 0x00, int),
				   &arg));
	close(r);
	close(w);
}

TEST_F(knvram, autot_ioctls)
{
	int w = OPEN(self->name, O_RDWR), v;

	/* knvtest0 and knvtest1 have autot off by default. */
	ASSERT_EQ(0U, self->autot);
	ASSERT_EQ(0, getautot(w));
	ASSERT_EQ(0, setautot(w, 1));
	ASSERT_EQ(1, getautot(w));
	ASSERT_EQ(-EINVAL, setautot(w, 2));
	ASSERT_EQ(-EINVAL, setautot(w, -1));
	ASSERT_EQ(-EINVAL, setautot(w, 256));
	ASSERT_EQ(1, getautot(w));
	ASSERT_EQ(0, setautot(w, 0));
	ASSERT_EQ(0, getautot(w));
	ASSERT_EQ(-EINVAL, setautot(w, 2));
	ASSERT_EQ(0, getautot(w));

	/* The setting belongs to the file description, not the partition. */
	ASSERT_EQ(0, setautot(w, 1));
	close(w);
	w = OPEN(self->name, O_RDWR);
	v = getautot(w);
	ASSERT_EQ(0, v);
	close(w);
}

TEST_F(knvram, autot_sysfs_default)
{
	int before, after, r;

	before = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, getautot(before));
	ASSERT_EQ(0, knv_attr_write(self->name, "autot", "1"));
	ASSERT_EQ(1U, knv_attr(_metadata, self->name, "autot"));

	/* New handles only. */
	ASSERT_EQ(0, getautot(before));
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(1, getautot(r));
	close(r);
	close(before);
	after = OPEN(self->name, O_RDWR);
	ASSERT_EQ(1, getautot(after));

	ASSERT_EQ(0, knv_attr_write(self->name, "autot", "0"));
	ASSERT_EQ(0U, knv_attr(_metadata, self->name, "autot"));
	ASSERT_EQ(1, getautot(after));
	close(after);
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, getautot(r));
	close(r);
}

TEST(autot_default_on)
{
	const char *name = "knvtest2";
	size_t size = 64 << 10;
	int w, r;

	if (!knv_present(name))
		SKIP(return, "no %s%s", KNV_DEV_DIR, name);
	ASSERT_EQ(1U, knv_attr(_metadata, name, "autot"));
	ASSERT_EQ(size, knv_attr(_metadata, name, "size"));

	/* Commit the old content explicitly: autot is on. */
	w = OPEN(name, O_RDWR);
	ASSERT_EQ(1, getautot(w));
	knv_pat_write(_metadata, w, 0, size, 9);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));

	r = OPEN(name, O_RDONLY);
	ASSERT_EQ(1, getautot(r));
	knv_pat_write(_metadata, w, 0, size, 10);
	ASSERT_ERRNO(EALREADY, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_expect(_metadata, r, 0, size, 9);
	knv_pat_expect(_metadata, w, 0, size, 10);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	knv_pat_expect(_metadata, w, 0, size, 9);
	close(w);
	close(r);
}

TEST_F(knvram, txn_isolation)
{
	size_t size = self->size, last = size - KNV_BLOCK;
	int w, r;

	knv_pat_set(_metadata, self->name, size, 11);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	/* First block, a range across blocks, and the last block. */
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 12);
	knv_pat_write(_metadata, w, 3 * KNV_BLOCK - 7, 2 * KNV_BLOCK, 12);
	knv_pat_write(_metadata, w, last, KNV_BLOCK, 12);

	knv_pat_expect(_metadata, w, 0, KNV_BLOCK, 12);
	knv_pat_expect(_metadata, w, 3 * KNV_BLOCK - 7, 2 * KNV_BLOCK, 12);
	knv_pat_expect(_metadata, w, last, KNV_BLOCK, 12);
	knv_pat_expect(_metadata, w, KNV_BLOCK, 2 * KNV_BLOCK - 7, 11);
	knv_pat_expect(_metadata, r, 0, size, 11);

	/* A reader opened during the transaction sees the old data too. */
	close(r);
	r = OPEN(self->name, O_RDONLY);
	knv_pat_expect(_metadata, r, 0, size, 11);

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 12);
	knv_pat_expect(_metadata, r, KNV_BLOCK, 2 * KNV_BLOCK - 7, 11);
	knv_pat_expect(_metadata, r, 3 * KNV_BLOCK - 7, 2 * KNV_BLOCK, 12);
	knv_pat_expect(_metadata, r, 5 * KNV_BLOCK - 7,
		       last - 5 * KNV_BLOCK + 7, 11);
	knv_pat_expect(_metadata, r, last, KNV_BLOCK, 12);
	close(r);
	close(w);
}

TEST_F(knvram, txn_abort)
{
	int w, r;

	knv_pat_set(_metadata, self->name, self->size, 13);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, self->size, 14);
	knv_pat_expect(_metadata, w, 0, self->size, 14);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	knv_pat_expect(_metadata, w, 0, self->size, 13);
	knv_pat_expect(_metadata, r, 0, self->size, 13);

	/* The next write is a plain one again: published at once. */
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 14);
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 14);
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TABORT));
	close(r);
	close(w);
}

TEST_F(knvram, txn_close_aborts)
{
	int w, r;

	knv_pat_set(_metadata, self->name, self->size, 15);
	r = OPEN(self->name, O_RDONLY);
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, self->size, 16);
	ASSERT_EQ(0, close(w));
	knv_pat_expect(_metadata, r, 0, self->size, 15);

	w = OPEN(self->name, O_RDWR);
	knv_pat_expect(_metadata, w, 0, self->size, 15);
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TCOMMIT));
	close(w);
	close(r);
}

TEST_F(knvram, txn_errors)
{
	int w = OPEN(self->name, O_RDWR);

	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_ERRNO(EALREADY, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	close(w);
}

/* Overlapping writes in a transaction, checked against a model. */
TEST_F(knvram, txn_overlap)
{
	size_t size = self->size, span = 8 * KNV_BLOCK;
	__u8 *model = knv_alloc(_metadata, span);
	__u8 *buf = knv_alloc(_metadata, span);
	__u32 lcg = 12345;
	int w, r, i;

	knv_pat_set(_metadata, self->name, size, 17);
	knv_pat_fill(model, span, 0, 17);
	w = OPEN(self->name, O_RDWR);
	r = OPEN(self->name, O_RDONLY);

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	for (i = 0; i < 64; i++) {
		size_t off, len;

		lcg = lcg * 1103515245 + 12345;
		off = (lcg >> 8) % span;
		lcg = lcg * 1103515245 + 12345;
		len = 1 + (lcg >> 8) % (3 * KNV_BLOCK);
		if (off + len > span)
			len = span - off;
		knv_pat_fill(buf, len, off, 100 + i);
		ASSERT_EQ((ssize_t)len, pwrite(w, buf, len, off));
		memcpy(model + off, buf, len);
	}

	ASSERT_EQ((ssize_t)span, pread(w, buf, span, 0));
	ASSERT_EQ(0, memcmp(model, buf, span));
	knv_pat_expect(_metadata, r, 0, size, 17);

	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ((ssize_t)span, pread(r, buf, span, 0));
	ASSERT_EQ(0, memcmp(model, buf, span));
	knv_pat_expect(_metadata, r, span, size - span, 17);
	close(r);
	close(w);
	free(buf);
	free(model);
}

/* Reads of the writer that span transaction blocks and shadow blocks. */
TEST_F(knvram, txn_spanning_reads)
{
	const size_t span = 6 * KNV_BLOCK, size = self->size;
	__u8 *model = knv_alloc(_metadata, span);
	__u8 *buf = knv_alloc(_metadata, span);
	static const size_t ranges[][2] = {
		{ 0, 6 * KNV_BLOCK }, { 1, 6 * KNV_BLOCK - 2 }, { 4000, 9000 },
		{ KNV_BLOCK + 150, 2 * KNV_BLOCK }, { 2 * KNV_BLOCK - 1, 2 },
		{ 3 * KNV_BLOCK, KNV_BLOCK }, { 5 * KNV_BLOCK - 50, 100 },
	};
	unsigned int i;
	int w;

	knv_pat_set(_metadata, self->name, size, 18);
	knv_pat_fill(model, span, 0, 18);
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	/* Part of block 1, all of block 3, the head of block 5. */
	knv_pat_write(_metadata, w, KNV_BLOCK + 100, 100, 19);
	knv_pat_fill(model + KNV_BLOCK + 100, 100, KNV_BLOCK + 100, 19);
	knv_pat_write(_metadata, w, 3 * KNV_BLOCK, KNV_BLOCK, 19);
	knv_pat_fill(model + 3 * KNV_BLOCK, KNV_BLOCK, 3 * KNV_BLOCK, 19);
	knv_pat_write(_metadata, w, 5 * KNV_BLOCK, 10, 19);
	knv_pat_fill(model + 5 * KNV_BLOCK, 10, 5 * KNV_BLOCK, 19);

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		size_t off = ranges[i][0], len = ranges[i][1];

		ASSERT_EQ((ssize_t)len, pread(w, buf, len, off));
		ASSERT_EQ(0, memcmp(model + off, buf, len)) {
			TH_LOG("read [%zu, %zu)", off, off + len);
		}
	}
	/* Sequential read() across the same mix. */
	ASSERT_EQ(0, lseek(w, 0, SEEK_SET));
	for (i = 0; i < span / 1000; i++)
		ASSERT_EQ(1000, read(w, buf + i * 1000, 1000));
	ASSERT_EQ(0, memcmp(model, buf, i * 1000));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	close(w);
	free(buf);
	free(model);
}

TEST_F(knvram, autot)
{
	size_t size = self->size;
	int w, r;

	knv_pat_set(_metadata, self->name, size, 20);
	r = OPEN(self->name, O_RDONLY);
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, setautot(w, 1));

	/* A write starts a transaction, and nothing commits by itself. */
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 21);
	ASSERT_ERRNO(EALREADY, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, size - KNV_BLOCK, KNV_BLOCK, 21);
	knv_pat_expect(_metadata, w, 0, KNV_BLOCK, 21);
	knv_pat_expect(_metadata, r, 0, size, 20);
	ASSERT_EQ(0, fsync(w));
	knv_pat_expect(_metadata, r, 0, size, 20);

	/* Closing drops it. */
	ASSERT_EQ(0, close(w));
	knv_pat_expect(_metadata, r, 0, size, 20);

	/* Commit, then the next write starts a new transaction. */
	w = OPEN(self->name, O_RDWR);
	ASSERT_EQ(0, setautot(w, 1));
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 22);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 22);
	knv_pat_write(_metadata, w, KNV_BLOCK, KNV_BLOCK, 22);
	knv_pat_expect(_metadata, r, KNV_BLOCK, KNV_BLOCK, 20);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	knv_pat_expect(_metadata, w, 0, KNV_BLOCK, 22);
	knv_pat_expect(_metadata, w, KNV_BLOCK, size - KNV_BLOCK, 20);

	/* Turning autot off does not end the open transaction. */
	knv_pat_write(_metadata, w, 2 * KNV_BLOCK, KNV_BLOCK, 23);
	ASSERT_EQ(0, setautot(w, 0));
	ASSERT_ERRNO(EALREADY, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_expect(_metadata, r, 2 * KNV_BLOCK, KNV_BLOCK, 20);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 2 * KNV_BLOCK, KNV_BLOCK, 23);

	/* With autot off again, writes are published at once. */
	knv_pat_write(_metadata, w, 3 * KNV_BLOCK, KNV_BLOCK, 23);
	knv_pat_expect(_metadata, r, 3 * KNV_BLOCK, KNV_BLOCK, 23);
	ASSERT_ERRNO(EINVAL, ioctl(w, KNVRAMIOC_TCOMMIT));
	close(w);
	close(r);
}

TEST_F(knvram, nonblock)
{
	int w, r;

	knv_pat_set(_metadata, self->name, self->size, 24);
	w = OPEN(self->name, O_RDWR | O_NONBLOCK);
	r = OPEN(self->name, O_RDONLY | O_NONBLOCK);
	ASSERT_ERRNO(EBUSY, knv_open(self->name, O_RDWR | O_NONBLOCK));

	knv_pat_expect(_metadata, r, 0, self->size, 24);
	knv_pat_write(_metadata, w, 0, KNV_BLOCK, 25);
	knv_pat_expect(_metadata, r, 0, KNV_BLOCK, 25);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, KNV_BLOCK, KNV_BLOCK, 25);
	knv_pat_expect(_metadata, w, KNV_BLOCK, KNV_BLOCK, 25);
	knv_pat_expect(_metadata, r, KNV_BLOCK, KNV_BLOCK, 24);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	knv_pat_expect(_metadata, r, 0, 2 * KNV_BLOCK, 25);
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0, ioctl(r, KNVRAMIOC_SYNC));
	ASSERT_EQ(0, setautot(w, 1));
	ASSERT_EQ(1, getautot(w));
	ASSERT_EQ((off_t)self->size, lseek(w, 0, SEEK_END));
	close(r);
	close(w);
}

/*
 * Real time with O_NONBLOCK: a commit never waits for a sync or a read of
 * another file description, so it never fails with EAGAIN, however often
 * a thread syncs and reads the partition meanwhile (a sync used to hold
 * the lock that commits take for its whole backend I/O).
 */
#define BUSY_COMMITS	200

struct busy {
	int fd;
	atomic_bool stop;
	atomic_int syncs;
	void *buf;
	size_t size;
};

static void *busy_reader(void *arg)
{
	struct busy *b = arg;

	while (!atomic_load(&b->stop)) {
		if (pread(b->fd, b->buf, b->size, 0) < 0 || fsync(b->fd))
			break;
		atomic_fetch_add(&b->syncs, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(knvram, nonblock_never_waits, 300)
{
	struct busy b = { .size = self->size };
	int w, r, i, ret = 0;
	pthread_t t;

	knv_pat_set(_metadata, self->name, self->size, 26);
	w = OPEN(self->name, O_RDWR | O_NONBLOCK);
	r = OPEN(self->name, O_RDONLY);
	b.fd = OPEN(self->name, O_RDONLY);
	b.buf = knv_alloc(_metadata, b.size);
	atomic_init(&b.stop, false);
	atomic_init(&b.syncs, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, busy_reader, &b));

	for (i = 0; i < BUSY_COMMITS; i++) {
		ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
		knv_pat_write(_metadata, w, 0, self->size, 27 + (i & 1));
		ret = ioctl(w, KNVRAMIOC_TCOMMIT);
		if (ret)
			break;
		/* A plain write is a commit too. */
		ret = pwrite(w, &i, sizeof(i), 0) == sizeof(i) ? 0 : -1;
		if (ret)
			break;
	}
	atomic_store(&b.stop, true);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, ret) TH_LOG("commit %d of %d: %s (%d syncs meanwhile)", i,
				 BUSY_COMMITS, strerror(errno),
				 atomic_load(&b.syncs));
	TH_LOG("%d syncs ran during %d commits", atomic_load(&b.syncs), i);
	knv_pat_expect(_metadata, r, sizeof(i), self->size - sizeof(i),
		       27 + !(BUSY_COMMITS & 1));
	free(b.buf);
	close(b.fd);
	close(r);
	close(w);
}

/*
 * A writer thread commits generations of a 64 KiB range, each one
 * number repeated over the whole range, while a reader thread on another
 * file description checks that every pread() of the range shows a single
 * generation.
 */
#define RACE_SPAN	(64 << 10)
#define RACE_COMMITS	300
#define RACE_MAX_READS	100000

struct race {
	int wfd, rfd;
	bool txn;		/* TBEGIN + several writes, or one write */
	atomic_bool done;
	int werr;		/* errno of the writer's failure */
	int rerr;		/* errno of the reader's failure */
	long reads, mixed, distinct;
	long bad_off;
	__u64 bad_a, bad_b;
};

static void *race_writer(void *arg)
{
	struct race *rc = arg;
	__u64 *buf = malloc(RACE_SPAN), gen;
	size_t i, part = RACE_SPAN / 4;
	int p;

	if (!buf) {
		rc->werr = ENOMEM;
		goto out;
	}
	for (gen = 1; gen <= RACE_COMMITS && !rc->werr; gen++) {
		for (i = 0; i < RACE_SPAN / sizeof(gen); i++)
			buf[i] = gen;
		if (!rc->txn) {
			if (pwrite(rc->wfd, buf, RACE_SPAN, 0) != RACE_SPAN)
				rc->werr = errno ?: EIO;
			continue;
		}
		if (ioctl(rc->wfd, KNVRAMIOC_TBEGIN)) {
			rc->werr = errno;
			break;
		}
		/* Last part first, so that a torn commit shows. */
		for (p = 3; p >= 0; p--)
			if (pwrite(rc->wfd, (char *)buf + p * part, part,
				   p * part) != (ssize_t)part)
				rc->werr = errno ?: EIO;
		if (ioctl(rc->wfd, KNVRAMIOC_TCOMMIT))
			rc->werr = errno;
	}
	free(buf);
out:
	atomic_store(&rc->done, true);
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *rc = arg;
	__u64 *buf = malloc(RACE_SPAN), last = 0;
	size_t i, n = RACE_SPAN / sizeof(*buf);

	if (!buf) {
		rc->rerr = ENOMEM;
		return NULL;
	}
	while (!atomic_load(&rc->done) && rc->reads < RACE_MAX_READS) {
		if (pread(rc->rfd, buf, RACE_SPAN, 0) != RACE_SPAN) {
			rc->rerr = errno ?: EIO;
			break;
		}
		rc->reads++;
		for (i = 1; i < n && buf[i] == buf[0]; i++)
			;
		if (i < n || buf[0] > RACE_COMMITS) {
			if (!rc->mixed++) {
				rc->bad_off = i * sizeof(*buf);
				rc->bad_a = buf[0];
				rc->bad_b = i < n ? buf[i] : buf[0];
			}
		} else if (buf[0] != last) {
			rc->distinct++;
			last = buf[0];
		}
	}
	free(buf);
	return NULL;
}

static void race(struct __test_metadata *_metadata, const char *name,
		 bool txn)
{
	struct race rc = { .txn = txn };
	__u64 *zero = calloc(1, RACE_SPAN);
	pthread_t wt, rt;

	ASSERT_NE(NULL, zero);
	rc.wfd = OPEN(name, O_RDWR);
	rc.rfd = OPEN(name, O_RDONLY);
	ASSERT_EQ(RACE_SPAN, pwrite(rc.wfd, zero, RACE_SPAN, 0));
	atomic_init(&rc.done, false);

	ASSERT_EQ(0, pthread_create(&rt, NULL, race_reader, &rc));
	ASSERT_EQ(0, pthread_create(&wt, NULL, race_writer, &rc));
	ASSERT_EQ(0, pthread_join(wt, NULL));
	ASSERT_EQ(0, pthread_join(rt, NULL));

	TH_LOG("%ld reads saw %ld generations change", rc.reads,
	       rc.distinct);
	ASSERT_EQ(0, rc.werr) {
		TH_LOG("writer: %s", strerror(rc.werr));
	}
	ASSERT_EQ(0, rc.rerr) {
		TH_LOG("reader: %s", strerror(rc.rerr));
	}
	ASSERT_EQ(0, rc.mixed) {
		TH_LOG("first mixed read: generation %llu, then %llu at %ld",
		       (unsigned long long)rc.bad_a,
		       (unsigned long long)rc.bad_b, rc.bad_off);
	}
	ASSERT_LT(0, rc.reads);
	/* After the last commit, everyone sees the last generation. */
	ASSERT_EQ(8, pread(rc.rfd, zero, sizeof(*zero), 0));
	ASSERT_EQ(RACE_COMMITS, (int)zero[0]);
	close(rc.rfd);
	close(rc.wfd);
	free(zero);
}

TEST_F_TIMEOUT(knvram, race_commits, 300)
{
	race(_metadata, self->name, true);
}

TEST_F_TIMEOUT(knvram, race_plain_writes, 300)
{
	race(_metadata, self->name, false);
}

/* KNVRAMIOC_INFO into @info, its @size set to sizeof: 0 or -errno. */
static int info(int fd, struct knvram_info *info)
{
	memset(info, 0x5a, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, KNVRAMIOC_INFO, info) ? -errno : 0;
}

/*
 * A struct knvram_info whose size (that of ours) is readable and whose
 * rest runs off the end of its mapping.
 */
static struct knvram_info *info_edge(struct __test_metadata *_metadata)
{
	char *p = mmap(NULL, 2 * KNV_BLOCK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct knvram_info *edge;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + KNV_BLOCK, KNV_BLOCK));
	edge = (struct knvram_info *)(p + KNV_BLOCK - 8);
	edge->size = sizeof(*edge);
	return edge;
}

static void info_edge_free(struct knvram_info *edge)
{
	munmap((char *)edge - (KNV_BLOCK - 8), KNV_BLOCK);
}

/* poll() @fd for @events, waiting @ms: the revents, 0 on timeout. */
static short poll1(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, ms);

	return n < 0 ? -1 : n ? p.revents : 0;
}

TEST_F(knvram, info_fields)
{
	int w = OPEN(self->name, O_RDWR), r = OPEN(self->name, O_RDONLY);
	char path[PATH_MAX], be[64];
	struct knvram_info in;
	__u64 gen, commits;
	unsigned int i;

	ASSERT_EQ((size_t)KNVRAM_INFO_SIZE_VER0, sizeof(in));
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(sizeof(in), in.size);
	ASSERT_EQ(self->size, in.part_size);
	ASSERT_EQ((__u32)KNV_BLOCK, in.block_size);
	ASSERT_STREQ(self->name, in.name);
	knv_attr_path(path, sizeof(path), self->name, "backend");
	ASSERT_EQ(0, knv_read_text(path, be, sizeof(be)));
	ASSERT_STREQ(be, in.backend);
	ASSERT_EQ(0U, in.reserved0);
	for (i = 0; i < ARRAY_SIZE(in.reserved); i++)
		ASSERT_EQ(0ULL, in.reserved[i]);
	/* A reader, with a writer open elsewhere, autot off. */
	ASSERT_EQ(KNVRAM_INFO_WRITER, in.flags);
	ASSERT_EQ(knv_attr(_metadata, self->name, "commit_count"), in.commits);

	/* A commit: counted, dirty until synced, then a new generation. */
	knv_pat_write(_metadata, w, 0, 10, 3);
	ASSERT_EQ(0, info(w, &in));
	ASSERT_EQ(knv_attr(_metadata, self->name, "commit_count"), in.commits);
	ASSERT_EQ(knv_attr(_metadata, self->name, "dirty"), in.dirty_bytes);
	ASSERT_LE((__u64)KNV_BLOCK, in.dirty_bytes);
	gen = in.generation;
	commits = in.commits;
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(0ULL, in.dirty_bytes);
	ASSERT_LT(gen, in.generation);
	ASSERT_EQ(commits, in.commits);

	/* Per handle: transaction and autot; the writer flag is shared. */
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	ASSERT_EQ(0, setautot(w, 1));
	ASSERT_EQ(0, info(w, &in));
	ASSERT_EQ(KNVRAM_INFO_WRITER | KNVRAM_INFO_TXN | KNVRAM_INFO_AUTOT,
		  in.flags);
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(KNVRAM_INFO_WRITER, in.flags);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	close(w);
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(0U, in.flags);
	close(r);
}

TEST_F(knvram, info_sizes)
{
	int r = OPEN(self->name, O_RDONLY);
	struct knvram_info in, *edge;
	unsigned char big[sizeof(in) + 64];
	struct knvram_info *bp = (struct knvram_info *)big;
	unsigned int i;

	/* Older callers: too small fails, exactly VER0 is filled. */
	memset(&in, 0x5a, sizeof(in));
	in.size = KNVRAM_INFO_SIZE_VER0 - 1;
	ASSERT_ERRNO(EINVAL, ioctl(r, KNVRAMIOC_INFO, &in));
	in.size = 0;
	ASSERT_ERRNO(EINVAL, ioctl(r, KNVRAMIOC_INFO, &in));
	in.size = KNVRAM_INFO_SIZE_VER0;
	ASSERT_EQ(0, ioctl(r, KNVRAMIOC_INFO, &in));
	ASSERT_EQ((__u32)KNVRAM_INFO_SIZE_VER0, in.size);

	/* A newer caller: we fill ours, say so, and leave the rest. */
	memset(big, 0xa5, sizeof(big));
	bp->size = sizeof(big);
	ASSERT_EQ(0, ioctl(r, _IOC(_IOC_READ | _IOC_WRITE, KNVRAM_IOC_MAGIC,
				   0x06, sizeof(big)), big));
	ASSERT_EQ(sizeof(in), bp->size);
	ASSERT_STREQ(self->name, bp->name);
	for (i = sizeof(in); i < sizeof(big); i++)
		ASSERT_EQ(0xa5, big[i]);
	/* The size in the command does not matter, the one in the struct does. */
	bp->size = sizeof(in);
	ASSERT_EQ(0, ioctl(r, _IOC(_IOC_READ | _IOC_WRITE, KNVRAM_IOC_MAGIC,
				   0x06, 8), big));
	ASSERT_EQ(sizeof(in), bp->size);
	/* Other directions of the number are unknown. */
	ASSERT_ERRNO(ENOTTY, ioctl(r, _IOR(KNVRAM_IOC_MAGIC, 0x06,
					   struct knvram_info), &in));
	ASSERT_ERRNO(ENOTTY, ioctl(r, _IOW(KNVRAM_IOC_MAGIC, 0x06,
					   struct knvram_info), &in));

	/* Bad pointers. */
	ASSERT_ERRNO(EFAULT, ioctl(r, KNVRAMIOC_INFO, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(r, KNVRAMIOC_INFO, (void *)1));
	edge = info_edge(_metadata);
	ASSERT_ERRNO(EFAULT, ioctl(r, KNVRAMIOC_INFO, edge));
	info_edge_free(edge);
	close(r);
}

TEST_F(knvram, poll_commits)
{
	int w = OPEN(self->name, O_RDWR), r = OPEN(self->name, O_RDONLY);
	int r2 = OPEN(self->name, O_RDONLY);
	struct knvram_info in, *edge;

	/* Nothing new since open; reads never wait; the writer can write. */
	ASSERT_EQ(POLLIN, poll1(r, POLLIN | POLLPRI, 0));
	ASSERT_EQ(POLLIN | POLLOUT, poll1(w, POLLIN | POLLOUT | POLLPRI, 0));
	ASSERT_EQ(0, poll1(r, POLLPRI, 0));

	/* An open or aborted transaction is no commit. */
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, 10, 4);
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TABORT));
	ASSERT_EQ(0, poll1(r, POLLPRI, 200));

	/* A commit: every handle, the writer's too, until its INFO. */
	knv_pat_write(_metadata, w, 0, 10, 5);
	ASSERT_EQ(POLLPRI, poll1(r, POLLPRI, 5000));
	ASSERT_EQ(POLLPRI, poll1(r, POLLPRI, 0));
	ASSERT_EQ(POLLPRI, poll1(r2, POLLPRI, 5000));
	ASSERT_EQ(POLLPRI, poll1(w, POLLPRI, 5000));
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(0, poll1(r, POLLPRI, 0));
	ASSERT_EQ(POLLPRI, poll1(r2, POLLPRI, 0));
	ASSERT_EQ(0, info(w, &in));
	ASSERT_EQ(0, poll1(w, POLLPRI, 0));

	/* A sync is no commit; a commit of a transaction is one. */
	ASSERT_EQ(0, fsync(w));
	ASSERT_EQ(0, poll1(r, POLLPRI, 200));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TBEGIN));
	knv_pat_write(_metadata, w, 0, 10, 6);
	ASSERT_EQ(0, poll1(r, POLLPRI, 200));
	ASSERT_EQ(0, ioctl(w, KNVRAMIOC_TCOMMIT));
	ASSERT_EQ(POLLPRI, poll1(r, POLLPRI, 5000));

	/* Only an INFO that returned 0 resets it: not EINVAL, not EFAULT. */
	edge = info_edge(_metadata);
	ASSERT_ERRNO(EFAULT, ioctl(r, KNVRAMIOC_INFO, edge));
	ASSERT_EQ(POLLPRI, poll1(r, POLLPRI, 0));
	info_edge_free(edge);
	in.size = KNVRAM_INFO_SIZE_VER0 - 1;
	ASSERT_ERRNO(EINVAL, ioctl(r, KNVRAMIOC_INFO, &in));
	ASSERT_EQ(POLLPRI, poll1(r, POLLPRI, 0));
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(0, poll1(r, POLLPRI, 0));
	close(r2);
	close(r);
	close(w);
}

struct poll_waiter {
	int fd;
	short revents;
	atomic_int waiting;
};

static void *poll_waiter(void *arg)
{
	struct poll_waiter *pw = arg;

	atomic_store(&pw->waiting, 1);
	pw->revents = poll1(pw->fd, POLLPRI, 10000);
	return NULL;
}

/* A handle sleeping in poll() wakes up at another process's commit. */
TEST_F(knvram, poll_wakes)
{
	int w = OPEN(self->name, O_RDWR), r = OPEN(self->name, O_RDONLY);
	struct poll_waiter pw = { .fd = r };
	struct timespec t0, t1;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, poll_waiter, &pw));
	while (!atomic_load(&pw.waiting))
		usleep(1000);
	usleep(200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	knv_pat_write(_metadata, w, 100, 10, 7);
	ASSERT_EQ(0, pthread_join(t, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(POLLPRI, pw.revents);
	/* Woken, not timed out. */
	ASSERT_GT(5, t1.tv_sec - t0.tv_sec);
	close(r);
	close(w);
}

/* "boardro", a read-only fixed partition of the board's devicetree. */
TEST(read_only_partition)
{
	struct knvram_info in;
	__u64 gen, syncs;
	int r;

	if (!knv_present("boardro"))
		SKIP(return, "no " KNV_DEV_DIR "boardro");
	ASSERT_EQ(1ULL, knv_attr(_metadata, "boardro", "read_only"));
	ASSERT_ERRNO(EROFS, knv_open("boardro", O_RDWR));
	ASSERT_ERRNO(EROFS, knv_open("boardro", O_WRONLY));
	r = OPEN("boardro", O_RDONLY);
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(KNVRAM_INFO_READ_ONLY, in.flags);
	ASSERT_EQ(0ULL, in.dirty_bytes);
	gen = in.generation;
	syncs = knv_attr(_metadata, "boardro", "sync_count");
	/* A sync (root may sync from a reader) writes nothing. */
	ASSERT_EQ(0, fsync(r));
	ASSERT_EQ(0, ioctl(r, KNVRAMIOC_SYNC));
	ASSERT_EQ(0, info(r, &in));
	ASSERT_EQ(gen, in.generation);
	ASSERT_EQ(syncs, knv_attr(_metadata, "boardro", "sync_count"));
	ASSERT_EQ(0ULL, knv_attr(_metadata, "boardro", "sync_bytes"));
	close(r);
}

TEST_F(knvram, not_read_only)
{
	int w = OPEN(self->name, O_RDWR);
	struct knvram_info in;

	ASSERT_EQ(0ULL, knv_attr(_metadata, self->name, "read_only"));
	ASSERT_EQ(0, info(w, &in));
	ASSERT_EQ(0U, in.flags & KNVRAM_INFO_READ_ONLY);
	close(w);
}

/* "boardkern", a fixed partition with linux,kernel-only: sysfs, no node. */
TEST(kernel_only_partition)
{
	struct stat st;

	if (access(KNV_CLASS_DIR "boardkern", F_OK))
		SKIP(return, "no " KNV_CLASS_DIR "boardkern");
	ASSERT_EQ(0x10000ULL, knv_attr(_metadata, "boardkern", "size"));
	ASSERT_ERRNO(ENOENT, stat(KNV_DEV_DIR "boardkern", &st));
	ASSERT_ERRNO(ENOENT, stat(KNV_CLASS_DIR "boardkern/dev", &st));
	/* The other partitions keep their device number and node. */
	if (knv_present("boardro"))
		ASSERT_EQ(0, stat(KNV_CLASS_DIR "boardro/dev", &st));
}

TEST_HARNESS_MAIN
