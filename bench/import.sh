#!/usr/bin/env bash
# Import benchmark: a generated 1,000-slice CT imported by `lightbox import`,
# against copying the same bytes with fsync (bench/rawcopy) on the same disk
# in the same run. Prints both and the ratio; the goal is >= 60%.
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-1000}
WORKERS=${WORKERS:-4}
OUT=${OUT:-bench/out}
rm -rf "$OUT"; mkdir -p "$OUT"
go build -o bin/lightbox ./cmd/lightbox
go build -o bin/rawcopy ./bench/rawcopy
bin/lightbox gen --out "$OUT/ct" --modality CT --slices "$SLICES" --patients 1 >/dev/null
sync
raw=$(bin/rawcopy --src "$OUT/ct" --dst "$OUT/raw" --workers "$WORKERS")
rm -rf "$OUT/raw"; sync
imp=$(bin/lightbox import --workers "$WORKERS" --data "$OUT/data" "$OUT/ct" 2>/dev/null)
echo "$raw"
echo "$imp" | sed -n '1,3p'
raw_mb=$(echo "$raw" | sed -E 's/.*: ([0-9.]+) MB\/s.*/\1/')
imp_mb=$(echo "$imp" | sed -nE 's/.*\(([0-9.]+) MB\/s.*/\1/p')
awk -v a="$imp_mb" -v b="$raw_mb" 'BEGIN { printf "import / raw fsync bandwidth: %.0f%% (goal >= 60%%)\n", 100*a/b }'
