"""One command line: `allied5g report` runs the analysis package like `export`, with
help in the same style; an installed allied5g (cmake --install) finds the package
installed beside it; messages name commands that work as printed; a checkout folder
named allied5g beside a script does not shadow the package silently."""
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN, SRC, TIMEOUT, run

SCEN = """start: 2019Q1
steps: 4
replicates: 20
nations:
  - {code: GBR, name: United Kingdom, high_risk_share: 0.4, review_rate: 0.5}
  - {code: DEU, name: Germany, high_risk_share: 0.6}
"""
#: A PATH without pyenv or conda: the project must never need the first python3 on PATH.
PLAIN_PATH = "/usr/bin:/bin"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "ALLIED5G_PYTHON", "ALLIED5G_PROG", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def test_report_help_and_dispatch(tmp_path):
    h = run("report", "--help").stdout
    for part in ("usage: allied5g report OUT.h5", "--nations=CODES", "most influence",
                 "(default: 8)", "--codes", "example:\n  allied5g report out.h5 -o report"):
        assert part in h, part
    assert "allied5g report OUT.h5" in run("--help").stdout
    assert run("report", check=False).returncode == 2
    assert run("report", "x.h5", check=False).returncode == 2            # no -o DIR
    assert run("report", "x.h5", "-o", tmp_path, "--top", "0", check=False).returncode == 2
    (tmp_path / "s.yaml").write_text(SCEN)
    run("run", tmp_path / "s.yaml", "-o", tmp_path / "r.h5", "--quiet")
    p = run("report", tmp_path / "r.h5", "-o", tmp_path / "rep", "--nations", "DEU", "--static")
    assert Path(p.stdout.strip()) == tmp_path / "rep" / "index.html"
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "the nations asked for" in page and "plotly" not in page
    bad = run("report", tmp_path / "r.h5", "-o", tmp_path / "rep", "--nations", "XXX,DEU",
              check=False)
    assert bad.returncode == 2 and "unknown nation(s) XXX" in bad.stderr
    # The report's files are not replaced without --force, and bad input makes no DIR.
    again = run("report", tmp_path / "r.h5", "-o", tmp_path / "rep", "--nations", "DEU",
                "--static", check=False)
    assert again.returncode == 2 and "already has" in again.stderr and "--force" in again.stderr
    assert (tmp_path / "rep" / "index.html").read_text() == page
    (tmp_path / "rep" / "end_of_run.csv").write_text("mine\n")
    run("report", tmp_path / "r.h5", "-o", tmp_path / "rep", "--nations", "DEU", "--static",
        "--force")
    assert (tmp_path / "rep" / "end_of_run.csv").read_text() != "mine\n"
    bad = run("report", tmp_path / "r.h5", "-o", tmp_path / "new", "--nations", "XXX",
              check=False)
    assert bad.returncode == 2 and not (tmp_path / "new").exists()
    # a link among the report's files is never written through, even with --force
    (tmp_path / "victim.txt").write_text("keep\n")
    (tmp_path / "rep" / "index.html").unlink()
    (tmp_path / "rep" / "index.html").symlink_to(tmp_path / "victim.txt")
    bad = run("report", tmp_path / "r.h5", "-o", tmp_path / "rep", "--nations", "DEU",
              "--static", "--force", check=False)
    assert bad.returncode == 2 and "symbolic link" in bad.stderr, bad.stderr
    assert (tmp_path / "victim.txt").read_text() == "keep\n"


def test_python_help_names_the_command(tmp_path):
    env = clean_env(PYTHONPATH=str(SRC / "analysis"))
    h = subprocess.run([sys.executable, "-m", "allied5g", "report", "--help"], env=env,
                       capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert h.returncode == 0
    assert h.stdout.startswith(f"usage: {sys.executable} -m allied5g report")
    for part in ("(default: 8)", "example:", "--nations", "most influence"):
        assert part in h.stdout, part
    # run by the binary (which sets ALLIED5G_PROG), usage lines name the binary
    env["ALLIED5G_PROG"] = "allied5g"
    h = subprocess.run([sys.executable, "-m", "allied5g", "report", "--help"], env=env,
                       capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert h.stdout.startswith("usage: allied5g report")


def test_messages_name_working_commands(tmp_path):
    (tmp_path / "s.yaml").write_text(SCEN)
    out = run("run", tmp_path / "s.yaml", "-o", tmp_path / "r.h5").stdout
    line = next(x for x in out.splitlines() if x.startswith("details: "))
    cmd = line[len("details: "):].split(";")[0]
    assert cmd.startswith(BIN if "/" in BIN else "allied5g")
    p = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0 and "replicates" in p.stdout


def test_installed_binary_finds_its_package(tmp_path):
    build = Path(BIN).resolve().parent
    if not (build / "cmake_install.cmake").exists():
        pytest.skip("the binary under test is not in a CMake build directory")
    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    exe = prefix / "bin" / "allied5g"
    pkg = prefix / "share" / "allied5g" / "analysis" / "allied5g"
    assert exe.is_file() and (pkg / "__init__.py").is_file()
    # mark the installed copy, so the test sees which package ran
    with open(pkg / "__init__.py", "a") as f:
        f.write("\nimport sys as _s\nprint('installed copy', file=_s.stderr)\n")
    (tmp_path / "s.yaml").write_text(SCEN)
    env = clean_env(PATH=f"{prefix / 'bin'}:{PLAIN_PATH}")
    r = subprocess.run(["allied5g", "run", "s.yaml", "-o", "r.h5"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert "details: allied5g info r.h5" in r.stdout        # works as printed: on PATH
    for args in (["report", "r.h5", "-o", "rep"], ["export", "r.h5", "--csv", "csv"]):
        r = subprocess.run(["allied5g", *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert "installed copy" in r.stderr
    assert (tmp_path / "rep" / "index.html").is_file() and (tmp_path / "csv" / "finals.csv").is_file()
    h = subprocess.run(["allied5g", "report", "r.h5", "-o", "rep", "--bogus"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert h.returncode == 2 and "allied5g report --help" in h.stderr


def test_checkout_folder_does_not_shadow_the_package(tmp_path):
    (tmp_path / "allied5g").symlink_to(SRC, target_is_directory=True)
    (tmp_path / "script.py").write_text("import allied5g\nprint(allied5g.run.__module__)\n")
    env = clean_env(PATH=PLAIN_PATH)
    r = subprocess.run(["/usr/bin/python3", "script.py"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode != 0
    assert "found the allied5g checkout" in r.stderr and "/.venv/bin/python" in r.stderr
    fix = r.stderr.split("or as: ")[1].strip().replace("SCRIPT.py", "script.py")
    ok = subprocess.run(fix, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                        timeout=TIMEOUT)
    assert ok.returncode == 0 and ok.stdout.strip() == "allied5g.api", ok.stderr
    # a Python that has the package elsewhere on its path gets the package, not the folder
    ok = subprocess.run(["/usr/bin/python3", "script.py"], cwd=tmp_path, capture_output=True,
                        text=True, timeout=TIMEOUT,
                        env=clean_env(PATH=PLAIN_PATH, PYTHONPATH=str(SRC / "analysis")))
    assert ok.returncode == 0 and ok.stdout.strip() == "allied5g.api", ok.stderr
