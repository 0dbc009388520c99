# Levante — the two commands that set up a machine are `make run` and `make test`.
# Both install what is missing on first use (a virtualenv in .venv, and for
# the tests Debian's postgresql server binaries).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint protos protos-check install postgres clean

run: $(STAMP)
	$(BIN)/levante server

test: $(STAMP) postgres
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared services migrations scripts tests
	$(BIN)/python scripts/gen_protos.py --check
	PYTHON=$(BIN)/python scripts/buf.sh lint

# Regenerate the Python code of protos/ into shared/ (commit the result).
protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

protos-check: $(STAMP)
	$(BIN)/python scripts/gen_protos.py --check

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The PostgreSQL tests start their own server from Debian's binaries.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

clean:
	rm -rf $(VENV) .tools .levante
