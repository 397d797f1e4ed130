#!/bin/sh
# Every node must share DATA/secret.key (it seals second-factor secrets):
# take it from the Compose/Kubernetes secret when one is mounted.
set -eu
data=/var/lib/lightbox
if [ ! -f "$data/secret.key" ] && [ -f /run/secrets/lightbox_secret ]; then
  cp /run/secrets/lightbox_secret "$data/secret.key"
  chmod 600 "$data/secret.key"
fi
exec lightbox "$@"
