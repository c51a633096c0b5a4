"""``python3 -m allied5g report OUT.h5 -o DIR``: figures and an index.html summary;
``python3 -m allied5g export OUT.h5 --csv DIR``: tidy CSV files."""
from __future__ import annotations

import argparse
import html
import os
import signal
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots
from . import __version__
from .io import (POLICIES, ExportError, ResultsError, _os_text, design_paths, export_csv, load,
                 time_dim)


#: How the report picks the nations it plots (stated in the report).
NATION_RULE = ("the {n} nations whose end-of-run policy is most uncertain: highest entropy "
               "of the shares of replicates in open, restrict and ban at the last step")


def _initial_policies(ds) -> dict:
    """Each nation's policy before the first step, from the scenario as run (the
    ``scenario`` attribute); empty when it cannot be read."""
    try:
        import yaml
        scen = yaml.safe_load(str(ds.attrs.get("scenario", "")))
        default = str((scen.get("defaults") or {}).get("policy", "open"))
        return {str(n["code"]): str(n.get("policy", default)) for n in scen["nations"]}
    except Exception:   # noqa: BLE001 -- an unreadable scenario only loses the column
        return {}


def key_findings(ds, point: int = 0) -> pd.DataFrame:
    """End-of-run numbers per nation for one design point, most likely to ban first.

    Columns: ``name``, ``start`` (the nation's initial policy in the scenario), ``open``/``restrict``/``ban`` (shares of replicates at the last step),
    ``mean_high_risk_share``, ``ever_ban`` (share of replicates that ban at some
    step), ``median_first_ban`` (median date of the first ban among replicates, given
    when at least half the replicates ban; otherwise the reason it is not).
    """
    t = time_dim(ds)
    last = ds.policy_share.isel(point=point).isel({t: -1})
    first = ds.policy_share.isel(point=point).isel({t: 0})
    df = pd.DataFrame({p: last.sel(option=p).values.astype(float) for p in POLICIES},
                      index=pd.Index([str(x) for x in ds.nation.values], name="nation"))
    initial = _initial_policies(ds)
    start = []
    for i, code in enumerate(df.index):
        if code in initial:
            start.append(initial[code])
            continue
        f = first.isel(nation=i).values
        k = int(np.argmax(f))
        start.append(POLICIES[k] if f[k] >= 1.0 else "mixed")
    df.insert(0, "start", start)
    df["mean_high_risk_share"] = ds.high_risk_share_mean.isel(point=point).isel({t: -1}).values
    fb = np.asarray(ds.first_ban_step.isel(point=point).values)
    labels = [str(x) for x in ds["date"].values]
    med, ever = [], []
    for i in range(fb.shape[1]):
        col = fb[:, i]
        f = col[col >= 0]
        done = max(int((col >= -1).sum()), 1)       # fill values (unfinished) excluded
        ever.append(f.size / done)
        if f.size == 0:
            med.append("never bans in any replicate")
        elif f.size * 2 < done:
            med.append(f"bans in under half the replicates ({100 * f.size / done:.0f} %)")
        else:
            med.append(labels[int(np.median(f))])
    df["ever_ban"] = ever
    df["median_first_ban"] = med
    if "nation_name" in ds.coords or "nation_name" in ds:
        df.insert(0, "name", [str(x) for x in ds["nation_name"].values])
    return df.sort_values("ban", ascending=False, kind="stable")


def _findings(findings: pd.DataFrame) -> list[str]:
    """Key findings as sentences: what changes during the run, not the initial state."""
    out = []
    already = findings[findings.start == "ban"]
    bans = findings[(findings.start != "ban") & (findings.ban > 0)].head(3)
    for c, r in bans.iterrows():
        when = (f", typically from {r.median_first_ban}" if r.median_first_ban[:1].isdigit()
                else "")
        out.append(f"{c}: bans in {100 * r.ban:.0f} % of replicates by the end{when}")
    listed = set(bans.index)
    opens = findings[~findings.index.isin(listed) & (findings.open > 0)]
    opens = opens.sort_values("open", ascending=False, kind="stable").head(3)
    for c, r in opens.iterrows():
        out.append(f"{c}: stays open in {100 * r.open:.0f} % of replicates")
    for c, r in already.iterrows():
        if r.ban < 0.995:
            out.append(f"{c}: banned at the start; still banning at the end in "
                       f"{100 * r.ban:.0f} % of replicates")
    steady = [c for c, r in already.iterrows() if r.ban >= 0.995]
    if steady:
        out.append("Banning from the start to the end in every replicate (the initial "
                   "condition, not a finding): " + ", ".join(steady))
    return out


def _fmt_attr(k, v) -> str:
    if k == "run_seconds":
        try:
            return f"{float(v):.2f} s"
        except (TypeError, ValueError):
            pass
    return str(v)


def write_report(path, outdir, nations=None) -> Path:
    """Write PNG figures and index.html for results file ``path`` into ``outdir``."""
    ds = load(path)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    codes = [str(x) for x in ds.nation.values]
    t = time_dim(ds)
    if nations is None:
        last = ds.policy_share.isel(point=0).isel({t: -1}).values.astype(float)
        entropy = -(last * np.log(np.clip(last, 1e-12, 1))).sum(-1)
        nations = [codes[i] for i in np.argsort(-entropy, kind="stable")[:8]]
        rule = NATION_RULE.format(n=len(nations))
    else:
        rule = "the nations asked for (--nations)"
    shown = ", ".join(nations)
    when = f"{ds['date'].values[0]} to {ds['date'].values[-1]}"
    reps = ds.sizes["replicate"]
    figs = {
        "policy_probabilities.png": (
            plots.policy_probabilities(ds, nations),
            f"Share of the {reps} replicates in each policy (green open, amber restrict, red "
            f"ban), quarter by quarter, {when}, for {shown}: {rule}."),
        "high_risk_share.png": (
            plots.fan_chart(ds, nations),
            "High-risk vendor share of each nation's radio network: median (line), 5-95 % "
            "band across replicates and mean (dashed), for the same nations."),
        "who_bans_first.png": (
            plots.ban_timeline(ds),
            "Who bans first: for every nation, the median (dot) and quartiles (bar) of the "
            "first ban date among replicates that ban, and (right) the share of replicates "
            "that ever ban."),
    }
    if "bloc_member" in ds:
        figs["cohesion.png"] = (plots.cohesion_plot(ds),
                                "Alliance cohesion: probability that two members of a bloc, "
                                "picked at random, hold the same policy.")
    paths = design_paths(ds)
    if paths and ds.attrs.get("design_method") == "grid":
        figs["sweep_response.png"] = (
            plots.sweep_response(ds, paths[0], nations[:4]),
            f"Share of replicates banning at the end of the run against {paths[0]}, with 90 % "
            f"intervals (bands), for the first four nations shown above.")
    for name, (fig, _) in figs.items():
        fig.savefig(out / name, dpi=110)
    findings = key_findings(ds)
    findings.to_csv(out / "end_of_run.csv", float_format="%.4f")
    prov = ["scenario_name", "created", "command_line", "seed", "points", "replicates", "store",
            "design_method", "model", "software_version", "git_revision", "libraries", "threads",
            "run_seconds"]
    rows = "".join(f"<tr><th>{k}</th><td>{html.escape(_fmt_attr(k, ds.attrs[k]))}</td></tr>"
                   for k in prov if k in ds.attrs)
    bullet = "".join(f"<li>{html.escape(x)}</li>" for x in _findings(findings))
    imgs = "".join(
        f'<figure><img src="{n}" alt="{html.escape(cap)}"><figcaption>Figure {i}. '
        f"{html.escape(cap)}</figcaption></figure>"
        for i, (n, (_, cap)) in enumerate(figs.items(), 1))
    title = html.escape(str(ds.attrs.get("scenario_name", Path(path).name)))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}
figcaption{{font-size:14px;color:#333;margin-bottom:2em}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}}</style></head><body>
<h1>{title}</h1>
<p>{html.escape(str(ds.attrs.get("command_line", "")))}</p>
<h2>Key findings{" (design point 0)" if ds.sizes["point"] > 1 else ""}</h2><ul>{bullet}</ul>
<p>Bans: the nations most often banning at the end among those not banning at the start.
Stays open: the nations most often open at the end. Shares are of {reps} replicates.</p>
<h2>End of run, per nation</h2>{findings.to_html(float_format=lambda v: f"{v:.2f}")}
<h2>Figures</h2><p>Nations plotted: {html.escape(rule)}.</p>{imgs}
<h2>Provenance</h2><table>{rows}</table>
<h2>Scenario (as run)</h2><pre>{html.escape(str(ds.attrs.get("scenario", "")))}</pre>
</body></html>"""
    (out / "index.html").write_text(page)
    ds.close()
    return out / "index.html"


def _export_main(args) -> int:
    """allied5g export: 0 done, 2 bad input (nothing written), 1 failure while writing
    (nothing written either: the files appear only once all are complete)."""
    def stop(signum, frame):
        for sig in before:                 # the cleanup below is not interrupted again
            signal.signal(sig, signal.SIG_IGN)
        raise SystemExit(128 + signum)     # unwinds: the temporary directory is removed

    import threading
    before = {}
    if threading.current_thread() is threading.main_thread():
        before = {sig: signal.signal(sig, stop)
                  for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    shown = warnings.formatwarning
    warnings.formatwarning = lambda msg, *a, **k: f"allied5g export: warning: {msg}\n"
    try:
        written = export_csv(args.results, args.csv, force=args.force,
                             ignore_space=args.ignore_space)
    except (ResultsError, ExportError) as e:
        print(f"allied5g export: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        if e.filename is not None and os.path.abspath(e.filename) == os.path.abspath(args.results):
            print(f"allied5g export: {_os_text(e)}", file=sys.stderr)
            return 2
        print(f"allied5g export: cannot write the CSV files: {_os_text(e)}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"allied5g export: cannot write the CSV files: {_os_text(e)}; nothing was "
              f"written to {args.csv}", file=sys.stderr)
        return 1
    except MemoryError:
        print("allied5g export: out of memory; nothing was written", file=sys.stderr)
        return 1
    except SystemExit as e:                 # a signal (stop above)
        print(f"allied5g export: stopped by signal {int(e.code) - 128}; nothing was written",
              file=sys.stderr)
        raise
    finally:
        warnings.formatwarning = shown
        for sig, h in before.items():
            signal.signal(sig, h)
    sys.stdout.flush()
    for p in written:                       # the bytes of the name, whatever they are
        sys.stdout.buffer.write(os.fsencode(p) + b"\n")
    sys.stdout.flush()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m allied5g",
                                 description="Reports and CSV exports of allied5g results files.")
    ap.add_argument("--version", action="version", version=f"allied5g (Python) {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("report", help="figures and an index.html summary of a results file")
    rp.add_argument("results")
    rp.add_argument("-o", "--outdir", required=True)
    rp.add_argument("--nations", nargs="*", help="nation codes to plot (default: the most uncertain)")
    ep = sub.add_parser("export", help="tidy CSV files, one per variable family, for "
                        "spreadsheets and R",
                        description="Write steps.csv (per replicate and step), finals.csv "
                        "(per replicate, end of run), aggregates.csv (over replicates), "
                        "design.csv (per design point) and nations.csv.")
    ep.add_argument("results")
    ep.add_argument("--csv", required=True, metavar="DIR", help="directory for the CSV files")
    ep.add_argument("--force", action="store_true", help="replace CSV files DIR already has")
    ep.add_argument("--ignore-space", action="store_true",
                    help="export even when the estimated size exceeds the free space")
    args = ap.parse_args(argv)
    if args.cmd == "export":
        return _export_main(args)
    try:
        import matplotlib.pyplot as plt

        plt.switch_backend("Agg")  # files only: no display needed
        index = write_report(args.results, args.outdir, args.nations)
    except ResultsError as e:  # not a (complete) results file: bad input
        print(f"allied5g {args.cmd}: {e}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as e:
        print(f"allied5g {args.cmd}: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0
