#!/usr/bin/env bash
# Install what is missing, build, set up the Python environment (.venv) and its Jupyter
# kernel, and run the default scenario end to end.
#
# .venv is Debian's python3 (/usr/bin/python3, whatever python3 comes first on PATH)
# with --system-site-packages (numpy, xarray, ... from apt) and the analysis package
# installed editable, offline. Every Python command in the docs runs as
# `.venv/bin/python ...` (or after `source .venv/bin/activate`); notebooks pick the
# kernel "Python (allied5g)". A5_NO_KERNEL=1 skips registering the kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
bash scripts/deps.sh
cmake --preset release > /dev/null
cmake --build --preset release -j "$(nproc)" > /dev/null

venv_ok() {
  .venv/bin/python - "$root/analysis" 2>/dev/null <<'PY'
import sys, allied5g
sys.exit(not allied5g.__file__.startswith(sys.argv[1] + "/"))
PY
}
if ! venv_ok; then
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/python -m pip install -q --no-index --no-build-isolation -e analysis
  venv_ok || { echo "quickstart: .venv cannot import the allied5g package" >&2; exit 1; }
fi
if [ "${A5_NO_KERNEL:-0}" != 1 ]; then
  .venv/bin/python -m ipykernel install --user --name allied5g \
      --display-name "Python (allied5g)" > /dev/null 2>&1 ||
    echo "quickstart: could not register the Jupyter kernel (ipykernel install --user)" >&2
fi

out=results/huawei_2019.h5
mkdir -p results
build/allied5g run scenarios/huawei_2019.yaml -o "$out" --force
echo
echo "results: $out (summary: build/allied5g info $out)"
echo "Python:  .venv/bin/python (or: source .venv/bin/activate); Jupyter kernel: Python (allied5g)"
echo "report:  .venv/bin/python -m allied5g report $out -o report/"
