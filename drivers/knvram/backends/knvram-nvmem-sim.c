// SPDX-License-Identifier: GPL-2.0-only
/*
 * Simulated SPI F-RAM as an nvmem provider, for testing knvram-nvmem on
 * boards that have no SPI or I2C F-RAM (QEMU's virt machine).
 *
 * The memory is a reserved-memory region (memory-region phandle, no-map):
 * on a board whose RAM is backed by a file it keeps its content across
 * power cycles, as an F-RAM does. Writes take as long as on a 40 MHz SPI
 * F-RAM (about 5 MB/s; the "bytes_per_sec" parameter changes it) and, with
 * CONFIG_FAULT_INJECTION_DEBUG_FS, fail as
 * /sys/kernel/debug/knvram-nvmem-sim/fail_write/ says
 * (Documentation/fault-injection/). A test stand-in, not for production.
 *
 * With wp-gpios the chip has a /WP pin, active low, wired to that line,
 * which the nvmem core holds asserted except around each write. As an
 * EEPROM's WP pin (or an F-RAM's with its whole array block-protected) it
 * makes the chip ignore writes: a write that finds the pin low is dropped
 * and counted in /sys/kernel/debug/knvram-nvmem-sim/wp_ignored; stored
 * writes are counted in .../writes.
 */

#include <linux/cleanup.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fault-inject.h>
#include <linux/gpio/consumer.h>
#include <linux/gpio/driver.h>
#include <linux/io.h>
#include <linux/math64.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/nvmem-provider.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/string.h>

static unsigned int nsim_bytes_per_sec = 5000000;
module_param_named(bytes_per_sec, nsim_bytes_per_sec, uint, 0644);
MODULE_PARM_DESC(bytes_per_sec,
		 "Write speed in bytes per second (default 5000000, a 40 MHz SPI F-RAM); 0: no delay");

static struct dentry *nsim_debugfs;
static DECLARE_FAULT_ATTR(nsim_fail_write);
static atomic_t nsim_writes;
static atomic_t nsim_wp_ignored;

/**
 * struct knvram_nvmem_sim - a simulated F-RAM
 * @base: The mapped reserved-memory region.
 * @size: Its size in bytes.
 * @wp:   The line on the chip's /WP pin, or NULL; the nvmem core requests
 *        and drives it, the chip only reads its level.
 */
struct knvram_nvmem_sim {
	void *base;
	size_t size;
	struct gpio_desc *wp;
};

static int nsim_read(void *priv, unsigned int offset, void *val, size_t bytes)
{
	struct knvram_nvmem_sim *sim = priv;

	memcpy(val, sim->base + offset, bytes);
	return 0;
}

static int nsim_write(void *priv, unsigned int offset, void *val,
		      size_t bytes)
{
	struct knvram_nvmem_sim *sim = priv;
	unsigned int bps = READ_ONCE(nsim_bytes_per_sec);

	if (should_fail(&nsim_fail_write, bytes))
		return -EIO;
	/* An F-RAM writes as fast as the bus clocks the bytes in. */
	if (bps)
		fsleep(div_u64((u64)bytes * USEC_PER_SEC, bps));
	/* The pin's level as the chip sees it, whoever drives it. */
	if (sim->wp && gpiod_get_raw_value_cansleep(sim->wp) == 0) {
		atomic_inc(&nsim_wp_ignored);
		return 0;	/* the bus transfer succeeds, the chip ignores it */
	}
	memcpy(sim->base + offset, val, bytes);
	atomic_inc(&nsim_writes);
	return 0;
}

static void nsim_put_gdev(void *gdev)
{
	gpio_device_put(gdev);
}

/*
 * The chip's side of wp-gpios: find the line, to read its level on each
 * write. Not requested: the nvmem core requests it (a second request
 * would fail) when we register.
 */
static int nsim_find_wp(struct device *dev, struct knvram_nvmem_sim *sim)
{
	struct of_phandle_args args;
	struct gpio_device *gdev;
	int ret;

	ret = of_parse_phandle_with_args(dev->of_node, "wp-gpios",
					 "#gpio-cells", 0, &args);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return dev_err_probe(dev, ret, "wp-gpios: bad phandle\n");
	gdev = gpio_device_find_by_fwnode(of_fwnode_handle(args.np));
	of_node_put(args.np);
	if (!gdev)
		return dev_err_probe(dev, -EPROBE_DEFER,
				     "wp-gpios: no GPIO device\n");
	ret = devm_add_action_or_reset(dev, nsim_put_gdev, gdev);
	if (ret)
		return ret;
	if (!args.args_count)
		return dev_err_probe(dev, -EINVAL, "wp-gpios: no line number\n");
	sim->wp = gpio_device_get_desc(gdev, args.args[0]);
	if (IS_ERR(sim->wp))
		return dev_err_probe(dev, PTR_ERR(sim->wp),
				     "wp-gpios: no line %u\n", args.args[0]);
	return 0;
}

static int nsim_probe(struct platform_device *pdev)
{
	struct device_node *np __free(device_node) =
		of_parse_phandle(pdev->dev.of_node, "memory-region", 0);
	struct nvmem_config config = {};
	struct device *dev = &pdev->dev;
	struct knvram_nvmem_sim *sim;
	struct reserved_mem *rmem;
	struct nvmem_device *nvmem;
	int ret;

	if (!np)
		return dev_err_probe(dev, -EINVAL,
				     "memory-region: missing or not a phandle\n");
	rmem = of_reserved_mem_lookup(np);
	if (!rmem)
		return dev_err_probe(dev, -EINVAL,
				     "memory-region: %pOF is not reserved memory\n",
				     np);
	if (!rmem->size || rmem->size > UINT_MAX)
		return dev_err_probe(dev, -EINVAL,
				     "memory-region: %pOF: bad size %pa\n",
				     np, &rmem->size);

	sim = devm_kzalloc(dev, sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return -ENOMEM;
	sim->size = rmem->size;
	sim->base = devm_memremap(dev, rmem->base, sim->size, MEMREMAP_WB);
	if (IS_ERR(sim->base))
		return dev_err_probe(dev, PTR_ERR(sim->base),
				     "memory-region: cannot map %pOF\n", np);

	config.dev = dev;
	config.name = dev_name(dev);
	config.id = NVMEM_DEVID_NONE;
	config.owner = THIS_MODULE;
	config.type = NVMEM_TYPE_FRAM;
	config.size = sim->size;
	config.word_size = 1;
	config.stride = 1;
	config.reg_read = nsim_read;
	config.reg_write = nsim_write;
	config.priv = sim;
	ret = nsim_find_wp(dev, sim);
	if (ret)
		return ret;

	/* The nvmem core takes wp-gpios from our node: asserted from here. */
	nvmem = devm_nvmem_register(dev, &config);
	if (IS_ERR(nvmem))
		return dev_err_probe(dev, PTR_ERR(nvmem),
				     "cannot register nvmem device\n");
	return 0;
}

static const struct of_device_id nsim_of_match[] = {
	{ .compatible = "sim-spi-fram" },
	{ }
};
MODULE_DEVICE_TABLE(of, nsim_of_match);

static struct platform_driver nsim_driver = {
	.probe = nsim_probe,
	.driver = {
		.name = "knvram-nvmem-sim",
		.of_match_table = nsim_of_match,
	},
};

static int __init nsim_init(void)
{
	int ret;

	nsim_debugfs = debugfs_create_dir("knvram-nvmem-sim", NULL);
	fault_create_debugfs_attr("fail_write", nsim_debugfs,
				  &nsim_fail_write);
	debugfs_create_atomic_t("writes", 0444, nsim_debugfs, &nsim_writes);
	debugfs_create_atomic_t("wp_ignored", 0444, nsim_debugfs,
				&nsim_wp_ignored);
	ret = platform_driver_register(&nsim_driver);
	if (ret)
		debugfs_remove_recursive(nsim_debugfs);
	return ret;
}

static void __exit nsim_exit(void)
{
	platform_driver_unregister(&nsim_driver);
	debugfs_remove_recursive(nsim_debugfs);
}

module_init(nsim_init);
module_exit(nsim_exit);

MODULE_DESCRIPTION("Simulated SPI F-RAM nvmem provider for knvram tests");
MODULE_LICENSE("GPL");
