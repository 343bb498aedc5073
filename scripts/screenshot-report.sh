#!/usr/bin/env bash
# Renders the experiment report in headless Chromium and writes a PNG screenshot, to check that the page
# and its inline SVG figures render in a real browser.
#   scripts/screenshot-report.sh [REPORT_HTML] [OUT_PNG] [WIDTHxHEIGHT]
# Defaults: report/index.html, report/screenshot.png, 1400x3000. $CHROMIUM overrides the browser binary.
set -euo pipefail

html="${1:-report/index.html}"
out="${2:-report/screenshot.png}"
size="${3:-1400x3000}"
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"

if [[ -z "$browser" ]]; then
  echo "screenshot-report: no chromium found (install Debian's chromium, or set CHROMIUM)" >&2
  exit 3
fi
if [[ ! -f "$html" ]]; then
  echo "screenshot-report: $html does not exist (run: node bin/o2o.mjs report)" >&2
  exit 2
fi
if [[ ! "$size" =~ ^[0-9]+x[0-9]+$ ]]; then
  echo "screenshot-report: size must look like 1400x3000, got '$size'" >&2
  exit 2
fi

abs_html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
mkdir -p "$(dirname "$out")"
abs_out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
# A throwaway profile: no state shared with other runs, nothing left behind.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

log="$profile/chromium.log"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size="${size/x/,}" --screenshot="$abs_out" "file://$abs_html" >"$log" 2>&1 || {
  echo "screenshot-report: $browser failed to render $abs_html; its last output:" >&2
  tail -n 20 "$log" >&2
  exit 1
}
if [[ ! -s "$abs_out" ]]; then
  echo "screenshot-report: $browser wrote no screenshot" >&2
  exit 1
fi
echo "$abs_out"
