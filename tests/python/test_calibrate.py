"""Calibration: parameter recovery, the objective goes down, FITTED.yaml runs as is,
hold-out metrics against baselines, and located errors for bad observation rows."""
import sys

import pytest
import xarray as xr
import yaml

from conftest import SRC, run

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

POL = ["open", "restrict", "ban"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("cal")
    s = d / "s.yaml"
    s.write_text(scenario(nations=30, steps=16, replicates=400, store="full"))
    return d, s


def observe(d, s, true_us, worlds=10, seed=999):
    """Observed policies: `worlds` independent runs with decision.weights.us = true_us,
    every nation at 2019Q4, 2020Q4, 2021Q4 and 2022Q4."""
    truth = d / f"truth{true_us}.h5"
    run("run", s, "-o", truth, "--quiet", "--force", "--set", f"decision.weights.us={true_us}",
        "--set", f"replicates={worlds}", "--set", f"seed={seed}")
    rows = ["code,date,policy"]
    with xr.open_dataset(truth) as ds:
        for r in range(worlds):
            for t in (3, 7, 11, 15):
                for i, c in enumerate(ds.nation.values):
                    rows.append(f"{c},{ds.date.values[t]},{POL[int(ds.policy.values[0, r, t, i])]}")
    obs = d / f"obs{true_us}.csv"
    obs.write_text("\n".join(rows) + "\n")
    return obs


@pytest.mark.parametrize("true_us", [1.0, 2.0])
def test_parameter_recovery(setup, true_us):
    d, s = setup
    obs = observe(d, s, true_us)
    out = d / f"fit{true_us}.yaml"
    r = run("calibrate", s, "--observed", obs, "--repeated-observations", "--fit", "decision.weights.us=0:5", "-o", out,
            "--force", "--set", "decision.weights.us=0.5" if true_us > 1.5 else "decision.weights.us=3.5")
    fitted = yaml.safe_load(out.read_text())
    got = fitted["decision"]["weights"]["us"]
    # Stated tolerance: within 0.5 of the truth (10 simulated worlds x 30 nations x 4 dates).
    assert abs(got - true_us) < 0.5, (got, true_us, r.stdout)
    # The objective went down and the report says so.
    line = [x for x in r.stdout.splitlines() if x.startswith("objective")][0]
    start = float(line.split(":")[1].split("at")[0])
    end = float(line.split("->")[1])
    assert end < start
    head = out.read_text().splitlines()[:6]
    assert head[0].startswith("# Calibrated by:") and any("decision.weights.us" in h for h in head)
    # FITTED.yaml runs as is.
    run("run", out, "-o", d / f"again{true_us}.h5", "--quiet", "--force", "--replicates", 20)


def test_holdout_and_brier(setup):
    d, s = setup
    obs = observe(d, s, 1.5, worlds=4, seed=5)
    r = run("calibrate", s, "--observed", obs, "--repeated-observations", "--fit", "decision.weights.us=0:5", "--fit",
            "decision.weights.risk=0:5", "-o", d / "h.yaml", "--force", "--holdout", "N0,N1,N2",
            "--objective", "brier", "--starts", 2, "--replicates", 200)
    out = r.stdout
    assert "held out (48 observations)" in out
    assert "baseline: keep initial policy" in out and "baseline: bloc majority" in out
    assert "objective (Brier score)" in out


def test_bad_observations_are_located(setup, tmp_path):
    _, s = setup
    obs = tmp_path / "bad.csv"
    obs.write_text("code,date,policy\nN0,2019Q2,ban\nNX,2019Q2,ban\nN1,2019Q5,ban\n"
                   "N2,2030Q1,open\nN3,2019Q3,banned\n")
    r = run("calibrate", s, "--observed", obs, "--repeated-observations", "--fit", "decision.weights.us=0:5", "-o",
            tmp_path / "f.yaml", check=False)
    assert r.returncode == 2
    err = r.stderr
    assert f"{obs}:3:1: error: unknown nation code 'NX'" in err
    assert f"{obs}:4:4: error: bad date '2019Q5'" in err
    assert f"{obs}:5:4: error: date 2030Q1 is outside the run" in err
    assert f"{obs}:6:11: error: bad policy 'banned'" in err
    assert not (tmp_path / "f.yaml").exists()
    obs.write_text("nation,when,what\nN0,2019Q2,ban\n")
    r = run("calibrate", s, "--observed", obs, "--repeated-observations", "--fit", "decision.weights.us=0:5", "-o",
            tmp_path / "f.yaml", check=False)
    assert r.returncode == 2 and ":1:1: error: the header must be 'code,date,policy'" in r.stderr


def test_bad_fit_specs(setup, tmp_path):
    d, s = setup
    obs = observe(d, s, 1.0, worlds=1)
    for spec, msg in (("decision.weights.uss=0:3", "names nothing"),
                      ("decision.weights.us", "give bounds"),
                      ("decision.weights.us=3:1", "must be increasing"),
                      ("decision.weights.us=0;3", "bounds must be LO:HI")):
        r = run("calibrate", s, "--observed", obs, "--repeated-observations", "--fit", spec, "-o", tmp_path / "f.yaml",
                check=False)
        assert r.returncode == 2 and msg in r.stderr, (spec, r.stderr)
