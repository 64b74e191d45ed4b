#!/usr/bin/env bash
# The integration tests, in two streams side by side: the files that share one
# lab (198.18.22.x) one after another, then the second group of files that
# bring up a lab of their own; beside them, the first group of those (each
# file its own octet), one after another. Two labs at most run at once
# (vitest.config.ts splits the groups so both streams take about as long).
# Each stream's report is printed whole; the exit status is non-zero if any
# part failed.
set -u
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
npx vitest run --project integration-own-labs-a "$@" > "$logs/own-labs-a.log" 2>&1 &
own_pid=$!
npx vitest run --project integration-shared-lab "$@" > "$logs/shared-lab.log" 2>&1
shared_rc=$?
npx vitest run --project integration-own-labs-b "$@" > "$logs/own-labs-b.log" 2>&1
own_b_rc=$?
wait "$own_pid"
own_a_rc=$?
# A failed stream's report goes last and a summary closes the output, so
# a CI log cut to its tail still shows what failed.
report() { # name rc log
  echo "=== integration tests $1 (exit $2)"
  cat "$3"
}
streams=("on the shared lab|$shared_rc|$logs/shared-lab.log"
  "with labs of their own, group A|$own_a_rc|$logs/own-labs-a.log"
  "with labs of their own, group B|$own_b_rc|$logs/own-labs-b.log")
for want in passed failed; do
  for stream in "${streams[@]}"; do
    IFS='|' read -r name rc log <<< "$stream"
    outcome=passed; [ "$rc" -eq 0 ] || outcome=failed
    [ "$outcome" = "$want" ] && report "$name" "$rc" "$log"
  done
done
echo "=== summary of the integration tests"
for stream in "${streams[@]}"; do
  IFS='|' read -r name rc log <<< "$stream"
  echo "$name: exit $rc"
  [ "$rc" -eq 0 ] || sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -aE '^ *(FAIL|×) ' | head -20
done
[ "$shared_rc" -eq 0 ] && [ "$own_a_rc" -eq 0 ] && [ "$own_b_rc" -eq 0 ]
