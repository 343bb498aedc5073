#!/usr/bin/env bash
# PNG copies of the report's SVG figures, rendered by headless Chromium at each figure's own size
# (for places that do not show SVG). Uses scripts/screenshot-report.sh for each file.
#   scripts/figures-to-png.sh [FIGURES_DIR]     (default report/figures; writes FIGURE.png beside FIGURE.svg)
set -euo pipefail

dir="${1:-report/figures}"
here="$(cd "$(dirname "$0")" && pwd)"
if [[ ! -d "$dir" ]]; then
  echo "figures-to-png: $dir is not a directory (run: node bin/o2o.mjs report)" >&2
  exit 2
fi
shopt -s nullglob
count=0
for svg in "$dir"/*.svg; do
  # The root element's width and height attributes, as the chart writer emits them.
  header="$(head -c 400 "$svg")"
  width="$(sed -n 's/^<svg[^>]* width="\([0-9.]*\)".*/\1/p' <<<"$header" | head -n 1)"
  height="$(sed -n 's/^<svg[^>]* height="\([0-9.]*\)".*/\1/p' <<<"$header" | head -n 1)"
  if [[ -z "$width" || -z "$height" ]]; then
    echo "figures-to-png: $svg has no width/height on its <svg> element; skipped" >&2
    continue
  fi
  "$here/screenshot-report.sh" "$svg" "${svg%.svg}.png" "${width%.*}x${height%.*}" >/dev/null
  count=$((count + 1))
done
echo "figures-to-png: wrote $count PNG files to $dir" >&2
