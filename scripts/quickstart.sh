#!/usr/bin/env bash
# Install what is missing, build, set up the Python environment (.venv) and its Jupyter
# kernel, and run the default scenario end to end.
#
# .venv is Debian's python3 (/usr/bin/python3, whatever python3 comes first on PATH)
# with --system-site-packages (numpy, xarray, ... from apt) and the analysis package
# installed editable, offline. Every Python command in the docs runs as
# `.venv/bin/python ...` (or after `source .venv/bin/activate`); notebooks pick the
# kernel "Python (allied5g)". A5_NO_KERNEL=1 skips registering the kernel. A kernel
# "allied5g" that runs another checkout's Python is replaced only after asking (on a
# terminal; A5_KERNEL=replace answers yes); otherwise this checkout's kernel is
# registered as "allied5g-<dir>-<hash>".
#
# `allied5g` is installed with `cmake --install` into $A5_PREFIX (default ~/.local):
# the binary in PREFIX/bin and the analysis package `allied5g report` and `export` run
# in PREFIX/share/allied5g/analysis. A5_PREFIX=none skips installing.
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
kernel=allied5g
if [ "${A5_NO_KERNEL:-0}" != 1 ]; then
  # the python an existing kernel "allied5g" runs ("" when there is none)
  other=$(.venv/bin/python - 2>/dev/null <<'PY' || true
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
try:
    print(KernelSpecManager().get_kernel_spec("allied5g").argv[0])
except NoSuchKernel:
    pass
PY
)
  if [ -n "$other" ] && [ "$other" != "$root/.venv/bin/python" ]; then
    answer=${A5_KERNEL:-}
    if [ -z "$answer" ] && [ -t 0 ]; then
      read -r -p "quickstart: the Jupyter kernel 'allied5g' runs $other (another checkout); point it at this one? [y/N] " answer
    fi
    case "$answer" in
      y|Y|yes|replace) ;;
      *) kernel="allied5g-$(basename "$root" | tr -c 'A-Za-z0-9_.\n-' _ | tr A-Z a-z)-$(printf %s "$root" | cksum | cut -d' ' -f1)"
         echo "quickstart: kept the kernel 'allied5g' ($other); this checkout's kernel is '$kernel'" >&2 ;;
    esac
  fi
  display="Python (allied5g)"
  [ "$kernel" = allied5g ] || display="Python (allied5g, $root)"
  .venv/bin/python -m ipykernel install --user --name "$kernel" \
      --display-name "$display" > /dev/null 2>&1 ||
    echo "quickstart: could not register the Jupyter kernel (ipykernel install --user)" >&2
fi

# allied5g on PATH: PREFIX/bin/allied5g, with its analysis package beside it
a5=build/allied5g
prefix=${A5_PREFIX:-${HOME:+$HOME/.local}}
if [ -z "$prefix" ]; then
  echo "quickstart: HOME is not set, so allied5g is not installed (A5_PREFIX=DIR installs it there)" >&2
elif [ "$prefix" != none ]; then
  cmake --install build --prefix "$prefix" > /dev/null
  if [ "$(command -v allied5g || true)" = "$prefix/bin/allied5g" ]; then
    a5=allied5g
  else
    a5="$prefix/bin/allied5g"
    echo "quickstart: installed $a5; add $prefix/bin to PATH to type just 'allied5g'" >&2
  fi
fi

out=results/huawei_2019.h5
mkdir -p results
"$a5" run scenarios/huawei_2019.yaml -o "$out" --force
echo
echo "results: $out (summary: $a5 info $out)"
echo "Python:  .venv/bin/python (or: source .venv/bin/activate); Jupyter kernel: $kernel"
echo "report:  $a5 report $out -o report/"
