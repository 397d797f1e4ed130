#!/usr/bin/env bash
# Viewer benchmark: Lightbox's viewer against OHIF's prebuilt dist on a
# generated CT, both in headless Debian chromium over loopback, same run.
# Variables: SLICES (1000), SIZE (512, rows = columns), OUT (bench/out/viewer),
# OHIF_VERSION (3.13.2; empty skips OHIF), LIGHTBOX_CHROMIUM (/usr/bin/chromium),
# BENCH_PROFILE (a folder: CPU profiles of the page's load and steps),
# BENCH_CONSOLE (1: the page's console in the log), BENCH_TRACE (a folder:
# Chromium traces of the cold openings, summarised in the log; with
# BENCH_TRACE_LOAD=1 on to all slices, with V8 samples of every thread),
# LIGHTBOX_RUNS (n: the cold opening and all slices n times, new browsers),
# LIGHTBOX_WARM (n: the prefetched opening n times, in the first browser),
# LIGHTBOX_BIN (a lightbox binary built before, e.g. a baseline, measured
# instead of building this tree), RENDER (cpu or gpu: the stack viewports'
# rendering path; empty: the viewer's own choice).
# Needs: go, node, npm (web/node_modules via make web), Debian chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
SLICES=${SLICES:-1000}
SIZE=${SIZE:-512}
OUT=${OUT:-bench/out/viewer}
OHIF_VERSION=${OHIF_VERSION-3.13.2}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -n "${LIGHTBOX_BIN:-}" ]; then
  cp "$LIGHTBOX_BIN" "$OUT/lightbox"
else
  make -s web
  go build -o "$OUT/lightbox" ./cmd/lightbox
fi

# OHIF's prebuilt viewer: the npm package's dist, fetched with npm pack
# (the package's own dependencies are not needed to serve it).
OHIF_DIST=""
if [ -n "$OHIF_VERSION" ]; then
  if [ ! -f "$OUT/ohif-$OHIF_VERSION/package/dist/index.html" ]; then
    mkdir -p "$OUT/ohif-$OHIF_VERSION"
    (cd "$OUT/ohif-$OHIF_VERSION" && npm pack "@ohif/app@$OHIF_VERSION" --loglevel=error >/dev/null && tar xzf ohif-app-"$OHIF_VERSION".tgz)
  fi
  OHIF_DIST="$OUT/ohif-$OHIF_VERSION/package/dist"
fi

if [ ! -d "$OUT/ct-$SLICES-$SIZE" ]; then
  "$OUT/lightbox" gen --out "$OUT/ct-$SLICES-$SIZE" --modality CT --slices "$SLICES" --rows "$SIZE" --columns "$SIZE" \
    --patients 1 --facility SGH --seed 1677 >/dev/null
fi
STUDY=$(dcmdump +P 0020,000d "$(find "$OUT/ct-$SLICES-$SIZE" -type f | head -1)" | sed -n 's/.*\[\(.*\)\].*/\1/p')

rm -rf "$OUT/data"
PORT=$((20000 + RANDOM % 20000))
# Ephemeral DICOM ports (the demo's DICOM TLS then too, not its fixed 2762).
"$OUT/lightbox" demo --data "$OUT/data" --http "127.0.0.1:$PORT" --dicom 127.0.0.1:0 --hl7 "" --quiet 1s >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.3; done
"$OUT/lightbox" import --data "$OUT/data" --facility SGH "$OUT/ct-$SLICES-$SIZE" >/dev/null
# The import just wrote 500 MB: flushed now, the kernel's writeback does not land in the first
# opening (it did: all slices 3.1-7.0 s in the first of five runs, 1.5-2.1 s in the others).
sync
echo "study $STUDY, $SLICES slices ${SIZE}×${SIZE}, load $(cut -d' ' -f1-3 /proc/loadavg)"
LIGHTBOX_URL="http://127.0.0.1:$PORT" STUDY_UID="$STUDY" SLICES="$SLICES" OHIF_DIST="$OHIF_DIST" RENDER="${RENDER:-}" \
  CHROMIUM="${LIGHTBOX_CHROMIUM:-/usr/bin/chromium}" node bench/viewer/bench.mjs
