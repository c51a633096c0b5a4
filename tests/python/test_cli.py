"""Command line: exit codes, located errors, nothing written on bad input,
no silent overwrite, progress line on a terminal only."""
import os
import pty
import subprocess

import pytest

from conftest import BIN, run

GOOD = """steps: 6
replicates: 20
nations:
  - {code: GBR, blocs: [five_eyes]}
  - {code: DEU, blocs: [eu]}
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_validate_summary(tmp_path):
    p = run("validate", write(tmp_path, GOOD))
    assert "nations    2: GBR DEU" in p.stdout
    assert "ok:" in p.stdout


@pytest.mark.parametrize(
    "text,where,msg",
    [
        ("stpes: 6\nnations: [{code: A}]\n", ":1:1:", "did you mean 'steps'"),
        ("steps: 6\nnations: [{code: A, threat: 3}]\n", ":2:29:", "must be in [0, 1]"),
        ("steps: 6\nnations: [{code: A}\n", ":3:1:", "malformed YAML"),
        ("", ":1:1:", "empty scenario"),
    ],
)
def test_bad_scenario_exit_2_nothing_written(tmp_path, text, where, msg):
    s = write(tmp_path, text)
    out = tmp_path / "out.h5"
    p = run("run", s, "-o", out, check=False)
    assert p.returncode == 2
    assert f"{s}{where} error:" in p.stderr and msg in p.stderr
    assert list(tmp_path.iterdir()) == [s]


def test_bad_set_is_located(tmp_path):
    s = write(tmp_path, GOOD)
    p = run("validate", s, "--set", "steps=4", "--set", "nations.GBX.threat=0.2", check=False)
    assert p.returncode == 2
    assert "--set:2:9: error: unknown nation 'GBX'" in p.stderr
    assert "did you mean 'GBR'" in p.stderr


def test_usage_errors(tmp_path):
    s = write(tmp_path, GOOD)
    assert run("run", s, check=False).returncode == 2  # no -o
    assert run("run", s, "-o", tmp_path / "x.h5", "--threads", "zero", check=False).returncode == 2
    assert run("bogus", check=False).returncode == 2
    assert run("run", s, "-o", tmp_path / "x.h5", "--replicates", "0", check=False).returncode == 2


def test_no_overwrite_without_force(tmp_path):
    s = write(tmp_path, GOOD)
    out = tmp_path / "out.h5"
    out.write_bytes(b"precious")
    p = run("run", s, "-o", out, "--quiet", check=False)
    assert p.returncode == 2 and "--force" in p.stderr
    assert out.read_bytes() == b"precious"
    run("run", s, "-o", out, "--quiet", "--force")
    assert out.read_bytes()[:4] == b"\x89HDF"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.h5", "s.yaml"]


def test_unwritable_output_is_runtime_error(tmp_path):
    s = write(tmp_path, GOOD)
    p = run("run", s, "-o", tmp_path / "no" / "such" / "dir.h5", check=False)
    assert p.returncode == 1
    assert "cannot create" in p.stderr


def test_info(tmp_path):
    s = write(tmp_path, GOOD)
    out = tmp_path / "o.h5"
    run("run", s, "-o", out, "--quiet")
    p = run("info", out)
    for word in ("seed", "created", "command_line", "policy_share", "complete          yes"):
        assert word in p.stdout
    assert run("info", s, check=False).returncode == 1


def _run_on_tty(args):
    """Run allied5g with stderr on a pseudo-terminal; returns what it printed there."""
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, *map(str, args)], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait()
    os.close(master)
    return p.returncode, b"".join(chunks).decode(errors="replace")


def test_progress_line_on_terminal_only(tmp_path):
    s = write(tmp_path, GOOD.replace("replicates: 20", "replicates: 3000"))
    rc, text = _run_on_tty(["run", s, "-o", tmp_path / "a.h5"])
    assert rc == 0 and "runs/s" in text and "ETA" in text and "100.0%" in text
    rc, text = _run_on_tty(["run", s, "-o", tmp_path / "b.h5", "--quiet"])
    assert rc == 0 and text == ""
    p = run("run", s, "-o", tmp_path / "c.h5")  # stderr is a pipe: no progress line
    assert "runs/s" not in p.stderr


def test_reference_doc_is_current(src):
    p = run("reference")
    assert (src / "docs" / "scenario-reference.md").read_text() == p.stdout
