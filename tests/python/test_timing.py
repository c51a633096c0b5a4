"""Timing without hindsight and the reversal cost (docs/model.md, "Timing" and
"Reversal cost"; issue 23, item 4): the windows file's located errors, the terms off
give the same bits, each term does what its equation says, the reversal cost cuts
reversals, and the placebo test of the windows."""
import random
import sys

import h5py
import numpy as np
import pytest

from conftest import BIN, SRC, run

SRC = SRC.resolve()  # base: paths are written into scenarios in tmp directories

sys.path.insert(0, str(SRC / "scripts"))
from windows_placebo import (HEADER, POL, loglik, observed, scenario_with, shares,  # noqa: E402
                             shifted, windows_rows)


def load(path):
    """Every dataset of a results file, by name."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def test_windows_file_errors_are_located(tmp_path):
    (tmp_path / "w.csv").write_text(
        HEADER
        + "DEU,2019-03-19,2019-06-12,2019-04-22,auction,https://x.org\n"   # known after start
        + "XXX,2019-03-19,2019-06-12,2019-01-22,auction,https://x.org\n"   # no such code
        + "DEU,2019-02-30,2019-06-12,2019-01-22,auction,https://x.org\n"   # no such day
        + "DEU,2019-03-19,2019-01-12,2019-01-22,auction,https://x.org\n"   # ends before start
        + "DEU,2019-03-19,2019-06-12,2019-01-22,auctoin,https://x.org\n"   # kind
        + "DEU,2019-03-19,2019-06-12,2019-01-22,auction,none\n")           # no source
    y = tmp_path / "s.yaml"
    y.write_text(f"base: {SRC / 'scenarios' / 'huawei_2019.yaml'}\n"
                 "windows: {file: w.csv, hazard_boost: 0.5}\n"
                 "attention: {events: [{at: 2019Q2}, {at: 2031Q1, salience: 1}], weight: 0.3}\n")
    p = run("run", y, "-o", tmp_path / "out.h5", check=False)
    assert p.returncode == 2
    w = str(tmp_path / "w.csv")
    for loc, text in [("2:27", "after its start"), ("3:1", "'XXX' is not a nation code"),
                      ("4:5", "must be a date"), ("5:16", "ends (2019-01-12) before it starts"),
                      ("6:38", "did you mean 'auction'"), ("7:46", "needs a source URL")]:
        assert f"{w}:{loc}: error:" in p.stderr and text in p.stderr, (loc, p.stderr)
    assert f"{y}:3:22: error: an attention event needs 'at'" in p.stderr
    assert "2031Q1 is outside the run" in p.stderr
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "out.h5.partial").exists()
    # A boost or a weight without what it acts on is refused, not ignored.
    m = SRC / "scenarios" / "minimal.yaml"
    for setting, msg in [("windows.hazard_boost=0.3", "'windows' needs 'file'"),
                         ("attention.weight=0.3", "'attention.weight' needs 'attention.events'")]:
        p = run("validate", m, "--set", setting, check=False)
        assert p.returncode == 2 and msg in p.stderr, p.stderr


def test_terms_off_give_the_same_bits(tmp_path):
    """Windows with boost 0, attention with weight 0 and reversal cost 0: every dataset
    equals the run without them (common random numbers: nothing else may move)."""
    m = SRC / "scenarios" / "minimal.yaml"
    run("run", m, "-o", tmp_path / "plain.h5", "-q", "--threads=2")
    (tmp_path / "w.csv").write_text(HEADER + "*,2019-01-01,2024-12-31,2018-12-01,review,https://x.org\n")
    y = tmp_path / "off.yaml"
    y.write_text(f"base: {m}\nwindows: {{file: w.csv, hazard_boost: 0}}\n"
                 "attention: {events: [{at: 2019Q3, salience: 2}], decay: 0.5, weight: 0}\n")
    run("run", y, "-o", tmp_path / "off.h5", "-q", "--threads=2", "--set", "policy.reversal_cost=0")
    a, b = load(tmp_path / "plain.h5"), load(tmp_path / "off.h5")
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_attention_and_windows_only_raise_the_review_hazard(tmp_path):
    """With review_rate 0 no nation ever reviews, except where a term raises the hazard
    to 1: an attention event of weight 1 and decay 0 (every nation, its quarter only),
    a window with boost 1 (its nation, its quarters only)."""
    m = SRC / "scenarios" / "minimal.yaml"
    common = ["-q", "--threads=2", "--set", "defaults.review_rate=0", "--set",
              "decision.rationality=0"]  # choices at random: a review changes the policy often
    y = tmp_path / "att.yaml"
    y.write_text(f"base: {m}\nattention: {{events: [{{at: 2020Q1, salience: 1}}], decay: 0, weight: 1}}\n")
    run("run", y, "-o", tmp_path / "att.h5", *common)
    pol = load(tmp_path / "att.h5")["policy"][0]  # replicate x step x nation
    moved = (pol[:, 1:] != pol[:, :-1]).any(axis=(0, 2))
    assert (pol[:, :4] == pol[:, :1]).all()  # nothing before 2020Q1 (step 4)
    assert moved.tolist() == [t == 3 for t in range(pol.shape[1] - 1)]  # changes at step 4 only
    (tmp_path / "w.csv").write_text(HEADER + "DEU,2021-04-01,2021-09-30,2020-01-01,auction,https://x.org\n")
    y = tmp_path / "win.yaml"
    y.write_text(f"base: {m}\nwindows: {{file: w.csv, hazard_boost: 1}}\n")
    run("run", y, "-o", tmp_path / "win.h5", *common)
    ds = load(tmp_path / "win.h5")
    pol, codes = ds["policy"][0], [c.decode() for c in ds["nation"]]
    first = pol[:, :1]
    changed = pol != np.concatenate([first, pol[:, :-1]], axis=1)
    deu = codes.index("DEU")
    assert changed[:, [9, 10], deu].any() and changed[:, :, deu].sum() == changed[:, [9, 10], deu].sum()
    assert not np.delete(changed, deu, axis=2).any()


def reversals(path):
    """Laxer-than-before moves per replicate, and Australia's policy at 2019Q1."""
    ds = load(path)
    pol = ds["policy"][0].astype(int)
    codes = [c.decode() for c in ds["nation"]]
    init = np.array([POL[p] for p in initial_policies()])
    prev = np.concatenate([np.broadcast_to(init, (pol.shape[0], 1, pol.shape[2])), pol[:, :-1]], axis=1)
    return (pol < prev).sum(axis=(1, 2)), pol[:, 0, codes.index("AUS")], pol[:, :, codes.index("AUS")]


def initial_policies():
    import yaml
    sc = yaml.safe_load((SRC / "scenarios" / "huawei_2019.yaml").read_text())
    return [n.get("policy", sc["defaults"].get("policy", "open")) for n in sc["nations"]]


def test_reversal_cost_cuts_reversals(tmp_path):
    """policy.reversal_cost: fewer reversals on common random numbers; the first
    quarter, where nothing has been removed yet, is the same bit for bit."""
    h = SRC / "scenarios" / "huawei_2019.yaml"
    out = {}
    for w in (0, 5):
        run("run", h, "-o", tmp_path / f"r{w}.h5", "-q", "--threads=2", "--replicates=400",
            "--set", f"policy.reversal_cost={w}")
        out[w] = reversals(tmp_path / f"r{w}.h5")
    (r0, q0, aus0), (r5, q5, aus5) = out[0], out[5]
    d = r0 - r5
    assert d.mean() > 4 * d.std(ddof=1) / np.sqrt(len(d))  # paired: fewer reversals
    assert np.array_equal(q0, q5)  # V_i = 0 in the first quarter
    assert (aus5 < 2).any(axis=1).mean() < (aus0 < 2).any(axis=1).mean()


def test_windows_placebo(tmp_path):
    """The placebo test of issue 23: the same windows shifted at random (seeded).

    On the observed data (observed_sourced.csv) the real windows do NOT score better
    than shifted ones (docs/model.md, "Timing", gives the numbers; reproduce them with
    scripts/windows_placebo.py), so that is not asserted. What is asserted: shifting
    changes the score (the windows act), and in a synthetic world generated with the
    real windows, the true windows fit its policies better than every shifted set."""
    rows, R, obs = windows_rows(), 1000, observed()
    rng = random.Random(20190326)
    sets = [rows] + [shifted(rows, rng) for _ in range(8)]
    ll = [loglik(*shares(BIN, scenario_with(tmp_path, f"obs{k}", ws, 0.25), tmp_path / f"obs{k}.h5", R),
                 obs) for k, ws in enumerate(sets)]
    print("observed data, boost 0.25: real windows %.2f, shifted %s" % (ll[0], np.round(ll[1:], 2)))
    assert len(set(np.round(ll, 6))) == len(ll)  # every shift changes the score
    # A synthetic world: 50 replicates with the real windows (boost 0.8), another seed.
    y = scenario_with(tmp_path, "truth", rows, 0.8)
    run("run", y, "-o", tmp_path / "truth.h5", "--replicates=50", "--seed=777", "-q", "--threads=2")
    truth = load(tmp_path / "truth.h5")["policy"][0].astype(int)  # world x step x nation
    scores = []
    for k, ws in enumerate(sets):
        sh, _, _ = shares(BIN, scenario_with(tmp_path, f"syn{k}", ws, 0.8), tmp_path / f"syn{k}.h5", R)
        scores.append(sum(np.log(np.take_along_axis(sh, w[..., None], axis=2)).sum() for w in truth))
    print("synthetic world: true windows %.1f, shifted %s" % (scores[0], np.round(scores[1:], 1)))
    assert scores[0] > max(scores[1:])


@pytest.mark.parametrize("path", ["attention.weight", "windows.hazard_boost", "policy.reversal_cost"])
def test_new_parameters_can_be_fitted(tmp_path, path):
    """The new parameters are addressable by calibrate --fit (and so by sweeps,
    designs and events, which resolve paths the same way)."""
    y = scenario_with(tmp_path, "w", windows_rows(), 0.1,
                      extra="attention: {events: [{at: 2019Q2, salience: 1}], decay: 0.5, weight: 0.1}\n")
    p = run("calibrate", y, "--observed", SRC / "scenarios" / "observed_sourced.csv", "--fit",
            f"{path}=0:0.9", "-o", tmp_path / "fit.yaml", "--replicates=50", "--starts=1",
            "--max-iter=5", "--threads=2", "-q")
    assert path in p.stdout


def test_varying_a_term_with_nothing_to_act_on_is_refused(tmp_path):
    m = SRC / "scenarios" / "minimal.yaml"
    y = tmp_path / "v.yaml"
    y.write_text(f"base: {m}\nsweep: {{windows.hazard_boost: [0, 0.5]}}\n"
                 "uncertain: {attention.decay: {dist: uniform, lo: 0, hi: 1}}\n")
    p = run("validate", y, check=False)
    assert p.returncode == 2
    assert "'windows.hazard_boost' is varied but would change nothing: it needs 'windows.file'" in p.stderr
    assert "'attention.decay' is varied but would change nothing: it needs 'attention.events'" in p.stderr
    p = run("calibrate", SRC / "scenarios" / "huawei_2019.yaml", "--observed", SRC / "scenarios" / "observed_sourced.csv", "--fit",
            "attention.weight=0:1", "-o", tmp_path / "fit.yaml", check=False)
    assert p.returncode == 2 and "it needs 'attention.events'" in p.stderr, p.stderr
    assert not (tmp_path / "fit.yaml").exists()
    # With what they act on, the same settings are accepted.
    y.write_text(f"base: {SRC / 'scenarios' / 'huawei_2019_timing.yaml'}\n"
                 "sweep: {windows.hazard_boost: [0, 0.5]}\n"
                 "uncertain: {attention.decay: {dist: uniform, lo: 0, hi: 1}}\n")
    run("validate", y)
