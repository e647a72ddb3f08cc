#!/usr/bin/env bash
# Builds the fuzz harnesses (tests/fuzz/build.sh), replays every seed and regression input, then
# fuzzes each harness for a few seconds. Fails on any crash, leak, sanitizer report, timeout or
# broken invariant. The seed corpus in the repository is not modified: new inputs go to OUTDIR.
#
# Usage: tests/fuzz/smoke.sh [OUTDIR]   (default build/fuzz)
# Environment: FUZZ_SECONDS (default 3) per harness; 0 only replays.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-build/fuzz}
seconds=${FUZZ_SECONDS:-3}
tests/fuzz/build.sh "$out"

# A single allocation above 32 MiB means an input-controlled size reached malloc.
common=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=32 -print_final_stats=0)
status=0
for exe in "$out"/fuzz_*; do
  [[ -x $exe && -f $exe ]] || continue
  name=${exe##*/fuzz_}
  dirs=()
  for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do
    [[ -d $d ]] && dirs+=("$d")
  done
  mkdir -p "$out/artifacts/$name" "$out/corpus/$name"
  log="$out/artifacts/$name/last.log"
  prefix=(-artifact_prefix="$out/artifacts/$name/")
  # Replay first, so that a known input that fails again is reported as such.
  if ! nice "$exe" "${common[@]}" "${prefix[@]}" -runs=0 "${dirs[@]}" >"$log" 2>&1; then
    echo "FAIL $name: a seed or regression input fails (log: $log)"
    tail -n 30 "$log"
    status=1
    continue
  fi
  if ((seconds > 0)) && ! nice "$exe" "${common[@]}" "${prefix[@]}" -max_total_time="$seconds" \
      "$out/corpus/$name" "${dirs[@]}" >"$log" 2>&1; then
    echo "FAIL $name: fuzzing found a crash (log: $log; input in $out/artifacts/$name/)"
    tail -n 30 "$log"
    status=1
    continue
  fi
  echo "ok   $name ($(find "${dirs[@]}" -type f | wc -l) inputs replayed, fuzzed ${seconds}s)"
done
exit $status
