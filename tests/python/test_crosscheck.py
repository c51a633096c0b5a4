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


STRATEGIC = [  # docs/model.md, "Strategic actors": every part on in one or the other
    {"us": {"strategy": "pivotal", "budget": 0.15, "budget_growth": 0.05,
            "intel_lever": {"credibility": 0.6, "downgrade": 0.5, "lead": 2, "duration": 3,
                            "credibility_loss": 0.15}},
     "china": {"strategy": "targeted", "budget": 1.5},
     "peers": {"base_tie": 0.1, "intel_standing": 1.0}},
    {"us": {"strategy": "wavering", "budget": 0.3},
     "china": {"strategy": "deterrent", "budget": 2.0, "price_response": 0.3,
               "price_budget": 1.0}},
    {"us": {"strategy": "uniform", "budget": 0.4, "intel_lever": {"downgrade": 0.8}},
     "china": {"strategy": "aggregate", "escalation": 0.8}},
]


def test_c_and_numpy_models_agree_with_strategic_actors(tmp_path):
    """The same check with every strategic actor on (one configuration after the
    other): shares within 5 pooled standard errors, mean shares within 0.02."""
    for c, extra in enumerate(STRATEGIC):
        sc = yaml.safe_load(scenario(nations=8, steps=12, replicates=4000, store="summary",
                                     seed=3 + c))
        for sec, v in extra.items():
            sc[sec] = {**sc.get(sec, {}), **v}
        path = tmp_path / f"s{c}.yaml"
        path.write_text(yaml.safe_dump(sc))
        out = tmp_path / f"s{c}.h5"
        run("run", path, "-o", out, "--quiet")
        with xr.open_dataset(out) as ds:
            c_share = ds.policy_share.isel(point=0).values
            c_mean = ds.high_risk_share_mean.isel(point=0).values
        share, mean, _, _, _ = numpy_run(sc, 4000, seed=11 + c)
        pooled = np.maximum((share + c_share) / 2, 1 / 4000)
        se = np.sqrt(pooled * (1 - pooled) * (2 / 4000))
        z = np.abs(share - c_share) / se
        assert z.max() < 5.0, f"configuration {c}: max z = {z.max():.2f}"
        assert np.abs(mean - c_mean).max() < 0.02, f"configuration {c}"
        # the strategies do something here: the plain model's shares differ
        if c == 0:
            plain = yaml.safe_load(scenario(nations=8, steps=12, replicates=4000,
                                            store="summary", seed=3))
            p_share, *_ = numpy_run(plain, 4000, seed=5)
            zp = np.abs(p_share - share) / se
            assert zp.max() > 8.0
