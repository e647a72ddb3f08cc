#!/usr/bin/env bash
# Builds every libFuzzer harness of tests/fuzz into OUTDIR (default build/fuzz), one executable
# fuzz_<parser> each, with ASan and UBSan.
#
# Debian 12 packages needed besides the project's own build dependencies (libfmt-dev,
# nlohmann-json3-dev, libssl-dev, zlib1g-dev):
#   clang-14                 the compiler (the "clang" package pulls it in)
#   libclang-common-14-dev   libFuzzer and the sanitizer runtimes (a dependency of clang-14)
#
# Usage: tests/fuzz/build.sh [OUTDIR]      environment: CXX (default clang++), JOBS (default 2)
# Objects are kept in OUTDIR/obj and rebuilt only when a source or a header it includes changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-build/fuzz}
cxx=${CXX:-$(command -v clang++-14 || command -v clang++)}
jobs=${JOBS:-2}
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iinclude -Isrc)

# harness name -> library sources it needs, then extra link flags after "--".
declare -A harness=(
  [response_parser]="src/net/response_parser.cpp"
  [cookie_jar]="src/net/cookie_jar.cpp"
  [url]="src/net/url.cpp"
  [gzip]="src/net/gzip.cpp -- -lz"
  [config]="src/engine/config.cpp"
  [run_results]="src/metrics/histogram.cpp src/metrics/run_results.cpp -- -lfmt"
  [ws_frame]="src/net/ws_frame.cpp"
  [api_request]="src/api/routes.cpp src/api/auth.cpp src/api/option_parser.cpp src/cluster/queue.cpp src/cluster/run_spec.cpp src/engine/model_text.cpp src/engine/load_model.cpp src/cluster/token.cpp src/engine/config.cpp src/metrics/threshold_parse.cpp src/metrics/run_results.cpp src/metrics/histogram.cpp -- -lfmt -lcrypto"
  [ws_handshake]="src/net/ws_handshake.cpp src/net/request_writer.cpp src/net/response_parser.cpp -- -lcrypto"
)

if ! command -v "$cxx" >/dev/null; then
  echo "build.sh: $cxx not found (apt-get install clang)" >&2
  exit 1
fi
mkdir -p "$out/obj"

# True when the object is missing or older than its source or any header recorded in its .d file.
stale() {
  local src=$1 obj=$2 dep=${2%.o}.d f
  [[ -f $obj && -f $dep ]] || return 0
  for f in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$dep"); do
    [[ -e $f && ! $f -nt $obj ]] || return 0
  done
  return 1
}

object_of() {
  local src=$1
  echo "$out/obj/$(echo "${src%.cpp}" | tr '/' '_').o"
}

# Every source once, harnesses included, compiled JOBS at a time.
sources=()
for name in "${!harness[@]}"; do
  spec=${harness[$name]}
  sources+=("tests/fuzz/fuzz_$name.cpp" ${spec%%--*})
done
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u)

running=0
failed=0
for src in "${sources[@]}"; do
  obj=$(object_of "$src")
  stale "$src" "$obj" || continue
  echo "compile $src"
  "$cxx" "${flags[@]}" -MMD -MF "${obj%.o}.d" -c "$src" -o "$obj" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
if ((failed)); then
  echo "build.sh: compilation failed" >&2
  exit 1
fi

for name in $(printf '%s\n' "${!harness[@]}" | sort); do
  spec=${harness[$name]}
  objs=("$(object_of "tests/fuzz/fuzz_$name.cpp")")
  for src in ${spec%%--*}; do objs+=("$(object_of "$src")"); done
  libs=()
  [[ $spec == *--* ]] && read -r -a libs <<<"${spec#*--}"
  exe="$out/fuzz_$name"
  relink=0
  [[ -f $exe ]] || relink=1
  for o in "${objs[@]}"; do [[ $o -nt $exe ]] && relink=1; done
  if ((relink)); then
    echo "link $exe"
    "$cxx" "${flags[@]}" "${objs[@]}" "${libs[@]}" -o "$exe"
  fi
done
echo "harnesses in $out"
