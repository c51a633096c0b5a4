"""Benchmark scenarios: N nations with random (seeded) attributes and blocs, events,
hazards and uncertain parameters, as in the issue's B1.

    /usr/bin/python3 bench/make_scenario.py --nations 30 --steps 40 --replicates 20000 > b1.yaml
"""
import argparse
import random


def scenario(nations: int, steps: int, replicates: int, store: str = "summary", seed: int = 1) -> str:
    rnd = random.Random(seed)
    blocs = ["b%d" % i for i in range(8)]
    lines = [
        f"name: bench-{nations}x{steps}",
        "start: 2019Q1",
        f"steps: {steps}",
        f"replicates: {replicates}",
        "seed: 12345",
        "decision: {rationality: 4.0, weights: {cost: 1, risk: 1, us: 1, china: 1, peer: 1, inertia: 0.5, home: 0.2}}",
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1.0}]",
        "peers: {base_tie: 0.1}",
        "defaults: {review_rate: 0.25, policy: open}",
        f"output: {{store: {store}}}",
        "nations:",
    ]
    for i in range(nations):
        mine = sorted(rnd.sample(blocs, rnd.randint(1, 3)))
        lines.append(
            f"  - {{code: N{i}, blocs: [{', '.join(mine)}], intel: {rnd.random():.3f}, "
            f"us_ties: {rnd.random():.3f}, china_trade: {rnd.random() * 0.5:.3f}, "
            f"high_risk_share: {rnd.random() * 0.6:.3f}, cost_sensitivity: {rnd.random():.3f}, "
            f"mitigation: {rnd.random():.3f}, threat: {rnd.random():.3f}, "
            f"influence: {0.5 + 2 * rnd.random():.3f}, home_vendor: {str(rnd.random() < 0.1).lower()}}}")
    lines += [
        "events:",
        f"  - {{at: {steps // 8}, set: {{risk.supply_risk: 0.2}}, add: {{nations.*.us_pressure: 0.1}}}}",
        f"  - {{at: {steps // 4}, set: {{risk.supply_risk: 0.4, us.intel_threat: 0.4}}}}",
        "  - {hazard: 0.03, add: {nations.*.threat: 0.05}}",
        "  - {hazard: 0.01, set: {us.escalation: 0.05}}",
        "uncertain:",
        "  decision.weights.risk: {dist: normal, mean: 1.0, sd: 0.25, min: 0}",
        "  decision.weights.us: {dist: normal, mean: 1.0, sd: 0.25, min: 0}",
        "  policy.restrict_compliance: {dist: uniform, lo: 0.3, hi: 0.7}",
        "  market.replace_cost: {dist: triangular, lo: 0.5, mode: 1.0, hi: 2.0}",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--nations", type=int, default=30)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--replicates", type=int, default=20000)
    ap.add_argument("--store", default="summary")
    a = ap.parse_args()
    print(scenario(a.nations, a.steps, a.replicates, a.store), end="")
