#!/usr/bin/env bash
# Sets up (installs what is missing, builds everything: library, programs, the tests and the check
# that each public header compiles alone), then runs the whole test suite.
# Only the fast unit tests: scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure --timeout 300 -j2 "$@"
