// Smoke test of the built package (pkg/web) on the demo page, in headless Chromium.
//
//   node e2e/smoke.mjs
//
// Prints `ok - name` / `not ok - name: reason` per test, then `e2e: N passed, M failed`.
// Exit code 1 if any test failed. The whole run is cut off after 120 s.

import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
const RUN_TIMEOUT_MS = 120_000;
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const DEFAULT_CODE = 'SplxlOBeZQQYbYS6WxSbIA';
const DEFAULT_C_S256 = 'o1uBp9eSe3DsmScN0jYriFgKKFdK-BLywC9WRpV5GG8';
const B64URL_43 = /^[A-Za-z0-9_-]{43}$/;

// ---------------------------------------------------------------- tiny harness

const results = [];
const pageErrors = [];
const consoleErrors = [];

class Failure extends Error {}
function assert(cond, message) {
  if (!cond) throw new Failure(message);
}
function assertEqual(actual, expected, what) {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function test(name, fn) {
  const errorsBefore = pageErrors.length;
  let reason = null;
  try {
    await fn();
  } catch (err) {
    reason = err instanceof Failure ? err.message : `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  }
  if (!reason && pageErrors.length > errorsBefore) {
    reason = `uncaught page error: ${pageErrors.slice(errorsBefore).join(' | ')}`;
  }
  reason = reason?.split('\n')[0];
  results.push({ name, reason });
  console.log(reason ? `not ok - ${name}: ${reason}` : `ok - ${name}`);
}

// ---------------------------------------------------------------- JOSE helpers (Node side)

const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function decodeJws(jws) {
  const parts = jws.split('.');
  assertEqual(parts.length, 3, 'number of JWS parts');
  return {
    header: b64urlJson(parts[0]),
    payload: b64urlJson(parts[1]),
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2], 'base64url'),
  };
}

/** RFC 7638 thumbprint of an EC public JWK, computed independently of keybound. */
function ecThumbprint(jwk) {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function verifyEs256(jws) {
  const { header, signingInput, signature } = decodeJws(jws);
  const key = createPublicKey({ key: header.jwk, format: 'jwk' });
  return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
}

// ---------------------------------------------------------------- the run

let server;
let browser;

async function run() {
  server = await startServer(0);
  const origin = `http://localhost:${server.port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });

  const text = (selector) => page.locator(selector).textContent();
  const waitState = (state) => page.waitForFunction(
    (s) => document.body.dataset.state === s || document.body.dataset.state === 'error', state)
    .then(async () => {
      const actual = await page.evaluate(() => document.body.dataset.state);
      if (actual !== state) throw new Failure(`state ${actual}, error box: ${await text('#error')}`);
    });
  const click = async (selector, state) => {
    await page.click(selector);
    await waitState(state);
  };

  let jkt = null;
  let keyId = null;
  let proof = null;

  await test('page loads the package with no key', async () => {
    await page.goto(`${origin}/`);
    await waitState('no-key');
    assert(await page.locator('#error').isHidden(), 'error box is visible');
  });

  await test('generate key: 43-char dpop_jkt, non-extractable private key', async () => {
    await click('#generate', 'key-ready');
    jkt = (await text('#key-jkt')).trim();
    keyId = (await text('#key-id')).trim();
    assert(B64URL_43.test(jkt), `#key-jkt is not 43 base64url chars: ${JSON.stringify(jkt)}`);
    assertEqual((await text('#key-extractable')).trim(), 'false', '#key-extractable');
    assert(await page.locator('#key-extractable-badge').isVisible(), 'non-extractable badge is not visible');
    assertEqual((await text('#key-source')).trim(), 'generated', '#key-source');
    assert(/refused/.test(await text('#key-export')), 'exportKey of the private key was not shown as refused');
    const stored = await page.evaluate(() => localStorage.getItem('keybound-demo:key-id'));
    assertEqual(stored, keyId, 'key id remembered in localStorage');
  });

  await test('sign proof: header typ/alg/jwk, thumbprint of jwk = dpop_jkt', async () => {
    await click('#sign', 'proof-ready');
    proof = (await text('#proof')).trim();
    const { header } = decodeJws(proof);
    assertEqual(header.typ, 'dpop+jwt', 'typ');
    assertEqual(header.alg, 'ES256', 'alg');
    assert(header.jwk && typeof header.jwk === 'object', 'header has no jwk');
    assert(!('d' in header.jwk), 'header jwk contains the private member d');
    assertEqual(header.jwk.kty, 'EC', 'jwk.kty');
    assertEqual(header.jwk.crv, 'P-256', 'jwk.crv');
    assertEqual(ecThumbprint(header.jwk), jkt, 'Node-computed thumbprint of header jwk');
    assertEqual(JSON.stringify(JSON.parse(await text('#proof-header'))), JSON.stringify(header), '#proof-header vs decoded header');
  });

  await test('sign proof: payload htm/htu/iat/jti/c_s256', async () => {
    const { payload } = decodeJws(proof);
    assertEqual(payload.htm, 'POST', 'htm');
    assertEqual(payload.htu, `${origin}/token`, 'htu');
    assert(Number.isInteger(payload.iat), `iat is not an integer: ${payload.iat}`);
    assert(Math.abs(payload.iat - Date.now() / 1000) < 60, `iat ${payload.iat} is not close to now`);
    assert(typeof payload.jti === 'string' && payload.jti.length >= 16, `jti too short: ${payload.jti}`);
    assertEqual(payload.c_s256, DEFAULT_C_S256, 'c_s256 for the default code');
    assertEqual(JSON.stringify(JSON.parse(await text('#proof-payload'))), JSON.stringify(payload), '#proof-payload vs decoded payload');
  });

  await test('proof ES256 signature verifies in Node', async () => {
    assert(verifyEs256(proof), 'signature does not verify');
    // And a tampered payload must not verify (the check above is not vacuous).
    const [h, , s] = proof.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJws(proof).payload, htm: 'GET' })).toString('base64url');
    assert(!verifyEs256(`${h}.${forged}.${s}`), 'a forged payload verifies');
  });

  await test('a second proof has a fresh jti and the same key', async () => {
    await click('#sign', 'proof-ready');
    const second = (await text('#proof')).trim();
    const a = decodeJws(proof);
    const b = decodeJws(second);
    assert(a.payload.jti !== b.payload.jti, 'jti repeated');
    assertEqual(ecThumbprint(b.header.jwk), jkt, 'thumbprint of the second proof jwk');
  });

  await test('reload: key loaded from IndexedDB with the same jkt', async () => {
    await page.reload();
    await waitState('key-ready');
    assertEqual((await text('#key-source')).trim(), 'loaded from IndexedDB', '#key-source');
    assertEqual((await text('#key-jkt')).trim(), jkt, '#key-jkt after reload');
    assertEqual((await text('#key-extractable')).trim(), 'false', '#key-extractable after reload');
  });

  await test('worker: proof signed inside a module Worker with the same key', async () => {
    await click('#run-worker', 'worker-ready');
    const result = JSON.parse(await text('#worker-result'));
    assertEqual(result.inWorker, true, 'inWorker');
    assertEqual(result.jkt, jkt, 'worker jkt');
    const { header, payload } = decodeJws(result.proof);
    assertEqual(ecThumbprint(header.jwk), jkt, 'thumbprint of the worker proof jwk');
    assertEqual(payload.c_s256, DEFAULT_C_S256, 'worker proof c_s256');
    assert(verifyEs256(result.proof), 'worker proof signature does not verify');
  });

  await test('screenshot of the filled page: e2e/out/demo.png', async () => {
    await click('#sign', 'proof-ready'); // all four cards filled
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'demo.png'), fullPage: true });
  });

  // Direct calls into the package from the page, to check its error contract.
  const callError = (body) => page.evaluate(async (source) => {
    const kb = await import('/pkg/keybound.js');
    await kb.default();
    try {
      await new Function('kb', `return (async () => { ${source} })()`)(kb);
      return { threw: false };
    } catch (err) {
      return { threw: true, isError: err instanceof Error, name: err?.name, code: err?.code, message: String(err?.message) };
    }
  }, body);
  const expectError = async (body, code) => {
    const r = await callError(body);
    assert(r.threw, 'did not throw/reject');
    assert(r.isError, `threw a non-Error: ${JSON.stringify(r)}`);
    assertEqual(r.name, 'KeyboundError', 'error name');
    assertEqual(r.code, code, `error code (message: ${r.message})`);
  };

  await test('calculateJwkThumbprint of a private JWK throws ERR_JWK_PRIVATE_KEY', async () => {
    await expectError(`
      const k = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const jwk = await crypto.subtle.exportKey('jwk', k.privateKey);
      kb.calculateJwkThumbprint(jwk);`, 'ERR_JWK_PRIVATE_KEY');
  });

  await test('createDPoPProof without htu rejects ERR_INVALID_ARGUMENT', async () => {
    await expectError(`
      const key = await kb.generateDPoPKeyPair({ persist: false });
      await kb.createDPoPProof(key, { htm: 'POST' });`, 'ERR_INVALID_ARGUMENT');
  });

  await test("loadDPoPKeyPair('nope') rejects ERR_KEY_NOT_FOUND", async () => {
    await expectError(`await kb.loadDPoPKeyPair('nope');`, 'ERR_KEY_NOT_FOUND');
  });

  await test('forget: key deleted, reload shows no key, load rejects ERR_KEY_NOT_FOUND', async () => {
    await click('#forget', 'forgotten');
    assertEqual(await page.evaluate(() => localStorage.getItem('keybound-demo:key-id')), null, 'localStorage key id');
    await page.reload();
    await waitState('no-key');
    assertEqual((await text('#key-jkt')).trim(), '', '#key-jkt after forget + reload');
    assert(await page.locator('#key-facts').isHidden(), 'key facts still shown');
    assert(await page.locator('#sign').isDisabled(), '#sign is enabled without a key');
    await expectError(`await kb.loadDPoPKeyPair(${JSON.stringify(keyId)});`, 'ERR_KEY_NOT_FOUND');
  });

  await test('error box shows the code of a failed action', async () => {
    await click('#generate', 'key-ready');
    await page.fill('#htu', 'not a url');
    await page.click('#sign');
    await page.waitForFunction(() => document.body.dataset.state === 'error');
    const shown = await text('#error');
    assert(await page.locator('#error').isVisible(), 'error box is hidden');
    assert(/ERR_[A-Z_]+/.test(shown), `no error code in the error box: ${JSON.stringify(shown)}`);
    await page.fill('#htu', `${origin}/token`);
    await click('#forget', 'forgotten');
  });

  await test('no console errors', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join(' | '));
  });

  await context.close();
}

// ---------------------------------------------------------------- main

let timer;
const timeout = new Promise((_, reject) => {
  timer = setTimeout(() => reject(new Error(`run timed out after ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
});
const withTimeout = (promise, ms) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);

try {
  await Promise.race([run(), timeout]);
} catch (err) {
  results.push({ name: 'run', reason: err?.message ?? String(err) });
  console.log(`not ok - run: ${err?.message ?? err}`);
} finally {
  clearTimeout(timer);
  if (browser) await withTimeout(browser.close().catch(() => {}), 10_000);
  if (server) await withTimeout(server.close(), 5_000);
}

const failed = results.filter((r) => r.reason).length;
console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
