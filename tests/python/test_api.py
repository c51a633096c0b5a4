"""The Python API: allied5g.run, the loader (time axis, text coordinates, errors),
one-family tables, the CSV export, and one version everywhere."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import allied5g
from conftest import BIN, SRC, TIMEOUT, run, same_data

SCEN = """start: 2019Q1
steps: 10
replicates: 40
nations:
  - {code: GBR, name: United Kingdom, blocs: [five_eyes], high_risk_share: 0.4, review_rate: 0.5}
  - {code: CAN, blocs: [five_eyes], high_risk_share: 0.5, review_rate: 0.5}
  - {code: DEU, name: Germany, high_risk_share: 0.6, review_rate: 0.5}
  - {code: USA, blocs: [five_eyes], policy: ban, review_rate: 0}
"""
ENV = {**os.environ, "PYTHONPATH": str(SRC / "analysis")}


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's directory for this test only, to see what run() leaves behind."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    (d / "s.yaml").write_text(SCEN)
    run("run", d / "s.yaml", "-o", d / "r.h5", "--quiet", "--seed", "7")
    return d


def test_version_agrees_everywhere():
    cmake = (SRC / "CMakeLists.txt").read_text()
    want = re.search(r"project\(allied5g\s+VERSION\s+([\d.]+)", cmake).group(1)
    assert allied5g.__version__ == want
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    assert out.split()[1] == want, out
    pyproject = (SRC / "analysis" / "pyproject.toml").read_text()
    assert 'version = {attr = "allied5g.__version__"}' in pyproject


def test_run_path_equals_cli(results, private_tmp):
    ds = allied5g.run(results / "s.yaml", seed=7, progress=False)
    with xr.open_dataset(results / "r.h5") as ref:
        for v in ref.data_vars:
            assert np.array_equal(np.asarray(ds[v].values), ref[v].values), v
    assert "time" in ds.dims and ds.sizes["replicate"] == 40
    assert list(private_tmp.iterdir()) == []                  # nothing left behind
    ds.policy.values                                          # in memory: the file is gone


def test_run_options_and_set(results, private_tmp):
    ds = allied5g.run(results / "s.yaml", set={"us.escalation": 0.05, "nations.DEU.threat": 0.7},
                      replicates=12, seed=3, threads=1, store="summary", progress=False)
    assert ds.sizes["replicate"] == 12 and "policy" not in ds
    cmd = ds.attrs["command_line"]
    for part in ("--set us.escalation=0.05", "--set nations.DEU.threat=0.7", "--seed 3",
                 "--threads 1", "--store summary"):
        assert part in cmd
    out = results / "set.h5"
    run("run", results / "s.yaml", "-o", out, "--quiet", "--replicates", 12, "--seed", 3,
        "--store", "summary", "--set", "us.escalation=0.05", "--set", "nations.DEU.threat=0.7")
    with xr.open_dataset(out) as ref:
        assert np.array_equal(ds.policy_share.values, ref.policy_share.values)
    assert list(private_tmp.iterdir()) == []


def test_run_dict_and_out(tmp_path, private_tmp):
    import yaml
    scen = yaml.safe_load(SCEN)
    out = tmp_path / "kept.h5"
    ds = allied5g.run(scen, replicates=5, out=out, progress=False)
    assert out.exists() and ds.sizes["replicate"] == 5
    ds.close()
    with pytest.raises(FileExistsError):              # not replaced without force
        allied5g.run(scen, replicates=5, out=out, progress=False)
    ds = allied5g.run(scen, replicates=6, out=out, force=True, progress=False)
    assert ds.sizes["replicate"] == 6
    ds.close()
    assert list(private_tmp.iterdir()) == []


def test_scenario_error_carries_every_message(tmp_path, private_tmp):
    bad = {"steps": 4, "stpes": 3, "nations": [{"code": "A", "threat": 1.5}]}
    with pytest.raises(allied5g.ScenarioError) as e:
        allied5g.run(bad, progress=False)
    msgs = e.value.messages
    assert len(msgs) == 2, msgs
    assert all(re.match(r"<scenario>:\d+:\d+: error: ", m) for m in msgs), msgs
    assert any("did you mean 'steps'" in m for m in msgs)
    assert any("must be in [0, 1]" in m for m in msgs)
    line = int(next(m for m in msgs if "stpes" in m).split(":")[1])
    assert e.value.yaml.splitlines()[line - 1].startswith("stpes")
    # a file: its own name in the messages, and the progress path reports the same
    p = tmp_path / "bad.yaml"
    p.write_text("steps: 4\nstpes: 3\nnations: [{code: A, threat: 1.5}]\n")
    with pytest.raises(allied5g.ScenarioError) as e2:
        allied5g.run(p, progress=True)
    assert len(e2.value.messages) == 2
    assert all(m.startswith(f"{p}:") for m in e2.value.messages), e2.value.messages
    assert "\r" not in e2.value.stderr and "runs/s" not in e2.value.stderr
    assert isinstance(e.value, ValueError)
    assert list(private_tmp.iterdir()) == []


def test_run_progress(results, private_tmp, capsys):
    """With progress on (outside a notebook: a line on stderr), the simulator's
    progress line is read through a pseudo-terminal; the data are the same."""
    ds = allied5g.run(results / "s.yaml", seed=7, replicates=2000, progress=True)
    err = capsys.readouterr().err
    assert "2,000/2,000 runs (100 %)" in err, err[-300:]
    quiet = allied5g.run(results / "s.yaml", seed=7, replicates=2000, progress=False)
    assert np.array_equal(ds.policy.values, quiet.policy.values)
    assert list(private_tmp.iterdir()) == []


def test_find_binary(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIED5G_BIN", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="ALLIED5G_BIN"):
        allied5g.find_binary()
    monkeypatch.delenv("ALLIED5G_BIN")
    found = allied5g.find_binary()          # build/allied5g of this checkout, or PATH
    assert os.access(found, os.X_OK)


def test_load_time_index_and_text_coords(results):
    ds = allied5g.load(results / "r.h5")
    assert ds.time.dtype.kind == "M" and "time" in ds.indexes
    assert str(ds.time.values[0])[:10] == "2019-03-31" and str(ds.time.values[-1])[:10] == "2021-06-30"
    assert ds.sel(time="2020").sizes["time"] == 4
    assert list(ds.sel(time="2020").date.values) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    assert list(ds.step.values) == list(range(10))            # step kept, on time
    assert ds.sel(nation="GBR").nation_name.item() == "United Kingdom"
    # arithmetic between variables works (no conflicting indexes)
    d = ds.policy_share.sel(option="ban") - ds.high_risk_share_mean
    assert d.dims == ("point", "time", "nation")
    flat = allied5g.load(results / "r.h5", time_index=False)
    assert "step" in flat.dims and "time" in flat.coords


def test_load_uses_cf_time_when_present(results, tmp_path):
    """A file with a CF time variable (written by the simulator from 0.3): the loader
    takes it as it is; without one it builds it from date (checked above)."""
    with xr.open_dataset(results / "r.h5") as ds:
        t = pd.to_datetime([pd.Period(str(x), freq="Q").end_time.normalize()
                            for x in ds.date.values]) + pd.Timedelta(days=1)   # recognisably not built
        ds = ds.load().assign(time=("step", t))
        ds["time"].encoding.update(units="days since 2019-01-01", calendar="proleptic_gregorian")
        ds.to_netcdf(tmp_path / "cf.h5")
    got = allied5g.load(tmp_path / "cf.h5")
    assert np.array_equal(got.time.values, t.values)


def test_to_dataframe_fresh_session(results):
    """The lazily loaded nation_name once broke list selections in a new session
    ("strides must all be 1 for string variables")."""
    code = (f"import allied5g; ds = allied5g.load({str(results / 'r.h5')!r}, engine='netcdf4');"
            "df = allied5g.to_dataframe(ds, 'policy', nation=['GBR', 'DEU']);"
            "print(len(df), sorted(set(df.nation_name)), df.policy.dtype)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == str(40 * 10 * 2)
    assert "Germany" in r.stdout and "category" in r.stdout


def test_to_dataframe_one_family(results):
    ds = allied5g.load(results / "r.h5")
    with pytest.raises(ValueError, match="one variable family at a time"):
        allied5g.to_dataframe(ds, ["policy", "final_policy"])
    steps = allied5g.to_dataframe(ds, "steps", nation="GBR", time="2020")
    assert len(steps) == 40 * 4 and {"policy", "high_risk_share", "us_pressure", "date"} <= set(steps)
    finals = allied5g.to_dataframe(ds, "finals")
    assert len(finals) == 40 * 4 and "time" not in finals
    agg = allied5g.to_dataframe(ds, "aggregates")
    assert len(agg) == 10 * 4
    row = agg[(agg.nation == "DEU") & (agg.step == 9)].iloc[0]
    share = ds.policy_share.isel(point=0, time=-1).sel(nation="DEU")
    assert row.share_ban == pytest.approx(float(share.sel(option="ban")))
    assert row.high_risk_share_q95 == pytest.approx(
        float(ds.high_risk_share_quantiles.isel(point=0, time=-1).sel(nation="DEU", quantile=0.95)))
    assert list(allied5g.to_dataframe(ds, "design").columns) == ["point", "failed_replicates"]


def test_load_live_str_coords_and_time(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(SCEN)
    out = tmp_path / "live.h5"
    run("run", s, "-o", out, "--quiet", "--live")
    done = allied5g.load_live(out)                       # finished: PATH itself
    assert done.attrs["replicates_done"] == [40]
    done.close()
    shutil.copy(out, f"{out}.partial")                  # read as a running batch is
    ds = allied5g.load_live(out)
    assert ds.sel(nation="GBR").nation_name.item() == "United Kingdom"
    assert ds.sel(time="2020").sizes["time"] == 4 and ds.attrs["replicates_done"] == [40]
    ds.close()


def _copy_with(src, dst, **attrs):
    import h5py
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        for k, v in attrs.items():
            f.attrs[k] = v


def test_results_errors(results, tmp_path):
    good = results / "r.h5"
    data = good.read_bytes()
    cases = {"trunc.h5": data[: len(data) // 2], "text.h5": b"name: not results\n",
             "empty.h5": b""}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    import h5py
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    want = {"trunc.h5": "damaged or truncated", "text.h5": "not an HDF5 file",
            "empty.h5": "empty file", "foreign.h5": "not an allied5g results file"}
    for name, why in want.items():
        with pytest.raises(allied5g.ResultsError) as e:
            allied5g.load(tmp_path / name)
        assert str(tmp_path / name) in str(e.value) and why in str(e.value), str(e.value)
    with pytest.raises(FileNotFoundError):
        allied5g.load(tmp_path / "none.h5")
    _copy_with(good, tmp_path / "inc.h5", complete="no")
    with pytest.warns(allied5g.ResultsWarning, match="incomplete"):
        allied5g.load(tmp_path / "inc.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        allied5g.load(good).close()
    r = subprocess.run([sys.executable, "-m", "allied5g", "report", tmp_path / "text.h5", "-o",
                        tmp_path / "rep"], capture_output=True, text=True, env=ENV, timeout=TIMEOUT)
    assert r.returncode == 2 and "not an HDF5 file" in r.stderr   # bad input: exit 2


def test_export_csv(results, tmp_path):
    out = tmp_path / "csv"
    r = subprocess.run([sys.executable, "-m", "allied5g", "export", results / "r.h5", "--csv", out],
                       capture_output=True, text=True, env=ENV, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["aggregates.csv", "design.csv", "finals.csv", "nations.csv", "steps.csv"]
    ds = allied5g.load(results / "r.h5")
    steps = pd.read_csv(out / "steps.csv")
    assert list(steps.columns[:7]) == ["point", "replicate", "step", "date", "time", "nation",
                                       "nation_name"]
    assert len(steps) == 40 * 10 * 4
    row = steps[(steps.replicate == 17) & (steps.step == 6) & (steps.nation == "DEU")].iloc[0]
    code = int(ds.policy.isel(point=0, replicate=17, time=6).sel(nation="DEU"))
    assert row.policy == allied5g.POLICIES[code] and row.date == "2020Q3" and row.time == "2020-09-30"
    assert row.high_risk_share == pytest.approx(
        float(ds.high_risk_share.isel(point=0, replicate=17, time=6).sel(nation="DEU")), rel=1e-6)
    # written a block of replicates at a time: the same table whatever the block
    allied5g.export_csv(results / "r.h5", tmp_path / "small", chunk=7)
    assert (tmp_path / "small" / "steps.csv").read_bytes() == (out / "steps.csv").read_bytes()
    finals = pd.read_csv(out / "finals.csv", keep_default_na=False)
    assert set(finals.final_policy) <= set(allied5g.POLICIES) and len(finals) == 160
    nations = pd.read_csv(out / "nations.csv", keep_default_na=False)
    assert nations.set_index("nation").loc["DEU", "blocs"] == ""
    assert nations.set_index("nation").loc["USA", "blocs"] == "five_eyes"
    agg = pd.read_csv(out / "aggregates.csv")
    assert np.allclose(agg[["share_open", "share_restrict", "share_ban"]].sum(1), 1, atol=1e-5)


def test_run_error(tmp_path, private_tmp):
    with pytest.raises(allied5g.RunError) as e:
        allied5g.run(SRC / "scenarios" / "minimal.yaml", out=tmp_path / "no" / "dir" / "x.h5",
                     progress=False)
    assert e.value.returncode == 1 and "allied5g" in e.value.stderr
    with pytest.raises(FileNotFoundError):
        allied5g.run(tmp_path / "missing.yaml", progress=False)
    assert list(private_tmp.iterdir()) == []


def test_same_results_through_api_and_cli_with_sweep(tmp_path, private_tmp):
    s = tmp_path / "sw.yaml"
    s.write_text(SCEN + "sweep: {us.escalation: [0, 0.1]}\n")
    ds = allied5g.run(s, replicates=10, progress=False, out=tmp_path / "a.h5")
    assert list(ds["us.escalation"].values) == [0, 0.1]
    ds.close()
    run("run", s, "-o", tmp_path / "b.h5", "--replicates", 10, "--quiet")
    same_data(tmp_path / "a.h5", tmp_path / "b.h5")
