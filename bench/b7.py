"""B7 (issue 27, item 7): a robust design of 100 policies x 1,000 worlds x 1,000
replicates on the default world (scenarios/robust_us_worlds.yaml with 100 sampled
policies: the four US strategies, a budget in [0.1, 0.6] and a downgrade in [0, 0.6]),
with its four outcomes, store outcomes (and store summary beside it, on all cores).

    /usr/bin/python3 bench/b7.py            # slices; prints the time and the full-size estimate
    /usr/bin/python3 bench/b7.py --full     # the whole design (hours on two cores)

A slice keeps the policies and the replicates and takes a share of the worlds: every
point costs the same (a world only changes parameter values), so the full run's time
is the slice's times the ratio of points. The slices are timed whole (load,
simulate, aggregate, write, fsync), median of --repeat runs; both on all cores and on
one, for the speed-up. Under MPI the replicates of each point are split into blocks,
at least one per rank (docs/mpi.md), so every rank works on every point."""
import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCEN = """base: {src}/scenarios/robust_us_worlds.yaml
name: b7
replicates: {reps}
levers:
  us.strategy: [schedule, uniform, pivotal, wavering]
  us.budget: {{lo: 0.1, hi: 0.6}}
  us.intel_lever.downgrade: {{lo: 0, hi: 0.6}}
design: {{method: robust, policies: 100, worlds: {worlds}}}
"""


def timed(cmd, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(HERE.parent / "build" / "allied5g"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worlds", type=int, default=4, help="worlds in the slice (of 1,000)")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--mpi", help="an MPI build of allied5g: also time 2 ranks x 1 thread and "
                    "1 rank x 2 threads (mpirun --bind-to none), store outcomes")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="a5b7-"))
    worlds = 1000 if a.full else a.worlds
    s = tmp / "b7.yaml"
    s.write_text(SCEN.format(src=HERE.parent, reps=1000, worlds=worlds))
    runs = 100 * worlds * 1000
    cores = os.cpu_count()
    out = str(tmp / "o.h5")
    base = [a.bin, "run", str(s), "-o", out, "--force", "--quiet"]
    scale = 1000 / worlds
    for store in ("outcomes", "summary"):
        b = base + ["--store", store]
        tc = timed(b + ["--threads", str(cores)], a.repeat)
        size = os.path.getsize(out)
        one = ""
        if store == "outcomes" and not a.full:
            t1 = timed(b + ["--threads", "1"], a.repeat)
            one = f", {t1:.1f} s on 1 ({t1 / tc:.2f} x speed-up)"
        print(f"| B7 slice, store {store} | 100 policies x {worlds} worlds x 1,000 replicates "
              f"({runs:,} runs), 4 outcomes | {tc:.1f} s on {cores} threads "
              f"({tc * 1e6 / runs:.1f} us a run){one}; file {size / 2**20:.1f} MiB |")
        print(f"| B7 estimate, store {store} | 100 x 1,000 x 1,000 (1e8 runs) | "
              f"{tc * scale / 60:.0f} min on {cores} threads; file about "
              f"{size * scale / 2**30:.2f} GiB |")
        if a.full:
            break
    if a.mpi:
        mpi = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
        b = [a.mpi, "run", str(s), "-o", out, "--force", "--quiet", "--store", "outcomes"]
        for ranks, threads in ((2, 1), (1, 2)):
            t = timed(mpi + ["-np", str(ranks)] + b + ["--threads", str(threads)], a.repeat)
            print(f"| B7 slice, MPI | {ranks} rank(s) x {threads} thread(s), store outcomes | "
                  f"{t:.1f} s |")


if __name__ == "__main__":
    main()
