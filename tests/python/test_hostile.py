"""Hostile scenario files: a clear located error and exit 2, never a crash, hang or
unbounded allocation. Each run is bounded by a generous timeout against hangs; how
fast the error comes is not asserted (builds and machines differ: an MPI build spends
~0.4 s starting up, a sanitized one runs several times slower)."""
import random

import pytest

from conftest import run

NATION = "nations: [{code: A}]\n"


def laughs():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * 9) + "]")
    return "\n".join(lines) + "\n" + NATION


CASES = {
    "random-bytes": lambda: bytes(random.Random(1).getrandbits(8) for _ in range(65536)),
    "nul-bytes": lambda: b"steps: 4\n\0\0\0" + NATION.encode(),
    "alias-bomb": lambda: laughs().encode(),
    "deep-nesting": lambda: b"a: " + b"[" * 200000 + b"]" * 200000 + b"\n",
    "deep-maps": lambda: ("".join(" " * i + f"k{i}:\n" for i in range(5000)) + " " * 5000 + "v\n").encode(),
    "huge-number": lambda: ("steps: 1" + "0" * 5000 + "\n" + NATION).encode(),
    "nan": lambda: ("decision: {rationality: .NaN}\n" + NATION).encode(),
    "inf": lambda: ("us: {escalation: -.inf}\n" + NATION).encode(),
    "too-many-nations": lambda: ("nations:\n" + "".join(f"- {{code: N{i}}}\n" for i in range(100001))).encode(),
    "too-many-cells": lambda: ("steps: 32767\nnations:\n" + "".join(f"- {{code: N{i}}}\n" for i in range(400))).encode(),
    "too-many-runs": lambda: ("replicates: 1000000000\n" + NATION +
                              "sweep: {us.escalation: [" + ",".join(["0.1"] * 2000) + "]}\n").encode(),
    "grid-too-large": lambda: (NATION + "sweep:\n" + "".join(
        f"  {p}: [{','.join(['0.1'] * 40)}]\n" for p in
        ("us.escalation", "us.pressure", "china.retaliation", "china.escalation", "peers.base_tie"))).encode(),
    "binary-utf16": lambda: "steps: 4\n".encode("utf-16"),
    "empty": lambda: b"",
    "only-spaces": lambda: b"   \n\n  \n",
    "scalar-root": lambda: b"42\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile(tmp_path, name):
    p = tmp_path / f"{name}.yaml"
    p.write_bytes(CASES[name]())
    r = run("run", p, "-o", tmp_path / "out.h5", check=False, timeout=300)
    assert r.returncode == 2, r.stderr[-500:]
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{p}:") and ": error: " in first, first
    assert sorted(x.name for x in tmp_path.iterdir()) == [p.name]


def test_oversized_file(tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as f:
        f.write(b"steps: 4\n" + NATION.encode())
        f.write(b"#" * (70 << 20))
    r = run("validate", p, check=False, timeout=300)
    assert r.returncode == 2 and "limited to 64 MiB" in r.stderr
