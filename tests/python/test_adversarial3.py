"""Adversarial pass of issue 25 over calibrate, resume inputs and the run command line:
each case is a directory of files, a command, and what must come out. Whatever the
case, the invariants hold: the exit status is the one expected (2 bad input, 1 run-time
failure), no file that was there changes unless it is a named output with --force,
nothing appears but the outputs of a successful command, stderr says what went wrong
(no HDF5 diagnostics, no FILE:0:0 position), and every results file written reads
back (`info`). docs/reliability.md lists the cases and their outcomes."""
import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, SRC, run, same_data

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

S = "start: 2019Q1\nsteps: 8\nreplicates: 20\nnations: [{code: AUS}, {code: NZL}]\n"
OBS = "code,date,policy\nAUS,2019Q4,ban\nNZL,2019Q4,open\nAUS,2020Q4,ban\n"
DESIGN = S + "design: {method: file, file: d.csv}\n"
FIT = ["--fit", "decision.weights.us=0:2", "--starts", "1", "--replicates", "20",
       "--threads", "1", "--quiet"]
CAL = ["calibrate", "s.yaml", "--observed", "obs.csv", *FIT]
RUN = ["run", "s.yaml", "--quiet", "--threads", "1"]
BASE = {"s.yaml": S, "obs.csv": OBS}

# (id, files, argv, exit status, what stderr says (or None), outputs of a success;
# "-NAME": a file the command may remove)
CASES = [
    # --- run: the output's name and what is there ----------------------------------
    ("run-o-empty", BASE, RUN + ["-o", ""], 2, "needs a name", []),
    ("run-o-slash", BASE, RUN + ["-o", "/"], 2, "names a directory", []),
    ("run-o-dot", BASE, RUN + ["-o", "."], 2, "names a directory", []),
    ("run-o-dotdot", BASE, RUN + ["-o", ".."], 2, "names a directory", []),
    ("run-o-trailing-slash", BASE, RUN + ["-o", "x.h5/"], 2, "names a directory", []),
    ("run-o-missing-dir", BASE, RUN + ["-o", "nodir/x.h5"], 1, "does not exist", []),
    ("run-o-file-as-dir", BASE, RUN + ["-o", "s.yaml/x.h5"], 1, "does not exist", []),
    ("run-o-existing-dir", {**BASE, "d": ("dir",)}, RUN + ["-o", "d", "--force"], 2,
     "a directory, not a regular file", []),
    ("run-o-fifo", {**BASE, "f": ("fifo",)}, RUN + ["-o", "f", "--force"], 2,
     "a FIFO", []),
    ("run-o-dev-null", BASE, RUN + ["-o", "/dev/null", "--force"], 2, "character device", []),
    ("run-o-scenario", BASE, RUN + ["-o", "s.yaml", "--force"], 2, "is an input", []),
    ("run-o-hardlink-scenario", {**BASE, "h.h5": ("hard", "s.yaml")},
     RUN + ["-o", "h.h5", "--force"], 2, "is an input", []),
    ("run-o-symlink-scenario", {**BASE, "l.h5": ("link", "s.yaml")},
     RUN + ["-o", "l.h5", "--force"], 2, "is an input", []),
    ("run-o-dangling-symlink", {**BASE, "l.h5": ("link", "nowhere")},
     RUN + ["-o", "l.h5", "--force"], 2, "symbolic link to a missing file", []),
    ("run-partial-is-scenario", {"o.h5.partial": S},
     ["run", "o.h5.partial", "--quiet", "-o", "o.h5", "--force"], 2, "is an input", []),
    ("run-partial-is-fifo", {**BASE, "o.h5.partial": ("fifo",)},
     RUN + ["-o", "o.h5", "--force"], 2, "a FIFO", []),
    ("run-o-exists", {**BASE, "o.h5": "old"}, RUN + ["-o", "o.h5"], 2, "exists", []),
    ("run-o-newline", BASE, RUN + ["-o", "a\nb.h5"], 0, None, ["a\nb.h5"]),
    ("run-o-long", BASE, RUN + ["-o", "x" * 300 + ".h5"], 1, "File name too long", []),
    ("run-o-design-csv", {**BASE, "s.yaml": DESIGN, "d.csv": "us.escalation\n0.1\n"},
     RUN + ["-o", "d.csv", "--force"], 2, "is an input", []),
    ("run-o-base", {"b.yaml": S, "s.yaml": "base: b.yaml\n"}, RUN + ["-o", "b.yaml", "--force"],
     2, "is an input", []),
    # --- run: options --------------------------------------------------------------
    ("run-threads-0", BASE, RUN + ["-o", "o.h5", "--threads", "0"], 2, "--threads", []),
    ("run-threads-neg", BASE, RUN + ["-o", "o.h5", "--threads=-1"], 2, "--threads", []),
    ("run-threads-float", BASE, RUN + ["-o", "o.h5", "--threads", "1.5"], 2, "--threads", []),
    ("run-checkpoint-neg", BASE, RUN + ["-o", "o.h5", "--checkpoint=-1"], 2, "--checkpoint", []),
    ("run-checkpoint-word", BASE, RUN + ["-o", "o.h5", "--checkpoint", "x"], 2, "--checkpoint",
     []),
    ("run-on-failure-word", BASE, RUN + ["-o", "o.h5", "--on-failure", "maybe"], 2,
     "--on-failure", []),
    ("run-store-word", BASE, RUN + ["-o", "o.h5", "--store", "half"], 2, "--store", []),
    ("run-seed-neg", BASE, RUN + ["-o", "o.h5", "--seed=-1"], 2, "--seed", []),
    ("run-seed-huge", BASE, RUN + ["-o", "o.h5", "--seed", "18446744073709551616"], 2, "--seed",
     []),
    ("run-replicates-0", BASE, RUN + ["-o", "o.h5", "--replicates", "0"], 2, "--replicates", []),
    ("run-set-no-equals", BASE, RUN + ["-o", "o.h5", "--set", "us.escalation"], 2,
     "expected PATH=VALUE", []),
    ("run-set-no-path", BASE, RUN + ["-o", "o.h5", "--set", "=1"], 2, "expected PATH=VALUE",
     []),
    ("run-set-unknown-nation", BASE, RUN + ["-o", "o.h5", "--set", "nations.ZZZ.us_pressure=1"],
     2, "unknown nation", []),
    ("run-set-steps-0", BASE, RUN + ["-o", "o.h5", "--set", "steps=0"], 2, "steps", []),
    ("run-set-start-q5", BASE, RUN + ["-o", "o.h5", "--set", "start=2019Q5"], 2, "quarter", []),
    ("run-set-start-1600", BASE, RUN + ["-o", "o.h5", "--set", "start=1600Q1"], 2,
     "outside 1678Q1 .. 2261Q4", []),
    ("run-set-steps-1000", BASE, RUN + ["-o", "o.h5", "--set", "steps=1000"], 2,
     "outside 1678Q1 .. 2261Q4", []),
    ("run-set-twice", BASE, RUN + ["-o", "o.h5", "--set", "seed=1", "--set", "seed=2"], 2,
     "set twice", []),
    ("run-set-and-seed", BASE, RUN + ["-o", "o.h5", "--set", "seed=1", "--seed", "2"], 2,
     "set here and by --seed", []),
    ("run-set-and-store", BASE, RUN + ["-o", "o.h5", "--set", "output.store=full", "--store",
                                        "summary"], 2, "set here and by --store", []),
    ("run-set-tagged-str", BASE, RUN + ["-o", "o.h5", "--set", "us.escalation=!!str 0.5"], 2,
     "must be a number", []),
    ("run-set-empty", BASE, RUN + ["-o", "o.h5", "--set", "us.escalation="], 2,
     "got an empty value", []),
    ("run-set-nan", BASE, RUN + ["-o", "o.h5", "--set", "us.escalation=nan"], 2, "", []),
    ("run-unknown-option", BASE, RUN + ["-o", "o.h5", "--frobnicate"], 2, "frobnicate", []),
    ("run-two-operands", BASE, RUN + ["s.yaml", "-o", "o.h5"], 2, "", []),
    ("run-no-operand", BASE, ["run", "-o", "o.h5"], 2, "", []),
    ("run-o-twice", BASE, RUN + ["-o", "a.h5", "-o", "b.h5"], 2, "", []),
    # --- run: odd scenario bytes -----------------------------------------------------
    ("run-scenario-empty", {"s.yaml": ""}, RUN + ["-o", "o.h5"], 2, "", []),
    ("run-scenario-dir", {"s.yaml": ("dir",)}, RUN + ["-o", "o.h5"], 2, "directory", []),
    ("run-scenario-fifo", {"s.yaml": ("fifo",)}, RUN + ["-o", "o.h5"], 2, "FIFO", []),
    ("run-scenario-missing", {}, RUN + ["-o", "o.h5"], 2, "s.yaml", []),
    ("run-scenario-nul", {"s.yaml": S + "\0"}, RUN + ["-o", "o.h5"], 2, "NUL byte", []),
    ("run-scenario-0xff", {"s.yaml": S.encode() + b"name: \xff\xfe\n"}, RUN + ["-o", "o.h5"], 2,
     "s.yaml:5:7: error: malformed YAML", []),  # at the byte (it said 1:1)
    ("run-scenario-bom", {"s.yaml": b"\xef\xbb\xbf" + S.encode()}, RUN + ["-o", "o.h5"], 0,
     None, ["o.h5"]),
    ("run-scenario-crlf", {"s.yaml": S.replace("\n", "\r\n")}, RUN + ["-o", "o.h5"], 0, None,
     ["o.h5"]),
    ("run-scenario-tabs", {"s.yaml": S.replace("steps: 8", "steps:\t8")}, RUN + ["-o", "o.h5"],
     0, None, ["o.h5"]),
    ("run-scenario-dup-key", {"s.yaml": S + "steps: 9\n"}, RUN + ["-o", "o.h5"], 2, "", []),
    ("run-base-symlink-loop", {"s.yaml": "base: s.yaml\n"}, RUN + ["-o", "o.h5"], 2, "", []),
    ("run-design-missing", {"s.yaml": DESIGN}, RUN + ["-o", "o.h5"], 2, "d.csv", []),
    ("run-design-fifo", {"s.yaml": DESIGN, "d.csv": ("fifo",)}, RUN + ["-o", "o.h5"], 2, "", []),
    ("run-design-nul", {"s.yaml": DESIGN, "d.csv": "us.escalation\n0.1\0\n"},
     RUN + ["-o", "o.h5"], 2, "", []),
    ("run-design-header-only", {"s.yaml": DESIGN, "d.csv": "us.escalation\n"},
     RUN + ["-o", "o.h5"], 2, "no rows", []),
    ("run-design-ragged", {"s.yaml": DESIGN, "d.csv": "us.escalation\n0.1,0.2\n"},
     RUN + ["-o", "o.h5"], 2, "row has 2 values", []),
    ("run-design-text", {"s.yaml": DESIGN, "d.csv": "us.escalation\nhigh\n"},
     RUN + ["-o", "o.h5"], 2, "", []),
    ("run-design-crlf", {"s.yaml": DESIGN, "d.csv": "us.escalation\r\n0.1\r\n0.2\r\n"},
     RUN + ["-o", "o.h5"], 0, None, ["o.h5"]),
    ("run-design-in-base-dir", {"lib": ("dir",), "lib/b.yaml": DESIGN,
                                "lib/d.csv": "us.escalation\n0.1\n",
                                "s.yaml": "base: lib/b.yaml\n"}, RUN + ["-o", "o.h5"], 0, None,
     ["o.h5"]),
    ("run-pressure-inert-event", {"s.yaml": S + "events: [{at: 2019Q1, set: "
                                  "{nations.*.us_pressure: 0.2}}]\n"},
     RUN + ["-o", "o.h5", "--set", "us.pressure=0.5"], 2, "would change nothing", []),
    # --- run: resume inputs ------------------------------------------------------------
    ("resume-nothing", BASE, RUN + ["-o", "o.h5", "--resume"], 2, "nothing to resume", []),
    ("resume-garbage-partial", {**BASE, "o.h5.partial": "garbage", "o.h5.partial.state": "x"},
     RUN + ["-o", "o.h5", "--resume"], 2, "damaged", []),
    ("resume-partial-dir", {**BASE, "o.h5.partial": ("dir",)},
     RUN + ["-o", "o.h5", "--resume"], 2, "directory", []),
    ("resume-partial-symlink", {**BASE, "elsewhere.h5": "keep", "o.h5.partial":
                                ("link", "elsewhere.h5"), "o.h5.partial.state": "x"},
     RUN + ["-o", "o.h5", "--resume"], 2, "", []),
    ("resume-lock-is-dir", {**BASE, "o.h5.partial.lock": ("dir",)},
     RUN + ["-o", "o.h5"], 1, "cannot create o.h5: its lock file", []),
    ("resume-lock-is-symlink", {**BASE, "t": "keep", "o.h5.partial.lock": ("link", "t")},
     RUN + ["-o", "o.h5"], 1, "cannot create o.h5: its lock file", []),
    ("run-stale-lock-file", {**BASE, "o.h5.partial.lock": "999999\n"},
     RUN + ["-o", "o.h5"], 0, None, ["o.h5", "-o.h5.partial.lock"]),
    # --- calibrate: outputs --------------------------------------------------------------
    ("cal-o-empty", BASE, CAL + ["-o", ""], 2, "needs a name", []),
    ("cal-o-dir", BASE, CAL + ["-o", "."], 2, "names a directory", []),
    ("cal-o-missing-dir", BASE, CAL + ["-o", "no/f.yaml"], 1, "does not exist", []),
    ("cal-pred-missing-dir", BASE, CAL + ["-o", "f.yaml", "--predictions", "no/p.csv"], 1,
     "does not exist", []),
    ("cal-o-observed", BASE, CAL + ["-o", "obs.csv", "--force"], 2, "is an input", []),
    ("cal-o-scenario", BASE, CAL + ["-o", "s.yaml", "--force"], 2, "is an input", []),
    ("cal-est-observed", BASE, CAL + ["-o", "f.yaml", "--estimates", "obs.csv", "--force"], 2,
     "is an input", []),
    ("cal-pred-scenario-link", {**BASE, "l.csv": ("link", "s.yaml")},
     CAL + ["-o", "f.yaml", "--predictions", "l.csv", "--force"], 2, "is an input", []),
    ("cal-pred-hardlink-obs", {**BASE, "h.csv": ("hard", "obs.csv")},
     CAL + ["-o", "f.yaml", "--predictions", "h.csv", "--force"], 2, "is an input", []),
    ("cal-o-base", {"b.yaml": S, "s.yaml": "base: b.yaml\n", "obs.csv": OBS},
     CAL + ["-o", "b.yaml", "--force"], 2, "is an input", []),
    ("cal-two-outputs-dot", BASE, CAL + ["-o", "f.yaml", "--predictions", "p.csv",
                                         "--estimates", "./p.csv"], 2, "named for two outputs", []),
    ("cal-o-equals-pred", BASE, CAL + ["-o", "p.csv", "--predictions", "p.csv"], 2,
     "named for two outputs", []),
    ("cal-pred-symlink-est", {**BASE, "e.csv": "old", "p.csv": ("link", "e.csv")},
     CAL + ["-o", "f.yaml", "--predictions", "p.csv", "--estimates", "e.csv", "--force"], 2,
     "named for two outputs", []),
    ("cal-o-fifo", {**BASE, "f.yaml": ("fifo",)}, CAL + ["-o", "f.yaml", "--force"], 2,
     "a FIFO", []),
    ("cal-o-dangling", {**BASE, "f.yaml": ("link", "nowhere")}, CAL + ["-o", "f.yaml",
                                                                       "--force"], 2,
     "symbolic link to a missing file", []),
    ("cal-o-exists", {**BASE, "f.yaml": "old"}, CAL + ["-o", "f.yaml"], 2, "exists", []),
    ("cal-tmp-is-symlink-to-input", {**BASE, "f.yaml.tmp": ("link", "obs.csv")},
     CAL + ["-o", "f.yaml"], 0, None, ["f.yaml", "-f.yaml.tmp"]),
    ("cal-tmp-is-hardlink-to-input", {**BASE, "f.yaml.tmp": ("hard", "obs.csv")},
     CAL + ["-o", "f.yaml"], 0, None, ["f.yaml", "-f.yaml.tmp"]),
    ("cal-stale-tmp", {**BASE, "f.yaml.tmp": "half a file"},
     CAL + ["-o", "f.yaml"], 0, None, ["f.yaml", "-f.yaml.tmp"]),
    ("cal-est-is-tmp-of-o", BASE, CAL + ["-o", "f.yaml", "--estimates", "f.yaml.tmp"], 2,
     "temporary file of -o", []),
    ("cal-ok", BASE, CAL + ["-o", "f.yaml", "--predictions", "p.csv", "--estimates", "e.csv",
                            "--bootstrap", "2"], 0, None, ["f.yaml", "p.csv", "e.csv"]),
    # --- calibrate: inputs and options ---------------------------------------------------
    ("cal-obs-missing", {"s.yaml": S}, CAL + ["-o", "f.yaml"], 2, "obs.csv", []),
    ("cal-obs-dir", {"s.yaml": S, "obs.csv": ("dir",)}, CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-fifo", {"s.yaml": S, "obs.csv": ("fifo",)}, CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-empty", {"s.yaml": S, "obs.csv": ""}, CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-header-only", {"s.yaml": S, "obs.csv": "code,date,policy\n"},
     CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-bad-header", {"s.yaml": S, "obs.csv": "nation,when,what\nAUS,2019Q4,ban\n"},
     CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-unknown-nation", {"s.yaml": S, "obs.csv": OBS + "ZZZ,2019Q4,ban\n"},
     CAL + ["-o", "f.yaml"], 2, "ZZZ", []),
    ("cal-obs-date-outside", {"s.yaml": S, "obs.csv": OBS + "AUS,2031Q1,ban\n"},
     CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-bad-date", {"s.yaml": S, "obs.csv": OBS + "AUS,2019-10-01,ban\n"},
     CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-bad-policy", {"s.yaml": S, "obs.csv": OBS + "NZL,2020Q1,maybe\n"},
     CAL + ["-o", "f.yaml"], 2, "maybe", []),
    ("cal-obs-0xff", {"s.yaml": S, "obs.csv": OBS.encode() + b"NZL,2020Q1,\xff\n"},
     CAL + ["-o", "f.yaml"], 2, "", []),
    ("cal-obs-crlf", {"s.yaml": S, "obs.csv": OBS.replace("\n", "\r\n")},
     CAL + ["-o", "f.yaml"], 0, None, ["f.yaml"]),
    ("cal-obs-contradiction", {"s.yaml": S, "obs.csv": OBS + "AUS,2019Q4,open\n"},
     CAL + ["-o", "f.yaml"], 2, "one policy per nation and quarter", []),
    ("cal-fit-unknown", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                               "us.nothing=0:1", "-o", "f.yaml"], 2, "names nothing", []),
    ("cal-fit-reversed", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                                "us.escalation=1:0", "-o", "f.yaml"], 2, "", []),
    ("cal-fit-nan", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                           "us.escalation=nan:1", "-o", "f.yaml"], 2, "", []),
    ("cal-fit-int", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                           "policy.phase_out_steps=1:20", "-o", "f.yaml"], 2,
     "--fit:1:1: error: 'policy.phase_out_steps' is a whole number", []),
    ("cal-fit-choice", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                              "china.strategy=0:2", "-o", "f.yaml"], 2, "a choice among names",
     []),
    ("cal-fit-run-setting", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "--fit",
                                   "steps=1:8", "-o", "f.yaml"], 2, "", []),
    ("cal-sweep", {"s.yaml": S + "sweep: {us.escalation: [0.1, 0.2]}\n", "obs.csv": OBS},
     CAL + ["-o", "f.yaml"], 2, "s.yaml:5:", []),
    ("cal-design", {"s.yaml": DESIGN, "d.csv": "us.escalation\n0.1\n0.2\n", "obs.csv": OBS},
     CAL + ["-o", "f.yaml"], 2, "calibrate fits one scenario", []),
    ("cal-holdout-empty-code", BASE, CAL + ["-o", "f.yaml", "--holdout", "AUS,,NZL"], 2,
     "--holdout:1:5", []),
    ("cal-holdout-trailing-comma", BASE, CAL + ["-o", "f.yaml", "--holdout", "AUS,"], 2,
     "empty nation code", []),
    ("cal-holdout-twice", BASE, CAL + ["-o", "f.yaml", "--holdout", "NZL,NZL"], 2,
     "held out twice", []),
    ("cal-holdout-unknown", BASE, CAL + ["-o", "f.yaml", "--holdout", "ZZZ"], 2,
     "unknown nation code", []),
    ("cal-holdout-and-folds", BASE, CAL + ["-o", "f.yaml", "--holdout", "AUS", "--folds", "2"],
     2, "cannot be combined", []),
    ("cal-folds-1", BASE, CAL + ["-o", "f.yaml", "--folds", "1"], 2, "--folds", []),
    ("cal-folds-too-many", BASE, CAL + ["-o", "f.yaml", "--folds", "3"], 2, "--folds", []),
    ("cal-level-1", BASE, CAL + ["-o", "f.yaml", "--level", "1"], 2, "--level", []),
    ("cal-level-0", BASE, CAL + ["-o", "f.yaml", "--level", "0"], 2, "--level", []),
    ("cal-level-nan", BASE, CAL + ["-o", "f.yaml", "--level", "nan"], 2, "--level", []),
    ("cal-tol-0", BASE, CAL + ["-o", "f.yaml", "--tol", "0"], 2, "--tol", []),
    ("cal-smooth-neg", BASE, CAL + ["-o", "f.yaml", "--smooth=-1"], 2, "--smooth", []),
    ("cal-bootstrap-neg", BASE, CAL + ["-o", "f.yaml", "--bootstrap=-1"], 2, "--bootstrap", []),
    ("cal-starts-0", BASE, CAL + ["-o", "f.yaml", "--starts", "0"], 2, "--starts", []),
    ("cal-seeds-0", BASE, CAL + ["-o", "f.yaml", "--seeds", "0"], 2, "--seeds", []),
    ("cal-max-iter-0", BASE, CAL + ["-o", "f.yaml", "--max-iter", "0"], 2, "--max-iter", []),
    ("cal-objective-word", BASE, CAL + ["-o", "f.yaml", "--objective", "mse"], 2,
     "--objective", []),
    ("cal-set-and-seed", BASE, CAL + ["-o", "f.yaml", "--set", "seed=3", "--seed", "4"], 2,
     "set here and by --seed", []),
    ("cal-set-twice", BASE, CAL + ["-o", "f.yaml", "--set", "us.escalation=0.1", "--set",
                                   "us.escalation=0.2"], 2, "set twice", []),
    ("cal-no-fit", BASE, ["calibrate", "s.yaml", "--observed", "obs.csv", "-o", "f.yaml"], 2,
     "--fit", []),
    ("cal-dates-outside", {"s.yaml": S.replace("2019Q1", "2261Q3"), "obs.csv": OBS},
     CAL + ["-o", "f.yaml"], 2, "outside 1678Q1 .. 2261Q4", []),
]


def _make(d, files):
    for name, what in files.items():
        p = d / name
        if isinstance(what, tuple):
            if what[0] == "dir":
                p.mkdir()
            elif what[0] == "fifo":
                os.mkfifo(p)
            elif what[0] == "link":
                os.symlink(what[1], p)
            elif what[0] == "hard":
                os.link(d / what[1], p)
        else:
            p.write_bytes(what if isinstance(what, bytes) else what.encode())


def _snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            if os.path.islink(p):
                out[p] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
            else:
                out[p] = oct(st.st_mode)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_adversarial(tmp_path, case):
    name, files, argv, status, says, outputs = case
    d = tmp_path / "w"
    d.mkdir()
    _make(d, files)
    before = _snapshot(d)
    r = subprocess.run([BIN, *argv], cwd=d, capture_output=True, text=True, timeout=120,
                       errors="replace")
    assert r.returncode == status, (r.returncode, r.stderr)
    if says:
        assert says in r.stderr, r.stderr
    if status:
        assert r.stderr.strip(), "a failure must say why"
    assert "HDF5-DIAG" not in r.stderr and ":0:0:" not in r.stderr, r.stderr
    after = _snapshot(d)
    # An output named "-NAME" is a file the command may remove (a stale lock file).
    made = {str(d / o.lstrip("-")) for o in outputs} if status == 0 else set()
    for p, h in before.items():
        assert after.get(p) == h or p in made, f"{p} changed or went away"
    assert set(after) - set(before) <= made, sorted(set(after) - set(before))
    for o in [o for o in outputs if not o.startswith("-")] if status == 0 else []:
        assert (d / o).exists(), o
        if o.endswith(".h5"):
            assert run("info", d / o, check=False).returncode == 0
        if o.endswith(".yaml"):
            assert run("validate", d / o, check=False).returncode == 0


# --- processes at once, kills at random moments, full disks -----------------------------


def _work(tmp_path, files):
    d = tmp_path / "w"
    d.mkdir()
    _make(d, files)
    return d


def test_two_calibrates_one_output(tmp_path):
    """Two calibrations writing one FITTED.yaml (with --force) at once: each renames
    a whole file of its own; what is left is one of them, complete, and no
    temporary file."""
    d = _work(tmp_path, BASE)
    argv = [BIN, *CAL, "-o", "f.yaml", "--force", "--predictions", "p.csv"]
    ps = [subprocess.Popen(argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True) for _ in range(4)]
    for p in ps:
        p.communicate(timeout=600)
        assert p.returncode == 0
    assert sorted(x.name for x in d.iterdir()) == ["f.yaml", "obs.csv", "p.csv", "s.yaml"]
    assert run("validate", d / "f.yaml", check=False).returncode == 0


def test_two_runs_started_at_once(tmp_path):
    """Four runs of one output started together: exactly one writes it, the others are
    refused (exit 2) while it holds the lock, or refused as the output exists."""
    d = _work(tmp_path, {"s.yaml": scenario(nations=10, steps=20, replicates=20000)})
    ps = [subprocess.Popen([BIN, "run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "1"],
                           cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for _ in range(4)]
    codes = []
    for p in ps:
        _, err = p.communicate(timeout=600)
        codes.append(p.returncode)
        assert p.returncode in (0, 2), err
        if p.returncode:  # whose lock it is (test_run_that_sees_another_make_its_lock)
            assert "is being written by process" in err or "exists" in err, err
    assert codes.count(0) == 1, codes
    assert sorted(x.name for x in d.iterdir()) == ["o.h5", "s.yaml"]
    assert run("info", d / "o.h5", check=False).returncode == 0


def _held(path):
    """Whether a process holds a lock of an open file (F_OFD_SETLK) on path."""
    import fcntl
    import struct
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fl = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        return struct.unpack("@hhqqi4x", fcntl.fcntl(fd, fcntl.F_OFD_GETLK, fl))[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


def _until(cond, what):
    for _ in range(12000):  # 120 s against a hang; no wall-clock assertion
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError(f"waited 120 s for {what}")


def test_run_that_sees_another_make_its_lock(tmp_path):
    """Two runs of one output started at once: one finds no lock file, then, before it
    looks at the partial file, the other makes its lock file and partial file. The
    late one is refused as the other's ("by process N"), not as if the other's lock
    file had been removed (the odd message session 11 saw once). A5_TEST_LOCK_WAIT=F
    holds the late run between its two looks until F exists."""
    d = _work(tmp_path, {"s.yaml": scenario(nations=10, steps=20, replicates=5000000)})
    cmd = [BIN, "run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "1"]
    late = subprocess.Popen(cmd, cwd=d, env=dict(os.environ, A5_TEST_LOCK_WAIT=str(d / "go")),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = None
    try:
        _until(lambda: (d / "go.wait").exists(), "the late run to find no lock file")
        first = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _until(lambda: _held(d / "o.h5.partial") or first.poll() is not None,
               "the first run to hold its partial file")
        assert first.poll() is None, first.communicate()
        (d / "go").touch()
        _, err = late.communicate(timeout=600)
        assert late.returncode == 2, err
        assert f"o.h5 is being written by process {first.pid} (lock" in err, err
        assert first.poll() is None  # it still runs, its files untouched by the refusal
    finally:
        for p in (late, first):
            if p is not None and p.poll() is None:
                p.kill()
                p.communicate()


def _design_run_and_reference(tmp_path):
    """A design-file scenario in tmp_path and in tmp_path/ref, the latter run to its
    end (ref/o.h5). Returns (ref, tmp_path)."""
    files = {"s.yaml": scenario(nations=10, steps=20, replicates=4000, store="full")
             + "design: {method: file, file: d.csv}\n",
             "d.csv": "us.escalation\n0.01\n0.05\n0.1\n"}
    (tmp_path / "ref").mkdir()
    ref = _work(tmp_path / "ref", files)
    run("run", ref / "s.yaml", "-o", ref / "o.h5", "--quiet", "--threads", "2")
    return ref, _work(tmp_path, files)


@pytest.mark.parametrize("trial", range(5))
def test_kill_at_a_random_moment_then_resume(tmp_path, trial):
    """kill -9 at a random moment of a design-file run, then --resume: the results are
    those of an uninterrupted run, bit for bit (or, killed before the first
    checkpoint, the run starts over)."""
    import random
    ref, d = _design_run_and_reference(tmp_path)
    p = subprocess.Popen([BIN, "run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "2",
                          "--checkpoint", "0"], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(random.Random(trial).uniform(0.05, 1.5))
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    extra = ["--resume"] if (d / "o.h5.partial").exists() else ["--force"]
    if (d / "o.h5").exists():
        # Killed after the results were renamed into place, before the checkpoint and
        # the lock file were removed: those two may be left (the results are whole).
        for stale in ("o.h5.partial.state", "o.h5.partial.lock"):
            (d / stale).unlink(missing_ok=True)
    else:
        r = run("run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "1", *extra,
                cwd=d, check=False)
        assert r.returncode == 0, r.stderr
    same_data(ref / "o.h5", d / "o.h5")
    assert sorted(x.name for x in d.iterdir()) == ["d.csv", "o.h5", "s.yaml"]


@pytest.mark.parametrize("limit", [0, 10, 200])
def test_calibrate_on_a_full_disk(tmp_path, limit):
    """calibrate's files cannot be written (a file-size limit, as a full disk): exit 1
    naming the file, no temporary file left, the inputs as they were."""
    import resource
    d = _work(tmp_path, BASE)
    before = _snapshot(d)

    def small():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    r = subprocess.run([BIN, *CAL, "-o", "f.yaml", "--predictions", "p.csv"], cwd=d,
                       capture_output=True, text=True, timeout=600, preexec_fn=small)
    assert r.returncode == 1, r.stderr
    assert "cannot write" in r.stderr, r.stderr
    assert not list(d.glob("*.tmp"))
    after = _snapshot(d)
    for p, h in before.items():
        assert after[p] == h
    # What is there is whole: FITTED.yaml (written first) validates if it is there.
    if (d / "f.yaml").exists():
        assert run("validate", d / "f.yaml", check=False).returncode == 0


def test_stale_checkpoint_temporary_is_cleared_on_resume(tmp_path):
    """A kill while the checkpoint was being written leaves OUT.partial.state.tmp; the
    resumed run finishes with the data of an uninterrupted run and leaves only OUT (the
    fresh-Debian run of 2026-12-04 caught trial 3 above leaving the .tmp behind)."""
    ref, d = _design_run_and_reference(tmp_path)
    p = subprocess.Popen([BIN, "run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "1",
                          "--checkpoint", "0"], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120          # a bound against a hang, not a timing check
    while not (d / "o.h5.partial.state").exists() and p.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    if not (d / "o.h5.partial.state").exists():
        pytest.skip("the run finished before its first checkpoint")
    (d / "o.h5.partial.state.tmp").write_bytes(b"half a checkpoint")
    r = run("run", "s.yaml", "-o", "o.h5", "--quiet", "--threads", "1", "--resume",
            cwd=d, check=False)
    assert r.returncode == 0, r.stderr
    same_data(ref / "o.h5", d / "o.h5")
    assert sorted(x.name for x in d.iterdir()) == ["d.csv", "o.h5", "s.yaml"]
