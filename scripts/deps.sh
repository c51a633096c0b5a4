#!/usr/bin/env bash
# Install the Debian 12 packages allied5g needs, only if any is missing.
# Usage: scripts/deps.sh [--dev]   (--dev adds clang and libFuzzer for the fuzz build, MPI,
# and headless Chromium with Selenium for the report's browser test)
set -euo pipefail
pkgs=(build-essential cmake pkg-config libgsl-dev libhdf5-dev hdf5-tools libyaml-dev
      libcmocka-dev librandom123-dev libcsv-dev
      python3 python3-numpy python3-h5py python3-xarray python3-netcdf4 python3-h5netcdf
      python3-pandas python3-cftime python3-matplotlib python3-scipy python3-sklearn python3-yaml
      python3-plotly python3-deap
      python3-pytest python3-pytest-xdist
      python3-venv python3-pip python3-setuptools python3-wheel
      jupyter-nbconvert python3-nbclient python3-ipykernel)
if [ "${1:-}" = "--dev" ]; then
  # the fuzz build (clang, libFuzzer) and the MPI build (OpenMPI, parallel HDF5)
  pkgs+=(clang libomp-14-dev libclang-rt-14-dev libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
         chromium chromium-driver python3-selenium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
