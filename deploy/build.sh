#!/usr/bin/env bash
# Configures and builds bbmd (with its tests) into ./build. Used by the demo and the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DBBMD_WERROR=ON ${CMAKE_EXTRA:-} >/dev/null
cmake --build build -j"${JOBS:-2}"
