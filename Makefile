# linstory — the two commands people need are `make run` and `make test`.
SWIFT        ?= swift
BIN          := .build/release/linstory
SHARED       ?= ../shared
TORCH_PYTHON ?=

.PHONY: setup build run test bench torch-venv clean

# Installs the missing Debian packages (a no-op when everything is there).
setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release

run: build
	$(BIN)

# Numerical tests run on a release build: a debug build of the engine is far too slow.
test: setup
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build

# Speed against the PyTorch reference, measured in the same run (see README: Speed).
bench: build
	@TORCH_PYTHON="$(TORCH_PYTHON)" SHARED="$(SHARED)" bash scripts/bench.sh

# A throw-away venv for the PyTorch reference (PyPI's torch is the CUDA build, ~5 GB; it runs on a CPU).
torch-venv:
	python3 -m venv $(HOME)/.venvs/torchref
	$(HOME)/.venvs/torchref/bin/pip install torch numpy safetensors

clean:
	rm -rf .build
