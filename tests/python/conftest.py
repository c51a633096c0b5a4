"""Shared fixtures: the allied5g binary, the source tree, and a runner."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

SRC = Path(os.environ.get("A5_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("ALLIED5G", str(SRC / "build" / "allied5g"))


def run(*args, check=True, **kw):
    """Run allied5g with args; returns CompletedProcess (text mode)."""
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"allied5g {' '.join(map(str, args))} -> {p.returncode}\n{p.stderr}")
    return p


@pytest.fixture
def src():
    return SRC


@pytest.fixture
def a5():
    return run


def same_data(a, b):
    """Every variable of results files a and b holds the same bits."""
    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        assert set(x.data_vars) == set(y.data_vars)
        for v in x.data_vars:
            p, q = x[v].values, y[v].values
            if p.dtype.kind == "f":
                assert np.array_equal(p.view(np.uint32 if p.itemsize == 4 else np.uint64),
                                      q.view(np.uint32 if q.itemsize == 4 else np.uint64)), v
            else:
                assert np.array_equal(p, q), v
