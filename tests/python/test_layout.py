"""The source layout stays readable (issue 15): no file in sim/ over 1,000 lines, no
function over 150, and nothing in the repository refers to files outside the
checkout (a clone alone has to be enough)."""
import re
import subprocess

from conftest import SRC


def functions(text):
    """(first line, length) of each function body: this code base opens a function's
    body with '{' and closes it with '}', both in column 0."""
    start = None
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("{"):
            start = n
        elif line.startswith("}") and start is not None:
            yield start, n - start + 1
            start = None


def test_file_and_function_sizes():
    too_long = []
    for f in sorted((SRC / "sim").glob("*.[ch]")):
        text = f.read_text()
        lines = text.count("\n")
        if lines > 1000:
            too_long.append(f"{f.name}: {lines} lines")
        too_long += [f"{f.name}:{a}: function of {n} lines" for a, n in functions(text) if n > 150]
    assert not too_long, too_long


def test_functions_are_found():
    # The rule above must see the functions it measures (a test that cannot fail is none).
    found = list(functions((SRC / "sim" / "model.c").read_text()))
    assert len(found) > 10 and max(n for _, n in found) > 20


def test_no_links_outside_the_checkout():
    files = subprocess.run(["git", "-C", str(SRC), "ls-files"], capture_output=True, text=True)
    if files.returncode != 0:
        import pytest
        pytest.skip("not a git checkout")
    bad = []
    for name in files.stdout.split():
        if not name.endswith((".md", ".c", ".h", ".py", ".yaml", ".sh", ".txt", ".toml", ".ipynb")):
            continue
        if name == "tests/python/test_layout.py":
            continue
        text = (SRC / name).read_text(errors="replace")
        for m in re.finditer(r"\.\./shared/(?!checks/)", text):
            bad.append(f"{name}: {text[max(0, m.start() - 30):m.end() + 20]!r}")
    assert not bad, bad
