/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * knvram core: what the core, the char device and configfs share.
 *
 * Concurrency model (the proof is in Documentation/driver-api/knvram.rst,
 * "Concurrency"; knvram-io.c and knvram-emergency.c name each barrier):
 *
 * - The committed state of a partition is an array of immutable blocks
 *   (struct knvram_blk), kept twice (@map[0], @map[1]) as a latch
 *   (include/linux/seqlock.h, "latch"): the one writer updates one copy,
 *   flips the sequence in @state, then updates the other. Readers, the
 *   emergency sync included, use the copy the sequence names and never
 *   wait. A replaced block is reused only after an RCU grace period.
 * - A transaction stages private copies of the blocks it touches
 *   (@txn); a commit swaps them in: no block data is copied.
 * - @map_lock (a spinlock) orders a commit against a sync taking its
 *   snapshot: a sync holds it only to copy the dirty block pointers, then
 *   writes them without any lock a reader or writer needs.
 * - The emergency sync takes no lock. One atomic read-modify-write of
 *   @state freezes the partition and tells it which latch copy is the last
 *   committed state; a commit whose flip comes later fails. Backend I/O of
 *   a normal sync and of the emergency sync exclude each other through
 *   @media and @io_cpu (a Dekker pair), with a hand-off to the interrupted
 *   sync when the emergency sync interrupted it on its own CPU.
 *
 * Lock order: knvram_lock -> part->lock -> part->map_lock; handle->lock -> part->sync_mutex
 * -> part->map_lock -> part->pool_lock; knvram_lock -> part->sync_mutex ->
 * part->lock (knvram_partition_format()).
 */
#ifndef _KNVRAM_INTERNAL_H
#define _KNVRAM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/knvram.h>
#include <linux/knvram-provider.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define KNVRAM_DEFAULT_BLOCK	4096
#define KNVRAM_MIN_BLOCK	64
#define KNVRAM_MAX_BLOCK	65536
/*
 * An atomic unit is a multiple of this and of the write unit: a bank
 * header's write and a checksum table entry never straddle two units.
 */
#define KNVRAM_ATOMIC_ALIGN	64
/* The label area at the start of every backend: two banks of this size. */
#define KNVRAM_LABEL_BANK	4096
/* Runtime partitions a label holds (knvram-label.c). */
#define KNVRAM_LABEL_ENTRIES	63
#define KNVRAM_LABEL_AUTOT	BIT(0)
#define KNVRAM_LABEL_ENABLED	BIT(1)
#define KNVRAM_LABEL_KERNEL_ONLY	BIT(2)
#define KNVRAM_LABEL_READ_ONLY	BIT(3)
/* The flags this version knows; an entry with any other is not created. */
#define KNVRAM_LABEL_FLAGS	GENMASK(3, 0)
/* knvram_label_entry.offset: let the core place the partition. */
#define KNVRAM_OFFSET_AUTO	U64_MAX

/*
 * knvram_partition.state: bit 0 FROZEN (the power is failing: no commit
 * succeeds), bits 1-7 the emergency syncs reading the frozen latch copy,
 * the rest the latch sequence (its low bit names the copy to read).
 */
#define KNVRAM_FROZEN		BIT(0)
#define KNVRAM_ESYNC_ONE	BIT(1)
#define KNVRAM_ESYNC_MASK	GENMASK(7, 1)
#define KNVRAM_SEQ_SHIFT	8
#define KNVRAM_SEQ_ONE		BIT(KNVRAM_SEQ_SHIFT)

/* knvram_partition.media: who writes the media besides a normal sync. */
#define KNVRAM_MEDIA_CLAIM	BIT(0)	/* an emergency sync owns the media */
#define KNVRAM_MEDIA_HANDOFF	BIT(1)	/* ...and left it to the interrupted sync */
#define KNVRAM_MEDIA_CPU_SHIFT	8	/* the claiming CPU */

struct config_item;

/* knvram_bank_damage.header: what knvram_media_load() found. */
#define KNVRAM_BANK_ACCEPTED	0
#define KNVRAM_BANK_BLANK	1
#define KNVRAM_BANK_INVALID	2

/**
 * struct knvram_bank_damage - one bank of a damaged partition, at load
 * @header:    %KNVRAM_BANK_ACCEPTED, %KNVRAM_BANK_BLANK or
 *             %KNVRAM_BANK_INVALID.
 * @table_bad: The header is accepted, its checksum table is not.
 * @nbad:      The header is accepted: blocks that fail their checksums.
 * @gen:       The header is accepted: its generation.
 */
struct knvram_bank_damage {
	u8 header;
	bool table_bad;
	u32 nbad;
	u64 gen;
};

/**
 * struct knvram_damage - why a partition is damaged
 * @bank:       Its two banks.
 * @salvaged:   The bank its content was salvaged from, or -1 (none: every
 *              block reads as zeroes).
 * @format_err: A format of the partition failed with this error: the
 *              media is half-formatted, every block reads as zeroes.
 */
struct knvram_damage {
	struct knvram_bank_damage bank[2];
	int salvaged;
	int format_err;
};

/**
 * struct knvram_label_entry - a runtime partition, as the label records it
 * @name:   Partition name.
 * @offset: Byte offset in the backend's partition space.
 * @size:   Usable bytes.
 * @uid:    Owner of /dev/knvram/<name> (initial user namespace).
 * @gid:    Group of /dev/knvram/<name> (initial user namespace).
 * @mode:   Permission bits of /dev/knvram/<name>.
 * @flags:  %KNVRAM_LABEL_AUTOT (default autot), %KNVRAM_LABEL_ENABLED
 *          (created at boot), %KNVRAM_LABEL_KERNEL_ONLY (no /dev node),
 *          %KNVRAM_LABEL_READ_ONLY (write-protected once formatted).
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
 * @atomic_unit: Bytes of the backend's atomic unit, or 0.
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
	u32 atomic_unit;
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
 * struct knvram_blk - one block of data, committed or staged
 * @data:   @bs bytes. Immutable once committed.
 * @ver:    Commit that published it (0: loaded from the media).
 * @crc:    knvram_crc() of @data, valid once @crc_ok.
 * @crc_ok: @crc is computed; set with release, read with acquire.
 * @node:   In the pool's free or retired list.
 * @cookie: RCU state when retired: reusable once that grace period ends.
 */
struct knvram_blk {
	void *data;
	u64 ver;
	u32 crc;
	bool crc_ok;
	struct list_head node;
	unsigned long cookie;
};

/**
 * struct knvram_snap - a block of a sync's snapshot
 * @blk: The committed block.
 * @idx: Its index.
 */
struct knvram_snap {
	struct knvram_blk *blk;
	u32 idx;
};

/**
 * struct knvram_partition - a partition: committed blocks, media state, device
 * @dev:          The device; /dev/knvram/<name>, /sys/class/knvram/<name>.
 * @cdev:         Its character device.
 * @be:           Backend; only dereferenced while @dead is false, under
 *                @sync_mutex, or by the emergency sync (under RCU).
 * @backend_name: Copy of the backend's name, for sysfs.
 * @name:         Partition name.
 * @offset:       Media byte offset of the partition's first bank.
 * @size:         Usable bytes.
 * @bs:           Block size.
 * @nblocks:      @size / @bs.
 * @bank_size:    Media bytes of one bank (header, table, data).
 * @table_size:   Media bytes of one bank's checksum table.
 * @state:        %KNVRAM_FROZEN, emergency syncs, latch sequence.
 * @map:          The two latch copies of the committed blocks.
 * @commit_seq:   Last commit's number (@ver of its blocks); writer only.
 * @map_lock:     Commits against a sync's snapshot.
 * @dirty:        Per bank, the blocks it may lack (a hint; set by commits
 *                before their flip, cleared by syncs).
 * @pinned:       Blocks of the running sync's snapshot; a commit that
 *                replaces one hands it to the sync (@handed). Under
 *                @map_lock.
 * @handed:       Replaced blocks the running sync still writes from.
 * @snap:         The running sync's snapshot, @nblocks entries.
 * @bank_ver:     Per bank, the @ver of each block it holds.
 * @crc:          Per bank, its checksum table as on the media.
 * @tpend:        Per bank, entries of @crc not yet written to the media.
 * @tcrc:         Per bank, knvram_crc() of @crc's entries...
 * @tcrc_stale:   ...unless this is set: recompute it before use.
 * @gen:          Generation of the newest bank on the media; that bank is
 *                gen & 1.
 * @hdr_buf:      A bank header padded with zeros to a whole write unit,
 *                as knvram_write_header() writes it. Whoever writes the
 *                media fills it: a normal sync under @sync_mutex between
 *                knvram_io_begin() and knvram_io_end(), the emergency
 *                sync that owns @media (never both at once), or the load
 *                of a partition that no one reaches yet.
 * @media:        %KNVRAM_MEDIA_CLAIM etc.
 * @io_cpu:       The CPU a normal sync writes from, or -1.
 * @media_epoch:  Emergency writes so far: a normal sync that sees it
 *                change starts again.
 * @esync_state:  @state as the emergency sync that handed off froze it.
 * @esync_pending: A deferred emergency sync is due (bit 0).
 * @sync_mutex:   Serialises normal syncs.
 * @txn:          The writer's staged blocks, by index.
 * @txn_map:      Which entries of @txn are set.
 * @txn_n:        How many.
 * @txn_lo:       With @txn_end, a range of block indexes that holds every
 *                bit of @txn_map (both 0 when it is empty): the data path
 *                of a small transaction does not scan the whole bitmap.
 * @txn_end:      One past the range's last index.
 * @bounce:       A block the writer stages user data in first.
 * @pool_lock:    Protects @pool_free, @pool_retired, @pool_nfree.
 * @pool_free:    Blocks ready for reuse.
 * @pool_retired: Replaced blocks, oldest first, waiting for their grace
 *                period.
 * @pool_nfree:   Entries of @pool_free.
 * @crc_todo:     Committed blocks whose checksum is not computed yet.
 * @crc_work:     Computes them.
 * @trim_work:    Trims the pool again once a grace period has passed, so
 *                that replaced blocks do not stay allocated while the
 *                partition is idle.
 * @sync_work:    The sync of a non-blocking writer's close.
 * @lock:         Protects @writer, @nhandles and @dead.
 * @writer:       The writer handle, if any.
 * @nhandles:     Open handles.
 * @dead:         Removed: every call fails with -ENODEV. Set under @lock
 *                and @map_lock; a commit reads it under @map_lock.
 * @autot:        Default autot of new handles.
 * @read_only:    Write-protected: no writer, no write to the media.
 * @damaged:      The media failed its checks at load (or a format failed):
 *                read-only as @read_only, until knvram_partition_format().
 *                Changed under @lock and @sync_mutex.
 * @damage:       Why, under @lock.
 * @bad:          Blocks that read as zeroes for want of a valid copy, under
 *                @lock; empty unless @damaged.
 * @kernel_only:  No character device: knvram_open() only.
 * @runtime:      Created through configfs; recorded in the backend's label.
 * @uid:          Owner of the device node.
 * @gid:          Group of the device node.
 * @mode:         Permission bits of the device node; 0 for the default.
 * @item:         Its configfs item, if any, under @lock: new handles pin it.
 * @be_node:      Entry in the backend's list of partitions.
 * @all_node:     Entry in the RCU list the emergency sync walks.
 * @stats:        Statistics.
 * @poll_wq:      Handles waiting in poll() for a commit; woken by
 *                @crc_work, which every commit queues, and by removal.
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

	atomic_long_t state;
	struct knvram_blk **map[2];
	u64 commit_seq;
	/* orders commits against a sync's snapshot */
	spinlock_t map_lock;
	unsigned long *dirty[2];
	unsigned long *pinned;
	struct list_head handed;
	struct knvram_snap *snap;

	u64 *bank_ver[2];
	__le32 *crc[2];
	unsigned long *tpend[2];
	u32 tcrc[2];
	bool tcrc_stale[2];
	u64 gen;
	void *hdr_buf;
	atomic_t media;
	atomic_t io_cpu;
	u32 media_epoch;
	long esync_state;
	unsigned long esync_pending;
	/* serialises normal syncs */
	struct mutex sync_mutex;

	struct knvram_blk **txn;
	unsigned long *txn_map;
	u32 txn_n;
	u32 txn_lo;
	u32 txn_end;
	void *bounce;
	/* protects the pool lists */
	spinlock_t pool_lock;
	struct list_head pool_free;
	struct list_head pool_retired;
	unsigned int pool_nfree;
	unsigned long *crc_todo;
	struct work_struct crc_work;
	struct rcu_work trim_work;
	struct work_struct sync_work;

	/* protects writer, nhandles, dead */
	struct mutex lock;
	struct knvram_handle *writer;
	unsigned int nhandles;
	bool dead;
	bool autot;
	bool read_only;
	bool damaged;
	struct knvram_damage damage;
	unsigned long *bad;
	bool kernel_only;
	bool runtime;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct config_item *item;
	struct list_head be_node;
	struct list_head all_node;
	struct knvram_stats stats;
	wait_queue_head_t poll_wq;
};

#define to_knvram_partition(d) container_of(d, struct knvram_partition, dev)

/* Nothing writes it: write-protected, or damaged media. */
static inline bool knvram_part_read_only(struct knvram_partition *part)
{
	return part->read_only || READ_ONCE(part->damaged);
}

/*
 * Mark @part removed (@dead true), or not after all. Under @map_lock too:
 * a commit that passed its handle's check before this fails after it, so
 * that none lands after the final sync's snapshot (knvram_commit()).
 */
static inline void knvram_set_dead(struct knvram_partition *part, bool dead)
{
	lockdep_assert_held(&part->lock);
	spin_lock(&part->map_lock);
	WRITE_ONCE(part->dead, dead);
	spin_unlock(&part->map_lock);
}

/**
 * struct knvram_handle - one open of a partition
 * @part:    The partition (a device reference is held).
 * @owner:   The backend module, pinned while the handle is open.
 * @flags:   KNVRAM_WRITE, KNVRAM_NONBLOCK, KNVRAM_SYNC.
 * @autot:   Automatic transactions.
 * @lock:    Serialises the calls made on this handle.
 * @in_txn:  A transaction is open (its blocks are in the partition's @txn).
 * @pin:     The configfs item this handle pins, or NULL.
 * @seen:    The commit sequence (@state >> %KNVRAM_SEQ_SHIFT) this handle
 *           last reported, at open or by knvram_get_info(): poll() reports
 *           EPOLLPRI while the partition's differs.
 */
struct knvram_handle {
	struct knvram_partition *part;
	struct module *owner;
	unsigned int flags;
	bool autot;
	/* serialises the calls made on this handle */
	struct mutex lock;
	bool in_txn;
	struct config_item *pin;
	atomic_long_t seen;
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
int knvram_sync_part(struct knvram_partition *part, bool nonblock);
struct knvram_handle *knvram_call_begin(struct knvram_handle *h, bool write);
void knvram_call_end(struct knvram_handle *h);
int knvram_info_fill(struct knvram_handle *h, struct knvram_info *info,
		     long *seq);
void knvram_info_seen(struct knvram_handle *h, long seq);
__poll_t knvram_poll(struct knvram_handle *h, struct file *file,
		     poll_table *wait);
void knvram_poll_wake(struct knvram_partition *part);
DEFINE_CLASS(knvram_call, struct knvram_handle *, knvram_call_end(_T),
	     knvram_call_begin(h, write), struct knvram_handle *h, bool write)

/* blocks, transactions, reads and writes (knvram-io.c) */
struct knvram_blk *knvram_blk_get(struct knvram_partition *part);
void knvram_blk_put(struct knvram_partition *part, struct knvram_blk *blk);
void knvram_blk_retire(struct knvram_partition *part, struct knvram_blk *blk);
u32 knvram_blk_crc(struct knvram_partition *part, struct knvram_blk *blk);
void knvram_io_init(struct knvram_partition *part);
void knvram_pool_drain(struct knvram_partition *part);
int knvram_io_alloc(struct knvram_partition *part);
void knvram_io_free(struct knvram_partition *part);
void knvram_txn_drop(struct knvram_partition *part);
#if IS_ENABLED(CONFIG_KUNIT)
int knvram_commit(struct knvram_partition *part, bool nonblock);
#endif
static inline unsigned int knvram_latch_copy(long state)
{
	return (state >> KNVRAM_SEQ_SHIFT) & 1;
}

/* the emergency sync (knvram-emergency.c) */
void knvram_freeze_new(struct knvram_partition *part);
bool knvram_frozen(struct knvram_partition *part);
int knvram_io_begin(struct knvram_partition *part, bool snap_frozen);
void knvram_io_end(struct knvram_partition *part);
void knvram_emergency_flush(void);
void knvram_emergency_exit(void);

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
int knvram_runtime_set_read_only(struct knvram_backend *be, const char *name,
				 bool read_only);
struct knvram_label_entry *
knvram_runtime_lookup(struct knvram_backend *be, const char *name,
		      struct knvram_partition **partp);

/* label */
int knvram_label_load(struct knvram_backend *be);
int knvram_label_store(struct knvram_backend *be, struct knvram_label *new);
int knvram_label_replace(struct knvram_backend *be, struct knvram_label *new);
void knvram_label_erase(struct knvram_label *label,
			struct knvram_label_entry *e);
int knvram_label_format(struct knvram_backend *be);
struct knvram_label_entry *knvram_label_find(struct knvram_label *l,
					     const char *name);

/* configfs */
int knvram_configfs_init(void);
void knvram_configfs_exit(void);
void knvram_configfs_backend_add(struct knvram_backend *be);
void knvram_configfs_backend_del(struct knvram_backend *be);
struct config_item *knvram_configfs_pin(struct knvram_partition *part,
					bool nonblock);
void knvram_configfs_unpin(struct config_item *item);

/* media format */
int knvram_bank_size(u64 size, u32 bs, u64 *bank_size);
int knvram_media_geometry(struct knvram_partition *part);
int knvram_media_alloc(struct knvram_partition *part);
void knvram_media_free(struct knvram_partition *part);
int knvram_media_load(struct knvram_partition *part);
int knvram_format(struct knvram_partition *part);
int knvram_partition_format(struct knvram_partition *part);
int knvram_media_sync(struct knvram_partition *part);
int knvram_media_emergency(struct knvram_partition *part, long state);
u32 knvram_crc(const void *buf, size_t len);
u64 knvram_media_label_size(const struct knvram_backend *be);

/* sysfs */
extern const struct attribute_group *knvram_groups[];

/*
 * char device: knvram_cdev_add() adds the partition's device, with its
 * /dev node if it has a device number (dev.devt).
 */
#if IS_ENABLED(CONFIG_KNVRAM_DEV)
int knvram_cdev_add(struct knvram_partition *part);
void knvram_cdev_del(struct knvram_partition *part);
#else
static inline int knvram_cdev_add(struct knvram_partition *part)
{
	return device_add(&part->dev);
}

static inline void knvram_cdev_del(struct knvram_partition *part)
{
	device_del(&part->dev);
}
#endif

#endif /* _KNVRAM_INTERNAL_H */
