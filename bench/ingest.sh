#!/usr/bin/env bash
# Ingest benchmark (issue #18 point 1): every figure is a ratio measured in
# the same run on the same machine, the servers interleaved per scenario.
#   C-STORE by DCMTK storescu: SLICES x 526 KB CT over 1 and ASSOCS associations,
#   SLICES x 38 KB over 1, into Lightbox, Orthanc (started here with 128 KiB
#   PDUs, MaximumPduLength) and DCMTK `storescp --ignore` (the ceiling);
#   STOW-RS in one request and in ASSOCS parallel requests, Lightbox vs
#   Orthanc's DICOMweb plugin (orthanc-dicomweb, required for the stow rows);
#   `lightbox import` vs bench/rawcopy (the same files copied with fsync);
#   the machine's fsync rate (rawcopy of the small files, 1 worker) and the
#   disk's sequential durable write rate (dd, 2 MiB writes each flushed,
#   through the page cache and with O_DIRECT), the ceiling of every writer.
# Lightbox runs twice per scenario: with its ingest journal (default) and
# with --ingest-journal=false (an fsync per file, the earlier write path).
# Prints instances/s, ratios, each server's peak RSS and CPU per instance.
# Shape: SLICES (1000), ASSOCS (4), ROUNDS (1), OUT (bench/out/ingest), PORT (11300), BIN (bin),
# ONLY (space-separated subset of: big1 bigN small1 stow import).
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-1000}
ASSOCS=${ASSOCS:-4}
ROUNDS=${ROUNDS:-1}
OUT=${OUT:-bench/out/ingest}
PORT=${PORT:-11300}
BIN=${BIN:-bin}
ONLY=${ONLY:-big1 bigN small1 stow import}
ORTHANC=${ORTHANC:-/usr/sbin/Orthanc}
DICOMWEB_PLUGIN=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
for t in storescu storescp; do command -v $t >/dev/null || { echo "$t (DCMTK) is required: apt-get install dcmtk" >&2; exit 1; }; done
[ -x "$ORTHANC" ] || { echo "Orthanc is required: apt-get install orthanc orthanc-dicomweb" >&2; exit 1; }
case " $ONLY " in *" stow "*) [ -f "$DICOMWEB_PLUGIN" ] || { echo "STOW-RS needs Orthanc's DICOMweb plugin: apt-get install orthanc-dicomweb (or leave stow out of ONLY)" >&2; exit 1; } ;; esac

# DCMTK (storescu, storescp, Orthanc's DICOM layer) leaves Nagle's algorithm
# on unless TCP_NODELAY is set: each C-STORE-RSP then waits ~40 ms for a
# delayed ACK, which would measure the kernel's timer, not the servers.
export TCP_NODELAY=1
rm -rf "$OUT"; mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
go build -o $BIN/lightbox ./cmd/lightbox
go build -o $BIN/rawcopy ./bench/rawcopy
go build -o $BIN/stowload ./bench/stowload
$BIN/lightbox gen --out "$OUT/big" --modality CT --slices "$SLICES" --patients 1 --rows 512 --columns 512 >/dev/null
$BIN/lightbox gen --out "$OUT/small" --modality CT --slices "$SLICES" --patients 1 --rows 128 --columns 144 --seed 2 >/dev/null
mean() { find "$1" -name '*.dcm' -printf '%s\n' | awk '{ s += $1; n++ } END { printf "%.0f KB", s/n/1000 }'; }
echo "instances: $SLICES x $(mean "$OUT/big") (big), $SLICES x $(mean "$OUT/small") (small); load: $(cut -d' ' -f1-3 /proc/loadavg)"
sync

PID= KIND=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; true; }
trap cleanup EXIT

waitport() { # waitport PORT
	for _ in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2; exit 1
}

TOKEN=
start_lightbox() { # start_lightbox [serve flags]
	local data="$OUT/run/lightbox"
	$BIN/lightbox ae add --data "$data" --aet BENCHSCU --host 127.0.0.1 --port 1 --facility '*' >/dev/null
	$BIN/lightbox user add --data "$data" --username bench --role admin --password-file <(echo bench-password-1234) >/dev/null 2>&1 || true
	TOKEN=$($BIN/lightbox token create --data "$data" --username bench --name bench 2>/dev/null || true)
	$BIN/lightbox serve --data "$data" --http "127.0.0.1:$((PORT + 1))" --dicom "127.0.0.1:$PORT" --hl7 "" --log-level warn "$@" >>"$OUT/lightbox.log" 2>&1 &
	PID=$!
	waitport "$PORT"; waitport $((PORT + 1))
	STOW="http://127.0.0.1:$((PORT + 1))/dicomweb/studies"
}
start_orthanc() {
	local dir="$OUT/run/orthanc" plugins="[]"
	mkdir -p "$dir"
	[ -f "$DICOMWEB_PLUGIN" ] && plugins="[\"$DICOMWEB_PLUGIN\"]"
	cat >"$dir/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/storage",
  "Plugins": $plugins, "DicomWeb": { "Enable": true, "Root": "/dicom-web/" },
  "HttpPort": $((PORT + 3)), "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomAet": "ORTHANC", "DicomPort": $((PORT + 2)), "DicomCheckCalledAet": false,
  "DicomAlwaysAllowStore": true, "MaximumPduLength": 131072, "StorageCompression": false,
  "SaveJobs": false }
JSON
	"$ORTHANC" "$dir/orthanc.json" >>"$OUT/orthanc.log" 2>&1 &
	PID=$!
	waitport $((PORT + 2)); waitport $((PORT + 3))
	STOW="http://127.0.0.1:$((PORT + 3))/dicom-web/studies"
}
start_null() { # start_null ASSOCS: storescp --ignore (forking for parallel associations)
	local fork=()
	[ "$1" -gt 1 ] && fork=(--fork)
	storescp --ignore "${fork[@]}" -aet NULL "$((PORT + 4))" >>"$OUT/storescp.log" 2>&1 &
	PID=$!
	waitport $((PORT + 4))
}
start() { # start KIND ASSOCS
	KIND=$1
	rm -rf "$OUT/run"; mkdir -p "$OUT/run"; sync
	case $1 in lightbox) start_lightbox ;; perfile) start_lightbox --ingest-journal=false ;; orthanc) start_orthanc ;; null) start_null "$2" ;; esac
}
aec_of() { case $1 in lightbox | perfile) echo LIGHTBOX ;; orthanc) echo ORTHANC ;; null) echo NULL ;; esac; }
port_of() { case $1 in lightbox | perfile) echo "$PORT" ;; orthanc) echo $((PORT + 2)) ;; null) echo $((PORT + 4)) ;; esac; }
# usage KIND N: peak RSS (MB) and CPU per instance (ms) of the server process so far
usage() {
	local rss ticks hz
	rss=$(awk '/VmHWM/ { printf "%.0f", $2/1024 }' /proc/"$PID"/status)
	ticks=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/"$PID"/stat)
	hz=$(getconf CLK_TCK)
	awk -v r="$rss" -v t="$ticks" -v hz="$hz" -v n="$2" 'BEGIN { printf "rss %s MB, cpu %.2f ms/instance", r, 1000*t/hz/n }'
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=; }

RESULTS="$OUT/results.txt"; : >"$RESULTS"
record() { echo "$1 $2 $3" >>"$RESULTS"; } # scenario kind instances/s

cstore() { # cstore SCENARIO DIR ASSOCS
	local scen=$1 dir=$2 n=$3 kind files start end pids rate
	mapfile -t files < <(find "$dir" -type f -name '*.dcm' | sort)
	for kind in null orthanc perfile lightbox; do
		start "$kind" "$n"
		pids=()
		start=$(date +%s.%N)
		for ((i = 0; i < n; i++)); do
			local group=()
			for ((j = i; j < ${#files[@]}; j += n)); do group+=("${files[j]}"); done
			storescu -aet BENCHSCU -aec "$(aec_of "$kind")" 127.0.0.1 "$(port_of "$kind")" "${group[@]}" >>"$OUT/storescu.log" 2>&1 &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || { echo "storescu into $kind failed; see $OUT/storescu.log" >&2; exit 1; }; done
		end=$(date +%s.%N)
		rate=$(awk -v n="${#files[@]}" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n/(e-s) }')
		local u=""
		[ "$kind" = null ] && [ "$n" -gt 1 ] || u=", $(usage "$kind" "${#files[@]}")"
		printf '%-7s %-9s %5s instances/s%s\n' "$scen" "$kind" "$rate" "$u"
		record "$scen" "$kind" "$rate"
		stop
	done
}

stow() { # stow SCENARIO PARALLEL
	local kind out rate
	for kind in orthanc perfile lightbox; do
		start "$kind" 1
		out=$($BIN/stowload --url "$STOW" --token "$([ "$kind" != orthanc ] && echo "$TOKEN")" --dir "$OUT/big" --parallel "$2")
		rate=$(echo "$out" | sed -E 's/.* ([0-9]+) instances\/s/\1/')
		printf '%-7s %-9s %5s instances/s, %s\n' "$1" "$kind" "$rate" "$(usage "$kind" "$SLICES")"
		record "$1" "$kind" "$rate"
		stop
	done
}

import() {
	local raw imp per
	raw=$($BIN/rawcopy --src "$OUT/big" --dst "$OUT/raw" --workers "$ASSOCS" | sed -E 's/.* ([0-9]+) files\/s/\1/')
	rm -rf "$OUT/raw"; sync
	per=$($BIN/lightbox import --ingest-journal=false --workers "$ASSOCS" --data "$OUT/import" "$OUT/big" 2>&1 | tee "$OUT/import-perfile.out" | sed -nE 's/.* ([0-9.]+) files\/s.*/\1/p')
	rm -rf "$OUT/import"; sync
	imp=$($BIN/lightbox import --workers "$ASSOCS" --data "$OUT/import" "$OUT/big" 2>&1 | tee "$OUT/import.out" | sed -nE 's/.* ([0-9.]+) files\/s.*/\1/p')
	rm -rf "$OUT/import"; sync
	printf 'import  rawcopy   %5s files/s (fsync each, %d workers)\n' "$raw" "$ASSOCS"
	printf 'import  perfile   %5s instances/s (%s)\n' "$per" "$(grep -o "peak RSS.*" "$OUT/import-perfile.out")"
	printf 'import  lightbox  %5s instances/s (%s)\n' "$imp" "$(grep -o "peak RSS.*" "$OUT/import.out")"
	record import raw "$raw"; record import perfile "${per%.*}"; record import lightbox "${imp%.*}"
}

fsync_rate=$($BIN/rawcopy --src "$OUT/small" --dst "$OUT/raw" --workers 1 | sed -E 's/.* ([0-9]+) files\/s/\1/')
rm -rf "$OUT/raw"
echo "fsync rate: $fsync_rate small files/s written and fsync'd one at a time"
# What the disk takes when nothing else is done: 512 MiB in 2 MiB writes,
# each durable before the next (O_DSYNC), through the page cache and
# around it. The page cache's copy is what every buffered writer pays per
# byte (on this kind of VM often fresh host memory: bench/README.md).
ddrate() { dd if=/dev/zero of="$OUT/dd" bs=2M count=256 oflag="$1" 2>&1 | sed -nE 's/.*, ([0-9.]+ [MG]B\/s)$/\1/p'; rm -f "$OUT/dd"; }
echo "disk: $(ddrate dsync) buffered, $(ddrate direct,dsync) direct (2 MiB writes, each flushed)"
for round in $(seq "$ROUNDS"); do
	[ "$ROUNDS" -gt 1 ] && echo "round $round"
	for s in $ONLY; do
		case $s in
		big1) cstore big1 "$OUT/big" 1 ;;
		bigN) cstore "big$ASSOCS" "$OUT/big" "$ASSOCS" ;;
		small1) cstore small1 "$OUT/small" 1 ;;
		stow) stow stow1 1; stow "stow$ASSOCS" "$ASSOCS" ;;
		import) import ;;
		esac
	done
done

echo "ratios (mean over rounds; lightbox = journal, perfile = --ingest-journal=false):"
awk '{ sum[$1" "$2] += $3; cnt[$1" "$2]++ } END {
	for (k in sum) v[k] = sum[k]/cnt[k]
	n = split("big1 big'"$ASSOCS"' small1 stow1 stow'"$ASSOCS"' import", sc, " ")
	for (i = 1; i <= n; i++) for (j = 1; j <= 2; j++) { s = sc[i]; kind = (j == 1 ? "lightbox" : "perfile")
		if (v[s" "kind] == "") continue
		line = sprintf("  %-7s %-8s %5.0f/s", s, kind, v[s" "kind])
		if (v[s" orthanc"] > 0) line = line sprintf("  = %.2fx Orthanc (%.0f/s)", v[s" "kind]/v[s" orthanc"], v[s" orthanc"])
		if (v[s" null"] > 0) line = line sprintf("  = %.0f%% of storescp --ignore (%.0f/s)", 100*v[s" "kind]/v[s" null"], v[s" null"])
		if (v[s" raw"] > 0) line = line sprintf("  = %.0f%% of raw fsync'\''d copy (%.0f files/s)", 100*v[s" "kind]/v[s" raw"], v[s" raw"])
		print line }
}' "$RESULTS"
