#!/usr/bin/env bash
# Regenerates libs/proto/src/gen from proto/ (ts-proto, grpc-js services). No protoc needed:
# buf (npm @bufbuild/buf, a static binary, no install script) compiles the protos and runs the
# ts-proto plugin from node_modules. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf libs/proto/src/gen
npx buf generate proto --template '{
  "version": "v2",
  "plugins": [{
    "local": "node_modules/.bin/protoc-gen-ts_proto",
    "out": "libs/proto/src/gen",
    "opt": ["outputServices=grpc-js", "esModuleInterop=true", "env=node", "forceLong=number", "useOptionals=none", "oneof=unions-value", "exportCommonSymbols=false"]
  }]
}'
npx prettier --log-level warn --write "libs/proto/src/gen/**/*.ts"
echo "generated: $(find libs/proto/src/gen -name '*.ts' | tr '\n' ' ')"
