// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram backend on a UBI volume, for boards whose only non-volatile
 * memory is NAND or NOR flash.
 *
 * The media is the volume's logical eraseblocks (LEBs) end to end. Writes
 * are staged in memory, one buffer per LEB, and a flush replaces every
 * staged LEB with ubi_leb_change(), which UBI makes atomic across power
 * loss: every write into a LEB since the previous flush lands at once, so
 * the LEB is the backend's atomic unit. The knvram core writes a sync's
 * data and checksum table outside the LEB of the bank header, flushes,
 * then writes what goes into the header's LEB and the header, and flushes
 * again; so each LEB changes once per sync (a sync that fits in the
 * header's LEB is one LEB change), a sync cut off at any point leaves the
 * header LEB of the bank being written either untouched or complete after
 * the data, and every partition reads back its old or its new state. LEBs
 * the core did not write are never written.
 *
 * Flash writes sleep: the backend is not NMI-safe, and the knvram core
 * runs its part of an emergency sync in a high-priority worker.
 *
 * The backend comes and goes with its volume: a UBI volume notifier
 * registers it when the volume appears and unregisters it when UBI shuts
 * the volume down. See Documentation/driver-api/knvram-ubi.rst; devicetree
 * binding: Documentation/devicetree/bindings/knvram.yaml.
 */

#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/knvram-provider.h>
#include <linux/ktime.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mtd/ubi.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

/*
 * The knvram media format, for the size check at probe: a label of two
 * banks at the start of the media, then per partition two banks of one
 * header block, the checksum table (4 bytes a block) and the data.
 * knvram_partition_footprint() computes the same once a backend exists.
 */
#define KNVRAM_UBI_BLOCK	4096
#define KNVRAM_UBI_LABEL	(2 * KNVRAM_UBI_BLOCK)

/**
 * struct knvram_ubi - a knvram backend on a UBI volume
 * @dev:          The platform device of the devicetree node.
 * @vol_np:       The ubi-volume node that names the volume.
 * @part_np:      The "linux,ubi" MTD partition node above @vol_np.
 * @nb:           UBI volume notifier.
 * @attach_work:  Opens the volume and registers the backend.
 * @needed:       Bytes the fixed partitions need on the media.
 * @hold_up_us:   hold-up-time-us, or 0.
 * @state_lock:   Protects the fields up to @io_lock.
 * @ubi_num:      UBI device of the volume once seen, else -1.
 * @vol_id:       Volume ID once seen, else -1.
 * @ubi_seen:     A volume of the partition of @part_np was seen: its UBI
 *                device is attached.
 * @attach_err:   Error of the last attach, reported by probe.
 * @desc:         The open volume, or NULL.
 * @be:           The registered backend, or NULL.
 * @attaching:    The backend is being registered: partitions are loaded
 *                or formatted, not synced.
 * @io_lock:      Protects the fields below: media I/O and statistics.
 * @leb_size:     Usable bytes of a LEB.
 * @lebs:         LEBs of the volume.
 * @staged:       Per LEB, its new content until the next flush, or NULL.
 * @leb_changes:  LEBs written, in total.
 * @bytes_written: Bytes written, in total.
 * @flushes:      Flushes that wrote at least one LEB.
 * @last_flush_lebs: LEBs written by the last such flush.
 * @last_flush_bytes: Bytes written by the last such flush.
 * @errors:       Failed reads and LEB changes.
 */
struct knvram_ubi {
	struct device *dev;
	struct device_node *vol_np;
	struct device_node *part_np;
	struct notifier_block nb;
	struct work_struct attach_work;
	u64 needed;
	u32 hold_up_us;

	/* protects the volume's identity, @desc and @be */
	struct mutex state_lock;
	int ubi_num;
	int vol_id;
	bool ubi_seen;
	int attach_err;
	struct ubi_volume_desc *desc;
	struct knvram_backend *be;
	bool attaching;

	/* serialises media I/O; protects the staged LEBs and statistics */
	struct mutex io_lock;
	int leb_size;
	int lebs;
	u8 **staged;
	u64 leb_changes;
	u64 bytes_written;
	u64 flushes;
	u64 last_flush_lebs;
	u64 last_flush_bytes;
	u64 errors;
};

/* The LEB of media byte @offset, and in @offs the offset in that LEB. */
static int knvram_ubi_locate(struct knvram_ubi *nv, u64 offset, size_t len,
			     u32 *offs)
{
	u64 size = (u64)nv->lebs * nv->leb_size;

	lockdep_assert_held(&nv->io_lock);
	if (offset > size || len > size - offset)
		return -EINVAL;
	return div_u64_rem(offset, nv->leb_size, offs);
}

/* The staged content of LEB @lnum, read from the volume the first time. */
static u8 *knvram_ubi_stage(struct knvram_ubi *nv, int lnum)
{
	u8 *buf = nv->staged[lnum];
	int ret;

	if (buf)
		return buf;
	buf = kvmalloc(nv->leb_size, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	/* An unmapped LEB reads as 0xff. */
	ret = ubi_read(nv->desc, lnum, buf, 0, nv->leb_size);
	if (ret) {
		nv->errors++;
		kvfree(buf);
		return ERR_PTR(ret);
	}
	nv->staged[lnum] = buf;
	return buf;
}

static int knvram_ubi_read(void *priv, u64 offset, void *buf, size_t len)
{
	struct knvram_ubi *nv = priv;
	int lnum, ret;
	u32 offs;

	guard(mutex)(&nv->io_lock);
	lnum = knvram_ubi_locate(nv, offset, len, &offs);
	if (lnum < 0)
		return lnum;

	while (len) {
		size_t n = min_t(size_t, len, nv->leb_size - offs);

		if (nv->staged[lnum]) {
			memcpy(buf, nv->staged[lnum] + offs, n);
		} else {
			ret = ubi_read(nv->desc, lnum, buf, offs, n);
			if (ret) {
				nv->errors++;
				return ret;
			}
		}
		buf += n;
		len -= n;
		lnum++;
		offs = 0;
	}
	return 0;
}

static int knvram_ubi_write(void *priv, u64 offset, const void *buf,
			    size_t len)
{
	struct knvram_ubi *nv = priv;
	int lnum;
	u32 offs;

	guard(mutex)(&nv->io_lock);
	lnum = knvram_ubi_locate(nv, offset, len, &offs);
	if (lnum < 0)
		return lnum;

	while (len) {
		size_t n = min_t(size_t, len, nv->leb_size - offs);
		u8 *leb = knvram_ubi_stage(nv, lnum);

		if (IS_ERR(leb))
			return PTR_ERR(leb);
		memcpy(leb + offs, buf, n);
		buf += n;
		len -= n;
		lnum++;
		offs = 0;
	}
	return 0;
}

/*
 * Replace every staged LEB, in LEB order, each atomically: all that was
 * written into a LEB since the last flush lands at once (the atomic unit
 * the backend declares).
 *
 * On an error the LEB that failed and those after it stay staged, with
 * everything written into them, and the error is returned. Kept staged,
 * they reach the media with the next flush, and reads return them
 * meanwhile, so the core sees the media it wrote. The core counts a write
 * as durable only once a flush after it succeeded, so a retry of the sync
 * writes those blocks again, and flushes them before its header (or
 * writes them into the header's LEB). LEBs already replaced hold data of a
 * bank that is not valid until its header is written: writing them early
 * is harmless.
 */
static int knvram_ubi_flush(void *priv)
{
	struct knvram_ubi *nv = priv;
	u64 lebs = 0, t0;
	int lnum, ret = 0;

	guard(mutex)(&nv->io_lock);
	t0 = ktime_get_ns();
	for (lnum = 0; lnum < nv->lebs; lnum++) {
		if (!nv->staged[lnum])
			continue;
		ret = ubi_leb_change(nv->desc, lnum, nv->staged[lnum],
				     nv->leb_size);
		if (ret) {
			nv->errors++;
			break;
		}
		kvfree(nv->staged[lnum]);
		nv->staged[lnum] = NULL;
		lebs++;
	}
	if (!lebs)
		return ret;

	nv->flushes++;
	nv->leb_changes += lebs;
	nv->bytes_written += lebs * nv->leb_size;
	nv->last_flush_lebs = lebs;
	nv->last_flush_bytes = lebs * nv->leb_size;

	t0 = div_u64(ktime_get_ns() - t0, NSEC_PER_USEC);
	if (nv->hold_up_us && t0 > nv->hold_up_us && !READ_ONCE(nv->attaching))
		dev_warn_once(nv->dev,
			      "writing %llu LEBs took %llu us, more than hold-up-time-us (%u): an emergency sync of as much may not finish\n",
			      lebs, t0, nv->hold_up_us);
	return ret;
}

static const struct knvram_backend_ops knvram_ubi_ops = {
	.read = knvram_ubi_read,
	.write = knvram_ubi_write,
	.flush = knvram_ubi_flush,
};

/* Drop what was never flushed: the volume is going away. */
static void knvram_ubi_free_staged(struct knvram_ubi *nv)
{
	int lnum;

	guard(mutex)(&nv->io_lock);
	for (lnum = 0; lnum < nv->lebs; lnum++)
		kvfree(nv->staged[lnum]);
	kvfree(nv->staged);
	nv->staged = NULL;
	nv->lebs = 0;
}

/* Unregister the backend (which syncs its partitions), close the volume. */
static void knvram_ubi_detach(struct knvram_ubi *nv)
{
	lockdep_assert_held(&nv->state_lock);

	if (nv->be) {
		knvram_backend_unregister(nv->be);
		nv->be = NULL;
		dev_info(nv->dev, "UBI volume %d:%d detached\n", nv->ubi_num,
			 nv->vol_id);
	}
	if (nv->desc) {
		knvram_ubi_free_staged(nv);
		ubi_close_volume(nv->desc);
		nv->desc = NULL;
	}
}

static int knvram_ubi_attach(struct knvram_ubi *nv)
{
	struct knvram_backend_config config = {};
	struct ubi_volume_desc *desc;
	struct ubi_volume_info vi;
	struct knvram_backend *be;
	u64 size;

	lockdep_assert_held(&nv->state_lock);

	desc = ubi_open_volume(nv->ubi_num, nv->vol_id, UBI_READWRITE);
	if (IS_ERR(desc)) {
		dev_err(nv->dev, "cannot open UBI volume %d:%d: %pe\n",
			nv->ubi_num, nv->vol_id, desc);
		return PTR_ERR(desc);
	}
	ubi_get_volume_info(desc, &vi);
	size = (u64)vi.size * vi.usable_leb_size;
	if (vi.vol_type != UBI_DYNAMIC_VOLUME || size < nv->needed) {
		if (vi.vol_type != UBI_DYNAMIC_VOLUME)
			dev_err(nv->dev, "UBI volume %d:%d \"%s\" is static: knvram needs a dynamic volume\n",
				vi.ubi_num, vi.vol_id, vi.name);
		else
			dev_err(nv->dev, "UBI volume %d:%d \"%s\" too small: %d LEBs of %d bytes = %llu bytes, the partitions need %llu\n",
				vi.ubi_num, vi.vol_id, vi.name, vi.size,
				vi.usable_leb_size, size, nv->needed);
		ubi_close_volume(desc);
		return vi.vol_type != UBI_DYNAMIC_VOLUME ? -EMEDIUMTYPE :
							  -ENOSPC;
	}

	scoped_guard(mutex, &nv->io_lock) {
		nv->staged = kvcalloc(vi.size, sizeof(*nv->staged),
				      GFP_KERNEL);
		if (!nv->staged) {
			ubi_close_volume(desc);
			return -ENOMEM;
		}
		nv->lebs = vi.size;
		nv->leb_size = vi.usable_leb_size;
	}
	nv->desc = desc;

	config.dev = nv->dev;
	config.name = dev_name(nv->dev);
	config.ops = &knvram_ubi_ops;
	config.priv = nv;
	config.size = size;
	config.block_size = KNVRAM_UBI_BLOCK;
	/* LEBs are whole pages of at least 512 bytes: a multiple of 64. */
	if (IS_ALIGNED(vi.usable_leb_size, 64))
		config.atomic_unit = vi.usable_leb_size;
	WRITE_ONCE(nv->attaching, true);
	be = knvram_backend_register(&config);
	WRITE_ONCE(nv->attaching, false);
	if (IS_ERR(be)) {
		dev_err(nv->dev, "cannot register backend on UBI volume %d:%d: %pe\n",
			vi.ubi_num, vi.vol_id, be);
		knvram_ubi_detach(nv);
		return PTR_ERR(be);
	}
	nv->be = be;
	dev_info(nv->dev, "UBI volume %d:%d \"%s\": %d LEBs of %d bytes\n",
		 vi.ubi_num, vi.vol_id, vi.name, vi.size, vi.usable_leb_size);
	return 0;
}

static void knvram_ubi_attach_work(struct work_struct *work)
{
	struct knvram_ubi *nv = container_of(work, struct knvram_ubi,
					     attach_work);

	guard(mutex)(&nv->state_lock);
	if (nv->desc || nv->vol_id < 0)
		return;
	nv->attach_err = knvram_ubi_attach(nv);
}

/* Is @vi on the UBI device attached to our "linux,ubi" partition? */
static bool knvram_ubi_same_device(struct knvram_ubi *nv,
				   const struct ubi_volume_info *vi)
{
	/* As UBI's own lookup of volume nodes: volume -> ubiN -> MTD. */
	struct device *mtd = vi->dev->parent ? vi->dev->parent->parent : NULL;

	return mtd && dev_of_node(mtd) == nv->part_np;
}

/*
 * Called with UBI's device locks held: only note the volume here and let
 * a worker open it, since registering the backend loads (and may format)
 * partitions through UBI. Shutting down is synchronous: UBI frees the
 * volume when this returns.
 */
static int knvram_ubi_notify(struct notifier_block *nb, unsigned long event,
			     void *data)
{
	struct knvram_ubi *nv = container_of(nb, struct knvram_ubi, nb);
	struct ubi_notification *nt = data;
	const struct ubi_volume_info *vi = &nt->vi;

	if (dev_of_node(vi->dev) != nv->vol_np) {
		if (event == UBI_VOLUME_ADDED &&
		    knvram_ubi_same_device(nv, vi)) {
			guard(mutex)(&nv->state_lock);
			nv->ubi_seen = true;
		}
		return NOTIFY_DONE;
	}

	switch (event) {
	case UBI_VOLUME_ADDED:
	case UBI_VOLUME_RESIZED:	/* only while closed: maybe big enough now */
		scoped_guard(mutex, &nv->state_lock) {
			if (nv->desc)
				return NOTIFY_OK;
			nv->ubi_seen = true;
			nv->ubi_num = vi->ubi_num;
			nv->vol_id = vi->vol_id;
		}
		queue_work(system_long_wq, &nv->attach_work);
		return NOTIFY_OK;
	case UBI_VOLUME_SHUTDOWN:
	case UBI_VOLUME_REMOVED:
		cancel_work_sync(&nv->attach_work);
		scoped_guard(mutex, &nv->state_lock) {
			if (vi->ubi_num != nv->ubi_num ||
			    vi->vol_id != nv->vol_id)
				return NOTIFY_OK;
			knvram_ubi_detach(nv);
			nv->ubi_num = -1;
			nv->vol_id = -1;
		}
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
}

/* Bytes the fixed partitions of the node need, label included. */
static u64 knvram_ubi_needed(struct device *dev)
{
	struct device_node *np __free(device_node) =
		of_get_child_by_name(dev->of_node, "partitions");
	/* At least one partition of one block. */
	u64 needed = KNVRAM_UBI_LABEL + 6 * KNVRAM_UBI_BLOCK;

	if (!np)
		return needed;

	for_each_available_child_of_node_scoped(np, child) {
		u64 offset, size, bank;

		/* The core reports bad partitions when it creates them. */
		if (of_property_read_reg(child, 0, &offset, &size) || !size)
			continue;
		size = round_up(size, KNVRAM_UBI_BLOCK);
		bank = KNVRAM_UBI_BLOCK +
		       round_up(size / KNVRAM_UBI_BLOCK * sizeof(__le32),
				KNVRAM_UBI_BLOCK) + size;
		needed = max(needed, KNVRAM_UBI_LABEL + offset + 2 * bank);
	}
	return needed;
}

/*
 * The volume node: a child of the "volumes" node of a "linux,ubi" MTD
 * partition, as in Documentation/devicetree/bindings/mtd/partitions/.
 */
static int knvram_ubi_get_volume(struct device *dev, struct knvram_ubi *nv)
{
	struct device_node *vols;

	nv->vol_np = of_parse_phandle(dev->of_node, "ubi-volume", 0);
	if (!nv->vol_np)
		return dev_err_probe(dev, -EINVAL,
				     "ubi-volume: missing or not a phandle\n");

	vols = of_get_parent(nv->vol_np);
	if (vols && of_node_name_eq(vols, "volumes"))
		nv->part_np = of_get_parent(vols);
	of_node_put(vols);
	if (!nv->part_np ||
	    !of_device_is_compatible(nv->part_np, "linux,ubi"))
		return dev_err_probe(dev, -EINVAL,
				     "ubi-volume: %pOF is not a volume of a linux,ubi partition\n",
				     nv->vol_np);
	return 0;
}

static void knvram_ubi_put_nodes(void *data)
{
	struct knvram_ubi *nv = data;

	of_node_put(nv->part_np);
	of_node_put(nv->vol_np);
}

static void knvram_ubi_stop(struct knvram_ubi *nv)
{
	ubi_unregister_volume_notifier(&nv->nb);
	cancel_work_sync(&nv->attach_work);
	guard(mutex)(&nv->state_lock);
	knvram_ubi_detach(nv);
}

static int knvram_ubi_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct knvram_ubi *nv;
	int ret;

	nv = devm_kzalloc(dev, sizeof(*nv), GFP_KERNEL);
	if (!nv)
		return -ENOMEM;
	nv->dev = dev;
	nv->ubi_num = -1;
	nv->vol_id = -1;
	mutex_init(&nv->state_lock);
	mutex_init(&nv->io_lock);
	INIT_WORK(&nv->attach_work, knvram_ubi_attach_work);
	nv->nb.notifier_call = knvram_ubi_notify;

	ret = devm_add_action_or_reset(dev, knvram_ubi_put_nodes, nv);
	if (ret)
		return ret;
	ret = knvram_ubi_get_volume(dev, nv);
	if (ret)
		return ret;

	if (device_property_present(dev, "hold-up-time-us") &&
	    (device_property_count_u32(dev, "hold-up-time-us") != 1 ||
	     device_property_read_u32(dev, "hold-up-time-us",
				      &nv->hold_up_us) || !nv->hold_up_us))
		return dev_err_probe(dev, -EINVAL,
				     "hold-up-time-us: not one non-zero u32\n");
	nv->needed = knvram_ubi_needed(dev);
	platform_set_drvdata(pdev, nv);

	/* Calls us back at once for the volumes that exist already. */
	ret = ubi_register_volume_notifier(&nv->nb, 0);
	if (ret)
		return dev_err_probe(dev, ret,
				     "cannot register UBI volume notifier\n");
	flush_work(&nv->attach_work);

	scoped_guard(mutex, &nv->state_lock) {
		if (nv->be)
			return 0;
		ret = nv->attach_err;
		if (!ret && nv->ubi_seen)
			ret = -ENOENT;
	}
	if (!ret) {
		dev_info(dev, "waiting for UBI volume %pOF\n", nv->vol_np);
		return 0;
	}

	knvram_ubi_stop(nv);
	if (ret == -ENOENT)
		return dev_err_probe(dev, ret,
				     "ubi-volume: no volume matching %pOF on the UBI device of %pOF\n",
				     nv->vol_np, nv->part_np);
	return dev_err_probe(dev, ret, "cannot use UBI volume %pOF\n",
			     nv->vol_np);
}

static void knvram_ubi_remove(struct platform_device *pdev)
{
	knvram_ubi_stop(platform_get_drvdata(pdev));
}

/*
 * Statistics: cumulative since probe, across attaches of the volume. Each
 * attribute's var is the offset of its u64 in struct knvram_ubi.
 */
static ssize_t knvram_ubi_stat_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr,
						    struct dev_ext_attribute,
						    attr);
	struct knvram_ubi *nv = dev_get_drvdata(dev);
	u64 v;

	scoped_guard(mutex, &nv->io_lock)
		v = *(u64 *)((u8 *)nv + (uintptr_t)ea->var);
	return sysfs_emit(buf, "%llu\n", v);
}

#define KNVRAM_UBI_STAT(_name)						\
	static struct dev_ext_attribute knvram_ubi_##_name = {		\
		.attr = {						\
			.attr = { .name = __stringify(_name), .mode = 0444 }, \
			.show = knvram_ubi_stat_show,			\
		},							\
		.var = (void *)offsetof(struct knvram_ubi, _name),	\
	}

KNVRAM_UBI_STAT(leb_changes);
KNVRAM_UBI_STAT(bytes_written);
KNVRAM_UBI_STAT(flushes);
KNVRAM_UBI_STAT(last_flush_lebs);
KNVRAM_UBI_STAT(last_flush_bytes);
KNVRAM_UBI_STAT(errors);

static ssize_t leb_size_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct knvram_ubi *nv = dev_get_drvdata(dev);

	guard(mutex)(&nv->io_lock);
	return sysfs_emit(buf, "%d\n", nv->lebs ? nv->leb_size : 0);
}
static DEVICE_ATTR_RO(leb_size);

static ssize_t volume_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct knvram_ubi *nv = dev_get_drvdata(dev);

	guard(mutex)(&nv->state_lock);
	if (!nv->be)
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "ubi%d_%d\n", nv->ubi_num, nv->vol_id);
}
static DEVICE_ATTR_RO(volume);

static struct attribute *knvram_ubi_attrs[] = {
	&knvram_ubi_leb_changes.attr.attr,
	&knvram_ubi_bytes_written.attr.attr,
	&knvram_ubi_flushes.attr.attr,
	&knvram_ubi_last_flush_lebs.attr.attr,
	&knvram_ubi_last_flush_bytes.attr.attr,
	&knvram_ubi_errors.attr.attr,
	&dev_attr_leb_size.attr,
	&dev_attr_volume.attr,
	NULL
};
ATTRIBUTE_GROUPS(knvram_ubi);

static const struct of_device_id knvram_ubi_of_match[] = {
	{ .compatible = "ubi-nvram" },
	{ }
};
MODULE_DEVICE_TABLE(of, knvram_ubi_of_match);

static struct platform_driver knvram_ubi_driver = {
	.probe = knvram_ubi_probe,
	.remove = knvram_ubi_remove,
	.driver = {
		.name = "knvram-ubi",
		.of_match_table = knvram_ubi_of_match,
		.dev_groups = knvram_ubi_groups,
	},
};
module_platform_driver(knvram_ubi_driver);

MODULE_DESCRIPTION("knvram backend on a UBI volume");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(KNVRAM);
