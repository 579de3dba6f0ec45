// End to end in headless Chromium: the app page (www/flow.html) logs in at the reference OP
// with key binding, survives a reload in the middle of the flow, refreshes, calls UserInfo with
// a DPoP-bound access token, forgets; then every fault switch of the OP is refused by the client
// with its code. Prints the time of one full login.
import { root, assert, startOp, launchChromium, tests } from './lib.mjs';

const { test, fail, cleanup, finish } = tests(180000);
const op = await startOp();
cleanup(() => op.proc.kill());
const browser = await launchChromium();
cleanup(() => browser.close());
const pageErrors = [];
let loginMs = [];
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const state = (s) => page.waitForFunction((want) => document.body && ['error', ...want].includes(document.body.dataset.state), s, { timeout: 20000 });
  const fault = (name) => fetch(`${op.origin}/_test/fault?name=${name}`).then((r) => assert(r.ok, `fault ${name}`));
  const signIn = async () => {
    await page.click('#login');
    await page.waitForSelector('#username', { timeout: 20000 });
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
    await state(['ready', 'signed-in']);
  };
  const session = async () => JSON.parse((await page.textContent('#session')) || 'null');
  const errorCode = () => page.getAttribute('#error', 'data-code');

  await page.goto(`${op.origin}/flow.html`);
  await state(['ready', 'signed-in']);

  await test('login with key binding: the ID Token is bound to this browser\'s key', async () => {
    await signIn();
    assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
    const s = await session();
    assert(s && s.bound === true, `bound: ${JSON.stringify(s)}`);
    assert(s.claims.cnf && s.claims.cnf.jwk, 'cnf.jwk in the claims');
    assert(s.jkt.length === 43, 'jkt');
    assert(s.tokenType === 'DPoP', `tokenType ${s.tokenType}`);
    assert(s.hasRefreshToken, 'refresh token');
    const header = JSON.parse(Buffer.from(s.idToken.split('.')[0], 'base64url'));
    assert(header.typ === 'dpop+id_token', `typ ${header.typ}`);
    loginMs.push(Number(await page.getAttribute('body', 'data-login-ms')));
  });

  await test('the key is non-extractable and the session survives a reload', async () => {
    const before = await session();
    await page.reload();
    await state(['ready', 'signed-in']);
    const after = await session();
    assert(after && after.jkt === before.jkt, 'same session after reload');
    const ext = await page.evaluate(async (keyId) => {
      const { loadDPoPKeyPair } = await import('/pkg/keybound.js');
      const key = await loadDPoPKeyPair(keyId);
      let exported = true;
      try { await crypto.subtle.exportKey('jwk', key.keyPair.privateKey); } catch { exported = false; }
      return { extractable: key.keyPair.privateKey.extractable, exported, jkt: key.jkt };
    }, after.keyId);
    assert(ext.extractable === false && ext.exported === false, JSON.stringify(ext));
    assert(ext.jkt === before.jkt, 'the stored key is the session key');
  });

  await test('refresh keeps the binding and cnf', async () => {
    const before = await session();
    await page.click('#refresh');
    await state(['refreshed']);
    const after = await session();
    assert(after.bound && after.jkt === before.jkt, 'still bound to the same key');
    assert(after.idToken !== before.idToken, 'a new ID Token');
    assert(!('nonce' in after.claims), 'no nonce in the refreshed token');
  });

  await test('the OP rotates its signing key right after discovery: each refresh refetches the JWKS once and stays bound', async () => {
    const stats = async () => (await fetch(`${op.origin}/_test/stats`)).json();
    await page.goto(`${op.origin}/flow.html`);   // a fresh discovery (and JWKS) a moment ago
    await state(['ready', 'signed-in']);
    for (let i = 0; i < 2; i++) {
      const before = await session();
      const fetches = (await stats()).jwks_fetches;
      assert((await fetch(`${op.origin}/_test/rotate`)).ok, 'rotate');
      await page.click('#refresh');
      await state(['refreshed']);
      assert(!(await page.textContent('#error')), `rotation ${i + 1}: ${await page.textContent('#error')}`);
      const after = await session();
      const kid = JSON.parse(Buffer.from(after.idToken.split('.')[0], 'base64url')).kid;
      assert(after.bound && after.jkt === before.jkt && kid.endsWith(`-rot${(await stats()).rotations}`), `rotation ${i + 1}: kid ${kid}`);
      assert((await stats()).jwks_fetches === fetches + 1, `rotation ${i + 1}: ${(await stats()).jwks_fetches - fetches} JWKS fetches, want 1`);
    }
  });

  await test('UserInfo through client.fetch with a DPoP-bound access token', async () => {
    await page.click('#userinfo');
    await state(['userinfo']);
    const text = await page.textContent('#result');
    assert(text.startsWith('UserInfo 200') && text.includes('alice-248289761'), text);
  });

  await test('reload in the middle of the flow (after startLogin, before the redirect)', async () => {
    const url = await page.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, scope: 'offline_access' });
      return (await c.startLogin()).url;
    });
    await page.reload();
    await state(['ready', 'signed-in']);
    await page.goto(url);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
    await state(['ready', 'signed-in']);
    assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
    assert((await session()).bound, 'bound');
  });

  await test('two tabs logging in at once do not clobber each other', async () => {
    const start = async (p) => {
      await p.goto(`${op.origin}/flow.html`);
      await p.waitForFunction(() => document.body && ['ready', 'signed-in', 'error'].includes(document.body.dataset.state));
      return p.evaluate(async () => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, scope: 'offline_access' });
        return (await c.startLogin()).url;
      });
    };
    const tab2 = await context.newPage();
    tab2.on('pageerror', (e) => pageErrors.push(e.message));
    // Both tabs start a login (two pending logins, two keys), then finish in reverse order.
    const url1 = await start(page);
    const url2 = await start(tab2);
    const finish = async (p, url) => {
      await p.goto(url);
      await p.fill('#username', 'alice');
      await p.fill('#password', 'wonderland');
      await p.click('#approve');
      await p.waitForFunction(() => document.body && ['ready', 'signed-in', 'error'].includes(document.body.dataset.state), null, { timeout: 20000 });
      assert(!(await p.textContent('#error')), `error: ${await p.textContent('#error')}`);
      return JSON.parse(await p.textContent('#session'));
    };
    const s2 = await finish(tab2, url2);
    const s1 = await finish(page, url1);
    assert(s1.bound && s2.bound, 'both bound');
    assert(s1.jkt !== s2.jkt, 'each login had its own key');
    await tab2.close();
  });

  await test('a replayed callback (state already used) is refused', async () => {
    const { url } = await page.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
      return c.startLogin();
    });
    await page.goto(url);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    const [nav] = await Promise.all([page.waitForURL(/flow\.html\?code=/), page.click('#approve')]);
    const callback = page.url();
    await state(['ready', 'signed-in']);
    await page.goto(callback);
    await state(['ready', 'signed-in']);
    assert((await errorCode()) === 'ERR_STATE_MISMATCH', `code ${await errorCode()}`);
  });

  const faults = [
    ['unbound', 'ERR_ID_TOKEN_UNBOUND'], ['cnf_other_key', 'ERR_ID_TOKEN_CNF_MISMATCH'], ['wrong_typ', 'ERR_ID_TOKEN_UNBOUND'],
    ['bad_signature', 'ERR_JWS_SIGNATURE_INVALID'], ['unknown_kid', 'ERR_JWKS_NO_MATCHING_KEY'], ['wrong_iss', 'ERR_ID_TOKEN_ISS_MISMATCH'],
    ['wrong_aud', 'ERR_ID_TOKEN_AUD_MISMATCH'], ['expired', 'ERR_ID_TOKEN_EXPIRED'], ['wrong_nonce', 'ERR_ID_TOKEN_NONCE_MISMATCH'],
    ['token_500', 'ERR_OAUTH_RESPONSE_INVALID'], ['token_html', 'ERR_OAUTH_RESPONSE_INVALID'],
  ];
  for (const [name, code] of faults) {
    await test(`fault ${name} is refused with ${code}`, async () => {
      await fault(name);
      try {
        await page.goto(`${op.origin}/flow.html`);
        await state(['ready', 'signed-in']);
        await signIn();
        assert((await errorCode()) === code, `got ${await errorCode()}: ${await page.textContent('#error')}`);
      } finally { await fault(''); }
    });
  }

  await test('a hung token endpoint is ERR_TIMEOUT after the client timeout; the login is kept and finishes once the OP answers', async () => {
    await page.goto(`${op.origin}/flow.html?timeout=1500`);
    await state(['ready', 'signed-in']);
    await fault('token_hang');
    try {
      const t0 = Date.now();
      await signIn();
      const waited = Date.now() - t0;
      assert((await errorCode()) === 'ERR_TIMEOUT', `got ${await errorCode()}: ${await page.textContent('#error')}`);
      assert(waited < 9000, `the client waited ${waited} ms: the OP's 10 s hold, not the 1.5 s timeout`);
    } finally { await fault(''); }
    // The same callback again: the pending login and its key were kept, the OP never saw the code.
    assert(/[?&]code=/.test(page.url()), `still on the callback: ${page.url()}`);
    await page.reload();
    await state(['ready', 'signed-in']);
    assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
    assert((await session())?.bound === true, 'bound after the retry');
    // Per request: an aborted signal is ERR_CANCELLED; a request past its own timeout is ERR_TIMEOUT.
    await fault('token_hang');
    try {
      const codes = await page.evaluate(async (timeout) => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, timeout });
        const code = (p) => p.then(() => 'resolved', (e) => e.code);
        const aborted = new AbortController();
        aborted.abort();
        const t0 = performance.now();
        const timedOut = await code(c.fetch(c.tokenEndpoint, { method: 'POST', body: 'grant_type=x', timeout: 400 }));
        return {
          cancelled: await code(c.fetch(`${location.origin}/userinfo`, { signal: aborted.signal })),
          presentCancelled: await code(c.presentTo(`${location.origin}/consumer/session`, { signal: aborted.signal })),
          timedOut, ms: performance.now() - t0,
          badTimeout: await code(c.fetch(`${location.origin}/userinfo`, { timeout: 'soon' })),
          badClientTimeout: await code(KeyBoundClient.discover(location.origin, { clientId: 'c', redirectUri: `${location.origin}/flow.html`, timeout: -1 })),
        };
      }, 30000);
      assert(codes.cancelled === 'ERR_CANCELLED' && codes.presentCancelled === 'ERR_CANCELLED', `aborted: ${JSON.stringify(codes)}`);
      assert(codes.timedOut === 'ERR_TIMEOUT' && codes.ms < 5000, `per-request timeout: ${JSON.stringify(codes)}`);
      assert(codes.badTimeout === 'ERR_INVALID_ARGUMENT' && codes.badClientTimeout === 'ERR_INVALID_ARGUMENT', `bad timeouts: ${JSON.stringify(codes)}`);
    } finally { await fault(''); }
    await page.goto(`${op.origin}/flow.html?timeout=30000`);
    await state(['ready', 'signed-in']);
  });

  await test('nonce challenge: one retry with the DPoP nonce, then signed in', async () => {
    await fault('nonce_challenge');
    try {
      await page.goto(`${op.origin}/flow.html`);
      await state(['ready', 'signed-in']);
      await signIn();
      assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
      assert((await session()).bound, 'bound');
      const stats = await (await fetch(`${op.origin}/_test/stats`)).json();
      assert(stats.nonce_challenges >= 1, JSON.stringify(stats));
    } finally { await fault(''); }
  });

  await test('binding "preferred" accepts an OP that ignores bound_key and reports unbound', async () => {
    await fault('unbound');
    try {
      await page.goto(`${op.origin}/flow.html?binding=preferred`);
      await state(['ready', 'signed-in']);
      await signIn();
      assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
      const s = await session();
      assert(s.bound === false, `bound ${s.bound}`);
    } finally { await fault(''); await page.evaluate(() => sessionStorage.setItem('kb-binding', 'required')); }
  });

  await test('forget deletes the key and the session', async () => {
    await page.goto(`${op.origin}/flow.html`);
    await state(['ready', 'signed-in']);
    await page.click('#forget');
    await state(['forgotten']);
    await page.reload();
    await state(['ready', 'signed-in']);
    assert((await session()) === null, 'no session after forget');
  });

  await test('refresh without a session is ERR_NO_SESSION', async () => {
    await page.click('#refresh');
    await state(['refreshed']);
    assert((await errorCode()) === 'ERR_NO_SESSION', `got ${await errorCode()}`);
  });

  await test('refresh of a session without a refresh token is ERR_NO_REFRESH_TOKEN', async () => {
    const url = await page.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, scope: 'profile' });
      return (await c.startLogin()).url;
    });
    await page.goto(url);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
    await state(['ready', 'signed-in']);
    assert((await session()).hasRefreshToken === false, 'no refresh token without offline_access');
    await page.click('#refresh');
    await state(['refreshed']);
    assert((await errorCode()) === 'ERR_NO_REFRESH_TOKEN', `got ${await errorCode()}`);
  });

  await test('an unreachable issuer is ERR_NETWORK, a wrong one ERR_DISCOVERY_ISSUER_MISMATCH', async () => {
    const codes = await page.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const code = (p) => p.then(() => 'resolved', (e) => e.code);
      return [
        await code(KeyBoundClient.discover('http://localhost:1', { clientId: 'c', redirectUri: `${location.origin}/flow.html` })),
        await code(KeyBoundClient.discover(location.origin.replace('localhost', '127.0.0.1'), { clientId: 'c', redirectUri: `${location.origin}/flow.html` })),
      ];
    });
    assert(codes[0] === 'ERR_NETWORK', `unreachable: ${codes[0]}`);
    assert(codes[1] === 'ERR_DISCOVERY_ISSUER_MISMATCH', `mismatch: ${codes[1]}`);
  });

  for (let i = 0; i < 2; i++) {
    await page.goto(`${op.origin}/flow.html`);
    await state(['ready', 'signed-in']);
    await signIn();
    loginMs.push(Number(await page.getAttribute('body', 'data-login-ms')));
  }
  await test('no uncaught page errors', async () => assert(pageErrors.length === 0, pageErrors.join('; ')));
  await page.screenshot({ path: `${root}e2e/out/flow.png`, fullPage: true });
} catch (e) {
  fail('setup', e);
} finally {
  const sorted = loginMs.filter((x) => x > 0).sort((a, b) => a - b);
  console.log(`full login in headless Chromium (click to signed-in, incl. the OP's login form): ${sorted.join(', ')} ms; median ${sorted[Math.floor(sorted.length / 2)]} ms`);
  await finish();
}
