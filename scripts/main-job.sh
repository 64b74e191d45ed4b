#!/usr/bin/env bash
# The main job (npm start): real game days on the embedded lab.
#   1. the spread layout (today's fleet): lose rack b1 (a db replica), lose zone az-a
#      (the MariaDB primary, the Redis primary, a proxy, a Sentinel, an app), and the
#      2017 replay (rack a2);
#   2. the outage-2017 layout (same-function servers in one rack): the same replay,
#      which must fail its checks there;
#   3. both replays side by side.
# Each game day prints its checks, the path of its HTML report, and whether its verdict is
# the expected one (scripts/expected-verdicts.ts: passed on the spread layout; the replay
# failed on the 2017 layout, writes, reads and the error budget among its failed checks).
# Exit 0: every game day ran and showed its expected verdict; 1: the job could not run,
# or a verdict was not the expected one.
set -uo pipefail
cd "$(dirname "$0")/.."

work=${GAMEDAY_MAIN_JOB_DIR:-$(pwd)/.gameday/main-job}
export GAMEDAY_STATE_DIR="$work/state"
export GAMEDAY_LOG_LEVEL=${GAMEDAY_LOG_LEVEL:-warn}
lab="$work/lab"
gameday() { node bin/gameday.js "$@"; }
say() { printf '\n=== %s\n' "$*"; }

cleanup() { [ -f "$lab/state.json" ] && gameday lab down --dir "$lab" >/dev/null 2>&1; }
trap cleanup EXIT

job_failed=0
# A game day whose verdict is not the one scripts/expected-verdicts.ts expects fails the job too.
verdicts_off=0
GAME_DAY_LIMIT_S=${GAMEDAY_GAME_DAY_LIMIT_S:-600}
# A game day ran when it exits 0 (every check held) or 1 (a check failed); anything else is a failure of the job.
run_game_day() {
  local scenario=$1 rc
  say "game day: $scenario ($2 layout)"
  # Progress goes to stderr as it happens; the report's JSON to a file, summarised below.
  # A game day takes about a minute; one that hangs is stopped (SIGINT: it undoes its faults and
  # reports), then killed, so that the job always ends.
  timeout --signal=INT --kill-after=60 "$GAME_DAY_LIMIT_S" node bin/gameday.js chaos run "$scenario" --lab-dir "$lab" --json >"$work/$scenario-$2.json"; rc=$?
  if [ $rc -gt 1 ]; then
    [ $rc -eq 124 ] || [ $rc -eq 130 ] && echo "main job: game day $scenario was stopped after ${GAME_DAY_LIMIT_S} s"
    echo "main job: game day $scenario did not run to its end (exit $rc)"
    job_failed=1
    return
  fi
  node --import tsx scripts/expected-verdicts.ts "$work/$scenario-$2.json" "$2"; rc=$?
  case $rc in
    0) ;;
    1) verdicts_off=1 ;;
    *) job_failed=1 ;;
  esac
  echo "  report: $GAMEDAY_STATE_DIR/runs/$(run_id "$scenario-$2")/report.html"
}

run_id() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).runId)' "$work/$1.json"; }

mkdir -p "$work"
cleanup
rm -rf "$lab"

say "lab up (spread layout)"
gameday lab up --dir "$lab" --layout spread || { echo "main job: the lab did not come up"; exit 1; }
run_game_day rack-b1 spread
run_game_day zone-az-a spread
run_game_day replay-2017 spread
gameday lab down --dir "$lab" >/dev/null || job_failed=1

say "lab up (outage-2017 layout)"
gameday lab up --dir "$lab" --layout outage-2017 || { echo "main job: the 2017 lab did not come up"; exit 1; }
run_game_day replay-2017 outage-2017
gameday lab down --dir "$lab" >/dev/null || job_failed=1

if [ -f "$work/replay-2017-spread.json" ] && [ -f "$work/replay-2017-outage-2017.json" ]; then
  say "the 2017 replay, spread layout against the 2017 layout"
  gameday chaos compare "$(run_id replay-2017-spread)" "$(run_id replay-2017-outage-2017)" || job_failed=1
fi

if [ $job_failed -ne 0 ]; then
  echo "main job: FAILED: it could not run to its end (see above)"
  exit 1
fi
if [ $verdicts_off -ne 0 ]; then
  echo "main job: FAILED: a game day's verdict was NOT as expected (see above); reports in $GAMEDAY_STATE_DIR/runs"
  exit 1
fi
echo "main job: done, every verdict as expected; reports in $GAMEDAY_STATE_DIR/runs"
