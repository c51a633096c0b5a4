"""Levers, outcomes and the robust design (issue 27, items 1, 2 and 5): every policy on
the same worlds, with common random numbers within a world; outcomes computed by the
run equal the package's; bad input refused at its place."""
import os
import subprocess

import numpy as np
import pytest
import xarray as xr

import allied5g
from conftest import FIVE_NATIONS, SRC, kill_with_checkpoint, run, same_data

WORLD = """steps: 12
replicates: 25
seed: 11
""" + FIVE_NATIONS + """us: {budget: 0.4}
china: {strategy: targeted, budget: 1}
uncertain:
  decision.weights.us: {dist: uniform, lo: 0.5, hi: 1.5}
  nations.*.threat: {dist: uniform, lo: 0, hi: 1}
outcomes:
  banning: {metric: n_ban, direction: max, threshold: 3}
  deu_ban: {metric: ban, nation: DEU, at: 2021Q2, direction: max}
  spent: {metric: us_spent, direction: min}
  cost: {metric: cum_cost, nation: all, direction: min}
"""
ROBUST = WORLD + """levers:
  us.strategy: [schedule, pivotal, uniform]
  us.intel_lever.downgrade: [0, 0.5]
design: {method: robust, worlds: 6}
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def robust_file(tmp_path, text=ROBUST, *extra, name="r.h5"):
    s = write(tmp_path, "s.yaml", text)
    out = tmp_path / name
    run("run", s, "-o", out, "--quiet", *extra)
    return allied5g.load(out), out


def test_policies_times_worlds_layout(tmp_path):
    ds, _ = robust_file(tmp_path)
    assert allied5g.is_robust(ds)
    assert ds.attrs["robust_policies"] == 6 and ds.attrs["robust_worlds"] == 6
    assert ds.sizes["point"] == 36
    assert allied5g.levers(ds) == ["us.strategy", "us.intel_lever.downgrade"]
    unc = allied5g.uncertainties(ds)
    assert unc == ["decision.weights.us"] + [f"nations.{c}.threat"
                                             for c in ("GBR", "DEU", "FRA", "HUN", "USA")]
    pol = ds.policy_index.values
    wld = ds.world_index.values
    assert list(pol) == [p for p in range(6) for _ in range(6)]
    assert list(wld) == list(range(6)) * 6
    X = allied5g.design_frame(ds)
    for u in unc:       # a world's inputs are the same for every policy, and differ
        v = X[u].to_numpy().reshape(6, 6)
        assert (v == v[0]).all()
        assert len(set(v[0])) == 6
        assert ((v >= 0) & (v <= 1.5)).all()
    for lv in allied5g.levers(ds):     # a policy's levers are the same in every world
        v = X[lv].to_numpy().reshape(6, 6)
        assert (v == v[:, :1]).all()
    assert list(X["us.strategy"].to_numpy().reshape(6, 6)[:, 0]) == \
        ["schedule", "schedule", "pivotal", "pivotal", "uniform", "uniform"]


def test_identical_policies_meet_identical_worlds(tmp_path):
    """Two policies that set the same values run on the same random numbers in each
    world: every record is equal, bit for bit; different worlds differ."""
    # a policies file may repeat a row (a list lever may not repeat a value)
    rows = "".join(f"{st},0.5\n{st},0.5\n" for st in ("schedule", "pivotal", "uniform"))
    write(tmp_path, "twice.csv", "us.strategy,us.intel_lever.downgrade\n" + rows)
    text = ROBUST.replace("design: {method: robust, worlds: 6}",
                          "design: {method: robust, policies: twice.csv, worlds: 6}")
    ds, _ = robust_file(tmp_path, text + "output: {store: full}\n")
    # ... and is told so, at the row (it runs twice)
    v = run("validate", tmp_path / "s.yaml")
    assert "twice.csv:3:1: warning: this row repeats the policy at line 2" in v.stderr, v.stderr
    # found by sorting (a file of many rows loads in n log n), compared as numbers
    write(tmp_path, "twice.csv", "us.strategy,us.intel_lever.downgrade\n"
          "pivotal,0\nschedule,0.5\npivotal,-0\nschedule,0.50\nuniform,0.5\n")
    v = run("validate", tmp_path / "s.yaml")
    assert v.stderr.count("this row repeats") == 2 and "twice.csv:4:1: warning: this row " \
        "repeats the policy at line 2" in v.stderr and "twice.csv:5:1:" in v.stderr, v.stderr
    pol = ds.policy.values.reshape(3, 2, 6, *ds.policy.shape[1:])
    assert (pol[:, 0] == pol[:, 1]).all()
    assert not (pol[:, :, 0] == pol[:, :, 1]).all()
    o = ds.outcomes.values.reshape(3, 2, 6, 25, 4)
    assert np.array_equal(o[:, 0], o[:, 1])


def test_worlds_do_not_depend_on_how_many(tmp_path):
    a, _ = robust_file(tmp_path, name="a.h5")
    b, _ = robust_file(tmp_path, ROBUST.replace("worlds: 6", "worlds: 9"), name="b.h5")
    Xa, Xb = allied5g.design_frame(a), allied5g.design_frame(b)
    u = "nations.DEU.threat"
    assert np.array_equal(Xa[u].to_numpy()[:6], Xb[u].to_numpy()[:6])
    # the replicates of world w are the same in both files (stream (seed, w, r))
    assert np.array_equal(a.outcomes.values[:6], b.outcomes.values[:6])


def test_threads_do_not_change_the_bits(tmp_path):
    _, one = robust_file(tmp_path, ROBUST, "--threads", "1", name="one.h5")
    _, two = robust_file(tmp_path, ROBUST, "--threads", "2", name="two.h5")
    same_data(one, two)


def test_outcomes_equal_the_packages(tmp_path):
    """The run's outcomes against compare()'s per-replicate outcomes from the full
    records, metric by metric (counts exactly; sums to float precision)."""
    text = WORLD.replace("us: {budget: 0.4}",
                         "us: {budget: 0.4, strategy: pivotal, intel_lever: {downgrade: 0.5}}") + """output: {store: full, record: [cum_retaliation, cum_downgrade]}
sweep: {china.budget: [0.5, 2]}
"""
    text = text.replace("""outcomes:
""", """outcomes:
  moved: {metric: n_moved, at: 2020Q3, direction: max}
  fra_open: {metric: not_open, nation: FRA, direction: max}
  deu_by: {metric: banned_by, nation: DEU, at: 2020Q4, direction: max}
  p_deu: {metric: us_pressure, nation: DEU, at: 2019Q4, direction: min}
  p_all: {metric: us_pressure, direction: min}
  hun_spent: {metric: us_spent, nation: HUN, direction: min}
  ret: {metric: cum_retaliation, direction: min}
  down: {metric: cum_downgrade, nation: GBR, direction: min}
""")
    s = write(tmp_path, "s.yaml", text)
    out = tmp_path / "o.h5"
    run("run", s, "-o", out, "--quiet")
    ds = allied5g.load(out)
    metrics = [str(m) for m in ds.outcome_metric.values]
    assert "n_moved(2020Q3)" in metrics and "banned_by(DEU, 2020Q4)" in metrics
    for k, m in enumerate(metrics):
        c = ds.outcomes.isel(outcome=k).values
        p = allied5g.replicate_outcome(ds, m)
        assert np.isfinite(c).all()
        np.testing.assert_allclose(c, p, rtol=2e-6, atol=1e-6, err_msg=m)
        if m.startswith(("n_", "ban", "not_open")):
            assert np.array_equal(c, p), m
    assert list(ds.outcome_direction.values[:2]) == ["max", "max"]
    thr = ds.outcome_threshold.values
    assert thr[list(ds.outcome.values).index("banning")] == 3 and np.isnan(thr[1])


def test_outcomes_kept_in_summary_and_change_nothing_else(tmp_path):
    plain = write(tmp_path, "p.yaml", WORLD.split("outcomes:")[0] + "output: {store: summary}\n")
    withs = write(tmp_path, "w.yaml", WORLD + "output: {store: summary}\n")
    run("run", plain, "-o", tmp_path / "p.h5", "--quiet")
    run("run", withs, "-o", tmp_path / "w.h5", "--quiet")
    with xr.open_dataset(tmp_path / "p.h5") as a, xr.open_dataset(tmp_path / "w.h5") as b:
        assert "outcomes" not in a and b.outcomes.shape == (1, 25, 4)
        for v in a.data_vars:
            assert np.array_equal(a[v].values, b[v].values, equal_nan=True), v


def test_paired_regret_se_below_unpaired(tmp_path):
    ds, _ = robust_file(tmp_path, ROBUST.replace("worlds: 6", "worlds: 30"))
    Y = allied5g.policy_worlds(ds, "banning")
    assert Y.shape == (6, 30) and Y.attrs["direction"] == "max" and Y.attrs["threshold"] == 3
    # the value is the mean over each world's replicates
    pts = (ds.policy_index.values == 2) & (ds.world_index.values == 7)
    assert Y.iloc[2, 7] == pytest.approx(float(ds.outcomes.sel(outcome="banning").values[pts].mean()))
    t = allied5g.robustness(Y)
    assert np.isfinite(t["satisficing"]).all()        # the file's threshold was used
    c = allied5g.robustness_compare(Y, 0, 2, n_boot=200)
    assert c.loc["mean_regret", "se"] < c.loc["mean_regret", "se_unpaired"]
    assert c.loc["mean", "se"] < c.loc["mean", "se_unpaired"]


def test_experiments_outcomes_and_vulnerability(tmp_path):
    ds, _ = robust_file(tmp_path, ROBUST.replace("worlds: 6", "worlds: 40"))
    X, out = allied5g.experiments_outcomes(ds)
    assert list(X.columns[:2]) == ["policy", "world"] and len(X) == 240
    assert set(out) == {"banning", "deu_ban", "spent", "cost"}
    assert out["deu_ban"].min() >= 0 and out["deu_ban"].max() <= 1
    Y = allied5g.policy_worlds(ds, "banning")
    thr = float(np.median(Y.iloc[0]))
    res = allied5g.vulnerability(ds, 0, "banning", threshold=thr)
    fail = Y.iloc[0].to_numpy() < thr
    assert res.failing == pytest.approx(fail.mean())
    assert list(res.X.columns) == allied5g.uncertainties(ds) and len(res.X) == 40
    with pytest.raises(ValueError, match="not a robust design"):
        allied5g.experiments_outcomes(allied5g.load(robust_file(
            tmp_path, WORLD, name="plain.h5")[1]))


def test_sampled_and_file_policies(tmp_path):
    text = ROBUST.replace("design: {method: robust, worlds: 6}",
                          "design: {method: robust, policies: 6, worlds: 3}").replace(
        "us.intel_lever.downgrade: [0, 0.5]", "us.budget: {lo: 0.1, hi: 2}")
    ds, _ = robust_file(tmp_path, text)
    X = allied5g.design_frame(ds)
    b = X["us.budget"].to_numpy().reshape(6, 3)[:, 0]
    assert ((b >= 0.1) & (b <= 2)).all()
    # a Latin hypercube: one budget in each sixth of the range, each strategy twice
    assert sorted(np.floor((b - 0.1) / 1.9 * 6).astype(int)) == list(range(6))
    st = X["us.strategy"].to_numpy().reshape(6, 3)[:, 0]
    assert sorted(st) == ["pivotal"] * 2 + ["schedule"] * 2 + ["uniform"] * 2
    write(tmp_path, "pol.csv", "us.intel_lever.downgrade,us.strategy\n0.5,pivotal\n0,uniform\n")
    ds, _ = robust_file(tmp_path, ROBUST.replace("worlds: 6", "worlds: 2, policies: pol.csv"),
                        name="f.h5")
    X = allied5g.design_frame(ds)
    assert list(X["us.strategy"]) == ["pivotal"] * 2 + ["uniform"] * 2
    assert list(X["us.intel_lever.downgrade"]) == [0.5, 0.5, 0, 0]


def test_child_design_replaces_base_sweep_and_set_fixes_a_lever(tmp_path):
    write(tmp_path, "base.yaml", WORLD + "sweep: {us.budget: [0.1, 0.2]}\n")
    child = write(tmp_path, "c.yaml", "base: base.yaml\n" + ROBUST.split("outcomes:")[0]
                  .split("uncertain:")[0].replace(WORLD.split("uncertain:")[0], "")
                  + "levers: {us.strategy: [schedule, pivotal]}\n"
                  "design: {method: robust, worlds: 3}\n")
    r = run("validate", child)
    assert "robust: 2 policies x 3 worlds" in r.stdout
    r = run("validate", child, "--set", "us.strategy=pivotal", check=False)
    assert r.returncode == 2 and "needs 1 to 64 paths" in r.stderr


BAD = [
    ("outcomes.x={metric: n_bam, direction: max}", "did you mean 'n_ban'"),
    ("outcomes.x={metric: ban, direction: max}", "needs a 'nation'"),
    ("outcomes.x={metric: ban, nation: XXX, direction: max}", "unknown nation 'XXX'"),
    ("outcomes.x={metric: n_ban, nation: DEU, direction: max}", "counts every nation"),
    ("outcomes.x={metric: us_spent, at: 2020Q1, direction: min}", "sums the whole run"),
    ("outcomes.x={metric: n_ban, at: 2030Q1, direction: max}", "outside the run"),
    ("outcomes.x={metric: n_ban, direction: up}", "max (more is better) or min"),
    ("outcomes.x={metric: n_ban}", "needs a 'direction'"),
    ("outcomes.x={metric: n_ban, direction: max, threshold: abc}", "expected a number"),
    ("outcomes.x={metric: cum_downgrade, direction: min}", "add cum_downgrade to output.record"),
    ("outcomes.x={metric: n_ban, direction: max, colour: red}", "unknown key 'colour'"),
    ("outcomes.1x={metric: n_ban, direction: max}", "must be letters, digits"),
    ("outcomes={}", "'outcomes' is empty"),
    ("design.worlds=0", "must be in [1, 1000000]"),
    ("design.policies=0", "must be in [1, 1000000]"),
    ("design.policies=missing.csv", "cannot open policies file"),
    ("levers={us.budget: {lo: 0, hi: 10}}", "give 'policies: N'"),
    ("levers={us.budget: {lo: 5, hi: 1}}", "needs lo < hi"),
    ("levers={us.strategy: {lo: 0, hi: 1}}", "give its lever a list of values"),
    ("levers={decision.weights.us: [1, 2]}", "either drawn or varied"),
    ("levers={us.strategy: []}", "has no values"),
    ("levers={us.strategy: [pivotal, uniform, pivotal]}", "lists 'pivotal' twice"),
    ("levers={us.budget: [0.2, 0.20]}", "lists '0.20' twice"),
    ("levers={us.nonsense: [1]}", "names nothing"),
    ("levers={}", "needs 1 to 64 paths"),
]


@pytest.mark.parametrize("setting,message", BAD)
def test_bad_input_is_refused_at_its_place(tmp_path, setting, message):
    s = write(tmp_path, "s.yaml", ROBUST)
    out = tmp_path / "o.h5"
    r = run("run", s, "-o", out, "--set", setting, check=False)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert r.stderr.split(":")[0] in ("--set", str(s), "missing.csv") or "s.yaml" in r.stderr
    assert not os.path.exists(out) and not os.path.exists(f"{out}.partial")


def test_robust_needs_levers_and_uncertain(tmp_path):
    for text, msg in ((WORLD + "design: {method: robust, worlds: 3}\n", "needs 'levers:'"),
                      (ROBUST.replace("uncertain:", "uncertainX:").split("uncertainX:")[0]
                       + "levers: {us.strategy: [schedule, pivotal]}\n"
                       "design: {method: robust, worlds: 2}\n",
                       "needs 'uncertain:'"),
                      (WORLD + "levers: {us.strategy: [schedule, pivotal]}\n",
                       "policies of a robust design")):
        s = write(tmp_path, "s.yaml", text)
        r = run("validate", s, check=False)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
        assert r.stderr.startswith(f"{s}:")


@pytest.mark.parametrize("store", ["summary", "outcomes"])
def test_robust_run_survives_a_kill_and_resume(tmp_path, store):
    text = ROBUST.replace("replicates: 25", "replicates: 3000").replace("worlds: 6", "worlds: 2")
    s = write(tmp_path, "s.yaml", text + f"output: {{store: {store}}}\n")
    ref = tmp_path / "ref.h5"
    run("run", s, "-o", ref, "--quiet")
    out = tmp_path / "o.h5"
    kill_with_checkpoint(s, out)
    run("run", s, "-o", out, "--quiet", "--resume")
    same_data(ref, out)


def test_docs_robust_design_numbers():
    """docs/robust.md's robust-design study, rerun: every number it quotes."""
    text = " ".join((SRC / "docs" / "robust.md").read_text().split())
    text = text[text.index("### The study"):]
    ds = allied5g.run(str(SRC / "scenarios" / "robust_us_worlds.yaml"))
    assert ds.sizes["point"] == 16 * 200 and ds.sizes["replicate"] == 40
    Y = allied5g.policy_worlds(ds, "allies_moved")
    assert Y.shape == (16, 200) and Y.attrs["threshold"] == 28
    t = allied5g.robustness(Y)
    fav, uni, piv = ("wavering", 0.4, 0.5), ("uniform", 0.4, 0.5), ("pivotal", 0.4, 0.5)
    best = allied5g.rank_disagreement(t).attrs["best"]
    assert [m for m, b in best.items() if b == [fav]] == \
        ["mean", "p90", "worst", "mean_regret", "p90_regret", "max_regret"]
    assert best["satisficing"] == [uni] and "six of the seven measures" in text
    r = t.loc[fav]
    assert f"({r['mean']:.2f} allies moved on average, se {r['mean_se']:.2f}; mean regret " \
           f"{r['mean_regret']:.2f}, largest regret {r['max_regret']:.2f})" in text
    assert f"({t.loc[uni, 'satisficing']:.3f} of the worlds reach 28 against " \
           f"{r['satisficing']:.3f})" in text

    def cmp(a, b, y=Y):
        return allied5g.robustness_compare(y, a, b)

    d = cmp(uni, fav)
    assert f"a difference of {d.loc['satisficing', 'estimate']:+.3f} (se " \
           f"{d.loc['satisficing', 'se']:.3f})".replace("-", "\u2212") in text
    assert f"{d.loc['mean', 'estimate']:+.2f} allies (paired se {d.loc['mean', 'se']:.3f}; " \
           f"unpaired, as if each policy met worlds of its own, " \
           f"{d.loc['mean', 'se_unpaired']:.2f})" in text
    assert d.loc["mean_regret", "se"] < d.loc["mean_regret", "se_unpaired"]
    d = cmp(piv, fav)
    assert f"against pivotal: {d.loc['mean', 'estimate']:+.2f} (se {d.loc['mean', 'se']:.3f})" in text
    d = cmp(("wavering", 0.4, 0.0), fav)
    assert f"the lever adds {d.loc['mean', 'estimate']:+.2f} (se {d.loc['mean', 'se']:.3f})" in text
    d = cmp(("wavering", 0.2, 0.5), fav)
    assert f"doubling the budget adds {d.loc['mean', 'estimate']:+.2f} (se " \
           f"{d.loc['mean', 'se']:.3f})" in text
    S = allied5g.policy_worlds(ds, "pressure_spent")
    cheap = ("pivotal", 0.2, 0.5)
    assert S.mean(axis=1).idxmin() == cheap
    d = cmp(cheap, fav, S)
    assert f"It spends {d.loc['mean', 'estimate']:.1f} more units of pressure than pivotal with " \
           f"the smaller budget and the lever, which spends the least of all (se " \
           f"{d.loc['mean', 'se']:.2f})" in text
    res = allied5g.vulnerability(ds, fav, "allies_moved")
    assert f"in {100 * res.failing:.1f} % of the worlds" in text
    box = res.peeling_trajectory.iloc[-1]
    lim = res.box_lims[-1]
    assert f"a box that holds {100 * box['coverage']:.0f} % of the failing worlds, " \
           f"{100 * box['density']:.0f} % of whose worlds fail" in text
    assert f"below {lim.loc['decision.weights.us', 'hi']:.2f}" in text


def test_outcomes_export_and_tidy_frame(tmp_path):
    ds, out = robust_file(tmp_path)
    assert allied5g.families(ds)["outcomes"] == ["outcomes"]
    df = allied5g.to_dataframe(ds, "outcomes")
    assert len(df) == 36 * 25 * 4
    allied5g.export_csv(out, tmp_path / "csv")
    import pandas as pd
    got = pd.read_csv(tmp_path / "csv" / "outcomes.csv")
    assert len(got) == 36 * 25 * 4 and set(got["outcome"]) == {"banning", "deu_ban", "spent", "cost"}
    row = got[(got.point == 7) & (got.replicate == 3) & (got.outcome == "spent")]
    assert float(row["outcomes"].iloc[0]) == pytest.approx(
        float(ds.outcomes.sel(outcome="spent").values[7, 3]), rel=1e-6)


@pytest.mark.skipif(__import__("shutil").which("jupyter-nbconvert") is None,
                    reason="jupyter-nbconvert not installed")
def test_robust_notebook_executes(tmp_path, venv_python):
    """analysis/notebooks/robust.ipynb runs as shipped (fewer worlds and generations)."""
    from conftest import run_notebook
    nb = SRC / "analysis" / "notebooks" / "robust.ipynb"
    r = run_notebook(nb, tmp_path, venv_python,
                     {"A5_NOTEBOOK_WORLDS": "40", "A5_NOTEBOOK_GENERATIONS": "6"}, "r.ipynb")
    assert r.returncode == 0, r.stderr[-3000:]
    text = (tmp_path / "done.ipynb").read_text()
    assert "PRIM box" in text and "fails in" in text and "se_unpaired" in text
    assert (tmp_path / "done.ipynb").stat().st_size > 50000     # figures embedded


def test_store_outcomes_keeps_the_outcomes_only(tmp_path):
    """output.store outcomes (or --store outcomes): the outcomes, failed_replicates and
    the design, bit for bit as in a summary file; no per-replicate finals, no
    per-point aggregates; refused without outcomes."""
    s = write(tmp_path, "s.yaml", ROBUST)
    run("run", s, "-o", tmp_path / "s.h5", "--quiet", "--store", "summary")
    r = run("run", s, "-o", tmp_path / "o.h5", "--store", "outcomes")
    assert "kept the outcomes only (store outcomes): banning, deu_ban, spent, cost" in r.stdout
    with xr.open_dataset(tmp_path / "s.h5") as a, xr.open_dataset(tmp_path / "o.h5") as b:
        assert b.attrs["store"] == "outcomes"
        for v in ("outcomes", "failed_replicates", "us_strategy", "world_index"):
            assert np.array_equal(a[v].values, b[v].values), v
        for v in ("policy_share", "high_risk_share_mean", "final_policy", "cum_cost",
                  "first_ban_step"):
            assert v in a and v not in b, v
    assert os.path.getsize(tmp_path / "o.h5") < os.path.getsize(tmp_path / "s.h5") / 3
    ds = allied5g.load(tmp_path / "o.h5")
    assert allied5g.policy_worlds(ds, "banning").shape == (6, 6)
    assert "store             outcomes" in run("info", tmp_path / "o.h5").stdout
    v = run("validate", s, "--store", "outcomes").stdout
    assert "(store outcomes)" in v
    plain = write(tmp_path, "p.yaml", WORLD.split("outcomes:")[0])
    r = run("run", plain, "-o", tmp_path / "x.h5", "--store", "outcomes", check=False)
    assert r.returncode == 2 and "keeps only the scenario's outcomes, and it has none" in r.stderr
    assert r.stderr.startswith("--store:1:1: error:")  # where the user gave it, not a --set
    assert not os.path.exists(tmp_path / "x.h5")
    r = run("run", plain, "-o", tmp_path / "x.h5", "--set", "output.store=outcomes", check=False)
    assert r.returncode == 2 and r.stderr.startswith("--set:1:14: error:")
    r = run("run", plain, "-o", tmp_path / "x.h5", "--replicates", "3", "--seed", "1", "--store",
            "outcomes", "--set", "seed.common=true", check=False)
    assert r.returncode == 2 and r.stderr.startswith("--store:1:1: error:")
    assert not os.path.exists(tmp_path / "x.h5")
    r = run("run", s, "-o", tmp_path / "y.h5", "--store", "outcome", check=False)
    assert r.returncode == 2 and "full, summary or outcomes" in r.stderr


def test_red_team_round_one(tmp_path):
    """What a review found, each refused or fixed: overlapping draws, a one-nation
    --set under nations.*.X, an inert lever, report on an outcomes-only file, and a
    base-relative policies file in the saved scenario."""
    over = ROBUST.replace("  nations.*.threat: {dist: uniform, lo: 0, hi: 1}\n",
                          "  nations.*.threat: {dist: uniform, lo: 0, hi: 1}\n"
                          "  nations.DEU.threat: {dist: uniform, lo: 0, hi: 1}\n")
    s = write(tmp_path, "over.yaml", over)
    r = run("validate", s, check=False)
    assert r.returncode == 2 and "overlaps 'nations.*.threat', drawn already" in r.stderr
    s = write(tmp_path, "s.yaml", ROBUST)
    r = run("run", s, "-o", tmp_path / "x.h5", "--set", "nations.DEU.threat=0.3", check=False)
    assert r.returncode == 2 and "would change nothing: 'uncertain' gives every" in r.stderr
    assert not os.path.exists(tmp_path / "x.h5")
    # a code no nation has is unknown, whatever uncertain draws
    r = run("run", s, "-o", tmp_path / "x.h5", "--set", "nations.XYZ.threat=0.3", check=False)
    assert r.returncode == 2 and "unknown nation 'XYZ'" in r.stderr, r.stderr
    r = run("forecast", s, "--observed", SRC / "scenarios" / "observed_2019_2025.csv", check=False)
    assert r.returncode == 2 and "forecast runs one scenario" in r.stderr
    inert = ROBUST.replace("us: {budget: 0.4}", "us: {strategy: schedule}").replace(
        "us.strategy: [schedule, pivotal, uniform]", "us.budget: [0.1, 0.2]")
    r = run("validate", write(tmp_path, "inert.yaml", inert))
    assert "warning: 'us.budget' has no effect" in r.stderr
    run("run", s, "-o", tmp_path / "o.h5", "--quiet", "--store", "outcomes")
    import sys
    r = subprocess.run([sys.executable, "-m", "allied5g", "report", str(tmp_path / "o.h5"), "-o",
                        str(tmp_path / "rep")], capture_output=True, text=True)
    assert r.returncode == 2 and "keeps only its outcomes" in r.stderr
    assert not os.path.exists(tmp_path / "rep")
    # a policies file beside a base: the saved scenario names it absolutely
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/pol.csv", "us.intel_lever.downgrade,us.strategy\n0.5,pivotal\n")
    write(tmp_path, "sub/mid.yaml", "base: ../s.yaml\ndesign: {method: robust, worlds: 2, "
                                    "policies: pol.csv}\n")
    child = write(tmp_path, "child.yaml", "base: sub/mid.yaml\nreplicates: 5\n")
    run("run", child, "-o", tmp_path / "c.h5", "--quiet")
    with xr.open_dataset(tmp_path / "c.h5") as ds:
        text = ds.attrs["scenario"]
        first = ds.outcomes.values
    assert f"policies: {tmp_path / 'sub' / 'pol.csv'}" in text
    write(tmp_path, "pol.csv", "us.intel_lever.downgrade,us.strategy\n0,schedule\n")
    rerun = write(tmp_path, "rerun.yaml", text)
    run("run", rerun, "-o", tmp_path / "c2.h5", "--quiet")
    with xr.open_dataset(tmp_path / "c2.h5") as ds:
        assert np.array_equal(ds.outcomes.values, first)


def test_python_arguments_are_checked(tmp_path):
    ds, _ = robust_file(tmp_path)
    Y = allied5g.policy_worlds(ds, "banning")
    with pytest.raises(ValueError, match="not in 0..5"):
        allied5g.robustness_compare(Y, 0, -1)
    with pytest.raises(ValueError, match="not a policy"):
        allied5g.robustness_compare(Y, 0, ("nope", 1))
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        allied5g.robustness(Y, threshold="3")
    with pytest.raises(ValueError, match="file's outcomes \\(banning, deu_ban"):
        allied5g.policy_worlds(ds, "nope")
    # compare() takes the file's outcome names too
    c = allied5g.compare(ds, 0, 6, "banning")         # one world: paired
    assert c["n"] == 25 and c["paired"]
    with pytest.warns(allied5g.ResultsWarning, match="nor are the points in one world"):
        assert not allied5g.compare(ds, 0, 7, "banning")["paired"]
    with pytest.raises(ValueError, match="give direction="):
        allied5g.vulnerability(ds, 0, "n_ban()", threshold=3)
