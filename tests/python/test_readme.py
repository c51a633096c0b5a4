"""Every Python snippet and command in README.md and docs/*.md runs as written, from the
checkout's venv (.venv, as scripts/quickstart.sh makes it), with a python3 first on
PATH that is not Debian's (a shim that fails, as a pyenv or conda python3 without
numpy would).

The documents are read when the tests run, so edits are checked as they are made.
Each document runs in order in a fresh directory laid out like a checkout after
`bash scripts/quickstart.sh` (build/allied5g, scenarios/, analysis/, .venv,
results/huawei_2019.h5), plus OUT.h5, the placeholder the docs use for a results
file:
- ```python blocks run with .venv/bin/python, in order, in one interpreter per document
  (a later block sees what an earlier one defined, as a reader's session would);
- in ```sh blocks, `build/allied5g run|validate|info` lines run (they make the files
  the snippets read) and so does every line that calls Python (python, python3,
  .venv/bin/..., jupyter, source .venv/bin/activate);
- inline `python3 ...`, `python ...` and `.venv/bin/...` commands in the text run too.
A block right after a line `<!-- test: skip -->` is left out (say why next to it).
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, SRC, TIMEOUT

DOCS = ["README.md"] + sorted(str(p.relative_to(SRC)) for p in (SRC / "docs").glob("*.md"))
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
PY_CMD = re.compile(r"^(?:\S+=\S+\s+)*(?:python3?|\S*/python3?|\S*\.venv/bin/\S+|jupyter\S*|"
                    r"source\s+\S*\.venv/bin/activate)(?:\s|$)")
A5_CMD = re.compile(r"^build/allied5g\s+(?:run|validate|info)\s")
INLINE = re.compile(r"(?<!`)`((?:python3?|\.venv/bin/[^\s`]+|/usr/bin/python3)\s[^`\n]+)`(?!`)")
# Runs a document's items in order: Python blocks exec'd in one namespace, commands
# with bash; prints the failures as a JSON list on its last line.
DRIVER = r'''
import json, subprocess, sys, traceback
plan = json.load(open(sys.argv[1]))
ns, failures = {"__name__": "__main__"}, []
for line, kind, code in plan["items"]:
    where = f"{plan['doc']}:{line}"
    if kind == "python":
        try:
            exec(compile(code, where, "exec"), ns)
        except BaseException:
            tail = "\n".join(traceback.format_exc().strip().splitlines()[-6:])
            failures.append(f"{where}: {code.rstrip()}\n--- error:\n{tail}")
    else:
        r = subprocess.run(["bash", "-c", code], capture_output=True, text=True)
        if r.returncode != 0:
            err = "\n".join(r.stderr.strip().splitlines()[-6:])
            failures.append(f"{where}: exit {r.returncode}: {code}\n--- stderr:\n{err}")
    try:
        import matplotlib.pyplot as plt
        plt.close("all")
    except Exception:
        pass
print(json.dumps(failures))
'''
SHIM = "#!/bin/sh\necho \"$0: not Debian's python3 (test shim: the docs must use .venv)\" >&2\nexit 1\n"


def snippets(text: str):
    """(line, kind, code) in document order; kind: python or sh."""
    items = []
    fenced = []
    for m in FENCE.finditer(text):
        fenced.append((m.start(), m.end()))
        line = text.count("\n", 0, m.start()) + 1
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if "<!-- test: skip" in before:
            continue
        lang, body = m["lang"].lower(), m["body"]
        if lang in ("python", "py"):
            items.append((line, "python", body))
        elif lang in ("sh", "bash", "shell", "console"):
            logical, start = "", line
            for k, raw in enumerate(body.splitlines(), 1):
                cmd = raw[2:] if lang == "console" and raw.startswith("$ ") else raw
                if not logical:
                    start = line + k
                logical += cmd
                if cmd.endswith("\\"):
                    logical = logical[:-1] + " "
                    continue
                c = logical.strip()
                logical = ""
                if A5_CMD.match(c) or PY_CMD.match(c):
                    items.append((start, "sh", c))
    for m in INLINE.finditer(text):
        if any(a <= m.start() < b for a, b in fenced):
            continue
        items.append((text.count("\n", 0, m.start()) + 1, "sh", m.group(1)))
    return sorted(items, key=lambda x: x[0])


def test_extraction():
    """The extractor finds what it should (so that an empty run cannot pass)."""
    text = ("x `python3 -m allied5g report OUT.h5 -o DIR` y\n```sh\nbuild/allied5g run a.yaml -o b.h5 \\\n"
            "   --force   # c\nbash scripts/test.sh\n.venv/bin/python -m allied5g export OUT.h5 --csv C\n```\n"
            "<!-- test: skip (needs a cluster) -->\n```python\nimport nothing\n```\n"
            "```python\nimport allied5g\n```\n")
    got = snippets(text)
    assert [(k, c.split()[0]) for _, k, c in got] == [
        ("sh", "python3"), ("sh", "build/allied5g"), ("sh", ".venv/bin/python"), ("python", "import")]
    assert "--force" in got[1][2]
    readme = snippets((SRC / "README.md").read_text())
    assert any(k == "python" for _, k, _ in readme)


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme-results")
    out = d / "huawei_2019.h5"
    subprocess.run([BIN, "run", str(SRC / "scenarios" / "huawei_2019.yaml"), "-o", str(out),
                    "--quiet"], check=True, timeout=TIMEOUT)
    return out


def checkout_like(root: Path, venv_python: Path, results: Path) -> dict:
    """A directory laid out like a checkout after scripts/quickstart.sh; returns the env."""
    w = root / "w"
    (w / "build").mkdir(parents=True)
    os.symlink(BIN, w / "build" / "allied5g")
    for d in ("scenarios", "analysis", "docs", "bench"):
        if (SRC / d).exists():
            os.symlink(SRC / d, w / d)
    os.symlink(venv_python.parent.parent, w / ".venv")
    (w / "results").mkdir()
    shutil.copy(results, w / "results" / "huawei_2019.h5")
    shutil.copy(results, w / "OUT.h5")
    shim = root / "shim"
    shim.mkdir()
    for name in ("python3", "python"):
        (shim / name).write_text(SHIM)
        (shim / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=f"{shim}:{os.environ.get('PATH', '/usr/bin:/bin')}", MPLBACKEND="Agg",
               ALLIED5G_BIN=BIN, PYDEVD_DISABLE_FILE_VALIDATION="1")
    return {"cwd": w, "env": env}


@pytest.mark.parametrize("doc", DOCS)
def test_doc_snippets_run(doc, tmp_path, venv_python, default_results):
    items = snippets((SRC / doc).read_text())
    if not items:
        pytest.skip(f"{doc}: no Python snippets or commands")
    where = checkout_like(tmp_path, venv_python, default_results)
    w, env = where["cwd"], where["env"]
    # The shim really is first: python3 fails, the venv's python works.
    assert subprocess.run(["python3", "-c", "pass"], env=env, capture_output=True).returncode == 1
    # One interpreter per document, as a reader follows it: the Python blocks share
    # one namespace, in order, and the commands run between them where they stand.
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"doc": doc, "items": items}))
    try:
        r = subprocess.run([str(w / ".venv" / "bin" / "python"), str(driver), str(plan)], cwd=w,
                           env=env, capture_output=True, text=True,
                           timeout=TIMEOUT * max(1, len(items)))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{doc}: timed out")
    failures = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else [r.stderr]
    assert not failures, "\n\n".join(failures)
