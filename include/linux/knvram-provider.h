/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * knvram provider API: what a backend driver implements and registers.
 *
 * See Documentation/driver-api/knvram.rst.
 */
#ifndef _LINUX_KNVRAM_PROVIDER_H
#define _LINUX_KNVRAM_PROVIDER_H

#include <linux/bits.h>
#include <linux/types.h>

struct device;
struct module;
struct knvram_backend;
struct knvram_partition;

/**
 * struct knvram_backend_ops - what a backend does for the knvram core
 * @read:  Read @len bytes at byte @offset of the media into @buf.
 *         Process context; may sleep.
 * @write: Write @len bytes from @buf at byte @offset of the media. Process
 *         context, or any context (NMI included) when the backend sets
 *         %KNVRAM_BACKEND_NMI_SAFE. A backend may buffer writes until
 *         @flush.
 * @flush: Optional. Make every earlier write durable before returning.
 *         The core calls it between the data of a sync and the header that
 *         commits it (unless all that data lies in the header's atomic
 *         unit, see &struct knvram_backend_config), and after the header.
 *         Same context rules as @write.
 *
 * All three return 0 or a negative errno. @offset and @len of @write are
 * multiples of the backend's @write_unit.
 */
struct knvram_backend_ops {
	int (*read)(void *priv, u64 offset, void *buf, size_t len);
	int (*write)(void *priv, u64 offset, const void *buf, size_t len);
	int (*flush)(void *priv);
};

/* @write and @flush sleep on nothing and take no lock: safe in NMI. */
#define KNVRAM_BACKEND_NMI_SAFE	BIT(0)

/**
 * struct knvram_backend_config - a backend, as its driver describes it
 * @dev:        The device that provides the media; parent of the partitions.
 *              Its devicetree node may hold fixed partitions.
 * @name:       Unique backend name (shown in sysfs and configfs).
 * @ops:        Media operations.
 * @priv:       Passed back to @ops.
 * @size:       Media size in bytes.
 * @block_size: Unit of dirty tracking and of transaction copies, a power
 *              of two from 64 to 65536; 0 means 4096.
 * @write_unit: Smallest write the media takes, a power of two that divides
 *              @block_size; 0 means 1 (byte-addressable).
 * @flags:      %KNVRAM_BACKEND_NMI_SAFE.
 * @atomic_unit: Optional; 0 means none. The media is made of units of
 *              this many bytes from offset 0 (the last may be shorter),
 *              and every write into one unit since the previous @flush
 *              becomes durable together with the others, or not at all:
 *              a power cut or a failed @flush leaves the unit as it was
 *              after the flush before (a UBI LEB replaced by
 *              ubi_leb_change(), say). A multiple of 64 and of
 *              @write_unit. The core then writes, after a sync's middle
 *              flush, the data and table bytes in the unit that holds the
 *              bank header, before the header: each unit changes once per
 *              sync, and a sync that fits in the header's unit needs no
 *              middle flush.
 * @partitions: Optional fixed partitions that the devicetree does not
 *              describe (a module parameter, say), created at
 *              registration; an offset of %KNVRAM_OFFSET_NEXT places one
 *              right after the previous one of the array (or at 0).
 * @npartitions: Entries of @partitions.
 *
 * The core copies what it needs; the config can live on the stack.
 */
struct knvram_backend_config {
	struct device *dev;
	const char *name;
	const struct knvram_backend_ops *ops;
	void *priv;
	u64 size;
	u32 block_size;
	u32 write_unit;
	unsigned int flags;
	u32 atomic_unit;
	const struct knvram_partition_info *partitions;
	unsigned int npartitions;
};

/* knvram_partition_info.offset in a backend config: after the previous one. */
#define KNVRAM_OFFSET_NEXT	U64_MAX

/**
 * struct knvram_partition_info - a partition to create on a backend
 * @name:   Partition name: /dev/knvram/<name>, unique across backends.
 * @offset: Byte offset in the backend's partition space (see
 *          knvram_partition_footprint()); a multiple of the block size.
 * @size:   Usable bytes; a non-zero multiple of the block size.
 * @autot:  Default of automatic transactions for new handles.
 * @read_only: Write-protected: never opened for writing, never written to
 *          the media (not even formatted when blank).
 * @kernel_only: No /dev/knvram/<name>: only knvram_open() reaches it.
 */
struct knvram_partition_info {
	const char *name;
	u64 offset;
	u64 size;
	bool autot;
	bool read_only;
	bool kernel_only;
};

struct knvram_backend *
__knvram_backend_register(const struct knvram_backend_config *config,
			  struct module *owner);
#define knvram_backend_register(config) \
	__knvram_backend_register(config, THIS_MODULE)
void knvram_backend_unregister(struct knvram_backend *be);

struct knvram_backend *
__devm_knvram_backend_register(struct device *dev,
			       const struct knvram_backend_config *config,
			       struct module *owner);
#define devm_knvram_backend_register(dev, config) \
	__devm_knvram_backend_register(dev, config, THIS_MODULE)

u64 knvram_backend_space(struct knvram_backend *be);
u64 knvram_partition_footprint(struct knvram_backend *be, u64 size);

struct knvram_partition *
knvram_partition_create(struct knvram_backend *be,
			const struct knvram_partition_info *info);
void knvram_partition_remove(struct knvram_partition *part);

#endif /* _LINUX_KNVRAM_PROVIDER_H */
