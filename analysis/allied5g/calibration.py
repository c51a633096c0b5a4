"""Reading `allied5g calibrate --predictions FILE.csv`: scores per model, a per-nation
table and a reliability (calibration) plot.

    import allied5g
    rep = allied5g.calibration_report("pred.csv")
    rep.scores        # model and base-rate baselines: n, brier, log_score, accuracy
    rep.nations       # per nation: rows, fold, brier, log_score, accuracy, p_observed
    rep.timing        # probability of the new policy around each observed change
    rep.figure.savefig("reliability.png")

Scores are those of docs/calibration.md: Brier = sum over the three policies of
(p - observed)^2 per row (0 best, 2 worst), log score = log(max(p_observed, floor))
with the same floor (default 1e-3) for every model, accuracy = share of rows whose
most likely policy (the first on ties, in the order open, restrict, ban) was observed.
The base-rate baselines are recomputed from the file: for a row of fold f >= 1 from
the rows of the other folds (its training rows under K-fold), for fold 0 (a plain fit,
in sample) from all rows; each policy's share with a pseudo-count (default 0.5) per
policy, at the row's date, or over all dates when no training row has that date. With
a single held-out fold (--holdout) the training rows are not in the file and the
base rates are left out.

Files with the columns start_policy and changed (written since issue 23) give more:
"keep initial policy" (one-hot), "base rate date+start" (the base rate at the row's
date among training rows with the same starting policy, else the by-date rate) and
"smoothed persistence" (the starting policy with probability 1 - e, e / 2 on each
other, e = (training rows at that date that left their starting policy + 0.5) /
(training rows at that date + 1), over all dates when none is at that date); the
scores on changed rows (observed is not start_policy) and on unchanged rows; the
within-date AUC of "has moved" (rows of one date ranked by 1 - p(start_policy),
changed above unchanged, ties one half, pairs pooled over dates); and `timing`: the
mean probability of the new policy of each observed change (a row whose policy is
not the nation's previous row's, or its start_policy for its first row) at the
nation's row 1 year before, at, 1 and 2 years after it. These are the figures
`calibrate` prints; "bloc majority" needs the scenario's blocs and is not recomputed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

POLICIES = ["open", "restrict", "ban"]
COLUMNS = ["code", "date", "observed", "fold", "p_open", "p_restrict", "p_ban"]
EXTRA = ["start_policy", "changed"]
TIMING = {"-1 year": -4, "0": 0, "+1 year": 4, "+2 years": 8}  # offsets in quarters
PCOLS = ["p_open", "p_restrict", "p_ban"]


class CalibrationError(ValueError):
    """The predictions file is not what `calibrate --predictions` writes."""


@dataclass
class CalibrationReport:
    predictions: pd.DataFrame
    scores: pd.DataFrame
    nations: pd.DataFrame
    figure: plt.Figure
    timing: Union[pd.DataFrame, None] = None


def read_predictions(path) -> pd.DataFrame:
    """The predictions CSV, checked: header, policies, probabilities in [0, 1] summing to 1."""
    try:
        df = pd.read_csv(path, dtype={"code": str, "date": str, "observed": str,
                                      "start_policy": str})
    except pd.errors.EmptyDataError:
        raise CalibrationError(f"{path}: empty file; a predictions file starts with the header "
                               f"{','.join(COLUMNS)} (allied5g calibrate --predictions "
                               "FILE.csv writes it)") from None
    except IsADirectoryError:
        raise CalibrationError(f"{path}: is a directory, not a predictions CSV file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise CalibrationError(f"{path}: not a predictions CSV file ({e})") from None
    if list(df.columns) not in (COLUMNS, COLUMNS + EXTRA):
        raise CalibrationError(f"{path}: header must be {','.join(COLUMNS)} (optionally "
                               f"followed by {','.join(EXTRA)}), got "
                               f"{','.join(map(str, df.columns))}")
    if len(df) == 0:
        raise CalibrationError(f"{path}: a header and no rows: no predictions to score")
    for col in ["observed"] + (["start_policy"] if "start_policy" in df else []):
        bad = ~df[col].isin(POLICIES)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CalibrationError(f"{path}:{i + 2}: {col} must be open, restrict or ban, got "
                                   f"{df[col].iloc[i]!r}")
    if "changed" in df:
        want = (df["observed"] != df["start_policy"]).astype(int).astype(str)
        bad = df["changed"].astype(str) != want
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CalibrationError(f"{path}:{i + 2}: changed must be {want.iloc[i]} (observed "
                                   f"{df['observed'].iloc[i]}, start_policy "
                                   f"{df['start_policy'].iloc[i]}), got {df['changed'].iloc[i]!r}")
        df["changed"] = df["changed"].astype(int)
    p = df[PCOLS].to_numpy(float)
    if not np.all(np.isfinite(p)) or (p < 0).any() or (p > 1).any() or \
            not np.allclose(p.sum(axis=1), 1, atol=1e-6):
        raise CalibrationError(f"{path}: p_open, p_restrict, p_ban must be probabilities summing to 1")
    df["fold"] = df["fold"].astype(int)
    return df


def _onehot(df: pd.DataFrame) -> np.ndarray:
    y = df["observed"].map({k: i for i, k in enumerate(POLICIES)}).to_numpy()
    return np.eye(3)[y]


def _row_scores(p: np.ndarray, y: np.ndarray, floor: float):
    brier = ((p - y) ** 2).sum(axis=1)
    log = np.log(np.maximum((p * y).sum(axis=1), floor))
    acc = (np.argmax(p, axis=1) == np.argmax(y, axis=1)).astype(float)
    return brier, log, acc


def base_rates(df: pd.DataFrame, smooth: float = 0.5):
    """(by date, overall) probabilities per row from its training rows, or None when the
    file does not hold them (a single held-out fold)."""
    folds = sorted(df["fold"].unique())
    if folds != [0] and len(folds) < 2:
        return None
    y = _onehot(df)
    by_date = np.zeros((len(df), 3))
    overall = np.zeros((len(df), 3))
    for f in folds:
        rows = (df["fold"] == f).to_numpy()
        train = np.ones(len(df), bool) if f == 0 else ~rows
        tot = y[train].sum(axis=0)
        overall[rows] = (tot + smooth) / (tot.sum() + 3 * smooth)
        for date in df.loc[rows, "date"].unique():
            at = rows & (df["date"] == date).to_numpy()
            cnt = y[train & (df["date"] == date).to_numpy()].sum(axis=0)
            by_date[at] = (cnt + smooth) / (cnt.sum() + 3 * smooth) if cnt.sum() > 0 \
                else overall[at]
    return by_date, overall


def _training(df: pd.DataFrame):
    """(fold, rows of that fold, its training rows) for each fold in the file."""
    for f in sorted(df["fold"].unique()):
        rows = (df["fold"] == f).to_numpy()
        yield f, rows, np.ones(len(df), bool) if f == 0 else ~rows


def start_baselines(df: pd.DataFrame, by_date: np.ndarray, smooth: float = 0.5):
    """(base rate date+start, smoothed persistence) per row from its training rows (see
    the module's doc), given the by-date base rate for the fallback."""
    y = _onehot(df)
    start = df["start_policy"].map({k: i for i, k in enumerate(POLICIES)}).to_numpy()
    moved = (df["observed"] != df["start_policy"]).to_numpy()
    dates = df["date"].to_numpy()
    strat = np.zeros((len(df), 3))
    persist = np.zeros((len(df), 3))
    for _, rows, train in _training(df):
        e_all = (moved[train].sum() + smooth) / (train.sum() + 2 * smooth)
        for i in np.flatnonzero(rows):
            same = train & (dates == dates[i])
            g = train & same & (start == start[i])
            cnt = y[g].sum(axis=0)
            strat[i] = (cnt + smooth) / (cnt.sum() + 3 * smooth) if g.any() else by_date[i]
            e = (moved[same].sum() + smooth) / (same.sum() + 2 * smooth) if same.any() else e_all
            persist[i] = e / 2
            persist[i, start[i]] = 1 - e
    return strat, persist


def _models(df: pd.DataFrame, smooth: float) -> dict:
    models = {"model": df[PCOLS].to_numpy(float)}
    br = base_rates(df, smooth)
    if br is not None:
        models["base rate by date"], models["base rate overall"] = br
    if "start_policy" in df:
        models["keep initial policy"] = np.eye(3)[
            df["start_policy"].map({k: i for i, k in enumerate(POLICIES)}).to_numpy()]
        if br is not None:
            models["base rate date+start"], models["smoothed persistence"] = \
                start_baselines(df, br[0], smooth)
    return models


def _quarter(date: str) -> int:
    return int(date[:-2]) * 4 + int(date[-1]) - 1


def auc_moved(df: pd.DataFrame, p: np.ndarray) -> tuple:
    """(AUC, pairs): rows of one date ranked by 1 - p(start_policy), changed above
    unchanged, ties counting one half, pairs pooled over dates."""
    start = df["start_policy"].map({k: i for i, k in enumerate(POLICIES)}).to_numpy()
    score = 1 - p[np.arange(len(df)), start]
    moved = (df["observed"] != df["start_policy"]).to_numpy()
    conc, pairs = 0.0, 0
    for date in df["date"].unique():
        at = (df["date"] == date).to_numpy()
        s_m, s_s = score[at & moved], score[at & ~moved]
        pairs += len(s_m) * len(s_s)
        conc += sum(float((sm > s_s).sum()) + 0.5 * float((sm == s_s).sum()) for sm in s_m)
    return (conc / pairs if pairs else float("nan")), pairs


def timing_table(df: pd.DataFrame, smooth: float = 0.5) -> pd.DataFrame:
    """Per predictor, the mean probability of each observed change's new policy at the
    nation's row 1 year before, at, 1 and 2 years after the change; the row `n` holds
    the rows averaged. Empty when a nation and date appear twice."""
    df = df.reset_index(drop=True)
    models = _models(df, smooth)
    if df.duplicated(["code", "date"]).any():
        return pd.DataFrame()
    q = df["date"].map(_quarter).to_numpy()
    sums = {m: np.zeros(len(TIMING)) for m in models}
    n = np.zeros(len(TIMING), int)
    for code, g in df.groupby("code", sort=False):
        idx = g.index.to_numpy()[np.argsort(q[g.index.to_numpy()], kind="stable")]
        where = {q[i]: i for i in idx}
        prev = df.at[idx[0], "start_policy"]
        for i in idx:
            new = df.at[i, "observed"]
            if new == prev:
                continue
            prev = new
            k = POLICIES.index(new)
            for j, off in enumerate(TIMING.values()):
                r = where.get(q[i] + off)
                if r is None:
                    continue
                n[j] += 1
                for m, p in models.items():
                    sums[m][j] += p[r, k]
    out = pd.DataFrame({m: np.where(n > 0, s / np.maximum(n, 1), np.nan)
                        for m, s in sums.items()}, index=list(TIMING)).T
    out.loc["n"] = n
    return out


def row_briers(df: pd.DataFrame, smooth: float = 0.5) -> pd.DataFrame:
    """Each scored row's Brier score under each predictor of `score_table` (columns),
    for paired comparisons on the same rows (e.g. by nation: rows of one nation are
    not independent)."""
    y = _onehot(df)
    return pd.DataFrame({name: ((p - y) ** 2).sum(axis=1) for name, p in
                         _models(df, smooth).items()}, index=df.index)


def score_table(df: pd.DataFrame, floor: float = 1e-3, smooth: float = 0.5) -> pd.DataFrame:
    """Brier, log score and accuracy (means over rows) for the model and the base rates;
    with start_policy in the file, more baselines and the same scores on changed and
    unchanged rows and the within-date AUC of "has moved"."""
    y = _onehot(df)
    models = _models(df, smooth)
    out = []
    for name, p in models.items():
        b, lg, a = _row_scores(p, y, floor)
        row = {"model": name, "n": len(df), "brier": b.mean(), "log_score": lg.mean(),
               "accuracy": a.mean()}
        if "start_policy" in df:
            ch = (df["observed"] != df["start_policy"]).to_numpy()
            for tag, m in (("changed", ch), ("unchanged", ~ch)):
                row[f"n_{tag}"] = int(m.sum())
                row[f"brier_{tag}"] = b[m].mean() if m.any() else float("nan")
                row[f"log_score_{tag}"] = lg[m].mean() if m.any() else float("nan")
            row["auc_moved"], row["auc_pairs"] = auc_moved(df, p)
        out.append(row)
    return pd.DataFrame(out).set_index("model")


def nation_table(df: pd.DataFrame, floor: float = 1e-3) -> pd.DataFrame:
    """Per nation: rows, fold, the model's mean Brier, log score, accuracy, and the mean
    probability it gave the observed policy."""
    y = _onehot(df)
    p = df[PCOLS].to_numpy(float)
    b, lg, a = _row_scores(p, y, floor)
    t = pd.DataFrame({"code": df["code"], "fold": df["fold"], "brier": b, "log_score": lg,
                      "accuracy": a, "p_observed": (p * y).sum(axis=1)})
    g = t.groupby("code", sort=True)
    out = g[["brier", "log_score", "accuracy", "p_observed"]].mean()
    out.insert(0, "fold", g["fold"].first())
    out.insert(0, "rows", g.size())
    return out.sort_values("brier", ascending=False)


def reliability(df: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Per policy and probability bin (equal width on [0, 1]): rows, mean predicted
    probability and observed frequency."""
    y = _onehot(df)
    p = df[PCOLS].to_numpy(float)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for k, pol in enumerate(POLICIES):
        idx = np.clip(np.digitize(p[:, k], edges[1:-1]), 0, bins - 1)
        for b in range(bins):
            m = idx == b
            if m.any():
                out.append({"policy": pol, "bin": b, "lo": edges[b], "hi": edges[b + 1],
                            "n": int(m.sum()), "predicted": p[m, k].mean(),
                            "observed": y[m, k].mean()})
    return pd.DataFrame(out)


def reliability_plot(df: pd.DataFrame, bins: int = 5) -> plt.Figure:
    """Observed frequency against predicted probability, one line per policy; marker
    area grows with the rows in the bin. On the diagonal: calibrated."""
    from .plots import COLORS
    r = reliability(df, bins)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="calibrated")
    for pol in POLICIES:
        s = r[r["policy"] == pol]
        if len(s):
            ax.plot(s["predicted"], s["observed"], "-", color=COLORS[pol], lw=1)
            ax.scatter(s["predicted"], s["observed"], s=20 + 15 * s["n"], color=COLORS[pol],
                       label=f"{pol} ({int(s['n'].sum())} rows)", alpha=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    oos = (df["fold"] > 0).all()
    ax.set_title("Reliability, " + ("held-out rows" if oos else "in-sample rows"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize=9)  # outside the data
    fig.tight_layout()
    return fig


def calibration_report(predictions_csv: Union[str, "pd.DataFrame"], floor: float = 1e-3,
                       smooth: float = 0.5, bins: int = 5) -> CalibrationReport:
    """Scores per model, the per-nation table and the reliability plot of a predictions
    file written by `allied5g calibrate --predictions`."""
    df = predictions_csv if isinstance(predictions_csv, pd.DataFrame) \
        else read_predictions(predictions_csv)
    return CalibrationReport(predictions=df, scores=score_table(df, floor, smooth),
                             nations=nation_table(df, floor), figure=reliability_plot(df, bins),
                             timing=timing_table(df, smooth) if "start_policy" in df else None)
