#!/usr/bin/env bash
# Install what is missing, build, and run the default scenario end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release > /dev/null
cmake --build --preset release -j "$(nproc)" > /dev/null
out=results/huawei_2019.h5
mkdir -p results
build/allied5g run scenarios/huawei_2019.yaml -o "$out" --force
echo
echo "results: $out (open in Python: xarray.open_dataset(\"$out\"); summary: build/allied5g info $out)"
