"""Monte Carlo uncertainty of the shares the package reports.

A share of replicates (P(ban) at a date, P(banned by a date), ...) estimated from R
independent replicates is a binomial proportion: its Monte Carlo standard error is
``sqrt(p (1 - p) / R)``. Intervals are, by ``method``:

- ``"wilson"`` (the default): the Wilson score interval, which stays inside [0, 1] and
  keeps a width when p is 0 or 1 (a share of 0 out of 1,000 replicates is not a
  certainty: the 90 % interval is 0 to 0.0027);
- ``"normal"``: ``p +- z se`` clipped to [0, 1] (Wald; too narrow near 0 and 1).

For a mean over replicates (cohesion per replicate, high-risk share per replicate)
the standard error is the sample standard deviation over ``sqrt(R)`` and the interval
is normal. R counts the replicates that finished (fill values of failed or not yet run
replicates are left out, as the file's own shares leave them out).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm

#: Interval methods :func:`share_interval` knows.
METHODS = ("wilson", "normal")


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(norm.ppf(0.5 + level / 2))


def share_interval(p, n, level: float = 0.9, method: str = "wilson"):
    """Standard error and ``level`` interval of shares ``p`` of ``n`` replicates.

    ``p`` and ``n`` broadcast against each other (arrays or scalars). Returns
    ``(se, lo, hi)`` as float arrays; NaN where ``n`` is 0 or ``p`` is NaN."""
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; expected one of {METHODS}")
    z = _z(level)
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.nan)
        se = np.sqrt(p * (1 - p) / n)
        if method == "normal":
            lo, hi = np.clip(p - z * se, 0, 1), np.clip(p + z * se, 0, 1)
        else:
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        # the interval holds p (at p = 0 or 1 rounding could leave it a hair outside)
        lo, hi = np.fmin(lo, p), np.fmax(hi, p)
    return se, lo, hi


def paired_share_interval(ya, yb, level: float = 0.9):
    """The ``level`` interval of the difference of two paired shares, mean(yb) -
    mean(ya), from 0/1 values per replicate (``ya[r]`` and ``yb[r]`` on one stream):
    Newcombe's square-and-add interval (Newcombe 1998, method 10), which joins the
    two shares' Wilson intervals with their correlation and keeps a width where no
    pair disagrees (a normal interval from the paired se then has none, and covers
    about half the time for a rare outcome). The correlation is the phi of the 2 x 2
    table with the continuity step of Fagerland, Lydersen and Laake (2017): 0 for a
    cross-product difference in [0, n/2], less n/2 above. Returns ``(lo, hi)``."""
    ya, yb = np.asarray(ya, dtype=float), np.asarray(yb, dtype=float)
    n = ya.size
    both, only_b = float(np.sum((yb == 1) & (ya == 1))), float(np.sum((yb == 1) & (ya == 0)))
    only_a, none = float(np.sum((yb == 0) & (ya == 1))), float(np.sum((yb == 0) & (ya == 0)))
    pb, pa = (both + only_b) / n, (both + only_a) / n
    _, lb, ub = share_interval(pb, n, level)
    _, la, ua = share_interval(pa, n, level)
    margins = (both + only_b) * (only_a + none) * (both + only_a) * (only_b + none)
    cross = both * none - only_b * only_a
    step = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
    phi = step / np.sqrt(margins) if margins > 0 else 0.0
    est = pb - pa
    down = np.sqrt((pb - lb) ** 2 + (ua - pa) ** 2 - 2 * phi * (pb - lb) * (ua - pa))
    up = np.sqrt((pa - la) ** 2 + (ub - pb) ** 2 - 2 * phi * (pa - la) * (ub - pb))
    return float(est - down), float(est + up)


def mean_interval(values, axis: int = -1, level: float = 0.9):
    """Mean over ``axis`` of per-replicate ``values`` (NaN left out), its standard
    error (sample standard deviation / sqrt(R)) and the normal ``level`` interval.
    Returns ``(mean, se, lo, hi)``."""
    z = _z(level)
    v = np.asarray(values, dtype=float)
    n = np.sum(np.isfinite(v), axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nanmean(v, axis=axis)
        sd = np.nanstd(v, axis=axis, ddof=1)
        se = np.where(n > 1, sd / np.sqrt(n), np.nan)
    return mean, se, mean - z * se, mean + z * se


def replicates_done(ds) -> np.ndarray:
    """Replicates that finished, per design point (an int array over ``point``): the
    number of replicates whose ``final_policy`` is not a fill value, else the
    ``replicate`` dimension's length."""
    if "final_policy" in ds.variables:
        fp = np.asarray(ds["final_policy"].isel(nation=0).values)   # point x replicate
        return (fp >= 0).sum(axis=-1).astype(np.int64)
    return np.full(ds.sizes["point"], ds.sizes["replicate"], dtype=np.int64)


def add_share_errors(frame, ds, level: float = 0.9, method: str = "wilson"):
    """Beside every ``share_*`` column of an aggregates table (one row per point, step
    and nation, as :func:`allied5g.to_dataframe` makes it), its Monte Carlo standard
    error and ``level`` interval: ``share_ban_se``, ``share_ban_lo``, ``share_ban_hi``."""
    done = dict(zip(np.asarray(ds["point"].values).tolist(), replicates_done(ds).tolist()))
    n = frame["point"].map(done).to_numpy(dtype=float)
    for col in [c for c in frame.columns if str(c).startswith("share_")]:
        se, lo, hi = share_interval(frame[col].to_numpy(dtype=float), n, level, method)
        at = frame.columns.get_loc(col) + 1
        frame.insert(at, f"{col}_hi", hi)
        frame.insert(at, f"{col}_lo", lo)
        frame.insert(at, f"{col}_se", se)
    return frame
