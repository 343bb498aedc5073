#!/usr/bin/env bash
# Builds the reproduction datasets with the project's own behaviour policies (D4RL's recipe, with TD3
# instead of SAC), for each env:
#   1. o2o dataset behaviour   TD3 from scratch for $O2O_BEHAVIOUR_STEPS steps, a snapshot + evaluation
#                              every $O2O_SNAPSHOT_EVERY steps, every transition kept
#                              -> <root>/<env>/behaviour/   (git-ignored, resumable)
#   2. o2o dataset generate    random ($O2O_RANDOM_TRANSITIONS), medium and expert ($O2O_POLICY_TRANSITIONS
#                              each), medium-replay (the run's transitions up to the medium snapshot),
#                              medium-expert (medium then expert: 2x, as D4RL's)
#                              -> <root>/<env>/<kind>.hdf5  (D4RL layout, gzip-compressed columns)
#                              -> <root>/<env>/<kind>.json  (metadata, sha256 of the .hdf5, the command)
# Resumable: rerun the same command after a kill or session end. Behaviour training continues from its
# last checkpoint (at most one snapshot interval is redone); a dataset whose .json and .hdf5 both exist
# is skipped. Generation is cheap next to training, so a half-written dataset is simply made again.
#
# What is committed: every manifest, and the medium and medium-replay files, which the paper's grid
# (experiments/paper.yaml) draws its small subsets from. A machine here keeps no git-ignored file from one
# session to the next and an HDF5 file's bytes (so its sha256, which each run records) differ between two
# writes of the same data, so the grid's inputs must travel in git; the other kinds are regenerated on
# demand (random exactly, from its seed: the content checksum in its manifest says so).
#
# Budget (defaults, measured on the 2-core machine with other training beside it): 300k behaviour steps
# per env (D4RL trained SAC for 1M), 20-40 min per env, in which TD3 takes Hopper and HalfCheetah to
# returns in the range of published TD3 curves at that step count; Walker2d-v5 gets 1M, because its
# 300k-step run (seed 0) peaked at 1,546, which made "medium" a 503-return policy that barely walks
# (at 1M it reached 5,498 and the 1,546 snapshot became medium: datasets/README.md); Ant-v5 gets 1M too,
# because at 300k it peaked at 1,365, which made "medium" a 30k-step snapshot returning 480, less than
# the ~1,000 an untrained policy earns by standing still (at 1M it reached 4,920 and a 1,414 snapshot at
# 310k became medium). Rerunning with a
# larger O2O_BEHAVIOUR_STEPS extends a run (and may change which snapshot is "expert", so also medium).
# Datasets: random 1M transitions (D4RL's size), medium and expert 100k (the paper takes 10k subsets of
# them; 100k keeps the committed files at ~10-27 MB per env while a 10k subset still draws from ~100
# episodes), medium-replay as long as the run up to the medium snapshot.
#
# Settings (environment):
#   O2O_DATASETS_ROOT        output root (default datasets)
#   O2O_DATASET_ENVS         space-separated env ids (default "Hopper-v5 Walker2d-v5 HalfCheetah-v5 Ant-v5")
#   O2O_BEHAVIOUR_STEPS      behaviour training steps, every env (default 300000; Walker2d-v5, Ant-v5 1000000)
#   O2O_SNAPSHOT_EVERY       steps between snapshots/checkpoints (default 10000)
#   O2O_RANDOM_TRANSITIONS   transitions of random (default 1000000)
#   O2O_POLICY_TRANSITIONS   transitions of medium and expert (default 100000)
#   O2O_BEHAVIOUR_SEED       behaviour training seed (default 0)
#   O2O_DATASETS_TINY=1      a smoke test: 600 steps, snapshots every 100, 100 random start steps,
#                            [32,32] nets, 2 evaluation episodes, 300-transition datasets
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=${O2O_DATASETS_ROOT:-datasets}
ENVS=${O2O_DATASET_ENVS:-Hopper-v5 Walker2d-v5 HalfCheetah-v5 Ant-v5}
STEPS=${O2O_BEHAVIOUR_STEPS:-}
EVERY=${O2O_SNAPSHOT_EVERY:-10000}
RANDOM_TRANSITIONS=${O2O_RANDOM_TRANSITIONS:-1000000}
TRANSITIONS=${O2O_POLICY_TRANSITIONS:-100000}
SEED=${O2O_BEHAVIOUR_SEED:-0}
RANDOM_SEED=1
# medium, expert and medium-expert share one rollout seed, so medium-expert is exactly medium ++ expert.
POLICY_SEED=2
EXTRA=()
if [[ ${O2O_DATASETS_TINY:-0} == 1 ]]; then
  STEPS=600 EVERY=100 TRANSITIONS=300 RANDOM_TRANSITIONS=300
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

# behaviour_steps ENV: $STEPS if set, else the env's default budget
behaviour_steps() {
  if [[ -n $STEPS ]]; then echo "$STEPS"; elif [[ $1 == Walker2d-v5 || $1 == Ant-v5 ]]; then echo 1000000; else echo 300000; fi
}

for env in $ENVS; do
  run="$ROOT/$env/behaviour"
  steps=$(behaviour_steps "$env")
  mkdir -p "$ROOT/$env"
  log "$env: behaviour training to $steps steps in $run (resumes if started)"
  o2o dataset behaviour --env "$env" --steps "$steps" --seed "$SEED" --snapshot-every "$EVERY" \
    --out "$run" "${EXTRA[@]}"
  generate "$env" random "$RANDOM_TRANSITIONS" "$RANDOM_SEED"
  generate "$env" medium "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" expert "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" medium-replay "$TRANSITIONS" "$POLICY_SEED" --behaviour "$run"
  generate "$env" medium-expert "$((2 * TRANSITIONS))" "$POLICY_SEED" --behaviour "$run"
done
log "done; commit the manifests and the grid's inputs: git add $ROOT/*/*.json $ROOT/*/medium.hdf5 $ROOT/*/medium-replay.hdf5"
