# Leopard's two entry points (see README.md):
#   make run    Leopard's main job
#   make test   the whole test suite (unit, property, reliability and reference cross-checks)
# Both install what they need first (Debian packages when run as root, a Python venv for reference checks).

SHELL := /bin/bash
SWIFT ?= swift
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export LEOPARD_PYTHON := $(CURDIR)/.venv/bin/python3
LEOPARD_DATA ?= $(CURDIR)/../shared/data
export LEOPARD_DATA

# The single-node Slurm cluster of scripts/slurm-cluster.sh, used by the Slurm end-to-end test unless SLURM_CONF
# already points elsewhere.
LEOPARD_SLURM_CONF := /tmp/leopard-slurm/slurm.conf

.PHONY: run test build release deps deps-apt slurm clean

deps-apt:
	@scripts/ensure-deps.sh apt

deps: deps-apt
	@scripts/ensure-deps.sh python

build: deps-apt
	$(SWIFT) build

release: deps-apt
	$(SWIFT) build -c release

run: deps release
	@scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/leopard"

slurm:
	@scripts/slurm-cluster.sh start || echo "note: no single-node Slurm cluster (needs root); the Slurm end-to-end test will be skipped" >&2

test: deps slurm
	$(SWIFT) build --build-tests
	SLURM_CONF="$${SLURM_CONF:-$(LEOPARD_SLURM_CONF)}" $(SWIFT) test --skip-build 2>&1 | tee .build/test-output.txt; exit $${PIPESTATUS[0]}

clean:
	rm -rf .build
