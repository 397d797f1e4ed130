#!/usr/bin/env bash
# DIMSE retrieve benchmark (issue #18 point 1: C-GET/C-MOVE >= 1.5x Orthanc):
# a generated CT study (SLICES x 512x512, ~526 KB each) is stored by storescu
# into Lightbox and into Orthanc (started here, 128 KiB PDUs), then retrieved
# whole at STUDY level ROUNDS times from each, the servers interleaved:
#   C-GET  by DCMTK getscu --ignore (receives, does not write);
#   C-MOVE by DCMTK movescu --ignore, which is also the move destination
#          (registered in both servers as BENCHSCU at 127.0.0.1:PORT+5).
# Prints instances/s per server and the Lightbox / Orthanc ratio (medians),
# and each server's CPU time per instance (user+sys from /proc).
# Shape: SLICES (500), ROUNDS (3), OUT (bench/out/retrieve), PORT (11400),
# BIN (bin), LIGHTBOX (BIN/lightbox: serve with another build), BASE (a
# second Lightbox build, e.g. main's, served beside it on PORT+6 and
# interleaved with it, to compare two builds in one run).
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
FIRST=$(find "$OUT/ct" -name '*.dcm' -print -quit) # not | head: pipefail + SIGPIPE
STUDY=$(dcmdump +P 0020,000d "$FIRST" | sed -E 's/.*\[([^]]*)\].*/\1/')
BYTES=$(find "$OUT/ct" -name '*.dcm' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "study: $SLICES instances, $((BYTES / 1048576)) MB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
DEST=$((PORT + 5))

LPID= OPID= BPID=
trap 'for p in $LPID $OPID $BPID; do kill "$p" 2>/dev/null; done; true' EXIT
waitport() {
	for _ in $(seq 300); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2; exit 1
}

# Lightbox (and the BASE build)
serve() { # BINARY NAME PORT -> pid in SPID
	"$BIN/lightbox" ae add --data "$OUT/$2" --aet BENCHSCU --host 127.0.0.1 --port "$DEST" --facility '*' >/dev/null
	"$1" serve --data "$OUT/$2" --http 127.0.0.1:0 --dicom "127.0.0.1:$3" --hl7 "" --log-level warn >>"$OUT/$2.log" 2>&1 &
	SPID=$!
}
serve "$LIGHTBOX" lightbox "$PORT"
LPID=$SPID
servers=(lightbox)
if [ -n "${BASE:-}" ]; then
	serve "$BASE" base $((PORT + 6))
	BPID=$SPID
	servers+=(base)
fi
servers+=(orthanc)
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
[ -z "$BPID" ] || waitport $((PORT + 6))
files=$(find "$OUT/ct" -name '*.dcm' | sort)
declare -A AEC=([lightbox]=LIGHTBOX [base]=LIGHTBOX [orthanc]=ORTHANC)
declare -A PRT=([lightbox]=$PORT [base]=$((PORT + 6)) [orthanc]=$((PORT + 2)))
declare -A PID=([lightbox]=$LPID [base]=$BPID [orthanc]=$OPID)
for kind in "${servers[@]}"; do
	# shellcheck disable=SC2086
	storescu -aet BENCHSCU -aec "${AEC[$kind]}" 127.0.0.1 "${PRT[$kind]}" $files >>"$OUT/storescu.log" 2>&1
done
sleep 2 # let both settle (Lightbox's journal, Orthanc's index)

keys=(-S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$STUDY")
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # clock ticks, user+sys
TCK=$(getconf CLK_TCK)
timed() { # PID CMD... -> "seconds server-cpu-ms-per-instance scu-cpu-ms-per-instance"
	local s e c0 c1 pid=$1
	shift
	c0=$(cpu "$pid")
	s=$(date +%s.%N)
	/usr/bin/time -o "$OUT/time" -f '%U %S' "$@" >>"$OUT/scu.log" 2>&1 || { echo "failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	c1=$(cpu "$pid")
	awk -v s="$s" -v e="$e" -v c=$((c1 - c0)) -v t="$TCK" -v n="$SLICES" '{ u = $1 + $2 } END { printf "%.3f %.2f %.2f\n", e - s, c * 1000 / t / n, u * 1000 / n }' "$OUT/time"
}
declare -A T C
for r in $(seq "$ROUNDS"); do
	for kind in "${servers[@]}"; do
		aec=${AEC[$kind]} port=${PRT[$kind]} pid=${PID[$kind]}
		read -r g gc gu < <(timed "$pid" getscu --ignore -aet BENCHSCU -aec "$aec" 127.0.0.1 "$port" "${keys[@]}")
		read -r m mc mu < <(timed "$pid" movescu --ignore --port "$DEST" -aet BENCHSCU -aec "$aec" -aem BENCHSCU 127.0.0.1 "$port" "${keys[@]}")
		[ -n "$g" ] && [ -n "$m" ] || exit 1
		T[get $kind]+="$g " T[move $kind]+="$m " C[get $kind]+="$gc " C[move $kind]+="$mc "
		echo "round $r $kind: C-GET $g s (CPU/instance: server $gc ms, getscu $gu ms), C-MOVE $m s (server $mc ms, movescu $mu ms) (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for op in get move; do
	o=$(echo "${T[$op orthanc]}" | median) oc=$(echo "${C[$op orthanc]}" | median)
	for kind in "${servers[@]}"; do
		[ "$kind" = orthanc ] && continue
		l=$(echo "${T[$op $kind]}" | median) lc=$(echo "${C[$op $kind]}" | median)
		awk -v op="$op" -v k="$kind" -v l="$l" -v o="$o" -v lc="$lc" -v oc="$oc" -v n="$SLICES" -v b="$BYTES" 'BEGIN {
			printf "C-%s (median of rounds): %s %.0f instances/s (%.0f MB/s, %.2f ms CPU/instance), Orthanc %.0f instances/s (%.0f MB/s, %.2f ms CPU/instance): %.2fx Orthanc (goal >= 1.5x)\n",
				toupper(op), k, n/l, b/1048576/l, lc, n/o, b/1048576/o, oc, o/l }'
	done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
