// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzer of the knvram interfaces: every ioctl number of the 0xB9 magic
 * (each nr, direction and size) and random other numbers with random
 * arguments, bad pointers among them, on readers and writers of every
 * partition; random offsets, lengths and pointers for read, write, pread,
 * pwrite and lseek on a scratch partition; random values written into the
 * configfs attributes of runtime partitions made for the test and into
 * the sysfs attributes of the partitions and of the backends' devices.
 *
 * Every call must fail with an errno or succeed (a hang is a timeout, a
 * kernel splat fails the run), and the committed data of every partition
 * must be as it was: each test snapshots every partition first and
 * compares at the end. Writes only go to the scratch partitions the test
 * makes in configfs ("fuzz*") and removes at the end.
 *
 * Not written, on purpose:
 * - driver bind/unbind, driver_override: they remove partitions or change
 *   which driver binds (the stress test's business), and cannot be put
 *   back by writing the old value;
 * - uevent: synthetic uevents, no knvram code behind them;
 * - enable of a runtime partition not made by this test, and mkdir of a
 *   name that exists on the media (that adopts, and rmdir would erase it);
 * - enable on the UBI and board backends: formatting takes seconds there;
 *   the pending attributes are fuzzed on every backend;
 * - debugfs fault injection, and ioctl types that the VFS handles itself
 *   ('X' FIFREEZE/FITHAW freeze devtmpfs, 'f' FS_IOC_SETFLAGS changes the
 *   device node, 'T', 0x94, 0x15).
 *
 * KNVRAM_SEED=N replays a run; the seed is printed.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "knvram_helpers.h"

#define CFS		"/sys/kernel/config/knvram"
#define FUZZ_MAX_PARTS	32
#define FUZZ_SCRATCH	"fuzz0"
#define FUZZ_SCRATCH_BE	"sim0"
#define FUZZ_SIZE	(64 << 10)
#define FUZZ_RANDOM_IOCTLS	1000
#define FUZZ_RW_SECONDS	6
#define FUZZ_ATTR_ROUNDS	6

struct snap {
	char name[NAME_MAX + 1];
	size_t size;
	__u8 *data;
};

struct fuzz_state {
	struct snap parts[FUZZ_MAX_PARTS];
	int nparts;
	__u64 seed, rng;
	bool scratch;		/* FUZZ_SCRATCH made by us */
	void *unmapped;		/* an address with nothing mapped */
	__u8 *guard;		/* FUZZ_SIZE + a page, then PROT_NONE */
	long calls, errors;
	long odd;		/* other numbers that did not get ENOTTY */
	double start;
};

FIXTURE(fuzz) {
	struct fuzz_state st;
};

static __u64 rnd(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool scratch_name(const char *name)
{
	return !strncmp(name, "fuzz", 4);
}

/* Read partition @name whole into @s: 0 or -errno. */
static int snap_read(const char *name, struct snap *s)
{
	off_t size;
	ssize_t n;
	int fd = knv_open(name, O_RDONLY);

	if (fd < 0)
		return -errno;
	size = knv_fd_size(fd);
	s->data = size > 0 ? malloc(size) : NULL;
	if (!s->data) {
		close(fd);
		return -ENOMEM;
	}
	s->size = size;
	n = pread(fd, s->data, size, 0);
	close(fd);
	return n == size ? 0 : -EIO;
}

static void snapshot(struct __test_metadata *_metadata,
		     struct fuzz_state *self)
{
	struct dirent *de;
	DIR *d = opendir(KNV_DEV_DIR);

	ASSERT_NE(NULL, d);
	while ((de = readdir(d)) && self->nparts < FUZZ_MAX_PARTS) {
		struct snap *s = &self->parts[self->nparts];

		if (de->d_name[0] == '.' || scratch_name(de->d_name))
			continue;
		snprintf(s->name, sizeof(s->name), "%s", de->d_name);
		ASSERT_EQ(0, snap_read(s->name, s)) {
			TH_LOG("cannot read %s", s->name);
		}
		self->nparts++;
	}
	closedir(d);
}

/* Every partition reads as in the snapshot. */
static void snapshot_check(struct __test_metadata *_metadata,
			   struct fuzz_state *self)
{
	int i;

	for (i = 0; i < self->nparts; i++) {
		struct snap *s = &self->parts[i], now = { };
		size_t k;

		ASSERT_EQ(0, snap_read(s->name, &now)) {
			TH_LOG("%s is gone or unreadable", s->name);
		}
		ASSERT_EQ(s->size, now.size);
		for (k = 0; k < s->size && s->data[k] == now.data[k]; k++)
			;
		EXPECT_EQ(s->size, k) {
			TH_LOG("seed %llu: %s changed at %zu: %#x, was %#x",
			       (unsigned long long)self->seed, s->name, k,
			       now.data[k], s->data[k]);
		}
		free(now.data);
	}
}

static int cfs_write(const char *dir, const char *attr, const char *val,
		     size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Make /dev/knvram/FUZZ_SCRATCH on FUZZ_SCRATCH_BE: 0 or -errno. */
static int scratch_make(void)
{
	const char *dir = CFS "/" FUZZ_SCRATCH_BE "/" FUZZ_SCRATCH;
	int ret;

	if (mkdir(dir, 0755))
		return -errno;
	ret = cfs_write(dir, "size", "64K", 3);
	if (!ret)
		ret = cfs_write(dir, "enable", "1", 1);
	if (ret)
		rmdir(dir);
	return ret;
}

FIXTURE_SETUP(fuzz)
{
	const char *s = getenv("KNVRAM_SEED");
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	if (access(CFS "/" FUZZ_SCRATCH_BE, F_OK))
		SKIP(return, "no %s", CFS "/" FUZZ_SCRATCH_BE);
	self->st.seed = s && *s ? strtoull(s, NULL, 0) :
		     (__u64)time(NULL) * 1000003u ^ getpid();
	self->st.rng = self->st.seed;
	self->st.start = now_s();
	TH_LOG("seed %llu (KNVRAM_SEED=%llu replays it)",
	       (unsigned long long)self->st.seed,
	       (unsigned long long)self->st.seed);

	/* A page mapped then unmapped: a user address that faults. */
	self->st.unmapped = mmap(NULL, page, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->st.unmapped);
	ASSERT_EQ(0, munmap(self->st.unmapped, page));
	self->st.guard = mmap(NULL, FUZZ_SIZE + 2 * page,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->st.guard);
	ASSERT_EQ(0, mprotect(self->st.guard + FUZZ_SIZE + page, page,
			      PROT_NONE));

	snapshot(_metadata, &self->st);
	ASSERT_LT(0, self->st.nparts);
	ret = scratch_make();
	ASSERT_EQ(0, ret) {
		TH_LOG("cannot make %s on %s: %s", FUZZ_SCRATCH,
		       FUZZ_SCRATCH_BE, strerror(-ret));
	}
	self->st.scratch = true;
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	if (self->st.scratch &&
	    rmdir(CFS "/" FUZZ_SCRATCH_BE "/" FUZZ_SCRATCH))
		TH_LOG("rmdir %s: %s", FUZZ_SCRATCH, strerror(errno));
	if (self->st.scratch)
		TH_LOG("%.1f s", now_s() - self->st.start);
	for (i = 0; i < self->st.nparts; i++)
		free(self->st.parts[i].data);
}

/* A random argument: a small number, a valid buffer or a bad pointer. */
static unsigned long rand_arg(struct fuzz_state *self, void *buf)
{
	static const unsigned long bad[] = {
		0, 1, 8, 4095, 0xffff000000000000ul, 0xffffffffffffffful,
		0xfffffffffffff000ul, 0x8000000000000000ul,
		0x0000ffffffffffe0ul,
	};
	__u64 r = rnd(&self->rng);

	switch (r % 6) {
	case 0:
		return bad[(r >> 8) % ARRAY_SIZE(bad)];
	case 1:
		return (unsigned long)self->unmapped;
	case 2:
		return (r >> 8) | (1ul << 63);	/* not a user address */
	case 3:
		return (r >> 8) % 4;
	default:
		/* Random contents, an int or more. */
		memset(buf, (int)(r >> 8), 64);
		((int *)buf)[0] = (int)(r >> 16) % 3;
		return (unsigned long)buf;
	}
}

static bool vfs_type(unsigned int cmd)
{
	switch (_IOC_TYPE(cmd)) {
	case 'X': case 'f': case 'T': case 0x94: case 0x15:
		return true;
	}
	return false;
}

/*
 * KNVRAMIOC_INFO is matched by type, number and direction, whatever
 * struct size the command encodes (the user API says so).
 */
static bool knvram_known(unsigned int cmd)
{
	return cmd == KNVRAMIOC_SYNC || cmd == KNVRAMIOC_TBEGIN ||
	       cmd == KNVRAMIOC_TCOMMIT || cmd == KNVRAMIOC_TABORT ||
	       cmd == KNVRAMIOC_SETAUTOT || cmd == KNVRAMIOC_GETAUTOT ||
	       (_IOC_TYPE(cmd) == _IOC_TYPE(KNVRAMIOC_INFO) &&
		_IOC_NR(cmd) == _IOC_NR(KNVRAMIOC_INFO) &&
		_IOC_DIR(cmd) == _IOC_DIR(KNVRAMIOC_INFO));
}

/* One ioctl: it must return 0 or -1 with an errno. */
static void one_ioctl(struct __test_metadata *_metadata,
		      struct fuzz_state *self, int fd, unsigned int cmd,
		      unsigned long arg, const char *what)
{
	long ret;

	errno = 0;
	ret = ioctl(fd, cmd, arg);
	self->calls++;
	if (ret)
		self->errors++;
	ASSERT_TRUE(ret == 0 || (ret == -1 && errno > 0)) {
		TH_LOG("%s: ioctl(%#x, %#lx) returned %ld, errno %d", what,
		       cmd, arg, ret, errno);
	}
	/* Not ours: the VFS may know it (FIGETBSZ); shown, not failed. */
	if (_IOC_TYPE(cmd) != KNVRAM_IOC_MAGIC &&
	    !(ret == -1 && errno == ENOTTY) && self->odd++ < 5)
		TH_LOG("%s: ioctl(%#x, %#lx), not ours, returned %ld (%s)",
		       what, cmd, arg, ret, ret ? strerror(errno) : "ok");
	/* Documented: unknown ioctls fail with ENOTTY. */
	if (_IOC_TYPE(cmd) == KNVRAM_IOC_MAGIC && !knvram_known(cmd)) {
		ASSERT_TRUE(ret == -1 && errno == ENOTTY) {
			TH_LOG("%s: unknown ioctl %#x returned %ld (%s)",
			       what, cmd, ret, strerror(errno));
		}
	}
	/* A bad pointer never works, nor writes into the kernel. */
	if ((cmd == KNVRAMIOC_SETAUTOT || cmd == KNVRAMIOC_GETAUTOT) &&
	    (arg < 4096 || arg >= 0x0001000000000000ul ||
	     arg == (unsigned long)self->unmapped)) {
		ASSERT_TRUE(ret == -1 && errno == EFAULT) {
			TH_LOG("%s: ioctl(%#x, %#lx) returned %ld (%s)", what,
			       cmd, arg, ret, strerror(errno));
		}
	}
}

static void fuzz_handle(struct __test_metadata *_metadata,
			struct fuzz_state *self, int fd, const char *what)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	static const unsigned int sizes[] = {
		0, 4, 8, 4096, _IOC_SIZEMASK,
	};
	unsigned int nr, d, s, cmd;
	int buf[64], i;

	for (nr = 0; nr < 256; nr++)
		for (d = 0; d < ARRAY_SIZE(dirs); d++)
			for (s = 0; s < ARRAY_SIZE(sizes); s++) {
				cmd = _IOC(dirs[d], KNVRAM_IOC_MAGIC, nr,
					   sizes[s]);
				one_ioctl(_metadata, self, fd, cmd,
					  rand_arg(self, buf), what);
			}
	for (i = 0; i < FUZZ_RANDOM_IOCTLS; i++) {
		cmd = rnd(&self->rng);
		if (vfs_type(cmd))
			continue;
		one_ioctl(_metadata, self, fd, cmd, rand_arg(self, buf),
			  what);
	}
	/* Whatever the fuzz left open is dropped. */
	ioctl(fd, KNVRAMIOC_TABORT);
}

/* Whether sysfs says the partition is read-only. */
static bool is_read_only(const char *name)
{
	char path[128], c = 0;
	FILE *f;

	snprintf(path, sizeof(path), KNV_CLASS_DIR "%s/read_only", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == '1';
}

TEST_F_TIMEOUT(fuzz, ioctls, 600)
{
	int i, r, w;

	for (i = 0; i <= self->st.nparts; i++) {
		const char *name = i < self->st.nparts ?
				   self->st.parts[i].name : FUZZ_SCRATCH;
		char what[96];

		r = knv_open(name, O_RDONLY);
		ASSERT_LE(0, r);
		snprintf(what, sizeof(what), "%s reader", name);
		fuzz_handle(_metadata, &self->st, r, what);
		w = knv_open(name, O_RDWR);
		if (w < 0 && errno == EROFS && is_read_only(name)) {
			/* A read-only partition has readers only. */
			ASSERT_EQ(0, close(r));
			continue;
		}
		ASSERT_LE(0, w) {
			TH_LOG("open %s for writing: %s", name,
			       strerror(errno));
		}
		snprintf(what, sizeof(what), "%s writer", name);
		fuzz_handle(_metadata, &self->st, w, what);
		ASSERT_EQ(0, close(w));
		ASSERT_EQ(0, close(r));
	}
	TH_LOG("%ld ioctls, %ld refused", self->st.calls, self->st.errors);
	snapshot_check(_metadata, &self->st);
}

/* NULL, kernel addresses, an unmapped page, the PROT_NONE guard page. */
static void *bad_pointer(struct fuzz_state *self, __u64 r)
{
	static const unsigned long bad[] = {
		0, 1, 0xffff000000000000ul, 0xffff800000000000ul,
		0xfffffffffffff000ul, 0x0001000000000000ul,
	};

	switch (r % 4) {
	case 0:
		return self->unmapped;
	case 1:
		return self->guard + FUZZ_SIZE + sysconf(_SC_PAGESIZE);
	default:
		return (void *)bad[(r >> 2) % ARRAY_SIZE(bad)];
	}
}

/* Random offsets, lengths and pointers on the scratch partition. */
static off_t rand_off(__u64 *rng, size_t size)
{
	static const off_t odd[] = {
		-1, LLONG_MIN, LLONG_MAX, 1ll << 62, 1ll << 32, 0x7fffffff,
		0x80000000ll,
	};
	__u64 r = rnd(rng);

	switch (r % 8) {
	case 0:
		return odd[(r >> 8) % ARRAY_SIZE(odd)];
	case 1:
		return size - (r >> 8) % 8192;
	case 2:
		return size + (r >> 8) % 8192;
	default:
		return (r >> 8) % size;
	}
}

static size_t rand_len(__u64 *rng)
{
	static const size_t odd[] = {
		0, SIZE_MAX, SSIZE_MAX, (size_t)SSIZE_MAX + 1, 0x7ffff000,
		1ul << 32, FUZZ_SIZE + 1,
	};
	__u64 r = rnd(rng);

	if (r % 6 == 0)
		return odd[(r >> 8) % ARRAY_SIZE(odd)];
	return (r >> 8) % (2 * FUZZ_SIZE);
}

TEST_F_TIMEOUT(fuzz, rw_offsets, 120)
{
	__u8 *model = calloc(1, FUZZ_SIZE), *back = malloc(FUZZ_SIZE);
	__u8 *buf = self->st.guard;
	double end = now_s() + FUZZ_RW_SECONDS;
	long ops = 0;
	int w, r;

	ASSERT_NE(NULL, model);
	ASSERT_NE(NULL, back);
	w = OPEN(FUZZ_SCRATCH, O_RDWR);
	r = OPEN(FUZZ_SCRATCH, O_RDONLY);
	/* A new runtime partition starts zeroed. */
	ASSERT_EQ(FUZZ_SIZE, pread(r, back, FUZZ_SIZE, 0));
	ASSERT_EQ(0, memcmp(model, back, FUZZ_SIZE));

	while (now_s() < end) {
		__u64 x = rnd(&self->st.rng);
		off_t off = rand_off(&self->st.rng, FUZZ_SIZE);
		size_t len = rand_len(&self->st.rng);
		bool bad = x % 5 == 0;
		void *p = bad ? bad_pointer(&self->st, x >> 20) : buf;
		int fd = (x >> 8) & 1 ? w : r;
		ssize_t n;
		off_t pos;

		errno = 0;
		ops++;
		switch ((x >> 9) % 5) {
		case 0:
			n = pread(fd, p, len, off);
			break;
		case 1:
			memset(buf, (int)(x >> 16), FUZZ_SIZE);
			n = pwrite(fd, p, len, off);
			if (n > 0) {
				ASSERT_EQ(w, fd);
				ASSERT_FALSE(bad || off < 0 ||
					     off + n > FUZZ_SIZE);
				memcpy(model + off, buf, n);
			}
			break;
		case 2:
			pos = lseek(fd, off, (x >> 12) % 7);
			ASSERT_TRUE(pos == -1 ? errno > 0 :
				    pos >= 0 && pos <= FUZZ_SIZE) {
				TH_LOG("lseek(%lld, %d): %lld",
				       (long long)off, (int)((x >> 12) % 7),
				       (long long)pos);
			}
			continue;
		case 3:
			pos = lseek(fd, 0, SEEK_CUR);
			n = read(fd, p, len);
			ASSERT_TRUE(n < 0 || pos + n <= FUZZ_SIZE);
			break;
		default:
			pos = lseek(fd, 0, SEEK_CUR);
			memset(buf, (int)(x >> 16), FUZZ_SIZE);
			n = write(fd, p, len);
			if (n > 0) {
				ASSERT_EQ(w, fd);
				ASSERT_FALSE(bad || pos + n > FUZZ_SIZE);
				memcpy(model + pos, buf, n);
			}
			break;
		}
		ASSERT_TRUE(n >= 0 || (n == -1 && errno > 0));
		ASSERT_TRUE(n < 0 || (size_t)n <= len);
		/* Nothing else changed: the data is the model's. */
		if (n > 0 || !(ops % 16)) {
			ASSERT_EQ(FUZZ_SIZE, pread(r, back, FUZZ_SIZE, 0));
			ASSERT_EQ(0, memcmp(model, back, FUZZ_SIZE)) {
				TH_LOG("seed %llu: op %ld changed the data",
				       (unsigned long long)self->st.seed, ops);
			}
		}
	}
	TH_LOG("%ld calls", ops);
	close(r);
	close(w);
	free(model);
	free(back);
	snapshot_check(_metadata, &self->st);
}

/* Values tried in every attribute. */
static const char * const fuzz_values[] = {
	"", "\n", "0", "1", "2", "-1", "-0", " 1", "1 ", "1\n\n", "01", "0x1",
	"4096", "64K", "1M", "1G", "1T", "4k", "-4096", "auto", "Auto",
	"0777", "0600", "1777", "99999", "4294967295", "4294967296",
	"9223372036854775807", "9223372036854775808",
	"18446744073709551615", "18446744073709551616",
	"18446744073709555712", "17592186044417M", "16777216T",
	"99999999999999999999999999999999", "yes", "on", "live", "\xff\xfe",
	"1\0002", "%s%s%n", "../../..",
};

/* A random value: one of fuzz_values, random bytes or a long string. */
static size_t rand_value(__u64 *rng, char *buf, size_t cap)
{
	__u64 r = rnd(rng);
	size_t len, i;

	switch (r % 4) {
	case 0:
		len = 1 + (r >> 8) % 40;
		for (i = 0; i < len; i++)
			buf[i] = rnd(rng);
		return len;
	case 1:
		len = (r >> 8) % 3 ? 200 : cap;
		memset(buf, '9', len);
		return len;
	default:
		i = (r >> 8) % ARRAY_SIZE(fuzz_values);
		len = strlen(fuzz_values[i]);
		memcpy(buf, fuzz_values[i], len);
		/* "1\0" "2": the NUL inside the write. */
		return i == ARRAY_SIZE(fuzz_values) - 3 ? 3 : len;
	}
}

static bool skipped_attr(const char *name, const char *skip)
{
	char list[256], *tok, *save;

	snprintf(list, sizeof(list), "%s", skip);
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

/*
 * Write random values into every regular file of @dir but those in @skip
 * (comma-separated), then read every file back: each call must succeed
 * or fail with an errno.
 */
static void fuzz_dir(struct __test_metadata *_metadata,
		     struct fuzz_state *self, const char *dir,
		     const char *skip, int rounds)
{
	char path[PATH_MAX], val[8192], out[8192];
	struct dirent *de;
	struct stat st;
	int k;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || skipped_attr(de->d_name, skip))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		for (k = 0; k < rounds; k++) {
			size_t len = rand_value(&self->rng, val, 4097);
			ssize_t n;
			int fd;

			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				continue;	/* read-only: EACCES */
			errno = 0;
			n = write(fd, val, len);
			ASSERT_TRUE(n >= 0 || errno > 0);
			close(fd);
			self->calls++;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			errno = 0;
			n = read(fd, out, sizeof(out));
			ASSERT_TRUE(n >= 0 || errno > 0) {
				TH_LOG("read %s", path);
			}
			close(fd);
		}
	}
	closedir(d);
}

TEST_F_TIMEOUT(fuzz, configfs, 300)
{
	static const char * const names[] = {
		"fuzz1", "fuzz-2", "fuzz.3",
		"fuzz4567890123456789012345678901", /* 32 characters */
	};
	static const char * const bad_names[] = {
		"fuzz_name_longer_than_32_characters_x", ".fuzz", "-fuzz",
		"fu zz", "fuzz\xff", "fuzz:1",
	};
	char layout[2][16384], dir[PATH_MAX / 2], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	unsigned int i;

	d = opendir(CFS);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		bool live_ok;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CFS "/%s/layout", de->d_name);
		if (knv_read_text(path, layout[0], sizeof(layout[0])))
			continue;	/* offline backend */
		/* Formatting is quick on RAM backends only. */
		live_ok = !strcmp(de->d_name, "sim0") ||
			  !strcmp(de->d_name, "nvram-test");
		/* The backend's own attributes are read-only. */
		snprintf(dir, sizeof(dir), CFS "/%s", de->d_name);
		fuzz_dir(_metadata, &self->st, dir, "", 2);

		for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 bad_names[i]);
			EXPECT_EQ(-1, mkdir(path, 0755)) {
				TH_LOG("mkdir of a bad name \"%s\" worked",
				       bad_names[i]);
				rmdir(path);
			}
		}
		for (i = 0; i < ARRAY_SIZE(names); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			ASSERT_EQ(0, mkdir(path, 0755)) {
				TH_LOG("mkdir %s: %s", path, strerror(errno));
			}
			/* Pending: every attribute but enable. */
			fuzz_dir(_metadata, &self->st, path, "enable",
				 FUZZ_ATTR_ROUNDS);
			if (live_ok && i == 0) {
				/* Live: a size that fits, then everything. */
				cfs_write(path, "offset", "auto", 4);
				cfs_write(path, "mode", "0600", 4);
				ASSERT_EQ(0, cfs_write(path, "size", "8K", 2));
				ASSERT_EQ(0, cfs_write(path, "enable", "1", 1));
				fuzz_dir(_metadata, &self->st, path, "",
					 FUZZ_ATTR_ROUNDS);
			}
			ASSERT_EQ(0, rmdir(path)) {
				TH_LOG("rmdir %s: %s", path, strerror(errno));
			}
		}
		/* The backend's layout is as it was. */
		snprintf(path, sizeof(path), "%s/layout", dir);
		ASSERT_EQ(0, knv_read_text(path, layout[1], sizeof(layout[1])));
		ASSERT_STREQ(layout[0], layout[1]);
	}
	closedir(d);
	TH_LOG("%ld attribute writes", self->st.calls);
	snapshot_check(_metadata, &self->st);
}

TEST_F_TIMEOUT(fuzz, sysfs, 300)
{
	static const char * const devices[] = {
		"knvram-sim.0", "nvram-board", "nvram-test", "nvram-ubi",
		"nvram-ubi-tiny", "nvram-ubi-missing",
	};
	char dir[PATH_MAX], autot[FUZZ_MAX_PARTS][8];
	unsigned int i;
	int p;

	for (p = 0; p < self->st.nparts; p++) {
		knv_attr_path(dir, sizeof(dir), self->st.parts[p].name,
			      "autot");
		ASSERT_EQ(0, knv_read_text(dir, autot[p], sizeof(autot[p])));
	}
	for (p = 0; p < self->st.nparts; p++) {
		snprintf(dir, sizeof(dir), KNV_CLASS_DIR "%s",
			 self->st.parts[p].name);
		fuzz_dir(_metadata, &self->st, dir, "uevent",
			 FUZZ_ATTR_ROUNDS);
	}
	snprintf(dir, sizeof(dir), KNV_CLASS_DIR FUZZ_SCRATCH);
	fuzz_dir(_metadata, &self->st, dir, "uevent", FUZZ_ATTR_ROUNDS);
	for (i = 0; i < ARRAY_SIZE(devices); i++) {
		snprintf(dir, sizeof(dir), "/sys/bus/platform/devices/%s",
			 devices[i]);
		fuzz_dir(_metadata, &self->st, dir, "uevent,driver_override",
			 FUZZ_ATTR_ROUNDS);
	}
	for (p = 0; p < self->st.nparts; p++)
		ASSERT_EQ(0, knv_attr_write(self->st.parts[p].name, "autot",
					    autot[p]));
	TH_LOG("%ld attribute writes", self->st.calls);
	snapshot_check(_metadata, &self->st);
}

/*
 * The value of "<digits>[KMGTPE]" as memparse() reads it, or false if it
 * does not fit in 64 bits (the admin guide: such a number is refused).
 */
static bool exact_value(const char *s, __u64 *val)
{
	unsigned __int128 v = 0;
	const char *p = s;
	int shift = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v >> 64)
			return false;
	}
	if (p == s)
		return false;
	if (*p) {
		const char *units = "KMGTPE", *u = strchr(units, *p);

		if (!u)
			return false;
		shift = 10 * (u - units + 1);
		p++;
	}
	if (*p)
		return false;
	v <<= shift;
	if (v >> 64)
		return false;
	*val = v;
	return true;
}

/*
 * What the fuzz of size and offset found: a number too large for 64 bits
 * must be refused, and one accepted must read back as written
 * (Documentation/admin-guide/knvram.rst: a refused request changes
 * nothing). Known to fail before issue 13's overflow fix.
 */
TEST_F_TIMEOUT(fuzz, configfs_numbers, 60)
{
	static const char * const values[] = {
		"4096", "8K", "1M", "18446744073709551615",
		"18446744073709551616", "18446744073709555712",
		"17592186044417M", "17179869184G", "16777216T", "16E",
		"99999999999999999999999",
	};
	static const char * const attrs[] = { "size", "offset" };
	const char *dir = CFS "/" FUZZ_SCRATCH_BE "/fuzznum";
	char path[PATH_MAX], back[64];
	unsigned int i, a;
	int bad = 0;

	ASSERT_EQ(0, mkdir(dir, 0755));
	for (a = 0; a < ARRAY_SIZE(attrs); a++) {
		snprintf(path, sizeof(path), "%s/%s", dir, attrs[a]);
		for (i = 0; i < ARRAY_SIZE(values); i++) {
			bool fits;
			__u64 want = 0, got;
			int ret;

			fits = exact_value(values[i], &want);
			ret = cfs_write(dir, attrs[a], values[i],
					strlen(values[i]));
			if (ret)
				continue;	/* refused: fine */
			ASSERT_EQ(0, knv_read_text(path, back, sizeof(back)));
			got = strtoull(back, NULL, 10);
			if (fits && got == want)
				continue;
			TH_LOG("%s: \"%s\" accepted, reads back %s", attrs[a],
			       values[i], back);
			bad++;
		}
	}
	ASSERT_EQ(0, rmdir(dir));
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
