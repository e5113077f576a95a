#!/usr/bin/env python3
"""Executable equivalence of the exported pack (docs/export.md).

1. SQLite vs ratcatcher's Sigma engine: the sqlite backend's query of every exported rule runs
   over the events of Sysmon/System logs (event XML and EVTX, read here with python-evtx and
   ElementTree, not with ratcatcher's readers) loaded into one SQLite table per logsource. Its
   (host, time, tool) findings must equal those of `ratcatcher hunt --sigma` over the same files.
2. ratcatcher's Sigma engine on the exported rules vs the KQL pack's rules they carry, over the
   example evidence and the rule-test evidence: every difference is listed with its class.

Usage: equivalence.py BIN EXPORT_DIR --sqlite-inputs PATH... --pack-inputs PATH...
Exit status 0 when (1) is equal, 1 otherwise.
"""

import argparse
import collections
import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
SYSMON = "microsoft-windows-sysmon/operational"
CATEGORIES = {
    (SYSMON, 1): "process_creation",
    (SYSMON, 3): "network_connection",
    (SYSMON, 11): "file_event",
    (SYSMON, 12): "registry_event",
    (SYSMON, 13): "registry_event",
    (SYSMON, 14): "registry_event",
    # registry_set is event 13 alone; its rows are copied from registry_event below
    (SYSMON, 17): "pipe_created",
    (SYSMON, 18): "pipe_created",
    (SYSMON, 22): "dns_query",
}
# What a pack rule finds beyond the single-event logic its exported rules carry.
BEYOND = {
    "rat-tool-file-written": "the pack also takes installers named after a tool, files renamed from a tool binary, files downloaded from a tool's domain (FileOriginUrl) and files whose hash is a tool binary's",
    "rat-registry-persistence": "the pack also takes software, URL-class and service keys named after a tool, its vendor or its service names, and reads an autostart value's binary name exactly",
    "rat-network-to-tool-domain": "the pack reads the host out of a URL (RemoteUrl with scheme or path); the Sigma field is compared whole",
    "rat-dns-to-tool-domain": "the pack reads the host out of the query name's trailing dot",
}
FAMILY_TABLE = {
    "process-image": "process_creation",
    "process-name-variant": "process_creation",
    "process-signed-name": "process_creation",
    "renamed-binary": "process_creation",
    "network-domain": "network_connection",
    "dns-domain": "dns_query",
    "named-pipe": "pipe_created",
    "service-install": "system",
    "file-written": "file_event",
    "registry-key": "registry_event",
    "registry-autostart": "registry_set",
}


def second(t):
    """An ISO timestamp cut to the second (both sides write UTC)."""
    return t.replace(" ", "T")[:19]


def event_rows(xml_text):
    """(table, row) of each event in an XML text (one event or an <Events> list)."""
    root = ET.fromstring(xml_text)
    events = [root] if root.tag == NS + "Event" else root.iter(NS + "Event")
    for ev in events:
        sysel = ev.find(NS + "System")
        if sysel is None:
            continue
        channel = (sysel.findtext(NS + "Channel") or "").strip()
        try:
            eid = int((sysel.findtext(NS + "EventID") or "").strip())
        except ValueError:
            continue
        table = CATEGORIES.get((channel.lower(), eid))
        if table is None and channel.lower() == "system":
            table = "system"
        if table is None:
            continue
        prov = sysel.find(NS + "Provider")
        tc = sysel.find(NS + "TimeCreated")
        row = {
            "Computer": (sysel.findtext(NS + "Computer") or "").strip(),
            "EventID": eid,
            "Channel": channel,
            "Provider_Name": prov.get("Name") if prov is not None else None,
            "EventTime": tc.get("SystemTime") if tc is not None else "",
        }
        data = ev.find(NS + "EventData")
        if data is not None:
            for d in data.findall(NS + "Data"):
                name = d.get("Name")
                if name and name not in row:
                    row[name] = d.text or ""
        yield table, row
        if table == "registry_event" and eid == 13:
            yield "registry_set", dict(row)


def read_events(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for dp, _, fs in os.walk(p):
                files += [os.path.join(dp, f) for f in fs]
        else:
            files.append(p)
    per_file = {}
    for f in sorted(files):
        low = f.lower()
        rows = collections.defaultdict(list)
        records = 0
        try:
            if low.endswith(".xml"):
                with open(f, encoding="utf-8-sig") as fh:
                    text = fh.read()
                records = text.count("<Event ") + text.count("<Event>")
                for t, r in event_rows(text):
                    rows[t].append(r)
            elif low.endswith(".evtx"):
                import Evtx.Evtx as evtx
                with evtx.Evtx(f) as log:
                    for rec in log.records():
                        try:
                            xml = rec.xml()
                        except Exception:  # a record python-evtx cannot render
                            continue
                        records += 1
                        for t, r in event_rows(xml):
                            rows[t].append(r)
            else:
                continue
        except Exception as e:  # a file python-evtx cannot open: left out of both sides
            print("  (not read by python-evtx: %s: %s)" % (f, e))
            continue
        per_file[f] = (records, rows)
    return per_file


def load_sqlite(rows):
    db = sqlite3.connect(":memory:")
    for table, rs in rows.items():
        cols = sorted({k for r in rs for k in r})
        # Sigma compares strings case-insensitively; the backend writes plain `=` and LIKE
        defs = ", ".join('"%s" %s' % (c, "INTEGER" if c == "EventID" else "TEXT COLLATE NOCASE")
                         for c in cols)
        db.execute('CREATE TABLE "%s" (%s)' % (table, defs))
        db.executemany('INSERT INTO "%s" (%s) VALUES (%s)' % (
            table, ", ".join('"%s"' % c for c in cols), ", ".join("?" * len(cols))),
            [[r.get(c) for c in cols] for r in rs])
    return db


def hunt(binary, inputs, extra, summary=None):
    cmd = [binary, "hunt", *inputs, "--all-time", "--format", "jsonl", "--allow-partial", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1, 3):
        sys.exit("hunt failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    out = []
    for line in p.stdout.splitlines() + [l for l in p.stderr.splitlines() if l.startswith('{"summary"')]:
        v = json.loads(line)
        if "summary" not in v:
            out.append(v)
        elif summary is not None:
            summary.update(v["summary"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("export_dir")
    ap.add_argument("--sqlite-inputs", nargs="+", required=True)
    ap.add_argument("--pack-inputs", nargs="+", required=True)
    a = ap.parse_args()
    sigma_dir = os.path.join(a.export_dir, "sigma")
    with open(os.path.join(sigma_dir, "manifest.json")) as f:
        manifest = json.load(f)
    by_id = {r["id"]: r for r in manifest["rules"]}
    ok = True

    # 1. SQLite backend vs ratcatcher's Sigma engine
    per_file = read_events(a.sqlite_inputs)
    # the files both readers read in full: ratcatcher's EVTX reader also recovers records
    # python-evtx does not (slack space of VSS copies); such files are named and left out
    summary = {}
    hunt(a.binary, sorted(per_file), [], summary)
    ours_records = {f["path"]: f["records"] for f in summary["evidence"]["files"]}
    files = []
    for f, (n, _) in sorted(per_file.items()):
        if ours_records.get(f) == n:
            files.append(f)
        else:
            print("  left out: %s: python-evtx read %d records, ratcatcher %s"
                  % (f, n, ours_records.get(f)))
    rows = collections.defaultdict(list)
    for f in files:
        for t, rs in per_file[f][1].items():
            rows[t] += rs
    db = load_sqlite(rows)
    sql_findings = set()
    queries = 0
    for r in manifest["rules"]:
        table = FAMILY_TABLE.get(r["family"])
        path = os.path.join(a.export_dir, "sqlite", os.path.splitext(r["file"])[0] + ".sql")
        if table is None or not os.path.exists(path):
            continue
        if table not in rows:
            continue
        with open(path) as f:
            sql = f.read().strip().replace("<TABLE_NAME>", '"%s"' % table)
        queries += 1
        cur = db.execute(sql)
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            v = dict(zip(names, row))
            sql_findings.add((v["Computer"].lower(), second(v["EventTime"]), r["tool"]))
    ours = set()
    for al in hunt(a.binary, files, ["--sigma", sigma_dir]):
        r = by_id.get(al["rule"]["id"])
        if r and r["tool"]:
            ours.add((al["device"].lower(), second(al["time"]), r["tool"]))
    only_sql, only_ours = sorted(sql_findings - ours), sorted(ours - sql_findings)
    print("equivalence: sqlite backend vs ratcatcher sigma: %d events in %d files, %d queries run, "
          "%d findings by sqlite, %d by ratcatcher, %d only sqlite, %d only ratcatcher"
          % (sum(len(v) for v in rows.values()), len(files), queries, len(sql_findings),
             len(ours), len(only_sql), len(only_ours)))
    for x in only_sql:
        print("  only sqlite:     %s %s %s" % x)
    for x in only_ours:
        print("  only ratcatcher: %s %s %s" % x)
    if only_sql or only_ours or not sql_findings:
        ok = False

    # 2. ratcatcher's Sigma engine on the export vs the KQL pack
    pack_rules = {r["pack_rule"] for r in manifest["rules"] if r["tool"]}
    pack = collections.defaultdict(set)
    for al in hunt(a.binary, a.pack_inputs, []):
        rid = al["rule"]["id"]
        tool = (al.get("row") or {}).get("ToolId")
        if rid in pack_rules and tool:
            pack[rid].add((al["device"].lower(), second(al["time"]), tool))
    sig = collections.defaultdict(set)
    for al in hunt(a.binary, a.pack_inputs, ["--sigma", sigma_dir]):
        r = by_id.get(al["rule"]["id"])
        if r and r["tool"]:
            sig[r["pack_rule"]].add((al["device"].lower(), second(al["time"]), r["tool"]))
    total_same = total_pack = total_sig = 0
    classes = collections.Counter()
    for rule in sorted(pack_rules):
        p, s = pack[rule], sig[rule]
        same = p & s
        total_same += len(same)
        total_pack += len(p)
        total_sig += len(s)
        print("equivalence: %s: pack %d, sigma %d, same %d" % (rule, len(p), len(s), len(same)))
        for side, mine, other in (("pack only", p - s, s), ("sigma only", s - p, p)):
            for (host, t, tool) in sorted(mine):
                if any(h == host and tt == t for (h, tt, _) in other):
                    why = "same event, another tool: catalog entries overlap and the pack ranks one"
                elif side == "pack only" and rule in BEYOND:
                    why = BEYOND[rule]
                elif side == "sigma only" and any(h == host and tl == tool for (h, _, tl) in other):
                    why = "same host and tool at another time: the pack keeps one event per host and tool, Sigma reports each"
                else:
                    why = "unexplained"
                classes[(side, why)] += 1
                print("  %s: %s %s %s: %s" % (side, host, t, tool, why))
    print("equivalence: pack vs sigma: %d pack findings, %d sigma findings, %d the same"
          % (total_pack, total_sig, total_same))
    for (side, why), n in sorted(classes.items()):
        print("  %4d %s: %s" % (n, side, why))
    if any(why == "unexplained" for (_, why) in classes):
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
