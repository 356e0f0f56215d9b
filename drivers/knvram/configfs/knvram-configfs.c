// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram configfs: runtime partitions, created by an admin with mkdir.
 *
 *   /sys/kernel/config/knvram/<backend>/     one group per backend
 *       block_size, space, layout           (read-only)
 *       format                              NAME: format that partition
 *       label_state, label_format           the label area: ok/damaged;
 *                                           1: format it
 *       <name>/                             mkdir: a partition
 *           size, offset, autot, dev,       (read-write until the
 *           uid, gid, mode                   partition is on the media)
 *           read_only                       (read-write while not live)
 *           enable                          1: create /dev/knvram/<name>
 *           state, footprint                (read-only)
 *
 * Enabled partitions are recorded in the backend's label (knvram-label.c)
 * and come back at the next boot before userspace runs, without an item.
 * mkdir of such a partition's name binds a new item to it ("adopts" it):
 * its attributes then show it, and rmdir removes it.
 *
 * Everything here runs under knvram_lock; configfs' own locks come first.
 * See Documentation/admin-guide/knvram.rst.
 */

#include <linux/cleanup.h>
#include <linux/configfs.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/wait.h>

#include "../core/knvram-internal.h"

/**
 * struct knvram_cfs_backend - /sys/kernel/config/knvram/<backend>
 * @group: The group. It outlives its backend, offline, so that items the
 *         admin made are kept when a backend is unbound and bound again.
 * @be:    The backend, or NULL while it is not registered.
 * @going: The backend is going away: no item may go onto its media (see
 *         knvram_configfs_backend_del()).
 * @items: Its items.
 * @node:  Entry in knvram_cfs_backends.
 */
struct knvram_cfs_backend {
	struct config_group group;
	struct knvram_backend *be;
	bool going;
	struct list_head items;
	struct list_head node;
};

/**
 * struct knvram_cfs_part - /sys/kernel/config/knvram/<backend>/<name>
 * @item:     The item.
 * @cbe:      Its backend group.
 * @e:        What the admin set (or, adopted, what the label holds).
 * @on_media: The backend's label has an entry of this name, made by
 *            this item or adopted: size, offset and the rest are fixed.
 * @part:     The partition while it is live.
 * @owner:    The backend's module, held while @part is set.
 * @node:     Entry in @cbe->items.
 * @offline_pin: Pinned (rmdir: -EBUSY) while the backend is gone, being
 *            on its media.
 * @pin_node: Entry in the list of items knvram_configfs_backend_del() pins.
 * @dropped:  knvram_cfs_drop_item() is done with it (see
 *            knvram_configfs_backend_del()).
 */
struct knvram_cfs_part {
	struct config_item item;
	struct knvram_cfs_backend *cbe;
	struct knvram_label_entry e;
	bool on_media;
	struct knvram_partition *part;
	struct module *owner;
	struct list_head node;
	bool offline_pin;
	struct list_head pin_node;
	bool dropped;
};

/* Room for layout's lines; the rest of the page for "\n...\n". */
#define KNVRAM_CFS_LAYOUT_END	(PAGE_SIZE - 8)

/* Backend groups, under knvram_lock; removed at module exit only. */
static LIST_HEAD(knvram_cfs_backends);
/* Woken by knvram_cfs_drop_item(), for knvram_configfs_backend_del(). */
static DECLARE_WAIT_QUEUE_HEAD(knvram_cfs_drop_wq);

static struct configfs_subsystem knvram_cfs_subsys;

static inline struct knvram_cfs_part *to_cfs_part(struct config_item *item)
{
	return container_of(item, struct knvram_cfs_part, item);
}

static inline struct knvram_cfs_backend *to_cfs_backend(struct config_item *item)
{
	return container_of(to_config_group(item), struct knvram_cfs_backend,
			    group);
}

static struct knvram_cfs_part *knvram_cfs_find_item(const char *name)
{
	struct knvram_cfs_backend *cbe;
	struct knvram_cfs_part *p;

	list_for_each_entry(cbe, &knvram_cfs_backends, node)
		list_for_each_entry(p, &cbe->items, node)
			if (!strcmp(p->e.name, name))
				return p;
	return NULL;
}

/* Bind @p to its live partition: pin the backend module, let opens pin @p. */
static void knvram_cfs_bind(struct knvram_cfs_part *p,
			    struct knvram_partition *part)
{
	struct module *owner = part->be->owner;

	/* The backend is registered, so its module is live or loading. */
	if (!try_module_get(owner))
		return;
	p->owner = owner;
	p->part = part;
	scoped_guard(mutex, &part->lock)
		part->item = &p->item;
}

static void knvram_cfs_unbind(struct knvram_cfs_part *p)
{
	if (!p->part)
		return;
	scoped_guard(mutex, &p->part->lock)
		p->part->item = NULL;
	p->part = NULL;
	module_put(p->owner);
	p->owner = NULL;
}

/* ------------------------------------------------------------------ */
/* Partition items */

/*
 * A byte count: a number (decimal, 0x hex or 0 octal, as kstrtou64() with
 * base 0) and an optional K, M or G suffix, then an optional newline.
 * Returns 0, -EINVAL if it is not one, or -ERANGE if it does not fit in
 * 64 bits (with its suffix): never a wrapped value.
 */
static int knvram_cfs_parse_bytes(const char *page, u64 *val)
{
	char *num __free(kfree) = kstrdup(page, GFP_KERNEL);
	unsigned int shift = 0;
	size_t len;
	u64 v;
	int ret;

	if (!num)
		return -ENOMEM;
	len = strlen(num);
	if (len && num[len - 1] == '\n')
		num[--len] = '\0';
	switch (len ? num[len - 1] : '\0') {
	case 'G':
	case 'g':
		shift += 10;
		fallthrough;
	case 'M':
	case 'm':
		shift += 10;
		fallthrough;
	case 'K':
	case 'k':
		shift += 10;
		num[--len] = '\0';
	}
	/* An empty string is -EINVAL; more than 64 bits, -ERANGE. */
	ret = kstrtou64(num, 0, &v);
	if (ret)
		return ret;
	if (check_shl_overflow(v, shift, val))
		return -ERANGE;
	return 0;
}

/* Size, offset and the rest can change only before the first enable. */
static int knvram_cfs_settable(struct knvram_cfs_part *p)
{
	lockdep_assert_held(&knvram_lock);
	return p->part || p->on_media ? -EBUSY : 0;
}

static ssize_t knvram_cfs_size_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	return sysfs_emit(page, "%llu\n", p->e.size);
}

static ssize_t knvram_cfs_size_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	struct knvram_backend *be;
	u64 size;
	int ret;

	ret = knvram_cfs_parse_bytes(page, &size);
	if (ret)
		return ret;
	if (!size)
		return -EINVAL;

	guard(mutex)(&knvram_lock);
	ret = knvram_cfs_settable(p);
	if (ret)
		return ret;
	be = p->cbe->be;
	if (!be)
		return -ENODEV;
	if (size % be->block_size)
		return -EINVAL;
	if (!knvram_partition_footprint(be, size) ||
	    knvram_partition_footprint(be, size) > knvram_backend_space(be))
		return -ENOSPC;
	p->e.size = size;
	return count;
}

static ssize_t knvram_cfs_offset_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	if (p->e.offset == KNVRAM_OFFSET_AUTO)
		return sysfs_emit(page, "auto\n");
	return sysfs_emit(page, "%llu\n", p->e.offset);
}

static ssize_t knvram_cfs_offset_store(struct config_item *item,
				       const char *page, size_t count)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	bool place = sysfs_streq(page, "auto");
	struct knvram_backend *be;
	u64 offset = KNVRAM_OFFSET_AUTO;
	int ret;

	if (!place) {
		ret = knvram_cfs_parse_bytes(page, &offset);
		if (ret)
			return ret;
	}

	guard(mutex)(&knvram_lock);
	ret = knvram_cfs_settable(p);
	if (ret)
		return ret;
	be = p->cbe->be;
	if (!be)
		return -ENODEV;
	/* A number is checked even if it is U64_MAX, the value of "auto". */
	if (!place) {
		if (offset % be->block_size)
			return -EINVAL;
		if (offset >= knvram_backend_space(be))
			return -ENOSPC;
	}
	p->e.offset = offset;
	return count;
}

/*
 * The label flags shown as 0/1 attributes: autot (the flag), dev (its
 * inverse, %KNVRAM_LABEL_KERNEL_ONLY) and read_only. @inv: the attribute
 * reads 1 when the flag is clear.
 */
static ssize_t knvram_cfs_flag_show(struct config_item *item, char *page,
				    u16 flag, bool inv)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	return sysfs_emit(page, "%d\n", !(p->e.flags & flag) == inv);
}

static void knvram_cfs_assign_flag(struct knvram_cfs_part *p, u16 flag,
				   bool set)
{
	if (set)
		p->e.flags |= flag;
	else
		p->e.flags &= ~flag;
}

/* A flag fixed once the partition is on the media, as size is. */
static ssize_t knvram_cfs_flag_store(struct config_item *item,
				     const char *page, size_t count, u16 flag,
				     bool inv)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	guard(mutex)(&knvram_lock);
	ret = knvram_cfs_settable(p);
	if (ret)
		return ret;
	knvram_cfs_assign_flag(p, flag, on != inv);
	return count;
}

static ssize_t knvram_cfs_autot_show(struct config_item *item, char *page)
{
	return knvram_cfs_flag_show(item, page, KNVRAM_LABEL_AUTOT, false);
}

static ssize_t knvram_cfs_autot_store(struct config_item *item,
				      const char *page, size_t count)
{
	return knvram_cfs_flag_store(item, page, count, KNVRAM_LABEL_AUTOT,
				     false);
}

/* dev: 1 (the default) for a /dev node, 0 for knvram_open() only. */
static ssize_t knvram_cfs_dev_show(struct config_item *item, char *page)
{
	return knvram_cfs_flag_show(item, page, KNVRAM_LABEL_KERNEL_ONLY,
				    true);
}

static ssize_t knvram_cfs_dev_store(struct config_item *item,
				    const char *page, size_t count)
{
	return knvram_cfs_flag_store(item, page, count,
				     KNVRAM_LABEL_KERNEL_ONLY, true);
}

static ssize_t knvram_cfs_read_only_show(struct config_item *item,
					 char *page)
{
	return knvram_cfs_flag_show(item, page, KNVRAM_LABEL_READ_ONLY, false);
}

/*
 * read_only: 1 write-protects the partition once it is formatted (the
 * first enable formats it all the same). Unlike the others it can change
 * while the partition is disabled: that rewrites its label entry, and
 * the next enable brings it back so, with its data.
 */
static ssize_t knvram_cfs_read_only_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	guard(mutex)(&knvram_lock);
	if (p->part)
		return -EBUSY;
	if (p->on_media) {
		/* As enable: not on the media of a backend going away. */
		if (!p->cbe->be || p->cbe->going)
			return -ENODEV;
		ret = knvram_runtime_set_read_only(p->cbe->be, p->e.name, on);
		if (ret)
			return ret;
	}
	knvram_cfs_assign_flag(p, KNVRAM_LABEL_READ_ONLY, on);
	return count;
}

/* uid and gid: decimal, valid in the initial user namespace. */
static ssize_t knvram_cfs_id_show(struct config_item *item, char *page,
				  bool gid)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	return sysfs_emit(page, "%u\n", gid ? p->e.gid : p->e.uid);
}

static ssize_t knvram_cfs_id_store(struct config_item *item, const char *page,
				   size_t count, bool gid)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	bool valid;
	u32 id;
	int ret;

	ret = kstrtou32(page, 10, &id);
	if (ret)
		return ret;
	valid = gid ? gid_valid(make_kgid(&init_user_ns, id)) :
		      uid_valid(make_kuid(&init_user_ns, id));
	if (!valid)
		return -EINVAL;
	guard(mutex)(&knvram_lock);
	ret = knvram_cfs_settable(p);
	if (ret)
		return ret;
	if (gid)
		p->e.gid = id;
	else
		p->e.uid = id;
	return count;
}

static ssize_t knvram_cfs_uid_show(struct config_item *item, char *page)
{
	return knvram_cfs_id_show(item, page, false);
}

static ssize_t knvram_cfs_uid_store(struct config_item *item,
				    const char *page, size_t count)
{
	return knvram_cfs_id_store(item, page, count, false);
}

static ssize_t knvram_cfs_gid_show(struct config_item *item, char *page)
{
	return knvram_cfs_id_show(item, page, true);
}

static ssize_t knvram_cfs_gid_store(struct config_item *item,
				    const char *page, size_t count)
{
	return knvram_cfs_id_store(item, page, count, true);
}

static ssize_t knvram_cfs_mode_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	return sysfs_emit(page, "%04o\n", p->e.mode);
}

static ssize_t knvram_cfs_mode_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	u16 mode;
	int ret;

	ret = kstrtou16(page, 8, &mode);
	if (ret)
		return ret;
	if (mode & ~0777)
		return -EINVAL;
	guard(mutex)(&knvram_lock);
	ret = knvram_cfs_settable(p);
	if (ret)
		return ret;
	p->e.mode = mode;
	return count;
}

static ssize_t knvram_cfs_enable_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);

	guard(mutex)(&knvram_lock);
	return sysfs_emit(page, "%d\n", !!p->part);
}

static ssize_t knvram_cfs_enable_store(struct config_item *item,
				       const char *page, size_t count)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	struct knvram_partition *part, *live;
	struct knvram_backend *be;
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;

	guard(mutex)(&knvram_lock);
	be = p->cbe->be;
	if (!be)
		return -ENODEV;
	if (on == !!p->part)
		return count;

	if (on) {
		if (p->cbe->going)
			return -ENODEV;
		if (!p->e.size)
			return -EINVAL;
		ret = knvram_runtime_enable(be, &p->e, !p->on_media, &part);
		if (ret)
			return ret;
		p->on_media = true;
		if (p->e.offset == KNVRAM_OFFSET_AUTO)
			p->e.offset = part->offset - knvram_media_label_size(be);
		knvram_cfs_bind(p, part);
		return count;
	}

	/* Keep the item bound until the partition is gone for sure. */
	live = p->part;
	knvram_cfs_unbind(p);
	ret = knvram_runtime_disable(live, false);
	if (ret) {
		knvram_cfs_bind(p, live);
		return ret;
	}
	return count;
}

static const char *knvram_cfs_state(struct knvram_cfs_part *p,
				    const struct knvram_label_entry **ep)
{
	struct knvram_backend *be = p->cbe->be;
	const struct knvram_label_entry *e;

	*ep = NULL;
	if (!be)
		return "offline";
	if (p->part)
		return "live";
	if (!p->on_media)
		return "pending";
	e = knvram_label_find(be->label, p->e.name);
	if (e && (e->flags & KNVRAM_LABEL_ENABLED) && e->err) {
		*ep = e;
		return "failed";
	}
	return "disabled";
}

static ssize_t knvram_cfs_state_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	const struct knvram_label_entry *e;
	const char *state;

	guard(mutex)(&knvram_lock);
	state = knvram_cfs_state(p, &e);
	if (e)
		return sysfs_emit(page, "%s %pe\n", state, ERR_PTR(e->err));
	return sysfs_emit(page, "%s\n", state);
}

static ssize_t knvram_cfs_footprint_show(struct config_item *item, char *page)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	struct knvram_backend *be;

	guard(mutex)(&knvram_lock);
	be = p->cbe->be;
	return sysfs_emit(page, "%llu\n", be && p->e.size ?
			  knvram_partition_footprint(be, p->e.size) : 0);
}

CONFIGFS_ATTR(knvram_cfs_, size);
CONFIGFS_ATTR(knvram_cfs_, offset);
CONFIGFS_ATTR(knvram_cfs_, autot);
CONFIGFS_ATTR(knvram_cfs_, dev);
CONFIGFS_ATTR(knvram_cfs_, read_only);
CONFIGFS_ATTR(knvram_cfs_, uid);
CONFIGFS_ATTR(knvram_cfs_, gid);
CONFIGFS_ATTR(knvram_cfs_, mode);
CONFIGFS_ATTR(knvram_cfs_, enable);
CONFIGFS_ATTR_RO(knvram_cfs_, state);
CONFIGFS_ATTR_RO(knvram_cfs_, footprint);

static struct configfs_attribute *knvram_cfs_part_attrs[] = {
	&knvram_cfs_attr_size,
	&knvram_cfs_attr_offset,
	&knvram_cfs_attr_autot,
	&knvram_cfs_attr_dev,
	&knvram_cfs_attr_read_only,
	&knvram_cfs_attr_uid,
	&knvram_cfs_attr_gid,
	&knvram_cfs_attr_mode,
	&knvram_cfs_attr_enable,
	&knvram_cfs_attr_state,
	&knvram_cfs_attr_footprint,
	NULL
};

static void knvram_cfs_part_release(struct config_item *item)
{
	kfree(to_cfs_part(item));
}

static struct configfs_item_operations knvram_cfs_part_ops = {
	.release = knvram_cfs_part_release,
};

static const struct config_item_type knvram_cfs_part_type = {
	.ct_item_ops = &knvram_cfs_part_ops,
	.ct_attrs = knvram_cfs_part_attrs,
	.ct_owner = THIS_MODULE,
};

/*
 * Adopt the runtime partition @e of the item's backend, live as @part or
 * not live (NULL): a new item shows it, and its rmdir removes it. Refused
 * while the partition is open: those handles would not pin the item, and
 * rmdir could not then be refused.
 */
static int knvram_cfs_adopt(struct knvram_cfs_part *p,
			    const struct knvram_label_entry *e,
			    struct knvram_partition *part)
{
	if (part) {
		scoped_guard(mutex, &part->lock)
			if (part->nhandles)
				return -EBUSY;
		knvram_cfs_bind(p, part);
	}
	p->e = *e;
	p->e.err = 0;
	p->on_media = true;
	return 0;
}

static struct config_item *
knvram_cfs_make_item(struct config_group *group, const char *name)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(&group->cg_item);
	struct knvram_cfs_part *p __free(kfree) = NULL;
	const struct knvram_label_entry *e;
	struct knvram_partition *part;
	struct knvram_backend *be;
	int ret;

	if (strlen(name) > KNVRAM_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	if (!knvram_name_valid(name))
		return ERR_PTR(-EINVAL);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	strscpy(p->e.name, name);
	p->e.offset = KNVRAM_OFFSET_AUTO;
	p->e.mode = 0600;
	p->cbe = cbe;

	guard(mutex)(&knvram_lock);
	be = cbe->be;
	if (!be || cbe->going)
		return ERR_PTR(-ENODEV);
	if (knvram_cfs_find_item(name))
		return ERR_PTR(-EEXIST);
	/* Only this backend's runtime partition of that name is adopted. */
	e = knvram_runtime_lookup(be, name, &part);
	if (!IS_ERR(e)) {
		ret = knvram_cfs_adopt(p, e, part);
		if (ret)
			return ERR_PTR(ret);
	} else if (PTR_ERR(e) != -ENOENT) {
		return ERR_CAST(e);
	} else if (knvram_name_taken(name)) {
		return ERR_PTR(-EEXIST);
	}
	config_item_init_type_name(&p->item, name, &knvram_cfs_part_type);
	list_add_tail(&p->node, &cbe->items);
	return &no_free_ptr(p)->item;
}

static void knvram_cfs_drop_item(struct config_group *group,
				 struct config_item *item)
{
	struct knvram_cfs_part *p = to_cfs_part(item);
	struct knvram_backend *be;
	int ret = 0;

	scoped_guard(mutex, &knvram_lock) {
		be = p->cbe->be;
		list_del(&p->node);
		if (p->part) {
			struct knvram_partition *live = p->part;

			knvram_cfs_unbind(p);
			ret = knvram_runtime_disable(live, true);
		} else if (p->on_media && be) {
			ret = knvram_runtime_forget(be, p->e.name);
		}
		/*
		 * rmdir cannot fail: a partition that could not be erased
		 * stays on the media (and live, if it was), as after a boot.
		 */
		if (ret && ret != -ENOENT)
			dev_warn_ratelimited(be->dev,
					     "%s: partition '%s' kept: %pe\n",
					     be->name, p->e.name, ERR_PTR(ret));
		WRITE_ONCE(p->dropped, true);
	}
	wake_up_all(&knvram_cfs_drop_wq);
	config_item_put(item);
}

/* ------------------------------------------------------------------ */
/* Backend groups */

static ssize_t knvram_cfs_block_size_show(struct config_item *item,
					  char *page)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);

	guard(mutex)(&knvram_lock);
	if (!cbe->be)
		return -ENODEV;
	return sysfs_emit(page, "%u\n", cbe->be->block_size);
}

static ssize_t knvram_cfs_space_show(struct config_item *item, char *page)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);

	guard(mutex)(&knvram_lock);
	if (!cbe->be)
		return -ENODEV;
	return sysfs_emit(page, "%llu\n", knvram_backend_space(cbe->be));
}

/*
 * One line a partition: name, offset and footprint in the partition space,
 * size, origin (fixed or runtime) and state. Runtime partitions that are
 * not live are listed too: their space is taken. A configfs attribute is
 * one page: a layout longer than that (dozens of partitions with long
 * names) ends with a line "...".
 */
static ssize_t knvram_cfs_layout_show(struct config_item *item, char *page)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);
	u64 label_size, fp;
	struct knvram_partition *part;
	struct knvram_backend *be;
	ssize_t len;
	u32 i;

	guard(mutex)(&knvram_lock);
	be = cbe->be;
	if (!be)
		return -ENODEV;
	label_size = knvram_media_label_size(be);
	len = sysfs_emit(page, "# name offset size footprint origin state\n");
	list_for_each_entry(part, &be->partitions, be_node) {
		if (part->runtime)
			continue;
		len += scnprintf(page + len, KNVRAM_CFS_LAYOUT_END - len,
				 "%s %llu %llu %llu fixed live\n", part->name,
				 part->offset - label_size, part->size,
				 2 * part->bank_size);
	}
	for (i = 0; i < be->label->n; i++) {
		const struct knvram_label_entry *e = &be->label->e[i];
		const char *state = "disabled";

		part = knvram_find_locked(e->name);
		if (part && part->be == be && part->runtime)
			state = "live";
		else if (e->flags & KNVRAM_LABEL_ENABLED)
			state = "failed";
		fp = knvram_partition_footprint(be, e->size);
		len += scnprintf(page + len, KNVRAM_CFS_LAYOUT_END - len,
				 "%s %llu %llu %llu runtime %s\n", e->name,
				 e->offset, e->size, fp, state);
	}
	/* scnprintf() stops one short of the end when it truncates. */
	if (len >= KNVRAM_CFS_LAYOUT_END - 1)
		len = KNVRAM_CFS_LAYOUT_END - 1 +
		      scnprintf(page + KNVRAM_CFS_LAYOUT_END - 1,
				PAGE_SIZE - KNVRAM_CFS_LAYOUT_END + 1, "\n...\n");
	return len;
}

/* A partition of this backend, by name: formatted, at the admin's word. */
static ssize_t knvram_cfs_format_store(struct config_item *item,
				       const char *page, size_t count)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);
	struct knvram_partition *part;
	char name[KNVRAM_NAME_MAX + 2];
	size_t len = strcspn(page, "\n");
	int ret;

	if (!len || len > KNVRAM_NAME_MAX || page[len + !!page[len]])
		return -EINVAL;
	memcpy(name, page, len);
	name[len] = '\0';
	if (!knvram_name_valid(name))
		return -EINVAL;

	guard(mutex)(&knvram_lock);
	if (!cbe->be)
		return -ENODEV;
	part = knvram_find_locked(name);
	if (!part || part->be != cbe->be)
		return -ENOENT;
	ret = knvram_partition_format(part);
	return ret ?: count;
}

static ssize_t knvram_cfs_label_state_show(struct config_item *item,
					   char *page)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);

	guard(mutex)(&knvram_lock);
	if (!cbe->be)
		return -ENODEV;
	return sysfs_emit(page, "%s\n", cbe->be->label->err ? "damaged" : "ok");
}

static ssize_t knvram_cfs_label_format_store(struct config_item *item,
					     const char *page, size_t count)
{
	struct knvram_cfs_backend *cbe = to_cfs_backend(item);
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	if (!on)
		return -EINVAL;

	guard(mutex)(&knvram_lock);
	if (!cbe->be)
		return -ENODEV;
	ret = knvram_label_format(cbe->be);
	return ret ?: count;
}

CONFIGFS_ATTR_RO(knvram_cfs_, block_size);
CONFIGFS_ATTR_RO(knvram_cfs_, space);
CONFIGFS_ATTR_RO(knvram_cfs_, layout);
CONFIGFS_ATTR_WO(knvram_cfs_, format);
CONFIGFS_ATTR_RO(knvram_cfs_, label_state);
CONFIGFS_ATTR_WO(knvram_cfs_, label_format);

static struct configfs_attribute *knvram_cfs_backend_attrs[] = {
	&knvram_cfs_attr_block_size,
	&knvram_cfs_attr_space,
	&knvram_cfs_attr_layout,
	&knvram_cfs_attr_format,
	&knvram_cfs_attr_label_state,
	&knvram_cfs_attr_label_format,
	NULL
};

static struct configfs_group_operations knvram_cfs_backend_ops = {
	.make_item = knvram_cfs_make_item,
	.drop_item = knvram_cfs_drop_item,
};

static const struct config_item_type knvram_cfs_backend_type = {
	.ct_group_ops = &knvram_cfs_backend_ops,
	.ct_attrs = knvram_cfs_backend_attrs,
	.ct_owner = THIS_MODULE,
};

static struct knvram_cfs_backend *knvram_cfs_find_backend(const char *name)
{
	struct knvram_cfs_backend *cbe;

	list_for_each_entry(cbe, &knvram_cfs_backends, node)
		if (!strcmp(config_item_name(&cbe->group.cg_item), name))
			return cbe;
	return NULL;
}

/* Bind the items of @cbe to the runtime partitions @be brought back. */
static void knvram_cfs_online(struct knvram_cfs_backend *cbe,
			      struct knvram_backend *be)
{
	struct knvram_partition *part;
	struct knvram_cfs_part *p;

	cbe->be = be;
	list_for_each_entry(p, &cbe->items, node) {
		if (p->offline_pin) {
			configfs_undepend_item(&p->item);
			p->offline_pin = false;
		}
		if (!p->on_media)
			continue;
		/* The media may not be the one the item was made on. */
		if (knvram_runtime_lookup(be, p->e.name, &part) ==
		    ERR_PTR(-ENOENT)) {
			p->on_media = false;
			continue;
		}
		/* Not if the name is live elsewhere: that one is not ours. */
		if (part)
			knvram_cfs_bind(p, part);
	}
}

/**
 * knvram_configfs_backend_add() - show a new backend in configfs
 * @be: Backend, registered, its partitions restored.
 *
 * Context: Process context; takes configfs' locks, so not knvram_lock.
 */
void knvram_configfs_backend_add(struct knvram_backend *be)
{
	struct knvram_cfs_backend *cbe;
	int ret;

	scoped_guard(mutex, &knvram_lock) {
		cbe = knvram_cfs_find_backend(be->name);
		if (cbe) {
			knvram_cfs_online(cbe, be);
			return;
		}
	}

	cbe = kzalloc(sizeof(*cbe), GFP_KERNEL);
	if (!cbe)
		goto err;
	INIT_LIST_HEAD(&cbe->items);
	config_group_init_type_name(&cbe->group, be->name,
				    &knvram_cfs_backend_type);
	ret = configfs_register_group(&knvram_cfs_subsys.su_group, &cbe->group);
	if (ret) {
		kfree(cbe);
		goto err;
	}
	scoped_guard(mutex, &knvram_lock) {
		cbe->be = be;
		list_add_tail(&cbe->node, &knvram_cfs_backends);
	}
	return;
err:
	dev_warn(be->dev, "%s: not in configfs: runtime partitions unavailable\n",
		 be->name);
}

/**
 * knvram_configfs_backend_del() - a backend goes away
 * @be: Backend.
 *
 * Its group and items stay, offline, until it comes back: the items are
 * the admin's. rmdir removes those whose partition is not on the media;
 * the others are pinned until the backend is back.
 *
 * An item whose partition is on the media cannot be removed while the
 * backend is gone: its label entry could not be erased, and the partition
 * would come back live with no item. So such items are pinned (rmdir gets
 * -EBUSY until knvram_cfs_online()) while the backend is still there,
 * and only then is it taken away:
 *  1. @going is set: from now on no item goes onto the media (enable and
 *     adoption fail with -ENODEV); the items on it are collected.
 *  2. Outside knvram_lock (configfs_depend_item() takes configfs' locks,
 *     which rmdir holds when it calls knvram_cfs_drop_item() and so
 *     knvram_lock), each is pinned. One whose rmdir has begun cannot be
 *     (configfs marks it dropping first): wait for its drop_item(), which
 *     still finds the backend and erases the entry. One still being made
 *     (an adoption: mkdir has not returned) cannot be pinned yet either:
 *     try again until it is made, or dropped if its mkdir fails.
 *  3. The items are unbound and the backend is gone.
 * The backend cannot come back before this returns (its device is
 * unbinding).
 *
 * Context: Process context. Not under knvram_lock.
 */
void knvram_configfs_backend_del(struct knvram_backend *be)
{
	struct knvram_cfs_backend *cbe = NULL, *c;
	struct knvram_cfs_part *p, *tmp;
	LIST_HEAD(pin);

	scoped_guard(mutex, &knvram_lock) {
		list_for_each_entry(c, &knvram_cfs_backends, node) {
			if (c->be == be) {
				cbe = c;
				break;
			}
		}
		if (!cbe)
			return;
		cbe->going = true;
		list_for_each_entry(p, &cbe->items, node) {
			if (p->on_media && !p->offline_pin) {
				config_item_get(&p->item);
				list_add_tail(&p->pin_node, &pin);
			}
		}
	}

	list_for_each_entry_safe(p, tmp, &pin, pin_node) {
		bool pinned;

		for (;;) {
			pinned = !configfs_depend_item(&knvram_cfs_subsys,
						       &p->item);
			if (pinned ||
			    wait_event_timeout(knvram_cfs_drop_wq,
					       READ_ONCE(p->dropped), HZ / 100))
				break;
		}
		scoped_guard(mutex, &knvram_lock)
			p->offline_pin = pinned;
		config_item_put(&p->item);
	}

	scoped_guard(mutex, &knvram_lock) {
		list_for_each_entry(p, &cbe->items, node)
			knvram_cfs_unbind(p);
		cbe->be = NULL;
		cbe->going = false;
	}
}

/**
 * knvram_configfs_pin() - pin the item of a partition for a new handle
 * @part:     Partition being opened.
 * @nonblock: Fail rather than wait for the partition's lock.
 *
 * While pinned, rmdir of the item fails with -EBUSY. An item being made or
 * removed cannot be pinned: the handle is then not counted, and if the
 * item is removed it gets -ENODEV, as for any removed partition.
 *
 * Context: Process context; no knvram lock held.
 * Return: The pinned item, NULL, or ERR_PTR(-EAGAIN) if @nonblock and the
 * partition's lock is taken.
 */
struct config_item *knvram_configfs_pin(struct knvram_partition *part,
					bool nonblock)
{
	struct config_item *item;

	if (nonblock) {
		if (!mutex_trylock(&part->lock))
			return ERR_PTR(-EAGAIN);
	} else {
		mutex_lock(&part->lock);
	}
	item = config_item_get(part->item);
	mutex_unlock(&part->lock);
	if (!item)
		return NULL;
	if (configfs_depend_item(&knvram_cfs_subsys, item)) {
		config_item_put(item);
		return NULL;
	}
	return item;
}

/**
 * knvram_configfs_unpin() - undo knvram_configfs_pin()
 * @item: Its result; NULL is allowed.
 */
void knvram_configfs_unpin(struct config_item *item)
{
	if (!item)
		return;
	configfs_undepend_item(item);
	config_item_put(item);
}

static const struct config_item_type knvram_cfs_root_type = {
	.ct_owner = THIS_MODULE,
};

static struct configfs_subsystem knvram_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "knvram",
			.ci_type = &knvram_cfs_root_type,
		},
	},
};

int knvram_configfs_init(void)
{
	config_group_init(&knvram_cfs_subsys.su_group);
	mutex_init(&knvram_cfs_subsys.su_mutex);
	return configfs_register_subsystem(&knvram_cfs_subsys);
}

/* No backend is left, and items pin this module: the groups are empty. */
void knvram_configfs_exit(void)
{
	struct knvram_cfs_backend *cbe, *tmp;

	list_for_each_entry_safe(cbe, tmp, &knvram_cfs_backends, node) {
		configfs_unregister_group(&cbe->group);
		list_del(&cbe->node);
		kfree(cbe);
	}
	configfs_unregister_subsystem(&knvram_cfs_subsys);
}
