#!/usr/bin/env bash
# The demo: installs what is missing, builds bbmd, starts a throwaway PostgreSQL, migrates a
# million rows with two batched background migrations, then a registry-shaped database
# (scenario.sh, then registry.sh), shows status and metrics, checks every row, and cleans up.
# Run as root on Debian 12: deploy/demo/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/deploy/install-deps.sh"
TARGETS=bbmd "$root/deploy/build.sh"
# pg_virtualenv creates a temporary cluster, exports PG* variables for it, runs the scenarios,
# then drops the cluster whatever happens.
exec pg_virtualenv -t -v 15 bash -c '"$1/deploy/demo/scenario.sh" "$2" && "$1/deploy/demo/registry.sh" "$2"' \
  demo "$root" "$root/build/bbmd"
