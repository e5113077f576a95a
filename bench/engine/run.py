#!/usr/bin/env python3
"""KQL engine benchmark: ratcatcher vs DuckDB on the same 10M-row DeviceProcessEvents Parquet.

    bash bench/engine/run.sh          (generates the data on first use, then runs this)
    python3 bench/engine/run.py --bin target-bench/release/ratcatcher --data bench/out/dpe-10m.parquet

Queries: (seed) ../shared/seed/t1219-sentinel.kql, read from there ($SHARED overrides); (summarize)
`summarize count() by DeviceName, bin(Timestamp, 1h)`. DuckDB equivalents are in duck.py.
Both sides write every result row as JSON lines to /dev/null. Each query runs once untimed to warm
the page cache and check that both engines return the same rows (row count, plus per-category
counts for the seed query and the total of count_ for summarize), then REPEAT timed runs alternating
ratcatcher/DuckDB. ratcatcher is timed as a whole process (startup, planning, scan, output);
DuckDB is timed inside its Python process around the COPY statement (excludes interpreter start
and `import duckdb`), which favours DuckDB slightly. Peak RSS of each process from /usr/bin/time -v.
The 1-minute load average is recorded around each run: the machine is shared, so a load above 2
means other processes competed for the 2 cores. Results: bench/out/engine-results.json + stdout.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import duck  # noqa: E402

NOW = "2024-03-15T12:00:00Z"
SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
KQL = {"seed": os.path.join(SHARED, "seed", "t1219-sentinel.kql"), "summarize": os.path.join(HERE, "summarize.kql")}


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time -v; returns wall seconds, user+sys seconds, peak RSS MiB, stdout."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    field = lambda name: float(re.search(rf"{name}: ([0-9.]+)", p.stderr).group(1))  # noqa: E731
    return {
        "wall": wall,
        "cpu": field("User time \\(seconds\\)") + field("System time \\(seconds\\)"),
        "rss_mib": field("Maximum resident set size \\(kbytes\\)") / 1024,
        "load": max(load, os.getloadavg()[0]),
        "stdout": p.stdout if stdout == subprocess.PIPE else None,
    }


def rc_cmd(args, name):
    return [args.bin, "query", "-f", KQL[name], "--table", f"DeviceProcessEvents={args.data}",
            "--now", NOW, "--format", "jsonl"]


def duck_cmd(args, name):
    return [sys.executable, os.path.join(HERE, "duck.py"), "time", name, args.data]


def check(args, name):
    """Runs both once (warm-up) and compares their results; returns the row count."""
    out = os.path.join(os.path.dirname(args.data), f"{name}.ratcatcher.jsonl")
    with open(out, "w") as f:
        timed(rc_cmd(args, name), stdout=f)
    con = duck.connect()
    sql = duck.SQL[name](args.data)
    with open(out) as f:
        rows = [json.loads(line) for line in f]
    if name == "seed":
        ts = [r["Timestamp"] for r in rows]
        assert ts == sorted(ts, reverse=True), "ratcatcher output not sorted by Timestamp desc"
        mine = collections.Counter((r["RATCategory"], r["IsService"], r["IsUserLaunched"]) for r in rows)
        ref = {tuple(k): c for *k, c in con.execute(
            f"SELECT RATCategory, IsService, IsUserLaunched, count(*) FROM ({sql}) GROUP BY ALL").fetchall()}
        assert dict(mine) == ref, f"seed results differ:\nratcatcher {sorted(mine.items())}\nduckdb {sorted(ref.items())}"
        print(f"seed: {len(rows)} rows on both; per (RATCategory, IsService, IsUserLaunched) counts equal")
    else:
        total = sum(r["count_"] for r in rows)
        n, ref_total = con.execute(f"SELECT count(*), sum(count_) FROM ({sql})").fetchone()
        assert (len(rows), total) == (n, ref_total), f"summarize: ratcatcher {len(rows)} groups/{total}, duckdb {n}/{ref_total}"
        print(f"summarize: {len(rows)} groups on both, counts add up to {total}")
    timed(duck_cmd(args, name), stdout=subprocess.PIPE)  # warm DuckDB too
    os.remove(out)
    return len(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target-bench/release/ratcatcher")
    ap.add_argument("--data", default="bench/out/dpe-10m.parquet")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--queries", default="seed,summarize")
    args = ap.parse_args()
    results = {}
    for name in args.queries.split(","):
        rows = check(args, name)
        rc, dk = [], []
        for i in range(args.repeat):
            r = timed(rc_cmd(args, name))
            rc.append(r)
            d = timed(duck_cmd(args, name), stdout=subprocess.PIPE)
            d["wall_process"] = d["wall"]
            d["wall"] = json.loads(d.pop("stdout"))["seconds"]
            dk.append(d)
            r.pop("stdout")
            print(f"{name} #{i + 1}: ratcatcher {r['wall']:.2f}s ({r['rss_mib']:.0f} MiB, load {r['load']:.1f}), "
                  f"duckdb {d['wall']:.2f}s ({d['rss_mib']:.0f} MiB, load {d['load']:.1f})", flush=True)
        med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
        results[name] = {"rows": rows, "ratcatcher": rc, "duckdb": dk,
                         "median_ratcatcher": med(rc, "wall"), "median_duckdb": med(dk, "wall"),
                         "ratio": med(rc, "wall") / med(dk, "wall"),
                         "peak_rss_ratcatcher_mib": max(x["rss_mib"] for x in rc),
                         "peak_rss_duckdb_process_mib": max(x["rss_mib"] for x in dk)}
    print("\n| query | rows out | ratcatcher median | DuckDB median | ratio | ratcatcher peak RSS | ratcatcher CPU | DuckDB process peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['rows']:,} | {r['median_ratcatcher']:.2f} s | {r['median_duckdb']:.2f} s | "
              f"{r['ratio']:.2f}x | {r['peak_rss_ratcatcher_mib']:.0f} MiB | "
              f"{statistics.median(x['cpu'] for x in r['ratcatcher']):.2f} s | {r['peak_rss_duckdb_process_mib']:.0f} MiB |")
    with open(os.path.join(os.path.dirname(args.data), "engine-results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
