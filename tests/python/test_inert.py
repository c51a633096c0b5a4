"""Settings inert in context (issue 25.8, issue 24.2): a strategic setting that the
resolved scenario never lets act is warned about at FILE:LINE:COL, the run goes on,
and `validate` says the scenario only warns. A setting whose governor can switch
on somewhere (a design point, a draw, an event) is not warned about."""
import pytest

from conftest import run

WORLD = """name: inert
steps: 4
replicates: 5
nations:
  - {code: A}
  - {code: B, policy: restrict}
"""


def write(tmp_path, text):
    p = tmp_path / "s.yaml"
    p.write_text(WORLD + text)
    return p


# (extra YAML, [(line, col, path, words)]) : line numbers count WORLD's 6 lines
CASES = {
    "us.budget under schedule": (
        "us: {budget: 0.3, budget_growth: 0.1}\n",
        [(7, 6, "us.budget", "us.strategy is schedule everywhere"),
         (7, 19, "us.budget_growth", "us.strategy is schedule everywhere")]),
    "us.escalation under a budget strategy": (
        "us: {strategy: uniform, budget: 0.2, escalation: 0.05}\n",
        [(7, 38, "us.escalation", "never schedule")]),
    "a US strategy with budget 0": (
        "us: {strategy: pivotal, budget_growth: 0.5}\n",
        [(7, 6, "us.strategy", "us.budget is 0 everywhere: it adds no pressure"),
         (7, 25, "us.budget_growth", "us.budget is 0 everywhere")]),
    "china.budget under aggregate": (
        "china: {budget: 2}\n",
        [(7, 9, "china.budget", "aggregate everywhere")]),
    "china.escalation under targeted": (
        "china: {strategy: targeted, budget: 2, escalation: 0.5}\n",
        [(7, 40, "china.escalation", "never aggregate")]),
    "a Chinese strategy with budget 0": (
        "china: {strategy: deterrent}\n",
        [(7, 9, "china.strategy", "china.budget is 0 everywhere")]),
    "lever settings with downgrade 0": (
        "us:\n  intel_lever: {credibility: 0.9, lead: 1, duration: 2, credibility_loss: 0.2}\n",
        [(8, 17, "us.intel_lever.credibility", "downgrade is 0 everywhere"),
         (8, 35, "us.intel_lever.lead", "downgrade is 0 everywhere"),
         (8, 44, "us.intel_lever.duration", "downgrade is 0 everywhere"),
         (8, 57, "us.intel_lever.credibility_loss", "downgrade is 0 everywhere")]),
    "issue 24.3 lever settings with downgrade 0": (
        "us:\n  intel_lever: {threats_per_step: 2, credibility_gain: 0.1}\n",
        [(8, 17, "us.intel_lever.threats_per_step", "downgrade is 0 everywhere"),
         (8, 38, "us.intel_lever.credibility_gain", "downgrade is 0 everywhere")]),
    "the US's downgrade cost without a budget": (
        "us:\n  intel_lever: {downgrade: 0.5, us_cost: 1}\n",
        [(8, 33, "us.intel_lever.us_cost", "no US pressure budget anywhere")]),
    "a credibility scope that never moves": (
        "us:\n  intel_lever: {downgrade: 0.5, credibility_loss: 0, credibility_scope: nation}\n",
        [(8, 54, "us.intel_lever.credibility_scope", "credibility never moves")]),
    "reactions without a budget": (
        "us: {react: 0.5}\nchina: {strategy: targeted, budget: 0, react: 0.5}\n",
        [(7, 6, "us.react", "no US pressure budget anywhere"),
         (8, 9, "china.strategy", "china.budget is 0 everywhere"),
         (8, 40, "china.react", "no Chinese retaliation budget anywhere")]),
    "anticipation discount with horizon 0": (
        "decision: {anticipation: {discount: 0.9}}\n",
        [(7, 27, "decision.anticipation.discount", "horizon is 0 everywhere")]),
    "anticipation without the US weight": (
        "decision: {weights: {us: 0}, anticipation: {horizon: 2}}\n",
        [(7, 45, "decision.anticipation.horizon", "decision.weights.us is 0 everywhere")]),
    "price budget without a response": (
        "china: {price_budget: 1}\n",
        [(7, 9, "china.price_budget", "price_response is 0 everywhere")]),
    "price response without a budget": (
        "china: {price_response: 0.2}\n",
        [(7, 9, "china.price_response", "price_budget is 0 everywhere")]),
    "swept lever setting with the lever off": (
        "sweep: {us.intel_lever.lead: [1, 2]}\n",
        [(7, 9, "us.intel_lever.lead", "downgrade is 0 everywhere")]),
    "a value an event sets at the first step": (
        "us: {intel_threat: 0.3}\nevents: [{at: 0, set: {us.intel_threat: 0.5}}]\n",
        [(7, 6, "us.intel_threat", "the event at ")]),
    "a swept value an event sets at the first step": (
        "sweep: {us.intel_threat: [0, 0.5]}\nevents: [{at: 0, set: {us.intel_threat: 0.4}}]\n",
        [(7, 9, "us.intel_threat", "sets it at the first step, before any step reads it")]),
    "a drawn nation attribute an event sets at the first step": (
        "uncertain: {nations.A.threat: {dist: uniform, lo: 0, hi: 1}}\n"
        "events: [{at: 0, set: {nations.A.threat: 0.5}}]\n",
        [(7, 13, "nations.A.threat", "sets it at the first step")]),
    "a draw an event replaces at the first step (still moves the stream)": (
        "uncertain: {us.intel_threat: {dist: uniform, lo: 0, hi: 1}}\n"
        "events: [{at: 0, set: {us.intel_threat: 0.5}}]\n",
        [(7, 13, "us.intel_threat", "its draw still takes numbers from the random stream")]),
    "a robust design's world draw an event replaces": (
        "design: {method: robust, worlds: 2}\nlevers: {china.retaliation: [0.1, 0.9]}\n"
        "uncertain: {us.intel_threat: {dist: uniform, lo: 0, hi: 1}}\n"
        "events: [{at: 0, set: {us.intel_threat: 0.5}}]\n",
        [(9, 13, "us.intel_threat", "sets it at the first step")]),
    "a calibration fit target an event replaces": (
        "calibration: {fit: {us.intel_threat: '0:1'}}\n"
        "events: [{at: 0, set: {us.intel_threat: 0.5}}]\n",
        [(7, 21, "us.intel_threat", "sets it at the first step")]),
    "a certain hazard replaces the start value": (
        "us: {intel_threat: 0.3}\nevents: [{hazard: 1, set: {us.intel_threat: 0.5}}]\n",
        [(7, 6, "us.intel_threat", "sets it at the first step")]),
    "a governed setting whose governor an event replaces at the first step": (
        "us: {strategy: pivotal, budget: 0.5}\nevents: [{at: 0, set: {us.strategy: schedule}}]\n",
        [(7, 6, "us.strategy", "sets it at the first step"),
         (7, 25, "us.budget", "us.strategy is schedule everywhere")]),
    "event on an inert setting": (
        "events: [{at: 1, set: {china.price_budget: 1}}]\n",
        [(7, 24, "china.price_budget", "price_response is 0 everywhere")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inert_setting_is_warned_where_given(tmp_path, case):
    extra, want = CASES[case]
    s = write(tmp_path, extra)
    p = run("run", s, "-o", tmp_path / "x.h5", "-q")
    assert p.returncode == 0 and (tmp_path / "x.h5").exists()
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == len(want), p.stderr
    for line, col, path, words in want:
        hit = [ln for ln in lines if ln.startswith(f"{s}:{line}:{col}: warning: '{path}' ")]
        assert hit and words in hit[0], (p.stderr, line, col, path)
    v = run("validate", s)
    assert f"is valid, with {len(want)} warning" in v.stdout
    assert v.stderr.count(": warning: ") == len(want)


def test_set_option_is_located_on_the_command_line(tmp_path):
    s = write(tmp_path, "")
    p = run("validate", s, "--set", "steps=3", "--set", "us.budget=0.2")
    assert "--set:2:11: warning: 'us.budget' has no effect" in p.stderr


@pytest.mark.parametrize("extra", [
    # the governor switches on in some design point, by a draw or by an event
    "us: {budget: 0.3}\nsweep: {us.strategy: [schedule, wavering]}\n",
    "us: {budget: 0.3, escalation: 0.02}\nevents: [{at: 2, set: {us.strategy: uniform}}]\n",
    "us:\n  intel_lever: {lead: 1}\nuncertain: {us.intel_lever.downgrade: {dist: uniform, lo: 0, hi: 1}}\n",
    "us:\n  intel_lever: {lead: 1}\nevents: [{at: 2, set: {us.intel_lever.downgrade: 0.5}}]\n",
    "china: {price_budget: 1}\nsweep: {china.price_response: [0, 0.2]}\n",
    "us:\n  intel_lever: {downgrade: 0.5, credibility_scope: nation, us_cost: 1}\n"
    "  strategy: uniform\n  budget: 0.2\n",
    "us: {strategy: pivotal, budget: 0.2, react: 0.5}\n"
    "china: {strategy: deterrent, budget: 1, react: 0.5}\n",
    "decision: {anticipation: {horizon: 2, discount: 0.9}}\n",
    "china: {strategy: targeted, budget: 1}\n",
    "china: {strategy: aggregate, escalation: 0.5}\n",
    # an event at the first step that adds, or sets later, or is known only later
    # (a forecast from an earlier origin drops it)
    "us: {intel_threat: 0.3}\nevents: [{at: 0, add: {us.intel_threat: 0.1}}]\n",
    "us: {intel_threat: 0.3}\nevents: [{at: 1, set: {us.intel_threat: 0.5}}]\n",
    "us: {intel_threat: 0.3}\nevents: [{at: 0, known: 2019Q3, set: {us.intel_threat: 0.5}}]\n",
    "us: {intel_threat: 0.3}\nevents: [{hazard: 0.5, set: {us.intel_threat: 0.5}}]\n",
    # the sweep still reaches B, whose threat the event leaves alone
    "sweep: {nations.*.threat: [0.1, 0.5]}\nevents: [{at: 0, set: {nations.A.threat: 0.5}}]\n",
    # the defaults themselves, not given: nothing to warn about
    "",
])
def test_settings_that_can_act_are_not_warned(tmp_path, extra):
    s = write(tmp_path, extra)
    p = run("validate", s)
    assert ": warning: " not in p.stderr, p.stderr
    assert p.stdout.rstrip().endswith("is valid")


def test_value_an_event_sets_at_the_first_step_changes_nothing(tmp_path):
    """What the warning says is so: with the event at step 0, the value given for
    the start leaves every result as it was."""
    import h5py
    import numpy as np
    outs = []
    for v in (0.0, 0.9):
        s = write(tmp_path, f"us: {{intel_threat: {v}}}\n"
                            "events: [{at: 0, set: {us.intel_threat: 0.5}}]\n")
        o = tmp_path / f"o{v}.h5"
        assert run("run", s, "-o", o, "-q").returncode == 0
        with h5py.File(o) as f:
            outs.append({k: f[k][()] for k in ("policy", "cum_cost", "final_policy")})
    for k in outs[0]:
        assert np.array_equal(outs[0][k], outs[1][k]), k


def test_shipped_scenarios_do_not_warn(src):
    for name in ("huawei_2019", "huawei_2019_fitted", "huawei_2019_pre", "huawei_2019_timing",
                 "minimal", "strategies_2019", "us_escalation_sweep", "sensitivity",
                 "germany_sobol2", "robust_us", "robust_us_worlds"):
        p = run("validate", src / "scenarios" / f"{name}.yaml")
        assert ": warning: " not in p.stderr, (name, p.stderr)


def test_a_design_file_column_an_event_sets_is_warned_at_the_file(tmp_path):
    (tmp_path / "d.csv").write_text("us.intel_threat,china.retaliation\n0.1,0.2\n0.5,0.3\n")
    s = write(tmp_path, "design: {method: file, file: d.csv}\n"
                        "events: [{at: 0, set: {us.intel_threat: 0.4}}]\n")
    p = run("validate", s)
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == 1 and lines[0].startswith(f"{s}:7:30: warning: 'us.intel_threat' "), p.stderr


def test_a_design_file_column_with_no_effect_is_warned_at_the_file(tmp_path):
    """A column of the design file that can change nothing (us.budget while every
    point is schedule) is warned about, located at the file, as a sweep of it is."""
    (tmp_path / "d.csv").write_text("us.budget\n0.2\n0.4\n")
    s = write(tmp_path, "design: {method: file, file: d.csv}\n")
    p = run("validate", s)
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == 1 and lines[0].startswith(f"{s}:7:30: warning: 'us.budget' ") \
        and "schedule everywhere" in lines[0], p.stderr


@pytest.mark.parametrize("how", ["sweep", "file", "levers"])
def test_base_value_of_a_varied_strategy_counts_nowhere(tmp_path, how):
    """Varied at every point over budget strategies only, us.strategy is never
    schedule, whatever its section says: us.escalation is warned about (it was not:
    the section's schedule, which no point uses, counted)."""
    (tmp_path / "d.csv").write_text("us.strategy,us.budget\nuniform,0.2\npivotal,0.4\n")
    vary = {"sweep": "sweep: {us.strategy: [uniform, pivotal]}\nus: {escalation: 0.03, budget: 0.3}\n",
            "file": "design: {method: file, file: d.csv}\nus: {escalation: 0.03}\n",
            "levers": "levers: {us.strategy: [uniform, pivotal], us.budget: [0.2]}\n"
                      "uncertain: {nations.A.threat: {dist: uniform, lo: 0, hi: 0.5}}\n"
                      "design: {method: robust, worlds: 2}\nus: {escalation: 0.03}\n"}[how]
    p = run("validate", write(tmp_path, vary))
    assert "'us.escalation' has no effect: us.strategy is never schedule" in p.stderr, p.stderr
    both = vary.replace("[uniform, pivotal]", "[schedule, pivotal]")
    if how != "file":
        assert "us.escalation" not in run("validate", write(tmp_path, both)).stderr


def test_a_kept_record_is_warned(tmp_path):
    """output.record's us_pressure in a full store adds nothing: warned. (The
    anticipation horizon with no escalation is not: a pressure that starts above
    us.max_pressure gives X_i(k) = P_max - P_i, not 0; a review found a rule that
    said otherwise.)"""
    s = write(tmp_path, "output: {store: full, record: [us_pressure]}\n")
    assert "output.record 'us_pressure' adds nothing" in run("validate", s).stderr
    s = write(tmp_path, "output: {store: summary, record: [us_pressure]}\n")
    assert "us_pressure" not in run("validate", s).stderr
    s = write(tmp_path, "us: {escalation: 0}\ndecision: {anticipation: {horizon: 4}}\n")
    assert "anticipation" not in run("validate", s).stderr


def test_timing_terms_with_nothing_to_act_on(tmp_path):
    """attention.decay with no attention events, and windows.hazard_boost whose file
    has no window within the run, are warned about; attention.weight with an empty
    event list is refused as with none (it was accepted)."""
    s = write(tmp_path, "attention: {decay: 0.4}\n")
    assert "'attention.decay' has no effect: there are no attention events" in \
        run("validate", s).stderr
    (tmp_path / "w.csv").write_text("code,start,end,known,kind,source\n"
                                    "A,2030-03-19,2030-06-12,2019-02-22,auction,https://e.org/a\n")
    s = write(tmp_path, "windows: {file: w.csv, hazard_boost: 0.5}\n")
    assert "'windows.hazard_boost' has no effect: no window of the windows file falls " \
        "within the run" in run("validate", s).stderr
    s = write(tmp_path, "attention: {events: [], weight: 1}\n")
    r = run("validate", s, check=False)
    assert r.returncode == 2 and "'attention.weight' needs 'attention.events'" in r.stderr


def test_china_targets_in_one_place(tmp_path):
    """China's targets are given in one place: china.targets, or the nations' own
    china_target (an entry, defaults, --set); both is refused (china.targets won
    silently), and a name listed twice too. A nation's own china_target under
    aggregate everywhere changes nothing and is warned about, as china.targets is."""
    tg = "china: {strategy: targeted, budget: 2, targets: [A]}\n"
    r = run("validate", write(tmp_path, tg), "--set", "nations.A.china_target=false", check=False)
    assert r.returncode == 2 and "China's targets are given twice" in r.stderr, r.stderr
    r = run("validate", write(tmp_path, "defaults: {china_target: true}\n" + tg), check=False)
    assert r.returncode == 2 and "China's targets are given twice" in r.stderr, r.stderr
    r = run("validate", write(tmp_path, tg.replace("[A]", "[A, A]")), check=False)
    assert r.returncode == 2 and "'china.targets' names 'A' twice" in r.stderr, r.stderr
    # an empty list names no one: the nations' own stand
    assert run("validate", write(tmp_path, tg.replace("[A]", "[]")), "--set",
               "nations.A.china_target=true").returncode == 0
    p = run("validate", write(tmp_path, ""), "--set", "nations.A.china_target=true")
    assert "'nations.A.china_target' has no effect: china.strategy is aggregate" in p.stderr
    p = run("validate", write(tmp_path, "defaults: {china_target: true}\n"))
    assert p.stderr.count("'defaults.china_target' has no effect") == 1, p.stderr
    tg2 = "china: {strategy: targeted, budget: 2}\n"
    p = run("validate", write(tmp_path, tg2), "--set", "nations.A.china_target=true")
    assert "china_target" not in p.stderr


def test_common_random_numbers_with_one_point_are_warned(tmp_path):
    """seed.common (or run --crn) pairs design points: with one point it changes
    nothing and is warned about; with a sweep it is not."""
    one = write(tmp_path, "seed: {value: 3, common: true}\n")
    p = run("validate", one)
    assert f"{one}:7:" in p.stderr and "'seed.common' (seed: {common: true}, or run --crn, " \
        "which adds it as the last --set) has no effect: the scenario has one design point" \
        in p.stderr, p.stderr
    r = run("run", write(tmp_path, ""), "-o", tmp_path / "o.h5", "-q", "--crn")
    assert "has no effect: the scenario has one design point" in r.stderr, r.stderr
    sw = write(tmp_path, "seed: {value: 3, common: true}\nsweep: {us.escalation: [0.01, 0.02]}\n")
    assert "seed.common" not in run("validate", sw).stderr


@pytest.mark.parametrize("name", ["germany_lhs", "germany_morris"])
def test_exploration_designs_warn_of_their_null_input(src, name):
    """docs/exploration.md: the designs keep us.intel_threat as an input with no
    effect (the 2019Q1 event sets it), the noise floor of each method."""
    p = run("validate", src / "scenarios" / f"{name}.yaml")
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == 1 and "'us.intel_threat' has no effect: the event at" in lines[0], p.stderr
    assert "huawei_2019.yaml:" in lines[0] and f"{name}.yaml:" in lines[0]


@pytest.mark.parametrize("cmd", ["calibrate", "forecast"])
def test_fitting_a_value_an_event_replaces_is_refused(src, tmp_path, cmd):
    """--fit of a parameter the 2019Q1 event sets before any step reads it: every
    value gives the same runs, so there is nothing to fit (exit 2, nothing written)."""
    out = tmp_path / "out"
    args = [cmd, src / "scenarios" / "huawei_2019.yaml", "--observed",
            src / "scenarios" / "observed_2019_2025.csv", "--fit", "decision.weights.us=0:3",
            "--fit", "us.intel_threat=0:1", "-o" if cmd == "calibrate" else "--predictions", out]
    p = run(*args, check=False)
    assert p.returncode == 2, p.stderr
    assert "--fit:2:1: error: 'us.intel_threat' cannot be fitted: an event known from the start" \
        in p.stderr
    assert list(tmp_path.iterdir()) == []


LISTED = """name: listed
steps: 4
replicates: 5
vendors: [{name: H, price: 0.5, high_risk: true}, {name: E, price: 1}]
defaults: {threat: 0.2}
nations:
  - {code: A, threat: 0.3}
  - {code: B}
"""


@pytest.mark.parametrize("events, sets, want", [
    # a nation's entry (located at the value), --set into it (at the option)
    ("[{at: 0, set: {nations.A.threat: 0.5}}]", [], [("s.yaml:7:23:", "nations.A.threat")]),
    ("[{at: 0, set: {nations.A.threat: 0.5}}]", ["nations.A.threat=0.9"],
     [("--set:1:18:", "nations.A.threat")]),
    # a default, for the nations that do not give the attribute (B alone)
    ("[{at: 0, set: {nations.B.threat: 0.5}}]", [], [("s.yaml:5:12:", "defaults.threat")]),
    # a vendor's price in its entry
    ("[{at: 0, set: {vendors.H.price: 0.9}}]", [], [("s.yaml:4:28:", "vendors.H.price")]),
    # the default still starts B: nothing to warn about
    ("[{at: 0, set: {nations.A.threat: 0.5}}]", ["nations.A.threat=0.9", "defaults.threat=0.4"],
     [("--set:1:18:", "nations.A.threat")]),
])
def test_listed_values_an_event_replaces(tmp_path, events, sets, want):
    s = tmp_path / "s.yaml"
    s.write_text(LISTED + f"events: {events}\n")
    args = [a for kv in sets for a in ("--set", kv)]
    p = run("validate", s, *args)
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == len(want), p.stderr
    for (where, path), ln in zip(want, lines):
        assert (ln.startswith(f"{s}:" + where.split(":", 1)[1]) if where.startswith("s.yaml")
                else ln.startswith(where)), (where, ln)
        assert f"'{path}' has no effect: the event at" in ln, ln


def test_many_nations_entries_replaced_warn_once(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(LISTED.replace("  - {code: B}", "  - {code: B, threat: 0.4}\n  - {code: C, threat: 0.1}")
                 + "events: [{at: 0, set: {nations.*.threat: 0.5}}]\n")
    p = run("validate", s)
    lines = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"{s}:7:23: warning: 'nations.A.threat' has no effect")
    assert lines[0].endswith("; the same holds for 2 other nations' entries")


def test_us_pressure_no_nation_follows_is_warned(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text("name: p\nsteps: 4\nreplicates: 5\nus: {pressure: 0.4}\n"
                 "defaults: {us_pressure: 0.2}\nnations:\n  - {code: A}\n")
    p = run("validate", s)
    assert f"{s}:4:6: warning: 'us.pressure' has no effect: it only starts nations without" \
        in p.stderr


def test_us_pressure_varied_with_a_step0_event_known_later_is_accepted(tmp_path):
    """One rule for "set at the first step" (a5_sc_set_at_start): an event known
    only later is dropped by a forecast from an earlier origin, where us.pressure
    then starts the nation; so varying it is not refused (known from the start, it is)."""
    base = ("name: p\nsteps: 4\nreplicates: 5\nsweep: {us.pressure: [0.1, 0.5]}\n"
            "nations:\n  - {code: A}\n")
    s = tmp_path / "s.yaml"
    s.write_text(base + "events: [{at: 0, known: 2019Q3, set: {nations.*.us_pressure: 0.5}}]\n")
    assert run("validate", s).returncode == 0
    s.write_text(base + "events: [{at: 0, set: {nations.*.us_pressure: 0.5}}]\n")
    p = run("validate", s, check=False)
    assert p.returncode == 2 and "'us.pressure' would change nothing here" in p.stderr
