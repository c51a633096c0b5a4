"""Common random numbers (seed.common / run --crn) and allied5g.compare (issue 24.1):
every design point's replicate r on one stream, recorded in the file, bit-identical
for any thread count, and paired differences whose standard error is that of the
paired differences."""
import os
import warnings

import numpy as np
import pytest
import xarray as xr

import allied5g
from conftest import run, same_data
from test_strategies import WORLD as STRAT_WORLD

# test_strategies' four-nation world, with more replicates, pressure and a hazard
WORLD = (STRAT_WORLD.replace("replicates: 60\nseed: 9", "replicates: 300\nseed: 5")
         .replace("peers:", "us: {escalation: 0.02}\npeers:")
         + "events:\n  - {hazard: 0.05, add: {nations.*.threat: 0.1}}\n")
SWEEP = WORLD + "sweep: {us.escalation: [0.02, 0.02, 0.05]}\n"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _load(p):
    return allied5g.load(p)


def test_crn_shares_streams_and_is_recorded(tmp_path):
    sw = write(tmp_path, "sw.yaml", SWEEP)
    run("run", sw, "-o", tmp_path / "ind.h5", "-q")
    run("run", sw, "-o", tmp_path / "crn.h5", "-q", "--crn")
    with xr.open_dataset(tmp_path / "ind.h5") as ind, xr.open_dataset(tmp_path / "crn.h5") as crn:
        assert int(ind.attrs["common_random_numbers"]) == 0
        assert int(crn.attrs["common_random_numbers"]) == 1
        # points 0 and 1 are the same settings: on CRN the same bits, without not
        assert np.array_equal(crn.policy.values[0], crn.policy.values[1])
        assert not np.array_equal(ind.policy.values[0], ind.policy.values[1])
        # point 0 keeps its stream (seed, 0, r) either way
        assert np.array_equal(crn.policy.values[0], ind.policy.values[0])
        assert not np.array_equal(crn.policy.values[2], ind.policy.values[2])
    info = run("info", tmp_path / "crn.h5").stdout
    assert "common_random_numbers 1" in info


def test_crn_bit_identical_for_any_thread_count(tmp_path):
    sw = write(tmp_path, "sw.yaml", SWEEP.replace("replicates: 300", "replicates: 150"))
    for th in (1, 2, 3):
        run("run", sw, "-o", tmp_path / f"t{th}.h5", "-q", "--crn", "--threads", str(th))
    same_data(tmp_path / "t1.h5", tmp_path / "t2.h5")
    same_data(tmp_path / "t1.h5", tmp_path / "t3.h5")


def test_seed_forms_in_yaml_and_set(tmp_path):
    as_map = write(tmp_path, "m.yaml", SWEEP.replace("seed: 5", "seed: {value: 5, common: true}"))
    run("run", as_map, "-o", tmp_path / "m.h5", "-q")
    run("run", write(tmp_path, "s.yaml", SWEEP), "-o", tmp_path / "s.h5", "-q",
        "--set", "seed.common=true")
    same_data(tmp_path / "m.h5", tmp_path / "s.h5")
    # --seed / --set seed=N on the mapping form sets its value and keeps common
    out = run("validate", as_map, "--seed", "8").stdout
    assert "seed 8, common random numbers" in out
    out = run("validate", as_map, "--set", "seed.value=9").stdout
    assert "seed 9, common random numbers" in out
    assert "common random numbers" not in run("validate", write(tmp_path, "p.yaml", SWEEP)).stdout


@pytest.mark.parametrize("text,where,msg", [
    ("seed: {value: 5, common: 3}", "m.yaml:4:26:", "'seed.common' must be true or false"),
    ("seed: {value: 5, commons: true}", "m.yaml:4:18:", "unknown key 'commons'"),
    ("seed: {value: -1}", "m.yaml:4:15:", "seed.value"),
])
def test_bad_seed_mapping_is_located(tmp_path, text, where, msg):
    bad = write(tmp_path, "m.yaml", SWEEP.replace("seed: 5", text))
    p = run("run", bad, "-o", tmp_path / "x.h5", check=False)
    assert p.returncode == 2 and where in p.stderr and msg in p.stderr, p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_compare_paired_se_smaller_and_hand_checked(tmp_path):
    sw = write(tmp_path, "sw.yaml", SWEEP)
    run("run", sw, "-o", tmp_path / "crn.h5", "-q", "--crn")
    ds = _load(tmp_path / "crn.h5")
    # identical settings on CRN: exactly no difference, paired se 0
    same = allied5g.compare(ds, 0, 1, "n_ban()")
    assert same["estimate"] == 0 and same["se_paired"] == 0 and same["se_unpaired"] > 0
    c = allied5g.compare(ds, 0, 2, "n_ban()")
    assert c["paired"] and c["se"] == c["se_paired"] < c["se_unpaired"]
    pol = ds.policy.isel(time=-1).values
    y = (pol == 2).sum(-1).astype(float)
    d = y[2] - y[0]
    assert c["estimate"] == pytest.approx(d.mean())
    assert c["se_paired"] == pytest.approx(d.std(ddof=1) / np.sqrt(d.size))
    assert c["se_unpaired"] == pytest.approx(np.sqrt(y[0].var(ddof=1) / 300 + y[2].var(ddof=1) / 300))
    assert c["lo"] == pytest.approx(c["estimate"] - 1.959964 * c["se"], abs=1e-5)
    assert allied5g.compare(ds, 0, {"us.escalation": 0.05}, "n_ban()")["estimate"] == c["estimate"]
    # points 0 and 1 both have us.escalation 0.02: a mapping must pick one point
    with pytest.raises(ValueError, match="matches 2 design points"):
        allied5g.compare(ds, {"us.escalation": 0.02}, 2, "n_ban()")
    with pytest.raises(ValueError, match="point 7 is not in this file"):
        allied5g.compare(ds, 0, 7, "n_ban()")
    with pytest.raises(ValueError, match="unknown outcome"):
        allied5g.compare(ds, 0, 2, "p_ban(A)")
    # a DataArray over (point, replicate) is an outcome too
    da = (ds.policy.isel(time=-1, nation=0) == 2).astype(float)
    assert allied5g.compare(ds, 0, 2, da)["estimate"] == pytest.approx(
        allied5g.compare(ds, 0, 2, "ban(A)")["estimate"])
    # a 0/1 outcome is a share: Newcombe's paired interval, which keeps a width where
    # no pair disagrees (identical points: se 0, a normal interval of width 0)
    b = allied5g.compare(ds, 0, 1, "ban(A)")
    assert b["interval"] == "newcombe" and b["se"] == 0 and b["lo"] < 0 < b["hi"]
    assert c["interval"] == "normal"


def test_compare_without_crn_warns_and_uses_unpaired_se(tmp_path):
    sw = write(tmp_path, "sw.yaml", SWEEP)
    run("run", sw, "-o", tmp_path / "ind.h5", "-q", "--store", "summary")
    ds = _load(tmp_path / "ind.h5")
    with pytest.warns(allied5g.ResultsWarning, match="not run on common random numbers"):
        c = allied5g.compare(ds, 0, 2, "banned_by(B)")
    assert not c["paired"] and np.isnan(c["se_paired"]) and c["se"] == c["se_unpaired"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="store=full"):
            allied5g.compare(ds, 0, 2, "n_ban(2)")
        # the last step is in final_policy, kept in summary files
        last = allied5g.compare(ds, 0, 2, "n_ban()")
    fp = ds.final_policy.values
    y = (fp == 2).sum(-1)
    assert last["estimate"] == pytest.approx(y[2].mean() - y[0].mean())


def test_crn_resume_needs_crn_and_equals_uninterrupted(tmp_path):
    import signal

    from test_reliability import start, wait_for
    big = write(tmp_path, "big.yaml", SWEEP.replace("replicates: 300", "replicates: 40000"))
    run("run", big, "-o", tmp_path / "ref.h5", "-q", "--crn")
    out = tmp_path / "out.h5"
    p = start(big, out, "--crn", "--threads", 1, "--checkpoint", 0)
    wait_for(f"{out}.partial.state")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    if p.returncode == 0:     # finished before the signal: nothing to resume
        pytest.skip("the run finished before it could be interrupted")
    assert p.returncode == 1 and "--crn" in err and "--resume" in err, err
    # without --crn the resolved scenario differs: refused, nothing lost
    r = run("run", big, "-o", out, "-q", "--resume", check=False)
    assert r.returncode == 2 and "seed" in r.stderr and os.path.exists(f"{out}.partial")
    run("run", big, "-o", out, "-q", "--resume", "--crn", "--threads", 2)
    same_data(tmp_path / "ref.h5", out)


def test_strategies_figure_script_runs(tmp_path):
    """scripts/figure_strategies.py (docs/strategies.md's tables and figure) runs on
    the scenario's results (it broke once when design_frame began giving strategy
    names): its tables have every design point and contrast."""
    import subprocess
    import sys

    from conftest import SRC
    out = tmp_path / "s.h5"
    run("run", SRC / "scenarios" / "strategies_2019.yaml", "-o", out, "-q", "--set",
        "output.store=full", "--set", "replicates=40")
    r = subprocess.run([sys.executable, SRC / "scripts" / "figure_strategies.py", out,
                        tmp_path / "f.png"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("| ")]
    assert sum(ln.startswith("| wavering | deterrent | on |") for ln in rows) == 1
    assert any(ln.startswith("| US uniform vs schedule") for ln in rows)
    assert (tmp_path / "f.png").stat().st_size > 0
