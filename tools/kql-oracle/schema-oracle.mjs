#!/usr/bin/env node
// Schema oracle: runs Microsoft's Kusto analyzer (@kusto/language-service-next) with a database
// holding the same table schemas as `ratcatcher check --schema` (from `--print-schemas`), over
// the queries of `ratcatcher check --schema --format jsonl --with-query`, and compares verdicts.
//
// usage: node schema-oracle.mjs --schemas SCHEMAS.json [--json] [--list] [--jobs N]
//                               [--invalid-out FILE] OURS.jsonl...
//
// Only queries our check judged against the schemas are compared (verdicts ok, error and
// not_planned: they read known tables only); not_checked and syntax records are counted apart.
// Figures: both accept, both reject, we reject and Microsoft accepts (a disagreement: every
// error of ours must be a real one), Microsoft rejects and we accept; not_planned queries by
// Microsoft's verdict. --invalid-out writes the path of every judged query Microsoft's analyzer
// rejects (one a line; `plan_corpus --exclude` reads it). Analysis takes tens of milliseconds a
// query, so distinct query texts are analysed once, split over --jobs worker threads (default 2).
// Exit code: 0, 1 when we reject a query Microsoft's analyzer accepts, 2 on bad usage or input.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

// A column name as Kusto's schema syntax takes it: bracketed and quoted.
const quote = (n) => `['${n.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;

// The errors Microsoft's analyzer finds in each text, with a database holding the schemas.
function analyzeAll(schemasText, texts) {
  const require = createRequire(import.meta.url);
  require('@kusto/language-service-next/bridge.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.js');
  const { Kusto, Bridge } = globalThis;
  const S = Kusto.Language.Symbols;
  const toArray = (list) => {
    const out = [];
    const e = Bridge.getEnumerator(list);
    while (e.moveNext()) out.push(e.Current);
    return out;
  };
  const tables = JSON.parse(schemasText).map((t) => {
    const cols = t.Properties.map((c) => `${quote(c.Name)}:${c.Type}`).join(', ');
    return new S.TableSymbol.$ctor7(t.Name, `(${cols})`);
  });
  const db = new S.DatabaseSymbol.ctor('ratcatcher', tables);
  const globals = Kusto.Language.GlobalState.Default.WithDatabase(db);
  return texts.map((text) => {
    try {
      const code = Kusto.Language.KustoCode.ParseAndAnalyze(text, globals);
      const errors = toArray(code.GetDiagnostics()).filter((d) => d.Severity === 'Error');
      return {
        errors: errors.map((d) => {
          const line = { v: 0 };
          const col = { v: 0 };
          code.TryGetLineAndOffset(d.Start, line, col);
          return { message: d.Message, line: line.v, column: col.v };
        }),
      };
    } catch (err) {
      return { crashed: String((err && err.message) || err) };
    }
  });
}

function readOrDie(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (err) {
    process.stderr.write(`schema-oracle: cannot read ${p}: ${err.message}\n`);
    process.exit(2);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const schemasPath = opt('--schemas');
  const invalidOut = opt('--invalid-out');
  const jobs = Math.max(1, Number(opt('--jobs')) || 2);
  const asJson = args.includes('--json');
  const list = args.includes('--list');
  const inputs = args.filter((a) => !a.startsWith('--'));
  if (!schemasPath || inputs.length === 0) {
    process.stderr.write(
      'usage: node schema-oracle.mjs --schemas SCHEMAS.json [--json] [--list] [--jobs N] [--invalid-out FILE] OURS.jsonl...\n',
    );
    process.exit(2);
  }
  const schemasText = readOrDie(schemasPath);
  const judged = (r) => !['not_checked', 'syntax'].includes(r.verdict);

  const records = [];
  for (const input of inputs) {
    for (const line of readOrDie(input).split('\n')) {
      if (!line.trim()) continue;
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof r.path !== 'string' || typeof r.verdict !== 'string') continue;
      if (judged(r) && typeof r.query !== 'string') {
        process.stderr.write(`schema-oracle: ${r.path}: no query text (run check with --with-query)\n`);
        process.exit(2);
      }
      records.push(r);
    }
  }

  // Microsoft's verdict on each distinct judged text, the texts split over the workers.
  const texts = [...new Set(records.filter(judged).map((r) => r.query))];
  const shares = Array.from({ length: jobs }, (_, i) => texts.filter((_, j) => j % jobs === i));
  const results = await Promise.all(
    shares.map(
      (share) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { schemas: schemasText, texts: share } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const verdicts = new Map();
  shares.forEach((share, i) => share.forEach((text, j) => verdicts.set(text, results[i][j])));

  const s = {
    records: 0,
    compared: 0,
    both_ok: 0,
    both_reject: 0,
    we_reject_ms_accepts: 0,
    ms_rejects_we_accept: 0,
    not_planned: 0,
    not_planned_ms_rejects: 0,
    not_checked: 0,
    syntax: 0,
    oracle_crashed: 0,
  };
  const rows = [];
  const invalid = [];
  const first = (r) => {
    const d = r.diagnostics && r.diagnostics[0];
    return d ? `${d.line}:${d.column} ${d.message}${d.help ? ` (${d.help})` : ''}` : '';
  };
  for (const r of records) {
    s.records++;
    if (r.verdict === 'not_checked') {
      s.not_checked++;
      continue;
    }
    if (r.verdict === 'syntax') {
      s.syntax++;
      continue;
    }
    const v = verdicts.get(r.query);
    if (v.crashed !== undefined) {
      s.oracle_crashed++;
      rows.push({ kind: 'oracle_crashed', path: r.path, oracle: v.crashed });
      continue;
    }
    const msRejects = v.errors.length > 0;
    if (msRejects) invalid.push(r.path);
    const msFirst = msRejects ? `${v.errors[0].line}:${v.errors[0].column} ${v.errors[0].message}` : 'ok';
    if (r.verdict === 'not_planned') {
      s.not_planned++;
      if (msRejects) s.not_planned_ms_rejects++;
      const kind = msRejects ? 'not_planned_ms_rejects' : 'not_planned_ms_accepts';
      rows.push({ kind, path: r.path, oracle: msFirst, ours: first(r) });
      continue;
    }
    s.compared++;
    const weReject = r.verdict === 'error';
    if (weReject && msRejects) {
      s.both_reject++;
      rows.push({ kind: 'both_reject', path: r.path, oracle: msFirst, ours: first(r) });
    } else if (weReject) {
      s.we_reject_ms_accepts++;
      rows.push({ kind: 'we_reject_ms_accepts', path: r.path, oracle: 'ok', ours: first(r) });
    } else if (msRejects) {
      s.ms_rejects_we_accept++;
      rows.push({ kind: 'ms_rejects_we_accept', path: r.path, oracle: msFirst, ours: 'ok' });
    } else {
      s.both_ok++;
    }
  }
  if (invalidOut) fs.writeFileSync(invalidOut, [...new Set(invalid)].sort().join('\n') + (invalid.length ? '\n' : ''));
  const agree = s.both_ok + s.both_reject;
  if (asJson) {
    process.stdout.write(JSON.stringify(list ? { ...s, agree, rows } : { ...s, agree }) + '\n');
  } else {
    const out = [
      `records:                               ${s.records} (${s.not_checked} not checked: unknown tables or functions; ${s.syntax} syntax errors)`,
      `judged (known tables only, planned):   ${s.compared}`,
      `agree with Microsoft's analyzer:       ${agree} (both accept ${s.both_ok}, both reject ${s.both_reject})`,
      `we reject, Microsoft accepts:          ${s.we_reject_ms_accepts}`,
      `Microsoft rejects, we accept:          ${s.ms_rejects_we_accept}`,
      `not planned (engine limits):           ${s.not_planned} (Microsoft rejects ${s.not_planned_ms_rejects})`,
    ];
    if (s.oracle_crashed) out.push(`oracle crashed:                        ${s.oracle_crashed}`);
    if (list) {
      for (const r of rows) {
        out.push('', `${r.kind}  ${r.path}`);
        if (r.oracle !== undefined) out.push(`    microsoft: ${r.oracle}`);
        if (r.ours !== undefined) out.push(`    ours:      ${r.ours}`);
      }
    }
    process.stdout.write(out.join('\n') + '\n');
  }
  process.exitCode = s.we_reject_ms_accepts > 0 ? 1 : 0;
}

if (isMainThread) {
  await main();
} else {
  parentPort.postMessage(analyzeAll(workerData.schemas, workerData.texts));
}
