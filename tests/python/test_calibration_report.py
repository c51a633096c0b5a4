"""allied5g.calibration_report on predictions files of the `calibrate --predictions`
format: scores recomputed by hand, base rates from the other folds, the per-nation
table, the reliability plot, and located errors for malformed files."""
import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from allied5g.calibration import (CalibrationError, calibration_report,  # noqa: E402
                                  read_predictions, reliability)

HEAD = "code,date,observed,fold,p_open,p_restrict,p_ban\n"
# Two folds, two dates. Fold 1: AAA, BBB; fold 2: CCC.
ROWS = [
    ("AAA", "2020Q4", "open", 1, 0.7, 0.2, 0.1),
    ("AAA", "2021Q4", "ban", 1, 0.2, 0.2, 0.6),
    ("BBB", "2020Q4", "restrict", 1, 0.5, 0.3, 0.2),
    ("BBB", "2021Q4", "restrict", 1, 0.1, 0.45, 0.45),
    ("CCC", "2020Q4", "open", 2, 0.9, 0.05, 0.05),
    ("CCC", "2021Q4", "ban", 2, 0.0, 0.0, 1.0),
]


def write(tmp_path, rows, head=HEAD, name="pred.csv"):
    p = tmp_path / name
    p.write_text(head + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return p


def onehot(obs):
    return np.eye(3)[["open", "restrict", "ban"].index(obs)]


def test_model_scores_by_hand(tmp_path):
    rep = calibration_report(write(tmp_path, ROWS))
    b = [((np.array(r[4:]) - onehot(r[2])) ** 2).sum() for r in ROWS]
    lg = [math.log(max(float(np.dot(r[4:], onehot(r[2]))), 1e-3)) for r in ROWS]
    acc = [float(np.argmax(r[4:]) == np.argmax(onehot(r[2]))) for r in ROWS]
    m = rep.scores.loc["model"]
    assert m["n"] == 6
    assert m["brier"] == pytest.approx(np.mean(b))
    assert m["log_score"] == pytest.approx(np.mean(lg))
    assert m["accuracy"] == pytest.approx(np.mean(acc))
    # BBB 2021Q4: restrict and ban tie at 0.45: the first (restrict) counts, a hit.
    assert acc[3] == 1.0


def test_base_rates_from_other_folds(tmp_path):
    rep = calibration_report(write(tmp_path, ROWS), smooth=0.5)
    # Fold 1 rows are predicted from fold 2 (CCC): 2020Q4 open, 2021Q4 ban.
    # Fold 2 rows from fold 1: 2020Q4 {open, restrict}, 2021Q4 {ban, restrict}.
    def rate(counts):
        c = np.array(counts, float)
        return (c + 0.5) / (c.sum() + 1.5)
    pred = {("AAA", "2020Q4"): rate([1, 0, 0]), ("AAA", "2021Q4"): rate([0, 0, 1]),
            ("BBB", "2020Q4"): rate([1, 0, 0]), ("BBB", "2021Q4"): rate([0, 0, 1]),
            ("CCC", "2020Q4"): rate([1, 1, 0]), ("CCC", "2021Q4"): rate([0, 1, 1])}
    b = np.mean([((pred[(r[0], r[1])] - onehot(r[2])) ** 2).sum() for r in ROWS])
    assert rep.scores.loc["base rate by date", "brier"] == pytest.approx(b)
    over = {1: rate([1, 0, 1]), 2: rate([1, 2, 1])}
    b = np.mean([((over[r[3]] - onehot(r[2])) ** 2).sum() for r in ROWS])
    assert rep.scores.loc["base rate overall", "brier"] == pytest.approx(b)


def test_date_without_training_rows_falls_back_to_overall(tmp_path):
    rows = ROWS + [("DDD", "2022Q4", "open", 2, 0.4, 0.3, 0.3)]
    df = read_predictions(write(tmp_path, rows))
    from allied5g.calibration import base_rates
    by_date, overall = base_rates(df)
    assert np.allclose(by_date[-1], overall[-1])
    assert not np.allclose(by_date[0], overall[0])


def test_single_holdout_fold_has_no_base_rates(tmp_path):
    rep = calibration_report(write(tmp_path, [r[:3] + (1,) + r[4:] for r in ROWS]))
    assert list(rep.scores.index) == ["model"]


def test_nation_table_and_plot(tmp_path):
    rep = calibration_report(write(tmp_path, ROWS))
    t = rep.nations
    assert list(t.index)[0] == "BBB"  # the worst Brier first
    assert t.loc["CCC", "rows"] == 2 and t.loc["CCC", "fold"] == 2
    assert t.loc["CCC", "p_observed"] == pytest.approx(0.95)
    fig = rep.figure
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted probability"
    assert "held-out" in ax.get_title()
    # The plotted points are the reliability table's.
    r = reliability(rep.predictions, bins=5)
    ban = r[r["policy"] == "ban"]
    assert ban["n"].sum() == 6
    top = ban[ban["bin"] == 4].iloc[0]
    assert top["observed"] == 1.0 and top["predicted"] == pytest.approx(1.0)
    lines = [l for l in ax.lines if len(l.get_xdata()) == len(ban)]
    assert any(np.allclose(l.get_ydata(), ban["observed"]) for l in lines)


def test_in_sample_file(tmp_path):
    rep = calibration_report(write(tmp_path, [r[:3] + (0,) + r[4:] for r in ROWS]))
    assert "in-sample" in rep.figure.axes[0].get_title()
    # In sample, the base rates come from all rows.
    assert rep.scores.loc["base rate overall", "n"] == 6


@pytest.mark.parametrize("head,rows,msg", [
    ("code,date,policy\n", [("AAA", "2020Q4", "open")], "header"),
    (HEAD, [("AAA", "2020Q4", "banned", 1, 0.2, 0.2, 0.6)], ":2: observed"),
    (HEAD, [("AAA", "2020Q4", "ban", 1, 0.2, 0.2, 0.2)], "summing to 1"),
    (HEAD, [("AAA", "2020Q4", "ban", 1, "nan", 0.2, 0.8)], "summing to 1"),
])
def test_bad_files(tmp_path, head, rows, msg):
    with pytest.raises(CalibrationError, match=msg):
        calibration_report(write(tmp_path, rows, head=head))


def test_exported_at_package_level():
    import allied5g
    assert allied5g.calibration_report is calibration_report
    assert "calibration_report" in allied5g.__all__


def test_report_on_a_real_calibrate_run(tmp_path):
    """End to end: `calibrate --folds 2 --predictions` then calibration_report: the model's
    and the base rates' scores recomputed from the file match the table the CLI printed."""
    import sys
    from conftest import SRC, run
    sys.path.insert(0, str(SRC / "bench"))
    from make_scenario import scenario
    s = tmp_path / "s.yaml"
    s.write_text(scenario(nations=10, steps=8, replicates=20, store="full"))
    obs = tmp_path / "obs.csv"
    rows = ["code,date,policy"] + [f"N{i},{d},{'ban' if (i + k) % 3 == 0 else 'open'}"
                                   for k, d in enumerate(("2019Q4", "2020Q4"))
                                   for i in range(10)]
    obs.write_text("\n".join(rows) + "\n")
    pred = tmp_path / "pred.csv"
    r = run("calibrate", s, "--observed", obs, "--fit", "decision.weights.us=0:4", "--folds", 2,
            "--replicates", 40, "--starts", 1, "--max-iter", 30, "--predictions", pred, "-o",
            tmp_path / "f.yaml")
    rep = calibration_report(pred)
    printed = {}
    for line in r.stdout.splitlines():
        for name in ("model", "base rate by date", "base rate overall"):
            parts = line[len(name) + 2:].split()
            if line.startswith(f"  {name} ") and len(parts) == 4 and parts[0] == "20":
                printed[name] = [float(x) for x in parts[1:]]
    assert set(printed) == {"model", "base rate by date", "base rate overall"}, r.stdout
    for name, (brier, logs, acc) in printed.items():
        got = rep.scores.loc[name]
        assert got["n"] == 20
        assert got["brier"] == pytest.approx(brier, abs=1e-4), name
        assert got["log_score"] == pytest.approx(logs, abs=1e-4), name
        assert got["accuracy"] == pytest.approx(acc, abs=1e-3), name
