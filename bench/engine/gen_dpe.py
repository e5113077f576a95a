#!/usr/bin/env python3
"""Generate a synthetic DeviceProcessEvents table as Parquet for the KQL engine benchmark.

    python3 bench/engine/gen_dpe.py [--rows 10000000] [--out bench/out/dpe-10m.parquet]
    python3 bench/engine/gen_dpe.py --rows N --tables [--tool-rate 0.001] --out DIR   # multi-table

Deterministic (fixed RNG seed): the same arguments give the same rows. Shape of the data:
  * ~5k devices (skewed: a few busy servers, many quiet workstations);
  * ~2k distinct FileNames: common Windows binaries (heavy), generated application names
    (long tail), ~3% rows with remote-access tool names from the seed query's list in varied
    case (TeamViewer.exe, ANYDESK.EXE, Setup-AnyDesk.exe, tmate, ...), ~1% near-misses that
    must NOT match `has_any` (tightvnc.exe, anydesk2.exe, teamviewerqs.exe, ...);
  * ProcessCommandLine ~100-400 chars (quoted image path, arguments, a per-row number so the
    column is nearly unique), InitiatingProcess* from a realistic weighted set of parents;
  * Timestamp uniform over the 24h before 2024-03-15T12:00:00Z, plus 0.5% of rows 24-48h old
    (dropped by the seed's `ago(24h)`), as timestamp[ns, tz=UTC];
  * strings as plain utf8 (not large_string, not dictionary), Snappy, 1M-row row groups.

Multi-table mode (--tables, for bench/hunt/run.sh): DIR/<Table>/part-NNNNN.parquet, one part file
per 1M rows of a table (written in 250k-row row groups, so memory stays ~0.7 GB at any size), the
Arrow schema metadata `ratcatcher.table` naming the table; DIR is written as DIR.tmp and renamed
when complete. N rows split as DeviceProcessEvents 30%, DeviceNetworkEvents 35%, DeviceFileEvents
20%, DeviceRegistryEvents 15%; columns are a subset of crates/telemetry/src/schema.rs (same names,
order and Arrow types: RemotePort/LocalPort int32, ids and sizes int64) covering what rules/*.yaml
read. --tool-rate R (0.001 realistic, 0.03 stress) is the share of each table's rows that involve a
remote access tool (TOOLS below: real catalog/tools.json names, signers, domains, ports, artifact
paths and registry keys; plus the seed's RAT names in the process table). Tool rows happen on 10%
of the devices, mostly with that device's own tool: process starts (installed, portable in
Downloads, renamed to a Windows name, launched by Office/script hosts, installers and tunnels),
connections to tool domains or bare IPs by the tool's binary and listeners on tool ports, files the
tools write (binaries, logs, configs, downloads with their origin URL) and registry writes (the
tools' keys, services, Run values). Other rows look like ordinary Windows telemetry (the process
pool above with ~1% near-misses, browsers to common sites, svchost/Defender/Office to Microsoft
endpoints, temp/cache/prefetch files, Run keys, services, explorer keys). The same 5k-device pool
(same RNG calls as above) in every table; the same timestamp distribution.
"""
import argparse
import hashlib
import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

NOW = np.datetime64("2024-03-15T12:00:00", "ns").astype(np.int64)
HOUR = 3600 * 10**9
CHUNK = 1_000_000
SEED = 20240315

COMMON = """svchost.exe conhost.exe cmd.exe powershell.exe rundll32.exe taskhostw.exe backgroundTaskHost.exe
RuntimeBroker.exe SearchProtocolHost.exe SearchFilterHost.exe dllhost.exe WmiPrvSE.exe msiexec.exe reg.exe sc.exe
net.exe net1.exe whoami.exe ipconfig.exe tasklist.exe schtasks.exe wevtutil.exe certutil.exe bitsadmin.exe
mshta.exe wscript.exe cscript.exe regsvr32.exe chrome.exe msedge.exe firefox.exe OUTLOOK.EXE WINWORD.EXE
EXCEL.EXE ms-teams.exe OneDrive.exe git.exe python.exe node.exe java.exe Code.exe notepad.exe explorer.exe
smartscreen.exe sppsvc.exe MsMpEng.exe MpCmdRun.exe CompatTelRunner.exe wuauclt.exe TiWorker.exe
TrustedInstaller.exe consent.exe WerFault.exe ctfmon.exe sihost.exe userinit.exe winlogon.exe gpupdate.exe
wermgr.exe SenseNdr.exe MsSense.exe SenseCncProxy.exe MpDefenderCoreService.exe audiodg.exe fontdrvhost.exe
dwm.exe LogonUI.exe taskkill.exe findstr.exe where.exe curl.exe tar.exe robocopy.exe xcopy.exe
netsh.exe nslookup.exe ping.exe arp.exe route.exe quser.exe query.exe hostname.exe systeminfo.exe
""".split()

# The seed query's RAT names, in several spellings, and names around them.
RAT = """teamviewer.exe TeamViewer.exe TEAMVIEWER.EXE TeamViewer_Service.exe AnyDesk.exe anydesk.exe ANYDESK.EXE
Setup-AnyDesk.exe ScreenConnect.ClientService.exe ScreenConnectClient.exe screenconnect.exe
ConnectWiseControl.Client.exe LogMeIn.exe lmi_rescue.exe LogMeInRescue.exe AmmyyAdmin.exe AA_v3.exe
Supremo.exe SupremoService.exe rustdesk.exe RustDesk.exe Splashtop.exe SplashtopRemote.exe
AteraAgent.exe NinjaOne.exe ninjaremote.exe SimpleHelp.exe DWRCS.EXE dwrcst.exe tmate tmate.exe vnc.exe
tvnserver.exe vncviewer.exe uvnc_service.exe winvnc.exe WinVNC.exe RemoteDesktopManager.exe mstsc.exe
MSTSC.EXE chrome_remote_desktop.exe remote_assistance_host.exe TeamViewer.exe.config
""".split()
NEAR_MISS = """tightvnc.exe anydesk2.exe teamviewerqs.exe myteamviewer.exe rustdesk_portable.exe vncviewer64.exe
mstsc64.exe ammyy.exe logmein_installer.exe AnyDesk-Setup.exe splashtopstreamer.exe ateraagentx.exe
supremohelper.exe ninja.exe teamviewer_desktop.exe xwinvnc.exe remotedesktopmanager64.exe dwrcs2.exe
""".split()

PARENTS = [  # (name, folder, weight)
    ("services.exe", r"C:\Windows\System32", 14), ("svchost.exe", r"C:\Windows\System32", 18),
    ("explorer.exe", r"C:\Windows", 14), ("cmd.exe", r"C:\Windows\System32", 8),
    ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0", 7),
    ("Explorer.EXE", r"C:\Windows", 3), ("wmiprvse.exe", r"C:\Windows\System32\wbem", 3),
    ("msiexec.exe", r"C:\Windows\System32", 3), ("taskeng.exe", r"C:\Windows\System32", 2),
    ("userinit.exe", r"C:\Windows\System32", 2), ("winlogon.exe", r"C:\Windows\System32", 2),
    ("chrome.exe", r"C:\Program Files\Google\Chrome\Application", 4),
    ("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", 3),
    ("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16", 2),
    ("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16", 1),
    ("MsSense.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection", 3),
    ("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0", 2),
    ("Code.exe", r"C:\Users\Public\AppData\Local\Programs\Microsoft VS Code", 1),
    ("python.exe", r"C:\Python311", 1), ("java.exe", r"C:\Program Files\Java\jre-1.8\bin", 1),
    ("CcmExec.exe", r"C:\Windows\CCM", 2), ("wscript.exe", r"C:\Windows\System32", 1),
    ("rundll32.exe", r"C:\Windows\System32", 1), ("taskhostw.exe", r"C:\Windows\System32", 2),
    ("pwsh.exe", r"C:\Program Files\PowerShell\7", 1), ("sihost.exe", r"C:\Windows\System32", 1),
    ("TeamViewer_Service.exe", r"C:\Program Files\TeamViewer", 1),
]

WORDS = """update helper service agent host setup install config sync runner launcher broker monitor
client worker collector daemon tray manager scheduler indexer backup report notify render crash""".split()
VENDORS = """acme contoso fabrikam northwind adventure litware tailspin wingtip proseware woodgrove fourth
coho alpine blue lucerne margie trey wide consolidated humongous graphic lamna relecloud""".split()
ARG_TOKENS = """-k --config /quiet /norestart -ExecutionPolicy Bypass -NoProfile -WindowStyle Hidden /c start
--type=renderer --lang=en-US --field-trial-handle=1844 --mojo-platform-channel-handle=2200 /s /f /t 0
-Embedding --profile-directory=Default /install /silent -Command Get-ChildItem C:\\ProgramData\\Temp
%TEMP%\\setup.log --log-level=info --user-data-dir=C:\\Users\\Public\\AppData -EncodedCommand
SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA /update /verysilent
""".split()


def sha(s, n=64):
    return hashlib.sha256(s.encode()).hexdigest()[:n]


def build_pools(rng):
    names, weights = [], []
    names += COMMON
    weights += list(60.0 / np.arange(1, len(COMMON) + 1) ** 0.8)  # Zipf-like head
    generated = sorted({f"{v}{w}{('' if i % 3 else str(i % 97))}.exe" for i, (v, w) in enumerate(
        (v, w) for v in VENDORS for w in WORDS)})
    generated += [f"{v}_{w}_{i}.exe" for i in range(3) for v in VENDORS for w in WORDS]
    generated = generated[: 2000 - len(COMMON) - len(RAT) - len(NEAR_MISS)]
    names += generated
    weights += list(rng.pareto(1.5, len(generated)) + 0.05)
    base = sum(weights)
    # RAT names ~3% of rows, near-misses ~1%.
    names += RAT
    weights += [0.03 / 0.96 * base / len(RAT)] * len(RAT)
    names += NEAR_MISS
    weights += [0.01 / 0.96 * base / len(NEAR_MISS)] * len(NEAR_MISS)
    w = np.array(weights)
    folders = []
    for n in names:
        if n in COMMON:
            folders.append(r"C:\Windows\System32")
        else:
            vendor = n.split(".")[0].split("_")[0].split("-")[-1]
            folders.append(rf"C:\Program Files\{vendor.capitalize()}\{vendor.capitalize()} Client\bin")
    return names, w / w.sum(), folders


def gen_single(args):
    """The original single-file DeviceProcessEvents mode (bench/engine/run.sh): unchanged output."""
    rng = np.random.default_rng(SEED)

    names, name_p, folders = build_pools(rng)
    name_arr = pa.array(names, pa.string())
    folder_path = pa.array([f"{f}\\{n}" for f, n in zip(folders, names)], pa.string())
    sha_arr = pa.array([sha(f"{n}#{v}") for n in names for v in range(3)], pa.string())

    n_dev = 5000
    dev_p = rng.lognormal(0, 1.2, n_dev)
    dev_p /= dev_p.sum()
    dev_name = pa.array([f"{'srv' if i < 300 else 'wks'}-{i:05d}.corp.contoso.com" for i in range(n_dev)])
    dev_id = pa.array([sha(f"device{i}", 40) for i in range(n_dev)])

    users = [f"user{i:05d}" for i in range(8000)]
    acct_names = ["system", "local service", "network service"] + users
    acct_dom = ["nt authority"] * 3 + [["contoso", "fabrikam", "corp"][i % 3] for i in range(len(users))]
    acct_p = np.concatenate([[0.40, 0.05, 0.05], 0.5 * (u := rng.pareto(1.2, len(users)) + 0.1) / u.sum()])
    acct_p /= acct_p.sum()
    acct_names, acct_dom = pa.array(acct_names), pa.array(acct_dom)

    par_p = np.array([w for _, _, w in PARENTS], float)
    par_p /= par_p.sum()
    par_name = pa.array([n for n, _, _ in PARENTS])
    par_path = pa.array([f"{f}\\{n}" for n, f, _ in PARENTS])
    K = 500  # distinct command lines per parent
    par_cmd = []
    for n, f, _ in PARENTS:
        for k in rng.integers(1, 18, K).tolist():
            toks = [ARG_TOKENS[t] for t in rng.integers(0, len(ARG_TOKENS), k).tolist()]
            par_cmd.append(f'"{f}\\{n}" ' + " ".join(toks))
    par_cmd = pa.array(par_cmd)

    # Argument tails for ProcessCommandLine, sized so the whole line is ~100-400 chars.
    tok = rng.integers(0, len(ARG_TOKENS), (20000, 60)).tolist()
    tails = []
    for target, row in zip(rng.integers(60, 280, 20000).tolist(), tok):
        s = ""
        for t in row:
            if len(s) >= target:
                break
            s += " " + ARG_TOKENS[t]
        tails.append(s[1:])
    tails = pa.array(tails)

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    schema = pa.schema([
        ("Timestamp", pa.timestamp("ns", tz="UTC")), ("DeviceId", pa.string()), ("DeviceName", pa.string()),
        ("ActionType", pa.string()), ("FileName", pa.string()), ("FolderPath", pa.string()),
        ("SHA256", pa.string()), ("ProcessId", pa.int64()), ("ProcessCommandLine", pa.string()),
        ("AccountDomain", pa.string()), ("AccountName", pa.string()),
        ("InitiatingProcessFileName", pa.string()), ("InitiatingProcessFolderPath", pa.string()),
        ("InitiatingProcessId", pa.int64()), ("InitiatingProcessCommandLine", pa.string()),
        ("ReportId", pa.int64()),
    ])
    tmp = args.out + ".tmp"
    with pq.ParquetWriter(tmp, schema, compression="snappy") as w:
        for start in range(0, args.rows, CHUNK):
            n = min(CHUNK, args.rows - start)
            age = rng.integers(1, 24 * HOUR, n)
            old = rng.random(n) < 0.005
            age[old] += 24 * HOUR
            ts = pa.array(NOW - age, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
            fi = rng.choice(len(names), n, p=name_p)
            di = rng.choice(n_dev, n, p=dev_p)
            ai = rng.choice(len(acct_p), n, p=acct_p)
            pi = rng.choice(len(PARENTS), n, p=par_p)
            fpath = folder_path.take(fi)
            pcmd = pc.binary_join_element_wise(
                pc.binary_join_element_wise('"', fpath, '"', ""),
                tails.take(rng.integers(0, len(tails), n)),
                pc.cast(pa.array(rng.integers(0, 10**9, n)), pa.string()), " ")
            batch = pa.table([
                ts, dev_id.take(di), dev_name.take(di), pa.array(["ProcessCreated"] * n, pa.string()),
                name_arr.take(fi), fpath, sha_arr.take(fi * 3 + rng.integers(0, 3, n)),
                pa.array(rng.integers(4, 65536, n) * 4), pcmd, acct_dom.take(ai), acct_names.take(ai),
                par_name.take(pi), par_path.take(pi), pa.array(rng.integers(4, 65536, n) * 4),
                par_cmd.take(pi * K + rng.integers(0, K, n)), pa.array(np.arange(start, start + n) % 100000),
            ], schema=schema)
            w.write_table(batch, row_group_size=CHUNK)
            print(f"{start + n:>12,} rows", flush=True)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.0f} MiB)")


# ---------------------------------------------------------------------------------------------
# Multi-table mode (--tables): DeviceProcessEvents, DeviceNetworkEvents, DeviceFileEvents and
# DeviceRegistryEvents as folders of Parquet part files, with a given share of remote-access-tool
# rows in each table. The names, folders, signers, domains, ports, artifact paths and registry keys
# of the tools are real ones from catalog/tools.json (copied here so the output does not change
# when the catalog does).
# ---------------------------------------------------------------------------------------------

SUB = 250_000  # rows generated at once in the multi-table mode (a row group)
TABLE_SHARES = [("DeviceProcessEvents", 0.30), ("DeviceNetworkEvents", 0.35),
                ("DeviceFileEvents", 0.20), ("DeviceRegistryEvents", 0.15)]

# Near-misses of the seed query that are real catalog executables (teamviewerqs.exe, ...),
# installer-shaped tool names (AnyDesk-Setup.exe) or a product's own name (tightvnc.exe,
# splashtopstreamer.exe: rat-tool-installer rightly flags them when the random arguments carry
# /silent or /install): in the multi-table mode they would be tool rows, so only the others are
# kept as near-misses there.
NEAR_MISS_TOOL = {"teamviewerqs.exe", "rustdesk_portable.exe", "supremohelper.exe", "teamviewer_desktop.exe",
                  "anydesk-setup.exe", "logmein_installer.exe", "tightvnc.exe", "splashtopstreamer.exe"}

TS = pa.timestamp("ns", tz="UTC")
S, I64, I32 = pa.string(), pa.int64(), pa.int32()

# Columns in the order of crates/telemetry/src/schema.rs (a subset), with its Arrow types.
SCHEMAS = {
    "DeviceProcessEvents": [
        ("Timestamp", TS), ("DeviceId", S), ("DeviceName", S), ("ActionType", S), ("FileName", S),
        ("FolderPath", S), ("SHA256", S), ("FileSize", I64), ("ProcessVersionInfoCompanyName", S),
        ("ProcessVersionInfoProductName", S), ("ProcessVersionInfoOriginalFileName", S), ("ProcessId", I64),
        ("ProcessCommandLine", S), ("AccountDomain", S), ("AccountName", S), ("AccountSid", S),
        ("InitiatingProcessAccountDomain", S), ("InitiatingProcessAccountName", S),
        ("InitiatingProcessFileName", S), ("InitiatingProcessId", I64), ("InitiatingProcessCommandLine", S),
        ("InitiatingProcessFolderPath", S), ("InitiatingProcessParentFileName", S), ("ReportId", I64),
    ],
    "DeviceNetworkEvents": [
        ("Timestamp", TS), ("DeviceId", S), ("DeviceName", S), ("ActionType", S), ("RemoteIP", S),
        ("RemotePort", I32), ("RemoteUrl", S), ("LocalIP", S), ("LocalPort", I32), ("Protocol", S),
        ("InitiatingProcessFileName", S), ("InitiatingProcessVersionInfoCompanyName", S),
        ("InitiatingProcessId", I64), ("InitiatingProcessCommandLine", S), ("InitiatingProcessFolderPath", S),
        ("InitiatingProcessAccountDomain", S), ("InitiatingProcessAccountName", S), ("ReportId", I64),
    ],
    "DeviceFileEvents": [
        ("Timestamp", TS), ("DeviceId", S), ("DeviceName", S), ("ActionType", S), ("FileName", S),
        ("FolderPath", S), ("SHA256", S), ("FileOriginUrl", S), ("PreviousFileName", S), ("FileSize", I64),
        ("InitiatingProcessAccountDomain", S), ("InitiatingProcessAccountName", S),
        ("InitiatingProcessFolderPath", S), ("InitiatingProcessFileName", S), ("InitiatingProcessId", I64),
        ("InitiatingProcessCommandLine", S), ("ReportId", I64),
    ],
    "DeviceRegistryEvents": [
        ("Timestamp", TS), ("DeviceId", S), ("DeviceName", S), ("ActionType", S), ("RegistryKey", S),
        ("RegistryValueType", S), ("RegistryValueName", S), ("RegistryValueData", S),
        ("InitiatingProcessAccountDomain", S), ("InitiatingProcessAccountName", S),
        ("InitiatingProcessFileName", S), ("InitiatingProcessVersionInfoCompanyName", S),
        ("InitiatingProcessId", I64), ("InitiatingProcessCommandLine", S), ("InitiatingProcessFolderPath", S),
        ("ReportId", I64),
    ],
}

# Placeholders in templates, filled per row: {u} user name, {s} that user's SID, {r} a random token,
# {h} a random SHA256, {n} a random number.
PH = {"u": 1, "s": 2, "r": 3, "h": 4, "n": 5}

PF, PF86 = r"C:\Program Files", r"C:\Program Files (x86)"
SC_ID = "8c5d2a1f3b7e9d04"
SC_DIR = rf"{PF86}\ScreenConnect Client ({SC_ID})"
SPLASH_DIR = rf"{PF86}\Splashtop\Splashtop Remote\Server"
ATERA_DIR = rf"{PF}\ATERA Networks\AteraAgent"
CODE_DIR = r"C:\Users\{u}\AppData\Local\Programs\Microsoft VS Code"
NGROK_DIR = r"C:\Users\{u}\Downloads\ngrok-v3-stable-windows-amd64"
HKLM, HKCU = "HKEY_LOCAL_MACHINE", r"HKEY_CURRENT_USER\{s}"
SVC = HKLM + r"\SYSTEM\ControlSet001\Services"
RUN = r"\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"

# One entry per tool: executables (as they are spelled on disk), folder, signer, product, process
# arguments, domains, the port it connects to, the port it listens on, files it writes, registry
# writes (key, value name, type, data) and a download URL of its installer.
TOOLS = [
    dict(id="teamviewer", exes=["TeamViewer.exe", "TeamViewer_Service.exe", "tv_x64.exe"], folder=rf"{PF}\TeamViewer",
         company="TeamViewer Germany GmbH", product="TeamViewer", args=["", "--service", "-Embedding"],
         domains=["router15.teamviewer.com", "client.teamviewer.com", "master14.teamviewer.com", "taf.teamviewer.com"],
         port=5938, listen=5938,
         files=[rf"{PF}\TeamViewer\TeamViewer.exe", rf"{PF}\TeamViewer\Connections_incoming.txt",
                rf"{PF}\TeamViewer\TVNetwork.log", rf"{PF}\TeamViewer\TeamViewer15_Logfile.log"],
         reg=[(HKLM + r"\SOFTWARE\TeamViewer", "ClientID", "REG_DWORD", "{n}"),
              (HKLM + r"\SOFTWARE\TeamViewer\ConnectionHistory", "LastIncomingConnection", "REG_SZ", "{n}"),
              (SVC + r"\TeamViewer", "ImagePath", "REG_EXPAND_SZ", rf'"{PF}\TeamViewer\TeamViewer_Service.exe"')],
         download="https://download.teamviewer.com/download/TeamViewer_Setup_x64.exe"),
    dict(id="anydesk", exes=["AnyDesk.exe", "anydesk.exe", "ANYDESK.EXE"], folder=rf"{PF86}\AnyDesk",
         company="AnyDesk Software GmbH", product="AnyDesk", args=["--service", "--control", "--tray", ""],
         domains=["boot.net.anydesk.com", "relay-3f7a91c2.net.anydesk.com", "relay-9b0e44d1.net.anydesk.com",
                  "api.anydesk.com"], port=6568, listen=7070,
         files=[r"C:\ProgramData\AnyDesk\ad_svc.trace", r"C:\ProgramData\AnyDesk\connection_trace.txt",
                r"C:\ProgramData\AnyDesk\service.conf", r"C:\ProgramData\AnyDesk\system.conf",
                r"C:\Users\{u}\AppData\Roaming\AnyDesk\ad.trace", r"C:\Users\{u}\AppData\Roaming\AnyDesk\user.conf",
                rf"{PF86}\AnyDesk\AnyDesk.exe"],
         reg=[(SVC + r"\AnyDesk", "ImagePath", "REG_EXPAND_SZ", rf'"{PF86}\AnyDesk\AnyDesk.exe" --service'),
              (HKLM + r"\SOFTWARE\Classes\AnyDesk\shell\open\command", "(Default)", "REG_SZ",
               rf'"{PF86}\AnyDesk\AnyDesk.exe" --url:"%1"'),
              (HKLM + r"\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\AnyDesk", "DisplayName",
               "REG_SZ", "AnyDesk")],
         download="https://download.anydesk.com/AnyDesk.exe"),
    dict(id="screenconnect", exes=["ScreenConnect.ClientService.exe", "ScreenConnect.WindowsClient.exe",
                                   "ConnectWiseControl.Client.exe"], folder=SC_DIR,
         company="ConnectWise, LLC", product="ScreenConnect",
         args=['"?e=Access&y=Guest&h=instance-k2x9ab-relay.screenconnect.com&p=443&k=BgIAAACkAABSU0Ex"'],
         domains=["instance-k2x9ab-relay.screenconnect.com", "live.screenconnect.com", "control.connectwise.com"],
         port=8041, listen=None,
         files=[SC_DIR + r"\ScreenConnect.ClientService.exe", SC_DIR + r"\ScreenConnect.WindowsClient.exe",
                rf"C:\ProgramData\ScreenConnect Client ({SC_ID})\user.config"],
         reg=[(SVC + rf"\ScreenConnect Client ({SC_ID})", "ImagePath", "REG_EXPAND_SZ",
               rf'"{SC_DIR}\ScreenConnect.ClientService.exe" "?e=Access&y=Guest&h=instance-k2x9ab-relay.screenconnect.com&p=443"')],
         download="https://control.connectwise.com/Bin/ScreenConnect.ClientSetup.exe"),
    dict(id="rustdesk", exes=["rustdesk.exe", "RustDesk.exe"], folder=rf"{PF}\RustDesk", company="Purslane Ltd.",
         product="RustDesk", args=["--service", "--tray", "--server"],
         domains=["rs-ny.rustdesk.com", "api.rustdesk.com", "rs-sg.rustdesk.com"], port=21116, listen=21118,
         files=[r"C:\Windows\ServiceProfiles\LocalService\AppData\Roaming\RustDesk\config\RustDesk.toml",
                r"C:\Windows\ServiceProfiles\LocalService\AppData\Roaming\RustDesk\config\RustDesk2.toml",
                rf"{PF}\RustDesk\rustdesk.exe"],
         reg=[(HKLM + RUN, "RustDesk Tray", "REG_SZ", rf'"{PF}\RustDesk\rustdesk.exe" --tray'),
              (SVC + r"\RustDesk", "ImagePath", "REG_EXPAND_SZ", rf'"{PF}\RustDesk\rustdesk.exe" --service')],
         download="https://github.com/rustdesk/rustdesk/releases/download/1.2.3/rustdesk-1.2.3-x86_64.exe"),
    dict(id="splashtop", exes=["SRService.exe", "SRServer.exe", "SRManager.exe", "SRAgent.exe"], folder=SPLASH_DIR,
         company="Splashtop Inc.", product="Splashtop Streamer", args=["", "-Service"],
         domains=["st2-v3-dc.splashtop.com", "sr-relay-use1.api.splashtop.com", "st-v3-univ-srs-win.splashtop.com"],
         port=443, listen=None,
         files=[SPLASH_DIR + r"\log\agent_log.txt", SPLASH_DIR + r"\log\SPLog.txt", SPLASH_DIR + r"\SRServer.exe"],
         reg=[(HKLM + r"\SOFTWARE\WOW6432Node\Splashtop Inc.\Splashtop Remote Server", "CSRSVersion", "REG_SZ", "3.6.2.0"),
              (SVC + r"\SplashtopRemoteService", "ImagePath", "REG_EXPAND_SZ", rf'"{SPLASH_DIR}\SRService.exe"')],
         download="https://download.splashtop.com/win/Splashtop_Streamer_Windows_DEPLOY_INSTALLER_v3.6.2.0.exe"),
    dict(id="atera", exes=["AteraAgent.exe", "AgentPackageHeartbeat.exe", "AgentPackageMonitoring.exe"],
         folder=ATERA_DIR, company="Atera Networks Ltd", product="AteraAgent", args=["", "--run"],
         domains=["agent-api.atera.com", "agenthb.atera.com", "app.atera.com", "agentreporting.atera.com"],
         port=443, listen=None,
         files=[ATERA_DIR + r"\AteraAgent.exe", ATERA_DIR + r"\Packages\AgentPackageHeartbeat\AgentPackageHeartbeat.exe",
                ATERA_DIR + r"\Packages\AgentPackageRunCommandInteractive\log.txt"],
         reg=[(HKLM + r"\SOFTWARE\ATERA Networks\AlphaAgent", "AccountId", "REG_SZ", "001Q3000006{r}"),
              (SVC + r"\AteraAgent", "ImagePath", "REG_EXPAND_SZ", rf'"{ATERA_DIR}\AteraAgent.exe"')],
         download="https://HelpdeskSupport1690.servicedesk.atera.com/GetAgent/Msi/?customerId=1&integratorLogin=a%40b.com"),
    dict(id="logmein", exes=["LogMeIn.exe", "LMIGuardianSvc.exe", "lmi_rescue.exe"], folder=rf"{PF86}\LogMeIn\x64",
         company="LogMeIn, Inc.", product="LogMeIn", args=["", "-service"],
         domains=["secure.logmein.com", "control.logmein.com", "update.logmeinrescue.com"], port=443, listen=None,
         files=[rf"{PF86}\LogMeIn\x64\LogMeIn.exe", rf"{PF86}\LogMeIn\x64\LMIGuardianSvc.exe"],
         reg=[(HKLM + r"\SOFTWARE\LogMeIn\V5\Net", "HostName", "REG_SZ", "control.logmein.com"),
              (SVC + r"\LogMeIn", "ImagePath", "REG_EXPAND_SZ", rf'"{PF86}\LogMeIn\x64\LogMeIn.exe"')],
         download="https://secure.logmein.com/logmein.msi"),
    dict(id="ngrok", exes=["ngrok.exe"], folder=NGROK_DIR, company="ngrok, Inc.", product="ngrok agent",
         args=["tcp 3389", "http 8080 --log=stdout"],
         domains=["connect.ngrok-agent.com", "connect.us.ngrok-agent.com", "connect.eu.ngrok-agent.com"],
         port=443, listen=None, files=[NGROK_DIR + r"\ngrok.exe", r"C:\Users\{u}\AppData\Local\ngrok\ngrok.yml"],
         reg=[(HKCU + RUN, "ngrok", "REG_SZ", NGROK_DIR + r"\ngrok.exe tcp 3389")],
         download="https://bin.equinox.io/c/bNyj1mQVY4c/ngrok-v3-stable-windows-amd64.zip"),
    dict(id="vscode-tunnel", exes=["code-tunnel.exe", "Code.exe"], folder=CODE_DIR, company="Microsoft Corporation",
         product="Visual Studio Code", args=["tunnel --accept-server-license-terms --name {r}"],
         domains=["global.rel.tunnels.api.visualstudio.com", "usw2-data.rel.tunnels.api.visualstudio.com",
                  "x7k2pq9d-8000.euw.devtunnels.ms"], port=443, listen=None,
         files=[CODE_DIR + r"\bin\code-tunnel.exe"], reg=[], download=None),
    dict(id="ultravnc", exes=["winvnc.exe", "tvnserver.exe"], folder=rf"{PF}\uvnc bvba\UltraVNC", company="uvnc bvba",
         product="UltraVNC", args=["-service", "-run"], domains=["ultravnc.com"], port=5900, listen=5900,
         files=[rf"{PF}\uvnc bvba\UltraVNC\winvnc.exe", rf"{PF}\uvnc bvba\UltraVNC\ultravnc.ini"],
         reg=[(SVC + r"\uvnc_service", "ImagePath", "REG_EXPAND_SZ", rf'"{PF}\uvnc bvba\UltraVNC\winvnc.exe" -service')],
         download=None),
]
RENAMED_AS = ["svchost.exe", "update.exe", "RuntimeBroker.exe", "winupdate.exe"]
PUBLIC_NETS = ["13.107", "20.42", "20.190", "40.126", "52.109", "52.168", "104.16", "142.250", "151.101", "172.217",
               "185.199", "23.215", "204.79", "92.223", "195.181", "51.15"]


class Templates:
    """Rows of string/int templates with weights; `render` builds per-row columns from indices."""

    def __init__(self, rows, weights):
        self.rows, self.w = rows, np.asarray(weights, float)
        self.cols = {}

    def user_rows(self):
        """Per template: whether it is in a user's context (a {u} or {s} placeholder)."""
        if "_user" not in self.cols:
            self.cols["_user"] = np.array([any(isinstance(v, str) and ("{u}" in v or "{s}" in v) for v in r.values())
                                           for r in self.rows])
        return self.cols["_user"]

    def concat(self, other):
        return Templates(self.rows + other.rows, np.concatenate([self.w, other.w]))

    def column(self, key):
        if key not in self.cols:
            vals = [r[key] for r in self.rows]
            if isinstance(vals[0], str):
                parts = [re.split(r"\{([a-z])\}", v) for v in vals]
                k = max(len(p) for p in parts) // 2
                lits = [pa.array([p[2 * i] if 2 * i < len(p) else "" for p in parts]) for i in range(k + 1)]
                codes = [pa.array(np.array([PH[p[2 * i + 1]] if 2 * i + 1 < len(p) else 0 for p in parts], np.int8))
                         for i in range(k)]
                self.cols[key] = ("s", lits, codes)
            else:
                self.cols[key] = ("i", np.array(vals, np.int64))
        return self.cols[key]

    def render(self, key, idx, ctx, typ=S):
        c = self.column(key)
        if c[0] == "i":
            return pa.array(c[1][idx], typ)
        _, lits, codes = c
        pieces = [lits[0].take(idx)]
        for i, code in enumerate(codes):
            pieces.append(pc.choose(code.take(idx), pa.scalar(""), *ctx))
            pieces.append(lits[i + 1].take(idx))
        return pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")


def tool_exe_rows(t):
    return [(e, f"{t['folder']}\\{e}") for e in t["exes"]]


def process_tool_templates():
    rows, w = [], []

    def add(weight, **r):
        rows.append(r)
        w.append(weight)

    # per tool: 65 installed runs (spread over its binaries and arguments; 5 of them launched by a
    # script host or by cmd under Office), 4 portable runs, 3 renamed copies, 5 installs
    for ti, t in enumerate(TOOLS):
        k = 1 / (len(t["exes"]) * len(t["args"]))
        for e, path in tool_exe_rows(t):
            for a in t["args"]:
                base = dict(tool=ti, FileName=e, FolderPath=path, Company=t["company"], Product=t["product"],
                            Ofn=e, Args=a, SHA256=sha(e.lower()))
                add(40 * k, **base, Parent="services.exe", ParentFolder=r"C:\Windows\System32",
                    ParentCmd=r"C:\Windows\system32\services.exe", GrandParent="wininit.exe")
                add(20 * k, **base, Parent="explorer.exe", ParentFolder=r"C:\Windows", ParentCmd=r"C:\Windows\Explorer.EXE",
                    GrandParent="userinit.exe")
                add(3 * k, **base, Parent="cmd.exe", ParentFolder=r"C:\Windows\System32",
                    ParentCmd=r'"C:\Windows\system32\cmd.exe" /c start "" "' + path + '"', GrandParent="WINWORD.EXE")
                add(2 * k, **base, Parent="wscript.exe", ParentFolder=r"C:\Windows\System32",
                    ParentCmd=r'"C:\Windows\System32\WScript.exe" "C:\Users\{u}\Downloads\invoice_{r}.js"',
                    GrandParent="explorer.exe")
            # a portable copy started from Downloads, and a copy renamed to a Windows binary name
            e0 = t["exes"][0]
            add(4, tool=ti, FileName=e0, FolderPath=rf"C:\Users\{{u}}\Downloads\{e0}", Company=t["company"],
                Product=t["product"], Ofn=e0, Args=t["args"][0], SHA256=sha(e0.lower()), Parent="explorer.exe",
                ParentFolder=r"C:\Windows", ParentCmd=r"C:\Windows\Explorer.EXE", GrandParent="userinit.exe")
            for rn in RENAMED_AS:
                add(3 / len(RENAMED_AS), tool=ti, FileName=rn, FolderPath=rf"C:\Users\Public\{rn}", Company=t["company"],
                    Product=t["product"], Ofn=e0, Args=t["args"][0], SHA256=sha(e0.lower()), Parent="cmd.exe",
                    ParentFolder=r"C:\Windows\System32", ParentCmd=r'"C:\Windows\system32\cmd.exe" /c C:\Users\Public\run.bat',
                    GrandParent="explorer.exe")
            break  # portable/renamed variants for the first executable only
        # installers: a setup binary with silent switches and an MSI
        if t["download"]:
            inst = t["download"].rsplit("/", 1)[-1].split("?")[0]
            if inst.lower().endswith(".exe"):
                add(5, tool=ti, FileName=inst, FolderPath=rf"C:\Users\{{u}}\Downloads\{inst}", Company=t["company"],
                    Product=t["product"], Ofn=inst, Args="/S /silent", SHA256=sha(inst.lower()), Parent="explorer.exe",
                    ParentFolder=r"C:\Windows", ParentCmd=r"C:\Windows\Explorer.EXE", GrandParent="userinit.exe")
            else:
                msi = t["id"].replace("-", "") + "Setup.msi"
                add(5, tool=ti, FileName="msiexec.exe", FolderPath=r"C:\Windows\System32\msiexec.exe",
                    Company="Microsoft Corporation", Product="Windows Installer - Unicode", Ofn="msiexec.exe",
                    Args=rf'/i "C:\Users\{{u}}\Downloads\{msi}" /qn /norestart', SHA256=sha("msiexec.exe"),
                    Parent="cmd.exe", ParentFolder=r"C:\Windows\System32",
                    ParentCmd=r'"C:\Windows\system32\cmd.exe" /c install.cmd', GrandParent="explorer.exe")
    # names from the seed query's list (RAT), each in its vendor's folder
    for e in RAT:
        v = e.split(".")[0].split("_")[0].split("-")[-1]
        tix = next((i for i, t in enumerate(TOOLS) if t["id"].split("-")[0] in e.lower()), len(TOOLS) - 1)
        add(4, tool=tix, FileName=e, FolderPath=rf"C:\Program Files\{v.capitalize()}\{e}", Company=f"{v.capitalize()}",
            Product=v.capitalize(), Ofn=e, Args="", SHA256=sha(e.lower()), Parent="services.exe",
            ParentFolder=r"C:\Windows\System32", ParentCmd=r"C:\Windows\system32\services.exe", GrandParent="wininit.exe")
    return Templates(rows, w)


def network_templates():
    rows, w = [], []

    def add(weight, **r):
        r.setdefault("tool", -1)
        rows.append(r)
        w.append(weight)

    def proc(name, folder, company, cmd):
        return dict(Proc=name, ProcFolder=f"{folder}\\{name}", Company=company, Cmd=cmd)

    chrome = proc("chrome.exe", r"C:\Program Files\Google\Chrome\Application", "Google LLC",
                  r'"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US')
    edge = proc("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", "Microsoft Corporation",
                r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService')
    firefox = proc("firefox.exe", r"C:\Program Files\Mozilla Firefox", "Mozilla Corporation",
                   r'"C:\Program Files\Mozilla Firefox\firefox.exe" -contentproc -isForBrowser')
    svchost = proc("svchost.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv")
    svc_do = proc("svchost.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\System32\svchost.exe -k NetworkService -p -s DoSvc")
    svc_dns = proc("svchost.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache")
    sense = proc("MsSense.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection", "Microsoft Corporation",
                 r'"MsSense.exe"')
    mpeng = proc("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0", "Microsoft Corporation",
                 r'"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0\MsMpEng.exe"')
    onedrive = proc("OneDrive.exe", r"C:\Users\{u}\AppData\Local\Microsoft\OneDrive", "Microsoft Corporation",
                    r'"C:\Users\{u}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background')
    teams = proc("ms-teams.exe", r"C:\Program Files\WindowsApps\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe",
                 "Microsoft Corporation", r'"ms-teams.exe" msteams:system-initiated')
    outlook = proc("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16", "Microsoft Corporation",
                   r'"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"')
    system = proc("System", "", "", "")
    system["ProcFolder"] = ""
    lsass = proc("lsass.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\lsass.exe")
    search = proc("SearchApp.exe", r"C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy", "Microsoft Corporation",
                  r'"C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy\SearchApp.exe" -ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca')
    out = dict(Action="ConnectionSuccess", Url="", RPort=443, IpKind=0, LPort=-1, Proto="Tcp")
    web = ["www.google.com", "clients2.google.com", "www.youtube.com", "github.com", "stackoverflow.com",
           "en.wikipedia.org", "www.linkedin.com", "fonts.gstatic.com", "www.amazon.com", "cdn.jsdelivr.net",
           "www.reddit.com", "news.ycombinator.com", "docs.python.org", "login.microsoftonline.com", "www.office.com",
           "outlook.office.com", "contoso.sharepoint.com", "www.bing.com", "edge.microsoft.com", "ajax.googleapis.com"]
    for b, bw in ((chrome, 12), (edge, 9), (firefox, 3)):
        for i, d in enumerate(web):
            add(bw / (1 + i) ** 0.7, **b, **{**out, "Url": d})
        add(bw * 0.2, **b, **{**out, "Url": "www.contoso.com", "RPort": 80})
    ms = [(svchost, ["fe2cr.update.microsoft.com", "sls.update.microsoft.com", "ctldl.windowsupdate.com",
                     "settings-win.data.microsoft.com", "v10.events.data.microsoft.com", "login.live.com"], 10),
          (svc_do, ["dl.delivery.mp.microsoft.com", "tlu.dl.delivery.mp.microsoft.com", "geo.prod.do.dsp.mp.microsoft.com"], 4),
          (sense, ["winatp-gw-eus.microsoft.com", "us-v20.events.data.microsoft.com", "winatp-gw-cus3.microsoft.com"], 5),
          (mpeng, ["wdcp.microsoft.com", "go.microsoft.com", "definitionupdates.microsoft.com"], 3),
          (onedrive, ["g.live.com", "onedrive.live.com", "my.microsoftpersonalcontent.com"], 3),
          (teams, ["teams.microsoft.com", "teams.events.data.microsoft.com", "statics.teams.cdn.office.net"], 4),
          (outlook, ["outlook.office365.com", "substrate.office.com", "autodiscover.contoso.com"], 3),
          (search, ["www.bing.com", "th.bing.com"], 2)]
    for p, ds, pw in ms:
        for d in ds:
            add(pw / len(ds), **p, **{**out, "Url": d})
    add(4, **svc_dns, **{**out, "RPort": 53, "IpKind": 2, "Proto": "Udp"})
    add(2, **lsass, **{**out, "RPort": 389, "IpKind": 2})
    add(1, **lsass, **{**out, "RPort": 88, "IpKind": 2})
    add(1, **svchost, **{**out, "RPort": 123, "IpKind": 2, "Proto": "Udp", "Url": "time.windows.com"})
    add(1, **edge, **{**out, "Action": "ConnectionFailed", "Url": "www.contoso-intranet.local", "IpKind": 1})
    add(2, **system, **{**out, "Action": "InboundConnectionAccepted", "RPort": -1, "IpKind": 1, "LPort": 445})
    add(1, **svchost, **{**out, "Action": "InboundConnectionAccepted", "RPort": -1, "IpKind": 1, "LPort": 135})
    for lp in (135, 5040, 7680, 49664, 49665, 49666, 49667, 49668):
        add(0.15, **svchost, **{**out, "Action": "ListeningConnectionCreated", "RPort": 0, "IpKind": 3, "LPort": lp})
    non_tool = len(rows)

    # tool rows
    for ti, t in enumerate(TOOLS):
        e = t["exes"][0] if t["id"] != "vscode-tunnel" else "Code.exe"
        path = f"{t['folder']}\\{e}"
        tp = dict(tool=ti, Proc=e, ProcFolder=path, Company=t["company"], Cmd=f'"{path}" {t["args"][0]}'.rstrip())
        for i, d in enumerate(t["domains"]):
            add(10 / (1 + i), **tp, **{**out, "Url": d, "RPort": 443})
            if t["port"] != 443:
                add(4 / (1 + i), **tp, **{**out, "Url": d, "RPort": t["port"]})
        add(1.5, **tp, **{**out, "RPort": t["port"]})  # bare IP (self-hosted relay, direct connection)
        if t["listen"]:
            add(1.0, **tp, **{**out, "Action": "ListeningConnectionCreated", "RPort": 0, "IpKind": 3, "LPort": t["listen"]})
            add(0.3, **tp, **{**out, "Action": "InboundConnectionAccepted", "RPort": -1, "IpKind": 0, "LPort": t["listen"]})
    # a non-tool process on a tool's port (tool ports are what is involved)
    py = proc("python.exe", r"C:\Python311", "Python Software Foundation", r'"C:\Python311\python.exe" -m http.server 5900')
    add(0.5, **py, tool=len(TOOLS) - 1, **{**out, "Action": "ListeningConnectionCreated", "RPort": 0, "IpKind": 3, "LPort": 5900})
    return Templates(rows[:non_tool], w[:non_tool]), Templates(rows[non_tool:], w[non_tool:])


def file_templates():
    rows, w = [], []

    def add(weight, **r):
        r.setdefault("tool", -1)
        r.setdefault("Origin", "")
        r.setdefault("Prev", "")
        r.setdefault("SHA256", "{h}")
        r.setdefault("Action", "FileCreated")
        rows.append(r)
        w.append(weight)

    def proc(name, folder, cmd):
        return dict(Proc=name, ProcFolder=f"{folder}\\{name}", Cmd=cmd)

    chrome = proc("chrome.exe", r"C:\Program Files\Google\Chrome\Application",
                  r'"C:\Program Files\Google\Chrome\Application\chrome.exe"')
    edge = proc("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application",
                r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"')
    outlook = proc("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16",
                   r'"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"')
    excel = proc("EXCEL.EXE", r"C:\Program Files\Microsoft Office\root\Office16",
                 r'"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"')
    word = proc("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16",
                r'"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n')
    svchost = proc("svchost.exe", r"C:\Windows\System32", r"C:\Windows\system32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain")
    tiworker = proc("TiWorker.exe", r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3984_none_7e5f6c8b8b1b1e5b",
                    r"C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3984_none_7e5f6c8b8b1b1e5b\TiWorker.exe -Embedding")
    mpeng = proc("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0",
                 r'"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0\MsMpEng.exe"')
    onedrive = proc("OneDrive.exe", r"C:\Users\{u}\AppData\Local\Microsoft\OneDrive",
                    r'"C:\Users\{u}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background')
    explorer = proc("explorer.exe", r"C:\Windows", r"C:\Windows\Explorer.EXE")
    msiexec = proc("msiexec.exe", r"C:\Windows\System32", r"C:\Windows\system32\msiexec.exe /V")
    ccm = proc("CcmExec.exe", r"C:\Windows\CCM", r"C:\Windows\CCM\CcmExec.exe")
    u = r"C:\Users\{u}"
    nt = [
        (14, chrome, "{r}.tmp", u + r"\AppData\Local\Temp\{r}.tmp", "FileCreated"),
        (12, chrome, "f_{r}", u + r"\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_{r}", "FileCreated"),
        (4, chrome, "History-journal", u + r"\AppData\Local\Google\Chrome\User Data\Default\History-journal", "FileModified"),
        (8, edge, "f_{r}", u + r"\AppData\Local\Microsoft\Edge\User Data\Default\Cache\Cache_Data\f_{r}", "FileCreated"),
        (3, edge, "report-{r}.pdf", u + r"\Downloads\report-{r}.pdf", "FileCreated"),
        (4, outlook, "{r}.tmp", u + r"\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{r}.tmp", "FileCreated"),
        (3, excel, "~$budget-{r}.xlsx", u + r"\Documents\~$budget-{r}.xlsx", "FileCreated"),
        (2, word, "minutes-{r}.docx", u + r"\Documents\minutes-{r}.docx", "FileModified"),
        (6, svchost, "CHROME.EXE-{r}.pf", r"C:\Windows\Prefetch\CHROME.EXE-{r}.pf", "FileModified"),
        (3, svchost, "SVCHOST.EXE-{r}.pf", r"C:\Windows\Prefetch\SVCHOST.EXE-{r}.pf", "FileModified"),
        (5, tiworker, "{r}.dll", r"C:\Windows\WinSxS\Temp\InFlight\{r}\amd64_microsoft-windows-{r}.dll", "FileCreated"),
        (3, tiworker, "CBS.log", r"C:\Windows\Logs\CBS\CBS.log", "FileModified"),
        (4, mpeng, "MpWppTracing-{r}.bin", r"C:\ProgramData\Microsoft\Windows Defender\Support\MpWppTracing-{r}.bin", "FileCreated"),
        (2, mpeng, "mpenginedb.db-wal", r"C:\ProgramData\Microsoft\Windows Defender\Scans\mpenginedb.db-wal", "FileModified"),
        (5, onedrive, "{r}.docx", u + r"\OneDrive - Contoso\Documents\{r}.docx", "FileModified"),
        (3, onedrive, "SyncDiagnostics.log", u + r"\AppData\Local\Microsoft\OneDrive\logs\Business1\SyncDiagnostics.log", "FileModified"),
        (3, explorer, "thumbcache_{r}.db", u + r"\AppData\Local\Microsoft\Windows\Explorer\thumbcache_{r}.db", "FileModified"),
        (2, explorer, "{r}.lnk", u + r"\AppData\Roaming\Microsoft\Windows\Recent\{r}.lnk", "FileCreated"),
        (2, msiexec, "MSI{r}.tmp", r"C:\Windows\Temp\MSI{r}.tmp", "FileCreated"),
        (2, ccm, "CcmExec.log", r"C:\Windows\CCM\Logs\CcmExec.log", "FileModified"),
        (3, chrome, "{r}.tmp", u + r"\AppData\Local\Temp\{r}.tmp", "FileDeleted"),
    ]
    for wt, p, fn, fp, act in nt:
        add(wt, **p, FileName=fn, FolderPath=fp, Action=act)
    add(1, **edge, FileName="quarterly-{r}.pdf", FolderPath=u + r"\Downloads\quarterly-{r}.pdf",
        Origin="https://contoso.sharepoint.com/sites/finance/quarterly.pdf")
    non_tool = len(rows)

    for ti, t in enumerate(TOOLS):
        e = t["exes"][0]
        tp = proc(e, t["folder"], f'"{t["folder"]}\\{e}" {t["args"][0]}'.rstrip())
        for f in t["files"]:
            name = f.rsplit("\\", 1)[-1]
            if name.lower().endswith(".exe"):  # the binary, written by its installer
                add(3, tool=ti, **msiexec, FileName=name, FolderPath=f, SHA256=sha(name.lower()))
            else:
                add(4, tool=ti, **tp, FileName=name, FolderPath=f, Action="FileModified")
                add(1, tool=ti, **tp, FileName=name, FolderPath=f, Action="FileCreated")
        if t["download"]:
            name = t["download"].rsplit("/", 1)[-1].split("?")[0]
            if not name.lower().endswith((".exe", ".msi", ".zip")):
                name = t["id"].replace("-", "") + "Setup.msi"
            add(2, tool=ti, **chrome, FileName=name, FolderPath=u + rf"\Downloads\{name}", Origin=t["download"],
                SHA256=sha(name.lower()))
    return Templates(rows[:non_tool], w[:non_tool]), Templates(rows[non_tool:], w[non_tool:])


def registry_templates():
    rows, w = [], []

    def add(weight, **r):
        r.setdefault("tool", -1)
        r.setdefault("Action", "RegistryValueSet")
        rows.append(r)
        w.append(weight)

    def proc(name, folder, company, cmd):
        return dict(Proc=name, ProcFolder=f"{folder}\\{name}", Company=company, Cmd=cmd)

    svchost = proc("svchost.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\svchost.exe -k netsvcs -p")
    services = proc("services.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\services.exe")
    explorer = proc("explorer.exe", r"C:\Windows", "Microsoft Corporation", r"C:\Windows\Explorer.EXE")
    onedrive = proc("OneDrive.exe", r"C:\Users\{u}\AppData\Local\Microsoft\OneDrive", "Microsoft Corporation",
                    r'"C:\Users\{u}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background')
    edge = proc("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", "Microsoft Corporation",
                r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --no-startup-window')
    mpeng = proc("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0",
                 "Microsoft Corporation", r'"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24010.12-0\MsMpEng.exe"')
    msiexec = proc("msiexec.exe", r"C:\Windows\System32", "Microsoft Corporation", r"C:\Windows\system32\msiexec.exe /V")
    word = proc("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16", "Microsoft Corporation",
                r'"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n')
    chrome = proc("chrome.exe", r"C:\Program Files\Google\Chrome\Application", "Google LLC",
                  r'"C:\Program Files\Google\Chrome\Application\chrome.exe"')
    cu = HKCU + r"\SOFTWARE\Microsoft\Windows\CurrentVersion"
    nt = [
        (14, svchost, HKLM + r"\SYSTEM\ControlSet001\Services\bam\State\UserSettings\{s}",
         r"\Device\HarddiskVolume3\Windows\explorer.exe", "REG_BINARY", "{n}"),
        (10, explorer, cu + r"\Explorer\UserAssist\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\Count",
         "HRZR_PGYFRFFVBA", "REG_BINARY", "{n}"),
        (5, explorer, cu + r"\Explorer\RecentDocs\.pdf", "MRUListEx", "REG_BINARY", "{n}"),
        (4, explorer, cu + r"\Explorer\FeatureUsage\AppSwitched", r"Microsoft.Windows.Explorer", "REG_DWORD", "{n}"),
        (3, onedrive, HKCU + RUN, "OneDrive", "REG_SZ", r'"C:\Users\{u}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background'),
        (2, edge, HKCU + RUN, "MicrosoftEdgeAutoLaunch_{r}", "REG_SZ",
         r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --no-startup-window --win-session-start'),
        (1, explorer, HKLM + RUN, "SecurityHealth", "REG_EXPAND_SZ", r"%windir%\system32\SecurityHealthSystray.exe"),
        (6, mpeng, HKLM + r"\SOFTWARE\Microsoft\Windows Defender\Signature Updates", "SignaturesLastUpdated", "REG_BINARY", "{n}"),
        (5, svchost, HKLM + r"\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update",
         "LastOnlineScanTimeForAppCategory", "REG_SZ", "{n}"),
        (3, svchost, HKLM + r"\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree\Microsoft\Windows\UpdateOrchestrator\Schedule Scan",
         "Index", "REG_DWORD", "3"),
        (3, msiexec, HKLM + r"\SOFTWARE\Classes\CLSID\{{r}}\InprocServer32", "(Default)", "REG_SZ",
         r"C:\Program Files\Common Files\microsoft shared\ClickToRun\{r}.dll"),
        (2, word, HKCU + r"\SOFTWARE\Microsoft\Office\16.0\Word\Reading Locations\Document {n}", "File Path", "REG_SZ",
         r"C:\Users\{u}\Documents\minutes-{r}.docx"),
        (2, chrome, HKCU + r"\SOFTWARE\Google\Chrome\PreferenceMACs\Default\extensions.settings", "{r}", "REG_SZ", "{h}"),
        (1, svchost, HKLM + r"\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate", "WUServer", "REG_SZ", "https://wsus.contoso.com:8531"),
    ]
    for s in ("wuauserv", "BITS", "UsoSvc", "DoSvc", "WaaSMedicSvc", "DiagTrack", "Dnscache", "W32Time"):
        nt.append((0.8, services, SVC + "\\" + s, "Start", "REG_DWORD", "{n}"))
        nt.append((0.2, services, SVC + "\\" + s, "ImagePath", "REG_EXPAND_SZ", r"%SystemRoot%\system32\svchost.exe -k netsvcs -p"))
    for wt, p, key, vn, vt, data in nt:
        add(wt, **p, Key=key, ValueName=vn, ValueType=vt, Data=data)
    add(1, **explorer, Key=cu + r"\Explorer\RecentDocs\.docx", ValueName="{n}", ValueType="", Data="", Action="RegistryValueDeleted")
    add(1, **msiexec, Key=HKLM + r"\SOFTWARE\Classes\Installer\Products\{r}", ValueName="", ValueType="", Data="",
        Action="RegistryKeyCreated")
    non_tool = len(rows)

    for ti, t in enumerate(TOOLS):
        if not t["reg"]:
            continue
        e = t["exes"][0]
        tp = proc(e, t["folder"], t["company"], f'"{t["folder"]}\\{e}" {t["args"][0]}'.rstrip())
        for i, (key, vn, vt, data) in enumerate(t["reg"]):
            add(3, tool=ti, **(msiexec if i == 0 else tp), Key=key, ValueName=vn, ValueType=vt, Data=data)
            add(1, tool=ti, **msiexec, Key=key, ValueName="", ValueType="", Data="", Action="RegistryKeyCreated")
    return Templates(rows[:non_tool], w[:non_tool]), Templates(rows[non_tool:], w[non_tool:])


def multi_pools():
    """The pools of the single-file mode (same RNG calls, so the same 5k-device skewed pool), plus
    the extra pools of the multi-table mode."""
    rng = np.random.default_rng(SEED)
    names, name_p, folders = build_pools(rng)
    n_dev = 5000
    dev_p = rng.lognormal(0, 1.2, n_dev)
    dev_p /= dev_p.sum()
    users = [f"user{i:05d}" for i in range(8000)]
    acct_p = np.concatenate([[0.40, 0.05, 0.05], 0.5 * (u := rng.pareto(1.2, len(users)) + 0.1) / u.sum()])
    acct_p /= acct_p.sum()
    K = 500
    par_cmd = []
    for n, f, _ in PARENTS:
        for k in rng.integers(1, 18, K).tolist():
            toks = [ARG_TOKENS[t] for t in rng.integers(0, len(ARG_TOKENS), k).tolist()]
            par_cmd.append(f'"{f}\\{n}" ' + " ".join(toks))
    tok = rng.integers(0, len(ARG_TOKENS), (20000, 60)).tolist()
    tails = []
    for target, row in zip(rng.integers(60, 280, 20000).tolist(), tok):
        s = ""
        for t in row:
            if len(s) >= target:
                break
            s += " " + ARG_TOKENS[t]
        tails.append(s[1:])

    P = dict(n_dev=n_dev, dev_p=dev_p, K=K, par_cmd=pa.array(par_cmd), tails=pa.array(tails))
    P["dev_name"] = pa.array([f"{'srv' if i < 300 else 'wks'}-{i:05d}.corp.contoso.com" for i in range(n_dev)])
    P["dev_id"] = pa.array([sha(f"device{i}", 40) for i in range(n_dev)])
    P["dev_ip"] = pa.array([f"10.{16 + i // 250 % 16}.{i // 250}.{i % 250 + 2}" for i in range(n_dev)])
    acct_names = ["system", "local service", "network service"] + users
    acct_dom = ["nt authority"] * 3 + [["contoso", "fabrikam", "corp"][i % 3] for i in range(len(users))]
    P["acct_p"], P["acct_name"], P["acct_dom"] = acct_p, pa.array(acct_names), pa.array(acct_dom)
    P["acct_sid"] = pa.array(["S-1-5-18", "S-1-5-19", "S-1-5-20"] +
                             [f"S-1-5-21-1004336348-1177238915-682003330-{1001 + i}" for i in range(len(users))])
    up = acct_p[3:] / acct_p[3:].sum()
    P["user_p"] = up

    # process names: the single-file pool without the seed's RAT names (tool rows come from TOOLS
    # and RAT instead) and without the near-misses that are tool names; the near-misses kept at 1%
    lower = [n.lower() for n in names]
    rat = {n.lower() for n in RAT}
    near = {n.lower() for n in NEAR_MISS} - NEAR_MISS_TOOL
    w = name_p.copy()
    w[[n in rat or n in NEAR_MISS_TOOL for n in lower]] = 0
    is_near = np.array([n in near for n in lower])
    rest = w[~is_near].sum()
    w[is_near] = 0.01 / 0.99 * rest / is_near.sum()
    P["name_p"] = w / w.sum()
    company = {"chrome.exe": "Google LLC", "firefox.exe": "Mozilla Corporation", "python.exe": "Python Software Foundation",
               "node.exe": "Node.js", "java.exe": "Oracle Corporation", "git.exe": "The Git Development Community"}
    comp, prod = [], []
    for n in names:
        if n in COMMON:
            comp.append(company.get(n.lower(), "Microsoft Corporation"))
            prod.append("Microsoft\u00ae Windows\u00ae Operating System" if comp[-1].startswith("Microsoft") else n.split(".")[0])
        else:
            v = n.split(".")[0].split("_")[0].split("-")[-1].capitalize()
            comp.append(f"{v} Software Ltd.")
            prod.append(f"{v} Client")
    P["names"], P["folder_path"] = pa.array(names), pa.array([f"{f}\\{n}" for f, n in zip(folders, names)])
    P["name_company"], P["name_product"] = pa.array(comp), pa.array(prod)
    P["name_sha"] = pa.array([sha(f"{n}#{v}") for n in names for v in range(3)])

    parents = [p for p in PARENTS if p[0] != "TeamViewer_Service.exe"]  # a tool: tool rows only
    P["par_idx"] = np.array([i for i, p in enumerate(PARENTS) if p[0] != "TeamViewer_Service.exe"])
    pp = np.array([wt for _, _, wt in parents], float)
    P["par_p"] = pp / pp.sum()
    P["par_name"] = pa.array([n for n, _, _ in PARENTS])
    P["par_path"] = pa.array([f"{f}\\{n}" for n, f, _ in PARENTS])
    gp = {"services.exe": "wininit.exe", "svchost.exe": "services.exe", "explorer.exe": "userinit.exe",
          "Explorer.EXE": "userinit.exe", "userinit.exe": "winlogon.exe", "winlogon.exe": "smss.exe",
          "wmiprvse.exe": "svchost.exe", "msiexec.exe": "services.exe", "taskeng.exe": "svchost.exe",
          "MsSense.exe": "services.exe", "MsMpEng.exe": "services.exe", "CcmExec.exe": "services.exe",
          "taskhostw.exe": "svchost.exe", "sihost.exe": "svchost.exe"}
    P["par_parent"] = pa.array([gp.get(n, "explorer.exe") for n, _, _ in PARENTS])

    rng2 = np.random.default_rng([SEED, 1])
    P["tok"] = pa.array([f"{x:08x}" for x in rng2.integers(0, 2**32, 50000).tolist()])
    P["hash"] = pa.array([hashlib.sha256(x.to_bytes(8, "little")).hexdigest() for x in rng2.integers(0, 2**62, 20000).tolist()])
    P["num"] = pa.array([str(x) for x in rng2.integers(100000, 2**31, 20000).tolist()])
    pub = [f"{PUBLIC_NETS[i % len(PUBLIC_NETS)]}.{a}.{b}" for i, (a, b) in
           enumerate(zip(rng2.integers(0, 256, 4000).tolist(), rng2.integers(1, 255, 4000).tolist()))]
    P["ip_pub"] = pa.array(pub)
    P["ip_priv"] = pa.array([f"10.{16 + i % 16}.{i // 16 % 20}.{i % 250 + 2}" for i in range(2000)])
    P["ip_dc"] = pa.array(["10.16.0.10", "10.16.0.11", "10.17.0.10"])
    # devices that have remote access tools (10%), each with its own usual tool
    P["tool_devs"] = rng2.permutation(n_dev)[: n_dev // 10]
    P["dev_tool"] = rng2.integers(0, len(TOOLS), n_dev)
    P["proc_tool_t"] = process_tool_templates()
    P["net_t"] = network_templates()
    P["file_t"] = file_templates()
    P["reg_t"] = registry_templates()
    return P


def pick_tool_templates(rng, T, tool_of_row):
    """For each row, a template of T that belongs to the row's tool (by weight), any tool's if it has none."""
    tools = np.array([r["tool"] for r in T.rows])
    n_tools = len(TOOLS)
    out = np.empty(len(tool_of_row), np.int64)
    u = rng.random(len(tool_of_row))
    all_cum = np.cumsum(T.w) / T.w.sum()
    for k in range(n_tools):
        sel = tool_of_row == k
        if not sel.any():
            continue
        idx = np.flatnonzero(tools == k)
        if len(idx) == 0:
            out[sel] = np.minimum(np.searchsorted(all_cum, u[sel]), len(T.w) - 1)
            continue
        cum = np.cumsum(T.w[idx]) / T.w[idx].sum()
        out[sel] = idx[np.minimum(np.searchsorted(cum, u[sel]), len(idx) - 1)]
    return out


def gen_chunk(table, P, rng, n, start, rate):
    age = rng.integers(1, 24 * HOUR, n)
    age[rng.random(n) < 0.005] += 24 * HOUR
    ts = pa.array(NOW - age, pa.int64()).cast(TS)
    tool = rng.random(n) < rate
    nt = int(tool.sum())
    di = rng.choice(P["n_dev"], n, p=P["dev_p"])
    # tool rows happen on the devices that have tools, mostly with the device's own tool
    tdev = P["tool_devs"][rng.integers(0, len(P["tool_devs"]), nt)]
    di[tool] = tdev
    tool_of_row = np.where(rng.random(nt) < 0.8, P["dev_tool"][tdev], rng.integers(0, len(TOOLS), nt))
    ai = rng.choice(len(P["acct_p"]), n, p=P["acct_p"])
    ui = 3 + rng.choice(len(P["user_p"]), n, p=P["user_p"])
    ctx = [P["acct_name"].take(ui), P["acct_sid"].take(ui), P["tok"].take(rng.integers(0, len(P["tok"]), n)),
           P["hash"].take(rng.integers(0, len(P["hash"]), n)), P["num"].take(rng.integers(0, len(P["num"]), n))]
    cols = dict(Timestamp=ts, DeviceId=P["dev_id"].take(di), DeviceName=P["dev_name"].take(di),
                ReportId=pa.array(np.arange(start, start + n), pa.int64()))
    pid = lambda: pa.array(rng.integers(4, 65536, n) * 4, pa.int64())  # noqa: E731
    mask = pa.array(tool)

    if table == "DeviceProcessEvents":
        T = P["proc_tool_t"]
        fi = rng.choice(len(P["names"]), n, p=P["name_p"])
        ti = np.zeros(n, np.int64)
        ti[tool] = pick_tool_templates(rng, T, tool_of_row)
        pi = P["par_idx"][rng.choice(len(P["par_p"]), n, p=P["par_p"])]
        fpath = pc.if_else(mask, T.render("FolderPath", ti, ctx), P["folder_path"].take(fi))
        fname = pc.if_else(mask, T.render("FileName", ti, ctx), P["names"].take(fi))
        tail = pc.binary_join_element_wise(P["tails"].take(rng.integers(0, len(P["tails"]), n)),
                                           pc.cast(pa.array(rng.integers(0, 10**9, n)), pa.string()), " ")
        args = pc.if_else(mask, T.render("Args", ti, ctx), tail)
        cmd = pc.utf8_rtrim_whitespace(pc.binary_join_element_wise(
            pc.binary_join_element_wise('"', fpath, '"', ""), args, " "))
        cols.update(
            ActionType=pa.array(["ProcessCreated"] * n, S), FileName=fname, FolderPath=fpath,
            SHA256=pc.if_else(mask, T.render("SHA256", ti, ctx), P["name_sha"].take(fi * 3 + rng.integers(0, 3, n))),
            FileSize=pa.array(rng.integers(20_000, 80_000_000, n), I64),
            ProcessVersionInfoCompanyName=pc.if_else(mask, T.render("Company", ti, ctx), P["name_company"].take(fi)),
            ProcessVersionInfoProductName=pc.if_else(mask, T.render("Product", ti, ctx), P["name_product"].take(fi)),
            ProcessVersionInfoOriginalFileName=pc.if_else(mask, T.render("Ofn", ti, ctx), P["names"].take(fi)),
            ProcessId=pid(), ProcessCommandLine=cmd,
            AccountDomain=P["acct_dom"].take(ai), AccountName=P["acct_name"].take(ai), AccountSid=P["acct_sid"].take(ai),
            InitiatingProcessAccountDomain=P["acct_dom"].take(ai), InitiatingProcessAccountName=P["acct_name"].take(ai),
            InitiatingProcessFileName=pc.if_else(mask, T.render("Parent", ti, ctx), P["par_name"].take(pi)),
            InitiatingProcessId=pid(),
            InitiatingProcessCommandLine=pc.if_else(mask, T.render("ParentCmd", ti, ctx),
                                                    P["par_cmd"].take(pi * P["K"] + rng.integers(0, P["K"], n))),
            InitiatingProcessFolderPath=pc.if_else(mask, pc.binary_join_element_wise(
                T.render("ParentFolder", ti, ctx), T.render("Parent", ti, ctx), "\\"), P["par_path"].take(pi)),
            InitiatingProcessParentFileName=pc.if_else(mask, T.render("GrandParent", ti, ctx), P["par_parent"].take(pi)),
        )
        return cols

    non, tt = {"DeviceNetworkEvents": P["net_t"], "DeviceFileEvents": P["file_t"],
               "DeviceRegistryEvents": P["reg_t"]}[table]
    key = table + "_all"
    if key not in P:
        P[key] = non.concat(tt)
    T = P[key]
    ti = rng.choice(len(non.w), n, p=non.w / non.w.sum())
    ti[tool] = len(non.w) + pick_tool_templates(rng, tt, tool_of_row)
    r = lambda k: T.render(k, ti, ctx)  # noqa: E731
    ai = np.where(T.user_rows()[ti], ui, ai)  # the user whose profile or hive the row touches
    common = dict(InitiatingProcessAccountDomain=P["acct_dom"].take(ai), InitiatingProcessAccountName=P["acct_name"].take(ai),
                  InitiatingProcessFileName=r("Proc"), InitiatingProcessId=pid(),
                  InitiatingProcessCommandLine=r("Cmd"), InitiatingProcessFolderPath=r("ProcFolder"))
    cols.update(common)
    if table == "DeviceNetworkEvents":
        kind = T.column("IpKind")[1][ti]
        rip = pc.choose(pa.array(kind.astype(np.int8)), P["ip_pub"].take(rng.integers(0, len(P["ip_pub"]), n)),
                        P["ip_priv"].take(rng.integers(0, len(P["ip_priv"]), n)),
                        P["ip_dc"].take(rng.integers(0, len(P["ip_dc"]), n)), pa.scalar("0.0.0.0"))
        rport = T.column("RPort")[1][ti]
        rport = np.where(rport < 0, rng.integers(49152, 65536, n), rport)
        lport = T.column("LPort")[1][ti]
        lport = np.where(lport < 0, rng.integers(49152, 65536, n), lport)
        listen = kind == 3
        cols.update(ActionType=r("Action"), RemoteIP=rip, RemotePort=pa.array(rport, I32), RemoteUrl=r("Url"),
                    LocalIP=pc.if_else(pa.array(listen), pa.scalar("0.0.0.0"), P["dev_ip"].take(di)),
                    LocalPort=pa.array(lport, I32), Protocol=r("Proto"),
                    InitiatingProcessVersionInfoCompanyName=r("Company"))
    elif table == "DeviceFileEvents":
        cols.update(ActionType=r("Action"), FileName=r("FileName"), FolderPath=r("FolderPath"), SHA256=r("SHA256"),
                    FileOriginUrl=r("Origin"), PreviousFileName=r("Prev"),
                    FileSize=pa.array(rng.integers(0, 5_000_000, n), I64))
    else:
        cols.update(ActionType=r("Action"), RegistryKey=r("Key"), RegistryValueType=r("ValueType"),
                    RegistryValueName=r("ValueName"), RegistryValueData=r("Data"),
                    InitiatingProcessVersionInfoCompanyName=r("Company"))
    return cols


def gen_tables(args):
    import shutil
    P = multi_pools()
    out = args.out.rstrip("/")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    counts = [int(args.rows * s) for _, s in TABLE_SHARES[:-1]]
    counts.append(args.rows - sum(counts))
    for t, ((table, _), rows) in enumerate(zip(TABLE_SHARES, counts)):
        os.makedirs(f"{tmp}/{table}")
        schema = pa.schema(SCHEMAS[table], metadata={"ratcatcher.table": table})
        for c, start in enumerate(range(0, rows, CHUNK)):
            n = min(CHUNK, rows - start)
            # one part file per 1M rows, built and written in row groups of SUB rows (memory)
            with pq.ParquetWriter(f"{tmp}/{table}/part-{c:05d}.parquet", schema, compression="snappy") as w:
                for s, sub in enumerate(range(start, start + n, SUB)):
                    m = min(SUB, start + n - sub)
                    rng = np.random.default_rng([SEED, t, c, s])
                    cols = gen_chunk(table, P, rng, m, sub, args.tool_rate)
                    w.write_table(pa.table([cols[name] for name in schema.names], schema=schema), row_group_size=SUB)
                    del cols
            print(f"{table}: {start + n:>12,} / {rows:,} rows", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    print(f"wrote {out} ({args.rows:,} rows, tool rate {args.tool_rate})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", default=None,
                    help="the Parquet file (default bench/out/dpe-10m.parquet); with --tables, the folder")
    ap.add_argument("--tables", action="store_true",
                    help="write DeviceProcessEvents, DeviceNetworkEvents, DeviceFileEvents and DeviceRegistryEvents "
                         "as OUT/<table>/part-NNNNN.parquet")
    ap.add_argument("--tool-rate", type=float, default=0.001,
                    help="with --tables: share of rows in each table that involve a remote access tool "
                         "(0.001 realistic, 0.03 stress)")
    args = ap.parse_args()
    if args.tables:
        args.out = args.out or f"bench/out/tables-{args.rows}-{args.tool_rate}"
        gen_tables(args)
    else:
        args.out = args.out or "bench/out/dpe-10m.parquet"
        gen_single(args)


if __name__ == "__main__":
    main()
