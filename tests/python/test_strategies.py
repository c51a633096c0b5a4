"""Strategic actors (docs/model.md, "Strategic actors"; issue 20) from the command
line: strategy names as ordinary parameters (sweep, --set, events, uncertain and
designs on the numeric ones, calibrate), off by default, the intel_status record."""
import numpy as np
import pytest
import xarray as xr

from conftest import run, same_data

WORLD = """name: strat
steps: 12
replicates: 60
seed: 9
peers: {base_tie: 0.1}
nations:
  - {code: A, blocs: [x, y], influence: 2}
  - {code: B, blocs: [x], high_risk_share: 0.4}
  - {code: C, blocs: [y], intel: 0.9}
  - {code: D, policy: restrict}
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_written_out_equal_absent(tmp_path):
    plain = write(tmp_path, "a.yaml", WORLD)
    explicit = write(tmp_path, "b.yaml", WORLD.replace(
        "peers: {base_tie: 0.1}",
        "peers: {base_tie: 0.1, intel_standing: 0}\n"
        "us: {strategy: schedule, budget: 0.5, intel_lever: {downgrade: 0, credibility: 0.9}}\n"
        "china: {strategy: aggregate, budget: 3, price_response: 0.2, price_budget: 0}"))
    run("run", plain, "-o", tmp_path / "a.h5", "--quiet")
    run("run", explicit, "-o", tmp_path / "b.h5", "--quiet")
    same_data(tmp_path / "a.h5", tmp_path / "b.h5")
    with xr.open_dataset(tmp_path / "a.h5") as ds:
        assert "intel_status" not in ds


def test_sweep_over_strategy_names(tmp_path):
    sw = write(tmp_path, "sw.yaml", WORLD + "us: {budget: 0.3}\n"
               "sweep: {us.strategy: [schedule, pivotal, wavering], china.strategy: [aggregate, deterrent]}\n")
    run("run", sw, "-o", tmp_path / "sw.h5", "--quiet")
    one = write(tmp_path, "one.yaml", WORLD + "us: {budget: 0.3, strategy: pivotal}\n"
                "china: {strategy: deterrent}\n")
    run("run", one, "-o", tmp_path / "one.h5", "--quiet")
    with xr.open_dataset(tmp_path / "sw.h5") as a, xr.open_dataset(tmp_path / "one.h5") as b:
        # categorical inputs keep their names, under CF-valid names with the path
        assert list(a["us_strategy"].values) == ["schedule", "schedule", "pivotal", "pivotal",
                                                 "wavering", "wavering"]
        assert list(a["china_strategy"].values) == ["aggregate", "deterrent"] * 3
        assert a["us_strategy"].attrs["categories"] == "schedule uniform pivotal wavering"
        assert a["china_strategy"].attrs["path"] == "china.strategy"
        assert "us_strategy" in a.coords and a["us_strategy"].dims == ("point",)
        # point 3 is (pivotal, deterrent); its stream is point 3's, so compare in
        # distribution: the strategies differ from the schedule somewhere
        share = a.policy_share.values
        assert not np.array_equal(share[0], share[2])
        assert b.policy_share.shape[0] == 1


def test_set_events_uncertain_design(tmp_path):
    base = write(tmp_path, "w.yaml", WORLD)
    run("run", base, "-o", tmp_path / "s.h5", "--quiet", "--set", "us.strategy=wavering",
        "--set", "us.budget=0.4", "--set", "china.strategy=targeted", "--set", "china.budget=1")
    ev = write(tmp_path, "ev.yaml", WORLD + "us: {budget: 0}\n"
               "events: [{at: 3, set: {us.strategy: pivotal, china.strategy: deterrent}},\n"
               "         {at: 6, set: {us.strategy: schedule, china.strategy: aggregate}}]\n")
    run("run", ev, "-o", tmp_path / "ev.h5", "--quiet")
    unc = write(tmp_path, "unc.yaml", WORLD + "us: {strategy: uniform}\n"
                "uncertain: {us.budget: {dist: uniform, lo: 0, hi: 0.5},"
                " us.intel_lever.downgrade: {dist: uniform, lo: 0, hi: 1}}\n")
    run("run", unc, "-o", tmp_path / "unc.h5", "--quiet")
    with xr.open_dataset(tmp_path / "unc.h5") as ds:
        st = ds.intel_status.values
        assert set(np.unique(st)) <= {0, 1, 2} and (st == 2).any()
        assert ds.intel_status.attrs["flag_meanings"] == "none threatened downgraded"
    des = write(tmp_path, "des.yaml", WORLD + "us: {strategy: pivotal}\n"
                "design: {method: lhs, points: 4, ranges: {us.budget: [0, 0.5],"
                " peers.intel_standing: [0, 2]}}\n")
    run("run", des, "-o", tmp_path / "des.h5", "--quiet")


def test_budget_zero_event_switching_changes_nothing(tmp_path):
    """Strategies switched on and off by events with no budget: the plain model's
    bits (the strategic step's neutral form is the plain step)."""
    plain = write(tmp_path, "p.yaml", WORLD + "us: {escalation: 0}\n")
    ev = write(tmp_path, "e.yaml", WORLD + "us: {escalation: 0, budget: 0}\n"
               "events: [{at: 2, set: {us.strategy: uniform}}, {at: 5, set: {us.strategy: schedule}},"
               " {at: 7, set: {us.strategy: wavering}}]\n")
    run("run", plain, "-o", tmp_path / "p.h5", "--quiet")
    run("run", ev, "-o", tmp_path / "e.h5", "--quiet")
    same_data(tmp_path / "p.h5", tmp_path / "e.h5")


def test_bad_strategy_name(tmp_path):
    bad = write(tmp_path, "bad.yaml", WORLD + "us: {strategy: pivtal}\n")
    p = run("run", bad, "-o", tmp_path / "bad.h5", check=False)
    assert p.returncode == 2
    assert "bad.yaml:" in p.stderr and "did you mean 'pivotal'" in p.stderr
    assert not (tmp_path / "bad.h5").exists()


def test_calibrate_fits_a_strategy_budget(tmp_path):
    sc = write(tmp_path, "c.yaml", WORLD + "us: {strategy: pivotal, budget: 0.2}\n")
    obs = write(tmp_path, "obs.csv", "code,date,policy\nA,2019Q4,ban\nB,2020Q2,restrict\n")
    # (A strategy is a name: fitting one is refused, test_safety3.py.)
    run("calibrate", sc, "--observed", obs, "--fit", "us.budget=0:1", "--replicates", "20",
        "--starts", "1", "-o", tmp_path / "f.yaml", "--quiet", "--threads", "1")
    text = (tmp_path / "f.yaml").read_text()
    assert "strategy" in text
    run("run", tmp_path / "f.yaml", "-o", tmp_path / "f.h5", "--quiet")


def test_interrupted_lever_run_resumes_to_the_same_bits(tmp_path):
    """intel_status survives a checkpoint and --resume like every other record."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml

    from conftest import BIN, SRC
    sys.path.insert(0, str(SRC / "bench"))
    from make_scenario import scenario

    sc = yaml.safe_load(scenario(nations=30, steps=40, replicates=3000, store="full"))
    sc["us"] = {"strategy": "wavering", "budget": 0.3, "intel_lever": {"downgrade": 0.5}}
    s = write(tmp_path, "lev.yaml", yaml.safe_dump(sc))
    ref, out = tmp_path / "ref.h5", tmp_path / "out.h5"
    run("run", s, "-o", ref, "--quiet")
    p = subprocess.Popen([BIN, "run", str(s), "-o", str(out), "--quiet", "--threads", "1",
                          "--checkpoint", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    t0 = time.monotonic()
    while not os.path.exists(f"{out}.partial.state") and p.poll() is None:
        assert time.monotonic() - t0 < 60
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    if p.returncode == 1:  # interrupted (it may, rarely, have finished first)
        run("run", s, "-o", out, "--quiet", "--resume")
    same_data(ref, out)
    with xr.open_dataset(out) as ds:
        assert (ds.intel_status.values == 2).any()


# --- named Chinese targets (issue 24.2) ---------------------------------------------

TARGETED = WORLD.replace("seed: 9", "seed: {value: 9, common: true}") + (
    "china: {strategy: targeted, budget: 2, retaliation: 0.2}\n")


def test_named_targets_from_yaml_set_and_nation_attribute_agree(tmp_path):
    a = write(tmp_path, "a.yaml", TARGETED.replace("budget: 2,", "budget: 2, targets: [B, C],"))
    b = write(tmp_path, "b.yaml", TARGETED)
    c = write(tmp_path, "c.yaml", TARGETED.replace("{code: B, blocs: [x], high_risk_share: 0.4}",
                                                   "{code: B, blocs: [x], high_risk_share: 0.4, china_target: true}")
              .replace("{code: C, blocs: [y], intel: 0.9}", "{code: C, blocs: [y], intel: 0.9, china_target: true}"))
    run("run", a, "-o", tmp_path / "a.h5", "-q")
    run("run", b, "-o", tmp_path / "b.h5", "-q", "--set", "china.targets=[B, C]")
    run("run", c, "-o", tmp_path / "c.h5", "-q")
    run("run", b, "-o", tmp_path / "none.h5", "-q")
    same_data(tmp_path / "a.h5", tmp_path / "b.h5")
    same_data(tmp_path / "a.h5", tmp_path / "c.h5")
    with xr.open_dataset(tmp_path / "a.h5") as x, xr.open_dataset(tmp_path / "none.h5") as y:
        assert not np.array_equal(x.policy.values, y.policy.values)


def test_named_targets_by_design_and_python(tmp_path):
    import allied5g
    sw = write(tmp_path, "sw.yaml", TARGETED + "sweep: {nations.A.china_target: [false, true]}\n")
    run("run", sw, "-o", tmp_path / "sw.h5", "-q")
    one = write(tmp_path, "one.yaml", TARGETED)
    run("run", one, "-o", tmp_path / "one.h5", "-q", "--set", "china.targets=[A]")
    with xr.open_dataset(tmp_path / "sw.h5") as x, xr.open_dataset(tmp_path / "one.h5") as y:
        assert np.array_equal(x.policy.values[1], y.policy.values[0])   # CRN: same stream
        assert not np.array_equal(x.policy.values[0], x.policy.values[1])
    ds = allied5g.run(str(one), set={"china.targets": ["A"]})
    with xr.open_dataset(tmp_path / "one.h5") as y:
        assert np.array_equal(ds.policy.values, y.policy.values)


@pytest.mark.parametrize("value,where,msg", [
    ("[B, Q]", "s.yaml:11:53:", "unknown nation 'Q' in 'china.targets'"),
    ("B", "s.yaml:11:49:", "'china.targets' must be a list"),
    ("[B, [C]]", "s.yaml:11:53:", "china.targets entry"),
])
def test_bad_named_targets_are_located(tmp_path, value, where, msg):
    s = write(tmp_path, "s.yaml", TARGETED.replace("budget: 2,", f"budget: 2, targets: {value},"))
    p = run("run", s, "-o", tmp_path / "x.h5", check=False)
    assert p.returncode == 2 and where in p.stderr and msg in p.stderr, p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_named_targets_under_aggregate_warn(tmp_path):
    s = write(tmp_path, "s.yaml", WORLD + "china: {targets: [B]}\n")
    p = run("validate", s)
    assert "s.yaml:11:9: warning: 'china.targets' has no effect" in p.stderr


# --- actors that react (issue 24.4) -------------------------------------------------

REACT = TARGETED.replace("replicates: 60", "replicates: 400") + (
    "us: {strategy: uniform, budget: 0.1}\noutput: {store: full}\n")


def test_reactions_with_nothing_to_react_to_change_nothing(tmp_path):
    # China aggregate with escalation 0 retaliates with the base alone: A_i = 0, so
    # the US has nothing to react to; a US schedule with escalation 0 presses no
    # one, so China has nothing to react to. Both runs equal the ones without.
    base = REACT.replace("china: {strategy: targeted, budget: 2, retaliation: 0.2}",
                         "china: {escalation: 0}")
    a = write(tmp_path, "a.yaml", base)
    b = write(tmp_path, "b.yaml", base.replace("budget: 0.1}", "budget: 0.1, react: 1}"))
    run("run", a, "-o", tmp_path / "a.h5", "-q")
    run("run", b, "-o", tmp_path / "b.h5", "-q")
    same_data(tmp_path / "a.h5", tmp_path / "b.h5")
    base = REACT.replace("us: {strategy: uniform, budget: 0.1}", "us: {escalation: 0}")
    c = write(tmp_path, "c.yaml", base)
    d = write(tmp_path, "d.yaml", base.replace("retaliation: 0.2}", "retaliation: 0.2, react: 1}"))
    run("run", c, "-o", tmp_path / "c.h5", "-q")
    run("run", d, "-o", tmp_path / "d.h5", "-q")
    same_data(tmp_path / "c.h5", tmp_path / "d.h5")


def test_reactions_paired_on_common_random_numbers(tmp_path):
    # A US reacting in full puts its budget on the nations China retaliates
    # against: D (the one complier at the start) gets more pressure. A China
    # reacting in full spreads its budget over the nations the US pressed, away
    # from the compliers: more nations move. Both paired differences exceed 4 of
    # their standard errors, which are below the unpaired ones.
    import allied5g
    s = write(tmp_path, "s.yaml", REACT + "sweep: {us.react: [0, 1], china.react: [0, 1]}\n")
    run("run", s, "-o", tmp_path / "s.h5", "-q")
    ds = allied5g.load(str(tmp_path / "s.h5"))
    off = {"us.react": 0, "china.react": 0}
    us = allied5g.compare(ds, off, {"us.react": 1, "china.react": 0}, "us_pressure(D)")
    cn = allied5g.compare(ds, off, {"us.react": 0, "china.react": 1}, "n_moved()")
    for r in (us, cn):
        assert r["estimate"] > 4 * r["se"], r
        assert r["se_paired"] < r["se_unpaired"], r


def test_anticipation_paired_on_common_random_numbers(tmp_path):
    # Nations that look 6 steps ahead at the schedule's escalation move more than
    # myopic ones (paired, beyond 4 se); horizon 0 with a discount is the plain run.
    import allied5g
    world = WORLD.replace("seed: 9", "seed: {value: 9, common: true}").replace(
        "replicates: 60", "replicates: 400") + "us: {escalation: 0.05}\noutput: {store: full}\n"
    s = write(tmp_path, "s.yaml", world + "sweep: {decision.anticipation.horizon: [0, 6]}\n")
    run("run", s, "-o", tmp_path / "s.h5", "-q")
    ds = allied5g.load(str(tmp_path / "s.h5"))
    r = allied5g.compare(ds, 0, 1, "n_moved()")
    assert r["estimate"] > 4 * r["se"], r
    a = write(tmp_path, "a.yaml", world)
    b = write(tmp_path, "b.yaml", world + "decision: {anticipation: {discount: 0.5}}\n")
    run("run", a, "-o", tmp_path / "a.h5", "-q")
    run("run", b, "-o", tmp_path / "b.h5", "-q")
    same_data(tmp_path / "a.h5", tmp_path / "b.h5")
