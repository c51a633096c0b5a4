"""The two codings of the observed data (issue 23, item 3; docs/observed-data.md,
"Two coding rules: narrow and broad") and scripts/coding_agreement.py."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import SRC, run

sys.path.insert(0, str(SRC / "scripts"))
from coding_agreement import agreement, read_obs  # noqa: E402

SC = SRC / "scenarios"
CODINGS = {"narrow": ("observed_sourced.csv", "observed_sourced_sources.csv"),
           "broad": ("observed_broad.csv", "observed_broad_sources.csv")}
YEARS = [f"{y}Q4" for y in range(2019, 2026)]
RANK = {"open": 0, "restrict": 1, "ban": 2}


def nations():
    doc = yaml.safe_load((SC / "huawei_2019.yaml").read_text())
    return sorted(n["code"] for n in doc["nations"])


@pytest.mark.parametrize("rule", CODINGS)
def test_coding_parses_with_the_simulator_and_covers_every_nation_year(rule, tmp_path):
    obs, _ = CODINGS[rule]
    p = run("forecast", SC / "huawei_2019.yaml", "--observed", SC / obs, "--replicates", 20,
            "--origin", "2024Q4")
    assert "(238 rows)" in p.stdout + p.stderr
    df = read_obs(SC / obs)
    assert len(df) == 238 and len(nations()) == 34
    assert sorted(df.code.unique()) == nations()
    assert all(sorted(g.date) == YEARS for _, g in df.groupby("code"))


@pytest.mark.parametrize("rule", CODINGS)
def test_sources_file_matches_row_for_row_with_rule_confidence_source(rule):
    obs, sources = CODINGS[rule]
    df = read_obs(SC / obs)
    s = pd.read_csv(SC / sources, dtype=str, keep_default_na=False)
    assert list(s[["code", "date", "policy"]].itertuples(index=False)) == \
        list(df.itertuples(index=False))
    assert s.confidence.isin(["high", "medium", "low"]).all()
    assert s.rule.str.startswith(rule).all()
    # a row without a cited source is an open row saying why in its notes
    nosrc = s.source == ""
    assert (s.policy[nosrc] == "open").all() and (s.notes[nosrc] != "").all()


def test_broad_rows_differ_only_by_a_sourced_act_known_at_their_date():
    narrow = pd.read_csv(SC / CODINGS["narrow"][1], dtype=str, keep_default_na=False)
    broad = pd.read_csv(SC / CODINGS["broad"][1], dtype=str, keep_default_na=False)
    # the broad rule only adds acts: never less restrictive than the narrow one
    assert (broad.policy.map(RANK) >= narrow.policy.map(RANK)).all()
    diff = broad.policy != narrow.policy
    assert (diff == (broad.rule != "broad = narrow")).all()
    d = broad[diff]
    assert d.rule.str.fullmatch(r"broad B[1-5]").all()
    assert (d.source.str.startswith("http")).all() and (d.act != "").all()
    # no hindsight: the act was adopted or announced in or before the row's year
    assert (d.act_date.str[:4].astype(int) <= d.date.str[:4].astype(int)).all()


def test_kappa_of_the_script_by_hand_and_on_the_shipped_files(tmp_path):
    a = pd.DataFrame({"code": list("ABCD"), "date": ["2019Q4"] * 4,
                      "policy": ["open", "open", "restrict", "ban"]})
    b = a.assign(policy=["open", "restrict", "restrict", "ban"])
    n, po, kappa, table = agreement(a, b)
    # po = 3/4; margins a (2,1,1)/4, b (1,2,1)/4: pe = (2+2+1)/16; kappa = (po-pe)/(1-pe)
    assert n == 4 and po == 0.75 and kappa == pytest.approx((0.75 - 5 / 16) / (11 / 16))
    assert table.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert agreement(a, a)[2] == 1.0
    with pytest.raises(ValueError, match="one coding only"):
        agreement(a, b.iloc[:3])

    script = SRC / "scripts" / "coding_agreement.py"
    narrow, broad = SC / CODINGS["narrow"][0], SC / CODINGS["broad"][0]
    out = subprocess.run([sys.executable, script, narrow, broad], capture_output=True,
                         text=True, check=True).stdout
    n, po, kappa, table = agreement(read_obs(narrow), read_obs(broad))
    assert f"rows {n}: same policy {po:.3f}" in out and f"Cohen's kappa {kappa:.3f}" in out
    # the same kappa from the cross-table, computed independently
    t = table / table.sum()
    pe = float(np.sum(t.sum(axis=0) * t.sum(axis=1)))
    assert kappa == pytest.approx((np.trace(t) - pe) / (1 - pe))
    # a row in one file only: a clear error, exit status 2
    short = tmp_path / "short.csv"
    short.write_text("code,date,policy\nUSA,2019Q4,restrict\n")
    p = subprocess.run([sys.executable, script, narrow, short], capture_output=True, text=True)
    assert p.returncode == 2 and "one coding only" in p.stderr
