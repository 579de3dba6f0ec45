// Runs www/bench.html in headless Chromium and prints its figures.
//
//   node e2e/bench.mjs [n]        (n = rounds, default 400)
//
// Figures only: exit 0 whatever the timings; exit 1 only if the page broke.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const TIMEOUT_MS = 120_000;
const n = process.argv[2] ?? '';

function table(title, r) {
  const rows = ['a', 'b', 'c'].map((k) => [
    `${k}  ${r[k].label}`, r[k].medianUs, r[k].meanUs, r[k].p90Us, r[k].p99Us, r[k].maxUs, r[k].opsPerSec,
  ]);
  const head = ['', 'median µs', 'mean µs', 'p90 µs', 'p99 µs', 'max µs', 'ops/s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [
    `${title} (n=${r.n}, warm-up ${r.warmup}, signing input ${r.signingInputBytes} B, timer step ${r.timerResolutionUs} µs, crossOriginIsolated ${r.crossOriginIsolated})`,
    `  ${line(head)}`,
    ...rows.map((row) => `  ${line(row)}`),
    `  ratios  b/a: median ${r.ratios.median.b_a}x, mean ${r.ratios.mean.b_a}x   c/a: median ${r.ratios.median.c_a}x, mean ${r.ratios.mean.c_a}x`,
  ].join('\n');
}

let server;
let browser;
let broken = null;
try {
  server = await startServer(0);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  const page = await (await browser.newContext()).newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`http://localhost:${server.port}/bench.html${n ? `?n=${encodeURIComponent(n)}` : ''}`);
  await page.waitForSelector('body[data-done]', { timeout: TIMEOUT_MS, state: 'attached' });
  const done = await page.evaluate(() => document.body.dataset.done);
  const report = JSON.parse(await page.locator('#out').textContent());
  await mkdir(path.join(HERE, 'out'), { recursive: true });
  await page.screenshot({ path: path.join(HERE, 'out', 'bench.png'), fullPage: true });

  if (done !== '1' || report.error) {
    broken = `bench page failed: ${JSON.stringify(report.error ?? done)}`;
  } else if (pageErrors.length) {
    broken = `uncaught page errors: ${pageErrors.join(' | ')}`;
  } else {
    console.log(report.userAgent);
    console.log();
    console.log(table('window', report.window));
    console.log();
    console.log(table('module worker', report.worker));
    console.log();
    console.log(JSON.stringify(report, null, 2));
  }
} catch (err) {
  broken = err?.message ?? String(err);
} finally {
  await browser?.close().catch(() => {});
  await server?.close();
}

if (broken) {
  console.error(`bench: ${broken.split('\n')[0]}`);
  process.exit(1);
}
