"""Shared fixtures: the allied5g binary, the source tree, a runner, and the venv."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

SRC = Path(os.environ.get("A5_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("ALLIED5G", str(SRC / "build" / "allied5g"))
# The package under test is this checkout's, and allied5g.run uses the binary under test.
sys.path.insert(0, str(SRC / "analysis"))
os.environ["ALLIED5G_BIN"] = BIN
# Generous bounds against hangs only: nothing here asserts how fast anything is.
TIMEOUT = 600


# Five nations in three blocs, the USA banning from the start: the small world of the
# strategic-actor and robust-design tests.
FIVE_NATIONS = """nations:
  - {code: GBR, blocs: [nato, five_eyes], high_risk_share: 0.35, china_trade: 0.3}
  - {code: DEU, blocs: [nato, eu], high_risk_share: 0.55, china_trade: 0.5, us_ties: 0.4}
  - {code: FRA, blocs: [nato, eu], high_risk_share: 0.3}
  - {code: HUN, blocs: [nato, eu], high_risk_share: 0.6, china_trade: 0.6, us_ties: 0.2}
  - {code: USA, blocs: [nato, five_eyes], policy: ban, review_rate: 0}
"""


def run(*args, check=True, **kw):
    """Run allied5g with args; returns CompletedProcess (text mode)."""
    kw.setdefault("timeout", TIMEOUT)
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


def make_venv(where: Path, analysis: Path = SRC / "analysis") -> Path:
    """What scripts/quickstart.sh does: Debian's python3, --system-site-packages, the
    analysis package installed editable, offline. Returns the venv's python."""
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(where)],
                   check=True, capture_output=True, timeout=TIMEOUT)
    py = where / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation",
                        "--no-deps", "-e", str(analysis)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    return py


@pytest.fixture(scope="session")
def venv_python(tmp_path_factory):
    """The checkout's .venv (scripts/quickstart.sh) when it works, else a fresh one
    made the same way around a copy of analysis/."""
    py = SRC / ".venv" / "bin" / "python"
    if py.exists():
        r = subprocess.run([str(py), "-c", "import allied5g, sys; print(allied5g.__file__)"],
                           capture_output=True, text=True, timeout=TIMEOUT, cwd="/")
        if r.returncode == 0 and r.stdout.startswith(str(SRC / "analysis")):
            return py
    import shutil
    d = tmp_path_factory.mktemp("venv")
    shutil.copytree(SRC / "analysis", d / "analysis",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    return make_venv(d / "venv", d / "analysis")


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


def kill_with_checkpoint(scenario, out):
    """Run scenario into out, killed (SIGKILL, the A5_TEST_KILL_AT test hook) inside a
    metadata write after a checkpoint: the first of these kill points that leaves one
    to resume. Fails the test when none does."""
    import signal
    for k in (40, 60, 80, 100, 140):
        for f in (out, f"{out}.partial", f"{out}.partial.state", f"{out}.partial.lock"):
            if os.path.exists(f):
                os.unlink(f)
        r = subprocess.run([BIN, "run", str(scenario), "-o", str(out), "--quiet", "--threads",
                            "1", "--checkpoint", "0"], env={**os.environ, "A5_TEST_KILL_AT": str(k)},
                           capture_output=True, timeout=TIMEOUT)
        if r.returncode == -signal.SIGKILL and os.path.exists(f"{out}.partial.state"):
            return
    pytest.fail("no kill point left a checkpoint to resume")


def run_notebook(nb, tmp_path, venv_python, env_extra=None, name="q.ipynb"):
    """Execute notebook nb as shipped, on its kernel "allied5g" (the venv's python, as
    scripts/quickstart.sh registers it), with no PYTHONPATH, in tmp_path. Returns the
    CompletedProcess; the executed notebook is tmp_path / "done.ipynb"."""
    import json
    import shutil
    assert json.loads(Path(nb).read_text())["metadata"]["kernelspec"]["name"] == "allied5g"
    shutil.copy(nb, tmp_path / name)
    kernels = tmp_path / "jupyter" / "kernels" / "allied5g"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(venv_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (allied5g)", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"A5_SOURCE_DIR": str(SRC), "ALLIED5G_BIN": BIN,
                "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PATH": str(tmp_path / "jupyter"),
                **(env_extra or {})})
    return subprocess.run(["jupyter-nbconvert", "--to", "notebook", "--execute", name,
                           "--output", "done.ipynb", "--ExecutePreprocessor.timeout=300"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=TIMEOUT)
