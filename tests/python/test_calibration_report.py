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
    # Issue 23: the scores on changed and unchanged rows, the moved AUC and the timing
    # curve the CLI printed are those recomputed from the file (bloc majority needs the
    # scenario's blocs: not in the report).
    sections = section_tables(r.stdout)
    sub, tim = sections["changed rows"], sections["timing"]
    names = ["model", "base rate by date", "base rate overall", "keep initial policy",
             "base rate date+start", "smoothed persistence"]
    assert set(names) < set(sub) and "bloc majority" in sub
    for name in names:
        got = rep.scores.loc[name]
        for col, v in zip(["brier_changed", "log_score_changed", "brier_unchanged",
                           "log_score_unchanged", "auc_moved"], sub[name]):
            assert got[col] == pytest.approx(v, abs=1e-3 if col == "auc_moved" else 1e-4), \
                (name, col)
        for col, v in zip(rep.timing.columns, tim[name]):
            if math.isnan(v):
                assert math.isnan(rep.timing.loc[name, col])
            else:
                assert rep.timing.loc[name, col] == pytest.approx(v, abs=1e-3), (name, col)
    assert rep.scores.loc["model", "n_changed"] + rep.scores.loc["model", "n_unchanged"] == 20
    # Every baseline's Brier minus the model's, with its paired standard error, on all
    # rows and on the changed ones: the CLI's table is that of the file's rows.
    from allied5g.calibration import row_briers
    rb = row_briers(rep.predictions)
    ch = (rep.predictions["observed"] != rep.predictions["start_policy"]).to_numpy()
    diffs = {}
    for line in r.stdout.split("Brier - model, row by row")[1].splitlines()[2:]:
        if not line.startswith("  "):
            break
        diffs[line[2:24].strip()] = [float(x.strip("()")) for x in line[24:].split()]
    assert set(names) - {"model"} <= set(diffs), r.stdout
    for name in set(names) - {"model"}:
        for m, (est, se) in ((np.ones(len(ch), bool), diffs[name][:2]), (ch, diffs[name][2:])):
            d = (rb[name] - rb["model"]).to_numpy()[m]
            assert est == pytest.approx(d.mean(), abs=1e-4), name
            assert se == pytest.approx(d.std(ddof=1) / math.sqrt(d.size), abs=1e-4), name


def section_tables(stdout):
    """{section: {predictor: [numbers]}} of calibrate's "changed rows" and "timing" tables."""
    out, cur = {}, None
    for line in stdout.splitlines():
        if line.startswith("changed rows ("):
            cur = out.setdefault("changed rows", {})
        elif line.startswith("timing: "):
            cur = out.setdefault("timing", {})
        elif cur is not None and line.startswith("  ") and not line.startswith("  predictor"):
            cur[line[2:24].strip()] = [float("nan") if x == "n/a" else float(x)
                                       for x in line[24:].split()]
        elif not line.startswith("  "):
            cur = None
    return out


# Issue 23: a file with start_policy and changed. Fold 1: AAA (starts open), BBB
# (starts restrict); fold 2: CCC and DDD (start open). Changes: AAA to ban at 2021Q4,
# CCC to restrict at 2022Q4, DDD to restrict at 2020Q4 (its first row).
HEAD2 = HEAD.strip() + ",start_policy,changed\n"
ROWS2 = [
    ("AAA", "2020Q4", "open", 1, 0.7, 0.2, 0.1, "open"),
    ("AAA", "2021Q4", "ban", 1, 0.4, 0.2, 0.4, "open"),
    ("AAA", "2022Q4", "ban", 1, 0.2, 0.2, 0.6, "open"),
    ("BBB", "2020Q4", "restrict", 1, 0.1, 0.8, 0.1, "restrict"),
    ("BBB", "2021Q4", "restrict", 1, 0.1, 0.6, 0.3, "restrict"),
    ("BBB", "2022Q4", "restrict", 1, 0.3, 0.5, 0.2, "restrict"),
    ("CCC", "2020Q4", "open", 2, 0.9, 0.05, 0.05, "open"),
    ("CCC", "2021Q4", "open", 2, 0.8, 0.1, 0.1, "open"),
    ("CCC", "2022Q4", "restrict", 2, 0.5, 0.4, 0.1, "open"),
    ("DDD", "2020Q4", "restrict", 2, 0.6, 0.3, 0.1, "open"),
    ("DDD", "2021Q4", "restrict", 2, 0.7, 0.2, 0.1, "open"),
    ("DDD", "2022Q4", "restrict", 2, 0.2, 0.7, 0.1, "open"),
]


def rows2(rows=ROWS2):
    return [r + (int(r[2] != r[7]),) for r in rows]


def brier(p, obs):
    return float(((np.asarray(p, float) - onehot(obs)) ** 2).sum())


def test_changed_and_unchanged_scores_by_hand(tmp_path):
    rep = calibration_report(write(tmp_path, rows2(), head=HEAD2))
    m = rep.scores.loc["model"]
    changed = [r for r in ROWS2 if r[2] != r[7]]
    same = [r for r in ROWS2 if r[2] == r[7]]
    assert (m["n_changed"], m["n_unchanged"]) == (6, 6)
    assert m["brier_changed"] == pytest.approx(np.mean([brier(r[4:7], r[2]) for r in changed]))
    assert m["brier_unchanged"] == pytest.approx(np.mean([brier(r[4:7], r[2]) for r in same]))
    assert m["log_score_changed"] == pytest.approx(
        np.mean([math.log(float(np.dot(r[4:7], onehot(r[2])))) for r in changed]))
    # Keep initial policy: 0 on every unchanged row, 2 on every changed row.
    k = rep.scores.loc["keep initial policy"]
    assert (k["brier_changed"], k["brier_unchanged"]) == (2.0, 0.0)


def test_persistence_and_stratified_base_rate_by_hand(tmp_path):
    rep = calibration_report(write(tmp_path, rows2(), head=HEAD2))
    # Smoothed persistence: e = (moved + 0.5) / (rows + 1) among the training rows of
    # the date. Fold 1 from CCC, DDD: 2020Q4 1 of 2 moved, 2021Q4 1 of 2, 2022Q4 2 of 2.
    # Fold 2 from AAA, BBB: 2020Q4 0 of 2, 2021Q4 1 of 2, 2022Q4 1 of 2.
    e = {(1, "2020Q4"): 0.5, (1, "2021Q4"): 0.5, (1, "2022Q4"): 2.5 / 3,
         (2, "2020Q4"): 0.5 / 3, (2, "2021Q4"): 0.5, (2, "2022Q4"): 0.5}
    want = []
    for r in ROWS2:
        p = np.full(3, e[(r[3], r[1])] / 2)
        p[["open", "restrict", "ban"].index(r[7])] = 1 - e[(r[3], r[1])]
        want.append(brier(p, r[2]))
    assert rep.scores.loc["smoothed persistence", "brier"] == pytest.approx(np.mean(want))
    # Stratified: training rows of the date with the same start. BBB (restrict) has none
    # in fold 2: the by-date rate. AAA 2021Q4 from CCC, DDD (open, restrict).
    def rate(c):
        c = np.array(c, float)
        return (c + 0.5) / (c.sum() + 1.5)
    strat = {("AAA", "2020Q4"): rate([1, 1, 0]), ("AAA", "2021Q4"): rate([1, 1, 0]),
             ("AAA", "2022Q4"): rate([0, 2, 0]),
             ("BBB", "2020Q4"): rate([1, 1, 0]), ("BBB", "2021Q4"): rate([1, 1, 0]),
             ("BBB", "2022Q4"): rate([0, 2, 0]),
             # fold 2 (start open) from AAA only (BBB starts restrict)
             ("CCC", "2020Q4"): rate([1, 0, 0]), ("CCC", "2021Q4"): rate([0, 0, 1]),
             ("CCC", "2022Q4"): rate([0, 0, 1])}
    for d in ("2020Q4", "2021Q4", "2022Q4"):
        strat[("DDD", d)] = strat[("CCC", d)]
    got = rep.scores.loc["base rate date+start"]
    assert got["brier"] == pytest.approx(np.mean([brier(strat[r[:2]], r[2]) for r in ROWS2]))
    changed = [r for r in ROWS2 if r[2] != r[7]]
    assert got["brier_changed"] == pytest.approx(
        np.mean([brier(strat[r[:2]], r[2]) for r in changed]))


def test_moved_auc_by_hand(tmp_path):
    rep = calibration_report(write(tmp_path, rows2(), head=HEAD2))
    # 1 - p(start) per row; pairs (changed, unchanged) of one date.
    conc = pairs = 0.0
    for d in ("2020Q4", "2021Q4", "2022Q4"):
        at = [r for r in ROWS2 if r[1] == d]
        pstart = {r[0]: 1 - r[4 + ["open", "restrict", "ban"].index(r[7])] for r in at}
        for a in at:
            for b in at:
                if a[2] != a[7] and b[2] == b[7]:
                    pairs += 1
                    conc += 1.0 if pstart[a[0]] > pstart[b[0]] else \
                        0.5 if pstart[a[0]] == pstart[b[0]] else 0.0
    # 2020Q4: DDD (0.4) against AAA (0.3), BBB (0.2), CCC (0.1): 3 of 3.
    # 2021Q4: AAA (0.6), DDD (0.3) against BBB (0.4), CCC (0.2): 3 of 4.
    # 2022Q4: AAA (0.8), CCC (0.5), DDD (0.8) against BBB (0.5): 2.5 of 3.
    assert (conc, pairs) == (8.5, 10)
    assert rep.scores.loc["model", "auc_moved"] == pytest.approx(0.85)
    assert rep.scores.loc["model", "auc_pairs"] == 10
    # Keep initial policy gives every row 1 - p(start) = 0: it cannot rank, 1/2.
    assert rep.scores.loc["keep initial policy", "auc_moved"] == pytest.approx(0.5)


def test_timing_curve_by_hand(tmp_path):
    rep = calibration_report(write(tmp_path, rows2(), head=HEAD2))
    t = rep.timing
    # AAA -> ban at 2021Q4: p_ban 0.1 (-1 y), 0.4 (0), 0.6 (+1 y).
    # CCC -> restrict at 2022Q4: p_restrict 0.1 (-1 y), 0.4 (0).
    # DDD -> restrict at 2020Q4 (first row): 0.3 (0), 0.2 (+1 y), 0.7 (+2 y).
    assert list(t.loc["n"]) == [2, 3, 2, 1]
    assert list(t.loc["model"]) == pytest.approx([0.1, (0.4 + 0.4 + 0.3) / 3, 0.4, 0.7])
    # The by-date base rate of the new policy at the same rows, e.g. AAA 2020Q4 (fold 1,
    # from CCC open and DDD restrict): p_ban = 0.5 / 3.5.
    assert t.loc["base rate by date", "-1 year"] == pytest.approx(
        (0.5 / 3.5 + (1 + 0.5) / 3.5) / 2)  # CCC 2021Q4 (fold 2, from AAA ban, BBB restrict)


def test_start_columns_are_checked(tmp_path):
    bad = rows2()
    bad[1] = bad[1][:8] + (0,)  # AAA 2021Q4 changed from open to ban: must be 1
    with pytest.raises(CalibrationError, match=":3: changed must be 1"):
        calibration_report(write(tmp_path, bad, head=HEAD2))
    bad = rows2()
    bad[0] = bad[0][:7] + ("closed", 1)
    with pytest.raises(CalibrationError, match=":2: start_policy must be"):
        calibration_report(write(tmp_path, bad, head=HEAD2))
    with pytest.raises(CalibrationError, match="empty file"):
        calibration_report(write(tmp_path, [], head=""))


def test_row_briers_are_the_table_means(tmp_path):
    from allied5g.calibration import row_briers
    rep = calibration_report(write(tmp_path, rows2(), head=HEAD2))
    rb = row_briers(rep.predictions)
    assert list(rb.columns) == list(rep.scores.index)
    for name in rb.columns:
        assert rb[name].mean() == pytest.approx(rep.scores.loc[name, "brier"])
    assert rb["model"].iloc[0] == pytest.approx(brier(ROWS2[0][4:7], "open"))
