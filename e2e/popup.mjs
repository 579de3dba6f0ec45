// Popup login (issue 14), end to end in headless Chromium: `client.loginPopup()` opens the OP in a
// popup, the redirect page (www/flow.html, in the popup) calls KeyBoundClient.handlePopupCallback(),
// which hands the callback to the opener, and the opener finishes the login with finishLogin's
// checks. Against the reference OP (which serves flow.html itself) and panva's oidc-provider
// (the app on its own origin). The refusals: a blocked popup (open() gave null), a popup closed
// by the user, a timeout; each with its code, and the pending login, its popup mark and its key
// gone; the same for an aborted signal. Every success ends by checking the key binding (cnf.jwk
// is the login's key).
import * as crypto from 'node:crypto';
import { tests, assert, startOp, launchChromium, withFlowPage } from './lib.mjs';
import { startServer } from '../scripts/serve.mjs';
import { startProvider, CLIENT_ID } from './interop/provider.mjs';

const { test, finish, cleanup } = tests(180000);
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'));
const ecThumbprint = (jwk) => crypto.createHash('sha256')
  .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');

const op = await startOp();
cleanup(() => op.proc.kill());
const app = await startServer(0);
cleanup(() => app.close());
const appOrigin = `http://localhost:${app.port}`;
const panva = await startProvider({ port: 0, mode: 'keybinding', appOrigin });
cleanup(() => panva.close());
const browser = await launchChromium();
cleanup(() => browser.close());

const refUrl = (query = {}) => `${op.origin}/flow.html?${new URLSearchParams(query)}`;
const panvaUrl = (query = {}) => `${appOrigin}/flow.html?${new URLSearchParams({
  issuer: panva.issuer, client_id: CLIENT_ID, scope: 'profile offline_access', binding: 'required', ...query,
})}`;

/** What the origin's IndexedDB holds of logins: pending records (and popup marks) and login keys. */
const leftovers = (page) => page.evaluate(async () => {
  const db = await new Promise((resolve, reject) => { const r = indexedDB.open('keybound'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const keys = (store) => new Promise((resolve) => { const r = db.transaction(store, 'readonly').objectStore(store).getAllKeys(); r.onsuccess = () => resolve(r.result.map(String)); });
  const out = { pending: await keys('pending'), loginKeys: (await keys('keys')).filter((k) => k.startsWith('login:')) };
  db.close();
  return out;
});

/** flow.html in a fresh context (lib.mjs withFlowPage), plus `openPopup`: clicks "Log in in a popup" and resolves to the popup page. */
const withPage = (url, fn) => withFlowPage(browser, url, (h) => fn({
  ...h,
  openPopup: async () => {
    const popup = h.context.waitForEvent('page', { timeout: 20000 });
    await h.page.click('#login-popup');
    return popup;
  },
}), { clean: false });

/** A bound session whose cnf.jwk is the login's stored key. */
async function assertBound(page, s) {
  assert(s && s.bound === true, `not bound: ${JSON.stringify(s)}`);
  assert(part(s.idToken, 0).typ === 'dpop+id_token', 'typ');
  assert(ecThumbprint(s.claims.cnf.jwk) === s.jkt, 'cnf.jwk is not the session key');
  const stored = await page.evaluate(async (keyId) => (await (await import('/pkg/keybound.js')).loadDPoPKeyPair(keyId)).jkt, s.keyId);
  assert(stored === s.jkt, `the stored key ${stored} is not the login's key ${s.jkt}`);
}

async function assertNothingLeft(page) {
  const left = await leftovers(page);
  assert(left.pending.length === 0, `pending records left: ${left.pending.join(', ')}`);
  assert(left.loginKeys.length === 0, `login keys left: ${left.loginKeys.join(', ')}`);
}

try {
  await test('reference OP: the popup signs in, hands the callback back, closes; the opener finishes a bound login', async () => {
    await withPage(refUrl(), async ({ page, state, session, openPopup }) => {
      const popup = await openPopup();
      await popup.waitForSelector('#username', { timeout: 20000 });
      await popup.fill('#username', 'alice');
      await popup.fill('#password', 'wonderland');
      const closed = popup.waitForEvent('close', { timeout: 20000 });
      await popup.click('#approve');
      await closed;
      await state(['signed-in']);
      assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
      const s = await session();
      await assertBound(page, s);
      // Finished here: the opener never left its page, and nothing of the login is left over.
      assert(new URL(page.url()).searchParams.get('code') === null, page.url());
      const left = await leftovers(page);
      assert(left.pending.length === 0 && left.loginKeys.length === 1 && left.loginKeys[0] === s.keyId, `left: ${JSON.stringify(left)}`);
    });
  });

  await test('oidc-provider: a popup login across origins, bound to the login\'s key', async () => {
    await withPage(panvaUrl(), async ({ page, state, session, openPopup }) => {
      const popup = await openPopup();
      await popup.waitForSelector('input[name="login"]', { timeout: 20000 });
      await popup.fill('input[name="login"]', 'alice');
      await popup.fill('input[name="password"]', 'any password');
      await popup.click('button[type="submit"]');
      await popup.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 20000 });
      const closed = popup.waitForEvent('close', { timeout: 20000 });
      await popup.click('button[type="submit"]');
      await closed;
      await state(['signed-in']);
      assert(!(await page.textContent('#error')), `error: ${await page.textContent('#error')}`);
      const s = await session();
      assert(s.claims.iss === panva.issuer, `iss ${s.claims.iss}`);
      await assertBound(page, s);
      assert((await leftovers(page)).pending.length === 0, 'a pending record is left');
    });
  });

  await test('a blocked popup (open() gives null): ERR_POPUP_BLOCKED, nothing started', async () => {
    await withPage(refUrl(), async ({ page, context, state, error }) => {
      await page.evaluate(() => { window.open = () => null; });
      let opened = 0;
      context.on('page', () => { opened += 1; });
      await page.click('#login-popup');
      await state(['signed-in']);
      const e = await error();
      assert(e.code === 'ERR_POPUP_BLOCKED', `${e.code}: ${e.text}`);
      assert(opened === 0, 'a page was opened');
      await assertNothingLeft(page);
    });
  });

  await test('the user closes the popup: ERR_POPUP_CLOSED, the pending login and its key deleted', async () => {
    await withPage(refUrl(), async ({ page, state, error, openPopup }) => {
      const popup = await openPopup();
      await popup.waitForSelector('#username', { timeout: 20000 });
      assert((await leftovers(page)).pending.length === 2, 'the pending login and its popup mark were not stored');
      await popup.close();
      await state(['signed-in']);
      const e = await error();
      assert(e.code === 'ERR_POPUP_CLOSED', `${e.code}: ${e.text}`);
      await assertNothingLeft(page);
    });
  });

  await test('the popup does not come back in time: ERR_POPUP_TIMEOUT (with timeout), the popup closed, the pending login deleted', async () => {
    await withPage(refUrl({ popup_timeout: '1500' }), async ({ page, state, error, openPopup }) => {
      const popup = await openPopup();
      const closed = popup.waitForEvent('close', { timeout: 20000 });
      await state(['signed-in']);
      const e = await error();
      assert(e.code === 'ERR_POPUP_TIMEOUT' && e.detail.timeout === 1500, `${e.code}: ${e.text} ${JSON.stringify(e.detail)}`);
      await closed;
      await assertNothingLeft(page);
    });
  });

  await test('an aborted signal: ERR_CANCELLED, the popup closed, the pending login deleted', async () => {
    await withPage(refUrl(), async ({ page, context }) => {
      const opened = context.waitForEvent('page', { timeout: 20000 });
      const outcome = page.evaluate(async () => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
        const ac = new AbortController();
        window.abortPopupLogin = () => ac.abort();
        try { await c.loginPopup({ signal: ac.signal }); return 'resolved'; } catch (e) { return e.code; }
      });
      const popup = await opened;
      await popup.waitForSelector('#username', { timeout: 20000 });
      const closed = popup.waitForEvent('close', { timeout: 20000 });
      await page.evaluate(() => window.abortPopupLogin());
      const code = await outcome;
      assert(code === 'ERR_CANCELLED', code);
      await closed;
      await assertNothingLeft(page);
    });
  });

  await test('bad options are refused before a popup opens; a redirect callback is not taken for a popup\'s', async () => {
    await withPage(refUrl(), async ({ page, context }) => {
      let opened = 0;
      context.on('page', () => { opened += 1; });
      const got = await page.evaluate(async () => {
        const { KeyBoundClient } = await import('/pkg/keybound.js');
        const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
        const codeOf = (p) => p.then(() => 'resolved', (e) => `${e.code} ${e.argument}`);
        const { state } = await c.startLogin();
        return {
          timeout: await codeOf(c.loginPopup({ timeout: 0 })),
          signal: await codeOf(c.loginPopup({ signal: 'abort' })),
          maxAge: await codeOf(c.loginPopup({ maxAge: -1 })),
          // A redirect login's callback: not handed anywhere, left for finishLogin.
          redirect: await KeyBoundClient.handlePopupCallback(`${location.origin}/flow.html?code=c&state=${state}`),
          noState: await KeyBoundClient.handlePopupCallback(`${location.origin}/flow.html?code=c`),
        };
      });
      assert(got.timeout === 'ERR_INVALID_ARGUMENT timeout', got.timeout);
      assert(got.signal === 'ERR_INVALID_ARGUMENT signal', got.signal);
      assert(got.maxAge === 'ERR_INVALID_ARGUMENT maxAge', got.maxAge);
      assert(got.redirect === false && got.noState === false, JSON.stringify(got));
      assert(opened === 0, 'a popup was opened for refused options');
    });
  });

  await test('in a Worker: loginPopup is ERR_INVALID_ARGUMENT, handlePopupCallback false', async () => {
    await withPage(refUrl(), async ({ page }) => {
      const got = await page.evaluate(async () => {
        const src = `import init, { KeyBoundClient } from '${location.origin}/pkg/keybound.js';
          await init();
          const c = await KeyBoundClient.discover('${location.origin}', { clientId: 'keybound-demo', redirectUri: '${location.origin}/flow.html' });
          let code;
          try { await c.loginPopup(); code = 'resolved'; } catch (e) { code = e.code + ' ' + e.argument; }
          postMessage({ code, handed: await KeyBoundClient.handlePopupCallback('${location.origin}/flow.html?code=c&state=s') });`;
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        return new Promise((resolve, reject) => { w.onmessage = (e) => { w.terminate(); resolve(e.data); }; w.onerror = (e) => reject(new Error(e.message)); });
      });
      assert(got.code === 'ERR_INVALID_ARGUMENT loginPopup' && got.handed === false, JSON.stringify(got));
    });
  });
} catch (e) {
  console.log(`not ok - setup: ${e.stack || e}`);
}
await finish();
