"""``allied5g report OUT.h5 -o DIR`` (or ``python -m allied5g report``): figures (PNG,
SVG, PDF), interactive figures and an index.html summary; ``allied5g export OUT.h5
--csv DIR``: tidy CSV files."""
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
from .io import (POLICIES, ExportError, ResultsError, _os_text, design_paths,
                 export_csv, load, time_dim)
from .uncertainty import replicates_done, share_interval


#: How the report picks the nations it plots by default (stated in the report).
NATION_RULE = ("the {n} nations with the most influence in the scenario (nations.CODE."
               "influence, ties in scenario order), leaving out nations that hold one policy "
               "in every replicate at every step{stuck}")


class ReportInputError(ValueError):
    """A report option that does not fit the results file (an unknown nation)."""


def _scenario(ds) -> dict:
    """The scenario as run (the ``scenario`` attribute), or {} when unreadable."""
    try:
        import yaml
        scen = yaml.safe_load(str(ds.attrs.get("scenario", "")))
        return scen if isinstance(scen, dict) else {}
    except Exception:   # noqa: BLE001 -- an unreadable scenario only loses what needs it
        return {}


def default_nations(ds, top: int = 8, point: int = 0) -> tuple[list, list]:
    """The report's default nations: the ``top`` with the most influence in the
    scenario (ties, and files whose scenario cannot be read: scenario order), leaving
    out nations stuck at one policy (every replicate, every step). Returns (chosen,
    left out as stuck)."""
    codes = [str(x) for x in ds.nation.values]
    scen = _scenario(ds)
    default = float((scen.get("defaults") or {}).get("influence", 1.0) or 1.0)
    infl = {str(n.get("code")): float(n.get("influence", default))
            for n in scen.get("nations") or [] if isinstance(n, dict)}
    share = np.asarray(ds.policy_share.isel(point=point).values, dtype=float)  # step x nation x 3
    stuck = [c for i, c in enumerate(codes)
             if any((share[:, i, k] >= 1.0).all() for k in range(3))]
    order = sorted(range(len(codes)), key=lambda i: -infl.get(codes[i], default))
    chosen = [codes[i] for i in order if codes[i] not in stuck][:top]
    return chosen, stuck


def _initial_policies(ds) -> dict:
    """Each nation's policy before the first step, from the scenario as run (the
    ``scenario`` attribute); empty when it cannot be read."""
    try:
        scen = _scenario(ds)
        default = str((scen.get("defaults") or {}).get("policy", "open"))
        return {str(n["code"]): str(n.get("policy", default)) for n in scen["nations"]}
    except Exception:   # noqa: BLE001 -- an unreadable scenario only loses the column
        return {}


def key_findings(ds, point: int = 0, level: float = 0.9) -> pd.DataFrame:
    """End-of-run numbers per nation for one design point, most likely to ban first.

    Columns: ``name``, ``start`` (the nation's initial policy in the scenario),
    ``open``/``restrict``/``ban`` (shares of replicates at the last step),
    ``restrict_or_ban`` (at least restricted at the last step), ``mean_high_risk_share``,
    ``ever_ban`` (share of replicates that ban at some step), ``median_first_ban``
    (median date of the first ban among replicates, given when at least half the
    replicates ban; otherwise the reason it is not); and for each share S of these,
    ``S_se`` (Monte Carlo standard error) and ``S_lo``, ``S_hi`` (the ``level`` Wilson
    interval), at the end of the table.
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
    df.insert(df.columns.get_loc("ban") + 1, "restrict_or_ban", df["restrict"] + df["ban"])
    df["ever_ban"] = ever
    df["median_first_ban"] = med
    n = replicates_done(ds)[point]
    for c in ("open", "restrict", "ban", "restrict_or_ban", "ever_ban"):
        df[f"{c}_se"], df[f"{c}_lo"], df[f"{c}_hi"] = share_interval(df[c].to_numpy(), n, level)
    if "nation_name" in ds.coords or "nation_name" in ds:
        df.insert(0, "name", [str(x) for x in ds["nation_name"].values])
    return df.sort_values("ban", ascending=False, kind="stable")


def _table_html(findings: pd.DataFrame) -> str:
    """The end-of-run table for the page: each share with its interval."""
    shown = findings[[c for c in findings.columns if not c.endswith(("_se", "_lo", "_hi"))]].copy()
    for c in ("open", "restrict", "ban", "restrict_or_ban", "ever_ban"):
        shown[c] = [f"{v:.2f} ({lo:.2f}-{hi:.2f})" for v, lo, hi in
                    zip(findings[c], findings[f"{c}_lo"], findings[f"{c}_hi"])]
    shown = shown.rename(columns={"restrict_or_ban": "restrict or ban"})
    return shown.to_html(float_format=lambda v: f"{v:.2f}")


def _findings(findings: pd.DataFrame) -> list[str]:
    """Key findings as sentences: what changes during the run, not the initial state."""
    out = []
    already = findings[findings.start == "ban"]
    bans = findings[(findings.start != "ban") & (findings.ban > 0)].head(3)
    for c, r in bans.iterrows():
        when = (f", typically from {r.median_first_ban}" if r.median_first_ban[:1].isdigit()
                else "")
        out.append(f"{c}: bans in {100 * r.ban:.0f} % of replicates by the end "
                   f"({100 * r.ban_lo:.0f}-{100 * r.ban_hi:.0f} %){when}")
    listed = set(bans.index)
    opens = findings[~findings.index.isin(listed) & (findings.open > 0)]
    opens = opens.sort_values("open", ascending=False, kind="stable").head(3)
    for c, r in opens.iterrows():
        out.append(f"{c}: stays open in {100 * r.open:.0f} % of replicates "
                   f"({100 * r.open_lo:.0f}-{100 * r.open_hi:.0f} %)")
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



def _figures(ds, nations, rule, codes):
    """The report's static figures: {file stem: (Figure, caption)}."""
    reps = int(replicates_done(ds)[0])
    when = f"{ds['date'].values[0]} to {ds['date'].values[-1]}"
    shown = ", ".join(plots.label(ds, c, codes) for c in nations)
    band = f"{100 * plots.LEVEL:.0f} %"
    figs = {
        "policy_probabilities": (
            plots.policy_probabilities(ds, nations, codes=codes),
            f"Share of the {reps} replicates in each policy (bluish green open, orange "
            f"restrict, vermillion ban), quarter by quarter, {when}, for {shown}: {rule}. "
            f"Grey bands: the {band} Monte Carlo interval of P(open) and of P(open or "
            "restrict), the boundaries between the areas."),
        "high_risk_share": (
            plots.fan_chart(ds, nations, codes=codes),
            "High-risk vendor share of each nation's radio network: median (line), 5-95 % "
            "band across replicates (the spread of outcomes) and mean (dashed), for the "
            "same nations."),
        "who_bans_first": (
            plots.ban_timeline(ds, codes=codes),
            "Who bans first: for every nation, the median (dot) and quartiles (bar) of the "
            "first ban date among replicates that ban, and (right) the share of replicates "
            f"that ever ban with its {band} Monte Carlo interval."),
    }
    if "bloc_member" in ds:
        figs["cohesion"] = (plots.cohesion_plot(ds),
                            "Alliance cohesion: probability that two members of a bloc, "
                            "picked at random, hold the same policy" +
                            (f", with its {band} Monte Carlo band." if "policy" in ds else
                             " (no band: the file does not hold per-replicate policies)."))
    paths = design_paths(ds)
    if paths:
        try:
            figs["sweep_response"] = (
                plots.sweep_response(ds, paths[0], nations[:4], codes=codes),
                f"Share of replicates banning at the end of the run against {paths[0]}, with "
                f"{band} intervals, for the first four nations shown above that vary.")
        except ValueError:      # every nation shown is at one P(ban) at every point
            pass
    return figs


def _interactive(ds, out: Path, first, codes) -> str:
    """The interactive section, with plotly.js written beside the page; or a note
    saying why there is none."""
    from . import interactive

    if not interactive.available():
        return ("<p>No interactive figures: the Python package plotly is not installed "
                "(Debian: python3-plotly).</p>")
    (out / "plotly.js").write_text(interactive.plotly_js())
    return ('<script src="plotly.js"></script>'
            '<p>Hover for values and their 90 % Monte Carlo intervals; choose the nation in '
            'the menu (top right) and the date with the slider.</p>'
            + interactive.div(interactive.policy_explorer(ds, codes=codes, first=first),
                              "fig-explorer")
            + interactive.div(interactive.policy_at_time(ds, codes=codes), "fig-at-time"))


def _check_report_dir(path, out: Path, names, force: bool) -> None:
    """Refuse a DIR that is not one, a name that is the results file, and (without
    ``force``) files of the report DIR has already; before anything is written."""
    if out.exists() and not out.is_dir():
        raise ReportInputError(f"{out} exists and is not a directory")
    there = [n for n in names if os.path.lexists(out / n)]
    for n in there:
        if os.path.exists(out / n) and os.path.samefile(out / n, path):
            raise ReportInputError(f"{out / n} is the results file being reported; choose "
                                   "another DIR")
        if os.path.islink(out / n):  # writing through it would replace a file not named
            raise ReportInputError(f"{out / n} is a symbolic link; report does not replace "
                                   "links (remove it, or choose another DIR)")
        if not os.path.isfile(out / n):
            raise ReportInputError(f"{out / n} exists and is not a regular file")
    if there and not force:
        raise ReportInputError(f"{out} already has {', '.join(there)}; use --force to replace "
                               "them, or choose another DIR")


def write_report(path, outdir, nations=None, top: int = 8, codes: bool = False,
                 interactive: bool = True, *, force: bool = True) -> Path:
    """Write the report of results file ``path`` into ``outdir``: index.html (key
    findings with 90 % intervals, interactive figures, provenance, the scenario as
    run), every figure as PNG, SVG and PDF, end_of_run.csv (:func:`key_findings`), and
    plotly.js (for the interactive figures; ``interactive=False`` leaves them out).

    ``nations``: the nation codes to plot; default (None): the ``top`` nations with
    the most influence in the scenario, leaving out nations stuck at one policy
    (:func:`default_nations`). ``codes``: label nations by code, not name.
    ``force``: replace the report's files ``outdir`` has already (the default here;
    the command asks for --force); without it they are refused before anything is
    written. Bad input leaves ``outdir`` as it was (not made when missing)."""
    ds = load(path)
    if "policy_share" not in ds:
        ds.close()
        raise ReportInputError(f"{path} keeps only its outcomes (store outcomes): a report "
                               "needs the policy shares of a summary or full run; rerun with "
                               "--store summary, or read the outcomes with allied5g.load")
    out = Path(outdir)
    if nations:
        unknown = [c for c in nations if c not in [str(x) for x in ds.nation.values]]
        if unknown:
            ds.close()
            raise ReportInputError(f"unknown nation(s) {', '.join(unknown)}; this run has "
                             + ", ".join(str(x) for x in ds.nation.values))
        rule = "the nations asked for (--nations)"
    else:
        nations, stuck = default_nations(ds, top)
        rule = NATION_RULE.format(n=len(nations), stuck=f" ({', '.join(stuck)})" if stuck else "")
    figs = _figures(ds, list(nations), rule, codes)
    names = [f"{stem}.{ext}" for stem in figs for ext in ("png", "svg", "pdf")]
    names += ["end_of_run.csv", "index.html"] + (["plotly.js"] if interactive else [])
    try:
        _check_report_dir(path, out, names, force)
    except ReportInputError:
        ds.close()
        for fig, _ in figs.values():
            plots.plt.close(fig)
        raise
    out.mkdir(parents=True, exist_ok=True)
    for stem, (fig, _) in figs.items():
        plots.save(fig, out / stem)
        plots.plt.close(fig)
    findings = key_findings(ds)
    findings.to_csv(out / "end_of_run.csv", float_format="%.4f")
    prov = ["scenario_name", "created", "command_line", "seed", "points", "replicates", "store",
            "design_method", "model", "software_version", "git_revision", "libraries", "threads",
            "run_seconds"]
    rows = "".join(f"<tr><th>{k}</th><td>{html.escape(_fmt_attr(k, ds.attrs[k]))}</td></tr>"
                   for k in prov if k in ds.attrs)
    bullet = "".join(f"<li>{html.escape(x)}</li>" for x in _findings(findings))
    imgs = "".join(
        f'<figure><img src="{n}.png" alt="{html.escape(cap)}"><figcaption>Figure {i}. '
        f'{html.escape(cap)} (<a href="{n}.svg">SVG</a>, <a href="{n}.pdf">PDF</a>)'
        f"</figcaption></figure>"
        for i, (n, (_, cap)) in enumerate(figs.items(), 1))
    live = _interactive(ds, out, nations[0], codes) if interactive else ""
    title = html.escape(str(ds.attrs.get("scenario_name", Path(path).name)))
    reps = int(replicates_done(ds)[0])
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}
figcaption{{font-size:14px;color:#333;margin-bottom:2em}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}}</style></head><body>
<h1>{title}</h1>
<p>{html.escape(str(ds.attrs.get("command_line", "")))}</p>
<h2>Key findings{" (design point 0)" if ds.sizes["point"] > 1 else ""}</h2><ul>{bullet}</ul>
<p>Bans: the nations most often banning at the end among those not banning at the start.
Stays open: the nations most often open at the end. Shares are of {reps} replicates; in
brackets, their 90 % Monte Carlo intervals (Wilson).</p>
<h2>End of run, per nation</h2>{_table_html(findings)}
{"<h2>Interactive figures</h2>" + live if live else ""}
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


def _prog() -> str:
    """How the user ran this, for usage lines: ``allied5g`` when run by the binary
    (which sets ALLIED5G_PROG), else this Python as typed and ``-m allied5g``."""
    prog = os.environ.get("ALLIED5G_PROG")
    if prog:
        return prog
    exe = sys.executable or "python3"
    rel = os.path.relpath(exe)
    return f"{rel if not rel.startswith('..') else exe} -m allied5g"


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    prog = _prog()
    ap = argparse.ArgumentParser(prog=prog, description="Reports and CSV exports of allied5g "
                                 "results files.", epilog=f"example: {prog} report out.h5 -o report")
    ap.add_argument("--version", action="version", version=f"allied5g (Python) {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{report,export}")
    rp = sub.add_parser(
        "report", formatter_class=fmt, help="figures and an index.html summary of a results file",
        description="Write a report of a results file to send a colleague: index.html (key "
        "findings with 90 %% Monte Carlo intervals, interactive figures that work offline, "
        "provenance, the scenario as run), every figure as PNG, SVG and PDF, end_of_run.csv "
        "and plotly.js.",
        epilog=f"example: {prog} report out.h5 -o report --nations DEU,FRA,GBR")
    rp.add_argument("results", metavar="OUT.h5", help="results file (allied5g run -o OUT.h5)")
    rp.add_argument("-o", "--outdir", required=True, metavar="DIR",
                    help="directory for the report (made if missing)")
    rp.add_argument("--force", action="store_true",
                    help="replace the report's files DIR already has")
    rp.add_argument("--nations", nargs="+", action="extend", metavar="CODES",
                    help="nation codes to plot, comma- or space-separated (default: the --top "
                    "nations with the most influence in the scenario, leaving out nations "
                    "stuck at one policy)")
    rp.add_argument("--top", type=int, default=8, metavar="N",
                    help="how many nations to plot when --nations is not given")
    rp.add_argument("--codes", action="store_true",
                    help="label nations by ISO code instead of name")
    rp.add_argument("--static", action="store_true",
                    help="leave out the interactive figures (a page without JavaScript)")
    ep = sub.add_parser("export", formatter_class=fmt, help="tidy CSV files, one per variable "
                        "family, for spreadsheets and R",
                        description="Write steps.csv (per replicate and step), finals.csv "
                        "(per replicate, end of run), outcomes.csv (the scenario's outcomes, "
                        "per replicate), aggregates.csv (over replicates), "
                        "design.csv (per design point) and nations.csv.",
                        epilog=f"example: {prog} export out.h5 --csv out-csv")
    ep.add_argument("results", metavar="OUT.h5", help="results file (allied5g run -o OUT.h5)")
    ep.add_argument("--csv", required=True, metavar="DIR", help="directory for the CSV files")
    ep.add_argument("--force", action="store_true", help="replace CSV files DIR already has")
    ep.add_argument("--ignore-space", action="store_true",
                    help="export even when the estimated size exceeds the free space")
    return ap


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "export":
        return _export_main(args)
    try:
        if args.top < 1:
            print("allied5g report: --top must be at least 1", file=sys.stderr)
            return 2
        import matplotlib.pyplot as plt

        plt.switch_backend("Agg")  # files only: no display needed
        nations = [c for v in args.nations or [] for c in v.split(",") if c] or None
        index = write_report(args.results, args.outdir, nations, top=args.top,
                             codes=args.codes, interactive=not args.static, force=args.force)
    except (ResultsError, ReportInputError) as e:  # bad input
        print(f"allied5g {args.cmd}: {e}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as e:
        print(f"allied5g {args.cmd}: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0
