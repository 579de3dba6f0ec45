// keybound benchmark: figures only, no pass/fail.
//
// One DPoP key (persist: false). Per op, timed with performance.now():
//   a  raw WebCrypto ECDSA P-256 sign over a typical proof signing input (the floor)
//   b  keybound createDPoPProof (with code → c_s256)
//   c  plain JS that exports the public key per proof (as JS libraries that export per proof do):
//      exportKey('jwk'), build header + payload JSON, base64url, SHA-256 of the code, sign
// Warm-up, then N rounds; each round runs a, b, c once, rotating the order to cancel drift.
//
// The same runBench() runs in the window (this module) and in bench-worker.js.
import init, { generateDPoPKeyPair, createDPoPProof } from '/pkg/keybound.js';

export const LABELS = {
  a: 'WebCrypto sign (raw)',
  b: 'keybound createDPoPProof',
  c: 'plain JS, exportKey per proof',
};
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' };
const PROOF = { htm: 'POST', htu: 'https://op.example.com/token', code: 'SplxlOBeZQQYbYS6WxSbIA' };
const enc = new TextEncoder();

function b64url(bytes) {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The baseline (c): what a JS library that keeps no public JWK around does for every proof. */
async function jsProofExportPerProof(keyPair, { htm, htu, code }) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  const url = new URL(htu);
  url.search = '';
  url.hash = '';
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { crv, kty, x, y } };
  const payload = {
    jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
    htm,
    htu: url.href,
    iat: Math.floor(Date.now() / 1000),
  };
  if (code) payload.c_s256 = b64url(await crypto.subtle.digest('SHA-256', enc.encode(code)));
  const input = `${b64url(enc.encode(JSON.stringify(header)))}.${b64url(enc.encode(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign(ECDSA, keyPair.privateKey, enc.encode(input));
  return `${input}.${b64url(signature)}`;
}

async function verifies(jws) {
  const [h, p, s] = jws.split('.');
  const { jwk } = JSON.parse(new TextDecoder().decode(Uint8Array.from(
    atob(h.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const sig = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  return crypto.subtle.verify(ECDSA, key, sig, enc.encode(`${h}.${p}`));
}

/** Smallest observed step of performance.now(), in microseconds. */
function timerResolutionUs() {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    best = Math.min(best, t1 - t0);
  }
  return round(best * 1000, 3);
}

const round = (v, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

function stats(samplesMs) {
  const s = [...samplesMs].sort((x, y) => x - y);
  const n = s.length;
  const mean = s.reduce((acc, v) => acc + v, 0) / n;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]; // nearest rank
  return {
    meanUs: round(mean * 1000),
    medianUs: round(median * 1000),
    p90Us: round(p90 * 1000),
    p99Us: round(s[Math.min(n - 1, Math.ceil(0.99 * n) - 1)] * 1000),
    minUs: round(s[0] * 1000),
    maxUs: round(s[n - 1] * 1000),
    opsPerSec: Math.round(1000 / mean),
  };
}

export async function runBench({ n = 400, warmup = 50 } = {}) {
  await init();
  const key = await generateDPoPKeyPair({ persist: false });
  try {
    const keyPair = key.keyPair; // read once: (a) and (c) time WebCrypto, not the getter
    const sample = await createDPoPProof(key, PROOF);
    const signingInput = enc.encode(sample.slice(0, sample.lastIndexOf('.')));
    const baseline = await jsProofExportPerProof(keyPair, PROOF);
    const sanity = { keyboundProofVerifies: await verifies(sample), jsProofVerifies: await verifies(baseline) };
    if (!sanity.keyboundProofVerifies || !sanity.jsProofVerifies) {
      throw new Error(`sanity check failed: ${JSON.stringify(sanity)}`);
    }

    const cases = {
      a: () => crypto.subtle.sign(ECDSA, keyPair.privateKey, signingInput),
      b: () => createDPoPProof(key, PROOF),
      c: () => jsProofExportPerProof(keyPair, PROOF),
    };
    const names = Object.keys(cases);

    for (const name of names) for (let i = 0; i < warmup; i++) await cases[name]();

    const times = Object.fromEntries(names.map((name) => [name, []]));
    const started = performance.now();
    for (let round_ = 0; round_ < n; round_++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round_ + i) % names.length];
        const t0 = performance.now();
        await cases[name]();
        times[name].push(performance.now() - t0);
      }
    }
    const elapsedMs = performance.now() - started;

    const result = Object.fromEntries(names.map((name) => [name, { label: LABELS[name], ...stats(times[name]) }]));
    const ratio = (x, y, field) => round(result[x][field] / result[y][field], 2);
    return {
      context: typeof WorkerGlobalScope !== 'undefined' ? 'worker' : 'window',
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      timerResolutionUs: timerResolutionUs(),
      signingInputBytes: signingInput.length,
      proofChars: { keybound: sample.length, js: baseline.length },
      n,
      warmup,
      elapsedMs: Math.round(elapsedMs),
      ...result,
      ratios: {
        median: { b_a: ratio('b', 'a', 'medianUs'), c_a: ratio('c', 'a', 'medianUs') },
        mean: { b_a: ratio('b', 'a', 'meanUs'), c_a: ratio('c', 'a', 'meanUs') },
      },
    };
  } finally {
  }
}

// ---------------------------------------------------------------- page (window only)

function runInWorker(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./bench-worker.js', { type: 'module' });
    worker.onmessage = ({ data }) => {
      worker.terminate();
      if (data.error) reject(Object.assign(new Error(data.error.message), data.error));
      else resolve(data.result);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`bench worker failed: ${event.message || 'could not load bench-worker.js'}`));
    };
    worker.postMessage(options);
  });
}

function renderTable(title, r) {
  const section = document.createElement('section');
  section.className = 'card';
  const cells = (tag, values) => values.map((v) => `<${tag}>${v}</${tag}>`).join('');
  const rows = ['a', 'b', 'c'].map((k) =>
    `<tr>${cells('td', [`<b>${k}</b> ${r[k].label}`, r[k].medianUs, r[k].meanUs, r[k].p90Us, r[k].p99Us, r[k].opsPerSec])}</tr>`);
  section.innerHTML = `
    <h2>${title}</h2>
    <table>
      <thead><tr>${cells('th', ['', 'median µs', 'mean µs', 'p90 µs', 'p99 µs', 'ops/s'])}</tr></thead>
      <tbody>${rows.join('')}</tbody>
    </table>
    <p class="ratios">
      b/a median <b>${r.ratios.median.b_a}×</b>, mean <b>${r.ratios.mean.b_a}×</b> ·
      c/a median <b>${r.ratios.median.c_a}×</b>, mean <b>${r.ratios.mean.c_a}×</b>
    </p>
    <p class="meta">n = ${r.n} rounds after ${r.warmup} warm-up ops each · signing input ${r.signingInputBytes} bytes ·
      timer step ${r.timerResolutionUs} µs · crossOriginIsolated ${r.crossOriginIsolated}</p>`;
  document.getElementById('tables').append(section);
}

async function main() {
  const status = document.getElementById('status');
  const out = document.getElementById('out');
  const param = Number.parseInt(new URLSearchParams(location.search).get('n') ?? '', 10);
  const n = Number.isFinite(param) ? Math.min(Math.max(param, 1), 100_000) : 400;
  const report = { n, userAgent: navigator.userAgent, labels: LABELS };
  try {
    status.textContent = `Running ${n} rounds in the window…`;
    report.window = await runBench({ n });
    renderTable('Window', report.window);
    status.textContent = `Running ${n} rounds in a module Worker…`;
    report.worker = await runInWorker({ n });
    renderTable('Module Worker', report.worker);
    status.textContent = 'Done.';
    out.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = '1';
  } catch (err) {
    report.error = { name: err?.name, code: err?.code, message: String(err?.message ?? err) };
    status.textContent = `Failed: ${err?.code ?? err?.name ?? 'Error'} ${err?.message ?? err}`;
    out.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = 'error';
  }
}

if (typeof document !== 'undefined') main();
