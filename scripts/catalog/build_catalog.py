#!/usr/bin/env python3
"""Build ratcatcher's remote-access-tool catalog (catalog/tools.json) from a LOLRMM checkout.

Usage:
    python3 scripts/catalog/build_catalog.py [LOLRMM_DIR] [--out PATH] [--extra PATH]
                                             [--check] [--compare PATH] [--quiet]
    python3 scripts/catalog/build_catalog.py [LOLRMM_DIR] --check-names CATALOG

LOLRMM_DIR defaults to ../shared/corpus/lolrmm (relative to the repository root). It must hold
the per-tool YAML files in `yaml/`. Only facts are taken from LOLRMM (names, file names, signers,
paths, service names, registry keys, domains, ports, capabilities); prose descriptions are not.
Our own additions live in scripts/catalog/extra_tools.json and are marked "source": "ratcatcher".

The output is deterministic: one JSON array sorted by id, 2-space indent, UTF-8, trailing newline.
Counts go to stderr. With --check the output is validated (unique ids, lowercase executables,
valid ports, every seed tool present and correctly categorised, no generic or bundled name as
another tool's executable, no misspelt name, every LOLRMM Name finds its tool, ...) and the exit
code is 1 on any problem. --compare PATH additionally fails if PATH differs byte for byte from
the output. --check-names CATALOG only checks that every LOLRMM file's Name is the id, name or an
alias of the tool built from it in CATALOG (scripts/catalog/lint_catalog.py lints the names of
executables).

The schema and the categorisation rules are documented in docs/catalog.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import ipaddress
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent.parent
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "corpus" / "lolrmm"
DEFAULT_OUT = REPO_ROOT / "catalog" / "tools.json"
DEFAULT_EXTRA = SCRIPT_DIR / "extra_tools.json"

CATEGORIES = (
    "commercial-remote-support",
    "msp-rmm-agent",
    "vnc-family",
    "open-source-remote-desktop",
    "remote-desktop",
    "ide-tunnel",
    "hardware-kvm",
    "file-transfer-remote-access",
    "other",
)

# Output field order (every tool has every field, so consumers never need .get()).
FIELDS = (
    "id", "name", "aliases", "category", "builtin", "vendor", "website", "source",
    "platforms", "executables", "executable_patterns", "ambiguous_executables",
    "original_file_names", "signers", "install_paths", "artifact_paths", "services",
    "registry_keys", "domains", "domain_patterns", "shared_domains", "ip_addresses",
    "campaign_indicators", "self_hosted", "ports", "port_ranges", "named_pipes", "command_line_indicators",
    "device_strings", "capabilities", "lolrmm_category", "lolrmm_ids", "references",
    "augmented_fields",
)
LIST_FIELDS = tuple(
    f for f in FIELDS
    if f not in ("id", "name", "category", "builtin", "vendor", "website", "source",
                 "self_hosted", "lolrmm_category", "ports", "port_ranges")
)

# --------------------------------------------------------------------------------------------
# Identity: which LOLRMM files describe the same product.
# Files whose Name slugs to the same id merge automatically (LOLRMM has six exact duplicates).
# This map merges duplicates whose names differ; key = LOLRMM file stem, value = our id.
# --------------------------------------------------------------------------------------------
MERGE = {
    "level": "level", "level.io": "level", "levelio": "level",
    "isl_light": "isl-online", "isl_online": "isl-online", "islonline": "isl-online",
    "itsupport247_(connectwise)": "itsupport247", "itsupport247connectwise": "itsupport247",
    "n-able_advanced_monitoring_agent": "n-able-advanced-monitoring-agent",
    "n-ableadvancedmonitoringagent": "n-able-advanced-monitoring-agent",
    "netop": "netop-remote-control",
    "netop_remote_control_(aka_impero_connect)": "netop-remote-control",
    "netop_remote_control_(impero_connect)": "netop-remote-control",
    "mionet_(also_known_as_wd_anywhere_access)": "mionet",
    "mionet_(wd_anywhere_access)": "mionet",
    "pocket_controller": "soti-pocket-controller",
    "pocket_controller_(soti_xsight)": "soti-pocket-controller",
    "netviewer": "netviewer", "netviewer_(gotomeet)": "netviewer",
    "connectwise_automate_(labtech)": "connectwise-automate",
    "labteachconnectwiseautomate": "connectwise-automate",
    "labtech_rmm_(now_connectwise_automate)": "connectwise-automate",
    "remote_utilities": "remote-utilities", "remoteutilities": "remote-utilities",
    "lite_manager": "litemanager", "litemanager": "litemanager",
    "simplehelp": "simplehelp", "updatesimplehelp": "simplehelp",
    "ultra_vnc": "ultravnc", "ultravnc": "ultravnc",
    "quickassist": "microsoft-quick-assist", "microsoft_quick_assist": "microsoft-quick-assist",
    "dev_tunnels_(aka_visual_studio_dev_tunnel)": "dev-tunnels",
    "visual_studio_dev_tunnel": "dev-tunnels",
    "ninjaone_(formerly_ninjarmm)": "ninjaone", "ninjarmm": "ninjaone",
    "splashtop": "splashtop", "splashtop_remote": "splashtop", "splashtopbeta": "splashtop",
    "screenconnect": "screenconnect", "connectwise_control": "screenconnect",
    "connectwise": "screenconnect",
    "beyondtrust": "beyondtrust-remote-support",
    "beyondtrust_(bomgar)": "beyondtrust-remote-support",
    "ehorus": "ehorus", "pandora_rc_(ehorus)": "ehorus",
    "realvnc": "realvnc", "vnc_connect": "realvnc",
    "devolutions_remote_desktop_manager": "remote-desktop-manager",
    "remote_desktop_manager_(devolutions)": "remote-desktop-manager",
    "instant_housecall": "instant-housecall", "instanthousecall": "instant-housecall",
    # Single files that get a clearer id than their LOLRMM name would give.
    "mstsc": "mstsc",
    "ammyyadmin": "ammyy-admin",
    "logmein_rescue": "logmein-rescue",
    "centrastage_(now_datto)": "datto-rmm",
    "kaseya": "kaseya-vsa",
    "chicken_(of_the_vnc)": "chicken-of-the-vnc",
    "gotoassist_(goto_resolve)": "goto-resolve",
    "quest_kace_agent_(formerly_dell_kace)": "quest-kace-agent",
    "manage_engine_(desktop_central)": "manageengine-desktop-central",
    "absolute_(computrace)": "absolute-computrace",
    "247ithelp.com_(connectwise)": "247ithelp",
    "electric_ai_(kaseya)": "electric-ai",
    "webex_(remote_access)": "webex-remote-access",
    "pocket_cloud_(wyse)": "wyse-pocket-cloud",
    "acronis_cyber_protect_(remotix)": "acronis-cyber-protect-connect",
    "psexec_(clone)": "psexec-clone",
    "nvda": "nvda",
    "ninite": "ninite",
    "fleetdeck": "fleetdeck",
}

# Display names for merged / renamed entries (otherwise the LOLRMM Name is used).
NAME_OVERRIDES = {
    "level": "Level", "isl-online": "ISL Online", "itsupport247": "ITSupport247 (ConnectWise)",
    "netop-remote-control": "Netop Remote Control", "mionet": "MioNet (WD Anywhere Access)",
    "soti-pocket-controller": "SOTI Pocket Controller", "netviewer": "Netviewer",
    "connectwise-automate": "ConnectWise Automate (LabTech)",
    "remote-utilities": "Remote Utilities", "litemanager": "LiteManager",
    "ultravnc": "UltraVNC", "microsoft-quick-assist": "Microsoft Quick Assist",
    "dev-tunnels": "Microsoft Dev Tunnels", "ninjaone": "NinjaOne (NinjaRMM)",
    "splashtop": "Splashtop", "screenconnect": "ScreenConnect (ConnectWise Control)",
    "beyondtrust-remote-support": "BeyondTrust Remote Support (Bomgar)", "ehorus": "eHorus",
    "realvnc": "RealVNC (VNC Connect)",
    "remote-desktop-manager": "Devolutions Remote Desktop Manager",
    "mstsc": "Microsoft Remote Desktop Connection (mstsc)",
    "datto-rmm": "Datto RMM (CentraStage)", "chicken-of-the-vnc": "Chicken of the VNC",
}

# Vendor for well-known tools. Otherwise: PE Company, else the first cleaned signer, else null.
VENDOR_OVERRIDES = {
    "teamviewer": "TeamViewer", "anydesk": "AnyDesk Software", "screenconnect": "ConnectWise",
    "connectwise-automate": "ConnectWise", "itsupport247": "ConnectWise",
    "logmein": "GoTo (LogMeIn)", "logmein-rescue": "GoTo (LogMeIn)",
    "gotoassist": "GoTo (LogMeIn)", "goto-resolve": "GoTo (LogMeIn)",
    "gotomypc": "GoTo (LogMeIn)", "goto-opener": "GoTo (LogMeIn)",
    "splashtop": "Splashtop", "beyondtrust-remote-support": "BeyondTrust",
    "ammyy-admin": "Ammyy", "supremo": "Nanosystems", "rustdesk": "Purslane (RustDesk)",
    "atera": "Atera Networks", "ninjaone": "NinjaOne", "simplehelp": "SimpleHelp",
    "dameware": "SolarWinds", "tmate": "tmate.io", "realvnc": "RealVNC",
    "tightvnc": "GlavSoft", "ultravnc": "uvnc bvba", "tigervnc": "TigerVNC project",
    "remote-desktop-manager": "Devolutions", "chrome-remote-desktop": "Google",
    "mstsc": "Microsoft", "microsoft-quick-assist": "Microsoft", "dev-tunnels": "Microsoft",
    "rdcman": "Microsoft", "mouse-without-borders": "Microsoft", "psexec": "Microsoft",
    "kaseya-vsa": "Kaseya", "datto-rmm": "Kaseya (Datto)", "n-able-advanced-monitoring-agent":
    "N-able", "n-able-remote-access-software": "N-able", "syncro": "Servably (Syncro)",
    "action1": "Action1", "pulseway": "Kaseya (Pulseway)", "meshcentral": "MeshCentral project",
    "zoho-assist": "Zoho", "isl-online": "ISL Online", "netsupport-manager": "NetSupport",
    "radmin": "Famatech", "remotepc": "IDrive", "tactical-rmm": "AmidaWare (Tactical RMM)",
    "aweray": "Oray (AweRay)", "sunlogin": "Oray", "superops": "SuperOps",
    "rapid7": "Rapid7", "ocs-inventory": "OCS Inventory NG", "putty": "Simon Tatham",
    "winscp": "Martin Prikryl", "tailscale": "Tailscale", "cloudflare-tunnel": "Cloudflare",
    "ngrok": "ngrok", "zerotier": "ZeroTier", "apple-remote-desktop": "Apple",
    "gotoassist-agent-desktop-console": "GoTo (LogMeIn)", "litemanager": "LiteManager",
    "netop-remote-control": "Netop (Impero)", "todesk": "ToDesk", "ultraviewer": "DucFabulous",
    "manageengine": "Zoho (ManageEngine)", "manageengine-desktop-central": "Zoho (ManageEngine)",
    "manageengine-rmm-central": "Zoho (ManageEngine)",
    "manageengine-servicedesk-plus": "Zoho (ManageEngine)",
    "free-tools-launcher": "Zoho (ManageEngine)",
}

# --------------------------------------------------------------------------------------------
# Categorisation. Order: CATEGORY_OVERRIDES, then CATEGORY_KEYWORDS (first rule whose regex
# matches the lowercased "name aliases id" text wins), then the LOLRMM-category fallback.
# --------------------------------------------------------------------------------------------
CATEGORY_OVERRIDES = {
    # Seed-rule tools, pinned so a keyword-table change cannot move them.
    "teamviewer": "commercial-remote-support",
    "anydesk": "commercial-remote-support",
    "screenconnect": "commercial-remote-support",
    "logmein": "commercial-remote-support",
    "logmein-rescue": "commercial-remote-support",
    "ammyy-admin": "commercial-remote-support",
    "supremo": "commercial-remote-support",
    "rustdesk": "open-source-remote-desktop",
    "splashtop": "commercial-remote-support",
    "atera": "msp-rmm-agent",
    "ninjaone": "msp-rmm-agent",
    "simplehelp": "commercial-remote-support",
    "dameware": "commercial-remote-support",
    "tmate": "other",
    "remote-desktop-manager": "remote-desktop",
    "chrome-remote-desktop": "remote-desktop",
    "mstsc": "remote-desktop",
    # Where the keyword table would misfire.
    "connectwise-automate": "msp-rmm-agent",        # "automate" ok, but pin it
    "itsupport247": "msp-rmm-agent",                # ConnectWise RMM agent (saazapsc.exe)
    "247ithelp": "msp-rmm-agent",
    "remote-utilities": "commercial-remote-support",
    "remote-manipulator-system": "commercial-remote-support",
    "n-able-remote-access-software": "commercial-remote-support",  # N-able Take Control
    "beanywhere": "commercial-remote-support",      # N-able Take Control's predecessor
    "pchelpware": "vnc-family",                     # UltraVNC-based (no "vnc" in the name)
    "crossloop": "vnc-family",                      # ships WinVNCStub.exe
    "rport": "msp-rmm-agent",
    "remote-it": "ide-tunnel",
    "dataplicity": "ide-tunnel",
    "shellhub": "other",
    "rdp2tcp": "ide-tunnel",                        # TCP tunnelling over an RDP channel
    "remcos": "other",                              # commodity RAT, listed by LOLRMM
    "sorillus": "other",                            # commodity RAT
    "mouse-without-borders": "other",
    "synergy": "other",
    "nvda": "other",
    "free-ping-tool": "other",
    "basecamp": "other",
    "adobe-connect": "commercial-remote-support",
    "webex-remote-access": "commercial-remote-support",
    "microsoft-quick-assist": "remote-desktop",
    "apple-remote-desktop": "remote-desktop",
    "jump-desktop": "remote-desktop",
    "parallels-access": "remote-desktop",
    "parsec": "remote-desktop",
    "nomachine": "remote-desktop",
    "freenx": "open-source-remote-desktop",
    "duet-display": "remote-desktop",
    "windows-remote-assistance": "remote-desktop",
    "msp360": "msp-rmm-agent",                      # MSP360 (CloudBerry) RMM + Connect
    "mionet": "file-transfer-remote-access",
    "idrive": "file-transfer-remote-access",
    "gotohttp": "commercial-remote-support",
    "ninite": "msp-rmm-agent",
    "psexec": "other",
    "psexec-clone": "other",
    "veyon": "open-source-remote-desktop",
    "tiflux": "msp-rmm-agent",
    "vizor": "msp-rmm-agent",
    "teramind": "other",                            # employee monitoring
    "kickidler": "other",
    "controlio": "other",
    "spyanywhere": "other",
    "net-monitor-for-employees": "other",
    "monitic": "msp-rmm-agent",
    "komari": "other",                              # self-hosted server monitoring + web shell
    "nezha": "other",
    "zabbix-agent": "other",
    "site24x7": "other",
    "auvik": "other",
    "domotz": "other",
    "netreo": "other",
    "rapid7": "other",
    "fortra": "other",
    "encapto": "other",
    "electric-ai": "msp-rmm-agent",
    "barracuda": "msp-rmm-agent",
    "guacamole": "open-source-remote-desktop",
    "ericom-accessnow": "remote-desktop",
    "ericom-connect": "remote-desktop",
    "rocket-remote-desktop": "commercial-remote-support",
    "access-remote-pc": "commercial-remote-support",
    "royal-apps": "remote-desktop",
    "royal-server": "remote-desktop",
    "royal-ts": "remote-desktop",
    "mremoteng": "remote-desktop",
    "terminals": "remote-desktop",
    "remmina": "remote-desktop",
    "syncro": "msp-rmm-agent",                      # "sync" would make it file transfer
    "anyviewer": "commercial-remote-support",
    "helpwire": "commercial-remote-support",
    "litemanager": "commercial-remote-support",     # "manage" would make it an RMM agent
    "netsupport-manager": "commercial-remote-support",
    "gotoassist-agent-desktop-console": "commercial-remote-support",
    "free-tools-launcher": "other",
    "wyse-pocket-cloud": "remote-desktop",          # RDP/VNC client
    "qq-im-remote-assistance": "commercial-remote-support",
    "pcanywhere": "commercial-remote-support",
    "noteon-desktop-sharing": "commercial-remote-support",
    "echoware": "vnc-family",                       # NAT-traversal add-on for VNC servers
}

CATEGORY_KEYWORDS = (
    ("hardware-kvm", (r"\bkvm\b", r"pikvm", r"tinypilot", r"ip-kvm")),
    ("vnc-family", (r"vnc",)),
    ("ide-tunnel", (r"tunnel", r"ngrok", r"localxpose", r"tailscale", r"zerotier", r"netbird")),
    ("remote-desktop", (r"\brdp", r"rdp\b", r"remote desktop", r"mstsc", r"rdclient", r"rdcman",
                        r"terminal serv", r"quick ?assist", r"remote assistance", r"\bx2go\b",
                        r"\bxpra\b")),
    ("file-transfer-remote-access", (r"sync\b", r"syncthing", r"ftp", r"winscp", r"\bs3\b", r"backup",
                                     r"drive\b", r"disk\b", r"\bmega", r"koofr", r"nordlocker",
                                     r"onionshare", r"duplicati", r"multcloud", r"insync")),
    ("other", (r"putty", r"\bssh\b", r"securecrt", r"xshell", r"mobaxterm", r"\bkitty\b",
               r"\bzoc\b", r"smartty", r"tmate", r"teleport")),
    ("open-source-remote-desktop", (r"rustdesk", r"meshcentral", r"remotely", r"hoptodesk",
                                    r"aspia", r"controlr", r"rudesktop", r"dw ?service")),
    ("msp-rmm-agent", (r"\brmm\b", r"agent", r"automat", r"monitor", r"management", r"manage",
                       r"deploy", r"endpoint", r"inventory", r"kaseya", r"n-able", r"datto",
                       r"centrastage", r"syncro", r"kabuto", r"action1", r"pulseway", r"atera",
                       r"ninja", r"naverisk", r"superops", r"itarian", r"comodo", r"level",
                       r"tanium", r"landesk", r"ivanti", r"baramundi", r"\bpdq\b", r"faronics",
                       r"glpi", r"\bocs\b", r"kace", r"miradore", r"addigy", r"jump ?cloud",
                       r"immybot", r"absolute", r"eset", r"sophos", r"goverlan", r"optitune",
                       r"panorama9", r"servereye", r"syspectr", r"xeox", r"senso", r"sysaid",
                       r"freshservice", r"invgate", r"bluetrait", r"heartbeatrm", r"fleetdeck",
                       r"deskday", r"gorelo", r"lunixar", r"rodex", r"runsmart", r"desknets",
                       r"total software", r"emco", r"res automation", r"itsupport")),
)

# Capability vocabulary: (token, regexes over the LOLRMM capability string, lowercased).
CAPABILITY_KEYWORDS = (
    ("remote-control", (r"remote control", r"remote desktop", r"screen shar", r"remote view",
                        r"remote access", r"rdp", r"remote support", r"keyboard and mouse",
                        r"remote management session", r"desktop streaming")),
    ("unattended-access", (r"unattended",)),
    ("file-transfer", (r"file transfer", r"file system access", r"file access",
                       r"file management", r"file synchron", r"upload", r"file storage")),
    ("command-execution", (r"command", r"shell", r"terminal", r"powershell", r"script",
                           r"\bssh\b")),
    ("tunnelling", (r"tunnel", r"port forwarding", r"\bvpn\b", r"peer-to-peer networking")),
    ("software-deployment", (r"deploy", r"software distribution", r"patch",
                             r"software installation", r"install windows updates")),
    ("monitoring", (r"monitoring", r"monitor\b", r"telemetry", r"alerting")),
    ("inventory", (r"inventory", r"discovery", r"asset")),
    ("chat", (r"chat", r"messag", r"voice")),
    ("recording", (r"recording", r"screenshot", r"screen capture", r"keylog")),
    ("self-hosted", (r"self-hosted", r"on-premise")),
)

PLATFORM_ALIASES = {
    "windows": "windows", "win": "windows", "mac": "macos", "macos": "macos", "osx": "macos",
    "linux": "linux", "android": "android", "ios": "ios", "chromeos": "chromeos",
    "freebsd": "freebsd", "openwrt": "linux", "synology": "linux", "web": "web",
}

# File names too generic to identify a tool on their own (kept in ambiguous_executables).
GENERIC_EXECUTABLES = frozenset({
    "agent.exe", "agent32.exe", "agent64.exe", "autoupdate.exe", "client.exe", "closeapp.exe",
    "cmd.exe", "code.exe", "conhost.exe", "connect.exe", "dd.exe", "dwm.exe", "explorer.exe",
    "install.exe", "installer.exe", "launcher.exe", "msiexec.exe", "notificationhelper.exe",
    "perl.exe", "powershell.exe", "recycler.exe", "regedit.exe", "rundll32.exe", "sc.exe",
    "selfupdater.exe", "server.exe", "service.exe", "setup.exe", "si.exe", "svchost.exe",
    "uninstall.exe", "update.exe", "updater.exe", "upload.exe",
    # Third-party helpers that tools bundle (7-Zip, tar, NSSM, Perl, osquery, smartmontools,
    # winpty, MSI icon stubs) or unrelated software LOLRMM lists next to a tool.
    "7z.exe", "7zip.exe", "tar.exe", "nssm.exe", "wperl.exe", "osqueryi.exe", "smartctl.exe",
    "winpty-agent.exe", "winpty-agent64.exe", "arpproducticon.exe", "teams.exe", "sysdiag.exe",
    "installshield setup.exe",
    # More third-party utilities a vendor may ship next to its own binaries: download and sync
    # tools, service wrappers, scanners, interpreters, OpenSSH. No catalog tool owns them.
    "7za.exe", "7zr.exe", "7zg.exe", "curl.exe", "wget.exe", "rclone.exe", "srvany.exe",
    "nmap.exe", "ncat.exe", "nc.exe", "python.exe", "pythonw.exe", "java.exe", "javaw.exe",
    "node.exe", "ssh.exe", "sshd.exe", "scp.exe", "sftp.exe", "openssl.exe", "busybox.exe",
    "ffmpeg.exe",
    # Names made only of common words, or of three letters or fewer, that LOLRMM lists for one
    # tool but that other software also uses (scripts/catalog/lint_catalog.py finds them; the
    # tool's own distinctive names stay executables). With the vendor's signer they still count.
    "agent_setup_5.exe", "appcore.exe", "baseclient.exe", "bbl.exe", "cbb.exe", "clm.exe",
    "cloud.backup.scheduler.exe", "era.exe", "gp3.exe", "gp4.exe", "gp5.exe", "httpget.exe",
    "httppush.exe", "iit.exe", "installcore.exe", "migrationhelper_32.exe",
    "migrationhelper_64.exe", "online backup.exe", "pcstarter.exe", "rd.exe", "rdp.exe",
    "remote access.exe", "remote desktop.exe", "remote_host.exe", "rv.exe",
    "serverproxyservice.exe", "serviceproxylocalsys.exe", "supporttool.exe",
    "uninstallstatusupdater.exe", "usernotificationhelper.exe", "vhost.exe",
    "windowslauncher.exe", "wmc.exe",
})

# Binaries that belong to one tool but that another tool bundles, or that LOLRMM lists under
# another tool: name -> the owning tool's id, or None when no catalog tool owns the name. Under
# any tool but the owner the name becomes an ambiguous executable and leaves original_file_names,
# so a rule attributes it to that tool only together with the tool's signer (Freshservice's
# discovery probe ships PuTTY's plink.exe; a plink.exe tunnel is PuTTY, not Freshservice). The
# owner gets the name as an executable if it does not list it yet (--check verifies).
BUNDLED_EXECUTABLES = {
    # PuTTY's command-line programs (Freshservice's probe bundles plink.exe).
    "plink.exe": "putty", "pscp.exe": "putty", "psftp.exe": "putty", "putty.exe": "putty",
    "kitty.exe": "kitty", "winscp.exe": "winscp",
    # Sysinternals PsExec and its open-source clone PAExec (Bluetrait bundles paexec.exe).
    "psexec.exe": "psexec", "psexec64.exe": "psexec", "psexesvc.exe": "psexec",
    "paexec.exe": "psexec-clone",
    # LOLRMM entries that copy another product's files: TigerVNC lists TightVNC's server,
    # RDPView lists DameWare's service, Pocket Controller (SOTI) lists Wyse PocketCloud's service.
    "tvnserver.exe": "tightvnc", "dwrcs.exe": "dameware",
    "pocketcloudservice.exe": "wyse-pocket-cloud",
    # LOLRMM's "Access Remote PC" describes IDrive RemotePC's files (C:\Program Files (x86)\RemotePC).
    "remotepcuiu.exe": "remotepc", "rpcperformanceservice.exe": "remotepc",
    # Named after Syncro, listed by LOLRMM under Atera; Syncro's entry does not list it.
    "syncrosetup.exe": None,
}

# Executable patterns that name another tool's files, or whose fixed part is generic:
# pattern -> the owning tool's id (the pattern moves there), or None (dropped: it would match
# other vendors' installers). There is no ambiguous form of a pattern.
BUNDLED_PATTERNS = {
    "ezhelp*.exe": "ezhelp",          # LOLRMM lists it under ESET Remote Administrator
    "agentsetup-*.exe": None,         # Naverisk's installer, but "AgentSetup-" is generic
}

# Misspelt binary names in LOLRMM -> the name as the binary is spelt. The wrong spelling never
# reaches the catalog (--check; scripts/catalog/lint_catalog.py).
EXECUTABLE_SPELLING = {
    "psexecsvc.exe": "psexesvc.exe",          # Sysinternals PsExec's service is PSEXESVC.exe
    "tdp2tcp.exe": "rdp2tcp.exe",             # rdp2tcp's Windows-side program
    "ericomconnnectconfigurationtool.exe": "ericomconnectconfigurationtool.exe",  # "connnect"
    "wecliboardlistener.exe": "weclipboardlistener.exe",  # Controlio also lists the right one
    "winwvc.exe": "winvnc.exe",               # the VNC server is WinVNC.exe
}

# Aliases. Every LOLRMM Name merged into a tool stays an alias, verbatim. A Name of the form
# "Base (Inner)" also gives "Base" and "Inner" (with "aka", "also known as", "now" or "formerly"
# removed from Inner), unless the short form is a qualifier rather than a product name (below),
# or another tool's id, name or alias (compared on letters and digits only).
ALIAS_QUALIFIERS = frozenset({
    "beta", "clone", "remote access", "of the vnc", "vsa", "connectwise", "kaseya", "devolutions",
    "wyse", "gotomeet",
    "labteach",  # LOLRMM's misspelling of LabTech ("LabTeach (Connectwise Automate)")
})

# Signer / company strings that are not a vendor identity (junk or a CA), dropped everywhere.
SIGNER_NOISE = frozenset({
    ".net", "certification authority", "codesigningmico", "globalsigningdig", "superopsticket",
    "rapid7company", "gorelo.rmm.setup", "www.tanium.com", "ivanti ソフトウェア監視",
})
# Third-party signers seen on LOLRMM's downloaded samples that belong to bundled components or
# unrelated software (WinRAR, PuTTY, WinSCP, Adobe, ...). Dropped unless the tool's own vendor.
SIGNER_THIRD_PARTY = frozenset({
    "win.rar gmbh", "alexander roshal", "power software limited", "simon tatham",
    "martin prikryl", "adobe systems incorporated", "oculus vr, llc", "unity technologies aps",
    "unity technologies sf", "openvpn inc.", "symantec corporation", "github, inc.",
    "tuxera inc", "flexera", "beijing huorong network technology co., ltd.",
    "北京火绒网络科技有限公司", "christopher west", "wide vision trade gmbh",
    "中移动信息技术有限公司", "rare ideas, llc", "realvnc", "realvnc ltd", "realvnc ltd.",
    "the anti-cloud corporation", "wiresock foundation", "深圳市玩物科技有限公司",
    "knowledge centric solutions sl.", "zoho corporation private limited",
})
# Microsoft signers are only kept for Microsoft tools (everything else would match Windows).
MICROSOFT_SIGNERS = frozenset({"microsoft corporation", "microsoft windows component publisher",
                               "microsoft"})
MICROSOFT_TOOLS = frozenset({"mstsc", "microsoft-quick-assist", "rdcman", "mouse-without-borders",
                             "dev-tunnels", "vscode-tunnel", "windows-remote-assistance",
                             "psexec"})
# Signers LOLRMM attaches to a tool that belong to another tool's vendor (sample mix-ups).
SIGNER_DROP = {
    "aweray": {"duc fabulous co.,ltd"},                 # UltraViewer's publisher
    "litemanager": {"remote utilities pte. ltd."},      # Remote Utilities' publisher
    "isl-online": {"pdq.com corporation"},
    "superops": {"isl online ltd.", "xlab d.o.o."},     # ISL Online's publisher
}
# Tools whose own vendor appears in SIGNER_THIRD_PARTY (keep those signers for them).
SIGNER_THIRD_PARTY_OWNERS = {
    "putty": {"simon tatham"}, "winscp": {"martin prikryl"},
    "realvnc": {"realvnc", "realvnc ltd", "realvnc ltd."},
    "ultravnc": set(), "manageengine": {"zoho corporation private limited"},
    "manageengine-desktop-central": {"zoho corporation private limited"},
    "manageengine-rmm-central": {"zoho corporation private limited"},
    "manageengine-servicedesk-plus": {"zoho corporation private limited"},
    "free-tools-launcher": {"zoho corporation private limited"},
    "site24x7": {"zoho corporation private limited"},
    "zoho-assist": {"zoho corporation private limited"},
    "putty-tray": {"christopher west"},
}

# Hostnames that many unrelated tools also reach (code hosting, download portals, public STUN).
SHARED_HOSTS = frozenset({
    "github.com", "raw.githubusercontent.com", "objects.githubusercontent.com", "ghcr.io",
    "stunserver.stunprotocol.org",
})
SHARED_SUFFIXES = (".softonic.com", ".software.informer.com")

# Network blocks whose description marks them as one campaign's infrastructure.
CAMPAIGN_BLOCK = re.compile(r"threat[- ]actor[- ](controlled|c2)|abuse infrastructure|"
                            r"not vendor-legitimate", re.IGNORECASE)

# Values in Network.Domains that mean "the operator picks the server".
SELF_HOSTED_MARKERS = ("user_managed", "<", "operator", "internal-customer")

# Values dropped during normalisation (reported on stderr).
DROPPED: list = []

# Disk artifacts under the Windows system folders are OS files (e.g. termsrv.exe for mstsc),
# so they are not promoted to executables.
SYSTEM_DIR = re.compile(r"(%systemroot%|%windir%|\\windows\\(system32|syswow64)\\)",
                        re.IGNORECASE)

# Service names that are shared third-party drivers, not the tool's own service.
GENERIC_SERVICES = frozenset({"winring0_1_2_0"})

OTHER_SERVICE_TYPES = frozenset({"servicename", "service", "windowsservicename"})

HIVES = (
    (r"HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE"), (r"HKLM", "HKEY_LOCAL_MACHINE"),
    (r"KLM", "HKEY_LOCAL_MACHINE"),  # LOLRMM typo ("KLM\SOFTWARE\...")
    (r"HKEY_CURRENT_USER", "HKEY_CURRENT_USER"), (r"HKCU", "HKEY_CURRENT_USER"),
    (r"HKEY_USERS", "HKEY_USERS"), (r"HKU", "HKEY_USERS"),
    (r"HKEY_CLASSES_ROOT", "HKEY_CLASSES_ROOT"), (r"HKCR", "HKEY_CLASSES_ROOT"),
    (r"HKEY_CURRENT_CONFIG", "HKEY_CURRENT_CONFIG"), (r"HKCC", "HKEY_CURRENT_CONFIG"),
    (r"\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"), (r"\\REGISTRY\\USER", "HKEY_USERS"),
)

# Seed rule (/work/shared/seed/t1219-sentinel.kql): tools that must exist, with the category we
# assign them. The seed's own labels ("Commercial RMM", "MSP Tool", ...) are coarser.
SEED_TOOLS = {
    "teamviewer": "commercial-remote-support",
    "anydesk": "commercial-remote-support",
    "screenconnect": "commercial-remote-support",
    "logmein": "commercial-remote-support",
    "logmein-rescue": "commercial-remote-support",
    "ammyy-admin": "commercial-remote-support",
    "supremo": "commercial-remote-support",
    "rustdesk": "open-source-remote-desktop",
    "splashtop": "commercial-remote-support",
    "atera": "msp-rmm-agent",
    "ninjaone": "msp-rmm-agent",
    "simplehelp": "commercial-remote-support",
    "dameware": "commercial-remote-support",
    "tmate": "other",
    "vnc": "vnc-family",
    "realvnc": "vnc-family",
    "tightvnc": "vnc-family",
    "ultravnc": "vnc-family",
    "tigervnc": "vnc-family",
    "remote-desktop-manager": "remote-desktop",
    "chrome-remote-desktop": "remote-desktop",
    "mstsc": "remote-desktop",
    "vscode-tunnel": "ide-tunnel",
    "dev-tunnels": "ide-tunnel",
    "pikvm": "hardware-kvm",
    "tinypilot": "hardware-kvm",
}
SEED_PROCESS_NAMES = (
    "teamviewer.exe", "teamviewer_service.exe", "anydesk.exe", "anydesk_service.exe",
    "screenconnect.exe", "screenconnectclient.exe", "connectwisecontrol.client.exe",
    "logmein.exe", "lmi_rescue.exe", "logmeinrescue.exe", "ammyyadmin.exe", "aa_v3.exe",
    "supremo.exe", "supremoservice.exe", "rustdesk.exe", "splashtop.exe", "splashtopremote.exe",
    "ateraagent.exe", "ninjaone.exe", "ninjaremote.exe", "simplehelp.exe", "dwrcs.exe",
    "dwrcst.exe", "tmate", "vnc.exe", "tvnserver.exe", "vncviewer.exe", "uvnc_service.exe",
    "winvnc.exe", "remotedesktopmanager.exe", "mstsc.exe", "chrome_remote_desktop.exe",
    "remote_assistance_host.exe",
)
# Seed process names we deliberately do not carry as executables (see docs/catalog.md).
SEED_NAME_EXCEPTIONS = {
    "anydesk_service.exe": "no such binary; the AnyDesk service runs AnyDesk.exe --service",
    "logmeinrescue.exe": "not a LogMeIn Rescue binary name (applet is lmi_rescue.exe)",
    "ammyyadmin.exe": "not an Ammyy binary name (AA_v3.exe, AMMYY_Admin.exe)",
    "splashtop.exe": "only the name Atomic Red Team gives a renamed Splashtop installer",
    "splashtopremote.exe": "SplashtopRemoteService is a service name, not a binary",
    "ninjaone.exe": "not a NinjaOne binary name (NinjaRMMAgent.exe, ...)",
    "ninjaremote.exe": "not a known NinjaOne binary name",
    "simplehelp.exe": "not a SimpleHelp binary name (Remote Access.exe, SimpleService.exe, ...)",
    "vnc.exe": "generic; no VNC product ships this name",
    "uvnc_service.exe": "uvnc_service is UltraVNC's service name (binary: winvnc.exe)",
    "chrome_remote_desktop.exe": "not a Chrome Remote Desktop binary (remoting_host.exe, ...)",
}
SEED_DOMAINS = (
    "teamviewer.com", "anydesk.com", "screenconnect.com", "connectwise.com", "logmein.com",
    "logmeinrescue.com", "ammyy.com", "supremo.com", "rustdesk.com", "splashtop.com",
    "atera.com", "ninjarmm.com", "simplehelp.com",
)
SEED_DOMAIN_EXCEPTIONS = {
    "supremo.com": "not Supremo's domain (Supremo uses supremocontrol.com)",
    "simplehelp.com": "not SimpleHelp's domain (simple-help.com, usually self-hosted)",
}

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def sort_key(s: str):
    return (s.casefold(), s)


def uniq_sorted(values, fold=True):
    """Deduplicate (case-insensitively when fold) and sort deterministically."""
    best = {}
    for v in values:
        if v is None:
            continue
        k = v.casefold() if fold else v
        if k not in best or sort_key(v) < sort_key(best[k]):
            best[k] = v
    return sorted(best.values(), key=sort_key)


def as_list(x):
    if x is None:
        return []
    if isinstance(x, list):
        return x
    return [x]


def text(x) -> str:
    """A scalar as a clean string ('' for None / non-scalars)."""
    if x is None or isinstance(x, (dict, list)):
        return ""
    return re.sub(r"\s+", " ", str(x)).strip()


def slugify(name: str) -> str:
    s = name.casefold().replace("&", " and ").replace("'", "")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s or "unnamed"


def clean_path(p: str) -> str:
    p = text(p).strip("'\"")
    p = re.sub(r"\\{2,}", r"\\", p)
    return p


def basename(p: str) -> str:
    return re.split(r"[\\/]", p)[-1].strip()


VALID_EXE = re.compile(r"^[^\\/:*?\"<>|\s][^\\/:*?\"<>|]*$")
VALID_EXE_PATTERN = re.compile(r"^[^\\/:\"<>|]+$")


def glob_from_regexish(s: str) -> str:
    """LOLRMM sometimes writes regex classes in names: 'relay-[a-f0-9]{8}', '[a-Z0-9]*'."""
    s = re.sub(r"\[[^\]]*\](\{\d+(,\d*)?\}|[*+?])?", "*", s)
    s = s.replace(".*", "*")
    s = re.sub(r"\*+", "*", s)
    return s


# --------------------------------------------------------------------------------------------
# Extraction from one LOLRMM document
# --------------------------------------------------------------------------------------------


class Facts:
    """Accumulates facts for one catalog entry (possibly from several LOLRMM files)."""

    def __init__(self):
        self.lists = defaultdict(list)
        self.names = []
        self.websites = []
        self.pe_companies = []
        self.lolrmm_categories = []
        self.self_hosted = False
        self.ports = set()
        self.port_ranges = set()
        self.raw_capabilities = []

    def add(self, field, values):
        self.lists[field].extend(v for v in values if v)


def classify_file_name(name: str, facts: Facts, allow_bare=False, source_pe=False):
    """Route a file name to executables / executable_patterns; ignore non-executables."""
    n = text(name).strip("'\"")
    if not n:
        return
    n = basename(clean_path(n)).casefold()
    n = re.sub(r"\.exee$", ".exe", n)  # LOLRMM typo (G2MHost.exee)
    n = EXECUTABLE_SPELLING.get(n, n)
    if not n or n in (".", ".."):
        return
    if n.endswith(".exe"):
        if any(c in n for c in "*?["):
            pat = glob_from_regexish(n)
            if VALID_EXE_PATTERN.match(pat) and pat != "*.exe":
                facts.add("executable_patterns", [pat])
        elif VALID_EXE.match(n):
            if n in GENERIC_EXECUTABLES:
                facts.add("ambiguous_executables", [n])
            else:
                facts.add("executables", [n])
        return
    # Extension-less binaries (Linux / macOS tools such as tmate, loclx, glpi-agent).
    if (allow_bare or source_pe) and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", n):
        facts.add("executables", [n])


def exe_from_command(cmd: str):
    """First '*.exe' in an ImagePath / ServiceFileName value, or None."""
    c = clean_path(cmd)
    m = re.search(r"([^\\/\"']*?\.exe)\b", c, re.IGNORECASE)
    return m.group(1) if m else None


def normalise_registry(path: str):
    p = clean_path(path).strip()
    p = re.sub(r"^Registry::", "", p, flags=re.IGNORECASE)
    p = p.rstrip("\\")
    if not p:
        return None
    for prefix, full in HIVES:
        m = re.match(prefix + r"(:)?(\\|$)", p, re.IGNORECASE)
        if m:
            rest = p[m.end():]
            p = full + ("\\" + rest if rest else "")
            break
    else:
        return None
    # SID placeholders (HKU\SID\, HKU\<SID>\, HKU\{SID}\) become a glob.
    p = re.sub(r"^HKEY_USERS\\(SID|<SID>|\{SID\}|<USER_SID>|S-1-5-21-[^\\]*)(?=\\|$)",
               r"HKEY_USERS\\*", p, flags=re.IGNORECASE)
    return p


def service_from_registry(key: str):
    m = re.match(r"^HKEY_LOCAL_MACHINE\\SYSTEM\\(CurrentControlSet|ControlSet\d*)\\Services\\"
                 r"([^\\*]+)$", key, re.IGNORECASE)
    return m.group(2) if m else None


def normalise_domain(raw: str, facts: Facts, stats: Counter, campaign=False):
    d = text(raw).strip("'\"").casefold()
    if not d:
        return
    if any(d.startswith(m) or m in d for m in SELF_HOSTED_MARKERS):
        facts.self_hosted = True
        return
    d = re.sub(r"^[a-z]+://", "", d)
    d = d.split("/")[0]
    d = re.sub(r":\d+$", "", d).strip(".")
    try:
        ipaddress.ip_address(d)
        facts.add("campaign_indicators" if campaign else "ip_addresses", [d])
        return
    except ValueError:
        pass
    if re.search(r"[\[\]{}+\\()]", d):
        d = glob_from_regexish(d)
    label = r"(\*|[a-z0-9_*](?:[a-z0-9_*-]*[a-z0-9_*])?)"
    if not re.fullmatch(label + r"(\." + label + r")+", d) or d.startswith("*.*"):
        stats["dropped_domains"] += 1
        DROPPED.append(f"domain {raw!r}")
        return
    if campaign:
        facts.add("campaign_indicators", [d])
    elif "*" in d:
        facts.add("domain_patterns", [d])
    elif d in SHARED_HOSTS or d.endswith(SHARED_SUFFIXES):
        facts.add("shared_domains", [d])
    else:
        facts.add("domains", [d])


def add_port(value, facts: Facts, stats: Counter):
    for part in re.split(r"[,\s/]+", text(value)):
        part = part.strip().lower().removeprefix("tcp").removeprefix("udp").strip(":")
        if not part:
            continue
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if 1 <= lo < hi <= 65535:
                facts.port_ranges.add((lo, hi))
            else:
                stats["dropped_ports"] += 1
                DROPPED.append(f"port range {part!r}")
            continue
        if part.isdigit() and 1 <= int(part) <= 65535:
            facts.ports.add(int(part))
        else:
            stats["dropped_ports"] += 1
            DROPPED.append(f"port {part!r}")


def extract(doc: dict, facts: Facts, stats: Counter):
    name = text(doc.get("Name"))
    if name:
        facts.names.append(name)
    cat = text(doc.get("Category"))
    if cat:
        facts.lolrmm_categories.append(cat)

    details = doc.get("Details") if isinstance(doc.get("Details"), dict) else {}
    artifacts = doc.get("Artifacts") if isinstance(doc.get("Artifacts"), dict) else {}

    site = text(details.get("Website"))
    if site:
        facts.websites.append(site)

    for os_name in as_list(details.get("SupportedOS")):
        p = PLATFORM_ALIASES.get(text(os_name).casefold().replace(" ", ""))
        if p:
            facts.add("platforms", [p])

    facts.raw_capabilities.extend(text(c) for c in as_list(details.get("Capabilities")))

    for pe in as_list(details.get("PEMetadata")):
        if isinstance(pe, str):  # not in the schema, but cheap to accept
            classify_file_name(pe, facts, source_pe=True)
            continue
        if not isinstance(pe, dict):
            continue
        classify_file_name(pe.get("Filename"), facts, source_pe=True)
        ofn = text(pe.get("OriginalFileName")).casefold()
        ofn = EXECUTABLE_SPELLING.get(ofn, ofn)
        if ofn and ofn not in GENERIC_EXECUTABLES:
            facts.add("original_file_names", [ofn])
        comp = text(pe.get("Company"))
        if comp:
            facts.pe_companies.append(comp)
            facts.add("signers", [comp])

    # Some files put InstallationPaths under Artifacts or at the top level.
    install = (as_list(details.get("InstallationPaths")) + as_list(artifacts.get("InstallationPaths"))
               + as_list(doc.get("InstallationPaths")))
    for raw in install:
        p = clean_path(raw)
        if not p:
            continue
        if re.search(r"[\\/]", p):
            facts.add("install_paths", [p])
            if p.startswith("/") and "/bin/" in p and "." not in basename(p) and "*" not in p:
                classify_file_name(p, facts, allow_bare=True)
            else:
                classify_file_name(p, facts)
        else:
            classify_file_name(p, facts)

    for item in as_list(artifacts.get("Disk")):
        if not isinstance(item, dict):
            continue
        f = clean_path(item.get("File"))
        if not f:
            continue
        if re.search(r"[\\/]", f):
            facts.add("artifact_paths", [f])
            if f.casefold().endswith(".exe") and not SYSTEM_DIR.search(f):
                classify_file_name(f, facts)
        elif f.casefold().endswith(".exe"):
            classify_file_name(f, facts)
        else:
            facts.add("artifact_paths", [f])

    for ev in as_list(artifacts.get("EventLog")):
        if not isinstance(ev, dict):
            continue
        svc = text(ev.get("ServiceName"))
        if svc:
            facts.add("services", [svc])
        for key in ("ImagePath", "ServiceFileName"):
            exe = exe_from_command(text(ev.get(key)))
            if exe:
                classify_file_name(exe, facts)

    for reg in as_list(artifacts.get("Registry")):
        if not isinstance(reg, dict):
            continue
        key = normalise_registry(text(reg.get("Path")))
        if key is None:
            if text(reg.get("Path")):
                stats["dropped_registry_keys"] += 1
                DROPPED.append(f"registry key {text(reg.get('Path'))!r}")
            continue
        facts.add("registry_keys", [key])
        svc = service_from_registry(key)
        if svc:
            facts.add("services", [svc])

    for net in as_list(artifacts.get("Network")):
        if not isinstance(net, dict):
            continue
        # Blocks describing one threat actor's servers are indicators of a campaign, not the
        # tool's own infrastructure: they go to campaign_indicators and their ports are ignored.
        campaign = bool(CAMPAIGN_BLOCK.search(text(net.get("Description"))))
        for d in as_list(net.get("Domains")):
            normalise_domain(d, facts, stats, campaign)
        if not campaign:
            for port in as_list(net.get("Ports")):
                add_port(port, facts, stats)

    for other in as_list(artifacts.get("Other")):
        if not isinstance(other, dict):
            continue
        typ = re.sub(r"[^a-z]", "", text(other.get("Type")).casefold())
        val = text(other.get("Value"))
        if not val:
            continue
        if typ in OTHER_SERVICE_TYPES:
            facts.add("services", [val])
        elif typ == "namedpipe":
            facts.add("named_pipes", [re.sub(r"^\\+\.\\pipe\\", "", clean_path(val),
                                             flags=re.IGNORECASE)])
        elif typ in ("codesigningsigner", "codesigningcn", "signersubject", "codesigningsubject"):
            facts.add("signers", [signer_from_subject(val)])

    cs = doc.get("CodeSigning") if isinstance(doc.get("CodeSigning"), dict) else {}
    signers = [text(s) for s in as_list(cs.get("signer_names")) + as_list(cs.get("company_names"))]
    for cert in as_list(cs.get("certificates")):
        if isinstance(cert, dict):
            signers.append(text(cert.get("signer_name")))
            signers.append(text(cert.get("src_file_company")))
    facts.add("signers", signers)

    # FileHashes / CodeSigning.search_names hold the names of the downloaded samples that were
    # hashed (often random, e.g. "1ssi28.exe"), so they are not used as executable names.


def signer_from_subject(val: str) -> str:
    """'CN=Foo Ltd, O=Foo Ltd, ...' -> 'Foo Ltd'; 'Foo GmbH (current; chain ...)' -> 'Foo GmbH'."""
    m = re.search(r"(?:^|,\s*)CN=([^,]+)", val)
    if m:
        return m.group(1).strip()
    return re.sub(r"\s*\(.*$", "", val).strip()


def clean_signers(tool_id: str, signers):
    out = []
    owners = SIGNER_THIRD_PARTY_OWNERS.get(tool_id, set())
    for s in signers:
        s = text(s).rstrip("\\").strip().strip(",").strip()
        k = s.casefold()
        if not s or len(s) < 2 or k in SIGNER_NOISE:
            continue
        if k in MICROSOFT_SIGNERS and tool_id not in MICROSOFT_TOOLS:
            continue
        if k in SIGNER_THIRD_PARTY and k not in owners:
            continue
        if k in SIGNER_DROP.get(tool_id, ()):
            continue
        out.append(s)
    return uniq_sorted(out)


def capabilities_from(raw):
    caps = set()
    for c in raw:
        lc = c.casefold()
        for token, pats in CAPABILITY_KEYWORDS:
            if any(re.search(p, lc) for p in pats):
                caps.add(token)
    return sorted(caps)


def categorise(tool_id: str, name: str, aliases, lolrmm_cats, capabilities) -> str:
    if tool_id in CATEGORY_OVERRIDES:
        return CATEGORY_OVERRIDES[tool_id]
    hay = " ".join([name, *aliases, tool_id.replace("-", " ")]).casefold()
    for category, patterns in CATEGORY_KEYWORDS:
        if any(re.search(p, hay) for p in patterns):
            return category
    if "RMM" in lolrmm_cats:
        mgmt = {"software-deployment", "monitoring", "inventory"}
        return "msp-rmm-agent" if mgmt & set(capabilities) else "commercial-remote-support"
    return "other"


def infer_platforms(entry):
    plats = set(entry["platforms"])
    if any(e.endswith(".exe") for e in entry["executables"] + entry["ambiguous_executables"]):
        plats.add("windows")
    paths = entry["install_paths"] + entry["artifact_paths"]
    if any(re.match(r"^([a-z]:|%|\*\\)", p, re.IGNORECASE) for p in paths) or entry["registry_keys"]:
        plats.add("windows")
    if any(p.startswith(("/Applications", "/Library", "~/Library")) for p in paths):
        plats.add("macos")
    if any(p.startswith(("/usr/", "/etc/", "/opt/", "/var/", "~/.config")) for p in paths):
        plats.add("linux")
    return sorted(plats)


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def load_yaml_module():
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        sys.exit("build_catalog: PyYAML is required (pip install --user pyyaml)")
    return yaml


def read_lolrmm(src: Path, stats: Counter):
    yaml = load_yaml_module()
    ydir = src / "yaml"
    if not ydir.is_dir():
        sys.exit(f"build_catalog: {ydir} not found (pass the LOLRMM checkout folder)")
    docs = []
    for path in sorted(ydir.iterdir(), key=lambda p: p.name):
        if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
            continue
        stats["lolrmm_files"] += 1
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - report and continue
            print(f"warning: {path.name}: unreadable YAML ({exc.__class__.__name__})",
                  file=sys.stderr)
            stats["lolrmm_unreadable"] += 1
            continue
        if not isinstance(doc, dict) or not text(doc.get("Name")):
            print(f"warning: {path.name}: no Name, skipped", file=sys.stderr)
            stats["lolrmm_skipped"] += 1
            continue
        docs.append((path, doc))
    return docs


def tool_id_for(stem: str, doc: dict) -> str:
    return MERGE.get(stem) or slugify(text(doc.get("Name")))


def finish(tool_id, facts: Facts, stems, refs):
    names = uniq_sorted(facts.names)
    if tool_id in NAME_OVERRIDES:
        name = NAME_OVERRIDES[tool_id]
    else:
        exact = [n for n in names if slugify(n) == tool_id]
        name = exact[0] if exact else (names[0] if names else tool_id)
    e = {f: [] for f in LIST_FIELDS}
    for field, values in facts.lists.items():
        if field == "signers":
            continue
        e[field] = uniq_sorted(values)
    e["services"] = [x for x in e["services"] if x.casefold() not in GENERIC_SERVICES]
    e["signers"] = clean_signers(tool_id, facts.lists.get("signers", []))
    e["capabilities"] = capabilities_from(facts.raw_capabilities)
    e["platforms"] = uniq_sorted(facts.lists.get("platforms", []))
    # An executable that also shows up as ambiguous elsewhere stays a plain executable.
    e["ambiguous_executables"] = [x for x in e["ambiguous_executables"]
                                  if x not in set(e["executables"])]
    lolrmm_cats = sorted(set(facts.lolrmm_categories))
    vendor = VENDOR_OVERRIDES.get(tool_id)
    if not vendor:
        comps = clean_signers(tool_id, facts.pe_companies)
        vendor = comps[0] if comps else (e["signers"][0] if e["signers"] else None)
    # Every LOLRMM Name stays findable: the verbatim names now, their short forms after all
    # tools are known (add_short_aliases).
    e["aliases"] = [n for n in names if n.casefold() not in (name.casefold(), tool_id)]
    entry = {
        "id": tool_id,
        "name": name,
        "category": categorise(tool_id, name, e["aliases"], lolrmm_cats, e["capabilities"]),
        "builtin": False,
        "vendor": vendor,
        "website": uniq_sorted(facts.websites)[0] if facts.websites else None,
        "source": "lolrmm",
        "self_hosted": facts.self_hosted,
        "ports": sorted(facts.ports),
        "port_ranges": [list(r) for r in sorted(facts.port_ranges)],
        "lolrmm_category": "/".join(lolrmm_cats) if lolrmm_cats else None,
        **{k: v for k, v in e.items()},
        "lolrmm_ids": sorted(stems),
        "references": sorted(refs),
        "augmented_fields": [],
    }
    entry["platforms"] = infer_platforms(entry)
    return entry


def apply_extra(tools: dict, extra: dict, stats: Counter):
    """Add ratcatcher-only tools and augment LOLRMM tools with our facts."""
    for item in extra.get("tools", []):
        tid = item["id"]
        if tid in tools:
            # LOLRMM gained the tool: treat our entry as an augmentation instead.
            augment(tools[tid], item, stats)
            continue
        entry = {f: [] for f in LIST_FIELDS}
        entry.update({
            "id": tid, "name": item["name"], "category": item.get("category"),
            "builtin": bool(item.get("builtin", False)), "vendor": item.get("vendor"),
            "website": item.get("website"), "source": "ratcatcher",
            "self_hosted": bool(item.get("self_hosted", False)), "ports": [],
            "port_ranges": [], "lolrmm_category": None,
        })
        for f in LIST_FIELDS:
            if f in item:
                entry[f] = list(item[f])
        entry["ports"] = sorted({int(p) for p in item.get("ports", [])})
        entry["port_ranges"] = sorted([list(r) for r in item.get("port_ranges", [])])
        normalise_entry_lists(entry)
        if not entry["category"]:
            entry["category"] = categorise(tid, entry["name"], entry["aliases"], [],
                                           entry["capabilities"])
        entry["platforms"] = infer_platforms(entry)
        tools[tid] = entry
        stats["extra_tools"] += 1
    for item in extra.get("augment", []):
        tid = item["id"]
        if tid not in tools:
            print(f"warning: extra_tools.json augments unknown id {tid!r}", file=sys.stderr)
            stats["augment_unknown"] += 1
            continue
        augment(tools[tid], item, stats)


def augment(entry, item, stats: Counter):
    changed = []
    for f in LIST_FIELDS:
        if f in item and f not in ("lolrmm_ids", "references", "augmented_fields"):
            before = list(entry[f])
            entry[f] = entry[f] + list(item[f])
            normalise_entry_lists(entry, only=f)
            if entry[f] != before:
                changed.append(f)
    if "ports" in item:
        new = sorted(set(entry["ports"]) | {int(p) for p in item["ports"]})
        if new != entry["ports"]:
            entry["ports"] = new
            changed.append("ports")
    if "port_ranges" in item:
        new = sorted({tuple(r) for r in entry["port_ranges"]} | {tuple(r) for r in item["port_ranges"]})
        new = [list(r) for r in new]
        if new != entry["port_ranges"]:
            entry["port_ranges"] = new
            changed.append("port_ranges")
    for f in ("builtin", "self_hosted"):
        if f in item and entry[f] != bool(item[f]):
            entry[f] = bool(item[f])
            changed.append(f)
    for f in ("vendor", "website"):
        if item.get(f) and not entry[f]:
            entry[f] = item[f]
            changed.append(f)
    if changed:
        entry["augmented_fields"] = sorted(set(entry["augmented_fields"]) | set(changed))
        if entry["source"] == "lolrmm":
            entry["source"] = "lolrmm+ratcatcher"
        stats["augmented_tools"] += 1
    entry["platforms"] = infer_platforms(entry)


def normalise_entry_lists(entry, only=None):
    for f in LIST_FIELDS:
        if only and f != only:
            continue
        vals = entry[f]
        if f in ("executables", "ambiguous_executables", "executable_patterns",
                 "original_file_names", "domains", "domain_patterns", "shared_domains",
                 "ip_addresses", "campaign_indicators", "platforms"):
            vals = [str(v).casefold() for v in vals]
        if f == "registry_keys":
            vals = [normalise_registry(v) or v for v in vals]
        entry[f] = uniq_sorted(vals)


def build(src: Path, extra_path: Path, stats: Counter):
    docs = read_lolrmm(src, stats)
    groups = defaultdict(lambda: (Facts(), [], []))
    for path, doc in docs:
        stem = path.stem
        tid = tool_id_for(stem, doc)
        facts, stems, refs = groups[tid]
        extract(doc, facts, stats)
        stems.append(stem)
        refs.append(f"yaml/{path.name}")
    tools = {tid: finish(tid, *groups[tid]) for tid in sorted(groups)}
    stats["lolrmm_tools"] = len(tools)
    if extra_path and extra_path.is_file():
        extra = json.loads(extra_path.read_text(encoding="utf-8"))
        apply_extra(tools, extra, stats)
    elif extra_path:
        print(f"warning: {extra_path} not found; no ratcatcher additions", file=sys.stderr)
    add_short_aliases(tools, {tid: groups[tid][0].names for tid in groups}, stats)
    apply_bundled(tools, stats)
    out = []
    for tid in sorted(tools):
        t = tools[tid]
        out.append({f: t[f] for f in FIELDS})
    return out


def compact(s: str) -> str:
    """Letters and digits only, case-folded: how names are compared for collisions."""
    return re.sub(r"[^0-9a-z]", "", s.casefold())


def short_forms(name: str):
    """'Pandora RC (eHorus)' -> ['Pandora RC', 'eHorus']; 'NinjaOne (formerly NinjaRMM)' ->
    ['NinjaOne', 'NinjaRMM']; a name without parentheses gives nothing."""
    m = re.fullmatch(r"\s*(.+?)\s*\((.+)\)\s*", name)
    if not m:
        return []
    inner = re.sub(r"^(aka|a\.k\.a\.|also known as|now|formerly)\s+", "", m.group(2).strip(),
                   flags=re.IGNORECASE)
    return [f for f in (m.group(1).strip(), inner.strip()) if f]


def add_short_aliases(tools: dict, lolrmm_names: dict, stats: Counter):
    """Short forms of every tool's LOLRMM names become aliases when they name no other tool."""
    taken = defaultdict(set)  # compact name -> tools it already names
    for tid, t in tools.items():
        for n in [tid, t["name"], *t["aliases"]]:
            taken[compact(n)].add(tid)
    proposed = defaultdict(set)
    for tid in sorted(lolrmm_names):
        for n in lolrmm_names[tid]:
            for f in short_forms(n):
                if f.casefold() not in ALIAS_QUALIFIERS:
                    proposed[compact(f)].add((tid, f))
    for key, claims in sorted(proposed.items()):
        owners = {tid for tid, _ in claims}
        if len(owners) > 1 or taken.get(key, owners) - owners:
            stats["short_aliases_dropped"] += 1
            DROPPED.append(f"alias {sorted(f for _, f in claims)[0]!r} (also names "
                           f"{', '.join(sorted((taken.get(key, set()) | owners)))})")
            continue
        (tid,) = owners
        t = tools[tid]
        have = {x.casefold() for x in [tid, t["name"], *t["aliases"]]}
        for f in sorted({f for _, f in claims}):
            if f.casefold() not in have:
                t["aliases"] = uniq_sorted(t["aliases"] + [f])
                have.add(f.casefold())
                stats["short_aliases"] += 1


def apply_bundled(tools: dict, stats: Counter):
    """BUNDLED_EXECUTABLES: under any tool but the owner, the name is ambiguous; the owner lists
    it as an executable."""
    for tid, t in tools.items():
        moved = [x for x in t["executables"]
                 if x in BUNDLED_EXECUTABLES and BUNDLED_EXECUTABLES[x] != tid]
        if moved:
            t["executables"] = [x for x in t["executables"] if x not in moved]
            t["ambiguous_executables"] = uniq_sorted(t["ambiguous_executables"] + moved)
            stats["bundled_made_ambiguous"] += len(moved)
        t["original_file_names"] = [
            x for x in t["original_file_names"]
            if not (x in BUNDLED_EXECUTABLES and BUNDLED_EXECUTABLES[x] != tid)]
        for x in [p for p in t["executable_patterns"]
                  if p in BUNDLED_PATTERNS and BUNDLED_PATTERNS[p] != tid]:
            t["executable_patterns"] = [p for p in t["executable_patterns"] if p != x]
            owner = tools.get(BUNDLED_PATTERNS[x])
            if owner is not None:
                owner["executable_patterns"] = uniq_sorted(owner["executable_patterns"] + [x])
            else:
                DROPPED.append(f"executable pattern {x!r} of {tid} (generic)")
            stats["bundled_patterns"] += 1
        for x in moved:
            owner = tools.get(BUNDLED_EXECUTABLES[x])
            if owner is not None and x not in owner["executables"]:
                owner["executables"] = uniq_sorted(owner["executables"] + [x])
                owner["ambiguous_executables"] = [a for a in owner["ambiguous_executables"]
                                                  if a != x]
                stats["bundled_given_to_owner"] += 1


def serialise(tools) -> str:
    return json.dumps(tools, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# Report and self-check
# --------------------------------------------------------------------------------------------


def report(tools, stats: Counter, stream=sys.stderr):
    def has(f):
        return sum(1 for t in tools if t[f])
    print(f"LOLRMM files read: {stats['lolrmm_files']} "
          f"(unreadable {stats['lolrmm_unreadable']}, skipped {stats['lolrmm_skipped']}); "
          f"merged into {stats['lolrmm_tools']} tools", file=stream)
    print(f"ratcatcher extra tools: {stats['extra_tools']}, augmented tools: "
          f"{stats['augmented_tools']}", file=stream)
    print(f"tools: {len(tools)}", file=stream)
    for f in ("executables", "executable_patterns", "original_file_names", "signers",
              "install_paths", "services", "registry_keys", "domains", "domain_patterns",
              "ports", "capabilities"):
        print(f"  with {f}: {has(f)}", file=stream)
    print(f"  with domains or domain_patterns: "
          f"{sum(1 for t in tools if t['domains'] or t['domain_patterns'])}", file=stream)
    print(f"  self_hosted: {sum(1 for t in tools if t['self_hosted'])}, builtin: "
          f"{sum(1 for t in tools if t['builtin'])}", file=stream)
    print(f"  dropped: domains {stats['dropped_domains']}, ports {stats['dropped_ports']}, "
          f"registry keys {stats['dropped_registry_keys']}", file=stream)
    print(f"  aliases: {sum(len(t['aliases']) for t in tools)} on {has('aliases')} tools "
          f"({stats['short_aliases']} short forms added, {stats['short_aliases_dropped']} "
          f"dropped); bundled names made ambiguous: {stats['bundled_made_ambiguous']}, given "
          f"to their owner: {stats['bundled_given_to_owner']}, patterns moved or dropped: "
          f"{stats['bundled_patterns']}", file=stream)
    for d in sorted(set(DROPPED)):
        print(f"    dropped {d}", file=stream)
    cats = Counter(t["category"] for t in tools)
    print("per category:", file=stream)
    for c in CATEGORIES:
        print(f"  {c}: {cats.get(c, 0)}", file=stream)


def covered_by(name: str, tools) -> bool:
    for t in tools:
        if name in t["executables"] or name in t["ambiguous_executables"]:
            return True
        if any(fnmatch.fnmatchcase(name, p) for p in t["executable_patterns"]):
            return True
    return False


def domain_covered(domain: str, tools) -> bool:
    for t in tools:
        if any(x == domain or x.endswith("." + domain) for x in t["domains"]):
            return True
        for p in t["domain_patterns"]:
            if fnmatch.fnmatchcase(domain, p) or (p.startswith("*.") and domain == p[2:]):
                return True
    return False


def check(tools):
    problems = []
    ids = [t["id"] for t in tools]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        problems.append(f"duplicate ids: {dup}")
    if ids != sorted(ids):
        problems.append("tools are not sorted by id")
    for t in tools:
        tid = t["id"]
        where = f"{tid}:"
        if list(t.keys()) != list(FIELDS):
            problems.append(f"{where} fields differ from the schema")
            continue
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", tid):
            problems.append(f"{where} id is not a slug")
        if not t["name"]:
            problems.append(f"{where} empty name")
        if t["category"] not in CATEGORIES:
            problems.append(f"{where} unknown category {t['category']!r}")
        if t["source"] not in ("lolrmm", "ratcatcher", "lolrmm+ratcatcher"):
            problems.append(f"{where} bad source {t['source']!r}")
        if t["source"] != "ratcatcher" and not t["lolrmm_ids"]:
            problems.append(f"{where} LOLRMM entry without lolrmm_ids")
        for f in ("executables", "ambiguous_executables"):
            for x in t[f]:
                if x != x.casefold() or not VALID_EXE.match(x) or "*" in x:
                    problems.append(f"{where} bad {f} entry {x!r}")
        for x in t["executable_patterns"]:
            if x != x.casefold() or "*" not in x and "?" not in x:
                problems.append(f"{where} bad executable_patterns entry {x!r}")
        for x in t["original_file_names"]:
            if x != x.casefold():
                problems.append(f"{where} original_file_names not lowercase: {x!r}")
        for x in t["domains"] + t["shared_domains"]:
            if x != x.casefold() or "*" in x or "." not in x or " " in x:
                problems.append(f"{where} bad domain {x!r}")
        for x in t["domain_patterns"]:
            if x != x.casefold() or "*" not in x or " " in x:
                problems.append(f"{where} bad domain pattern {x!r}")
        for p in t["ports"]:
            if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 65535:
                problems.append(f"{where} bad port {p!r}")
        if t["ports"] != sorted(set(t["ports"])):
            problems.append(f"{where} ports not sorted/unique")
        for r in t["port_ranges"]:
            if (not isinstance(r, list) or len(r) != 2
                    or not all(isinstance(x, int) and 1 <= x <= 65535 for x in r) or r[0] >= r[1]):
                problems.append(f"{where} bad port range {r!r}")
        for k in t["registry_keys"]:
            if not k.startswith(("HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER", "HKEY_USERS",
                                 "HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG")):
                problems.append(f"{where} registry key without a full hive name: {k!r}")
        for x in t["ip_addresses"]:
            try:
                ipaddress.ip_address(x)
            except ValueError:
                problems.append(f"{where} bad IP {x!r}")
        for f in LIST_FIELDS:
            if not isinstance(t[f], list) or any(not isinstance(v, str) or not v for v in t[f]):
                problems.append(f"{where} {f} must be a list of non-empty strings")
            elif t[f] != uniq_sorted(t[f]):
                problems.append(f"{where} {f} not sorted/deduplicated")
        if not isinstance(t["builtin"], bool) or not isinstance(t["self_hosted"], bool):
            problems.append(f"{where} builtin/self_hosted must be booleans")
    by_id = {t["id"]: t for t in tools}
    for tid, cat in SEED_TOOLS.items():
        if tid not in by_id:
            problems.append(f"seed tool missing: {tid}")
        elif by_id[tid]["category"] != cat:
            problems.append(f"seed tool {tid}: category {by_id[tid]['category']} != {cat}")
    mstsc = by_id.get("mstsc")
    if not mstsc or not mstsc["builtin"] or "mstsc.exe" not in mstsc["executables"]:
        problems.append("mstsc must be builtin with executable mstsc.exe")
    for name in SEED_PROCESS_NAMES:
        cov = covered_by(name, tools)
        if not cov and name not in SEED_NAME_EXCEPTIONS:
            problems.append(f"seed process name not covered: {name}")
        if cov and name in SEED_NAME_EXCEPTIONS:
            problems.append(f"seed process name {name} is now covered; drop its exception")
    for d in SEED_DOMAINS:
        cov = domain_covered(d, tools)
        if not cov and d not in SEED_DOMAIN_EXCEPTIONS:
            problems.append(f"seed domain not covered: {d}")
        if cov and d in SEED_DOMAIN_EXCEPTIONS:
            problems.append(f"seed domain {d} is now covered; drop its exception")
    # Bundled and generic names: ambiguous everywhere but at their owner, which lists them.
    for t in tools:
        for x in t["executables"]:
            if x in GENERIC_EXECUTABLES:
                problems.append(f"{t['id']}: generic name {x} must be an ambiguous executable")
        for f in ("executables", "original_file_names"):
            for x in t[f]:
                if x in BUNDLED_EXECUTABLES and BUNDLED_EXECUTABLES[x] != t["id"]:
                    owner = BUNDLED_EXECUTABLES[x] or "no catalog tool"
                    problems.append(f"{t['id']}: {x} in {f} belongs to {owner}")
    for x, owner in sorted(BUNDLED_EXECUTABLES.items()):
        if owner and (owner not in by_id or x not in by_id[owner]["executables"]):
            problems.append(f"BUNDLED_EXECUTABLES: owner {owner} does not list {x}")
    for t in tools:
        for x in t["executable_patterns"]:
            if x in BUNDLED_PATTERNS and BUNDLED_PATTERNS[x] != t["id"]:
                problems.append(f"{t['id']}: pattern {x} belongs to "
                                f"{BUNDLED_PATTERNS[x] or 'no catalog tool'}")
    # Misspellings stay out of every field.
    wrong = re.compile("|".join(r"(?<![a-z0-9_.-])" + re.escape(w) for w in EXECUTABLE_SPELLING))
    for t in tools:
        m = wrong.search(json.dumps(t, ensure_ascii=False).casefold())
        if m:
            problems.append(f"{t['id']}: misspelt name {m.group(0)} "
                            f"(is {EXECUTABLE_SPELLING[m.group(0)]})")
    # A name (id, display name or alias) names one tool only.
    named = defaultdict(set)
    for t in tools:
        for n in [t["id"], t["name"], *t["aliases"]]:
            named[n.casefold()].add(t["id"])
    for n, ids in sorted(named.items()):
        if len(ids) > 1:
            problems.append(f"name {n!r} names several tools: {sorted(ids)}")
    # Executable names shared by tools of different vendors are worth knowing about.
    owners = defaultdict(set)
    for t in tools:
        for x in t["executables"]:
            owners[x].add(t["id"])
    shared = {x: sorted(v) for x, v in owners.items() if len(v) > 1}
    return problems, shared


def check_names(src: Path, tools):
    """Every LOLRMM file's Name finds the tool built from that file, the way `ratcatcher catalog
    TERM` and tuning approvals look tools up: equal (case-insensitively) to the tool's id, name
    or one of its aliases."""
    problems = []
    by_stem = {}
    for t in tools:
        for stem in t["lolrmm_ids"]:
            by_stem[stem] = t
    docs = read_lolrmm(src, Counter())
    for path, doc in docs:
        name = text(doc.get("Name"))
        t = by_stem.get(path.stem)
        if t is None:
            problems.append(f"{path.name}: no tool lists {path.stem!r} in lolrmm_ids")
            continue
        if name.casefold() not in {n.casefold() for n in [t["id"], t["name"], *t["aliases"]]}:
            problems.append(f"{path.name}: Name {name!r} does not name {t['id']}")
    return problems, len(docs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lolrmm", nargs="?", default=str(DEFAULT_SRC),
                    help="LOLRMM checkout folder (holds yaml/); default ../shared/corpus/lolrmm")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output file (default catalog/tools.json)")
    ap.add_argument("--extra", default=str(DEFAULT_EXTRA), help="ratcatcher additions JSON")
    ap.add_argument("--check", action="store_true", help="validate the output; exit 1 on problems")
    ap.add_argument("--compare", metavar="PATH",
                    help="with --check: also fail if PATH differs from the generated output")
    ap.add_argument("--quiet", action="store_true", help="no counts on stderr")
    ap.add_argument("--check-names", metavar="CATALOG",
                    help="only check that every LOLRMM file's Name names its tool in CATALOG "
                         "(id, name or alias); writes nothing")
    args = ap.parse_args(argv)

    if args.check_names:
        tools = json.loads(Path(args.check_names).read_text(encoding="utf-8"))
        problems, n = check_names(Path(args.lolrmm), tools)
        for p in problems:
            print(f"CHECK FAIL: {p}", file=sys.stderr)
        print(f"LOLRMM names: {n} files, {n - len(problems)} find their tool, "
              f"{len(problems)} do not", file=sys.stderr)
        return 1 if problems else 0

    stats = Counter()
    tools = build(Path(args.lolrmm), Path(args.extra) if args.extra else None, stats)
    data = serialise(tools)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data.encode("utf-8"))
    if not args.quiet:
        report(tools, stats)
        print(f"wrote {out} ({len(data.encode('utf-8'))} bytes)", file=sys.stderr)
    if args.check:
        problems, shared = check(tools)
        problems += check_names(Path(args.lolrmm), tools)[0]
        again = serialise(build(Path(args.lolrmm), Path(args.extra) if args.extra else None,
                                Counter()))
        if again != data:
            problems.append("output is not deterministic (second build differs)")
        if args.compare:
            cmp = Path(args.compare)
            if not cmp.is_file() or cmp.read_bytes() != data.encode("utf-8"):
                problems.append(f"{cmp} differs from the generated catalog (regenerate it)")
        if shared and not args.quiet:
            print(f"note: {len(shared)} executable names belong to more than one tool "
                  f"(e.g. {', '.join(sorted(shared)[:5])})", file=sys.stderr)
        for p in problems:
            print(f"CHECK FAIL: {p}", file=sys.stderr)
        if problems:
            print(f"check: {len(problems)} problem(s)", file=sys.stderr)
            return 1
        print("check: OK", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
