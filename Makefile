# Two commands on a fresh machine: `make run` (install + serve) and `make test` (install + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch first and pinned: 2.13.0 is the CPU build, and sentence-transformers would otherwise
# pull a multi-gigabyte CUDA build.
TORCH  := torch==2.13.0
# llama.cpp compiled for any x86-64 CPU with AVX2 rather than for this one (-march=native):
# on CPUs with AMX (Sapphire Rapids and later, common in cloud VMs) the native build crashes in
# llama_decode. Never from pip's wheel cache, which may hold a native build.
LLAMA       := llama-cpp-python==0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run test install install-dev lint bench clean sdk web browser

# The browser the web UI's end-to-end tests drive: Debian's Chromium (CHROMIUM names another).
CHROMIUM ?= /usr/bin/chromium

# The web UI is built first where npm is found; without it, the API is served alone.
run: $(VENV)/.installed
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory web; \
	else echo "Node.js not found: serving the API without the web UI"; fi
	$(BIN)/luna serve

test: $(VENV)/.installed-dev browser
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "LUNA-Narrates needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip install --quiet --no-cache-dir $(LLAMA)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Installs Debian's Chromium when it is missing (as root, or through sudo).
browser:
	@test -x "$(CHROMIUM)" || { \
	  command -v apt-get >/dev/null || { echo "Chromium not found at $(CHROMIUM) and no apt-get: install Chromium and set CHROMIUM"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q chromium >/dev/null || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium >/dev/null; }; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/luna bench turn

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The TypeScript SDK, generated from the API's schema (needs Node.js ≥ 20.19 and npm).
sdk: $(VENV)/.installed
	$(BIN)/python -c 'from luna_narrates.app import openapi_json; print(openapi_json(), end="")' > sdk/typescript/openapi.json
	cd sdk/typescript && npm ci --no-audit --no-fund && npm run generate && npm run build

# The web UI (web/), built into src/luna_narrates/web/ and served at / (needs Node.js ≥ 20.19).
web:
	cd web && npm ci --no-audit --no-fund && npm run build
