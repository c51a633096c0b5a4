"""``allied5g.run``: run a scenario from Python and get the results as a Dataset."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import xarray as xr

from .io import HDF5_OPEN_LOCK, load

#: A located message from the simulator: FILE:LINE:COL: error: ...
_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?:error|warning): ")
#: The progress line the simulator prints on a terminal (sim/cli.c).
_PROGRESS = re.compile(r"^\s*(?P<pct>[\d.]+)%\s+(?P<done>\d+)/(?P<total>\d+) runs")


class ScenarioError(ValueError):
    """The simulator refused the scenario or the options (exit status 2).

    ``messages``: every ``FILE:LINE:COL: error: ...`` line, in order (for a scenario
    given as a dict, FILE is ``<scenario>`` and the lines refer to ``yaml``, the text
    the dict was written as); ``stderr``: everything the simulator printed."""

    def __init__(self, messages: list[str], stderr: str, yaml: Optional[str] = None):
        self.messages = list(messages)
        self.stderr = stderr
        self.yaml = yaml
        super().__init__("\n".join(self.messages) or stderr.strip() or "scenario error")


class RunError(RuntimeError):
    """The simulator failed while running (exit status 1: I/O, memory, interruption);
    ``stderr`` holds what it printed, ``returncode`` its exit status."""

    def __init__(self, returncode: int, stderr: str):
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"allied5g run failed (exit status {returncode}): {stderr.strip()}")


def find_binary() -> str:
    """The allied5g executable: ``$ALLIED5G_BIN``, else ``build/allied5g`` of the
    checkout this package lives in, else ``allied5g`` on PATH."""
    env = os.environ.get("ALLIED5G_BIN")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise FileNotFoundError(f"ALLIED5G_BIN={env} is not an executable file")
        return env
    repo = Path(__file__).resolve().parents[2] / "build" / "allied5g"
    if repo.is_file() and os.access(repo, os.X_OK):
        return str(repo)
    found = shutil.which("allied5g")
    if found:
        return found
    raise FileNotFoundError(f"allied5g executable not found: not in $ALLIED5G_BIN, not at {repo}, "
                            "not on PATH (build it: bash scripts/quickstart.sh)")


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class _Bar:
    """A progress bar: an HTML <progress> element updated in place in a notebook, a
    carriage-return line on a terminal."""

    def __init__(self):
        self.handle = None
        self.notebook = _in_notebook()
        self.last = None

    def update(self, done: int, total: int, final: bool = False):
        if (done, total) == self.last and not final:
            return
        self.last = (done, total)
        text = f"{done:,}/{total:,} runs ({100 * done / max(total, 1):.0f} %)"
        if self.notebook:
            from IPython.display import HTML, display
            html = HTML(f'<progress value="{done}" max="{total}" style="width:40ex"></progress> '
                        f"allied5g: {text}")
            if self.handle is None:
                self.handle = display(html, display_id=True)
            else:
                self.handle.update(html)
        else:
            sys.stderr.write(f"\rallied5g: {text}   " + ("\n" if final else ""))
            sys.stderr.flush()


def _clean_stderr(raw: str) -> str:
    """Drop progress segments (carriage-return updates) from what the simulator printed."""
    lines = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        parts = [p for p in line.split("\r") if p.strip() and not _PROGRESS.match(p)]
        if parts:
            lines.append(parts[-1].rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def _stop(p: subprocess.Popen):
    """Ctrl-C in Python: let the simulator stop cleanly (it finishes its block), then
    make sure it is gone."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


#: The guard of one run (python3 -S -c GUARD): started first, it reads a pipe from the
#: Python process that calls run(): "T<hex path>" before the temporary directory is
#: made, "P<pid>" when the simulator starts (in its own process group), "x" once
#: run() is over and has cleaned up. End-of-file without "x" means that process died
#: (SIGTERM, SIGKILL, os._exit, a crash): the guard then stops the simulator's process
#: group (one SIGTERM, which finishes the current block; SIGKILL after 30 s) and
#: removes the temporary directory.
_GUARD = r"""
import os, shutil, signal, sys, time
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
got = b""
while True:
    try:
        b = os.read(0, 4096)
    except OSError:
        b = b""
    if not b:
        break
    got += b
lines = got.split(b"\n")
if lines[-1] != b"x":
    tmps = [bytes.fromhex(x[1:].decode()) for x in lines if x.startswith(b"T")]
    pids = [int(x[1:]) for x in lines if x.startswith(b"P") and x[1:].isdigit()]
    if tmps and not pids:
        # died between starting the simulator and naming it: find it by the
        # temporary directory on its command line (its output or scenario)
        for d in os.listdir("/proc"):
            try:
                args = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if d.isdigit() and any(a.startswith(tmps[0] + b"/") for a in args[1:]):
                pids.append(int(d))
    def alive(pg):
        try:
            os.killpg(pg, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    # One SIGTERM (a second one would stop it at once, without saving its block);
    # SIGKILL if it is still there after 30 s.
    sig, t0 = signal.SIGTERM, time.monotonic()
    while pids and alive(pids[-1]):
        if sig is not None:
            try:
                os.killpg(pids[-1], sig)
            except OSError:
                pass
            sig = None
        if time.monotonic() - t0 > 30:
            sig, t0 = signal.SIGKILL, time.monotonic()
        time.sleep(0.1)
    for t in tmps:
        shutil.rmtree(t, ignore_errors=True)
"""


def _temp_root() -> str:
    """Where the temporary directory goes: tempfile's choice (TMPDIR, TEMP, TMP, then
    /tmp, /var/tmp, /usr/tmp, the current directory), found without
    tempfile.gettempdir()'s first-call probe, which writes a file there and removes
    it: a kill in between left that file behind."""
    if tempfile.tempdir is not None:
        return tempfile.tempdir
    cands = [os.environ.get(k) for k in ("TMPDIR", "TEMP", "TMP")] + ["/tmp", "/var/tmp", "/usr/tmp"]
    try:
        cands.append(os.getcwd())
    except OSError:
        pass
    for d in cands:
        if d and os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK):
            return os.path.abspath(d)
    return tempfile.gettempdir()    # none usable: tempfile says why


class _Guard:
    """Stops the simulator and removes the temporary directory should this Python
    process die during run() (see _GUARD). mkdtemp() makes the directory, watch(pid)
    when the simulator starts; close() when run() has cleaned up itself."""

    def __init__(self):
        self.w = None
        self.tmp = None
        if not os.path.basename(sys.executable or "").startswith("python"):
            return                  # embedded (no python to start): no guard
        r, self.w = os.pipe()
        try:
            # returns once the guard runs (Popen waits for the exec)
            subprocess.Popen([sys.executable, "-S", "-c", _GUARD], stdin=r,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except OSError:
            os.close(self.w)
            self.w = None
        finally:
            os.close(r)

    def _send(self, data: bytes):
        if self.w is not None:
            try:
                os.write(self.w, data)
            except OSError:
                pass

    def mkdtemp(self) -> str:
        """A new private directory, named to the guard before it exists."""
        import secrets
        if self.w is None:
            self.tmp = tempfile.mkdtemp(prefix="allied5g-")
            return self.tmp
        while True:
            path = os.path.join(_temp_root(), f"allied5g-{secrets.token_hex(6)}")
            self._send(b"T" + os.fsencode(path).hex().encode() + b"\n")
            try:
                os.mkdir(path, 0o700)
                self.tmp = path
                return path
            except FileExistsError:
                continue

    def watch(self, pid: int):
        self._send(f"P{pid}\n".encode())

    def close(self):
        self._send(b"x")
        if self.w is not None:
            os.close(self.w)
            self.w = None


def _execute(cmd: list[str], progress: bool, guard: _Guard) -> tuple[int, str]:
    """Run cmd; returns (exit status, stderr without progress lines). With progress,
    the simulator's stderr is a pseudo-terminal, so that it prints its progress line,
    which is parsed to drive the bar. The simulator runs in its own process group,
    watched by a guard (_Guard) in case this process dies."""
    if progress:
        try:
            import pty
            master, slave = pty.openpty()
        except (ImportError, OSError):
            progress = False
    if not progress:
        # stderr into a file, not a pipe: should this process die, the simulator's
        # last messages must not kill it with SIGPIPE before it has saved its block.
        with tempfile.TemporaryFile(dir=guard.tmp) as errf:
            p = subprocess.Popen(cmd + ["--quiet"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=errf,
                                 start_new_session=True)
            guard.watch(p.pid)
            try:
                p.wait()
            except BaseException:
                _stop(p)
                raise
            errf.seek(0)
            return p.returncode, errf.read().decode("utf-8", "replace")
    bar = _Bar()
    chunks = []
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=slave, close_fds=True, start_new_session=True)
    finally:
        os.close(slave)
    guard.watch(p.pid)
    try:
        pending = ""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:          # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
            pending += data.decode("utf-8", "replace")
            segs = re.split(r"[\r\n]", pending)
            pending = segs.pop()
            for seg in reversed(segs):
                m = _PROGRESS.match(seg)
                if m:
                    bar.update(int(m["done"]), int(m["total"]))
                    break
        p.wait()
    except BaseException:
        _stop(p)
        raise
    finally:
        os.close(master)
    if bar.last and p.returncode == 0:
        bar.update(bar.last[1], bar.last[1], final=True)
    return p.returncode, _clean_stderr(b"".join(chunks).decode("utf-8", "replace"))


def run(scenario, set: Optional[Mapping[str, Any]] = None, *, replicates: Optional[int] = None,
        seed: Optional[int] = None, threads: Optional[int] = None, store: Optional[str] = None,
        out=None, force: bool = False, progress: Optional[bool] = None,
        args: Sequence[str] = (), binary: Optional[str] = None) -> xr.Dataset:
    """Run a scenario with the allied5g simulator and return its results.

    ``scenario``: a scenario file (path), a dict (the YAML's content, written to a
    temporary file that is always removed), or YAML text. ``set``: ``{PATH: VALUE}``,
    as ``--set PATH=VALUE`` (e.g. ``{"us.escalation": 0.05,
    "nations.DEU.threat": 0.7}``). ``replicates``, ``seed``, ``threads``, ``store``
    ("full" or "summary") as the command-line options; ``args``: further options.

    Without ``out``, the results file is written to a temporary directory, read into
    memory and removed with the directory: nothing is left behind. With ``out=PATH``
    it is kept there (``force=True`` replaces an existing file) and opened lazily.

    ``progress``: a progress bar (in a notebook, else on a terminal); default: on when
    running in a notebook or with stderr on a terminal.

    Raises :class:`ScenarioError` (with ``.messages``, every FILE:LINE:COL message) when
    the scenario or an option is refused, ``FileExistsError`` when ``out`` exists and
    ``force`` is false, :class:`RunError` when the run fails.
    The result is as from :func:`allied5g.load` (time axis, design coordinates).
    """
    if out is not None and not os.fspath(out):
        raise ValueError("out is an empty path; name the results file (or leave out out=)")
    exe = binary or find_binary()
    if progress is None:
        progress = _in_notebook() or sys.stderr.isatty()
    guard = _Guard()
    tmp = guard.mkdtemp()
    yaml_text = None
    try:
        if isinstance(scenario, Mapping):
            import yaml
            yaml_text = yaml.safe_dump(dict(scenario), sort_keys=False, default_flow_style=None)
        elif isinstance(scenario, str) and "\n" in scenario and not os.path.exists(scenario):
            yaml_text = scenario
        if yaml_text is not None:
            scen_path = os.path.join(tmp, "scenario.yaml")
            with open(scen_path, "w") as f:
                f.write(yaml_text)
        else:
            scen_path = os.fspath(scenario)
            if not os.path.exists(scen_path):
                raise FileNotFoundError(f"{scen_path}: no such scenario file")
        target = os.fspath(out) if out is not None else os.path.join(tmp, "results.h5")
        cmd = [exe, "run", scen_path, "-o", target]
        for k, v in (set or {}).items():
            cmd += ["--set", f"{k}={_fmt(v)}"]
        for opt, val in (("--replicates", replicates), ("--seed", seed),
                         ("--threads", threads), ("--store", store)):
            if val is not None:
                cmd += [opt, str(val)]
        if force:
            cmd.append("--force")
        cmd += [str(a) for a in args]
        rc, err = _execute(cmd, progress, guard)
        if yaml_text is not None:
            err = err.replace(scen_path, "<scenario>")
        if rc == 2:
            msgs = [ln for ln in err.splitlines() if _LOCATED.match(ln)]
            if not msgs:
                if "use --force" in err:
                    raise FileExistsError(f"{target} exists; pass force=True to replace it")
                msgs = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(" ")]
            raise ScenarioError(msgs, err, yaml_text)
        if rc != 0:
            raise RunError(rc, err)
        if out is not None:
            return load(target)
        with HDF5_OPEN_LOCK:
            ds = load(target)
            ds.load()
            ds.close()
        ds.encoding.pop("source", None)
        return ds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        guard.close()
