#!/usr/bin/env bash
# hunt benchmark (issue "T1219 detection pack"): the whole built-in pack over an ingested dataset of
# four Defender tables (DeviceProcessEvents 30%, DeviceNetworkEvents 35%, DeviceFileEvents 20%,
# DeviceRegistryEvents 15% of ROWS, from `bench/engine/gen_dpe.py --tables`), with RATE of the rows
# of each table involving a remote access tool. Measured in one run:
#   * ingest: `ratcatcher ingest SRC --out DS --overwrite` (wall, peak RSS, rows/s);
#   * hunt: `ratcatcher hunt DS` (whole pack, one process; wall, peak RSS, alerts);
#   * reference (a): every pack rule as its own `ratcatcher query` process over DS (what a script
#     looping over the rules would do; SKIP_REF=1 skips it, it is slow at 100M rows);
#   * reference (b): DuckDB (2 threads) running the seed query's SQL (bench/engine/duck.py) over the
#     ingested DeviceProcessEvents part files, and ratcatcher running the seed KQL over DS.
#
#   bash bench/hunt/run.sh                               # from the repository root; 10M rows, 0.1%
#   ROWS=1000000 RATE=0.03 bash bench/hunt/run.sh        # smaller, stress rate (3% tool rows)
#   ROWS=100000000 KEEP=0 SKIP_REF=1 bash bench/hunt/run.sh   # 100M; deletes source and dataset after
#   RATCATCHER=target/debug/ratcatcher ROWS=20000 bash bench/hunt/run.sh   # quick check
#
# Needs: a release build (CARGO_TARGET_DIR=target-bench cargo build --release -p ratcatcher-cli),
# python3 with bench/requirements.txt installed, /usr/bin/time; disk: the source takes ~82 MB per
# million rows (10M: 0.8 GB, generated in ~30 s), plus the ingested dataset. Check a source with
# `python3 bench/hunt/check_tables.py bench/out/hunt-src-ROWS-RATE` (rows per table, tool share).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RATCATCHER:-target-bench/release/ratcatcher}
ROWS=${ROWS:-10000000}
RATE=${RATE:-0.001}
KEEP=${KEEP:-1}
SKIP_REF=${SKIP_REF:-0}
SHARED=${SHARED:-../shared}
NOW=2024-03-15T12:00:00Z
OUTDIR=bench/out
SRC=$OUTDIR/hunt-src-$ROWS-$RATE
DS=$OUTDIR/hunt-ds-$ROWS-$RATE
[ -x "$BIN" ] || { echo "no ratcatcher binary at $BIN: build it first" >&2; exit 1; }
mkdir -p "$OUTDIR"
TMP=$(mktemp -d)
cleanup() {
  rm -rf "$TMP"
  if [ "$KEEP" = 0 ]; then rm -rf "$SRC" "$DS"; fi
}
trap cleanup EXIT

# The generator writes SRC.tmp and renames it when complete: SRC present = complete.
if [ ! -d "$SRC" ]; then
  echo "generating $SRC ..." >&2
  /usr/bin/time -f "generate: %e s wall, %M KiB peak RSS" \
    python3 bench/engine/gen_dpe.py --rows "$ROWS" --tables --tool-rate "$RATE" --out "$SRC" >"$TMP/gen.log"
fi
echo "ratcatcher $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); tree $(git rev-parse --short HEAD); $(nproc) cores; $ROWS rows, tool rate $RATE"

measure() { # label, command... -> prints "label wall_s rss_kib"; exit 1 (alerts / rows found) is fine
  local label=$1 rc=0
  shift
  /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "$label failed (exit $rc):" >&2
    tail -20 "$TMP/err" >&2
    exit 1
  fi
  read -r wall rss < <(tail -1 "$TMP/time")
  echo "$label $wall $rss"
}

# ingest
read -r _ ingest_wall ingest_rss < <(measure ingest "$BIN" ingest "$SRC" --out "$DS" --overwrite)

# hunt: the whole pack, one process.
read -r _ hunt_wall hunt_rss < <(measure hunt "$BIN" hunt "$DS" --now "$NOW" --format jsonl -o "$TMP/alerts.jsonl")
alerts=$(wc -l <"$TMP/alerts.jsonl")
python3 - "$TMP/alerts.jsonl" >"$TMP/by_rule.txt" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)["rule"]
    c[r["id"] if isinstance(r, dict) else r] += 1
for rule, n in sorted(c.items()):
    print(f"  {rule:32} {n:8}")
PY

# reference (a): each rule alone (the pack's rule files, queries extracted from the YAML).
ref_wall=0
ref_rss=0
n=0
: >"$TMP/ref.txt"
if [ "$SKIP_REF" != 1 ]; then
  for rule in rules/*.yaml; do
    python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["query"])' "$rule" >"$TMP/q.kql"
    period=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1])).get("queryPeriod", "14d"))' "$rule")
    read -r _ w r < <(measure "$rule" "$BIN" query -f "$TMP/q.kql" -i "$DS" --now "$NOW" --lookback "$period" --format jsonl)
    echo "  $(basename "$rule" .yaml) $w $r $(wc -l <"$TMP/out")" >>"$TMP/ref.txt"
    ref_wall=$(python3 -c "print(round($ref_wall + $w, 2))")
    [ "$r" -gt "$ref_rss" ] && ref_rss=$r
    n=$((n + 1))
  done
fi

# reference (b): the seed query, DuckDB SQL over the ingested DeviceProcessEvents part files and
# ratcatcher KQL over the dataset (both write every result row as JSON).
read -r _ duck_wall duck_rss < <(measure duckdb python3 bench/engine/duck.py count seed "$DS/DeviceProcessEvents/*.parquet")
read -r duck_inner duck_rows < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["seconds"], d["rows"])' "$TMP/out")
seed_wall=-1 seed_rss=0 seed_rows=-1
if [ -f "$SHARED/seed/t1219-sentinel.kql" ]; then
  read -r _ seed_wall seed_rss < <(measure seed "$BIN" query -f "$SHARED/seed/t1219-sentinel.kql" -i "$DS" --now "$NOW" --format jsonl)
  seed_rows=$(wc -l <"$TMP/out")
fi

python3 - "$ROWS" "$RATE" "$ingest_wall" "$ingest_rss" "$hunt_wall" "$hunt_rss" "$alerts" "$n" "$ref_wall" "$ref_rss" \
  "$duck_wall" "$duck_rss" "$duck_inner" "$duck_rows" "$seed_wall" "$seed_rss" "$seed_rows" <<'PY'
import sys
a = sys.argv[1:]
rows, rate = int(a[0]), a[1]
iw, ir, hw, hr, alerts, n, rw, rr = float(a[2]), int(a[3]), float(a[4]), int(a[5]), int(a[6]), int(a[7]), float(a[8]), int(a[9])
dw, dr, di, drows, sw, sr, srows = float(a[10]), int(a[11]), float(a[12]), int(a[13]), float(a[14]), int(a[15]), int(a[16])
mib = lambda k: k / 1024  # noqa: E731
print(f"rows {rows:,} (4 tables), tool rate {rate}")
print(f"ingest:                          {iw:8.2f} s wall, {rows / iw:12,.0f} rows/s, peak RSS {mib(ir):7.1f} MiB")
print(f"hunt (whole pack, 1 process):    {hw:8.2f} s wall, peak RSS {mib(hr):7.1f} MiB, {alerts} alerts")
if n:
    print(f"reference ({n} rules, {n} queries): {rw:8.2f} s wall (sum), peak RSS {mib(rr):7.1f} MiB (max)")
else:
    print("reference (per rule):            skipped (SKIP_REF=1)")
print(f"DuckDB seed SQL over DPE files:  {dw:8.2f} s wall ({di:.2f} s in COPY), peak RSS {mib(dr):7.1f} MiB, {drows} rows")
if sw >= 0:
    print(f"ratcatcher seed KQL over DS:     {sw:8.2f} s wall, peak RSS {mib(sr):7.1f} MiB, {srows} rows")
print("ratios:")
if n:
    print(f"  hunt / per-rule reference:     {hw / rw:6.2f}x wall, {hr / rr:6.2f}x RSS")
print(f"  hunt / DuckDB seed (1 query):  {hw / dw:6.2f}x wall, {hr / dr:6.2f}x RSS")
if sw >= 0:
    print(f"  ratcatcher seed / DuckDB seed: {sw / dw:6.2f}x wall, {sr / dr:6.2f}x RSS")
PY
echo "alerts by rule:"
cat "$TMP/by_rule.txt"
if [ "$n" -gt 0 ]; then
  echo "per-rule reference (rule, wall s, peak RSS KiB, rows):"
  cat "$TMP/ref.txt"
fi
