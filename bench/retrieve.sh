#!/usr/bin/env bash
# DIMSE retrieve benchmark (issue #18 point 1: C-GET/C-MOVE >= 1.5x Orthanc):
# a generated CT study (SLICES x 512x512, ~526 KB each) is stored by storescu
# into Lightbox and into Orthanc (started here, 128 KiB PDUs), then retrieved
# whole at STUDY level ROUNDS times from each, the servers interleaved:
#   C-GET  by DCMTK getscu --ignore (receives, does not write);
#   C-MOVE by DCMTK movescu --ignore, which is also the move destination
#          (registered in both servers as BENCHSCU at 127.0.0.1:PORT+5).
# Prints instances/s per server and the Lightbox / Orthanc ratio (medians).
# Shape: SLICES (500), ROUNDS (3), OUT (bench/out/retrieve), PORT (11400),
# BIN (bin), LIGHTBOX (BIN/lightbox: serve with another build).
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-500}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-bench/out/retrieve}
PORT=${PORT:-11400}
BIN=${BIN:-bin}
ORTHANC=${ORTHANC:-/usr/sbin/Orthanc}
for t in storescu getscu movescu dcmdump; do command -v $t >/dev/null || { echo "$t (DCMTK) is required: apt-get install dcmtk" >&2; exit 1; }; done
[ -x "$ORTHANC" ] || { echo "Orthanc is required: apt-get install orthanc" >&2; exit 1; }
export TCP_NODELAY=1 # DCMTK: no 40 ms delayed-ACK stalls (see bench/ingest.sh)
rm -rf "$OUT"; mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
go build -o "$BIN/lightbox" ./cmd/lightbox
LIGHTBOX=${LIGHTBOX:-$BIN/lightbox}
"$BIN/lightbox" gen --out "$OUT/ct" --modality CT --slices "$SLICES" --patients 1 --rows 512 --columns 512 >/dev/null
FIRST=$(find "$OUT/ct" -name '*.dcm' | head -1)
STUDY=$(dcmdump +P 0020,000d "$FIRST" | sed -E 's/.*\[([^]]*)\].*/\1/')
BYTES=$(find "$OUT/ct" -name '*.dcm' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "study: $SLICES instances, $((BYTES / 1048576)) MB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
DEST=$((PORT + 5))

LPID= OPID=
trap '[ -n "$LPID" ] && kill "$LPID" 2>/dev/null; [ -n "$OPID" ] && kill "$OPID" 2>/dev/null; true' EXIT
waitport() {
	for _ in $(seq 300); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2; exit 1
}

# Lightbox
data="$OUT/lightbox"
"$BIN/lightbox" ae add --data "$data" --aet BENCHSCU --host 127.0.0.1 --port "$DEST" --facility '*' >/dev/null
"$LIGHTBOX" serve --data "$data" --http 127.0.0.1:0 --dicom "127.0.0.1:$PORT" --hl7 "" --log-level warn >>"$OUT/lightbox.log" 2>&1 &
LPID=$!
# Orthanc
mkdir -p "$OUT/orthanc"
cat >"$OUT/orthanc/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$OUT/orthanc/storage", "IndexDirectory": "$OUT/orthanc/storage",
  "HttpPort": $((PORT + 3)), "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomAet": "ORTHANC", "DicomPort": $((PORT + 2)), "DicomCheckCalledAet": false,
  "DicomAlwaysAllowStore": true, "MaximumPduLength": 131072, "StorageCompression": false,
  "DicomModalities": { "bench": [ "BENCHSCU", "127.0.0.1", $DEST ] }, "SaveJobs": false }
JSON
"$ORTHANC" "$OUT/orthanc/orthanc.json" >>"$OUT/orthanc.log" 2>&1 &
OPID=$!
waitport "$PORT"; waitport $((PORT + 2))
files=$(find "$OUT/ct" -name '*.dcm' | sort)
# shellcheck disable=SC2086
storescu -aet BENCHSCU -aec LIGHTBOX 127.0.0.1 "$PORT" $files >>"$OUT/storescu.log" 2>&1
# shellcheck disable=SC2086
storescu -aet BENCHSCU -aec ORTHANC 127.0.0.1 $((PORT + 2)) $files >>"$OUT/storescu.log" 2>&1
sleep 2 # let both settle (Lightbox's journal, Orthanc's index)

keys=(-S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$STUDY")
timed() { # timed CMD... -> seconds
	local s e
	s=$(date +%s.%N)
	"$@" >>"$OUT/scu.log" 2>&1 || { echo "failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}
declare -A T
for r in $(seq "$ROUNDS"); do
	for kind in lightbox orthanc; do
		if [ $kind = lightbox ]; then aec=LIGHTBOX port=$PORT; else aec=ORTHANC port=$((PORT + 2)); fi
		g=$(timed getscu --ignore -aet BENCHSCU -aec $aec 127.0.0.1 "$port" "${keys[@]}")
		m=$(timed movescu --ignore --port "$DEST" -aet BENCHSCU -aec $aec -aem BENCHSCU 127.0.0.1 "$port" "${keys[@]}")
		T[get $kind]+="$g "; T[move $kind]+="$m "
		echo "round $r $kind: C-GET $g s, C-MOVE $m s (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for op in get move; do
	l=$(echo "${T[$op lightbox]}" | median) o=$(echo "${T[$op orthanc]}" | median)
	awk -v op="$op" -v l="$l" -v o="$o" -v n="$SLICES" -v b="$BYTES" 'BEGIN {
		printf "C-%s (median of rounds): Lightbox %.0f instances/s (%.0f MB/s), Orthanc %.0f instances/s (%.0f MB/s): %.2fx Orthanc (goal >= 1.5x)\n",
			toupper(op), n/l, b/1048576/l, n/o, b/1048576/o, o/l }'
done
