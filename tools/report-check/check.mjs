// Opens ratcatcher's HTML case report in Chromium (playwright-core) and checks it through the DOM:
// no console or page errors, no network request but the file itself, overview counts equal to
// the JSON summary, one timeline lane per host, cards, a sortable and filterable alert table, the
// suppressed alerts, print media hiding the controls; then saves a full-page screenshot.
//
// node check.mjs --report case.html --summary summary.json --alerts alerts.jsonl --screenshot out.png
//   [--top top.png] [--chromium /usr/bin/chromium]
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

function args() {
  const out = { chromium: "/usr/bin/chromium" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    if (argv[i + 1] === undefined) throw new Error(`--${k} needs a value`);
    out[k] = argv[i + 1];
  }
  for (const k of ["report", "summary", "alerts", "screenshot"]) {
    if (!out[k]) throw new Error(`missing --${k}`);
  }
  return out;
}

const failures = [];
function check(ok, what) {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    console.log(`FAIL ${what}`);
    failures.push(what);
  }
}

async function main() {
  const opt = args();
  const summary = JSON.parse(readFileSync(opt.summary, "utf8")).summary;
  const alerts = readFileSync(opt.alerts, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const active = alerts.filter((a) => !a.suppressed);
  const suppressed = alerts.filter((a) => a.suppressed);
  const device = (a) => a.device ?? "(no device)";
  const hosts = new Set(alerts.map((a) => device(a).toLowerCase()));
  const pairs = new Set(
    active.map((a) => device(a).toLowerCase() + "\u0000" + (a.events ? "correlation" : a.tool ?? "")),
  );

  const url = pathToFileURL(resolve(opt.report)).href;
  const profile = mkdtempSync(join(tmpdir(), "report-check-"));
  // A fresh profile: launchPersistentContext passes it as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opt.chromium,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await context.newPage();
    const errors = [];
    const requests = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (r.url() !== url && !r.url().startsWith("data:")) requests.push(r.url());
    });
    page.on("requestfailed", (r) => {
      if (r.url() !== url) errors.push(`request failed: ${r.url()}`);
    });
    const response = await page.goto(url, { waitUntil: "load" });
    check(response === null || response.ok(), `loaded ${url}`);

    // Overview counts against the JSON summary.
    const dd = async (key) => (await page.locator(`dd[data-key="${key}"]`).textContent())?.trim();
    const expected = {
      files_read: summary.evidence.files_read,
      records: summary.evidence.records,
      skipped_records: summary.evidence.skipped_records,
      inputs_not_read: summary.evidence.inputs_not_read,
      rules_run: summary.rules_run,
      rules_failed: summary.rules_failed.length,
      alerts: summary.alerts,
      suppressed: summary.suppressed,
    };
    for (const [key, want] of Object.entries(expected)) {
      const got = await dd(key);
      check(got === String(want), `overview ${key} = ${got} (summary: ${want})`);
    }
    const status = (await page.locator('[data-key="status"]').textContent())?.trim();
    check(status === summary.status, `overview status = ${status} (summary: ${summary.status})`);
    const fileRows = await page.locator("#files tbody tr").count();
    check(fileRows === summary.evidence.files.length, `evidence files listed: ${fileRows} (summary: ${summary.evidence.files.length})`);
    check(active.length === summary.alerts, `alerts.jsonl holds the summary's ${summary.alerts} alerts (${active.length})`);

    // Timeline: one lane per host, in order ignoring case.
    const lanes = await page.locator("svg.timeline g.lane").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-host")));
    check(lanes.length === hosts.size, `timeline lanes: ${lanes.length} (hosts with alerts: ${hosts.size})`);
    const sortedLanes = [...lanes].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    check(JSON.stringify(lanes) === JSON.stringify(sortedLanes), `lanes sorted ignoring case: ${lanes.join(", ")}`);
    const marks = await page.locator("svg.timeline circle.mark").count();
    const timed = alerts.filter((a) => a.time).length;
    check(marks === timed, `timeline markers: ${marks} (alerts with a time, suppressed included: ${timed})`);

    // Cards: one per host and tool.
    const cards = await page.locator("article.card").count();
    check(cards === pairs.size && cards > 0, `host × tool cards: ${cards} (expected ${pairs.size})`);
    const guides = await page.locator("article.card details.guide .md h5, article.card details.guide .md h4").count();
    check(guides > 0, `investigation guides rendered in cards (${guides} headings)`);
    const catalogFacts = await page.locator("article.card .catalog").count();
    check(catalogFacts > 0, `catalog facts on cards (${catalogFacts})`);

    // Alert table: rows, sorting, filtering.
    const rows = page.locator("#alert-table tbody tr");
    const visible = () => page.locator("#alert-table tbody tr:not([hidden])").count();
    check((await rows.count()) === summary.alerts, `alert table rows: ${await rows.count()} (summary: ${summary.alerts})`);
    const column = (i) => page.locator(`#alert-table tbody tr td:nth-child(${i})`).allTextContents();
    const hostHeader = page.locator('#alert-table th[data-col="host"]');
    await hostHeader.click();
    let col = await column(3);
    const asc = [...col].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
    check(JSON.stringify(col) === JSON.stringify(asc), "host header click sorts ascending");
    check((await hostHeader.getAttribute("aria-sort")) === "ascending", "sorted header marked ascending");
    await hostHeader.click();
    col = await column(3);
    check(JSON.stringify(col) === JSON.stringify([...asc].reverse()) || JSON.stringify(col.map((c) => c.toLowerCase())) === JSON.stringify([...asc].reverse().map((c) => c.toLowerCase())), "second click sorts descending");
    const sevHeader = page.locator('#alert-table th[data-col="severity"]');
    await sevHeader.click();
    await sevHeader.click();
    const sevs = await column(2);
    check(sevs[0] === "High" || !sevs.includes("High"), `severity sort descending starts with the highest (${sevs[0]})`);

    const controls = page.locator(".controls");
    check(await controls.isVisible(), "filter controls shown on screen");
    const someHost = [...hosts][0];
    await page.fill("#filter", someHost);
    const withHost = active.filter((a) => JSON.stringify(a).toLowerCase().includes(someHost)).length;
    const shownHost = await visible();
    check(shownHost > 0 && shownHost < summary.alerts, `text filter "${someHost}" hides rows: ${shownHost} of ${summary.alerts} shown`);
    const shownText = await page.locator("#alert-table tbody tr:not([hidden])").allTextContents();
    check(
      shownHost === withHost && shownText.every((t) => t.toLowerCase().includes(someHost)),
      `every shown row mentions the filter text (${shownHost} rows; alerts mentioning it: ${withHost})`,
    );
    await page.fill("#filter", "no-such-text-anywhere-0xdead");
    check((await visible()) === 0, "a filter matching nothing hides every row");
    await page.fill("#filter", "");
    await page.selectOption("#sevfilter", "High");
    const high = active.filter((a) => a.rule.severity === "High").length;
    check((await visible()) === high, `severity filter High: ${await visible()} rows (alerts: ${high})`);
    await page.selectOption("#sevfilter", "");
    check((await visible()) === summary.alerts, "clearing the filters shows every row");

    // Suppressed alerts with their reasons.
    const supRows = await page.locator("#suppressed-table tbody tr").count();
    check(supRows === summary.suppressed && supRows === suppressed.length, `suppressed listed: ${supRows} (summary: ${summary.suppressed})`);
    const reasons = await page.locator("#suppressed-table td.reason").allTextContents();
    const wantReasons = suppressed.map((a) => a.suppressed).sort();
    check(JSON.stringify([...reasons].sort()) === JSON.stringify(wantReasons), "suppressed rows carry their reasons");

    // Screenshot (screen media), full page at 1280 px.
    await page.screenshot({ path: opt.screenshot, fullPage: true });
    console.log(`screenshot: ${opt.screenshot}`);
    if (opt.top) {
      // The top of the page, for the documentation: a modest file.
      await page.screenshot({ path: opt.top, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1600 } });
      console.log(`screenshot (top 1600 px): ${opt.top}`);
    }

    // Print media: no controls, cards kept whole.
    await page.emulateMedia({ media: "print" });
    const display = await page.locator(".controls").evaluate((e) => getComputedStyle(e).display);
    check(display === "none", `print: filter controls hidden (display ${display})`);
    const filterShown = await page.locator("#filter").isVisible();
    check(!filterShown, "print: filter box not visible");
    const breakInside = await page.locator("article.card").first().evaluate((e) => getComputedStyle(e).breakInside);
    check(breakInside === "avoid", `print: cards not split across pages (break-inside ${breakInside})`);
    await page.emulateMedia({ media: "screen" });

    check(requests.length === 0, `no network requests besides the file${requests.length ? ": " + requests.join(", ") : ""}`);
    check(errors.length === 0, `no console or page errors${errors.length ? ": " + errors.join("; ") : ""}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`report-check: ${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  console.log("report-check: all checks passed");
}

main().catch((e) => {
  console.error(`report-check: ${e.stack || e}`);
  process.exit(1);
});
