# Switchboard. Every tool is pinned in go.mod (go tool …) or clients/*/package.json.
SHELL := /bin/bash
GO    ?= go
BUF   := $(GO) tool buf
# PostgreSQL for test-postgres and bench (trust auth on localhost).
PG_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run the server on embedded SQLite with demo data.
	$(GO) run ./server/cmd/switchboard serve --demo --bootstrap-api-key sbk_demo_0123456789abcdef

.PHONY: clients-deps
clients-deps: ## Install the pinned npm packages of clients/ts and clients/web when missing or stale.
	clients/web/scripts/deps.sh

# The .proto files the contract imports besides its own (google/api/annotations.proto
# and http.proto) come from a Go module pinned in go.mod and are copied here
# before every buf command; buf.yaml lists this folder as a second module. Not
# committed (.gitignore).
PROTO_DEPS := third_party/googleapis
GOOGLEAPIS_MODULE := github.com/grpc-ecosystem/grpc-gateway

.PHONY: proto-deps
proto-deps: ## Copy the imported google/api .proto files from the module pinned in go.mod.
	@$(GO) mod download $(GOOGLEAPIS_MODULE)
	@src=$$($(GO) list -m -f '{{.Dir}}' $(GOOGLEAPIS_MODULE)); \
	if [ -z "$$src" ]; then echo "go.mod must require $(GOOGLEAPIS_MODULE) (it ships google/api/*.proto)"; exit 1; fi; \
	mkdir -p $(PROTO_DEPS)/google/api && \
	install -m 0644 $$src/third_party/googleapis/google/api/annotations.proto $$src/third_party/googleapis/google/api/http.proto $(PROTO_DEPS)/google/api/

.PHONY: generate
generate: clients-deps proto-deps ## Regenerate gen/ (Go, OpenAPI), clients/ts/src/gen, clients/python/src (protoc), ent/, and the page's dist.
	$(BUF) generate
	$(GO) generate ./ent
	clients/python/scripts/generate.sh
	clients/web/scripts/build.sh

.PHONY: generate-python
generate-python: proto-deps ## Regenerate only the Python client's stubs (Debian's protoc, installed when missing).
	clients/python/scripts/generate.sh

.PHONY: generate-go
generate-go: proto-deps ## Regenerate only gen/ (Go, OpenAPI) and ent/ (needs nothing but Go).
	$(BUF) generate --template buf.gen.go.yaml
	$(GO) generate ./ent

.PHONY: migration
migration: ## Write the next schema migration of each database from the ent schema: make migration NAME=what_changed (needs the local PostgreSQL).
	@if [ -z "$(NAME)" ]; then echo "usage: make migration NAME=what_changed"; exit 2; fi
	$(GO) run ./server/store/migrations/generate -name '$(NAME)' -dev-url '$(PG_URL)'

.PHONY: migration-hash
migration-hash: ## Rewrite server/store/migrations/*/atlas.sum after a reviewed change of a migration file.
	$(GO) run ./server/store/migrations/generate -hash

.PHONY: web
web: ## Build the settings page into clients/web/dist (embedded by the server).
	clients/web/scripts/build.sh

.PHONY: checkgenerate
checkgenerate: generate ## Fail if regenerating changes anything.
	@if [ -n "$$(git status --porcelain -- gen ent clients)" ]; then \
		echo "generated code is out of date; run make generate and commit:"; \
		git status --porcelain -- gen ent clients; exit 1; fi

.PHONY: lint
lint: proto-deps ## buf lint and format, gofmt, go vet.
	$(BUF) lint
	$(BUF) format api -d --exit-code
	@out=$$(gofmt -l server ent/schema); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# On a branch, the contract must not break main's; on main itself, the
# commit before.
BREAKING_BASE ?= $(shell if [ "$$(git rev-parse HEAD 2>/dev/null)" = "$$(git rev-parse main 2>/dev/null)" ]; then echo HEAD~1; else echo main; fi)

# The base's imported .proto files are not committed either: its api/ and
# buf.yaml are checked out beside a copy of ours and built into an image.
.PHONY: breaking
breaking: proto-deps ## buf breaking (WIRE_JSON) against main, or the previous commit on main.
	@if git cat-file -e $(BREAKING_BASE):buf.yaml 2>/dev/null; then \
		base=$$(mktemp -d) && trap 'rm -rf "$$base"' EXIT && \
		git archive $(BREAKING_BASE) buf.yaml api | tar -x -C "$$base" && \
		mkdir -p "$$base/$(PROTO_DEPS)" && cp -R $(PROTO_DEPS)/. "$$base/$(PROTO_DEPS)/" && \
		$(BUF) build "$$base/api" -o "$$base/image.binpb" && \
		$(BUF) breaking api --against "$$base/image.binpb"; \
	else echo "no contract at $(BREAKING_BASE) yet"; fi

.PHONY: test
test: test-go test-smoke test-ts test-web test-python test-java ## Run every test: Go (PostgreSQL too when TEST_DATABASE_URL is set), smoke, SDKs, browser.

.PHONY: test-go
test-go: ## Go tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.
	$(GO) test -count=1 -timeout 20m ./...

.PHONY: test-postgres
test-postgres: ## Go tests on SQLite and on the local PostgreSQL.
	TEST_DATABASE_URL='$(PG_URL)' $(GO) test -count=1 -timeout 20m ./...

.PHONY: test-smoke
test-smoke: ## A real server on SQLite with demo data: REST route and push, gRPC with buf curl.
	server/scripts/smoke.sh

.PHONY: test-ts
test-ts: ## TypeScript SDK tests against a freshly built server.
	clients/ts/scripts/test.sh

.PHONY: test-python
test-python: ## Python client tests against a freshly built server (Debian's python3-grpcio).
	clients/python/scripts/test.sh

.PHONY: test-java
test-java: ## Java client: generate and compile the gRPC-Java stubs, then subscribe to a fresh server.
	clients/java/scripts/test.sh

.PHONY: test-web
test-web: ## Browser tests of the settings page (Debian chromium via playwright-core).
	clients/web/scripts/test.sh

.PHONY: screenshots
screenshots: ## Refresh docs/screenshots from the browser tests.
	UPDATE_SCREENSHOTS=1 clients/web/scripts/test.sh

.PHONY: bench
bench: ## Measure routing, access checks, SQLite and streams on the local PostgreSQL (~10 min).
	$(GO) run ./server/cmd/switchboard bench --database-url '$(PG_URL)'

.PHONY: fuzz
fuzz: ## Fuzz the phone normalizer for a minute.
	$(GO) test ./server/phone -run XXX -fuzz FuzzNormalize -fuzztime 60s
