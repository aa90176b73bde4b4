#!/usr/bin/env bash
# Installs exactly the Debian 12 packages bbmd needs to build, test and run its demo. Idempotent.
set -euo pipefail

packages=(
  build-essential cmake pkg-config          # toolchain
  libpq-dev                                  # libpq
  libboost1.81-dev                           # Asio + Beast (1.74 cannot build C++20 coroutines with g++ 12)
  nlohmann-json3-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev
  libyaml-cpp-dev libcli11-dev libsystemd-dev
  catch2                                     # unit/integration tests (v2)
  postgresql-15 postgresql-client-15 postgresql-common   # throwaway servers for tests and demo
  curl procps                                # demo and tests read /metrics and manage processes
)

missing=()
for p in "${packages[@]}"; do
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
