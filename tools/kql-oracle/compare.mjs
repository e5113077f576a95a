#!/usr/bin/env node
// Compare oracle verdicts (oracle.mjs output) with ours (`ratcatcher check --format jsonl`).
//
// usage: node compare.mjs ORACLE.jsonl OURS.jsonl [--list] [--json]
//
// Records are JSON lines with at least {"path", "ok", "diagnostics"}; other keys and lines
// without "path" are ignored. Several records for one path (one per query) are merged:
// ok = all ok, diagnostics concatenated. Paths are matched as absolute paths (relative
// ones resolved against the current directory) and, failing that, by the longest path
// suffix that is unique on both sides (so the two runs may use different roots).
// Exit code: 0, or 2 if an input cannot be read or the usage is wrong.

import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--'));
const list = args.includes('--list');
const asJson = args.includes('--json');
if (files.length !== 2) {
  process.stderr.write('usage: node compare.mjs ORACLE.jsonl OURS.jsonl [--list] [--json]\n');
  process.exit(2);
}

function load(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`compare: cannot read ${file}: ${err.message}\n`);
    process.exit(2);
  }
  const byPath = new Map();
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    if (!rec || typeof rec.path !== 'string') continue;
    const abs = path.resolve(rec.path);
    const diags = Array.isArray(rec.diagnostics) ? rec.diagnostics : [];
    const prev = byPath.get(abs);
    if (prev) {
      prev.ok = prev.ok && rec.ok === true;
      prev.diagnostics.push(...diags);
      prev.error ||= rec.oracle_error;
    } else {
      byPath.set(abs, { path: rec.path, abs, ok: rec.ok === true, diagnostics: [...diags], error: rec.oracle_error });
    }
  }
  if (bad) process.stderr.write(`compare: ${file}: skipped ${bad} non-JSON line(s)\n`);
  return byPath;
}

const oracle = load(files[0]);
const ours = load(files[1]);

// Pair records: exact absolute path first, then by longest unique common suffix.
const pairs = [];
const restO = new Map(oracle);
const restU = new Map(ours);
for (const [abs, o] of oracle) {
  if (restU.has(abs)) {
    pairs.push([o, restU.get(abs)]);
    restO.delete(abs);
    restU.delete(abs);
  }
}
let bySuffix = 0;
const parts = (abs) => abs.split(path.sep).filter(Boolean);
const depth = Math.max(0, ...[...restO.keys(), ...restU.keys()].map((a) => parts(a).length));
for (let k = depth; k >= 1 && restO.size && restU.size; k--) {
  const index = (rest) => {
    const m = new Map();
    for (const [abs, r] of rest) {
      const p = parts(abs);
      if (p.length < k) continue;
      const key = p.slice(-k).join('/');
      m.set(key, m.has(key) ? null : [abs, r]); // null marks an ambiguous suffix
    }
    return m;
  };
  const io = index(restO);
  const iu = index(restU);
  for (const [key, o] of io) {
    const u = iu.get(key);
    if (!o || !u) continue;
    pairs.push([o[1], u[1]]);
    restO.delete(o[0]);
    restU.delete(u[0]);
    bySuffix++;
  }
}

const firstMessage = (diags) => {
  const d = diags[0];
  if (d === undefined) return '(no diagnostics)';
  if (typeof d === 'string') return d;
  const msg = d.message ?? d.msg ?? JSON.stringify(d);
  return d.line != null ? `${d.line}:${d.column ?? '?'} ${msg}` : msg;
};

const s = {
  total: pairs.length + restO.size + restU.size,
  agree: 0,
  both_ok: 0,
  both_fail: 0,
  we_reject_valid: 0,
  we_accept_invalid: 0,
  missing: restO.size + restU.size,
  missing_in_ours: restO.size,
  missing_in_oracle: restU.size,
  oracle_error: 0,
  matched_by_suffix: bySuffix,
};
const rows = [];
for (const [o, u] of pairs.sort((a, b) => (a[0].path < b[0].path ? -1 : 1))) {
  if (o.error) {
    s.oracle_error++;
    rows.push({ kind: 'oracle_error', path: o.path, oracle: o.error, ours: u.ok ? 'ok' : firstMessage(u.diagnostics) });
  } else if (o.ok && u.ok) {
    s.agree++;
    s.both_ok++;
  } else if (!o.ok && !u.ok) {
    s.agree++;
    s.both_fail++;
  } else if (o.ok) {
    s.we_reject_valid++;
    rows.push({ kind: 'we_reject_valid', path: o.path, oracle: 'ok', ours: firstMessage(u.diagnostics) });
  } else {
    s.we_accept_invalid++;
    rows.push({ kind: 'we_accept_invalid', path: o.path, oracle: firstMessage(o.diagnostics), ours: 'ok' });
  }
}
for (const o of restO.values()) rows.push({ kind: 'missing_in_ours', path: o.path });
for (const u of restU.values()) rows.push({ kind: 'missing_in_oracle', path: u.path });

if (asJson) {
  process.stdout.write(JSON.stringify(list ? { ...s, disagreements: rows } : s) + '\n');
} else {
  const out = [
    `total paths:                  ${s.total}`,
    `agree:                        ${s.agree} (both ok ${s.both_ok}, both fail ${s.both_fail})`,
    `oracle ok, we reject:         ${s.we_reject_valid}`,
    `oracle fails, we accept:      ${s.we_accept_invalid}`,
    `missing:                      ${s.missing} (not in ours ${s.missing_in_ours}, not in oracle ${s.missing_in_oracle})`,
  ];
  if (s.oracle_error) out.push(`oracle crashed:               ${s.oracle_error}`);
  if (s.matched_by_suffix) out.push(`(matched by path suffix:      ${s.matched_by_suffix})`);
  if (list) {
    for (const r of rows) {
      out.push('', `${r.kind}  ${r.path}`);
      if (r.oracle !== undefined) out.push(`    oracle: ${r.oracle}`, `    ours:   ${r.ours}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
