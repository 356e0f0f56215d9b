// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram runtime partitions: created through configfs, kept in the label
 * of their backend (knvram-label.c), restored when the backend registers.
 */

#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include <kunit/visibility.h>

#include "knvram-internal.h"

/**
 * knvram_name_taken() - is a partition name in use anywhere?
 * @name: Partition name.
 *
 * Return: true if a partition of that name exists or a label of any
 * backend records one.
 */
bool knvram_name_taken(const char *name)
{
	struct knvram_backend *be;

	lockdep_assert_held(&knvram_lock);
	if (knvram_find_locked(name))
		return true;
	list_for_each_entry(be, &knvram_backends, node)
		if (be->label && knvram_label_find(be->label, name))
			return true;
	return false;
}

struct knvram_backend *knvram_backend_find(const char *name)
{
	struct knvram_backend *be;

	lockdep_assert_held(&knvram_lock);
	list_for_each_entry(be, &knvram_backends, node)
		if (!strcmp(be->name, name))
			return be;
	return NULL;
}

/**
 * knvram_runtime_lookup() - the runtime partition a new configfs item binds
 * @be:    Backend.
 * @name:  Partition name.
 * @partp: Result: the partition if it is live, else NULL.
 *
 * Only a runtime partition of @be itself can be adopted: a partition of
 * another backend, or a fixed one, that has the name is never touched.
 *
 * Context: Caller holds knvram_lock.
 * Return: The entry of @name in @be's label; ERR_PTR(-ENOENT) if @be's
 * label has none (nothing to adopt); ERR_PTR(-EEXIST) if the live
 * partition of that name is not @be's runtime partition (a fixed
 * partition, or one of another backend whose label holds the name too).
 */
struct knvram_label_entry *
knvram_runtime_lookup(struct knvram_backend *be, const char *name,
		      struct knvram_partition **partp)
{
	struct knvram_label_entry *e;
	struct knvram_partition *part;

	lockdep_assert_held(&knvram_lock);
	*partp = NULL;
	e = knvram_label_find(be->label, name);
	if (!e)
		return ERR_PTR(-ENOENT);
	part = knvram_find_locked(name);
	if (part && (part->be != be || !part->runtime))
		return ERR_PTR(-EEXIST);
	*partp = part;
	return e;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_runtime_lookup);

/*
 * Can the label entry @e be a partition of @be? The label comes from the
 * media, and a valid CRC does not make its numbers sane: checked before
 * anything is allocated for it. A flag this version does not know (a
 * newer kernel's) may change what the partition is, write protection
 * included: such an entry is left alone, -EOPNOTSUPP.
 */
static int knvram_entry_check(struct knvram_backend *be,
			      const struct knvram_label_entry *e)
{
	u64 fp = knvram_partition_footprint(be, e->size), end;

	if (e->flags & ~KNVRAM_LABEL_FLAGS)
		return -EOPNOTSUPP;
	if (!knvram_name_valid(e->name) || !fp || e->offset % be->block_size)
		return -EINVAL;
	if (check_add_overflow(e->offset, fp, &end) ||
	    end > knvram_backend_space(be))
		return -ENOSPC;
	return 0;
}

/* First fit for @len bytes of partition space, or -ENOSPC. */
static int knvram_place(struct knvram_backend *be, const char *name, u64 len,
			u64 *offset)
{
	struct knvram_partition *part;
	u64 best = U64_MAX, cand;
	u32 i;

	/* Candidates: the start, and the end of every used range. */
	if (!knvram_check_range(be, name, 0, len))
		best = 0;
	list_for_each_entry(part, &be->partitions, be_node) {
		cand = part->offset + 2 * part->bank_size -
		       knvram_media_label_size(be);
		if (cand < best && !knvram_check_range(be, name, cand, len))
			best = cand;
	}
	for (i = 0; i < be->label->n; i++) {
		const struct knvram_label_entry *e = &be->label->e[i];

		/* Only a bad label has such entries: no candidate there. */
		if (check_add_overflow(e->offset,
				       knvram_partition_footprint(be, e->size),
				       &cand) || cand % be->block_size)
			continue;
		if (cand < best && !knvram_check_range(be, name, cand, len))
			best = cand;
	}
	if (best == U64_MAX)
		return -ENOSPC;
	*offset = best;
	return 0;
}

static struct knvram_partition *
knvram_runtime_alloc(struct knvram_backend *be,
		     const struct knvram_label_entry *e)
{
	struct knvram_partition_info info = {
		.name = e->name,
		.size = e->size,
		.autot = e->flags & KNVRAM_LABEL_AUTOT,
		.kernel_only = e->flags & KNVRAM_LABEL_KERNEL_ONLY,
		.read_only = e->flags & KNVRAM_LABEL_READ_ONLY,
	};
	struct knvram_partition *part;

	part = knvram_partition_alloc(be, &info);
	if (IS_ERR(part))
		return part;
	part->runtime = true;
	part->uid = make_kuid(&init_user_ns, e->uid);
	part->gid = make_kgid(&init_user_ns, e->gid);
	part->mode = e->mode & 0777;
	return part;
}

/**
 * knvram_runtime_enable() - create a runtime partition
 * @be:    Backend.
 * @tmpl:  Name, size, offset (or %KNVRAM_OFFSET_AUTO), owner, mode, autot.
 * @fresh: A new partition: placed, formatted and added to the label.
 *         Otherwise @tmpl names a label entry that is not live; its data
 *         is loaded and the entry marked enabled.
 * @partp: Result.
 *
 * The label is updated after the partition is on the media and before its
 * device appears; on any error neither the label nor the media's other
 * partitions have changed.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0; -EINVAL for a bad name or a size or offset that is not a
 * non-zero multiple of the block size; -EEXIST if the name is taken;
 * -ENOSPC if it does not fit or the label is full; -EBUSY if it overlaps
 * another partition; -EUCLEAN if the backend's label is unreadable (a
 * partition whose banks are is created damaged); -ENOENT if there is no
 * such entry (!@fresh);
 * -EOPNOTSUPP if the entry has flags this version does not know;
 * -ENOMEM; or the backend's error.
 */
int knvram_runtime_enable(struct knvram_backend *be,
			  const struct knvram_label_entry *tmpl, bool fresh,
			  struct knvram_partition **partp)
{
	struct knvram_label *label __free(kfree) = NULL;
	struct knvram_label_entry *e;
	struct knvram_partition *part;
	u64 fp;
	int ret;

	lockdep_assert_held(&knvram_lock);
	if (be->label->err)
		return be->label->err;
	label = kmemdup(be->label, sizeof(*label), GFP_KERNEL);
	if (!label)
		return -ENOMEM;

	if (fresh) {
		if (!knvram_name_valid(tmpl->name))
			return -EINVAL;
		if (knvram_name_taken(tmpl->name))
			return -EEXIST;
		fp = knvram_partition_footprint(be, tmpl->size);
		if (!fp)
			return -EINVAL;
		if (tmpl->offset != KNVRAM_OFFSET_AUTO &&
		    tmpl->offset % be->block_size)
			return -EINVAL;
		if (label->n == KNVRAM_LABEL_ENTRIES)
			return -ENOSPC;
		e = &label->e[label->n++];
		*e = *tmpl;
		if (e->offset == KNVRAM_OFFSET_AUTO) {
			ret = knvram_place(be, e->name, fp, &e->offset);
			if (ret)
				return ret;
		}
	} else {
		e = knvram_label_find(label, tmpl->name);
		if (!e)
			return -ENOENT;
	}
	ret = knvram_entry_check(be, e);
	if (ret)
		return ret;
	e->flags |= KNVRAM_LABEL_ENABLED;
	e->err = 0;

	part = knvram_runtime_alloc(be, e);
	if (IS_ERR(part))
		return PTR_ERR(part);
	ret = knvram_partition_add(part, e->offset, fresh, label);
	if (ret) {
		put_device(&part->dev);
		return ret;
	}
	retain_and_null_ptr(label);
	*partp = part;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_runtime_enable);

/**
 * knvram_runtime_disable() - remove a runtime partition
 * @part:  A runtime partition.
 * @erase: Remove its label entry: its data is gone. Otherwise the entry
 *         stays, marked disabled, and the data stays on the media.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0; -EINVAL if @part is not a runtime partition (nothing is
 * done); -EBUSY if the partition is open; -EUCLEAN, -ENOMEM or the
 * backend's error if the label could not be written: the partition is
 * then still there.
 */
int knvram_runtime_disable(struct knvram_partition *part, bool erase)
{
	struct knvram_backend *be = part->be;
	struct knvram_label *label;
	struct knvram_label_entry *e;
	int ret;

	lockdep_assert_held(&knvram_lock);
	if (!part->runtime)
		return -EINVAL;
	label = kmemdup(be->label, sizeof(*label), GFP_KERNEL);
	if (!label)
		return -ENOMEM;
	e = knvram_label_find(label, part->name);
	if (WARN_ON_ONCE(!e)) {
		kfree(label);
		return -ENOENT;
	}
	if (erase)
		knvram_label_erase(label, e);
	else
		e->flags &= ~KNVRAM_LABEL_ENABLED;

	/* No new handle from here on; none may be open. */
	scoped_guard(mutex, &part->lock) {
		if (part->nhandles) {
			kfree(label);
			return -EBUSY;
		}
		knvram_set_dead(part, true);
	}
	ret = knvram_label_replace(be, label);
	if (ret) {
		scoped_guard(mutex, &part->lock)
			knvram_set_dead(part, false);
		kfree(label);
		return ret;
	}
	knvram_partition_remove_locked(part);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_runtime_disable);

/**
 * knvram_runtime_forget() - erase the label entry of a partition not live
 * @be:   Backend.
 * @name: Partition name.
 *
 * Only @be's label changes: a partition of that name on another backend
 * (whose label holds the name too) is left alone.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0; -ENOENT if there is no such entry; -EBUSY if the partition is
 * live on @be; -EUCLEAN, -ENOMEM or the backend's error.
 */
int knvram_runtime_forget(struct knvram_backend *be, const char *name)
{
	struct knvram_label *label __free(kfree) = NULL;
	struct knvram_partition *part;
	struct knvram_label_entry *e;
	int ret;

	lockdep_assert_held(&knvram_lock);
	part = knvram_find_locked(name);
	if (part && part->be == be)
		return -EBUSY;
	label = kmemdup(be->label, sizeof(*label), GFP_KERNEL);
	if (!label)
		return -ENOMEM;
	e = knvram_label_find(label, name);
	if (!e)
		return -ENOENT;
	knvram_label_erase(label, e);
	ret = knvram_label_replace(be, label);
	if (!ret)
		retain_and_null_ptr(label);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_runtime_forget);

/**
 * knvram_runtime_set_read_only() - write-protect a runtime partition
 * @be:        Backend.
 * @name:      A runtime partition of @be that is on the media, not live.
 * @read_only: Protect it (true) or not.
 *
 * Sets or clears %KNVRAM_LABEL_READ_ONLY in @name's label entry, on the
 * media: the next enable, or the next boot if it is enabled, creates the
 * partition so. Its banks are not touched.
 *
 * Context: Process context; sleeps. Caller holds knvram_lock.
 * Return: 0 (also if the flag already was so: nothing is written);
 * -ENOENT if @be's label has no such entry; -EBUSY if the partition is
 * live on @be; -EUCLEAN, -ENOMEM or the backend's error.
 */
int knvram_runtime_set_read_only(struct knvram_backend *be, const char *name,
				 bool read_only)
{
	struct knvram_label *label __free(kfree) = NULL;
	struct knvram_partition *part;
	struct knvram_label_entry *e;
	int ret;

	lockdep_assert_held(&knvram_lock);
	part = knvram_find_locked(name);
	if (part && part->be == be)
		return -EBUSY;
	e = knvram_label_find(be->label, name);
	if (!e)
		return -ENOENT;
	if (!!(e->flags & KNVRAM_LABEL_READ_ONLY) == read_only)
		return 0;
	label = kmemdup(be->label, sizeof(*label), GFP_KERNEL);
	if (!label)
		return -ENOMEM;
	e = knvram_label_find(label, name);
	if (read_only)
		e->flags |= KNVRAM_LABEL_READ_ONLY;
	else
		e->flags &= ~KNVRAM_LABEL_READ_ONLY;
	ret = knvram_label_replace(be, label);
	if (!ret)
		retain_and_null_ptr(label);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(knvram_runtime_set_read_only);

/* At registration: bring back the enabled runtime partitions. */
void knvram_restore_runtime(struct knvram_backend *be)
{
	u32 i;

	guard(mutex)(&knvram_lock);
	for (i = 0; i < be->label->n; i++) {
		struct knvram_label_entry *e = &be->label->e[i];
		struct knvram_partition *part;
		int ret;

		if (!(e->flags & KNVRAM_LABEL_ENABLED))
			continue;
		ret = knvram_entry_check(be, e);
		if (!ret) {
			part = knvram_runtime_alloc(be, e);
			ret = PTR_ERR_OR_ZERO(part);
			if (!ret)
				ret = knvram_partition_add(part, e->offset,
							   false, NULL);
			if (ret && !IS_ERR(part))
				put_device(&part->dev);
		}
		e->err = ret;
		if (ret)
			dev_err(be->dev, "%s: runtime partition '%s' not restored: %pe\n",
				be->name, e->name, ERR_PTR(ret));
	}
}
