# The two commands of the README: `make demo` and `make test`. Everything else
# here is what they need: a virtual environment, the sandbox, and the Python 3.9
# environment of DeepMind's code_contests tester.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CC_VENV := .cc-venv
CC_STAMP := $(CC_VENV)/.installed
PYTEST_ARGS ?=
# What Jupyter rewrites when it merely opens a notebook, stripped on commit with the outputs
# (nbstripout reads its extra keys from git config only): opening a notebook leaves no diff.
NB_STRIP_KEYS := metadata.language_info

.PHONY: install sandbox runtimes cc-env demo sweep test bench fidelity clean help

help:
	@echo "make demo    set up and run the offline demo"
	@echo "make sweep SWEEP=NAME  run the sweep params/NAME.yaml (outputs/NAME/RUN_ID/)"
	@echo "make test    set up and run the whole test suite"
	@echo "make cc-env  the Python 3.9 environment of the code_contests tester"
	@echo "make bench   execution and metrics benchmarks (bench/)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/nbstripout --install 2>/dev/null || true  # strips outputs of notebooks on commit (.gitattributes)
	git config filter.nbstripout.extrakeys '$(NB_STRIP_KEYS)' 2>/dev/null || true
	@touch $(STAMP)

install: $(STAMP) sandbox

# bubblewrap isolates candidate programs (Linux namespaces); Debian/Ubuntu package.
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "acodium needs bubblewrap (bwrap) to sandbox programs: install it with your package manager." >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap >/dev/null; }

# The runtimes of the other CodeContests languages, for the tests that run them: a JDK (javac)
# and PyPy 3, from the Debian/Ubuntu packages when missing (elsewhere their tests skip, saying
# why; in CI nothing may skip). Python 2 has no package on recent distributions: acodium finds
# one in ACODIUM_PYTHON2, on PATH or under pyenv (pyenv install 2.7.18).
runtimes:
	@missing=; command -v javac >/dev/null || missing="$$missing default-jdk-headless"; \
	  command -v pypy3 >/dev/null || missing="$$missing pypy3"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	      echo "note: not installed (no root):$$missing; the tests that need them skip" >&2; exit 0; fi; \
	    command -v apt-get >/dev/null || { echo "note: install$$missing with your package manager" >&2; exit 0; }; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi

# DeepMind's code_contests tester loads only in CPython 3.9: it gets a venv of its own
# (a Python 3.9 from $$PYTHON39, PATH, pyenv or uv; acodium/execute/code_contests_setup.py).
$(CC_STAMP): $(STAMP)
	$(BIN)/gencode exec setup_code_contests --venv $(CC_VENV) && touch $(CC_STAMP)

cc-env: $(CC_STAMP)

demo: install
	$(BIN)/python -m acodium.demo

# `make sweep SWEEP=clustering`: the sweep params/$(SWEEP).yaml (ARGS: e.g. --only seed=1 --set limit=20).
SWEEP ?= demo
sweep: install
	$(BIN)/gencode sweep params/$(SWEEP).yaml $(ARGS)

test: install cc-env runtimes
	$(BIN)/python tools/check_architecture.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install cc-env
	$(BIN)/python bench/execution.py
	$(BIN)/python bench/metrics.py

fidelity: install cc-env
	$(BIN)/python bench/fidelity.py

clean:
	rm -rf $(VENV) $(CC_VENV) .pytest_cache
