#!/usr/bin/env bash
# Starts the Docker engines the tests (and a single-machine install) need, if they are not running:
#   - the default engine on /var/run/docker.sock
#   - with --second: a second engine on /var/run/berth-docker2.sock with its own data root,
#     exec root, pidfile and bridge (br-berth2, 10.230.0.1/24), standing in for a second host.
# Each slot gets its own bridge network; Docker's default pools allow about 30, so the engines
# started here get small (/28) subnets from pools of their own (10.210/16 and 10.220/16).
# Idempotent; waits for each socket; exits non-zero when an engine does not come up.
set -euo pipefail

wait_for() { # socket, log
  for _ in $(seq 1 60); do
    if [ -S "$1" ] && docker -H "unix://$1" version >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "docker engine on $1 did not start; last log lines:" >&2
  tail -n 30 "$2" >&2 || true
  return 1
}

if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd not found: install it with 'apt-get install -y docker.io'" >&2
  exit 1
fi

if ! docker -H unix:///var/run/docker.sock version >/dev/null 2>&1; then
  echo "starting dockerd (default engine)"
  nohup dockerd --default-address-pool base=10.210.0.0/16,size=28 >/var/log/berth-dockerd.log 2>&1 &
  wait_for /var/run/docker.sock /var/log/berth-dockerd.log
fi

if [ "${1:-}" = "--second" ]; then
  sock=/var/run/berth-docker2.sock
  if ! docker -H "unix://$sock" version >/dev/null 2>&1; then
    echo "starting dockerd (second engine)"
    if ! ip link show br-berth2 >/dev/null 2>&1; then
      ip link add br-berth2 type bridge
      ip addr add 10.230.0.1/24 dev br-berth2
      ip link set br-berth2 up
    fi
    mkdir -p /var/lib/berth-docker2 /var/run/berth-docker2
    # A network store left by an earlier start with other bridge settings makes this engine
    # delete the default engine's docker0 on start (seen here). This engine is a throwaway
    # test host: start it with a fresh network store.
    rm -f /var/lib/berth-docker2/network/files/local-kv.db
    nohup dockerd --host "unix://$sock" --data-root /var/lib/berth-docker2 --exec-root /var/run/berth-docker2 \
      --pidfile /var/run/berth-docker2.pid --bridge br-berth2 \
      --default-address-pool base=10.220.0.0/16,size=28 >/var/log/berth-dockerd2.log 2>&1 &
    wait_for "$sock" /var/log/berth-dockerd2.log
  fi
fi
