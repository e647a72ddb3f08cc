#!/usr/bin/env bash
# Long fuzzing run: every harness of tests/fuzz, one after the other, until RUNS executions each,
# then a table of executions, crashes and corpus size. A crash does not end a harness's run: the
# input is kept and fuzzing resumes until RUNS executions are done (at most MAX_CRASHES crashes).
#
# Usage: bench/fuzz/run.sh [OUTDIR]   (default build/fuzz-bench; harnesses are built there)
# Environment: RUNS (default 10000000), MAX_SECONDS per harness (default 0 = no limit),
#              MAX_CRASHES (default 5), HARNESSES (default: all, e.g. "url config").
# New corpus entries and crash inputs stay in OUTDIR/corpus/<harness> and OUTDIR/artifacts/<harness>.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-build/fuzz-bench}
runs=${RUNS:-10000000}
max_seconds=${MAX_SECONDS:-0}
max_crashes=${MAX_CRASHES:-5}
tests/fuzz/build.sh "$out" >/dev/null

names=${HARNESSES:-$(cd "$out" && ls fuzz_* | sed 's/^fuzz_//')}
rows=()
for name in $names; do
  exe="$out/fuzz_$name"
  corpus="$out/corpus/$name"
  artifacts="$out/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  dirs=()
  for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do
    [[ -d $d ]] && dirs+=("$d")
  done
  done_runs=0
  crashes=0
  start=$(date +%s)
  while ((done_runs < runs)); do
    limit=()
    if ((max_seconds > 0)); then
      left=$((max_seconds - ($(date +%s) - start)))
      ((left > 0)) || break
      limit=(-max_total_time="$left")
    fi
    log="$artifacts/run-$crashes.log"
    rc=0
    nice -n 10 "$exe" -runs=$((runs - done_runs)) "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=32 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    done_runs=$((done_runs + ${executed:-0}))
    if ((rc == 0)); then
      break
    fi
    crashes=$((crashes + 1))
    echo "$name: crash $crashes, see $log" >&2
    ((crashes < max_crashes)) || break
  done
  seconds=$(($(date +%s) - start))
  rows+=("$(printf '%-16s %12d %8d %8d %8d' "$name" "$done_runs" "$crashes" \
    "$(find "$corpus" -type f | wc -l)" "$seconds")")
  echo "${rows[-1]}" >&2
done

printf '%-16s %12s %8s %8s %8s\n' harness executions crashes corpus seconds
printf '%s\n' "${rows[@]}"
