# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job
#   make test   set up, then run every test
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run test app benchmark claims clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "error: Python >= 3.12 is required, found " + sys.version.split()[0] + "; install it or run make PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,app,browser]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/tased-experiment

# Debian's chromium for the browser test (never a browser downloader)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

test: setup browser
	$(BIN)/python -m pytest -n 2

app: setup
	$(BIN)/solara run app/app.py --production

benchmark: setup
	$(BIN)/python benchmarks/bench.py

# the source paper's claims tested: results/claims/report.md
claims: setup
	$(BIN)/tased-experiment experiment=claims

clean:
	rm -rf $(VENV) results/runs results/multirun
