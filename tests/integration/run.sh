#!/usr/bin/env bash
# Runs every integration test (tests/integration/test_*.py and test_*.mjs), each
# in its own network and PID namespace: its only interface is lo, nothing it
# sends leaves the machine, its ports clash with nothing, and every process it
# starts dies with it. A test prints TAP-style lines ("ok - name", "not ok - name")
# and exits non-zero on failure. Usage: run.sh [FILTER]
set -u
cd "$(dirname "$0")/../.."
filter=${1:-}
timeout_s=${SB_TEST_TIMEOUT:-300}
results=test-results
mkdir -p "$results"
pass=0
fail=0
for t in tests/integration/test_*.py tests/integration/test_*.mjs; do
  [ -f "$t" ] || continue
  if [ -n "$filter" ] && [[ "$t" != *"$filter"* ]]; then continue; fi
  name=$(basename "$t")
  case "$t" in
    *.py) runner="/usr/bin/python3 -u" ;;
    *.mjs) runner="node" ;;
  esac
  out="$results/${name%.*}.log"
  start=$(date +%s)
  timeout -k 10 "$timeout_s" unshare --net --pid --fork --mount-proc \
    sh -c "ip link set lo up && exec $runner $t" >"$out" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  p=$(grep -c '^ok ' "$out")
  f=$(grep -c '^not ok ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    [ "$rc" -eq 124 ] && echo "not ok - $name timed out after ${timeout_s}s" >>"$out"
  fi
  [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
  pass=$((pass + p))
  fail=$((fail + f))
  if [ "$f" -eq 0 ]; then
    echo "PASS $name ($p checks, ${secs}s)"
  else
    echo "FAIL $name ($p passed, $f failed, exit $rc, ${secs}s) — log: $out"
    grep -E '^(ok|not ok) ' "$out" | sed 's/^/    /'
    tail -40 "$out" | sed 's/^/    | /'
  fi
done
echo "integration: $pass passed, $fail failed"
