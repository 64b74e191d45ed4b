#!/usr/bin/env bash
# The integration tests, in two streams side by side: the files that share one
# lab (198.18.22.x) one after another, and the files that bring up a lab of
# their own (each its own octet) one after another. Two labs at most run at
# once. Each stream's report is printed whole when it ends; the exit status is
# non-zero if either stream failed.
set -u
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
npx vitest run --project integration-own-labs "$@" > "$logs/own-labs.log" 2>&1 &
own_pid=$!
npx vitest run --project integration-shared-lab "$@" > "$logs/shared-lab.log" 2>&1
shared_rc=$?
wait "$own_pid"
own_rc=$?
echo "=== integration tests on the shared lab (exit $shared_rc)"
cat "$logs/shared-lab.log"
echo "=== integration tests with labs of their own (exit $own_rc)"
cat "$logs/own-labs.log"
[ "$shared_rc" -eq 0 ] && [ "$own_rc" -eq 0 ]
