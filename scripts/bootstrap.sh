#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks, idempotently:
#   1. Debian packages (OpenBLAS for lib/nn's native GEMM, nats-server for the services, protoc, and
#      Chromium + a font for the report's headless-browser check),
#   2. node_modules from package-lock.json (npm ci),
#   3. native addons (every binding.gyp under lib/ and services/),
#   4. generated code (proto/ via scripts/gen-proto.sh, once it exists).
# With --if-needed it returns at once when nothing it depends on changed since its last success.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libopenblas-dev nats-server protobuf-compiler chromium fonts-dejavu-core)
STAMP=.cache/bootstrap.stamp

log() { printf '[bootstrap] %s\n' "$*" >&2; }

native_gyps() { find lib services -name binding.gyp -not -path '*/node_modules/*' 2>/dev/null | sort; }

fingerprint() {
  {
    node --version
    cat package-lock.json scripts/bootstrap.sh
    for gyp in $(native_gyps); do
      find "$(dirname "$gyp")" -type f \( -name '*.gyp' -o -name '*.cc' -o -name '*.c' -o -name '*.h' \) \
        -not -path '*/build/*' | sort | xargs cat
    done
    [ -d proto ] && find proto -name '*.proto' | sort | xargs -r cat
    [ -f scripts/gen-proto.sh ] && cat scripts/gen-proto.sh
    printf '%s\n' "${APT_PACKAGES[@]}"
  } | sha256sum | cut -d' ' -f1
}

apt_missing() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

if [ "${1:-}" = "--if-needed" ]; then
  if [ -f "$STAMP" ] && [ -d node_modules ] && [ -z "$(apt_missing)" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ]; then
    exit 0
  fi
fi

missing=$(apt_missing)
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: $missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

log "npm ci"
npm ci --no-audit --no-fund --loglevel=error

for gyp in $(native_gyps); do
  dir=$(dirname "$gyp")
  log "building native addon in $dir"
  nodedir_flag=()
  [ -f /usr/include/node/node_api.h ] && nodedir_flag=(--nodedir=/usr)
  if ! (cd "$dir" && npx --no-install node-gyp rebuild "${nodedir_flag[@]}" --loglevel=error >/dev/null); then
    log "native build in $dir failed: the pure-TypeScript fallback will be used"
  fi
done

if [ -f scripts/gen-proto.sh ]; then
  log "generating proto code"
  bash scripts/gen-proto.sh
fi

mkdir -p "$(dirname "$STAMP")"
fingerprint >"$STAMP"
log "done"
