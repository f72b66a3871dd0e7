#!/usr/bin/env bash
# The README's test command runs this (npm run test:all). It installs what the tests need,
# starts what they need, and runs the suite twice: on the embedded PGlite database and on
# PostgreSQL (DATABASE_URL, default the local server's `test` database).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v file >/dev/null 2>&1 || need+=(file)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)   # a real registry for the image pull tests
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)   # its htpasswd auth file
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing Debian packages (${need[*]}); install them as root" >&2; exit 1; fi
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -d node_modules ] || npm ci
bash scripts/docker-engines.sh --second

export CI="${CI:-true}"
npm run lint
npm run typecheck

echo "=== test pass 1/2: embedded PGlite ==="
env -u DATABASE_URL npx jest --runInBand

echo "=== test pass 2/2: PostgreSQL ==="
# The libraries' suites (the node daemon's among them), the layer rules and the image recipes do not touch a
# database; they ran in pass 1. Nor do the agents' own tests (their contracts on real Docker, the real
# OpenClaw): the database they pass through is the pipeline's, which pass 2 runs on PostgreSQL anyway.
DATABASE_URL="${BERTH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" \
  npx jest --runInBand --testPathIgnorePatterns '/libs/' '/test/layers.spec.ts' '/test/image-recipes.e2e.ts' \
  '/test/agent-contracts.spec.ts' '/test/agents.e2e.ts' '/test/openclaw-real.e2e.ts'
