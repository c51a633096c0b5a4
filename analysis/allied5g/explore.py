"""Exploratory modelling, EMA Workbench style: experiments and outcomes as (X, y),
feature scoring with extra trees, and Morris screening.

    X = allied5g.experiments(ds)                          # point x path
    y = allied5g.outcomes(ds, "banned_by(DEU, 2022Q4)")   # Series over point
    allied5g.feature_scores(X, y)
    allied5g.morris_indices(ds, y)                        # design: {method: morris}

PRIM and CART live in :mod:`allied5g.prim`; Sobol indices in :mod:`allied5g.sensitivity`.
"""
from __future__ import annotations

import re
import warnings
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from .io import design_frame, design_paths, numeric_frame, time_dim
from .plots import CYCLE, MIN_FONT
from .uncertainty import mean_interval, replicates_done, share_interval

# experiments and outcomes


def experiments(ds: xr.Dataset) -> pd.DataFrame:
    """The design as a table: one row per design point, one column per varied path
    (in scenario order), indexed by ``point``. Raises ValueError when nothing was
    varied (no ``design`` or ``sweep`` in the scenario)."""
    if not design_paths(ds):
        raise ValueError("this results file has no design: nothing was varied")
    return design_frame(ds)


_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$")


def _at(da: xr.DataArray, s: int) -> xr.DataArray:
    """da at step index s, whichever the time axis is called."""
    return da.isel({time_dim(da): s})


def _step(ds: xr.Dataset, when: Optional[str]) -> int:
    """Step index of a date label like 2022Q4 (or a plain step number); None: the
    last step."""
    n = ds.sizes[time_dim(ds)]
    if when is None or when == "":
        return n - 1
    w = str(when).strip()
    if re.fullmatch(r"-?\d+", w):
        s = int(w)
        s = s + n if s < 0 else s
    else:
        if "date" not in ds:
            raise ValueError("this results file has no date labels; give a step number")
        labels = [str(x).upper() for x in ds["date"].values]
        if w.upper() not in labels:
            raise ValueError(f"date {w!r} is not in this run ({labels[0]} .. {labels[-1]})")
        s = labels.index(w.upper())
    if not 0 <= s < n:
        raise ValueError(f"step {w} is outside 0..{n - 1}")
    return s


def _nation(ds: xr.Dataset, code: str) -> int:
    codes = [str(x) for x in ds["nation"].values]
    if code not in codes:
        raise ValueError(f"unknown nation {code!r}; this run has {', '.join(codes)}")
    return codes.index(code)


def _need(args: list, lo: int, hi: int, name: str, usage: str) -> None:
    if not lo <= len(args) <= hi:
        raise ValueError(f"{name} takes {usage}")


class _Est:
    """An outcome per point and how to get its Monte Carlo uncertainty: ``share`` (a
    share of ``n`` replicates: binomial), ``reps`` (a mean of per-replicate values,
    point x replicate), ``sorted`` (a quantile of per-replicate values), or nothing
    (no standard error from what the file holds)."""

    def __init__(self, value, share_n=None, reps=None, quantile=None, unit=False):
        self.value = np.asarray(value, dtype=float)
        self.share_n, self.reps, self.quantile = share_n, reps, quantile
        self.unit = unit  # per-replicate values in [0, 1]: so is the interval

    def interval(self, level: float, method: str):
        nan = np.full_like(self.value, np.nan)
        if self.share_n is not None:
            return share_interval(self.value, self.share_n, level, method)
        if self.reps is not None:
            se, lo, hi = mean_interval(self.reps, axis=1, level=level)[1:]
            return (se, np.clip(lo, 0, 1), np.clip(hi, 0, 1)) if self.unit else (se, lo, hi)
        if self.quantile is not None:
            return (nan,) + _quantile_interval(self.quantile[0], self.quantile[1], level)
        return nan, nan, nan


def _quantile_interval(values: np.ndarray, q: float, level: float):
    """Distribution-free interval for the q-quantile of each row of ``values``: the
    order statistics whose ranks bound a Binomial(R, q) count at ``level``."""
    from scipy.stats import binom

    a = (1 - level) / 2
    lo, hi = [], []
    for row in values:
        s = np.sort(row[np.isfinite(row)])
        r = s.size
        if r == 0:
            lo.append(np.nan), hi.append(np.nan)
            continue
        lo.append(s[int(np.clip(binom.ppf(a, r, q) - 1, 0, r - 1))])
        hi.append(s[int(np.clip(binom.ppf(1 - a, r, q), 0, r - 1))])
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _shares(ds, args, name: str, options) -> _Est:
    _need(args, 1, 2, name, "(NATION[, DATE])")
    i, s = _nation(ds, args[0]), _step(ds, args[1] if len(args) > 1 else None)
    share = _at(ds["policy_share"].isel(nation=i), s).sel(option=list(options)).sum("option")
    return _Est(np.asarray(share.values, dtype=float), share_n=replicates_done(ds))


def _p_ban(ds, args):
    return _shares(ds, args, "p_ban", ["ban"])


def _p_restrict(ds, args):
    return _shares(ds, args, "p_restrict", ["restrict", "ban"])


def _first_ban(ds, i):
    fb = np.asarray(ds["first_ban_step"].isel(nation=i).values, dtype=float)  # point x rep
    return fb


def _by(first: np.ndarray, s: int) -> _Est:
    """Share of finished replicates whose first step (-1: never; below -1: a fill
    value, not finished) is at or before s."""
    done = first >= -1
    hit = ((first >= 0) & (first <= s)).sum(axis=1)
    n = done.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _Est(np.where(n > 0, hit / np.maximum(n, 1), np.nan), share_n=n)


def _banned_by(ds, args):
    _need(args, 1, 2, "banned_by", "(NATION[, DATE])")
    i, s = _nation(ds, args[0]), _step(ds, args[1] if len(args) > 1 else None)
    return _by(_first_ban(ds, i), s)


def _first_restrict(ds, i) -> np.ndarray:
    """First step each replicate is at least restricting (point x replicate; -1: never,
    -2: not finished): from ``first_restrict_step`` when the file has it, else from the
    per-replicate ``policy`` of ``store: full``."""
    if "first_restrict_step" in ds.variables:
        return np.asarray(ds["first_restrict_step"].isel(nation=i).values, dtype=float)
    if "policy" not in ds.variables:
        raise ValueError("restricted_by needs each replicate's policy history, which a "
                         "'store: summary' file does not hold: run with --store full "
                         "(p_restrict, at one date, works on any file)")
    pol = np.asarray(ds["policy"].isel(nation=i).values)               # point x rep x step
    hit = pol >= 1
    first = np.where(hit.any(-1), hit.argmax(-1), -1).astype(float)
    return np.where((pol < 0).all(-1), -2.0, first)


def _restricted_by(ds, args):
    _need(args, 1, 2, "restricted_by", "(NATION[, DATE])")
    i, s = _nation(ds, args[0]), _step(ds, args[1] if len(args) > 1 else None)
    return _by(_first_restrict(ds, i), s)


def _first_ban_quantile(ds, args):
    _need(args, 2, 2, "first_ban_quantile", "(NATION, Q), Q in [0, 1]")
    i, q = _nation(ds, args[0]), float(args[1])
    if not 0 <= q <= 1:
        raise ValueError("first_ban_quantile: Q must be in [0, 1]")
    fb = _first_ban(ds, i)
    # Never banned (-1): censored at the horizon; not finished (below -1): left out, as
    # the shares leave them out.
    fb = np.where(fb == -1, ds.sizes[time_dim(ds)], np.where(fb < -1, np.nan, fb))
    with warnings.catch_warnings():  # a point with no finished replicate: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        value = np.nanquantile(fb, q, axis=1, method="inverted_cdf")
    return _Est(value, quantile=(fb, q))


def _cohesion(ds, args):
    _need(args, 1, 2, "cohesion", "(BLOC[, DATE])")
    if "bloc_member" not in ds:
        raise ValueError("this results file has no blocs")
    blocs = [str(b) for b in ds["bloc"].values]
    if args[0] not in blocs:
        raise ValueError(f"unknown bloc {args[0]!r}; this run has {', '.join(blocs)}")
    s = _step(ds, args[1] if len(args) > 1 else None)
    member = np.asarray(ds["bloc_member"].values).astype(bool)[:, blocs.index(args[0])]
    idx = np.flatnonzero(member)
    m = idx.size
    if m < 2:
        raise ValueError(f"bloc {args[0]!r} has fewer than two members")
    if "policy" in ds:
        pol = np.asarray(_at(ds["policy"], s).values)[:, :, idx]      # point x rep x m
        counts = np.stack([(pol == k).sum(-1) for k in range(3)], -1).astype(float)
        per_rep = (counts * (counts - 1)).sum(-1) / (m * (m - 1))
        per_rep = np.where((pol < 0).any(-1), np.nan, per_rep)        # unfinished replicates
        value = np.nanmean(per_rep, axis=1)
        if m == 2:  # the two agree or not: a share of the finished replicates (Wilson)
            return _Est(value, share_n=np.isfinite(per_rep).sum(1))
        return _Est(value, reps=per_rep, unit=True)
    sh = np.asarray(_at(ds["policy_share"], s).values, dtype=float)[:, idx, :]  # point x m x 3
    tot = sh.sum(1)
    return _Est(((tot ** 2).sum(-1) - (sh ** 2).sum((1, 2))) / (m * (m - 1)))


def _high_risk_share(ds, args):
    _need(args, 1, 2, "high_risk_share", "(NATION or all[, DATE])")
    s = _step(ds, args[1] if len(args) > 1 else None)
    h = _at(ds["high_risk_share_mean"], s)
    per_rep = _at(ds["high_risk_share"], s) if "high_risk_share" in ds else None
    if args[0] == "all":
        value = h.mean("nation")
        per_rep = per_rep.mean("nation") if per_rep is not None else None
    else:
        i = _nation(ds, args[0])
        value = h.isel(nation=i)
        per_rep = per_rep.isel(nation=i) if per_rep is not None else None
    reps = None if per_rep is None else np.asarray(per_rep.values, dtype=float)
    return _Est(np.asarray(value.values, dtype=float), reps=reps)


#: Outcomes :func:`outcomes` knows, by name: (function, meaning).
OUTCOMES = {
    "p_ban": (_p_ban, "P(NATION's policy is ban at DATE), from policy_share"),
    "p_restrict": (_p_restrict, "P(NATION's policy is restrict or ban at DATE: at least "
                                "restricted), from policy_share"),
    "banned_by": (_banned_by, "P(NATION has banned at or before DATE), from first_ban_step"),
    "restricted_by": (_restricted_by,
                      "P(NATION has restricted or banned at or before DATE), from "
                      "first_restrict_step (files of 0.3.0 and earlier: the policy histories "
                      "of store: full; a summary file without it is refused)"),
    "first_ban_quantile": (_first_ban_quantile,
                           "Q-quantile over replicates of NATION's first ban step; "
                           "never banned counts as the number of steps (censored)"),
    "cohesion": (_cohesion, "P(two members of BLOC picked at random hold the same policy at DATE)"),
    "high_risk_share": (_high_risk_share,
                        "mean high-risk vendor share of NATION (or 'all': mean over nations) at DATE"),
}


def _one(ds: xr.Dataset, spec: str) -> _Est:
    m = _CALL.match(spec)
    if not m or m.group(1) not in OUTCOMES:
        names = ", ".join(f"{k}(...)" for k in OUTCOMES)
        raise ValueError(f"unknown outcome {spec!r}; expected one of {names}")
    args = [a.strip() for a in m.group(2).split(",") if a.strip()]
    return OUTCOMES[m.group(1)][0](ds, args)


def outcomes(ds: xr.Dataset, spec, se: bool = False, level: float = 0.9,
             interval: str = "wilson"):
    """Common outcomes per design point, by name, so any analysis takes ``(X, y)``.

    ``spec`` is one outcome string, a list of them, or a dict ``{column: string}``:

    - ``p_ban(NATION, DATE)``: share of replicates where NATION's policy is ban at DATE;
    - ``p_restrict(NATION, DATE)``: share where it is at least restricted (restrict or
      ban) at DATE;
    - ``banned_by(NATION, DATE)``: share of replicates where NATION has banned at or
      before DATE (from ``first_ban_step``, so a later lift still counts);
    - ``restricted_by(NATION, DATE)``: share where NATION has restricted or banned at or
      before DATE (a later lift still counts), from ``first_restrict_step`` (files of
      0.3.0 and earlier lack it and need the histories of ``store: full``);
    - ``first_ban_quantile(NATION, Q)``: the Q-quantile of NATION's first ban step over
      the finished replicates; never banned counts as ``steps`` (beyond the horizon);
    - ``cohesion(BLOC, DATE)``: probability that two members picked at random hold the
      same policy (per-replicate policies when stored, else from policy shares
      assuming nations independent), as :func:`allied5g.cohesion`;
    - ``high_risk_share(NATION, DATE)``: mean high-risk vendor share (``all``: mean
      over nations).

    DATE is a label such as ``2022Q4`` (the state at the end of that quarter) or a
    step number (negative counts from the end); left out, the last step. Returns a
    Series (one string) or a DataFrame (list or dict), indexed by ``point``.

    ``se=True`` returns a DataFrame with, for each outcome NAME, the columns NAME,
    NAME_se (Monte Carlo standard error) and NAME_lo, NAME_hi (the ``level`` interval):
    shares of replicates (p_ban, p_restrict, banned_by, restricted_by) are binomial
    (``interval``: ``"wilson"`` or ``"normal"``, see :mod:`allied5g.uncertainty`);
    means of per-replicate values (cohesion and high_risk_share on ``store: full``
    files) get sd/sqrt(R) and a normal interval (cohesion's kept inside [0, 1]; the
    cohesion of a bloc of two is a share, agree or not, and binomial as the shares);
    first_ban_quantile gets a distribution-free order-statistic interval over the
    finished replicates and no se. Where the file holds no
    per-replicate values (cohesion, high_risk_share on summary files) the columns are NaN.
    """
    index = pd.Index(np.asarray(ds["point"].values), name="point")
    if isinstance(spec, str):
        items = [(spec, spec)]
    elif isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        items = [(s, s) for s in spec]
    cols = {}
    for name, s in items:
        est = _one(ds, s)
        cols[name] = est.value
        if se:
            cols[f"{name}_se"], cols[f"{name}_lo"], cols[f"{name}_hi"] = \
                est.interval(level, interval)
    if isinstance(spec, str) and not se:
        return pd.Series(cols[spec], index=index, name=spec)
    return pd.DataFrame(cols, index=index)


# feature scoring


def _as_y(y, n: int) -> np.ndarray:
    if isinstance(y, xr.DataArray):
        extra = [d for d in y.dims if d != "point"]
        if extra:
            raise ValueError(f"y must vary over 'point' only; reduce {extra} first")
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}; X has {n} rows")
    return y


def _is_class(y: np.ndarray) -> bool:
    return y.dtype.kind in "bOU" or (y.dtype.kind in "iu" and np.unique(y).size <= 10)


def _score_one(X: pd.DataFrame, y: np.ndarray, mode, n_estimators, max_features,
               min_samples_leaf, permutation, n_repeats, seed) -> pd.DataFrame:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    classify = _is_class(y) if mode is None else mode == "classification"
    if mode not in (None, "classification", "regression"):
        raise ValueError("mode must be 'classification', 'regression' or None (guess)")
    Model = ExtraTreesClassifier if classify else ExtraTreesRegressor
    if not classify:
        y = y.astype(float)
    kw = dict(n_estimators=n_estimators, max_features=max_features,
              min_samples_leaf=min_samples_leaf, random_state=seed, n_jobs=1)
    Xv = X.to_numpy(dtype=float)
    model = Model(**kw).fit(Xv, y)
    out = pd.DataFrame({"importance": model.feature_importances_}, index=X.columns)
    if permutation:
        # the check: how much does a held-out score drop when one input is shuffled?
        strat = y if classify and np.unique(y).size > 1 and np.bincount(
            np.unique(y, return_inverse=True)[1]).min() >= 2 else None
        Xa, Xb, ya, yb = train_test_split(Xv, y, test_size=0.25, random_state=seed, stratify=strat)
        held = Model(**kw).fit(Xa, ya)
        pi = permutation_importance(held, Xb, yb, n_repeats=n_repeats, random_state=seed, n_jobs=1)
        out["permutation"] = pi.importances_mean
        out["permutation_std"] = pi.importances_std
    out.index.name = "path"
    return out


def feature_scores(X: pd.DataFrame, y, mode: Optional[str] = None, n_estimators: int = 250,
                   max_features=0.6, min_samples_leaf: int = 2, permutation: bool = True,
                   n_repeats: int = 10, seed: int = 0) -> pd.DataFrame:
    """Which inputs drive an outcome? Extra-trees feature importance (as EMA Workbench's
    ``feature_scoring``), with a permutation check on held-out points.

    ``y`` one outcome (array, Series or DataArray over ``point``): returns a table
    ranked by ``importance`` (impurity-based, sums to 1) with columns
    ``permutation`` and ``permutation_std`` (drop in held-out R^2 or accuracy when the
    input is shuffled, a quarter of the points held out; near 0 for an input the model
    does not read) unless ``permutation=False``. Classification (extra-trees
    classifier) when ``y`` is boolean, text or integer with at most 10 values, else
    regression; ``mode`` forces one.

    ``y`` a DataFrame of several outcomes: returns the importances only, one column per
    outcome, rows ranked by their mean; see :func:`feature_scores_heatmap`.
    """
    X = numeric_frame(X)         # a categorical input (a strategy) as its codes
    if isinstance(y, pd.DataFrame):
        cols = {}
        for c in y.columns:
            yy = _as_y(y[c], len(X))
            cols[c] = _score_one(X, yy, mode, n_estimators, max_features, min_samples_leaf,
                                 False, n_repeats, seed)["importance"]
        table = pd.DataFrame(cols)
        return table.loc[table.mean(axis=1).sort_values(ascending=False).index]
    yy = _as_y(y, len(X))
    table = _score_one(X, yy, mode, n_estimators, max_features, min_samples_leaf,
                       permutation, n_repeats, seed)
    return table.sort_values("importance", ascending=False)


def feature_scores_heatmap(scores: pd.DataFrame, ax=None, cmap: str = "viridis"):
    """Heat map of a :func:`feature_scores` table over several outcomes (rows: inputs,
    columns: outcomes), each cell annotated. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * scores.shape[1], 0.8 + 0.4 * scores.shape[0]))
    else:
        fig = ax.figure
    v = scores.to_numpy(dtype=float)
    im = ax.imshow(v, cmap=cmap, aspect="auto", vmin=0, vmax=max(float(np.nanmax(v)), 1e-12))
    ax.set_xticks(range(scores.shape[1]), [str(c) for c in scores.columns], rotation=30, ha="right")
    ax.set_yticks(range(scores.shape[0]), [str(r) for r in scores.index])
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            ax.text(j, i, f"{v[i, j]:.2f}", ha="center", va="center",
                    color="white" if v[i, j] < 0.6 * np.nanmax(v) else "black", fontsize=MIN_FONT)
    fig.colorbar(im, ax=ax, label="extra-trees importance")
    ax.set_xlabel("outcome")
    ax.set_ylabel("input")
    ax.set_title("feature scores")
    fig.tight_layout()
    return fig


# Morris screening


def morris_design(ranges: Mapping[str, Sequence[float]], trajectories: int, levels: int = 4,
                  seed: int = 0) -> pd.DataFrame:
    """A Morris (1991) one-at-a-time design in SALib's order: ``trajectories`` blocks of
    k + 1 points, each step changing one input by delta = levels / (2 (levels - 1)) of
    its range, up or down. ``ranges``: ``{path: (lo, hi)}``. Returns a DataFrame (one
    column per path) to save as CSV for ``design: {method: file}`` and analyse with
    :func:`morris_indices` (``levels=`` the same)."""
    if levels < 2 or levels % 2:
        raise ValueError("levels must be an even number >= 2")
    paths = list(ranges)
    k = len(paths)
    lo = np.array([float(ranges[p][0]) for p in paths])
    hi = np.array([float(ranges[p][1]) for p in paths])
    delta = levels / (2.0 * (levels - 1))
    rng = np.random.default_rng(seed)
    B = np.tril(np.ones((k + 1, k)), -1)
    J = np.ones((k + 1, k))
    blocks = []
    for _ in range(trajectories):
        base = rng.integers(0, levels // 2, size=k) / (levels - 1)      # x* in {0..1-delta}
        D = np.diag(rng.choice([-1.0, 1.0], size=k))
        P = np.eye(k)[rng.permutation(k)]
        Bs = (base[None, :] + (delta / 2) * ((2 * B - J) @ D + J)) @ P
        blocks.append(Bs)
    u = np.vstack(blocks)
    return pd.DataFrame(lo + u * (hi - lo), columns=paths)


def _morris_ee(X: np.ndarray, y: np.ndarray, r: int, scale: np.ndarray) -> np.ndarray:
    """Elementary effects (r x k) from consecutive points of each trajectory; ``scale``
    turns an input change into the unit-cube step (change / scale)."""
    n, k = X.shape
    ee = np.full((r, k), np.nan)
    for t in range(r):
        rows = slice(t * (k + 1), (t + 1) * (k + 1))
        Xt, yt = X[rows], y[rows]
        dx = np.diff(Xt, axis=0)
        dy = np.diff(yt)
        tol = 1e-9 * np.maximum(np.abs(Xt).max(axis=0), 1.0)
        moved = np.abs(dx) > tol
        if not (moved.sum(axis=1) == 1).all() or not (moved.sum(axis=0) == 1).all():
            raise ValueError(f"trajectory {t} (points {t * (k + 1)}..{(t + 1) * (k + 1) - 1}) "
                             "does not change exactly one input per step")
        j = moved.argmax(axis=1)
        step = dx[np.arange(k), j] / scale[j]      # signed step in unit-cube terms
        ee[t, j] = dy / step
    return ee


def morris_indices(ds_or_X, y, levels: Optional[int] = None, bounds=None,
                   num_resamples: int = 1000, conf_level: float = 0.95,
                   seed: int = 0) -> pd.DataFrame:
    """Morris screening: mu, mu* (mean absolute elementary effect, Campolongo et al.
    2007) and sigma per input, with bootstrap confidence half-widths.

    ``ds_or_X``: a results file from ``design: {method: morris}`` (root attributes
    ``design_method = "morris"``, ``morris_trajectories``, ``morris_levels``), or a
    DataFrame of points in SALib's order (r trajectories of k + 1 points, one input
    changing per step, e.g. from :func:`morris_design`). ``y``: one value per point.

    An elementary effect is (y[i+1] - y[i]) / step, the step measured in unit-cube
    terms with its sign (a step down flips the sign, as SALib does): step =
    +-delta = levels / (2 (levels - 1)) when ``levels`` is known (from the file or the
    argument), else change / (hi - lo) from ``bounds`` ({path: (lo, hi)}), else from
    the observed range of each input. So effects are per unit of normalised input,
    comparable across inputs.

    Confidence: ``*_conf`` are half-widths of ``conf_level`` intervals, normal
    approximation over ``num_resamples`` bootstrap resamples of the trajectories
    (SALib's ``mu_star_conf``; ``mu_conf`` and ``sigma_conf`` likewise). Returns a
    DataFrame indexed by path: mu, mu_conf, mu_star, mu_star_conf, sigma, sigma_conf.
    """
    r = None
    if isinstance(ds_or_X, xr.Dataset):
        ds = ds_or_X
        if ds.attrs.get("design_method") != "morris" and levels is None and bounds is None:
            raise ValueError("morris_indices needs a results file from design: {method: morris} "
                             "(or levels=/bounds= for a morris design given as a file)")
        X = experiments(ds)
        if levels is None and "morris_levels" in ds.attrs:
            levels = int(ds.attrs["morris_levels"])
        if "morris_trajectories" in ds.attrs:
            r = int(ds.attrs["morris_trajectories"])
    else:
        X = ds_or_X if isinstance(ds_or_X, pd.DataFrame) else pd.DataFrame(np.asarray(ds_or_X))
    X = numeric_frame(X)
    Xv = X.to_numpy(dtype=float)
    n, k = Xv.shape
    if n % (k + 1):
        raise ValueError(f"{n} points are not whole trajectories of k + 1 = {k + 1} points")
    r = n // (k + 1) if r is None else r
    if r * (k + 1) != n:
        raise ValueError(f"morris_trajectories = {r} needs {r * (k + 1)} points; the design has {n}")
    yv = _as_y(y, n).astype(float)
    if bounds is not None:
        scale = np.array([float(bounds[c][1]) - float(bounds[c][0]) for c in X.columns])
    elif levels is not None:
        if levels < 2:
            raise ValueError("levels must be >= 2")
        # a step of +-delta in the unit cube moves input j by delta * (hi - lo); find
        # hi - lo from any observed change, so the effect is dy / (+-delta).
        delta = levels / (2.0 * (levels - 1))
        within = np.diff(Xv.reshape(r, k + 1, k), axis=1)
        scale = np.abs(within).max(axis=(0, 1)) / delta
    else:
        scale = Xv.max(axis=0) - Xv.min(axis=0)
    if (scale <= 0).any():
        raise ValueError("an input never changes in this design")
    ee = _morris_ee(Xv, yv, r, scale)
    rng = np.random.default_rng(seed)
    boot = ee[rng.integers(0, r, size=(num_resamples, r))]       # R x r x k
    z = norm.ppf(0.5 + conf_level / 2)
    ddof = 1 if r > 1 else 0
    out = pd.DataFrame({
        "mu": ee.mean(0), "mu_conf": z * boot.mean(1).std(0, ddof=1),
        "mu_star": np.abs(ee).mean(0), "mu_star_conf": z * np.abs(boot).mean(1).std(0, ddof=1),
        "sigma": ee.std(0, ddof=ddof), "sigma_conf": z * boot.std(1, ddof=ddof).std(0, ddof=1),
    }, index=pd.Index(list(X.columns), name="path"))
    return out


def morris_plot(mi: pd.DataFrame, ax=None):
    """mu* against sigma, each input labelled, with mu* confidence bars (Morris's
    chart: far right = important, high = non-linear or interacting)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4))
    else:
        fig = ax.figure
    ax.errorbar(mi["mu_star"], mi["sigma"], xerr=mi["mu_star_conf"], fmt="o", capsize=3,
                color=CYCLE[0])
    for name, row in mi.iterrows():
        ax.annotate(str(name), (row["mu_star"], row["sigma"]), fontsize=MIN_FONT,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(left=0)          # the origin in view: mu* and sigma are never negative
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=MIN_FONT)
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma")
    ax.set_title("Morris screening")
    fig.tight_layout()
    return fig
