#!/usr/bin/env bash
# The pack exported to other SIEMs, proven (docs/export.md). Run by scripts/corpus-check.sh after
# the debug build; standalone: `bash scripts/export-check.sh [SHARED]`.
#  1. `ratcatcher export` converts every exported Sigma rule with every pySigma backend (pinned in
#     scripts/export/requirements*.txt, installed into target/export-venv); each failure is named
#     with the backend's reason.
#  2. scripts/export/equivalence.py: the sqlite backend's queries over the evidence (read with
#     python-evtx) raise the same (host, time, tool) findings as ratcatcher's Sigma engine, and the
#     engine's findings on the export are compared with the KQL pack's, every difference classed.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${1:-${SHARED:-../shared}}
BIN=${RATCATCHER_BIN:-target/debug/ratcatcher}
VENV=target/export-venv
venv() { # name, requirements
  local dir=$VENV/$1
  if ! cmp -s "$2" "$dir/requirements.txt" 2>/dev/null; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$2"
    cp "$2" "$dir/requirements.txt"
  fi
}
venv main scripts/export/requirements.txt
venv qradar scripts/export/requirements-qradar.txt
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# 1. Conversion with every backend (exit 1 = some rules not convertible, reasons named)
code=0
"$BIN" export --to splunk,elastic-esql,elastic-lucene,secops,crowdstrike,sentinelone,kql,sqlite \
  --python "$VENV/main/bin/python" --out "$OUT" 2>"$OUT/main.log" || code=$?
[ "$code" -le 1 ] || { cat "$OUT/main.log"; exit 1; }
code=0
"$BIN" export --to qradar --python "$VENV/qradar/bin/python" --out "$OUT/q" 2>"$OUT/q.log" || code=$?
[ "$code" -le 1 ] || { cat "$OUT/q.log"; exit 1; }
mv "$OUT/q/qradar" "$OUT/qradar"
grep -v '^not exported' "$OUT/main.log" "$OUT/q.log" | sed 's/^[^:]*\.log://'
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
m = json.load(open(os.path.join(out, "sigma", "manifest.json")))
n = len(m["rules"])
print("export: %d Sigma rules; %d pack rules (or parts) not exported, each with its reason"
      % (n, len(m["not_exported"])))
print("%-15s %9s %7s" % ("backend", "converted", "failed"))
for b in ["splunk", "elastic-esql", "elastic-lucene", "qradar", "secops", "crowdstrike",
          "sentinelone", "kql", "sqlite"]:
    s = json.load(open(os.path.join(out, b, "summary.json")))
    if s["converted"] + len(s["failed"]) != n:
        sys.exit("%s: %d converted + %d failed != %d rules" % (b, s["converted"], len(s["failed"]), n))
    for f in s["failed"]:
        if not f["reason"].strip():
            sys.exit("%s: %s failed without a reason" % (b, f["file"]))
    print("%-15s %9d %7d" % (b, s["converted"], len(s["failed"])))
PY

# 2. Executable equivalence
"$VENV/main/bin/python" scripts/export/equivalence.py "$BIN" "$OUT" \
  --sqlite-inputs examples/evidence/wef "$SHARED/corpus/evtx-rat" \
  --pack-inputs examples/evidence rules/tests/evidence
