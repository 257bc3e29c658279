# Factory Desk — build, test and run.
#
#   make run     build and open the desktop window (installs what it needs)
#   make serve   browser mode on http://127.0.0.1:7777 (for machines with no display)
#   make test    install what is missing, then gofmt, go vet, go test -race,
#                a short fuzz of every fuzz target, the frontend's tests,
#                the browser and desktop tests
#   make fuzz    every fuzz target for a minute each (FUZZTIME)
#   make build   build bin/factory (CLI + browser mode)
#   make bench   run the benchmarks and print their figures
#   make test-ollama  the tests against a real Ollama serving a tiny model made here
#   make soak    200 SIGKILLs of a running `factory run`, each resumed, no
#                gate process (bwrap) left behind
#
# Every target installs what it needs itself, idempotently: apt-get only for
# Debian packages that are missing, npm ci only when package-lock.json changed.

SHELL := /bin/bash
GO ?= go
BIN := bin/factory
DESKTOP_BIN := bin/factory-desk
DESKTOP_TAGS := desktop,production,webkit2_41
WAILS_VERSION := v2.9.2
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
WORKSPACE ?= .

# Debian packages: the Go build (cgo for SQLite), three-way merges (git),
# the desktop build, the browser tests (chromium), the desktop smoke test
# (Xvfb, xwd for its screenshots) and the gates' sandbox (bubblewrap).
APT_BUILD := gcc libc6-dev git ca-certificates pkg-config
APT_DESKTOP := libgtk-3-dev libwebkit2gtk-4.1-dev
APT_TEST := chromium xvfb xauth x11-apps bubblewrap

.PHONY: all deps apt-build apt-desktop apt-test gomod frontend build desktop run serve \
	test fmt-check vet gotest fuzz fuzz-brief frontend-test test-ollama bench soak clean

all: build

# apt installs the packages named in $(1) that are not installed yet.
define apt
	@missing=""; \
	for p in $(1); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

apt-build:
	$(call apt,$(APT_BUILD))

apt-desktop:
	$(call apt,$(APT_DESKTOP))

apt-test:
	$(call apt,$(APT_TEST))

gomod:
	@$(GO) mod download

# The frontend: npm ci when the lock file is newer than node_modules, then
# the production build that the Go binary embeds.
frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend: frontend/node_modules/.installed
	cd frontend && npm run --silent build

deps: apt-build gomod frontend

build: deps
	CGO_ENABLED=1 $(GO) build -o $(BIN) .

desktop: deps apt-desktop
	@command -v wails >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/wails" ] || \
		$(GO) install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)
	CGO_ENABLED=1 $(GO) build -tags $(DESKTOP_TAGS) -o $(DESKTOP_BIN) .

run: desktop
	./$(DESKTOP_BIN) -w $(WORKSPACE)

serve: build
	./$(BIN) -w $(WORKSPACE) serve

fmt-check:
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags $(DESKTOP_TAGS) ./app/...

# The browser tests (Playwright driving chromium against factory serve) and
# the desktop smoke test (the Wails binary under Xvfb) run when these are set.
E2E_ENV := FACTORY_BROWSER_TESTS=1 FACTORY_DESKTOP_TESTS=1

gotest:
	$(E2E_ENV) $(GO) test -race -count=1 -timeout 30m ./...

frontend-test: frontend
	cd frontend && npm test --silent

test-ollama:
	bash .ci/ollama.sh test

# fuzz runs every fuzz target for FUZZTIME (default 1m) each: blueprint
# edits and drafts (random edit sequences on the corpus, arbitrary bytes as
# drafts), the blueprint parser, model answers, the names a step writes and
# run bundles. make test runs them briefly (FUZZ_BRIEF each).
FUZZTIME ?= 1m
FUZZ_BRIEF ?= 10s
FUZZ_TARGETS := \
	./backend/blueprint/edit/:FuzzEdit ./backend/blueprint/edit/:FuzzValidateDraft \
	./backend/blueprint/:FuzzParse ./backend/agent/:FuzzParseAnswer \
	./backend/workspace/:FuzzWriteNames ./backend/bundle/:FuzzRead
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $${t%%:*}; \
	done

fuzz-brief:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_BRIEF)

test: deps apt-desktop apt-test fmt-check vet gotest fuzz-brief frontend-test test-ollama

# bench prints the figures of every benchmark: the engine, store, workspace,
# trace exporter, replay and re-run, the providers' streaming (against the
# test server, then against a real Ollama), the app in chromium and the
# desktop window's cold start.
bench: deps apt-desktop apt-test
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./... 2>&1 | grep -Ev '^(goos|goarch|pkg|cpu|PASS)'
	set -o pipefail; bash .ci/ollama.sh bench 2>&1 | grep -Ev '^(goos|goarch|pkg|cpu|PASS)'

# soak kills `factory run` at 200 random moments and resumes it each time,
# and runs ten runs at once in one workspace.
soak: deps
	set -o pipefail; FACTORY_CRASH_ITERATIONS=200 $(GO) test -count=1 -timeout 30m -run 'TestCrashResume|TestConcurrentRunsOneWorkspace' -v ./app/cli/ | grep -E 'survived|held|^(--- |ok|FAIL)'

clean:
	rm -rf bin frontend/dist
