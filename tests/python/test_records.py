"""output.record (issue 24, item 5): per-step records of what the actors did (US
pressure, China's retaliation, the lever's status, whom each strategy aimed at), in
either store; checked against the model's rules step by step, and shown not to change
any other result."""
import sys

import numpy as np
import pytest
import xarray as xr

from conftest import FIVE_NATIONS, SRC, kill_with_checkpoint, run, same_data

WORLD = """steps: 10
replicates: 60
seed: 9
""" + FIVE_NATIONS
ALL = "[us_pressure, intel_status, china_retaliation, us_target, china_target]"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def phi(pol, psi):
    return np.where(pol == 0, 0.0, np.where(pol == 1, psi, 1.0))


def test_records_in_a_summary_file_change_nothing_else(tmp_path):
    base = WORLD + "us: {budget: 0.3, strategy: pivotal}\nchina: {strategy: deterrent, budget: 1}\n"
    a = write(tmp_path, "a.yaml", base + "output: {store: summary}\n")
    b = write(tmp_path, "b.yaml", base + f"output: {{store: summary, record: {ALL}}}\n")
    run("run", a, "-o", tmp_path / "a.h5", "--quiet")
    r = run("run", b, "-o", tmp_path / "b.h5", "--quiet")
    assert "intel_status" in r.stderr and "0 throughout" in r.stderr    # the lever is off
    with xr.open_dataset(tmp_path / "a.h5") as x, xr.open_dataset(tmp_path / "b.h5") as y:
        new = {"us_pressure", "intel_status", "china_retaliation", "us_target", "china_target"}
        assert set(y.data_vars) - set(x.data_vars) == new
        for v in new:
            assert y[v].dims == ("point", "replicate", "time", "nation"), v
        for v in x.data_vars:
            np.testing.assert_array_equal(x[v].values, y[v].values, err_msg=v)
        assert y.us_target.attrs["flag_meanings"] == "no yes"
        assert list(y.china_target.attrs["flag_values"]) == [0, 1]


def test_plain_model_retaliation_by_hand(tmp_path):
    """aggregate: R_i(k) = R(t) = R0 + e (n_restrict psi + n_ban) / n from the policies
    X(t), and the record is phi(K_i) R(t) at the new policy K_i; schedule and aggregate
    aim at nobody."""
    s = write(tmp_path, "s.yaml", WORLD + "china: {retaliation: 0.3, escalation: 0.8}\n"
              "policy: {restrict_compliance: 0.4}\n"
              "output: {record: [china_retaliation, us_target, china_target]}\n")
    r = run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    assert "us_target" in r.stderr and "china_target" in r.stderr   # warned: never aimed
    with xr.open_dataset(tmp_path / "o.h5") as ds:
        pol = ds.policy.isel(point=0).values.astype(float)           # replicate, time, nation
        rec = ds.china_retaliation.isel(point=0).values
        assert not ds.us_target.values.any() and not ds.china_target.values.any()
    init = np.array([0, 0, 0, 0, 2], float)
    prev = np.concatenate([np.broadcast_to(init, (pol.shape[0], 1, 5)), pol[:, :-1]], axis=1)
    n = 5
    R = 0.3 + 0.8 * ((prev == 1).sum(-1) * 0.4 + (prev == 2).sum(-1)) / n
    want = phi(pol, 0.4) * R[..., None]
    np.testing.assert_allclose(rec, want.astype(np.float32), rtol=2e-7, atol=0)
    assert (pol[:, 1:] != pol[:, :1]).any()        # policies moved: R(t) was not constant


def test_pivotal_budget_goes_to_its_target(tmp_path):
    """pivotal: at most one target a step, which got the whole budget B (to the
    ceiling); every other nation's pressure stays; a banning nation is never aimed at."""
    s = write(tmp_path, "s.yaml", WORLD + "us: {budget: 0.15, strategy: pivotal, max_pressure: 0.9}\n"
              "output: {record: [us_target]}\n")
    run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    with xr.open_dataset(tmp_path / "o.h5") as ds:
        tg = ds.us_target.isel(point=0).values
        P = ds.us_pressure.isel(point=0).values.astype(float)
        pol = ds.policy.isel(point=0).values
    assert set(np.unique(tg)) <= {0, 1} and tg.sum(-1).max() == 1 and tg.sum() > 0
    dP = P[:, 1:] - P[:, :-1]
    t1 = tg[:, 1:].astype(bool)
    assert np.all(dP[~t1] == 0)
    np.testing.assert_allclose(dP[t1], np.minimum(0.15, 0.9 - P[:, :-1][t1]), atol=1e-6)
    assert not (t1 & (pol[:, 1:] == 2)).any()


def test_china_strategies_aim_where_the_rules_say(tmp_path):
    """targeted with named targets: exactly those; deterrent: at most one nation a
    step, never one banning at X(t), and its retaliation phi(K) (R0 + B)."""
    s = write(tmp_path, "t.yaml", WORLD + "china: {strategy: targeted, budget: 2, targets: [DEU, HUN]}\n"
              "output: {record: [china_target]}\n")
    run("run", s, "-o", tmp_path / "t.h5", "--quiet")
    with xr.open_dataset(tmp_path / "t.h5") as ds:
        assert (ds.china_target.values == np.array([0, 1, 0, 1, 0])).all()
    d = write(tmp_path, "d.yaml", WORLD + "china: {strategy: deterrent, budget: 1.5, retaliation: 0.25}\n"
              "output: {record: [china_target, china_retaliation]}\n")
    run("run", d, "-o", tmp_path / "d.h5", "--quiet")
    with xr.open_dataset(tmp_path / "d.h5") as ds:
        tg = ds.china_target.isel(point=0).values.astype(bool)
        rec = ds.china_retaliation.isel(point=0).values
        pol = ds.policy.isel(point=0).values
    assert tg.sum(-1).max() == 1 and tg.sum() > 0
    prev = np.concatenate([np.broadcast_to(np.array([0, 0, 0, 0, 2]), (pol.shape[0], 1, 5)),
                           pol[:, :-1]], axis=1)
    assert not (tg & (prev == 2)).any()
    psi = 0.5                                            # policy.restrict_compliance default
    want = phi(pol, psi) * np.where(tg, 0.25 + 1.5, 0.25)
    np.testing.assert_allclose(rec, want.astype(np.float32), rtol=2e-7)


def test_record_from_set_and_python(tmp_path):
    s = write(tmp_path, "s.yaml", WORLD + "output: {store: summary}\n")
    run("run", s, "-o", tmp_path / "o.h5", "--quiet", "--set", "output.record=[china_retaliation]")
    with xr.open_dataset(tmp_path / "o.h5") as ds:
        assert "china_retaliation" in ds and "policy" not in ds
        assert "china_retaliation" in ds.attrs["scenario"]
    import allied5g
    ds = allied5g.load(tmp_path / "o.h5")
    assert "china_retaliation" in allied5g.families(ds)["steps"]
    df = allied5g.to_dataframe(ds, "steps", replicate=[0])
    assert "china_retaliation" in df and len(df) == 10 * 5
    py = allied5g.run(str(s), set={"output.record": ["us_pressure"]}, replicates=5)
    assert "us_pressure" in py and "policy" not in py


@pytest.mark.parametrize("text,want", [
    ("[china_retaliaton]", "no record 'china_retaliaton' (did you mean 'china_retaliation'?)"),
    ("[us_target, us_target]", "lists 'us_target' twice"),
    ("china_retaliation", "must be a list of names"),
])
def test_bad_records_are_located(tmp_path, text, want):
    s = write(tmp_path, "s.yaml", WORLD + f"output:\n  record: {text}\n")
    r = run("run", s, "-o", tmp_path / "o.h5", "--quiet", check=False)
    assert r.returncode == 2 and f"{s}:" in r.stderr and want in r.stderr, r.stderr
    assert not (tmp_path / "o.h5").exists()


def test_records_survive_a_stop_and_resume(tmp_path):
    sys.path.insert(0, str(SRC / "bench"))
    from make_scenario import scenario
    text = scenario(nations=12, steps=20, replicates=8000, store="summary")
    text = text.replace("output: {store: summary}",
                        "output: {store: summary, record: [china_retaliation, us_pressure]}")
    assert "record" in text
    s = write(tmp_path, "s.yaml", text)
    ref = tmp_path / "ref.h5"
    run("run", s, "-o", ref, "--quiet")
    out = tmp_path / "o.h5"
    kill_with_checkpoint(s, out)
    run("run", s, "-o", out, "--quiet", "--resume")
    same_data(ref, out)
    with xr.open_dataset(out) as ds:
        assert np.isfinite(ds.china_retaliation.values).all()


def test_realised_costs_sum_what_the_records_show(tmp_path):
    """cum_retaliation = sum over steps of c_i times china_retaliation; cum_downgrade =
    sum over steps t of delta d_i while intel_status at X(t) (row t - 1) is downgraded;
    neither changes cum_cost or any other result."""
    lever = ("us: {intel_lever: {downgrade: 0.6, credibility: 0.9, lead: 1, duration: 3}}\n"
             "china: {strategy: targeted, budget: 1.5}\n")
    base = WORLD.replace("china_trade: 0.5", "china_trade: 0.5, intel: 0.7") + lever
    a = write(tmp_path, "a.yaml", base)
    b = write(tmp_path, "b.yaml", base + "output: {record: [china_retaliation, intel_status, "
              "cum_retaliation, cum_downgrade]}\n")
    run("run", a, "-o", tmp_path / "a.h5", "--quiet")
    run("run", b, "-o", tmp_path / "b.h5", "--quiet")
    with xr.open_dataset(tmp_path / "a.h5") as x, xr.open_dataset(tmp_path / "b.h5") as y:
        for v in x.data_vars:
            np.testing.assert_array_equal(x[v].values, y[v].values, err_msg=v)
        ret = y.china_retaliation.values.astype(float)
        st = y.intel_status.values
        cr, cd = y.cum_retaliation.values, y.cum_downgrade.values
        assert y.cum_retaliation.dims == ("point", "replicate", "nation")
    c = np.array([0.3, 0.5, 0.1, 0.6, 0.1])       # china_trade (FRA, USA: the default 0.1)
    np.testing.assert_allclose(cr, (ret * c).sum(2), rtol=1e-5, atol=1e-7)
    d = np.array([0.5, 0.7, 0.5, 0.5, 0.5])       # intel (the default 0.5 elsewhere)
    down = (st[:, :, :-1] == 2) * (0.6 * d)       # in force at X(t), t = 1 .. T-1
    np.testing.assert_allclose(cd, down.sum(2), rtol=1e-6, atol=1e-7)
    assert cd.max() > 0 and cr.max() > 0


def test_targets_need_a_budget(tmp_path):
    """A budget strategy with no budget aims at nobody: the target records say 0 and
    are warned about."""
    s = write(tmp_path, "s.yaml", WORLD + "us: {strategy: pivotal, budget: 0}\n"
              "china: {strategy: targeted, budget: 0, targets: [DEU]}\n"
              "output: {record: [us_target, china_target]}\n")
    r = run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    assert "output.record 'us_target' would be 0 throughout" in r.stderr
    assert "output.record 'china_target' would be 0 throughout" in r.stderr
    with xr.open_dataset(tmp_path / "o.h5") as ds:
        assert not ds.us_target.values.any() and not ds.china_target.values.any()
