"""Figures from a results file. Each function returns the matplotlib Figure.

Every figure uses the Okabe-Ito colour-blind-safe palette (:data:`OKABE_ITO`; policies
in :data:`COLORS`), labels nations by name (``codes=True``: ISO codes), draws tick
labels at 9 pt or more, labels every axis, and draws the Monte Carlo uncertainty of
every share of replicates it plots (90 % Wilson intervals, see
:mod:`allied5g.uncertainty`). Save with ``fig.savefig("f.svg")`` or ``.pdf`` for papers.
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from .io import POLICIES, design_frame, design_paths, numeric_frame, time_dim
from .uncertainty import replicates_done, share_interval

#: Okabe and Ito (2008), "Color Universal Design": distinguishable with every common
#: colour-vision deficiency. Black, orange, sky blue, bluish green, yellow, blue,
#: vermillion, reddish purple.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")
#: Policy colours (Okabe-Ito): open bluish green, restrict orange, ban vermillion.
COLORS = {"open": "#009E73", "restrict": "#E69F00", "ban": "#D55E00"}
#: Lines and markers other than policies, in this order (Okabe-Ito without black/yellow).
CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Smallest font size any figure uses, in points.
MIN_FONT = 9
#: The level of every Monte Carlo band drawn.
LEVEL = 0.9

_STYLE = {"axes.prop_cycle": plt.cycler(color=list(CYCLE)), "font.size": 10,
          "xtick.labelsize": MIN_FONT, "ytick.labelsize": MIN_FONT, "legend.fontsize": MIN_FONT,
          "axes.titlesize": 11, "axes.labelsize": 10, "figure.titlesize": 12,
          "svg.fonttype": "none", "pdf.fonttype": 42}


def styled(fn):
    """Draw ``fn``'s figure with the package style (palette, font sizes)."""
    @functools.wraps(fn)
    def wrapper(*a, **k):
        with plt.rc_context(_STYLE):
            return fn(*a, **k)
    return wrapper


def label(ds: xr.Dataset, code: str, codes: bool = False) -> str:
    """The nation's name (``nation_name``), or its code when ``codes`` or unnamed."""
    if codes or "nation_name" not in ds.coords and "nation_name" not in ds:
        return code
    names = dict(zip([str(x) for x in ds.nation.values], [str(x) for x in ds["nation_name"].values]))
    return names.get(code) or code


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


def _xlabel(ds) -> str:
    return "end of quarter" if "time" in ds.coords else "step"


def _grid(n: int, width: float = 3.2, height: float = 2.4):
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(max(width * cols, 6.5), height * rows + 0.6),
                             sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _label_grid(fig, axes, n: int, xlabel: str, ylabel: str) -> None:
    """Axis labels on every panel's outer edge: y on the first column, x on the bottom
    row (panels share their axes)."""
    cols = min(4, n)
    for k, ax in enumerate(list(axes)[:n]):
        if k % cols == 0:
            ax.set_ylabel(ylabel)
        if k + cols >= n:
            ax.set_xlabel(xlabel)
            ax.tick_params(axis="x", labelbottom=True)


def _date_axis(ax) -> None:
    """Few, short date ticks (a year, then months) on a time axis."""
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _finish_grid(fig, axes, n: int, handles, labels, ncol: int, title: str,
                 dates: bool = True) -> None:
    """Title, a legend below the panels (outside the data) and the layout."""
    if dates:
        for ax in list(axes)[:n]:
            _date_axis(ax)
    fig.suptitle(title)
    h = fig.get_figheight()
    rows = int(np.ceil(len(labels) / ncol)) if labels else 0
    bottom = (0.12 + 0.3 * rows) / h
    fig.tight_layout(rect=(0, bottom, 1, 1))
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))


def _band(ax, x, p, n, **kw):
    """The LEVEL Wilson interval of shares p of n replicates, as a band."""
    _, lo, hi = share_interval(p, n, LEVEL)
    return ax.fill_between(x, lo, hi, lw=0, **kw)


@styled
def policy_probabilities(ds: xr.Dataset, nations: Optional[Sequence[str]] = None,
                         point: int = 0, codes: bool = False) -> plt.Figure:
    """Small multiples: stacked areas of P(open), P(restrict), P(ban) over time, with
    the 90 % Monte Carlo interval of each boundary (P(open) and P(open or restrict))
    as a grey band."""
    codes_ = _nations(ds, nations)
    fig, axes = _grid(len(codes_))
    x = _x(ds)
    n = replicates_done(ds)[point]
    for ax, code in zip(axes, codes_):
        share = ds.policy_share.isel(point=point).sel(nation=code).values.astype(float)
        ax.stackplot(x, share.T, colors=[COLORS[p] for p in POLICIES],
                     labels=[f"P({p})" for p in POLICIES])
        for k, cum in enumerate(np.cumsum(share, axis=1)[:, :2].T):
            _band(ax, x, cum, n, color="k", alpha=0.35,
                  label=f"{100 * LEVEL:.0f} % interval" if k == 0 else None)
        ax.set_title(label(ds, code, codes))
        ax.set_ylim(0, 1)
        ax.margins(x=0)
    _label_grid(fig, axes, len(codes_), _xlabel(ds), "share of replicates")
    _finish_grid(fig, axes, len(codes_), *axes[0].get_legend_handles_labels(), 4,
                 f"Policy probabilities over time ({n} replicates)", "time" in ds.coords)
    return fig


@styled
def fan_chart(ds: xr.Dataset, nations: Optional[Sequence[str]] = None, point: int = 0,
              codes: bool = False) -> plt.Figure:
    """High-risk vendor share: median, 5-95 % band across replicates and mean, per
    nation (the band shows the spread of outcomes, not Monte Carlo error)."""
    codes_ = _nations(ds, nations)
    fig, axes = _grid(len(codes_))
    x = _x(ds)
    for ax, code in zip(axes, codes_):
        q = ds.high_risk_share_quantiles.isel(point=point).sel(nation=code).values
        ax.fill_between(x, q[:, 0], q[:, 2], color=CYCLE[0], alpha=0.3, lw=0,
                        label="5-95 % of replicates")
        ax.plot(x, q[:, 1], color=CYCLE[0], label="median")
        ax.plot(x, ds.high_risk_share_mean.isel(point=point).sel(nation=code).values,
                color="k", lw=1, ls="--", label="mean")
        ax.set_title(label(ds, code, codes))
        ax.set_ylim(0, 1)
        ax.margins(x=0)
    _label_grid(fig, axes, len(codes_), _xlabel(ds), "high-risk share (0-1)")
    _finish_grid(fig, axes, len(codes_), *axes[0].get_legend_handles_labels(), 3,
                 "High-risk vendor share of the radio network", "time" in ds.coords)
    return fig


def first_bans(ds: xr.Dataset, point: int = 0) -> pd.DataFrame:
    """Per nation: the share of finished replicates that ever ban (``ever``, with its
    90 % Wilson interval ``ever_lo``, ``ever_hi``) and the quartiles of the first ban
    step among those that do (``q1``, ``median``, ``q3``), sorted by median step."""
    fb = np.asarray(ds.first_ban_step.isel(point=point).values)  # replicate x nation
    rows = []
    for i, code in enumerate(str(x) for x in ds.nation.values):
        f = fb[:, i]
        done = max(int((f >= -1).sum()), 1)
        banned = f[f >= 0]
        q1 = med = q3 = np.nan
        if banned.size:
            q1, med, q3 = np.percentile(banned, [25, 50, 75])
        rows.append((code, banned.size / done, done, q1, med, q3))
    df = pd.DataFrame(rows, columns=["nation", "ever", "n", "q1", "median", "q3"])
    _, df["ever_lo"], df["ever_hi"] = share_interval(df["ever"], df["n"], LEVEL)
    return df.sort_values(["median", "ever"], ascending=[True, False], na_position="last")


@styled
def ban_timeline(ds: xr.Dataset, point: int = 0, codes: bool = False) -> plt.Figure:
    """Who bans first: per nation, the quartiles of the first ban date among replicates
    that ban (left panel) and the share of replicates that ever ban with its 90 %
    interval (right panel), sorted by median date."""
    df = first_bans(ds, point)
    labels = [str(x) for x in ds["date"].values] if "date" in ds else None
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 0.3 * len(df) + 1.6), sharey=True,
                                  gridspec_kw={"width_ratios": [3, 1]})
    y = np.arange(len(df))
    ax.hlines(y, df.q1, df.q3, color=COLORS["ban"], lw=4, alpha=0.6, label="quartiles")
    ax.scatter(df["median"], y, color=COLORS["ban"], zorder=3, s=16, label="median")
    nsteps = ds.sizes[time_dim(ds)]
    ax.set_yticks(y, [label(ds, c, codes) for c in df.nation])
    ax.invert_yaxis()
    ax.set_xlim(-0.5, nsteps - 0.5)
    if labels:
        ticks = np.arange(0, len(labels), 4)
        ax.set_xticks(ticks, [labels[t] for t in ticks], rotation=45, ha="right")
    ax.set_xlabel("first ban among replicates that ban")
    ax.set_ylabel("nation")
    ax2.errorbar(df["ever"], y, xerr=[df["ever"] - df["ever_lo"], df["ever_hi"] - df["ever"]],
                 fmt="o", color=CYCLE[0], ms=4, capsize=2)
    ax2.set_xlim(0, 1)
    ax2.set_xlabel(f"share ever banning\n({100 * LEVEL:.0f} % interval)")
    ax2.tick_params(axis="y", labelleft=False)
    fig.suptitle("Who bans first")
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2, frameon=False)
    return fig


def cohesion(ds: xr.Dataset, point: int = 0, se: bool = False) -> pd.DataFrame:
    """Alliance cohesion over time: for each bloc, the probability that two members
    picked at random hold the same policy (from per-replicate policies when stored,
    else from policy shares assuming nations independent). Returns a DataFrame
    (index: step, columns: blocs); see :func:`cohesion_plot` for the figure.
    ``se=True`` adds a ``BLOC_se`` column per bloc (sd over replicates / sqrt(R);
    needs per-replicate policies, ``store: full``, else NaN)."""
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
        m = idx.size
        if pol is not None:
            p = pol[:, :, idx]  # rep x step x m
            counts = np.stack([(p == k).sum(-1) for k in range(3)], -1).astype(float)
            same = (counts * (counts - 1)).sum(-1) / (m * (m - 1))
            out[name] = same.mean(0)
            if se:
                out[f"{name}_se"] = same.std(0, ddof=1) / np.sqrt(same.shape[0])
        else:
            s = share[:, idx, :]  # step x m x 3
            tot = s.sum(1)
            out[name] = ((tot ** 2).sum(-1) - (s ** 2).sum((1, 2))) / (m * (m - 1))
            if se:
                out[f"{name}_se"] = np.full(s.shape[0], np.nan)
    if "time" in ds.coords:
        return pd.DataFrame(out, index=pd.Index(ds["time"].values, name="time"))
    return pd.DataFrame(out, index=pd.Index(ds["step"].values, name="step"))


@styled
def cohesion_plot(ds: xr.Dataset, point: int = 0) -> plt.Figure:
    """Line plot of :func:`cohesion` for every bloc with two or more members, with a
    90 % Monte Carlo band when per-replicate policies are stored (the title says when
    they are not)."""
    from scipy.stats import norm

    c = cohesion(ds, point, se=True)
    z = float(norm.ppf(0.5 + LEVEL / 2))
    fig, ax = plt.subplots(figsize=(7.5, 4))
    x = _x(ds)
    blocs = [b for b in c.columns if not b.endswith("_se")]
    for name in blocs:
        line, = ax.plot(x, c[name].values, label=name)
        se = c[f"{name}_se"].to_numpy()
        if np.isfinite(se).all():
            ax.fill_between(x, c[name] - z * se, c[name] + z * se, color=line.get_color(),
                            alpha=0.25, lw=0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(two members agree)")
    ax.set_xlabel(_xlabel(ds))
    banded = "policy" in ds
    ax.set_title("Alliance cohesion" + (f" ({100 * LEVEL:.0f} % bands)" if banded else
                                        " (no band: per-replicate policies not stored)"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, title="bloc")
    if "time" in ds.coords:
        _date_axis(ax)
    fig.tight_layout()
    return fig


def _smooth(x: np.ndarray, y: np.ndarray, grid: np.ndarray):
    """Nadaraya-Watson (Gaussian kernel, Silverman's bandwidth) estimate of E[y | x] on
    grid, and its standard error from the local residual variance."""
    sd = np.std(x)
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    h = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * len(x) ** -0.2 or 1.0
    w = np.exp(-0.5 * ((grid[:, None] - x[None, :]) / h) ** 2)
    sw = w.sum(1)
    m = (w * y).sum(1) / sw
    fit = np.interp(x, grid, m)
    var = (w * (y - fit) ** 2).sum(1) / sw
    se = np.sqrt(var * (w ** 2).sum(1)) / sw
    return m, se


def _stuck(y: np.ndarray) -> bool:
    return bool(np.nanmax(y) - np.nanmin(y) == 0)


@styled
def sweep_response(ds: xr.Dataset, path: str, nations: Optional[Sequence[str]] = None,
                   option: str = "ban", step: int = -1, level: float = 0.9,
                   codes: bool = False) -> plt.Figure:
    """Share of replicates in ``option`` at ``step`` (default: the last) against the
    value of design input ``path``, one panel per nation. Nations at the same share at
    every point (e.g. banning from the start) are left out and named in the title.

    A grid (``sweep:``): one line per value of the other swept paths, with the
    ``level`` Wilson interval of each share as a band. Any other design (lhs, sobol,
    saltelli, morris, a CSV ``file``): every point as a dot with its Wilson interval,
    and a kernel smoother of the response against ``path`` (the other inputs
    averaged over) with its ``level`` band."""
    from scipy.stats import norm

    if path not in design_paths(ds):
        raise KeyError(f"{path} is not a design path of this file; it varies "
                       f"{design_paths(ds)}")
    y = ds.policy_share.sel(option=option).isel({time_dim(ds): step})
    wanted = _nations(ds, nations, limit=10 ** 6)
    stuck = [c for c in wanted if _stuck(np.asarray(y.sel(nation=c).values, dtype=float))]
    codes_ = [c for c in wanted if c not in stuck][:8 if nations is None else None]
    if not codes_:
        raise ValueError(f"every nation asked for is at one P({option}) at every point: "
                         f"{', '.join(stuck)}")
    n = replicates_done(ds).astype(float)
    z = float(norm.ppf(0.5 + level / 2))
    grid_design = ds.attrs.get("design_method", "grid") == "grid"
    others = [p for p in design_paths(ds) if p != path]
    X = design_frame(ds)
    cats = list(X[path].cat.categories) if isinstance(X[path].dtype, pd.CategoricalDtype) else None
    frame = pd.DataFrame({path: numeric_frame(X[[path]])[path].to_numpy(), "n": n})
    for p in others:
        frame[p] = X[p].astype(object).to_numpy() if isinstance(
            X[p].dtype, pd.CategoricalDtype) else X[p].to_numpy()
    fig, axes = _grid(len(codes_))
    for ax, code in zip(axes, codes_):
        frame["y"] = y.sel(nation=code).values.astype(float)
        _, frame["lo"], frame["hi"] = share_interval(frame["y"], frame["n"], level)
        if grid_design:
            groups = (frame.groupby(others if len(others) > 1 else others[0]) if others
                      else [((), frame)])
            for key, g in groups:
                g = g.sort_values(path)
                lab = ", ".join(f"{p}={v}" if isinstance(v, str) else f"{p}={v:g}"
                                for p, v in zip(others, np.atleast_1d(key))) or None
                line, = ax.plot(g[path], g["y"], marker="o", ms=3, label=lab)
                ax.fill_between(g[path], g["lo"], g["hi"], color=line.get_color(), alpha=0.25,
                                lw=0)
        else:
            ax.errorbar(frame[path], frame["y"], yerr=[frame["y"] - frame["lo"],
                                                       frame["hi"] - frame["y"]],
                        fmt="o", ms=2.5, color=CYCLE[0], alpha=0.35, elinewidth=0.6,
                        label=f"design points ({100 * level:.0f} % intervals)")
            if cats is None:        # no smoother across a strategy's codes
                g = np.linspace(frame[path].min(), frame[path].max(), 100)
                m, se = _smooth(frame[path].to_numpy(), frame["y"].to_numpy(), g)
                ax.plot(g, m, color=CYCLE[1], lw=2, label="kernel smoother")
                ax.fill_between(g, np.clip(m - z * se, 0, 1), np.clip(m + z * se, 0, 1),
                                color=CYCLE[1], alpha=0.3, lw=0,
                                label=f"{100 * level:.0f} % band of the smoother")
        if cats is not None:
            ax.set_xticks(range(len(cats)), cats)
        ax.set_title(label(ds, code, codes))
        ax.set_ylim(0, 1)
    _label_grid(fig, axes, len(codes_), path, f"P({option})")
    handles, labs = axes[0].get_legend_handles_labels()
    when = str(ds["date"].values[step]) if "date" in ds.coords else f"step {step}"
    left = f"\nleft out (same at every point): {', '.join(stuck)}" if stuck else ""
    _finish_grid(fig, axes, len(codes_), handles, labs, min(3, max(len(labs), 1)),
                 f"P({option}) in {when} against {path}\n(bands: {100 * level:.0f} % intervals, "
                 f"{int(n.min())} replicates a point){left}", dates=False)
    return fig


@styled
def sensitivity_bars(si: pd.DataFrame, title: str = "Sobol indices") -> plt.Figure:
    """Bar chart of S1 and ST with their confidence half-widths (from sobol_indices)."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(si) + 1.4))
    y = np.arange(len(si))
    ax.barh(y - 0.2, si["S1"], 0.4, xerr=si["S1_conf"], label="first order S1", color=CYCLE[0])
    ax.barh(y + 0.2, si["ST"], 0.4, xerr=si["ST_conf"], label="total ST", color=CYCLE[5])
    ax.set_yticks(y, si.index)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    ax.set_xlabel("Sobol index (share of output variance)")
    ax.set_ylabel("input")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, stem, formats: Sequence[str] = ("png", "svg", "pdf"),
         dpi: int = 150) -> list:
    """Save ``fig`` as STEM.png, STEM.svg and STEM.pdf (vector formats for papers);
    returns the paths written."""
    from pathlib import Path

    out = []
    for f in formats:
        p = Path(f"{stem}.{f}")
        fig.savefig(p, dpi=dpi, bbox_inches="tight")
        out.append(p)
    return out
