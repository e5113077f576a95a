#!/usr/bin/env python3
"""Generate a synthetic DeviceProcessEvents table as Parquet for the KQL engine benchmark.

    python3 bench/engine/gen_dpe.py [--rows 10000000] [--out bench/out/dpe-10m.parquet]

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
"""
import argparse
import hashlib
import os

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", default="bench/out/dpe-10m.parquet")
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
