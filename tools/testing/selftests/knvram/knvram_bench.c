// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram_bench: what knvram partitions cost, next to tmpfs and to plain
 * memory copies, measured in one guest and one run. `make bench` runs it
 * on the test board (board/qemu-virt/scenarios/bench); knvram_bench_smoke.sh
 * runs it tiny in `make check`, to see that it works, not how fast.
 *
 * Sections (-x, comma-separated; default all):
 *   mem     kernel memory per partition, from deltas around loading
 *           knvram-sim (-m MODULE) with and without N partitions (-S);
 *           needs -m and reloads the module (-M: its final parameters)
 *   lat     pwrite()/pread() latency on a partition (-l) and on a tmpfs
 *           file (-T) of the same size, 8 B to 64 KiB; pwrite() inside a
 *           transaction both into a block it does not hold yet and into
 *           one it holds
 *   txn     a transaction of k blocks (-k) on each partition of -t: time
 *           of its pwrite()s and of its commit, and extra kernel memory
 *           while it is open (k=0: the noise)
 *   reader  a reader's pread() latency on partition -c, idle, then while
 *           another handle builds whole-partition transactions and
 *           commits them in a loop
 *   wsync   a writer's 8-byte pwrite() latency on each partition of -w,
 *           alone, then while a second, read-only handle of the partition
 *           runs fsync() in a loop from another thread
 *   sync    fsync() after dirtying 1 block, 1% and 100% of each partition
 *           of -s; the kernel's own sync time (sysfs sync_last_ns)
 *   ubi     the same on a partition of the UBI backend (-u), with the LEBs
 *           each sync wrote (the backend's sysfs statistics), next to
 *           writing the same bytes to a raw UBI volume (-U) with atomic
 *           LEB changes; "not measured" without the partition
 *   emerg   the emergency sync of the same amounts, raised through the
 *           gpio-sim power-fail line (sysfs emergency_sync_last_ns), next
 *           to the same bytes copied by the knvram-bench-floor module
 *   dev     for each PART=RAW of -b, on a partition of the block or nvmem
 *           backend: fsync() and the emergency sync of the same amounts,
 *           next to writing the same bytes to RAW without knvram. RAW is
 *           a block device that nothing else uses (written at its start
 *           with O_DIRECT | O_DSYNC, as dd oflag=direct,dsync does), or
 *           the nvmem device's sysfs "nvmem" file (written at the
 *           partition's devicetree offset, in the pwrite()s of a page that
 *           sysfs takes, while the partition's backend is unbound; its
 *           bytes are saved before and written back after)
 *
 * With -U (a raw UBI volume's character device, e.g. /dev/ubi0_1, that
 * nothing else uses and whose data may be overwritten), lat also measures
 * pread() there, and for pwrite() what an atomic update of as many bytes
 * takes without knvram: reading each LEB touched, changing it in memory
 * and replacing it with UBI_IOCEBCH and one write() (-N calls per run).
 *
 * Kernel memory is measured two ways, both as deltas: "slab+vmalloc"
 * (objects of /proc/slabinfo when the kernel has it, else the Slab pages
 * of /proc/meminfo, plus VmallocUsed) and "pages" (every page in use:
 * MemTotal less MemFree and the free pages of the per-CPU lists of
 * /proc/zoneinfo), which also sees pages allocated directly. Each misses
 * something: slab+vmalloc the pages allocated directly, pages the objects
 * that land in slabs already there, partly free (many on a debug kernel,
 * a few with SLUB_TINY); a memory target takes the larger of the two.
 *
 * Every figure is the median, over RUNS runs (-r), of one statistic per
 * run (the median or 99th percentile of CALLS calls (-n), or one timed
 * operation), with the smallest and largest of the runs as its spread.
 * The targets of the real-time data path (issue 12) are ratios of figures
 * of this run, each printed with "met" or "NOT met" in the last part of
 * the table and as a "knvram-bench: target" line.
 * The table comes first, then one "knvram-bench:" line per figure (keys
 * and values, times in ns, sizes in bytes) and a final "knvram-bench:
 * done" line. Progress goes to stderr. Exit status 1 if a figure could not
 * be measured because of an error; a target not met is not an error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/knvram.h>
#include <linux/types.h>
#include <mtd/ubi-user.h>

#include "../kselftest.h"	/* __printf() */

#define BLOCK		4096
#define KIB		1024ULL
#define MIB		(1024 * KIB)
#define MAX_RUNS	101
#define MAX_LIST	16
#define DEV_DIR		"/dev/knvram/"
#define CLASS_DIR	"/sys/class/knvram/"
#define PLATFORM_DIR	"/sys/bus/platform/devices/"
#define UBI_CLASS_DIR	"/sys/class/ubi/"
#define FLOOR_DIR	"/sys/kernel/debug/knvram_bench_floor/"
#define PF_GLOB		"/sys/devices/platform/gpio-sim/gpiochip*/sim_gpio0/pull"
#define SIM_NAME	"knvram_sim"
#define MAX_SAMPLES	(1024 * 1024)

static struct {
	unsigned int runs;
	unsigned int calls;
	unsigned int reader_ms;
	unsigned int raw_calls;
	const char *sections;
	const char *lat_part;
	const char *txn_parts;
	const char *ks;
	const char *reader_part;
	const char *sync_parts;
	const char *wsync_parts;
	const char *ubi_part;
	const char *ubi_raw;
	const char *tmpdir;
	const char *sim_module;
	const char *sim_params;
	const char *mem_sizes;
	const char *dev_parts;
} opt = {
	.runs = 5,
	.calls = 200,
	.reader_ms = 1000,
	.raw_calls = 20,
	.sections = "mem,lat,txn,reader,sync,wsync,ubi,dev,emerg",
	.lat_part = "b16m",
	.txn_parts = "b64k,b1m,b16m",
	.ks = "0,1,16,256,1024",
	.reader_part = "b1m",
	.sync_parts = "b16m",
	.wsync_parts = "b16m,boardlog,ubilog",
	.ubi_part = "ubilog",
	.tmpdir = "/tmp",
	.mem_sizes = "64K:64,1M:8,16M:2",
};

/*
 * The table for people, one part per section, and the lines for programs,
 * printed at the end. @tbl is the part of the section running.
 */
#define NSECTIONS	9
static struct {
	FILE *f;
	char *buf;
	size_t len;
} tables[NSECTIONS];
static FILE *tbl, *mr;
static char *mr_buf;
static size_t mr_len;
static unsigned int nfigures, nerrors;

/* One figure: median of the runs' values, with their smallest and largest. */
struct fig {
	double med;
	double lo;
	double hi;
};

/* A latency figure: per-run median and 99th percentile, and the maximum. */
struct lat {
	struct fig med;
	struct fig p99;
	double max;
};

/* Kernel memory in use, bytes: see the comment at the top. */
struct kmem {
	double slab;	/* slab objects (or pages) + VmallocUsed */
	double pages;	/* every page in use */
};

/*
 * The targets of issue 12 met or not: a figure of this run (a ratio, or
 * bytes) against its limit, printed in the table's last part.
 */
#define MAX_TARGETS	128
static struct target {
	char id[64];
	char what[96];
	double value;
	double limit;
	bool bytes;	/* value and limit in bytes, not a ratio */
	unsigned int section;	/* the part of the table it comes from */
	unsigned int seq;	/* order of measure */
} targets[MAX_TARGETS];
static unsigned int ntargets, cur_section;

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# knvram_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* A figure that could not be measured because something failed. */
static void fail_figure(const char *what)
{
	nerrors++;
	fprintf(stderr, "# knvram_bench: error: %s: %s\n", what,
		strerror(errno));
	fprintf(mr, "knvram-bench: error what=\"%s\" errno=%d\n", what, errno);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile @p (0 < @p <= 100) of @v, which gets sorted. */
static double percentile(double *v, size_t n, double p)
{
	size_t rank;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p / 100.0 * n);
	return v[rank ? rank - 1 : 0];
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct fig fig_of(double *v, size_t n)
{
	struct fig f;

	f.med = median(v, n);
	f.lo = v[0];
	f.hi = v[n - 1];
	return f;
}

/* A number with the digits that mean something. */
static const char *num(double v, char *buf, size_t len)
{
	if (v < 10)
		snprintf(buf, len, "%.2f", v);
	else if (v < 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* Microseconds. */
static const char *us(double ns, char *buf, size_t len)
{
	return num(ns / 1000, buf, len);
}

/* "median [lo-hi]" of a figure in ns, in units of @unit ns. */
static const char *fig_in(const struct fig *f, double unit, char *buf,
			  size_t len)
{
	char a[30], b[30], c[30];

	snprintf(buf, len, "%s [%s-%s]", num(f->med / unit, a, sizeof(a)),
		 num(f->lo / unit, b, sizeof(b)),
		 num(f->hi / unit, c, sizeof(c)));
	return buf;
}

/* "median [lo-hi]" in microseconds. */
static const char *fig_us(const struct fig *f, char *buf, size_t len)
{
	return fig_in(f, 1000, buf, len);
}

static void mr_fig(const char *name, const struct fig *f)
{
	fprintf(mr, " %s=%.0f %s_lo=%.0f %s_hi=%.0f", name, f->med, name,
		f->lo, name, f->hi);
}

/*
 * A target of issue 12: @value must be at most @limit (a ratio, or bytes
 * if @bytes); @id names it in its line, @fmt says what @value is, for the
 * table.
 */
static __printf(5, 6)
void add_target(const char *id, double value, double limit, bool bytes,
		const char *fmt, ...)
{
	struct target *t;
	va_list ap;

	if (ntargets == MAX_TARGETS) {
		progress("error: more than %d targets: %s left out",
			 MAX_TARGETS, id);
		nerrors++;
		return;
	}
	t = &targets[ntargets++];
	snprintf(t->id, sizeof(t->id), "%s", id);
	va_start(ap, fmt);
	vsnprintf(t->what, sizeof(t->what), fmt, ap);
	va_end(ap);
	t->value = value;
	t->limit = limit;
	t->bytes = bytes;
	t->section = cur_section;
	t->seq = ntargets;
}

static const char *size_str(__u64 bytes, char *buf, size_t len)
{
	if (bytes >= MIB && !(bytes % MIB))
		snprintf(buf, len, "%lluM", bytes / MIB);
	else if (bytes >= KIB && !(bytes % KIB))
		snprintf(buf, len, "%lluK", bytes / KIB);
	else
		snprintf(buf, len, "%llu", bytes);
	return buf;
}

static bool parse_size(const char *s, __u64 *out)
{
	char *end;
	__u64 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == 'K' || *end == 'k') {
		v *= KIB;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= MIB;
		end++;
	}
	*out = v;
	return !*end;
}

/* Split @list at commas into at most MAX_LIST strings in @out. */
static unsigned int split(const char *list, char out[][64])
{
	unsigned int n = 0;
	const char *p = list;

	while (*p && n < MAX_LIST) {
		size_t len = strcspn(p, ",");

		snprintf(out[n++], 64, "%.*s", (int)len, p);
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

static bool section(const char *name)
{
	char list[MAX_LIST][64];
	unsigned int i, n = split(opt.sections, list);

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, len);
	if (close(fd) || n != (ssize_t)len) {
		if (n >= 0 && n != (ssize_t)len)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int read_u64(const char *path, __u64 *val)
{
	char buf[64], *end;

	if (read_text(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || *end) {
		errno = errno ?: EINVAL;
		return -1;
	}
	return 0;
}

/* Numeric sysfs attribute @a of directory @dir, or (__u64)-1 after fail_figure(). */
static __u64 attr_in(const char *dir, const char *a)
{
	char path[512];
	__u64 v;

	snprintf(path, sizeof(path), "%s/%s", dir, a);
	if (read_u64(path, &v)) {
		fail_figure(path);
		return (__u64)-1;
	}
	return v;
}

/* A numeric attribute of partition @name, or (__u64)-1 after fail_figure(). */
static __u64 attr(const char *name, const char *a)
{
	char dir[256];

	snprintf(dir, sizeof(dir), CLASS_DIR "%.63s", name);
	return attr_in(dir, a);
}

static int open_part(const char *name, int flags)
{
	char path[256];
	int fd, off = 0;

	snprintf(path, sizeof(path), DEV_DIR "%.63s", name);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		fail_figure(path);
		return -1;
	}
	/* Plain writes are transactions of one, whatever the default. */
	if ((flags & O_ACCMODE) != O_RDONLY &&
	    ioctl(fd, KNVRAMIOC_SETAUTOT, &off)) {
		fail_figure("KNVRAMIOC_SETAUTOT");
		close(fd);
		return -1;
	}
	return fd;
}

static bool part_present(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), DEV_DIR "%.63s", name);
	return access(path, F_OK) == 0;
}

/* Write @len bytes of @byte at @off, in pwrite()s of at most 64 KiB. */
static int fill(int fd, __u64 off, __u64 len, int byte)
{
	static char buf[64 * 1024];

	memset(buf, byte, sizeof(buf));
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			errno = errno ?: EIO;
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * The whole of an open /proc file, from its start, NUL-terminated: a
 * seq_file read returns one buffer (a page or so) at a time.
 */
static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len - 1) {
		n = pread(fd, buf + done, len - 1 - done, done);
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	buf[done] = '\0';
	return done;
}

/* The value of @key ("Key:") in /proc/meminfo text @text, in bytes. */
static int meminfo_bytes(const char *text, const char *key, double *bytes)
{
	const char *line = strstr(text, key);
	unsigned long long kb;

	if (!line || sscanf(line + strlen(key), " %llu kB", &kb) != 1) {
		errno = EINVAL;
		return -1;
	}
	*bytes = kb * 1024.0;
	return 0;
}

/* Pages on the per-CPU free lists: the "count:" lines of /proc/zoneinfo. */
static double pcp_pages(const char *text)
{
	const char *p = text;
	double pages = 0;
	unsigned long long n;

	while ((p = strstr(p, "count:"))) {
		p += strlen("count:");
		if (sscanf(p, " %llu", &n) == 1)
			pages += n;
	}
	return pages;
}

/*
 * Kernel memory in use, in bytes, two ways (see the top of the file).
 * slab: the objects allocated from slab caches (/proc/slabinfo: active
 * objects x object size, which includes debug padding such as KASAN's
 * redzones) when the kernel has /proc/slabinfo, else the pages of slab
 * caches (/proc/meminfo Slab, a production kernel with SLUB_TINY); plus
 * VmallocUsed. pages: MemTotal less MemFree less the pages on the per-CPU
 * free lists (/proc/zoneinfo), which the buddy allocator does not count as
 * free: every page in use, those allocated directly included.
 *
 * Every slab cache is shrunk first (/sys/kernel/slab/<cache>/shrink, when
 * there): with KASAN, that also releases the freed objects it keeps in
 * quarantine, which would count as active. The shrink files and the /proc
 * files stay open from the first call on, so that measuring does not
 * itself allocate and free (open files, seq_file buffers) between two
 * readings. What is left is noise of other activity, shown by the "k=0"
 * row of section 2.
 */
static int kernel_mem(struct kmem *m)
{
	static int *shrink, nshrink = -1, slabinfo = -1, meminfo = -1;
	static int zoneinfo = -1;
	static char text[256 * 1024];
	unsigned long long active, objsize;
	double total, free, slab, vmalloc;
	char name[128], *line, *next;
	ssize_t n;
	int i;

	if (nshrink < 0) {
		glob_t g;

		nshrink = 0;
		if (!glob("/sys/kernel/slab/*/shrink", 0, NULL, &g)) {
			shrink = calloc(g.gl_pathc, sizeof(*shrink));
			for (i = 0; shrink && i < (int)g.gl_pathc; i++) {
				shrink[nshrink] = open(g.gl_pathv[i],
						       O_WRONLY | O_CLOEXEC);
				if (shrink[nshrink] >= 0)
					nshrink++;
			}
			globfree(&g);
		}
		slabinfo = open("/proc/slabinfo", O_RDONLY | O_CLOEXEC);
		meminfo = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
		zoneinfo = open("/proc/zoneinfo", O_RDONLY | O_CLOEXEC);
	}
	if (meminfo < 0 || zoneinfo < 0)
		return -1;
	for (i = 0; i < nshrink; i++)
		if (pwrite(shrink[i], "1", 1, 0) != 1)
			return -1;

	m->slab = 0;
	if (slabinfo >= 0) {
		n = read_all(slabinfo, text, sizeof(text));
		if (n <= 0)
			return -1;
		for (line = text; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (sscanf(line, "%127s %llu %*u %llu", name, &active,
				   &objsize) == 3 && name[0] != '#')
				m->slab += (double)active * objsize;
		}
	}
	n = read_all(meminfo, text, sizeof(text));
	if (n <= 0 || meminfo_bytes(text, "MemTotal:", &total) ||
	    meminfo_bytes(text, "MemFree:", &free) ||
	    meminfo_bytes(text, "Slab:", &slab) ||
	    meminfo_bytes(text, "VmallocUsed:", &vmalloc))
		return -1;
	if (slabinfo < 0)
		m->slab = slab;
	m->slab += vmalloc;
	n = read_all(zoneinfo, text, sizeof(text));
	if (n <= 0)
		return -1;
	m->pages = total - free - pcp_pages(text) * sysconf(_SC_PAGESIZE);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The raw UBI volume (-U): what an application does without knvram */

static struct {
	int fd;		/* -1 until raw_open() */
	bool failed;	/* raw_open() failed: do not retry */
	int leb_size;	/* usable bytes of a LEB */
	int lebs;	/* LEBs of the volume */
	char *leb;	/* one LEB, for read-modify-write */
} raw = { .fd = -1 };

/* Open -U once, its geometry from sysfs. 0, or -1 after fail_figure(). */
static int raw_open(void)
{
	const char *base = strrchr(opt.ubi_raw, '/');
	char dir[256];
	__u64 leb_size, lebs;

	if (raw.fd >= 0)
		return 0;
	if (raw.failed)
		return -1;
	raw.failed = true;
	snprintf(dir, sizeof(dir), UBI_CLASS_DIR "%.63s",
		 base ? base + 1 : opt.ubi_raw);
	leb_size = attr_in(dir, "usable_eb_size");
	lebs = attr_in(dir, "reserved_ebs");
	if (leb_size == (__u64)-1 || lebs == (__u64)-1)
		return -1;
	raw.leb_size = leb_size;
	raw.lebs = lebs;
	raw.leb = malloc(leb_size);
	if (!raw.leb) {
		fail_figure("malloc");
		return -1;
	}
	raw.fd = open(opt.ubi_raw, O_RDWR | O_CLOEXEC);
	if (raw.fd < 0) {
		fail_figure(opt.ubi_raw);
		free(raw.leb);
		return -1;
	}
	raw.failed = false;
	return 0;
}

static void raw_close(void)
{
	if (raw.fd < 0)
		return;
	close(raw.fd);
	free(raw.leb);
	raw.fd = -1;
}

static __u64 raw_bytes(void)
{
	return (__u64)raw.lebs * raw.leb_size;
}

/*
 * Write @len bytes of @buf at @off of the raw volume as an atomic update
 * must be written there without knvram: for each LEB touched, read it
 * unless all of it changes, change it in memory, and replace it with
 * UBI_IOCEBCH and one write() of the whole LEB, which UBI makes atomic
 * (a new PEB is written, then the LEB mapped to it). An update of several
 * LEBs is atomic per LEB only. The LEBs changed, or -1 (errno set).
 */
static int raw_update(__u64 off, const char *buf, __u64 len)
{
	size_t leb = raw.leb_size;
	int lebs = 0;

	if (off > raw_bytes() || len > raw_bytes() - off) {
		errno = EFBIG;
		return -1;
	}
	while (len) {
		struct ubi_leb_change_req req = {
			.lnum = off / leb,
			.bytes = leb,
			.dtype = 3,	/* "unknown", as ubi-user.h asks */
		};
		size_t offs = off % leb;
		size_t n = len < leb - offs ? len : leb - offs;

		if (n < leb &&
		    pread(raw.fd, raw.leb, leb, (off_t)req.lnum * leb) != (ssize_t)leb)
			goto io_error;
		memcpy(raw.leb + offs, buf, n);
		if (ioctl(raw.fd, UBI_IOCEBCH, &req))
			return -1;
		if (write(raw.fd, raw.leb, leb) != (ssize_t)leb)
			goto io_error;
		off += n;
		buf += n;
		len -= n;
		lebs++;
	}
	return lebs;
io_error:
	errno = errno ?: EIO;
	return -1;
}

/*
 * Map every LEB of the first @bytes of the raw volume, with zeros: UBI
 * reads an unmapped LEB as 0xff without reading the flash, and a LEB
 * change writes only up to the last byte that is not 0xff. 0, or -1 after
 * fail_figure().
 */
static int raw_prepare(__u64 bytes)
{
	__u64 lnum, n = (bytes + raw.leb_size - 1) / raw.leb_size;
	char *zero;
	int ret = 0;

	if (bytes > raw_bytes()) {
		errno = EFBIG;
		fail_figure("raw UBI volume smaller than the benchmark needs");
		return -1;
	}
	zero = calloc(1, raw.leb_size);
	if (!zero) {
		fail_figure("malloc");
		return -1;
	}
	for (lnum = 0; lnum < n && !ret; lnum++) {
		__s32 l = lnum;

		ret = ioctl(raw.fd, UBI_IOCEBISMAP, &l);
		if (ret == 0)
			ret = raw_update(lnum * raw.leb_size, zero,
					 raw.leb_size) < 0 ? -1 : 0;
		else if (ret == 1)
			ret = 0;
	}
	if (ret)
		fail_figure("mapping the raw UBI volume's LEBs");
	free(zero);
	return ret ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* Latency of repeated calls */

/* Writes in a transaction: none, into blocks it lacks, into blocks it holds */
enum txn_mode { TXN_NONE, TXN_NEW, TXN_HELD };

struct io {
	int fd;
	char *buf;
	size_t len;
	__u64 stride;	/* distance between the offsets used */
	__u64 slots;	/* how many offsets */
	bool write;
	bool raw_ubi;	/* writes: raw_update() (fd: raw.fd) */
	/*
	 * Each run (and the warm-up) in a transaction of its own, aborted at
	 * its end. TXN_NEW: call i of a run writes slot i, which the
	 * transaction does not hold yet (calls <= slots); TXN_HELD: every
	 * slot is written once before the run's timed calls.
	 */
	enum txn_mode txn;
	unsigned int calls;	/* per run; 0: opt.calls */
	__u64 ncalls;	/* calls made, warm-up included */
	__u64 lebs;	/* LEBs changed by those calls */
};

static int io_call(struct io *io, unsigned int i)
{
	off_t off = (off_t)((i % io->slots) * io->stride);
	ssize_t n;
	int lebs;

	io->ncalls++;
	if (io->write && io->raw_ubi) {
		lebs = raw_update(off, io->buf, io->len);
		if (lebs < 0)
			return -1;
		io->lebs += lebs;
		return 0;
	}
	if (io->write)
		n = pwrite(io->fd, io->buf, io->len, off);
	else
		n = pread(io->fd, io->buf, io->len, off);
	if (n != (ssize_t)io->len) {
		errno = n < 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

/* The start of a run of @io: its transaction, holding every slot if asked. */
static int run_begin(struct io *io)
{
	unsigned int i;
	int err;

	if (io->txn == TXN_NONE)
		return 0;
	if (ioctl(io->fd, KNVRAMIOC_TBEGIN))
		return -1;
	for (i = 0; io->txn == TXN_HELD && i < io->slots; i++) {
		if (io_call(io, i)) {
			err = errno;
			ioctl(io->fd, KNVRAMIOC_TABORT);
			errno = err;
			return -1;
		}
	}
	return 0;
}

static int run_end(struct io *io)
{
	return io->txn == TXN_NONE ? 0 : ioctl(io->fd, KNVRAMIOC_TABORT);
}

/*
 * @runs runs of @calls calls, after a short warm-up: per run, the median
 * and the 99th percentile. 0 or -1 (errno set).
 */
static int measure(struct io *io, struct lat *out)
{
	unsigned int calls = io->calls ?: opt.calls;
	double *s = calloc(calls, sizeof(*s));
	double meds[MAX_RUNS], p99s[MAX_RUNS];
	unsigned int r, i, seq = 0;
	int ret = -1;

	if (!s)
		return -1;
	out->max = 0;
	if (run_begin(io))
		goto out;
	for (i = 0; i < (calls < 8 ? calls : 8); i++) {
		if (io_call(io, io->txn == TXN_NEW ? i : seq++)) {
			run_end(io);
			goto out;
		}
	}
	if (run_end(io))
		goto out;
	for (r = 0; r < opt.runs; r++) {
		if (run_begin(io))
			goto out;
		for (i = 0; i < calls; i++) {
			__u64 t0 = now_ns();

			if (io_call(io, io->txn == TXN_NEW ? i : seq++)) {
				run_end(io);
				goto out;
			}
			s[i] = now_ns() - t0;
			if (s[i] > out->max)
				out->max = s[i];
		}
		if (run_end(io))
			goto out;
		p99s[r] = percentile(s, calls, 99);
		meds[r] = median(s, calls);
	}
	out->med = fig_of(meds, opt.runs);
	out->p99 = fig_of(p99s, opt.runs);
	ret = 0;
out:
	free(s);
	return ret;
}

static void mr_lat(const char *what, unsigned int calls, const struct lat *l)
{
	fprintf(mr, "%s runs=%u calls=%u", what, opt.runs, calls ?: opt.calls);
	mr_fig("med_ns", &l->med);
	mr_fig("p99_ns", &l->p99);
	fprintf(mr, " max_ns=%.0f\n", l->max);
	nfigures++;
}

static const char *lat_cell(const struct lat *l, char *buf, size_t len)
{
	char a[64], b[32];

	snprintf(buf, len, "%s %s", fig_us(&l->med, a, sizeof(a)),
		 us(l->p99.med, b, sizeof(b)));
	return buf;
}

/* The calls of section lat: a write outside, two inside a transaction, a read */
#define NOPS	4
static const char * const lat_ops[NOPS] = {
	"pwrite", "pwrite-txn-new", "pwrite-txn-held", "pread"
};

/* Section lat, part 1b: the raw UBI volume's figures next to knvram's. */
static void lat_raw_table(const size_t *sizes, unsigned int nsizes,
			  struct lat (*k)[NOPS], struct lat (*u)[NOPS],
			  bool (*have)[NOPS], const double *lebs_per_call)
{
	char c1[96], c2[32], c3[32], c4[32];
	unsigned int i, o;

	fprintf(tbl, "\n1b. The same calls on the raw UBI volume %s (%d LEBs of\n",
		opt.ubi_raw, raw.lebs);
	fprintf(tbl, "   %d B), us, median of %u runs [spread], p99. pread: %u calls\n",
		raw.leb_size, opt.runs, opt.calls);
	fprintf(tbl, "   per run. pwrite: %u calls per run, each an atomic update\n",
		opt.raw_calls < opt.calls ? opt.raw_calls : opt.calls);
	fprintf(tbl, "   done without knvram: pread() of each LEB touched (unless\n");
	fprintf(tbl, "   all of it changes), the change, then UBI_IOCEBCH and one\n");
	fprintf(tbl, "   write() of the whole LEB (UBI writes a new PEB and maps the\n");
	fprintf(tbl, "   LEB to it); LEBs/call counts those changes. No\n");
	fprintf(tbl, "   transactions there. Ratio: knvram median / raw UBI median,\n");
	fprintf(tbl, "   then the same for p99 (below 1: knvram is faster).\n");
	fprintf(tbl, "   %-10s %6s  %-28s %9s %7s %7s\n", "call", "bytes",
		"raw UBI volume", "LEBs/call", "ratio", "p99");
	for (i = 0; i < nsizes; i++) {
		for (o = 0; o < NOPS; o++) {
			if (!have[i][o])
				continue;
			snprintf(c2, sizeof(c2), "%.2f", lebs_per_call[i]);
			snprintf(c3, sizeof(c3), "%.2gx",
				 k[i][o].med.med / u[i][o].med.med);
			snprintf(c4, sizeof(c4), "%.2gx",
				 k[i][o].p99.med / u[i][o].p99.med);
			fprintf(tbl, "   %-10s %6zu  %-28s %9s %7s %7s\n",
				lat_ops[o], sizes[i],
				lat_cell(&u[i][o], c1, sizeof(c1)),
				o ? "-" : c2, c3, c4);
		}
	}
}

/* The targets of section lat for one size: knvram next to tmpfs. */
static void lat_targets(size_t len, const struct lat *k, const struct lat *t)
{
	char id[64];

	if (len > BLOCK)
		return;
	snprintf(id, sizeof(id), "pwrite-%zu-med", len);
	add_target(id, k[0].med.med / t->med.med, 1.0, false,
		   "pwrite() %zu B, median / tmpfs", len);
	snprintf(id, sizeof(id), "pwrite-%zu-p99", len);
	add_target(id, k[0].p99.med / t->p99.med, 1.5, false,
		   "pwrite() %zu B, p99 / tmpfs p99", len);
	snprintf(id, sizeof(id), "pwrite-txn-new-%zu-med", len);
	add_target(id, k[1].med.med / t->med.med, 0.5, false,
		   "pwrite() %zu B in a txn, new block / tmpfs", len);
	snprintf(id, sizeof(id), "pwrite-txn-held-%zu-med", len);
	add_target(id, k[2].med.med / t->med.med, 0.5, false,
		   "pwrite() %zu B in a txn, held block / tmpfs", len);
}

/*
 * Section lat: pwrite/pread of 8 B .. 64 KiB, knvram next to tmpfs and,
 * with -U, to the raw UBI volume.
 */
static void bench_lat(void)
{
	static const size_t sizes[] = { 8, 64, 4096, 65536 };
	struct lat kres[ARRAY_SIZE(sizes)][NOPS], ures[ARRAY_SIZE(sizes)][NOPS];
	bool have_raw[ARRAY_SIZE(sizes)][NOPS] = { };
	double lebs_per_call[ARRAY_SIZE(sizes)] = { };
	const char *name = opt.lat_part;
	char path[256], c1[96], c2[96], c3[96], what[200];
	int wfd, rfd, tfd = -1;
	bool raw_ok = false;
	__u64 psize;
	unsigned int i;
	char *buf;

	if (!part_present(name)) {
		fprintf(tbl, "\n1. Latency: no partition %s\n", name);
		errno = ENOENT;
		fail_figure(name);
		return;
	}
	psize = attr(name, "size");
	wfd = open_part(name, O_RDWR);
	rfd = open_part(name, O_RDONLY);
	snprintf(path, sizeof(path), "%s/knvram-bench.%d", opt.tmpdir,
		 getpid());
	tfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	buf = malloc(65536);
	if (wfd < 0 || rfd < 0 || tfd < 0 || !buf || psize == (__u64)-1) {
		if (tfd < 0)
			fail_figure(path);
		goto out;
	}
	memset(buf, 0x5a, 65536);
	/* The tmpfs file as large as the partition, its pages allocated. */
	if (fill(tfd, 0, psize, 0)) {
		fail_figure("tmpfs fill");
		goto out;
	}
	if (opt.ubi_raw)
		raw_ok = !raw_open();

	fprintf(tbl, "\n1. Latency of one call, us: median of %u runs [spread], p99\n",
		opt.runs);
	fprintf(tbl, "   %u calls per run. knvram: /dev/knvram/%s (%s); tmpfs: a\n",
		opt.calls, name, size_str(psize, c1, sizeof(c1)));
	fprintf(tbl, "   file of the same size in %s. pwrite: outside a transaction\n",
		opt.tmpdir);
	fprintf(tbl, "   (a transaction of one, committed); pwrite-txn-new: inside\n");
	fprintf(tbl, "   an open one, each call into a block it does not hold yet;\n");
	fprintf(tbl, "   pwrite-txn-held: inside one, into blocks it holds; pread:\n");
	fprintf(tbl, "   on a read-only handle. Ratio: knvram median / tmpfs median\n");
	fprintf(tbl, "   (for the writes in a transaction: / tmpfs pwrite), then the\n");
	fprintf(tbl, "   same for p99.\n");
	fprintf(tbl, "   %-15s %6s  %-28s %-28s %6s %6s\n", "call", "bytes",
		"knvram", "tmpfs", "ratio", "p99");

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		__u64 stride = len < BLOCK ? BLOCK : len;
		struct io io = {
			.buf = buf, .len = len, .stride = stride,
			.slots = psize / stride < 64 ? psize / stride : 64,
		};
		struct io rio = {
			.buf = buf, .len = len, .stride = stride,
			.slots = io.slots, .raw_ubi = true,
		};
		bool got[NOPS] = { };
		struct lat tw = { };
		unsigned int o;

		if (raw_ok) {
			/* As many offsets as the volume holds, all mapped. */
			if (raw_bytes() / stride < rio.slots)
				rio.slots = raw_bytes() / stride;
			raw_ok = rio.slots && !raw_prepare(rio.slots * stride);
			rio.fd = raw.fd;
		}
		for (o = 0; o < NOPS; o++) {
			const char *op = lat_ops[o];
			struct lat *k = &kres[i][o], t = { };
			struct lat *u = &ures[i][o];
			struct io kio = io;

			kio.write = o < 3;
			kio.fd = kio.write ? wfd : rfd;
			kio.txn = o == 1 ? TXN_NEW : o == 2 ? TXN_HELD : TXN_NONE;
			if (kio.txn == TXN_NEW) {
				/* A block of its own for every call of a run. */
				kio.slots = psize / stride;
				if (kio.slots < opt.calls)
					kio.calls = kio.slots;
			}
			progress("lat %s %zu", op, len);
			if (measure(&kio, k)) {
				snprintf(what, sizeof(what), "%s %zu on %s", op,
					 len, name);
				fail_figure(what);
				continue;
			}
			got[o] = true;
			snprintf(what, sizeof(what),
				 "knvram-bench: lat op=%s bytes=%zu target=knvram part=%s",
				 op, len, name);
			mr_lat(what, kio.calls, k);
			if (kio.txn != TXN_NONE) {
				if (!tw.med.med)
					continue;
				fprintf(mr, "knvram-bench: ratio op=%s bytes=%zu",
					op, len);
				fprintf(mr, " of=knvram to=tmpfs-pwrite med=%.2f p99=%.2f\n",
					k->med.med / tw.med.med,
					k->p99.med / tw.p99.med);
				snprintf(c3, sizeof(c3), "%.1fx",
					 k->med.med / tw.med.med);
				snprintf(what, sizeof(what), "%.1fx",
					 k->p99.med / tw.p99.med);
				fprintf(tbl, "   %-15s %6zu  %-28s %-28s %6s %6s\n",
					op, len, lat_cell(k, c1, sizeof(c1)),
					"(pwrite)", c3, what);
				if (o == 2 && got[0] && got[1])
					lat_targets(len, kres[i], &tw);
				continue;
			}
			kio.fd = tfd;
			if (measure(&kio, &t)) {
				snprintf(what, sizeof(what), "%s %zu on tmpfs",
					 op, len);
				fail_figure(what);
				continue;
			}
			if (kio.write)
				tw = t;
			snprintf(what, sizeof(what),
				 "knvram-bench: lat op=%s bytes=%zu target=tmpfs",
				 op, len);
			mr_lat(what, 0, &t);
			fprintf(mr, "knvram-bench: ratio op=%s bytes=%zu",
				op, len);
			fprintf(mr, " of=knvram to=tmpfs med=%.2f p99=%.2f\n",
				k->med.med / t.med.med, k->p99.med / t.p99.med);
			snprintf(c3, sizeof(c3), "%.1fx", k->med.med / t.med.med);
			snprintf(what, sizeof(what), "%.1fx",
				 k->p99.med / t.p99.med);
			fprintf(tbl, "   %-15s %6zu  %-28s %-28s %6s %6s\n",
				op, len, lat_cell(k, c1, sizeof(c1)),
				lat_cell(&t, c2, sizeof(c2)), c3, what);
			if (!raw_ok || kio.txn != TXN_NONE)
				continue;

			progress("lat %s %zu on the raw UBI volume", op, len);
			rio.write = kio.write;
			rio.calls = rio.write && opt.raw_calls < opt.calls ?
				    opt.raw_calls : 0;
			rio.ncalls = 0;
			rio.lebs = 0;
			if (measure(&rio, u)) {
				snprintf(what, sizeof(what), "%s %zu on %s", op,
					 len, opt.ubi_raw);
				fail_figure(what);
				continue;
			}
			have_raw[i][o] = true;
			snprintf(what, sizeof(what),
				 "knvram-bench: lat op=%s bytes=%zu target=ubi-raw dev=%s",
				 op, len, opt.ubi_raw);
			if (rio.write) {
				lebs_per_call[i] = (double)rio.lebs / rio.ncalls;
				snprintf(what + strlen(what),
					 sizeof(what) - strlen(what),
					 " lebs_per_call=%.2f", lebs_per_call[i]);
			}
			mr_lat(what, rio.calls, u);
			fprintf(mr, "knvram-bench: ratio op=%s bytes=%zu", op, len);
			/* Far below 1: more digits. */
			fprintf(mr, " of=knvram to=ubi-raw med=%.4f p99=%.4f\n",
				k->med.med / u->med.med, k->p99.med / u->p99.med);
		}
	}
	if (raw_ok) {
		lat_raw_table(sizes, ARRAY_SIZE(sizes), kres, ures, have_raw,
			      lebs_per_call);
	} else if (!opt.ubi_raw) {
		fprintf(tbl, "\n1b. The raw UBI volume: not measured (no -U: no UBI volume).\n");
		fprintf(mr, "knvram-bench: lat target=ubi-raw");
		fprintf(mr, " status=not-measured reason=no-volume\n");
	}
out:
	free(buf);
	if (tfd >= 0) {
		close(tfd);
		unlink(path);
	}
	if (rfd >= 0)
		close(rfd);
	if (wfd >= 0)
		close(wfd);
}

/* ---------------------------------------------------------------- */
/* Transactions of k blocks */

/* tbegin, then a 4 KiB pwrite() into blocks 0, @stride, 2 * @stride... */
static int txn_fill(int fd, __u64 stride, unsigned int k, char *buf)
{
	unsigned int j;

	if (ioctl(fd, KNVRAMIOC_TBEGIN))
		return -1;
	for (j = 0; j < k; j++) {
		off_t off = (off_t)(j * stride) * BLOCK;

		if (pwrite(fd, buf, BLOCK, off) != BLOCK) {
			errno = errno ?: EIO;
			ioctl(fd, KNVRAMIOC_TABORT);
			return -1;
		}
	}
	return 0;
}

#define TXN_ROW	"   %-9s %5s %5s  %-6s  %-22s %-22s %7s  %-22s %s\n"

/* "median [lo-hi] (N B/block)" of a memory figure in bytes, in KiB. */
static const char *mem_cell(const struct fig *f, unsigned int k, char *buf,
			    size_t len)
{
	size_t n = snprintf(buf, len, "%.0f [%.0f-%.0f]", f->med / KIB,
			    f->lo / KIB, f->hi / KIB);

	if (k && n < len)
		snprintf(buf + n, len - n, " (%.0f B/block)", f->med / k);
	return buf;
}

/*
 * A transaction of @k blocks on partition @name: packed (blocks 0 to k - 1)
 * or spread evenly over the partition.
 */
static void bench_txn_one(const char *name, unsigned int k, bool spread,
			  char *buf)
{
	const char *layout = spread ? "spread" : "packed";
	double t[MAX_RUNS], tw[MAX_RUNS], tc[MAX_RUNS];
	double m[MAX_RUNS], mp[MAX_RUNS];
	struct fig ft, ftw, ftc, fm, fmp;
	__u64 psize = attr(name, "size"), nblocks, stride;
	char s[32], c1[96], c2[96], c3[32], c4[96], c5[96], what[160];
	unsigned int r;
	int fd;

	if (psize == (__u64)-1)
		return;
	nblocks = psize / BLOCK;
	size_str(psize, s, sizeof(s));
	if (k > nblocks) {
		fprintf(mr, "knvram-bench: txn part=%s part_bytes=%llu k=%u",
			name, psize, k);
		fprintf(mr, " layout=%s status=n/a\n", layout);
		snprintf(c1, sizeof(c1), "%u", k);
		fprintf(tbl, TXN_ROW, name, s, c1, layout, "n/a: fewer blocks",
			"-", "-", "-", "-");
		return;
	}
	stride = spread ? nblocks / k : 1;
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		return;
	progress("txn %s k=%u %s", name, k, layout);
	snprintf(what, sizeof(what), "txn of %u blocks on %.63s", k, name);
	/* Warm-up, then the timed runs: the writes, then the commit. */
	for (r = 0; r <= opt.runs; r++) {
		__u64 t0 = now_ns(), t1;

		memset(buf, r, BLOCK);
		if (txn_fill(fd, stride, k, buf)) {
			fail_figure(what);
			goto out;
		}
		t1 = now_ns();
		if (ioctl(fd, KNVRAMIOC_TCOMMIT)) {
			fail_figure(what);
			goto out;
		}
		if (r) {
			t[r - 1] = now_ns() - t0;
			tw[r - 1] = t1 - t0;
			tc[r - 1] = t[r - 1] - tw[r - 1];
		}
	}
	/*
	 * Memory: an open transaction, before and after its writes. The
	 * committed ones above are freed after an RCU grace period, and
	 * what an abort frees may be freed later too: let that pass before
	 * each measure, or the delta would lose what is freed meanwhile.
	 */
	for (r = 0; r < opt.runs; r++) {
		struct kmem m0, m1;

		usleep(r ? 200000 : 300000);
		if (kernel_mem(&m0) || txn_fill(fd, stride, k, buf) ||
		    kernel_mem(&m1)) {
			fail_figure(what);
			goto out;
		}
		m[r] = m1.slab - m0.slab;
		mp[r] = m1.pages - m0.pages;
		if (ioctl(fd, KNVRAMIOC_TABORT)) {
			fail_figure("KNVRAMIOC_TABORT");
			goto out;
		}
	}
	ft = fig_of(t, opt.runs);
	ftw = fig_of(tw, opt.runs);
	ftc = fig_of(tc, opt.runs);
	fm = fig_of(m, opt.runs);
	fmp = fig_of(mp, opt.runs);
	fprintf(mr, "knvram-bench: txn part=%s part_bytes=%llu k=%u",
		name, psize, k);
	fprintf(mr, " layout=%s runs=%u", layout, opt.runs);
	mr_fig("ns", &ft);
	mr_fig("writes_ns", &ftw);
	mr_fig("commit_ns", &ftc);
	mr_fig("mem_bytes", &fm);
	mr_fig("pages_bytes", &fmp);
	fprintf(mr, "\n");
	nfigures++;
	snprintf(c1, sizeof(c1), "%u", k);
	snprintf(c3, sizeof(c3), "%.2fx", ftc.med / ftw.med);
	fprintf(tbl, TXN_ROW, name, s, c1, layout, fig_us(&ft, c2, sizeof(c2)),
		fig_us(&ftc, what, sizeof(what)), c3,
		mem_cell(&fm, k, c4, sizeof(c4)),
		mem_cell(&fmp, k, c5, sizeof(c5)));
	if (k == 256) {
		snprintf(what, sizeof(what), "txn-commit-%s-%u-%s", name, k,
			 layout);
		add_target(what, ftc.med / ftw.med, 0.1, false,
			   "tcommit of %u blocks (%s, %s) / its pwrite()s", k,
			   name, layout);
	}
	if (k >= 256) {
		/* Each measure misses some memory: the larger one. */
		snprintf(what, sizeof(what), "txn-mem-%s-%u-%s", name, k,
			 layout);
		add_target(what, fmax(fm.med, fmp.med) / ((double)k * BLOCK),
			   1.1, false,
			   "open txn of %u blocks (%s, %s) / the blocks' bytes",
			   k, name, layout);
	}
out:
	close(fd);
}

static void bench_txn(void)
{
	char parts[MAX_LIST][64], ks[MAX_LIST][64];
	unsigned int np = split(opt.txn_parts, parts), nk = split(opt.ks, ks);
	unsigned int p, i;
	char *buf = malloc(BLOCK);

	if (!buf) {
		fail_figure("malloc");
		return;
	}
	fprintf(tbl, "\n2. Transaction of k blocks: tbegin, k pwrite()s of 4 KiB,\n");
	fprintf(tbl, "   tcommit; the blocks packed (0 to k-1) or spread evenly\n");
	fprintf(tbl, "   over the partition. us, median of %u runs [spread]: the\n",
		opt.runs);
	fprintf(tbl, "   whole transaction and its tcommit alone; commit/writes:\n");
	fprintf(tbl, "   tcommit / (tbegin and the pwrite()s). Memory: kernel\n");
	fprintf(tbl, "   memory growth while the k blocks are written and not\n");
	fprintf(tbl, "   committed, KiB and per block (a block's copy alone is\n");
	fprintf(tbl, "   4096 B), as slab+vmalloc and as pages in use (pages miss\n");
	fprintf(tbl, "   objects put into partly free slabs). k=0: tbegin and\n");
	fprintf(tbl, "   tcommit alone; its memory is the noise.\n");
	fprintf(tbl, TXN_ROW, "partition", "size", "k", "blocks", "time us",
		"tcommit us", "commit/", "slab+vmalloc KiB", "pages KiB");
	fprintf(tbl, TXN_ROW, "", "", "", "", "", "", "writes", "", "");
	for (p = 0; p < np; p++) {
		if (!part_present(parts[p])) {
			errno = ENOENT;
			fail_figure(parts[p]);
			continue;
		}
		for (i = 0; i < nk; i++) {
			unsigned int k = atoi(ks[i]);
			__u64 nblocks = attr(parts[p], "size") / BLOCK;

			bench_txn_one(parts[p], k, false, buf);
			/* Spread differs from packed for 1 < k < nblocks. */
			if (k > 1 && k < nblocks)
				bench_txn_one(parts[p], k, true, buf);
		}
	}
	free(buf);
}

/* ---------------------------------------------------------------- */
/* A reader next to a committing writer */

/* The writer thread; @stop and @commits are accessed with __atomic. */
struct writer {
	const char *name;
	bool stop;
	unsigned long commits;
	int err;
};

/* Whole-partition transactions, committed one after the other. */
static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	__u64 psize = attr(w->name, "size");
	char *buf = malloc(BLOCK);
	int fd = open_part(w->name, O_RDWR);
	unsigned long n = 0;

	if (fd < 0 || !buf || psize == (__u64)-1) {
		w->err = errno ?: EINVAL;
		goto out;
	}
	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		memset(buf, n, BLOCK);
		if (txn_fill(fd, 1, psize / BLOCK, buf) ||
		    ioctl(fd, KNVRAMIOC_TCOMMIT)) {
			w->err = errno;
			break;
		}
		__atomic_store_n(&w->commits, ++n, __ATOMIC_RELAXED);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* 4 KiB pread()s for reader_ms per run; their median, p99 and maximum. */
static int reader_runs(int fd, __u64 nblocks, struct lat *out)
{
	double *s = malloc(MAX_SAMPLES * sizeof(*s));
	double meds[MAX_RUNS], p99s[MAX_RUNS];
	unsigned int r, seed = 1;
	char buf[BLOCK];

	if (!s)
		return -1;
	out->max = 0;
	for (r = 0; r < opt.runs; r++) {
		__u64 end = now_ns() + opt.reader_ms * 1000000ULL;
		size_t n = 0;

		while (n < MAX_SAMPLES && (n < 16 || now_ns() < end)) {
			off_t off = (off_t)(rand_r(&seed) % nblocks) * BLOCK;
			__u64 t0 = now_ns();

			if (pread(fd, buf, BLOCK, off) != BLOCK) {
				errno = errno ?: EIO;
				free(s);
				return -1;
			}
			s[n] = now_ns() - t0;
			if (s[n] > out->max)
				out->max = s[n];
			n++;
		}
		p99s[r] = percentile(s, n, 99);
		meds[r] = median(s, n);
	}
	out->med = fig_of(meds, opt.runs);
	out->p99 = fig_of(p99s, opt.runs);
	free(s);
	return 0;
}

static void bench_reader(void)
{
	const char *name = opt.reader_part;
	struct writer w = { .name = name };
	struct lat idle, busy;
	char c1[96], c2[96], what[160];
	__u64 psize, t0, dt;
	unsigned long c0, ncommits;
	pthread_t th;
	size_t len;
	int fd, i;

	if (!part_present(name)) {
		errno = ENOENT;
		fail_figure(name);
		return;
	}
	psize = attr(name, "size");
	fd = open_part(name, O_RDONLY);
	if (fd < 0 || psize == (__u64)-1)
		return;
	progress("reader %s idle", name);
	if (reader_runs(fd, psize / BLOCK, &idle)) {
		fail_figure("reader, idle");
		goto out;
	}
	progress("reader %s busy", name);
	if (pthread_create(&th, NULL, writer_thread, &w)) {
		fail_figure("pthread_create");
		goto out;
	}
	/* Measure once the writer is in its loop. */
	for (i = 0; i < 60000 && !__atomic_load_n(&w.commits, __ATOMIC_RELAXED); i++)
		usleep(1000);
	c0 = __atomic_load_n(&w.commits, __ATOMIC_RELAXED);
	t0 = now_ns();
	i = reader_runs(fd, psize / BLOCK, &busy);
	dt = now_ns() - t0;
	__atomic_store_n(&w.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ncommits = w.commits - c0;
	if (i || w.err) {
		errno = w.err ?: errno;
		fail_figure("reader, busy");
		goto out;
	}
	snprintf(what, sizeof(what),
		 "knvram-bench: reader part=%s bytes=4096 writer=none", name);
	mr_lat(what, 0, &idle);
	snprintf(what, sizeof(what),
		 "knvram-bench: reader part=%s bytes=4096 writer=commit-loop",
		 name);
	len = strlen(what);
	snprintf(what + len, sizeof(what) - len,
		 " commits=%lu txn_blocks=%llu", ncommits, psize / BLOCK);
	mr_lat(what, 0, &busy);
	fprintf(tbl, "\n3. A reader's 4 KiB pread() on %s, us:\n", name);
	fprintf(tbl, "   median of %u runs [spread], p99, max; %u ms of calls per run.\n",
		opt.runs, opt.reader_ms);
	fprintf(tbl, "   Busy: another handle builds %llu-block transactions and\n",
		psize / BLOCK);
	fprintf(tbl, "   commits them in a loop (%lu commits, one every %.0f ms).\n",
		ncommits, ncommits ? dt / 1e6 / ncommits : 0.0);
	fprintf(tbl, "   %-8s %-28s %8s\n", "writer", "pread", "max");
	fprintf(tbl, "   %-8s %-28s %8s\n", "idle", lat_cell(&idle, c1, sizeof(c1)),
		us(idle.max, c2, sizeof(c2)));
	fprintf(tbl, "   %-8s %-28s %8s\n", "busy", lat_cell(&busy, c1, sizeof(c1)),
		us(busy.max, c2, sizeof(c2)));
	fprintf(tbl, "   busy / idle: median %.2fx, p99 %.2fx\n",
		busy.med.med / idle.med.med, busy.p99.med / idle.p99.med);
	add_target("reader-busy-p99", busy.p99.med / idle.p99.med, 1.2, false,
		   "pread() 4 KiB p99, commits running / idle");
out:
	close(fd);
}

/* ---------------------------------------------------------------- */
/* A writer next to syncs */

/* The syncing thread; @stop and @syncs are accessed with __atomic. */
struct syncer {
	const char *name;
	bool stop;
	unsigned long syncs;
	int err;
};

/*
 * fsync() in a loop on a read-only handle: a second handle of the
 * partition, as a partition has one writer.
 */
static void *syncer_thread(void *arg)
{
	struct syncer *y = arg;
	int fd = open_part(y->name, O_RDONLY);
	unsigned long n = 0;

	if (fd < 0) {
		__atomic_store_n(&y->err, errno ?: EINVAL, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!__atomic_load_n(&y->stop, __ATOMIC_RELAXED)) {
		if (fsync(fd)) {
			__atomic_store_n(&y->err, errno, __ATOMIC_RELAXED);
			break;
		}
		__atomic_store_n(&y->syncs, ++n, __ATOMIC_RELAXED);
	}
	close(fd);
	return NULL;
}

/* The per-run statistics of one case of section wsync. */
struct wsync_case {
	double med[MAX_RUNS];
	double p99[MAX_RUNS];
	double calls[MAX_RUNS];
	double max;
};

/*
 * One run: 8-byte pwrite()s into random blocks of @nblocks, one every
 * millisecond (the pause is not timed), for reader_ms and at least 16
 * calls; their median, p99 and maximum, and the calls, as run @r of @c.
 * @s holds MAX_SAMPLES samples. The pause spins: a vCPU that went idle in
 * a sleep wakes up slowly under emulation, which would add to the writes
 * without syncs and not to those next to the syncing thread, which keeps
 * the guest busy.
 */
static int wsync_run(int fd, __u64 nblocks, double *s, unsigned int *seed,
		     struct wsync_case *c, unsigned int r)
{
	__u64 end = now_ns() + opt.reader_ms * 1000000ULL;
	char buf[8] = "knvram!";
	size_t n = 0;

	while (n < MAX_SAMPLES && (n < 16 || now_ns() < end)) {
		off_t off = (off_t)(rand_r(seed) % nblocks) * BLOCK;
		__u64 t0 = now_ns();

		buf[0] = n;
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf)) {
			errno = errno ?: EIO;
			return -1;
		}
		s[n] = now_ns() - t0;
		if (s[n] > c->max)
			c->max = s[n];
		n++;
		while (now_ns() < t0 + 1000000)
			;
	}
	c->p99[r] = percentile(s, n, 99);
	c->med[r] = median(s, n);
	c->calls[r] = n;
	return 0;
}

/* The figures of case @c over the runs; the calls of the median run. */
static void wsync_figs(struct wsync_case *c, struct lat *l, double *calls)
{
	l->med = fig_of(c->med, opt.runs);
	l->p99 = fig_of(c->p99, opt.runs);
	l->max = c->max;
	*calls = median(c->calls, opt.runs);
}

#define WSYNC_ROW	"   %-9s %-11s %-6s %6s  %-28s %8s %7s %6s\n"

/*
 * A writer on partition @name, alone and next to another handle's syncs.
 * The runs alternate, alone then with syncs, so that a change of the
 * host's load weighs on both cases alike.
 */
static void bench_wsync_part(const char *name)
{
	static struct wsync_case idle_c, busy_c;
	char backend[64], path[256], c1[96], c2[32], c3[32], c4[32];
	char what[200];
	double calls_idle, calls_busy, *samples = NULL;
	struct lat idle, busy;
	unsigned long nsyncs = 0;
	unsigned int r, seed = 2;
	__u64 psize, dt = 0;
	int fd, i;

	snprintf(path, sizeof(path), CLASS_DIR "%.63s/backend", name);
	psize = attr(name, "size");
	if (psize == (__u64)-1 || read_text(path, backend, sizeof(backend))) {
		fail_figure(path);
		return;
	}
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		return;
	samples = malloc(MAX_SAMPLES * sizeof(*samples));
	if (!samples) {
		fail_figure("malloc");
		goto out;
	}
	memset(&idle_c, 0, sizeof(idle_c));
	memset(&busy_c, 0, sizeof(busy_c));
	progress("wsync %s", name);
	for (r = 0; r < opt.runs; r++) {
		struct syncer y = { .name = name };
		unsigned long y0;
		pthread_t th;
		__u64 t0;

		/* Nothing dirty left from before: the writer alone. */
		if (fsync(fd) ||
		    wsync_run(fd, psize / BLOCK, samples, &seed, &idle_c, r)) {
			fail_figure("writer, no sync");
			goto out;
		}
		if (pthread_create(&th, NULL, syncer_thread, &y)) {
			fail_figure("pthread_create");
			goto out;
		}
		/* Measure once the syncer is in its loop. */
		for (i = 0; i < 60000 &&
		     !__atomic_load_n(&y.syncs, __ATOMIC_RELAXED) &&
		     !__atomic_load_n(&y.err, __ATOMIC_RELAXED); i++)
			usleep(1000);
		y0 = __atomic_load_n(&y.syncs, __ATOMIC_RELAXED);
		t0 = now_ns();
		i = wsync_run(fd, psize / BLOCK, samples, &seed, &busy_c, r);
		dt += now_ns() - t0;
		__atomic_store_n(&y.stop, true, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
		nsyncs += y.syncs - y0;
		if (i || y.err) {
			errno = y.err ?: errno;
			fail_figure("writer, syncs running");
			goto out;
		}
	}
	wsync_figs(&idle_c, &idle, &calls_idle);
	wsync_figs(&busy_c, &busy, &calls_busy);
	snprintf(what, sizeof(what),
		 "knvram-bench: wsync part=%s backend=%s bytes=8 syncer=none",
		 name, backend);
	mr_lat(what, (unsigned int)calls_idle, &idle);
	snprintf(what, sizeof(what),
		 "knvram-bench: wsync part=%s backend=%s bytes=8 syncer=fsync-loop syncs=%lu",
		 name, backend, nsyncs);
	mr_lat(what, (unsigned int)calls_busy, &busy);
	fprintf(mr, "knvram-bench: ratio op=wsync part=%s bytes=8", name);
	fprintf(mr, " of=syncing to=idle med=%.2f p99=%.2f\n",
		busy.med.med / idle.med.med, busy.p99.med / idle.p99.med);
	snprintf(c2, sizeof(c2), "%.0f", calls_idle);
	fprintf(tbl, WSYNC_ROW, name, backend, "none", c2,
		lat_cell(&idle, c1, sizeof(c1)), us(idle.max, c3, sizeof(c3)),
		"", "");
	snprintf(c2, sizeof(c2), "%.0f", calls_busy);
	snprintf(c3, sizeof(c3), "%.2fx", busy.med.med / idle.med.med);
	snprintf(c4, sizeof(c4), "%.2fx", busy.p99.med / idle.p99.med);
	fprintf(tbl, WSYNC_ROW, "", "", "fsync", c2,
		lat_cell(&busy, c1, sizeof(c1)), us(busy.max, what, sizeof(what)),
		c3, c4);
	fprintf(tbl, "   %-9s %-11s (%lu syncs, one every %.2f ms)\n", "", "",
		nsyncs, nsyncs ? dt / 1e6 / nsyncs : 0.0);
	snprintf(what, sizeof(what), "wsync-%s-med", name);
	add_target(what, busy.med.med / idle.med.med, 1.2, false,
		   "pwrite() 8 B, %s (%s), syncing / idle, median",
		   name, backend);
	snprintf(what, sizeof(what), "wsync-%s-p99", name);
	add_target(what, busy.p99.med / idle.p99.med, 1.5, false,
		   "pwrite() 8 B, %s (%s), syncing / idle, p99",
		   name, backend);
out:
	free(samples);
	close(fd);
}

/* Section wsync: a writer next to another handle's syncs. */
static void bench_wsync(void)
{
	char parts[MAX_LIST][64];
	unsigned int p, np = split(opt.wsync_parts, parts);

	fprintf(tbl, "\n3b. A writer's 8-byte pwrite() (outside a transaction) into\n");
	fprintf(tbl, "   a random block, a call every ms (spinning between calls),\n");
	fprintf(tbl, "   us: median of %u runs [spread], p99, max; %u ms of calls\n",
		opt.runs, opt.reader_ms);
	fprintf(tbl, "   per run (at least 16); calls: of the median run. Syncer\n");
	fprintf(tbl, "   fsync: a second, read-only handle of the partition runs\n");
	fprintf(tbl, "   fsync() in a loop in another thread; runs without and\n");
	fprintf(tbl, "   with it alternate. Ratio: with syncs / without, median\n");
	fprintf(tbl, "   then p99.\n");
	fprintf(tbl, WSYNC_ROW, "partition", "backend", "syncer", "calls",
		"pwrite", "max", "ratio", "p99");
	for (p = 0; p < np; p++) {
		if (!part_present(parts[p])) {
			fprintf(tbl, "   %-9s not measured: no such partition\n",
				parts[p]);
			fprintf(mr, "knvram-bench: wsync part=%s", parts[p]);
			fprintf(mr, " status=not-measured reason=no-partition\n");
			continue;
		}
		bench_wsync_part(parts[p]);
	}
}

/* ---------------------------------------------------------------- */
/* Sync and emergency sync */

/* The amounts dirtied: one block, 1% (whole blocks), all. */
static unsigned int amounts(__u64 psize, __u64 *out)
{
	__u64 nblocks = psize / BLOCK, pct = (nblocks + 99) / 100;

	out[0] = BLOCK;
	out[1] = pct * BLOCK;
	out[2] = psize;
	return 3;
}

/*
 * The same blocks are dirtied before each sync. A sync writes the blocks
 * the older bank lacks: after two syncs of the same blocks, that is
 * exactly them. Two warm-up syncs come first.
 */
#define WARMUP	2

/* Per timed run of sync_runs(): what one sync took and wrote. */
struct sync_figs {
	double k[MAX_RUNS];	/* the kernel's sync_last_ns */
	double wall[MAX_RUNS];	/* fsync() seen by the caller */
	double bytes[MAX_RUNS];	/* sync_bytes: what knvram wrote */
	double lebs[MAX_RUNS];	/* with @ubi_dir: LEBs the backend changed */
	double flash[MAX_RUNS];	/* with @ubi_dir: bytes of those LEBs */
};

/*
 * WARMUP + opt.runs syncs of partition @name (open as @fd), each after
 * dirtying its first @amount bytes. With @ubi_dir (the UBI backend's
 * sysfs directory), also the LEBs and bytes the backend wrote. 0, or -1
 * after fail_figure().
 */
static int sync_runs(const char *name, int fd, __u64 amount,
		     const char *ubi_dir, struct sync_figs *f)
{
	unsigned int r, i;

	for (r = 0; r < WARMUP + opt.runs; r++) {
		__u64 b0 = attr(name, "sync_bytes"), c0, l0 = 0, w0 = 0, t0, t1;

		c0 = attr(name, "sync_count");
		if (ubi_dir) {
			l0 = attr_in(ubi_dir, "leb_changes");
			w0 = attr_in(ubi_dir, "bytes_written");
		}
		if (fill(fd, 0, amount, r)) {
			fail_figure("dirty");
			return -1;
		}
		t0 = now_ns();
		if (fsync(fd)) {
			fail_figure("fsync");
			return -1;
		}
		t1 = now_ns();
		if (r < WARMUP)
			continue;
		if (attr(name, "sync_count") != c0 + 1) {
			errno = EPROTO;
			fail_figure("sync_count did not move by one");
			return -1;
		}
		i = r - WARMUP;
		f->k[i] = attr(name, "sync_last_ns");
		f->wall[i] = t1 - t0;
		f->bytes[i] = attr(name, "sync_bytes") - b0;
		if (ubi_dir) {
			f->lebs[i] = attr_in(ubi_dir, "leb_changes") - l0;
			f->flash[i] = attr_in(ubi_dir, "bytes_written") - w0;
		}
	}
	return 0;
}

static void bench_sync_part(const char *name)
{
	__u64 psize = attr(name, "size"), amount[3];
	unsigned int a, n;
	char s[32], d[32], c1[96], c2[96];
	int fd;

	if (psize == (__u64)-1)
		return;
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		return;
	n = amounts(psize, amount);
	for (a = 0; a < n; a++) {
		struct sync_figs f;
		struct fig fk, fw, fb;

		progress("sync %s %llu", name, amount[a]);
		if (sync_runs(name, fd, amount[a], NULL, &f))
			goto out;
		fk = fig_of(f.k, opt.runs);
		fw = fig_of(f.wall, opt.runs);
		fb = fig_of(f.bytes, opt.runs);
		fprintf(mr, "knvram-bench: sync part=%s part_bytes=%llu dirty_bytes=%llu runs=%u",
			name, psize, amount[a], opt.runs);
		mr_fig("ns", &fk);
		mr_fig("fsync_ns", &fw);
		mr_fig("written_bytes", &fb);
		fprintf(mr, "\n");
		nfigures++;
		fprintf(tbl, "   %-9s %5s %7s  %-28s %-28s %10.0f %8.0f\n", name,
			size_str(psize, s, sizeof(s)),
			size_str(amount[a], d, sizeof(d)),
			fig_us(&fk, c1, sizeof(c1)),
			fig_us(&fw, c2, sizeof(c2)), fb.med,
			fb.med / (fk.med / 1e9) / MIB);
	}
out:
	close(fd);
}

static void bench_sync(void)
{
	char parts[MAX_LIST][64];
	unsigned int p, np = split(opt.sync_parts, parts);

	fprintf(tbl, "\n4. Sync (fsync) after dirtying the first block, 1%% and 100%%\n");
	fprintf(tbl, "   of a partition. us, median of %u runs [spread]: the\n",
		opt.runs);
	fprintf(tbl, "   kernel's sync_last_ns, and fsync() seen by the caller;\n");
	fprintf(tbl, "   bytes the sync wrote; MiB/s = bytes written / sync time.\n");
	fprintf(tbl, "   %-9s %5s %7s  %-28s %-28s %10s %8s\n", "partition",
		"size", "dirty", "sync (kernel)", "fsync() (caller)",
		"written B", "MiB/s");
	for (p = 0; p < np; p++) {
		if (!part_present(parts[p])) {
			errno = ENOENT;
			fail_figure(parts[p]);
			continue;
		}
		bench_sync_part(parts[p]);
	}
}

/*
 * Offset of partition @name of the backend whose sysfs directory is @dir
 * in its partition space: the reg of its devicetree node. 0, or -1.
 */
static int dt_part_offset(const char *dir, const char *name, __u64 *offset)
{
	char path[600], label[64];
	unsigned char cell[16];
	unsigned int ac = 0, i;
	struct dirent *e;
	int fd, ret = -1;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/of_node/partitions/#address-cells",
		 dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, cell, 4);
	close(fd);
	if (n != 4)
		return -1;
	ac = cell[0] << 24 | cell[1] << 16 | cell[2] << 8 | cell[3];
	if (!ac || ac > 2)
		return -1;
	snprintf(path, sizeof(path), "%s/of_node/partitions", dir);
	d = opendir(path);
	if (!d)
		return -1;
	while (ret && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/of_node/partitions/%.200s/label",
			 dir, e->d_name);
		if (read_text(path, label, sizeof(label)) || strcmp(label, name))
			continue;
		snprintf(path, sizeof(path), "%s/of_node/partitions/%.200s/reg",
			 dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = read(fd, cell, 4 * ac);
		close(fd);
		if (n != 4 * ac)
			break;
		*offset = 0;
		for (i = 0; i < 4 * ac; i++)
			*offset = *offset << 8 | cell[i];
		ret = 0;
	}
	closedir(d);
	return ret;
}

/*
 * The LEBs of @leb bytes that a sync of the first @amount bytes of a
 * partition of @psize bytes at @offset changes when it writes bank @bank:
 * those of the bank's header, of the blocks' checksum table entries and
 * of the blocks, each once (Documentation/driver-api/knvram.rst, Media
 * format; the UBI backend's blocks are BLOCK bytes, its label two).
 */
static unsigned int ubi_want_lebs(__u64 offset, __u64 psize, __u64 amount,
				  unsigned int bank, __u64 leb)
{
	__u64 table = (psize / BLOCK * 4 + BLOCK - 1) / BLOCK * BLOCK;
	__u64 start = 2 * BLOCK + offset + bank * (BLOCK + table + psize);
	__u64 nb = (amount + BLOCK - 1) / BLOCK;
	__u64 lo[3] = { start, start + BLOCK, start + BLOCK + table };
	__u64 len[3] = { 64, nb * 4, nb * BLOCK };
	__s64 last = -1;
	unsigned int i, lebs = 0;

	/* Three ranges in ascending order: count their LEBs, none twice. */
	for (i = 0; i < 3; i++) {
		__s64 first = lo[i] / leb, end = (lo[i] + len[i] - 1) / leb;

		if (first <= last)
			first = last + 1;
		if (end >= first)
			lebs += end - first + 1;
		if (end > last)
			last = end;
	}
	return lebs;
}

/*
 * The target on the LEBs of section ubi: each sync changed at most the
 * LEBs its data touches. Syncs alternate banks, from one that is not
 * known: the larger ratio of a run to what its bank needs, for the bank
 * order that fits best.
 */
static double ubi_lebs_ratio(const double *lebs, __u64 offset, __u64 psize,
			     __u64 amount, __u64 leb)
{
	double best = INFINITY;
	unsigned int b0, i;

	for (b0 = 0; b0 < 2; b0++) {
		double worst = 0;

		for (i = 0; i < opt.runs; i++)
			worst = fmax(worst, lebs[i] /
				     ubi_want_lebs(offset, psize, amount,
						   (b0 + i) % 2, leb));
		best = fmin(best, worst);
	}
	return best;
}

/*
 * Section ubi: knvram's sync on a partition of the UBI backend next to
 * writing the same bytes to the raw UBI volume, LEB by LEB.
 */
static void bench_ubi(void)
{
	const char *name = opt.ubi_part;
	char backend[64], vol[64], dir[256], path[320];
	char s[32], d[32], c1[96], c2[96], c3[32];
	__u64 psize, leb_size, amount[3], offset = 0;
	unsigned int a, n, r;
	bool raw_ok = false, have_offset;
	char *src = NULL;
	int fd;

	fprintf(tbl, "\n5. UBI backend: fsync() after dirtying the first block, 1%%\n");
	fprintf(tbl, "   and 100%% of partition %s, next to writing the same\n", name);
	if (!part_present(name)) {
		fprintf(tbl, "   bytes to a raw UBI volume: not measured, no partition\n");
		fprintf(tbl, "   %s (this board has no UBI backend).\n", name);
		fprintf(mr, "knvram-bench: ubi status=not-measured reason=no-partition part=%s\n",
			name);
		return;
	}
	snprintf(path, sizeof(path), CLASS_DIR "%.63s/backend", name);
	psize = attr(name, "size");
	if (psize == (__u64)-1 || read_text(path, backend, sizeof(backend))) {
		fail_figure(path);
		return;
	}
	snprintf(dir, sizeof(dir), PLATFORM_DIR "%.63s", backend);
	leb_size = attr_in(dir, "leb_size");
	snprintf(path, sizeof(path), "%s/volume", dir);
	if (leb_size == (__u64)-1 || !leb_size ||
	    read_text(path, vol, sizeof(vol))) {
		errno = errno ?: ENODEV;
		fail_figure("not a partition of a UBI backend");
		return;
	}
	have_offset = !dt_part_offset(dir, name, &offset);
	if (!have_offset)
		progress("ubi: no devicetree reg for %s: no LEB target", name);
	if (opt.ubi_raw && !raw_open()) {
		raw_ok = !raw_prepare(psize);
		src = malloc(psize);
		if (!src) {
			fail_figure("malloc");
			raw_ok = false;
		}
	}
	fprintf(tbl, "   bytes to the raw UBI volume %s at its start (per LEB:\n",
		raw_ok ? opt.ubi_raw : "(not measured)");
	fprintf(tbl, "   pread() unless all of it changes, then UBI_IOCEBCH and\n");
	fprintf(tbl, "   write() of the whole LEB). %s: backend %s on UBI\n", name,
		backend);
	fprintf(tbl, "   volume %s, LEBs of %llu B. ms, median of %u runs\n", vol,
		leb_size, opt.runs);
	fprintf(tbl, "   [spread]; LEBs: LEB changes per sync or write (the\n");
	fprintf(tbl, "   backend's leb_changes), each a PEB erased and written;\n");
	fprintf(tbl, "   ratio: knvram fsync() / raw write.\n");
	fprintf(tbl, "   %-9s %5s %7s  %-26s %5s  %-26s %5s %7s\n", "partition",
		"size", "dirty", "knvram fsync() ms", "LEBs", "raw UBI write ms",
		"LEBs", "ratio");
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		goto out_free;
	n = amounts(psize, amount);
	for (a = 0; a < n; a++) {
		double rt[MAX_RUNS], rl[MAX_RUNS];
		struct fig fk, fw, fb, fl, ff, frt = { }, frl = { };
		struct sync_figs f;

		progress("ubi sync %s %llu", name, amount[a]);
		if (sync_runs(name, fd, amount[a], dir, &f))
			goto out;
		fk = fig_of(f.k, opt.runs);
		fw = fig_of(f.wall, opt.runs);
		fb = fig_of(f.bytes, opt.runs);
		/* Issue 14: the LEBs of 1 block and 1%: those the data touches. */
		if (have_offset && a < 2)
			add_target(a ? "ubi-lebs-1pct" : "ubi-lebs-1block",
				   ubi_lebs_ratio(f.lebs, offset, psize,
						  amount[a], leb_size),
				   1.0, false,
				   "UBI sync %s: LEB changes / LEBs the data touches",
				   size_str(amount[a], d, sizeof(d)));
		fl = fig_of(f.lebs, opt.runs);
		ff = fig_of(f.flash, opt.runs);
		fprintf(mr, "knvram-bench: ubisync part=%s backend=%s volume=%s",
			name, backend, vol);
		fprintf(mr, " leb_bytes=%llu part_bytes=%llu dirty_bytes=%llu runs=%u",
			leb_size, psize, amount[a], opt.runs);
		mr_fig("ns", &fk);
		mr_fig("fsync_ns", &fw);
		mr_fig("written_bytes", &fb);
		mr_fig("lebs", &fl);
		mr_fig("flash_bytes", &ff);
		fprintf(mr, "\n");
		nfigures++;
		snprintf(c2, sizeof(c2), "not measured");
		snprintf(c3, sizeof(c3), "-");
		if (raw_ok) {
			progress("ubi raw write %llu", amount[a]);
			for (r = 0; r < WARMUP + opt.runs; r++) {
				__u64 t0;
				int lebs;

				memset(src, r, amount[a]);
				t0 = now_ns();
				lebs = raw_update(0, src, amount[a]);
				if (lebs < 0) {
					fail_figure("raw UBI volume write");
					goto out;
				}
				if (r < WARMUP)
					continue;
				rt[r - WARMUP] = now_ns() - t0;
				rl[r - WARMUP] = lebs;
			}
			frt = fig_of(rt, opt.runs);
			frl = fig_of(rl, opt.runs);
			fprintf(mr, "knvram-bench: ubiraw dev=%s leb_bytes=%d bytes=%llu runs=%u",
				opt.ubi_raw, raw.leb_size, amount[a], opt.runs);
			mr_fig("ns", &frt);
			mr_fig("lebs", &frl);
			fprintf(mr, "\n");
			fprintf(mr, "knvram-bench: ratio op=ubi-sync bytes=%llu",
				amount[a]);
			fprintf(mr, " of=knvram to=ubi-raw med=%.2f lebs=%.2f\n",
				fw.med / frt.med, fl.med / frl.med);
			nfigures++;
			fig_in(&frt, 1e6, c2, sizeof(c2));
			snprintf(c3, sizeof(c3), "%.2fx", fw.med / frt.med);
			/* Issue 14: no slower than the raw atomic update. */
			if (a < 2)
				add_target(a ? "ubi-sync-1pct" : "ubi-sync-1block",
					   fw.med / frt.med, 1.0, false,
					   "UBI fsync() %s / raw UBI update",
					   size_str(amount[a], d, sizeof(d)));
		}
		fprintf(tbl, "   %-9s %5s %7s  %-26s %5.0f  %-26s %5s %7s\n",
			name, size_str(psize, s, sizeof(s)),
			size_str(amount[a], d, sizeof(d)),
			fig_in(&fw, 1e6, c1, sizeof(c1)), fl.med, c2,
			raw_ok ? (snprintf(path, sizeof(path), "%.0f", frl.med), path) : "-",
			c3);
	}
out:
	close(fd);
out_free:
	free(src);
}

static bool wait_for(bool (*cond)(const void *), const void *arg)
{
	unsigned int i;

	for (i = 0; i < 10000; i++) {
		if (cond(arg))
			return true;
		usleep(1000);
	}
	return cond(arg);
}

static __u64 emerg_count0;

static bool emerg_done(const void *name)
{
	return attr(name, "emergency_sync_count") > emerg_count0;
}

/* Writes work again on the writer *@fd: a write in a transaction, aborted. */
static bool thawed(const void *fd)
{
	int f = *(const int *)fd;
	bool ok;

	ok = !ioctl(f, KNVRAMIOC_TBEGIN) && pwrite(f, "", 1, 0) == 1;
	ioctl(f, KNVRAMIOC_TABORT);
	return ok;
}

/* ns of one copy of @len bytes by the floor module's @kind file. */
static int floor_ns(const char *kind, __u64 len, double *ns)
{
	char path[256], val[32];
	__u64 v;

	snprintf(path, sizeof(path), FLOOR_DIR "%s", kind);
	snprintf(val, sizeof(val), "%llu", len);
	if (write_text(path, val) || read_u64(path, &v))
		return -1;
	*ns = v;
	return 0;
}

/*
 * WARMUP + opt.runs emergency syncs of partition @name (open as @fd), each
 * after dirtying its first @amount bytes, the power failing through the
 * gpio-sim line's @pull file and coming back: the kernel's times in @e.
 * 0, or -1 after fail_figure().
 */
static int emerg_runs(const char *name, int fd, __u64 amount,
		      const char *pull, double *e)
{
	unsigned int r;

	for (r = 0; r < WARMUP + opt.runs; r++) {
		if (fill(fd, 0, amount, r)) {
			fail_figure("dirty");
			return -1;
		}
		emerg_count0 = attr(name, "emergency_sync_count");
		if (write_text(pull, "pull-up")) {
			fail_figure(pull);
			return -1;
		}
		if (!wait_for(emerg_done, name)) {
			errno = ETIMEDOUT;
			fail_figure("emergency sync");
			write_text(pull, "pull-down");
			return -1;
		}
		if (r >= WARMUP)
			e[r - WARMUP] = attr(name, "emergency_sync_last_ns");
		if (write_text(pull, "pull-down") || !wait_for(thawed, &fd)) {
			errno = errno ?: ETIMEDOUT;
			fail_figure("power back");
			return -1;
		}
	}
	return 0;
}

static void bench_emerg_part(const char *name, const char *pull)
{
	__u64 psize = attr(name, "size"), amount[3];
	char backend[64], path[256], s[32], d[32], c1[96], c2[96], c3[32];
	const char *kind;
	bool floor;
	unsigned int a, n, r;
	int fd;

	snprintf(path, sizeof(path), CLASS_DIR "%.63s/backend", name);
	if (psize == (__u64)-1 || read_text(path, backend, sizeof(backend))) {
		fail_figure(path);
		return;
	}
	/* knvram-sim's media is vmalloc()ed RAM; the others are NVRAM. */
	kind = strncmp(backend, "sim", 3) ? "mmio" : "ram";
	snprintf(path, sizeof(path), FLOOR_DIR "%s", kind);
	floor = !access(path, W_OK);
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		return;
	n = amounts(psize, amount);
	for (a = 0; a < n; a++) {
		double e[MAX_RUNS], f[MAX_RUNS];
		struct fig fe, ff = { };

		progress("emergency sync %s %llu", name, amount[a]);
		if (emerg_runs(name, fd, amount[a], pull, e))
			goto out;
		fe = fig_of(e, opt.runs);
		fprintf(mr, "knvram-bench: emergency part=%s backend=%s",
			name, backend);
		fprintf(mr, " part_bytes=%llu dirty_bytes=%llu runs=%u",
			psize, amount[a], opt.runs);
		mr_fig("ns", &fe);
		fprintf(mr, "\n");
		nfigures++;
		snprintf(c2, sizeof(c2), "not measured (no module)");
		snprintf(c3, sizeof(c3), "-");
		if (floor) {
			/*
			 * A first copy faults in the host's pages of the guest
			 * RAM: warm up as the emergency syncs above did.
			 */
			for (r = 0; r < WARMUP; r++) {
				if (floor_ns(kind, amount[a], &f[0])) {
					fail_figure("floor");
					goto out;
				}
			}
			for (r = 0; r < opt.runs; r++) {
				if (floor_ns(kind, amount[a], &f[r])) {
					fail_figure("floor");
					goto out;
				}
			}
			ff = fig_of(f, opt.runs);
			fprintf(mr, "knvram-bench: floor kind=%s bytes=%llu runs=%u",
				kind, amount[a], opt.runs);
			mr_fig("ns", &ff);
			fprintf(mr, "\n");
			fprintf(mr, "knvram-bench: ratio op=emergency-sync");
			fprintf(mr, " bytes=%llu of=knvram to=floor-%s med=%.2f\n",
				amount[a], kind, fe.med / ff.med);
			nfigures++;
			fig_us(&ff, c2, sizeof(c2));
			snprintf(c3, sizeof(c3), "%.1fx", fe.med / ff.med);
			snprintf(path, sizeof(path), "emerg-%s-%s", name,
				 size_str(amount[a], d, sizeof(d)));
			add_target(path, fe.med / ff.med, 1.2, false,
				   "emergency sync %s of %s / copy floor", d, name);
		}
		fprintf(tbl, "   %-9s %-11s %5s %7s  %-28s %-28s %s\n", name,
			backend, size_str(psize, s, sizeof(s)),
			size_str(amount[a], d, sizeof(d)),
			fig_us(&fe, c1, sizeof(c1)), c2, c3);
	}
out:
	close(fd);
}

static void bench_emerg(void)
{
	char parts[MAX_LIST][64];
	unsigned int p, np = split(opt.sync_parts, parts);
	glob_t g;

	fprintf(tbl, "\n4b. Emergency sync of the same amounts, power-fail raised\n");
	fprintf(tbl, "   through gpio-sim. us, median of %u runs [spread]: the\n",
		opt.runs);
	fprintf(tbl, "   kernel's emergency_sync_last_ns, next to a copy of the\n");
	fprintf(tbl, "   same bytes in the kernel (knvram-bench-floor): memcpy()\n");
	fprintf(tbl, "   into vmalloc()ed RAM for knvram-sim, memcpy_flushcache()\n");
	fprintf(tbl, "   into the board's NVRAM region for knvram-mmio.\n");
	if (glob(PF_GLOB, 0, NULL, &g) || !g.gl_pathc) {
		fprintf(tbl, "   not measured: no gpio-sim power-fail line\n");
		fprintf(mr, "knvram-bench: emergency status=not-measured reason=no-gpio-sim\n");
		return;
	}
	fprintf(tbl, "   %-9s %-11s %5s %7s  %-28s %-28s %s\n", "partition",
		"backend", "size", "dirty", "emergency sync",
		"copy of the same bytes", "ratio");
	for (p = 0; p < np; p++) {
		if (!part_present(parts[p])) {
			errno = ENOENT;
			fail_figure(parts[p]);
			continue;
		}
		bench_emerg_part(parts[p], g.gl_pathv[0]);
	}
	globfree(&g);
}

/* ---------------------------------------------------------------- */
/* Block and nvmem backends next to their raw device */

/* The raw device of a dev row: a block device, or an nvmem sysfs file. */
struct raw_dev {
	const char *path;
	bool blk;
	__u64 off;		/* where the raw writes go */
	char backend[64];	/* nvmem: unbound while they do */
	void *save;		/* nvmem: the bytes they overwrite */
	__u64 len;
};

static bool part_back(const void *name)
{
	return part_present(name);
}

/* Unbind (@bind false) or bind the platform device of @rd's backend. */
static int raw_backend_bind(struct raw_dev *rd, bool bind)
{
	char path[256];

	snprintf(path, sizeof(path), PLATFORM_DIR "%.63s/driver/unbind",
		 rd->backend);
	if (bind)
		snprintf(path, sizeof(path),
			 "/sys/bus/platform/drivers/knvram-nvmem/bind");
	if (write_text(path, rd->backend)) {
		fail_figure(path);
		return -1;
	}
	return 0;
}

/* Write @len bytes of @buf at @off of the raw device, as a user would. */
static int raw_dev_write(const struct raw_dev *rd, int fd, const void *buf,
			 __u64 off, __u64 len)
{
	size_t chunk = rd->blk ? len : 4096;
	ssize_t n;

	while (len) {
		n = pwrite(fd, buf, len < chunk ? len : chunk, off);
		if (n <= 0) {
			errno = n ? errno : EIO;
			return -1;
		}
		buf = (const char *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Read @len bytes at @off of the nvmem file: sysfs gives a page at a time. */
static int raw_dev_read(int fd, void *buf, __u64 off, __u64 len)
{
	ssize_t n;

	while (len) {
		n = pread(fd, buf, len < 4096 ? len : 4096, off);
		if (n <= 0) {
			errno = n ? errno : EIO;
			return -1;
		}
		buf = (char *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * WARMUP + opt.runs raw writes of @amount bytes: their times in @t.
 * 0, or -1 after fail_figure().
 */
static int raw_dev_runs(struct raw_dev *rd, void *buf, __u64 amount,
			double *t)
{
	unsigned int r;
	int fd;

	fd = open(rd->path, O_WRONLY | O_CLOEXEC |
		  (rd->blk ? O_DIRECT | O_DSYNC : 0));
	if (fd < 0) {
		fail_figure(rd->path);
		return -1;
	}
	for (r = 0; r < WARMUP + opt.runs; r++) {
		__u64 t0;

		memset(buf, r, amount);
		t0 = now_ns();
		if (raw_dev_write(rd, fd, buf, rd->blk ? 0 : rd->off, amount)) {
			fail_figure(rd->path);
			close(fd);
			return -1;
		}
		if (r >= WARMUP)
			t[r - WARMUP] = now_ns() - t0;
	}
	close(fd);
	return 0;
}

/*
 * The raw writes of each of the @n amounts of a partition of @psize bytes,
 * their times into @t. The nvmem file's bytes are those of the backend's
 * media: the caller unbound the backend; they are saved, written over,
 * and put back. 0, or -1 after fail_figure().
 */
static int raw_dev_all(struct raw_dev *rd, __u64 psize,
		       const __u64 *amount, unsigned int n,
		       double t[][MAX_RUNS])
{
	unsigned int a;
	void *buf;
	int fd, ret = -1;

	if (posix_memalign(&buf, 4096, psize)) {
		fail_figure("posix_memalign");
		return -1;
	}
	if (!rd->blk) {
		rd->save = malloc(psize);
		fd = open(rd->path, O_RDONLY | O_CLOEXEC);
		if (!rd->save || fd < 0 ||
		    raw_dev_read(fd, rd->save, rd->off, psize)) {
			errno = errno ?: EIO;
			fail_figure(rd->path);
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	for (a = 0; a < n; a++) {
		progress("raw write %s %llu", rd->path, amount[a]);
		if (raw_dev_runs(rd, buf, amount[a], t[a]))
			goto restore;
	}
	ret = 0;
restore:
	if (!rd->blk) {
		fd = open(rd->path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || raw_dev_write(rd, fd, rd->save, rd->off, psize)) {
			fail_figure("restore the nvmem bytes");
			ret = -1;
		}
		if (fd >= 0)
			close(fd);
	}
out:
	free(rd->save);
	rd->save = NULL;
	free(buf);
	return ret;
}

#define DEV_ROW "   %-9s %-11s %5s %7s  %-22s %-22s %-22s %6s %6s\n"

static void bench_dev_part(const char *name, const char *raw, const char *pull)
{
	__u64 psize = attr(name, "size"), amount[3];
	double e[3][MAX_RUNS], t[3][MAX_RUNS];
	struct fig fw[3], fe[3], ft;
	struct raw_dev rd = { .path = raw };
	char path[256], s[32], d[32], c1[96], c2[96], c3[96], c4[16], c5[16];
	struct stat st;
	unsigned int a, n;
	bool raw_ok;
	int fd;

	snprintf(path, sizeof(path), CLASS_DIR "%.63s/backend", name);
	if (psize == (__u64)-1 ||
	    read_text(path, rd.backend, sizeof(rd.backend))) {
		fail_figure(path);
		return;
	}
	if (stat(raw, &st)) {
		fail_figure(raw);
		return;
	}
	rd.blk = S_ISBLK(st.st_mode);
	snprintf(path, sizeof(path), PLATFORM_DIR "%.63s", rd.backend);
	if (!rd.blk && dt_part_offset(path, name, &rd.off)) {
		errno = ENOENT;
		fail_figure("the partition's devicetree reg");
		return;
	}
	fd = open_part(name, O_RDWR);
	if (fd < 0)
		return;
	n = amounts(psize, amount);
	for (a = 0; a < n; a++) {
		struct sync_figs f;

		progress("dev sync %s %llu", name, amount[a]);
		if (sync_runs(name, fd, amount[a], NULL, &f))
			goto out;
		fw[a] = fig_of(f.wall, opt.runs);
		progress("dev emergency sync %s %llu", name, amount[a]);
		if (emerg_runs(name, fd, amount[a], pull, e[a]))
			goto out;
		fe[a] = fig_of(e[a], opt.runs);
	}
	close(fd);
	fd = -1;

	raw_ok = true;
	if (!rd.blk && raw_backend_bind(&rd, false))
		return;
	if (raw_dev_all(&rd, psize, amount, n, t))
		raw_ok = false;
	if (!rd.blk && (raw_backend_bind(&rd, true) ||
			!wait_for(part_back, name))) {
		errno = errno ?: ETIMEDOUT;
		fail_figure("bind the backend again");
	}

	for (a = 0; a < n; a++) {
		fprintf(mr, "knvram-bench: devsync part=%s backend=%s",
			name, rd.backend);
		fprintf(mr, " part_bytes=%llu dirty_bytes=%llu runs=%u",
			psize, amount[a], opt.runs);
		mr_fig("fsync_ns", &fw[a]);
		mr_fig("emergency_ns", &fe[a]);
		fprintf(mr, "\n");
		nfigures++;
		snprintf(c3, sizeof(c3), "not measured");
		snprintf(c4, sizeof(c4), "-");
		snprintf(c5, sizeof(c5), "-");
		if (raw_ok) {
			ft = fig_of(t[a], opt.runs);
			fprintf(mr, "knvram-bench: devraw dev=%s kind=%s bytes=%llu runs=%u",
				raw, rd.blk ? "blk-direct-dsync" : "nvmem-file",
				amount[a], opt.runs);
			mr_fig("ns", &ft);
			fprintf(mr, "\n");
			fprintf(mr, "knvram-bench: ratio op=dev-sync part=%s",
				name);
			fprintf(mr, " bytes=%llu of=knvram to=raw fsync=%.2f emergency=%.2f\n",
				amount[a], fw[a].med / ft.med,
				fe[a].med / ft.med);
			nfigures++;
			fig_in(&ft, 1e6, c3, sizeof(c3));
			snprintf(c4, sizeof(c4), "%.2fx", fw[a].med / ft.med);
			snprintf(c5, sizeof(c5), "%.2fx", fe[a].med / ft.med);
		}
		fprintf(tbl, DEV_ROW, name, rd.backend,
			size_str(psize, s, sizeof(s)),
			size_str(amount[a], d, sizeof(d)),
			fig_in(&fw[a], 1e6, c1, sizeof(c1)),
			fig_in(&fe[a], 1e6, c2, sizeof(c2)), c3, c4, c5);
	}
	return;
out:
	close(fd);
}

/* Section dev: the block and nvmem backends next to their raw device. */
static void bench_dev(void)
{
	char parts[MAX_LIST][64];
	unsigned int p, np = opt.dev_parts ? split(opt.dev_parts, parts) : 0;
	glob_t g;

	fprintf(tbl, "\n5b. Block and nvmem backends: fsync() and the emergency sync\n");
	fprintf(tbl, "   (deferred to a worker on both) after dirtying the first\n");
	fprintf(tbl, "   block, 1%% and 100%%, next to writing the same bytes\n");
	fprintf(tbl, "   without knvram: to a spare partition of the disk with\n");
	fprintf(tbl, "   O_DIRECT | O_DSYNC (dd oflag=direct,dsync), or through\n");
	fprintf(tbl, "   the nvmem device's sysfs file. ms, median of %u runs\n",
		opt.runs);
	fprintf(tbl, "   [spread]; ratios: knvram / raw, fsync then emergency.\n");
	if (!np) {
		fprintf(tbl, "   not measured: no -b\n");
		fprintf(mr, "knvram-bench: devsync status=not-measured reason=no-raw-device\n");
		return;
	}
	if (glob(PF_GLOB, 0, NULL, &g) || !g.gl_pathc) {
		fprintf(tbl, "   not measured: no gpio-sim power-fail line\n");
		fprintf(mr, "knvram-bench: devsync status=not-measured reason=no-gpio-sim\n");
		return;
	}
	fprintf(tbl, DEV_ROW, "partition", "backend", "size", "dirty",
		"knvram fsync() ms", "emergency sync ms", "raw write ms",
		"fsync", "emerg");
	for (p = 0; p < np; p++) {
		char *eq = strchr(parts[p], '=');

		if (!eq) {
			errno = EINVAL;
			fail_figure("-b wants PART=RAW");
			continue;
		}
		*eq = '\0';
		if (!part_present(parts[p])) {
			fprintf(tbl, "   %-9s not measured: no such partition\n",
				parts[p]);
			fprintf(mr, "knvram-bench: devsync part=%s", parts[p]);
			fprintf(mr, " status=not-measured reason=no-partition\n");
			continue;
		}
		bench_dev_part(parts[p], eq + 1, g.gl_pathv[0]);
	}
	globfree(&g);
}

/* ---------------------------------------------------------------- */
/* Memory per partition */

static int sim_load(const char *params)
{
	int fd = open(opt.sim_module, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

static int sim_unload(void)
{
	unsigned int i;

	/* A handle closed just now may still hold the module a moment. */
	for (i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, SIM_NAME, O_NONBLOCK))
			return 0;
		if (errno == ENOENT)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			return -1;
		usleep(100000);
	}
	return -1;
}

/* Kernel memory in use with knvram-sim loaded with @params. */
static int sim_mem(const char *params, struct kmem *m)
{
	if (sim_unload() || sim_load(params))
		return -1;
	/* Let deferred frees (RCU, workqueues) of the last unload finish. */
	usleep(200000);
	return kernel_mem(m);
}

/* Media bytes a partition of @size takes (knvram_partition_footprint()). */
static __u64 footprint(__u64 size)
{
	__u64 nblocks = size / BLOCK;
	__u64 table = (nblocks * 4 + BLOCK - 1) / BLOCK * BLOCK;

	return 2 * (BLOCK + table + size);
}

#define MEM_ROW	"   %-6s %3s  %-20s %-20s %13s %12s %12s %8s\n"

static void bench_mem(void)
{
	char specs[MAX_LIST][64], params[4096], s[32], c1[64], c2[64];
	char c3[32], c4[32], c5[32], c6[32];
	unsigned int i, n = split(opt.mem_sizes, specs);

	fprintf(tbl, "\n6. Kernel memory per partition, KiB: the delta of loading\n");
	fprintf(tbl, "   knvram-sim with N partitions of a size against loading it\n");
	fprintf(tbl, "   with none, divided by N, as slab+vmalloc and as pages in\n");
	fprintf(tbl, "   use; median of %u runs [spread]. Shadow+tables: what the\n",
		opt.runs);
	fprintf(tbl, "   format needs by construction (shadow image, two checksum\n");
	fprintf(tbl, "   tables); fixed: the rest, slab+vmalloc then pages; of\n");
	fprintf(tbl, "   size: pages beyond the size / the size.\n");
	if (!opt.sim_module) {
		fprintf(tbl, "   not measured (no -m: knvram-sim cannot be reloaded here)\n");
		fprintf(mr, "knvram-bench: partmem status=not-measured reason=no-module\n");
		return;
	}
	fprintf(tbl, MEM_ROW, "size", "N", "slab+vmalloc", "pages",
		"shadow+tables", "fixed slab", "fixed pages", "of size");
	for (i = 0; i < n; i++) {
		double k[MAX_RUNS], kp[MAX_RUNS];
		__u64 size, media, nb;
		char *colon = strchr(specs[i], ':');
		unsigned int cnt, j, r;
		struct fig fk, fkp;
		double construct;
		size_t len;

		cnt = colon ? atoi(colon + 1) : 1;
		if (colon)
			*colon = '\0';
		if (!parse_size(specs[i], &size) || !cnt || size % BLOCK) {
			errno = EINVAL;
			fail_figure(specs[i]);
			continue;
		}
		nb = size / BLOCK;
		/* Label area, partitions, and 1 MiB to spare. */
		media = 2 * BLOCK + cnt * footprint(size) + MIB;
		progress("mem %u x %s", cnt, specs[i]);
		for (r = 0; r < opt.runs; r++) {
			struct kmem m0, m1;

			snprintf(params, sizeof(params), "size=%llu", media);
			if (sim_mem(params, &m0)) {
				fail_figure("knvram-sim without partitions");
				goto out;
			}
			len = snprintf(params, sizeof(params),
				       "size=%llu partitions=", media);
			for (j = 0; j < cnt && len < sizeof(params) - 64; j++)
				len += snprintf(params + len,
						sizeof(params) - len,
						"%smem%u:%llu", j ? "," : "", j,
						size);
			if (sim_mem(params, &m1)) {
				fail_figure("knvram-sim with partitions");
				goto out;
			}
			snprintf(params, sizeof(params), "mem%u", cnt - 1);
			if (!part_present(params)) {
				errno = ENOENT;
				fail_figure(params);
				goto out;
			}
			k[r] = (m1.slab - m0.slab) / cnt;
			kp[r] = (m1.pages - m0.pages) / cnt;
		}
		fk = fig_of(k, opt.runs);
		fkp = fig_of(kp, opt.runs);
		construct = size + 2.0 * ((nb * 4 + BLOCK - 1) / BLOCK * BLOCK);
		fprintf(mr, "knvram-bench: partmem part_bytes=%llu", size);
		fprintf(mr, " partitions=%u runs=%u construct_bytes=%.0f",
			cnt, opt.runs, construct);
		mr_fig("bytes", &fk);
		mr_fig("pages_bytes", &fkp);
		fprintf(mr, "\n");
		nfigures++;
		snprintf(c1, sizeof(c1), "%.0f [%.0f-%.0f]",
			 fk.med / KIB, fk.lo / KIB, fk.hi / KIB);
		snprintf(c2, sizeof(c2), "%.0f [%.0f-%.0f]",
			 fkp.med / KIB, fkp.lo / KIB, fkp.hi / KIB);
		snprintf(c3, sizeof(c3), "%.0f", construct / KIB);
		snprintf(c4, sizeof(c4), "%.1f", (fk.med - construct) / KIB);
		snprintf(c5, sizeof(c5), "%.1f", (fkp.med - construct) / KIB);
		snprintf(c6, sizeof(c6), "%.2f%%", 100.0 * (fkp.med - size) / size);
		snprintf(params, sizeof(params), "%u", cnt);
		fprintf(tbl, MEM_ROW, size_str(size, s, sizeof(s)), params,
			c1, c2, c3, c4, c5, c6);
		/* Each measure misses some memory: the larger one. */
		if (size == 64 * KIB)
			add_target("partmem-64K-fixed",
				   fmax(fk.med, fkp.med) - construct, 8 * KIB,
				   true, "64 KiB partition beyond shadow+tables");
	}
out:
	if (opt.sim_params && (sim_unload() || sim_load(opt.sim_params)))
		fail_figure("reloading knvram-sim");
}

/* Targets in the order of the table's parts, then of measure. */
static int cmp_target(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The targets' lines, in the order of the table's parts. */
static void mr_targets(void)
{
	unsigned int i;

	qsort(targets, ntargets, sizeof(*targets), cmp_target);
	for (i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];

		fprintf(mr, "knvram-bench: target id=%s value=%.*f limit=%.*f unit=%s met=%s\n",
			t->id, t->bytes ? 0 : 4, t->value, t->bytes ? 0 : 2,
			t->limit, t->bytes ? "bytes" : "ratio",
			t->value <= t->limit ? "yes" : "no");
	}
}

/* The last part of the table: every target, met or not (after mr_targets()). */
static void print_targets(void)
{
	unsigned int i, met = 0;
	char v[32], l[32];

	if (!ntargets)
		return;
	printf("\n7. Targets (issues 12 and 14): each a figure of this run above;\n");
	printf("   the memory targets are for the production kernel.\n");
	printf("   %-60s %9s  %s\n", "target", "measured", "target");
	for (i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];

		if (t->bytes) {
			snprintf(v, sizeof(v), "%.1f KiB", t->value / KIB);
			snprintf(l, sizeof(l), "%.0f KiB", t->limit / KIB);
		} else {
			snprintf(v, sizeof(v), "%.2fx", t->value);
			snprintf(l, sizeof(l), "%.1fx", t->limit);
		}
		met += t->value <= t->limit;
		printf("   %-60s %9s  <= %s: %s\n", t->what, v, l,
		       t->value <= t->limit ? "met" : "NOT met");
	}
	printf("   %u of %u targets met\n", met, ntargets);
}

/* Run section @name, if chosen, with its table as part @idx. */
static void run_section(unsigned int idx, const char *name, void (*fn)(void))
{
	if (!section(name))
		return;
	tables[idx].f = open_memstream(&tables[idx].buf, &tables[idx].len);
	if (!tables[idx].f) {
		fail_figure("open_memstream");
		return;
	}
	tbl = tables[idx].f;
	cur_section = idx;
	fn();
	fflush(tbl);
}

static void bad_args(void)
{
	fprintf(stderr,
		"usage: knvram_bench [-r RUNS] [-n CALLS] [-d READER_MS] [-x SECTIONS]\n"
		"         [-l PART] [-t PARTS] [-k KS] [-c PART] [-s PARTS] [-w PARTS]\n"
		"         [-T TMPDIR]\n"
		"         [-u UBI_PART] [-U RAW_UBI_VOLUME_DEV [-N RAW_WRITE_CALLS]]\n"
		"         [-b PART=RAW,...]\n"
		"         [-m KNVRAM_SIM_KO [-M PARAMS] [-S SIZE:N,...]]\n"
		"sections: mem,lat,txn,reader,sync,wsync,ubi,dev,emerg (see the source)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "r:n:d:x:l:t:k:c:s:w:T:m:M:S:u:U:N:b:")) != -1) {
		switch (c) {
		case 'r':
			opt.runs = atoi(optarg);
			break;
		case 'n':
			opt.calls = atoi(optarg);
			break;
		case 'd':
			opt.reader_ms = atoi(optarg);
			break;
		case 'x':
			opt.sections = optarg;
			break;
		case 'l':
			opt.lat_part = optarg;
			break;
		case 't':
			opt.txn_parts = optarg;
			break;
		case 'k':
			opt.ks = optarg;
			break;
		case 'c':
			opt.reader_part = optarg;
			break;
		case 's':
			opt.sync_parts = optarg;
			break;
		case 'w':
			opt.wsync_parts = optarg;
			break;
		case 'T':
			opt.tmpdir = optarg;
			break;
		case 'm':
			opt.sim_module = optarg;
			break;
		case 'M':
			opt.sim_params = optarg;
			break;
		case 'S':
			opt.mem_sizes = optarg;
			break;
		case 'u':
			opt.ubi_part = optarg;
			break;
		case 'U':
			opt.ubi_raw = optarg;
			break;
		case 'N':
			opt.raw_calls = atoi(optarg);
			break;
		case 'b':
			opt.dev_parts = optarg;
			break;
		default:
			bad_args();
		}
	}
	if (optind != argc || !opt.runs || opt.runs > MAX_RUNS || !opt.calls ||
	    !opt.raw_calls)
		bad_args();

	mr = open_memstream(&mr_buf, &mr_len);
	if (!mr)
		return 1;

	/*
	 * Memory first: it reloads knvram-sim. The UBI syncs before the
	 * emergency syncs, whose power failure reaches every backend. Tables
	 * in section order (by index).
	 */
	run_section(8, "mem", bench_mem);
	run_section(0, "lat", bench_lat);
	run_section(1, "txn", bench_txn);
	run_section(2, "reader", bench_reader);
	run_section(4, "sync", bench_sync);
	run_section(6, "ubi", bench_ubi);
	run_section(7, "dev", bench_dev);
	run_section(3, "wsync", bench_wsync);
	run_section(5, "emerg", bench_emerg);
	raw_close();

	mr_targets();
	fprintf(mr, "knvram-bench: done figures=%u errors=%u\n", nfigures,
		nerrors);
	fclose(mr);
	printf("==== knvram-bench: table begin ====\n");
	printf("knvram benchmark: every figure is the median of %u runs, with the\n",
	       opt.runs);
	printf("smallest and largest run in [brackets].\n");
	for (c = 0; c < NSECTIONS; c++) {
		if (!tables[c].f)
			continue;
		fclose(tables[c].f);
		fputs(tables[c].buf, stdout);
		free(tables[c].buf);
	}
	print_targets();
	printf("==== knvram-bench: table end ====\n%s", mr_buf);
	free(mr_buf);
	return nerrors ? 1 : 0;
}
