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

#endif /* _UAPI_LINUX_KNVRAM_H */
