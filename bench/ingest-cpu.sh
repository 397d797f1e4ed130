#!/usr/bin/env bash
# CPU per instance of Lightbox's C-STORE receive path, and its CPU profile
# (issue #18): serve, send N generated instances with DCMTK storescu over
# ASSOCS associations, and count the server's user + system CPU over the
# sends alone (/proc/PID/stat before and after: start-up is not in it, as
# it is in bench/ingest.sh's per-instance figure). The machine's load does
# not inflate CPU time the way it does wall time, so alternate binaries
# (BIN=old, then new) and compare this figure.
# Usage: bench/ingest-cpu.sh [big|small]; N (1000), ASSOCS (1), BIN (bin/lightbox, built when absent),
# OUT (bench/out/ingest-cpu: the profile is OUT/cpu.prof), PORT (11700).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-big} N=${N:-1000} ASSOCS=${ASSOCS:-1} BIN=${BIN:-bin/lightbox} OUT=${OUT:-bench/out/ingest-cpu} PORT=${PORT:-11700}
command -v storescu >/dev/null || { echo "storescu (DCMTK) is required: apt-get install dcmtk" >&2; exit 1; }
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/lightbox
export TCP_NODELAY=1 # see bench/ingest.sh
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); rm -rf "$OUT/data"
case $SIZE in big) dims=(--rows 512 --columns 512) ;; *) dims=(--rows 128 --columns 144 --seed 2) ;; esac
[ -d "$OUT/$SIZE" ] || $BIN gen --out "$OUT/$SIZE" --modality CT --slices "$N" --patients 1 "${dims[@]}" >/dev/null
$BIN ae add --data "$OUT/data" --aet BENCHSCU --host 127.0.0.1 --port 1 --facility '*' >/dev/null
LIGHTBOX_CPUPROFILE="$OUT/cpu.prof" $BIN serve --data "$OUT/data" --http "127.0.0.1:$((PORT + 1))" --dicom "127.0.0.1:$PORT" --hl7 "" --log-level warn >"$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
mapfile -t files < <(find "$OUT/$SIZE" -type f -name '*.dcm' | sort | head -"$N")
ticks() { awk '{ print $14 + $15 }' /proc/"$PID"/stat; }
systicks() { awk '{ print $15 }' /proc/"$PID"/stat; }
t0=$(ticks) k0=$(systicks) s=$(date +%s.%N) pids=()
for ((i = 0; i < ASSOCS; i++)); do
	group=()
	for ((j = i; j < ${#files[@]}; j += ASSOCS)); do group+=("${files[j]}"); done
	storescu -aet BENCHSCU -aec LIGHTBOX 127.0.0.1 "$PORT" "${group[@]}" >>"$OUT/storescu.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
e=$(date +%s.%N) t1=$(ticks) k1=$(systicks)
kill -INT $PID; wait $PID || true
awk -v n=${#files[@]} -v a="$t0" -v b="$t1" -v ka="$k0" -v kb="$k1" -v s="$s" -v e="$e" -v hz="$(getconf CLK_TCK)" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" -v sz="$SIZE" -v as="$ASSOCS" \
	'BEGIN { printf "%s x %d over %d association(s): %.0f instances/s, %.2f ms CPU per instance (user+sys; sys %.2f), load %s; profile: go tool pprof '"$BIN"' '"$OUT"'/cpu.prof\n", sz, n, as, n/(e-s), 1000*(b-a)/hz/n, 1000*(kb-ka)/hz/n, l }'
