#!/usr/bin/env bash
# Configures and builds bbmd (with its tests). Used by the demo, the test command and the benchmark.
#   BUILD_DIR   build tree (default ./build)
#   TARGETS     what to build (default everything; the demo builds only bbmd)
#   BUILD_TYPE  CMake build type (default RelWithDebInfo)
#   CMAKE_EXTRA extra configure flags, e.g. -DBBMD_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DBBMD_WERROR=ON ${CMAKE_EXTRA:-} >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}" ${TARGETS:+--target $TARGETS}
