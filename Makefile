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

.PHONY: run test build release deps deps-apt clean

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build 2>&1 | tee .build/test-output.txt; exit $${PIPESTATUS[0]}

clean:
	rm -rf .build
