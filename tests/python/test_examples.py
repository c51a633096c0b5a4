"""Every scenario in scenarios/ validates and runs (small replicate counts), and the
results pass the contract check."""
import subprocess
import sys

import pytest
import xarray as xr

from conftest import SRC, run

FILES = sorted(p.name for p in (SRC / "scenarios").glob("*.yaml"))


def test_all_examples_listed():
    assert {"huawei_2019.yaml", "minimal.yaml", "us_escalation_sweep.yaml", "sensitivity.yaml"} <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_example_runs(tmp_path, name):
    path = SRC / "scenarios" / name
    run("validate", path)
    out = tmp_path / "out.h5"
    reps = "4" if name == "sensitivity.yaml" else "20"
    run("run", path, "-o", out, "--replicates", reps, "--quiet")
    with xr.open_dataset(out) as ds:
        store = str(ds.attrs["store"])
        assert ds.sizes["replicate"] == int(reps)
    chk = SRC.parent / "shared" / "checks" / "results_contract.py"
    if chk.exists():
        p = subprocess.run([sys.executable, chk, out, store], capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stdout


def test_default_scenario_story(tmp_path):
    """The default run tells the story the README tells: the Baltic states and Sweden
    ban more often than Germany and Hungary; the US always bans."""
    out = tmp_path / "d.h5"
    run("run", SRC / "scenarios" / "huawei_2019.yaml", "-o", out, "--replicates", "400", "--quiet",
        "--store", "summary")
    with xr.open_dataset(out) as ds:
        ban = ds.policy_share.isel(point=0, time=-1).sel(option="ban").to_series()
    assert ban["USA"] == 1.0
    for hawk in ("EST", "LVA", "LTU", "SWE"):
        for dove in ("DEU", "HUN", "AUT"):
            assert ban[hawk] > ban[dove] + 0.2, (hawk, dove, ban[hawk], ban[dove])
