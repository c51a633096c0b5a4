"""Robustness measures (issue 27, item 3): hand-computed on a small table, paired
bootstrap, ranks and their disagreement, and on a CRN results file."""
import numpy as np
import pandas as pd
import pytest

import allied5g
from conftest import run

# three policies (rows) in three worlds (columns); larger is better
Y = pd.DataFrame([[1.0, 5.0, 3.0], [2.0, 2.0, 2.0], [0.0, 6.0, 1.0]],
                 index=pd.Index(["a", "b", "c"], name="policy"))


def test_measures_by_hand():
    t = allied5g.robustness(Y, direction="max", threshold=2, percentile=90, n_boot=50)
    np.testing.assert_allclose(t["mean"], [3, 2, 7 / 3])
    # 10th percentile, linear interpolation: sorted (1, 3, 5) -> 1 + 0.2 * (3 - 1)
    np.testing.assert_allclose(t["p90"], [1.4, 2.0, 0.2])
    np.testing.assert_allclose(t["worst"], [1, 2, 0])
    np.testing.assert_allclose(t["satisficing"], [2 / 3, 1, 1 / 3])
    # best per world (2, 6, 3): regrets a (1, 1, 0), b (0, 4, 1), c (2, 0, 2)
    np.testing.assert_allclose(t["mean_regret"], [2 / 3, 5 / 3, 4 / 3])
    np.testing.assert_allclose(t["max_regret"], [1, 4, 2])
    # 90th percentile of regret: sorted a (0, 1, 1) -> 1; b (0, 1, 4) -> 1 + 0.8 * 3
    np.testing.assert_allclose(t["p90_regret"], [1.0, 3.4, 2.0])
    np.testing.assert_allclose(t["mean_se"], Y.std(axis=1, ddof=1) / np.sqrt(3))
    np.testing.assert_allclose(t["satisficing_se"], np.sqrt([2 / 9, 0, 2 / 9] / np.array(3.0)))
    assert list(t["rank_mean"]) == [1, 3, 2]
    assert list(t["rank_worst"]) == [2, 1, 3]
    assert list(t["rank_max_regret"]) == [1, 3, 2]
    assert list(t["rank_satisficing"]) == [2, 1, 3]
    assert (t["worlds"] == 3).all()


def test_min_is_max_of_the_negated_outcome():
    a = allied5g.robustness(Y, "max", threshold=2, n_boot=20)
    b = allied5g.robustness(-Y, "min", threshold=-2, n_boot=20)
    for m in ("mean", "p90", "worst"):
        np.testing.assert_allclose(a[m], -b[m])
    for m in ("satisficing", "mean_regret", "p90_regret", "max_regret", "rank_mean",
              "rank_p90_regret", "mean_se", "max_regret_se"):
        np.testing.assert_allclose(a[m].astype(float), b[m].astype(float))


def test_disagreement_and_plot(tmp_path):
    t = allied5g.robustness(Y, "max", threshold=2, n_boot=20)
    tau = allied5g.rank_disagreement(t)
    assert tau.loc["mean", "mean"] == pytest.approx(1)
    assert tau.loc["mean", "worst"] < 0          # expected value and maximin disagree here
    assert tau.attrs["best"]["mean"] == ["a"] and tau.attrs["best"]["worst"] == ["b"]
    fig = allied5g.robustness_plot(t)
    fig.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_bad_arguments():
    with pytest.raises(ValueError, match="direction"):
        allied5g.robustness(Y, "up")
    with pytest.raises(ValueError, match="percentile"):
        allied5g.robustness(Y, percentile=10)
    with pytest.raises(ValueError, match="missing"):
        allied5g.robustness(Y.where(Y > 0))
    with pytest.raises(ValueError, match="2 policies"):
        allied5g.robustness(Y.iloc[:1])


def test_bootstrap_se_is_paired():
    """Regret is taken world by world: resampling the worlds jointly keeps it so.
    A world effect shared by every policy leaves regret (and its se) unchanged, while
    the policies' own percentiles move with it."""
    rng = np.random.default_rng(1)
    base = rng.normal(size=(4, 400))
    shift = 10 * rng.normal(size=400)           # the same for every policy in a world
    a = allied5g.robustness(pd.DataFrame(base), "max", n_boot=200, seed=3)
    b = allied5g.robustness(pd.DataFrame(base + shift), "max", n_boot=200, seed=3)
    for m in ("mean_regret", "p90_regret", "max_regret"):
        np.testing.assert_allclose(a[m], b[m], rtol=1e-9)
        np.testing.assert_allclose(a[f"{m}_se"], b[f"{m}_se"], rtol=1e-9)
    assert (b["mean_se"] > 3 * a["mean_se"]).all()


def test_on_a_crn_file(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text("steps: 8\nreplicates: 120\nseed: {value: 4, common: true}\n"
                 "nations:\n  - {code: A, blocs: [x]}\n  - {code: B, blocs: [x]}\n"
                 "  - {code: C, policy: ban}\n"
                 "uncertain: {nations.*.threat: {dist: uniform, lo: 0, hi: 1}}\n"
                 "us: {budget: 0.2}\n"
                 "sweep: {us.strategy: [uniform, pivotal, wavering]}\n")
    run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    ds = allied5g.load(tmp_path / "o.h5")
    Yf = allied5g.policy_worlds(ds, "n_moved()")
    assert Yf.shape == (3, 120) and list(Yf.index.get_level_values("us.strategy")) == [
        "uniform", "pivotal", "wavering"]
    t = allied5g.robustness(Yf, "max", threshold=2, n_boot=100)
    assert list(t.index.get_level_values("us.strategy")) == ["uniform", "pivotal", "wavering"]
    # the mean matches compare()'s means, point by point
    c = allied5g.compare(ds, 0, 1, "n_moved()")
    assert t["mean"].iloc[0] == pytest.approx(c["mean_a"]) and \
        t["mean"].iloc[1] == pytest.approx(c["mean_b"])
    assert t["rank_mean"].notna().all()
    s2 = tmp_path / "n.yaml"
    s2.write_text(s.read_text().replace("{value: 4, common: true}", "4"))
    run("run", s2, "-o", tmp_path / "n.h5", "--quiet")
    with pytest.raises(ValueError, match="common random numbers"):
        allied5g.policy_worlds(allied5g.load(tmp_path / "n.h5"), "n_moved()")


def test_compare_is_paired():
    """b minus a under each measure; paired se from the world-by-world differences
    (hand-computed), and smaller than the unpaired one when worlds drive both."""
    d = allied5g.robustness_compare(Y, "a", "c", "max", threshold=2, n_boot=50)
    assert d.loc["mean", "estimate"] == pytest.approx(7 / 3 - 3)
    diff = np.array([0 - 1, 6 - 5, 1 - 3.0])
    assert d.loc["mean", "se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(3))
    assert d.loc["satisficing", "estimate"] == pytest.approx(1 / 3 - 2 / 3)
    assert d.loc["max_regret", "estimate"] == pytest.approx(1)
    rng = np.random.default_rng(2)
    world = 5 * rng.normal(size=300)
    Z = pd.DataFrame([world + rng.normal(size=300), world + 0.3 + rng.normal(size=300)])
    p = allied5g.robustness_compare(Z, 0, 1, "max", threshold=0, n_boot=100)
    for m in ("mean", "satisficing"):
        assert p.loc[m, "se"] < 0.5 * p.loc[m, "se_unpaired"], m
    # regret is already taken against the same world's best: its difference is the
    # outcomes' difference negated, with the same paired se
    assert p.loc["mean_regret", "estimate"] == pytest.approx(-p.loc["mean", "estimate"])
    assert p.loc["mean_regret", "se"] == pytest.approx(p.loc["mean", "se"])
    assert p.loc["mean", "estimate"] == pytest.approx(0.3, abs=4 * p.loc["mean", "se"])


def test_docs_robust_numbers():
    """docs/robust.md's worked study, rerun: every number it quotes."""
    from conftest import SRC
    text = " ".join((SRC / "docs" / "robust.md").read_text().split())   # one space
    ds = allied5g.run(str(SRC / "scenarios" / "robust_us.yaml"))
    Y = allied5g.policy_worlds(ds, "n_moved()")
    assert Y.shape == (8, 400)
    t = allied5g.robustness(Y, "max", threshold=28, percentile=90)
    L = list(Y.index)
    sched0, sched, unif, piv, wav0, wav = L[0], L[1], L[3], L[5], L[6], L[7]
    best = allied5g.rank_disagreement(t).attrs["best"]
    assert best["mean"] == [sched] and best["mean_regret"] == [sched]
    assert best["satisficing"] == [piv] and best["max_regret"] == [piv]
    assert best["p90"] == [wav0, wav] and len(best["worst"]) == 8
    row = t.loc[sched]
    assert f"({row['mean']:.2f} allies, se {row['mean_se']:.2f})" in text
    row = t.loc[piv]
    assert f"({row['satisficing']:.3f} of the worlds reach 28, se {row['satisficing_se']:.3f}" in text
    others = t["max_regret"].drop(piv)
    assert f"largest regret is {row['max_regret']:.0f} allies against {others.min():.0f} to " \
           f"{others.max():.0f}" in text
    assert f"({t.loc[wav, 'p90']:.0f} allies in the worst tenth" in text
    assert f"({t['worst'].max():.0f} ally for every policy" in text and t["worst"].nunique() == 1

    def cmp(a, b):
        return allied5g.robustness_compare(Y, a, b, "max", threshold=28)

    d = cmp(sched, piv)
    assert f"{d.loc['mean', 'estimate']:+.2f} allies on average (paired se " \
           f"{d.loc['mean', 'se']:.2f}, unpaired {d.loc['mean', 'se_unpaired']:.2f})" \
           .replace("-", "\u2212") in text
    assert f"{d.loc['satisficing', 'estimate']:+.3f} in satisficing (paired se " \
           f"{d.loc['satisficing', 'se']:.3f})" in text
    assert f"{d.loc['p90', 'estimate']:+.1f} in the 90 % value (bootstrap se " \
           f"{d.loc['p90', 'se']:.2f})".replace("-", "\u2212") in text
    assert f"{d.loc['max_regret', 'estimate']:+.0f} in the largest regret (bootstrap se " \
           f"{d.loc['max_regret', 'se']:.1f})".replace("-", "\u2212") in text
    d = cmp(sched0, sched)
    assert f"{d.loc['mean', 'estimate']:+.2f} allies, se {d.loc['mean', 'se']:.2f};" in text
    assert f"{d.loc['satisficing', 'estimate']:+.3f} in satisficing, se " \
           f"{d.loc['satisficing', 'se']:.3f})" in text
    d = cmp(sched, unif)
    assert f"{d.loc['mean', 'estimate']:+.2f} allies, se {d.loc['mean', 'se']:.2f};" \
           .replace("-", "\u2212") in text
    assert f"{d.loc['satisficing', 'estimate']:+.3f} in satisficing, se " \
           f"{d.loc['satisficing', 'se']:.3f})".replace("-", "\u2212") in text


def test_without_a_threshold():
    """satisficing is NaN without a threshold, and the other measures still compare."""
    t = allied5g.robustness(Y, "max", n_boot=20)
    assert t["satisficing"].isna().all() and t["rank_satisficing"].isna().all()
    d = allied5g.robustness_compare(Y, "a", "c", "max", n_boot=20)
    assert np.isnan(d.loc["satisficing", "estimate"])
    assert d.loc["mean", "estimate"] == pytest.approx(7 / 3 - 3)
    with pytest.raises(ValueError, match="threshold"):
        allied5g.robustness(Y, "max", threshold=float("nan"))
