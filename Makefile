# Two commands matter: `make run` (set up + serve on the embedded defaults) and
# `make test` (set up + the whole test suite). Everything else is their plumbing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-pool setup setup-py setup-js setup-browser setup-tools lint lint-js bench clean

run: setup
	$(BIN)/ade init
	$(BIN)/ade serve --port $(PORT)

test: setup setup-browser setup-tools lint lint-js
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-pool

# The sandbox, hardening, dry-run and job tests again with warm sandbox workers (the
# suite's default is ADE_SANDBOX_POOL_SIZE=0: every run starts its worker); `make
# test` runs both. Celery and the multi-host test use the same pool code in `ade
# worker`, so they run once, cold; tests/test_runner_sandbox_pool.py builds its own
# pools whatever the setting, so it runs once too.
POOL_TESTS := tests/test_runner_sandbox.py tests/test_runner_sandbox_hardening.py \
	tests/test_api_hostile_runs.py \
	tests/test_api_dryrun_outputs.py tests/test_jobs_local.py \
	tests/test_jobs_restart.py tests/test_worker_api.py \
	tests/test_worker_http.py tests/test_runner_cli.py tests/test_api_dryrun_async.py \
	tests/test_serve_hostile_dryruns.py
test-pool: setup
	ADE_SANDBOX_POOL_SIZE=2 $(BIN)/pytest $(POOL_TESTS)

setup: setup-py setup-js

setup-py: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup-js:
	@if [ -f package.json ]; then \
		[ -d node_modules ] && [ node_modules/.package-lock.json -nt package.json ] \
			|| npm ci --no-audit --no-fund || npm install --no-audit --no-fund; \
		if [ -x scripts/vendor-static.sh ]; then scripts/vendor-static.sh; fi; \
	fi

# curl and jq for tests/test_curl_script.py and tests/test_readme_example.py (run as written).
setup-tools:
	@command -v curl >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 || \
		( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq curl jq )

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`).
setup-browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ] || \
		( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium )

# Every check runs and reports before the target fails, so one run shows everything.
# ruff: style, and C901 (complexity <= 15, pyproject.toml); lint-imports: the layers
# (the contracts in setup.cfg).
LINT_PATHS := app repos runner tests bench
lint: setup-py
	@status=0; \
	echo "ruff check $(LINT_PATHS)"; $(BIN)/ruff check $(LINT_PATHS) || status=1; \
	echo "ruff format --check $(LINT_PATHS)"; \
	$(BIN)/ruff format --check $(LINT_PATHS) || status=1; \
	echo "lint-imports"; $(BIN)/lint-imports --no-logo || status=1; \
	exit $$status

# ESLint (npm devDependency, eslint.config.js) over the editor's browser modules.
lint-js: setup-js
	npx --no-install eslint app/editor/static/js

clean:
	rm -rf $(VENV) node_modules
