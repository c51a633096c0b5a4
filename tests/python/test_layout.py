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


# --- no circles among sim/ files (issue 26.7) -------------------------------------------

DEFINITION = re.compile(r"^(?!static\b|typedef\b|struct\b|enum\b|extern\b)[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\(",
                        re.M)


def _code(text):
    """C text without comments, string and character literals (a name in a comment is no call)."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', '""', text)


def call_graph(sim):
    """{file: {other file: [functions of it that file calls]}} over the .c files of sim:
    a function is defined at column 0 without `static` (and without a ';' ending its
    line: that is a declaration); a call is the name followed by '(' in another file
    that does not define the name itself."""
    code = {f.name: _code(f.read_text()) for f in sorted(sim.glob("*.c"))}
    owner, defined = {}, {}
    for name, text in code.items():
        defined[name] = set()
        for m in DEFINITION.finditer(text):
            line = text[m.start():text.find("\n", m.start())]
            if line.rstrip().endswith(";"):
                continue
            owner.setdefault(m.group(1), name)
            defined[name].add(m.group(1))
        defined[name] |= set(re.findall(r"^static\b[^;=\n]*?\b([A-Za-z_]\w*)\(", text, re.M))
    graph = {}
    for name, text in code.items():
        called = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", text))
        for fn in sorted(called):
            if fn in owner and owner[fn] != name and fn not in defined[name]:
                graph.setdefault(name, {}).setdefault(owner[fn], []).append(fn)
    return graph


def circles(graph):
    """The strongly connected components of graph with more than one file (Tarjan):
    each is a set of files that import one another, directly or through each other."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            comp = set()
            while not comp or node not in comp:
                comp.add(stack.pop())
            on.difference_update(comp)
            if len(comp) > 1:
                found.append(comp)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# No circle is tolerated (issue 26.7): cli_main.c dispatches to the commands' files,
# which use cli.c; the scenario loader's timing and events files call scenario_path.c.
KNOWN_CIRCLES = []


def test_no_call_cycles_between_sim_files():
    # output* and calibrate* were split by idea so that no file calls a file that calls it.
    graph = call_graph(SRC / "sim")
    assert graph, "no calls found between sim/ files"
    bad = []
    for comp in circles(graph):
        if any(all(known(f) for f in comp) for known in KNOWN_CIRCLES):
            continue
        bad.append("; ".join(f"{a} calls {b}: {', '.join(graph[a][b][:4])}"
                             for a in sorted(comp) for b in sorted(graph.get(a, {})) if b in comp))
    assert not bad, bad


def test_call_graph_sees_calls_and_cycles(tmp_path):
    # The rule above must see the calls it judges (a test that cannot fail is none).
    graph = call_graph(SRC / "sim")
    assert "a5_output_create" in graph["cli_run.c"]["output_create.c"]
    assert "calibrate_fit.c" in graph["calibrate_check.c"]
    (tmp_path / "a.c").write_text("/* b_one() in a comment */\nint a_one(void)\n{\n    return b_one();\n}\n")
    (tmp_path / "b.c").write_text("static int helper(void) { return 1; }\n"
                                  "int b_one(void)\n{\n    return helper() + c_one();\n}\n")
    (tmp_path / "c.c").write_text("int c_one(void)\n{\n    return a_one();\n}\n")
    assert circles(call_graph(tmp_path)) == [{"a.c", "b.c", "c.c"}]
    (tmp_path / "c.c").write_text("int c_one(void)\n{\n    return 1; /* not a_one() */\n}\n")
    assert circles(call_graph(tmp_path)) == []
