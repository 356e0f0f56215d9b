/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the knvram selftests: device and sysfs access, data
 * patterns, the knvram-sim device (unbind/bind) and its fault injection.
 * Includes kselftest_harness.h: the helpers that take a
 * struct __test_metadata *_metadata use its ASSERT_*() macros.
 */
#ifndef KNVRAM_HELPERS_H
#define KNVRAM_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/knvram.h>

/*
 * The tests build with -Wextra, which 6.12's harness does not pass: its
 * TEST() and TEST_F() expansions in our files have an unused parameter and
 * a local that setjmp() may clobber. We use neither setjmp() nor unused
 * parameters ourselves.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define KNV_BLOCK	4096
#define KNV_DEV_DIR	"/dev/knvram/"
#define KNV_CLASS_DIR	"/sys/class/knvram/"
#define KNV_SIM_DRV	"/sys/bus/platform/drivers/knvram-sim"
#define KNV_SIM_DEV	"knvram-sim.0"
#define KNV_SIM_FAIL	"/sys/kernel/debug/knvram-sim/fail_write"

static inline int knv_open(const char *name, int flags)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), KNV_DEV_DIR "%s", name);
	return open(path, flags | O_CLOEXEC);
}

/* Open /dev/knvram/@name or fail the test. */
static inline int knv_open_ok(struct __test_metadata *_metadata,
			      const char *name, int flags)
{
	int fd = knv_open(name, flags);

	ASSERT_LE(0, fd) {
		TH_LOG("open %s (%#x): %s", name, flags, strerror(errno));
	}
	return fd;
}

#define OPEN(name, flags)	knv_open_ok(_metadata, name, flags)

/* Assert that @call fails with errno @err. */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	ASSERT_EQ(-1, (long)(call));					\
	ASSERT_EQ(err, errno) {						\
		TH_LOG("%s: %s", #call, strerror(errno));		\
	}								\
} while (0)

static inline bool knv_present(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), KNV_DEV_DIR "%s", name);
	return access(path, F_OK) == 0;
}

/* Read a small text file, without its trailing newline: 0 or -errno. */
static inline int knv_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/* Write a string to a sysfs or debugfs file: 0 or -errno. */
static inline int knv_write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

static inline void knv_attr_path(char *path, size_t len, const char *name,
				 const char *attr)
{
	snprintf(path, len, KNV_CLASS_DIR "%s/%s", name, attr);
}

/* A numeric sysfs attribute of partition @name: 0 or -errno. */
static inline int knv_attr_u64(const char *name, const char *attr,
			       __u64 *val)
{
	char path[PATH_MAX], buf[64], *end;
	int ret;

	knv_attr_path(path, sizeof(path), name, attr);
	ret = knv_read_text(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static inline int knv_attr_write(const char *name, const char *attr,
				 const char *s)
{
	char path[PATH_MAX];

	knv_attr_path(path, sizeof(path), name, attr);
	return knv_write_text(path, s);
}

/* The value of a numeric attribute; fails the test if it is not one. */
static inline __u64 knv_attr(struct __test_metadata *_metadata,
			     const char *name, const char *attr)
{
	__u64 val = 0;

	ASSERT_EQ(0, knv_attr_u64(name, attr, &val)) {
		TH_LOG("cannot read %s%s/%s as a number", KNV_CLASS_DIR, name,
		       attr);
	}
	return val;
}

/* Byte @off of the test pattern number @seed. */
static inline __u8 knv_pat(unsigned int seed, size_t off)
{
	__u32 x = (__u32)off * 2654435761u ^ (seed + 1) * 0x9e3779b9u;

	x ^= x >> 15;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}

static inline void knv_pat_fill(__u8 *buf, size_t len, size_t off,
				unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = knv_pat(seed, off + i);
}

/* Offset of the first byte of @buf that is not pattern @seed, or -1. */
static inline long knv_pat_diff(const __u8 *buf, size_t len, size_t off,
				unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != knv_pat(seed, off + i))
			return (long)(off + i);
	return -1;
}

static inline void *knv_alloc(struct __test_metadata *_metadata, size_t len)
{
	void *p = malloc(len);

	ASSERT_NE(NULL, p);
	return p;
}

/* Write pattern @seed over [@off, @off + @len) with one pwrite(). */
static inline void knv_pat_write(struct __test_metadata *_metadata, int fd,
				 size_t off, size_t len, unsigned int seed)
{
	__u8 *buf = knv_alloc(_metadata, len);

	knv_pat_fill(buf, len, off, seed);
	ASSERT_EQ((ssize_t)len, pwrite(fd, buf, len, off)) {
		TH_LOG("pwrite(%zu at %zu): %s", len, off, strerror(errno));
	}
	free(buf);
}

/* Check that [@off, @off + @len) read through @fd is pattern @seed. */
static inline void knv_pat_expect(struct __test_metadata *_metadata, int fd,
				  size_t off, size_t len, unsigned int seed)
{
	__u8 *buf = knv_alloc(_metadata, len);

	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off)) {
		TH_LOG("pread(%zu at %zu): %s", len, off, strerror(errno));
	}
	ASSERT_EQ(-1, knv_pat_diff(buf, len, off, seed)) {
		TH_LOG("range [%zu, %zu) is not pattern %u", off, off + len,
		       seed);
	}
	free(buf);
}

/* Give partition @name the committed content pattern @seed, whole. */
static inline void knv_pat_set(struct __test_metadata *_metadata,
			       const char *name, size_t size,
			       unsigned int seed)
{
	int fd = knv_open(name, O_RDWR);

	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", name, strerror(errno));
	}
	knv_pat_write(_metadata, fd, 0, size, seed);
	ASSERT_EQ(0, close(fd));
}

/* The size of the partition behind @fd, by SEEK_END; -1 on error. */
static inline off_t knv_fd_size(int fd)
{
	off_t pos = lseek(fd, 0, SEEK_CUR), size;

	if (pos < 0)
		return -1;
	size = lseek(fd, 0, SEEK_END);
	if (lseek(fd, pos, SEEK_SET) != pos)
		return -1;
	return size;
}

/* knvram-sim device: bound to its driver or not. */
static inline bool knv_sim_bound(void)
{
	return access(KNV_SIM_DRV "/" KNV_SIM_DEV, F_OK) == 0;
}

static inline bool knv_sim_can_rebind(void)
{
	return access(KNV_SIM_DRV "/unbind", W_OK) == 0 &&
	       access(KNV_SIM_DRV "/bind", W_OK) == 0;
}

static inline int knv_sim_unbind(void)
{
	return knv_write_text(KNV_SIM_DRV "/unbind", KNV_SIM_DEV);
}

/*
 * Bind the sim device again and wait until /dev/knvram/@name is back.
 * The node should be there when bind returns; the bounded wait only
 * covers a core that creates partitions from a work item.
 */
static inline int knv_sim_bind(const char *name)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int ret, i;

	ret = knv_write_text(KNV_SIM_DRV "/bind", KNV_SIM_DEV);
	if (ret)
		return ret;
	for (i = 0; i < 1000 && !knv_present(name); i++)
		nanosleep(&tick, NULL);
	return knv_present(name) ? 0 : -ENOENT;
}

static inline bool knv_fault_present(void)
{
	return access(KNV_SIM_FAIL "/probability", W_OK) == 0;
}

/*
 * Make sim writes fail: the first ones that fit in @space (bytes, as the
 * sim passes each write's length to should_fail()) go through, then up to
 * @times writes fail (-1: all of them). Quiet: no stack dump per failure.
 */
static inline int knv_fault_arm(long space, int times)
{
	char buf[32];
	int ret;

	ret = knv_write_text(KNV_SIM_FAIL "/verbose", "0");
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/interval", "1");
	snprintf(buf, sizeof(buf), "%d", times);
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/times", buf);
	snprintf(buf, sizeof(buf), "%ld", space);
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/space", buf);
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/probability", "100");
	return ret;
}

/* Back to the fault_attr defaults, with verbose left off. */
static inline int knv_fault_clear(void)
{
	int ret;

	ret = knv_write_text(KNV_SIM_FAIL "/probability", "0");
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/space", "0");
	if (!ret)
		ret = knv_write_text(KNV_SIM_FAIL "/times", "1");
	return ret;
}

#endif /* KNVRAM_HELPERS_H */
