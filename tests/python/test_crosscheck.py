"""Two independent implementations of MODEL.md agree: allied5g (C, Philox streams)
and bench/numpy_model.py (NumPy, numpy's generator) give the same policy shares and
mean high-risk shares within Monte Carlo error."""
import sys

import numpy as np
import xarray as xr
import yaml

from conftest import SRC, run

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402
from numpy_model import run as numpy_run  # noqa: E402


def test_c_and_numpy_models_agree(tmp_path):
    text = scenario(nations=8, steps=12, replicates=4000, store="summary", seed=3)
    path = tmp_path / "x.yaml"
    path.write_text(text)
    out = tmp_path / "x.h5"
    run("run", path, "-o", out, "--quiet")
    with xr.open_dataset(out) as ds:
        c_share = ds.policy_share.isel(point=0).values          # step, nation, option
        c_mean = ds.high_risk_share_mean.isel(point=0).values
    share, mean, _, _, _ = numpy_run(yaml.safe_load(text), 4000, seed=7)
    # Difference of two independent proportions, 4000 replicates each (pooled SE).
    pooled = np.maximum((share + c_share) / 2, 1 / 4000)
    se = np.sqrt(pooled * (1 - pooled) * (2 / 4000))
    z = np.abs(share - c_share) / se
    assert z.max() < 5.0, f"max z = {z.max():.2f}"
    assert np.abs(mean - c_mean).max() < 0.02
