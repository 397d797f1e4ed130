#!/usr/bin/env bash
# DICOMweb benchmark: series metadata (cold/warm), whole-series WADO-RS vs
# http.FileServer on the same bytes, QIDO of the series' instances (cached and
# uncached), single frame, QIDO over 100,000 studies.
# Shape: LIGHTBOX_BENCH_SLICES (2000), LIGHTBOX_BENCH_SIZE (128, rows = columns), LIGHTBOX_BENCH_STUDIES (100000).
set -euo pipefail
cd "$(dirname "$0")/.."
LIGHTBOX_BENCH=1 go test -count=1 -run TestReport -v ./internal/dicomweb/bench/ | grep -v '^=== RUN'
