#!/usr/bin/env bash
# One working session on the paper's grid: runs it on both cores until HH:MM, starting the runs that can
# finish by then first and committing each as it finishes, then rebuilds report/ from the committed
# results/ and commits it. When no run can finish by then, a free core takes the next one anyway
# (--fill-idle): it checkpoints at HH:MM, and the next session resumes it if the workspace is kept.
# Safe to cut off at any point: finished runs are already committed, unfinished ones resume next time.
#   scripts/grid-session.sh HH:MM [more o2o experiment flags, e.g. --only "env=Hopper-v5", --first "seed=2"]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || ! "$1" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]]; then
  echo "usage: scripts/grid-session.sh HH:MM [o2o experiment flags]   (HH:MM: local time to stop at)" >&2
  exit 2
fi
stop_at="$1"
shift

bash scripts/bootstrap.sh --if-needed
# nice: the grid yields to whatever else the machine does (tests, a CI check) instead of slowing it.
# A failed run (exit 1) must not cost the session its report: the status is kept and returned at the end.
grid_status=0
nice -n 10 node bin/o2o.mjs experiment paper --jobs 2 --stop-at "$stop_at" --fill-idle --commit "$@" || grid_status=$?

# The report is built from the committed results only (HEAD's results/, unpacked into a temporary
# directory): when the grid stops, a shared pre-training being rebuilt has half-rewritten rows in the
# working tree and unfinished runs have directories there, and neither belongs in the committed report.
# The critic's held-out check of each shared pre-training whose model file is here (new ones, rebuilt
# ones); its small JSON files are committed, the model files are not.
# A failure here must not cost the session its report.
node bin/o2o.mjs experiment critic-check results || echo "grid-session: critic-check failed (above); the report is built without it" >&2
# Only for entries already committed (a run that used them finished): an unfinished run's entry and its
# check are committed together with that run, when it finishes.
held_out=""
for f in $(git ls-files --others --modified -- 'results/*/critic-held-out.json'); do
  if git ls-files --error-unmatch -- "$(dirname "$f")/offline.json" > /dev/null 2>&1; then held_out+=" $f"; fi
done
if [[ -n "$held_out" ]]; then
  # shellcheck disable=SC2086
  git add -- $held_out
  git commit --quiet --only -m "results: the critic's held-out check of the shared pre-trainings" -- $held_out
fi
snapshot="$(mktemp -d)"
trap 'rm -rf "$snapshot"' EXIT
git archive HEAD -- results | tar -x -C "$snapshot"
node bin/o2o.mjs report --results "$snapshot/results"
if [[ -n "$(git status --porcelain -- report)" ]]; then
  runs="$(sed -n 's/^Generated from commit [0-9a-f]*\. \([0-9]* runs\) (.*/\1/p' report/summary.md | head -n 1)"
  git add -- report
  git commit --quiet --only -m "report: rebuilt from the committed results (${runs:-see summary.md})" -- report
  echo "grid-session: report rebuilt and committed ($(git rev-parse --short HEAD))" >&2
else
  echo "grid-session: report unchanged" >&2
fi
if [[ $grid_status -ne 0 ]]; then
  echo "grid-session: the grid exited with status $grid_status (failed runs: see above, or o2o experiment status)" >&2
fi
exit "$grid_status"
