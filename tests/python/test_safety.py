"""Output safety and hostile inputs (issue 16): no run replaces an input or a
non-regular file, one writer per output, no input that blocks or floods memory,
one clear error per unreadable file."""
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import BIN, SRC, run

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

TINY = "steps: 4\nreplicates: 20\nnations: [{code: A}, {code: B}]\n"


@pytest.fixture
def tiny(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(TINY)
    return s


def listing(d):
    return sorted(x.name for x in d.iterdir())


# --- outputs -------------------------------------------------------------------------


def test_output_is_the_scenario(tiny, tmp_path):
    before = tiny.read_bytes()
    r = run("run", tiny, "-o", tiny, "--force", "--quiet", check=False)
    assert r.returncode == 2 and "is an input of this run" in r.stderr, r.stderr
    assert tiny.read_bytes() == before
    # Another name of the same file (a hard link) is the same input.
    os.link(tiny, tmp_path / "other.h5")
    r = run("run", tiny, "-o", tmp_path / "other.h5", "--force", "--quiet", check=False)
    assert r.returncode == 2 and "is an input of this run" in r.stderr
    assert tiny.read_bytes() == before


def test_output_is_a_base_or_design_file(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(TINY)
    child = tmp_path / "child.yaml"
    child.write_text("base: base.yaml\nseed: 3\n")
    r = run("run", child, "-o", base, "--force", "--quiet", check=False)
    assert r.returncode == 2 and "is an input of this run" in r.stderr
    assert base.read_text() == TINY
    design = tmp_path / "d.csv"
    design.write_text("us.escalation\n0.1\n0.2\n")
    s = tmp_path / "s.yaml"
    s.write_text(TINY + "design: {method: file, file: d.csv}\n")
    r = run("run", s, "-o", design, "--force", "--quiet", check=False)
    assert r.returncode == 2 and "is an input of this run" in r.stderr
    assert design.read_text() == "us.escalation\n0.1\n0.2\n"


def test_output_not_a_regular_file(tiny, tmp_path):
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    outs = [fifo, tmp_path]
    names = ["fifo.h5", "s.yaml"]
    if os.geteuid() == 0:
        # A device node of our own, like /dev/null (which a failing build would replace).
        dev = tmp_path / "null"
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        outs.append(dev)
        names.append("null")
    for out in outs:
        r = run("run", tiny, "-o", out, "--force", "--quiet", check=False, timeout=60)
        assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr
    assert listing(tmp_path) == sorted(names)
    if os.geteuid() == 0:
        assert stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)


def test_dangling_symlink_output(tiny, tmp_path):
    link = tmp_path / "o.h5"
    link.symlink_to(tmp_path / "nowhere" / "x.h5")
    r = run("run", tiny, "-o", link, "--quiet", check=False)
    assert r.returncode == 2 and "symbolic link to a missing file" in r.stderr
    assert link.is_symlink()


def _bigger(tmp_path, reps=200000):
    s = tmp_path / "big.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=reps, store="full"))
    return s


def _wait_for(path, proc, timeout=60):
    t0 = time.monotonic()
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.02)


def test_two_runs_same_output(tmp_path):
    """A second run, or a resume, of an output being written is refused while the
    first holds the lock; after the first stops, the resume works."""
    s = _bigger(tmp_path)
    out = tmp_path / "c.h5"
    first = subprocess.Popen([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                              "--checkpoint", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"{out}.partial.state", first)
        for extra in ([], ["--force"], ["--resume"]):
            r = run("run", s, "-o", out, "--quiet", *extra, check=False, timeout=120)
            assert r.returncode == 2, r.stderr
            assert f"{out} is being written by process {first.pid}" in r.stderr, r.stderr
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    assert first.returncode == 1 and "interrupted" in err, err
    assert not os.path.exists(f"{out}.partial.lock")
    r = run("run", s, "-o", out, "--quiet", "--resume", "--replicates", "200000", check=False,
            timeout=600)
    assert r.returncode == 0, r.stderr
    assert listing(tmp_path) == ["big.yaml", "c.h5"]


# --- inputs --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_non_regular_scenario(tmp_path, kind):
    if kind == "fifo":
        p = tmp_path / "s.yaml"
        os.mkfifo(p)
    elif kind == "dev-zero":
        p = "/dev/zero"
    else:
        p = tmp_path
    r = run("validate", p, check=False, timeout=60)
    assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr
    assert r.stderr.startswith(f"{p}: error: cannot read")
    assert ":0:0:" not in r.stderr


def test_non_regular_base(tmp_path):
    os.mkfifo(tmp_path / "b.yaml")
    s = tmp_path / "s.yaml"
    s.write_text("base: b.yaml\n")
    r = run("validate", s, check=False, timeout=60)
    assert r.returncode == 2 and "it is a FIFO, not a regular file" in r.stderr, r.stderr
    assert r.stderr.startswith(f"{s}:1:7: error: cannot read base scenario")


def test_missing_input_one_error(tmp_path):
    r = run("run", tmp_path / "nope.yaml", "-o", tmp_path / "o.h5", check=False)
    assert r.returncode == 2
    errors = [x for x in r.stderr.splitlines() if ": error: " in x]
    assert len(errors) == 1 and ":0:0:" not in r.stderr, r.stderr
    s = tmp_path / "s.yaml"
    s.write_text("base: missing.yaml\n")
    r = run("validate", s, check=False)
    errors = [x for x in r.stderr.splitlines() if ": error: " in x]
    assert r.returncode == 2 and len(errors) == 1, r.stderr
    assert errors[0].startswith(f"{s}:1:7: error: cannot read base scenario")
    assert "No such file or directory" in errors[0] and ":0:0:" not in r.stderr


def test_base_cycle_named(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n" + TINY)
    r = run("validate", tmp_path / "a.yaml", check=False)
    assert r.returncode == 2 and "form a cycle" in r.stderr, r.stderr
    assert "a.yaml -> " in r.stderr and "b.yaml -> " in r.stderr
    (tmp_path / "self.yaml").write_text("base: self.yaml\n")
    r = run("validate", tmp_path / "self.yaml", check=False)
    assert r.returncode == 2 and "form a cycle" in r.stderr
