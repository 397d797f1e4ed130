# Lightbox — the two commands: `make demo` runs the server with demo data,
# `make test` runs every test. CI runs .ci/run, which installs the real
# peers (DCMTK, dicom3tools, python3-hl7, PostgreSQL) and then `make test`.

GO        ?= go
BIN       ?= bin/lightbox
STATICCHECK_VERSION := v0.8.2
GOBIN     := $(shell $(GO) env GOPATH)/bin
NPM       := $(shell command -v npm 2>/dev/null)

.PHONY: all build demo serve test lint unit fuzz bench tools clean web web-check screenshots

all: build

build: $(if $(NPM),web)
	$(GO) build -o $(BIN) ./cmd/lightbox

# The reading-room web app (web/): npm ci from the committed lock file when
# it changed, vite build into internal/webapp/static (embedded by go:embed)
# when a source changed. Without npm the binary serves a placeholder page.
WEB_SRC  := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json web/package.json -type f 2>/dev/null)
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
internal/webapp/static/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	rm -rf internal/webapp/static/assets internal/webapp/static/index.html
	cd web && npx vite build --logLevel warn
web: internal/webapp/static/index.html

# Type-check, lint and unit-test the web app.
web-check: web
	cd web && npx tsc --noEmit -p . && npx eslint . && npx vitest run

# README screenshots (docs/screenshots/*.png) from the browser test.
screenshots: web
	LIGHTBOX_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestReadingRoomInBrowser|TestViewerInBrowser|TestViewerMPRAndHangingInBrowser|TestGroupScreenInBrowser|TestQualityInBrowser|TestConsoleInBrowser|TestCollabInBrowser' -v ./cmd/lightbox

demo: build
	$(BIN) demo

serve: build
	$(BIN) serve

# Every test: formatting, vet, staticcheck, then the whole Go suite (unit,
# integration against the real binary, DCMTK and PostgreSQL when present).
test: lint $(if $(NPM),web-check) unit

tools:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 14m ./...
	@# The optional JPEG-LS / JPEG 2000 decoders (cgo, Debian's libcharls-dev and libopenjp2-7-dev).
	@if pkg-config --exists libopenjp2 charls 2>/dev/null; then \
	  $(GO) vet -tags lightbox_codecs ./internal/dcm/codec/ && \
	  $(GO) test -count=1 -tags lightbox_codecs ./internal/dcm/codec/ && \
	  $(GO) test -count=1 -tags lightbox_codecs -run Corpus ./internal/dicomweb/; \
	else echo "libcharls-dev/libopenjp2-7-dev missing: lightbox_codecs build not tested"; fi

# Short fuzz runs of every parser (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run XXX -fuzz FuzzReadFile -fuzztime $(FUZZTIME) ./internal/dcm
	$(GO) test -run XXX -fuzz FuzzReadGenerated -fuzztime $(FUZZTIME) ./internal/dcm
	$(GO) test -run XXX -fuzz FuzzReadPDU -fuzztime $(FUZZTIME) ./internal/dimse
	$(GO) test -run XXX -fuzz FuzzDecodeCommand -fuzztime $(FUZZTIME) ./internal/dimse
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/hl7
	$(GO) test -run XXX -fuzz FuzzFrameReader -fuzztime $(FUZZTIME) ./internal/hl7

bench: build
	bench/import.sh

clean:
	rm -rf bin data bench/out
