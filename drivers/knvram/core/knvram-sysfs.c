// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram sysfs attributes: /sys/class/knvram/<name>/.
 * Documented in Documentation/ABI/testing/sysfs-class-knvram.
 */

#include <linux/bitmap.h>
#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/mutex.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>

#include "knvram-internal.h"

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_knvram_partition(dev)->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t autot_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_knvram_partition(dev)->autot));
}

static ssize_t autot_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	unsigned int val;
	int ret;

	ret = kstrtouint(buf, 10, &val);
	if (ret)
		return ret;
	if (val > 1)
		return -EINVAL;
	WRITE_ONCE(to_knvram_partition(dev)->autot, val);
	return count;
}
static DEVICE_ATTR_RW(autot);

static ssize_t dirty_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  knvram_dirty_bytes(to_knvram_partition(dev)));
}
static DEVICE_ATTR_RO(dirty);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_knvram_partition(dev)->backend_name);
}
static DEVICE_ATTR_RO(backend);

static ssize_t read_only_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  knvram_part_read_only(to_knvram_partition(dev)));
}
static DEVICE_ATTR_RO(read_only);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct knvram_partition *part = to_knvram_partition(dev);

	guard(mutex)(&part->lock);
	return sysfs_emit(buf, "%s\n", part->damaged ? "damaged" : "ok");
}
static DEVICE_ATTR_RO(state);

/* One line a bank, as Documentation/ABI/testing/sysfs-class-knvram says. */
static int knvram_bank_emit(struct knvram_partition *part, unsigned int i,
			    char *buf, int len)
{
	const struct knvram_bank_damage *d = &part->damage.bank[i];

	if (d->header == KNVRAM_BANK_BLANK)
		return sysfs_emit_at(buf, len, "bank%u: blank\n", i);
	if (d->header == KNVRAM_BANK_INVALID)
		return sysfs_emit_at(buf, len, "bank%u: header invalid\n", i);
	return sysfs_emit_at(buf, len,
			     "bank%u: generation %llu:%s %u of %u blocks fail their checksums%s\n",
			     i, d->gen, d->table_bad ? " table invalid," : "",
			     d->nbad, part->nblocks,
			     part->damage.salvaged == i ? ", salvaged" : "");
}

static ssize_t damage_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct knvram_partition *part = to_knvram_partition(dev);
	int len;

	guard(mutex)(&part->lock);
	if (!part->damaged)
		return sysfs_emit(buf, "none\n");
	if (part->damage.format_err)
		return sysfs_emit(buf, "format failed: %d\n",
				  part->damage.format_err);
	len = knvram_bank_emit(part, 0, buf, 0);
	return len + knvram_bank_emit(part, 1, buf, len);
}
static DEVICE_ATTR_RO(damage);

static ssize_t bad_blocks_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct knvram_partition *part = to_knvram_partition(dev);

	guard(mutex)(&part->lock);
	return bitmap_print_to_pagebuf(true, buf, part->bad, part->nblocks);
}
static DEVICE_ATTR_RO(bad_blocks);

/* The statistics: one show function, the field found by offset. */
struct knvram_stat_attr {
	struct device_attribute attr;
	size_t offset;
};

static ssize_t knvram_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct knvram_stat_attr *sa = container_of(attr, struct knvram_stat_attr,
						   attr);
	struct knvram_partition *part = to_knvram_partition(dev);
	atomic64_t *val = (void *)&part->stats + sa->offset;

	return sysfs_emit(buf, "%lld\n", atomic64_read(val));
}

#define KNVRAM_STAT_ATTR(_name)						\
	static struct knvram_stat_attr knvram_stat_##_name = {		\
		.attr = {						\
			.attr = { .name = __stringify(_name), .mode = 0444 }, \
			.show = knvram_stat_show,			\
		},							\
		.offset = offsetof(struct knvram_stats, _name),		\
	}

KNVRAM_STAT_ATTR(sync_count);
KNVRAM_STAT_ATTR(sync_bytes);
KNVRAM_STAT_ATTR(sync_last_ns);
KNVRAM_STAT_ATTR(sync_max_ns);
KNVRAM_STAT_ATTR(sync_errors);
KNVRAM_STAT_ATTR(emergency_sync_count);
KNVRAM_STAT_ATTR(emergency_sync_last_ns);
KNVRAM_STAT_ATTR(emergency_sync_deferred);
KNVRAM_STAT_ATTR(commit_count);
KNVRAM_STAT_ATTR(abort_count);

static struct attribute *knvram_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_autot.attr,
	&dev_attr_dirty.attr,
	&dev_attr_backend.attr,
	&dev_attr_read_only.attr,
	&dev_attr_state.attr,
	&dev_attr_damage.attr,
	&dev_attr_bad_blocks.attr,
	&knvram_stat_sync_count.attr.attr,
	&knvram_stat_sync_bytes.attr.attr,
	&knvram_stat_sync_last_ns.attr.attr,
	&knvram_stat_sync_max_ns.attr.attr,
	&knvram_stat_sync_errors.attr.attr,
	&knvram_stat_emergency_sync_count.attr.attr,
	&knvram_stat_emergency_sync_last_ns.attr.attr,
	&knvram_stat_emergency_sync_deferred.attr.attr,
	&knvram_stat_commit_count.attr.attr,
	&knvram_stat_abort_count.attr.attr,
	NULL
};

static const struct attribute_group knvram_group = {
	.attrs = knvram_attrs,
};

const struct attribute_group *knvram_groups[] = {
	&knvram_group,
	NULL
};
