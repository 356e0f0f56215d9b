// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram-bench-floor: the physical floor of a knvram sync, for `make bench`
 * only. It copies N bytes the way a knvram backend writes its media, with
 * nothing of knvram around the copy (no checksum, no header, no locks), and
 * reports how long that took. Not a knvram module: it only borrows memory.
 *
 * debugfs, in knvram_bench_floor/ (write N, then read the ns it took):
 *   ram   memcpy() into vmalloc()ed memory, as knvram-sim writes its media
 *   mmio  memcpy_flushcache() then pmem_wmb() into the physical range
 *         phys..phys+size, as knvram-mmio writes its NVRAM; only with phys
 *
 * phys must be memory that nothing else uses while the module is loaded
 * (on the test board: the unused top of the board's NVRAM region).
 */

#include <linux/cleanup.h>
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

static unsigned long floor_phys;
module_param_named(phys, floor_phys, ulong, 0444);
MODULE_PARM_DESC(phys, "Physical address of unused NVRAM for \"mmio\" (0: none)");

static unsigned long floor_size = SZ_16M;
module_param_named(size, floor_size, ulong, 0444);
MODULE_PARM_DESC(size, "Largest copy, and bytes mapped at phys (default 16 MiB)");

static u8 *floor_src, *floor_ram;
static void *floor_mmio;
static struct dentry *floor_dir;

/* serialises the copies and protects the last durations */
static DEFINE_MUTEX(floor_lock);
static u64 floor_ram_ns, floor_mmio_ns;

static int floor_ram_get(void *data, u64 *val)
{
	guard(mutex)(&floor_lock);
	*val = floor_ram_ns;
	return 0;
}

static int floor_ram_set(void *data, u64 len)
{
	u64 t0;

	if (len > floor_size)
		return -EINVAL;
	guard(mutex)(&floor_lock);
	t0 = ktime_get_ns();
	memcpy(floor_ram, floor_src, len);
	floor_ram_ns = ktime_get_ns() - t0;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(floor_ram_fops, floor_ram_get, floor_ram_set,
			 "%llu\n");

static int floor_mmio_get(void *data, u64 *val)
{
	guard(mutex)(&floor_lock);
	*val = floor_mmio_ns;
	return 0;
}

static int floor_mmio_set(void *data, u64 len)
{
	u64 t0;

	if (len > floor_size)
		return -EINVAL;
	guard(mutex)(&floor_lock);
	t0 = ktime_get_ns();
	memcpy_flushcache(floor_mmio, floor_src, len);
	pmem_wmb();
	floor_mmio_ns = ktime_get_ns() - t0;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(floor_mmio_fops, floor_mmio_get, floor_mmio_set,
			 "%llu\n");

static void floor_free(void)
{
	if (floor_mmio)
		memunmap(floor_mmio);
	vfree(floor_ram);
	vfree(floor_src);
}

static int __init floor_init(void)
{
	size_t i;

	if (!floor_size)
		return -EINVAL;
	floor_src = vmalloc(floor_size);
	floor_ram = vzalloc(floor_size);
	if (!floor_src || !floor_ram) {
		floor_free();
		return -ENOMEM;
	}
	for (i = 0; i < floor_size; i++)
		floor_src[i] = i * 131 + (i >> 12);
	if (floor_phys) {
		floor_mmio = memremap(floor_phys, floor_size, MEMREMAP_WB);
		if (!floor_mmio) {
			floor_free();
			return -ENOMEM;
		}
	}

	floor_dir = debugfs_create_dir("knvram_bench_floor", NULL);
	debugfs_create_file_unsafe("ram", 0600, floor_dir, NULL,
				   &floor_ram_fops);
	if (floor_mmio)
		debugfs_create_file_unsafe("mmio", 0600, floor_dir, NULL,
					   &floor_mmio_fops);
	return 0;
}
module_init(floor_init);

static void __exit floor_exit(void)
{
	debugfs_remove_recursive(floor_dir);
	floor_free();
}
module_exit(floor_exit);

MODULE_DESCRIPTION("knvram benchmark: cost of a plain copy into NVRAM");
MODULE_LICENSE("GPL");
