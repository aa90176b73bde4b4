#!/usr/bin/env bash
# Installs exactly the Debian 12 packages bbmd needs to build, test and run its demo; --build only
# what compiling needs and --runtime only what the binary needs (the container image). Idempotent.
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config          # toolchain
  libpq-dev                                  # libpq
  libboost1.81-dev                           # Asio + Beast (1.74 cannot build C++20 coroutines with g++ 12)
  nlohmann-json3-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev
  libyaml-cpp-dev libcli11-dev libsystemd-dev
  help2man                                   # the man page, from `bbmd --help` (cmake/package.cmake)
  libpg-query-dev                            # PostgreSQL's parser, to split migration scripts
)
# Tests, demo and the [ops] checks on top of the build packages (the container's build stage skips them).
test_packages=(
  catch2                                     # unit/integration tests (v2)
  postgresql-15 postgresql-client-15 postgresql-common   # throwaway servers for tests and demo
  curl procps                                # demo and tests read /metrics and manage processes
  kubernetes-client yamllint                 # [ops] tests: kubectl kustomize, YAML lint
  prometheus                                 # [ops] tests: promtool and a real Prometheus scraping bbmd
  chromium                                   # [ops] tests: the status page in headless Chromium
  systemd                                    # [ops] tests: systemd-analyze verify/security
  clang libclang-rt-14-dev                   # deploy/fuzz.sh: clang 14 and its libFuzzer/ASan/UBSan runtimes
  llvm-14                                    # deploy/fuzz.sh: llvm-symbolizer, for readable crash reports
  iproute2                                   # reliability db_faults: a blackholing proxy in its own netns
  pgbouncer                                  # tests through a real PgBouncer in transaction pooling
)

# What the bbmd binary needs at run time (deploy/docker/Dockerfile's final stage); a test checks
# these cover every library bbmd links against.
runtime_packages=(
  libpq5 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libyaml-cpp0.7 libsystemd0 libpg-query1504.0
  ca-certificates                            # sslmode=verify-full against a managed PostgreSQL
)

# A command already on PATH satisfies its package: e.g. a kubectl from another source would clash
# with Debian's kubernetes-client, which ships the same file.
declare -A provided_by_command=([kubernetes-client]=kubectl)

case "${1:-}" in
  --list-runtime) echo "${runtime_packages[@]}"; exit 0 ;;
  --runtime) packages=("${runtime_packages[@]}") ;;
  --build) packages=("${build_packages[@]}") ;;
  "") packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [--build | --runtime | --list-runtime]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  cmd="${provided_by_command[$p]:-}"
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
