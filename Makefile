# Two commands on a fresh machine: `make run` (install + serve) and `make test` (install + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch first and pinned: 2.13.0 is the CPU build, and sentence-transformers would otherwise
# pull a multi-gigabyte CUDA build.
TORCH  := torch==2.13.0

.PHONY: run test install install-dev lint bench clean

run: $(VENV)/.installed
	$(BIN)/luna serve

test: $(VENV)/.installed-dev
	$(BIN)/pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "LUNA-Narrates needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/luna bench turn

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
