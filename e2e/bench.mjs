// Runs www/bench.html in headless Chromium and prints keybound side by side with raw WebCrypto,
// oauth4webapi, jose and dpop: the window and module Worker tables, cold start (a fresh page per
// contender and repetition), and bytes (esbuild + gzip -9). Also writes e2e/out/bench.md.
//
//   node e2e/bench.mjs [n] [batch]     (n = rounds, default 400; batch = calls per timed sample, default 8)
//
// Figures only: exit 0 whatever the timings; exit 1 only if the page broke.

import path from 'node:path';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import { launchChromium } from './lib.mjs';
import { startServer } from '../scripts/serve.mjs';
import { CONTENDERS, CONTENDER_LABELS } from '../www/bench.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const PKG = path.join(ROOT, 'pkg');
const TIMEOUT_MS = 300_000;
const COLD_REPETITIONS = 5;
const PEERS = ['oauth4webapi', 'jose', 'dpop'];
// What this benchmark calls from each peer (for the "functions used here" bundle).
const PEER_USED = {
  oauth4webapi: ['DPoP', 'protectedResourceRequest', 'validateCodeIdTokenResponse', 'generateKeyPair', 'customFetch', 'jwksCache'],
  jose: ['SignJWT', 'jwtVerify', 'createLocalJWKSet', 'generateKeyPair'],
  dpop: ['generateProof', 'generateKeyPair'],
};
const n = process.argv[2] ?? '';
const batch = process.argv[3] ?? '';

const median = (values) => {
  const s = [...values].sort((x, y) => x - y);
  const k = s.length;
  return k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
};
const fixed = (v, digits = 2) => (v == null ? '—' : v.toFixed(digits));
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

function markdownTable(head, rows, align = head.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(align.map((a) => (a === 'l' ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function resultTable(title, r) {
  const rows = r.rows.map((row) => [row.label, ...CONTENDERS.map((c) => {
    const cell = row.cells[c];
    if (!cell) return '';
    return c === 'raw' ? `${fixed(cell.ratio)} (${Math.round(cell.medianUs)} µs)` : fixed(cell.ratio);
  })]);
  return [
    `### ${title}`,
    '',
    `n = ${r.n} rounds of ${r.cases} cases, a sample = mean of ${r.batch} back-to-back calls, after ${r.warmup} warm-up calls per case, ` +
      `${(r.elapsedMs / 1000).toFixed(1)} s; ` +
      `timer step ${r.timerResolutionUs} µs; crossOriginIsolated ${r.crossOriginIsolated}. ` +
      'Median of per-round ratios to raw WebCrypto (raw: its median µs per call).',
    '',
    markdownTable(['', ...CONTENDERS.map((c) => CONTENDER_LABELS[c])], rows),
  ].join('\n');
}

// ---------------------------------------------------------------- the page

async function waitForPackage() {
  const files = ['web.js', 'keybound_bg.wasm'].map((f) => path.join(PKG, 'main', f));
  for (let waited = 0; !files.every(existsSync); waited += 2) {
    if (waited === 0) console.error('bench: waiting for pkg/main (npm run build)…');
    if (waited >= 180) throw new Error('pkg/main/web.js is missing: run npm run build');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function runPage(context, origin) {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  try {
    const query = new URLSearchParams(Object.entries({ n, batch }).filter(([, v]) => v !== '')).toString();
    await page.goto(`${origin}/bench.html${query ? `?${query}` : ''}`);
    await page.waitForSelector('body[data-done]', { timeout: TIMEOUT_MS, state: 'attached' });
    const done = await page.evaluate(() => document.body.dataset.done);
    const report = JSON.parse(await page.locator('#out').textContent());
    await page.screenshot({ path: path.join(HERE, 'out', 'bench.png'), fullPage: true });
    if (done !== '1' || report.error) throw new Error(`bench page failed: ${JSON.stringify(report.error ?? done)}`);
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.join(' | ')}`);
    return report;
  } finally {
    await page.close();
  }
}

/** Each contender in a fresh page per repetition, the order rotated per repetition. */
async function coldStarts(context, origin) {
  const samples = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
  for (let rep = 0; rep < COLD_REPETITIONS; rep++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const contender = CONTENDERS[(rep + i) % CONTENDERS.length];
      const page = await context.newPage();
      try {
        await page.goto(`${origin}/bench-cold.html`);
        // bench.js has no static imports: loading it loads no library.
        samples[contender].push(await page.evaluate(async (name) => (await import('/bench.js')).coldStart(name), contender));
      } finally {
        await page.close();
      }
    }
  }
  return Object.fromEntries(CONTENDERS.map((c) => {
    const s = samples[c];
    const pick = (field) => s.map((x) => x[field]);
    const summary = (values) => (values[0] == null ? null : {
      medianMs: median(values), minMs: Math.min(...values), maxMs: Math.max(...values), firstMs: values[0],
    });
    return [c, {
      importMs: summary(pick('importMs')),
      firstProofMs: summary(pick('firstProofMs')),
      requests: median(pick('requests')),
      crossOriginIsolated: s.every((x) => x.crossOriginIsolated),
      samples: s,
    }];
  }));
}

function coldTable(cold) {
  const span = (x) => (x ? `${fixed(x.medianMs)} (${fixed(x.minMs)}–${fixed(x.maxMs)}; 1st ${fixed(x.firstMs)})` : '—');
  return markdownTable(
    ['', 'import (+ init) ms', 'first proof ms', 'module requests'],
    CONTENDERS.map((c) => [CONTENDER_LABELS[c], span(cold[c].importMs), span(cold[c].firstProofMs), String(cold[c].requests)]),
  );
}

// ---------------------------------------------------------------- bytes

const gz = (buf) => gzipSync(buf, { level: 9 }).length;

async function bundle(contents) {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { minBytes: code.length, gzBytes: gz(code) };
}

async function listFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

async function bytes() {
  const peers = {};
  for (const name of PEERS) {
    const pkgJson = JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    peers[name] = {
      version: pkgJson.version,
      whole: await bundle(`export * from '${name}';`),
      used: await bundle(`export { ${PEER_USED[name].join(', ')} } from '${name}';`),
    };
  }
  // keybound: every file under pkg/, listed now. .wasm: gzip -9; .js: minified (esbuild) + gzip -9;
  // anything else (types): raw bytes only, not shipped to the browser.
  const files = [];
  for (const file of await listFiles(PKG)) {
    const raw = await readFile(file);
    const row = { file: path.relative(ROOT, file), rawBytes: raw.length };
    if (file.endsWith('.wasm')) {
      row.gzBytes = gz(raw);
    } else if (/\.m?js$/.test(file) && !file.endsWith('.d.ts')) {
      const { code } = await transform(raw.toString('utf8'), { minify: true, format: 'esm', loader: 'js' });
      row.minBytes = Buffer.byteLength(code);
      row.gzBytes = gz(Buffer.from(code));
    }
    files.push(row);
  }
  const targets = {};
  for (const row of files) {
    const target = row.file.split(path.sep).slice(0, 2).join('/'); // pkg/main, pkg/consumer, …
    // What a page downloads from an entry: its web glue and its wasm (the bundler glue is the
    // same code for bundlers; pkg/web is the full test build).
    if (row.gzBytes == null || !['web.js', 'keybound_bg.wasm', 'keybound.js'].includes(path.basename(row.file))) continue;
    if (path.basename(row.file) === 'keybound.js' && target !== 'pkg/web') continue;
    (targets[target] ??= { files: [], gzBytes: 0 }).files.push(path.basename(row.file));
    targets[target].gzBytes += row.gzBytes;
  }
  const keyboundVersion = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version;
  return { peers, keybound: { version: keyboundVersion, files, targets } };
}

function bytesTables(b) {
  const web = b.keybound.targets['pkg/main'];
  const peerRows = PEERS.map((name) => {
    const p = b.peers[name];
    return [`${name} ${p.version}`, kB(p.whole.minBytes), kB(p.whole.gzBytes), kB(p.used.gzBytes)];
  });
  const kbRow = [
    `keybound ${b.keybound.version} (SPA entry pkg/main: ${web ? web.files.join(' + ') : 'missing'})`,
    '', web ? kB(web.gzBytes) : '—', web ? kB(web.gzBytes) : '—',
  ];
  const summary = markdownTable(
    ['', 'whole entry, minified', 'whole entry, min + gzip -9', 'functions used here, min + gzip -9'],
    [...peerRows, kbRow],
  );
  const perFile = markdownTable(
    ['keybound file', 'bytes', 'minified', 'min + gzip -9 (wasm: gzip -9)'],
    b.keybound.files.map((f) => [f.file, String(f.rawBytes), f.minBytes == null ? '' : String(f.minBytes),
      f.gzBytes == null ? '(types, not shipped to the browser)' : String(f.gzBytes)]),
  );
  const targets = Object.entries(b.keybound.targets)
    .map(([dir, t]) => `${dir}: ${t.files.join(' + ')} = ${t.gzBytes} bytes (${kB(t.gzBytes)}) min + gzip -9`).join('; ');
  return `${summary}\n\n${perFile}\n\nPer target: ${targets}.`;
}

// ---------------------------------------------------------------- main

let server;
let browser;
let broken = null;
try {
  await waitForPackage();
  await mkdir(path.join(HERE, 'out'), { recursive: true });
  server = await startServer(0);
  const origin = `http://localhost:${server.port}`;
  browser = await launchChromium();
  const context = await browser.newContext();

  let report;
  try {
    report = await runPage(context, origin);
  } catch (err) {
    // pkg/web may be rebuilt under us: one retry when the page could not load a module.
    if (!/import|fetch|load|WebAssembly|wasm|init/i.test(err.message)) throw err;
    console.error(`bench: ${err.message.split('\n')[0]}; retrying once`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await waitForPackage();
    report = await runPage(context, origin);
  }
  report.cold = await coldStarts(context, origin);
  report.bytes = await bytes();
  report.builtAt = (await stat(path.join(PKG, 'main', 'keybound_bg.wasm'))).mtime.toISOString();

  const coldNotes = [
    `Cold start: ${COLD_REPETITIONS} repetitions, each contender in a fresh page (a blank same-origin bench-cold.html; new document, ` +
      'new module map) of the same browser, rotating the order; median (min–max; the 1st repetition, the first time this browser saw the code). ' +
      'Import = `await import(url)` of the package entry by URL, unbundled, over HTTP from localhost with `Cache-Control: no-store` ' +
      '(module requests = files fetched, so jose pays one request per module); keybound adds `await init()` (fetch + compile + instantiate the wasm). ' +
      'First proof = the first DPoP proof (nonce, ath) after import, the key generated first and not timed; ' +
      'oauth4webapi\'s first proof has no nonce (it learns one only from a response); raw WebCrypto imports nothing. ' +
      'V8 may still reuse compiled code across pages of one renderer process: later repetitions can be warmer than a real first visit.',
    'Bytes: each peer\'s package entry (`export * from \'<pkg>\'`), and only the functions this benchmark calls, bundled by esbuild ' +
      '(`bundle: true, minify: true, format: "esm", platform: "browser"`), then gzip -9 (node:zlib). keybound: every file under pkg/ listed at run time; ' +
      '.js minified by esbuild then gzip -9, .wasm gzip -9; the keybound summary is the SPA entry pkg/main (web.js + keybound_bg.wasm: a wasm module is not tree-shaken by bundlers, so all of it is downloaded); the other entries are listed per file.',
  ];
  const versions = `oauth4webapi ${report.bytes.peers.oauth4webapi.version}, jose ${report.bytes.peers.jose.version}, ` +
    `dpop ${report.bytes.peers.dpop.version}, keybound ${report.bytes.keybound.version} (pkg/main built ${report.builtAt})`;
  const md = [
    '# keybound side by side',
    '',
    `${report.userAgent}`,
    '',
    `${new Date().toISOString()} · ${versions}`,
    '',
    resultTable('Window', report.window),
    '',
    resultTable('Module Worker', report.worker),
    '',
    '### Cold start (window)',
    '',
    coldTable(report.cold),
    '',
    '### Bytes',
    '',
    bytesTables(report.bytes),
    '',
    '### How each contender was called',
    '',
    ...[...report.footnotes, ...coldNotes].map((note, i) => `${i + 1}. ${note}`),
    '',
  ].join('\n');
  await writeFile(path.join(HERE, 'out', 'bench.md'), md);
  console.log(md);
  console.log(JSON.stringify(report, null, 2));
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
