"""Figure and tables of scenarios/strategies_2019.yaml (docs/strategies.md).

Usage: /usr/bin/python3 scripts/figure_strategies.py RESULTS.h5 [FIGURE.png]

RESULTS.h5 is `allied5g run scenarios/strategies_2019.yaml --set output.store=full`
(the scenario runs on common random numbers, so every design point's replicate r
shares its random stream and differences between points are paired). Prints, per
design point (US strategy x China strategy x lever), the means at the last step
(P(ban) of the UK and Germany, and over the 33 allies the number banning, the
number not open and the sum of US pressure), then each contrast the document
discusses as a paired difference with its paired standard error
(allied5g.compare) and the unpaired one for contrast. The figure shows every
point's difference from schedule / aggregate / lever off with 90 % paired
intervals.
"""
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
import allied5g  # noqa: E402

US = ["schedule", "uniform", "pivotal", "wavering"]
CN = ["aggregate", "targeted", "deterrent"]
Z90 = 1.6448536269514722


def outcomes(ds):
    """Per (point, replicate) outcomes at the last step, as DataArrays."""
    codes = [str(c) for c in ds["nation"].values]
    allies = [c != "USA" for c in codes]
    fp = ds["final_policy"].isel(nation=np.flatnonzero(allies))
    out = {"UK P(ban)": "ban(GBR)", "Germany P(ban)": "ban(DEU)",
           "allies banning": (fp == 2).sum("nation").astype(float),
           "allies moved": (fp > 0).sum("nation").astype(float)}
    if "us_pressure" in ds:
        last = ds["us_pressure"].isel({allied5g.io.time_dim(ds): -1})
        out["US pressure"] = last.isel(nation=np.flatnonzero(allies)).sum("nation").astype(float)
    return out


def point_of(ds, us, cn, lever):
    return {"us.strategy": US.index(us), "china.strategy": CN.index(cn),
            "us.intel_lever.downgrade": lever}


def label(ds, p):
    d = allied5g.design_frame(ds).iloc[p]
    lev = "on" if d["us.intel_lever.downgrade"] > 0 else "off"
    return str(d["us.strategy"]), str(d["china.strategy"]), lev  # names (design_frame)


def means_table(ds, outs):
    ys = {k: allied5g.replicate_outcome(ds, v) for k, v in outs.items()}
    head = "| US | China | lever | " + " | ".join(outs) + " |"
    rows = [head, "|" + "---|" * (3 + len(outs))]
    for p in range(ds.sizes["point"]):
        cells = [f"{np.nanmean(ys[k][p]):.{3 if 'P(ban)' in k else 2}f}" for k in outs]
        rows.append("| " + " | ".join(label(ds, p)) + " | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def contrast(ds, a, b, outs, level=0.9):
    return {k: allied5g.compare(ds, a, b, v, level=level) for k, v in outs.items()}


def fmt(c, digits=3):
    return (f"{c['estimate']:+.{digits}f} (se {c['se']:.{digits}f}; "
            f"unpaired {c['se_unpaired']:.{digits}f})")


CONTRASTS = [  # (title, a, b)
    *[(f"US {u} vs schedule (China aggregate, lever off)", ("schedule", "aggregate", 0.0),
       (u, "aggregate", 0.0)) for u in US[1:]],
    *[(f"China {c} vs aggregate (US schedule, lever off)", ("schedule", "aggregate", 0.0),
       ("schedule", c, 0.0)) for c in CN[1:]],
    *[(f"lever on vs off (US {u}, China aggregate)", (u, "aggregate", 0.0),
       (u, "aggregate", 0.5)) for u in US],
]


def contrasts_table(ds, outs):
    lines = ["| contrast (b minus a) | " + " | ".join(outs) + " |",
             "|" + "---|" * (1 + len(outs))]
    for title, a, b in CONTRASTS:
        cs = contrast(ds, point_of(ds, *a), point_of(ds, *b), outs)
        lines.append(f"| {title} | " + " | ".join(
            fmt(cs[k], 3 if "P(ban)" in k else 2) for k in outs) + " |")
    return "\n".join(lines)


def figure(ds, outs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["UK P(ban)", "Germany P(ban)", "allies banning"]
    base = point_of(ds, "schedule", "aggregate", 0.0)
    fig, axes = plt.subplots(1, 3, figsize=(13, 5.5), sharey=True)
    labels = [f"{u} / {c}" for u in US for c in CN]
    y = np.arange(len(labels))
    for ax, key in zip(axes, keys):
        for lev, off, colour, name in ((0.0, -0.15, "#0072B2", "lever off"),  # Okabe-Ito
                                       (0.5, 0.15, "#D55E00", "intelligence lever on")):
            est, lo, hi = [], [], []
            for u in US:
                for c in CN:
                    r = allied5g.compare(ds, base, point_of(ds, u, c, lev), outs[key], level=0.9)
                    est.append(r["estimate"])
                    lo.append(r["estimate"] - r["lo"])
                    hi.append(r["hi"] - r["estimate"])
            ax.errorbar(est, y + off, xerr=[lo, hi], fmt="o", color=colour, ms=4, capsize=2,
                        label=name)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(key)
        ax.set_xlabel("difference from schedule / aggregate / lever off\n"
                      "(2025Q4, 90 % paired interval)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("US strategy / China strategy")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=9)
    fig.suptitle("scenarios/strategies_2019.yaml (common random numbers, matched budgets)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)


def main(argv):
    ds = allied5g.load(argv[1])
    if not allied5g.is_crn(ds):
        warnings.warn("not a common-random-numbers run: the standard errors are unpaired")
    outs = outcomes(ds)
    print(means_table(ds, outs))
    print()
    print(contrasts_table(ds, outs))
    if len(argv) > 2:
        figure(ds, outs, argv[2])


if __name__ == "__main__":
    main(sys.argv)
