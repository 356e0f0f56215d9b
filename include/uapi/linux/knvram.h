/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * knvram: non-volatile RAM partitions with transactions.
 *
 * User API of /dev/knvram/<name>; see Documentation/userspace-api/knvram.rst.
 */
#ifndef _UAPI_LINUX_KNVRAM_H
#define _UAPI_LINUX_KNVRAM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * ioctl magic 0xB9, recorded in
 * Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#define KNVRAM_IOC_MAGIC	0xB9

/* Write the committed state of the partition to its backend. */
#define KNVRAMIOC_SYNC		_IO(KNVRAM_IOC_MAGIC, 0x00)
/* Start a transaction on this file description (needs write access). */
#define KNVRAMIOC_TBEGIN	_IO(KNVRAM_IOC_MAGIC, 0x01)
/* Publish every write of the transaction at once. */
#define KNVRAMIOC_TCOMMIT	_IO(KNVRAM_IOC_MAGIC, 0x02)
/* Drop every write of the transaction. */
#define KNVRAMIOC_TABORT	_IO(KNVRAM_IOC_MAGIC, 0x03)
/* Automatic transactions on (1) or off (0); the argument is an int. */
#define KNVRAMIOC_SETAUTOT	_IOW(KNVRAM_IOC_MAGIC, 0x04, int)
/* Read the automatic-transaction setting into an int. */
#define KNVRAMIOC_GETAUTOT	_IOR(KNVRAM_IOC_MAGIC, 0x05, int)

/* Bits of knvram_info.flags. */
#define KNVRAM_INFO_WRITER	(1U << 0)	/* the partition has a writer */
#define KNVRAM_INFO_TXN		(1U << 1)	/* this handle has a transaction open */
#define KNVRAM_INFO_AUTOT	(1U << 2)	/* this handle has autot on */
#define KNVRAM_INFO_FROZEN	(1U << 3)	/* the power is failing: no changes */
#define KNVRAM_INFO_READ_ONLY	(1U << 4)	/* the partition is write-protected */
#define KNVRAM_INFO_DAMAGED	(1U << 5)	/* salvaged content of damaged media */

/* The longest partition name, in bytes, without its NUL. */
#define KNVRAM_NAME_MAX		32
/* Bytes of a name field of struct knvram_info: a name, its NUL, padding. */
#define KNVRAM_INFO_NAME_LEN	48

/**
 * struct knvram_info - what KNVRAMIOC_INFO reports of a partition
 * @size: set by the caller to sizeof(struct knvram_info) as it knows it
 *	(at least %KNVRAM_INFO_SIZE_VER0); the kernel fills that many bytes
 *	at most and sets @size to the number of bytes it filled. Fields past
 *	@size are left untouched, so older and newer callers and kernels work
 *	together.
 * @flags: %KNVRAM_INFO_* bits.
 * @part_size: size of the partition in bytes.
 * @block_size: the backend's block size in bytes (the unit of a sync).
 * @reserved0: zero.
 * @generation: generation of the last sync that reached the backend.
 * @dirty_bytes: committed bytes not yet synced (whole blocks).
 * @commits: commits published since the partition was created or restored.
 * @name: the partition's name, NUL-terminated (at most
 *	%KNVRAM_NAME_MAX bytes before the NUL).
 * @backend: the backend's name, NUL-terminated; truncated to
 *	%KNVRAM_INFO_NAME_LEN - 1 bytes if longer.
 * @reserved: zero.
 */
struct knvram_info {
	__u32 size;
	__u32 flags;
	__u64 part_size;
	__u32 block_size;
	__u32 reserved0;
	__u64 generation;
	__u64 dirty_bytes;
	__u64 commits;
	char name[KNVRAM_INFO_NAME_LEN];
	char backend[KNVRAM_INFO_NAME_LEN];
	__u64 reserved[4];
};

#define KNVRAM_INFO_SIZE_VER0	176	/* sizeof the first published struct */

/*
 * Read the state of the partition and of this handle into a struct
 * knvram_info whose @size the caller has set. Also resets the POLLPRI
 * event of this handle (see poll() in the user API). The kernel matches
 * this command by type, number and direction, whatever struct size it
 * encodes, so that a caller built with a longer or shorter struct works.
 */
#define KNVRAMIOC_INFO		_IOWR(KNVRAM_IOC_MAGIC, 0x06, struct knvram_info)

#endif /* _UAPI_LINUX_KNVRAM_H */
