"""The analysis package: plots carry the expected data, the report and the
quickstart notebook run, and the package installs offline."""
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import allied5g  # noqa: E402
from conftest import BIN, SRC, TIMEOUT, make_venv, run, run_notebook  # noqa: E402

SCEN = """start: 2019Q1
steps: 10
replicates: 60
nations:
  - {code: GBR, blocs: [five_eyes, nato], high_risk_share: 0.4, review_rate: 0.5}
  - {code: CAN, blocs: [five_eyes, nato], high_risk_share: 0.5, review_rate: 0.5}
  - {code: DEU, blocs: [nato, eu], high_risk_share: 0.6}
  - {code: USA, blocs: [five_eyes, nato], policy: ban, review_rate: 0}
events: [{at: 2019Q3, set: {risk.supply_risk: 0.5}}]
"""


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    d = tmp_path_factory.mktemp("an")
    s = d / "s.yaml"
    s.write_text(SCEN)
    out = d / "r.h5"
    run("run", s, "-o", out, "--quiet")
    return allied5g.load(out)


def test_policy_probabilities_data(ds):
    fig = allied5g.policy_probabilities(ds, ["GBR", "DEU"])
    ax = fig.axes[0]
    assert ax.get_title() == "GBR"
    # Three stacked layers (the top of the last is 1 everywhere), then the 90 % bands of
    # the two boundaries between them.
    assert len(ax.collections) == 5
    polys = ax.collections[:3]
    top = polys[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(1.0, abs=1e-6)
    share = ds.policy_share.isel(point=0).sel(nation="GBR", option="open").values
    lower = polys[0].get_paths()[0].vertices
    assert np.allclose(sorted(set(np.round(lower[:, 1], 6)) - {0.0}),
                       sorted(set(np.round(share, 6)) - {0.0}), atol=1e-6)
    with pytest.raises(KeyError):
        allied5g.policy_probabilities(ds, ["XXX"])


def test_fan_chart_data(ds):
    fig = allied5g.fan_chart(ds, ["DEU"])
    median, mean = fig.axes[0].lines[:2]
    q = ds.high_risk_share_quantiles.isel(point=0).sel(nation="DEU")
    assert np.allclose(median.get_ydata(), q.sel(quantile=0.5).values)
    assert np.allclose(mean.get_ydata(), ds.high_risk_share_mean.isel(point=0).sel(nation="DEU").values)


def test_ban_timeline(ds):
    fig = allied5g.ban_timeline(ds)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == "USA"                      # banned from step 0
    assert sorted(labels) == sorted(str(x) for x in ds.nation.values)


def test_cohesion(ds):
    c = allied5g.cohesion(ds)
    assert set(c.columns) == {"five_eyes", "nato"}   # eu has one member
    pol = ds.policy.isel(point=0).values
    # five_eyes = GBR, CAN, USA (indices 0, 1, 3): mean fraction of agreeing pairs.
    p = pol[:, :, [0, 1, 3]]
    pairs = [(0, 1), (0, 2), (1, 2)]
    want = np.mean([np.mean(p[:, :, a] == p[:, :, b], axis=0) for a, b in pairs], axis=0)
    assert np.allclose(c["five_eyes"].values, want)
    fig = allied5g.cohesion_plot(ds)
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[0].collections) == 2   # 90 % bands


def test_sweep_response_and_sensitivity_bars(tmp_path):
    s = tmp_path / "sw.yaml"
    s.write_text(SCEN + "sweep: {us.escalation: [0, 0.05, 0.1], us.intel_threat: [0, 1]}\n")
    out = tmp_path / "sw.h5"
    run("run", s, "-o", out, "--quiet", "--store", "summary")
    sw = allied5g.load(out)
    fig = allied5g.sweep_response(sw, "us.escalation", ["GBR"])
    lines = fig.axes[0].lines
    assert len(lines) == 2                          # one per us.intel_threat value
    assert list(lines[0].get_xdata()) == [0, 0.05, 0.1]
    want = sw.policy_share.sel(option="ban").isel(time=-1).sel(nation="GBR").values[[0, 2, 4]]
    assert np.allclose(lines[0].get_ydata(), want)
    # a 90 % band around each line, containing it
    bands = fig.axes[0].collections
    assert len(bands) == 2
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() <= want.min() + 1e-9 and ys.max() >= want.max() - 1e-9
    assert ys.max() - ys.min() > want.max() - want.min()      # a band, not the line
    assert fig.axes[0].get_ylim() == (0, 1) and "90 %" in fig._suptitle.get_text()
    import pandas as pd
    si = pd.DataFrame({"S1": [0.5, 0.1], "S1_conf": [0.1, 0.05], "ST": [0.6, 0.2], "ST_conf": [0.1, 0.1]},
                      index=["a", "b"])
    bars = allied5g.sensitivity_bars(si).axes[0].patches
    assert [round(b.get_width(), 3) for b in bars] == [0.5, 0.1, 0.6, 0.2]


def test_report(ds, tmp_path):
    path = ds.encoding["source"]
    r = subprocess.run([sys.executable, "-m", "allied5g", "report", path, "-o", tmp_path / "rep"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC / "analysis")},
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "rep" / "index.html").read_text()
    for part in ("Key findings", "policy_probabilities.png", "Provenance", "command_line", "USA",
                 "Figure 1. Share of the 60 replicates",
                 "Nations plotted: the 3 nations with the most influence in the scenario",
                 "at every step (USA)"):        # USA bans from the start: left out
        assert part in page
    assert "<figcaption>policy_probabilities.png" not in page      # captions, not file names
    secs = page.split("run_seconds</th><td>")[1].split("<")[0]
    assert secs.endswith(" s") and len(secs.split(".")[1]) == 4, secs   # "0.12 s"
    for stem in ("policy_probabilities", "high_risk_share", "who_bans_first", "cohesion"):
        for ext in ("png", "svg", "pdf"):
            assert (tmp_path / "rep" / f"{stem}.{ext}").stat().st_size > 1000
    end = allied5g.key_findings(ds)
    assert end.index[0] == "USA" and end.loc["USA", "ban"] == 1.0
    assert end.loc["USA", "start"] == "ban" and end.loc["GBR", "start"] == "open"
    # USA bans from the start (scenario): the initial condition, not a finding.
    findings = page.split("<ul>")[1].split("</ul>")[0]
    assert "USA: bans in" not in findings and "not a finding): USA" in findings
    # "stays open": the nations with the highest open share, in that order
    stays = [li.split(":")[0] for li in findings.split("<li>") if "stays open" in li]
    not_ban_listed = end[~end.index.isin([li.split(":")[0] for li in findings.split("<li>")
                                          if "bans in" in li])]
    best = not_ban_listed[not_ban_listed.open > 0].sort_values("open", ascending=False)
    assert stays == list(best.index[:3])
    # median_first_ban never blank: a date or the reason there is none
    fb = ds.first_ban_step.isel(point=0)
    for code, why in end.median_first_ban.items():
        share = float((fb.sel(nation=code) >= 0).mean())
        if share == 0:
            assert why == "never bans in any replicate"
        elif share < 0.5:
            assert why.startswith("bans in under half the replicates"), (code, why)
        else:
            assert why[:4].isdigit() and "Q" in why, (code, why)
    bad = subprocess.run([sys.executable, "-m", "allied5g", "report", tmp_path / "nope.h5", "-o", tmp_path],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC / "analysis")},
                         timeout=TIMEOUT)
    assert bad.returncode == 1 and "allied5g report:" in bad.stderr


def test_figures_labelled(ds):
    """Every figure has a title and axis labels; time runs on dates."""
    import matplotlib.dates as mdates
    for fig in (allied5g.policy_probabilities(ds, ["GBR", "DEU"]), allied5g.fan_chart(ds, ["GBR"])):
        assert fig._suptitle.get_text() and fig.axes[0].get_ylabel() and fig.axes[-1].get_xlabel()
        x = fig.axes[0].collections[0].get_paths()[0].vertices[:, 0]
        assert mdates.num2date(x.max()).year == 2021     # 2019Q1 + 10 quarters: dates, not steps
    fig = allied5g.cohesion_plot(ds)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    fig = allied5g.ban_timeline(ds)
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()


@pytest.mark.skipif(shutil.which("jupyter-nbconvert") is None, reason="jupyter-nbconvert not installed")
def test_quickstart_notebook_executes(tmp_path, venv_python):
    """The notebook runs as shipped, on its kernel "allied5g" (the venv's python, as
    scripts/quickstart.sh registers it), with no PYTHONPATH."""
    import json
    nb = SRC / "analysis" / "notebooks" / "quickstart.ipynb"
    r = run_notebook(nb, tmp_path, venv_python, {"A5_NOTEBOOK_REPLICATES": "60"})
    assert r.returncode == 0, r.stderr[-2000:]
    done = json.loads((tmp_path / "done.ipynb").read_text())
    text = json.dumps(done)
    assert (tmp_path / "done.ipynb").stat().st_size > 50000     # figures embedded
    assert "must be in [0, 1]" in text and "did you mean 'steps'" in text   # ScenarioError cell
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done.ipynb", "jupyter", "q.ipynb"]


def test_pip_install_offline(tmp_path, venv_python):
    """The package installs into a venv offline (needs python3-venv, -setuptools,
    -wheel: a fresh Debian 12 without python3-wheel failed here) and the venv's
    python imports it whatever python3 comes first on PATH. The session's venv is
    made that way when the checkout has no .venv; otherwise a fresh one is made here."""
    if str(venv_python).startswith(str(SRC / ".venv")):
        src = tmp_path / "analysis"
        shutil.copytree(SRC / "analysis", src, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        py = make_venv(tmp_path / "venv", src)
    else:
        py, src = venv_python, venv_python.parents[2] / "analysis"
    r = subprocess.run([py, "-c", "import allied5g; print(allied5g.__file__, allied5g.__version__)"],
                       capture_output=True, text=True, cwd=tmp_path, env={"PATH": os.environ["PATH"]},
                       timeout=TIMEOUT)
    assert r.returncode == 0 and str(src) in r.stdout, r.stderr
