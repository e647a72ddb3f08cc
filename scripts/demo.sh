#!/usr/bin/env bash
# The main job: set up, start the bundled demo target on 127.0.0.1, run the Demo.Rest load test
# against it (live progress, summary), and write the results under results/.
# Another example load test may be named first; the other arguments go to `chaperon run`:
#   scripts/demo.sh Demo.BackgroundNoise --format json --threads 1
set -euo pipefail
test_name=Demo.Rest
if [[ $# -gt 0 && $1 != -* ]]; then
  test_name=$1
  shift
fi
cd "$(dirname "$0")/.."
# Only the two programs this job runs, not the test suite.
bash scripts/setup.sh chaperon-cli chaperon-demo

log=$(mktemp)
./build/chaperon-demo --port 0 >"$log" 2>&1 &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do  # bounded wait for the ready line (at most ~10 s)
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" || true)
  [[ -n $url ]] && break
  kill -0 $demo_pid 2>/dev/null || { cat "$log"; echo "demo target failed to start" >&2; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "demo target did not report its address" >&2; exit 1; }
echo "demo target: $url"

./build/chaperon run "$test_name" --config "base_url=$url" "$@"
