"""Interactive figures for the HTML report (Plotly, offline).

The page loads ``plotly.js`` from the report directory: the copy Debian's
python3-plotly ships (``plotly.offline.get_plotlyjs()``), written beside index.html,
so the page works without a network. Each figure shows values and their 90 % Monte
Carlo intervals on hover:

- :func:`policy_explorer`: P(open), P(restrict), P(ban) over time, one nation at a
  time (a nation selector);
- :func:`policy_at_time`: every nation's shares at one date, with a time slider.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .io import POLICIES
from .plots import COLORS, LEVEL, label
from .uncertainty import replicates_done, share_interval


def available() -> bool:
    """Whether plotly (Debian: python3-plotly) can be imported."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


def _dates(ds: xr.Dataset) -> list[str]:
    if "date" in ds.coords or "date" in ds:
        return [str(x) for x in ds["date"].values]
    return [str(s) for s in range(ds.sizes["time" if "time" in ds.dims else "step"])]


def _hover(p: np.ndarray, n: int) -> np.ndarray:
    _, lo, hi = share_interval(p, n, LEVEL)
    return np.stack([lo, hi], -1)


def policy_explorer(ds: xr.Dataset, point: int = 0, codes: bool = False, first=None):
    """A plotly Figure: the shares of replicates in each policy over time (lines, with
    the 90 % interval on hover), one nation shown at a time, chosen in a drop-down
    menu (the nation selector). ``first``: the nation shown first (default: the
    first in the file)."""
    import plotly.graph_objects as go

    nations = [str(x) for x in ds.nation.values]
    first = first if first in nations else nations[0]
    dates = _dates(ds)
    n = int(replicates_done(ds)[point])
    share = np.asarray(ds.policy_share.isel(point=point).values, dtype=float)  # step x nation x 3
    fig = go.Figure()
    for i, code in enumerate(nations):
        for k, pol in enumerate(POLICIES):
            p = share[:, i, k]
            fig.add_trace(go.Scatter(
                x=dates, y=p, name=f"P({pol})", mode="lines+markers",
                line={"color": COLORS[pol]}, marker={"size": 4},
                customdata=_hover(p, n), visible=code == first,
                legendgroup=pol, meta=code,
                hovertemplate=(f"{label(ds, code, codes)} %{{x}}<br>P({pol}) = %{{y:.3f}} "
                               f"({100 * LEVEL:.0f} %: %{{customdata[0]:.3f}}-"
                               "%{customdata[1]:.3f})<extra></extra>")))
    buttons = []
    for i, code in enumerate(nations):
        vis = [j // 3 == i for j in range(3 * len(nations))]
        buttons.append({"label": label(ds, code, codes), "method": "update",
                        "args": [{"visible": vis},
                                 {"title": f"Policy shares over time: {label(ds, code, codes)}"}]})
    fig.update_layout(
        title=f"Policy shares over time: {label(ds, first, codes)}",
        xaxis_title="end of quarter", yaxis_title=f"share of {n} replicates",
        yaxis={"range": [0, 1]}, hovermode="closest", font={"size": 13},
        updatemenus=[{"buttons": buttons, "active": nations.index(first), "x": 1.0,
                      "xanchor": "right", "y": 1.15, "yanchor": "top", "name": "nation"}])
    return fig


def policy_at_time(ds: xr.Dataset, point: int = 0, codes: bool = False):
    """A plotly Figure: every nation's shares of replicates in open, restrict and ban
    at one date (stacked bars, the 90 % interval on hover), the date chosen with a
    slider (the time slider; it starts at the last date)."""
    import plotly.graph_objects as go

    nations = [str(x) for x in ds.nation.values]
    names = [label(ds, c, codes) for c in nations]
    dates = _dates(ds)
    n = int(replicates_done(ds)[point])
    share = np.asarray(ds.policy_share.isel(point=point).values, dtype=float)
    last = len(dates) - 1
    fig = go.Figure()
    for k, pol in enumerate(POLICIES):
        fig.add_trace(go.Bar(
            y=names, x=share[last, :, k], name=f"P({pol})", orientation="h",
            marker={"color": COLORS[pol]}, customdata=_hover(share[last, :, k], n),
            hovertemplate=(f"%{{y}}: P({pol}) = %{{x:.3f}} ({100 * LEVEL:.0f} %: "
                           "%{customdata[0]:.3f}-%{customdata[1]:.3f})<extra></extra>")))
    steps = []
    for t, d in enumerate(dates):
        steps.append({"label": d, "method": "restyle",
                      "args": [{"x": [share[t, :, k] for k in range(3)],
                                "customdata": [_hover(share[t, :, k], n) for k in range(3)]}]})
    fig.update_layout(
        barmode="stack", title="Policy shares of every nation at the chosen date",
        xaxis={"title": f"share of {n} replicates", "range": [0, 1]},
        yaxis={"title": "nation", "autorange": "reversed"}, font={"size": 13},
        height=max(400, 22 * len(nations) + 200),
        sliders=[{"active": last, "steps": steps, "currentvalue": {"prefix": "end of "},
                  "pad": {"t": 40}, "name": "time"}])
    return fig


def plotly_js() -> str:
    """The plotly.js bundled with the Python package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def div(fig, div_id: str) -> str:
    """The figure as an HTML fragment (a div and the script that draws it with the
    page's plotly.js)."""
    import json

    height = fig.layout.height or 480
    spec = fig.to_json()            # plotly's encoder: numpy arrays as lists
    cfg = json.dumps({"displaylogo": False, "responsive": True})
    return (f'<div id="{div_id}" class="a5-figure" style="height:{height}px;width:100%"></div>'
            f'<script>(function(){{var f={spec};'
            f'Plotly.newPlot("{div_id}",f.data,f.layout,{cfg});}})();</script>')
