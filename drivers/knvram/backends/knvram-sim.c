// SPDX-License-Identifier: GPL-2.0-only
/*
 * Simulated knvram backend: media in RAM, writes that can be made to fail.
 *
 * The media is allocated when the module loads and lives until it unloads,
 * so unbinding and binding the "knvram-sim.0" device is a power cycle of
 * the backend: the core reloads every partition from the media. With
 * CONFIG_FAULT_INJECTION_DEBUG_FS, /sys/kernel/debug/knvram-sim/fail_write/
 * makes writes fail (Documentation/fault-injection/), to cut a sync at a
 * chosen write. Partitions come from the "partitions" parameter, placed one
 * after the other:
 *
 *	modprobe knvram-sim partitions=cfg:64K,log:1M:autot
 */

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/hardirq.h>
#include <linux/knvram-provider.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

static unsigned long sim_size = 64 << 20;
module_param_named(size, sim_size, ulong, 0444);
MODULE_PARM_DESC(size, "Media size in bytes (default 64 MiB)");

static char *sim_partitions;
module_param_named(partitions, sim_partitions, charp, 0444);
MODULE_PARM_DESC(partitions,
		 "Partitions to create: name:size[:autot][,name:size...]");

static u8 *sim_media;
static struct platform_device *sim_pdev;
static struct dentry *sim_debugfs;
static DECLARE_FAULT_ATTR(sim_fail_write);

static int sim_read(void *priv, u64 offset, void *buf, size_t len)
{
	memcpy(buf, sim_media + offset, len);
	return 0;
}

static int sim_write(void *priv, u64 offset, const void *buf, size_t len)
{
	/* should_fail() may print and take locks: never in NMI. */
	if (!in_nmi() && should_fail(&sim_fail_write, len))
		return -EIO;
	memcpy(sim_media + offset, buf, len);
	return 0;
}

static const struct knvram_backend_ops sim_ops = {
	.read = sim_read,
	.write = sim_write,
};

/*
 * The partitions of the module parameter, for the backend config: the
 * core creates them at registration, before configfs can place a runtime
 * partition in their space. Return: how many, or -ENOMEM.
 */
static int sim_parse_partitions(struct device *dev, char *buf,
				struct knvram_partition_info *parts, int max)
{
	char *cur = buf, *spec;
	int n = 0;

	while ((spec = strsep(&cur, ",")) && *spec && n < max) {
		struct knvram_partition_info *info = &parts[n];
		char *size, *end;

		info->name = strsep(&spec, ":");
		size = strsep(&spec, ":");
		if (!size) {
			dev_err(dev, "partition '%s': no size\n", info->name);
			continue;
		}
		info->size = memparse(size, &end);
		if (*end) {
			dev_err(dev, "partition '%s': bad size '%s'\n",
				info->name, size);
			continue;
		}
		info->autot = spec && !strcmp(spec, "autot");
		info->offset = KNVRAM_OFFSET_NEXT;
		n++;
	}
	return n;
}

static int sim_probe(struct platform_device *pdev)
{
	char *buf __free(kfree) = kstrdup(sim_partitions ?: "", GFP_KERNEL);
	struct knvram_partition_info *parts __free(kfree) = NULL;
	struct knvram_backend_config config = {
		.dev = &pdev->dev,
		.name = "sim0",
		.ops = &sim_ops,
		.size = sim_size,
		.flags = KNVRAM_BACKEND_NMI_SAFE,
	};
	struct knvram_backend *be;
	int max;

	if (!buf)
		return -ENOMEM;
	max = 1 + strlen(buf) / 2;
	parts = kcalloc(max, sizeof(*parts), GFP_KERNEL);
	if (!parts)
		return -ENOMEM;
	config.partitions = parts;
	config.npartitions = sim_parse_partitions(&pdev->dev, buf, parts, max);

	be = devm_knvram_backend_register(&pdev->dev, &config);
	if (IS_ERR(be))
		return dev_err_probe(&pdev->dev, PTR_ERR(be),
				     "cannot register backend\n");
	return 0;
}

static struct platform_driver sim_driver = {
	.probe = sim_probe,
	.driver = {
		.name = "knvram-sim",
	},
};

static int __init sim_init(void)
{
	int ret;

	if (!sim_size)
		return -EINVAL;
	sim_media = vzalloc(sim_size);
	if (!sim_media)
		return -ENOMEM;

	sim_debugfs = debugfs_create_dir("knvram-sim", NULL);
	fault_create_debugfs_attr("fail_write", sim_debugfs, &sim_fail_write);

	ret = platform_driver_register(&sim_driver);
	if (ret)
		goto err_free;
	sim_pdev = platform_device_register_simple("knvram-sim", 0, NULL, 0);
	if (IS_ERR(sim_pdev)) {
		ret = PTR_ERR(sim_pdev);
		goto err_unregister;
	}
	return 0;

err_unregister:
	platform_driver_unregister(&sim_driver);
err_free:
	debugfs_remove_recursive(sim_debugfs);
	vfree(sim_media);
	return ret;
}

static void __exit sim_exit(void)
{
	platform_device_unregister(sim_pdev);
	platform_driver_unregister(&sim_driver);
	debugfs_remove_recursive(sim_debugfs);
	vfree(sim_media);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated knvram backend (RAM, with fault injection)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(KNVRAM);
