#!/usr/bin/env python3
"""Writes schemas/<Table>.json (the Azure-Sentinel custom-table shape) from Microsoft's Azure
Monitor table reference: the column tables of `azure-monitor-ref/tables/includes/<table>-include.md`
in a checkout of MicrosoftDocs/azure-reference-other.

usage: extract_tables.py REPO_DIR COMMIT OUT_DIR TABLE...
"""
import json
import os
import subprocess
import sys

# Kusto types as the engine holds them: guid columns are strings, decimals are reals.
TYPES = {"string": "string", "datetime": "datetime", "real": "real", "int": "int", "long": "long",
         "dynamic": "dynamic", "bool": "bool", "boolean": "bool", "guid": "string",
         "timespan": "timespan", "decimal": "real", "double": "real"}


# Defender XDR tables as the Microsoft 365 Defender connector streams them into Sentinel: the
# Azure Monitor reference lists their Log Analytics columns but leaves out `Timestamp`, the event
# time of the Advanced Hunting schema, which the copies keep (as the Device* tables in
# crates/telemetry do). It is added first.
DEFENDER = {"AlertEvidence", "AlertInfo", "CloudAppEvents", "EmailAttachmentInfo", "EmailEvents",
            "EmailPostDeliveryEvents", "EmailUrlInfo", "IdentityDirectoryEvents", "IdentityInfo",
            "IdentityLogonEvents", "IdentityQueryEvents", "UrlClickEvents"}


def columns(text):
    """The rows of the first `| Column | Type | Description |` table."""
    out, inside = [], False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not inside:
            inside = len(cells) >= 2 and cells[0] == "Column" and cells[1] == "Type"
            continue
        if set(line.strip()) <= set("|-: "):
            continue
        if not line.startswith("|"):
            break
        out.append((cells[0], cells[1].lower()))
    return out


def main():
    repo, commit, out_dir, tables = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    for table in tables:
        path = f"azure-monitor-ref/tables/includes/{table.lower()}-include.md"
        text = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True,
                              capture_output=True, text=True).stdout
        props = []
        for name, ty in columns(text):
            if ty not in TYPES:
                sys.exit(f"{table}: column {name} has unknown type {ty}")
            props.append({"Name": name, "Type": TYPES[ty]})
        if not props:
            sys.exit(f"{table}: no column table in {path}")
        if table in DEFENDER and not any(p["Name"] == "Timestamp" for p in props):
            props.insert(0, {"Name": "Timestamp", "Type": "datetime"})
        with open(os.path.join(out_dir, f"{table}.json"), "w", encoding="utf-8") as f:
            json.dump({"Name": table, "Properties": props}, f, indent=1)
            f.write("\n")
        print(f"{table}: {len(props)} columns")


main()
