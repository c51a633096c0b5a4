"""Every figure the package draws, rendered (matplotlib Agg) and checked: text at 9 pt
or more, every axis that shows tick labels labelled, only Okabe-Ito colours (and
greys) on the data, Monte Carlo bands where shares are plotted, legends outside the
data, vector output (SVG, PDF) beside PNG."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import allied5g  # noqa: E402
from allied5g import plots  # noqa: E402
from allied5g.calibration import reliability_plot  # noqa: E402
from conftest import run  # noqa: E402

BASE = """start: 2019Q1
steps: 10
replicates: 40
nations:
  - {code: GBR, name: United Kingdom, blocs: [five_eyes, nato], high_risk_share: 0.4, review_rate: 0.5, influence: 2}
  - {code: CAN, name: Canada, blocs: [five_eyes, nato], high_risk_share: 0.5, review_rate: 0.5}
  - {code: DEU, name: Germany, blocs: [nato, eu], high_risk_share: 0.6, influence: 2}
  - {code: FRA, name: France, blocs: [nato, eu], high_risk_share: 0.4, influence: 2}
  - {code: USA, name: United States, blocs: [five_eyes, nato], policy: ban, review_rate: 0, influence: 3}
"""
ALLOWED = {mcolors.to_hex(c) for c in plots.OKABE_ITO + tuple(plots.COLORS.values())}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("fig")
    out = {}
    for name, extra, store in [
            ("full", "", "full"),
            ("grid", "sweep: {us.escalation: [0, 0.05, 0.1]}\n", "summary"),
            ("lhs", "design: {method: lhs, points: 24, ranges: {us.escalation: [0, 0.1], "
                    "decision.weights.risk: [0, 3]}}\n", "summary")]:
        (d / f"{name}.yaml").write_text(BASE + extra)
        run("run", d / f"{name}.yaml", "-o", d / f"{name}.h5", "--quiet", "--store", store)
        out[name] = allied5g.load(d / f"{name}.h5")
    return out


def _grey(hexc: str) -> bool:
    r, g, b = mcolors.to_rgb(hexc)
    return abs(r - g) < 1e-6 and abs(g - b) < 1e-6


def check(fig, tmp_path=None):
    """The rules every figure keeps; returns the figure drawn."""
    fig.canvas.draw()
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip():
            assert t.get_fontsize() >= plots.MIN_FONT, (t.get_text(), t.get_fontsize())
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        shown = lambda labels: any(l.get_visible() and l.get_text() for l in labels)  # noqa: E731
        if shown(ax.get_xticklabels()):
            assert ax.get_xlabel(), f"x axis of '{ax.get_title()}' unlabelled"
        if shown(ax.get_yticklabels()):
            assert ax.get_ylabel(), f"y axis of '{ax.get_title()}' unlabelled"
        if ax.get_label() == "<colorbar>":       # a colour map (viridis), not categories
            continue
        colours = [l.get_color() for l in ax.lines]
        colours += [c for coll in ax.collections for c in coll.get_facecolor()]
        colours += [p.get_facecolor() for p in ax.patches]
        for c in colours:
            if mcolors.to_rgba(c)[3] == 0:
                continue
            h = mcolors.to_hex(c, keep_alpha=False)
            assert h in ALLOWED or _grey(h), f"colour {h} is not Okabe-Ito"
        leg = ax.get_legend()
        if leg is not None:       # a legend never sits on the data
            lb, ab = leg.get_window_extent(), ax.get_window_extent()
            assert not lb.overlaps(ab), f"legend inside '{ax.get_title()}'"
    if tmp_path is not None:
        paths = plots.save(fig, tmp_path / "f")
        heads = [p.read_bytes()[:5] for p in paths]
        assert heads[0][1:4] == b"PNG" and b"<?xml" in heads[1] and heads[2] == b"%PDF-"
    return fig


def test_time_figures(runs, tmp_path):
    ds = runs["full"]
    fig = check(plots.policy_probabilities(ds, ["GBR", "DEU", "FRA", "CAN", "USA"]), tmp_path)
    assert [a.get_title() for a in fig.axes[:2]] == ["United Kingdom", "Germany"]
    ax = fig.axes[0]
    assert len(ax.collections) == 5                      # 3 areas + 2 Monte Carlo bands
    band = ax.collections[3].get_paths()[0].vertices[:, 1]
    p_open = ds.policy_share.isel(point=0).sel(nation="GBR", option="open").values
    assert band.min() <= p_open.min() and band.max() >= p_open.max()
    assert plots.policy_probabilities(ds, ["GBR"], codes=True).axes[0].get_title() == "GBR"
    check(plots.fan_chart(ds, ["GBR", "DEU"]))
    fig = check(plots.ban_timeline(ds))
    assert "United States" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "share ever banning" in fig.axes[1].get_xlabel()   # the column is labelled
    assert len(fig.axes[1].collections) >= 1                   # its intervals
    fig = check(plots.cohesion_plot(ds))
    assert len(fig.axes[0].collections) == len(fig.axes[0].lines) == 3   # a band per bloc


def test_sweep_response_any_design(runs):
    fig = check(plots.sweep_response(runs["grid"], "us.escalation"))
    title = fig._suptitle.get_text()
    assert "United States" not in [a.get_title() for a in fig.axes]
    assert "left out (same at every point): USA" in title and "90 %" in title
    fig = check(plots.sweep_response(runs["lhs"], "us.escalation", ["DEU", "USA"]))
    ax = fig.axes[0]
    assert ax.get_title() == "Germany" and len(fig.axes) == 1
    x = np.asarray(runs["lhs"]["us.escalation"].values)
    smoother = [l for l in ax.lines if len(l.get_xdata()) == 100]
    assert smoother, "no smoother line"
    xs = smoother[0].get_xdata()
    assert xs.min() == pytest.approx(x.min()) and xs.max() == pytest.approx(x.max())
    assert len(ax.collections) >= 2                           # error bars and the band
    with pytest.raises(ValueError, match="one P"):
        plots.sweep_response(runs["lhs"], "us.escalation", ["USA"])


def test_other_figures():
    si = pd.DataFrame({"S1": [0.5, 0.1], "S1_conf": [0.1, 0.05], "ST": [0.6, 0.2],
                       "ST_conf": [0.1, 0.1]}, index=["a", "b"])
    check(plots.sensitivity_bars(si))
    mi = pd.DataFrame({"mu_star": [0.3, 0.1], "mu_star_conf": [0.05, 0.02],
                       "sigma": [0.2, 0.05]}, index=["a", "b"])
    fig = check(allied5g.morris_plot(mi))
    assert fig.axes[0].get_xlim()[0] == 0 and fig.axes[0].get_ylim()[0] == 0   # the origin
    scores = pd.DataFrame({"y1": [0.6, 0.4], "y2": [0.3, 0.7]}, index=["a", "b"])
    check(allied5g.feature_scores_heatmap(scores))
    rng = np.random.default_rng(3)
    p = rng.dirichlet([1, 1, 1], size=60)
    df = pd.DataFrame({"p_open": p[:, 0], "p_restrict": p[:, 1], "p_ban": p[:, 2],
                       "observed": rng.choice(["open", "restrict", "ban"], 60), "fold": 1})
    check(reliability_plot(df))
