#!/usr/bin/env python3
"""DuckDB versions of the benchmark queries (the reference side of bench/engine/run.sh).

    python3 bench/engine/duck.py time seed|summarize PARQUET   # runs once, prints {"seconds": ...}
    python3 bench/engine/duck.py sql seed|summarize PARQUET    # prints the SQL
    python3 bench/engine/duck.py count seed|summarize 'DS/DeviceProcessEvents/*.parquet'
        # runs once over a glob of Parquet files (an ingested dataset's part files), prints
        # {"seconds": ..., "rows": ...} (bench/hunt/run.sh)

PARQUET may be one file or a glob (DuckDB's read_parquet expands it); `run()` does the same from Python.

Translation of the KQL:
  * `x has_any (a, b)`: Kusto `has` matches whole terms (terms are maximal runs of ASCII letters
    and digits), case-insensitively. Written as one RE2 regex per list,
    `(^|[^A-Za-z0-9])(a|b|...)($|[^A-Za-z0-9])` with flag 'i' (needles regex-escaped), evaluated
    by regexp_matches. This is what ratcatcher implements (crates/engine/src/functions/strings.rs):
    a boundary is required on each side only where the needle's edge character is alphanumeric,
    which holds for every needle in the seed query.
  * `x in~ (a, b)`: lower(x) IN ('a', 'b').
  * `case(p1, v1, ..., else)`: CASE WHEN ... END with the same has_any regexes.
  * `Timestamp > ago(24h)` with now = 2024-03-15T12:00:00Z: a TIMESTAMPTZ comparison.
  * `summarize count() by DeviceName, bin(Timestamp, 1h)`: GROUP BY DeviceName,
    time_bucket(INTERVAL 1 hour, Timestamp) with TimeZone = 'UTC'.
Results are written as JSON lines to /dev/null (COPY ... TO '/dev/null' (FORMAT json)), so
DuckDB materialises and serialises every row as ratcatcher does with --format jsonl.
DuckDB runs with SET threads = 2 (the machine has 2 cores; ratcatcher uses both).
"""
import json
import re
import sys
import time

import duckdb

NOW = "2024-03-15 12:00:00+00"

RAT_NAMES = [
    "teamviewer.exe", "teamviewer_service.exe", "anydesk.exe", "anydesk_service.exe",
    "screenconnect.exe", "screenconnectclient.exe", "connectwisecontrol.client.exe",
    "logmein.exe", "lmi_rescue.exe", "logmeinrescue.exe", "ammyyadmin.exe", "aa_v3.exe",
    "supremo.exe", "supremoservice.exe", "rustdesk.exe", "splashtop.exe", "splashtopremote.exe",
    "ateraagent.exe", "ninjaone.exe", "ninjaremote.exe", "simplehelp.exe", "dwrcs.exe", "dwrcst.exe",
    "tmate", "vnc.exe", "tvnserver.exe", "vncviewer.exe", "uvnc_service.exe", "winvnc.exe",
    "remotedesktopmanager.exe", "mstsc.exe", "chrome_remote_desktop.exe", "remote_assistance_host.exe",
]
CATEGORIES = [
    (["teamviewer", "anydesk", "screenconnect", "connectwise"], "Commercial RMM"),
    (["vnc", "tvnserver", "winvnc", "uvnc"], "VNC"),
    (["logmein", "lmi_rescue"], "LogMeIn"),
    (["ammyy", "aa_v3"], "AmmyyAdmin"),
    (["rustdesk", "splashtop", "supremo"], "Other RMM"),
    (["atera", "ninja", "simplehelp", "dwrcs"], "MSP Tool"),
]


def has_any(col, needles):
    alt = "|".join(re.escape(n) for n in needles)
    return f"regexp_matches({col}, '(^|[^A-Za-z0-9])({alt})($|[^A-Za-z0-9])', 'i')"


def seed_sql(path):
    cases = "\n".join(f"    WHEN {has_any('FileName', n)} THEN '{label}'" for n, label in CATEGORIES)
    return f"""SELECT Timestamp, DeviceName, AccountName, FileName, ProcessCommandLine,
  InitiatingProcessFileName, InitiatingProcessCommandLine,
  CASE
{cases}
    ELSE 'Unknown' END AS RATCategory,
  lower(InitiatingProcessFileName) IN ('services.exe', 'svchost.exe') AS IsService,
  lower(InitiatingProcessFileName) IN ('explorer.exe', 'cmd.exe', 'powershell.exe') AS IsUserLaunched
FROM read_parquet('{path}')
WHERE Timestamp > TIMESTAMPTZ '{NOW}' - INTERVAL 24 HOUR
  AND {has_any('FileName', RAT_NAMES)}
ORDER BY Timestamp DESC"""


def summarize_sql(path):
    return f"""SELECT DeviceName, time_bucket(INTERVAL 1 hour, Timestamp) AS Timestamp, count(*) AS count_
FROM read_parquet('{path}')
GROUP BY DeviceName, time_bucket(INTERVAL 1 hour, Timestamp)"""


SQL = {"seed": seed_sql, "summarize": summarize_sql}


def connect():
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def run(name, path):
    """Runs query `name` once over `path` (a Parquet file or a glob of them): (seconds, result rows)."""
    con = connect()
    t0 = time.perf_counter()
    rows = con.execute(f"COPY ({SQL[name](path)}) TO '/dev/null' (FORMAT json)").fetchone()[0]
    return time.perf_counter() - t0, rows


def main():
    mode, name, path = sys.argv[1:4]
    sql = SQL[name](path)
    if mode == "sql":
        print(sql)
        return
    if mode == "count":
        seconds, rows = run(name, path)
        print(json.dumps({"seconds": seconds, "rows": rows}))
        return
    con = connect()
    t0 = time.perf_counter()
    con.execute(f"COPY ({sql}) TO '/dev/null' (FORMAT json)")
    print(json.dumps({"seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
