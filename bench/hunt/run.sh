#!/usr/bin/env bash
# hunt benchmark (issue "T1219 detection pack"): the whole built-in pack over a 10M-row ingested
# dataset (DeviceProcessEvents from bench/engine/gen_dpe.py), wall and peak RSS, against a
# reference measured in the same run: every pack rule as its own `ratcatcher query` process over
# the same dataset (what a script looping over the rules would do). Ratio = hunt / reference.
#
#   bash bench/hunt/run.sh                 # from the repository root
#   ROWS=1000000 bash bench/hunt/run.sh    # smaller
#
# Needs: a release build (CARGO_TARGET_DIR=target-bench cargo build --release -p ratcatcher-cli),
# python3 with bench/requirements.txt installed, /usr/bin/time, ~3 GB free in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RATCATCHER:-target-bench/release/ratcatcher}
ROWS=${ROWS:-10000000}
OUTDIR=bench/out
DATA=$OUTDIR/dpe-$ROWS.parquet
[ "$ROWS" = 10000000 ] && DATA=$OUTDIR/dpe-10m.parquet  # shared with bench/engine
DS=$OUTDIR/hunt-ds-$ROWS
[ -x "$BIN" ] || { echo "no ratcatcher binary at $BIN: build it first" >&2; exit 1; }
mkdir -p "$OUTDIR"
[ -f "$DATA" ] || python3 bench/engine/gen_dpe.py --rows "$ROWS" --out "$DATA"
if [ ! -f "$DS/tables.json" ]; then
  # The generated file carries no table name: a folder named after the table says which it is.
  SRC=$OUTDIR/hunt-src-$ROWS/DeviceProcessEvents
  mkdir -p "$SRC"
  ln -sf "$(realpath "$DATA")" "$SRC/dpe.parquet"
  /usr/bin/time -f "ingest: %e s wall, %M KiB peak RSS" "$BIN" ingest "$(dirname "$SRC")" --out "$DS" --overwrite >/dev/null
fi
echo "ratcatcher $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); tree $(git rev-parse --short HEAD); $(nproc) cores; $ROWS rows"
NOW=2024-03-15T12:00:00Z
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

measure() { # label, command... -> prints "label wall_s rss_kib"
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err" || [ $? -eq 1 ]
  read -r wall rss <"$TMP/time"
  echo "$label $wall $rss"
}

# hunt: the whole pack, one process.
read -r _ hunt_wall hunt_rss < <(measure hunt "$BIN" hunt "$DS" --now "$NOW" --format jsonl -o "$TMP/alerts.jsonl")
alerts=$(wc -l <"$TMP/alerts.jsonl")

# reference: each rule alone (the pack's rule files, queries extracted from the YAML).
ref_wall=0
ref_rss=0
n=0
for rule in rules/*.yaml; do
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["query"])' "$rule" >"$TMP/q.kql"
  period=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1])).get("queryPeriod", "14d"))' "$rule")
  read -r _ w r < <(measure "$rule" "$BIN" query -f "$TMP/q.kql" -i "$DS" --now "$NOW" --lookback "$period" --format jsonl)
  ref_wall=$(python3 -c "print(round($ref_wall + $w, 2))")
  [ "$r" -gt "$ref_rss" ] && ref_rss=$r
  n=$((n + 1))
done

python3 - "$hunt_wall" "$hunt_rss" "$ref_wall" "$ref_rss" "$n" "$alerts" <<'PY'
import sys
hw, hr, rw, rr, n, alerts = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"hunt (whole pack, 1 process):   {hw:7.2f} s wall, peak RSS {hr/1024:7.1f} MiB, {alerts} alerts")
print(f"reference ({n} rules as {n} queries): {rw:7.2f} s wall, peak RSS {rr/1024:7.1f} MiB (max)")
print(f"ratio hunt / reference: {hw/rw:.2f}x")
PY
