"""The placebo comparison of the windows (docs/model.md, "Timing"; issue 23, item 4c).

Scores a scenario with the real windows of scenarios/windows_2019.csv against the same
windows shifted at random (each row moved as a whole, start, end and known date, by a
nonzero number of quarters in [-8, 8]; seeded), on scenarios/observed_sourced.csv: the
log-likelihood of the observed rows under the simulated policy shares, smoothed as
calibrate does, (count + 0.5) / (R + 1.5), at fixed parameters (no fit).

    /usr/bin/python3 scripts/windows_placebo.py --boost 0.25 --placebos 40

prints the score without windows, with the real windows and the placebos' mean, sd
and the share at least as good as the real windows. tests/python/test_timing.py uses
the same functions.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

SRC = Path(__file__).resolve().parents[1]
POL = {"open": 0, "restrict": 1, "ban": 2}
HEADER = "code,start,end,known,kind,source\n"


def data_rows(path):
    """The CSV rows of a file with '#' comment lines, header first."""
    return [l.split(",") for l in Path(path).read_text().splitlines() if l and not l.startswith("#")]


def windows_rows(path=SRC / "scenarios" / "windows_2019.csv"):
    rows = data_rows(path)
    assert ",".join(rows[0]) + "\n" == HEADER
    return rows[1:]


def shift(date, q):
    """A date moved by q quarters (3 q months; the day clipped to 28)."""
    y, m, d = map(int, date.split("-"))
    mi = y * 12 + m - 1 + 3 * q
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}-{min(d, 28):02d}"


def shifted(rows, rng):
    """The same windows, each moved as a whole by a random nonzero number of quarters in
    [-8, 8]."""
    out = []
    for c, s, e, k, kind, src in rows:
        q = rng.choice([d for d in range(-8, 9) if d != 0])
        out.append([c, shift(s, q), shift(e, q), shift(k, q), kind, src])
    return out


def scenario_with(d, name, rows, boost, base="huawei_2019.yaml", extra=""):
    """A scenario in folder d: `base` with the windows `rows` at `boost`."""
    d = Path(d)
    (d / f"{name}.csv").write_text(HEADER + "".join(",".join(r) + "\n" for r in rows))
    y = d / f"{name}.yaml"
    y.write_text(f"base: {SRC / 'scenarios' / base}\n"
                 f"windows: {{file: {name}.csv, hazard_boost: {boost}}}\n{extra}")
    return y


def shares(binary, scen, out, replicates, seed=None):
    """Run scen (summary store) and return its smoothed policy shares, step x nation x
    option, with the nation codes and dates."""
    args = [binary, "run", scen, "-o", out, f"--replicates={replicates}", "--store=summary", "-q",
            "--force", "--threads=2"] + ([f"--seed={seed}"] if seed is not None else [])
    subprocess.run([str(a) for a in args], check=True, capture_output=True)
    with h5py.File(out, "r") as f:
        codes = [c.decode() for c in f["nation"][()]]
        dates = [c.decode() for c in f["date"][()]]
        sh = (f["policy_share"][0] * replicates + 0.5) / (replicates + 1.5)
    return sh, codes, dates


def loglik(sh, codes, dates, obs):
    """Log-likelihood of observed rows (code, date, policy)."""
    return float(sum(np.log(sh[dates.index(dt), codes.index(c), POL[p]]) for c, dt, p in obs))


def observed(path=SRC / "scenarios" / "observed_sourced.csv"):
    return data_rows(path)[1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.environ.get("ALLIED5G_BIN", str(SRC / "build" / "allied5g")))
    ap.add_argument("--base", default="huawei_2019.yaml", help="scenario in scenarios/ (default: %(default)s)")
    ap.add_argument("--boost", type=float, default=0.25, help="windows.hazard_boost (default: %(default)s)")
    ap.add_argument("--placebos", type=int, default=40, help="shifted sets (default: %(default)s)")
    ap.add_argument("--replicates", type=int, default=1000, help="per run (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="the shifts' seed (default: %(default)s)")
    a = ap.parse_args()
    obs, rows, rng = observed(), windows_rows(), random.Random(a.seed)
    with tempfile.TemporaryDirectory() as d:
        def score(name, ws, boost):
            y = scenario_with(d, name, ws, boost, a.base)
            return loglik(*shares(a.binary, y, Path(d) / f"{name}.h5", a.replicates), obs)
        none, real = score("none", rows, 0), score("real", rows, a.boost)
        pl = np.array([score(f"shift{k}", shifted(rows, rng), a.boost) for k in range(a.placebos)])
    print(f"{a.base}, boost {a.boost}, {a.replicates} replicates: no windows {none:.2f}; "
          f"real windows {real:.2f}; {a.placebos} placebos {pl.mean():.2f} +/- {pl.std(ddof=1):.2f} "
          f"(min {pl.min():.2f}, max {pl.max():.2f}); at least as good as the real windows: "
          f"{(pl >= real).mean():.1%}")


if __name__ == "__main__":
    sys.exit(main())
