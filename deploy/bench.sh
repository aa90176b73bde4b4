#!/usr/bin/env bash
# The benchmark command: installs what is missing, builds the benchmark and bbmd (nothing else) as a
# Release tree in ./build-bench and runs the full benchmark (tests/bench) against a throwaway
# PostgreSQL 15. It prints one line per figure, each as a ratio against a baseline measured in the
# same run on the same server, and exits non-zero if a target is missed. Run as root on Debian 12.
# Pass --quick for the CI sizes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
BUILD_DIR=build-bench BUILD_TYPE=Release TARGETS=bbmd_bench "$root/deploy/build.sh"
# A server sized for a 5,000,000-row backfill: fewer checkpoints, so both the baseline and bbmd
# measure their own work rather than checkpoint storms.
pg_virtualenv -t -v 15 -o max_connections=200 -o max_wal_size=4GB -o shared_buffers=512MB \
  "$root/build-bench/bbmd_bench" "$@"
