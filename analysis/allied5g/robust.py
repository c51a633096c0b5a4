"""Robustness of policies across worlds (issue 27, item 3): which policy holds up when
nobody knows the true world?

    ds = allied5g.run("scenarios/strategies_2019.yaml", replicates=500)   # CRN
    Y = allied5g.policy_worlds(ds, "n_ban()")        # policy x world
    allied5g.robustness(Y, direction="max", threshold=10)

A *policy* is a design point (what a decision maker controls: the strategies, budgets,
lever settings swept or designed); a *world* is one replicate. On common random
numbers (``seed.common``) replicate r of every point draws the same uncertain
parameters and the same random stream, so the policies meet the same worlds and every
comparison between them is paired. A world here is a draw of the ``uncertain:``
parameters together with one realisation of the nations' random choices.

The measures (McPhail, Maier, Kwakkel et al. 2018, "Robustness metrics: how are they
calculated, when should they be used and why do they give different results?",
Earth's Future 6: 169-191), for an outcome y_pw of policy p in world w, written for
``direction="max"`` (larger is better; "min" flips every comparison):

- ``mean``: the expected value, mean_w y_pw (Laplace's principle of insufficient
  reason);
- ``pXX``: the value the outcome is at least as good as in XX % of the worlds: the
  (100 - XX)-th percentile over worlds for max, the XX-th for min (numpy's linear
  interpolation); between the expected value and maximin;
- ``worst``: the worst value over worlds (maximin, Wald 1950);
- ``satisficing``: the share of worlds in which the outcome meets ``threshold``
  (y >= threshold for max, <= for min; Starr's domain criterion, 1963);
- ``regret`` of p in world w: r_pw = max_q y_qw - y_pw (min: y_pw - min_q y_qw), the
  shortfall from the best policy in that world (Savage 1951), taken world by world -
  paired; ``mean_regret``, ``max_regret`` (minimax regret) and ``pXX_regret`` (the
  ``percentile``-th percentile of regret, the good end excluded).

Standard errors: ``mean_se`` and ``mean_regret_se`` are sd / sqrt(W) over worlds;
``satisficing_se`` is sqrt(s (1 - s) / W); the percentile, worst and maximum-regret
measures have a bootstrap standard error (``n_boot`` resamples of the worlds, the same
worlds for every policy, so that regret stays paired), which for the extremes
(``worst``, ``max_regret``) is only a rough guide: an extreme is poorly estimated from
a sample, and grows with the number of worlds. ``rank_*`` columns rank the policies
by each measure (1 = most robust); :func:`rank_disagreement` says where the measures
disagree.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
import xarray as xr

from .io import design_frame, design_paths
from .paired import is_crn, outcome_names, replicate_outcome

MEASURES = ("mean", "pXX", "worst", "satisficing", "mean_regret", "pXX_regret", "max_regret")


def is_robust(ds: xr.Dataset) -> bool:
    """Whether the file is a robust design (``design: {method: robust}``): points are
    policies x worlds."""
    return str(ds.attrs.get("design_method", "")) == "robust"


def _role(ds: xr.Dataset, role: str) -> list:
    return [p for p in design_paths(ds) if p in ds.coords
            and str(ds[p].attrs.get("robust_role", "")) == role]


def levers(ds: xr.Dataset) -> list:
    """A robust design's levers (the paths a decision maker controls), in scenario order."""
    return _role(ds, "lever")


def uncertainties(ds: xr.Dataset) -> list:
    """A robust design's world inputs (each drawn slot of ``uncertain:``; a
    ``nations.*.X`` entry gives one per nation, ``nations.CODE.X``)."""
    return _role(ds, "uncertain")


def _need_robust(ds):
    if not is_robust(ds):
        raise ValueError("this file is not a robust design (design: {method: robust, "
                         "policies: .., worlds: ..} with levers: and uncertain:)")


def _named_outcome(ds: xr.Dataset, outcome):
    """A name of the file's ``outcomes`` (with its direction and threshold), or None."""
    names = outcome_names(ds)
    if not isinstance(outcome, str) or outcome not in names:
        return None
    k = names.index(outcome)
    thr = float(np.asarray(ds["outcome_threshold"].values)[k])
    return (k, str(np.asarray(ds["outcome_direction"].values)[k]),
            thr if np.isfinite(thr) else None)


def experiments_outcomes(ds: xr.Dataset) -> tuple:
    """A robust design as the EMA Workbench returns its experiments: ``(experiments,
    outcomes)``. ``experiments`` has one row per point with ``policy`` and ``world``
    (their numbers), the levers and the world inputs; ``outcomes`` maps each of the
    file's outcome names to its mean over the replicates per point (an array in
    ``experiments``' row order)."""
    _need_robust(ds)
    X = design_frame(ds)
    X.insert(0, "world", np.asarray(ds["world_index"].values, dtype=int))
    X.insert(0, "policy", np.asarray(ds["policy_index"].values, dtype=int))
    out = {}
    for name in outcome_names(ds):
        y = replicate_outcome(ds, name)
        with np.errstate(all="ignore"):
            out[name] = np.nanmean(np.where(np.isfinite(y), y, np.nan), axis=1)
    return X, out


def _robust_worlds(ds: xr.Dataset, outcome) -> pd.DataFrame:
    """policy_worlds of a robust design: the mean over each world's replicates."""
    y = replicate_outcome(ds, outcome)
    pol = np.asarray(ds["policy_index"].values, dtype=int)
    wld = np.asarray(ds["world_index"].values, dtype=int)
    P, W = int(ds.attrs["robust_policies"]), int(ds.attrs["robust_worlds"])
    ok = np.isfinite(y)
    n = ok.sum(axis=1)
    with np.errstate(all="ignore"):
        mean = np.where(n > 0, np.where(ok, y, 0).sum(axis=1) / n, np.nan)
    Y = np.full((P, W), np.nan)
    Y[pol, wld] = mean
    keep = np.isfinite(Y).all(axis=0)
    if not keep.any():
        raise ValueError("no world has a value for every policy")
    lv = levers(ds)
    first = np.flatnonzero(wld == 0)                    # each policy's point in world 0
    first = first[np.argsort(pol[first])]
    frame = design_frame(ds).iloc[first][lv].reset_index(drop=True)
    idx = pd.MultiIndex.from_frame(frame) if len(lv) > 1 else pd.Index(frame[lv[0]], name=lv[0])
    out = pd.DataFrame(Y[:, keep], index=idx,
                       columns=pd.Index(np.flatnonzero(keep), name="world"))
    named = _named_outcome(ds, outcome)
    if named is not None:
        out.attrs.update(outcome=outcome, direction=named[1], threshold=named[2])
    return out


def policy_worlds(ds: xr.Dataset, outcome) -> pd.DataFrame:
    """The outcome of every policy in every world: a DataFrame with one row per policy
    and one column per world.

    A robust design (``design: {method: robust}``): a policy is a setting of the
    levers (rows labelled by them), a world one draw of the uncertain inputs, and the
    value the mean over that world's replicates; ``outcome`` is one of the file's
    ``outcomes:`` by name (its direction and threshold then go in ``attrs``, where
    :func:`robustness` finds them) or anything :func:`compare` takes.

    Any other design on common random numbers: a policy is a design point (labelled
    by its design inputs when the file has a design) and a world one replicate.
    Failed replicates are dropped from every policy (a world counts only where every
    policy has a value). Raises ValueError without common random numbers: the points
    would not meet the same worlds."""
    if is_robust(ds):
        return _robust_worlds(ds, outcome)
    if not is_crn(ds):
        raise ValueError("policies meet the same worlds only on common random numbers: "
                         "run with seed: {common: true} (or run --crn)")
    y = replicate_outcome(ds, outcome)
    ok = np.isfinite(y).all(axis=0)
    if not ok.any():
        raise ValueError("no replicate has a value at every point")
    idx = pd.Index(np.asarray(ds["point"].values), name="point")
    if design_paths(ds):
        idx = pd.MultiIndex.from_frame(design_frame(ds).reset_index())
    reps = np.asarray(ds["replicate"].values)[ok]
    return pd.DataFrame(y[:, ok], index=idx, columns=pd.Index(reps, name="world"))


def _measures(Y: np.ndarray, sign: float, threshold, q: float) -> np.ndarray:
    """The measures of MEASURES for each policy (rows) of Y (policies x worlds), with
    every outcome multiplied by sign so that larger is better."""
    Z = sign * Y
    regret = Z.max(axis=0, keepdims=True) - Z
    cols = [Z.mean(1), np.percentile(Z, 100 - q, axis=1), Z.min(1),
            (Z >= sign * threshold).mean(1) if threshold is not None else np.full(len(Z), np.nan),
            regret.mean(1), np.percentile(regret, q, axis=1), regret.max(1)]
    out = np.column_stack(cols)
    for c in (0, 1, 2):                       # back to the outcome's own sign
        out[:, c] *= sign
    return out


def _names(percentile: float) -> list:
    """MEASURES with XX the percentile: mean, p90, worst, ..."""
    return [m.replace("pXX", f"p{percentile:g}") for m in MEASURES]


def _per_world(A: np.ndarray, sign: float, threshold) -> dict:
    """The per-world values behind the measures whose standard error is analytic, by
    column of MEASURES: the outcome (mean), regret (mean_regret) and, with a
    threshold, whether it is met (satisficing)."""
    Z = sign * A
    out = {0: A, 4: Z.max(axis=0, keepdims=True) - Z}
    if threshold is not None:
        out[3] = (Z >= sign * threshold).astype(float)
    return out


def _bootstrap(A: np.ndarray, sign: float, threshold, q: float, n_boot: int,
               seed: int) -> np.ndarray:
    """The measures on n_boot resamples of the worlds (n_boot x policies x measures),
    the same resampled worlds for every policy, so that regret stays paired."""
    rng = np.random.default_rng(seed)
    W = A.shape[1]
    boot = np.empty((n_boot, A.shape[0], len(MEASURES)))
    for b in range(n_boot):
        boot[b] = _measures(A[:, rng.integers(0, W, W)], sign, threshold, q)
    return boot


def _file_defaults(Y, direction, threshold):
    """direction and threshold, defaulting to what Y.attrs carries (a named outcome of
    a robust design), else max and none."""
    attrs = getattr(Y, "attrs", {}) or {}
    if direction is None:
        direction = attrs.get("direction", "max")
    if threshold is None:
        threshold = attrs.get("threshold")
    return direction, threshold


def robustness(Y: pd.DataFrame, direction: Optional[str] = None,
               threshold: Optional[float] = None,
               percentile: float = 90, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Robustness of each policy (row of ``Y``) across the worlds (columns), with
    standard errors and ranks; see the module's doc for the measures and their
    sources. ``direction``: "max" when larger outcomes are better, "min" when smaller
    are; ``threshold`` for ``satisficing`` (NaN without one); ``percentile`` (50-100)
    picks the percentile measures (90: the 10 % worst worlds' edge). Columns:
    ``mean``, ``pXX``, ``worst``, ``satisficing``, ``mean_regret``, ``pXX_regret``,
    ``max_regret`` (XX the percentile), each with ``_se``, then ``rank_`` of each (1 =
    most robust; ties share the smaller rank), and ``worlds``. ``direction`` and
    ``threshold`` left out come from ``Y.attrs`` (a named outcome of a robust design:
    its ``outcomes:`` entry), else "max" and none."""
    direction, threshold = _file_defaults(Y, direction, threshold)
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', not {direction!r}")
    if not 50 <= percentile < 100:
        raise ValueError(f"percentile must be in [50, 100), not {percentile}")
    if threshold is not None and (isinstance(threshold, (bool, np.bool_)) or not isinstance(
            threshold, (int, float, np.integer, np.floating)) or not np.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number or None, not {threshold}")
    A = np.asarray(Y, dtype=float)
    if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 2:
        raise ValueError("Y needs at least 2 policies (rows) and 2 worlds (columns)")
    if not np.isfinite(A).all():
        raise ValueError("Y has missing values: keep the worlds where every policy has one")
    sign = 1.0 if direction == "max" else -1.0
    P, W = A.shape
    est = _measures(A, sign, threshold, percentile)
    boot = _bootstrap(A, sign, threshold, percentile, n_boot, seed)
    se = boot.std(axis=0, ddof=1) if n_boot > 1 else np.full(est.shape, np.nan)
    for j, X in _per_world(A, sign, threshold).items():
        se[:, j] = X.std(axis=1, ddof=1) / np.sqrt(W)
    if threshold is not None:                  # a share: sqrt(s (1 - s) / W)
        s = est[:, 3]
        se[:, 3] = np.sqrt(s * (1 - s) / W)
    names = _names(percentile)
    out = pd.DataFrame(index=Y.index)
    for j, m in enumerate(names):
        out[m] = est[:, j]
        out[f"{m}_se"] = se[:, j]
    better = {names[0]: sign, names[1]: sign, names[2]: sign, names[3]: 1.0,
              names[4]: -1.0, names[5]: -1.0, names[6]: -1.0}
    for m, s in better.items():
        out[f"rank_{m}"] = (-s * out[m]).rank(method="min").astype("Int64") \
            if out[m].notna().all() else pd.array([pd.NA] * P, dtype="Int64")
    out["worlds"] = W
    return out


def _row(Y: pd.DataFrame, label) -> int:
    """The row of Y labelled ``label``, or row number ``label`` (0 .. rows - 1)."""
    rows = list(Y.index)
    if label in rows:
        return rows.index(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        if 0 <= label < len(rows):
            return int(label)
        raise ValueError(f"row {label} is not in 0..{len(rows) - 1}")
    raise ValueError(f"{label!r} is not a policy of this table (rows: {rows[:6]}"
                     f"{' ...' if len(rows) > 6 else ''})")


def robustness_compare(Y: pd.DataFrame, a, b, direction: Optional[str] = None,
                       threshold: Optional[float] = None, percentile: float = 90,
                       n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Policy ``b`` minus policy ``a`` (labels of ``Y``'s rows, or row numbers) under
    each measure of :func:`robustness`, with paired standard errors: for the mean,
    mean regret and satisficing sd(d_w) / sqrt(W) of the world-by-world differences
    d_w (``se_unpaired`` beside them, as if the worlds were independent draws for each
    policy: for mean regret, whose difference is world by world minus the outcome's,
    that of the means); for the others a bootstrap that resamples the same worlds for
    both.
    Columns ``estimate``, ``se``, ``se_unpaired`` (NaN for the bootstrap ones)."""
    direction, threshold = _file_defaults(Y, direction, threshold)
    ia, ib = _row(Y, a), _row(Y, b)
    t = robustness(Y, direction, threshold, percentile, n_boot=0)   # checks the arguments
    names = _names(percentile)
    A = np.asarray(Y, dtype=float)
    sign = 1.0 if direction == "max" else -1.0
    W = A.shape[1]
    boot = _bootstrap(A, sign, threshold, percentile, n_boot, seed)
    vals = t[names].astype(float).to_numpy()         # NaN where a measure has no value
    est = vals[ib] - vals[ia]
    d = boot[:, ib] - boot[:, ia]
    se = d.std(axis=0, ddof=1) if n_boot > 1 else np.full(len(names), np.nan)
    unp = np.full(len(names), np.nan)
    for j, X in _per_world(A, sign, threshold).items():
        se[j] = (X[ib] - X[ia]).std(ddof=1) / np.sqrt(W)
        unp[j] = np.sqrt(X[ia].var(ddof=1) / W + X[ib].var(ddof=1) / W)
    # World by world the regret difference is minus the outcome difference, so the
    # mean regret's difference is the means' (sign flipped); as if each policy had
    # met worlds of its own, its standard error is the unpaired one of the means.
    unp[4] = unp[0]
    return pd.DataFrame({"estimate": est, "se": se, "se_unpaired": unp}, index=names)


def rank_disagreement(table: pd.DataFrame) -> pd.DataFrame:
    """How far the measures' rankings of :func:`robustness` agree: Kendall's tau
    between every pair of rank columns (1: the same order; -1: reversed; NaN where a
    measure ranks every policy alike), and, in ``attrs["best"]``, the policies ranked
    first under each measure (a list: ties are all listed)."""
    from scipy.stats import kendalltau

    ranks = [c for c in table if c.startswith("rank_") and table[c].notna().all()]
    tau = pd.DataFrame(index=[c[5:] for c in ranks], columns=[c[5:] for c in ranks],
                       dtype=float)
    for a in ranks:
        for b in ranks:
            tau.loc[a[5:], b[5:]] = kendalltau(table[a].astype(float), table[b].astype(float))[0]
    # the most robust under each measure: every policy ranked 1 (ties listed)
    tau.attrs["best"] = {c[5:]: [table.index[i] for i in np.flatnonzero(table[c] == 1)]
                         for c in ranks}
    return tau


def robustness_plot(table: pd.DataFrame, title: str = "Ranks of the policies by each "
                    "robustness measure"):
    """Each policy's rank (1 = most robust) under each measure, a line per policy:
    crossing lines are where the measures disagree."""
    import matplotlib.pyplot as plt

    from .plots import CYCLE, styled

    @styled
    def draw():
        ranks = [c for c in table if c.startswith("rank_") and table[c].notna().all()]
        fig, ax = plt.subplots(figsize=(1.2 * len(ranks) + 3.5, 0.35 * len(table) + 2.2))
        x = np.arange(len(ranks))
        for i, (label, row) in enumerate(table.iterrows()):
            lab = ", ".join(str(v) for v in (label if isinstance(label, tuple) else (label,)))
            ax.plot(x, [row[c] for c in ranks], marker="o", color=CYCLE[i % len(CYCLE)], label=lab)
        ax.set_xticks(x, [c[5:].replace("_", " ") for c in ranks], rotation=30, ha="right")
        ax.set_ylabel("rank (1 = most robust)")
        ax.set_xlabel("robustness measure")
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, title="policy")
        ax.set_title(title)
        fig.tight_layout()
        return fig
    return draw()


def vulnerability(ds: xr.Dataset, policy, outcome, threshold: Optional[float] = None,
                  direction: Optional[str] = None, **prim_kw):
    """Where a policy fails (issue 27.5): PRIM (:func:`allied5g.prim`) over the worlds'
    inputs, the cases of interest being the worlds in which ``policy`` (a row label
    of :func:`policy_worlds`, or its row number) misses ``threshold`` (its mean over
    the world's replicates below it for a "max" outcome, above it for "min";
    ``threshold`` and ``direction`` left out: the outcome's own, from ``outcomes:``;
    an expression that is not one of them needs both). Returns the
    :class:`PrimResult`, with ``attrs``-like fields ``failing`` (the share of worlds
    failing) and ``X`` (the world inputs, one row per world) set on it."""
    from .prim import prim

    _need_robust(ds)
    Y = policy_worlds(ds, outcome)
    if direction is None and "direction" not in Y.attrs:
        raise ValueError(f"{outcome!r} is not one of the file's outcomes: give direction= "
                         "('max' or 'min') and threshold=")
    direction, threshold = _file_defaults(Y, direction, threshold)
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', not {direction!r}")
    if threshold is None:
        raise ValueError(f"{outcome!r} has no threshold: give threshold=")
    rows = list(Y.index)
    i = _row(Y, policy)
    y = Y.iloc[i].to_numpy()
    fail = y < threshold if direction == "max" else y > threshold
    unc = uncertainties(ds)
    wld = np.asarray(ds["world_index"].values, dtype=int)
    pts = np.flatnonzero(np.asarray(ds["policy_index"].values, dtype=int) == 0)
    pts = pts[np.argsort(wld[pts])]
    X = design_frame(ds).iloc[pts][unc].reset_index(drop=True).loc[list(Y.columns)]
    if not fail.any():
        raise ValueError(f"policy {rows[i]!r} fails in none of the {len(y)} worlds")
    res = prim(X, fail.astype(int), **prim_kw)
    res.failing = float(fail.mean())
    res.X = X
    return res
