#!/usr/bin/env bash
# Makes the secrets docker-compose.yml needs, once, on the host that runs it:
#   .env                          BLOCKREP_LINK_SECRET=<64 hex digits> (the link's HMAC secret; compose
#                                 reads .env and refuses to start without the variable)
#   deploy/secrets/control.token  the control API's admin token (mounted read-only into the facilities
#                                 and the replayer at /run/secrets/control.token)
# Existing files are kept (delete them to rotate, then `docker compose up -d --force-recreate`).
# Neither file is committed (.gitignore) nor sent to the image build (.dockerignore).
#
# The token file is 0644 inside a 0700 directory: the containers run as uid 10001, which must read
# it through the bind mount, while other users of this host cannot reach it through the directory.
# (The facility logs a warning about the file's mode; the directory is what protects it here.)
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077

hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

if [[ -f .env ]] && grep -q '^BLOCKREP_LINK_SECRET=' .env; then
  echo "keeping BLOCKREP_LINK_SECRET in .env"
else
  echo "BLOCKREP_LINK_SECRET=$(hex)" >> .env
  echo "wrote BLOCKREP_LINK_SECRET to .env"
fi

mkdir -p deploy/secrets
chmod 0700 deploy/secrets
if [[ -s deploy/secrets/control.token ]]; then
  echo "keeping deploy/secrets/control.token"
else
  hex > deploy/secrets/control.token
  echo >> deploy/secrets/control.token
  echo "wrote deploy/secrets/control.token"
fi
chmod 0644 deploy/secrets/control.token
