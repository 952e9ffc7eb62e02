# Two commands: `make demo` and `make test`. Both create or reuse .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench conformance clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The demo lives in its own data directory; delete demo-data/ to start again.
demo: $(STAMP)
	MICROCRED_DATA_DIR=demo-data $(BIN)/microcred demo

check: $(STAMP)
	scripts/check

test: $(STAMP)
	scripts/setup-system
	scripts/check
	scripts/test

# The W3C VC Data Model 2.0, Data Integrity EdDSA and Bitstring Status List suites against our VC-API,
# offline (npm packages from the registry; the suites from ../shared/conformance/w3c).
conformance: $(STAMP)
	$(BIN)/python scripts/conformance.py --write docs/conformance.md

bench: $(STAMP)
	$(BIN)/python bench/run.py --write docs/performance.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .conformance
