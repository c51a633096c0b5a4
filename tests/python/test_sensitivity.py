"""Designs and Sobol indices: the Ishigami function fed through the saltelli design,
and a real run where one designed parameter cannot matter."""
import numpy as np
import pytest

import allied5g
from conftest import run

ISHIGAMI = """steps: 1
replicates: 1
nations: [{code: A}]
design:
  method: saltelli
  points: 1024
  ranges:
    decision.weights.cost: [-3.141592653589793, 3.141592653589793]
    decision.weights.risk: [-3.141592653589793, 3.141592653589793]
    decision.weights.us: [-3.141592653589793, 3.141592653589793]
"""


def test_ishigami_indices(tmp_path):
    s = tmp_path / "ish.yaml"
    s.write_text(ISHIGAMI)
    out = tmp_path / "ish.h5"
    run("run", s, "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    assert ds.attrs["design_method"] == "saltelli" and ds.attrs["design_n"] == 1024
    x = allied5g.design_frame(ds)
    assert list(x.columns) == ["decision.weights.cost", "decision.weights.risk",
                               "decision.weights.us"]
    assert len(x) == 1024 * 5
    x1, x2, x3 = (x[c].to_numpy() for c in x.columns)
    y = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)
    si = allied5g.sobol_indices(ds, y)
    assert list(si.index) == list(x.columns)
    assert np.allclose(si.S1, [0.3139, 0.4424, 0.0], atol=0.05), si
    assert np.allclose(si.ST, [0.5576, 0.4424, 0.2437], atol=0.05), si
    assert (si.S1_conf > 0).all() and (si.ST_conf < 0.2).all()



def test_ishigami_second_order_indices(tmp_path):
    """design: {method: saltelli, second_order: true}: N (2k + 2) points in SALib's
    order, and S2 of the Ishigami function (S13 = 0.2437, S12 = S23 = 0)."""
    s = tmp_path / "ish2.yaml"
    s.write_text(ISHIGAMI.replace("  points: 1024\n", "  second_order: true\n  points: 2048\n"))
    out = tmp_path / "ish2.h5"
    run("run", s, "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    n, k = 2048, 3
    assert ds.attrs["design_method"] == "saltelli" and ds.attrs["design_n"] == n
    assert int(ds.attrs["saltelli_second_order"]) == 1 and int(ds.attrs["points"]) == n * (2 * k + 2)
    x = allied5g.design_frame(ds)
    rows = x.to_numpy().reshape(n, 2 * k + 2, k)
    A, B = rows[:, 0], rows[:, -1]
    for j in range(k):      # AB_j: A with column j from B; BA_j: B with column j from A
        ab, ba = A.copy(), B.copy()
        ab[:, j], ba[:, j] = B[:, j], A[:, j]
        assert np.array_equal(rows[:, 1 + j], ab) and np.array_equal(rows[:, 1 + k + j], ba)
    x1, x2, x3 = (x[c].to_numpy() for c in x.columns)
    y = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)
    si = allied5g.sobol_indices(ds, y, second_order=True, num_resamples=200)
    assert np.allclose(si.S1, [0.3139, 0.4424, 0.0], atol=0.05), si
    assert np.allclose(si.ST, [0.5576, 0.4424, 0.2437], atol=0.05), si
    s2 = si.attrs["S2"]
    cost, risk, us = x.columns
    assert abs(s2.loc[cost, us] - 0.2437) < 0.05, s2
    assert abs(s2.loc[cost, risk]) < 0.05 and abs(s2.loc[risk, us]) < 0.05, s2
    assert 0 < si.attrs["S2_conf"].loc[cost, us] < 0.2
    # the same base sample as the first-order design: its rows A, AB_j and B
    first = tmp_path / "ish1.yaml"
    first.write_text(ISHIGAMI.replace("  points: 1024\n", "  points: 2048\n"))
    run("run", first, "-o", tmp_path / "ish1.h5", "--quiet", "--store", "summary")
    ds1 = allied5g.load(tmp_path / "ish1.h5")
    assert "saltelli_second_order" not in ds1.attrs
    rows1 = allied5g.design_frame(ds1).to_numpy().reshape(n, k + 2, k)
    assert np.array_equal(rows1[:, :k + 1], rows[:, :k + 1])
    assert np.array_equal(rows1[:, -1], B)

def test_irrelevant_parameter_has_zero_total_index(tmp_path):
    s = tmp_path / "real.yaml"
    # Streams differ between points (seed, point, replicate), so Monte Carlo noise
    # alone gives an irrelevant parameter a small ST; enough replicates keep it small.
    s.write_text("""steps: 8
replicates: 400
nations:
  - {code: GBR, blocs: [a], high_risk_share: 0.4, review_rate: 0.5}
  - {code: DEU, blocs: [a], high_risk_share: 0.5, review_rate: 0.5}
design:
  method: saltelli
  points: 32
  ranges:
    decision.weights.us: [0, 3]
    decision.weights.home: [0, 3]        # no nation has a home vendor
    decision.weights.risk: [0, 3]
""")
    out = tmp_path / "real.h5"
    run("run", s, "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    y = (ds.final_policy.sel(nation="GBR") == 2).mean("replicate")
    si = allied5g.sobol_indices(ds, y, num_resamples=200)
    assert abs(si.loc["decision.weights.home", "ST"]) < 0.05, si
    assert si.loc["decision.weights.us", "ST"] > 0.05, si
    assert si.loc["decision.weights.risk", "ST"] > 0.3, si


def test_sobol_indices_rejects_wrong_input(tmp_path):
    s = tmp_path / "lhs.yaml"
    s.write_text("steps: 2\nreplicates: 2\nnations: [{code: A}]\n"
                 "design: {method: lhs, points: 8, ranges: {us.escalation: [0, 1]}}\n")
    out = tmp_path / "lhs.h5"
    run("run", s, "-o", out, "--quiet")
    ds = allied5g.load(out)
    with pytest.raises(ValueError, match="saltelli"):
        allied5g.sobol_indices(ds, np.zeros(8))
    lhs = allied5g.design_frame(ds)["us.escalation"].to_numpy()
    assert sorted((lhs * 8).astype(int)) == list(range(8))   # one point per stratum


def test_load_and_tidy(tmp_path):
    s = tmp_path / "t.yaml"
    s.write_text("start: 2020Q3\nsteps: 4\nreplicates: 3\n"
                 "nations: [{code: GBR, name: United Kingdom}, {code: DEU}]\n"
                 "sweep: {us.escalation: [0, 0.1]}\n")
    out = tmp_path / "t.h5"
    run("run", s, "-o", out, "--quiet")
    ds = allied5g.load(out)
    assert "us.escalation" in ds.coords
    assert str(ds.time.values[0])[:10] == "2020-09-30"
    assert str(ds.time.values[3])[:10] == "2021-06-30"
    df = allied5g.to_dataframe(ds, "policy", nation="GBR")
    assert len(df) == 2 * 3 * 4
    assert list(df.policy.cat.categories) == ["open", "restrict", "ban"]
    assert {"point", "replicate", "step", "time", "us.escalation"} <= set(df.columns)
    names = allied5g.decode_policy(ds.final_policy.isel(point=0))
    assert set(np.unique(names.values)) <= {"open", "restrict", "ban"}
    assert (names.values == np.array(["open", "restrict", "ban"], dtype=object)[
        ds.final_policy.isel(point=0).values]).all()
    share = allied5g.to_dataframe(ds, "policy_share")
    assert len(share) == 2 * 4 * 2 * 3
    assert share.groupby(["point", "step", "nation"], observed=True).policy_share.sum().round(5).eq(1).all()
