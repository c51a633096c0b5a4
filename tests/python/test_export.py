"""`allied5g export OUT.h5 --csv DIR`: the command runs the analysis package's exporter
(one CSV layout, written once) with the project's Python, never the first python3 on
PATH; it refuses to replace files without --force and bad results files with exit 2."""
import os
import subprocess

import pandas as pd

from conftest import BIN, SRC, run


def shim_env(tmp_path):
    """PATH with a python3 first that fails (as a pyenv one without numpy would)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    for name in ("python3", "python"):
        (shim / name).write_text("#!/bin/sh\nexit 1\n")
        (shim / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ALLIED5G_PYTHON")}
    env["PATH"] = f"{shim}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def test_export_writes_the_package_layout(tmp_path):
    out = tmp_path / "m.h5"
    run("run", SRC / "scenarios" / "minimal.yaml", "-o", out, "--quiet", "--replicates", 20)
    d = tmp_path / "csv"
    r = subprocess.run([BIN, "export", str(out), "--csv", str(d)], capture_output=True, text=True,
                       env=shim_env(tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr
    steps = pd.read_csv(d / "steps.csv")
    assert len(steps) == 20 * 24 * 3 and {"replicate", "date", "time", "nation", "policy"} <= set(steps)
    assert set(steps["policy"]) <= {"open", "restrict", "ban"}
    assert len(pd.read_csv(d / "finals.csv")) == 20 * 3
    assert list(pd.read_csv(d / "nations.csv")["nation"]) == ["GBR", "DEU", "SWE"]
    # The same files as the package's own exporter.
    import allied5g
    ref = tmp_path / "ref"
    allied5g.export_csv(out, ref)
    for f in sorted(p.name for p in ref.iterdir()):
        assert (d / f).read_bytes() == (ref / f).read_bytes(), f
    # A second export does not replace the files without --force.
    before = (d / "steps.csv").stat().st_mtime_ns
    again = run("export", out, "--csv", d, check=False)
    assert again.returncode == 2 and "--force" in again.stderr
    assert (d / "steps.csv").stat().st_mtime_ns == before
    assert run("export", out, "--csv", d, "--force").returncode == 0


def test_export_refuses_bad_input(tmp_path):
    bad = tmp_path / "notes.h5"
    bad.write_text("not a results file\n")
    r = run("export", bad, "--csv", tmp_path / "x", check=False)
    assert r.returncode == 2 and "not an allied5g results file" in r.stderr
    assert not (tmp_path / "x" / "steps.csv").exists()
    r = run("export", bad, check=False)
    assert r.returncode == 2 and "--csv" in r.stderr
    h = run("export", "--help")
    assert h.returncode == 0 and "--csv" in h.stdout and "--force" in h.stdout
