#!/usr/bin/env bash
# The package as a user meets it: installs the build into a temporary prefix, builds the consumer
# project (tests/consumer: find_package(chaperon), chaperon_add_load_test) against that prefix,
# runs its load test against the demo target and checks every exported row and count. Then
# configures tests/consumer/subdir, which takes chaperon in with add_subdirectory.
#
# Usage: tests/consumer/run.sh [BUILD_DIR]   (default build, as scripts/setup.sh makes it)
# Environment: CHAPERON_JOBS (default 2); KEEP_CONSUMER_TMP=1 keeps the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
jobs=${CHAPERON_JOBS:-2}

tmp=$(mktemp -d /tmp/chaperon-consumer.XXXXXX)
demo_pid=""
cleanup() {
  [[ -n $demo_pid ]] && kill "$demo_pid" 2>/dev/null || true
  [[ ${KEEP_CONSUMER_TMP:-0} == 1 ]] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "consumer: FAIL: $*" >&2; exit 1; }

# What the install holds must be built first; then the package goes to a prefix of its own.
[[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target chaperon chaperon_main chaperon_cluster chaperon_api \
  chaperon-cli chaperon-demo
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/chaperon/chaperon.hpp include/chaperon/main.hpp lib/libchaperon.a \
    lib/libchaperon_main.a lib/libchaperon_cluster.a lib/libchaperon_api.a lib/cmake/chaperon/chaperonConfig.cmake \
    lib/cmake/chaperon/chaperonConfigVersion.cmake lib/cmake/chaperon/chaperonTargets.cmake; do
  [[ -f $tmp/prefix/$f ]] || fail "the install has no $f"
done
"$tmp/prefix/bin/chaperon" list | grep -qx Demo.Rest || fail "the installed chaperon lacks Demo.Rest"

# The consumer, configured against the prefix only (no path into this source tree).
cmake -S tests/consumer -B "$tmp/consumer" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
start=$SECONDS
cmake --build "$tmp/consumer" -j"$jobs"
echo "consumer: built in $((SECONDS - start)) s"

log="$tmp/demo.log"
"$build/chaperon-demo" --port 0 >"$log" 2>&1 &
demo_pid=$!
url=""
for _ in $(seq 1 100); do  # bounded wait for the ready line (at most ~10 s)
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" || true)
  [[ -n $url ]] && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$log"; fail "the demo target did not start"; }
  sleep 0.1
done
[[ -n $url ]] || fail "the demo target did not report its address"

csv="$tmp/results.csv"
timeout 120 "$tmp/consumer/consumer_load_test" run Consumer.Smoke --no-progress \
  --config "base_url=$url" --config rounds=2 --output "$csv" ||
  fail "the consumer's load test failed (status $?)"
[[ -f $csv ]] || fail "no results at $csv"

# 3 sessions x 2 rounds; init, the missing page and teardown once per session.
expected=(
  "post($url/login),3"
  "post($url/api/messages),6"
  "get($url/api/messages),6"
  "get($url/account),6"
  "get($url/status/404),3"
  "Error HTTP 404 get($url/status/404),3"
  "post($url/logout),3"
)
# Rows: " <metric>,<count>,..." (leading space, as Chaperon writes them).
rows=$(tail -n +2 "$csv" | cut -d, -f1,2 | sed 's/^ //')
for row in "${expected[@]}"; do
  grep -qxF -- "$row" <<<"$rows" || {
    echo "$rows" >&2
    fail "expected the row '$row' in $csv"
  }
done
ours=$(grep -cF -- "$url" <<<"$rows" || true)
((ours == ${#expected[@]})) || { echo "$rows" >&2; fail "$ours metric rows, expected ${#expected[@]}"; }
echo "consumer: find_package build ran Consumer.Smoke; all ${#expected[@]} rows and counts as expected"

# add_subdirectory: the same load test with chaperon's source tree inside the project.
cmake -S tests/consumer/subdir -B "$tmp/subdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
  fail "configuring tests/consumer/subdir (add_subdirectory) failed"
echo "consumer: add_subdirectory project configured"
