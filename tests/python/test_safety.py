"""Output safety and hostile inputs (issue 16): no run replaces an input or a
non-regular file, one writer per output, no input that blocks or floods memory,
one clear error per unreadable file."""
import os
import shutil
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


# --- full disks, damaged files, stops and resumes -------------------------------------

FAULT_REPS = 2500


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    s = d / "s.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=FAULT_REPS, store="full"))
    ref = d / "ref.h5"
    run("run", s, "-o", ref, "--quiet")
    return d, s, ref


def _after_failure(d, s, ref, out, r):
    """A run that failed writing: it says why, and what it leaves is either nothing
    or a partial file that resumes (on a disk with room) to exactly the reference."""
    from conftest import same_data
    assert r.returncode == 1, r.stderr
    left = sorted(x.name for x in d.iterdir() if x.name.startswith(out.name))
    assert out.name not in left, r.stderr
    if not left:
        assert "no results written" in r.stderr, r.stderr
        return False
    assert left == [f"{out.name}.partial", f"{out.name}.partial.state"], (left, r.stderr)
    assert "--resume" in r.stderr, r.stderr
    again = run("run", s, "-o", out, "--quiet", "--resume", check=False)
    assert again.returncode == 0, (r.stderr, again.stderr)
    same_data(ref, out)
    out.unlink()
    return True


def test_disk_full_at_every_write(faults):
    """A5_TEST_FULL_AT=k: the disk is full from the k-th write of the results file on
    (every block's variables, every point's aggregates, every flush). Every k must
    fail cleanly and leave nothing or a resumable partial; the loop ends when k is
    past the run's last write."""
    d, s, ref = faults
    kept = 0
    for k in range(1, 400):
        out = d / f"full{k}.h5"
        env = {**os.environ, "A5_TEST_FULL_AT": str(k)}
        r = subprocess.run([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                            "--checkpoint", "0"], env=env, capture_output=True, text=True,
                           timeout=300)
        if r.returncode == 0:
            break
        kept += _after_failure(d, s, ref, out, r)
    else:
        pytest.fail("the run never got past the injected full disk")
    assert k > 10 and kept > 3, (k, kept)


def _limit_file_size(n):
    import resource

    def f():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return f


def test_disk_fills_at_many_moments(faults):
    """The disk fills (no file may grow past N bytes) at 24 sizes between the empty
    file and the full one, each with checkpoints after every block."""
    d, s, ref = faults
    total = os.path.getsize(ref)
    kept = 0
    for i in range(1, 25):
        n = int(total * 1.6 * i / 24)
        out = d / f"fill{i}.h5"
        r = subprocess.run([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                            "--checkpoint", "0"], capture_output=True, text=True, timeout=300,
                           preexec_fn=_limit_file_size(n))
        if r.returncode == 0:
            from conftest import same_data
            same_data(ref, out)
            out.unlink()
            continue
        kept += _after_failure(d, s, ref, out, r)
    assert kept > 3


def _interrupted(d, s, name):
    """An interrupted run's files (OUT.partial and its checkpoint). A run that ended
    before the signal reached it (a slow machine) is tried again."""
    out = d / name
    for _ in range(5):
        p = subprocess.Popen([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                              "--checkpoint", "0", "--force"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        while not os.path.exists(f"{out}.partial.state") and p.poll() is None:
            assert time.monotonic() - t0 < 300, "the run never took a checkpoint"
            time.sleep(0.005)
        p.send_signal(signal.SIGINT)            # nothing, if it has ended
        _, err = p.communicate(timeout=120)
        if p.returncode != 0:
            break
    assert p.returncode == 1, err
    return out


def test_flipped_bytes_in_partial(faults):
    """Bytes flipped anywhere in an interrupted run's partial file: the resume either
    refuses (damaged) or gives exactly the reference, never other data."""
    from conftest import same_data
    d, s, ref = faults
    out = _interrupted(d, s, "flip.h5")
    partial = f"{out}.partial"
    pristine = open(partial, "rb").read()
    state = open(f"{out}.partial.state", "rb").read()
    refused = 0
    size = len(pristine)
    for i in range(12):
        at = size // 3 + (i * (size * 2 // 3)) // 12
        damaged = bytearray(pristine)
        for j in range(8):
            damaged[at + j] ^= 0x5A
        open(partial, "wb").write(damaged)
        open(f"{out}.partial.state", "wb").write(state)
        r = run("run", s, "-o", out, "--quiet", "--resume", check=False)
        if r.returncode == 0:
            same_data(ref, out)
            out.unlink()
        else:
            assert r.returncode == 2 and "damaged" in r.stderr, r.stderr
            refused += 1
    assert refused >= 6, refused


def test_on_failure_stop_holds_for_resume(faults):
    d, s, _ = faults
    out = d / "stop.h5"
    env = {**os.environ, "A5_INJECT_FAILURE": "7"}
    r = subprocess.run([BIN, "run", s, "-o", out, "--quiet", "--replicates", "50",
                        "--on-failure", "stop"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "--on-failure stop" in r.stderr
    # The resume it suggests stops too, without a hook: the failure is recorded.
    r = run("run", s, "-o", out, "--quiet", "--replicates", 50, "--resume", check=False)
    assert r.returncode == 1 and "--on-failure stop" in r.stderr, r.stderr
    assert "--on-failure continue" in r.stderr and not out.exists()
    r = run("run", s, "-o", out, "--quiet", "--replicates", 50, "--resume",
            "--on-failure", "continue", check=False)
    assert r.returncode == 0, r.stderr
    import xarray as xr
    with xr.open_dataset(out) as f:
        assert f.attrs["failed_replicates"] == 1


def test_killed_before_first_checkpoint(tiny, tmp_path):
    """A partial file without a checkpoint (killed before the first one): --resume
    starts from the beginning and says so."""
    out = tmp_path / "o.h5"
    run("run", tiny, "-o", out, "--quiet")
    ref = tmp_path / "ref.h5"
    out.rename(ref)
    # What a kill before the first checkpoint leaves: a partial file, no state.
    run("run", tiny, "-o", out, "--quiet")
    out.rename(f"{out}.partial")
    r = run("run", tiny, "-o", out, "--resume", "--quiet", check=False)
    assert r.returncode == 0, r.stderr
    assert "no checkpoint" in r.stderr and "starting from the beginning" in r.stderr
    from conftest import same_data
    same_data(ref, out)


def test_second_signal_before_first_checkpoint(tmp_path):
    s = _bigger(tmp_path, reps=400000)
    out = tmp_path / "o.h5"
    p = subprocess.Popen([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                          "--checkpoint", "3600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _wait_for(f"{out}.partial", p)
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=120)
    left = listing(tmp_path)
    if f"{out.name}.partial.state" not in left:   # no checkpoint was made: nothing is left
        assert left == ["big.yaml"], left
    else:                                           # the first signal's checkpoint won the race
        # (the second one then stopped the run at once, or came after it had stopped)
        assert p.returncode in (1, -signal.SIGINT), p.returncode
        assert left == ["big.yaml", "o.h5.partial", "o.h5.partial.lock", "o.h5.partial.state"] \
            or left == ["big.yaml", "o.h5.partial", "o.h5.partial.state"], left


def test_output_larger_than_free_space(tiny, tmp_path):
    for extra in (["--replicates", "1000000000"], ["--set", "steps=900", "--replicates", "100000000"]):
        r = run("run", tiny, "-o", tmp_path / "o.h5", *extra, check=False, timeout=60)
        assert r.returncode == 2, r.stderr
        assert "may need up to" in r.stderr and "MiB are free" in r.stderr
        assert "--ignore-space" in r.stderr
        assert listing(tmp_path) == ["s.yaml"]


def test_memory_bounded_by_block(tiny, tmp_path):
    """300 million replicates of a tiny scenario run within 1 GiB of address space:
    nothing is sized by the replicate count (the run is stopped after its first
    checkpoint)."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    out = tmp_path / "o.h5"
    p = subprocess.Popen([BIN, "run", tiny, "-o", out, "--quiet", "--threads", "1",
                          "--replicates", "300000000", "--ignore-space", "--checkpoint", "0",
                          "--store", "summary"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=cap)
    _wait_for(f"{out}.partial.state", p, timeout=300)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1 and "interrupted" in err, err


def test_resume_with_another_scenario_shows_the_line(faults, tmp_path):
    d, s, _ = faults
    out = _interrupted(d, s, "other.h5")
    r = run("run", s, "-o", out, "--quiet", "--resume", "--set", "us.escalation=0.05",
            check=False)
    assert r.returncode == 2, r.stderr
    assert "resolved scenario line" in r.stderr and "now 'us:'" in r.stderr, r.stderr
    r = run("run", s, "-o", out, "--quiet", "--resume", "--set", "decision.rationality=3",
            check=False)
    assert r.returncode == 2 and "rationality: 3" in r.stderr and "was '" in r.stderr, r.stderr
    assert os.path.exists(f"{out}.partial")


# --- settings that would do nothing ----------------------------------------------------


@pytest.mark.parametrize("op", ["set", "add"])
def test_event_on_us_pressure_refused(tmp_path, op):
    s = tmp_path / "s.yaml"
    s.write_text(TINY + f"events:\n  - {{at: 2, {op}: {{us.pressure: 1.0}}}}\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith(f"{s}:5:") and "nations.*.us_pressure" in r.stderr, r.stderr
    # What it points to works: the nations' pressure changes the run.
    s.write_text(TINY + f"events:\n  - {{at: 2, {op}: {{nations.*.us_pressure: 1.0}}}}\n")
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    run("run", s, "-o", a, "--quiet")
    s.write_text(TINY)
    run("run", s, "-o", b, "--quiet")
    import xarray as xr
    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        assert not (x.us_pressure.values == y.us_pressure.values).all()


OWN = ("start: 2019Q1\nsteps: 6\nreplicates: 20\n"
       "nations: [{code: AAA, us_pressure: 0.3}, {code: BBB, us_pressure: 0.4}]\n")


@pytest.mark.parametrize("how", ["sweep", "uncertain", "design", "set", "fit"])
def test_us_pressure_that_nobody_follows_refused(tmp_path, how):
    """us.pressure is only the starting pressure of nations without their own: when
    every nation gives its own, varying or setting it would change nothing."""
    s = tmp_path / "s.yaml"
    extra = {"sweep": "sweep: {us.pressure: [0.1, 0.9]}\n",
             "uncertain": "uncertain: {us.pressure: {dist: uniform, lo: 0, hi: 1}}\n",
             "design": "design: {method: lhs, points: 4, ranges: {us.pressure: [0, 1]}}\n"}
    s.write_text(OWN + extra.get(how, ""))
    if how == "set":
        r = run("validate", s, "--set", "us.pressure=0.9", check=False)
        where = "--set:1:1:"
    elif how == "fit":
        obs = tmp_path / "o.csv"
        obs.write_text("code,date,policy\nAAA,2019Q4,open\n")
        r = run("calibrate", s, "--observed", obs, "--fit", "us.pressure=0:1", "-o",
                tmp_path / "f.yaml", "--replicates", 10, "--starts", 1, check=False)
        where = "us.pressure"
    else:
        r = run("validate", s, check=False)
        where = f"{s}:5:"
    assert r.returncode == 2, r.stdout
    assert where in r.stderr and "nations.*.us_pressure" in r.stderr, r.stderr
    assert not (tmp_path / "f.yaml").exists()
    # One nation that follows it is enough: then it changes the run and is accepted.
    s.write_text(OWN.replace(", us_pressure: 0.4", "") + extra.get(how, ""))
    if how in ("sweep", "uncertain", "design"):
        assert run("validate", s).returncode == 0


# --- calibrate -------------------------------------------------------------------------

CAL = ("start: 2019Q1\nsteps: 8\nreplicates: 100\n"
       "nations: [{code: AUS}, {code: NZL}]\n")


def _cal(tmp_path, obs_bytes, *extra):
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    obs = tmp_path / "obs.csv"
    obs.write_bytes(obs_bytes)
    return run("calibrate", s, "--observed", obs, "-o", tmp_path / "fit.yaml", "--force",
               "--starts", 1,
               "--threads", 1, *extra, check=False, timeout=600), obs


GOOD_OBS = b"code,date,policy\nAUS,2019Q4,ban\nNZL,2019Q4,open\nAUS,2020Q4,ban\n"


def test_calibrate_same_fit_twice(tmp_path):
    r, _ = _cal(tmp_path, GOOD_OBS, "--fit", "decision.weights.us=0:2",
                "--fit", "decision.weights.us=1:5")
    assert r.returncode == 2 and "--fit:2:1: error:" in r.stderr and "fitted twice" in r.stderr
    assert not (tmp_path / "fit.yaml").exists()


def test_forecast_fit_checked_as_calibrate(tmp_path):
    """forecast --fit takes the same checks as calibrate's: a path fitted twice, or one
    that is not a real number, is refused (it ran, fitting one path twice)."""
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    obs = tmp_path / "obs.csv"
    obs.write_bytes(GOOD_OBS)
    for fits, msg in ((("decision.weights.us=0:2", "decision.weights.us=1:5"), "--fit:2:1: error:"),
                      (("us.strategy",), "--fit:1:1: error: 'us.strategy' is a choice")):
        args = [a for f in fits for a in ("--fit", f)]
        r = run("forecast", s, "--observed", obs, "--origin", "2019Q4", "--horizon", 2,
                "--replicates", 10, "--starts", 1, "--predictions", tmp_path / "p.csv", *args,
                check=False, timeout=600)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
        assert not (tmp_path / "p.csv").exists()


def test_output_in_a_missing_directory_is_a_runtime_failure(tmp_path):
    """An output whose directory does not exist: exit 1 (run-time, as the lock file
    that cannot be made) for run, calibrate and forecast alike (forecast said 2)."""
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    obs = tmp_path / "obs.csv"
    obs.write_bytes(GOOD_OBS)
    nod = tmp_path / "nodir"
    for args in (["run", s, "-o", nod / "o.h5"],
                 ["calibrate", s, "--observed", obs, "-o", nod / "f.yaml", "--fit",
                  "decision.weights.us=0:2"],
                 ["forecast", s, "--observed", obs, "--origin", "2019Q4", "--horizon", 2,
                  "--predictions", nod / "p.csv"]):
        r = run(*args, check=False, timeout=600)
        assert r.returncode == 1 and "its directory does not exist" in r.stderr, (args, r.stderr)
    assert not nod.exists()


def test_forecast_fit_warnings_shown(tmp_path):
    """The fit at each origin shows its warnings as calibrate does (stderr, and the
    predictions header): here its value at the bound."""
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    obs = tmp_path / "obs.csv"
    obs.write_bytes(GOOD_OBS)
    r = run("forecast", s, "--observed", obs, "--origin", "2019Q4", "--horizon", 2,
            "--replicates", 50, "--starts", 1, "--predictions", tmp_path / "p.csv", "--quiet",
            "--fit", "decision.weights.us=0:0.001", check=False, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "forecast: warning: fit at 2019Q4: decision.weights.us" in r.stderr, r.stderr
    head = [ln for ln in (tmp_path / "p.csv").read_text().splitlines() if ln.startswith("#")]
    assert any(ln.startswith("# warning: fit at 2019Q4: decision.weights.us") for ln in head), head


def test_calibrate_contradictory_observations(tmp_path):
    r, obs = _cal(tmp_path, GOOD_OBS + b"AUS,2019Q4,open\n", "--fit", "decision.weights.us=0:2")
    assert r.returncode == 2, r.stderr
    assert f"{obs}:5:1: error: AUS 2019Q4 is 'open' here but 'ban' on line 2" in r.stderr
    assert "--repeated-observations" in r.stderr
    # Repeated observations (simulated worlds) may disagree when said so.
    r, _ = _cal(tmp_path, GOOD_OBS + b"AUS,2019Q4,open\n", "--fit", "decision.weights.us=0:2",
                "--repeated-observations")
    assert r.returncode == 0, r.stderr
    # The same observation twice is not a contradiction.
    r, _ = _cal(tmp_path, GOOD_OBS + b"AUS,2019Q4,ban\n", "--fit", "decision.weights.us=0:2")
    assert r.returncode == 0, r.stderr


def test_calibrate_nul_byte(tmp_path):
    r, obs = _cal(tmp_path, b"code,date,policy\nAUS,2019Q4,ban\0open\n",
                  "--fit", "decision.weights.us=0:2")
    assert r.returncode == 2 and f"{obs}:2:15: error: a NUL byte" in r.stderr, r.stderr


def test_fitted_yaml_header_survives_newlines(tmp_path):
    """Every argument may hold a newline (or an escape): FITTED.yaml is still one
    comment header and the scenario, and loads as the fitted scenario."""
    import yaml
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    odd = tmp_path / "obs\nsteps: 99\n\x1b[2J.csv"
    odd.write_bytes(GOOD_OBS)
    out = tmp_path / "fit\nx.yaml"
    r = run("calibrate", s, "--observed", odd, "-o", out, "--starts", 1, "--threads", 1,
            "--fit", "decision.weights.us=0:2", "--set", "name=a\nb", check=False, timeout=600)
    if r.returncode == 2 and "name" in r.stderr:     # a newline in a name is refused: fine
        r = run("calibrate", s, "--observed", odd, "-o", out, "--starts", 1, "--threads", 1,
                "--fit", "decision.weights.us=0:2", check=False, timeout=600)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    header = [x for x in text.splitlines() if x.startswith("#")]
    assert "\\nsteps: 99\\n" in text and "\x1b" not in text
    doc = yaml.safe_load(text)
    assert doc["steps"] == 8
    assert run("validate", out, check=False).returncode == 0
    assert header[0].startswith("# Calibrated by:")


# --- what is echoed --------------------------------------------------------------------


def test_control_bytes_escaped_and_long_values_cut(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(TINY + '"bad\\e[2Jkey\\e]0;title\\a": 1\n? ' + "k" * 100000 + "\n: 1\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert "bad\\x1B[2Jkey" in r.stderr, r.stderr
    assert len(r.stderr) < 3000 and "bytes...]" in r.stderr
    long = "x" * 100000
    for args in (["run", s, "-o", tmp_path / "o.h5", "--threads", long],
                 ["run", s, "-o", tmp_path / "o.h5", "--store", "\x1b[31m" + long],
                 [long], ["run", s, "-o", tmp_path / "o.h5", "--" + long]):
        r = run(*args, check=False)
        assert r.returncode == 2 and len(r.stderr) < 3000 and "\x1b" not in r.stderr


def test_repeated_single_valued_option(tiny, tmp_path):
    r = run("run", tiny, "-o", tmp_path / "a.h5", "-o", tmp_path / "b.h5", check=False)
    assert r.returncode == 2 and "given twice" in r.stderr
    assert listing(tmp_path) == ["s.yaml"]


# --- info ------------------------------------------------------------------------------


def test_info_refuses_what_is_not_a_results_file(tiny, tmp_path):
    import h5py
    import numpy as np
    good = tmp_path / "good.h5"
    run("run", tiny, "-o", good, "--quiet")
    assert run("info", good).returncode == 0
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(10)
    text = tmp_path / "text.h5"
    text.write_text("hello\n")
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases = {foreign: "not an allied5g results file", text: "not an allied5g results file",
             trunc: "is damaged", tmp_path / "missing.h5": "No such file"}
    for path, what in cases.items():
        r = run("info", path, check=False)
        assert r.returncode == 2 and what in r.stderr, (path, r.stderr)


def test_info_finds_flipped_bytes(tmp_path):
    import h5py
    s = _bigger(tmp_path, reps=3000)
    out = tmp_path / "o.h5"
    run("run", s, "-o", out, "--quiet")
    with h5py.File(out, "r") as f:
        info = f["high_risk_share"].id.get_chunk_info(3)
    with open(out, "r+b") as f:
        f.seek(info.byte_offset + info.size // 2)
        b = f.read(4)
        f.seek(info.byte_offset + info.size // 2)
        f.write(bytes(x ^ 0xFF for x in b))
    r = run("info", out, check=False)
    assert r.returncode == 2 and "damaged at high_risk_share" in r.stderr, r.stderr


def test_tmpfs_fills_at_many_moments(faults, tmp_path):
    """A real full disk: a small tmpfs, at 16 sizes, threads as by default. Every
    run fails cleanly and what it keeps resumes (on a disk with room) exactly."""
    d, s, ref = faults
    total = os.path.getsize(ref)
    kept = 0
    for i in range(16):
        mnt = tmp_path / f"m{i}"
        mnt.mkdir()
        size = (total * (4 + 3 * i) // 48) // 4096 * 4096 + 4096
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        try:
            out = mnt / "o.h5"
            r = run("run", s, "-o", out, "--quiet", "--checkpoint", 0, "--ignore-space",
                    check=False, timeout=300)
            assert r.returncode == 1 and "No space left on device" in r.stderr, r.stderr
            left = listing(mnt)
            if left:
                assert left == ["o.h5.partial", "o.h5.partial.state"], (left, r.stderr)
                roomy = d / f"tmpfs{i}.h5"
                for suffix in (".partial", ".partial.state"):
                    shutil.move(f"{out}{suffix}", f"{roomy}{suffix}")
                again = run("run", s, "-o", roomy, "--quiet", "--resume", check=False)
                assert again.returncode == 0, (size, r.stderr, again.stderr)
                from conftest import same_data
                same_data(ref, roomy)
                roomy.unlink()
                kept += 1
        finally:
            subprocess.run(["umount", str(mnt)])
    assert kept > 3, kept


def test_signal_while_creating_the_output(tiny, tmp_path):
    """The handlers are in place before the output exists: a signal while a large
    file is being created stops the run cleanly, with nothing left to resume."""
    out = tmp_path / "o.h5"
    p = subprocess.Popen([BIN, "run", tiny, "-o", out, "--quiet", "--threads", "1",
                          "--replicates", "300000000", "--ignore-space", "--store", "summary"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(f"{out}.partial", p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1, err
    left = listing(tmp_path)
    if "interrupted before the first block" in err:
        assert left == ["s.yaml"], left
    else:   # the file was complete before the signal: the first block's checkpoint
        assert left == ["o.h5.partial", "o.h5.partial.state", "s.yaml"], (left, err)
