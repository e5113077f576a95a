#!/usr/bin/env bash
# Sigma benchmark (issue #6): `ratcatcher hunt --sigma` with the SigmaHQ Windows rules against the
# evtx crate's own `evtx_dump -o jsonl` (parse and render only, output to /dev/null), in the same
# run, over the same EVTX files.
#
#   bash bench/sigma/run.sh                         # from the repository root
#   RATCATCHER=path/to/ratcatcher COPIES=7 REPEAT=1 bash bench/sigma/run.sh
#
# Input: /work/shared/corpus/evtx-bench (410 EVTX files, 81 MiB) replicated COPIES times (default
# 7, ~567 MiB) as symlinks to the corpus folder in a temporary directory (ratcatcher follows them;
# evtx_dump reads the files through them).
# Rules: /work/shared/corpus/sigma/rules-windows (1,256 rules), every status (`--status all`).
# Measured with /usr/bin/time -v: wall, user+sys CPU, peak RSS.
#   * evtx_dump -o jsonl -t T: one process per file (`xargs -n1`), T = the cores; the wall is the
#     whole loop, the RSS the largest process.
#   * ratcatcher hunt --sigma RULES DIR --status all --format jsonl -o /dev/null: one process, files
#     in parallel; parses, builds events, matches every rule, runs correlations, writes alerts.
# Control: both on only the files over 1 MiB, where evtx_dump's per-process start is a small part.
# Needs: evtx_dump on PATH (cargo install evtx --locked), a release ratcatcher build
# (CARGO_TARGET_DIR=target-bench cargo build --release -p ratcatcher-cli, under the release flock).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RATCATCHER:-target-bench/release/ratcatcher}
SRC=${EVTX_CORPUS:-/work/shared/corpus/evtx-bench}
RULES=${SIGMA_RULES:-/work/shared/corpus/sigma/rules-windows}
COPIES=${COPIES:-7}
REPEAT=${REPEAT:-1}
THREADS=$(nproc)
command -v evtx_dump >/dev/null || { echo "evtx_dump not on PATH: cargo install evtx --locked" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no ratcatcher binary at $BIN" >&2; exit 1; }
"$BIN" hunt --help | grep -q -- '--sigma' || { echo "$BIN has no hunt --sigma" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/all" "$TMP/big"
for i in $(seq 1 "$COPIES"); do ln -s "$(realpath "$SRC")" "$TMP/all/copy$i"; done
find -L "$TMP/all" -name '*.evtx' -size +1M | sort | while read -r f; do
  ln -s "$(realpath "$f")" "$TMP/big/$(echo "${f#"$TMP"/all/}" | tr / _)"
done
size() { du -sL --apparent-size -BM "$1" | cut -f1; }
echo "ratcatcher $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); tree $(git rev-parse --short HEAD); $(evtx_dump --version); $THREADS cores"
echo "input: $COPIES x $SRC = $(size "$TMP/all"), $(find -L "$TMP/all" -name '*.evtx' | wc -l) files; over 1 MiB: $(size "$TMP/big"), $(find -L "$TMP/big" -name '*.evtx' | wc -l) files"
echo "rules: $RULES ($(find "$RULES" -name '*.yml' | wc -l) files)"

# measure NAME CMD...: runs CMD under /usr/bin/time -v, prints wall s, cpu s, peak RSS MiB.
measure() {
  local name=$1
  shift
  /usr/bin/time -v "$@" 2>"$TMP/time" >/dev/null || true
  local wall user sys rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$TMP/time")
  user=$(awk -F': ' '/User time/ {print $2}' "$TMP/time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$TMP/time")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$TMP/time")
  printf '%-34s wall %7.2f s  cpu %7.2f s  peak RSS %5s MiB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
  echo "$wall" >"$TMP/last-wall"
}

dump() { find -L "$1" -name '*.evtx' -print0 | sort -z | xargs -0 -n1 evtx_dump -o jsonl -t "$THREADS" >/dev/null 2>&1; }
export -f dump 2>/dev/null || true
hunt() { "$BIN" hunt --sigma "$RULES" --status all --format jsonl -o "$TMP/alerts.jsonl" "$1" 2>"$TMP/hunt.err"; }

# warm the page cache
dump "$TMP/all"
hunt "$TMP/all" || true
tail -1 "$TMP/hunt.err"
for r in $(seq 1 "$REPEAT"); do
  echo "-- run $r: all files"
  measure "evtx_dump -o jsonl (parse only)" bash -c "$(declare -f dump); dump '$TMP/all'"
  d=$(cat "$TMP/last-wall")
  measure "ratcatcher hunt --sigma" bash -c "$(declare -f hunt); BIN='$BIN' RULES='$RULES' TMP='$TMP' hunt '$TMP/all'"
  h=$(cat "$TMP/last-wall")
  echo "ratio hunt/evtx_dump: $(echo "scale=2; $h / $d" | bc)   alerts: $(wc -l <"$TMP/alerts.jsonl")"
  echo "-- run $r: files over 1 MiB"
  measure "evtx_dump -o jsonl (parse only)" bash -c "$(declare -f dump); dump '$TMP/big'"
  d=$(cat "$TMP/last-wall")
  measure "ratcatcher hunt --sigma" bash -c "$(declare -f hunt); BIN='$BIN' RULES='$RULES' TMP='$TMP' hunt '$TMP/big'"
  h=$(cat "$TMP/last-wall")
  echo "ratio hunt/evtx_dump: $(echo "scale=2; $h / $d" | bc)   alerts: $(wc -l <"$TMP/alerts.jsonl")"
done
grep '^hunt:' "$TMP/hunt.err" || true
