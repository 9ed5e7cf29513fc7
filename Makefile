# Everyday entry points. `make test` is what CI runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

export GOTOOLCHAIN := local

.PHONY: build test test-short bench dev migrate vet fmt console-assets console-screenshots

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/tidings ./cmd/tidings

## test: every test against the local PostgreSQL and in-process servers.
test: vet
	$(GO) test -count=1 -timeout 45m ./...

test-short:
	$(GO) test -count=1 -short ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

migrate: build
	./bin/tidings migrate up

## dev: the main job. Builds and runs everything on this machine against the
## local PostgreSQL: embedded Temporal (state in .tidings/), worker, API, mail
## catcher and the demo company. The first build compiles the Temporal server
## and takes a few minutes; later ones take seconds. Ctrl-C stops it.
dev: build
	./bin/tidings dev --demo

## bench: every `tidings bench` scenario at the sizes of docs/benchmarks.md
## (tables on stdout, JSON in bench-results/), then the importer benchmark.
## Never part of `make test`.
bench: build
	./bin/tidings bench all
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/importer/

## console-assets: fetch the console's vendored JavaScript again at the
## versions pinned in internal/console/assets/refresh.sh (curl and tar; no
## Node). Review the diff before committing it.
console-assets:
	./internal/console/assets/refresh.sh

## console-screenshots: rerun the console's browser tests, saving the
## screenshots docs/console.md shows into docs/console/.
console-screenshots:
	mkdir -p docs/console
	TIDINGS_CONSOLE_SCREENSHOTS=$(CURDIR)/docs/console $(GO) test -count=1 -timeout 30m -run 'Test' ./internal/console/
