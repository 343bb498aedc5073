#!/usr/bin/env bash
# Builds the reproduction datasets with the project's own behaviour policies (D4RL's recipe, with TD3
# instead of SAC), for each env:
#   1. o2o dataset behaviour   TD3 from scratch for $O2O_BEHAVIOUR_STEPS steps, a snapshot + evaluation
#                              every $O2O_SNAPSHOT_EVERY steps, every transition kept
#                              -> <root>/<env>/behaviour/   (git-ignored, resumable)
#   2. o2o dataset generate    random, medium, expert ($O2O_DATASET_TRANSITIONS each), medium-replay (the
#                              run's transitions up to the medium snapshot), medium-expert (medium then
#                              expert, $O2O_DATASET_TRANSITIONS each: 2x, as D4RL's)
#                              -> <root>/<env>/<kind>.hdf5  (D4RL layout, git-ignored)
#                              -> <root>/<env>/<kind>.json  (metadata, sha256 of the .hdf5, the command:
#                                 commit these)
# Resumable: rerun the same command after a kill or session end. Behaviour training continues from its
# last checkpoint (at most one snapshot interval is redone); a dataset whose .json and .hdf5 both exist
# is skipped. Generation is cheap next to training, so a half-written dataset is simply made again.
#
# Budget (defaults): 1M behaviour steps per env, as D4RL. One TD3 update per step at ~300 updates/s on
# one free core (bench:nn: 361/s) makes 1M steps about 1 h per env (Ant about 1.5 h: larger
# observations), 4-6 h for the four envs, more on a shared machine; 300k steps (O2O_BEHAVIOUR_STEPS=300000)
# is the least that gets Hopper/Walker2d/HalfCheetah near their usual TD3 returns. Datasets: 1M
# transitions per kind (D4RL's size; the paper then subsets 10k), a few minutes of rollouts each;
# Ant-v5's 105-dim observations make a 1M-row dataset about 0.9 GB in memory (medium-expert 1.8 GB) -
# lower O2O_DATASET_TRANSITIONS on a small machine.
#
# Settings (environment):
#   O2O_DATASETS_ROOT        output root (default datasets)
#   O2O_DATASET_ENVS         space-separated env ids (default "Hopper-v5 Walker2d-v5 HalfCheetah-v5 Ant-v5")
#   O2O_BEHAVIOUR_STEPS      behaviour training steps per env (default 1000000)
#   O2O_SNAPSHOT_EVERY       steps between snapshots/checkpoints (default 10000)
#   O2O_DATASET_TRANSITIONS  transitions of random/medium/expert (default 1000000)
#   O2O_BEHAVIOUR_SEED       behaviour training seed (default 0)
#   O2O_DATASETS_TINY=1      a smoke test: 600 steps, snapshots every 100, 100 random start steps,
#                            [32,32] nets, 2 evaluation episodes, 300-transition datasets
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=${O2O_DATASETS_ROOT:-datasets}
ENVS=${O2O_DATASET_ENVS:-Hopper-v5 Walker2d-v5 HalfCheetah-v5 Ant-v5}
STEPS=${O2O_BEHAVIOUR_STEPS:-1000000}
EVERY=${O2O_SNAPSHOT_EVERY:-10000}
TRANSITIONS=${O2O_DATASET_TRANSITIONS:-1000000}
SEED=${O2O_BEHAVIOUR_SEED:-0}
RANDOM_SEED=1
# medium, expert and medium-expert share one rollout seed, so medium-expert is exactly medium ++ expert.
POLICY_SEED=2
EXTRA=()
if [[ ${O2O_DATASETS_TINY:-0} == 1 ]]; then
  STEPS=600 EVERY=100 TRANSITIONS=300
  EXTRA=(--start-steps 100 --hidden 32,32 --batch-size 32 --eval-episodes 2)
fi

log() { printf '[make-datasets] %s\n' "$*" >&2; }
o2o() { node bin/o2o.mjs "$@"; }

# generate ENV KIND TRANSITIONS SEED [flags...]
generate() {
  local env=$1 kind=$2 n=$3 seed=$4
  shift 4
  local out="$ROOT/$env/$kind.hdf5" manifest="$ROOT/$env/$kind.json"
  if [[ -f $out && -f $manifest ]]; then
    log "$env $kind: exists, skipped ($manifest)"
    return
  fi
  log "$env $kind: generating $n transitions"
  o2o dataset generate --env "$env" --kind "$kind" --transitions "$n" --seed "$seed" \
    --out "$out" --manifest "$manifest" --force "$@"
}

for env in $ENVS; do
  run="$ROOT/$env/behaviour"
  mkdir -p "$ROOT/$env"
  log "$env: behaviour training to $STEPS steps in $run (resumes if started)"
  o2o dataset behaviour --env "$env" --steps "$STEPS" --seed "$SEED" --snapshot-every "$EVERY" \
    --out "$run" "${EXTRA[@]}"
  generate "$env" random "$TRANSITIONS" "$RANDOM_SEED"
  generate "$env" medium "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" expert "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" medium-replay "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" medium-expert "$((2 * TRANSITIONS))" "$POLICY_SEED" --behaviour "$run"
done
log "done; commit the manifests: git add $ROOT/*/*.json && git commit -m 'datasets: manifests' -- $ROOT/*/*.json"
