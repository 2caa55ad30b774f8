GO      ?= go
BIN     ?= bin/askmesh
DATA    ?= askmesh-data
ADDR    ?= 127.0.0.1:8080
PKGS    ?= ./...
FUZZTIME ?= 30s

.PHONY: build install docs demo test test-short suite-report screenshots bench fuzz lint fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/askmesh

## install: go install askmesh into $(go env GOBIN), else $(go env GOPATH)/bin
install:
	$(GO) install ./cmd/askmesh

## docs: regenerate docs/cli.md from the commands (a test fails while it is stale)
docs:
	$(GO) run ./cmd/askmesh docs cli --out docs/cli.md

# The benchmarks are their own binary: the shipped askmesh carries none of their code.
bin/askmesh-bench: FORCE
	$(GO) build -o $@ ./cmd/askmesh-bench

.PHONY: FORCE
FORCE:

## demo: build, generate the demo bank mesh if missing, serve web chat + HTTP API on localhost
demo: build
	./$(BIN) demo --data-dir $(DATA) --addr $(ADDR)

## test: every test, including PostgreSQL, browser and fault tests, and a short fuzz pass
test: lint
	$(GO) test -count=1 -timeout 25m $(PKGS)
	@grep '^planner suite:' docs/planner-suite.md || true
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

## test-short: the quick tier: no PostgreSQL, MariaDB or Chromium (their tests skip, saying so)
test-short:
	$(GO) test -short -count=1 $(PKGS)

## suite-report: rewrite docs/planner-suite.md from the planner suite (a test fails while it is stale)
suite-report:
	UPDATE_SUITE_REPORT=1 $(GO) test -count=1 -run 'TestSuite' ./assistant/planner

## screenshots: run the browser tests and rewrite the docs/*.png they take
screenshots:
	UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run 'InABrowser' ./adapters/channels/web ./internal/eval

## bench: Go benchmarks and askmesh-bench; writes docs/benchmarks.md (needs PostgreSQL, DATABASE_URL)
BENCHTIME ?= 300ms
bench: build bin/askmesh-bench
	@echo "== go test -bench (catalog, authz, sqlstore, audit, demo generation, one question's allocations)"
	@$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./catalog ./authz/... ./adapters/backends/sqlstore > bin/gobench.txt 2>&1 || { cat bin/gobench.txt; exit 1; }
	@$(GO) test -run '^$$' -bench . -benchtime 2000x ./audit/... >> bin/gobench.txt 2>&1 || { cat bin/gobench.txt; exit 1; }
	@$(GO) test -run '^$$' -bench 'Generate(SQLite|Postgres)$$' -benchtime 3x ./examples/bank/bankgen >> bin/gobench.txt 2>&1 || { cat bin/gobench.txt; exit 1; }
	@$(GO) test -run '^$$' -bench '^BenchmarkQuestion$$' -benchtime 300x ./internal/app >> bin/gobench.txt 2>&1 || { cat bin/gobench.txt; exit 1; }
	@cat bin/gobench.txt
	./bin/askmesh-bench --go-bench bin/gobench.txt --out docs/benchmarks.md

## fuzz: the Go fuzz targets, each for FUZZTIME
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DATA)
