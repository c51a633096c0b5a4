"""Command line: exit codes, located errors, nothing written on bad input,
no silent overwrite, progress line on a terminal only."""
import os
import pty
import subprocess

import numpy as np
import pytest
import xarray as xr

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
    assert run("info", s, check=False).returncode == 2  # not a results file: bad input


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


COMMANDS = {
    "run": ["--output", "--seed", "--replicates", "--threads", "--set", "--store", "--force",
            "--quiet", "--resume", "--checkpoint", "--on-failure", "--live", "--crn", "--help"],
    "validate": ["--set", "--seed", "--replicates", "--store", "--help"],
    "info": ["--help"],
    "calibrate": ["--output", "--observed", "--fit", "--replicates", "--starts", "--holdout",
                  "--objective", "--threads", "--set", "--seed", "--force", "--quiet", "--help"],
    "forecast": ["--observed", "--origin", "--horizon", "--replicates", "--seed", "--threads",
                 "--set", "--predictions", "--force", "--fit", "--starts", "--quiet", "--help"],
    "reference": ["--help"],
}


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_command_help(cmd):
    for flag in ("--help", "-h"):
        p = run(cmd, flag)
        assert p.returncode == 0 and p.stderr == ""
        out = p.stdout
        assert out.startswith(f"usage: allied5g {cmd}")
        for opt in COMMANDS[cmd]:
            assert opt in out, (cmd, opt)
        assert "example:\n  allied5g " + cmd in out
        # Every option line that takes a value says its default (or that it is required).
        for line in out.splitlines():
            longs = [t for t in line.split() if t.startswith("--")]
            if line.startswith("  -") and longs and "=" in longs[0]:
                assert "(default: " in line or "(required)" in line, line


def test_top_level_help_lists_every_command():
    p = run("--help")
    assert p.returncode == 0
    for cmd, opts in COMMANDS.items():
        assert f"usage: allied5g {cmd}" in p.stdout
        for opt in opts:
            assert opt in p.stdout
    assert "(default: 2)" in p.stdout  # --checkpoint


def test_info_help_does_not_open_a_file(tmp_path):
    p = run("info", "--help", cwd=tmp_path)
    assert p.returncode == 0 and "cannot open" not in p.stderr and "usage: allied5g info" in p.stdout


def test_equals_and_space_forms_are_the_same(tmp_path):
    s = write(tmp_path, GOOD)
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    run("run", s, "-o", a, "--replicates", "7", "--seed", "5", "--set", "steps=4", "--quiet")
    run("run", s, f"--output={b}", "--replicates=7", "--seed=5", "--set=steps=4", "--quiet",
        "--threads=1", "--store=full", "--checkpoint=3", "--on-failure=continue")
    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        assert x.sizes["replicate"] == 7 and x.sizes["time"] == 4
        assert np.array_equal(x.policy.values, y.policy.values)
        # Provenance keeps the command as typed (getopt_long reorders argv).
        assert y.attrs["command_line"].endswith(
            f"run {s} --output={b} --replicates=7 --seed=5 --set=steps=4 --quiet --threads=1 "
            "--store=full --checkpoint=3 --on-failure=continue")
    p = run("validate", s, "--replicates=9")
    assert "ok:" in p.stdout


@pytest.mark.parametrize("args", [
    ["-o", "a.h5", "-o", "b.h5"],
    ["-o", "a.h5", "--output=b.h5"],
    ["-o", "a.h5", "--replicates", "3", "--replicates=4"],
    ["-o", "a.h5", "--seed", "1", "--seed", "1"],
])
def test_repeated_single_valued_option_refused(tmp_path, args):
    s = write(tmp_path, GOOD)
    p = run("run", s, *args, cwd=tmp_path, check=False)
    assert p.returncode == 2 and "given twice" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.yaml"]


def test_repeated_set_is_fine(tmp_path):
    s = write(tmp_path, GOOD)
    p = run("validate", s, "--set", "steps=4", "--set=replicates=3")
    assert "ok:" in p.stdout


@pytest.mark.parametrize("cmd,bad,good", [
    ("run", "--replicate", "--replicates"),
    ("run", "--forse", "--force"),
    ("run", "--chekpoint=3", "--checkpoint"),
    ("validate", "--sett", "--set"),
    ("calibrate", "--observd", "--observed"),
])
def test_mistyped_option_gets_a_suggestion(tmp_path, cmd, bad, good):
    s = write(tmp_path, GOOD)
    p = run(cmd, s, bad, "5", "-o", tmp_path / "x", check=False)
    assert p.returncode == 2
    assert f"did you mean {good}?" in p.stderr, p.stderr
    assert not (tmp_path / "x").exists()


def test_unknown_option_without_a_near_name(tmp_path):
    s = write(tmp_path, GOOD)
    p = run("run", s, "--zzzzzzzzzz", check=False)
    assert p.returncode == 2 and "unknown option '--zzzzzzzzzz'" in p.stderr
    assert "did you mean" not in p.stderr
    p = run("run", s, "-x", check=False)
    assert p.returncode == 2 and "unknown option '-x'" in p.stderr


def test_option_value_problems(tmp_path):
    s = write(tmp_path, GOOD)
    p = run("run", s, "-o", check=False)
    assert p.returncode == 2 and "-o needs a value" in p.stderr
    p = run("run", s, "-o", tmp_path / "x.h5", "--force=yes", check=False)
    assert p.returncode == 2 and "--force takes no value" in p.stderr
    p = run("run", s, "-o", tmp_path / "x.h5", "--replicates", check=False)
    assert p.returncode == 2 and "--replicates needs a value" in p.stderr
    p = run("run", s, s, "-o", tmp_path / "x.h5", check=False)
    assert p.returncode == 2 and "unexpected argument" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_mistyped_scenario_file_name(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "minimal.yaml").write_text(GOOD)
    (tmp_path / "scenarios" / "other_thing.yaml").write_text(GOOD)
    for cmd in ("run", "validate"):
        p = run(cmd, "scenarios/minmal.yaml", "-o", "o.h5", cwd=tmp_path, check=False) \
            if cmd == "run" else run(cmd, "scenarios/minmal.yaml", cwd=tmp_path, check=False)
        assert p.returncode == 2
        lines = [l for l in p.stderr.splitlines() if "error" in l]
        assert lines == ["scenarios/minmal.yaml: error: cannot open: No such file or directory "
                         "(did you mean 'scenarios/minimal.yaml'?)"], p.stderr
        assert ":0:0:" not in p.stderr
    # Nothing near: no suggestion.
    p = run("validate", tmp_path / "scenarios" / "zzzzzzzzzzzzzz.yaml", check=False)
    assert p.returncode == 2 and "did you mean" not in p.stderr and "cannot open" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["scenarios"]


def test_options_after_operand_and_double_dash(tmp_path):
    s = write(tmp_path, GOOD)
    out = tmp_path / "o.h5"
    run("run", "--quiet", "-o", out, "--", s)
    assert out.exists()
