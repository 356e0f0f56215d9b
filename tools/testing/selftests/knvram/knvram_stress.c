// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram_stress: the concurrent phase of knvram_stress.sh, and the small
 * commands of its final checks.
 *
 *   knvram_stress run [-t SECS] [-s SEED] [-u] [-c BACKEND]... [-m MODULE]...
 *                     [-f PULL] PART...
 *   knvram_stress commit PART SEQ [sync]
 *   knvram_stress verify PART SEQ [SEQ2]
 *
 * run: for SECS seconds (default 90), on each PART one writer commits
 * numbered patterns (transactions, single writes, autot, aborts, O_SYNC,
 * fsync, reopens) and two readers check every read: all the pattern
 * blocks of one commit, never a mix, never an aborted one, never older
 * than the last commit, never going back. At the same time, with -u, the
 * knvram-sim.0 device is unbound and bound again; with -c, runtime
 * partitions are made, used and removed in configfs group BACKEND; with
 * -m, unloading MODULE is tried (it must be refused: the test holds
 * handles); with -f, the power fails and comes back (PULL is the pull
 * attribute of the gpio-sim power-fail line). A writer that finds its
 * handle dead (ENODEV) reopens and checks that the partition holds its
 * last commit exactly; a write or commit refused with ESHUTDOWN is tried
 * again once the power is back.
 *
 * On stdout: "result ok TEXT" and "result fail TEXT", one a check, then
 * "state PART COMMITTED SYNCED MAYBE" (MAYBE: a later sequence number that
 * may have been committed, an O_SYNC call that failed after the commit,
 * or 0). Diagnostics go to stderr as "# ..." lines.
 *
 * commit: one transaction writing the pattern of SEQ, committed, then
 * synced with "sync". verify: the partition holds the pattern of SEQ (or
 * SEQ2); exit status 0 if so, 1 (and what it holds) otherwise.
 *
 * The pattern of sequence number SEQ: up to 16 blocks of 4 KiB spread
 * evenly over the partition, each a header (magic, SEQ, block number,
 * ~SEQ) and words that depend on both. An aborted transaction writes
 * SEQ | 0x80000000: no reader may ever see it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

#define BLK		4096
#define MAX_PAT		16
#define PAT_MAGIC	0x4b4e5653u
#define SEQ_ABORTED	0x80000000u
#define MAX_PARTS	8
#define MAX_CHURN	4
#define MAX_MODS	4
#define READERS		2
#define MAX_THREADS	(MAX_PARTS * (1 + READERS) + MAX_CHURN + 4)
#define DIAG_MAX	8	/* diagnostics printed per counter */

#define DEV_DIR		"/dev/knvram/"
#define CLASS_DIR	"/sys/class/knvram/"
#define CFS_DIR		"/sys/kernel/config/knvram/"
#define SIM_DRV		"/sys/bus/platform/drivers/knvram-sim"
#define SIM_DEV		"knvram-sim.0"

/* ------------------------------------------------------------------ */
/* Patterns */

struct layout {
	size_t size;
	unsigned int npat;
	unsigned int stride;	/* in blocks */
	size_t span;		/* bytes from offset 0 to the last block's end */
};

static void layout_init(struct layout *l, size_t size)
{
	unsigned int nblocks = size / BLK;

	l->size = size;
	l->npat = nblocks < MAX_PAT ? nblocks : MAX_PAT;
	l->stride = nblocks / l->npat;
	l->span = ((size_t)(l->npat - 1) * l->stride + 1) * BLK;
}

static size_t pat_off(const struct layout *l, unsigned int k)
{
	return (size_t)k * l->stride * BLK;
}

static void pat_fill(unsigned int *w, unsigned int seq, unsigned int k)
{
	unsigned int i;

	w[0] = PAT_MAGIC;
	w[1] = seq;
	w[2] = k;
	w[3] = ~seq;
	for (i = 4; i < BLK / 4; i++)
		w[i] = seq * 2654435761u + k * 40503u + i;
}

/* The sequence number of pattern block @k at @w, or -1. */
static long long pat_block_seq(const unsigned int *w, unsigned int k)
{
	unsigned int want[BLK / 4];

	if (w[0] != PAT_MAGIC || w[2] != k || w[3] != ~w[1])
		return -1;
	pat_fill(want, w[1], k);
	return memcmp(want, w, BLK) ? -1 : (long long)w[1];
}

/*
 * The sequence number that every pattern block of @buf (the partition's
 * first @l->span bytes) holds, or -1 with what they hold in @why.
 */
static long long pat_seq(const struct layout *l, const char *buf,
			 char *why, size_t whylen)
{
	long long seq = 0, s;
	bool mixed = false;
	unsigned int k;
	size_t used = 0;

	for (k = 0; k < l->npat; k++) {
		s = pat_block_seq((const unsigned int *)(buf + pat_off(l, k)), k);
		if (!k)
			seq = s;
		else if (s != seq)
			mixed = true;
		if (used < whylen)
			used += snprintf(why + used, whylen - used, "%s%lld",
					 k ? "," : "", (long long)s);
	}
	return mixed ? -1 : seq;
}

/* Write the pattern of @seq into @buf (@l->span bytes). */
static void pat_fill_span(const struct layout *l, char *buf, unsigned int seq)
{
	unsigned int k;

	for (k = 0; k < l->npat; k++)
		pat_fill((unsigned int *)(buf + pat_off(l, k)), seq, k);
}

/* ------------------------------------------------------------------ */
/* Shared state */

static unsigned int ld32(const unsigned int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void st32(unsigned int *p, unsigned int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void inc(unsigned long *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

static unsigned long ldl(const unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

struct part {
	char name[40];
	char backend[40];
	struct layout l;
	bool may_vanish;	/* its backend is unbound during the run */
	bool autot;		/* its default autot is on */
	int pin_fd;		/* a reader held open all along: pins the module */
	unsigned int committed;	/* last commit that returned success */
	unsigned int attempted;	/* highest sequence number written */
	unsigned int synced;	/* last commit known to be on the media */
	unsigned int maybe;		/* a commit whose O_SYNC call failed, or 0 */
	unsigned int first_done;
	unsigned long commits, aborts, syncs, eshutdown, vanished, reopens;
	unsigned long reopen_bad, reads, torn, aborted_seen, range_bad;
	unsigned long regress, rsyncs, unexpected;
};

struct churn {
	char backend[40];
	unsigned int idx;
	bool strict;		/* the backend stays bound */
	unsigned long made, used, removed, offline, bad, busy_ok, reenabled;
	unsigned long eshutdown;
};

struct thr {
	pthread_t tid;
	char name[48];
	const char *op;		/* what it is doing, for a hang report */
	unsigned long long rnd;
	bool done;
	void *arg;
};

static struct part parts[MAX_PARTS];
static unsigned int nparts;
static struct churn churns[MAX_CHURN];
static unsigned int nchurns;
static const char *mods[MAX_MODS], *mod_names[MAX_MODS];
static unsigned long mod_refused[MAX_MODS], mod_ebusy[MAX_MODS];
static unsigned long mod_bad[MAX_MODS];
static unsigned int nmods;
static struct thr thrs[MAX_THREADS];
static unsigned int nthrs;
static const char *pull_path;
static bool do_unbind;
static unsigned int stop;
static unsigned int unbind_gen;	/* bumped around each unbind/bind */
static unsigned long unbinds, unbind_bad;
static unsigned long pf_cycles, pf_bad;
static struct timespec t_start;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t_start.tv_sec) + (t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fprintf(stderr, "# %7.2f ", now_s());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&out_lock);
}

/* Count an event; the first few get a diagnostic line. */
#define COUNT(ctr, fmt, ...) do {					\
	if (__atomic_fetch_add(&(ctr), 1, __ATOMIC_RELAXED) < DIAG_MAX)	\
		diag(fmt, ##__VA_ARGS__);				\
} while (0)

static void report(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("result %s ", ok ? "ok" : "fail");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static bool stopping(void)
{
	return ld32(&stop);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static unsigned int rnd(struct thr *t)
{
	/* xorshift64 */
	t->rnd ^= t->rnd << 13;
	t->rnd ^= t->rnd >> 7;
	t->rnd ^= t->rnd << 17;
	return t->rnd >> 32;
}

static void set_op(struct thr *t, const char *op)
{
	__atomic_store_n(&t->op, op, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Files */

static int part_open(const char *name, int flags)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DEV_DIR "%s", name);
	return open(path, flags | O_CLOEXEC);
}

/* Write @val to a sysfs or configfs attribute in one write(): 0 or -errno. */
static int put_attr(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Read a one-line attribute into @buf (newline dropped): 0 or -errno. */
static int get_attr(const char *path, char *buf, size_t len)
{
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		ret = -errno;
		n = 0;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	close(fd);
	return ret;
}

static long long get_num(const char *fmt, const char *name)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), fmt, name);
	if (get_attr(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

static bool exists(const char *fmt, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, name);
	return !access(path, F_OK);
}

static bool gone_errno(int e)
{
	return e == ENOENT || e == ENODEV || e == ENXIO;
}

/* Read the pattern span of @fd: its sequence number, -1 if mixed, -2 on error. */
static long long read_seq(const struct layout *l, int fd, char *buf,
			  char *why, size_t whylen)
{
	ssize_t n = pread(fd, buf, l->span, 0);

	if (n < 0)
		return -2;
	if ((size_t)n != l->span) {
		snprintf(why, whylen, "short read %zd of %zu", n, l->span);
		errno = EIO;
		return -2;
	}
	return pat_seq(l, buf, why, whylen);
}

/* ------------------------------------------------------------------ */
/* The writer */

struct wstate {
	struct part *p;
	struct thr *t;
	int fd;
	bool osync;
	char *buf;
};

static void count_unexpected(struct part *p, struct thr *t, const char *what,
			     int e)
{
	COUNT(p->unexpected, "%s: %s: %s: unexpected %s", p->name, t->name,
	      what, strerror(e));
}

/* A call failed with @e: true if the partition is gone (reopen). */
static bool vanished(struct part *p, struct thr *t, const char *what, int e)
{
	if (e == ENODEV && p->may_vanish) {
		inc(&p->vanished);
		return true;
	}
	count_unexpected(p, t, what, e);
	return e == ENODEV;
}

static void writer_close(struct wstate *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/*
 * Open the writer again, and check that the partition holds the last
 * commit. False if stopping.
 */
static bool writer_open(struct wstate *w)
{
	struct part *p = w->p;
	char why[256];
	unsigned int want, maybe;
	long long seq;
	int on;

	w->osync = !(rnd(w->t) % 4);
	for (;;) {
		if (stopping())
			return false;
		set_op(w->t, "open (writer)");
		w->fd = part_open(p->name, O_RDWR | (w->osync ? O_SYNC : 0));
		if (w->fd >= 0)
			break;
		if (!gone_errno(errno) || !p->may_vanish)
			count_unexpected(p, w->t, "open", errno);
		sleep_ms(20);
	}
	on = p->autot;
	if (ioctl(w->fd, KNVRAMIOC_SETAUTOT, &on) && errno != ENODEV)
		count_unexpected(p, w->t, "SETAUTOT", errno);
	if (!ld32(&p->first_done))
		return true;

	inc(&p->reopens);
	set_op(w->t, "read (writer reopen)");
	seq = read_seq(&p->l, w->fd, w->buf, why, sizeof(why));
	if (seq == -2) {
		if (vanished(p, w->t, "read after reopen", errno))
			writer_close(w);
		return true;
	}
	want = ld32(&p->committed);
	maybe = ld32(&p->maybe);
	if (maybe && seq == maybe) {
		/* The O_SYNC call failed after the commit: it happened. */
		st32(&p->committed, maybe);
		want = maybe;
	}
	st32(&p->maybe, 0);
	if (seq != want)
		COUNT(p->reopen_bad,
		      "%s: reopened, holds %lld (%s), last commit %u (maybe %u)",
		      p->name, (long long)seq, why, want, maybe);
	return true;
}

/* pwrite() the pattern blocks of @seq one by one: 0 or -errno. */
static int write_blocks(struct wstate *w, unsigned int seq)
{
	const struct layout *l = &w->p->l;
	unsigned int k;
	ssize_t n;

	for (k = 0; k < l->npat; k++) {
		pat_fill((unsigned int *)w->buf, seq, k);
		set_op(w->t, "pwrite block");
		n = pwrite(w->fd, w->buf, BLK, pat_off(l, k));
		if (n < 0)
			return -errno;
		if (n != BLK)
			return -EIO;
	}
	return 0;
}

/* An O_SYNC call failed after its write or commit landed, maybe. */
static bool sync_failed_after(struct wstate *w, int e)
{
	return w->osync && e != ESHUTDOWN && e != EAGAIN && e != EINVAL &&
	       e != EBADF;
}

/*
 * One commit of @seq: 0 if committed, else -errno (ESHUTDOWN: the power
 * did not come back in time; the transaction was dropped).
 */
static int commit_one(struct wstate *w, unsigned int seq)
{
	struct part *p = w->p;
	const struct layout *l = &p->l;
	bool single = l->stride == 1 && !p->autot && !(rnd(w->t) % 4);
	bool txn = !single && !p->autot;
	int tries, ret;
	ssize_t n;

	if (__atomic_load_n(&p->attempted, __ATOMIC_SEQ_CST) < seq)
		st32(&p->attempted, seq);

	if (single) {
		/* Outside a transaction: one write, published as a whole. */
		pat_fill_span(l, w->buf, seq);
		set_op(w->t, "pwrite span");
		n = pwrite(w->fd, w->buf, l->span, 0);
		if (n == (ssize_t)l->span)
			return 0;
		ret = n < 0 ? -errno : -EIO;
		if (sync_failed_after(w, -ret))
			st32(&p->maybe, seq);
		return ret;
	}

	if (txn) {
		set_op(w->t, "TBEGIN");
		if (ioctl(w->fd, KNVRAMIOC_TBEGIN))
			return -errno;
	}
	ret = write_blocks(w, seq);
	if (ret)
		goto abort;
	for (tries = 0;; tries++) {
		set_op(w->t, "TCOMMIT");
		if (!ioctl(w->fd, KNVRAMIOC_TCOMMIT))
			return 0;
		ret = -errno;
		if (ret != -ESHUTDOWN || tries >= 1000)
			break;
		/* The transaction stays open: commit it again later. */
		inc(&p->eshutdown);
		sleep_ms(10);
	}
	if (sync_failed_after(w, -ret)) {
		st32(&p->maybe, seq);
		return ret;
	}
abort:
	set_op(w->t, "TABORT");
	if (ioctl(w->fd, KNVRAMIOC_TABORT) && errno != EINVAL &&
	    errno != ENODEV)
		count_unexpected(p, w->t, "TABORT after a failure", errno);
	return ret;
}

/* A transaction that is aborted: its data must never be seen. */
static int abort_one(struct wstate *w, unsigned int seq)
{
	int ret;

	set_op(w->t, "TBEGIN (abort)");
	if (ioctl(w->fd, KNVRAMIOC_TBEGIN))
		return -errno;
	ret = write_blocks(w, seq | SEQ_ABORTED);
	set_op(w->t, "TABORT");
	if (ioctl(w->fd, KNVRAMIOC_TABORT) && !ret)
		ret = -errno;
	if (!ret)
		inc(&w->p->aborts);
	return ret;
}

static void *writer_main(void *arg)
{
	struct thr *t = arg;
	struct part *p = t->arg;
	struct wstate w = { .p = p, .t = t, .fd = -1 };
	bool aborting;
	unsigned int seq;
	int ret;

	w.buf = malloc(p->l.span);
	if (!w.buf)
		return NULL;
	while (!stopping()) {
		if (w.fd < 0 && !writer_open(&w))
			break;
		if (w.fd < 0)
			continue;
		seq = ld32(&p->committed) + 1;
		aborting = ld32(&p->first_done) && !(rnd(t) % 12);
		if (aborting)
			ret = abort_one(&w, seq);
		else
			ret = commit_one(&w, seq);
		if (ret == -ESHUTDOWN) {
			inc(&p->eshutdown);
			sleep_ms(10);
			continue;
		}
		if (ret) {
			if (vanished(p, t, "write or commit", -ret))
				writer_close(&w);
			else
				sleep_ms(10);
			continue;
		}
		if (!aborting) {
			st32(&p->committed, seq);
			st32(&p->maybe, 0);
			inc(&p->commits);
			if (w.osync)
				st32(&p->synced, seq);
			st32(&p->first_done, 1);
		}
		if (!(rnd(t) % 4)) {
			set_op(t, "fsync (writer)");
			if (!fsync(w.fd)) {
				st32(&p->synced, ld32(&p->committed));
				inc(&p->syncs);
			} else if (errno == ESHUTDOWN) {
				inc(&p->eshutdown);
			} else if (vanished(p, t, "fsync", errno)) {
				writer_close(&w);
				continue;
			}
		}
		if (!(rnd(t) % 24)) {
			/* A voluntary close: the reopen checks the data. */
			set_op(t, "close (writer)");
			writer_close(&w);
		}
	}
	writer_close(&w);
	free(w.buf);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Readers */

static void *reader_main(void *arg)
{
	struct thr *t = arg;
	struct part *p = t->arg;
	char *buf = malloc(p->l.span);
	unsigned int lo, hi, last = 0;
	unsigned long i;
	int fd = -1;
	char why[256];
	long long seq;

	if (!buf)
		return NULL;
	for (i = 0; !stopping(); i++) {
		if (fd < 0) {
			set_op(t, "open (reader)");
			fd = part_open(p->name, O_RDONLY);
			if (fd < 0) {
				if (!gone_errno(errno) || !p->may_vanish)
					count_unexpected(p, t, "open", errno);
				sleep_ms(20);
				continue;
			}
		}
		lo = ld32(&p->committed);
		set_op(t, "pread");
		seq = read_seq(&p->l, fd, buf, why, sizeof(why));
		hi = ld32(&p->attempted);
		if (seq == -2) {
			if (vanished(p, t, "pread", errno)) {
				close(fd);
				fd = -1;
			}
			continue;
		}
		inc(&p->reads);
		if (seq < 0)
			COUNT(p->torn,
			      "%s: %s: read not one whole pattern (blocks %s)",
			      p->name, t->name, why);
		else if (seq & SEQ_ABORTED)
			COUNT(p->aborted_seen, "%s: %s: aborted data read: %s",
			      p->name, t->name, why);
		else if (seq < lo || seq > hi)
			COUNT(p->range_bad,
			      "%s: %s: read %lld, committed %u..attempted %u",
			      p->name, t->name, (long long)seq, lo, hi);
		else if (seq < last)
			COUNT(p->regress, "%s: %s: read %lld after %u",
			      p->name, t->name, (long long)seq, last);
		if (seq >= 0 && !(seq & SEQ_ABORTED))
			last = seq;

		if (!(i % 8)) {
			set_op(t, "KNVRAMIOC_SYNC (reader)");
			if (!ioctl(fd, KNVRAMIOC_SYNC)) {
				inc(&p->rsyncs);
			} else if (errno != ESHUTDOWN &&
				   vanished(p, t, "SYNC", errno)) {
				close(fd);
				fd = -1;
				continue;
			}
		}
		if (!(i % 32)) {
			set_op(t, "close (reader)");
			close(fd);
			fd = -1;
		}
		sleep_ms(rnd(t) % 5);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Unbind and bind the simulated backend */

static bool sim_parts_present(bool want, unsigned int secs)
{
	unsigned int i, tries;
	bool all;

	for (tries = 0; tries <= secs * 20; tries++) {
		all = true;
		for (i = 0; i < nparts; i++)
			if (parts[i].may_vanish &&
			    exists(DEV_DIR "%s", parts[i].name) != want)
				all = false;
		if (all)
			return true;
		sleep_ms(50);
	}
	return false;
}

static void *unbind_main(void *arg)
{
	struct thr *t = arg;
	int ret, tries;

	while (!stopping()) {
		sleep_ms(1500 + rnd(t) % 2500);
		if (stopping())
			break;
		__atomic_fetch_add(&unbind_gen, 1, __ATOMIC_SEQ_CST);
		set_op(t, "unbind");
		ret = put_attr(SIM_DRV "/unbind", SIM_DEV);
		if (ret)
			COUNT(unbind_bad, "unbind: %s", strerror(-ret));
		else if (!sim_parts_present(false, 0))
			COUNT(unbind_bad, "unbind: partitions still there");
		sleep_ms(100 + rnd(t) % 900);
		set_op(t, "bind");
		for (tries = 0; tries < 5; tries++) {
			ret = put_attr(SIM_DRV "/bind", SIM_DEV);
			if (!ret)
				break;
			COUNT(unbind_bad, "bind: %s", strerror(-ret));
			sleep_ms(200);
		}
		set_op(t, "wait for the partitions after bind");
		if (!ret && !sim_parts_present(true, 5))
			COUNT(unbind_bad, "bind: partitions not back in 5 s");
		__atomic_fetch_add(&unbind_gen, 1, __ATOMIC_SEQ_CST);
		inc(&unbinds);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Runtime partitions in configfs */

/* A step failed with -@ret: allowed if the backend may be gone. */
static void churn_err(struct churn *c, const char *name, const char *what,
		      int ret)
{
	if (!c->strict && gone_errno(-ret)) {
		inc(&c->offline);
		return;
	}
	if (ret == -ESHUTDOWN) {
		inc(&c->eshutdown);
		return;
	}
	COUNT(c->bad, "configfs %s/%s: %s: %s", c->backend, name, what,
	      strerror(-ret));
}

/* Write, read back, rmdir while open; optionally disable and enable. */
static void churn_use(struct churn *c, struct thr *t, const char *name,
		      const char *dir)
{
	char path[PATH_MAX], text[64], got[64];
	size_t len;
	int fd, rfd, ret;
	ssize_t n;

	len = snprintf(text, sizeof(text), "%s data", name);
	set_op(t, "configfs: open");
	fd = part_open(name, O_RDWR);
	if (fd < 0) {
		churn_err(c, name, "open", -errno);
		return;
	}
	set_op(t, "configfs: pwrite");
	n = pwrite(fd, text, len, 0);
	if (n != (ssize_t)len) {
		churn_err(c, name, "pwrite", n < 0 ? -errno : -EIO);
		close(fd);
		return;
	}
	set_op(t, "configfs: rmdir while open");
	if (!rmdir(dir)) {
		COUNT(c->bad, "configfs %s: rmdir while open succeeded", name);
		close(fd);
		return;
	}
	if (errno == EBUSY)
		inc(&c->busy_ok);
	else
		churn_err(c, name, "rmdir while open", -errno);
	close(fd);

	if (!(rnd(t) % 3)) {
		snprintf(path, sizeof(path), "%s/enable", dir);
		set_op(t, "configfs: enable 0");
		ret = put_attr(path, "0");
		if (ret) {
			churn_err(c, name, "enable 0", ret);
			return;
		}
		if (exists(DEV_DIR "%s", name))
			COUNT(c->bad, "configfs %s: device left when disabled",
			      name);
		set_op(t, "configfs: enable 1 again");
		ret = put_attr(path, "1");
		if (ret) {
			churn_err(c, name, "enable 1 again", ret);
			return;
		}
		inc(&c->reenabled);
	}

	set_op(t, "configfs: read back");
	rfd = part_open(name, O_RDONLY);
	if (rfd < 0) {
		churn_err(c, name, "open to read back", -errno);
		return;
	}
	n = pread(rfd, got, len, 0);
	if (n < 0)
		churn_err(c, name, "read back", -errno);
	else if (n != (ssize_t)len || memcmp(got, text, len))
		COUNT(c->bad, "configfs %s: read back '%.*s'", name, (int)n,
		      got);
	else
		inc(&c->used);
	close(rfd);
}

/* rmdir of a churned item: tries, 100 ms apart. */
#define RMDIR_TRIES	300

static void *churn_main(void *arg)
{
	struct thr *t = arg;
	struct churn *c = t->arg;
	char name[40], dir[256], path[PATH_MAX], val[32];
	unsigned int i;
	int ret, tries;

	for (i = 0; !stopping(); i++) {
		sleep_ms(rnd(t) % 500);
		if (stopping())
			break;
		snprintf(name, sizeof(name), "stc%u_%u", c->idx, i);
		snprintf(dir, sizeof(dir), CFS_DIR "%s/%s", c->backend, name);
		set_op(t, "configfs: mkdir");
		if (mkdir(dir, 0755)) {
			churn_err(c, name, "mkdir", -errno);
			sleep_ms(100);
			continue;
		}
		inc(&c->made);
		snprintf(path, sizeof(path), "%s/size", dir);
		snprintf(val, sizeof(val), "%u", BLK * (1 + rnd(t) % 16));
		set_op(t, "configfs: size");
		ret = put_attr(path, val);
		if (ret) {
			churn_err(c, name, "size", ret);
		} else {
			snprintf(path, sizeof(path), "%s/enable", dir);
			set_op(t, "configfs: enable");
			ret = put_attr(path, "1");
			if (ret)
				churn_err(c, name, "enable", ret);
			else
				churn_use(c, t, name, dir);
		}
		set_op(t, "configfs: rmdir");
		for (tries = 0; rmdir(dir) && tries < RMDIR_TRIES; tries++) {
			/*
			 * While the backend is unbound, an item on its media
			 * is pinned (EBUSY) until the backend is back: up to
			 * a second, and a bind on a loaded host may take a
			 * few more.
			 */
			if (errno == EBUSY && !c->strict)
				inc(&c->offline);
			else
				churn_err(c, name, "rmdir", -errno);
			sleep_ms(100);
		}
		if (tries < RMDIR_TRIES)
			inc(&c->removed);
		else
			COUNT(c->bad, "configfs %s/%s: rmdir refused for %d s",
			      c->backend, name, RMDIR_TRIES / 10);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* rmmod while in use */

static void *rmmod_main(void *arg)
{
	struct thr *t = arg;
	unsigned int i;

	while (!stopping()) {
		sleep_ms(1000 + rnd(t) % 2000);
		for (i = 0; i < nmods && !stopping(); i++) {
			if (!mods[i])
				continue;
			set_op(t, "delete_module");
			if (!syscall(SYS_delete_module, mods[i], O_NONBLOCK)) {
				COUNT(mod_bad[i], "rmmod %s: unloaded while in use",
				      mods[i]);
				mods[i] = NULL;	/* the shell loads it again */
			} else if (errno == EWOULDBLOCK || errno == EBUSY) {
				/* The module loader says EWOULDBLOCK for in use. */
				inc(&mod_refused[i]);
				if (errno == EBUSY)
					inc(&mod_ebusy[i]);
			} else {
				COUNT(mod_bad[i], "rmmod %s: %s", mods[i],
				      strerror(errno));
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Power failures */

static long long emergency_count(struct part *p)
{
	return get_num(CLASS_DIR "%s/emergency_sync_count", p->name);
}

static void *power_main(void *arg)
{
	struct thr *t = arg;
	long long before[MAX_PARTS], after;
	unsigned int gen, synced;
	unsigned int i, tries;
	int ret;

	while (!stopping()) {
		sleep_ms(1500 + rnd(t) % 2500);
		if (stopping())
			break;
		gen = ld32(&unbind_gen);
		for (i = 0; i < nparts; i++)
			before[i] = emergency_count(&parts[i]);
		set_op(t, "power fails (pull-up)");
		ret = put_attr(pull_path, "pull-up");
		if (ret) {
			COUNT(pf_bad, "power fail: %s", strerror(-ret));
			continue;
		}
		/*
		 * Every partition that stayed is synced in an emergency, or
		 * was clean (then the emergency sync does not count it).
		 * Flash is synced by a worker: 10 s, for TCG and a debug
		 * kernel, where one LEB may take seconds.
		 */
		set_op(t, "wait for the emergency syncs");
		for (tries = 0; tries < 200; tries++) {
			synced = 0;
			for (i = 0; i < nparts; i++)
				if (emergency_count(&parts[i]) > before[i] ||
				    !get_num(CLASS_DIR "%s/dirty", parts[i].name))
					synced++;
			if (synced == nparts)
				break;
			sleep_ms(50);
		}
		for (i = 0; i < nparts && synced < nparts; i++) {
			after = emergency_count(&parts[i]);
			if (after > before[i] ||
			    !get_num(CLASS_DIR "%s/dirty", parts[i].name))
				continue;
			/* Unbound meanwhile, or a new device: no count. */
			if (parts[i].may_vanish &&
			    (ld32(&unbind_gen) != gen || (gen & 1)))
				continue;
			COUNT(pf_bad, "power fail: %s dirty, no emergency sync (%lld -> %lld)",
			      parts[i].name, before[i], after);
		}
		sleep_ms(200 + rnd(t) % 800);
		set_op(t, "power back (pull-down)");
		ret = put_attr(pull_path, "pull-down");
		if (ret)
			COUNT(pf_bad, "power back: %s", strerror(-ret));
		inc(&pf_cycles);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* run */

static struct thr *spawn(void *(*fn)(void *), void *arg, unsigned long long seed,
			 const char *fmt, const char *what)
{
	struct thr *t = &thrs[nthrs++];

	snprintf(t->name, sizeof(t->name), fmt, what);
	t->arg = arg;
	t->rnd = seed * 0x9e3779b97f4a7c15ull + nthrs;
	t->op = "start";
	if (!t->rnd)
		t->rnd = 1;
	if (pthread_create(&t->tid, NULL, fn, t)) {
		perror("pthread_create");
		exit(1);
	}
	return t;
}

/* Show where each thread that did not end is, in user and kernel space. */
static void report_hung(void)
{
	char cmd[128], line[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < nthrs; i++) {
		if (thrs[i].done)
			continue;
		diag("hung: %s in %s", thrs[i].name, thrs[i].op);
	}
	/* Kernel stacks of every task of this process. */
	snprintf(cmd, sizeof(cmd),
		 "for s in /proc/%d/task/*/stack; do echo \"== $s\"; cat $s; done",
		 getpid());
	f = popen(cmd, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			diag("%s", strtok(line, "\n") ?: "");
		pclose(f);
	}
	/* Blocked tasks and the locks they hold, into the kernel log. */
	put_attr("/proc/sysrq-trigger", "w");
	put_attr("/proc/sysrq-trigger", "d");
}

static int join_all(unsigned int secs)
{
	struct timespec dl;
	unsigned int i, hung = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += secs;
	for (i = 0; i < nthrs; i++) {
		if (pthread_timedjoin_np(thrs[i].tid, NULL, &dl))
			hung++;
		else
			thrs[i].done = true;
	}
	return hung;
}

static bool part_init(struct part *p, const char *name, bool unbind)
{
	char path[PATH_MAX];
	off_t size;

	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(path, sizeof(path), CLASS_DIR "%s/backend", name);
	if (get_attr(path, p->backend, sizeof(p->backend))) {
		diag("%s: no %s: %s", name, path, strerror(errno));
		return false;
	}
	p->autot = get_num(CLASS_DIR "%s/autot", name) == 1;
	p->may_vanish = unbind && !strcmp(p->backend, "sim0");
	p->pin_fd = part_open(name, O_RDONLY);
	if (p->pin_fd < 0) {
		diag("%s: open: %s", name, strerror(errno));
		return false;
	}
	size = lseek(p->pin_fd, 0, SEEK_END);
	if (size < BLK) {
		diag("%s: size %lld", name, (long long)size);
		return false;
	}
	layout_init(&p->l, size);
	return true;
}

static void part_results(struct part *p)
{
	/* Progress, not speed: a UBI sync may take seconds on TCG. */
	report(ldl(&p->commits) >= 2,
	       "%s (%s): writer committed %lu times (%lu syncs, %lu aborts, %lu ESHUTDOWN retries)",
	       p->name, p->backend, ldl(&p->commits), ldl(&p->syncs),
	       ldl(&p->aborts), ldl(&p->eshutdown));
	report(!p->torn && !p->aborted_seen && !p->range_bad && !p->regress &&
	       p->reads > 0,
	       "%s: %lu reads, none torn or foreign (%lu), aborted (%lu), older than the last commit or newer than the last write (%lu), or going back (%lu)",
	       p->name, ldl(&p->reads), ldl(&p->torn), ldl(&p->aborted_seen),
	       ldl(&p->range_bad), ldl(&p->regress));
	report(!p->reopen_bad,
	       "%s: each of %lu reopens of the writer found the last commit (%lu wrong, %lu ENODEV)",
	       p->name, ldl(&p->reopens), ldl(&p->reopen_bad),
	       ldl(&p->vanished));
	report(!p->unexpected, "%s: no unexpected errno (%lu), %lu reader syncs",
	       p->name, ldl(&p->unexpected), ldl(&p->rsyncs));
}

static int cmd_run(int argc, char **argv)
{
	unsigned int secs = 90, i, hung, r;
	unsigned long long seed = time(NULL);
	unsigned long eshut = 0;
	bool first;
	int opt;

	while ((opt = getopt(argc, argv, "t:s:uc:m:f:")) != -1) {
		switch (opt) {
		case 't':
			secs = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'u':
			do_unbind = true;
			break;
		case 'c':
			if (nchurns < MAX_CHURN) {
				snprintf(churns[nchurns].backend,
					 sizeof(churns[0].backend), "%s",
					 optarg);
				churns[nchurns].idx = nchurns;
				nchurns++;
			}
			break;
		case 'm':
			if (nmods < MAX_MODS) {
				mod_names[nmods] = optarg;
				mods[nmods++] = optarg;
			}
			break;
		case 'f':
			pull_path = optarg;
			break;
		default:
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	diag("seed %llu, %u s", (unsigned long long)seed, secs);
	for (; optind < argc && nparts < MAX_PARTS; optind++) {
		if (!part_init(&parts[nparts], argv[optind], do_unbind))
			return 1;
		nparts++;
	}
	for (i = 0; i < nchurns; i++)
		churns[i].strict = !(do_unbind &&
				     !strcmp(churns[i].backend, "sim0"));

	/* Writers first: readers start once each has committed. */
	for (i = 0; i < nparts; i++)
		spawn(writer_main, &parts[i], seed, "writer %s", parts[i].name);
	for (r = 0; r < 600; r++) {
		first = true;
		for (i = 0; i < nparts; i++)
			first &= ld32(&parts[i].first_done);
		if (first)
			break;
		sleep_ms(50);
	}
	report(first, "every writer committed its first pattern");
	for (i = 0; i < nparts; i++)
		for (r = 0; r < READERS; r++)
			spawn(reader_main, &parts[i], seed, "reader %s",
			      parts[i].name);
	if (do_unbind)
		spawn(unbind_main, NULL, seed, "%s", "unbind/bind");
	for (i = 0; i < nchurns; i++)
		spawn(churn_main, &churns[i], seed, "configfs %s",
		      churns[i].backend);
	if (nmods)
		spawn(rmmod_main, NULL, seed, "%s", "rmmod");
	if (pull_path)
		spawn(power_main, NULL, seed, "%s", "power-fail");

	for (i = 0; i < secs; i++) {
		sleep_ms(1000);
		if (!(i % 30) && i)
			diag("%u s: %lu unbinds, %lu power failures",
			     i, ldl(&unbinds), ldl(&pf_cycles));
	}
	st32(&stop, 1);
	hung = join_all(60);
	if (hung)
		report_hung();
	report(!hung, "every thread ended within 60 s of the stop (%u hung)",
	       hung);

	for (i = 0; i < nparts; i++) {
		part_results(&parts[i]);
		eshut += ldl(&parts[i].eshutdown);
	}
	if (do_unbind)
		report(!unbind_bad && unbinds > 0,
		       "unbind/bind of " SIM_DEV ": %lu cycles, all gone and back (%lu failures)",
		       ldl(&unbinds), ldl(&unbind_bad));
	for (i = 0; i < nchurns; i++) {
		struct churn *c = &churns[i];

		report(!c->bad && c->used > 0 && c->made == c->removed,
		       "configfs %s: %lu runtime partitions made, %lu used (%lu disabled and enabled again), %lu removed, %lu rmdir refused while open; %lu ENODEV/ENOENT/EBUSY while unbound, %lu ESHUTDOWN, %lu wrong",
		       c->backend, ldl(&c->made), ldl(&c->used),
		       ldl(&c->reenabled), ldl(&c->removed), ldl(&c->busy_ok),
		       ldl(&c->offline), ldl(&c->eshutdown), ldl(&c->bad));
	}
	for (i = 0; i < nmods; i++)
		report(!mod_bad[i] && mod_refused[i] > 0,
		       "rmmod %s refused while in use, %lu times (%lu EBUSY, the others EWOULDBLOCK; %lu wrong)",
		       mod_names[i], mod_refused[i], mod_ebusy[i], mod_bad[i]);
	if (pull_path) {
		report(!pf_bad && pf_cycles > 0,
		       "power failure: %lu cycles, every partition synced in an emergency each time (%lu failures)",
		       ldl(&pf_cycles), ldl(&pf_bad));
		report(pf_cycles < 3 || eshut > 0,
		       "writes and commits got ESHUTDOWN while the power failed (%lu)",
		       eshut);
	}
	for (i = 0; i < nmods; i++)
		if (!mods[i])
			printf("unloaded %s\n", mod_names[i]);
	for (i = 0; i < nparts; i++)
		printf("state %s %u %u %u\n", parts[i].name,
		       ld32(&parts[i].committed), ld32(&parts[i].synced),
		       ld32(&parts[i].maybe));
	fflush(stdout);
	if (hung)
		_exit(1);
	for (i = 0; i < nparts; i++)
		close(parts[i].pin_fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* commit and verify */

static int open_layout(const char *name, int flags, struct layout *l)
{
	int fd = part_open(name, flags);
	off_t size;

	if (fd < 0) {
		fprintf(stderr, "knvram_stress: %s: %s\n", name,
			strerror(errno));
		exit(1);
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < BLK) {
		fprintf(stderr, "knvram_stress: %s: size %lld\n", name,
			(long long)size);
		exit(1);
	}
	layout_init(l, size);
	return fd;
}

static int cmd_commit(const char *name, unsigned int seq, bool sync)
{
	struct layout l;
	int fd = open_layout(name, O_RDWR, &l), on = 0;
	char *buf = malloc(BLK);
	unsigned int k;

	if (!buf)
		return 1;
	if (ioctl(fd, KNVRAMIOC_SETAUTOT, &on) ||
	    ioctl(fd, KNVRAMIOC_TBEGIN)) {
		perror("knvram_stress: TBEGIN");
		return 1;
	}
	for (k = 0; k < l.npat; k++) {
		pat_fill((unsigned int *)buf, seq, k);
		if (pwrite(fd, buf, BLK, pat_off(&l, k)) != BLK) {
			perror("knvram_stress: pwrite");
			return 1;
		}
	}
	if (ioctl(fd, KNVRAMIOC_TCOMMIT)) {
		perror("knvram_stress: TCOMMIT");
		return 1;
	}
	if (sync && fsync(fd)) {
		perror("knvram_stress: fsync");
		return 1;
	}
	free(buf);
	close(fd);
	return 0;
}

static int cmd_verify(const char *name, long long seq, long long alt)
{
	struct layout l;
	int fd = open_layout(name, O_RDONLY, &l);
	char *buf = malloc(l.span);
	char why[256];
	long long got;

	if (!buf)
		return 1;
	got = read_seq(&l, fd, buf, why, sizeof(why));
	if (got == -2) {
		printf("read: %s\n", strerror(errno));
		return 1;
	}
	if (got != seq && got != alt) {
		printf("holds %lld (blocks %s)\n", (long long)got, why);
		return 1;
	}
	free(buf);
	close(fd);
	return 0;
}

static void die_usage(void)
{
	fprintf(stderr,
		"usage: knvram_stress run [-t SECS] [-s SEED] [-u] [-c BACKEND]... [-m MODULE]... [-f PULL] PART...\n"
		"       knvram_stress commit PART SEQ [sync]\n"
		"       knvram_stress verify PART SEQ [SEQ2]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		die_usage();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "commit") && (argc == 4 || argc == 5))
		return cmd_commit(argv[2], strtoul(argv[3], NULL, 0),
				  argc == 5 && !strcmp(argv[4], "sync"));
	if (!strcmp(argv[1], "verify") && (argc == 4 || argc == 5))
		return cmd_verify(argv[2], strtoll(argv[3], NULL, 0),
				  argc == 5 ? strtoll(argv[4], NULL, 0) : -3);
	die_usage();
	return 2;
}
