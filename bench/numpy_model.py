"""The reference model (docs/model.md) in NumPy, vectorised over replicates: the
baseline a researcher could write in an afternoon, for benchmark B6.

Supports what bench scenarios use: nations with blocs, defaults, vendors, events
(`at` step index or `hazard`; `set`/`add` on global paths and `nations.*.ATTR`),
`uncertain` global paths with normal/uniform/triangular draws. Random numbers come
from numpy (not Philox), so results agree with allied5g in distribution only.

    /usr/bin/python3 bench/numpy_model.py SCENARIO.yaml [--replicates R]
prints seconds and ns per nation-step.
"""
import argparse
import time

import numpy as np
import yaml

G = {  # defaults from docs/scenario-reference.md
    "policy.restrict_cap": 0.35, "policy.restrict_compliance": 0.5, "policy.phase_out_steps": 12,
    "decision.rationality": 4.0, "decision.weights.cost": 1, "decision.weights.risk": 1,
    "decision.weights.us": 1, "decision.weights.china": 1, "decision.weights.peer": 1,
    "decision.weights.inertia": 0.5, "decision.weights.home": 0.2, "market.renewal": 0.05,
    "market.price_elasticity": 5, "market.operator_risk_weight": 1, "market.replace_cost": 1,
    "risk.ran_weight": 0.5, "risk.supply_risk": 0.0, "us.pressure": 0.2, "us.escalation": 0.02,
    "us.max_pressure": 1.0, "us.intel_threat": 0.0, "china.retaliation": 0.2,
    "china.escalation": 0.3, "peers.base_tie": 0.0}
NATION = {"intel": 0.5, "us_ties": 0.5, "china_trade": 0.1, "cost_sensitivity": 0.5,
          "mitigation": 0.0, "threat": 0.5, "influence": 1.0, "review_rate": 0.25,
          "home_vendor": 0.0, "policy": 0.0, "high_risk_share": 0.0}
POL = {"open": 0, "restrict": 1, "ban": 2}


def flatten(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def run(sc, R, seed=1):
    rng = np.random.default_rng(seed)
    g = dict(G)
    for sec in ("policy", "decision", "market", "risk", "us", "china", "peers"):
        g.update(flatten(sc.get(sec, {}), sec + "."))
    N, T = len(sc["nations"]), sc["steps"]
    defaults = {**NATION, **{k: (POL[v] if k == "policy" else float(v))
                             for k, v in sc.get("defaults", {}).items()}}
    nat = {a: np.array([float(POL[n[a]]) if a == "policy" and a in n else float(n.get(a, defaults[a]))
                        for n in sc["nations"]]) for a in NATION}
    P0 = np.array([float(n.get("us_pressure", g["us.pressure"])) for n in sc["nations"]])
    blocs = sorted({b for n in sc["nations"] for b in n.get("blocs", [])})
    B = np.array([[b in n.get("blocs", []) for b in blocs] for n in sc["nations"]], float)
    W = B @ B.T + g["peers.base_tie"]
    np.fill_diagonal(W, 0.0)
    prices = [(v["price"], v.get("high_risk", False)) for v in sc["vendors"]]
    ph = min(p for p, h in prices if h)
    pa = min(p for p, h in prices if not h)
    D = max(0.0, (pa - ph) / pa)
    # Per-replicate parameters: (R,) arrays for globals, (R, N) for nation attributes.
    par = {k: np.full(R, float(v)) for k, v in g.items()}
    for path, dist in (sc.get("uncertain") or {}).items():
        kind = dist["dist"]
        if kind == "normal":
            x = rng.normal(dist["mean"], dist["sd"], R)
        elif kind == "uniform":
            x = rng.uniform(dist["lo"], dist["hi"], R)
        elif kind == "triangular":
            x = rng.triangular(dist["lo"], dist["mode"], dist["hi"], R)
        else:
            raise ValueError(kind)
        par[path] = np.clip(x, dist.get("min", -np.inf), dist.get("max", np.inf))
    A = {a: np.tile(v, (R, 1)) for a, v in nat.items()}
    s = A["policy"].astype(np.int64)
    h = A["high_risk_share"].copy()
    P = np.tile(P0, (R, 1))
    cost = np.zeros((R, N))
    risk = np.zeros((R, N))
    out_pol = np.empty((R, T, N), np.int8)
    out_h = np.empty((R, T, N), np.float32)
    rr = np.arange(R)[:, None]
    for t in range(T):
        for ev in sc.get("events", []):
            fire = np.ones(R, bool) if ev.get("at") == t else (
                rng.random(R) < ev["hazard"] if "hazard" in ev else np.zeros(R, bool))
            if not fire.any():
                continue
            for op in ("set", "add"):
                for path, v in (ev.get(op) or {}).items():
                    if path.startswith("nations.*."):
                        attr = path.split(".")[2]
                        arr = P if attr == "us_pressure" else h if attr == "high_risk_share" else A[attr]
                        arr[fire] = v if op == "set" else np.clip(arr[fire] + v, 0, 1)
                    else:
                        par[path][fire] = v if op == "set" else par[path][fire] + v
        kappa, psi = par["policy.restrict_cap"][:, None], par["policy.restrict_compliance"][:, None]
        cap = np.stack([np.ones_like(kappa), kappa, np.zeros_like(kappa)], -1)        # R,1,3
        phi = np.stack([np.zeros_like(psi), psi, np.ones_like(psi)], -1)
        core = np.array([1.0, 0.0, 0.0])
        sigma, theta = par["risk.supply_risk"][:, None], par["us.intel_threat"][:, None]
        x = 1 / (1 + np.exp(-par["market.price_elasticity"][:, None] *
                            (D - sigma - par["market.operator_risk_weight"][:, None] * A["threat"])))
        phis = np.take_along_axis(phi[:, 0, :], s, 1)
        Rt = par["china.retaliation"][:, None] + par["china.escalation"][:, None] * phis.mean(1, keepdims=True)
        H = np.maximum(h, x)
        C = A["cost_sensitivity"][..., None] * (D * np.maximum(0, x[..., None] - cap) +
                                                 par["market.replace_cost"][:, None, None] * np.maximum(0, h[..., None] - cap))
        S = (A["threat"] * (1 + sigma) * (1 - A["mitigation"]))[..., None] * (
            core + par["risk.ran_weight"][:, None, None] * np.minimum(H[..., None], cap))
        Aus = ((A["us_ties"] * P + A["intel"] * theta)[..., None]) * (1 - phi)
        Q = (A["china_trade"] * Rt)[..., None] * phi
        onehot = np.eye(3)[s] * A["influence"][..., None]                              # R,N,3
        num = np.einsum("ij,rjk->rik", W, onehot)
        den = num.sum(-1, keepdims=True)
        Gp = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        w = {k: par["decision.weights." + k][:, None, None] for k in
             ("cost", "risk", "us", "china", "peer", "inertia", "home")}
        U = (-w["cost"] * C - w["risk"] * S - w["us"] * Aus - w["china"] * Q + w["peer"] * Gp
             + w["inertia"] * np.eye(3)[s] + w["home"] * A["home_vendor"][..., None] * phi)
        z = par["decision.rationality"][:, None, None] * U
        e = np.exp(z - z.max(-1, keepdims=True))
        cum = np.cumsum(e, -1)
        u = rng.random((R, N))[..., None] * cum[..., -1:]
        choice = (u >= cum[..., :2]).sum(-1)
        review = rng.random((R, N)) < A["review_rate"]
        s = np.where(review, choice, s)
        capk = np.take_along_axis(cap[:, 0, :], s, 1)
        cost += np.take_along_axis(C, s[..., None], -1)[..., 0]
        risk += np.take_along_axis(S, s[..., None], -1)[..., 0]
        hp = (1 - par["market.renewal"][:, None]) * h + par["market.renewal"][:, None] * np.minimum(x, capk)
        h = hp - np.maximum(0, hp - capk) / par["policy.phase_out_steps"][:, None]
        P = np.minimum(par["us.max_pressure"][:, None],
                       P + par["us.escalation"][:, None] * (1 - np.take_along_axis(phi[:, 0, :], s, 1)))
        out_pol[:, t] = s
        out_h[:, t] = h
    # The per-point aggregates allied5g also produces.
    share = np.stack([(out_pol == k).mean(0) for k in range(3)], -1)
    mean = out_h.mean(0)
    quant = np.quantile(out_h, [0.05, 0.5, 0.95], axis=0)
    return share, mean, quant, cost, risk


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--replicates", type=int)
    a = ap.parse_args()
    sc = yaml.safe_load(open(a.scenario))
    R = a.replicates or sc["replicates"]
    t0 = time.perf_counter()
    share, *_ = run(sc, R)
    dt = time.perf_counter() - t0
    print(f"{dt:.3f} s, {dt * 1e9 / (R * sc['steps'] * len(sc['nations'])):.1f} ns per nation-step,"
          f" final mean ban share {share[-1, :, 2].mean():.3f}")
