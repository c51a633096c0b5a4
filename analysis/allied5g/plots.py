"""Figures from a results file. Each function returns the matplotlib Figure."""
from __future__ import annotations

from typing import Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from .io import POLICIES, time_dim

COLORS = {"open": "#4c9f70", "restrict": "#e0a030", "ban": "#c0392b"}


def _nations(ds: xr.Dataset, nations: Optional[Sequence[str]], limit: int = 12) -> list[str]:
    all_codes = [str(x) for x in ds.nation.values]
    if nations is None:
        return all_codes[:limit]
    missing = [n for n in nations if n not in all_codes]
    if missing:
        raise KeyError(f"unknown nation(s) {missing}; the file has {all_codes}")
    return list(nations)


def _x(ds: xr.Dataset):
    """The x values of time plots: dates; cftime dates (beyond datetime64's years, which
    matplotlib cannot plot) as decimal years."""
    if "time" not in ds.coords:
        return ds["step"].values
    t = ds["time"].values
    if t.dtype == object:
        return np.array([d.year + (d.month - 1) / 12 + (d.day - 1) / 365.25 for d in t])
    return t


def _grid(n: int, width: float = 3.0, height: float = 2.2):
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), sharex=True,
                             sharey=True, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def policy_probabilities(ds: xr.Dataset, nations: Optional[Sequence[str]] = None,
                         point: int = 0) -> plt.Figure:
    """Small multiples: stacked areas of P(open), P(restrict), P(ban) over time."""
    codes = _nations(ds, nations)
    fig, axes = _grid(len(codes))
    x = _x(ds)
    for ax, code in zip(axes, codes):
        share = ds.policy_share.isel(point=point).sel(nation=code).values  # step x option
        ax.stackplot(x, share.T, colors=[COLORS[p] for p in POLICIES], labels=POLICIES)
        ax.set_title(code, fontsize=10)
        ax.set_ylim(0, 1)
        ax.margins(x=0)
        ax.tick_params(labelsize=8)
    axes[0].legend(loc="lower left", fontsize=7, frameon=True)
    fig.suptitle("Policy probabilities over time")
    fig.supylabel("share of replicates")
    fig.supxlabel("end of quarter" if "time" in ds.coords else "step")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def fan_chart(ds: xr.Dataset, nations: Optional[Sequence[str]] = None, point: int = 0) -> plt.Figure:
    """High-risk vendor share: median, 5-95 % band and mean, per nation."""
    codes = _nations(ds, nations)
    fig, axes = _grid(len(codes))
    x = _x(ds)
    for ax, code in zip(axes, codes):
        q = ds.high_risk_share_quantiles.isel(point=point).sel(nation=code).values
        ax.fill_between(x, q[:, 0], q[:, 2], color="#8e44ad", alpha=0.25, label="5-95 %")
        ax.plot(x, q[:, 1], color="#8e44ad", label="median")
        ax.plot(x, ds.high_risk_share_mean.isel(point=point).sel(nation=code).values,
                color="k", lw=0.8, ls="--", label="mean")
        ax.set_title(code, fontsize=10)
        ax.set_ylim(0, 1)
        ax.margins(x=0)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle("High-risk vendor share of the radio network")
    fig.supylabel("high-risk share (0-1)")
    fig.supxlabel("end of quarter" if "time" in ds.coords else "step")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def ban_timeline(ds: xr.Dataset, point: int = 0) -> plt.Figure:
    """Who bans first: per nation, the share of replicates that ever ban and the
    quartiles of the first ban date among them, sorted by median date."""
    fb = ds.first_ban_step.isel(point=point).values  # replicate x nation
    codes = [str(x) for x in ds.nation.values]
    labels = [str(x) for x in ds["date"].values] if "date" in ds else None
    rows = []
    for i, code in enumerate(codes):
        f = fb[:, i]
        banned = f[f >= 0]
        if banned.size:
            q1, med, q3 = np.percentile(banned, [25, 50, 75])
        else:
            q1 = med = q3 = np.nan
        rows.append((code, banned.size / f.size, q1, med, q3))
    df = pd.DataFrame(rows, columns=["nation", "ever", "q1", "median", "q3"])
    df = df.sort_values(["median", "ever"], ascending=[True, False], na_position="last")
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(df) + 1.2))
    y = np.arange(len(df))
    ax.hlines(y, df.q1, df.q3, color="#c0392b", lw=4, alpha=0.6)
    ax.scatter(df["median"], y, color="#c0392b", zorder=3, s=14)
    nsteps = ds.sizes[time_dim(ds)]
    for yi, (_, r) in zip(y, df.iterrows()):
        ax.text(nsteps - 0.5, yi, f"{100 * r.ever:.0f}%", va="center", ha="right", fontsize=7)
    ax.set_yticks(y, df.nation, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, nsteps - 0.5)
    if labels:
        ticks = np.arange(0, len(labels), 4)
        ax.set_xticks(ticks, [labels[t] for t in ticks], fontsize=7)
    ax.set_xlabel("first ban (median and quartiles among replicates that ban); right: share ever banning")
    ax.set_ylabel("nation")
    ax.set_title("Who bans first")
    fig.tight_layout()
    return fig


def cohesion(ds: xr.Dataset, point: int = 0) -> pd.DataFrame:
    """Alliance cohesion over time: for each bloc, the probability that two members
    picked at random hold the same policy (from per-replicate policies when stored,
    else from policy shares assuming nations independent). Returns a DataFrame
    (index: step, columns: blocs); see :func:`cohesion_plot` for the figure."""
    if "bloc_member" not in ds:
        raise ValueError("this results file has no blocs")
    member = ds.bloc_member.values.astype(bool)  # nation x bloc
    blocs = [str(b) for b in ds.bloc.values]
    out = {}
    pol = ds.policy.isel(point=point).values if "policy" in ds else None
    share = ds.policy_share.isel(point=point).values  # step x nation x option
    for b, name in enumerate(blocs):
        idx = np.flatnonzero(member[:, b])
        if idx.size < 2:
            continue
        if pol is not None:
            p = pol[:, :, idx]  # rep x step x m
            counts = np.stack([(p == k).sum(-1) for k in range(3)], -1).astype(float)
            m = idx.size
            same = (counts * (counts - 1)).sum(-1) / (m * (m - 1))
            out[name] = same.mean(0)
        else:
            s = share[:, idx, :]  # step x m x 3
            tot = s.sum(1)
            same = ((tot ** 2).sum(-1) - (s ** 2).sum((1, 2))) / (idx.size * (idx.size - 1))
            out[name] = same
    if "time" in ds.coords:
        return pd.DataFrame(out, index=pd.Index(ds["time"].values, name="time"))
    return pd.DataFrame(out, index=pd.Index(ds["step"].values, name="step"))


def cohesion_plot(ds: xr.Dataset, point: int = 0) -> plt.Figure:
    """Line plot of :func:`cohesion` for every bloc with two or more members."""
    c = cohesion(ds, point)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = _x(ds)
    for name in c.columns:
        ax.plot(x, c[name].values, label=name)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(two members agree)")
    ax.set_xlabel("end of quarter" if "time" in ds.coords else "step")
    ax.set_title("Alliance cohesion")
    ax.legend(fontsize=7, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def sweep_response(ds: xr.Dataset, path: str, nations: Optional[Sequence[str]] = None,
                   option: str = "ban", step: int = -1, level: float = 0.9) -> plt.Figure:
    """Share of replicates in ``option`` at ``step`` (default: the last) against the
    swept value of ``path``; one line per value of the other design paths, one panel
    per nation. The band around each line is the ``level`` (90 %) interval of that
    share across replicates (Wilson score interval for R replicates): the Monte Carlo
    uncertainty of the estimate."""
    from scipy.stats import norm

    if path not in ds.coords and path not in ds:
        raise KeyError(f"{path} is not a design path of this file")
    codes = _nations(ds, nations, limit=8)
    others = [p for p in str(ds.attrs.get("design_paths", "")).split() if p != path]
    y = ds.policy_share.sel(option=option).isel({time_dim(ds): step})
    n = ds.sizes["replicate"]
    z = float(norm.ppf(0.5 + level / 2))
    frame = pd.DataFrame({path: np.asarray(ds[path].values)})
    for p in others:
        frame[p] = np.asarray(ds[p].values)
    fig, axes = _grid(len(codes))
    for ax, code in zip(axes, codes):
        frame["y"] = y.sel(nation=code).values.astype(float)
        groups = (frame.groupby(others if len(others) > 1 else others[0]) if others
                  else [((), frame)])
        for key, g in groups:
            g = g.sort_values(path)
            label = ", ".join(f"{p}={v:g}" for p, v in zip(others, np.atleast_1d(key))) or None
            line, = ax.plot(g[path], g["y"], marker="o", ms=3, label=label)
            ph = g["y"].to_numpy()
            centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
            half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            ax.fill_between(g[path], centre - half, centre + half, color=line.get_color(),
                            alpha=0.2, lw=0)
        ax.set_title(code, fontsize=10)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=8)
    if others:
        axes[0].legend(fontsize=6)
    when = str(ds["date"].values[step]) if "date" in ds.coords else f"step {step}"
    fig.suptitle(f"P({option}) in {when} against {path} "
                 f"(bands: {100 * level:.0f} % interval, {n} replicates)", fontsize=10)
    fig.supxlabel(path)
    fig.supylabel(f"P({option}): share of replicates")
    fig.tight_layout()
    return fig


def sensitivity_bars(si: pd.DataFrame, title: str = "Sobol indices") -> plt.Figure:
    """Bar chart of S1 and ST with their confidence half-widths (from sobol_indices)."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(si) + 1.2))
    y = np.arange(len(si))
    ax.barh(y - 0.2, si["S1"], 0.4, xerr=si["S1_conf"], label="first order S1", color="#2e86c1")
    ax.barh(y + 0.2, si["ST"], 0.4, xerr=si["ST_conf"], label="total ST", color="#a9cce3")
    ax.set_yticks(y, si.index, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.5)
    ax.legend(fontsize=8)
    ax.set_xlabel("Sobol index (share of output variance)")
    ax.set_title(title)
    fig.tight_layout()
    return fig
