"""Shared fixtures: the allied5g binary, the source tree, and a runner."""
import os
import subprocess
from pathlib import Path

import pytest

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
