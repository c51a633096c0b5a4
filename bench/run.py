"""Run the benchmark suite B1-B6 and B8 (bench/README.md) and print a Markdown table.

    /usr/bin/python3 bench/run.py [--bin build/allied5g] [--repeat 5] [--quick]
                                  [--baseline OTHER/allied5g] [--only-b1 | --strategic]

Every figure is the median of --repeat runs of the whole process (scenario load,
simulation, aggregates, HDF5 output, fsync). --strategic runs B8 alone: B1's world
with each strategic setting on, timed against plain B1 in the same rounds.
B1, B2, B3 and B6 run in rounds (B1,
B1 full store, B1 on 2 threads, NumPy) and each ratio is the median of the ratios
within rounds, so that a slow spell of a shared machine hits both sides of a ratio;
the fastest round is shown beside the median. --quick uses fewer replicates (for a
smoke test). --baseline times another binary's B1 in the same rounds (interleaved
with this one's), for a before/after comparison; --only-b1 stops after B1.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_scenario import scenario  # noqa: E402


def fresh(cmd):
    """Remove the output file of cmd before it is timed: replacing a file costs
    the run that replaces it (dropping a full-store file's 200 MB of page cache
    took tens of ms, charged to whichever benchmark ran next)."""
    if "-o" in cmd:
        Path(cmd[cmd.index("-o") + 1]).unlink(missing_ok=True)


def wall(cmd, env=None):
    fresh(cmd)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def timed(cmd, repeat):
    """Median wall seconds and the largest peak RSS (MiB) of `repeat` runs."""
    times, rss = [], 0.0
    for _ in range(repeat):
        fresh(cmd)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
        rss = max(rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, before / 1024)
    return statistics.median(times), rss


def peak_rss(cmd):
    """Peak RSS (MiB) of one run, measured by GNU time so earlier children don't count."""
    fresh(cmd)
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True, capture_output=True, text=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(HERE.parent / "build" / "allied5g"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--baseline", help="another allied5g binary whose B1 is timed in the same rounds")
    ap.add_argument("--only-b1", action="store_true", help="B1 (and the baseline's) only")
    ap.add_argument("--strategic", action="store_true",
                    help="B8 only: B1's world with each strategic setting, against plain B1 in "
                         "the same rounds (and the baseline's, with --baseline)")
    a = ap.parse_args()
    R = 2000 if a.quick else 20000
    cores = os.cpu_count()
    tmp = Path(tempfile.mkdtemp(prefix="a5bench-"))
    rows = []

    def write(name, **kw):
        p = tmp / name
        p.write_text(scenario(**kw))
        return p

    def run(path, threads, store="summary", reps=None, repeat=a.repeat):
        cmd = [a.bin, "run", str(path), "-o", str(tmp / "out.h5"), "--force", "--quiet",
               "--threads", str(threads), "--store", store]
        if reps:
            cmd += ["--replicates", str(reps)]
        return timed(cmd, repeat)[0]

    b1 = write("b1.yaml", nations=30, steps=40, replicates=R)
    cells = R * 30 * 40
    np_reps = 500 if a.quick else 2000
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

    def b1cmd(threads, store="summary", binary=None):
        return [binary or a.bin, "run", str(b1), "-o", str(tmp / "out.h5"), "--force", "--quiet",
                "--threads", str(threads), "--store", store]

    def side_by_side():
        """Wall time of two 1-thread B1 processes run at once: what the machine's
        two cores deliver together (on a shared VM, often less than 2 x one)."""
        for k in range(2):
            fresh(["-o", str(tmp / f"pair{k}.h5")])
        t0 = time.perf_counter()
        ps = [subprocess.Popen([*b1cmd(1)[:4], str(tmp / f"pair{k}.h5"), *b1cmd(1)[5:]],
                               stdout=subprocess.DEVNULL) for k in range(2)]
        for p in ps:
            if p.wait() != 0:
                raise SystemExit("side-by-side run failed")
        return time.perf_counter() - t0

    if a.strategic:
        return finish(strategic(a, b1cmd, cells), tmp)
    rounds, base = [], []
    for _ in range(a.repeat):
        if a.baseline:  # interleaved: a slow spell of the machine hits both
            base.append((wall(b1cmd(1, binary=a.baseline)), wall(b1cmd(1))))
        if a.only_b1:
            if not a.baseline:
                base.append((float("nan"), wall(b1cmd(1))))
            continue
        one, full, two = wall(b1cmd(1)), wall(b1cmd(1, "full")), wall(b1cmd(2))
        pair = side_by_side()
        out = subprocess.run([sys.executable, str(HERE / "numpy_model.py"), str(b1), "--replicates",
                              str(np_reps)], check=True, capture_output=True, text=True, env=env).stdout
        rounds.append((one, full, two, float(out.split(",")[1].split()[0]), pair))
    med = statistics.median
    ns = lambda t: t * 1e9 / cells  # noqa: E731
    if base:
        this = med(b[1] for b in base)
        text = f"{ns(this):.1f} ns/nation-step (fastest round {ns(min(b[1] for b in base)):.1f})"
        if a.baseline:
            text += (f"; baseline {ns(med(b[0] for b in base)):.1f} ns (fastest "
                     f"{ns(min(b[0] for b in base)):.1f}); this / baseline "
                     f"{med(b[1] / b[0] for b in base):.3f} (median of {len(base)} rounds)")
        rows.append(("B1" + (" vs baseline" if a.baseline else ""),
                     "30 nations x 40 steps x %d replicates, summary, 1 thread" % R, text, "<= 15 ns"))
    if a.only_b1:
        return finish(rows, tmp)
    t1 = med(r[0] for r in rounds)
    fast = min(rounds, key=lambda r: r[0])
    rows.append(("B1", "30 nations x 40 steps x %d replicates, summary, 1 thread" % R,
                 f"{ns(t1):.1f} ns/nation-step (fastest round {ns(fast[0]):.1f})", "<= 15 ns"))
    rows.append(("B2", "B1 with --store full",
                 f"{ns(med(r[1] for r in rounds)):.1f} ns/nation-step "
                 f"({med(r[1] / r[0] for r in rounds):.2f} x B1)", "<= 1.5 x B1"))
    rows.append(("B3", "B1 on 2 threads", f"{med(r[0] / r[2] for r in rounds):.2f} x speed-up "
                 f"({ns(med(r[2] for r in rounds)):.1f} ns; best of each: "
                 f"{min(r[0] for r in rounds) / min(r[2] for r in rounds):.2f} x)", ">= 1.85 x"))
    rows.append(("B3'", "the machine's own limit: two 1-thread B1 processes side by side",
                 f"{med(2 * r[0] / r[4] for r in rounds):.2f} x the work of one in the same time", ""))
    if cores and cores > 2:
        tc = run(b1, cores)
        rows.append(("B3", f"B1 on all {cores} cores", f"{t1 / tc:.2f} x speed-up", ""))
    per = {}
    for n in (30, 300, 3000):
        reps = R * 30 // n
        p = write(f"b4_{n}.yaml", nations=n, steps=40, replicates=reps)
        per[n] = run(p, 1) * 1e9 / (reps * n * 40)
    rows.append(("B4", "30 / 300 / 3000 nations, equal nation-steps, 1 thread",
                 " / ".join(f"{per[n]:.1f}" for n in per) + f" ns ({per[3000] / per[30]:.2f} x)",
                 "3000 within 1.3 x of 30"))
    big = 50000 if a.quick else 1000000
    b5 = write("b5.yaml", nations=30, steps=40, replicates=big)
    t0 = time.perf_counter()
    rss = peak_rss([a.bin, "run", str(b5), "-o", str(tmp / "b5.h5"), "--force", "--quiet",
                    "--store", "summary"])
    rows.append(("B5", f"{big:,} replicates, summary, all cores", f"{rss:.0f} MiB peak RSS "
                 f"({time.perf_counter() - t0:.0f} s)", "<= 150 MB"))
    full = write("b5f.yaml", nations=30, steps=40, replicates=big // 10)
    rssf = peak_rss([a.bin, "run", str(full), "-o", str(tmp / "b5f.h5"), "--force", "--quiet",
                     "--store", "full"])
    rows.append(("B5", f"{big // 10:,} replicates, full store", f"{rss:.0f} MiB peak RSS".replace(
        f"{rss:.0f}", f"{rssf:.0f}"), "streams (bounded)"))
    rows.append(("B6", "NumPy version (bench/numpy_model.py) on B1, 1 thread",
                 f"{med(r[3] for r in rounds):.0f} ns/nation-step; allied5g "
                 f"{med(r[3] / ns(r[0]) for r in rounds):.0f} x faster "
                 f"(fastest rounds: {fast[3] / ns(fast[0]):.0f} x)", ">= 30 x"))
    vt = timed([a.bin, "validate", str(HERE.parent / "scenarios" / "huawei_2019.yaml")], 20)[0]
    rows.append(("V", "validate scenarios/huawei_2019.yaml", f"{vt * 1000:.1f} ms", "< 20 ms"))
    finish(rows, tmp)


# B8: B1's world with a strategic actor on, each setting as issue 24 names them.
STRATEGIC = [
    ("us.strategy: pivotal", ["us.strategy=pivotal", "us.budget=0.2"]),
    ("us.strategy: uniform", ["us.strategy=uniform", "us.budget=0.2"]),
    ("us.strategy: wavering", ["us.strategy=wavering", "us.budget=0.2"]),
    ("china.strategy: targeted", ["china.strategy=targeted", "china.budget=2"]),
    ("china.strategy: deterrent", ["china.strategy=deterrent", "china.budget=2"]),
    ("intelligence lever (downgrade 0.5)", ["us.intel_lever.downgrade=0.5"]),
    ("every setting on (pivotal, deterrent, lever 0.5, both reacting 0.5, anticipation 4)",
     ["us.strategy=pivotal", "us.budget=0.2", "china.strategy=deterrent", "china.budget=2",
      "us.intel_lever.downgrade=0.5", "us.react=0.5", "china.react=0.5",
      "decision.anticipation.horizon=4"]),
]


def strategic(a, b1cmd, cells):
    """B8 rows: each strategic run's time over plain B1's, the median of the ratios
    within rounds (every run of a round interleaved, so a slow spell of the machine
    hits all of them), this binary's and, with --baseline, the baseline's."""
    def ns(t):
        return t * 1e9 / cells

    bins = [("this", a.bin)] + ([("baseline", a.baseline)] if a.baseline else [])
    ratios = {(b, k): [] for b, _ in bins for k in range(len(STRATEGIC))}
    plain = {b: [] for b, _ in bins}
    for _ in range(a.repeat):
        for b, path in bins:
            p = wall(b1cmd(1, binary=path))
            plain[b].append(p)
            for k, (_, sets) in enumerate(STRATEGIC):
                cmd = b1cmd(1, binary=path)
                for kv in sets:
                    cmd += ["--set", kv]
                ratios[(b, k)].append(wall(cmd) / p)
    rows = [("B8", "plain B1 (30 nations x 40 steps, summary, 1 thread)",
             " / ".join(f"{b}: {ns(statistics.median(plain[b])):.1f} ns/nation-step"
                        for b, _ in bins), "")]
    for k, (what, _) in enumerate(STRATEGIC):
        rows.append(("B8", what, " / ".join(
            f"{b}: {statistics.median(ratios[(b, k)]):.2f} x plain" for b, _ in bins),
            "<= 1.5 x plain"))
    return rows


def finish(rows, tmp):
    """Print the table and remove the scratch folder."""
    print("| bench | what | measured | target |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
