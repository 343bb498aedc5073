"""Records reference steps of Gymnasium's own MuJoCo v5 environments for tests/envs/gymnasium-steps.test.ts.

Run it where `gymnasium` and `mujoco` (Python) are installed:
    python3 scripts/reference/gymnasium-trajectories.py tests/envs/fixtures/gymnasium-v5-steps.json

For each env: one episode from reset(seed), uniformly random float32 actions from a seeded numpy generator.
Every action is kept. The state before a step (qpos, qvel) is kept for every step of envs that can
terminate (so that the test can check the termination flag of each step from Gymnasium's own state) and for
the first FULL steps and the last one otherwise; the step's outcome (observation, reward, terminated,
truncated, scalar info terms) is kept for the first FULL steps and the last one. Comparing one step at a
time keeps the comparison meaningful when the two MuJoCo builds differ in their contact solver (they
diverge chaotically over a whole trajectory); the solver's warm start is kept with the state, and each step says
whether anything touched, and whether any constraint (contact or joint limit) was active, in any of its
substeps: only such steps can be expected to agree to round-off across MuJoCo versions.
"""
import json
import sys

import gymnasium as gym
import mujoco
import numpy as np

FULL = 60
ENVS = [  # id, reset seed, whether it can terminate
    ("Hopper-v5", 100, True),
    ("Walker2d-v5", 100, True),
    ("HalfCheetah-v5", 100, False),  # never terminates: reaches the 1000-step truncation
    ("Ant-v5", 100, True),
    ("InvertedPendulum-v5", 100, True),
    ("InvertedDoublePendulum-v5", 100, True),
]


def constraints(model, data, scratch, action, frame_skip):
    """Whether anything touched, and whether any constraint (contact or joint limit) was active, in any
    substep of this env step, found by stepping a copy of the state."""
    mujoco.mj_copyData(scratch, model, data)
    contact = active = False
    for _ in range(frame_skip):
        scratch.ctrl[:] = action
        mujoco.mj_step(model, scratch)
        contact = contact or scratch.ncon > 0
        active = active or scratch.nefc > 0
    return bool(contact), bool(active)


def record(env_id, seed, can_terminate):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    model, data = env.unwrapped.model, env.unwrapped.data
    frame_skip = env.unwrapped.frame_skip
    scratch = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    actions, steps = [], []
    for t in range(1000):
        action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        # Body 1's xpos as the previous mj_step left it (one substep stale): Ant's forward velocity starts
        # from it, and a set_state would recompute it.
        before = {"qpos": data.qpos.tolist(), "qvel": data.qvel.tolist(), "xpos1": data.xpos[1].tolist(),
                  "warmstart": data.qacc_warmstart.tolist()}
        contact, limited = constraints(model, data, scratch, action, frame_skip)
        obs, reward, terminated, truncated, info = env.step(action)
        actions.append(action.tolist())
        last = terminated or truncated
        step = {"t": t, "terminated": bool(terminated), "truncated": bool(truncated), "contact": contact, "constrained": limited}
        if can_terminate or t < FULL or last:
            step.update(before)
        if t < FULL or last:
            step.update({
                "obs": obs.tolist(), "reward": float(reward),
                "info": {k: float(v) for k, v in info.items() if np.ndim(v) == 0},
            })
        if len(step) > 4:
            steps.append(step)
        if terminated or truncated:
            break
    return {"seed": seed, "actions": actions, "steps": steps}


def main(path):
    envs = {}
    for env_id, seed, can_terminate in ENVS:
        envs[env_id] = record(env_id, seed, can_terminate)
        print(env_id, len(envs[env_id]["actions"]), "steps", file=sys.stderr)
    with open(path, "w") as f:
        json.dump({"gymnasium": gym.__version__, "mujoco": mujoco.__version__, "envs": envs}, f)


if __name__ == "__main__":
    main(sys.argv[1])
