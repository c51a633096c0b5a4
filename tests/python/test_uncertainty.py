"""Monte Carlo standard errors and intervals of the package's shares, and the
restrict-or-ban outcomes, against hand computations on a small synthetic dataset
(five replicates, three steps, two nations; no simulator needed)."""
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import allied5g
from allied5g.uncertainty import share_interval

Z90 = 1.6448536269514722     # the 95th percentile of the standard normal

# DEU's policy per replicate (rows) and step (columns); GBR stays open throughout
DEU = np.array([[0, 1, 0],    # restricts at step 1, lifts at 2
                [0, 0, 2],    # bans at step 2
                [1, 1, 1],    # restricts from the first step
                [0, 0, 0],    # stays open
                [2, 2, 1]])   # bans from the first step, eases to restrict


def synthetic(store="full", first_restrict=False):
    pol = np.zeros((1, 5, 3, 2), dtype=np.int8)          # point, replicate, step, nation
    pol[0, :, :, 0] = DEU
    share = np.stack([(pol == k).mean(1) for k in range(3)], -1)    # point, step, nation, option
    fb = np.where((pol == 2).any(2), (pol == 2).argmax(2), -1).astype(np.int16)
    h = np.linspace(0.1, 0.5, 5)[None, :, None, None] * np.ones((1, 5, 3, 2))
    ds = xr.Dataset(
        {"policy_share": (("point", "step", "nation", "option"), share.astype(np.float32)),
         "first_ban_step": (("point", "replicate", "nation"), fb),
         "final_policy": (("point", "replicate", "nation"), pol[:, :, -1, :]),
         "high_risk_share_mean": (("point", "step", "nation"), h.mean(1)),
         "bloc_member": (("nation", "bloc"), np.array([[1], [1]], dtype=np.int8))},
        coords={"point": [0], "nation": ["DEU", "GBR"], "option": ["open", "restrict", "ban"],
                "date": ("step", ["2019Q1", "2019Q2", "2019Q3"]), "bloc": ["eu"]})
    if store == "full":
        ds["policy"] = (("point", "replicate", "step", "nation"), pol)
        ds["high_risk_share"] = (("point", "replicate", "step", "nation"), h)
    if first_restrict:
        ds["first_restrict_step"] = (("point", "replicate", "nation"),
                                     np.array([[[1, -1], [2, -1], [0, -1], [-1, -1], [0, -1]]],
                                              dtype=np.int16))
    return ds


def wilson(p, n, z=Z90):
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def test_share_interval_by_hand():
    se, lo, hi = share_interval(0.6, 5)
    assert se == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    assert (lo, hi) == pytest.approx(wilson(0.6, 5))
    se, lo, hi = share_interval(0.6, 5, method="normal")
    assert (lo, hi) == pytest.approx((0.6 - Z90 * 0.219089, 0.6 + Z90 * 0.219089), abs=1e-6)
    # a share of 0 keeps a width (0 of 1,000 is not a certainty): 0 .. z^2 / (n + z^2)
    se, lo, hi = share_interval(0.0, 1000)
    assert se == 0 and lo == 0 and hi == pytest.approx(Z90 ** 2 / (1000 + Z90 ** 2))
    assert np.isnan(share_interval(0.5, 0)[0])
    with pytest.raises(ValueError, match="method"):
        share_interval(0.5, 10, method="exact")
    with pytest.raises(ValueError, match="level"):
        share_interval(0.5, 10, level=90)


def test_paired_share_interval_published_values():
    """Newcombe's square-and-add interval for paired shares, against the published
    example of Fagerland, Lydersen and Laake (2017, ch. 8; Cavo et al. 2012: 59 pairs
    both 1, 6 only the first, 16 only the second, 80 neither): -0.0621 (95 % CI
    -0.1186 to -0.0046). No pair disagreeing (se 0) still leaves a width."""
    from allied5g.uncertainty import paired_share_interval
    yb = np.r_[np.ones(65), np.zeros(96)]
    ya = np.r_[np.ones(59), np.zeros(6), np.ones(16), np.zeros(80)]
    lo, hi = paired_share_interval(ya, yb, 0.95)
    assert (round(lo, 4), round(hi, 4)) == (-0.1186, -0.0046)
    lo, hi = paired_share_interval(np.zeros(100), np.zeros(100), 0.95)
    z = 1.959964
    assert hi == pytest.approx(z * z / (100 + z * z), rel=1e-5) and lo == pytest.approx(-hi)


def test_restrict_outcomes_by_hand():
    ds = synthetic()
    y = allied5g.outcomes(ds, {"pr": "p_restrict(DEU, 2019Q3)", "pb": "p_ban(DEU)",
                               "r0": "restricted_by(DEU, 2019Q1)", "r1": "restricted_by(DEU, 1)",
                               "r2": "restricted_by(DEU)", "b2": "banned_by(DEU, 2019Q3)",
                               "g": "p_restrict(GBR)"}, se=True)
    row = y.iloc[0]
    # at the last step: open, ban, restrict, open, restrict
    assert row.pr == pytest.approx(3 / 5) and row.pb == pytest.approx(1 / 5)
    # at least restricted at some step up to 0 / 1 / 2: r2, r4 / + r0 / + r1
    assert (row.r0, row.r1, row.r2) == pytest.approx((2 / 5, 3 / 5, 4 / 5))
    assert row.b2 == pytest.approx(2 / 5) and row.g == 0
    for name, p in [("pr", 0.6), ("pb", 0.2), ("r2", 0.8), ("b2", 0.4), ("g", 0.0)]:
        assert row[f"{name}_se"] == pytest.approx(math.sqrt(p * (1 - p) / 5))
        assert (row[f"{name}_lo"], row[f"{name}_hi"]) == pytest.approx(wilson(p, 5))
    assert list(y.columns[:4]) == ["pr", "pr_se", "pr_lo", "pr_hi"]
    # without se: the Series it always was
    s = allied5g.outcomes(ds, "restricted_by(DEU, 2019Q2)")
    assert isinstance(s, pd.Series) and s.iloc[0] == pytest.approx(0.6)


def test_restricted_by_needs_histories():
    summary = synthetic(store="summary")
    assert allied5g.outcomes(summary, "p_restrict(DEU)").iloc[0] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="store full"):
        allied5g.outcomes(summary, "restricted_by(DEU, 2019Q2)")
    # a file that records the first restricting step per replicate needs no histories
    rec = synthetic(store="summary", first_restrict=True)
    assert allied5g.outcomes(rec, "restricted_by(DEU, 1)").iloc[0] == pytest.approx(0.6)


def test_means_and_quantiles_carry_uncertainty():
    ds = synthetic()
    h = allied5g.outcomes(ds, "high_risk_share(DEU)", se=True).iloc[0]
    v = np.linspace(0.1, 0.5, 5)
    assert h["high_risk_share(DEU)"] == pytest.approx(v.mean())
    assert h["high_risk_share(DEU)_se"] == pytest.approx(v.std(ddof=1) / math.sqrt(5))
    assert h["high_risk_share(DEU)_hi"] - v.mean() == pytest.approx(Z90 * v.std(ddof=1) / math.sqrt(5))
    # cohesion per replicate (two members: agree or not) is a share of replicates:
    # binomial se and a Wilson interval, inside [0, 1] (a normal one passed 1)
    c = allied5g.outcomes(ds, "cohesion(eu)", se=True).iloc[0]
    agree = (DEU[:, -1] == 0).astype(float)            # GBR is open
    assert c["cohesion(eu)"] == pytest.approx(agree.mean())
    p = agree.mean()
    assert c["cohesion(eu)_se"] == pytest.approx(math.sqrt(p * (1 - p) / 5))
    assert (c["cohesion(eu)_lo"], c["cohesion(eu)_hi"]) == pytest.approx(wilson(p, 5))
    # on a summary file the mean comes from the aggregates and has no standard error
    s = allied5g.outcomes(synthetic(store="summary"), "high_risk_share(DEU)", se=True).iloc[0]
    assert s["high_risk_share(DEU)"] == pytest.approx(v.mean()) and np.isnan(s.iloc[1])
    q = allied5g.outcomes(ds, "first_ban_quantile(DEU, 0.5)", se=True).iloc[0]
    assert q.iloc[0] == 3 and np.isnan(q.iloc[1])       # never banned counts as 3 steps
    assert q.iloc[2] <= q.iloc[0] <= q.iloc[3]
    # Replicates that did not finish (-2) are left out, not counted as never banned:
    # of the finished {never (3), 2, 0} the median is 2 (counting them: 3).
    fb = ds["first_ban_step"].values.copy()
    fb[0, 2:4, 0] = -2
    q = allied5g.outcomes(ds.assign(first_ban_step=(ds["first_ban_step"].dims, fb)),
                          "first_ban_quantile(DEU, 0.5)", se=True).iloc[0]
    assert q.iloc[0] == 2 and q.iloc[2] <= 2 <= q.iloc[3]


def test_aggregates_table_carries_errors():
    ds = synthetic()
    t = allied5g.to_dataframe(ds, "aggregates", se=True)
    assert {"share_ban_se", "share_ban_lo", "share_ban_hi", "share_open_se"} <= set(t.columns)
    r = t[(t.nation == "DEU") & (t.step == 2)].iloc[0]
    assert r.share_restrict == pytest.approx(0.4)
    assert r.share_restrict_se == pytest.approx(math.sqrt(0.4 * 0.6 / 5))
    assert (r.share_restrict_lo, r.share_restrict_hi) == pytest.approx(wilson(0.4, 5))
    n = allied5g.to_dataframe(ds, "aggregates", se=True, level=0.5, interval="normal")
    r = n[(n.nation == "DEU") & (n.step == 2)].iloc[0]
    assert r.share_restrict_hi - 0.4 == pytest.approx(0.6744897501960817 * math.sqrt(0.24 / 5))
    assert "share_ban_se" not in allied5g.to_dataframe(ds, "aggregates").columns
    with pytest.raises(ValueError, match="aggregates"):
        allied5g.to_dataframe(ds, "finals", se=True)


def test_unfinished_replicates_are_left_out():
    ds = synthetic()
    fb = ds.first_ban_step.values.copy()
    fb[0, 3, :] = -32767                                  # replicate 3 not run: fill value
    ds["first_ban_step"] = (ds.first_ban_step.dims, fb)
    fp = ds.final_policy.values.copy()
    fp[0, 3, :] = -1
    ds["final_policy"] = (ds.final_policy.dims, fp)
    y = allied5g.outcomes(ds, "banned_by(DEU)", se=True).iloc[0]
    assert y.iloc[0] == pytest.approx(2 / 4) and y.iloc[1] == pytest.approx(math.sqrt(0.25 / 4))


@pytest.mark.parametrize("n", [1, 7, 40, 60, 1000, 4321])
def test_interval_holds_the_share(n):
    p = np.array([0.0, 1.0, 1 / n, 1 - 1 / n])
    for method in ("wilson", "normal"):
        _, lo, hi = share_interval(p, n, method=method)
        assert (lo <= p).all() and (p <= hi).all() and (lo >= 0).all() and (hi <= 1).all()
