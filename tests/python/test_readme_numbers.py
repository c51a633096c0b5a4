"""The numbers README.md quotes from runs, checked against fresh runs within their
Monte Carlo error, so the narrative cannot drift from the model: edit a number and
the test compares the new one; change the model and the test says which sentence no
longer holds. The sentences are found by pattern; a sentence rewritten so that its
pattern no longer matches fails the test too (update the pattern with it).

Tolerance for a share p of R replicates quoted to two decimals: 2 Monte Carlo
standard errors (sqrt(p (1 - p) / R)) plus the rounding (0.005). Sobol indices: their
bootstrap half-width plus the rounding."""
import re

import numpy as np
import pytest

import allied5g
from allied5g.uncertainty import share_interval
from conftest import SRC, run

README = (SRC / "README.md").read_text()
TEXT = " ".join(README.split())        # sentences across line breaks
NUM = r"(\d\.\d\d)"


def quoted(pattern: str) -> list[float]:
    m = re.search(pattern, TEXT)
    assert m, f"README.md no longer says /{pattern}/: update this test with the text"
    return [float(x) for x in m.groups()]


def near(claimed: float, p: float, n: int, what: str) -> None:
    se = float(share_interval(p, n)[0])
    assert abs(claimed - p) <= 2 * se + 0.005, (
        f"README.md says {what} is {claimed}; a fresh run gives {p:.3f} (se {se:.3f})")


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    out = tmp_path_factory.mktemp("readme-numbers") / "d.h5"
    run("run", SRC / "scenarios" / "huawei_2019.yaml", "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    last = ds.policy_share.isel(point=0, time=-1).load()
    share = {o: {str(c): float(last.sel(nation=c, option=o)) for c in ds.nation.values}
             for o in ("open", "restrict", "ban")}
    return ds, share, int(ds.sizes["replicate"])


def test_default_scenario_narrative(default):
    ds, share, n = default
    assert "(1,000 replicates" in TEXT and n == 1000
    assert str(ds["date"].values[-1]) == "2025Q4" and "Run to 2025Q4" in TEXT
    # the bans: every nation named bans in most runs; the range quoted is theirs
    lo, hi = quoted(r"Canada and Australia end up banning in most runs "
                    rf"\(P\(ban\) at 2025Q4 between {NUM} and {NUM}\)")
    banners = ["EST", "LVA", "LTU", "SWE", "DNK", "NOR", "FIN", "CAN", "AUS"]
    assert "Baltic states, Sweden and the other Nordics" in TEXT
    for c in banners:
        assert share["ban"][c] > 0.5, f"{c} bans in {share['ban'][c]:.2f} of runs, not most"
    p = [share["ban"][c] for c in banners]
    near(lo, min(p), n, "the lowest P(ban) of the banning group")
    near(hi, max(p), n, "the highest P(ban) of the banning group")
    # the restrictors, and France split
    for c, v in zip(["DEU", "ITA", "ESP"],
                    quoted(rf"Germany, Italy and Spain settle on restricting .*? in most runs "
                           rf"\({NUM}, {NUM} and {NUM}\)")):
        assert share["restrict"][c] > 0.5
        near(v, share["restrict"][c], n, f"{c}'s P(restrict)")
    r, b = quoted(rf"France is split between restricting \({NUM}\) and banning \({NUM}\)")
    near(r, share["restrict"]["FRA"], n, "France's P(restrict)")
    near(b, share["ban"]["FRA"], n, "France's P(ban)")
    assert max(share[o]["FRA"] for o in share) < 0.5            # split: no majority
    # who stays open: nobody in most runs; the three likeliest, in order
    assert "No ally stays open in most runs" in TEXT
    assert max(share["open"].values()) < 0.5
    top = sorted(share["open"], key=share["open"].get, reverse=True)[:3]
    assert top == ["HUN", "SGP", "CHE"], top
    for c, v in zip(top, quoted(rf"likeliest to are Hungary \({NUM}\), Singapore \({NUM}\) "
                                rf"and Switzerland \({NUM}\)")):
        near(v, share["open"][c], n, f"{c}'s P(open)")
    # the UK
    about, v = quoted(rf"bans in about (\d+) % of runs \({NUM}\)")
    near(v, share["ban"]["GBR"], n, "the UK's P(ban)")
    assert abs(about / 100 - share["ban"]["GBR"]) <= 0.05
    # the largest Monte Carlo standard error of a share of 1,000 replicates
    (most,) = quoted(r"Monte Carlo standard error of at most (0\.\d+)")
    worst = max(float(share_interval(p, n)[0]) for o in share for p in share[o].values())
    assert worst <= most < worst + 0.001


def test_sensitivity_numbers(tmp_path):
    out = tmp_path / "sens.h5"
    run("run", SRC / "scenarios" / "sensitivity.yaml", "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    assert "576 points x 100 replicates" in TEXT
    assert ds.sizes["point"] == 576 and ds.sizes["replicate"] == 100
    fb = ds.first_ban_step.sel(nation="GBR")
    si = allied5g.sobol_indices(ds, ((fb >= 0) & (fb <= 7)).mean("replicate"))
    st = si["ST"].rename(lambda p: p.split(".")[-1])
    conf = si["ST_conf"].rename(lambda p: p.split(".")[-1])

    def ok(claimed, w, digits=0.05):
        assert abs(claimed - st[w]) <= conf[w] + digits, (
            f"README.md says ST({w}) is about {claimed}; a fresh run gives {st[w]:.3f} "
            f"+- {conf[w]:.3f}")

    (inertia,) = quoted(r"\*\*inertia\*\* weight \(ST about (\d\.\d+)\)")
    (us,) = quoted(r"\*\*US\*\* weight \(about (\d\.\d+)\)")
    lo, hi = quoted(r"peer, cost and risk weights matter less \(ST (\d\.\d+)-(\d\.\d+)\)")
    (tiny,) = quoted(r"China and home-vendor weights hardly at all \(about (\d\.\d+)\)")
    ok(inertia, "inertia")
    ok(us, "us")
    assert st.idxmax() == "inertia" and st.drop("inertia").idxmax() == "us"
    for w in ("peer", "cost", "risk"):
        assert lo - conf[w] - 0.005 <= st[w] <= hi + conf[w] + 0.005, (w, st[w])
    for w in ("china", "home"):
        ok(tiny, w, 0.005)


def test_strategies_numbers(tmp_path):
    """README's paragraph on the strategic actors, from scenarios/strategies_2019.yaml
    (common random numbers): each paired difference quoted is within 2 paired standard
    errors (plus the rounding) of a fresh run's, and each standard error quoted is that
    of the fresh run."""
    out = tmp_path / "st.h5"
    run("run", SRC / "scenarios" / "strategies_2019.yaml", "-o", out, "--quiet", "--store", "summary")
    ds = allied5g.load(out)
    assert allied5g.is_crn(ds)

    US, CN = ["schedule", "uniform", "pivotal", "wavering"], ["aggregate", "targeted", "deterrent"]

    def pt(us="schedule", cn="aggregate", lever=0.0):     # strategies by their names
        return {"us.strategy": us, "china.strategy": cn, "us.intel_lever.downgrade": lever}

    # the codes of 0.3.0 pick the same points
    assert allied5g.compare(ds, pt(), pt("wavering"), "n_ban()").equals(
        allied5g.compare(ds, {"us.strategy": 0, "china.strategy": 0,
                              "us.intel_lever.downgrade": 0.0},
                         {"us.strategy": US.index("wavering"), "china.strategy": 0,
                          "us.intel_lever.downgrade": 0.0}, "n_ban()"))

    def check(claimed, b, outcome, what, a=None, se_claimed=None, digits=0.005):
        r = allied5g.compare(ds, a or pt(), b, outcome)
        assert abs(claimed - r["estimate"]) <= 2 * r["se"] + digits, (
            f"README.md says {what} is {claimed}; a fresh run gives "
            f"{r['estimate']:.3f} (paired se {r['se']:.3f})")
        if se_claimed is not None:
            assert abs(se_claimed - r["se"]) <= 0.005 + 0.25 * r["se"], (what, r["se"])
        return r

    lever_on = float(ds["us.intel_lever.downgrade"].max())
    (d, se) = quoted(r"ends with more allies banning than today's escalation "
                     r"\(\+(\d\.\d\d), paired se (\d\.\d\d)\)")
    check(d, pt("wavering"), "n_ban()", "wavering minus schedule, allies banning", se_claimed=se)
    (d,) = quoted(r"raises the UK's and Germany's P\(ban\) by about (\d\.\d\d)")
    for c in ("GBR", "DEU"):
        check(d, pt("pivotal"), f"ban({c})", f"pivotal minus schedule, {c} P(ban)", digits=0.015)
    assert "but not the number of allies banning" in TEXT
    r = allied5g.compare(ds, pt(), pt("pivotal"), "n_ban()")
    assert r["estimate"] < 2 * r["se"], r            # not more allies banning
    (d, m) = quoted(r"turns bans into restrictions \(\u2212(\d\.\d\d) allies banning, "
                    r"\+(\d\.\d\d) not open\)")
    check(-d, pt(lever=lever_on), "n_ban()", "lever on minus off, allies banning")
    check(m, pt(lever=lever_on), "n_moved()", "lever on minus off, allies not open")
    (d, se) = quoted(r"shared among the compliers deters \(\u2212(\d\.\d\d) allies "
                     r"banning, se (\d\.\d\d)\)")
    check(-d, pt(cn="targeted"), "n_ban()", "targeted minus aggregate, allies banning",
          se_claimed=se)
    (d, se) = quoted(r"hardens the rest \(\+(\d\.\d\d), se (\d\.\d\d)\)")
    check(d, pt(cn="deterrent"), "n_ban()", "deterrent minus aggregate, allies banning",
          se_claimed=se)


def test_scenarios_readme_narrative(default):
    """scenarios/README.md says the same of the default scenario."""
    _, share, n = default
    text = " ".join((SRC / "scenarios" / "README.md").read_text().split())
    assert ("the Baltic states, Sweden, Finland, Denmark, Norway, Canada and Australia "
            "mostly ban") in text
    for c in ("EST", "LVA", "LTU", "SWE", "FIN", "DNK", "NOR", "CAN", "AUS"):
        assert share["ban"][c] > 0.5, c
    assert ("Germany, Hungary, Austria, Turkey and southern Europe mostly stay open or "
            "restrict") in text
    for c in ("DEU", "HUN", "AUT", "TUR", "ITA", "ESP", "PRT", "GRC"):
        assert share["open"][c] + share["restrict"][c] > 0.5, c
    m = re.search(r"The UK bans in about (\d+) % of runs by 2025", text)
    assert m and abs(int(m.group(1)) / 100 - share["ban"]["GBR"]) <= 0.05
