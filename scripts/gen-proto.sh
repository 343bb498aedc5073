#!/usr/bin/env bash
# Compiles proto/**/*.proto with ts-proto for @grpc/grpc-js into generated/proto/ (git-ignored; never
# edited by hand). Run by the bootstrap whenever a .proto file or this script changes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
  echo "gen-proto: protoc not found (Debian package protobuf-compiler; scripts/bootstrap.sh installs it)" >&2
  exit 1
fi
out=generated/proto
rm -rf "$out"
mkdir -p "$out"
mapfile -t files < <(find proto -name '*.proto' | sort)
# importSuffix=.js: ESM imports that both Node (through tsx) and tsc's NodeNext resolution accept.
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true,importSuffix=.js \
  --ts_proto_opt=useOptionals=none,oneof=unions-value,useDate=false,forceLong=number \
  -I proto "${files[@]}"
echo "gen-proto: ${#files[@]} file(s) -> $out" >&2
