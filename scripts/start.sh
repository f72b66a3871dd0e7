#!/usr/bin/env bash
# `npm start`: the all-in-one Berth on this machine: the coordinator on its embedded database
# (./.berth) and a node daemon on the local Docker engine. Installs and starts Docker first when
# it can (root, Debian); without Docker the coordinator still runs and says the local node is
# unavailable. BERTH_LOCAL_NODE=false skips Docker entirely.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BERTH_LOCAL_NODE:-true}" != "false" ]; then
  if ! command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "berth: installing Docker (docker.io) for the local node daemon"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    bash scripts/docker-engines.sh || echo "berth: could not start Docker; the local node will be unavailable"
  fi
fi

npm run build --silent
exec node dist/apps/coordinator/src/main.js
