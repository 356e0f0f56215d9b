// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram backend on an nvmem device: SPI or I2C F-RAM, MRAM or EEPROM
 * behind at25/at24 or any other nvmem provider.
 *
 * The media is the whole nvmem device named by the node's "nvmem" phandle
 * (with nvmem-names = "nvram"). Reads and writes go straight to the
 * provider, which completes them before returning: no flush is needed.
 * Writes sleep on SPI and I2C, so the backend is not NMI-safe and the
 * knvram core runs its part of an emergency sync in a high-priority
 * worker: hold-up-time-us must cover writing the dirty blocks at the bus
 * speed (Documentation/driver-api/knvram.rst).
 *
 * The power-fail signal is the board's, on another node, as for UBI.
 */

#include <linux/device.h>
#include <linux/err.h>
#include <linux/knvram-provider.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/nvmem-consumer.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>

#define KNVRAM_NVMEM_BLOCK	4096

/**
 * struct knvram_nvmem - a knvram backend on an nvmem device
 * @dev:        The platform device of the devicetree node.
 * @nvmem:      The nvmem device that holds the media.
 * @hold_up_us: hold-up-time-us, or 0.
 */
struct knvram_nvmem {
	struct device *dev;
	struct nvmem_device *nvmem;
	u32 hold_up_us;
};

static int knvram_nvmem_read(void *priv, u64 offset, void *buf, size_t len)
{
	struct knvram_nvmem *nv = priv;
	int ret;

	if (offset > UINT_MAX || len > UINT_MAX - offset)
		return -EINVAL;
	ret = nvmem_device_read(nv->nvmem, offset, len, buf);
	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

static int knvram_nvmem_write(void *priv, u64 offset, const void *buf,
			      size_t len)
{
	struct knvram_nvmem *nv = priv;
	u64 t0 = ktime_get_ns();
	int ret;

	if (offset > UINT_MAX || len > UINT_MAX - offset)
		return -EINVAL;
	/* nvmem_device_write() does not write through its buffer. */
	ret = nvmem_device_write(nv->nvmem, offset, len, (void *)buf);
	if (ret < 0)
		return ret;
	if (ret != len)
		return -EIO;

	t0 = div_u64(ktime_get_ns() - t0, NSEC_PER_USEC);
	if (nv->hold_up_us && t0 > nv->hold_up_us)
		dev_warn_once(nv->dev,
			      "writing %zu bytes took %llu us, more than hold-up-time-us (%u): an emergency sync of as much may not finish\n",
			      len, t0, nv->hold_up_us);
	return 0;
}

static const struct knvram_backend_ops knvram_nvmem_ops = {
	.read = knvram_nvmem_read,
	.write = knvram_nvmem_write,
};

static int knvram_nvmem_probe(struct platform_device *pdev)
{
	struct knvram_backend_config config = {};
	struct device *dev = &pdev->dev;
	struct knvram_backend *be;
	struct knvram_nvmem *nv;
	size_t size;

	nv = devm_kzalloc(dev, sizeof(*nv), GFP_KERNEL);
	if (!nv)
		return -ENOMEM;
	nv->dev = dev;

	/* -EPROBE_DEFER until the provider has registered. */
	nv->nvmem = devm_nvmem_device_get(dev, "nvram");
	if (IS_ERR(nv->nvmem))
		return dev_err_probe(dev, PTR_ERR(nv->nvmem),
				     "nvmem: no nvmem device named \"nvram\"\n");

	if (device_property_present(dev, "hold-up-time-us") &&
	    (device_property_count_u32(dev, "hold-up-time-us") != 1 ||
	     device_property_read_u32(dev, "hold-up-time-us",
				      &nv->hold_up_us) || !nv->hold_up_us))
		return dev_err_probe(dev, -EINVAL,
				     "hold-up-time-us: not one non-zero u32\n");

	size = nvmem_dev_size(nv->nvmem);
	if (size < 8 * KNVRAM_NVMEM_BLOCK)
		return dev_err_probe(dev, -ENOSPC,
				     "nvmem: device %s has %zu bytes, knvram needs at least %u\n",
				     nvmem_dev_name(nv->nvmem), size,
				     8 * KNVRAM_NVMEM_BLOCK);

	config.dev = dev;
	config.name = dev_name(dev);
	config.ops = &knvram_nvmem_ops;
	config.priv = nv;
	config.size = size;
	config.block_size = KNVRAM_NVMEM_BLOCK;
	be = devm_knvram_backend_register(dev, &config);
	if (IS_ERR(be))
		return dev_err_probe(dev, PTR_ERR(be),
				     "cannot register backend on nvmem device %s\n",
				     nvmem_dev_name(nv->nvmem));

	dev_info(dev, "nvmem device %s: %zu bytes\n",
		 nvmem_dev_name(nv->nvmem), size);
	return 0;
}

static const struct of_device_id knvram_nvmem_of_match[] = {
	{ .compatible = "nvmem-nvram" },
	{ }
};
MODULE_DEVICE_TABLE(of, knvram_nvmem_of_match);

static struct platform_driver knvram_nvmem_driver = {
	.probe = knvram_nvmem_probe,
	.driver = {
		.name = "knvram-nvmem",
		.of_match_table = knvram_nvmem_of_match,
	},
};
module_platform_driver(knvram_nvmem_driver);

MODULE_DESCRIPTION("knvram backend on an nvmem device");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(KNVRAM);
