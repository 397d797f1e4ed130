#!/usr/bin/env bash
# DIMSE benchmark: C-STORE of a generated 1,000-slice CT into `lightbox serve`
# by DCMTK storescu over 1 association and over ASSOCS parallel associations,
# against copying the same bytes with fsync (bench/rawcopy) on the same disk
# in the same run (goal: ASSOCS associations >= 50% of raw); then study-level
# C-FIND latency with STUDIES studies in the index (goal: p50 < 10 ms).
# Shape: SLICES (1000), ROWS/COLUMNS (512), ASSOCS (4), STUDIES (10000),
# QUERIES (500 per kind), OUT (bench/out/dimse), PORT (11190).
# FIND_ONLY=1 runs only the C-FIND part; LIGHTBOX=PATH serves with another
# build (e.g. main's, for a same-run before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-1000}
ROWS=${ROWS:-512}
COLUMNS=${COLUMNS:-512}
ASSOCS=${ASSOCS:-4}
STUDIES=${STUDIES:-10000}
QUERIES=${QUERIES:-500}
OUT=${OUT:-bench/out/dimse}
PORT=${PORT:-11190}
command -v storescu >/dev/null || { echo "storescu (DCMTK) is required: apt-get install dcmtk" >&2; exit 1; }

rm -rf "$OUT"; mkdir -p "$OUT"
go build -o bin/lightbox ./cmd/lightbox
go build -o bin/rawcopy ./bench/rawcopy
go build -o bin/dimseload ./bench/dimseload
LIGHTBOX=${LIGHTBOX:-bin/lightbox}

find_bench() { # C-FIND over a large index: rows inserted before the server starts.
	local data="$OUT/data-find"
	rm -rf "$data"
	bin/lightbox ae add --data "$data" --aet BENCHSCU --host 127.0.0.1 --port 1 --facility '*' >/dev/null
	bin/dimseload seed --db "sqlite:$data/index.db" --studies "$STUDIES"
	serve "$data"
	bin/dimseload find --addr "127.0.0.1:$PORT" --aet BENCHSCU --aec LIGHTBOX --studies "$STUDIES" --queries "$QUERIES"
	stop
	echo "(goals: C-FIND p50 < 10 ms; in an association <= 1 ms, issue #18)"
}

raw() { # raw WORKERS -> MB/s
	local out
	out=$(bin/rawcopy --src "$OUT/ct" --dst "$OUT/raw" --workers "$1")
	rm -rf "$OUT/raw"; sync
	echo "$out" >&2
	echo "$out" | sed -E 's/.*: ([0-9.]+) MB\/s.*/\1/'
}

SERVER=
serve() { # serve DATA: start lightbox on a fresh data folder, BENCHSCU registered
	bin/lightbox ae add --data "$1" --aet BENCHSCU --host 127.0.0.1 --port 1 --facility '*' >/dev/null
	"$LIGHTBOX" serve --data "$1" --http 127.0.0.1:0 --dicom "127.0.0.1:$PORT" --hl7 "" --log-level warn >>"$OUT/serve.log" 2>&1 &
	SERVER=$!
	for _ in $(seq 100); do
		bin/lightbox dicom echo --port "$PORT" --aet BENCHSCU --aec LIGHTBOX --timeout 1s >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "lightbox serve did not start; see $OUT/serve.log" >&2; exit 1
}
stop() { kill "$SERVER"; wait "$SERVER" || true; SERVER=; }
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; true' EXIT

store() { # store N: storescu over N parallel associations, fresh server -> MB/s
	local n=$1 data="$OUT/data-$1" start end pids=() i
	serve "$data"
	sync
	start=$(date +%s.%N)
	for ((i = 0; i < n; i++)); do
		local group=()
		for ((j = i; j < ${#FILES[@]}; j += n)); do group+=("${FILES[j]}"); done
		storescu -aet BENCHSCU -aec LIGHTBOX 127.0.0.1 "$PORT" "${group[@]}" >>"$OUT/storescu.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || { echo "storescu failed; see $OUT/storescu.log" >&2; exit 1; }; done
	end=$(date +%s.%N)
	stop
	local stored
	stored=$(bin/lightbox check --data "$data" 2>/dev/null | sed -nE 's/.*instances: ([0-9]+).*/\1/p')
	[ "$stored" = "${#FILES[@]}" ] || { echo "stored $stored of ${#FILES[@]}" >&2; exit 1; }
	awk -v b="$BYTES" -v n="${#FILES[@]}" -v s="$start" -v e="$end" -v a="$1" \
		'BEGIN { printf "storescu, %d association(s): %d instances in %.2fs: %.1f MB/s %.0f instances/s\n", a, n, e-s, b/1048576/(e-s), n/(e-s) }' >&2
	awk -v b="$BYTES" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b/1048576/(e-s) }'
}

[ -n "${FIND_ONLY:-}" ] && { find_bench; exit 0; }
bin/lightbox gen --out "$OUT/ct" --modality CT --slices "$SLICES" --patients 1 --rows "$ROWS" --columns "$COLUMNS" >/dev/null
mapfile -t FILES < <(find "$OUT/ct" -type f -name '*.dcm' | sort)
BYTES=$(cat "${FILES[@]}" | wc -c)
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b/1048576 }')
echo "study: ${#FILES[@]} instances, $MB MB (${ROWS}x${COLUMNS})"
sync
raw1=$(raw 1)
rawN=$(raw "$ASSOCS")
one=$(store 1)
par=$(store "$ASSOCS")
# The same archive path without the network, for scale.
imp=$(bin/lightbox import --workers "$ASSOCS" --data "$OUT/data-import" "$OUT/ct" 2>/dev/null | sed -nE 's/.*\(([0-9.]+) MB\/s.*/\1/p')
echo "lightbox import --workers $ASSOCS (no network): $imp MB/s"
awk -v a="$one" -v r="$raw1" 'BEGIN { printf "1 association / raw fsync (1 worker): %.0f%%\n", 100*a/r }'
awk -v a="$par" -v r="$rawN" -v i="$imp" -v n="$ASSOCS" 'BEGIN { printf "%d associations / raw fsync (%d workers): %.0f%% (goal >= 50%%); / import: %.0f%%\n", n, n, 100*a/r, 100*a/i }'

find_bench
