#!/usr/bin/env python3
"""Check a folder written by `gen_dpe.py --tables`: rows per table, schema metadata, and the share of
rows that involve a remote access tool, judged from catalog/tools.json (not from the generator):

    python3 bench/hunt/check_tables.py bench/out/hunt-src-20000-0.03

process rows: FileName or ProcessVersionInfoOriginalFileName is a catalog executable (or matches an
executable pattern), or the command line installs a tool MSI; network rows: the initiating binary is
a catalog executable, or RemoteUrl is a catalog domain or under one, or a port is a tool's only;
file and registry rows: the path, key or value names one of the generator's tool brands.
"""
import fnmatch
import glob
import json
import os
import re
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BRANDS = re.compile(r"(?i)teamviewer|anydesk|screenconnect|connectwise|rustdesk|splashtop|atera|logmein|ngrok|"
                    r"code-tunnel|uvnc|ultravnc|winvnc|tvnserver")


def catalog():
    tools = [t for t in json.load(open(os.path.join(ROOT, "catalog", "tools.json"))) if not t["builtin"]]
    exes = {e.lower() for t in tools for e in t["executables"] + t["original_file_names"]}
    pats = [p.lower() for t in tools for p in t["executable_patterns"]]
    doms = {d.lower() for t in tools for d in t["domains"]}
    doms |= {p.lower().split("*")[-1].lstrip(".") for t in tools for p in t["domain_patterns"] if p.startswith("*.")}
    return exes, pats, doms


def main():
    src = sys.argv[1]
    exes, pats, doms = catalog()

    def is_exe(n):
        n = (n or "").lower()
        return n in exes or any(fnmatch.fnmatchcase(n, p) for p in pats)

    def is_dom(u):
        h = (u or "").lower()
        return bool(h) and any(h == d or h.endswith("." + d) for d in doms)

    memo = {}

    def cached(f, v):
        k = (f, v)
        if k not in memo:
            memo[k] = f(v)
        return memo[k]

    total = 0
    for table in ["DeviceProcessEvents", "DeviceNetworkEvents", "DeviceFileEvents", "DeviceRegistryEvents"]:
        files = sorted(glob.glob(f"{src}/{table}/*.parquet"))
        rows = tool = 0
        for f in files:
            pf = pq.ParquetFile(f)
            assert pf.schema_arrow.metadata[b"ratcatcher.table"].decode() == table, f
            t = pf.read()
            rows += t.num_rows
            if table == "DeviceProcessEvents":
                a = t["FileName"].to_pylist()
                b = t["ProcessVersionInfoOriginalFileName"].to_pylist()
                c = pc.match_substring_regex(t["ProcessCommandLine"], r"(?i)/i .*setup\.msi").to_pylist()
                tool += sum(cached(is_exe, x) or cached(is_exe, y) or z for x, y, z in zip(a, b, c))
            elif table == "DeviceNetworkEvents":
                a = t["InitiatingProcessFileName"].to_pylist()
                b = t["RemoteUrl"].to_pylist()
                ports = {5938, 6568, 7070, 21116, 21118, 5900, 8041}
                c = t["RemotePort"].to_pylist()
                d = t["LocalPort"].to_pylist()
                tool += sum(cached(is_exe, x) or cached(is_dom, y) or p in ports or q in ports
                            for x, y, p, q in zip(a, b, c, d))
            else:
                col = "FolderPath" if table == "DeviceFileEvents" else "RegistryKey"
                tool += pc.sum(pc.match_substring_regex(t[col], BRANDS.pattern[4:], ignore_case=True)).as_py() or 0
        total += rows
        print(f"{table:22} {len(files):3} files {rows:>12,} rows  tool rows {tool:>10,} ({tool / max(rows, 1):.4%})")
    print(f"{'total':22} {'':9} {total:>12,} rows")


if __name__ == "__main__":
    main()
