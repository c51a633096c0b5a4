"""No silent wrong results, round three (issue 25), the simulator's side: calibrate
never replaces its inputs nor writes two outputs into one file, output names are
checked before anything runs, the lock holds when its file is removed, every
input of a run is in the resume fingerprint, and the scenario's paths, dates and
inert settings are checked on the resolved scenario."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, SRC, run

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

CAL = "start: 2019Q1\nsteps: 8\nreplicates: 100\nnations: [{code: AUS}, {code: NZL}]\n"
OBS = b"code,date,policy\nAUS,2019Q4,ban\nNZL,2019Q4,open\nAUS,2020Q4,ban\n"
FIT = ["--fit", "decision.weights.us=0:2", "--starts", 1, "--replicates", 20, "--threads", 1,
       "--quiet"]


def listing(d):
    return sorted(x.name for x in d.iterdir())


@pytest.fixture
def cal(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(CAL)
    obs = tmp_path / "obs.csv"
    obs.write_bytes(OBS)
    return s, obs


def calibrate(s, obs, *extra):
    return run("calibrate", s, "--observed", obs, *FIT, *extra, check=False)


# --- 1. calibrate never replaces its inputs ----------------------------------------------


@pytest.mark.parametrize("opt", ["-o", "--predictions", "--estimates"])
@pytest.mark.parametrize("which", ["observed", "scenario", "base", "hardlink"])
def test_calibrate_output_is_an_input(cal, tmp_path, opt, which):
    s, obs = cal
    base = tmp_path / "base.yaml"
    base.write_text(CAL)
    child = tmp_path / "child.yaml"
    child.write_text("base: base.yaml\nseed: 4\n")
    if which == "hardlink":
        os.link(obs, tmp_path / "again.csv")
    target = {"observed": obs, "scenario": child, "base": base,
              "hardlink": tmp_path / "again.csv"}[which]
    before = {p: p.read_bytes() for p in (obs, child, base)}
    outs = {"-o": tmp_path / "f.yaml"}
    outs[opt] = target
    args = [x for k, v in outs.items() for x in (k, v)]
    r = calibrate(child, obs, *args, "--force")
    assert r.returncode == 2, r.stderr
    assert f"{opt}: {target} is an input of this run" in r.stderr, r.stderr
    assert {p: p.read_bytes() for p in (obs, child, base)} == before
    assert not (tmp_path / "f.yaml").exists()


# --- 2. two calibrate outputs may not be one file ----------------------------------------


@pytest.mark.parametrize("second", ["./pe.csv", "sub/../pe.csv", "link.csv", "pe.csv.tmp"])
def test_calibrate_two_outputs_one_file(cal, tmp_path, second):
    s, obs = cal
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path)
    if second == "link.csv":
        (tmp_path / "pe.csv").write_text("old\n")
        os.symlink("pe.csv", tmp_path / "link.csv")
    r = calibrate(s, obs, "-o", "f.yaml", "--predictions", "pe.csv", "--estimates", second,
                  "--force")
    assert r.returncode == 2, r.stderr
    assert "give each output its own" in r.stderr, r.stderr
    assert "wrote" not in r.stdout
    assert not (tmp_path / "f.yaml").exists()


# --- 13. empty and directory-like output names -------------------------------------------


@pytest.mark.parametrize("name", ["", "sub/", ".", "..", "sub/."])
@pytest.mark.parametrize("cmd", ["run", "calibrate"])
def test_output_name_refused_before_anything(cal, tmp_path, name, cmd):
    s, obs = cal
    (tmp_path / "sub").mkdir()
    # What a -o '' with --force used to remove: the partial files of the name ''.
    (tmp_path / ".partial").write_text("keep\n")
    (tmp_path / ".partial.state").write_text("keep\n")
    before = listing(tmp_path)
    if cmd == "run":
        r = run("run", s, "-o", name, "--force", "--quiet", check=False, cwd=tmp_path)
    else:
        r = calibrate(s, obs, "-o", name, "--force")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("allied5g: -o: ") and ("needs a name" in r.stderr
                                                      or "names a directory" in r.stderr)
    assert listing(tmp_path) == before
    assert (tmp_path / ".partial").read_text() == "keep\n"


# --- 6. the lock holds when its file is removed ------------------------------------------


def _big(tmp_path, reps):
    s = tmp_path / "big.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=reps, store="full"))
    return s


def _start(s, out):
    p = subprocess.Popen([BIN, "run", s, "-o", out, "--quiet", "--threads", "1",
                          "--checkpoint", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    t0 = time.monotonic()
    while not os.path.exists(f"{out}.partial.state"):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() - t0 < 120, "no checkpoint"
        time.sleep(0.02)
    return p


def test_removed_lock_still_holds(tmp_path):
    """With OUT.partial.lock removed under a running writer, a second run (fresh,
    --force or --resume) is still refused: the partial file itself is held."""
    s = _big(tmp_path, 200000)
    out = tmp_path / "c.h5"
    first = _start(s, out)
    try:
        os.unlink(f"{out}.partial.lock")
        for extra in ([], ["--force"], ["--resume"]):
            r = run("run", s, "-o", out, "--quiet", *extra, check=False, timeout=120)
            assert r.returncode == 2, r.stderr
            assert f"{out} is being written by another process" in r.stderr, r.stderr
            assert not os.path.exists(f"{out}.partial.lock")
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    assert first.returncode == 1 and "interrupted" in err, err


def test_replaced_partial_never_becomes_the_output(tmp_path):
    """If another process takes over (lock file removed, a new partial file put in
    place), the first run fails at the end instead of renaming the other's
    incomplete file into OUT, and leaves the other's files alone."""
    s = _big(tmp_path, 200000)     # still running when the files are swapped; it stops at its next checkpoint
    out = tmp_path / "c.h5"
    first = _start(s, out)
    os.unlink(f"{out}.partial.lock")
    (tmp_path / "other").write_text("another writer's partial\n")
    os.rename(tmp_path / "other", f"{out}.partial")
    with open(f"{out}.partial.lock", "w") as f:
        f.write("999999\n")
    _, err = first.communicate(timeout=600)
    assert first.returncode == 1, err
    assert "was removed or replaced while this run wrote" in err, err
    assert not out.exists()
    assert open(f"{out}.partial").read() == "another writer's partial\n"
    assert open(f"{out}.partial.lock").read() == "999999\n"


# --- 5. the design file is part of the resume fingerprint --------------------------------


def test_resume_after_editing_the_design_file(tmp_path):
    d = tmp_path / "d.csv"
    d.write_text("us.escalation\n0.1\n0.2\n0.3\n")
    s = tmp_path / "s.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=50000, store="full")
                 + "design: {method: file, file: d.csv}\n")
    out = tmp_path / "o.h5"
    p = _start(s, out)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    d.write_text("us.escalation\n0.1\n0.25\n0.3\n")
    r = run("run", s, "-o", out, "--quiet", "--resume", check=False)
    assert r.returncode == 2, r.stderr
    assert "cannot resume" in r.stderr or "another scenario" in r.stderr, r.stderr
    assert "# design file: checksum" in r.stderr, r.stderr
    assert not out.exists() and os.path.exists(f"{out}.partial")


def test_refused_resume_writes_nothing(tmp_path):
    """A resume refused for another scenario or other --set options leaves the
    interrupted run's files as they were, bytes and times (it wrote the partial file
    before it looked: a review found its size and checksum changed); the right resume
    then finishes."""
    s = tmp_path / "s.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=50000, store="summary"))
    out = tmp_path / "o.h5"
    p = _start(s, out)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    files = [f"{out}.partial", f"{out}.partial.state"]
    before = [(open(f, "rb").read(), os.stat(f).st_mtime_ns) for f in files]
    for extra in (["--replicates", 1000], ["--set", "us.escalation=0.3"]):
        r = run("run", s, "-o", out, "--quiet", "--resume", *extra, check=False)
        assert r.returncode == 2 and "another scenario" in r.stderr, r.stderr
        assert [(open(f, "rb").read(), os.stat(f).st_mtime_ns) for f in files] == before
    run("run", s, "-o", out, "--quiet", "--resume")
    assert out.exists() and not os.path.exists(files[0])


# --- 4. a design file named in a base is beside the base ---------------------------------


def test_design_file_relative_to_the_base(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "d.csv").write_text("us.escalation\n0.1\n0.2\n")
    (tmp_path / "d.csv").write_text("us.escalation\n0.9\n")  # beside the top: not this one
    (tmp_path / "lib" / "base.yaml").write_text(
        "steps: 4\nreplicates: 5\nnations: [{code: A}]\ndesign: {method: file, file: d.csv}\n")
    top = tmp_path / "top.yaml"
    top.write_text("base: lib/base.yaml\nseed: 3\n")
    r = run("validate", top, check=False)
    assert r.returncode == 0, r.stderr
    assert "2 points" in r.stdout, r.stdout
    # A missing one is reported at the base's line, with the path looked for.
    (tmp_path / "lib" / "d.csv").unlink()
    r = run("validate", top, check=False)
    assert r.returncode == 2
    assert f"{tmp_path}/lib/base.yaml:4:" in r.stderr and "lib/d.csv" in r.stderr, r.stderr


# --- 3. calibrate refuses a scenario with a sweep or design ------------------------------


@pytest.mark.parametrize("vary", ["sweep: {us.escalation: [0.1, 0.2]}\n",
                                  "design: {method: lhs, points: 3, ranges: "
                                  "{us.escalation: [0.1, 0.2]}}\n"])
def test_calibrate_refuses_sweep_or_design(cal, tmp_path, vary):
    s, obs = cal
    s.write_text(CAL + vary)
    base_only = tmp_path / "child.yaml"
    base_only.write_text("base: s.yaml\n")
    for scen in (s, base_only):
        r = calibrate(scen, obs, "-o", tmp_path / "f.yaml")
        assert r.returncode == 2, r.stderr
        assert f"{s}:5:" in r.stderr and "calibrate fits one scenario" in r.stderr, r.stderr
        assert not (tmp_path / "f.yaml").exists()
    # Fixing the varied path leaves one point: then it fits.
    r = calibrate(s, obs, "-o", tmp_path / "f.yaml", "--set", "us.escalation=0.15")
    assert r.returncode == 0, r.stderr


# --- 7. us.pressure inert whatever makes the nations' own ---------------------------------

TWO = "start: 2019Q1\nsteps: 4\nreplicates: 5\nnations: [{code: A}, {code: B}]\n"
OWN_BY = {
    "uncertain": "uncertain: {nations.*.us_pressure: {dist: uniform, lo: 0, hi: 1}}\n",
    "sweep": "sweep: {nations.*.us_pressure: [0.1, 0.9]}\n",
    "design": "design: {method: lhs, points: 4, ranges: {nations.*.us_pressure: [0, 1]}}\n",
    "event": "events: [{at: 2019Q1, set: {nations.*.us_pressure: 0.3}}]\n",
    "mixed": "uncertain: {nations.A.us_pressure: {dist: uniform, lo: 0, hi: 1}}\n"
             "events: [{at: 2019Q1, set: {nations.B.us_pressure: 0.3}}]\n",
}


@pytest.mark.parametrize("own", sorted(OWN_BY))
def test_us_pressure_inert_whatever_the_source(tmp_path, own):
    s = tmp_path / "s.yaml"
    s.write_text(TWO + OWN_BY[own])
    r = run("validate", s, "--set", "us.pressure=0.9", check=False)
    assert r.returncode == 2 and "--set:1:1: error: 'us.pressure' would change nothing" \
        in r.stderr, r.stderr
    # An event after the first step leaves the first step to us.pressure: accepted.
    s.write_text(TWO + "events: [{at: 2019Q2, set: {nations.*.us_pressure: 0.3}}]\n")
    assert run("validate", s, "--set", "us.pressure=0.9", check=False).returncode == 0


def test_us_pressure_varied_before_what_makes_it_inert(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(TWO + "uncertain: {us.pressure: {dist: uniform, lo: 0, hi: 1},\n"
                 "  nations.*.us_pressure: {dist: uniform, lo: 0, hi: 1}}\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2 and f"{s}:5:13: error: 'us.pressure' would change nothing" \
        in r.stderr, r.stderr
    s.write_text(TWO + "uncertain: {nations.*.us_pressure: {dist: uniform, lo: 0, hi: 1}}\n"
                 "sweep: {us.pressure: [0.1, 0.9]}\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2 and f"{s}:6:9: error:" in r.stderr, r.stderr


# --- 12. only dates that results files can hold ------------------------------------------


@pytest.mark.parametrize("start,steps,where", [("0000Q1", 4, 1), ("9999Q4", 4, 1),
                                              ("1677Q4", 1, 1), ("2262Q1", 1, 1),
                                              ("2261Q2", 4, 2), ("2019Q1", 1000, 2)])
def test_dates_outside_what_results_can_hold(tmp_path, start, steps, where):
    s = tmp_path / "s.yaml"
    s.write_text(f"start: {start}\nsteps: {steps}\nreplicates: 2\nnations: [{{code: A}}]\n")
    for cmd in (["validate", s], ["run", s, "-o", tmp_path / "o.h5", "--quiet"]):
        r = run(*cmd, check=False)
        assert r.returncode == 2, r.stderr
        assert f"{s}:{where}:" in r.stderr and "outside 1678Q1 .. 2261Q4" in r.stderr, r.stderr
    assert not (tmp_path / "o.h5").exists()
    s.write_text(f"start: 2019Q1\nreplicates: 2\nnations: [{{code: A}}]\n")
    r = run("validate", s, "--set", f"steps={steps}", "--set", f"start={start}", check=False)
    assert r.returncode == 2 and "--set:" in r.stderr, r.stderr


def test_dates_at_the_edges_load(tmp_path):
    import allied5g
    for start in ("1678Q1", "2261Q1"):
        s = tmp_path / f"{start}.yaml"
        s.write_text(f"start: {start}\nsteps: 4\nreplicates: 2\nnations: [{{code: A}}]\n")
        run("run", s, "-o", tmp_path / f"{start}.h5", "--quiet")
        ds = allied5g.load(tmp_path / f"{start}.h5")
        assert str(ds["time"].values[0])[:4] == start[:4]
        assert str(ds["time"].values[-1])[:4] == start[:4]


# --- also: categoricals and whole numbers ------------------------------------------------


def test_design_over_names_is_uniform(tmp_path):
    """An lhs design over four strategy names gives each name a quarter of the
    points (the ends had an eighth each, the middle names three eighths)."""
    import allied5g
    s = tmp_path / "s.yaml"
    s.write_text("steps: 1\nreplicates: 1\nnations: [{code: A}]\ndesign: {method: lhs, "
                 "points: 400, ranges: {us.strategy: [schedule, wavering]}}\n")
    run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    v = allied5g.load(tmp_path / "o.h5")["us.strategy"].values
    names = ["schedule", "uniform", "pivotal", "wavering"]
    assert sorted(set(v.tolist())) == sorted(names)
    assert [int((v == c).sum()) for c in names] == [100, 100, 100, 100]


@pytest.mark.parametrize("path,what", [("policy.phase_out_steps=1:20", "a whole number"),
                                       ("us.strategy=0:3", "a choice among names")])
def test_calibrate_fits_real_numbers_only(cal, tmp_path, path, what):
    s, obs = cal
    r = run("calibrate", s, "--observed", obs, "--fit", "decision.weights.us=0:2", "--fit", path,
            "--starts", 1, "--replicates", 20, "--threads", 1, "-o", tmp_path / "f.yaml",
            check=False)
    assert r.returncode == 2, r.stderr
    assert f"--fit:2:1: error: '{path.split('=')[0]}' is {what}" in r.stderr, r.stderr
    assert "evaluations" not in r.stdout  # refused before any fitting
    assert not (tmp_path / "f.yaml").exists()


# --- also: clear errors, right exit codes ------------------------------------------------


@pytest.mark.parametrize("cmd", [["--version"], ["validate", "{s}"], ["info", "{h}"],
                                 ["run", "{s}", "-o", "{o}"]])
def test_stdout_full_is_a_failure(cal, tmp_path, cmd):
    s, _ = cal
    h = tmp_path / "h.h5"
    run("run", s, "-o", h, "--quiet")
    args = [a.format(s=s, h=h, o=tmp_path / "o.h5") for a in cmd]
    with open("/dev/full", "w") as full:
        r = subprocess.run([BIN, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=600)
    assert r.returncode == 1, r.stderr
    assert "cannot write to standard output" in r.stderr, r.stderr


def test_tagged_string_is_not_a_number(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(TWO + "us: {escalation: !!str 0.5}\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2 and f"{s}:5:18: error: 'us.escalation' must be a number" in r.stderr
    s.write_text(TWO + "us: {escalation: !!float 0.5}\n")
    assert run("validate", s, check=False).returncode == 0


@pytest.mark.parametrize("codes,col", [("AUS,,NZL", 5), (",AUS", 1), ("AUS,", 5),
                                       ("AUS,AUS", 5)])
def test_holdout_empty_or_repeated_code(cal, tmp_path, codes, col):
    s, obs = cal
    r = calibrate(s, obs, "-o", tmp_path / "f.yaml", "--holdout", codes)
    assert r.returncode == 2 and f"--holdout:1:{col}: error:" in r.stderr, r.stderr
    assert not (tmp_path / "f.yaml").exists()


@pytest.mark.parametrize("args,msg", [
    (["--set", "seed=5", "--seed", "6"], "--set:1:1: error: 'seed' is set here and by --seed 6"),
    (["--replicates", "7", "--set", "replicates=9"], "'replicates' is set here and by"),
    (["--set", "us.escalation=0.1", "--set", " us.escalation = 0.2"],
     "--set:2:1: error: 'us.escalation' is set twice (also --set number 1)"),
])
def test_contradictory_options(cal, tmp_path, args, msg):
    s, obs = cal
    for cmd in (["validate", s], ["run", s, "-o", tmp_path / "o.h5", "--quiet"]):
        r = run(*cmd, *args, check=False)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert not (tmp_path / "o.h5").exists()


def test_empty_value_said_once(cal):
    s, _ = cal
    r = run("validate", s, "--set", "us.escalation=", check=False)
    assert r.returncode == 2, r.stderr
    assert "expected a number, got an empty value\n" in r.stderr, r.stderr
    assert "got ''" not in r.stderr
