// Interop end to end in headless Chromium: the app page (www/flow.html, served on its own origin)
// logs in at panva's oidc-provider (e2e/interop/provider.mjs), an OP we did not write. The OP is
// cross-origin, so its CORS is part of what is tested.
//   keybinding  oidc-provider with a Key Binding emulation: bound login, refresh, UserInfo (DPoP + ath)
//   nonce       the same with DPoP nonces required: one retry at the token endpoint and at UserInfo
//   plain       no Key Binding: binding "required" refuses the login, "preferred" accepts it unbound
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';
import { startProvider, version, PINNED, CLIENT_ID } from './interop/provider.mjs';

const results = [];
const test = async (name, fn) => {
  try { await fn(); results.push([name, null]); console.log(`ok - ${name}`); } catch (e) { results.push([name, e]); console.log(`not ok - ${name}: ${e.message}`); }
};
const assert = (cond, msg) => { if (!cond) throw new Error(msg); };
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

const servers = [];
let browser;
let closing;
const cleanup = () => (closing ||= Promise.allSettled([browser?.close(), ...servers.map((s) => s.close())]));
const timeout = setTimeout(async () => {
  console.log('e2e: timed out');
  await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(1);
}, 180000);

console.log(`interop peer: oidc-provider ${version}${version === PINNED ? '' : ` (the emulation is pinned to ${PINNED})`}`);

try {
  const app = await startServer(0);
  servers.push(app);
  const appOrigin = `http://localhost:${app.port}`;
  const ops = {};
  for (const mode of ['keybinding', 'nonce', 'plain']) {
    ops[mode] = await startProvider({ port: 0, mode, appOrigin });
    servers.push(ops[mode]);
  }

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  // Each test gets a fresh browser context (its own IndexedDB, sessionStorage and OP cookies).
  const withPage = async (op, binding, fn) => {
    const context = await browser.newContext();
    // Only localhost may be contacted (oidc-provider's login page links a web font).
    await context.route((url) => !['localhost', '127.0.0.1'].includes(url.hostname), (route) => route.abort('blockedbyclient'));
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const state = (want) => page.waitForFunction((w) => ['error', ...w].includes(document.body.dataset.state), want, { timeout: 20000 });
    const session = async () => JSON.parse((await page.textContent('#session')) || 'null');
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
    const query = new URLSearchParams({ issuer: op.issuer, client_id: CLIENT_ID, scope: 'profile email offline_access', binding });
    await page.goto(`${appOrigin}/flow.html?${query}`);
    await state(['ready', 'signed-in']);
    await noError();
    try {
      await fn({ page, state, session, errorText, errorCode, noError, signIn });
      assert(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join('; ')}`);
    } finally {
      await context.close();
    }
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

  await test('nonce: one use_dpop_nonce retry at the token endpoint, one 401 retry at UserInfo', async () => {
    const op = ops.nonce;
    await withPage(op, 'required', async ({ page, state, session, noError, signIn }) => {
      await signIn();
      await noError();
      const s = await session();
      assert(s && s.bound === true, `bound: ${JSON.stringify(s)}`);
      assert(op.stats.nonceChallenges.token === 1, `token endpoint nonce challenges: ${op.stats.nonceChallenges.token}`);
      assert(op.stats.cS256Checked === 1, 'c_s256 checked on the retried proof');

      // A reload drops the client's in-memory nonce: UserInfo is challenged (401) and retried once.
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

      // The nonce from the challenge is kept: a second call is not challenged again.
      await page.click('#userinfo');
      await state(['userinfo']);
      await noError();
      assert((await page.textContent('#result')).startsWith('UserInfo 200'), 'second UserInfo');
      assert(op.stats.nonceChallenges.userinfo === 1, `second UserInfo was challenged again (${op.stats.nonceChallenges.userinfo})`);

      // Refresh from a fresh page: challenged once (400) and retried.
      await page.reload();
      await state(['ready', 'signed-in']);
      const challenges = op.stats.nonceChallenges.token;
      await page.click('#refresh');
      await state(['refreshed']);
      await noError();
      assert((await session()).bound === true, 'refreshed session not bound');
      assert(op.stats.nonceChallenges.token === challenges + 1, `refresh nonce challenges: ${op.stats.nonceChallenges.token - challenges}`);
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
} catch (e) {
  results.push(['setup', e]);
  console.log(`not ok - setup: ${e.stack || e.message}`);
} finally {
  await cleanup();
  clearTimeout(timeout);
}
const failed = results.filter(([, e]) => e).length;
console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
