# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
SMSC_NODE := tests/peers/smsc_node

.PHONY: run test lint pytest bench translations catalog browser peers clean

run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty
	$(FLASK) serve

test: $(VENV)/.test-installed translations browser peers lint pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy  # shopsms/sms, shopsms/services, shopsms/access.py ([tool.mypy] in pyproject.toml)

# Two test processes (pytest-xdist): each has its own database (SQLite file, or
# shopsms_test_<pid> on PostgreSQL) and its own Redis (embedded, or REDIS_URL's
# database plus the worker's index). PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

pytest: $(VENV)/.test-installed translations
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.test-installed translations
	$(BIN)/python -m bench

# Compiled catalogues are build output: made from the committed .po files, each again
# only when its .po changed (.ci/run's PostgreSQL half reads them while make test runs).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard shopsms/translations/*/LC_MESSAGES/messages.po))

translations: $(CATALOGUES)

shopsms/translations/%/LC_MESSAGES/messages.mo: shopsms/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -f -i $< -o $@ >/dev/null

# After adding UI text: extract it, then translate the new entries in en/…/messages.po.
catalog: $(VENV)/.installed
	$(BIN)/pybabel extract -F shopsms/babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location \
	  --sort-output -o shopsms/translations/messages.pot .
	$(BIN)/pybabel update -i shopsms/translations/messages.pot -d shopsms/translations \
	  --no-fuzzy-matching --width 100

# The browser tests drive Debian's Chromium; install it when we can (root, apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "Chromium is needed for the browser tests: sudo apt-get install chromium"; exit 1; fi; }

# The peer tests run a real Kannel (bearerbox, smsbox and its fake SMSC) from Debian.
peers:
	@{ command -v bearerbox >/dev/null 2>&1 && test -x /usr/lib/kannel/test/fakesmsc; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras; \
	  else echo "Kannel is needed for the peer tests: sudo apt-get install kannel kannel-extras"; exit 1; fi; }
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	  else echo "Node.js is needed for the SMPP peer tests: sudo apt-get install nodejs npm"; exit 1; fi; }
	@# The SMPP test SMSC runs on the npm smpp package, pinned by its lock file.
	@test -d $(SMSC_NODE)/node_modules/smpp || npm ci --prefix $(SMSC_NODE) --no-audit --no-fund --silent

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
