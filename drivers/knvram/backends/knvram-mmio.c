// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram backend for memory-mapped non-volatile RAM: FRAM, MRAM or
 * battery-backed SRAM that the CPU addresses directly, with the power-fail
 * signal that triggers the emergency sync.
 *
 * Devicetree binding: Documentation/devicetree/bindings/knvram.yaml.
 */

#include <linux/atomic.h>
#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/gpio/consumer.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/knvram.h>
#include <linux/knvram-provider.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/preempt.h>
#include <linux/property.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

/* Bytes written back at probe to estimate the write throughput. */
#define KNVRAM_MMIO_PROBE_LEN	SZ_64K
/* How often a signal with no interrupt of its own is read while failing. */
#define KNVRAM_MMIO_POLL_MS	10

/*
 * The emergency sync freezes every partition of every backend, and
 * knvram_emergency_end() thaws them all: with several power-fail signals,
 * the power is back only once none of them is asserted.
 * knvram_mmio_pf_lock serialises the GPIO-read signals: their count, and
 * the calls, so that an end never overtakes another signal's sync. A
 * signal that is only an interrupt cannot tell that the power is back,
 * and may be an NMI, which takes no lock: it sets knvram_mmio_pf_latched
 * for good.
 */
static DEFINE_RAW_SPINLOCK(knvram_mmio_pf_lock);
static unsigned int knvram_mmio_pf_failing;
static bool knvram_mmio_pf_latched;

/**
 * struct knvram_mmio - one memory-mapped NVRAM
 * @dev:       The device.
 * @base:      The media, mapped write-back.
 * @size:      Media size in bytes.
 * @pf_gpio:   The power-fail GPIO, or NULL.
 * @pf_sleeps: Reading @pf_gpio may sleep: its handler runs in a thread.
 * @pf_edges:  @irq is @pf_gpio's own interrupt, on both edges.
 * @irq:       The power-fail interrupt, or 0.
 * @poll:      Without @pf_edges: reads @pf_gpio until it deasserts.
 * @failing:   @pf_gpio is asserted, as last read; under
 *             knvram_mmio_pf_lock.
 */
struct knvram_mmio {
	struct device *dev;
	void *base;
	u64 size;
	struct gpio_desc *pf_gpio;
	bool pf_sleeps;
	bool pf_edges;
	int irq;
	struct delayed_work poll;
	bool failing;
};

static int knvram_mmio_read(void *priv, u64 offset, void *buf, size_t len)
{
	struct knvram_mmio *nv = priv;

	if (offset > nv->size || len > nv->size - offset)
		return -EINVAL;

	memcpy(buf, nv->base + offset, len);
	return 0;
}

static int knvram_mmio_write(void *priv, u64 offset, const void *buf,
			     size_t len)
{
	struct knvram_mmio *nv = priv;

	if (offset > nv->size || len > nv->size - offset)
		return -EINVAL;

	/*
	 * Copy, then clean the lines to the point of persistence, as
	 * drivers/nvdimm/pmem.c does: a write-back cache loses its data
	 * with the power. No lock, no sleep: safe in NMI.
	 */
	memcpy_flushcache(nv->base + offset, buf, len);
	return 0;
}

static int knvram_mmio_flush(void *priv)
{
	/*
	 * Order the writes and cache cleaning above before any later write
	 * (the header that commits a sync). Software can do no more: what
	 * reaches the point of persistence is the memory system's to keep.
	 * Under QEMU, guest stores land in the file backing guest RAM.
	 */
	pmem_wmb();
	return 0;
}

static const struct knvram_backend_ops knvram_mmio_ops = {
	.read = knvram_mmio_read,
	.write = knvram_mmio_write,
	.flush = knvram_mmio_flush,
};

/* Power-fail interrupt without a level to read, as NMI or hard IRQ. */
static irqreturn_t knvram_mmio_pf_irq(int irq, void *data)
{
	/*
	 * Every interrupt means that power is failing, and nothing tells
	 * when it is back: sync once, then mute the line, which would fire
	 * again at once if level-triggered. An NMI cannot be disabled from
	 * its handler (that takes the descriptor's lock): a level-triggered
	 * one keeps coming until the signal drops, and returns here.
	 */
	if (!xchg(&knvram_mmio_pf_latched, true)) {
		/*
		 * Pairs with the smp_mb() in knvram_mmio_end(): either that
		 * end sees the latch and syncs again, or this sync's freeze
		 * comes after that end's thaw.
		 */
		smp_mb();
		knvram_emergency_sync();
	}
	if (!in_nmi())
		disable_irq_nosync(irq);
	return IRQ_HANDLED;
}

/* No power-fail signal is asserted any more. Under knvram_mmio_pf_lock. */
static void knvram_mmio_end(void)
{
	lockdep_assert_held(&knvram_mmio_pf_lock);
	/* A signal that cannot tell the end holds every partition frozen. */
	if (READ_ONCE(knvram_mmio_pf_latched))
		return;
	knvram_emergency_end();
	/* Pairs with the smp_mb() in knvram_mmio_pf_irq(). */
	smp_mb();
	if (READ_ONCE(knvram_mmio_pf_latched))
		knvram_emergency_sync();
}

/*
 * The power-fail GPIO of @nv reads @level; @edge: the interrupt saw it
 * change. Syncs when it asserts, ends when no signal is asserted any more.
 */
static void knvram_mmio_pf_set(struct knvram_mmio *nv, bool level, bool edge)
{
	unsigned long flags;
	bool pulse = false;

	raw_spin_lock_irqsave(&knvram_mmio_pf_lock, flags);
	if (level && !nv->failing) {
		nv->failing = true;
		knvram_mmio_pf_failing++;
		knvram_emergency_sync();
	} else if (!level && nv->failing) {
		nv->failing = false;
		if (!--knvram_mmio_pf_failing)
			knvram_mmio_end();
	} else if (!level && edge) {
		/*
		 * The signal changed and is deasserted already: it was
		 * asserted for less than the interrupt latency. Power may
		 * have failed: sync, then thaw as for any end.
		 */
		pulse = true;
		knvram_emergency_sync();
		if (!knvram_mmio_pf_failing)
			knvram_mmio_end();
	}
	raw_spin_unlock_irqrestore(&knvram_mmio_pf_lock, flags);

	if (pulse)
		dev_warn_ratelimited(nv->dev,
				     "power-fail pulse shorter than the interrupt latency: synced\n");
}

/* A level we cannot read counts as failing. */
static bool knvram_mmio_pf_level(struct knvram_mmio *nv)
{
	int level;

	if (nv->pf_sleeps)
		level = gpiod_get_value_cansleep(nv->pf_gpio);
	else
		level = gpiod_get_value(nv->pf_gpio);
	return level != 0;
}

/* Power-fail interrupt of a signal whose level we read. */
static irqreturn_t knvram_mmio_pf_gpio(int irq, void *data)
{
	struct knvram_mmio *nv = data;
	bool level = knvram_mmio_pf_level(nv);

	knvram_mmio_pf_set(nv, level, true);
	/*
	 * An interrupt of its own (not the GPIO's) may fire on assertion
	 * only, or as a level that would fire again at once: mute it and
	 * read the GPIO until the signal drops.
	 */
	if (level && !nv->pf_edges) {
		disable_irq_nosync(irq);
		schedule_delayed_work(&nv->poll,
				      msecs_to_jiffies(KNVRAM_MMIO_POLL_MS));
	}
	return IRQ_HANDLED;
}

static void knvram_mmio_poll(struct work_struct *work)
{
	struct knvram_mmio *nv = container_of(to_delayed_work(work),
					      struct knvram_mmio, poll);

	if (knvram_mmio_pf_level(nv)) {
		schedule_delayed_work(&nv->poll,
				      msecs_to_jiffies(KNVRAM_MMIO_POLL_MS));
		return;
	}
	knvram_mmio_pf_set(nv, false, false);
	enable_irq(nv->irq);
}

/* Unbound: no more interrupt, and this signal no longer holds the others. */
static void knvram_mmio_pf_release(void *data)
{
	struct knvram_mmio *nv = data;

	/* Left disabled: freeing it next resets it. */
	disable_irq(nv->irq);
	cancel_delayed_work_sync(&nv->poll);
	knvram_mmio_pf_set(nv, false, false);
}

/* The signal may be asserted already: no edge would tell. */
static void knvram_mmio_pf_start(struct knvram_mmio *nv)
{
	bool level;

	disable_irq(nv->irq);
	level = knvram_mmio_pf_level(nv);
	knvram_mmio_pf_set(nv, level, false);
	if (level && !nv->pf_edges) {
		/* As the handler would: the poll enables it again. */
		schedule_delayed_work(&nv->poll,
				      msecs_to_jiffies(KNVRAM_MMIO_POLL_MS));
		return;
	}
	enable_irq(nv->irq);
}

static void knvram_mmio_free_nmi(void *data)
{
	struct knvram_mmio *nv = data;

	disable_nmi_nosync(nv->irq);
	/* NMI handlers are RCU readers: wait for one still running. */
	synchronize_rcu();
	free_nmi(nv->irq, nv);
}

/*
 * Only lines wired straight to an NMI-capable interrupt controller (a GIC
 * with pseudo-NMI) take this. request_nmi() is not exported to modules:
 * built-in drivers only.
 */
static int knvram_mmio_request_nmi(struct device *dev, struct knvram_mmio *nv)
{
	int ret;

	ret = request_nmi(nv->irq, knvram_mmio_pf_irq,
			  IRQF_PERCPU | IRQF_NOBALANCING | IRQF_NO_AUTOEN |
			  IRQF_NO_THREAD, dev_name(dev), nv);
	if (ret)
		return ret;

	ret = devm_add_action_or_reset(dev, knvram_mmio_free_nmi, nv);
	if (ret)
		return ret;

	enable_nmi(nv->irq);
	return 0;
}

/* Requests the power-fail interrupt; @mode tells how, for the log. */
static int knvram_mmio_request_pf(struct device *dev, struct knvram_mmio *nv,
				  const char **mode)
{
	unsigned long flags = 0;
	int ret;

	*mode = "none";
	if (!nv->irq)
		return 0;

	if (!nv->pf_gpio) {
		*mode = "NMI";
		if (IS_BUILTIN(CONFIG_KNVRAM_MMIO) &&
		    !knvram_mmio_request_nmi(dev, nv))
			return 0;
		*mode = "IRQ";
		return devm_request_irq(dev, nv->irq, knvram_mmio_pf_irq,
					IRQF_NO_THREAD, dev_name(dev), nv);
	}

	/*
	 * The GPIO's own interrupt: take both edges, then read the level.
	 * Another interrupt keeps the trigger it has in devicetree; the
	 * handler mutes it and polls the GPIO while the power fails.
	 */
	if (nv->pf_edges)
		flags = IRQF_TRIGGER_RISING | IRQF_TRIGGER_FALLING;

	/* A GPIO controller that sleeps cannot be read in hard IRQ. */
	if (nv->pf_sleeps) {
		*mode = nv->pf_edges ? "GPIO, threaded IRQ on both edges" :
				       "GPIO, threaded IRQ, polled while failing";
		ret = devm_request_threaded_irq(dev, nv->irq, NULL,
						knvram_mmio_pf_gpio,
						flags | IRQF_ONESHOT,
						dev_name(dev), nv);
	} else {
		*mode = nv->pf_edges ? "GPIO, IRQ on both edges" :
				       "GPIO, IRQ, polled while failing";
		ret = devm_request_irq(dev, nv->irq, knvram_mmio_pf_gpio,
				       flags | IRQF_NO_THREAD, dev_name(dev),
				       nv);
	}
	if (ret)
		return ret;

	/* Runs before the interrupt is freed. */
	ret = devm_add_action_or_reset(dev, knvram_mmio_pf_release, nv);
	if (ret)
		return ret;
	knvram_mmio_pf_start(nv);
	return 0;
}

static int knvram_mmio_get_pf(struct platform_device *pdev,
			      struct knvram_mmio *nv)
{
	struct device *dev = &pdev->dev;
	struct device_node *np = dev->of_node;
	int irq;

	nv->pf_gpio = devm_gpiod_get_optional(dev, "power-fail", GPIOD_IN);
	if (IS_ERR(nv->pf_gpio))
		return dev_err_probe(dev, PTR_ERR(nv->pf_gpio),
				     "power-fail-gpios: cannot get GPIO\n");
	if (nv->pf_gpio)
		nv->pf_sleeps = gpiod_cansleep(nv->pf_gpio);

	if (of_property_present(np, "interrupts") ||
	    of_property_present(np, "interrupts-extended")) {
		irq = platform_get_irq_optional(pdev, 0);
		if (irq < 0)
			return dev_err_probe(dev, irq == -ENXIO ? -EINVAL : irq,
					     "interrupts: cannot get IRQ\n");
	} else if (nv->pf_gpio) {
		irq = gpiod_to_irq(nv->pf_gpio);
		if (irq < 0)
			return dev_err_probe(dev, irq,
					     "power-fail-gpios: no interrupt\n");
		nv->pf_edges = true;
	} else {
		return 0;
	}
	nv->irq = irq;
	return 0;
}

static int knvram_mmio_map(struct platform_device *pdev,
			   struct knvram_mmio *nv)
{
	struct device *dev = &pdev->dev;
	struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	phys_addr_t start;

	if (of_property_present(dev->of_node, "memory-region")) {
		struct device_node *np __free(device_node) =
			of_parse_phandle(dev->of_node, "memory-region", 0);
		struct reserved_mem *rmem;

		if (res)
			return dev_err_probe(dev, -EINVAL,
					     "reg and memory-region exclude each other\n");
		if (!np)
			return dev_err_probe(dev, -EINVAL,
					     "memory-region: not a phandle\n");
		if (!of_property_read_bool(np, "no-map"))
			return dev_err_probe(dev, -EINVAL,
					     "memory-region: %pOF lacks no-map\n",
					     np);
		rmem = of_reserved_mem_lookup(np);
		if (!rmem)
			return dev_err_probe(dev, -EINVAL,
					     "memory-region: %pOF is not reserved memory\n",
					     np);
		start = rmem->base;
		nv->size = rmem->size;
	} else if (res) {
		if (!devm_request_mem_region(dev, res->start,
					     resource_size(res), dev_name(dev)))
			return dev_err_probe(dev, -EBUSY, "reg: %pR is busy\n",
					     res);
		start = res->start;
		nv->size = resource_size(res);
	} else {
		return dev_err_probe(dev, -EINVAL,
				     "needs reg or memory-region\n");
	}

	/* Byte-addressable memory: map it as memory, like the pmem driver. */
	nv->base = devm_memremap(dev, start, nv->size, MEMREMAP_WB);
	if (IS_ERR(nv->base))
		return dev_err_probe(dev, PTR_ERR(nv->base),
				     "cannot map %pa\n", &start);
	return 0;
}

/* Warn if writing the whole media would outlast the power supply. */
static int knvram_mmio_check_hold_up(struct device *dev,
				     struct knvram_mmio *nv, u32 hold_up_us)
{
	size_t len = min_t(u64, nv->size, KNVRAM_MMIO_PROBE_LEN);
	u64 t0, ns = U64_MAX, total_us;
	int pass;

	void *buf __free(kvfree) = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	/*
	 * Time writing back what the media already holds. This changes
	 * nothing, even if power fails half-way: every byte is rewritten
	 * with its own value, and the backend is not registered yet, so
	 * nobody else writes the media meanwhile. The best of two passes:
	 * the first also pays for cold caches and TLBs.
	 */
	memcpy(buf, nv->base, len);
	for (pass = 0; pass < 2; pass++) {
		t0 = ktime_get_ns();
		knvram_mmio_write(nv, 0, buf, len);
		knvram_mmio_flush(nv);
		ns = min(ns, ktime_get_ns() - t0);
	}

	total_us = div_u64(mul_u64_u64_div_u64(ns, nv->size, len),
			   NSEC_PER_USEC);
	if (total_us > hold_up_us)
		dev_warn(dev,
			 "writing all %llu bytes takes about %llu us, more than hold-up-time-us (%u): an emergency sync may not finish\n",
			 nv->size, total_us, hold_up_us);
	return 0;
}

static int knvram_mmio_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct knvram_backend_config config = {};
	struct knvram_backend *be;
	struct knvram_mmio *nv;
	const char *mode;
	u32 hold_up_us;
	int ret;

	nv = devm_kzalloc(dev, sizeof(*nv), GFP_KERNEL);
	if (!nv)
		return -ENOMEM;
	nv->dev = dev;
	INIT_DELAYED_WORK(&nv->poll, knvram_mmio_poll);

	ret = knvram_mmio_map(pdev, nv);
	if (ret)
		return ret;

	if (device_property_present(dev, "hold-up-time-us")) {
		if (device_property_count_u32(dev, "hold-up-time-us") != 1 ||
		    device_property_read_u32(dev, "hold-up-time-us",
					     &hold_up_us) || !hold_up_us)
			return dev_err_probe(dev, -EINVAL,
					     "hold-up-time-us: not one non-zero u32\n");
		ret = knvram_mmio_check_hold_up(dev, nv, hold_up_us);
		if (ret)
			return ret;
	}

	/* Before registering: a GPIO controller may not be there yet. */
	ret = knvram_mmio_get_pf(pdev, nv);
	if (ret)
		return ret;

	config.dev = dev;
	config.name = dev_name(dev);
	config.ops = &knvram_mmio_ops;
	config.priv = nv;
	config.size = nv->size;
	config.flags = KNVRAM_BACKEND_NMI_SAFE;
	be = devm_knvram_backend_register(dev, &config);
	if (IS_ERR(be))
		return dev_err_probe(dev, PTR_ERR(be),
				     "cannot register backend\n");

	/* After: devm frees the interrupt before unregistering. */
	ret = knvram_mmio_request_pf(dev, nv, &mode);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request IRQ %d\n",
				     nv->irq);

	dev_info(dev, "%llu bytes, power-fail: %s\n", nv->size, mode);
	return 0;
}

static const struct of_device_id knvram_mmio_of_match[] = {
	{ .compatible = "mmio-nvram" },
	{ }
};
MODULE_DEVICE_TABLE(of, knvram_mmio_of_match);

static struct platform_driver knvram_mmio_driver = {
	.probe = knvram_mmio_probe,
	.driver = {
		.name = "knvram-mmio",
		.of_match_table = knvram_mmio_of_match,
	},
};
module_platform_driver(knvram_mmio_driver);

MODULE_DESCRIPTION("knvram backend for memory-mapped non-volatile RAM");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(KNVRAM);
