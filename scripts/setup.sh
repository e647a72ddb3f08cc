#!/usr/bin/env bash
# Installs what chaperon needs on Debian 12 (only what is missing) and builds it.
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
# Usage: scripts/setup.sh [--bench] [TARGET...]
#   --bench: also installs the peers that only the benchmarks compare with (Locust)
#   no target: builds everything (library, CLI, demo target, tests) and installs the npm packages
#   of the WebSocket test peer; with targets (e.g. chaperon-cli chaperon-demo): builds only those,
#   and skips the test peer, which only the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=false
if [[ ${1:-} == --bench ]]; then
  bench=true
  shift
fi
targets=("$@")

packages=(
  build-essential cmake pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx-light wrk nodejs npm
  clang-14 libclang-common-14-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev libgrpc++-dev protobuf-compiler-grpc
)
# Only the tests use these (a real browser for the HTML report and dashboard tests, Prometheus,
# YAML for the check of the Kubernetes manifests).
if ((${#targets[@]} == 0)); then
  packages+=(chromium prometheus python3-yaml)
fi
# Only bench/scenario_vs_peers.py uses it.
if $bench; then
  packages+=(python3-locust)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian's packages on some machines: that is fine.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  ((EUID == 0)) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, each folder pinned by its lock file: the charting library that the HTML report
# embeds (every build needs it), then the test peers and the browser driver (the tests only).
npm_install() {  # folder, a module that shows it is installed
  if [[ ! -d $1/node_modules/$2 ]]; then
    echo "setup: installing the npm packages of $1"
    (cd "$1" && npm ci --no-audit --no-fund)
  fi
}
npm_install web uplot
if ((${#targets[@]} == 0)); then
  npm_install tests/peers ws
  npm_install tests/peers/s3 s3rver
  npm_install tests/peers/hdr hdr-histogram-js
  npm_install tests/browser playwright-core
fi

build_type=${CHAPERON_BUILD_TYPE:-RelWithDebInfo}
jobs=${CHAPERON_JOBS:-2}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
if ((${#targets[@]})); then
  cmake --build build -j"$jobs" --target "${targets[@]}"
else
  cmake --build build -j"$jobs"
fi
