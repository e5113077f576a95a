#!/usr/bin/env bash
# Real-browser check of the HTML case report (`hunt --report case.html`): runs the example hunt,
# opens the report in Debian's Chromium through playwright-core (tools/report-check) and checks it
# through the DOM: no console/page errors, no network request, overview counts equal to the JSON
# summary, timeline lanes, cards, table sorting and filtering, suppressed alerts, print media.
# Saves a full-page screenshot to target/report-check/report.png (and the top 1600 px beside it).
# Exits non-zero, naming what failed, on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "browser-check: $*" >&2
  exit 1
}

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "browser-check: $CHROMIUM missing: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y chromium >/dev/null; } ||
    fail "could not install chromium (apt-get install -y chromium)"
  [ -x "$CHROMIUM" ] || fail "chromium installed but $CHROMIUM is missing"
fi
command -v node >/dev/null || fail "node not found (Node 20+ is needed)"
command -v npm >/dev/null || fail "npm not found"

TARGET=${CARGO_TARGET_DIR:-target}
RC=$TARGET/debug/ratcatcher
if [ ! -x "$RC" ]; then
  echo "browser-check: $RC missing: building it" >&2
  cargo build -p ratcatcher-cli --locked || fail "cargo build -p ratcatcher-cli failed"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
SHOTS=target/report-check
mkdir -p "$SHOTS"

# The report, twice (it must be the same bytes), and the same run's summary and alerts as JSON.
hunt() {
  local code=0
  "$RC" hunt examples/evidence --config examples/tuning.toml "$@" 2>>"$OUT/hunt.log" || code=$?
  if [ "$code" -ne 1 ]; then
    tail -20 "$OUT/hunt.log" >&2
    fail "hunt $* exited $code (1, alerts found, expected)"
  fi
}
hunt --report "$OUT/case.html" -o /dev/null
hunt --report "$OUT/again.html" -o /dev/null
cmp -s "$OUT/case.html" "$OUT/again.html" || fail "two runs wrote different reports"
hunt --report "$OUT/summary.json" --format jsonl --show-suppressed -o "$OUT/alerts.jsonl"
head -c 15 "$OUT/case.html" | grep -q '<!DOCTYPE html>' || fail "--report case.html did not write HTML"

npm ci --silent --no-audit --no-fund --prefix tools/report-check >/dev/null || fail "npm ci in tools/report-check failed"
node tools/report-check/check.mjs \
  --chromium "$CHROMIUM" \
  --report "$OUT/case.html" \
  --summary "$OUT/summary.json" \
  --alerts "$OUT/alerts.jsonl" \
  --screenshot "$SHOTS/report.png" \
  --top "$SHOTS/report-top.png" || fail "the report failed its checks in Chromium (see above)"
echo "browser-check: passed; screenshot $SHOTS/report.png"
