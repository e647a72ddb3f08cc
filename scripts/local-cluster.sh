#!/usr/bin/env bash
# A cluster to try out on this machine: a master and N workers of the chaperon binary on
# 127.0.0.1, until Ctrl-C (or SIGTERM) stops them all. Prints how to schedule a test.
#
# Usage: scripts/local-cluster.sh [N] [BINARY] [PORT]
#   N       workers (default 2)
#   BINARY  a chaperon binary holding the load tests (default build/chaperon)
#   PORT    the master's port on 127.0.0.1 (default 7070)
# Environment: CHAPERON_CLUSTER_TOKEN (default: a random token, printed); LOG_DIR for the logs
# and results (default: a new folder under /tmp).
set -euo pipefail
n=${1:-2}
bin=${2:-build/chaperon}
port=${3:-7070}
fail() { echo "local-cluster: $*" >&2; exit 2; }
[[ $n =~ ^[0-9]+$ ]] || fail "N must be a number of workers, not '$n'"
[[ $port =~ ^[0-9]+$ ]] || fail "PORT must be a port number, not '$port'"
[[ -x $bin ]] || fail "no chaperon binary at $bin (cmake --build build --target chaperon-cli)"
bin=$(realpath "$bin")

export CHAPERON_CLUSTER_TOKEN=${CHAPERON_CLUSTER_TOKEN:-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
logs=${LOG_DIR:-$(mktemp -d /tmp/chaperon-cluster.XXXXXX)}
mkdir -p "$logs"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait || true
  echo "local-cluster: stopped; logs and results in $logs"
}
trap stop INT TERM EXIT

"$bin" master --listen "127.0.0.1:$port" --output "$logs/results.csv" >"$logs/master.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do  # the ready line, at most ~10 s
  grep -q "listening on" "$logs/master.log" && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$logs/master.log" >&2; fail "the master did not start"; }
  sleep 0.1
done
grep -q "listening on" "$logs/master.log" || fail "the master did not report its address"

for i in $(seq 1 "$n"); do
  "$bin" worker --master "127.0.0.1:$port" --name "worker-$i" >"$logs/worker-$i.log" 2>&1 &
  pids+=($!)
done

cat <<INFO
local-cluster: a master on 127.0.0.1:$port and $n workers; logs and results in $logs
  export CHAPERON_CLUSTER_TOKEN=$CHAPERON_CLUSTER_TOKEN
  $bin status --master 127.0.0.1:$port
  $bin schedule Demo.Rest --config base_url=http://127.0.0.1:8080 --master 127.0.0.1:$port
  $bin cancel --all --master 127.0.0.1:$port
(start the demo target first: build/chaperon-demo --port 8080). Ctrl-C stops them all.
INFO
tail -n +1 -f "$logs/master.log" &
pids+=($!)
wait "${pids[0]}"
