"""allied5g forecast as a user meets it: the rolling-origin table and its rows, the
predictions file (columns, provenance header, same rows for any thread count),
the shipped true-future forecast reproduces from its documented command, --fit
refits per origin, and bad input is refused with exit 2 and nothing written."""
import csv
import io

import pytest

from conftest import SRC, run

SCN = SRC / "scenarios" / "huawei_2019.yaml"
OBS = SRC / "scenarios" / "observed_sourced.csv"
COLS = ["origin", "code", "date", "observed", "policy_at_origin", "p_open", "p_restrict", "p_ban"]


def rows(path):
    text = "".join(l for l in open(path) if not l.startswith("#"))
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def obs(tmp_path_factory):
    d = tmp_path_factory.mktemp("fc")
    o = d / "obs.csv"
    o.write_text("".join(l for l in open(OBS) if not l.startswith(("USA,", "JPN,"))))
    return d, o


def test_rolling_origin_table_and_rows(obs):
    d, o = obs
    out = d / "p1.csv"
    p = run("forecast", SCN, "--observed", o, "--replicates", "200", "--threads", "1",
            "--predictions", out)
    for want in ("6 origins", "2019Q4", "2024Q4", "changed rows", "unchanged rows",
                 "mover AUC", "no change (smoothed)", "transition rates", "model, free run"):
        assert want in p.stdout, want
    head = [l for l in open(out) if l.startswith("#")]
    assert any("command: " in l and "forecast" in l for l in head)
    assert any("FNV-1a-64" in l and "scenario:" in l for l in head)
    r = rows(out)
    assert list(r[0].keys()) == COLS
    # 32 nations observed at each of 6 origins, forecast at the next year end.
    assert len(r) == 6 * 32
    assert {x["origin"] for x in r} == {f"{y}Q4" for y in range(2019, 2025)}
    for x in r:
        assert int(x["date"][:4]) == int(x["origin"][:4]) + 1
        ps = [float(x[k]) for k in COLS[5:]]
        assert abs(sum(ps) - 1) < 1e-12 and min(ps) > 0
    # Same seed, same rows, for another thread count.
    out3 = d / "p3.csv"
    run("forecast", SCN, "--observed", o, "--replicates", "200", "--threads", "3",
        "--predictions", out3)
    assert rows(out) == rows(out3)


def test_assimilate_every(obs):
    d, o = obs
    p = run("forecast", SCN, "--observed", o, "--replicates", "60", "--assimilate", "every",
            "--predictions", d / "every.csv")
    assert "state replaced at every observed quarter" in p.stdout
    assert any("every observed quarter" in l for l in open(d / "every.csv") if l.startswith("#"))


def test_refit_per_origin(obs):
    d, o = obs
    p = run("forecast", SCN, "--observed", o, "--replicates", "40", "--origin", "2020Q4",
            "--fit", "decision.weights.inertia=0:3", "--starts", "1", "--quiet")
    assert "refitted at each origin" in p.stdout


def test_true_future_forecast_reproduces(tmp_path):
    """docs/forecast-2026.csv comes from the command in its header (and docs/forecast.md)."""
    shipped = SRC / "docs" / "forecast-2026.csv"
    head = [l for l in open(shipped) if l.startswith("#")]
    assert any("made 20" in l for l in head)
    r = rows(shipped)
    assert len(r) == 2 * 34 and {x["date"] for x in r} == {"2026Q4", "2027Q4"}
    assert all(x["observed"] == "" and x["origin"] == "2025Q4" for x in r)
    again = tmp_path / "again.csv"
    p = run("forecast", SCN, "--observed", OBS, "--origin", "2025Q4", "--horizon", "8",
            "--set", "steps=36", "--predictions", again)
    assert "nothing to score" in p.stdout
    # The same rows, to the last digit (if the model's results change on purpose, make
    # the file again with the command in docs/forecast.md and say so in CHANGES.md).
    assert rows(again) == r


def test_refusals(obs, tmp_path):
    d, o = obs
    before = SCN.read_bytes()
    for args, msg in [
        (["--predictions", SCN, "--force"], "is an input"),
        (["--predictions", o, "--force"], "is an input"),
        (["--origin", "2020Q5"], "--origin:1:1: error"),
        (["--origin", "2030Q4"], "not a quarter of the run"),
        (["--origin", "2025Q4", "--horizon", "8"], "--set steps=36"),
        (["--horizon", "0"], "--horizon"),
        (["--origin", "2020Q2"], "--origin:1:1: error: no observation"),
        (["--origin", "2020Q4", "--origin", "2020Q4"], "--origin:2:1: error: this origin is given twice"),
        (["--starts", "2"], "--starts is for --fit"),
        (["--force"], "there is none"),
        (["--assimilate", "all"], "--assimilate expects origin or every"),
        (["--fit", "decision.weights.us"], "--fit:1:"),
    ]:
        p = run("forecast", SCN, "--observed", o, "--replicates", "10", *args, check=False)
        assert p.returncode == 2, (args, p.stderr)
        assert msg in p.stderr, (args, p.stderr)
    assert SCN.read_bytes() == before
    # An existing file is not replaced without --force.
    f = tmp_path / "x.csv"
    f.write_text("keep")
    p = run("forecast", SCN, "--observed", o, "--predictions", f, check=False)
    assert p.returncode == 2 and "exists" in p.stderr and f.read_text() == "keep"
    # A bad observations file: located errors, nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text("code,date,policy\nGBR,2019Q4,opn\nGBR,2020Q4,open\nGBR,2020Q4,ban\n")
    out = tmp_path / "never.csv"
    p = run("forecast", SCN, "--observed", bad, "--predictions", out, check=False)
    assert p.returncode == 2 and f"{bad}:2:12" in p.stderr and not out.exists()
    bad.write_text("code,date,policy\nGBR,2019Q4,open\nGBR,2019Q4,ban\nGBR,2020Q4,open\n")
    p = run("forecast", SCN, "--observed", bad, "--predictions", out, check=False)
    assert p.returncode == 2 and f"{bad}:3:1" in p.stderr and not out.exists()


def test_known_bad_value_is_located(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(SCN.read_text().replace("known: 2020Q1", "known: 2020Q7"))
    p = run("validate", s, check=False)
    assert p.returncode == 2 and f"{s}:" in p.stderr and "'known' must be a quarter" in p.stderr
