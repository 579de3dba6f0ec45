// The flows peer libraries have (issue 14), end to end in headless Chromium, against the reference
// OP (target/debug/keybound-op, which serves www/flow.html itself) and against panva's
// oidc-provider (e2e/interop/provider.mjs, cross-origin, the app page on its own server):
//   login options  maxAge and acrValues: auth_time and acr checked, each refusal by its code, the
//                  options kept in the pending login across a reload
//   PAR            the authorization request pushed (RFC 9126) with a DPoP proof of the login's key
//                  (RFC 9449 §10.1), the redirect with client_id and request_uri only; the nonce
//                  retry, the par option, an OP that requires PAR, an OP that drops the binding
//   logout         the refresh token revoked with a proof by the session key (RFC 7009), the key
//                  and session gone in every tab, RP-Initiated Logout with id_token_hint and a
//                  state checked on return (single use); a failed revocation reported, not kept
// Every flow ends by checking the key binding: the ID Token's cnf.jwk is the login's key.
import * as crypto from 'node:crypto';
import { tests, assert, startOp, launchChromium, withFlowPage } from './lib.mjs';
import { startServer } from '../scripts/serve.mjs';
import { startProvider, CLIENT_ID } from './interop/provider.mjs';

const { test, finish } = tests(240000);
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
const ecThumbprint = (jwk) => crypto.createHash('sha256')
  .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
const nowSecs = () => Math.floor(Date.now() / 1000);

const op = await startOp();
const parOp = await startOp(['--par']);
const requireParOp = await startOp(['--require-par']);
const app = await startServer(0);
const appOrigin = `http://localhost:${app.port}`;
const panva = await startProvider({ port: 0, mode: 'keybinding', appOrigin });
const browser = await launchChromium();
const faultAt = (o, name) => fetch(`${o.origin}/_test/fault?name=${name}`).then((r) => assert(r.ok, `fault ${name}`));
const fault = (name) => faultAt(op, name);
const stats = async (o) => (await fetch(`${o.origin}/_test/stats`)).json();
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

/** Records the login's requests: each POST to a PAR endpoint (headers, form) and each authorization URL. */
function watch(page) {
  const seen = { pushes: [], authorize: [] };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (r.method() === 'POST' && /\/(par|request)$/.test(url.pathname)) {
      seen.pushes.push({ url: r.url(), dpop: r.headers().dpop, form: new URLSearchParams(r.postData() || '') });
    }
    if (r.isNavigationRequest() && /\/(authorize|auth)$/.test(url.pathname)) seen.authorize.push(url);
  });
  return seen;
}

/** The push of a key-bound login: the whole request in the body, a proof by the login's key at the PAR endpoint; the redirect names only client_id and request_uri. */
function assertPushed(seen, s, parEndpoint) {
  const push = seen.pushes.at(-1);
  assert(push, 'no pushed authorization request');
  assert(push.url === parEndpoint, `pushed to ${push.url}`);
  const form = push.form;
  assert(form.get('dpop_jkt') === s.jkt, `dpop_jkt ${form.get('dpop_jkt')}`);
  assert(form.get('scope').split(' ').includes('bound_key'), `scope ${form.get('scope')}`);
  for (const name of ['state', 'nonce', 'code_challenge', 'redirect_uri']) assert(form.get(name), `no ${name} in the push`);
  assert(form.get('code_challenge_method') === 'S256', 'PKCE S256');
  assert(push.dpop, 'no DPoP proof at the PAR endpoint');
  const [h, p] = [header(push.dpop), payload(push.dpop)];
  assert(h.typ === 'dpop+jwt' && ecThumbprint(h.jwk) === s.jkt, 'the PAR proof is not by the login\'s key');
  assert(p.htm === 'POST' && p.htu === parEndpoint && !('ath' in p) && !('c_s256' in p), `PAR proof claims ${JSON.stringify(p)}`);
  const authorize = seen.authorize.at(-1);
  assert(authorize, 'no authorization request');
  const names = [...authorize.searchParams.keys()].sort().join(',');
  assert(names === 'client_id,request_uri', `the authorization URL carries ${names}`);
}

/** flow.html in a fresh context, settled with no error (lib.mjs withFlowPage). */
const withPage = (url, fn) => withFlowPage(browser, url, fn);

/** The reference OP's form: alice / wonderland. */
async function refForm(page) {
  await page.waitForSelector('#username', { timeout: 20000 });
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  await page.click('#approve');
}

/** Clicks "Log in", gets through the OP's pages with `form` (refForm or panvaForms) and waits
 *  until the app page settled (signed in, or an error shown). */
async function logIn({ page, state }, form) {
  await page.click('#login');
  await form(page);
  await state(['ready', 'signed-in']);
}

/** oidc-provider's devInteractions login, then its consent. */
async function panvaForms(page) {
  await page.waitForSelector('input[name="login"]', { timeout: 20000 });
  await page.fill('input[name="login"]', 'alice');
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 20000 });
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => u.href.startsWith(`${appOrigin}/flow.html`), { timeout: 20000 });
}

/** The key binding at the end of a flow: a bound dpop+id_token whose cnf.jwk is the login's stored key. */
async function assertBound(page, s) {
  assert(s && s.bound === true, `not bound: ${JSON.stringify(s)}`);
  assert(header(s.idToken).typ === 'dpop+id_token', `typ ${header(s.idToken).typ}`);
  assert(ecThumbprint(s.claims.cnf.jwk) === s.jkt, 'cnf.jwk is not the session key');
  const stored = await page.evaluate(async (keyId) => {
    const { loadDPoPKeyPair } = await import('/pkg/keybound.js');
    return (await loadDPoPKeyPair(keyId)).jkt;
  }, s.keyId);
  assert(stored === s.jkt, `the stored key ${stored} is not the login's key ${s.jkt}`);
}

const refUrl = (query = {}) => `${op.origin}/flow.html?${new URLSearchParams(query)}`;
const panvaUrl = (query = {}) => `${appOrigin}/flow.html?${new URLSearchParams({
  issuer: panva.issuer, client_id: CLIENT_ID, scope: 'profile offline_access', binding: 'required', ...query,
})}`;
const ASK = { max_age: '0', acr_values: 'mfa pwd', require_acr: '1' };

try {
  await test('reference OP: maxAge 0 and required acrValues are sent, met and checked; the login stays bound', async () => {
    await withPage(refUrl(ASK), async ({ page, state, session, noError }) => {
      let authorize;
      page.on('request', (r) => { if (r.url().startsWith(`${op.origin}/authorize`)) authorize = new URL(r.url()); });
      await logIn({ page, state }, refForm);
      await noError();
      assert(authorize?.searchParams.get('max_age') === '0', `max_age sent: ${authorize}`);
      assert(authorize.searchParams.get('acr_values') === 'mfa pwd', `acr_values sent: ${authorize.searchParams.get('acr_values')}`);
      const s = await session();
      assert(s.claims.acr === 'mfa', `acr ${s.claims.acr}`);
      assert(Math.abs(s.claims.auth_time - nowSecs()) < 60, `auth_time ${s.claims.auth_time}`);
      await assertBound(page, s);
    });
  });

  for (const [name, query, code, check] of [
    ['auth_time_missing', { max_age: '600' }, 'ERR_ID_TOKEN_AUTH_TIME_MISSING', () => true],
    ['auth_time_old', { max_age: '600' }, 'ERR_ID_TOKEN_AUTH_TOO_OLD',
      (d) => d.maxAge === 600 && nowSecs() - d.authTime >= 3600 - 60],
    ['acr_other', ASK, 'ERR_ID_TOKEN_ACR_NOT_SATISFIED', (d) => d.acr === 'none'],
  ]) {
    await test(`reference OP fault ${name}: refused with ${code} when asked, accepted when not`, async () => {
      await fault(name);
      try {
        await withPage(refUrl(query), async ({ page, state, error, session }) => {
          await logIn({ page, state }, refForm);
          const e = await error();
          assert(e.code === code, `code ${e.code}: ${e.text}`);
          assert(check(e.detail), `structured fields ${JSON.stringify(e.detail)}`);
          assert((await session()) === null, 'a session was kept');
        });
        // The same answer for a login that asked for nothing is no refusal.
        await withPage(refUrl(), async ({ page, state, session, noError }) => {
          await logIn({ page, state }, refForm);
          await noError();
          await assertBound(page, await session());
        });
      } finally {
        await fault('');
      }
    });
  }

  await test('reference OP: what startLogin asked is kept in the pending login and checked by a client that was given nothing', async () => {
    await withPage(refUrl(), async ({ page, state, error }) => {
      const url = await page.evaluate(async () => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
        return (await c.startLogin({ maxAge: 0, acrValues: ['mfa'], requireAcr: true })).url;
      });
      assert(new URL(url).searchParams.get('acr_values') === 'mfa', url);
      // The record: version 2 with what was asked; a login that asks nothing stays version 1, and
      // a version this keybound does not know is refused with its code.
      const records = await page.evaluate(async (state) => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
        const db = await new Promise((resolve, reject) => { const r = indexedDB.open('keybound'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
        const tx = (mode) => db.transaction('pending', mode).objectStore('pending');
        const get = (key) => new Promise((resolve) => { const r = tx('readonly').get(key); r.onsuccess = () => resolve(JSON.parse(r.result)); });
        const asked = await get(new URL(state).searchParams.get('state'));
        const plain = await c.startLogin();
        const unasked = await get(plain.state);
        const future = await c.startLogin({ maxAge: 60 });
        const record = await get(future.state);
        await new Promise((resolve) => { const r = tx('readwrite').put(JSON.stringify({ ...record, v: 3 }), future.state); r.onsuccess = resolve; });
        db.close();
        let refused;
        try { await c.finishLogin(`${location.origin}/flow.html?code=c&state=${future.state}&iss=${encodeURIComponent(location.origin)}`); } catch (e) { refused = e.code; }
        return { asked, unasked, refused };
      }, url);
      const { asked, unasked, refused } = records;
      assert(asked.v === 2 && asked.max_age === 0 && asked.acr_values === 'mfa' && asked.require_acr === true, `record ${JSON.stringify(asked)}`);
      assert(unasked.v === 1 && unasked.max_age == null, `record ${JSON.stringify(unasked)}`);
      assert(refused === 'ERR_KEY_RECORD_INVALID', `a version 3 record: ${refused}`);
      await fault('acr_other');
      try {
        await page.reload();
        await state(['ready', 'signed-in']);
        await page.goto(url);
        await refForm(page);
        await state(['ready', 'signed-in']);
        const e = await error();
        assert(e.code === 'ERR_ID_TOKEN_ACR_NOT_SATISFIED' && e.detail.acr === 'none', `${e.code}: ${e.text}`);
      } finally {
        await fault('');
      }
    });
  });

  await test('login options are checked before anything is stored (ERR_INVALID_ARGUMENT naming the option)', async () => {
    await withPage(refUrl(), async ({ page }) => {
      const results = await page.evaluate(async () => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
        const out = [];
        for (const options of [{ maxAge: -1 }, { maxAge: 1.5 }, { maxAge: '60' }, { acrValues: ['a b'] }, { acrValues: '' }, { acrValues: 7 }, { requireAcr: true }, { requireAcr: 'yes', acrValues: 'x' }, 'max_age=0']) {
          try { await c.startLogin(options); out.push('accepted'); } catch (e) { out.push(`${e.code} ${e.argument}`); }
        }
        return out;
      });
      const want = ['maxAge', 'maxAge', 'maxAge', 'acrValues', 'acrValues', 'acrValues', 'requireAcr', 'requireAcr', 'options'].map((a) => `ERR_INVALID_ARGUMENT ${a}`);
      assert(JSON.stringify(results) === JSON.stringify(want), JSON.stringify(results));
    });
  });

  await test('oidc-provider: maxAge 0 gets a fresh auth_time, the login stays bound', async () => {
    await withPage(panvaUrl({ max_age: '0' }), async ({ page, state, session, noError }) => {
      await logIn({ page, state }, panvaForms);
      await noError();
      const s = await session();
      assert(typeof s.claims.auth_time === 'number' && Math.abs(s.claims.auth_time - nowSecs()) < 60, `auth_time ${s.claims.auth_time}`);
      await assertBound(page, s);
    });
  });

  await test('oidc-provider: an acr it does not state is refused when required (ERR_ID_TOKEN_ACR_NOT_SATISFIED), accepted when not', async () => {
    await withPage(panvaUrl({ acr_values: 'urn:keybound:mfa', require_acr: '1' }), async ({ page, state, error, session }) => {
      await logIn({ page, state }, panvaForms);
      const e = await error();
      assert(e.code === 'ERR_ID_TOKEN_ACR_NOT_SATISFIED', `${e.code}: ${e.text}`);
      assert((await session()) === null, 'a session was kept');
    });
    await withPage(panvaUrl({ acr_values: 'urn:keybound:mfa' }), async ({ page, state, session, noError }) => {
      await logIn({ page, state }, panvaForms);
      await noError();
      await assertBound(page, await session());
    });
  });
  await test('reference OP with PAR: pushed with a proof of the login\'s key, redirected with request_uri only, bound', async () => {
    const before = (await stats(parOp)).par_dpop_proofs;
    await withPage(`${parOp.origin}/flow.html`, async ({ page, state, session, noError }) => {
      const seen = watch(page);
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      assertPushed(seen, s, `${parOp.origin}/par`);
      assert(seen.pushes.length === 1, `${seen.pushes.length} pushes`);
      await assertBound(page, s);
      // The binding held through refresh too.
      await page.click('#refresh');
      await state(['refreshed']);
      await noError();
      const r = await session();
      assert(r.jkt === s.jkt, 'refresh changed the key');
      await assertBound(page, r);
    });
    assert((await stats(parOp)).par_dpop_proofs === before + 1, 'the OP did not see one push with a valid proof');
  });

  await test('reference OP with PAR: use_dpop_nonce at the PAR endpoint is retried once with a new proof', async () => {
    await faultAt(parOp, 'nonce_challenge');
    try {
      await withPage(`${parOp.origin}/flow.html`, async ({ page, state, session, noError }) => {
        const seen = watch(page);
        await logIn({ page, state }, refForm);
        await noError();
        const s = await session();
        assert(seen.pushes.length === 2, `${seen.pushes.length} pushes, want 2`);
        const [first, second] = seen.pushes.map((p) => payload(p.dpop));
        assert(!('nonce' in first) && typeof second.nonce === 'string' && first.jti !== second.jti, 'the retry has a new proof with the nonce');
        assertPushed(seen, s, `${parOp.origin}/par`);
        await assertBound(page, s);
      });
    } finally {
      await faultAt(parOp, '');
    }
  });

  await test('reference OP fault par_drops_binding: the unbound answer is refused (ERR_ID_TOKEN_UNBOUND)', async () => {
    await faultAt(parOp, 'par_drops_binding');
    try {
      await withPage(`${parOp.origin}/flow.html`, async ({ page, state, session, error }) => {
        await logIn({ page, state }, refForm);
        const e = await error();
        assert(e.code === 'ERR_ID_TOKEN_UNBOUND', `${e.code}: ${e.text}`);
        assert((await session()) === null, 'a session was kept');
      });
    } finally {
      await faultAt(parOp, '');
    }
  });

  await test('the par option: "never" redirects with the whole request, "always" and an OP that requires PAR are ERR_INVALID_ARGUMENT when they cannot be met', async () => {
    await withPage(`${parOp.origin}/flow.html?par=never`, async ({ page, state, session, noError }) => {
      const seen = watch(page);
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      assert(seen.pushes.length === 0, 'pushed under "never"');
      assert(seen.authorize.at(-1)?.searchParams.get('dpop_jkt') === s.jkt, 'the authorization URL carries dpop_jkt');
      await assertBound(page, s);
    });
    const refusals = async (origin, par) => withPage(`${origin}/flow.html`, async ({ page }) => {
      const got = await page.evaluate(async (p) => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, par: p });
        try { await c.startLogin(); return 'started'; } catch (e) { return `${e.code} ${e.argument}`; }
      }, par);
      assert(got === 'ERR_INVALID_ARGUMENT par', `${origin} par ${par}: ${got}`);
    });
    await refusals(op.origin, 'always');
    await refusals(requireParOp.origin, 'never');
    await withPage(`${requireParOp.origin}/flow.html`, async ({ page, state, session, noError }) => {
      const seen = watch(page);
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      assertPushed(seen, s, `${requireParOp.origin}/par`);
      await assertBound(page, s);
    });
  });

  await test('low-level PAR, as in the README: the push binds the OP\'s sign-in page to the key', async () => {
    await withPage(`${parOp.origin}/flow.html`, async ({ page }) => {
      const { url, jkt, body } = await page.evaluate(async () => {
        const { buildPushedAuthorizationRequest, processPushedAuthorizationResponse, buildPushedAuthorizationUrl,
          createDPoPProof, generateDPoPKeyPair, generateRandomCodeVerifier, calculatePKCECodeChallenge } = await import('/pkg/keybound.js');
        const meta = await (await fetch(`${location.origin}/.well-known/openid-configuration`)).json();
        const parEndpoint = meta.pushed_authorization_request_endpoint;
        const key = await generateDPoPKeyPair();
        const verifier = generateRandomCodeVerifier();
        const params = { authorizationEndpoint: meta.authorization_endpoint, clientId: 'keybound-demo',
          redirectUri: `${location.origin}/flow.html`, scope: 'offline_access',
          state: generateRandomCodeVerifier(), nonce: generateRandomCodeVerifier(),
          codeChallenge: calculatePKCECodeChallenge(verifier), dpopJkt: key.jkt, parEndpoint };
        const dpopProof = await createDPoPProof(key, { htm: 'POST', htu: parEndpoint });
        const req = buildPushedAuthorizationRequest({ ...params, dpopProof });
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
        const { requestUri } = processPushedAuthorizationResponse({ status: res.status,
          contentType: res.headers.get('content-type'), dpopNonce: res.headers.get('dpop-nonce'), body: await res.text() });
        // A second push with the same (single-use) proof is refused with its code.
        const again = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
        let refused;
        try {
          processPushedAuthorizationResponse({ status: again.status, contentType: again.headers.get('content-type'), body: await again.text() });
        } catch (e) { refused = `${e.code} ${e.error}`; }
        return { url: buildPushedAuthorizationUrl({ authorizationEndpoint: meta.authorization_endpoint, clientId: 'keybound-demo', requestUri }), jkt: key.jkt, body: refused };
      });
      assert(body === 'ERR_OAUTH_ERROR invalid_dpop_proof', `a replayed PAR proof: ${body}`);
      assert([...new URL(url).searchParams.keys()].sort().join(',') === 'client_id,request_uri', url);
      await page.goto(url);
      assert((await page.textContent('#jkt')) === jkt, 'the OP\'s sign-in page does not name the key');
    });
  });

  await test('oidc-provider: PAR with a DPoP proof of the login\'s key, redirected with request_uri only, bound', async () => {
    const checked = panva.stats.cS256Checked;
    await withPage(panvaUrl(), async ({ page, state, session, noError }) => {
      const seen = watch(page);
      await logIn({ page, state }, panvaForms);
      await noError();
      const s = await session();
      assertPushed(seen, s, `${panva.issuer}/request`);
      assert(panva.stats.cS256Checked === checked + 1, 'c_s256 was not checked at the token endpoint');
      await assertBound(page, s);
    });
  });
  /** Logs out through flow.html's button and waits for the post-logout page; returns what logout reported and the requests seen. */
  async function logOut(page, state) {
    const seen = { revocations: [], endSession: [] };
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (r.method() === 'POST' && /\/(revoke|token\/revocation)$/.test(url.pathname)) {
        seen.revocations.push({ url: r.url(), dpop: r.headers().dpop, form: new URLSearchParams(r.postData() || '') });
      }
      if (r.isNavigationRequest() && /\/(end_session|session\/end)$/.test(url.pathname)) seen.endSession.push(url);
      if (r.isNavigationRequest() && url.pathname === '/flow.html' && url.searchParams.has('state')) seen.landing = r.url();
    });
    await page.click('#logout');
    return seen;
  }
  const loggedOut = (page) => page.waitForFunction(() => document.body?.dataset.loggedOut === '1' || document.body?.dataset.state === 'error', null, { timeout: 20000 });

  await test('logout: the refresh token revoked with a proof by the session key, key and session gone in every tab, end-session with id_token_hint, state checked once', async () => {
    const before = await stats(op);
    await withPage(refUrl(), async ({ page, state, session, noError, error }) => {
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      await assertBound(page, s);
      const other = await page.context().newPage();
      await other.goto(`${op.origin}/flow.html`);
      await other.waitForFunction(() => ['signed-in', 'error'].includes(document.body?.dataset.state), null, { timeout: 20000 });
      const seen = await logOut(page);
      await loggedOut(page);
      await noError();
      const report = JSON.parse(await page.evaluate(() => sessionStorage.getItem('kb-logout')));
      assert(report.revoked === true && !report.revocationError, `logout reported ${JSON.stringify(report)}`);
      // The revocation: the refresh token, with a proof by the session key at the revocation endpoint.
      const rev = seen.revocations[0];
      assert(seen.revocations.length === 1 && rev.form.get('token_type_hint') === 'refresh_token' && rev.form.get('client_id') === 'keybound-demo', 'revocation request');
      assert(rev.dpop && ecThumbprint(header(rev.dpop).jwk) === s.jkt, 'the revocation proof is not by the session key');
      assert(payload(rev.dpop).htu === `${op.origin}/revoke` && payload(rev.dpop).htm === 'POST', 'revocation proof htm/htu');
      // RP-Initiated Logout: id_token_hint, client_id, post_logout_redirect_uri, state.
      const end = seen.endSession[0];
      assert(end && end.searchParams.get('id_token_hint') === s.idToken && end.searchParams.get('client_id') === 'keybound-demo', `end-session ${end}`);
      assert(end.searchParams.get('post_logout_redirect_uri') === `${op.origin}/flow.html` && end.searchParams.get('state') === report.state, 'post_logout_redirect_uri and state');
      const after = await stats(op);
      assert(after.revocations === before.revocations + 1 && after.end_sessions === before.end_sessions + 1, `OP stats ${JSON.stringify(after)}`);
      // Gone here, in the other tab (it kept the session in memory), and the key with it.
      assert((await session()) === null, 'a session is left');
      const keyGone = await page.evaluate(async (keyId) => {
        const { loadDPoPKeyPair } = await import('/pkg/keybound.js');
        try { await loadDPoPKeyPair(keyId); return 'found'; } catch (e) { return e.code; }
      }, s.keyId);
      assert(keyGone === 'ERR_KEY_NOT_FOUND', `the key: ${keyGone}`);
      await other.click('#userinfo');
      await other.waitForFunction(() => document.body?.dataset.state === 'error', null, { timeout: 20000 });
      assert((await other.getAttribute('#error', 'data-code')) === 'ERR_NO_SESSION', `the other tab: ${await other.textContent('#error')}`);
      // The state is single use, and a forged one is refused.
      for (const url of [seen.landing, `${op.origin}/flow.html?state=forged`]) {
        await page.goto(url);
        await state(['ready', 'signed-in']);
        const e = await error();
        assert(e.code === 'ERR_STATE_MISMATCH', `${url}: ${e.code}`);
      }
    });
  });

  await test('logout with a failing revocation endpoint: the session is gone anyway, and the failure is reported', async () => {
    await fault('revocation_500');
    try {
      await withPage(refUrl(), async ({ page, state, session, noError }) => {
        await logIn({ page, state }, refForm);
        await noError();
        const s = await session();
        await logOut(page);
        await loggedOut(page);
        await noError();
        const report = JSON.parse(await page.evaluate(() => sessionStorage.getItem('kb-logout')));
        assert(report.revoked === false && report.revocationError === 'ERR_OAUTH_RESPONSE_INVALID', `logout reported ${JSON.stringify(report)}`);
        assert((await session()) === null, 'the session was kept');
        const keyGone = await page.evaluate(async (keyId) => {
          const { loadDPoPKeyPair } = await import('/pkg/keybound.js');
          try { await loadDPoPKeyPair(keyId); return 'found'; } catch (e) { return e.code; }
        }, s.keyId);
        assert(keyGone === 'ERR_KEY_NOT_FOUND', `the key: ${keyGone}`);
      });
    } finally {
      await fault('');
    }
  });

  await test('oidc-provider: logout revokes with a proof by the session key, ends the OP session, and the state comes back', async () => {
    await withPage(panvaUrl(), async ({ page, state, session, noError }) => {
      await logIn({ page, state }, panvaForms);
      await noError();
      const s = await session();
      await assertBound(page, s);
      const seen = await logOut(page);
      await page.waitForSelector('button[name="logout"]', { timeout: 20000 });
      await page.click('button[name="logout"]');
      await loggedOut(page);
      await noError();
      const report = JSON.parse(await page.evaluate(() => sessionStorage.getItem('kb-logout')));
      assert(report.revoked === true, `logout reported ${JSON.stringify(report)}`);
      const rev = seen.revocations[0];
      assert(rev && rev.url === `${panva.issuer}/token/revocation` && ecThumbprint(header(rev.dpop).jwk) === s.jkt, 'revocation with a proof by the session key');
      const end = seen.endSession[0];
      assert(end && end.searchParams.get('id_token_hint') === s.idToken && end.searchParams.get('state') === report.state, `end-session ${end}`);
      assert((await session()) === null, 'a session is left');
    });
  });

  await test('low-level revocation and end-session, as in the README: the access token revoked with a proof by its key, the state checked; bad input coded', async () => {
    const before = await stats(op);
    await withPage(refUrl(), async ({ page, state, session, noError }) => {
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      const got = await page.evaluate(async (s) => {
        const { buildRevocationRequest, processRevocationResponse, buildEndSessionUrl, createDPoPProof, loadDPoPKeyPair } = await import('/pkg/keybound.js');
        const meta = await (await fetch(`${location.origin}/.well-known/openid-configuration`)).json();
        const send = async (req) => {
          const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
          return { status: res.status, contentType: res.headers.get('content-type'), dpopNonce: res.headers.get('dpop-nonce'), body: await res.text() };
        };
        const codeOf = (f) => { try { f(); return 'no error'; } catch (e) { return `${e.code}${e.argument ? ` ${e.argument}` : ''}${e.error ? ` ${e.error}` : ''}`; } };
        const params = { revocationEndpoint: meta.revocation_endpoint, token: s.accessToken, tokenTypeHint: 'access_token', clientId: 'keybound-demo' };
        // Without a proof, the OP refuses to revoke a DPoP-bound token.
        const unproved = await send(buildRevocationRequest(params));
        const refusedWithoutProof = codeOf(() => processRevocationResponse(unproved));
        const key = await loadDPoPKeyPair(s.keyId);
        const req = buildRevocationRequest({ ...params, dpopProof: await createDPoPProof(key, { htm: 'POST', htu: meta.revocation_endpoint }) });
        processRevocationResponse(await send(req));
        const userinfo = await fetch(meta.userinfo_endpoint, { headers: { authorization: `DPoP ${s.accessToken}`,
          dpop: await createDPoPProof(key, { htm: 'GET', htu: meta.userinfo_endpoint, accessToken: s.accessToken }) } });
        const endSession = buildEndSessionUrl({ endSessionEndpoint: meta.end_session_endpoint, clientId: 'keybound-demo',
          idTokenHint: s.idToken, postLogoutRedirectUri: `${location.origin}/flow.html`, state: 'st-42' });
        return {
          headers: req.headers, body: req.body, refusedWithoutProof, userinfo: userinfo.status, endSession,
          badHint: codeOf(() => buildRevocationRequest({ ...params, tokenTypeHint: 'id_token' })),
          badEndpoint: codeOf(() => buildRevocationRequest({ ...params, revocationEndpoint: '/revoke' })),
          notAResponse: codeOf(() => processRevocationResponse({ status: 'ok', body: '' })),
          serverError: codeOf(() => processRevocationResponse({ status: 500, contentType: 'text/plain', body: 'internal error' })),
          stateAlone: codeOf(() => buildEndSessionUrl({ endSessionEndpoint: meta.end_session_endpoint, clientId: 'keybound-demo', state: 'x' })),
          badRedirect: codeOf(() => buildEndSessionUrl({ endSessionEndpoint: meta.end_session_endpoint, clientId: 'keybound-demo', postLogoutRedirectUri: 'javascript:alert(1)' })),
        };
      }, s);
      assert(got.refusedWithoutProof === 'ERR_OAUTH_ERROR invalid_dpop_proof', `without a proof: ${got.refusedWithoutProof}`);
      const proof = got.headers.dpop;
      assert(proof && ecThumbprint(header(proof).jwk) === s.jkt && payload(proof).htu === `${op.origin}/revoke`, 'the revocation proof');
      assert(new URLSearchParams(got.body).get('token_type_hint') === 'access_token', got.body);
      assert(got.userinfo === 401, `UserInfo with the revoked access token: ${got.userinfo}`);
      assert((await stats(op)).revocations === before.revocations + 1, 'the OP did not count one revocation');
      assert(got.badHint === 'ERR_INVALID_ARGUMENT tokenTypeHint', got.badHint);
      assert(got.badEndpoint === 'ERR_URL_INVALID', got.badEndpoint);
      assert(got.notAResponse === 'ERR_INVALID_ARGUMENT status', got.notAResponse);
      assert(got.serverError === 'ERR_OAUTH_RESPONSE_INVALID', got.serverError);
      assert(got.stateAlone === 'ERR_INVALID_ARGUMENT state', got.stateAlone);
      assert(got.badRedirect === 'ERR_URL_INVALID', got.badRedirect);
      // The OP sends the browser back with the state; the redirect is checked against it.
      const end = new URL(got.endSession);
      assert(end.searchParams.get('id_token_hint') === s.idToken && end.searchParams.get('state') === 'st-42', got.endSession);
      const back = (await fetch(got.endSession, { redirect: 'manual' })).headers.get('location');
      const checked = await page.evaluate(async (back) => {
        const { validateEndSessionResponse } = await import('/pkg/keybound.js');
        const codeOf = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
        return [codeOf(() => validateEndSessionResponse(back, { state: 'st-42' })), codeOf(() => validateEndSessionResponse(back, { state: 'st-43' })),
          codeOf(() => validateEndSessionResponse(`${back}&state=st-42`, { state: 'st-42' }))];
      }, back);
      assert(checked.join(' ') === 'ok ERR_STATE_MISMATCH ERR_OAUTH_RESPONSE_INVALID', `${back}: ${checked}`);
    });
  });

  /** Records the token endpoint's answers (their tokens) and the revocation requests of a page. */
  function watchTokens(page) {
    const seen = { answers: [], revocations: [] };
    page.on('response', async (r) => {
      if (r.request().method() === 'POST' && new URL(r.url()).pathname === '/token' && r.status() === 200) {
        seen.answers.push(await r.json().catch(() => ({})));
      }
    });
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/revoke') {
        seen.revocations.push({ dpop: r.headers().dpop, form: new URLSearchParams(r.postData() || '') });
      }
    });
    return seen;
  }
  /** A refresh grant with `rt` straight from Node: the OP refuses a revoked refresh token before it looks for a proof. */
  const refreshAtOp = async (rt) => {
    const res = await fetch(`${op.origin}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: 'keybound-demo' }) });
    return `${res.status} ${(await res.json()).error}`;
  };

  await test('a login refused after the OP answered (unbound under required): its refresh and access tokens revoked with a proof of the login\'s key, revoked: true', async () => {
    const before = await stats(op);
    await fault('unbound');
    try {
      await withPage(refUrl(), async ({ page, state, error }) => {
        const seen = watchTokens(page);
        const asked = watch(page);
        await logIn({ page, state }, refForm);
        const e = await error();
        assert(e.code === 'ERR_ID_TOKEN_UNBOUND' && e.detail.revoked === true, `${e.code} ${JSON.stringify(e.detail)}: ${e.text}`);
        const answer = seen.answers[0];
        assert(answer?.refresh_token && answer.access_token, 'the OP issued no refresh token');
        const hints = seen.revocations.map((r) => `${r.form.get('token_type_hint')}=${r.form.get('token') === answer[r.form.get('token_type_hint')] ? 'the answer\'s' : 'another'}`);
        assert(hints.join(',') === 'refresh_token=the answer\'s,access_token=the answer\'s', `revoked: ${hints}`);
        const jkt = asked.authorize[0].searchParams.get('dpop_jkt');
        assert(jkt && seen.revocations.every((r) => ecThumbprint(header(r.dpop).jwk) === jkt && payload(r.dpop).htu === `${op.origin}/revoke`), 'the revocations are not proven by the login\'s key at the revocation endpoint');
        assert((await stats(op)).revocations === before.revocations + 2, 'the OP did not revoke both tokens');
        assert(await refreshAtOp(answer.refresh_token) === '400 invalid_grant', 'the refused answer\'s refresh token still works at the OP');
        assert((await page.textContent('#session')) === '', 'a session was stored');
      });
    } finally {
      await fault('');
    }
  });

  await test('a refresh refused after the OP answered (cnf of another key): the rotated refresh token and the access token revoked, revoked: true', async () => {
    await withPage(refUrl(), async ({ page, state, session, error, noError }) => {
      const seen = watchTokens(page);
      await logIn({ page, state }, refForm);
      await noError();
      const s = await session();
      const before = await stats(op);
      await fault('cnf_other_key');
      try {
        await page.click('#refresh');
        await state(['refreshed']);
      } finally {
        await fault('');
      }
      const e = await error();
      assert(e.code === 'ERR_ID_TOKEN_CNF_MISMATCH' && e.detail.revoked === true, `${e.code} ${JSON.stringify(e.detail)}: ${e.text}`);
      const answer = seen.answers[1];
      assert(answer?.refresh_token && answer.refresh_token !== seen.answers[0].refresh_token, 'the OP did not rotate the refresh token');
      assert(seen.revocations.map((r) => r.form.get('token')).join(',') === `${answer.refresh_token},${answer.access_token}`, 'not the refused answer\'s tokens');
      assert(seen.revocations.every((r) => ecThumbprint(header(r.dpop).jwk) === s.jkt), 'the revocations are not proven by the session key');
      assert((await stats(op)).revocations === before.revocations + 2, 'the OP did not revoke both tokens');
      assert(await refreshAtOp(answer.refresh_token) === '400 invalid_grant', 'the refused answer\'s refresh token still works at the OP');
    });
  });

  await test('a refused login whose revocation fails: the refusal says revoked: false', async () => {
    await fault('unbound');
    try {
      await withPage(refUrl(), async ({ page, state, error }) => {
        const seen = watchTokens(page);
        await page.route(`${op.origin}/revoke`, (route) => route.fulfill({ status: 503, contentType: 'text/plain', body: 'unavailable' }));
        await logIn({ page, state }, refForm);
        const e = await error();
        assert(e.code === 'ERR_ID_TOKEN_UNBOUND' && e.detail.revoked === false, `${e.code} ${JSON.stringify(e.detail)}: ${e.text}`);
        assert(seen.revocations.length === 2, `${seen.revocations.length} revocation requests`);
      });
    } finally {
      await fault('');
    }
  });
} finally {
  await browser.close();
  op.proc.kill();
  parOp.proc.kill();
  requireParOp.proc.kill();
  await Promise.allSettled([app.close(), panva.close()]);
}
finish();
