#!/usr/bin/env bash
# EVTX ingest benchmark (issue "telemetry"): `ratcatcher ingest` vs the evtx crate's own
# `evtx_dump -o jsonl -t 2` (the reference parser, 2 threads) over the same EVTX files.
#
#   bash bench/ingest/run.sh                  # from the repository root
#   RATCATCHER=path/to/ratcatcher REPEAT=3 SKIP_X70=1 bash bench/ingest/run.sh
#
# Input: /work/shared/corpus/evtx-bench (410 EVTX files, 81 MiB) copied 7 times into
# bench/out/evtx-x7/copyN/ (real copies, ~570 MiB). For the flat-memory check, bench/out/evtx-x70/
# holds 10 symlinks to each copy (70x the corpus, ~5.7 GB read; ratcatcher follows symlinks), built
# only if >= 15 GB are free. Measured with /usr/bin/time -v: wall, user+sys CPU, peak RSS.
#   * evtx_dump: one process per file, sequentially (`xargs -n1`), stdout to /dev/null; the wall
#     is the whole loop; the RSS is the largest single process.
#   * ratcatcher ingest DIR --out bench/out/ds-* --overwrite: parses, maps to Defender tables and
#     writes Parquet (more work than evtx_dump, which only renders JSON).
# REPEAT (default 3) timed runs of both on x7, alternating, after one untimed warm-up of each
# (page cache); then ratcatcher once on x1 and once on x70 for peak RSS against input size.
# Two controls, because most corpus files are small (median 68 KiB) and evtx_dump pays one process
# start per file: (1) the same xargs loop running `evtx_dump --version` (process start cost only);
# (2) both tools on only the files over 1 MiB (bench/out/evtx-big-x7, symlinks: 39 x 7 files,
# 390 MiB of the 564 MiB), where process starts are a small share of evtx_dump's time.
# Needs: evtx_dump on PATH (cargo install evtx --locked), a release ratcatcher build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RATCATCHER:-target-bench/release/ratcatcher}
SRC=${EVTX_CORPUS:-/work/shared/corpus/evtx-bench}
OUT=bench/out
REPEAT=${REPEAT:-3}
command -v evtx_dump >/dev/null || { echo "evtx_dump not on PATH: cargo install evtx --locked" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no ratcatcher binary at $BIN" >&2; exit 1; }

# --- inputs ---------------------------------------------------------------------------------------
if [ ! -f "$OUT/evtx-x7.complete" ]; then  # (the marker must not be inside the input folder)
  rm -rf "$OUT/evtx-x7"
  for i in 1 2 3 4 5 6 7; do mkdir -p "$OUT/evtx-x7/copy$i" && cp -r "$SRC/." "$OUT/evtx-x7/copy$i/"; done
  touch "$OUT/evtx-x7.complete"
fi
free_gb=$(df -BG --output=avail "$OUT" | tail -1 | tr -dc 0-9)
X70=0
if [ -z "${SKIP_X70:-}" ] && [ "$free_gb" -ge 15 ]; then
  X70=1
  if [ ! -d "$OUT/evtx-x70" ]; then
    mkdir -p "$OUT/evtx-x70"
    for j in $(seq 0 9); do for i in 1 2 3 4 5 6 7; do
      ln -s "$(realpath "$OUT/evtx-x7/copy$i")" "$OUT/evtx-x70/copy$i-$j"
    done; done
  fi
else
  echo "skipping the 70x input (free: ${free_gb} GB, SKIP_X70=${SKIP_X70:-})"
fi
if [ ! -d "$OUT/evtx-big-x7" ]; then
  mkdir -p "$OUT/evtx-big-x7"
  find "$OUT/evtx-x7" -name '*.evtx' -size +1M | sort | while read -r f; do
    ln -s "$(realpath "$f")" "$OUT/evtx-big-x7/$(echo "${f#"$OUT"/evtx-x7/}" | tr / _)"
  done
fi
echo "ratcatcher binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); tree at $(git rev-parse --short HEAD); $(evtx_dump --version)"
echo "inputs: x1 $(du -sL --apparent-size -BM "$SRC" | cut -f1), x7 $(du -sL --apparent-size -BM "$OUT/evtx-x7" | cut -f1), $(find -L "$OUT/evtx-x7" -name '*.evtx' | wc -l) files"

# --- measurement ----------------------------------------------------------------------------------
RESULTS=$OUT/ingest-results.tsv
printf 'label\twall_s\tcpu_s\tpeak_rss_mib\tload1\n' > "$RESULTS"
# measure LABEL CMD... : runs CMD under /usr/bin/time -v, appends a row to $RESULTS.
measure() {
  local label=$1; shift
  local log=$OUT/time-$label.log load rc=0
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v -o "$log" "$@" > "$OUT/stdout-$label.log" 2>&1 || rc=$?
  # ratcatcher ingest exits 1 when it skipped records or files: report it, keep the number.
  if [ "$rc" -gt 1 ]; then echo "$label failed with $rc; see $OUT/stdout-$label.log" >&2; exit 1; fi
  if [ "$rc" = 1 ]; then echo "note: $label exited 1 (skipped input); see $OUT/stdout-$label.log" >&2; fi
  awk -v label="$label" -v load="$load" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = (n == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
    /User time/ { cpu += $2 } /System time/ { cpu += $2 }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%s\t%.2f\t%.2f\t%.0f\t%s\n", label, wall, cpu, rss, load }' "$log" | tee -a "$RESULTS"
}
dump_all() { # every file through evtx_dump, one after the other; a file it rejects does not stop the loop
  find -L "$1" -name '*.evtx' -print0 | sort -z | xargs -0 -n1 sh -c 'evtx_dump -o jsonl -t 2 "$0" > /dev/null 2>&1 || true'
}
spawn_only() { # the same loop, starting evtx_dump without parsing anything
  find -L "$1" -name '*.evtx' -print0 | sort -z | xargs -0 -n1 sh -c 'evtx_dump --version > /dev/null 2>&1 || true'
}
export -f dump_all spawn_only

measure warmup-evtx_dump-x7 bash -c "dump_all $OUT/evtx-x7"
measure warmup-ratcatcher-x7 "$BIN" ingest "$OUT/evtx-x7" --out "$OUT/ds-x7" --overwrite
for r in $(seq 1 "$REPEAT"); do
  measure "evtx_dump-x7-$r" bash -c "dump_all $OUT/evtx-x7"
  measure "ratcatcher-x7-$r" "$BIN" ingest "$OUT/evtx-x7" --out "$OUT/ds-x7" --overwrite
done
measure spawn-only-x7 bash -c "spawn_only $OUT/evtx-x7"
for r in $(seq 1 "$REPEAT"); do
  measure "evtx_dump-big-x7-$r" bash -c "dump_all $OUT/evtx-big-x7"
  measure "ratcatcher-big-x7-$r" "$BIN" ingest "$OUT/evtx-big-x7" --out "$OUT/ds-big-x7" --overwrite
done
measure ratcatcher-x1 "$BIN" ingest "$SRC" --out "$OUT/ds-x1" --overwrite
[ "$X70" = 1 ] && measure ratcatcher-x70 "$BIN" ingest "$OUT/evtx-x70" --out "$OUT/ds-x70" --overwrite

# --- summary --------------------------------------------------------------------------------------
echo
echo "rows written (x1, x7$( [ "$X70" = 1 ] && echo ', x70')):"
for s in x1 x7 x70; do [ -f "$OUT/stdout-ratcatcher-$s.log" ] || [ -f "$OUT/stdout-ratcatcher-$s-1.log" ] || continue
  f=$OUT/stdout-ratcatcher-$s.log; [ -f "$f" ] || f=$OUT/stdout-ratcatcher-$s-1.log
  echo "  $s: $(awk '/ rows /{n += $2} END {print n}' "$f") rows in $(grep -c ' rows ' "$f") tables"
done
python3 - "$RESULTS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = lambda p, k: statistics.median(float(r[k]) for r in rows if r["label"].startswith(p))
d, c = med("evtx_dump-x7-", "wall_s"), med("ratcatcher-x7-", "wall_s")
print(f"\nmedian wall x7: evtx_dump {d:.2f} s, ratcatcher ingest {c:.2f} s, ratio {c / d:.2f}x")
s = med("spawn-only-x7", "wall_s")
print(f"process starts alone (spawn-only x7): {s:.2f} s; evtx_dump less that: {d - s:.2f} s, ratio {c / (d - s):.2f}x")
bd, bc = med("evtx_dump-big-x7-", "wall_s"), med("ratcatcher-big-x7-", "wall_s")
print(f"median wall, files > 1 MiB only: evtx_dump {bd:.2f} s, ratcatcher ingest {bc:.2f} s, ratio {bc / bd:.2f}x")
print(f"median CPU x7: evtx_dump {med('evtx_dump-x7-', 'cpu_s'):.2f} s, ratcatcher {med('ratcatcher-x7-', 'cpu_s'):.2f} s")
for r in rows:
    if r["label"] in ("ratcatcher-x1", "ratcatcher-x70"):
        print(f"peak RSS {r['label']}: {r['peak_rss_mib']} MiB")
print(f"peak RSS ratcatcher-x7 (max of runs): {max(float(r['peak_rss_mib']) for r in rows if r['label'].startswith('ratcatcher-x7-')):.0f} MiB")
EOF
