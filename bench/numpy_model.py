"""The reference model (docs/model.md) in NumPy, vectorised over replicates: the
baseline a researcher could write in an afternoon, for benchmark B6.

Supports what bench scenarios use: nations with blocs, defaults, vendors, events
(`at` step index or `hazard`; `set`/`add` on global paths and `nations.*.ATTR`),
`uncertain` global paths with normal/uniform/triangular draws, and the strategic
actors of docs/model.md ("Strategic actors": us.strategy, the intelligence lever,
china.strategy with china.targets / china_target, the vendor's price response,
peers.intel_standing), the reversal cost (policy.reversal_cost) and attention
(attention: events at step indices). Not supported: windows files. Random numbers come
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
    "china.escalation": 0.3, "peers.base_tie": 0.0,
    "us.strategy": 0, "us.budget": 0.0, "us.budget_growth": 0.0,
    "us.intel_lever.credibility": 0.5, "us.intel_lever.downgrade": 0.0,
    "us.intel_lever.lead": 2, "us.intel_lever.duration": 4,
    "us.intel_lever.credibility_loss": 0.1, "china.strategy": 0, "china.budget": 0.0,
    "china.price_response": 0.0, "china.price_budget": 0.0, "peers.intel_standing": 0.0,
    "policy.reversal_cost": 0.0, "attention.weight": 0.0, "attention.decay": 0.0}
CHOICES = {"us.strategy": {"schedule": 0, "uniform": 1, "pivotal": 2, "wavering": 3},
           "china.strategy": {"aggregate": 0, "targeted": 1, "deterrent": 2}}


def code(path, v):
    """A strategy name as its code (docs/model.md, "Strategic actors")."""
    return CHOICES[path][v] if path in CHOICES and isinstance(v, str) else v
NATION = {"intel": 0.5, "us_ties": 0.5, "china_trade": 0.1, "cost_sensitivity": 0.5,
          "mitigation": 0.0, "threat": 0.5, "influence": 1.0, "review_rate": 0.25,
          "home_vendor": 0.0, "policy": 0.0, "high_risk_share": 0.0, "china_target": 0.0}
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
    for sec in ("policy", "decision", "market", "risk", "us", "china", "peers", "attention"):
        g.update(flatten(sc.get(sec, {}), sec + "."))
    if "windows" in sc:
        raise ValueError("numpy_model: windows files are not supported")
    named = set(g.pop("china.targets", None) or [])   # China's named targets (codes)
    att = [(int(e["at"]), float(e.get("salience", 1.0))) for e in g.pop("attention.events", None) or []]
    N, T = len(sc["nations"]), sc["steps"]
    defaults = {**NATION, **{k: (POL[v] if k == "policy" else float(v))
                             for k, v in sc.get("defaults", {}).items()}}
    nat = {a: np.array([float(POL[n[a]]) if a == "policy" and a in n else float(n.get(a, defaults[a]))
                        for n in sc["nations"]]) for a in NATION}
    nat["china_target"] = np.maximum(nat["china_target"],
                                     [float(n["code"] in named) for n in sc["nations"]])
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
    par = {k: np.full(R, float(code(k, v))) for k, v in g.items()}
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
    ist = np.zeros((R, N), np.int64)    # intelligence lever: 0 none, 1 threatened, 2 downgraded
    due = np.zeros((R, N), np.int64)
    ties = B @ (B.sum(0) - 1)           # sum over i's blocs of (members - 1)
    mark, mpol = h.copy(), s.copy()      # reversal cost: h at the current policy's start
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
                        v = code(path, v)
                        par[path][fire] = v if op == "set" else par[path][fire] + v
        # The lever off (downgrade 0): no threat or downgrade stands.
        ist = np.where((par["us.intel_lever.downgrade"] > 0)[:, None], ist, 0)
        # Reversal cost: V_i = max(0, h0_i - h_i), h0_i the share when the policy took force.
        newpol = (s != mpol) | (t == 0)
        mark, mpol = np.where(newpol, h, mark), s.copy()
        V = np.maximum(0, mark - h)
        kappa, psi = par["policy.restrict_cap"][:, None], par["policy.restrict_compliance"][:, None]
        cap = np.stack([np.ones_like(kappa), kappa, np.zeros_like(kappa)], -1)        # R,1,3
        phi = np.stack([np.zeros_like(psi), psi, np.ones_like(psi)], -1)
        core = np.array([1.0, 0.0, 0.0])
        sigma, theta = par["risk.supply_risk"][:, None], par["us.intel_threat"][:, None]
        us, cn = par["us.strategy"].astype(int), par["china.strategy"].astype(int)
        delta, eta = par["us.intel_lever.downgrade"][:, None], par["peers.intel_standing"][:, None]
        thL = par["us.intel_lever.credibility"][:, None]
        # The vendor's price response: D_i.
        pr, pb = par["china.price_response"][:, None], par["china.price_budget"][:, None]
        hs = np.where(s != 2, h, 0).sum(1, keepdims=True)
        disc = np.where((s != 2) & (hs > 0), np.minimum(pr, pb * h / np.where(hs > 0, hs, 1)), 0)
        Di = np.where((pr > 0) & (pb > 0), np.maximum(0, (pa - ph * (1 - disc)) / pa), D)
        x = 1 / (1 + np.exp(-par["market.price_elasticity"][:, None] *
                            (Di - sigma - par["market.operator_risk_weight"][:, None] * A["threat"])))
        phis = np.take_along_axis(phi[:, 0, :], s, 1)
        Rt = par["china.retaliation"][:, None] + par["china.escalation"][:, None] * phis.mean(1, keepdims=True)
        H = np.maximum(h, x)
        C = A["cost_sensitivity"][..., None] * (Di[..., None] * np.maximum(0, x[..., None] - cap) +
                                                 par["market.replace_cost"][:, None, None] * np.maximum(0, h[..., None] - cap))
        S = (A["threat"] * (1 + sigma) * (1 - A["mitigation"]))[..., None] * (
            core + par["risk.ran_weight"][:, None, None] * np.minimum(H[..., None], cap))
        d = A["intel"]
        dt = np.where(ist == 2, d * (1 - delta), d)
        lam = np.where(ist == 1, thL * delta * d, np.where(ist == 2, delta * d, 0))
        Aus = (A["us_ties"] * P + dt * theta)[..., None] * (1 - phi) + lam[..., None] * core
        geff = np.where(s != 0, A["influence"] * (1 + eta * d), A["influence"])
        onehot = np.eye(3)[s] * geff[..., None]                                          # R,N,3
        num = np.einsum("ij,rjk->rik", W, onehot)
        den = num.sum(-1, keepdims=True)
        Gp = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        w = {k: par["decision.weights." + k][:, None, None] for k in
             ("cost", "risk", "us", "china", "peer", "inertia", "home")}
        w["rev"] = par["policy.reversal_cost"][:, None, None]
        R0, Bc = par["china.retaliation"][:, None, None], par["china.budget"][:, None, None]

        def utility(Rk):
            Q = A["china_trade"][..., None] * Rk * phi
            return (-w["cost"] * C - w["risk"] * S - w["us"] * Aus - w["china"] * Q + w["peer"] * Gp
                    + w["inertia"] * np.eye(3)[s] + w["home"] * A["home_vendor"][..., None] * phi
                    - w["rev"] * (par["market.replace_cost"][:, None] * A["cost_sensitivity"] * V)[..., None]
                    * (np.arange(3) < s[..., None]))

        # China: R_i(k) by strategy, over its targets (every nation when none is named).
        tgt = A["china_target"] != 0
        tgt = tgt | ~tgt.any(1, keepdims=True)
        nr = ((s == 1) & tgt).sum(1, keepdims=True)
        nb = ((s == 2) & tgt).sum(1, keepdims=True)
        Phim = ((nr - ((s == 1) & tgt)) * psi + (nb - ((s == 2) & tgt)))[..., None]
        Rk = np.broadcast_to(Rt[..., None], (R, N, 3))
        Rtg = np.where(tgt[..., None], R0 + Bc / np.maximum(1, Phim + phi), R0)
        Rk = np.where((cn == 1)[:, None, None], Rtg, Rk)
        if (cn == 2).any():
            U0 = utility(np.broadcast_to(R0, (R, N, 3)))
            gap = np.take_along_axis(U0, s[..., None], -1)[..., 0] - U0[..., 2]
            ok = (s != 2) & tgt & (gap >= 0)
            wv = np.argmin(np.where(ok, gap, np.inf), 1)
            hit = np.zeros((R, N), bool)
            hit[np.arange(R), wv] = ok[np.arange(R), wv]
            Rk = np.where((cn == 2)[:, None, None], R0 + Bc * hit[..., None], Rk)
        U = utility(Rk)
        z = par["decision.rationality"][:, None, None] * U
        e = np.exp(z - z.max(-1, keepdims=True))
        cum = np.cumsum(e, -1)
        u = rng.random((R, N))[..., None] * cum[..., -1:]
        choice = (u >= cum[..., :2]).sum(-1)
        rho = A["review_rate"]
        if att:  # attention: a(t) = min(1, w_A sum_e S_e decay^(t - t_e)) raises every review rate
            a_t = np.minimum(1, par["attention.weight"] * sum(
                S_e * par["attention.decay"] ** (t - t_e) for t_e, S_e in att if t_e <= t))
            rho = 1 - (1 - rho) * (1 - a_t[:, None])
        review = rng.random((R, N)) < rho
        s = np.where(review, choice, s)
        capk = np.take_along_axis(cap[:, 0, :], s, 1)
        cost += np.take_along_axis(C, s[..., None], -1)[..., 0]
        risk += np.take_along_axis(S, s[..., None], -1)[..., 0]
        hp = (1 - par["market.renewal"][:, None]) * h + par["market.renewal"][:, None] * np.minimum(x, capk)
        h = hp - np.maximum(0, hp - capk) / par["policy.phase_out_steps"][:, None]
        # The US: schedule, or the budget B(t) by strategy over E(t), the nations
        # not banning and below the ceiling.
        E = (s != 2) & (P < par["us.max_pressure"][:, None])
        ne = np.maximum(E.sum(1, keepdims=True), 1)
        Bt = (par["us.budget"] * (1 + par["us.budget_growth"]) ** t)[:, None]
        lev = np.where(E, geff * (ties + par["peers.base_tie"][:, None] * (N - 1)), -np.inf)
        piv = np.zeros((R, N), bool)
        piv[np.arange(R), np.argmax(lev, 1)] = E.any(1)
        gapw = np.take_along_axis(U, s[..., None], -1)[..., 0] - U[..., 2]
        okw = E & (gapw >= 0)
        wav = np.zeros((R, N), bool)
        iw = np.argmin(np.where(okw, gapw, np.inf), 1)
        wav[np.arange(R), iw] = okw[np.arange(R), iw]
        dP = par["us.escalation"][:, None] * (1 - np.take_along_axis(phi[:, 0, :], s, 1))
        dP = np.where((us == 1)[:, None], np.where(E, Bt / ne, 0), dP)
        dP = np.where((us == 2)[:, None], np.where(piv, Bt, 0), dP)
        dP = np.where((us == 3)[:, None], np.where(wav, Bt, 0), dP)
        P = np.minimum(par["us.max_pressure"][:, None], P + dP)
        # The intelligence lever's transitions (draws only when it is on).
        on = (delta > 0)[:, 0]
        if on.any():
            opened = s == 0
            due_now = (ist == 1) & (due <= t + 1) & on[:, None]
            udraw = rng.random((R, N))
            carried = due_now & opened & (udraw < thL)
            failed = due_now & opened & ~carried
            release = (ist == 2) & ((due <= t + 1) | ~opened) & on[:, None]
            threat = (ist == 0) & opened & on[:, None]
            ist = np.where(due_now | release, 0, ist)
            ist = np.where(carried, 2, ist)
            due = np.where(carried, t + 1 + par["us.intel_lever.duration"][:, None].astype(int), due)
            ist = np.where(threat, 1, ist)
            due = np.where(threat, t + 1 + par["us.intel_lever.lead"][:, None].astype(int), due)
            par["us.intel_lever.credibility"] = np.maximum(
                0, par["us.intel_lever.credibility"] - par["us.intel_lever.credibility_loss"] * failed.sum(1))
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
