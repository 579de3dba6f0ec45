// Interop end to end in headless Chromium: the app page (www/flow.html, served on its own origin)
// logs in at panva's oidc-provider (e2e/interop/provider.mjs), an OP we did not write. The OP is
// cross-origin, so its CORS is part of what is tested.
//   keybinding  oidc-provider with a Key Binding emulation: bound login, refresh, UserInfo (DPoP + ath)
//   nonce       the same with DPoP nonces required: one retry at the token endpoint and at UserInfo,
//               nonces kept across reloads (IndexedDB), a stale stored nonce replaced after one retry
//   plain       no Key Binding: binding "required" refuses the login, "preferred" accepts it unbound
//   device      the whole client in a dedicated Worker (www/test/interop-agent-worker.js) logs in with
//               oidc-provider's device flow (emulated Key Binding, c_s256 over the device_code on
//               every poll); a second tab enters the user code, logs in and consents
import * as crypto from 'node:crypto';
import { startServer } from '../scripts/serve.mjs';
import { startProvider, version, PINNED, CLIENT_ID, DEVICE_GRANT } from './interop/provider.mjs';
import { assert, launchChromium, tests, withFlowPage } from './lib.mjs';

const { test, fail, cleanup, finish } = tests(180000);
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
const b64u = (data) => Buffer.from(data).toString('base64url');
const s256 = (text) => crypto.createHash('sha256').update(text, 'ascii').digest('base64url');
// RFC 7638 thumbprint of an EC P-256 public key.
const ecThumbprint = (jwk) => s256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));


console.log(`interop peer: oidc-provider ${version}${version === PINNED ? '' : ` (the emulation is pinned to ${PINNED})`}`);

try {
  const app = await startServer(0);
  cleanup(() => app.close());
  const appOrigin = `http://localhost:${app.port}`;
  const ops = {};
  for (const mode of ['keybinding', 'nonce', 'plain']) {
    ops[mode] = await startProvider({ port: 0, mode, appOrigin });
    const server = ops[mode];
    cleanup(() => server.close());
  }

  const browser = await launchChromium();
  cleanup(() => browser.close());

  // Each test gets a fresh browser context (its own IndexedDB, sessionStorage and OP cookies;
  // only localhost may be contacted: oidc-provider's login page links a web font), through
  // lib.mjs withFlowPage, with a noError that also shows the OP's errors and oidc-provider's
  // login and consent forms as signIn.
  const withPage = (op, binding, fn) => {
    const query = new URLSearchParams({ issuer: op.issuer, client_id: CLIENT_ID, scope: 'profile email offline_access', binding });
    return withFlowPage(browser, `${appOrigin}/flow.html?${query}`, async ({ page, state, session }) => {
      const errorText = async () => page.textContent('#error');
      const errorCode = () => page.getAttribute('#error', 'data-code');
      const noError = async () => { const e = await errorText(); assert(!e, `error: ${e}; OP: ${op.stats.errors.join(' | ') || '-'}`); };
      // Clicks "Log in", fills oidc-provider's devInteractions login form, then its consent form.
      const signIn = async (login = 'alice') => {
        await page.click('#login');
        await page.waitForSelector('input[name="login"]', { timeout: 20000 });
        assert(page.url().startsWith(op.issuer), `login form at ${page.url()}`);
        await page.fill('input[name="login"]', login);
        await page.fill('input[name="password"]', 'any password');
        await page.click('button[type="submit"]');
        await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 20000 });
        await page.click('button[type="submit"]');
        await page.waitForURL((u) => u.href.startsWith(`${appOrigin}/flow.html`), { timeout: 20000 });
        await state(['ready', 'signed-in']);
      };
      await noError();
      await fn({ page, state, session, errorText, errorCode, noError, signIn });
    }, { clean: false });
  };

  await test('keybinding: bound login, refresh keeps cnf, UserInfo with DPoP + ath', async () => {
    const op = ops.keybinding;
    await withPage(op, 'required', async ({ page, state, session, noError, signIn }) => {
      await signIn();
      await noError();
      const s = await session();
      assert(s && s.bound === true, `bound: ${JSON.stringify(s)}`);
      assert(header(s.idToken).typ === 'dpop+id_token', `typ ${header(s.idToken).typ}`);
      assert(s.claims.cnf && s.claims.cnf.jwk && s.claims.cnf.jwk.kty === 'EC', `cnf ${JSON.stringify(s.claims.cnf)}`);
      assert(s.claims.iss === op.issuer && s.claims.aud === CLIENT_ID && s.claims.sub === 'alice', `claims ${JSON.stringify(s.claims)}`);
      assert(s.tokenType === 'DPoP', `tokenType ${s.tokenType}`);
      assert(s.hasRefreshToken, 'no refresh token');
      assert(op.stats.cS256Checked === 1, `the OP checked c_s256 ${op.stats.cS256Checked} times`);

      let before = s;
      for (let i = 1; i <= 2; i++) { // twice: the second uses the rotated refresh token
        // ID Tokens have no jti: two issued in the same second for the same grant are identical.
        await page.waitForTimeout(1100);
        await page.click('#refresh');
        await state(['refreshed']);
        await noError();
        const after = await session();
        assert(after.bound === true && after.jkt === before.jkt, `refresh ${i}: not bound to the same key`);
        assert(after.idToken !== before.idToken && after.claims.iat > before.claims.iat, `refresh ${i}: no new ID Token`);
        assert(after.accessToken !== before.accessToken, `refresh ${i}: no new access token`);
        assert(header(after.idToken).typ === 'dpop+id_token', `refresh ${i}: typ ${header(after.idToken).typ}`);
        assert(JSON.stringify(after.claims.cnf) === JSON.stringify(s.claims.cnf), `refresh ${i}: cnf changed`);
        assert(after.claims.auth_time === s.claims.auth_time, `refresh ${i}: auth_time changed`);
        before = after;
      }
      assert(op.stats.refreshes === 2, `the OP saw ${op.stats.refreshes} refreshes`);
      assert(op.stats.refreshProofsWithCS256 === 0, 'a refresh proof carried c_s256');

      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      const text = await page.textContent('#result');
      assert(text.startsWith('UserInfo 200') && text.includes('"sub":"alice"'), text);
      const last = op.stats.userinfo.at(-1);
      assert(last && last.scheme === 'DPoP' && last.hasAth, `UserInfo request ${JSON.stringify(last)}`);
    });
  });

  await test('nonce: one use_dpop_nonce retry at the token endpoint, one 401 retry at UserInfo, nonces kept across reloads', async () => {
    const op = ops.nonce;
    await withPage(op, 'required', async ({ page, state, session, noError, signIn }) => {
      await signIn();
      await noError();
      const s = await session();
      assert(s && s.bound === true, `bound: ${JSON.stringify(s)}`);
      assert(op.stats.nonceChallenges.token === 1, `token endpoint nonce challenges: ${op.stats.nonceChallenges.token}`);
      assert(op.stats.cS256Checked === 1, 'c_s256 checked on the retried proof');

      // No nonce for /me has been learned yet (nonces are kept per endpoint): UserInfo is
      // challenged (401) and retried once. The reload shows this does not depend on the page.
      await page.reload();
      await state(['ready', 'signed-in']);
      const seen = op.stats.userinfo.length;
      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      const text = await page.textContent('#result');
      assert(text.startsWith('UserInfo 200'), text);
      const calls = op.stats.userinfo.slice(seen).map((c) => c.status);
      assert(JSON.stringify(calls) === '[401,200]', `UserInfo statuses ${JSON.stringify(calls)}`);
      assert(op.stats.nonceChallenges.userinfo === 1, `UserInfo nonce challenges: ${op.stats.nonceChallenges.userinfo}`);

      // Nonces are shared through IndexedDB: after a reload neither UserInfo nor a refresh is
      // challenged again while the OP still accepts the nonces.
      await page.reload();
      await state(['ready', 'signed-in']);
      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      assert((await page.textContent('#result')).startsWith('UserInfo 200'), 'second UserInfo');
      assert(op.stats.nonceChallenges.userinfo === 1, `second UserInfo was challenged again (${op.stats.nonceChallenges.userinfo})`);
      const challenges = op.stats.nonceChallenges.token;
      await page.click('#refresh');
      await state(['refreshed']);
      await noError();
      assert((await session()).bound === true, 'refreshed session not bound');
      assert(op.stats.nonceChallenges.token === challenges, `the refresh was challenged (${op.stats.nonceChallenges.token - challenges}) despite the stored nonce`);

      // A stored nonce the OP no longer accepts (written over the stored ones; this knows the
      // client's IndexedDB layout: database "keybound", store "nonces", endpoint -> nonce text):
      // one 400 use_dpop_nonce at the token endpoint and one 401 at UserInfo, each retried once.
      const slots = await page.evaluate(() => new Promise((resolve, reject) => {
        const open = indexedDB.open('keybound');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('nonces')) { db.close(); resolve(null); return; }
          const tx = db.transaction('nonces', 'readwrite');
          const store = tx.objectStore('nonces');
          const keys = store.getAllKeys();
          keys.onsuccess = () => { for (const k of keys.result) store.put('c3RhbGUtbm9uY2UtdGhlLW9wLW5ldmVyLWlzc3VlZA', k); };
          tx.oncomplete = () => { db.close(); resolve(keys.result); };
          tx.onerror = () => { db.close(); reject(tx.error); };
        };
      }));
      assert(Array.isArray(slots) && slots.includes(`${op.issuer}/token`) && slots.includes(`${op.issuer}/me`), `stored nonce slots ${JSON.stringify(slots)}`);
      // A live client keeps its nonces in memory (changes made through keybound reach it on a
      // BroadcastChannel); this write went behind its back, so a fresh page reads the store.
      await page.reload();
      await state(['ready', 'signed-in']);
      await page.click('#refresh');
      await state(['refreshed']);
      await noError();
      assert((await session()).bound === true, 'refreshed session not bound');
      assert(op.stats.nonceChallenges.token === challenges + 1, `refresh with a stale nonce: ${op.stats.nonceChallenges.token - challenges} challenges`);
      const before = op.stats.userinfo.length;
      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      const statuses = op.stats.userinfo.slice(before).map((c) => c.status);
      assert(JSON.stringify(statuses) === '[401,200]', `UserInfo with a stale nonce: ${JSON.stringify(statuses)}`);
    });
  });

  await test('plain, binding "required": the unbound ID Token is refused with ERR_ID_TOKEN_UNBOUND', async () => {
    const op = ops.plain;
    await withPage(op, 'required', async ({ page, session, errorCode, errorText, signIn }) => {
      await signIn();
      assert((await errorCode()) === 'ERR_ID_TOKEN_UNBOUND', `got ${await errorCode()}: ${await errorText()}`);
      assert((await session()) === null, 'a session is shown');
      assert(op.stats.boundIdTokens === 0 && op.stats.cS256Checked === 0, 'the plain OP bound a token');
      // And the refusal is not a stored session either.
      const stored = await page.evaluate(async () => {
        const { default: init, KeyBoundClient } = await import('/pkg/keybound.js');
        await init();
        const c = await KeyBoundClient.discover(sessionStorage.getItem('kb-issuer'), { clientId: sessionStorage.getItem('kb-client_id'), redirectUri: `${location.origin}/flow.html` });
        return c.session();
      });
      assert(stored === null, `stored session ${JSON.stringify(stored)}`);
    });
  });

  await test('plain, binding "preferred": signed in with bound === false', async () => {
    const op = ops.plain;
    await withPage(op, 'preferred', async ({ page, state, session, noError, signIn }) => {
      await signIn();
      await noError();
      const s = await session();
      assert(s && s.bound === false, `bound: ${JSON.stringify(s && s.bound)}`);
      assert(!('cnf' in s.claims), 'cnf in an unbound token');
      assert(header(s.idToken).typ !== 'dpop+id_token', `typ ${header(s.idToken).typ}`);
      assert(s.tokenType === 'DPoP', `tokenType ${s.tokenType}`);
      await page.click('#refresh');
      await state(['refreshed']);
      await noError();
      assert((await session()).bound === false, 'refreshed session');
      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      const text = await page.textContent('#result');
      assert(text.startsWith('UserInfo 200'), text);
    });
  });

  // --- Device flow (RFC 8628 + KB §3) -------------------------------------------------------

  // The emulation must really refuse a wrong c_s256, or the Worker test below proves little.
  // Node plays the device here with its own P-256 key.
  await test('device emulation self-check: a poll with a wrong c_s256 or another key is refused', async () => {
    const op = ops.keybinding;
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    assert(discovery.device_authorization_endpoint === `${op.issuer}/device/auth`, `device endpoint ${discovery.device_authorization_endpoint}`);
    assert(discovery.grant_types_supported.includes(DEVICE_GRANT), 'device grant not advertised');
    const newKey = () => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
      return { privateKey, jwk: { kty, crv, x, y } };
    };
    const proof = (key, claims) => {
      const input = `${b64u(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk }))}.${b64u(JSON.stringify({
        jti: crypto.randomUUID(), htm: 'POST', htu: discovery.token_endpoint, iat: Math.floor(Date.now() / 1000), ...claims,
      }))}`;
      return `${input}.${b64u(crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
    };
    const form = (o) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o) });
    const key = newKey();
    const jkt = ecThumbprint(key.jwk);
    const auth = await fetch(discovery.device_authorization_endpoint, form({ client_id: CLIENT_ID, scope: 'openid bound_key', dpop_jkt: jkt, nonce: 'n-0S6_WzA2Mj' }));
    const dc = await auth.json();
    assert(auth.status === 200 && dc.device_code, `device authorization ${auth.status} ${JSON.stringify(dc)}`);
    assert(op.stats.device.authorizations.at(-1)?.dpopJkt === jkt, `dpop_jkt not kept: ${JSON.stringify(op.stats.device.authorizations.at(-1))}`);
    const poll = async (dpop) => {
      const res = await fetch(discovery.token_endpoint, { ...form({ grant_type: DEVICE_GRANT, device_code: dc.device_code, client_id: CLIENT_ID }), headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop ? { dpop } : {}) } });
      return `${res.status} ${(await res.json()).error}`;
    };
    const cases = [
      ['no proof', undefined, '400 invalid_dpop_proof'],
      ['no c_s256', proof(key, {}), '400 invalid_dpop_proof'],
      ['c_s256 over another string', proof(key, { c_s256: s256(`${dc.device_code}x`) }), '400 invalid_dpop_proof'],
      ['another key', proof(newKey(), { c_s256: s256(dc.device_code) }), '400 invalid_grant'],
      ['the right proof', proof(key, { c_s256: s256(dc.device_code) }), '400 authorization_pending'],
    ];
    for (const [what, dpop, want] of cases) {
      const got = await poll(dpop);
      assert(got === want, `${what}: ${got}, want ${want}`);
    }
    const bad = await fetch(discovery.device_authorization_endpoint, form({ client_id: CLIENT_ID, scope: 'openid bound_key', dpop_jkt: 'not a thumbprint' }));
    assert(bad.status === 400 && (await bad.json()).error === 'invalid_request', `a malformed dpop_jkt: ${bad.status}`);
  });

  // The app page starts a dedicated Worker running the whole client; `fn` gets helpers around its
  // message log. Worker errors (which pageerror does not see) are logged as {op: 'worker-error'}.
  const withWorker = (op, fn) => withPage(op, 'required', async ({ page }) => {
    await page.evaluate(() => {
      window.agentLog = [];
      window.agent = new Worker('/test/interop-agent-worker.js', { type: 'module' });
      window.agent.onmessage = ({ data }) => window.agentLog.push(data);
      window.agent.onerror = (e) => window.agentLog.push({ op: 'worker-error', message: e.message || 'worker failed to load' });
    });
    const send = (msg) => page.evaluate((m) => window.agent.postMessage(m), msg);
    const logLength = () => page.evaluate(() => window.agentLog.length);
    const log = (after = 0) => page.evaluate((a) => window.agentLog.slice(a), after);
    const waitFor = async (name, after = 0, timeout = 20000) => {
      const found = await page.waitForFunction(([n, a]) => window.agentLog.slice(a).find((m) => m.op === n || m.op === 'worker-error'), [name, after], { timeout })
        .then((h) => h.jsonValue());
      assert(found.op !== 'worker-error', `worker error: ${found.message}`);
      return found;
    };
    const hello = await waitFor('hello');
    const configured = await (async () => {
      const start = await logLength();
      await send({ op: 'configure', issuer: op.issuer, clientId: CLIENT_ID, scope: 'profile email offline_access', binding: 'required' });
      return waitFor('configure', start);
    })();
    assert(configured.ok, `configure: ${JSON.stringify(configured)}; OP: ${op.stats.errors.join(' | ') || '-'}`);
    // oidc-provider's device pages in a second tab: enter the user code, confirm (or abort), then
    // the devInteractions login and consent forms. Returns the final page's text.
    const verifyInTab = async (code, { abort = false } = {}) => {
      const tab = await page.context().newPage();
      try {
        await tab.goto(code.verificationUri);
        assert(tab.url().startsWith(op.issuer), `user-code page at ${tab.url()}`);
        await tab.fill('input[name="user_code"]', code.userCode.toLowerCase().replace('-', ' ')); // oidc-provider normalizes input
        await tab.click('button[form="op.deviceInputForm"]');
        await tab.waitForSelector('[id="op.deviceConfirmForm"]', { state: 'attached', timeout: 20000 });
        const shown = await tab.textContent('code');
        assert(shown === code.userCode, `confirm page shows ${shown}, the worker got ${code.userCode}`);
        if (abort) {
          await tab.click('button[name="abort"]');
        } else {
          await tab.click('button[autofocus][form="op.deviceConfirmForm"]');
          await tab.waitForSelector('input[name="login"]', { timeout: 20000 });
          await tab.fill('input[name="login"]', 'alice');
          await tab.fill('input[name="password"]', 'any password');
          await tab.click('button[type="submit"]');
          await tab.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 20000 });
          await tab.click('button[type="submit"]');
        }
        await tab.waitForSelector('h1', { timeout: 20000 });
        return tab.textContent('body');
      } finally {
        await tab.close();
      }
    };
    await fn({ page, hello, send, log, logLength, waitFor, verifyInTab });
  });

  await test('device flow in a Worker against oidc-provider: bound session, refresh, UserInfo', async () => {
    const op = ops.keybinding;
    await withWorker(op, async ({ hello, send, log, logLength, waitFor, verifyInTab }) => {
      assert(hello.inWorker === true && hello.hasWindow === false && hello.hasDocument === false, `worker globals ${JSON.stringify(hello)}`);
      const start = await logLength();
      const seen = { polls: op.stats.device.polls.length, checked: op.stats.device.cS256Checked, bound: op.stats.device.bound };
      const t0 = Date.now();
      await send({ op: 'device-login' });
      const code = await waitFor('device-code', start);
      assert(code.ok, `startDeviceLogin: ${JSON.stringify(code)}; OP: ${op.stats.errors.join(' | ') || '-'}`);
      assert(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(code.userCode), `user code ${code.userCode}`);
      assert(code.verificationUri === `${op.issuer}/device`, `verification_uri ${code.verificationUri}`);
      assert(code.verificationUriComplete === `${op.issuer}/device?user_code=${code.userCode}`, `verification_uri_complete ${code.verificationUriComplete}`);
      assert(code.interval === 5, `interval ${code.interval} (oidc-provider sends none: the RFC 8628 default is 5)`);
      assert(code.expiresIn > 590 && code.expiresIn <= 600, `expiresIn ${code.expiresIn} (ttl.DeviceCode is 600)`);
      const request = op.stats.device.authorizations.at(-1);
      const scopes = String(request?.scope).split(' ');
      assert(scopes.includes('openid') && scopes.includes('bound_key') && scopes.includes('profile'), `device request scope ${request?.scope}`);
      assert(/^[A-Za-z0-9_-]{43}$/.test(request.dpopJkt || ''), `device request dpop_jkt ${request.dpopJkt}`);
      assert(typeof request.nonce === 'string' && request.nonce.length >= 16, `device request nonce ${request.nonce}`);

      // Let the worker poll once before the user acts: authorization_pending, heard by onPoll.
      const firstPoll = await waitFor('device-poll', start, 20000);
      assert(firstPoll.status === 'authorization_pending' && firstPoll.interval === 5, `first poll ${JSON.stringify(firstPoll)}`);
      const ending = await verifyInTab(code);
      assert(ending.includes('Sign-in Success'), `verification ended with: ${ending.trim().slice(0, 200)}`);
      const done = await waitFor('device-login', start, 40000);
      assert(done.ok, `finishDeviceLogin: ${done.code}: ${done.message}; OP: ${op.stats.errors.join(' | ') || '-'}`);
      assert(done.inWorker === true && done.hasWindow === false, `not in a window-less worker: ${JSON.stringify({ inWorker: done.inWorker, hasWindow: done.hasWindow })}`);
      const s = done.session;
      assert(s.bound === true, `bound: ${s.bound}`);
      assert(header(s.idToken).typ === 'dpop+id_token', `typ ${header(s.idToken).typ}`);
      assert(s.claims.cnf?.jwk?.kty === 'EC' && ecThumbprint(s.claims.cnf.jwk) === s.jkt, `cnf ${JSON.stringify(s.claims.cnf)} is not the session key ${s.jkt}`);
      assert(s.jkt === request.dpopJkt, 'the session key is not the dpop_jkt of the device request');
      assert(s.claims.iss === op.issuer && s.claims.aud === CLIENT_ID && s.claims.sub === 'alice', `claims ${JSON.stringify(s.claims)}`);
      assert(!('nonce' in s.claims), 'oidc-provider echoed the device-request nonce (it is not expected to; recheck the nonce-absent case)');
      assert(s.tokenType === 'DPoP' && s.hasRefreshToken, `tokenType ${s.tokenType}, refresh token ${s.hasRefreshToken}`);
      // Every poll carried a proof by the dpop_jkt key with c_s256 over the device_code, checked
      // before oidc-provider looked at the code; the last one got the tokens.
      const polls = op.stats.device.polls.slice(seen.polls);
      assert(polls.length >= 2 && polls.every((p) => p.keyBinding === 'checked' && p.proof), `polls ${JSON.stringify(polls)}`);
      // A new proof on every poll (new jti), the same c_s256 (it is over the device_code).
      assert(new Set(polls.map((p) => p.jti)).size === polls.length && new Set(polls.map((p) => p.cS256)).size === 1, `poll proofs ${JSON.stringify(polls)}`);
      assert(polls.at(-1).status === 200 && polls.slice(0, -1).every((p) => p.error === 'authorization_pending'), `polls ${JSON.stringify(polls)}`);
      assert(op.stats.device.cS256Checked - seen.checked === polls.length, `c_s256 checked on ${op.stats.device.cS256Checked - seen.checked} of ${polls.length} polls`);
      assert(op.stats.device.bound - seen.bound === 1, `device ID Tokens bound: ${op.stats.device.bound - seen.bound}`);
      const pending = (await log(start)).filter((m) => m.op === 'device-poll');
      assert(pending.length === polls.length - 1 && pending.every((m) => m.status === 'authorization_pending'), `onPoll heard ${JSON.stringify(pending)} for ${polls.length} polls`);
      assert(Date.now() - t0 >= 5000 * polls.length - 500, `${polls.length} polls in ${Date.now() - t0} ms: faster than the 5 s interval`);

      // The Worker refreshes: same key, still bound, same cnf (the emulation keeps the device binding).
      await new Promise((r) => setTimeout(r, 1100)); // ID Tokens have no jti: a new second, a new token
      const r0 = await logLength();
      await send({ op: 'refresh' });
      const refreshed = await waitFor('refresh', r0);
      assert(refreshed.ok, `refresh: ${refreshed.code}: ${refreshed.message}; OP: ${op.stats.errors.join(' | ') || '-'}`);
      const after = refreshed.session;
      assert(after.bound === true && after.jkt === s.jkt && after.idToken !== s.idToken, 'refresh: not a new token bound to the same key');
      assert(header(after.idToken).typ === 'dpop+id_token' && JSON.stringify(after.claims.cnf) === JSON.stringify(s.claims.cnf), 'refresh: typ or cnf changed');

      // UserInfo from the Worker: Authorization: DPoP + a proof with ath.
      const u0 = await logLength();
      await send({ op: 'fetch', url: `${op.issuer}/me` });
      const info = await waitFor('fetch', u0);
      assert(info.ok && info.status === 200 && JSON.parse(info.body).sub === 'alice', `UserInfo ${JSON.stringify(info)}`);
      const last = op.stats.userinfo.at(-1);
      assert(last && last.scheme === 'DPoP' && last.hasAth, `UserInfo request ${JSON.stringify(last)}`);
    });
  });

  await test('device flow in a Worker (nonce OP): a poll retried once on use_dpop_nonce, [ Abort ] gives ERR_DEVICE_ACCESS_DENIED', async () => {
    const op = ops.nonce;
    await withWorker(op, async ({ send, logLength, waitFor, verifyInTab }) => {
      const start = await logLength();
      const seen = { polls: op.stats.device.polls.length, challenges: op.stats.nonceChallenges.token };
      await send({ op: 'device-login' });
      const code = await waitFor('device-code', start);
      assert(code.ok, `startDeviceLogin: ${JSON.stringify(code)}; OP: ${op.stats.errors.join(' | ') || '-'}`);
      const ending = await verifyInTab(code, { abort: true }); // before the first poll (5 s)
      assert(/interrupted/i.test(ending), `after abort: ${ending.trim().slice(0, 200)}`);
      const done = await waitFor('device-login', start, 40000);
      assert(!done.ok && done.code === 'ERR_DEVICE_ACCESS_DENIED', `got ${JSON.stringify(done)}`);
      // This context never learned a nonce: the first proof is challenged, the retry (a new
      // proof with the nonce, and c_s256 again) gets the answer.
      // (Normally the abort beats the first poll: [use_dpop_nonce, access_denied].)
      const polls = op.stats.device.polls.slice(seen.polls).map((p) => `${p.status} ${p.error} ${p.keyBinding}`);
      assert(polls.length >= 2 && polls[0] === '400 use_dpop_nonce checked' && polls.at(-1) === '400 access_denied checked'
        && polls.slice(1, -1).every((p) => p === '400 authorization_pending checked'), `polls ${JSON.stringify(polls)}`);
      assert(op.stats.nonceChallenges.token - seen.challenges === 1, `nonce challenges ${op.stats.nonceChallenges.token - seen.challenges}`);
    });
  });
  await test('device flow in a Worker (plain OP), binding "required": the unbound ID Token is refused with ERR_ID_TOKEN_UNBOUND', async () => {
    const op = ops.plain;
    await withWorker(op, async ({ send, logLength, waitFor, verifyInTab }) => {
      const start = await logLength();
      const seen = op.stats.device.polls.length;
      await send({ op: 'device-login' });
      const code = await waitFor('device-code', start);
      assert(code.ok, `startDeviceLogin: ${JSON.stringify(code)}; OP: ${op.stats.errors.join(' | ') || '-'}`);
      // Without the emulation oidc-provider drops dpop_jkt at its device endpoint (unknown there).
      assert(op.stats.device.authorizations.at(-1).dpopJkt === undefined, 'the plain OP kept dpop_jkt');
      const ending = await verifyInTab(code);
      assert(ending.includes('Sign-in Success'), `verification ended with: ${ending.trim().slice(0, 200)}`);
      const done = await waitFor('device-login', start, 40000);
      assert(!done.ok && done.code === 'ERR_ID_TOKEN_UNBOUND', `got ${JSON.stringify(done)}`);
      const polls = op.stats.device.polls.slice(seen);
      assert(polls.at(-1)?.status === 200 && polls.every((p) => p.keyBinding === 'none'), `polls ${JSON.stringify(polls)}`);
      assert(op.stats.boundIdTokens === 0, 'the plain OP bound a token');
      const r0 = await logLength();
      await send({ op: 'session' });
      const stored = await waitFor('session', r0);
      assert(stored.ok && stored.session === null, `a session was stored: ${JSON.stringify(stored)}`);
    });
  });
} catch (e) {
  fail('setup', e);
} finally {
  await finish();
}
