"""Many-objective search (issue 27, item 4): NSGA-II recovers ZDT1's known Pareto front
through the same code path the model uses, is reproducible from its seed, warns when it
has not converged, and runs on the model with every candidate on the same worlds."""
import warnings

import numpy as np
import pandas as pd
import pytest

import allied5g
from allied5g.pareto import SearchWarning, search
from conftest import FIVE_NATIONS

pytest.importorskip("deap")


def zdt1(X):
    """Zitzler, Deb and Thiele (2000), test problem 1: the front is f2 = 1 - sqrt(f1),
    f1 in [0, 1], where every x_i but the first is 0."""
    x = X.to_numpy()
    f1 = x[:, 0]
    g = 1 + 9 * x[:, 1:].mean(axis=1)
    return pd.DataFrame({"f1": f1, "f2": g * (1 - np.sqrt(f1 / g))})


BOUNDS = {f"x{i}": (0, 1) for i in range(8)}


def test_zdt1_front_is_recovered():
    from deap.tools._hypervolume import hv
    r = search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, population=48, generations=100, seed=3,
               reference={"f1": 1.1, "f2": 1.1})
    f = r.front
    assert len(f) >= 30
    # on the true front, to within a few hundredths
    assert np.abs(f["f2"] - (1 - np.sqrt(f["f1"]))).max() < 0.05
    assert f["f1"].min() < 0.05 and f["f1"].max() > 0.9            # spread along it
    # hypervolume: the true front's (ref 1.1, 1.1) is 0.1 + 2/3 + 0.11
    true = 0.1 + 2 / 3 + 0.11
    t = np.linspace(0, 1, 4001)
    assert hv.hypervolume(np.c_[t, 1 - np.sqrt(t)], np.array([1.1, 1.1])) == \
        pytest.approx(true, abs=1e-3)
    assert r.convergence["hypervolume"].iloc[-1] > 0.97 * true
    hvs = r.convergence["hypervolume"].to_numpy()
    assert hvs[-1] > hvs[10] > hvs[0]              # (crowding may trim it a little at times)
    assert list(r.convergence["evaluations"])[:2] == [48, 96]
    # the front is non-dominated
    F = f[["f1", "f2"]].to_numpy()
    for a in F:
        assert not ((F <= a).all(axis=1) & (F < a).any(axis=1)).any()


def test_reproducible_from_its_seed_and_leaves_random_alone():
    import random
    random.seed(123)
    before = random.getstate()
    kw = dict(population=16, generations=6, reference={"f1": 1.1, "f2": 1.1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        a = search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, seed=5, **kw)
        b = search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, seed=5, **kw)
        c = search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, seed=6, **kw)
    assert random.getstate() == before
    pd.testing.assert_frame_equal(a.population, b.population)
    assert not a.population.equals(c.population)


def test_not_converged_is_said():
    with pytest.warns(SearchWarning, match="may not have converged"):
        r = search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, population=8, generations=8, seed=1)
    assert not r.converged
    with pytest.warns(SearchWarning, match="too few"):
        search(zdt1, BOUNDS, {"f1": "min", "f2": "min"}, population=8, generations=2, seed=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="lo < hi"):
        search(zdt1, {"x0": (1, 0)}, {"f1": "min"})
    with pytest.raises(ValueError, match="'max' or 'min'"):
        search(zdt1, BOUNDS, {"f1": "down"})
    with pytest.raises(ValueError, match="lacks"):
        search(zdt1, BOUNDS, {"f3": "min"}, population=4, generations=1)


SCEN = """steps: 12
replicates: 10
seed: 11
""" + FIVE_NATIONS + """us: {budget: 0.4, strategy: pivotal}
china: {strategy: targeted, budget: 1}
uncertain:
  decision.weights.us: {dist: uniform, lo: 0.5, hi: 1.5}
levers: {us.budget: [0.2, 0.4]}
design: {method: robust, worlds: 4}
outcomes:
  banning: {metric: n_ban, direction: max, threshold: 3}
  spent: {metric: us_spent, direction: min}
"""


def test_search_on_the_model(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(SCEN)
    lv = {"us.budget": (0.1, 1.0), "us.intel_lever.downgrade": (0.0, 0.6)}
    with pytest.warns(SearchWarning):
        r = allied5g.search_levers(s, lv, population=8, generations=3, seed=2)
    assert r.directions == {"banning": "max", "spent": "min"}
    assert list(r.front.columns) == ["us.budget", "us.intel_lever.downgrade", "banning", "spent"]
    assert r.front["us.budget"].between(0.1, 1.0).all()
    assert len(r.convergence) == 4 and r.convergence["evaluations"].iloc[-1] == 32
    # a candidate's objectives are the robust design's: rerun the front's first policy
    p = r.front.iloc[0]
    ds = allied5g.run(s, {"levers": "{us.budget: [%r], us.intel_lever.downgrade: [%r]}" % (
        float(p["us.budget"]), float(p["us.intel_lever.downgrade"]))})
    assert float(allied5g.policy_worlds(ds, "banning").iloc[0].mean()) == \
        pytest.approx(p["banning"], rel=1e-9)
    assert float(allied5g.policy_worlds(ds, "spent").iloc[0].mean()) == \
        pytest.approx(p["spent"], rel=1e-9)
    files = r.save(tmp_path / "front")
    assert [f.rsplit("/", 1)[1] for f in files] == ["front.csv", "population.csv",
                                                     "convergence.csv"]
    assert len(pd.read_csv(files[0])) == len(r.front)
    fig = r.plot()
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel() == "generation"
    with pytest.raises(ValueError, match="regret"):
        allied5g.search_levers(s, lv, measure="mean_regret")
    with pytest.raises(ValueError, match="not outcomes"):
        allied5g.search_levers(s, lv, objectives=["nope"], population=4, generations=1)


def test_docs_search_numbers():
    """docs/robust.md's search on the model, rerun: the numbers it quotes."""
    from conftest import SRC
    text = " ".join((SRC / "docs" / "robust.md").read_text().split())
    text = text[text.index("## Searching continuous levers"):]
    r = allied5g.search_levers(
        str(SRC / "scenarios" / "robust_us_worlds.yaml"),
        {"us.budget": (0.05, 0.6), "us.intel_lever.downgrade": (0, 0.6)},
        objectives=["allies_moved", "pressure_spent"], set={"us.strategy": "pivotal"},
        worlds=20, replicates=20, population=16, generations=25, seed=1)
    assert r.converged and "converges in 25 generations" in text
    assert f"({r.convergence['evaluations'].iloc[-1]} policies evaluated" in text
    f = r.front.sort_values("us.budget").reset_index(drop=True)
    assert f"a downgrade of {f['us.intel_lever.downgrade'].min():.3f} or more" in text
    lo, hi = f.iloc[0], f.iloc[-1]
    at = f[f["us.budget"].round(2) == 0.25].iloc[0]
    assert f"it buys {lo['allies_moved']:.2f} to {at['allies_moved']:.2f} allies " \
           f"({lo['pressure_spent']:.1f} to {at['pressure_spent']:.1f} units of pressure)" in text
    below = f[f["us.budget"] < 0.5].iloc[-1]
    assert f"up to {below['us.budget']:.3f} almost nothing more ({below['allies_moved']:.2f})" in text
    assert f"at {hi['us.budget']:.3f} a jump to {hi['allies_moved']:.2f} allies for " \
           f"{hi['pressure_spent']:.1f}" in text
