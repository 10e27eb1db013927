# The two commands of the quick start are `make run` and `make test`; everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite://cms.sqlite3

LINTED := cms tests $(wildcard bench)

.PHONY: run test check format assets install lock clean bench

# uv installs exactly what uv.lock pins (hashes included); it is itself bootstrapped from that
# lock by tools/bootstrap_uv.py, so Python and make are all a new machine needs. uv uses the
# Python that made .venv and never downloads one of its own.
UV := $(BIN)/uv
export UV_PYTHON_DOWNLOADS := never

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/bootstrap_uv.py uv.lock

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --all-extras --quiet
	touch $(STAMP)

install: $(STAMP)

# Moves every pin to the newest release that pyproject.toml allows; commit the new uv.lock.
lock: $(UV)
	$(UV) lock --upgrade

# Without local GraphiQL files (no npm), the page falls back to the pinned CDN copies and says so.
run: install assets
	CMS_DATABASE_URL=$(DEMO_DB) $(BIN)/cms migrate
	CMS_DATABASE_URL=$(DEMO_DB) $(BIN)/cms demo
	@if [ -f $(VENDOR_STAMP) ]; then cdn=false; else \
		echo "make run: GraphiQL's local files are missing, so its page loads them from the CDN." >&2; \
		cdn=true; fi; \
	CMS_GRAPHIQL_CDN=$${CMS_GRAPHIQL_CDN:-$$cdn} CMS_DATABASE_URL=$(DEMO_DB) $(BIN)/cms serve

# GraphiQL's browser files, pinned by package.json + package-lock.json, copied into the
# git-ignored vendor folder. The stamp makes a second run instant until the lock file changes.
VENDOR := cms/web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed
VENDOR_SOURCES := node_modules/react/umd/react.production.min.js \
	node_modules/react-dom/umd/react-dom.production.min.js \
	node_modules/graphiql/graphiql.min.js \
	node_modules/graphiql/graphiql.min.css

# Without npm this only explains itself, so that `make run` still works (see CMS_GRAPHIQL_CDN).
assets:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory --question $(VENDOR_STAMP) || $(MAKE) --no-print-directory $(VENDOR_STAMP); \
	else \
		echo "make assets: npm was not found, so GraphiQL's files were not installed into $(VENDOR)/." >&2; \
		echo "  Install Node.js and npm, then run 'make assets' again," >&2; \
		echo "  or serve GraphiQL from the CDN instead: CMS_GRAPHIQL_CDN=true make run" >&2; \
	fi

$(VENDOR_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)
	cp $(VENDOR_SOURCES) $(VENDOR)/
	touch $@

# The headline read against a bare baseline (bench/README.md); BENCH_ARGS="--postgres URL".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

test: install
	$(BIN)/pytest

check: install
	$(UV) lock --check
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

format: install
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

clean:
	rm -rf $(VENV) node_modules cms/web/static/vendor
