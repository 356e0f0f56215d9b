# SPDX-License-Identifier: GPL-2.0-only
#
# knvram. Two roles in one file:
#  - kbuild: `make -C $KDIR M=$PWD` builds every module out of tree;
#  - the test bench: `make run`, `make check`, `make bench` (see README.md).

ifneq ($(KERNELRELEASE),)

# Out-of-tree build: enable everything as modules. In-tree builds use
# drivers/knvram/Kconfig instead (see Kconfig in this directory).
CONFIG_KNVRAM ?= m
CONFIG_KNVRAM_DEV ?= y
CONFIG_KNVRAM_SIM ?= m
CONFIG_KNVRAM_MMIO ?= m
CONFIG_KNVRAM_UBI ?= m
CONFIG_KNVRAM_NVMEM ?= m
CONFIG_KNVRAM_NVMEM_SIM ?= m
CONFIG_KNVRAM_BLK ?= m
CONFIG_KNVRAM_KUNIT_TEST ?= m
export CONFIG_KNVRAM CONFIG_KNVRAM_DEV CONFIG_KNVRAM_SIM CONFIG_KNVRAM_MMIO \
	CONFIG_KNVRAM_UBI CONFIG_KNVRAM_NVMEM CONFIG_KNVRAM_NVMEM_SIM \
	CONFIG_KNVRAM_BLK CONFIG_KNVRAM_KUNIT_TEST

# autoconf.h of the target kernel knows nothing of our options.
subdir-ccflags-y += -I$(src)/include -DCONFIG_KNVRAM_MODULE=1
ifeq ($(CONFIG_KNVRAM_DEV),y)
subdir-ccflags-y += -DCONFIG_KNVRAM_DEV=1
endif

obj-y += drivers/knvram/

else

SHELL := /bin/bash

.PHONY: all modules setup kernel run check bench clean

all: modules

setup:
	@scripts/setup-host.sh

kernel: setup
	@scripts/kernel.sh

# KDIR=/path/to/kernel/build builds against another kernel.
modules: $(if $(KDIR),setup,kernel)
	@scripts/modules.sh

run:
	@scripts/run.sh

check:
	@scripts/check.sh $(if $(EXTRA_TESTS),--extra-tests "$(EXTRA_TESTS)")

bench:
	@scripts/bench.sh

clean:
	@scripts/modules.sh clean

endif
