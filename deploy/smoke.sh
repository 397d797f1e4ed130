#!/bin/sh
# Brings up deploy/compose.yaml (3 nodes + PostgreSQL + versitygw + HAProxy),
# stores a generated study through HAProxy's DICOM port (storescu on this
# machine, or `lightbox dicom send` inside node1 to lb:11112 when dcmtk is
# missing) and checks that every node's own HTTP port lists it (QIDO-RS).
# Run from anywhere; docs/scale-out.md says what was run where and with
# what result.
#
# Settings (environment):
#   LIGHTBOX_BASE   base image of every image (default debian:bookworm-slim;
#                   with no registry: debootstrap --variant=minbase bookworm
#                   DIR http://deb.debian.org/debian and
#                   tar -C DIR -c . | docker import - lightbox-base:bookworm)
#   LIGHTBOX_BIN    source (default) or prebuilt: build lightbox and versitygw
#                   on this machine (Go needed) into deploy/bin/
#   BUILD_NETWORK   docker build --network (default "default"; "host" where
#                   the daemon has no bridge)
#   DOCKER, COMPOSE the commands (default docker, and docker compose or
#                   docker-compose, whichever works)
#   KEEP=1          leave the setup running (default: down -v at the end)
set -eu
cd "$(dirname "$0")/.."
: "${LIGHTBOX_BASE:=debian:bookworm-slim}" "${LIGHTBOX_BIN:=source}" "${BUILD_NETWORK:=default}" "${DOCKER:=docker}"
export LIGHTBOX_BASE LIGHTBOX_BIN
if [ -z "${COMPOSE:-}" ]; then
  if $DOCKER compose version >/dev/null 2>&1; then COMPOSE="$DOCKER compose"; else COMPOSE=docker-compose; fi
fi
project=lbsmoke
compose() { $COMPOSE -p "$project" -f deploy/compose.yaml "$@"; }
say() { printf '%s smoke: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; compose ps || true; compose logs --tail 30 || true; exit 1; }

# Free ports on this machine for the balancer (several setups may share it).
freeport() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
: "${LIGHTBOX_HTTP_PORT:=$(freeport)}" "${LIGHTBOX_DICOM_PORT:=$(freeport)}" "${LIGHTBOX_MLLP_PORT:=$(freeport)}"
export LIGHTBOX_HTTP_PORT LIGHTBOX_DICOM_PORT LIGHTBOX_MLLP_PORT

[ -f deploy/secret.key ] || openssl rand -hex 32 > deploy/secret.key
chmod 600 deploy/secret.key

if [ "$LIGHTBOX_BIN" = prebuilt ]; then
  say "building lightbox and versitygw on this machine"
  mkdir -p deploy/bin
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o deploy/bin/lightbox ./cmd/lightbox
  [ -x deploy/bin/versitygw ] || CGO_ENABLED=0 GOBIN="$PWD/deploy/bin" go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
t0=$(date +%s)
build() { # IMAGE DOCKERFILE
  say "building $1 from $LIGHTBOX_BASE"
  DOCKER_BUILDKIT=1 $DOCKER build -q --network "$BUILD_NETWORK" --build-arg BASE="$LIGHTBOX_BASE" \
    --build-arg BIN="$LIGHTBOX_BIN" -t "$1" -f "$2" . >/dev/null
}
build lightbox:local deploy/Dockerfile
build lightbox-postgres:local deploy/postgres.Dockerfile
build lightbox-haproxy:local deploy/haproxy.Dockerfile
say "images built in $(( $(date +%s) - t0 )) s"

cleanup() {
  if [ "${KEEP:-}" = 1 ]; then
    say "left running (project $project; HTTP :$LIGHTBOX_HTTP_PORT, DICOM :$LIGHTBOX_DICOM_PORT)"
  else
    compose down -v --remove-orphans >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
t0=$(date +%s)
compose up -d --no-build || fail "compose up"

lb="http://127.0.0.1:$LIGHTBOX_HTTP_PORT"
wait_for() { # WHAT SECONDS COMMAND...
  what=$1 secs=$2 deadline=$(( $(date +%s) + $2 ))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$what not within $secs s"
    sleep 1
  done
}
for n in node1 node2 node3; do
  wait_for "$n ready" 180 compose exec -T "$n" curl -fsS http://127.0.0.1:8080/readyz
done
wait_for "HAProxy" 60 curl -fsS "$lb/readyz"
say "3 nodes ready behind HAProxy in $(( $(date +%s) - t0 )) s"

node() { compose exec -T -u lightbox node1 lightbox "$@" --data /var/lib/lightbox; }
node facility add --id SMK --name "Smoke Test Clinic" --state IL --timezone America/Chicago >/dev/null 2>&1 || true
node ae add --aet SMOKE_CT --host 127.0.0.1 --port 104 --facility SMK >/dev/null 2>&1 || true
printf 'smoke-test-password-%s\n' "$(openssl rand -hex 8)" | compose exec -T -u lightbox node1 sh -c 'cat > /tmp/pw'
node user add --username smoke.admin --role admin --password-file /tmp/pw >/dev/null 2>&1 || true
token=$(node token create --username smoke.admin --name "smoke-$(date +%s)" | tr -d '\r\n')
[ -n "$token" ] || fail "no token"

compose exec -T -u lightbox node1 sh -c 'rm -rf /tmp/study && lightbox gen --out /tmp/study --modality CT --slices 4 --patients 1 --rows 64 --columns 64' >/dev/null
t0=$(date +%s)
if command -v storescu >/dev/null; then
  tmp=$(mktemp -d)
  $DOCKER cp "$(compose ps -q node1):/tmp/study" "$tmp/" >/dev/null
  storescu +r +sd -aet SMOKE_CT -aec LIGHTBOX 127.0.0.1 "$LIGHTBOX_DICOM_PORT" "$tmp/study" || fail "storescu through HAProxy"
  rm -rf "$tmp"
  say "stored 4 instances with storescu through HAProxy (127.0.0.1:$LIGHTBOX_DICOM_PORT)"
else
  compose exec -T -u lightbox node1 lightbox dicom send --host lb --port 11112 --aec LIGHTBOX --aet SMOKE_CT /tmp/study || fail "dicom send through HAProxy"
  say "stored 4 instances with lightbox dicom send through HAProxy (lb:11112)"
fi

for n in node1 node2 node3; do
  if compose logs "$n" 2>/dev/null | grep -q 'association accepted.*calling_ae=SMOKE_CT'; then
    say "HAProxy gave the association to $n"
  fi
done

# Every node, on its own HTTP port (not through the balancer), lists the
# study with its 4 instances.
for n in node1 node2 node3; do
  wait_for "$n lists the study" 30 sh -c "$COMPOSE -p $project -f deploy/compose.yaml exec -T $n \
    curl -fsS -H 'Authorization: Bearer $token' 'http://127.0.0.1:8080/dicomweb/studies?includefield=00201208' | grep -q '\"Value\":\[4\]'"
  say "$n (its own HTTP port) lists the study with 4 instances"
done
# The bytes come from the shared bucket: node3 retrieves the whole study
# (WADO-RS), whichever node received it.
uid=$(compose exec -T node3 curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:8080/dicomweb/studies" |
  tr -d ' \n' | grep -o '"0020000D":{[^}]*}' | head -1 | grep -o '[0-9][0-9.]*[0-9]' | tail -1 || true)
[ -n "$uid" ] || fail "no Study Instance UID in node3's QIDO-RS answer"
bytes=$(compose exec -T node3 curl -fsS -H "Authorization: Bearer $token" \
  -H 'Accept: multipart/related; type="application/dicom"' "http://127.0.0.1:8080/dicomweb/studies/$uid" | wc -c)
[ "$bytes" -gt 32768 ] || fail "node3 retrieved $bytes bytes of the study"
say "node3 retrieved the study (WADO-RS, $bytes bytes) from the bucket"
say "OK in $(( $(date +%s) - t0 )) s after the store began"
