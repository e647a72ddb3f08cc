#!/usr/bin/env bash
# Long fuzzing run: every harness of tests/fuzz until RUNS executions each, JOBS harnesses at a
# time, then a table of executions, crashes, corpus size and seconds. A crash does not end a
# harness's run: the input is kept and fuzzing resumes until RUNS executions are done (at most
# MAX_CRASHES crashes). Executions add up across invocations (OUTDIR/state/<harness>): a run that
# was stopped (pkill -INT -f fuzz-bench/fuzz_) or limited by MAX_SECONDS goes on where it left
# off; delete OUTDIR/state to count from zero.
#
# Usage: bench/fuzz/run.sh [OUTDIR]   (default build/fuzz-bench; harnesses are built there)
# Environment: RUNS (default 10000000), MAX_SECONDS per harness and invocation (default 0 = no
#              limit), MAX_CRASHES (default 5), JOBS (default 1), HARNESSES (default: all, the
#              slowest first, e.g. "url config").
# New corpus entries and crash inputs stay in OUTDIR/corpus/<harness> and OUTDIR/artifacts/<harness>.
# Input length: libFuzzer grows it up to 4096 bytes, and the two slowest harnesses then spend
# most of their time on long inputs (config: many lines, each a JSON parse; cookie_jar: many
# cookies). They are capped at 512 and 1024 bytes here, which still exceeds any real config line
# and holds several cookies; the smoke run and earlier long runs cover the longer inputs.
# MAX_LEN overrides the cap of every harness (0: libFuzzer's own choice).
# Allocation stacks are not recorded (ASAN_OPTIONS malloc_context_size=0), which makes the
# allocation-heavy harnesses about 15% faster; replay a crash input with the harness alone for them.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-build/fuzz-bench}
runs=${RUNS:-10000000}
max_seconds=${MAX_SECONDS:-0}
max_crashes=${MAX_CRASHES:-5}
jobs=${JOBS:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=16}
tests/fuzz/build.sh "$out" >/dev/null
mkdir -p "$out/state"
rm -f "$out/state/stopped"

# Slowest first (executions per second measured on this project's machines), so that with JOBS>1
# the long ones start at once.
default_order="config cookie_jar run_results url response_parser ws_handshake ws_frame gzip"
names=${HARNESSES:-$default_order}

declare -A max_len_of=([config]=512 [cookie_jar]=1024)

state_get() { cat "$out/state/$1.$2" 2>/dev/null || echo 0; }
state_put() { echo "$3" >"$out/state/$1.$2"; }
# One table row, from the recorded state.
row() {
  printf '%-16s %12d %8d %8d %8d\n' "$1" "$(state_get "$1" executed)" "$(state_get "$1" crashes)" \
    "$(find "$out/corpus/$1" -type f 2>/dev/null | wc -l)" "$(state_get "$1" seconds)"
}

fuzz_one() {
  local name=$1 exe="$out/fuzz_$1" corpus="$out/corpus/$1" artifacts="$out/artifacts/$1"
  [[ -x $exe ]] || { echo "no harness $exe" >&2; return 1; }
  mkdir -p "$corpus" "$artifacts"
  local dirs=() d
  for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do
    [[ -d $d ]] && dirs+=("$d")
  done
  local done_runs crashes seconds start
  done_runs=$(state_get "$name" executed)
  crashes=$(state_get "$name" crashes)
  seconds=$(state_get "$name" seconds)
  start=$(date +%s)
  while ((done_runs < runs)); do
    local limit=() left rc=0 log executed
    if ((max_seconds > 0)); then
      left=$((max_seconds - ($(date +%s) - start)))
      ((left > 0)) || break
      limit=(-max_total_time="$left")
    fi
    local cap=${MAX_LEN:-${max_len_of[$name]:-0}}
    ((cap > 0)) && limit+=(-max_len="$cap")
    log="$artifacts/run-$crashes.log"
    # SCHED_IDLE: the fuzzers take only CPU time nothing else wants, so they can run beside
    # builds and tests (even the timing tests) without disturbing them. libFuzzer's timeout is
    # wall time, and a starved harness once "timed out" on an input that replays in 12 ms: hence
    # 60 s here (the smoke run, on a machine of its own, keeps 10 s).
    chrt --idle 0 "$exe" -runs=$((runs - done_runs)) "${limit[@]}" -timeout=60 -rss_limit_mb=2048 \
      -malloc_limit_mb=32 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "${dirs[@]}" \
      >"$log" 2>&1 || rc=$?
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    done_runs=$((done_runs + ${executed:-0}))
    state_put "$name" executed "$done_runs"
    state_put "$name" seconds $((seconds + $(date +%s) - start))
    ((rc == 0)) && break
    # Stopped from outside (SIGINT or SIGTERM to the harness: libFuzzer exits with 72 after
    # printing its stats), so not a crash: the executions so far are kept.
    if ((rc == 72 || rc >= 128)); then
      touch "$out/state/stopped"
      return 0
    fi
    crashes=$((crashes + 1))
    state_put "$name" crashes "$crashes"
    echo "$name: crash $crashes, see $log" >&2
    ((crashes < max_crashes)) || break
  done
  row "$name" >&2
}

for name in $names; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  [[ -e $out/state/stopped ]] && break
  fuzz_one "$name" &
done
wait

printf '%-16s %12s %8s %8s %8s\n' harness executions crashes corpus seconds
for name in $names; do row "$name"; done
