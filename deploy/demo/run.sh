#!/usr/bin/env bash
# The demo: installs what is missing, builds bbmd, starts a throwaway PostgreSQL, migrates a
# million rows with two batched background migrations, shows status and metrics, checks every
# row, and cleans up. Run as root on Debian 12: deploy/demo/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/deploy/install-deps.sh"
"$root/deploy/build.sh"
# pg_virtualenv creates a temporary cluster, exports PG* variables for it, runs the scenario,
# then drops the cluster whatever happens.
exec pg_virtualenv -t -v 15 "$root/deploy/demo/scenario.sh" "$root/build/bbmd"
