# edge-auth: the two commands people need are `make dev` and `make test` (see README.md).
SHELL := bash
.SHELLFLAGS := -e -o pipefail -c
.DEFAULT_GOAL := help

RUST_SOURCES := $(shell find src crates js -name '*.rs' -o -name '*.mjs' 2>/dev/null) Cargo.toml Cargo.lock \
	$(wildcard crates/*/Cargo.toml) docs/openapi.json $(wildcard profiles/*.json) scripts/build-worker.sh scripts/wasm-opt.sh \
	rust-toolchain.toml

.PHONY: help setup build dev test fuzz bench load size-report clean create-admin

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install the pinned toolchain (idempotent, quiet when present)
	@bash scripts/setup.sh

build: setup build/index.js ## build the Worker into build/ (skipped when up to date)

build/index.js: $(RUST_SOURCES)
	@bash scripts/build-worker.sh && touch build/index.js

dev: ## run the service locally: wrangler dev with local D1 + KV and a dev admin
	@bash scripts/dev.sh

test: ## run every check and test (fmt, clippy host+wasm, unit, wasm build, HTTP, contract fuzzing, browser)
	@bash scripts/test.sh

fuzz: build ## contract fuzzing only: Schemathesis against the served OpenAPI documents (scripts/fuzz.sh)
	@bash scripts/fuzz.sh

create-admin: ## create/reset an admin: make create-admin ENV=local|production (asks for the password)
	@bash scripts/create-admin.sh

bench: ## measure hash speed, token ops, wasm size and HTTP throughput; prints one table
	@bash scripts/bench.sh

load: ## load and cost under autocannon (health, profile, refresh, failed logins, the budget); one table
	@bash scripts/load.sh

size-report: ## what the wasm is made of: bytes per crate and the largest items (twiggy)
	@bash scripts/size-report.sh

clean: ## remove build outputs (keeps installed tools and local state)
	rm -rf build target
