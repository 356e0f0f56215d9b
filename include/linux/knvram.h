/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * knvram consumer API: non-volatile RAM partitions with transactions.
 *
 * See Documentation/driver-api/knvram.rst.
 */
#ifndef _LINUX_KNVRAM_H
#define _LINUX_KNVRAM_H

#include <linux/bits.h>
#include <linux/err.h>
#include <linux/types.h>
#include <uapi/linux/knvram.h>

struct knvram_handle;

/* Flags of knvram_open(). */
#define KNVRAM_WRITE	BIT(0)	/* the partition's one writer; else a reader */
#define KNVRAM_NONBLOCK	BIT(1)	/* -EAGAIN wherever a call would sleep on a lock */
#define KNVRAM_SYNC	BIT(2)	/* writes and commits return once on the backend */

#if IS_ENABLED(CONFIG_KNVRAM)

struct knvram_handle *knvram_open(const char *name, unsigned int flags);
void knvram_close(struct knvram_handle *h);
ssize_t knvram_read(struct knvram_handle *h, void *buf, size_t len,
		    loff_t *pos);
ssize_t knvram_write(struct knvram_handle *h, const void *buf, size_t len,
		     loff_t *pos);
int knvram_tbegin(struct knvram_handle *h);
int knvram_tcommit(struct knvram_handle *h);
int knvram_tabort(struct knvram_handle *h);
int knvram_sync(struct knvram_handle *h);
int knvram_setautot(struct knvram_handle *h, bool on);
bool knvram_getautot(struct knvram_handle *h);
u64 knvram_size(struct knvram_handle *h);
int knvram_get_info(struct knvram_handle *h, struct knvram_info *info);
int knvram_emergency_sync(void);
void knvram_emergency_end(void);

#else /* CONFIG_KNVRAM */

static inline struct knvram_handle *knvram_open(const char *name,
						unsigned int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void knvram_close(struct knvram_handle *h)
{
}

static inline ssize_t knvram_read(struct knvram_handle *h, void *buf,
				  size_t len, loff_t *pos)
{
	return -EOPNOTSUPP;
}

static inline ssize_t knvram_write(struct knvram_handle *h, const void *buf,
				   size_t len, loff_t *pos)
{
	return -EOPNOTSUPP;
}

static inline int knvram_tbegin(struct knvram_handle *h)
{
	return -EOPNOTSUPP;
}

static inline int knvram_tcommit(struct knvram_handle *h)
{
	return -EOPNOTSUPP;
}

static inline int knvram_tabort(struct knvram_handle *h)
{
	return -EOPNOTSUPP;
}

static inline int knvram_sync(struct knvram_handle *h)
{
	return -EOPNOTSUPP;
}

static inline int knvram_setautot(struct knvram_handle *h, bool on)
{
	return -EOPNOTSUPP;
}

static inline bool knvram_getautot(struct knvram_handle *h)
{
	return false;
}

static inline u64 knvram_size(struct knvram_handle *h)
{
	return 0;
}

static inline int knvram_get_info(struct knvram_handle *h,
				  struct knvram_info *info)
{
	return -EOPNOTSUPP;
}

static inline int knvram_emergency_sync(void)
{
	return -EOPNOTSUPP;
}

static inline void knvram_emergency_end(void)
{
}

#endif /* CONFIG_KNVRAM */

#endif /* _LINUX_KNVRAM_H */
