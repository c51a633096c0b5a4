"""``python3 -m allied5g report OUT.h5 -o DIR``: figures and an index.html summary."""
from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots
from .io import POLICIES, design_paths, load


def key_findings(ds, point: int = 0) -> pd.DataFrame:
    """End-of-run numbers per nation for one design point, most likely to ban first."""
    last = ds.policy_share.isel(point=point, step=-1)
    df = pd.DataFrame({p: last.sel(option=p).values for p in POLICIES},
                      index=pd.Index([str(x) for x in ds.nation.values], name="nation"))
    df["mean_high_risk_share"] = ds.high_risk_share_mean.isel(point=point, step=-1).values
    fb = ds.first_ban_step.isel(point=point).values
    labels = [str(x) for x in ds["date"].values]
    med = []
    for i in range(fb.shape[1]):
        f = fb[:, i][fb[:, i] >= 0]
        med.append(labels[int(np.median(f))] if f.size * 2 >= fb.shape[0] else "")
    df["median_first_ban"] = med
    if "nation_name" in ds.coords or "nation_name" in ds:
        df.insert(0, "name", [str(x) for x in ds["nation_name"].values])
    return df.sort_values("ban", ascending=False)


def write_report(path, outdir, nations=None) -> Path:
    """Write PNG figures and index.html for results file ``path`` into ``outdir``."""
    ds = load(path)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    codes = [str(x) for x in ds.nation.values]
    if nations is None:
        # The nations whose end-of-run policy is most uncertain tell the story.
        last = ds.policy_share.isel(point=0, step=-1).values
        entropy = -(last * np.log(np.clip(last, 1e-12, 1))).sum(-1)
        nations = [codes[i] for i in np.argsort(-entropy)[:8]]
    figs = {"policy_probabilities.png": plots.policy_probabilities(ds, nations),
            "high_risk_share.png": plots.fan_chart(ds, nations),
            "who_bans_first.png": plots.ban_timeline(ds)}
    if "bloc_member" in ds:
        figs["cohesion.png"] = plots.cohesion_plot(ds)
    paths = design_paths(ds)
    if paths and ds.attrs.get("design_method") == "grid":
        figs["sweep_response.png"] = plots.sweep_response(ds, paths[0], nations[:4])
    for name, fig in figs.items():
        fig.savefig(out / name, dpi=110)
    findings = key_findings(ds)
    findings.to_csv(out / "end_of_run.csv", float_format="%.4f")
    prov = ["scenario_name", "created", "command_line", "seed", "points", "replicates", "store",
            "design_method", "model", "software_version", "git_revision", "libraries", "threads",
            "run_seconds"]
    rows = "".join(f"<tr><th>{k}</th><td>{html.escape(str(ds.attrs[k]))}</td></tr>"
                   for k in prov if k in ds.attrs)
    top = findings.head(3)
    bullet = "".join(
        f"<li>{html.escape(c)}: bans in {100 * r.ban:.0f}% of replicates by the end"
        + (f", typically from {r.median_first_ban}" if r.median_first_ban else "") + "</li>"
        for c, r in top.iterrows())
    low = findings.tail(3)
    bullet += "".join(f"<li>{html.escape(c)}: stays open in {100 * r.open:.0f}% of replicates</li>"
                      for c, r in low.iterrows())
    imgs = "".join(f'<figure><img src="{n}" alt="{n}"><figcaption>{n}</figcaption></figure>'
                   for n in figs)
    title = html.escape(str(ds.attrs.get("scenario_name", Path(path).name)))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}}</style></head><body>
<h1>{title}</h1>
<p>{html.escape(str(ds.attrs.get("command_line", "")))}</p>
<h2>Key findings{" (design point 0)" if ds.sizes["point"] > 1 else ""}</h2><ul>{bullet}</ul>
<h2>End of run, per nation</h2>{findings.to_html(float_format=lambda v: f"{v:.2f}")}
<h2>Figures</h2>{imgs}
<h2>Provenance</h2><table>{rows}</table>
<h2>Scenario (as run)</h2><pre>{html.escape(str(ds.attrs.get("scenario", "")))}</pre>
</body></html>"""
    (out / "index.html").write_text(page)
    return out / "index.html"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m allied5g")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("report", help="figures and an index.html summary of a results file")
    rp.add_argument("results")
    rp.add_argument("-o", "--outdir", required=True)
    rp.add_argument("--nations", nargs="*", help="nation codes to plot (default: the most uncertain)")
    args = ap.parse_args(argv)
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")  # files only: no display needed
    try:
        index = write_report(args.results, args.outdir, args.nations)
    except (OSError, KeyError, ValueError) as e:
        print(f"allied5g report: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0
