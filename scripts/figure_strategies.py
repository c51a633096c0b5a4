"""Figure and table of scenarios/strategies_2019.yaml (docs/strategies.md).

Usage: /usr/bin/python3 scripts/figure_strategies.py RESULTS.h5 [FIGURE.png]

RESULTS.h5 is `allied5g run scenarios/strategies_2019.yaml --set output.store=full`.
For each design point (US strategy x China strategy x lever) it prints P(ban) at
the last step for the UK, Germany and the median over EU members (and, over the
33 allies, the mean number banning, the mean number not open and the mean sum
of US pressure at the end), each of the first three with a
90 % interval: for one nation the normal interval of a proportion
(p +/- 1.645 sqrt(p (1 - p) / R)); for the EU median, the 5 and 95 % points of
the median over 400 bootstrap resamples of the replicates (seeded).
"""
import sys

import h5py
import numpy as np

US = ["schedule", "uniform", "pivotal", "wavering"]
CN = ["aggregate", "targeted", "deterrent"]


def read(path):
    with h5py.File(path, "r") as f:
        final = f["policy"][:, :, -1, :]  # point, replicate, nation
        press = f["us_pressure"][:, :, -1, :].astype(float)
        codes = [c.decode() if isinstance(c, bytes) else str(c) for c in f["nation"][()]]
        us = f["us.strategy"][()].astype(int)
        cn = f["china.strategy"][()].astype(int)
        lever = f["us.intel_lever.downgrade"][()]
        blocs = [b.decode() if isinstance(b, bytes) else str(b) for b in f["bloc"][()]]
        member = f["bloc_member"][()]  # nation x bloc (or bloc x nation)
    if member.shape[0] != len(codes):
        member = member.T
    eu = member[:, blocs.index("eu")].astype(bool)
    return final, press, codes, us, cn, lever, eu


def summarise(final, press, codes, us, cn, lever, eu, boot=400, seed=20):
    rng = np.random.default_rng(seed)
    ban = final == 2
    R = ban.shape[1]
    rows = []
    for p in range(ban.shape[0]):
        row = {"us": US[us[p]], "china": CN[cn[p]], "lever": float(lever[p])}
        for code in ("GBR", "DEU"):
            q = ban[p, :, codes.index(code)].mean()
            h = 1.645 * np.sqrt(q * (1 - q) / R)
            row[code] = (q, max(0.0, q - h), min(1.0, q + h))
        e = ban[p][:, eu]
        med = np.median(e.mean(axis=0))
        idx = rng.integers(0, R, size=(boot, R))
        meds = np.array([np.median(e[i].mean(axis=0)) for i in idx])
        row["EU"] = (med, np.quantile(meds, 0.05), np.quantile(meds, 0.95))
        allies = [i for i, c in enumerate(codes) if c != "USA"]
        row["bans"] = ban[p][:, allies].sum(1).mean()
        row["moved"] = (final[p][:, allies] != 0).sum(1).mean()
        row["pressure"] = press[p][:, allies].sum(1).mean()
        rows.append(row)
    return rows


def table(rows):
    out = ["| US | China | lever | UK | Germany | EU median | allies banning | allies moved |"
           " US pressure |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r[k][0]:.2f} [{r[k][1]:.2f}, {r[k][2]:.2f}]" for k in ("GBR", "DEU", "EU")]
        cells += [f"{r['bans']:.1f}", f"{r['moved']:.1f}", f"{r['pressure']:.1f}"]
        out.append(f"| {r['us']} | {r['china']} | {'on' if r['lever'] > 0 else 'off'} | "
                   + " | ".join(cells) + " |")
    return "\n".join(out)


def figure(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 5), sharey=True)
    labels = [f"{u} / {c}" for u in US for c in CN]
    y = np.arange(len(labels))
    for ax, key, title in zip(axes, ("GBR", "DEU", "EU"),
                              ("United Kingdom", "Germany", "EU median")):
        for lev, off, colour, name in ((0.0, -0.15, "#0072B2", "lever off"),   # Okabe-Ito
                                       (0.5, 0.15, "#D55E00", "intelligence lever on")):
            sel = [r for r in rows if (r["lever"] > 0) == (lev > 0)]
            order = {(r["us"], r["china"]): r for r in sel}
            v = np.array([order[(u, c)][key] for u in US for c in CN])
            ax.errorbar(v[:, 0], y + off, xerr=[v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]], fmt="o",
                        color=colour, ms=4, capsize=2, label=name)
        ax.set_title(title)
        ax.set_xlabel("P(ban) at 2025Q4 (90 % interval)")
        ax.set_xlim(0, 1)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("US strategy / China strategy")
    axes[2].legend(loc="lower right", fontsize=8)
    fig.suptitle("scenarios/strategies_2019.yaml: who bans Huawei by 2025Q4, by strategy pair")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    data = read(argv[1])
    rows = summarise(*data)
    print(table(rows))
    if len(argv) > 2:
        figure(rows, argv[2])


if __name__ == "__main__":
    main(sys.argv)
