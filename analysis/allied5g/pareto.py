"""Many-objective search over continuous levers (issue 27, item 4): NSGA-II.

    res = allied5g.search_levers("scenarios/robust_us_worlds.yaml",
                                 {"us.budget": (0.1, 0.6), "us.intel_lever.downgrade": (0, 0.6)},
                                 set={"us.strategy": "pivotal"}, worlds=20, replicates=20,
                                 population=24, generations=10, seed=1)
    res.front            # the non-dominated policies: levers and objectives
    res.convergence      # hypervolume per generation
    res.plot()           # parallel coordinates of the front, and the convergence
    res.save("front/")   # front.csv, population.csv, convergence.csv

NSGA-II (K. Deb, A. Pratap, S. Agarwal and T. Meyarivan 2002, "A fast and elitist
multiobjective genetic algorithm: NSGA-II", IEEE Trans. Evol. Comput. 6: 182-197)
from DEAP (Debian's python3-deap): non-dominated sorting with crowding distance
(``selNSGA2``), binary tournaments on dominance and crowding (``selTournamentDCD``),
simulated binary crossover and polynomial mutation on the levers scaled to [0, 1].

:func:`search` is the algorithm with any ``evaluate``; :func:`search_levers` gives it
the model: each generation's candidates are the policies of one robust-design run
(``design.policies`` a CSV of them), every one evaluated on the same worlds with the
same random numbers (the worlds come from the seed and do not change between
generations), an objective being a measure (default the mean) over the worlds of one
of the scenario's ``outcomes:``, in its direction. The search is reproducible from its
``seed`` (DEAP draws from Python's ``random``: its state is set from the seed for the
search and given back after). Hypervolume is taken against a reference point fixed
after the first generation (the worst value of each objective then, pushed out by a
tenth of its range) unless one is given; when it still rose by more than ``tol`` (a
share) over the last five generations a :class:`SearchWarning` says the front may
not have converged. Every candidate meets the same M worlds: a front tuned to those
may not hold on others; evaluate it on fresh worlds (another ``seed``) before trusting
it.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd


class SearchWarning(UserWarning):
    """The search may not have converged."""


@dataclass
class SearchResult:
    """What :func:`search` found. ``front``: the non-dominated members of the final
    population (one row each: the levers, then the objectives in their own units and
    direction); ``population``: the final population the same way; ``convergence``:
    per generation (0 = the initial population) the hypervolume of the first front,
    its size and the evaluations so far; ``reference``: the hypervolume's reference
    point (objective units); ``directions``: each objective's "max" or "min";
    ``converged``: False when the hypervolume still rose (see the module's doc)."""
    front: pd.DataFrame
    population: pd.DataFrame
    convergence: pd.DataFrame
    reference: dict
    directions: dict
    converged: bool
    seed: int
    levers: list = field(default_factory=list)

    def save(self, directory) -> list:
        """Write front.csv, population.csv and convergence.csv into directory (made
        if missing); returns their paths."""
        os.makedirs(directory, exist_ok=True)
        out = []
        for name, df in (("front", self.front), ("population", self.population),
                         ("convergence", self.convergence)):
            p = os.path.join(directory, f"{name}.csv")
            df.to_csv(p, index=False, float_format="%.17g")
            out.append(p)
        return out

    def plot(self, title: str = "Pareto front"):
        """Parallel coordinates of the front (levers and objectives, each scaled to its
        range over the front; objectives drawn so that up is better), beside the
        hypervolume per generation."""
        import matplotlib.pyplot as plt

        from .plots import CYCLE, styled

        @styled
        def draw():
            cols = list(self.front.columns)
            V = self.front[cols].to_numpy(dtype=float)
            lo, hi = V.min(0), V.max(0)
            span = np.where(hi > lo, hi - lo, 1.0)
            Z = (V - lo) / span
            for j, c in enumerate(cols):
                if self.directions.get(c) == "min":
                    Z[:, j] = 1 - Z[:, j]
            fig, (ax, bx) = plt.subplots(1, 2, figsize=(1.3 * len(cols) + 5.5, 4),
                                         gridspec_kw={"width_ratios": [max(len(cols), 2), 2]})
            x = np.arange(len(cols))
            for i, z in enumerate(Z):
                ax.plot(x, z, color=CYCLE[i % len(CYCLE)], alpha=0.7, lw=1.2)
            ax.set_xticks(x, [c + (" (max)" if self.directions.get(c) == "max" else
                                   " (min)" if self.directions.get(c) == "min" else "")
                              for c in cols], rotation=30, ha="right")
            ax.set_ylabel("scaled to the front's range (up: better)")
            ax.set_xlabel("lever or objective")
            ax.set_title(f"{title}: {len(Z)} policies")
            bx.plot(self.convergence["generation"], self.convergence["hypervolume"], marker="o",
                    color=CYCLE[0])
            bx.set_xlabel("generation")
            bx.set_ylabel("hypervolume")
            bx.set_title("convergence")
            fig.tight_layout()
            return fig
        return draw()


def _classes(m: int):
    from deap import base

    class Fitness(base.Fitness):
        weights = (-1.0,) * m        # every objective minimised here (max ones negated)

    class Individual(list):
        def __init__(self, values):
            super().__init__(values)
            self.fitness = Fitness()
    return Individual


def _first_front(pop):
    from deap.tools import sortNondominated
    return sortNondominated(pop, len(pop), first_front_only=True)[0]


def _hypervolume(pop, ref: np.ndarray) -> float:
    from deap.tools._hypervolume import hv
    pts = np.array([ind.fitness.values for ind in _first_front(pop)], dtype=float)
    pts = pts[(pts < ref).all(axis=1)]           # points beyond the reference add nothing
    return float(hv.hypervolume(pts, ref)) if len(pts) else 0.0


def search(evaluate: Callable[[pd.DataFrame], pd.DataFrame], bounds: Mapping[str, Sequence[float]],
           directions: Mapping[str, str], population: int = 40, generations: int = 30,
           seed: int = 0, reference: Optional[Mapping[str, float]] = None, cx_prob: float = 0.9,
           eta_crossover: float = 15.0, eta_mutation: float = 20.0,
           tol: float = 0.01) -> SearchResult:
    """NSGA-II over the inputs ``bounds`` ({name: (lo, hi)}) for the objectives
    ``directions`` ({name: "max" or "min"}). ``evaluate`` takes a DataFrame of
    candidates (one row each, a column per input) and returns one with a column per
    objective, a row per candidate, in the same order. ``population`` is rounded up to
    a multiple of 4; ``generations`` after the initial one; ``reference`` fixes the
    hypervolume's reference point (objective units). See the module's doc."""
    try:
        from deap import tools
    except ImportError as e:
        raise ImportError("allied5g.search needs DEAP: apt install python3-deap "
                          "(scripts/deps.sh installs it)") from e

    names = list(bounds)
    objs = list(directions)
    if not names or not objs:
        raise ValueError("search needs at least one input and one objective")
    bad = [o for o, d in directions.items() if d not in ("max", "min")]
    if bad:
        raise ValueError(f"directions are 'max' or 'min': {bad}")
    lo = np.array([float(bounds[n][0]) for n in names])
    hi = np.array([float(bounds[n][1]) for n in names])
    if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < hi).all()):
        raise ValueError(f"every bound needs lo < hi: {dict(bounds)}")
    if population < 4 or generations < 1:
        raise ValueError("population >= 4 and generations >= 1")
    N = -(-int(population) // 4) * 4
    sign = np.array([-1.0 if directions[o] == "max" else 1.0 for o in objs])
    Individual = _classes(len(objs))
    state = random.getstate()
    random.seed(seed)
    try:
        evals = [0]

        def assess(inds):
            X = pd.DataFrame([np.clip(lo + np.asarray(i) * (hi - lo), lo, hi) for i in inds],
                             columns=names)
            Y = evaluate(X)
            missing = [o for o in objs if o not in Y]
            if missing or len(Y) != len(inds):
                raise ValueError(f"evaluate returned {len(Y)} rows and lacks {missing}")
            F = Y[objs].to_numpy(dtype=float) * sign
            if not np.isfinite(F).all():
                raise ValueError("evaluate returned a missing or infinite objective")
            for ind, f in zip(inds, F):
                ind.fitness.values = tuple(f)
            evals[0] += len(inds)

        pop = [Individual([random.random() for _ in names]) for _ in range(N)]
        assess(pop)
        pop = tools.selNSGA2(pop, N)             # ranks and crowding for the tournaments
        if reference is not None:
            ref = np.array([float(reference[o]) for o in objs]) * sign
        else:
            F = np.array([i.fitness.values for i in pop])
            ref = F.max(0) + 0.1 * np.where(np.ptp(F, 0) > 0, np.ptp(F, 0), 1.0)
        rows = [(0, _hypervolume(pop, ref), len(_first_front(pop)), evals[0])]
        k = len(names)
        for gen in range(1, generations + 1):
            off = [Individual(list(i)) for i in tools.selTournamentDCD(pop, N)]
            for a, b in zip(off[::2], off[1::2]):
                if random.random() <= cx_prob:
                    tools.cxSimulatedBinaryBounded(a, b, eta_crossover, 0.0, 1.0)
                tools.mutPolynomialBounded(a, eta_mutation, 0.0, 1.0, 1.0 / k)
                tools.mutPolynomialBounded(b, eta_mutation, 0.0, 1.0, 1.0 / k)
            assess(off)
            pop = tools.selNSGA2(pop + off, N)
            rows.append((gen, _hypervolume(pop, ref), len(_first_front(pop)), evals[0]))
    finally:
        random.setstate(state)
    conv = pd.DataFrame(rows, columns=["generation", "hypervolume", "front_size", "evaluations"])

    def table(inds):
        X = pd.DataFrame([np.clip(lo + np.asarray(i) * (hi - lo), lo, hi) for i in inds],
                         columns=names)
        F = np.array([i.fitness.values for i in inds]) * sign
        return pd.concat([X, pd.DataFrame(F, columns=objs)], axis=1)

    front = _first_front(pop)
    tail = conv["hypervolume"].to_numpy()[-6:]
    converged = bool(len(tail) == 6 and tail[-1] - tail[0] <= tol * max(abs(tail[-1]), 1e-300))
    if len(tail) < 6:
        warnings.warn(f"{generations} generation(s) are too few to judge convergence (the "
                      "hypervolume over the last five is the test): the front may not have "
                      "converged", SearchWarning, stacklevel=2)
    elif not converged:
        warnings.warn(f"the hypervolume rose {tail[-1] - tail[0]:.4g} over the last five "
                      f"generations ({tail[0]:.4g} -> {tail[-1]:.4g}): the front may not have "
                      "converged; run more generations", SearchWarning, stacklevel=2)
    order = np.argsort([i.fitness.values[0] for i in front], kind="stable")
    return SearchResult(front=table([front[j] for j in order]).reset_index(drop=True),
                        population=table(pop), convergence=conv,
                        reference=dict(zip(objs, ref * sign)), directions=dict(directions),
                        converged=converged, seed=seed, levers=names)


def _yaml_number(v: float) -> str:
    return repr(float(v))


def search_levers(scenario, levers: Mapping[str, Sequence[float]],
                  objectives: Optional[Sequence[str]] = None, measure: str = "mean",
                  set: Optional[Mapping] = None, worlds: Optional[int] = None,
                  replicates: Optional[int] = None, threads: Optional[int] = None,
                  population: int = 40, generations: int = 30, seed: int = 0,
                  **kw) -> SearchResult:
    """NSGA-II over a robust design's continuous levers, on the model.

    ``scenario``: a robust design (``design: {method: robust}``, ``uncertain:``,
    ``outcomes:``); ``levers``: {path: (lo, hi)}, which replace its ``levers:`` (fix
    the others with ``set``, e.g. ``{"us.strategy": "pivotal"}``); ``objectives``:
    outcome names (default every outcome of the scenario), each in the direction its
    ``outcomes:`` entry gives; ``measure``: what :func:`robustness` takes over the
    worlds for each objective: "mean", "pXX" (50 <= XX < 100), "worst" or
    "satisficing" (the share of worlds meeting the outcome's threshold, maximised
    whatever the outcome's direction); regret and ranks, which depend on the other
    candidates, are refused; ``worlds``, ``replicates``,
    ``threads``: as the scenario's, or these. Other keywords go to :func:`search`."""
    from .api import run
    from .robust import policy_worlds, robustness

    m = re.fullmatch(r"p(\d+(?:\.\d+)?)", measure)
    if measure not in ("mean", "worst", "satisficing") and not (m and 50 <= float(m.group(1)) < 100):
        raise ValueError(f"measure is mean, pXX (50 <= XX < 100), worst or satisficing, not "
                         f"{measure!r} (regret and ranks depend on the other candidates of a "
                         "generation)")
    percentile = float(m.group(1)) if m else 90
    lever_text = "{" + ", ".join(f"{p}: {{lo: {_yaml_number(a)}, hi: {_yaml_number(b)}}}"
                                 for p, (a, b) in levers.items()) + "}"
    tmp = tempfile.mkdtemp(prefix="a5search-")
    base_set = {"levers": lever_text, **(set or {})}
    if worlds is not None:
        base_set["design.worlds"] = int(worlds)
    info = {}

    def evaluate(X: pd.DataFrame) -> pd.DataFrame:
        csv = os.path.join(tmp, "policies.csv")
        X.to_csv(csv, index=False, float_format="%.17g")
        ds = run(scenario, {**base_set, "design.policies": csv}, replicates=replicates,
                 threads=threads, store="summary", progress=False)
        names = [str(v) for v in ds["outcome"].values] if "outcome" in ds.coords else []
        objs = list(objectives) if objectives is not None else names
        missing = [o for o in objs if o not in names]
        if missing:
            raise ValueError(f"{missing} are not outcomes of the scenario (it has {names})")
        out = {}
        for o in objs:
            Y = policy_worlds(ds, o)
            if measure == "satisficing" and Y.attrs.get("threshold") is None:
                raise ValueError(f"outcome {o!r} has no threshold: satisficing needs one "
                                 "(outcomes: {..., threshold: X})")
            t = robustness(Y, n_boot=0, percentile=percentile)
            out[o] = t[measure].to_numpy(dtype=float)
            # a share of worlds meeting the threshold: more is better, whatever the outcome
            info.setdefault("directions", {})[o] = \
                "max" if measure == "satisficing" else Y.attrs.get("direction", "max")
        return pd.DataFrame(out)

    try:
        # One evaluation of the corners says which objectives and directions there are.
        probe = evaluate(pd.DataFrame([{p: float(v[k]) for p, v in levers.items()}
                                       for k in (0, 1)]))
        directions = {o: info["directions"][o] for o in probe.columns}
        return search(evaluate, levers, directions, population=population,
                      generations=generations, seed=seed, **kw)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
