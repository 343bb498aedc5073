"""An outside check on o2o's TD3 (issue #4): TD3 as published (Fujimoto et al. 2018 with the author's
updated defaults, the same settings lib/rl/td3.ts uses) in PyTorch, on Gymnasium's own Hopper-v5 with
Python MuJoCo. Not part of the project's pipeline: it answers "what does a standard TD3 reach on this
environment by 300k steps?" so that o2o's numbers can be read against it.

Run it where `torch`, `gymnasium` and `mujoco` (Python) are installed, one seed per process:
    python3 scripts/reference/td3-reference.py SEED [STEPS] [ENV] > seed-SEED.jsonl

Settings: 256-256 ReLU networks (PyTorch's default init), Adam 3e-4 for actor and critics, batch 256,
gamma 0.99, tau 0.005, target policy noise 0.2 clipped at 0.5, actor and targets every 2nd update,
exploration noise 0.1, 25k uniformly random start steps, one update per step after them, bootstrapping
stopped by `terminated` only. Every 5k steps: the deterministic policy over 10 episodes (reset seeds
10000..10009), one JSON line {seed, step, return, std, sps}.
"""
import json, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
import gymnasium as gym

seed = int(sys.argv[1]); total = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
env_id = sys.argv[3] if len(sys.argv) > 3 else "Hopper-v5"
torch.set_num_threads(1); torch.manual_seed(seed); rng = np.random.default_rng(seed)
env = gym.make(env_id); eval_env = gym.make(env_id)
od, ad = env.observation_space.shape[0], env.action_space.shape[0]; ma = float(env.action_space.high[0])

def mlp(i, o): return nn.Sequential(nn.Linear(i, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, o))
class Actor(nn.Module):
    def __init__(s): super().__init__(); s.net = mlp(od, ad)
    def forward(s, x): return ma * torch.tanh(s.net(x))
actor, q1, q2 = Actor(), mlp(od + ad, 1), mlp(od + ad, 1)
actor_t, q1_t, q2_t = Actor(), mlp(od + ad, 1), mlp(od + ad, 1)
for t, m in ((actor_t, actor), (q1_t, q1), (q2_t, q2)): t.load_state_dict(m.state_dict())
aopt = torch.optim.Adam(actor.parameters(), lr=3e-4); copt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-4)
N = total; S = np.zeros((N, od), np.float32); A = np.zeros((N, ad), np.float32); R = np.zeros((N, 1), np.float32)
S2 = np.zeros((N, od), np.float32); D = np.zeros((N, 1), np.float32); n = 0

def evaluate():
    rets = []
    for e in range(10):
        o, _ = eval_env.reset(seed=10_000 + e); done = False; ret = 0.0
        while not done:
            with torch.no_grad(): a = actor(torch.as_tensor(o, dtype=torch.float32)).numpy()
            o, r, term, trunc, _ = eval_env.step(a); ret += r; done = term or trunc
        rets.append(ret)
    return float(np.mean(rets)), float(np.std(rets))

o, _ = env.reset(seed=seed); t0 = time.time(); it = 0
for step in range(1, total + 1):
    if step <= 25_000: a = rng.uniform(-ma, ma, ad).astype(np.float32)
    else:
        with torch.no_grad(): a = actor(torch.as_tensor(o, dtype=torch.float32)).numpy()
        a = np.clip(a + rng.normal(0, 0.1 * ma, ad), -ma, ma).astype(np.float32)
    o2, r, term, trunc, _ = env.step(a)
    S[n], A[n], R[n], S2[n], D[n] = o, a, r, o2, float(term); n += 1
    o = o2
    if term or trunc: o, _ = env.reset()
    if step > 25_000:
        it += 1
        idx = rng.integers(0, n, 256)
        s, a_, r_, s2, d = (torch.as_tensor(x[idx]) for x in (S, A, R, S2, D))
        with torch.no_grad():
            noise = (torch.randn_like(a_) * 0.2 * ma).clamp(-0.5 * ma, 0.5 * ma)
            na = (actor_t(s2) + noise).clamp(-ma, ma); sa2 = torch.cat([s2, na], 1)
            y = r_ + 0.99 * (1 - d) * torch.min(q1_t(sa2), q2_t(sa2))
        sa = torch.cat([s, a_], 1)
        closs = F.mse_loss(q1(sa), y) + F.mse_loss(q2(sa), y)
        copt.zero_grad(); closs.backward(); copt.step()
        if it % 2 == 0:
            aloss = -q1(torch.cat([s, actor(s)], 1)).mean()
            aopt.zero_grad(); aloss.backward(); aopt.step()
            with torch.no_grad():
                for t, m in ((actor_t, actor), (q1_t, q1), (q2_t, q2)):
                    for pt, pm in zip(t.parameters(), m.parameters()): pt.mul_(0.995).add_(0.005 * pm)
    if step % 5000 == 0:
        m, sd = evaluate()
        print(json.dumps({"seed": seed, "step": step, "return": m, "std": sd, "sps": step / (time.time() - t0)}), flush=True)
