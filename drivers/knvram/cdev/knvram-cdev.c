// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram character device: /dev/knvram/<name>. Turns file operations into
 * calls of the core's handle API and nothing more.
 * User API: Documentation/userspace-api/knvram.rst.
 */

#include <linux/cdev.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "../core/knvram-internal.h"

static int knvram_cdev_open(struct inode *inode, struct file *file)
{
	struct knvram_partition *part =
		container_of(inode->i_cdev, struct knvram_partition, cdev);
	unsigned int flags = 0;
	struct knvram_handle *h;

	if (file->f_mode & FMODE_WRITE)
		flags |= KNVRAM_WRITE;
	if (file->f_flags & O_NONBLOCK)
		flags |= KNVRAM_NONBLOCK;
	if (file->f_flags & (O_SYNC | O_DSYNC))
		flags |= KNVRAM_SYNC;

	h = knvram_open_partition(part, flags);
	if (IS_ERR(h))
		return PTR_ERR(h);
	file->private_data = h;
	return 0;
}

static int knvram_cdev_release(struct inode *inode, struct file *file)
{
	knvram_close(file->private_data);
	return 0;
}

static ssize_t knvram_cdev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return knvram_read_iter(iocb->ki_filp->private_data, to,
				&iocb->ki_pos);
}

static ssize_t knvram_cdev_write_iter(struct kiocb *iocb,
				      struct iov_iter *from)
{
	return knvram_write_iter(iocb->ki_filp->private_data, from,
				 &iocb->ki_pos);
}

static loff_t knvram_cdev_llseek(struct file *file, loff_t offset,
				 int whence)
{
	struct knvram_handle *h = file->private_data;
	int ret = knvram_handle_check(h);

	if (ret)
		return ret;
	return fixed_size_llseek(file, offset, whence, knvram_size(h));
}

static int knvram_cdev_fsync(struct file *file, loff_t start, loff_t end,
			     int datasync)
{
	return knvram_sync(file->private_data);
}

/*
 * KNVRAMIOC_INFO: the caller says in @size how long its struct is; it
 * gets min(that, ours) bytes and, in @size, how many. Only a call that
 * delivered them resets POLLPRI.
 */
static long knvram_cdev_info(struct knvram_handle *h,
			     struct knvram_info __user *uinfo)
{
	struct knvram_info info;
	u32 usize;
	long seq;
	int ret;

	if (get_user(usize, &uinfo->size))
		return -EFAULT;
	if (usize < KNVRAM_INFO_SIZE_VER0)
		return -EINVAL;
	ret = knvram_info_fill(h, &info, &seq);
	if (ret)
		return ret;
	info.size = min_t(u32, usize, sizeof(info));
	if (copy_to_user(uinfo, &info, info.size))
		return -EFAULT;
	knvram_info_seen(h, seq);
	return 0;
}

/* Type, number and direction: any struct size the caller was built with. */
static bool knvram_cdev_is_info(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(KNVRAMIOC_INFO) &&
	       _IOC_NR(cmd) == _IOC_NR(KNVRAMIOC_INFO) &&
	       _IOC_DIR(cmd) == _IOC_DIR(KNVRAMIOC_INFO);
}

static __poll_t knvram_cdev_poll(struct file *file, poll_table *wait)
{
	return knvram_poll(file->private_data, file, wait);
}

static long knvram_cdev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct knvram_handle *h = file->private_data;
	int __user *argp = (int __user *)arg;
	int val, ret;

	ret = knvram_handle_check(h);
	if (ret)
		return ret;

	if (knvram_cdev_is_info(cmd))
		return knvram_cdev_info(h, (struct knvram_info __user *)arg);

	switch (cmd) {
	case KNVRAMIOC_SYNC:
		return knvram_sync(h);
	case KNVRAMIOC_TBEGIN:
		return knvram_tbegin(h);
	case KNVRAMIOC_TCOMMIT:
		return knvram_tcommit(h);
	case KNVRAMIOC_TABORT:
		return knvram_tabort(h);
	case KNVRAMIOC_SETAUTOT:
		if (get_user(val, argp))
			return -EFAULT;
		if (val != 0 && val != 1)
			return -EINVAL;
		return knvram_setautot(h, val);
	case KNVRAMIOC_GETAUTOT:
		return put_user(knvram_getautot(h) ? 1 : 0, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations knvram_cdev_fops = {
	.owner = THIS_MODULE,
	.open = knvram_cdev_open,
	.release = knvram_cdev_release,
	.read_iter = knvram_cdev_read_iter,
	.write_iter = knvram_cdev_write_iter,
	.llseek = knvram_cdev_llseek,
	.fsync = knvram_cdev_fsync,
	.poll = knvram_cdev_poll,
	.unlocked_ioctl = knvram_cdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

int knvram_cdev_add(struct knvram_partition *part)
{
	cdev_init(&part->cdev, &knvram_cdev_fops);
	part->cdev.owner = THIS_MODULE;
	return cdev_device_add(&part->cdev, &part->dev);
}

void knvram_cdev_del(struct knvram_partition *part)
{
	cdev_device_del(&part->cdev, &part->dev);
}
