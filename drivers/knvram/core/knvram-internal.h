/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * knvram core: what the core, the char device and configfs share.
 *
 * Concurrency model (details in Documentation/driver-api/knvram.rst):
 *
 * - A partition has one writer handle at most. Only the writer changes the
 *   shadow image, and only by publishing a transaction (knvram_commit()).
 *   So the writer reads the shadow without a partition lock.
 * - Transactions hold copies of the blocks they touched (copy on write);
 *   they are private to their handle until published.
 * - @publish_lock: readers of other handles hold it for reading while they
 *   copy out; a commit holds it for writing while it copies its blocks into
 *   the shadow. Readers therefore see all-old or all-new data and are not
 *   blocked while a transaction is merely open.
 * - @sync_lock serialises backend I/O of the partition with commits, so a
 *   sync writes one committed state.
 * - The emergency sync takes no lock (it may run in NMI). It learns from
 *   @pubstate, with one atomic read-modify-write, whether a commit is half
 *   published and, if so, writes that transaction's blocks in place of the
 *   shadow's ("rolls it forward"). Transactions are freed after an RCU grace
 *   period so that the emergency sync can read them.
 *
 * Lock order: knvram_lock -> part->lock -> part->sync_lock ->
 * part->publish_lock; handle->lock comes before all partition locks.
 */
#ifndef _KNVRAM_INTERNAL_H
#define _KNVRAM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/knvram.h>
#include <linux/knvram-provider.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define KNVRAM_NAME_MAX		32
#define KNVRAM_DEFAULT_BLOCK	4096
#define KNVRAM_MIN_BLOCK	64
#define KNVRAM_MAX_BLOCK	65536
#define KNVRAM_MAX_WRITE_UNIT	64
/* The label area at the start of every backend: two banks of this size. */
#define KNVRAM_LABEL_BANK	4096
/* Runtime partitions a label holds (knvram-label.c). */
#define KNVRAM_LABEL_ENTRIES	63
#define KNVRAM_LABEL_AUTOT	BIT(0)
#define KNVRAM_LABEL_ENABLED	BIT(1)
/* knvram_label_entry.offset: let the core place the partition. */
#define KNVRAM_OFFSET_AUTO	U64_MAX

/* In @pubstate: the partition refuses changes (power is failing). */
#define KNVRAM_FROZEN		1UL

struct config_item;

/**
 * struct knvram_label_entry - a runtime partition, as the label records it
 * @name:   Partition name.
 * @offset: Byte offset in the backend's partition space.
 * @size:   Usable bytes.
 * @uid:    Owner of /dev/knvram/<name> (initial user namespace).
 * @gid:    Group of /dev/knvram/<name> (initial user namespace).
 * @mode:   Permission bits of /dev/knvram/<name>.
 * @flags:  %KNVRAM_LABEL_AUTOT (default autot), %KNVRAM_LABEL_ENABLED
 *          (created at boot).
 * @err:    Not on the media: why an enabled entry is not live.
 */
struct knvram_label_entry {
	char name[KNVRAM_NAME_MAX + 1];
	u64 offset;
	u64 size;
	u32 uid;
	u32 gid;
	u16 mode;
	u16 flags;
	int err;
};

/**
 * struct knvram_label - the runtime partitions of a backend
 * @gen: Generation of the label on the media (0: none yet).
 * @err: -EUCLEAN if the media's label is unreadable: no runtime partition
 *       is restored or created.
 * @n:   Entries in use.
 * @e:   Entries.
 */
struct knvram_label {
	u64 gen;
	int err;
	u32 n;
	struct knvram_label_entry e[KNVRAM_LABEL_ENTRIES];
};

/**
 * struct knvram_backend - a registered backend (private to the core)
 * @dev:        Provider device; parent of the partition devices.
 * @owner:      Provider module; pinned by every open handle.
 * @name:       Backend name.
 * @ops:        Media operations.
 * @priv:       Passed back to @ops.
 * @size:       Media size in bytes.
 * @block_size: Dirty tracking and copy unit of its partitions.
 * @write_unit: Alignment of writes to the media.
 * @flags:      %KNVRAM_BACKEND_NMI_SAFE.
 * @node:       Entry in the list of backends.
 * @partitions: Its partitions, under knvram_lock.
 * @label:      Its runtime partitions, under knvram_lock.
 */
struct knvram_backend {
	struct device *dev;
	struct module *owner;
	const char *name;
	const struct knvram_backend_ops *ops;
	void *priv;
	u64 size;
	u32 block_size;
	u32 write_unit;
	unsigned int flags;
	struct list_head node;
	struct list_head partitions;
	struct knvram_label *label;
};

/**
 * struct knvram_stats - statistics of a partition, shown in sysfs
 * @sync_count:             Completed syncs that wrote something.
 * @sync_bytes:             Bytes written to the backend by those syncs.
 * @sync_last_ns:           Duration of the last such sync.
 * @sync_max_ns:            Longest such sync.
 * @sync_errors:            Syncs that failed.
 * @emergency_sync_count:   Emergency syncs of this partition.
 * @emergency_sync_last_ns: Duration of the last one.
 * @emergency_sync_deferred: Emergency syncs that could not run where the
 *                          power failure was signalled (the backend is not
 *                          NMI-safe) and ran in a high-priority worker.
 * @commit_count:           Published transactions (plain writes included).
 * @abort_count:            Aborted transactions.
 *
 * atomic64_t so that the emergency sync, in NMI, can update its fields.
 */
struct knvram_stats {
	atomic64_t sync_count;
	atomic64_t sync_bytes;
	atomic64_t sync_last_ns;
	atomic64_t sync_max_ns;
	atomic64_t sync_errors;
	atomic64_t emergency_sync_count;
	atomic64_t emergency_sync_last_ns;
	atomic64_t emergency_sync_deferred;
	atomic64_t commit_count;
	atomic64_t abort_count;
};

/**
 * struct knvram_partition - a partition: shadow image, media state, device
 * @dev:          The device; /dev/knvram/<name>, /sys/class/knvram/<name>.
 * @cdev:         Its character device.
 * @be:           Backend; only dereferenced while @dead is false, under
 *                @sync_lock, or by the emergency sync (under RCU).
 * @backend_name: Copy of the backend's name, for sysfs.
 * @name:         Partition name.
 * @offset:       Media byte offset of the partition's first bank.
 * @size:         Usable bytes.
 * @bs:           Block size.
 * @nblocks:      @size / @bs.
 * @bank_size:    Media bytes of one bank (header, table, data).
 * @table_size:   Media bytes of one bank's checksum table.
 * @shadow:       The shadow image: the committed state.
 * @need:         Per bank, the blocks that bank lacks. need[gen & 1] are the
 *                blocks committed since the last sync ("dirty").
 * @crc:          Per bank, the checksum table as it is (or is being
 *                written) on the media, @table_size bytes.
 * @gen:          Generation of the newest bank on the media; that bank is
 *                gen & 1. Read locklessly by the emergency sync.
 * @pubstate:     The transaction being published, ORed with
 *                %KNVRAM_FROZEN. Changed by atomic read-modify-writes only.
 * @lock:         Protects @writer, @nhandles and @dead.
 * @sync_lock:    Serialises backend I/O and commits.
 * @publish_lock: Readers of the shadow vs. a commit publishing into it.
 * @writer:       The writer handle, if any.
 * @nhandles:     Open handles.
 * @dead:         Removed: every call fails with -ENODEV.
 * @autot:        Default autot of new handles.
 * @runtime:      Created through configfs; recorded in the backend's label.
 * @uid:          Owner of the device node.
 * @gid:          Group of the device node.
 * @mode:         Permission bits of the device node; 0 for the default.
 * @item:         Its configfs item, if any, under @lock: new handles pin it.
 * @be_node:      Entry in the backend's list of partitions.
 * @all_node:     Entry in the RCU list the emergency sync walks.
 * @stats:        Statistics.
 */
struct knvram_partition {
	struct device dev;
	struct cdev cdev;
	struct knvram_backend *be;
	const char *backend_name;
	char name[KNVRAM_NAME_MAX + 1];
	u64 offset;
	u64 size;
	u32 bs;
	u32 nblocks;
	u64 bank_size;
	u64 table_size;
	u8 *shadow;
	unsigned long *need[2];
	__le32 *crc[2];
	u64 gen;
	atomic_long_t pubstate;
	/* protects writer, nhandles, dead */
	struct mutex lock;
	/* serialises backend I/O and commits */
	struct mutex sync_lock;
	struct rw_semaphore publish_lock;
	struct knvram_handle *writer;
	unsigned int nhandles;
	bool dead;
	bool autot;
	bool runtime;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct config_item *item;
	struct list_head be_node;
	struct list_head all_node;
	struct knvram_stats stats;
};

#define to_knvram_partition(d) container_of(d, struct knvram_partition, dev)

/**
 * struct knvram_txn - an open transaction
 * @blocks:  Block index -> private copy of the block (@bs bytes).
 * @nblocks: Number of entries in @blocks.
 * @free:    Frees the transaction after an RCU grace period.
 */
struct knvram_txn {
	struct xarray blocks;
	unsigned int nblocks;
	struct rcu_work free;
};

/**
 * struct knvram_handle - one open of a partition
 * @part:  The partition (a device reference is held).
 * @owner: The backend module, pinned while the handle is open.
 * @flags: KNVRAM_WRITE, KNVRAM_NONBLOCK, KNVRAM_SYNC.
 * @autot: Automatic transactions.
 * @lock:  Serialises the calls made on this handle.
 * @txn:   The open transaction, or NULL.
 * @pin:   The configfs item this handle pins, or NULL.
 */
struct knvram_handle {
	struct knvram_partition *part;
	struct module *owner;
	unsigned int flags;
	bool autot;
	/* serialises the calls made on this handle */
	struct mutex lock;
	struct knvram_txn *txn;
	struct config_item *pin;
};

/* core */
extern struct mutex knvram_lock;
extern const struct class knvram_class;
struct knvram_handle *knvram_open_partition(struct knvram_partition *part,
					    unsigned int flags);
ssize_t knvram_read_iter(struct knvram_handle *h, struct iov_iter *to,
			 loff_t *pos);
ssize_t knvram_write_iter(struct knvram_handle *h, struct iov_iter *from,
			  loff_t *pos);
u64 knvram_dirty_bytes(struct knvram_partition *part);
int knvram_handle_check(struct knvram_handle *h);

/* partitions and backends (knvram-core.c), under knvram_lock */
extern struct list_head knvram_backends;
extern struct list_head knvram_partitions;
int knvram_check_range(struct knvram_backend *be, const char *name,
		       u64 start, u64 len);
struct knvram_partition *
knvram_partition_alloc(struct knvram_backend *be,
		       const struct knvram_partition_info *info);
int knvram_partition_add(struct knvram_partition *part, u64 offset,
			 bool fresh, struct knvram_label *label);
void knvram_partition_remove_locked(struct knvram_partition *part);

/* runtime partitions (knvram-runtime.c), under knvram_lock */
void knvram_restore_runtime(struct knvram_backend *be);
bool knvram_name_valid(const char *name);
bool knvram_name_taken(const char *name);
struct knvram_partition *knvram_find_locked(const char *name);
struct knvram_backend *knvram_backend_find(const char *name);
int knvram_runtime_enable(struct knvram_backend *be,
			  const struct knvram_label_entry *tmpl, bool fresh,
			  struct knvram_partition **partp);
int knvram_runtime_disable(struct knvram_partition *part, bool erase);
int knvram_runtime_forget(struct knvram_backend *be, const char *name);
struct knvram_label_entry *
knvram_runtime_lookup(struct knvram_backend *be, const char *name,
		      struct knvram_partition **partp);

/* label */
int knvram_label_load(struct knvram_backend *be);
int knvram_label_store(struct knvram_backend *be, struct knvram_label *new);
struct knvram_label_entry *knvram_label_find(struct knvram_label *l,
					     const char *name);

/* configfs */
int knvram_configfs_init(void);
void knvram_configfs_exit(void);
void knvram_configfs_backend_add(struct knvram_backend *be);
void knvram_configfs_backend_del(struct knvram_backend *be);
struct config_item *knvram_configfs_pin(struct knvram_partition *part);
void knvram_configfs_unpin(struct config_item *item);

/* media format */
int knvram_bank_size(u64 size, u32 bs, u64 *bank_size);
int knvram_media_geometry(struct knvram_partition *part);
int knvram_media_alloc(struct knvram_partition *part);
void knvram_media_free(struct knvram_partition *part);
int knvram_media_load(struct knvram_partition *part);
int knvram_format(struct knvram_partition *part);
int knvram_media_sync(struct knvram_partition *part, struct knvram_txn *txn,
		      bool emergency);
u64 knvram_media_label_size(const struct knvram_backend *be);

/* sysfs */
extern const struct attribute_group *knvram_groups[];

/* char device */
int knvram_cdev_add(struct knvram_partition *part);
void knvram_cdev_del(struct knvram_partition *part);

#endif /* _KNVRAM_INTERNAL_H */
