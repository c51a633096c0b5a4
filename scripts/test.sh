#!/usr/bin/env bash
# Install what is missing, then build and run every test: the release build
# (cmocka suites + pytest, warnings as errors), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer, the MPI build's suites (cmocka +
# mpirun runs compared with one-process runs), and a bounded libFuzzer run of the
# scenario loader seeded with scenarios/.
# The sanitizer and MPI builds run their cmocka suites and a subset of pytest (see
# tests/CMakeLists.txt); pytest runs in parallel (python3-pytest-xdist). No test
# asserts how long anything takes: timeouts only bound hangs. About 10 minutes on 2
# cores.
# FUZZ_SECONDS (default 30) bounds the fuzz run; 0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --dev
jobs=$(nproc)
stage() { echo "== $* (at ${SECONDS}s)"; }

stage "release build and tests"
cmake --preset release > /dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

stage "sanitizer build and tests (ASan + UBSan)"
cmake --preset sanitize > /dev/null
cmake --build --preset sanitize -j "$jobs"
ctest --preset sanitize -j "$jobs"

stage "MPI build and tests (mpirun -n 2 and -n 3, parallel HDF5)"
cmake --preset mpi > /dev/null
cmake --build --preset mpi -j "$jobs"
ctest --preset mpi -j "$jobs"

secs=${FUZZ_SECONDS:-30}
if [ "$secs" -gt 0 ]; then
  stage "fuzzing the scenario loader for ${secs}s"
  cmake --preset fuzz > /dev/null
  cmake --build --preset fuzz -j "$jobs"
  corpus=$(mktemp -d)
  cp scenarios/*.yaml "$corpus"/
  build-fuzz/fuzz_scenario -max_total_time="$secs" -max_len=8192 -timeout=2 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/ "$corpus" 2>&1 |
    grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units)|ERROR|SUMMARY" || true
  rm -rf "$corpus"
  if ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* 2>/dev/null | grep -q .; then
    echo "fuzzing found a failing input (see build-fuzz/)" >&2
    exit 1
  fi
fi
echo "all tests passed (${SECONDS}s)"
