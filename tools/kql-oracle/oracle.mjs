#!/usr/bin/env node
// KQL syntax oracle: runs Microsoft's official Kusto.Language parser
// (@kusto/language-service-next, C# compiled to JS by Bridge.NET) over .kql files
// and prints one JSON line per file: {path, ok, diagnostics:[{message,start,length,line,column,...}]}.
// Syntax diagnostics only: no semantic analysis, so unknown tables/functions are fine.
//
// usage: node oracle.mjs PATH...     (PATH = .kql file or folder, searched recursively for *.kql)
//        node oracle.mjs --stdin     (one query read from stdin, reported as path "<stdin>")

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

// The package is not a module: bridge.js defines the global `Bridge` (and `System`),
// then Kusto.Language.Bridge.js registers the global `Kusto` namespace on top of it.
const require = createRequire(import.meta.url);
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const { Kusto, Bridge } = globalThis;

// Bridge lists are either plain JS arrays (empty results) or .NET collections; enumerate both.
function toArray(list) {
  const out = [];
  const e = Bridge.getEnumerator(list);
  while (e.moveNext()) out.push(e.Current);
  return out;
}

function check(text) {
  const code = Kusto.Language.KustoCode.Parse(text); // parse only, default GlobalState
  const diagnostics = toArray(code.GetSyntaxDiagnostics()).map((d) => {
    const line = { v: 0 };
    const col = { v: 0 };
    code.TryGetLineAndOffset(d.Start, line, col); // both 1-based; offsets are UTF-16 units
    return {
      message: d.Message,
      start: d.Start,
      length: d.Length,
      line: line.v,
      column: col.v,
      severity: d.Severity,
      code: d.Code,
    };
  });
  return { ok: !diagnostics.some((d) => d.severity === 'Error'), diagnostics };
}

function report(p, text) {
  let rec;
  try {
    rec = { path: p, ...check(text) };
  } catch (err) {
    rec = { path: p, ok: false, diagnostics: [], oracle_error: String(err && err.message || err) };
  }
  process.stdout.write(JSON.stringify(rec) + '\n');
  return rec;
}

function kqlFiles(dir) {
  const out = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    const st = ent.isSymbolicLink() ? fs.statSync(p) : ent;
    if (st.isDirectory()) out.push(...kqlFiles(p));
    else if (st.isFile() && ent.name.endsWith('.kql')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('-h') || args.includes('--help')) {
  process.stderr.write('usage: node oracle.mjs PATH... | --stdin\n');
  process.exit(args.length === 0 ? 2 : 0);
}

const t0 = process.hrtime.bigint();
let files = 0;
let failed = 0;
const tally = (rec) => { files++; if (!rec.ok) failed++; };

if (args.includes('--stdin')) {
  tally(report('<stdin>', fs.readFileSync(0, 'utf8')));
}
for (const arg of args.filter((a) => a !== '--stdin')) {
  let paths;
  try {
    paths = fs.statSync(arg).isDirectory() ? kqlFiles(arg).sort() : [arg];
  } catch (err) {
    process.stderr.write(`oracle: cannot read ${arg}: ${err.message}\n`);
    process.exit(2);
  }
  for (const p of paths) tally(report(p, fs.readFileSync(p, 'utf8')));
}

const secs = Number(process.hrtime.bigint() - t0) / 1e9;
process.stderr.write(`oracle: ${files} file(s), ${failed} with syntax errors, ${secs.toFixed(2)}s\n`);
