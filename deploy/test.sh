#!/usr/bin/env bash
# The test command: installs what is missing, builds bbmd with -Werror, and runs every test tier
# (unit, integration, end-to-end) against a throwaway PostgreSQL 15. Run as root on Debian 12.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
"$root/deploy/build.sh"
# pg_virtualenv starts a temporary cluster, exports PGHOST/PGPORT/PGUSER/PGPASSWORD for the tests
# (each test creates and drops its own database in it), and drops the cluster afterwards.
exec pg_virtualenv -t -v 15 -o max_connections=200 \
  ctest --test-dir "$root/build" --output-on-failure --timeout 300 -j"${JOBS:-2}"
