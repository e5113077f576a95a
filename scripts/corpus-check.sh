#!/usr/bin/env bash
# Corpus checks against the third-party material in ../shared (not part of `cargo test`, which
# must pass without it). Each check prints PASS/FAIL; the last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
if [ ! -d "$SHARED/corpus" ]; then
  echo "corpus-check: $SHARED/corpus not found (set SHARED=/path/to/shared)" >&2
  exit 2
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0
failed=0
check() { # name, command...
  local name=$1
  shift
  if "$@" >"$OUT/log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/    /' "$OUT/log" | tail -40
  fi
}

cargo build -q -p ratcatcher-cli -p ratcatcher-kql --examples --bins || exit 2
RC=target/debug/ratcatcher

# 1. The seed rule parses verbatim.
check "seed query parses" "$RC" check "$SHARED/seed/t1219-sentinel.kql"

# 2. Every corpus query gets the same verdict as Microsoft's parser (syntax errors or not).
kql_vs_oracle() {
  "$RC" check --format jsonl "$SHARED/corpus/kql" >"$OUT/ours.jsonl" 2>"$OUT/ours.summary"
  [ $? -le 1 ] || return 1
  cat "$OUT/ours.summary"
  npm ci --silent --prefix tools/kql-oracle >/dev/null || return 1
  node tools/kql-oracle/oracle.mjs "$SHARED/corpus/kql" >"$OUT/oracle.jsonl" || return 1
  node tools/kql-oracle/compare.mjs "$OUT/oracle.jsonl" "$OUT/ours.jsonl" --json >"$OUT/cmp.json" || return 1
  cat "$OUT/cmp.json"
  python3 - "$OUT/cmp.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
bad = c["we_reject_valid"] + c["we_accept_invalid"] + c["missing"]
print(f"disagreements with Microsoft's parser: {bad}")
sys.exit(1 if bad else 0)
PY
}
check "KQL corpus verdicts equal Microsoft's parser" kql_vs_oracle

# 3. Print -> re-parse gives the same tree for every parsed corpus query.
check "KQL corpus print/parse round trip" target/debug/examples/kql_corpus "$SHARED/corpus/kql"

echo "corpus checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
