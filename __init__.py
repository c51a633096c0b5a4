"""Not the Python package: this is the allied5g checkout (the package is analysis/allied5g).

A script that sits beside a checkout directory named ``allied5g`` and runs ``import
allied5g`` would otherwise import this directory as an empty namespace package
(``module 'allied5g' has no attribute 'run'``) whenever the Python running it lacks the
package. This file makes that import load the real package when the Python has it
(installed, or on its path elsewhere), and otherwise fail with an error that says how
to fix it."""
import importlib.util as _util
import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))


def _real_package():
    """The spec of an allied5g package found without the directory holding this
    checkout, or None."""
    beside = _os.path.realpath(_os.path.dirname(_here))
    saved = _sys.path[:]
    _sys.path[:] = [p for p in saved if _os.path.realpath(p or _os.getcwd()) != beside]
    try:
        return _util.find_spec(__name__)
    finally:
        _sys.path[:] = saved


_me = _sys.modules.pop(__name__)
_spec = _real_package()
if _spec is None or _spec.origin is None or _spec.origin == _os.path.abspath(__file__):
    _sys.modules[__name__] = _me
    raise ImportError(
        f"'import allied5g' found the allied5g checkout {_here}, not the analysis package "
        f"({_here}/analysis/allied5g), which this Python ({_sys.executable}) does not have. "
        f"Run the script with {_here}/.venv/bin/python (bash {_here}/scripts/quickstart.sh "
        f"makes it), or as: PYTHONPATH={_here}/analysis /usr/bin/python3 SCRIPT.py")
_module = _util.module_from_spec(_spec)
_sys.modules[__name__] = _module   # the import statement returns what is here
_spec.loader.exec_module(_module)
