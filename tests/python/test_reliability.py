"""Interrupted batches: signals, kills, resume, full disks, damaged checkpoints,
failed replicates."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from conftest import BIN, SRC, run, same_data

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

REPS = 24000


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("rel")
    s = d / "s.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=REPS, store="full"))
    ref = d / "ref.h5"
    run("run", s, "-o", ref, "--quiet")
    return d, s, ref


def start(s, out, *extra):
    return subprocess.Popen([BIN, "run", str(s), "-o", str(out), "--quiet", *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, timeout=300, size=0):
    """Until path exists (and holds more than size bytes); timeout only against a hang."""
    t0 = time.monotonic()
    while not os.path.exists(path) or os.path.getsize(path) <= size:
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.02)


def checkpointing(s, out, threads):
    """A run that saves a checkpoint after every block, once the first is on disk."""
    p = start(s, out, "--threads", threads, "--checkpoint", 0)
    wait_for(f"{out}.partial.state")
    return p


def resume_matches(s, out, ref):
    run("run", s, "-o", out, "--quiet", "--resume")
    same_data(ref, out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_then_resume_equals_uninterrupted(work, sig):
    d, s, ref = work
    out = d / f"sig{int(sig)}.h5"
    p = start(s, out, "--threads", 1, "--checkpoint", 1000)
    wait_for(f"{out}.partial", size=4 << 20)     # a block (8 MiB of records) is being written
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "interrupted" in err and "--resume" in err
    saved = int(err.split(" of ")[0].split()[-1])
    assert 0 < saved < REPS
    assert not out.exists() and os.path.exists(f"{out}.partial") and os.path.exists(f"{out}.partial.state")
    r = run("run", s, "-o", out, "--quiet", "--resume", "--threads", 2)
    assert r.returncode == 0
    assert not os.path.exists(f"{out}.partial") and not os.path.exists(f"{out}.partial.state")
    same_data(ref, out)


def test_kill_loses_only_blocks_in_flight(work):
    d, s, ref = work
    out = d / "kill.h5"
    p = checkpointing(s, out, 2)
    time.sleep(0.2)
    p.kill()
    p.communicate()
    assert os.path.exists(f"{out}.partial.state")
    resume_matches(s, out, ref)


def test_kill_in_any_metadata_write_then_resume(work, tmp_path):
    """kill -9 half-way through any metadata write of the results file (the test hook
    A5_TEST_KILL_AT=k: half of the k-th write, then SIGKILL), with a checkpoint after
    every block, so many kills land in a checkpoint's flush: every resume gives
    exactly the data of an uninterrupted run. Without the journal (0.3.0), a kill
    in a flush left the last checkpoint's chunk index half-rewritten ("damaged").
    Every third write (about 57 kills); every twelfth in the sanitized build."""
    d = work[0]
    s = d / "kill6000.yaml"
    s.write_text(scenario(nations=30, steps=40, replicates=6000, store="full"))
    ref = d / "kill6000.h5"
    run("run", s, "-o", ref, "--quiet")
    killed, in_checkpoint, k = 0, 0, 1
    step = 12 if os.environ.get("A5_OTHER_BIN") else 3    # sanitized -O0 build: every 12th
    while True:
        out = tmp_path / f"k{k}.h5"
        env = {**os.environ, "A5_TEST_KILL_AT": str(k)}
        p = run("run", s, "-o", out, "--quiet", "--checkpoint", 0, check=False, env=env)
        if p.returncode == 0:
            break
        assert p.returncode == -signal.SIGKILL, p.stderr
        killed += 1
        in_checkpoint += os.path.exists(f"{out}.partial.state")
        resume_matches(s, out, ref)
        assert sorted(x.name for x in tmp_path.iterdir()) == [out.name]
        out.unlink()
        k += step
    assert killed >= 150 // step and in_checkpoint >= killed * 2 // 3, (killed, in_checkpoint)


def test_second_signal_stops_at_once(work):
    d, s, ref = work
    out = d / "twice.h5"
    p = checkpointing(s, out, 1)
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    assert p.returncode in (-signal.SIGINT, 1)
    resume_matches(s, out, ref)


def test_partial_needs_resume_or_force(work, tmp_path):
    d, s, _ = work
    out = tmp_path / "o.h5"
    p = checkpointing(s, out, 1)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    r = run("run", s, "-o", out, "--quiet", check=False)
    assert r.returncode == 2 and "--resume" in r.stderr and "--force" in r.stderr
    # Another scenario (or other --set options) is refused, and nothing is lost.
    r = run("run", s, "-o", out, "--quiet", "--resume", "--set", "us.escalation=0.05", check=False)
    assert r.returncode == 2 and "differ" in r.stderr or "another scenario" in r.stderr
    assert os.path.exists(f"{out}.partial")
    # --force starts over.
    run("run", s, "-o", out, "--quiet", "--force", "--replicates", 100)
    assert out.exists() and not os.path.exists(f"{out}.partial")
    assert not os.path.exists(f"{out}.partial.state")


@pytest.mark.parametrize("lacks", ["first_restrict_step", "Conventions"])
def test_partial_of_an_earlier_version_is_refused_with_its_reason(work, tmp_path, lacks):
    """A partial file without first_restrict_step (written by 0.3.0 or earlier), or
    without the CF layout (time not yet the dimension), cannot be resumed: the
    message says why, not just "damaged"."""
    import h5py
    _, s, _ = work
    out = tmp_path / "old.h5"
    p = checkpointing(s, out, 1)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    with h5py.File(f"{out}.partial", "r+") as f:
        if lacks in f:
            del f[lacks]
        else:
            del f.attrs[lacks]
    r = run("run", s, "-o", out, "--quiet", "--resume", check=False)
    assert r.returncode == 2 and "earlier allied5g" in r.stderr and "--force" in r.stderr, r.stderr
    assert not out.exists() and os.path.exists(f"{out}.partial")


def test_nothing_to_resume(work, tmp_path):
    _, s, _ = work
    r = run("run", s, "-o", tmp_path / "none.h5", "--resume", check=False)
    assert r.returncode == 2 and "nothing to resume" in r.stderr


@pytest.mark.parametrize("damage", ["state-bytes", "state-truncated", "partial-garbage"])
def test_damaged_checkpoint_refused(work, tmp_path, damage):
    _, s, _ = work
    out = tmp_path / "d.h5"
    p = checkpointing(s, out, 1)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    state, partial = f"{out}.partial.state", f"{out}.partial"
    if damage == "state-bytes":
        with open(state, "r+b") as f:
            f.seek(200)
            f.write(b"\xff" * 16)
    elif damage == "state-truncated":
        os.truncate(state, os.path.getsize(state) // 2)
    else:
        with open(partial, "r+b") as f:
            f.write(b"not an hdf5 file at all" * 100)
    r = run("run", s, "-o", out, "--quiet", "--resume", check=False)
    assert r.returncode == 2, r.stderr
    assert "cannot resume" in r.stderr or "damaged" in r.stderr, r.stderr
    assert not out.exists()


def _mount_tmpfs(path, size):
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")


@pytest.mark.parametrize("checkpoint", [0, 1000])
def test_disk_full(work, tmp_path, checkpoint):
    _, s, _ = work
    small = tmp_path / "small"
    _mount_tmpfs(small, "12m")
    try:
        out = small / "o.h5"
        r = run("run", s, "-o", out, "--quiet", "--replicates", 4000, "--checkpoint", checkpoint,
                "--ignore-space",
                check=False)
        assert r.returncode == 1
        assert str(out) in r.stderr and "No space left on device" in r.stderr, r.stderr
        left = sorted(x.name for x in small.iterdir())
        assert "o.h5" not in left
        if checkpoint == 0:      # checkpoints were made: the partial is kept and resumable
            assert left == ["o.h5.partial", "o.h5.partial.state"] and "--resume" in r.stderr
        else:                    # no checkpoint yet: nothing is left behind
            assert left == [] and "no results written" in r.stderr
    finally:
        subprocess.run(["umount", str(small)])


def test_disk_full_while_checkpointing(work, tmp_path):
    """The disk fills while the first checkpoint is written (part of the write goes
    through, the rest fails): the error names the checkpoint and the real cause,
    and nothing is left behind. Where that happens depends on how much a block
    writes before the checkpoint, so several disk sizes are tried: every one must
    fail cleanly (nothing left, or a resumable checkpoint once one was written),
    and at least one must fail in the checkpoint."""
    _, s, _ = work
    in_checkpoint = []
    for size in (6, 8, 9, 10, 12):
        small = tmp_path / f"small{size}"
        _mount_tmpfs(small, f"{size}m")
        try:
            out = small / "o.h5"
            r = run("run", s, "-o", out, "--quiet", "--replicates", 4000, "--checkpoint", 0, "--ignore-space",
                    check=False)
            assert r.returncode == 1 and "No space left on device" in r.stderr, r.stderr
            left = sorted(x.name for x in small.iterdir())
            if left:
                assert left == ["o.h5.partial", "o.h5.partial.state"] and "--resume" in r.stderr
            else:
                assert "no results written" in r.stderr, r.stderr
            if "cannot write checkpoint" in r.stderr:
                assert not left
                in_checkpoint.append(size)
        finally:
            subprocess.run(["umount", str(small)])
    assert in_checkpoint, "no disk size made the checkpoint write fail"


def test_failed_replicates(work, tmp_path):
    _, s, _ = work
    out = tmp_path / "f.h5"
    env = {**os.environ, "A5_INJECT_FAILURE": "7"}
    r = subprocess.run([BIN, "run", s, "-o", out, "--quiet", "--replicates", "50"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "1 replicate produced non-finite values" in r.stderr
    good = tmp_path / "g.h5"
    run("run", s, "-o", good, "--quiet", "--replicates", 50)
    with xr.open_dataset(out) as f, xr.open_dataset(good) as g:
        assert f.attrs["failed_replicates"] == 1 and int(f.failed_replicates[0]) == 1
        assert (f.policy.values[0, 7] == -1).all() and np.isnan(f.high_risk_share.values[0, 7]).all()
        assert (f.first_ban_step.values[0, 7] == -2).all() and (f.first_restrict_step.values[0, 7] == -2).all()
        keep = [r for r in range(50) if r != 7]
        assert np.array_equal(f.policy.values[0, keep], g.policy.values[0, keep])
        share = (g.policy.values[0, keep] == 2).mean(0)
        assert np.allclose(f.policy_share.values[0, ..., 2], share, atol=1e-6)
    stop = tmp_path / "stop.h5"
    r = subprocess.run([BIN, "run", s, "-o", stop, "--quiet", "--replicates", "50",
                        "--on-failure", "stop"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "--on-failure stop" in r.stderr and "--resume" in r.stderr
    assert not stop.exists() and os.path.exists(f"{stop}.partial")


def test_live_reading(work, tmp_path):
    import allied5g
    _, s, ref = work
    out = tmp_path / "live.h5"
    p = start(s, out, "--threads", 1, "--live", "--checkpoint", 0)
    wait_for(f"{out}.partial.state")
    ds = allied5g.load_live(out)                       # while the batch runs
    done = ds.attrs["replicates_done"][0]
    assert 0 < done < REPS
    with xr.open_dataset(ref) as r:
        got = ds.policy.values[0, :done]
        assert np.array_equal(got, r.policy.values[0, :done])
    ds.close()
    # A kill of a live run leaves an in-use flag; resume clears it (h5clear) and goes on.
    p.kill()
    p.communicate()
    run("run", s, "-o", out, "--quiet", "--live", "--resume")
    same_data(ref, out)
    with xr.open_dataset(out, engine="netcdf4") as d:    # the finished file opens everywhere
        assert d.attrs["complete"] == "yes"
