"""Results file: contract layout under both xarray engines, aggregates against
the per-replicate data, and bit-identical results for any thread count."""
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from conftest import SRC, run, same_data

SCENARIO = """steps: 12
replicates: 300
seed: 11
nations:
  - {code: GBR, blocs: [five_eyes, nato], high_risk_share: 0.35, review_rate: 0.4}
  - {code: DEU, blocs: [nato, eu], high_risk_share: 0.55}
  - {code: SWE, blocs: [eu], home_vendor: true}
  - {code: USA, blocs: [five_eyes, nato], policy: ban, review_rate: 0}
events:
  - {at: 2019Q3, set: {risk.supply_risk: 0.4}}
  - {at: 5, add: {nations.*.us_pressure: 0.2}}
  - {hazard: 0.1, add: {nations.*.threat: 0.05}}
uncertain:
  decision.weights.risk: {dist: normal, mean: 1, sd: 0.3, min: 0}
  nations.*.threat: {dist: beta, a: 2, b: 3}
"""

DIMS4 = ("point", "replicate", "time", "nation")   # CF: time is the dimension


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("res")
    s = d / "s.yaml"
    s.write_text(SCENARIO)
    out = {}
    for t in (1, 2, 3):
        out[t] = d / f"t{t}.h5"
        run("run", s, "-o", out[t], "--threads", t, "--quiet")
    out["summary"] = d / "summary.h5"
    run("run", s, "-o", out["summary"], "--store", "summary", "--quiet")
    return out


@pytest.mark.parametrize("engine", ["netcdf4", "h5netcdf"])
def test_opens_with_both_engines(runs, engine):
    with xr.open_dataset(runs[1], engine=engine) as ds:
        assert ds.policy.dims == DIMS4
        assert ds.policy.dtype == np.int8
        assert ds.high_risk_share.dtype == np.float32
        assert ds.first_ban_step.dtype == np.int16
        assert ds.policy_share.dims == ("point", "time", "nation", "option")
        assert ds.high_risk_share_quantiles.dims == ("point", "time", "nation", "quantile")
        assert list(ds.nation.values) == ["GBR", "DEU", "SWE", "USA"]
        assert list(ds.option.values) == ["open", "restrict", "ban"]
        assert list(ds["quantile"].values) == [0.05, 0.5, 0.95]
        assert list(ds.date.values[:3]) == ["2019Q1", "2019Q2", "2019Q3"]
        assert ds.policy.attrs["flag_meanings"] == "open restrict ban"
        for v in ds.data_vars:
            assert "long_name" in ds[v].attrs
            assert ("units" in ds[v].attrs) != ("flag_meanings" in ds[v].attrs)
        for a in ("scenario", "seed", "software_version", "created", "command_line", "model",
                  "threads", "libraries", "git_revision"):
            assert a in ds.attrs


def test_contract_checker(runs):
    chk = SRC.parent / "shared" / "checks" / "results_contract.py"
    if not chk.exists():
        pytest.skip("shared/checks not present")
    for key, store in ((1, "full"), ("summary", "summary")):
        p = subprocess.run([sys.executable, chk, runs[key], store], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout


def test_identical_for_any_thread_count(runs):
    for t in (2, 3):
        same_data(runs[1], runs[t])
        with xr.open_dataset(runs[t]) as other:
            assert other.attrs["threads"] == t


def test_aggregates_match_replicates(runs):
    ds = xr.open_dataset(runs[1])
    pol = ds.policy.values[0]
    h = ds.high_risk_share.values[0].astype(np.float64)
    for k in range(3):
        assert np.allclose(ds.policy_share.values[0, ..., k], (pol == k).mean(0), atol=1e-6)
    assert np.allclose(ds.high_risk_share_mean.values[0], h.mean(0), atol=1e-6)
    q = np.quantile(h, [0.05, 0.5, 0.95], axis=0).transpose(1, 2, 0)
    bound = ds.high_risk_share_quantiles.attrs["max_abs_error"]
    assert bound < 1.0 / 1024
    assert np.abs(ds.high_risk_share_quantiles.values[0] - q).max() <= bound + 1e-6
    fb = ds.first_ban_step.values[0]
    first = np.where((pol == 2).any(1), (pol == 2).argmax(1), -1)
    assert np.array_equal(fb, first)
    fr = ds.first_restrict_step.values[0]
    first_r = np.where((pol >= 1).any(1), (pol >= 1).argmax(1), -1)
    assert ds.first_restrict_step.dtype == np.int16 and np.array_equal(fr, first_r)
    assert ((fr <= fb) | (fb < 0)).all() and (fr != fb).any()   # not a copy of first_ban_step
    assert np.array_equal(ds.final_policy.values[0], pol[:, -1, :])
    # USA is held at ban with review rate 0; its installed share decays to 0.
    assert (pol[..., 3] == 2).all()


def test_summary_store(runs):
    full, summ = xr.open_dataset(runs[1]), xr.open_dataset(runs["summary"])
    for v in ("policy", "high_risk_share", "us_pressure"):
        assert v in full and v not in summ
    for v in ("policy_share", "high_risk_share_mean", "high_risk_share_quantiles", "cum_cost",
              "first_ban_step", "first_restrict_step"):
        assert np.array_equal(full[v].values, summ[v].values), v
    # "Ever restricted by a date" works on a summary file and agrees with the histories.
    import allied5g
    pol = full.policy.values                                     # point, rep, step, nation
    for i, code in enumerate(str(c) for c in full.nation.values):
        want = ((pol[..., :6, i] >= 1).any(-1)).mean(-1)
        got = allied5g.outcomes(summ, f"restricted_by({code}, 5)").to_numpy()
        assert np.allclose(got, want), code


def test_resolved_scenario_reruns_identically(runs, tmp_path):
    ds = xr.open_dataset(runs[1])
    s = tmp_path / "again.yaml"
    s.write_text(ds.attrs["scenario"])
    out = tmp_path / "again.h5"
    run("run", s, "-o", out, "--quiet")
    again = xr.open_dataset(out)
    assert np.array_equal(again.high_risk_share.values, ds.high_risk_share.values)


def test_sweep_points(tmp_path):
    s = tmp_path / "sw.yaml"
    s.write_text(SCENARIO.replace("replicates: 300", "replicates: 40") +
                 "sweep:\n  us.escalation: [0, 0.05]\n  us.intel_threat: [0, 0.5, 1]\n")
    out = tmp_path / "sw.h5"
    run("run", s, "-o", out, "--quiet")
    with xr.open_dataset(out) as ds:
        assert ds.sizes["point"] == 6
        assert ds["us_escalation"].attrs["role"] == "design"
        assert ds["us_escalation"].attrs["path"] == "us.escalation"
        assert list(ds["us_intel_threat"].values) == [0, 0.5, 1, 0, 0.5, 1]
        assert ds.attrs["design_variables"] == "us_escalation us_intel_threat"
        # Replicate r of point p is the same stream whatever the other points are.
    one = tmp_path / "one.h5"
    run("run", s, "-o", one, "--quiet", "--set", "replicates=20")
    with xr.open_dataset(one) as a, xr.open_dataset(out) as b:
        assert np.array_equal(a.policy.values, b.policy.values[:, :20])


@pytest.mark.parametrize("engine", ["netcdf4", "h5netcdf"])
def test_cf_time_coordinate(runs, engine):
    """Plain xarray decodes `time` (quarter ends) and can index by it."""
    for key in (1, "summary"):
        with xr.open_dataset(runs[key], engine=engine) as ds:
            assert "time" in ds.dims and ds.time.dims == ("time",)      # CF: the dimension
            assert ds.attrs["Conventions"] == "CF-1.8"
            assert np.issubdtype(ds.time.dtype, np.datetime64)
            want = np.array(["2019-03-31", "2019-06-30", "2019-09-30", "2019-12-31",
                             "2020-03-31", "2020-06-30", "2020-09-30", "2020-12-31",
                             "2021-03-31", "2021-06-30", "2021-09-30", "2021-12-31"],
                            dtype="datetime64[ns]")
            assert np.array_equal(ds.time.values, want)
            assert ds.time.attrs["standard_name"] == "time" and "long_name" in ds.time.attrs
            assert ds.time.encoding["units"] == "days since 1970-01-01"
            assert ds.time.encoding["calendar"] == "proleptic_gregorian"
            assert list(ds.date.values) == [f"{2019 + t // 4}Q{t % 4 + 1}" for t in range(12)]
            assert ds.step.dims == ("time",) and list(ds.step.values) == list(range(12))
            y = ds.sel(time="2020")
            assert list(y.date.values) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4"]
            assert list(y.step.values) == [4, 5, 6, 7]
            np.testing.assert_array_equal(y.policy_share.values, ds.policy_share.values[:, 4:8])
            # the one-liner, with no package
            z = ds.sel(time="2020", nation="DEU")
            assert z.policy_share.dims == ("point", "time", "option")


def test_time_of_other_starts(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text("start: 1999Q3\nsteps: 3\nreplicates: 2\nnations: [{code: A}]\n")
    out = tmp_path / "o.h5"
    run("run", s, "-o", out, "--quiet")
    with xr.open_dataset(out) as ds:
        assert [str(t)[:10] for t in ds.time.values] == ["1999-09-30", "1999-12-31", "2000-03-31"]
