#!/usr/bin/env bash
# KQL engine benchmark (issue "KQL engine"): ratcatcher vs DuckDB (2 threads) on a 10M-row
# DeviceProcessEvents Parquet; the T1219 seed query and a summarize-by-hour query, 3 runs each,
# median wall time, ratio, peak RSS. See run.py and duck.py for what exactly is timed.
#
#   bash bench/engine/run.sh                  # from the repository root
#   RATCATCHER=path/to/ratcatcher REPEAT=5 bash bench/engine/run.sh
#
# Needs: a release build (CARGO_TARGET_DIR=target-bench cargo build --release -p ratcatcher-cli),
# python3 with bench/requirements.txt installed, /usr/bin/time, ~1.5 GB free in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RATCATCHER:-target-bench/release/ratcatcher}
DATA=bench/out/dpe-10m.parquet
[ -x "$BIN" ] || { echo "no ratcatcher binary at $BIN: build it first" >&2; exit 1; }
[ -f "$DATA" ] || python3 bench/engine/gen_dpe.py --rows 10000000 --out "$DATA"
echo "ratcatcher binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); tree at $(git rev-parse --short HEAD); duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)'), $(nproc) cores"
python3 bench/engine/run.py --bin "$BIN" --data "$DATA" --repeat "${REPEAT:-3}"
