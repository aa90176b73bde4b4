#!/usr/bin/env bash
# The test command: installs what is missing, builds bbmd with -Werror under AddressSanitizer and
# UBSan, and runs every test tier (unit, integration, end-to-end), the reliability suite and the
# benchmark in their bounded forms against a throwaway PostgreSQL 15, then the fuzz targets for a
# short bounded time. Run as root on Debian 12.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
BUILD_DIR=build-asan CMAKE_EXTRA="-DBBMD_SANITIZE=ON" "$root/deploy/build.sh"
# Any sanitizer report fails the process that printed it (bbmd children included).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# pg_virtualenv starts a temporary cluster, exports PGHOST/PGPORT/PGUSER/PGPASSWORD for the tests
# (each test creates and drops its own database in it), and drops the cluster afterwards.
pg_virtualenv -t -v 15 -o max_connections=200 \
  ctest --test-dir "$root/build-asan" --output-on-failure --timeout 300 -j"${JOBS:-2}"
"$root/deploy/fuzz.sh" --seconds "${FUZZ_SECONDS:-15}"
