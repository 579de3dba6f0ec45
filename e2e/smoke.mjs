// Smoke test of the built package (pkg/web) on the demo page, in headless Chromium, served by the
// reference OP (target/debug/keybound-op): a key-bound login through the demo (the OP's login form
// filled in), refresh, UserInfo, a presentation to the OP's demo consumer and its replay, forget;
// then the DPoP key API by hand and the error contract; then the agent panel: a Worker signs in
// with the device flow (approved in a second tab), presents with its own key, and a cancel; then
// key binding vs the passkey nonce (a CDP virtual authenticator): register, a salted passkey-nonce
// login through the OP form, a passkey signature verified in the page, and the side-by-side figures.
//
//   node e2e/smoke.mjs
//
// Prints `ok - name` / `not ok - name: reason` per test, then `e2e: N passed, M failed`.
// Exit code 1 if any test failed. The whole run is cut off after 120 s.

import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, startOp, tests } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
const RUN_TIMEOUT_MS = 120_000;
const DEFAULT_CODE = 'SplxlOBeZQQYbYS6WxSbIA';
const DEFAULT_C_S256 = 'o1uBp9eSe3DsmScN0jYriFgKKFdK-BLywC9WRpV5GG8';
const B64URL_43 = /^[A-Za-z0-9_-]{43}$/;

// ---------------------------------------------------------------- harness

const pageErrors = [];
const consoleErrors = [];

class Failure extends Error {}
function assert(cond, message) {
  if (!cond) throw new Failure(message);
}
function assertEqual(actual, expected, what) {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// The shared harness (e2e/lib.mjs); a test during which the page threw fails.
const { test, fail, cleanup, finish } = tests(RUN_TIMEOUT_MS, { errors: () => pageErrors });

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

/** RS256 / ES256 signature of a JWS, checked in Node with a public JWK. */
function verifyWithJwk(jws, jwk) {
  const { header, signingInput, signature } = decodeJws(jws);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (header.alg === 'RS256') return verify('sha256', Buffer.from(signingInput), key, signature);
  if (header.alg === 'ES256') return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
  throw new Failure(`unexpected ID Token alg ${header.alg}`);
}

// ---------------------------------------------------------------- the run

let op;
let browser;

async function run() {
  op = await startOp(['--device-interval', '1', '--par']);
  cleanup(() => op.proc.kill());
  const { origin } = op;
  browser = await launchChromium();
  cleanup(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // Passkeys: a virtual platform authenticator (user verified, presence simulated), before the page loads.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true,
  } });
  // Screenshots for people (e2e/out/*.png) are artifacts, not tests: they are not counted, and a
  // failed one is reported without failing the run. With `selector`, the shot is clipped to that
  // element (from the top of `top`, when given).
  const snapshot = async (file, selector, top) => {
    try {
      await mkdir(OUT, { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0)); // the sticky button bar stays on top
      let clip;
      if (selector) {
        const box = await page.locator(selector).boundingBox();
        const y = top ? (await page.locator(top).boundingBox()).y : box.y;
        clip = { x: Math.max(0, box.x - 12), y: Math.max(0, y - 12), width: box.width + 24, height: box.y + box.height - y + 24 };
      }
      await page.screenshot({ path: path.join(OUT, file), fullPage: true, clip });
      console.log(`# screenshot: e2e/out/${file}`);
    } catch (e) {
      console.log(`# screenshot e2e/out/${file} not taken: ${e.message}`);
    }
  };
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ?? '';
    // The OP's own login page has no <link rel=icon>, so Chromium asks for /favicon.ico and gets a
    // 404 from the OP: not an error of the demo page.
    if (where === `${origin}/favicon.ico`) return;
    // The demo consumer answers 401 by design: its use_dpop_nonce challenge (answered by
    // presentTo's retry) and its refusal of the replayed request. Chromium logs every 4xx.
    if (where === `${origin}/consumer/session` && /status of 401/.test(msg.text())) return;
    consoleErrors.push(`${msg.text()} [${where}]`);
  });
  // The callback URL (with the code) as the browser requested it, before the page replaces it.
  let callbackUrl = null;
  page.on('request', (req) => {
    if (req.isNavigationRequest() && /[?&]code=/.test(req.url())) callbackUrl = req.url();
  });

  const text = (selector) => page.locator(selector).textContent();
  const json = async (selector) => JSON.parse(await text(selector));
  const waitState = (state) => page.waitForFunction(
    (s) => document.body?.dataset.state === s || document.body?.dataset.state === 'error', state)
    .then(async () => {
      const actual = await page.evaluate(() => document.body?.dataset.state);
      if (actual !== state) throw new Failure(`state ${actual}, error box: ${await text('#error')}`);
    });
  const click = async (selector, state) => {
    await page.click(selector);
    await waitState(state);
  };
  /** The classes of the check list items: every one must be pass (or info). */
  const checksOf = (selector) => page.locator(`${selector} li`).evaluateAll(
    (lis) => lis.map((li) => ({ cls: li.className, text: li.textContent })));
  const assertAllPass = async (selector, atLeast) => {
    const checks = await checksOf(selector);
    const failedChecks = checks.filter((c) => c.cls === 'fail');
    assert(failedChecks.length === 0, `${selector}: failed check(s): ${failedChecks.map((c) => c.text).join(' | ')}`);
    const passed = checks.filter((c) => c.cls === 'pass').length;
    assert(passed >= atLeast, `${selector}: ${passed} passing checks, expected at least ${atLeast}`);
  };
  const fault = async (name) => {
    const res = await fetch(`${origin}/_test/fault?name=${name}`);
    assert(res.ok, `fault ${name}: ${res.status}`);
  };
  const signInAtOp = async () => {
    await page.click('#login');
    await page.waitForSelector('#username');
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
  };

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
  const expectError = async (body, errCode) => {
    const r = await callError(body);
    assert(r.threw, 'did not throw/reject');
    assert(r.isError, `threw a non-Error: ${JSON.stringify(r)}`);
    assertEqual(r.name, 'KeyboundError', 'error name');
    assertEqual(r.code, errCode, `error code (message: ${r.message})`);
  };

  // ------------------------------------------------------------ the key-bound login

  let jkt = null;
  let loginKeyId = null;
  let idToken = null;
  let authParams = null;

  await test('demo page loads from the OP: ready, not signed in, steps empty', async () => {
    await page.goto(`${origin}/`);
    await waitState('ready');
    assert(await page.locator('#error').isHidden(), 'error box is visible');
    assertEqual((await text('#issuer')).trim(), origin, '#issuer');
    assert(await page.locator('#login').isEnabled(), '#login is disabled');
    for (const id of ['#refresh', '#userinfo', '#forget', '#present', '#replay']) assert(await page.locator(id).isDisabled(), `${id} is enabled without a session`);
    const filled = await page.locator('.step-card').evaluateAll((cards) => cards.map((c) => c.dataset.filled));
    assertEqual(filled.join(','), 'false,false,false,false,false', 'data-filled of the step cards');
    assertEqual((await text('#status')).trim(), 'Not signed in.', '#status');
  });

  await test('log in with key binding through the OP form: back on / and signed in', async () => {
    await signInAtOp();
    await waitState('signed-in');
    assertEqual(page.url(), `${origin}/`, 'URL after the callback (history.replaceState)');
    assert(callbackUrl && callbackUrl.startsWith(`${origin}/?code=`), `callback URL: ${callbackUrl}`);
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
    const filled = await page.locator('.step-card').evaluateAll((cards) => cards.map((c) => c.dataset.filled));
    assertEqual(filled.join(','), 'true,true,true,true,true', 'data-filled of the step cards');
    assert(/Signed in as alice-248289761/.test(await text('#status')), `#status: ${await text('#status')}`);
  });

  await test('step 1: the session key, non-extractable, loaded from IndexedDB', async () => {
    jkt = (await text('#flow-key-jkt')).trim();
    loginKeyId = (await text('#flow-key-id')).trim();
    assert(B64URL_43.test(jkt), `#flow-key-jkt is not 43 base64url chars: ${JSON.stringify(jkt)}`);
    assert(loginKeyId.length > 0, `#flow-key-id: ${loginKeyId}`);
    const stored = await page.evaluate(async (id) => {
      const { loadDPoPKeyPair } = await import('/pkg/keybound.js');
      return (await loadDPoPKeyPair(id)).jkt;
    }, loginKeyId);
    assertEqual(stored, jkt, 'loadDPoPKeyPair(keyId) gives the session key back');
    assertEqual((await text('#flow-key-extractable')).trim(), 'false', '#flow-key-extractable');
    assert(await page.locator('#flow-key-badge').isVisible(), 'non-extractable badge is not visible');
    assert(/refused/.test(await text('#flow-key-export')), 'exportKey of the private key was not shown as refused');
    assertEqual(ecThumbprint(await json('#flow-key-jwk')), jkt, 'Node-computed thumbprint of the public JWK');
  });

  await test('step 2: authorization request with bound_key, dpop_jkt, PKCE S256, state, nonce', async () => {
    const url = new URL((await text('#auth-url')).trim());
    authParams = Object.fromEntries(url.searchParams);
    assertEqual(`${url.origin}${url.pathname}`, `${origin}/authorize`, 'authorization endpoint');
    assert(authParams.scope.split(' ').includes('bound_key'), `scope: ${authParams.scope}`);
    assert(authParams.scope.split(' ').includes('openid'), `scope: ${authParams.scope}`);
    assertEqual(authParams.dpop_jkt, jkt, 'dpop_jkt');
    assertEqual(authParams.code_challenge_method, 'S256', 'code_challenge_method');
    assert(B64URL_43.test(authParams.code_challenge), `code_challenge: ${authParams.code_challenge}`);
    assertEqual(authParams.redirect_uri, `${origin}/`, 'redirect_uri');
    assert(authParams.state && authParams.nonce, 'state and nonce');
    const rows = await page.locator('#auth-params tr.hl-row th').allTextContents();
    for (const name of ['scope', 'dpop_jkt', 'code_challenge', 'code_challenge_method', 'state', 'nonce']) {
      assert(rows.includes(name), `parameter ${name} is not highlighted (${rows.join(', ')})`);
    }
    assert(await page.locator('#auth-params mark', { hasText: 'bound_key' }).isVisible(), 'bound_key is not marked');
  });

  await test('step 3: token-request DPoP proof with c_s256 of the code, jwk = the key, htu', async () => {
    const proof = (await text('#token-proof')).trim();
    const { header, payload } = decodeJws(proof);
    assertEqual(header.typ, 'dpop+jwt', 'typ');
    assertEqual(ecThumbprint(header.jwk), jkt, 'thumbprint of the proof jwk');
    assertEqual(payload.htm, 'POST', 'htm');
    assertEqual(payload.htu, `${origin}/token`, 'htu');
    const code = new URL(callbackUrl).searchParams.get('code');
    assertEqual(payload.c_s256, createHash('sha256').update(code).digest('base64url'), 'c_s256 = SHA-256(code)');
    assert(verifyEs256(proof), 'proof signature does not verify');
    assertEqual(JSON.stringify(await json('#token-proof-payload')), JSON.stringify(payload), '#token-proof-payload vs decoded');
    const marked = await page.locator('#token-proof-header mark, #token-proof-payload mark').evaluateAll((ms) => ms.map((m) => m.title));
    for (const name of ['jwk', 'htu', 'c_s256']) assert(marked.includes(name), `${name} is not highlighted`);
    await assertAllPass('#token-proof-checks', 3);
  });

  await test('step 4: ID Token typ dpop+id_token, cnf.jwk = the key, signed by the OP', async () => {
    idToken = (await text('#id-token')).trim();
    const { header, payload } = decodeJws(idToken);
    assertEqual(header.typ, 'dpop+id_token', 'typ');
    assert(payload.cnf?.jwk, 'no cnf.jwk');
    assertEqual(ecThumbprint(payload.cnf.jwk), jkt, 'thumbprint(cnf.jwk)');
    assertEqual(payload.nonce, authParams.nonce, 'nonce');
    assertEqual(payload.aud, 'keybound-demo', 'aud');
    assertEqual(JSON.stringify(await json('#id-token-payload')), JSON.stringify(payload), '#id-token-payload vs decoded');
    assertEqual(JSON.stringify(await json('#id-token-header')), JSON.stringify(header), '#id-token-header vs decoded');
    assert(await page.locator('#id-token-payload mark[title="cnf"]').isVisible(), 'cnf is not highlighted');
    const { keys } = await (await fetch(`${origin}/jwks`)).json();
    const jwk = keys.find((k) => k.kid === header.kid);
    assert(jwk, `no JWKS key with kid ${header.kid}`);
    assert(verifyWithJwk(idToken, jwk), 'ID Token signature does not verify with the OP JWKS');
  });

  await test('step 5: verdict bound true, thumbprint(cnf.jwk) = dpop_jkt, iss, aud, exp', async () => {
    assertEqual((await text('#verdict-bound')).trim(), 'true', '#verdict-bound');
    assertEqual(await page.getAttribute('#verdict', 'data-bound'), 'true', '#verdict data-bound');
    await assertAllPass('#verdict-checks', 5);
    const checks = (await checksOf('#verdict-checks')).map((c) => c.text).join(' | ');
    for (const word of ['dpop+id_token', 'cnf.jwk', 'iss', 'aud', 'exp', jkt]) {
      assert(checks.includes(word), `verdict does not mention ${word}: ${checks}`);
    }
    assert(await page.locator('#refresh').isEnabled(), '#refresh is disabled');
  });

  await snapshot('demo.png');

  await test('reload: the session and the recorded steps come back', async () => {
    await page.reload();
    await waitState('signed-in');
    assertEqual((await text('#flow-key-jkt')).trim(), jkt, '#flow-key-jkt after reload');
    assertEqual((await text('#flow-key-extractable')).trim(), 'false', '#flow-key-extractable after reload');
    assertEqual((await text('#id-token')).trim(), idToken, '#id-token after reload');
    assert('c_s256' in await json('#token-proof-payload'), 'token-request proof not shown after reload');
    assertEqual((await text('#verdict-bound')).trim(), 'true', '#verdict-bound after reload');
  });

  await test('refresh: a new ID Token, cnf unchanged', async () => {
    await click('#refresh', 'refreshed');
    const refreshed = (await text('#id-token')).trim();
    assert(refreshed !== idToken, 'the ID Token did not change');
    const before = decodeJws(idToken).payload;
    const { header, payload } = decodeJws(refreshed);
    assertEqual(header.typ, 'dpop+id_token', 'typ of the refreshed token');
    assertEqual(JSON.stringify(payload.cnf), JSON.stringify(before.cnf), 'cnf of the refreshed token');
    assertEqual(payload.sub, before.sub, 'sub');
    assertEqual((await text('#id-token-label')).trim(), 'refreshed', '#id-token-label');
    assert(await page.locator('#refresh-out').isVisible(), 'refresh result hidden');
    await assertAllPass('#refresh-checks', 4);
    assert(/cnf unchanged/.test(await text('#refresh-checks')), 'refresh checks do not say cnf unchanged');
    assertEqual((await text('#verdict-bound')).trim(), 'true', '#verdict-bound after refresh');
    await assertAllPass('#verdict-checks', 5);
    idToken = refreshed;
  });

  await snapshot('demo-refreshed.png');

  await test('UserInfo through client.fetch: 200 with the user', async () => {
    await click('#userinfo', 'userinfo');
    assert(/^200/.test((await text('#userinfo-status')).trim()), `#userinfo-status: ${await text('#userinfo-status')}`);
    const body = await json('#userinfo-body');
    assertEqual(body.sub, 'alice-248289761', 'UserInfo sub');
    assertEqual((await text('#userinfo-endpoint')).trim(), `${origin}/userinfo`, '#userinfo-endpoint');
  });

  // ------------------------------------------------------------ presenting to the demo consumer

  const consumerUrl = `${origin}/consumer/session`;
  const consumerRecords = async () => (await fetch(`${origin}/consumer/records`)).json();
  let presentedJti = null;

  await test('present to the consumer: 200, a proof by the cnf key with ath and the consumer nonce', async () => {
    assert(await page.locator('#replay').isDisabled(), '#replay is enabled before a presentation');
    await click('#present', 'presented');
    assert(/^200/.test((await text('#present-status')).trim()), `#present-status: ${await text('#present-status')}`);
    const answer = await json('#present-answer');
    assertEqual(answer.sub, 'alice-248289761', 'consumer answer sub');
    assertEqual(answer.cnf_jkt, jkt, 'consumer answer cnf_jkt');
    assert(typeof answer.session === 'string' && answer.session.length > 0, `consumer session: ${answer.session}`);
    // presentTo: a first proof without a nonce gets the consumer's challenge, the retry carries it.
    const exchanges = await page.locator('#present-exchanges li').allTextContents();
    assertEqual(exchanges.length, 2, `requests sent by presentTo (${exchanges.join(' | ')})`);
    assert(/401/.test(exchanges[0]) && /use_dpop_nonce/.test(exchanges[0]), `first request: ${exchanges[0]}`);
    assert(/200/.test(exchanges[1]), `second request: ${exchanges[1]}`);
    const proof = (await text('#present-proof')).trim();
    const { header, payload } = decodeJws(proof);
    assertEqual(header.typ, 'dpop+jwt', 'typ');
    assertEqual(ecThumbprint(header.jwk), jkt, 'thumbprint of the proof jwk');
    assertEqual(ecThumbprint(decodeJws(idToken).payload.cnf.jwk), jkt, 'thumbprint of cnf.jwk');
    assert(verifyEs256(proof), 'proof signature does not verify');
    assertEqual(payload.htm, 'POST', 'htm');
    assertEqual(payload.htu, consumerUrl, 'htu');
    assertEqual(payload.ath, createHash('sha256').update(idToken).digest('base64url'), 'ath = SHA-256(ID Token)');
    assert(typeof payload.nonce === 'string' && payload.nonce.length > 0, `nonce: ${payload.nonce}`);
    assertEqual(JSON.stringify(await json('#present-proof-payload')), JSON.stringify(payload), '#present-proof-payload vs decoded');
    const marked = await page.locator('#present-proof-payload mark').evaluateAll((ms) => ms.map((m) => m.title));
    for (const name of ['ath', 'nonce']) assert(marked.includes(name), `${name} is not highlighted`);
    await assertAllPass('#present-checks', 5);
    assert(await page.locator('#replay').isEnabled(), '#replay is disabled after a presentation');
    presentedJti = payload.jti;
    const record = (await consumerRecords()).records.find((r) => r.jti === presentedJti);
    assert(record, `no evidence record with jti ${presentedJti}`);
    assertEqual(record.outcome, 'accepted', 'record outcome');
    assertEqual(record.error, null, 'record error');
    assertEqual(record.cnf_jkt, jkt, 'record cnf_jkt');
    assertEqual(record.proof_jkt, jkt, 'record proof_jkt');
    assertEqual(record.subject, 'alice-248289761', 'record subject');
    assertEqual(record.issuer, origin, 'record issuer');
    assert(record.audience.includes('keybound-demo'), `record audience: ${record.audience}`);
    assertEqual(record.verified, true, 'record verified');
  });

  await test('replay: exactly the same request again is refused with ERR_DPOP_REPLAY', async () => {
    await click('#replay', 'replayed');
    assert(/^401/.test((await text('#replay-status')).trim()), `#replay-status: ${await text('#replay-status')}`);
    assertEqual((await text('#replay-code')).trim(), 'ERR_DPOP_REPLAY', '#replay-code');
    assertEqual((await json('#replay-answer')).code, 'ERR_DPOP_REPLAY', 'replay answer code');
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
    const records = (await consumerRecords()).records.filter((r) => r.jti === presentedJti);
    assertEqual(records.map((r) => r.outcome).join(','), 'accepted,refused', 'outcomes of the records with this jti');
    assertEqual(records[1].error, 'ERR_DPOP_REPLAY', 'second record error');
    assertEqual(records[1].cnf_jkt, jkt, 'second record cnf_jkt');
  });

  await test('evidence table: the accepted presentation and the refused replay; counters', async () => {
    const rows = await page.locator(`#records tr[data-jti="${presentedJti}"]`).evaluateAll((trs) => trs.map((tr) => ({
      outcome: tr.dataset.outcome,
      error: tr.dataset.error,
      cells: [...tr.cells].map((td) => td.textContent.trim()),
      chip: tr.querySelector('.jkt')?.textContent,
      mine: tr.classList.contains('mine'),
    })));
    assertEqual(rows.length, 2, 'rows with the presented jti');
    // Newest first: the replay, then the presentation.
    assertEqual(rows.map((r) => r.outcome).join(','), 'refused,accepted', 'row outcomes');
    assertEqual(rows[0].error, 'ERR_DPOP_REPLAY', 'replay row error');
    for (const row of rows) {
      assertEqual(row.chip, jkt, 'cnf_jkt chip');
      assert(row.mine, 'row of the shown proof is not marked');
      assert(row.cells.includes('alice-248289761'), `subject cell: ${row.cells.join(' | ')}`);
      assert(row.cells.includes(presentedJti), `jti cell: ${row.cells.join(' | ')}`);
      assert(row.cells.includes('/consumer/session'), `htu cell: ${row.cells.join(' | ')}`);
    }
    assert(rows[0].cells.includes('refused') && rows[0].cells.some((c) => c.startsWith('ERR_DPOP_REPLAY')), `replay row: ${rows[0].cells.join(' | ')}`);
    assert(rows[1].cells.includes('accepted'), `accepted row: ${rows[1].cells.join(' | ')}`);
    const counter = async (name) => Number(await page.getAttribute(`#consumer-counters [data-counter="${name}"]`, 'data-value'));
    assert(await counter('accepted') >= 1, `accepted counter: ${await counter('accepted')}`);
    assert(await counter('replays') >= 1, `replays counter: ${await counter('replays')}`);
    const { counters } = await consumerRecords();
    assertEqual(await counter('accepted'), counters.accepted, 'accepted counter vs /consumer/records');
    assertEqual(await counter('replays'), counters.replays, 'replays counter vs /consumer/records');
  });

  await snapshot('demo-consumer.png', '#card-consumer');

  await test('a second presentation: accepted, a fresh jti, the replay output cleared', async () => {
    await click('#present', 'presented');
    assert(/^200/.test((await text('#present-status')).trim()), `#present-status: ${await text('#present-status')}`);
    const { payload } = decodeJws((await text('#present-proof')).trim());
    assert(payload.jti !== presentedJti, 'jti repeated');
    assert(typeof payload.nonce === 'string', 'no nonce in the second proof');
    await assertAllPass('#present-checks', 5);
    assert(await page.locator('#replay-out').isHidden(), 'the previous replay is still shown');
    const row = page.locator(`#records tr[data-jti="${payload.jti}"]`);
    assertEqual(await row.getAttribute('data-outcome'), 'accepted', 'row of the second presentation');
  });

  await test('forget: signed out, key and tokens deleted', async () => {
    await click('#forget', 'forgotten');
    assertEqual((await text('#status')).trim(), 'Not signed in.', '#status');
    await assertAllPass('#forget-checks', 2);
    const filled = await page.locator('.step-card').evaluateAll((cards) => cards.map((c) => c.dataset.filled));
    assertEqual(filled.join(','), 'false,false,false,false,false', 'data-filled after forget');
    for (const id of ['#refresh', '#userinfo', '#forget', '#present', '#replay']) assert(await page.locator(id).isDisabled(), `${id} is enabled after forget`);
    assert(await page.locator('#present-out').isHidden(), 'the presentation is still shown after forget');
    await expectError(`await kb.loadDPoPKeyPair(${JSON.stringify(loginKeyId)});`, 'ERR_KEY_NOT_FOUND');
    await page.reload();
    await waitState('ready');
    assertEqual((await text('#status')).trim(), 'Not signed in.', '#status after reload');
  });

  // ------------------------------------------------------------ PAR, logout, popup login

  const signInForm = async (p) => {
    await p.waitForSelector('#username');
    await p.fill('#username', 'alice');
    await p.fill('#password', 'wonderland');
    await p.click('#approve');
  };

  await test('PAR step: the request pushed (201) with a proof of the login\'s key, the browser carried client_id and request_uri only, signed in bound', async () => {
    await page.click('#login-par');
    await signInForm(page);
    await waitState('signed-in');
    assertEqual((await text('#par-status')).trim(), '201', '#par-status');
    await assertAllPass('#par-checks', 4);
    await assertAllPass('#verdict-checks', 5);
    assert((await text('#par-params')).includes('bound_key'), 'the pushed parameters are not shown');
    assertEqual((await text('#verdict-bound')).trim(), 'true', '#verdict-bound');
  });

  await test('logout step: the refresh token revoked with a proof by the session key, key and session gone, the state checked on return', async () => {
    await page.click('#logout');
    await waitState('logged-out');
    await assertAllPass('#logout-checks', 5);
    assertEqual((await text('#status')).trim(), 'Not signed in.', '#status');
    assertEqual(page.url(), `${origin}/`, 'URL after the end-session return');
  });

  await test('popup step: signed in without leaving the page, the popup closed, bound to the login\'s key', async () => {
    const popupOpened = context.waitForEvent('page');
    await page.click('#login-popup');
    const popup = await popupOpened;
    const closed = popup.waitForEvent('close');
    await signInForm(popup);
    await closed;
    await waitState('signed-in');
    await assertAllPass('#popup-checks', 2);
    await assertAllPass('#verdict-checks', 4);
    assert(/Signed in as/.test(await text('#status')), `#status: ${await text('#status')}`);
    await click('#forget', 'forgotten');
    await page.reload();
    await waitState('ready');
  });

  await test('a refused login (OP ignores bound_key) shows ERR_ID_TOKEN_UNBOUND', async () => {
    await fault('unbound');
    try {
      await signInAtOp();
      await page.waitForFunction(() => ['error', 'signed-in'].includes(document.body?.dataset.state));
      assertEqual(await page.evaluate(() => document.body?.dataset.state), 'error', 'state');
      assertEqual(await page.getAttribute('#error', 'data-code'), 'ERR_ID_TOKEN_UNBOUND', '#error data-code');
      assert((await text('#error')).includes('ERR_ID_TOKEN_UNBOUND'), 'the code is not in the error box');
      assert(await page.locator('#error').isVisible(), 'error box is hidden');
      assertEqual((await text('#verdict-bound')).trim(), 'refused', '#verdict-bound');
      assertEqual(page.url(), `${origin}/`, 'URL after a refused callback');
    } finally {
      await fault('');
    }
    await page.reload();
    await waitState('ready');
  });

  // ------------------------------------------------------------ the DPoP key API by hand

  let keyJkt = null;
  let keyId = null;
  let proof = null;

  await test('generate key: 43-char dpop_jkt, non-extractable private key', async () => {
    await click('#generate', 'key-ready');
    keyJkt = (await text('#key-jkt')).trim();
    keyId = (await text('#key-id')).trim();
    assert(B64URL_43.test(keyJkt), `#key-jkt is not 43 base64url chars: ${JSON.stringify(keyJkt)}`);
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
    assertEqual(ecThumbprint(header.jwk), keyJkt, 'Node-computed thumbprint of header jwk');
    assertEqual(JSON.stringify(await json('#proof-header')), JSON.stringify(header), '#proof-header vs decoded header');
    await assertAllPass('#proof-checks', 4);
  });

  await test('sign proof: payload htm/htu/iat/jti/c_s256', async () => {
    const { payload } = decodeJws(proof);
    assertEqual(payload.htm, 'POST', 'htm');
    assertEqual(payload.htu, `${origin}/token`, 'htu');
    assert(Number.isInteger(payload.iat), `iat is not an integer: ${payload.iat}`);
    assert(Math.abs(payload.iat - Date.now() / 1000) < 60, `iat ${payload.iat} is not close to now`);
    assert(typeof payload.jti === 'string' && payload.jti.length >= 16, `jti too short: ${payload.jti}`);
    assertEqual(payload.c_s256, DEFAULT_C_S256, 'c_s256 for the default code');
    assertEqual(JSON.stringify(await json('#proof-payload')), JSON.stringify(payload), '#proof-payload vs decoded payload');
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
    assertEqual(ecThumbprint(b.header.jwk), keyJkt, 'thumbprint of the second proof jwk');
  });

  await test('reload: key loaded from IndexedDB with the same jkt', async () => {
    await page.reload();
    await waitState('ready');
    assertEqual((await text('#key-source')).trim(), 'loaded from IndexedDB', '#key-source');
    assertEqual((await text('#key-jkt')).trim(), keyJkt, '#key-jkt after reload');
    assertEqual((await text('#key-extractable')).trim(), 'false', '#key-extractable after reload');
  });

  await test('worker: proof signed inside a module Worker with the same key', async () => {
    await click('#run-worker', 'worker-ready');
    const result = await json('#worker-result');
    assertEqual(result.inWorker, true, 'inWorker');
    assertEqual(result.jkt, keyJkt, 'worker jkt');
    const { header, payload } = decodeJws(result.proof);
    assertEqual(ecThumbprint(header.jwk), keyJkt, 'thumbprint of the worker proof jwk');
    assertEqual(payload.c_s256, DEFAULT_C_S256, 'worker proof c_s256');
    assert(verifyEs256(result.proof), 'worker proof signature does not verify');
    await assertAllPass('#worker-checks', 4);
  });

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

  await test('forget key: key deleted, reload shows no key, load rejects ERR_KEY_NOT_FOUND', async () => {
    await click('#forget-key', 'key-forgotten');
    assertEqual(await page.evaluate(() => localStorage.getItem('keybound-demo:key-id')), null, 'localStorage key id');
    await page.reload();
    await waitState('ready');
    assertEqual((await text('#key-jkt')).trim(), '', '#key-jkt after forget + reload');
    assert(await page.locator('#key-facts').isHidden(), 'key facts still shown');
    assert(await page.locator('#sign').isDisabled(), '#sign is enabled without a key');
    await expectError(`await kb.loadDPoPKeyPair(${JSON.stringify(keyId)});`, 'ERR_KEY_NOT_FOUND');
  });

  await test('error box shows the code of a failed action', async () => {
    await click('#generate', 'key-ready');
    await page.fill('#htu', 'not a url');
    await page.click('#sign');
    await page.waitForFunction(() => document.body?.dataset.state === 'error');
    const shown = await text('#error');
    assert(await page.locator('#error').isVisible(), 'error box is hidden');
    assert(/ERR_[A-Z_]+/.test(shown), `no error code in the error box: ${JSON.stringify(shown)}`);
    assertEqual(await page.getAttribute('#error', 'data-code'), shown.match(/ERR_[A-Z_]+/)[0], '#error data-code');
    await page.fill('#htu', `${origin}/token`);
    await click('#forget-key', 'key-forgotten');
  });

  // ------------------------------------------------------------ the agent: a client in a Worker, device flow

  let pageJkt = null;
  let agentJkt = null;
  let agentProof = null;
  const storedSessionJkt = () => page.evaluate(async (o) => {
    const kb = await import('/pkg/keybound.js');
    await kb.default();
    const c = await kb.KeyBoundClient.discover(o, { clientId: 'keybound-demo', redirectUri: `${o}/` });
    return (await c.session())?.jkt ?? null;
  }, origin);

  await test('agent: the page signs in again and presents, with its own key', async () => {
    await signInAtOp();
    await waitState('signed-in');
    pageJkt = (await text('#flow-key-jkt')).trim();
    assert(B64URL_43.test(pageJkt), `#flow-key-jkt: ${JSON.stringify(pageJkt)}`);
    assertEqual((await text('#holder-page-key .jkt')).trim(), pageJkt, 'the page\'s key in the holders');
    assert(await page.locator('#agent-start').isEnabled(), '#agent-start is disabled');
    for (const id of ['#agent-cancel', '#agent-present']) assert(await page.locator(id).isDisabled(), `${id} is enabled before the agent started`);
    await click('#present', 'presented');
    assert(/^200/.test((await text('#present-status')).trim()), `#present-status: ${await text('#present-status')}`);
  });

  await test('agent: device login in a Worker, code approved in a second tab: bound, its own key', async () => {
    await click('#agent-start', 'agent-code');
    const userCode = (await text('#agent-user-code')).trim();
    assert(/^[A-Z]{4}-[A-Z]{4}$/.test(userCode), `#agent-user-code: ${JSON.stringify(userCode)}`);
    const href = await page.getAttribute('#agent-verify-link', 'href');
    const link = new URL(href);
    assertEqual(`${link.origin}${link.pathname}`, `${origin}/device`, 'verification URI');
    assertEqual(link.searchParams.get('user_code'), userCode, 'user_code of the verification link');
    assert(await page.locator('#agent-cancel').isEnabled(), '#agent-cancel is disabled while waiting');
    // The poll events show while the agent waits (--device-interval 1).
    await page.waitForSelector('#agent-polls li[data-status="authorization_pending"]');
    assert(/authorization_pending/.test(await text('#agent-status')), `#agent-status: ${await text('#agent-status')}`);
    const tab = await context.newPage();
    try {
      await tab.goto(href);
      assertEqual(await tab.inputValue('#user_code'), userCode, 'user code filled in at the OP');
      await tab.fill('#username', 'alice');
      await tab.fill('#password', 'wonderland');
      await tab.click('#approve');
      await tab.waitForSelector('#device-done');
    } finally {
      await tab.close();
    }
    await waitState('agent-signed-in');
    const s = await json('#agent-session');
    assertEqual(s.bound, true, 'agent session bound');
    assert(B64URL_43.test(s.jkt), `agent jkt: ${JSON.stringify(s.jkt)}`);
    assertEqual(s.sub, 'alice-248289761', 'agent sub');
    assert(s.jkt !== pageJkt, `the agent has the page's key ${pageJkt}`);
    agentJkt = s.jkt;
    assertEqual((await text('#agent-jkt .jkt')).trim(), agentJkt, '#agent-jkt chip');
    assertEqual((await text('#holder-agent-key .jkt')).trim(), agentJkt, 'the agent\'s key in the holders');
    // Two keys, two chip colors (the hue of a chip is --h).
    const hue = (selector) => page.$eval(selector, (e) => Number(e.style.getPropertyValue('--h')));
    const [pageHue, agentHue] = [await hue('#holder-page-key .jkt'), await hue('#holder-agent-key .jkt')];
    const apart = Math.min(Math.abs(pageHue - agentHue), 360 - Math.abs(pageHue - agentHue));
    assert(apart >= 60, `the page's and the agent's chips look alike: hues ${pageHue} and ${agentHue}`);
    assertEqual(await page.getAttribute('#agent-code-out', 'data-phase'), 'approved', 'code box phase');
    await assertAllPass('#agent-checks', 4);
    assert(await page.locator('#agent-cancel').isDisabled(), '#agent-cancel is enabled after the login');
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
  });

  await test('agent: the page keeps its own session and key after the agent\'s login', async () => {
    const stored = await storedSessionJkt();
    const status = (await text('#status')).trim();
    // The agent keeps its own named session (session: 'agent'), apart from the page's.
    assertEqual(stored, pageJkt, 'the page\'s stored session');
    assert(/Signed in as/.test(status), `#status: ${status}`);
    assertEqual((await text('#holder-page-key .jkt')).trim(), pageJkt, 'the page\'s key in the holders');
    assert(await page.locator('#agent-slot-note').isHidden(), 'no replacement note');
  });

  await test('agent presents to the consumer: 200, a new evidence record with the agent\'s cnf_jkt', async () => {
    await click('#agent-present', 'agent-presented');
    assert(/^200/.test((await text('#agent-result-status')).trim()), `#agent-result-status: ${await text('#agent-result-status')}`);
    const answer = await json('#agent-result');
    assertEqual(answer.cnf_jkt, agentJkt, 'the consumer\'s cnf_jkt');
    assertEqual(answer.sub, 'alice-248289761', 'the consumer\'s sub');
    agentProof = (await text('#agent-proof')).trim();
    const { header, payload } = decodeJws(agentProof);
    assertEqual(ecThumbprint(header.jwk), agentJkt, 'thumbprint of the agent\'s proof jwk');
    assertEqual(payload.htu, `${origin}/consumer/session`, 'htu of the agent\'s proof');
    assert(verifyEs256(agentProof), 'the agent\'s proof does not verify');
    await assertAllPass('#agent-result-checks', 3);
    const record = (await consumerRecords()).records.find((r) => r.jti === payload.jti);
    assert(record, `no evidence record with jti ${payload.jti}`);
    assertEqual(record.outcome, 'accepted', 'record outcome');
    assertEqual(record.cnf_jkt, agentJkt, 'record cnf_jkt');
    assertEqual(record.proof_jkt, agentJkt, 'record proof_jkt');
    assertEqual(record.subject, 'alice-248289761', 'record subject');
    // The table was refreshed: the agent's row next to the page's, each with its own key chip.
    const rows = await page.locator('#records tr').evaluateAll((trs) => trs.map((tr) => ({
      jti: tr.dataset.jti, outcome: tr.dataset.outcome, holder: tr.dataset.holder,
      chip: tr.querySelector('.c-key .jkt')?.textContent, marked: tr.classList.contains('mine-agent'),
    })));
    const row = rows.find((r) => r.jti === payload.jti);
    assert(row, 'the agent\'s record is not in the table');
    assertEqual(row.chip, agentJkt, 'cnf_jkt chip of the agent\'s row');
    assertEqual(row.holder, 'agent', 'holder of the agent\'s row');
    assert(row.marked, 'the agent\'s row is not marked');
    assert(rows.some((r) => r.outcome === 'accepted' && r.chip === pageJkt && r.holder === 'page'), 'no accepted row of the page\'s key in the table');
  });

  await snapshot('demo-agent.png', '#card-agent', '#consumer-evidence');

  await test('agent: cancel a waiting device login: agent-cancelled, the earlier session kept', async () => {
    await click('#agent-start', 'agent-code');
    assert(/^[A-Z]{4}-[A-Z]{4}$/.test((await text('#agent-user-code')).trim()), 'no new user code');
    assert(await page.locator('#agent-present').isDisabled(), '#agent-present is enabled while waiting');
    await click('#agent-cancel', 'agent-cancelled');
    assert(/ERR_CANCELLED/.test(await text('#agent-status')), `#agent-status: ${await text('#agent-status')}`);
    assertEqual(await page.getAttribute('#agent-code-out', 'data-phase'), 'cancelled', 'code box phase');
    assert(await page.locator('#agent-cancel').isDisabled(), '#agent-cancel is enabled after the cancel');
    assert(await page.locator('#agent-start').isEnabled(), '#agent-start is disabled after the cancel');
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
    assertEqual((await json('#agent-session')).jkt, agentJkt, 'the agent\'s session after the cancel');
    await click('#agent-present', 'agent-presented');
    assertEqual((await json('#agent-result')).cnf_jkt, agentJkt, 'cnf_jkt of a presentation after the cancel');
  });

  // ------------------------------------------------------------ key binding vs passkey nonce

  let pkJkt = null;
  let pkLoginToken = null;
  /** The salted commitment, computed in Node: BASE64URL(SHA-256(domain ‖ 0 ‖ thumbprint ‖ 0 ‖ salt)). */
  const commitment = (thumbprint, salt) => createHash('sha256')
    .update(Buffer.concat([Buffer.from('kb-nonce-v1.'), Buffer.from(thumbprint), Buffer.from('.'), Buffer.from(salt, 'base64url')]))
    .digest('base64url');

  await test('passkey: register with the virtual authenticator: its thumbprint shown', async () => {
    assert(await page.locator('#pk-login').isDisabled(), '#pk-login is enabled without a passkey');
    await click('#pk-register', 'pk-registered');
    pkJkt = (await text('#pk-jkt')).trim();
    assert(B64URL_43.test(pkJkt), `#pk-jkt: ${JSON.stringify(pkJkt)}`);
    const stored = await page.evaluate(async () => {
      const kb = await import('/pkg/keybound.js');
      await kb.default();
      return kb.loadPasskey('demo');
    });
    assertEqual(stored.jkt, pkJkt, 'loadPasskey(\'demo\').jkt');
    assertEqual(ecThumbprint(stored.publicJwk), pkJkt, 'Node-computed thumbprint of the passkey JWK');
    assertEqual(stored.alg, -7, 'COSE alg');
    assertEqual(stored.rpId, 'localhost', 'rpId');
    assert(pkJkt !== pageJkt && pkJkt !== agentJkt, 'the passkey has the page\'s or the agent\'s thumbprint');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials.some((c) => Buffer.from(c.credentialId, 'base64').toString('base64url') === stored.credentialId),
      `credential ${stored.credentialId} is not in the virtual authenticator`);
    assert(/\d ms/.test(await text('#pk-register-time')), `#pk-register-time: ${await text('#pk-register-time')}`);
    assert(await page.locator('#pk-login').isEnabled(), '#pk-login is disabled after the registration');
  });

  await test('passkey: salted passkey-nonce login through the OP form: the binding shown, the key-bound session kept', async () => {
    await page.click('#pk-login');
    await page.waitForSelector('#username');
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
    await waitState('pk-signed-in');
    assertEqual(page.url(), `${origin}/`, 'URL after the callback');
    assertEqual((await text('#pk-binding-jkt')).trim(), pkJkt, '#pk-binding-jkt');
    assertEqual((await text('#pk-mode')).trim(), 'salted', '#pk-mode');
    await assertAllPass('#pk-login-checks', 6);
    const header = await json('#pk-id-token-header');
    const payload = await json('#pk-id-token-payload');
    assertEqual(header.typ, 'JWT', 'typ of the passkey-nonce ID Token');
    assert(!('cnf' in payload), 'the passkey-nonce ID Token has a cnf');
    assertEqual(payload.sub, 'alice-248289761', 'sub');
    const salt = (await text('#pk-salt')).trim();
    assert(Buffer.from(salt, 'base64url').length >= 32, `salt: ${salt}`);
    assertEqual(payload.nonce, commitment(pkJkt, salt), 'nonce = the salted commitment (computed in Node)');
    assert(payload.nonce !== pkJkt, 'the salted nonce is the bare thumbprint');
    assertEqual((await text('#pk-nonce')).trim(), payload.nonce, 'the nonce sent = the ID Token\'s');
    // The key-bound session of the page is still there, unchanged.
    assertEqual(await storedSessionJkt(), pageJkt, 'the page\'s stored session');
    assertEqual((await text('#flow-key-jkt')).trim(), pageJkt, '#flow-key-jkt');
    assert(/Signed in as/.test(await text('#status')), `#status: ${await text('#status')}`);
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
  });

  await test('passkey: sign, verified by the in-page consumer (and in Node)', async () => {
    await click('#pk-sign', 'pk-signed');
    await assertAllPass('#pk-sign-checks', 6);
    const answer = await json('#pk-verify-result');
    assertEqual(answer.outcome, 'accepted', 'consumer outcome');
    assertEqual(answer.passkeyJkt, pkJkt, 'consumer passkeyJkt');
    assertEqual(answer.sub, 'alice-248289761', 'consumer sub');
    const p = await json('#pk-presentation');
    assertEqual(ecThumbprint(p.publicJwk), pkJkt, 'thumbprint of the presentation JWK');
    pkLoginToken = p.idToken;
    const { payload } = decodeJws(p.idToken);
    assertEqual(payload.nonce, commitment(pkJkt, p.salt), 'the signed ID Token\'s nonce = the commitment');
    const clientData = JSON.parse(Buffer.from(p.clientDataJSON, 'base64url').toString('utf8'));
    assertEqual(clientData.type, 'webauthn.get', 'clientData type');
    assertEqual(clientData.origin, origin, 'clientData origin');
    const authData = Buffer.from(p.authenticatorData, 'base64url');
    assertEqual(authData.subarray(0, 32).toString('base64url'), createHash('sha256').update('localhost').digest('base64url'), 'rpIdHash');
    assert((authData[32] & 0x05) === 0x05, `flags UP and UV: ${authData[32]}`);
    const signed = Buffer.concat([authData, createHash('sha256').update(Buffer.from(p.clientDataJSON, 'base64url')).digest()]);
    const key = createPublicKey({ key: p.publicJwk, format: 'jwk' });
    assert(verify('sha256', signed, { key, dsaEncoding: 'der' }, Buffer.from(p.signature, 'base64url')), 'the assertion signature does not verify in Node');
  });

  const compareRows = ['cmp-bind', 'cmp-bind-gestures', 'cmp-proof', 'cmp-proof-gestures', 'cmp-login', 'cmp-size', 'cmp-checks'];
  const compareFigures = () => page.locator('#compare-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    id: tr.id, kb: tr.querySelector('.kb')?.dataset.value, pk: tr.querySelector('.pk')?.dataset.value,
  })));

  await test('compare: a number in every row of #compare-table; refresh keeps cnf, the refreshed passkey token has no nonce', async () => {
    await click('#compare-run', 'compared');
    const rows = await compareFigures();
    assertEqual(rows.map((r) => r.id).join(','), compareRows.join(','), 'row ids');
    for (const r of rows) {
      for (const side of ['kb', 'pk']) {
        assert(r[side] !== undefined && r[side] !== '' && Number.isFinite(Number(r[side])), `${r.id} ${side}: ${JSON.stringify(r[side])}`);
      }
    }
    const figure = (id, side) => Number(rows.find((r) => r.id === id)[side]);
    assertEqual(figure('cmp-proof-gestures', 'kb'), 0, 'gestures per DPoP proof');
    assertEqual(figure('cmp-proof-gestures', 'pk'), 1, 'gestures per passkey proof');
    assertEqual(figure('cmp-bind-gestures', 'kb'), 0, 'gestures to make a DPoP key');
    assertEqual(figure('cmp-bind-gestures', 'pk'), 1, 'gestures to register a passkey');
    for (const id of ['prop-refresh', 'prop-replay']) {
      for (const side of ['kb', 'pk']) {
        const ok = await page.getAttribute(`#${id} td.${side}`, 'data-ok');
        assertEqual(ok, 'true', `#${id} ${side} (${(await text(`#${id} td.${side}`)).trim()})`);
      }
    }
    assert(/no nonce/.test(await text('#prop-refresh td.pk')), `#prop-refresh pk: ${await text('#prop-refresh td.pk')}`);
    assert(/ERR_PASSKEY_NONCE_MISMATCH/.test(await text('#prop-refresh td.pk')), 'the refreshed token in place of the login token was not refused');
    assert(/ERR_DPOP_REPLAY/.test(await text('#prop-replay td.kb')), `#prop-replay kb: ${await text('#prop-replay td.kb')}`);
    // The page's session was refreshed for it: a new ID Token, the same cnf.
    assertEqual((await text('#id-token-label')).trim(), 'refreshed', '#id-token-label');
    const refreshed = decodeJws((await text('#id-token')).trim()).payload;
    assertEqual(ecThumbprint(refreshed.cnf.jwk), pageJkt, 'cnf of the refreshed page token');
    await assertAllPass('#refresh-checks', 4);
    // The passkey session was refreshed too: its ID Token has no nonce, the login token is kept for signing.
    const pk = await page.evaluate(async (o) => {
      const kb = await import('/pkg/keybound.js');
      await kb.default();
      const c = await kb.KeyBoundClient.discover(o, { clientId: 'keybound-demo', redirectUri: `${o}/`, session: 'passkey', keyBinding: false });
      const s = await c.session();
      return { idToken: s.idToken, passkey: s.passkey };
    }, origin);
    assert(pk.idToken !== pkLoginToken, 'the passkey session was not refreshed');
    assert(!('nonce' in decodeJws(pk.idToken).payload), 'the refreshed passkey ID Token has a nonce');
    assertEqual(pk.passkey?.jkt, pkJkt, 'the passkey binding of the refreshed session');
    assert(await page.locator('#error').isHidden(), `error box: ${await text('#error')}`);
    const figures = await page.evaluate(() => [...document.querySelectorAll('#compare-table tbody tr')].map((tr) =>
      `${tr.id}: ${[...tr.querySelectorAll('[data-value]')].map((c) => String(Math.round(Number(c.dataset.value) * 100) / 100)).join(" vs ")}`));
    console.log(`# comparison (key binding vs passkey nonce): ${figures.join('; ')}`);
  });

  await snapshot('demo-compare.png', '#card-compare');

  await test('compare: after a reload the comparison comes back from sessionStorage', async () => {
    const before = await compareFigures();
    await page.reload();
    await waitState('signed-in');
    assertEqual(JSON.stringify(await compareFigures()), JSON.stringify(before), '#compare-table after the reload');
    assertEqual((await text('#pk-binding-jkt')).trim(), pkJkt, '#pk-binding-jkt after the reload');
    assertEqual((await json('#pk-verify-result')).outcome, 'accepted', '#pk-verify-result after the reload');
    assert(await page.locator('#pk-sign').isEnabled(), '#pk-sign is disabled after the reload');
  });

  await test('no console errors', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join(' | '));
  });

  await context.close();
}

// ---------------------------------------------------------------- main

try {
  await run();
} catch (err) {
  fail('run', err);
} finally {
  await finish();
}
