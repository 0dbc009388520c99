# Levante — the two commands that set up a machine are `make run` and `make test`.
# Both install what is missing on first use (a virtualenv in .venv, and for
# the tests Debian's postgresql server binaries).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The Helm chart's tools (tests/helm, `make lint`): helm-sdkpy, which renders
# the chart with Helm itself, needs Python 3.12+, so they get their own
# virtualenv. Without such a Python this says so and the chart tests fail
# with the same message.
HELM_PYTHON ?= $(shell for p in python3.12 python3.13 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python /root/.pyenv/versions/3.1[2-9]*/bin/python; do \
  "$$p" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
HELM_VENV := .venv-helm
HELM_STAMP := $(HELM_VENV)/.installed

.PHONY: run test lint protos protos-check install postgres tools clean helm-tools helm-check

run: $(STAMP)
	$(BIN)/levante server

test: $(STAMP) postgres tools $(HELM_STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP) $(HELM_STAMP)
	$(BIN)/ruff check shared services migrations scripts tests
	$(HELM_VENV)/bin/hadolint Dockerfile
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

# The CLI's terminal tests drive `levante run` inside tmux, and `levante graph
# --svg` draws with Graphviz's dot: Debian's packages, installed when missing.
tools:
	@command -v tmux >/dev/null 2>&1 && command -v dot >/dev/null 2>&1 || { \
	  echo "installing Debian's tmux and graphviz for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux graphviz >/dev/null; }

helm-tools: $(HELM_STAMP)

$(HELM_STAMP): tests/helm/requirements.txt
	@if [ -z "$(HELM_PYTHON)" ]; then \
	  echo "no Python >= 3.12 found (needed by helm-sdkpy for the chart tests): install python3.12 or set HELM_PYTHON"; \
	  exit 0; \
	fi; \
	set -e; \
	test -x $(HELM_VENV)/bin/python || "$(HELM_PYTHON)" -m venv $(HELM_VENV); \
	$(HELM_VENV)/bin/python -m pip install --quiet --upgrade pip; \
	$(HELM_VENV)/bin/python -m pip install --quiet -r tests/helm/requirements.txt; \
	touch $(HELM_STAMP)

# Render the chart with every values file and validate it (what tests/helm checks, by hand).
helm-check: $(HELM_STAMP)
	for values in '' helm/levante/values/*.yaml; do \
	  $(HELM_VENV)/bin/python scripts/helm_render.py helm/levante $${values:+-f $$values} \
	    --validate 1.27,1.37 --out /dev/null || exit 1; \
	done

clean:
	rm -rf $(VENV) $(HELM_VENV) .tools .levante
