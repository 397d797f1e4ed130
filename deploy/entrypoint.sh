#!/bin/sh
# Every node must share DATA/secret.key (it seals second-factor secrets):
# take it from the Compose/Kubernetes secret when one is mounted. Compose
# without Swarm bind-mounts a secret file with its host owner and mode
# (0600 root, as it should be), which the lightbox user cannot read: so the
# container starts as root, installs the key for lightbox and drops to it.
set -eu
data=/var/lib/lightbox
secret=/run/secrets/lightbox_secret
if [ "$(id -u)" = 0 ]; then
  if [ ! -f "$data/secret.key" ] && [ -f "$secret" ]; then
    install -o lightbox -g lightbox -m 600 "$secret" "$data/secret.key"
  fi
  chown lightbox:lightbox "$data"
  exec setpriv --reuid=lightbox --regid=lightbox --init-groups lightbox "$@"
fi
if [ ! -f "$data/secret.key" ] && [ -r "$secret" ]; then
  cp "$secret" "$data/secret.key"
  chmod 600 "$data/secret.key"
fi
exec lightbox "$@"
