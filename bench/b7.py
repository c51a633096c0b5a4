"""B7 (issue 27, item 7): a robust design of 100 policies x 1,000 worlds x 1,000
replicates on the default world (scenarios/robust_us_worlds.yaml with 100 sampled
policies: the four US strategies, a budget in [0.1, 0.6] and a downgrade in [0, 0.6]),
store summary with its four outcomes.

    /usr/bin/python3 bench/b7.py            # slices; prints the time and the full-size estimate
    /usr/bin/python3 bench/b7.py --full     # the whole design (hours on two cores)

A slice keeps the policies and the replicates and takes a share of the worlds: every
point costs the same (a world only changes parameter values), so the full run's time
is the slice's times the ratio of points. The slices are timed whole (load,
simulate, aggregate, write, fsync), median of --repeat runs; both on all cores and on
one, for the speed-up. Points split over MPI ranks by replicate blocks (docs/mpi.md):
each rank runs its blocks of every point, so the time divides by the ranks as B1's
does."""
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
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="a5b7-"))
    worlds = 1000 if a.full else a.worlds
    s = tmp / "b7.yaml"
    s.write_text(SCEN.format(src=HERE.parent, reps=1000, worlds=worlds))
    runs = 100 * worlds * 1000
    cores = os.cpu_count()
    out = str(tmp / "o.h5")
    base = [a.bin, "run", str(s), "-o", out, "--force", "--quiet"]
    tc = timed(base + ["--threads", str(cores)], a.repeat)
    t1 = timed(base + ["--threads", "1"], a.repeat) if not a.full else float("nan")
    size = os.path.getsize(out)
    scale = 1000 / worlds
    print(f"| B7 slice | 100 policies x {worlds} worlds x 1,000 replicates ({runs:,} runs), "
          f"summary, 4 outcomes | {tc:.1f} s on {cores} threads ({tc * 1e6 / runs:.1f} us a run), "
          f"{t1:.1f} s on 1 ({t1 / tc:.2f} x speed-up); file {size / 2**20:.1f} MiB |")
    print(f"| B7 estimate | 100 x 1,000 x 1,000 (1e8 runs) | {tc * scale / 60:.0f} min on {cores} "
          f"threads; file about {size * scale / 2**30:.1f} GiB |")


if __name__ == "__main__":
    main()
