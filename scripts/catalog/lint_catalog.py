#!/usr/bin/env python3
"""Lint catalog/tools.json for executable names that would make a rule name the wrong tool.

Usage:
    python3 scripts/catalog/lint_catalog.py [--catalog PATH] [--doc PATH] [--write]

A process name from the catalog's `executables` names a tool on its own (rat-process-by-name,
rat-service-install), so each such name must belong to that tool. The lint looks for:

* names listed as executables by several tools;
* bundled third-party binaries (build_catalog.BUNDLED_EXECUTABLES) outside their owner, and
  generic names (build_catalog.GENERIC_EXECUTABLES) left as executables;
* names that look generic: made only of common words (remote, desktop, agent, setup, service,
  ...) or of three letters or fewer, unless they contain the tool's own name;
* names that start with another tool's name (a file LOLRMM filed under the wrong product);
* misspellings: a name LOLRMM misspelt (build_catalog.EXECUTABLE_SPELLING), a name one edit
  away from a known original file name (PE OriginalFileName values in the catalog and the
  KNOWN_ORIGINAL_NAMES below), two names of one tool one letter apart, a name one substitution
  away from its tool's id, three equal letters in a row.

Every case must be resolved, either by the generator (the name is ambiguous, belongs to its own
tool, or is spelt right) or by an entry with a reason in the allow-lists below. The cases and how
each is resolved are written to the section of docs/catalog.md between the LINT_BEGIN and
LINT_END markers (--write). Without --write the script fails when that section is out of date.

Exit code: 0 every case resolved and the section current; 1 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent.parent
sys.path.insert(0, str(SCRIPT_DIR))
sys.dont_write_bytecode = True  # no __pycache__ next to the generator
import build_catalog as bc  # noqa: E402  (the generator's rules; PyYAML is not needed here)

DEFAULT_CATALOG = REPO_ROOT / "catalog" / "tools.json"
DEFAULT_DOC = REPO_ROOT / "docs" / "catalog.md"
LINT_BEGIN = "<!-- lint_catalog.py: begin (generated, do not edit) -->"
LINT_END = "<!-- lint_catalog.py: end -->"

# --------------------------------------------------------------------------------------------
# Allow-lists: cases that are correct as they are, each with its reason.
# --------------------------------------------------------------------------------------------

# Names listed as executables by several tools: the exact set of tools, and why that is right
# (one product line of one vendor, or one product LOLRMM files under two names). Rules rank the
# candidates by signer and install folder and keep one.
ACCEPTED_SHARED = {
    "basupapp.exe": ({"beanywhere", "n-able-advanced-monitoring-agent"},
                     "N-able Take Control (formerly BeAnyWhere), which the N-able agent deploys"),
    "basupsrvc.exe": ({"beanywhere", "n-able-advanced-monitoring-agent"},
                      "N-able Take Control (formerly BeAnyWhere), which the N-able agent deploys"),
    "basuptshelper.exe": ({"beanywhere", "n-able-advanced-monitoring-agent"},
                          "N-able Take Control (formerly BeAnyWhere), which the N-able agent "
                          "deploys"),
    "cloudwksinstall.exe": ({"faronics-deep-freeze", "faronics-deploy"},
                            "Faronics' cloud workstation installer, shared by its products"),
    "dcagentservice.exe": ({"manageengine", "manageengine-desktop-central"},
                           "ManageEngine's agent service, shared by its endpoint products"),
    "g2mcomm.exe": ({"gotoassist", "gotomypc"}, "GoTo's communication component"),
    "imperoclientsvc.exe": ({"impero-connect", "netop-remote-control"},
                            "Netop Remote Control is Impero Connect (LOLRMM has both)"),
    "itsmagent.exe": ({"comodo-rmm", "itarian"}, "ITarian is Comodo's RMM (LOLRMM has both)"),
    "rviewer.exe": ({"comodo-rmm", "itarian"}, "ITarian is Comodo's RMM (LOLRMM has both)"),
    "kabuto.app.runner.exe": ({"kabuto", "syncro"}, "Kabuto is Syncro's former name"),
    "laplink.exe": ({"laplink-everywhere", "laplink-gold"}, "Laplink's products share it"),
    "remote workforce client.exe": ({"247ithelp", "screenconnect"},
                                    "247ithelp is a ConnectWise-branded ScreenConnect client"),
    "royalts.exe": ({"royal-apps", "royal-ts"}, "Royal Apps' Royal TS"),
    "rutserv.exe": ({"remote-manipulator-system", "remote-utilities"},
                    "RMS is Remote Utilities' host, rebranded (same binary)"),
    "vncserver.exe": ({"realvnc", "vnc"}, "RealVNC's server; `vnc` is the generic VNC entry"),
    "vncserverui.exe": ({"realvnc", "vnc"}, "RealVNC's server UI; `vnc` is the generic VNC entry"),
    "vncviewer.exe": ({"realvnc", "ultravnc", "vnc"},
                      "the viewer name of several VNC products; `vnc` is the generic VNC entry"),
    "winvnc.exe": ({"ultravnc", "vnc"}, "UltraVNC's server; `vnc` is the generic VNC entry"),
}

# Names that look generic but are the tool's own distinctive binary: (tool, name) -> reason.
ACCEPTED_SPECIFIC = {
    ("ammyy-admin", "aa_v3.exe"): "Ammyy Admin's well-known binary (seed rule)",
    ("baramundi-management-suite", "bma.exe"): "PE OriginalFileName in LOLRMM",
    ("ericom-accessnow", "accessserver.exe"): "Ericom AccessNow's server, also matched by the "
                                              "tool's accessserver*.exe pattern",
    ("faronics-core", "coreagentservice.exe"): "PE OriginalFileName in LOLRMM",
    ("faronics-deep-freeze", "dfc.exe"): "PE OriginalFileName in LOLRMM (Deep Freeze command line)",
    ("faronics-deploy", "modulesupgrademgr.exe"): "PE OriginalFileName in LOLRMM",
    ("gotomypc", "g2m.exe"): "GoTo's g2m prefix",
    ("idrive", "id_tray.exe"): "IDrive's tray program",
    ("kaseya-vsa", "agentmon.exe"): "Kaseya VSA agent's well-known binary",
    ("n-able-advanced-monitoring-agent", "winagent.exe"): "N-able's Windows agent service",
    ("netsupport-manager", "client32.exe"): "NetSupport Manager's client, its best-known name",
    ("nomachine", "nxd.exe"): "NoMachine's server daemon",
    ("pulseway", "pcmonitormanager.exe"): "Pulseway (formerly PC Monitor)",
    ("pulseway", "pcmonitorsrv.exe"): "Pulseway (formerly PC Monitor)",
    ("teamviewer", "tv_w32.exe"): "TeamViewer's helper",
    ("teamviewer", "tv_w64.exe"): "TeamViewer's helper",
    ("teamviewer", "tv_x64.exe"): "TeamViewer's helper",
    ("teleport-connect", "tsh"): "Teleport's client (Linux/macOS)",
    ("teleport-connect", "tsh.exe"): "Teleport's client",
}

# Names that start with another tool's name but are right where they are: (tool, name) -> reason.
ACCEPTED_FOREIGN_BRAND = {
    ("gotoassist", "goto opener.exe"): "GoTo Opener launches GoTo products, GoToAssist included",
    ("syncro", "kabuto.app.runner.exe"): "Kabuto is Syncro's former name",
    ("syncro", "kabuto.installer.exe"): "Kabuto is Syncro's former name",
    ("syncro", "kabuto.service.runner.exe"): "Kabuto is Syncro's former name",
    ("syncro", "kabutosetup.exe"): "Kabuto is Syncro's former name",
}

# Executable patterns whose fixed part looks generic or that match another tool's executable,
# correct as they are: (tool, pattern) -> reason.
ACCEPTED_PATTERNS = {
    ("adobe-connect", "connectappsetup*.exe"): "Adobe Connect's app installer",
    ("adobe-connect", "connectshellsetup*.exe"): "Adobe Connect's shell installer",
    ("ammyy-admin", "aa_v*.exe"): "Ammyy Admin's versioned binary (AA_v3.exe)",
    ("ericom-accessnow", "accessserver*.exe"): "Ericom AccessNow's server",
    ("gotoassist", "g2a*.exe"): "GoToAssist's g2a prefix",
    ("vnc", "winvnc*.exe"): "the generic VNC entry: WinVNC and its derivatives",
    ("wyse-pocket-cloud", "pocketcloud*.exe"): "its own name; SOTI's entry lists "
                                               "pocketcloudservice.exe only as ambiguous",
}

# Pairs of names one edit apart that are two real binaries: frozenset -> reason.
ACCEPTED_NEAR = {
    frozenset({"csexec.exe", "psexec.exe"}): "CSExec is a PsExec clone with its own name",
    frozenset({"dwrcs.exe", "dwrcst.exe"}): "two DameWare binaries (the seed rule lists both)",
    frozenset({"g2comm.exe", "g2mcomm.exe"}): "two GoToMyPC components",
    frozenset({"g2host.exe", "g2mhost.exe"}): "two GoToMyPC components",
    frozenset({"iadmin.exe", "radmin.exe"}): "IntelliAdmin and Radmin, different products",
    frozenset({"ngstw32.exe", "nhstw32.exe"}): "Netop guest and host",
    frozenset({"rcclient.exe", "rdclient.exe"}): "AnyViewer and RdClient, different products",
    frozenset({"rcstartsupport.exe", "rxstartsupport.exe"}): "two RemoteCall starters",
    frozenset({"tv_w64.exe", "tv_x64.exe"}): "TeamViewer's helpers per architecture",
    frozenset({"psexec64.exe", "psexec64a.exe"}): "PsExec's x64 and ARM64 builds",
    frozenset({"paexec.exe", "psexec.exe"}): "PAExec is a PsExec clone with its own name",
}

# Names with three equal letters in a row that are spelt right: name -> reason.
ACCEPTED_TRIPLE = {
    "accessserver.exe": "access + server",
    "itarianremoteaccesssetup.exe": "access + setup",
}

# Original file names we know from vendors and from detection content (Sigma's OriginalFileName
# and Image values), in addition to the PE OriginalFileName values in the catalog. A catalog name
# one edit away from one of these is flagged as a likely misspelling.
KNOWN_ORIGINAL_NAMES = frozenset({
    "psexec.exe", "psexec64.exe", "psexesvc.exe", "paexec.exe", "plink.exe", "pscp.exe",
    "psftp.exe", "putty.exe", "winscp.exe", "rdp2tcp.exe", "winvnc.exe", "tvnserver.exe",
    "tvnviewer.exe", "vncviewer.exe", "vncserver.exe", "anydesk.exe", "teamviewer.exe",
    "teamviewer_service.exe", "rustdesk.exe", "mstsc.exe", "msra.exe", "quickassist.exe",
    "client32.exe", "dwrcs.exe", "ateraagent.exe", "aa_v3.exe", "lmi_rescue.exe",
    "screenconnect.clientservice.exe", "screenconnect.windowsclient.exe", "ngrok.exe",
    "cloudflared.exe", "tailscaled.exe", "meshagent.exe", "rutserv.exe", "rfusclient.exe",
    "7z.exe", "curl.exe", "rclone.exe", "nssm.exe",
})

# Common words that make a name generic when it is made of nothing else.
GENERIC_WORDS = frozenset("""
access admin agent agents app application apps assist assistant audio auto backup base boot
bootstrap bridge broker capture chat check checker classic client cloud cmd config configuration
connect connector console control controller core crash daemon data deploy deployer desk desktop
download elev elevate elevated engine express feedback file files free gateway get guard guest gui
health help helper host http icon id info init install installer inventory key launch launcher
lite loader local log logger login logon main manager master materials message mgr migration mini
module modules mon monitor my native net network new node notification notify online pc ping
player plugin plus portable portal power powershell print printer printing pro process protect
protection proxy push quick record recorder redirect redirector relay remote report reporter run
runner scan scanner scheduler screen secure security server service services session setup share
sharing shell sound srv standalone start starter status store stub support svc sync sys system
task term terminal test testing tool tools transfer tray tunnel uac ui uninstall uninstaller update
updater updates upgrade upload user video view viewer watchdog web win windows worker wrapper
""".split())
ARCH_WORDS = frozenset({"x64", "x86", "w32", "w64", "amd64", "arm64", "win32", "win64"})


# --------------------------------------------------------------------------------------------


def stem(name: str) -> str:
    return name[:-4] if name.endswith(".exe") else name


def compact(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.casefold())


@lru_cache(maxsize=None)
def segments_into_words(s: str) -> bool:
    if not s:
        return True
    for i in range(1, len(s) + 1):
        head = s[:i]
        if (head in GENERIC_WORDS or head in ARCH_WORDS or head.isdigit()) \
                and segments_into_words(s[i:]):
            return True
    return False


def own_words(t) -> set:
    """The distinctive words of a tool's names (not the common words of GENERIC_WORDS)."""
    words = set()
    for n in [t["id"], t["name"], *t["aliases"]]:
        words.update(w for w in re.split(r"[^0-9a-z]+", n.casefold()) if len(w) >= 3)
        words.add(compact(n))
    return {w for w in words if w and w not in GENERIC_WORDS}


def is_own_name(c: str, t) -> bool:
    """The compact stem contains one of the tool's own words, or is part of one of its names."""
    return any(w in c for w in own_words(t)) or any(
        c in compact(n) for n in [t["id"], t["name"], *t["aliases"]])


def looks_generic(name: str, t) -> bool:
    s = stem(name)
    c = compact(s)
    if is_own_name(c, t):
        return False
    if len(re.sub(r"[^a-z]", "", s)) <= 3:
        return True
    parts = [p for p in re.split(r"[^0-9a-z]+", s) if p]
    return all(segments_into_words(p) for p in parts)


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def differs_in_letters(a: str, b: str) -> bool:
    """Ignore differences in separators and digits (fleetdeck-agent / fleetdeck_agent, gp3/gp4)."""
    return re.sub(r"[^a-z]", "", a) != re.sub(r"[^a-z]", "", b)


# --------------------------------------------------------------------------------------------


class Case:
    def __init__(self, kind, name, tools, resolution, ok):
        self.kind, self.name, self.tools = kind, name, sorted(tools)
        self.resolution, self.ok = resolution, ok


def lint(tools) -> list:
    cases = []
    by_id = {t["id"]: t for t in tools}

    # 1. Names under several tools.
    owners = defaultdict(set)
    for t in tools:
        for x in t["executables"]:
            owners[x].add(t["id"])
    for x, ids in sorted(owners.items()):
        if len(ids) < 2:
            continue
        acc = ACCEPTED_SHARED.get(x)
        if acc and acc[0] == ids:
            cases.append(Case("shared", x, ids, f"accepted: {acc[1]}", True))
        else:
            cases.append(Case("shared", x, ids, "executable of several tools: make it ambiguous, "
                              "give it an owner, or accept it (ACCEPTED_SHARED)", False))
    for x, (ids, _) in sorted(ACCEPTED_SHARED.items()):
        if owners.get(x) != ids:
            cases.append(Case("shared", x, ids, "stale ACCEPTED_SHARED entry (the tools differ)",
                              False))

    # 2. Bundled binaries and generic names, as the generator resolved them.
    ambiguous = defaultdict(set)
    for t in tools:
        for x in t["ambiguous_executables"]:
            ambiguous[x].add(t["id"])
        for f in ("executables", "original_file_names"):
            for x in t[f]:
                if x in bc.BUNDLED_EXECUTABLES and bc.BUNDLED_EXECUTABLES[x] != t["id"]:
                    cases.append(Case("bundled", x, [t["id"]], f"in {f} of a tool that only "
                                      "bundles it (BUNDLED_EXECUTABLES)", False))
        for x in t["executables"]:
            if x in bc.GENERIC_EXECUTABLES:
                cases.append(Case("generic", x, [t["id"]], "generic name left as an executable",
                                  False))
    for x, owner in sorted(bc.BUNDLED_EXECUTABLES.items()):
        bundlers = ambiguous.get(x, set()) - {owner}
        if owner and (owner not in by_id or x not in by_id[owner]["executables"]):
            cases.append(Case("bundled", x, [owner or "-"], "owner does not list it", False))
        if bundlers:
            where = f"executable of `{owner}`" if owner else "no catalog tool owns it"
            cases.append(Case("bundled", x, bundlers, f"ambiguous; {where}", True))
    for x, ids in sorted(ambiguous.items()):
        if x in bc.GENERIC_EXECUTABLES:
            cases.append(Case("generic", x, ids, "ambiguous (GENERIC_EXECUTABLES)", True))

    # 3. Names that look generic.
    for t in tools:
        for x in t["executables"]:
            if x in bc.GENERIC_EXECUTABLES or not looks_generic(x, t):
                continue
            reason = ACCEPTED_SPECIFIC.get((t["id"], x))
            if reason:
                cases.append(Case("generic", x, [t["id"]], f"accepted: {reason}", True))
            else:
                cases.append(Case("generic", x, [t["id"]], "looks generic: add it to "
                                  "GENERIC_EXECUTABLES or accept it (ACCEPTED_SPECIFIC)", False))
    for (tid, x), _ in sorted(ACCEPTED_SPECIFIC.items()):
        t = by_id.get(tid)
        if not t or x not in t["executables"] or not looks_generic(x, t):
            cases.append(Case("generic", x, [tid], "stale ACCEPTED_SPECIFIC entry", False))

    # 4. Names that start with another tool's name.
    brands = defaultdict(set)
    for t in tools:
        for n in (t["id"], t["name"]):
            if len(compact(n)) >= 5:
                brands[compact(n)].add(t["id"])
    seen_foreign = set()
    for t in tools:
        for x in t["executables"]:
            c = compact(stem(x))
            if is_own_name(c, t):
                continue
            others = sorted({i for b, ids in brands.items() if c.startswith(b) for i in ids}
                            - {t["id"]})
            if not others:
                continue
            seen_foreign.add((t["id"], x))
            reason = ACCEPTED_FOREIGN_BRAND.get((t["id"], x))
            if reason:
                cases.append(Case("foreign", x, [t["id"]], f"named after {', '.join(others)}; "
                                  f"accepted: {reason}", True))
            else:
                cases.append(Case("foreign", x, [t["id"]], f"named after {', '.join(others)}: "
                                  "give it an owner (BUNDLED_EXECUTABLES) or accept it", False))
    for key in sorted(set(ACCEPTED_FOREIGN_BRAND) - seen_foreign):
        cases.append(Case("foreign", key[1], [key[0]], "stale ACCEPTED_FOREIGN_BRAND entry",
                          False))

    # 5. Executable patterns.
    every = [(t["id"], x) for t in tools for x in t["executables"] + t["ambiguous_executables"]]
    seen_patterns = set()
    for t in tools:
        for p in t["executable_patterns"]:
            fixed = re.sub(r"[_.\- ]+$", "", p.split("*")[0].split("?")[0])
            generic = not fixed or looks_generic(fixed + ".exe", t)
            hits = sorted({i for i, x in every if i != t["id"] and fnmatch.fnmatchcase(x, p)})
            if not generic and not hits:
                continue
            seen_patterns.add((t["id"], p))
            why = ("fixed part looks generic" if generic else "") + \
                  ("; " if generic and hits else "") + \
                  (f"matches names of {', '.join(hits)}" if hits else "")
            reason = ACCEPTED_PATTERNS.get((t["id"], p))
            if reason:
                cases.append(Case("pattern", p, [t["id"]], f"{why}; accepted: {reason}", True))
            else:
                cases.append(Case("pattern", p, [t["id"]], f"{why}: give it an owner or drop it "
                                  "(BUNDLED_PATTERNS), or accept it (ACCEPTED_PATTERNS)", False))
    for key in sorted(set(ACCEPTED_PATTERNS) - seen_patterns):
        cases.append(Case("pattern", key[1], [key[0]], "stale ACCEPTED_PATTERNS entry", False))
    for p, owner in sorted(bc.BUNDLED_PATTERNS.items()):
        if owner and p not in by_id.get(owner, {}).get("executable_patterns", []):
            cases.append(Case("pattern", p, [owner], "owner does not list it", False))
        else:
            cases.append(Case("pattern", p, [owner] if owner else [],
                              f"pattern of `{owner}` (BUNDLED_PATTERNS)" if owner
                              else "dropped: generic (BUNDLED_PATTERNS)", True))

    # 6. Spelling.
    text = {t["id"]: json.dumps(t, ensure_ascii=False).casefold() for t in tools}
    for wrong, right in sorted(bc.EXECUTABLE_SPELLING.items()):
        pat = re.compile(r"(?<![a-z0-9_.-])" + re.escape(wrong))
        found = [tid for tid, s in text.items() if pat.search(s)]
        fixed = [tid for tid, t in by_id.items() if right in t["executables"]
                 or right in t["ambiguous_executables"]]
        if found:
            cases.append(Case("spelling", wrong, found, f"misspelling of {right} still in the "
                              "catalog", False))
        else:
            cases.append(Case("spelling", wrong, fixed, f"spelt {right} (EXECUTABLE_SPELLING); "
                              "tools listed are those with the right name", True))
    known = set(KNOWN_ORIGINAL_NAMES)
    for t in tools:
        known.update(x for x in t["original_file_names"] if x.endswith(".exe"))
    names = defaultdict(set)
    for t in tools:
        for x in t["executables"] + t["original_file_names"]:
            names[x].add(t["id"])
    flagged = set()
    for x in sorted(names):
        for k in sorted(known):
            if one_edit(x, k) and differs_in_letters(x, k):
                flagged.add(frozenset({x, k}))
    for t in tools:
        own_names = sorted(set(t["executables"] + t["original_file_names"]))
        for i, a in enumerate(own_names):
            for b in own_names[i + 1:]:
                if one_edit(a, b) and differs_in_letters(a, b):
                    flagged.add(frozenset({a, b}))
    for pair in sorted(flagged, key=sorted):
        a, b = sorted(pair)
        ids = names.get(a, set()) | names.get(b, set())
        reason = ACCEPTED_NEAR.get(pair)
        if reason:
            cases.append(Case("spelling", f"{a} / {b}", ids, f"accepted: {reason}", True))
        else:
            cases.append(Case("spelling", f"{a} / {b}", ids, "one edit apart: fix the misspelt "
                              "one (EXECUTABLE_SPELLING) or accept the pair (ACCEPTED_NEAR)",
                              False))
    for pair in sorted(set(ACCEPTED_NEAR) - flagged, key=sorted):
        cases.append(Case("spelling", " / ".join(sorted(pair)), [], "stale ACCEPTED_NEAR entry",
                          False))
    for t in tools:
        for x in t["executables"]:
            s = compact(stem(x))
            for n in {compact(t["id"]), compact(t["name"])}:
                if len(s) == len(n) and one_edit(s, n):
                    cases.append(Case("spelling", x, [t["id"]], f"one letter off the tool's name "
                                      f"({n})", False))
    triples = {x: ids for x, ids in names.items() if re.search(r"([a-z])\1\1", x)}
    for x, ids in sorted(triples.items()):
        if x in ACCEPTED_TRIPLE:
            cases.append(Case("spelling", x, ids, f"accepted: {ACCEPTED_TRIPLE[x]}", True))
        else:
            cases.append(Case("spelling", x, ids, "three equal letters in a row", False))
    for x in sorted(set(ACCEPTED_TRIPLE) - set(triples)):
        cases.append(Case("spelling", x, [], "stale ACCEPTED_TRIPLE entry", False))
    return cases


SECTIONS = (
    ("shared", "Executables listed by several tools"),
    ("bundled", "Bundled binaries (`BUNDLED_EXECUTABLES`)"),
    ("generic", "Generic names"),
    ("foreign", "Names of another tool"),
    ("pattern", "Executable patterns"),
    ("spelling", "Spelling"),
)


def render(cases, tools) -> str:
    bad = [c for c in cases if not c.ok]
    n_exe = len({x for t in tools for x in t["executables"]})
    n_amb = len({x for t in tools for x in t["ambiguous_executables"]})
    lines = [LINT_BEGIN, "",
             f"`scripts/catalog/lint_catalog.py` over {len(tools)} tools ({n_exe} executable "
             f"names, {n_amb} ambiguous names): {len(cases)} cases, "
             f"{len(cases) - len(bad)} resolved, {len(bad)} open. Resolutions: *ambiguous* "
             "(the name counts only with the tool's signer), *executable of X* (the name "
             "belongs to tool X), *spelt …* (the generator corrects LOLRMM's spelling), "
             "*accepted* (an allow-list entry in the lint script, with its reason)."]
    for kind, title in SECTIONS:
        rows = sorted((c for c in cases if c.kind == kind),
                      key=lambda c: (c.ok, "accepted" in c.resolution, c.name, c.tools))
        if not rows:
            continue
        lines += ["", f"#### {title}", "", "| name | tools | resolution |", "|---|---|---|"]
        for c in rows:
            mark = "" if c.ok else "**OPEN** "
            tools_s = ", ".join(f"`{i}`" for i in c.tools) or "–"
            name = c.name.replace("|", "\\|")
            lines.append(f"| `{name}` | {tools_s} | {mark}{c.resolution} |")
    lines += ["", LINT_END]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    ap.add_argument("--doc", default=str(DEFAULT_DOC))
    ap.add_argument("--write", action="store_true",
                    help="rewrite the lint section of the doc (between the markers)")
    args = ap.parse_args(argv)

    tools = json.loads(Path(args.catalog).read_text(encoding="utf-8"))
    cases = lint(tools)
    section = render(cases, tools)
    doc_path = Path(args.doc)
    doc = doc_path.read_text(encoding="utf-8")
    if doc.count(LINT_BEGIN) != 1 or doc.count(LINT_END) != 1:
        print(f"lint_catalog: {doc_path} needs one {LINT_BEGIN!r} and one {LINT_END!r} line",
              file=sys.stderr)
        return 1
    start = doc.index(LINT_BEGIN)
    end = doc.index(LINT_END) + len(LINT_END) + 1
    new_doc = doc[:start] + section + doc[end:]
    bad = [c for c in cases if not c.ok]
    for c in bad:
        print(f"OPEN {c.kind}: {c.name} ({', '.join(c.tools)}): {c.resolution}", file=sys.stderr)
    print(f"lint: {len(cases)} cases, {len(cases) - len(bad)} resolved, {len(bad)} open",
          file=sys.stderr)
    stale = new_doc != doc
    if args.write:
        if stale:
            doc_path.write_text(new_doc, encoding="utf-8")
            print(f"lint: updated {doc_path}", file=sys.stderr)
    elif stale:
        print(f"lint: the lint section of {doc_path} is out of date (run with --write)",
              file=sys.stderr)
    return 1 if bad or (stale and not args.write) else 0


if __name__ == "__main__":
    sys.exit(main())
