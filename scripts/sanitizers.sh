#!/usr/bin/env bash
# Builds the tests with sanitizers and runs the subsets that fit the CI time limit:
#   asan: AddressSanitizer + UndefinedBehaviorSanitizer; every unit test, and the integration
#         tests of the engine's own code paths (control flow, WebSocket sessions, load models,
#         hostile peers, signals, the original's session functions, DNS, TLS, invalid URLs)
#         -- the nginx/CLI/demo-target suites add little there and cost
#         minutes. The two latency-accuracy tests are left out: sanitizers slow the generator
#         several times, so they would measure the sanitizer, not the engine.
#   tsan: ThreadSanitizer; every unit test, and the integration tests that run several worker
#         threads at once or signal across threads (control flow, load models, nginx load with
#         two workers, WebSocket sessions, hostile peers, signals, the original's session
#         functions, DNS lookups answered from the lookup thread), again without
#         the two latency-accuracy tests, and without the streamed-huge-body test, whose RSS
#         budget TSan's shadow memory exceeds (memory bounds are the other jobs' to check).
# .ci/run runs both (all).
# Usage: scripts/sanitizers.sh [asan|tsan|all]   (default all). Assumes scripts/setup.sh ran.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CHAPERON_JOBS:-2}
which=${1:-all}

# Only the test programs and what they run (the integration tests start chaperon-demo and the
# chaperon binary): no header checks, benchmarks or install. The tests and examples compile with
# a precompiled header made with the sanitizer's own flags (cmake/pch.cmake).
build_with() {  # dir flags targets...
  local dir=$1 flags=$2
  shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer $flags" \
    -DCHAPERON_BUILD_HEADER_TESTS=OFF -DCHAPERON_BUILD_BENCH=OFF >/dev/null
  cmake --build "$dir" -j"$jobs" --target "$@"
}

if [[ $which == asan || $which == all ]]; then
  build_with build-asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    chaperon_unit_tests chaperon_integration_tests
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan --output-on-failure --timeout 300 -j2 -L unit
  ctest --test-dir build-asan --output-on-failure --timeout 300 -j2 -L integration \
    -R '^(ControlFlow|Peers/WsSession|load_models|Hostile|AbortSignal|SessionCompat|Dns|Tls|urls)' \
    -E 'load_models\.(open_model_percentiles|stall_is_visible)'
fi

if [[ $which == tsan || $which == all ]]; then
  build_with build-tsan "-fsanitize=thread" chaperon_unit_tests chaperon_integration_tests
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  ctest --test-dir build-tsan --output-on-failure --timeout 300 -j2 -L unit
  ctest --test-dir build-tsan --output-on-failure --timeout 300 -j1 -L integration \
    -R '^(ControlFlow|load_models|NginxLoad|Peers/WsSession|AbortSignal|Hostile|SessionCompat|Dns)' \
    -E 'load_models\.(open_model_percentiles|stall_is_visible)|HostilePeer\.StreamedHugeBody'
fi
