"""Paired comparisons of two design points on common random numbers.

    ds = allied5g.run("scenarios/strategies_2019.yaml", set={"seed.common": True})  # run --crn
    allied5g.compare(ds, 0, 1, "n_ban()")          # point 1 minus point 0, paired se

Under common random numbers (``seed: {common: true}`` or ``run --crn``; the root
attribute ``common_random_numbers`` is 1) every design point's replicate r draws
the same random stream, so the difference of an outcome between two points can be
taken replicate by replicate: its standard error is that of the paired
differences, usually far smaller than the unpaired one. Without CRN the points'
replicates are independent, and :func:`compare` warns and uses the unpaired
standard error.
"""
from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from .explore import _CALL, _at, _nation, _need, _step
from .io import ResultsWarning, design_frame, design_paths, time_dim
from .uncertainty import paired_share_interval


def _need_var(ds, name, what):
    if name not in ds:
        raise ValueError(f"{what} needs '{name}' (per replicate), which this file lacks"
                         + ("; run with output.store=full" if name in ("policy", "us_pressure")
                            else ""))


def _policy_at(ds, args, lo, hi, usage, name):
    _need(args, lo, hi, name, usage)
    s = _step(ds, args[-1] if len(args) == hi else None)
    if "policy" not in ds and "final_policy" in ds and s == ds.sizes[time_dim(ds)] - 1:
        pol = np.asarray(ds["final_policy"].values).astype(float)  # the last step: kept in summary
    else:
        _need_var(ds, "policy", name)
        pol = np.asarray(_at(ds["policy"], s).values).astype(float)   # point x rep x nation
    pol[pol < 0] = np.nan                                           # failed replicates
    return pol


def _ban(ds, args):
    pol = _policy_at(ds, args, 1, 2, "(NATION[, DATE])", "ban")
    return (pol[:, :, _nation(ds, args[0])] == 2).astype(float) + 0 * pol[:, :, 0]


def _not_open(ds, args):
    pol = _policy_at(ds, args, 1, 2, "(NATION[, DATE])", "not_open")
    return (pol[:, :, _nation(ds, args[0])] > 0).astype(float) + 0 * pol[:, :, 0]


def _count(ds, args, name, test):
    pol = _policy_at(ds, args, 0, 1, "([DATE])", name)
    return test(pol).sum(-1) + 0 * pol[:, :, 0]


def _banned_by(ds, args):
    _need(args, 1, 2, "banned_by", "(NATION[, DATE])")
    s = _step(ds, args[1] if len(args) > 1 else None)
    fb = np.asarray(ds["first_ban_step"].isel(nation=_nation(ds, args[0])).values, dtype=float)
    out = ((fb >= 0) & (fb <= s)).astype(float)
    out[fb == -2] = np.nan                                          # failed replicates
    return out


def _per_nation(ds, var, args, name, usage, dated):
    _need(args, 1, 2 if dated else 1, name, usage)
    _need_var(ds, var, name)
    da = ds[var]
    if dated:
        da = _at(da, _step(ds, args[1] if len(args) > 1 else None))
    x = np.asarray(da.values, dtype=float)                          # point x rep x nation
    return x.sum(-1) if args[0] == "all" else x[:, :, _nation(ds, args[0])]


def _us_spent(ds, args):
    _need(args, 1, 1, "us_spent", "(NATION or all)")
    _need_var(ds, "us_pressure", "us_spent")
    x = np.asarray(ds["us_pressure"].values, dtype=float).sum(axis=2)   # point x rep x nation
    return x.sum(-1) if args[0] == "all" else x[:, :, _nation(ds, args[0])]


#: Per-replicate outcomes :func:`compare` knows, by name.
PAIRED_OUTCOMES = {
    "ban": (_ban, "1 where NATION's policy is ban at DATE (store full, or the last step)"),
    "not_open": (_not_open, "1 where NATION's policy is not open at DATE (store full, or "
                 "the last step)"),
    "banned_by": (_banned_by, "1 where NATION has banned at or before DATE (first_ban_step)"),
    "n_ban": (lambda ds, a: _count(ds, a, "n_ban", lambda p: p == 2),
              "number of nations banning at DATE (store full)"),
    "n_moved": (lambda ds, a: _count(ds, a, "n_moved", lambda p: p > 0),
                "number of nations not open at DATE (store full, or the last step)"),
    "us_pressure": (lambda ds, a: _per_nation(ds, "us_pressure", a, "us_pressure",
                                              "(NATION or all[, DATE])", True),
                    "US pressure on NATION (all: summed over nations) at DATE (store full)"),
    "us_spent": (lambda ds, a: _us_spent(ds, a),
                 "US pressure on NATION (all: summed over nations) summed over the steps "
                 "(store full, or output.record us_pressure)"),
    "cum_cost": (lambda ds, a: _per_nation(ds, "cum_cost", a, "cum_cost", "(NATION or all)", False),
                 "cumulative cost of NATION (all: summed over nations)"),
    "cum_retaliation": (lambda ds, a: _per_nation(ds, "cum_retaliation", a, "cum_retaliation",
                                                  "(NATION or all)", False),
                        "retaliation NATION bore over the run (all: summed; output.record "
                        "cum_retaliation)"),
    "cum_downgrade": (lambda ds, a: _per_nation(ds, "cum_downgrade", a, "cum_downgrade",
                                                "(NATION or all)", False),
                      "intelligence NATION lost to downgrades over the run (all: summed; "
                      "output.record cum_downgrade)"),
}


def outcome_names(ds: xr.Dataset) -> list:
    """The names of the file's ``outcomes:`` (none for a file without them)."""
    return [str(v) for v in np.asarray(ds["outcome"].values)] if "outcome" in ds.coords else []


def replicate_outcome(ds: xr.Dataset, outcome) -> np.ndarray:
    """An outcome per point and replicate (array point x replicate; NaN for failed
    replicates): the name of one of the file's ``outcomes:`` (computed by the run, in
    any store), a name from :data:`PAIRED_OUTCOMES` such as ``"ban(GBR, 2025Q4)"``
    or ``"n_ban()"`` (DATE left out: the last step), or a DataArray over
    ``(point, replicate)``."""
    if isinstance(outcome, str) and outcome in outcome_names(ds):
        return np.asarray(ds["outcomes"].sel(outcome=outcome)
                          .transpose("point", "replicate").values, dtype=float)
    if isinstance(outcome, xr.DataArray):
        if set(outcome.dims) != {"point", "replicate"}:
            raise ValueError(f"outcome must vary over (point, replicate), not {outcome.dims}")
        return np.asarray(outcome.transpose("point", "replicate").values, dtype=float)
    m = _CALL.match(str(outcome))
    if not m or m.group(1) not in PAIRED_OUTCOMES:
        names = ", ".join(f"{k}(...)" for k in PAIRED_OUTCOMES)
        own = outcome_names(ds)
        raise ValueError(f"unknown outcome {outcome!r}; expected "
                         + (f"one of the file's outcomes ({', '.join(own)}) or " if own else "")
                         + f"one of {names}")
    args = [a.strip() for a in m.group(2).split(",") if a.strip()]
    return PAIRED_OUTCOMES[m.group(1)][0](ds, args)


def is_crn(ds: xr.Dataset) -> bool:
    """Whether the file was run on common random numbers (root attribute
    ``common_random_numbers``; files of 0.3.0 and before lack it: not CRN)."""
    return int(np.asarray(ds.attrs.get("common_random_numbers", 0)).item()) == 1


def _point(ds: xr.Dataset, a) -> int:
    points = [int(p) for p in np.asarray(ds["point"].values)]
    if isinstance(a, Mapping):
        frame = design_frame(ds)
        unknown = [k for k in a if k not in design_paths(ds)]
        if unknown:
            raise ValueError(f"{unknown} not varied in this file; it varies {design_paths(ds)}")
        hit = np.ones(len(frame), dtype=bool)
        for k, v in a.items():
            col = frame[k]
            if isinstance(col.dtype, pd.CategoricalDtype):     # a strategy: by name
                cats = list(col.cat.categories)
                if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
                        v, (bool, np.bool_)) and float(v).is_integer() and 0 <= v < len(cats):
                    v = cats[int(v)]                # or by its code, as files of 0.3.0
                if str(v) not in cats:
                    raise ValueError(f"{k} is one of {cats}, not {v!r}")
                hit &= (col.astype(str) == str(v)).to_numpy()
            else:
                hit &= np.isclose(col.to_numpy(dtype=float), float(v))
        if hit.sum() != 1:
            raise ValueError(f"{dict(a)} matches {int(hit.sum())} design points, not one")
        return points.index(int(frame.index[np.flatnonzero(hit)[0]]))
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
        raise ValueError(f"a design point is a point number or a mapping of paths, got {a!r}")
    if int(a) not in points:
        raise ValueError(f"point {a} is not in this file (points {points[0]}..{points[-1]})")
    return points.index(int(a))


def compare(ds: xr.Dataset, a, b, outcome, level: float = 0.95) -> pd.Series:
    """The difference of ``outcome`` between design points ``b`` and ``a`` (b minus
    a), replicate by replicate on common random numbers.

    ``a`` and ``b`` are point numbers or mappings ``{path: value}`` that pick one
    point each (a strategy by its name, or its code); ``outcome`` is as in :func:`replicate_outcome`. Returns a Series:
    ``estimate`` (mean of b minus mean of a over the replicates valid at both),
    ``se`` (the paired standard error sd(y_b - y_a) / sqrt(n) on CRN, else the
    unpaired one), ``se_paired`` (NaN without CRN), ``se_unpaired``
    (sqrt(var_a / n + var_b / n)), ``lo``/``hi`` (the interval at ``level``),
    ``mean_a``, ``mean_b``, ``n``, ``paired``, ``level``, ``interval``: how lo/hi
    were made: ``"newcombe"`` for a paired outcome of 0/1 values (a share, such as
    ``ban(DEU)``: :func:`allied5g.uncertainty.paired_share_interval`, which keeps a
    width when no pair disagrees and se is 0), else ``"normal"`` (from ``se``).

    In a robust design two points of the same world are paired (their replicates
    share streams), two of different worlds are not. Without common random numbers
    the two points' replicates are independent, so
    pairing them would understate nothing but mean nothing either: a
    :class:`ResultsWarning` says so and ``se`` is the unpaired one.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    y = replicate_outcome(ds, outcome)
    ia, ib = _point(ds, a), _point(ds, b)
    ya, yb = y[ia], y[ib]
    ok = np.isfinite(ya) & np.isfinite(yb)
    n = int(ok.sum())
    if n < 2:
        raise ValueError(f"{n} replicate(s) valid at both points: too few for a standard error")
    ya, yb = ya[ok], yb[ok]
    # a robust design pairs the points of one world (stream (seed, world, r))
    same_world = str(ds.attrs.get("design_method", "")) == "robust" and "world_index" in ds.coords \
        and int(ds["world_index"].values[ia]) == int(ds["world_index"].values[ib])
    paired = is_crn(ds) or same_world
    d = yb - ya
    se_u = float(np.sqrt(ya.var(ddof=1) / n + yb.var(ddof=1) / n))
    se_p = float(d.std(ddof=1) / np.sqrt(n)) if paired else float("nan")
    if not paired:
        warnings.warn("this file was not run on common random numbers (seed.common / run "
                      "--crn), nor are the points in one world of a robust design: their "
                      "replicates are independent, so the standard error is the unpaired one",
                      ResultsWarning, stacklevel=2)
    se = se_p if paired else se_u
    z = float(norm.ppf(0.5 + level / 2))
    est = float(d.mean())
    lo, hi, how = est - z * se, est + z * se, "normal"
    if paired and np.isin(ya, (0, 1)).all() and np.isin(yb, (0, 1)).all():
        lo, hi = paired_share_interval(ya, yb, level)  # a share: keeps a width at se 0
        how = "newcombe"
    return pd.Series({"estimate": est, "se": se, "se_paired": se_p, "se_unpaired": se_u,
                      "lo": lo, "hi": hi, "mean_a": float(ya.mean()),
                      "mean_b": float(yb.mean()), "n": n, "paired": paired, "level": level,
                      "interval": how}, name=str(outcome))
