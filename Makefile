# Lightbox — the two commands: `make demo` runs the server with demo data,
# `make test` runs every test. CI runs .ci/run, which installs the real
# peers (DCMTK, dicom3tools, python3-hl7, PostgreSQL) and then `make test`.

GO        ?= go
BIN       ?= bin/lightbox
STATICCHECK_VERSION := v0.8.2
GOBIN     := $(shell $(GO) env GOPATH)/bin

.PHONY: all build demo serve test lint unit fuzz bench tools clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/lightbox

demo: build
	$(BIN) demo

serve: build
	$(BIN) serve

# Every test: formatting, vet, staticcheck, then the whole Go suite (unit,
# integration against the real binary, DCMTK and PostgreSQL when present).
test: lint unit

tools:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 12m ./...
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
