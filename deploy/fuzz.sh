#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) into ./build-fuzz and runs
# each for N seconds from its seed corpus, two at a time. Fails when any target reports a crash,
# a leak, a timeout, undefined behaviour or a broken parser contract; prints per target the runs
# executed and the result. Needs the test packages (deploy/install-deps.sh).
#   deploy/fuzz.sh [--seconds N] [target ...]      (default 20 seconds, every target)
# A failing input is kept in build-fuzz/artifacts/<target>/; replay it with
#   build-fuzz/fuzz_<target> <file>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=20
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    -*) echo "usage: $0 [--seconds N] [target ...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for header in "$root"/tests/fuzz/entries/*.hpp; do targets+=("$(basename "$header" .hpp)"); done
fi

build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j"${JOBS:-2}" >/dev/null

# Readable stack traces when the symbolizer is installed; UB stops the run like a crash.
symbolizer="$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)"
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_target() {
  local t="$1"
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  # Found inputs grow build-fuzz/corpus/<t>; the seeds in the source tree stay as written.
  "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" \
    >"$build/logs/$t.log" 2>&1 && echo 0 >"$build/logs/$t.rc" || echo $? >"$build/logs/$t.rc"
}

rm -rf "$build/logs"
mkdir -p "$build/logs"
running=0
for t in "${targets[@]}"; do
  [ -x "$build/fuzz_$t" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  if [ "$running" -ge "${JOBS:-2}" ]; then wait -n || true; running=$((running - 1)); fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=0
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  if [ "$(cat "$build/logs/$t.rc")" = 0 ]; then
    printf 'fuzz %-16s %10s runs  ok\n' "$t" "${runs:-?}"
    continue
  fi
  failed=1
  what="$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: .*|what\(\): .*' "$log" || echo "exit $(cat "$build/logs/$t.rc")")"
  artifact="$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)"
  printf 'fuzz %-16s %10s runs  FAILED: %s\n' "$t" "${runs:-?}" "$what"
  echo "  input: ${artifact:-none}; log: $log"
done
exit "$failed"
