# Factory Desk — build, test and run.
#
#   make test    install what is missing, then gofmt, go vet, go test -race
#   make build   build bin/factory (the CLI and browser-mode server)
#   make bench   run the benchmarks and print their figures
#
# Every target installs what it needs itself (idempotently).

SHELL := /bin/bash
GO ?= go
BIN := bin/factory
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Debian packages the build and the tests need.
APT_PACKAGES := gcc libc6-dev git ca-certificates

.PHONY: all deps apt gomod build test fmt-check vet gotest bench clean

all: build

# apt-get only for what is missing, so a ready machine does nothing here.
apt:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

gomod:
	@$(GO) mod download

deps: apt gomod

build: deps
	CGO_ENABLED=1 $(GO) build -o $(BIN) .

fmt-check:
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path './frontend/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 ./...

test: deps fmt-check vet gotest

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./... | grep -E '^(Benchmark|ok|FAIL|---|\s)' 

clean:
	rm -rf bin
