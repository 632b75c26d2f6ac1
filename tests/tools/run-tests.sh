#!/usr/bin/env bash
# make test: runs lib's tests and the tests of stages 1..STAGE from one build.
#   run-tests.sh BUILD_DIR STAGE [TEST-SPEC]
# TEST-SPEC (Catch2's: a name, a pattern with *, or [tag]) picks tests; empty: all.
# Needs BOX_BIN (the box under test) and BOX_BASE_ROOTFS in the environment.
# Ends with one line "N passed, N failed" (test cases) and exits 1 on failure.
set -uo pipefail
build=$1
stage=$2
spec=${3:-}
if [ "$(id -u)" -ne 0 ]; then
  echo "make test: the tests create namespaces and mounts; run as root (sudo make test)" >&2
  exit 1
fi

passed=0 failed=0 status=0
run() {  # run BINARY: runs one Catch2 binary, adds its counts
  local bin=$1 out
  echo "== $(basename "$bin")"
  out=$("$bin" --use-colour no ${spec:+"$spec"} 2>&1)
  local rc=$?
  # Show failures in full; of a passing run only the summary.
  if [ $rc -ne 0 ]; then echo "$out"; else echo "$out" | tail -n 2; fi
  local summary
  summary=$(echo "$out" | grep -E '^(All tests passed|test cases:)' | tail -n 1)
  local total p f
  if [[ $summary =~ ^All\ tests\ passed.*in\ ([0-9]+)\ test\ case ]]; then
    p=${BASH_REMATCH[1]} f=0
  elif [[ $summary =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ passed\ \|\ *([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[2]} f=${BASH_REMATCH[3]}
  elif [[ $summary =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ failed ]]; then
    p=0 f=${BASH_REMATCH[2]}
  elif [[ $out == *"No test cases matched"* ]]; then
    p=0 f=0 rc=0
  else
    echo "   (no summary: the test binary crashed or printed nothing)"
    p=0 f=1
  fi
  passed=$((passed + p)) failed=$((failed + f))
  [ $rc -eq 0 ] || status=1
}

# Stage 8's tutorial test runs on stand-in images made from Debian's packages
# (the mirror must answer; about 30 s once, then reused from build/). Where
# they cannot be made, that test says why it is skipped.
if [ "$stage" -ge 8 ]; then
  bash "$(dirname "$0")/make-python-image.sh" >/dev/null || true
fi

run "$build/box-lib"
for ((n = 1; n <= stage; n++)); do
  if [ -x "$build/box-stage$n" ]; then run "$build/box-stage$n"; fi
done
echo
echo "$passed passed, $failed failed"
exit $status
