"""Agreement between two codings of the observed policies (issue 23, item 3).

Reads two observation files in calibrate's format (`code,date,policy`, `#` comment
lines), matches their rows on (code, date) and prints the number of rows in common,
the share of country-years with the same policy, Cohen's kappa (three categories,
open / restrict / ban) and the cross-table:

    /usr/bin/python3 scripts/coding_agreement.py scenarios/observed_sourced.csv scenarios/observed_broad.csv

Both files must list the same (code, date) rows; a row in one file only is an error.
tests/python/test_coding.py uses the same functions.
"""
import argparse
import sys

import numpy as np
import pandas as pd

LEVELS = ["open", "restrict", "ban"]


def read_obs(path):
    """An observation file as a DataFrame code, date, policy (comments skipped)."""
    df = pd.read_csv(path, comment="#", dtype=str)
    if list(df.columns) != ["code", "date", "policy"]:
        raise ValueError(f"{path}: header must be code,date,policy, not {','.join(df.columns)}")
    bad = ~df.policy.isin(LEVELS)
    if bad.any():
        raise ValueError(f"{path}: unknown policy {df.policy[bad].iloc[0]!r}")
    if df.duplicated(["code", "date"]).any():
        raise ValueError(f"{path}: a (code, date) row appears twice")
    return df


def agreement(a, b):
    """(n, share equal, Cohen's kappa, 3x3 cross-table) of two codings of the same rows."""
    m = a.merge(b, on=["code", "date"], how="outer", suffixes=("_a", "_b"), indicator=True)
    if (m["_merge"] != "both").any():
        r = m[m["_merge"] != "both"].iloc[0]
        raise ValueError(f"row {r.code},{r.date} is in one coding only")
    table = pd.crosstab(pd.Categorical(m.policy_a, LEVELS), pd.Categorical(m.policy_b, LEVELS),
                        dropna=False).to_numpy(dtype=float)
    n = table.sum()
    po = np.trace(table) / n
    pe = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
    return int(n), float(po), float(kappa), table.astype(int)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("first")
    ap.add_argument("second")
    args = ap.parse_args(argv)
    try:
        n, po, kappa, table = agreement(read_obs(args.first), read_obs(args.second))
    except (ValueError, OSError) as e:
        print(f"coding_agreement: {e}", file=sys.stderr)
        return 2
    print(f"rows {n}: same policy {po:.3f} ({int(round(po * n))} of {n}), Cohen's kappa {kappa:.3f}")
    print(f"rows: {args.first}; columns: {args.second}")
    print(pd.DataFrame(table, index=LEVELS, columns=LEVELS).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
