# The two commands a newcomer needs:
#   make run   installs everything into .venv and starts the app (building the index if it is missing)
#   make test  installs everything into .venv and runs the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# llama-cpp-python compiles llama.cpp on install. A native build (-march=native) picks up AVX-512/AMX code paths
# that crash on this machine kind's CPUs at the first decode; the portable build (AVX2/FMA) runs everywhere.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: install run test test-fast lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	$(BIN)/pva ingest
	$(BIN)/pva serve

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench: install
	$(BIN)/pva bench --out test-artifacts/bench.json
