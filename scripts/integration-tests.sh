#!/usr/bin/env bash
# The integration tests, in two streams side by side: the files that share one
# lab (198.18.22.x) one after another, then the second group of files that
# bring up a lab of their own; beside them, the first group of those (each
# file its own octet), one after another. Two labs at most run at once
# (vitest.config.ts splits the groups so both streams take about as long).
# Each stream's report is printed whole when it ends; the exit status is
# non-zero if any part failed.
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
echo "=== integration tests on the shared lab (exit $shared_rc)"
cat "$logs/shared-lab.log"
echo "=== integration tests with labs of their own, group A (exit $own_a_rc)"
cat "$logs/own-labs-a.log"
echo "=== integration tests with labs of their own, group B (exit $own_b_rc)"
cat "$logs/own-labs-b.log"
[ "$shared_rc" -eq 0 ] && [ "$own_a_rc" -eq 0 ] && [ "$own_b_rc" -eq 0 ]
