// Coordination across tabs and workers: ten concurrent refresh calls from three tabs make one
// refresh request at the OP; a DPoP nonce learned in one tab serves another; a browser clock
// several minutes off still logs in and refreshes; stored records of another version are
// discarded cleanly; an old database is upgraded with its keys.
import { assert, launchChromium, settled, signIn, startOp, tests } from './lib.mjs';

const { test, finish } = tests(150000);

const op = await startOp();
const stats = async () => (await fetch(`${op.origin}/_test/stats`)).json();
const fault = (name) => fetch(`${op.origin}/_test/fault?name=${name}`);
const browser = await launchChromium();
const refreshIn = (page, n) => page.evaluate(async (count) => {
  const { KeyBoundClient } = await import('/pkg/keybound.js');
  const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
  const out = await Promise.allSettled(Array.from({ length: count }, () => c.refresh()));
  return out.map((r) => (r.status === 'fulfilled' ? { ok: true, idToken: r.value.idToken } : { ok: false, code: r.reason.code }));
}, n);
// Concurrent callers: every tab discovers first, then all fire at one agreed instant (the tabs
// share this machine's clock), so no caller starts after another tab's refresh has finished.
const prepare = (page) => page.evaluate(async () => {
  const { KeyBoundClient } = await import('/pkg/keybound.js');
  window.__kbClient = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
});
const refreshAt = (page, n, at) => page.evaluate(async ({ count, at }) => {
  const c = window.__kbClient;
  await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
  const out = await Promise.allSettled(Array.from({ length: count }, () => c.refresh()));
  return out.map((r) => (r.status === 'fulfilled' ? { ok: true, idToken: r.value.idToken } : { ok: false, code: r.reason.code }));
}, { count: n, at });

try {
  const context = await browser.newContext();
  const tab1 = await context.newPage();
  const session = await signIn(tab1, op.origin);
  const tab2 = await context.newPage();
  const tab3 = await context.newPage();
  for (const t of [tab2, tab3]) { await t.goto(`${op.origin}/flow.html`); await settled(t); }

  await test('ten concurrent refresh calls from three tabs make exactly one refresh request', async () => {
    const before = (await stats()).refresh_grants;
    await Promise.all([tab1, tab2, tab3].map(prepare));
    const at = Date.now() + 400;
    const all = (await Promise.all([refreshAt(tab1, 3, at), refreshAt(tab2, 3, at), refreshAt(tab3, 4, at)])).flat();
    const after = (await stats()).refresh_grants;
    assert(all.length === 10 && all.every((r) => r.ok), JSON.stringify(all));
    assert(after - before === 1, `refresh requests at the OP: ${after - before}`);
    assert(new Set(all.map((r) => r.idToken)).size === 1, 'every caller got the one refreshed ID Token');
    assert(all[0].idToken !== session.idToken, 'it is a new ID Token');
  });

  await test('a DPoP nonce learned in one tab is used by another without a second challenge', async () => {
    await fault('nonce_challenge');
    try {
      const c0 = (await stats()).nonce_challenges;
      const r1 = await refreshIn(tab1, 1);
      const c1 = (await stats()).nonce_challenges;
      assert(r1[0].ok && c1 - c0 === 1, `tab 1: ${JSON.stringify(r1)}, challenges ${c1 - c0}`);
      const r2 = await refreshIn(tab2, 1);
      const c2 = (await stats()).nonce_challenges;
      assert(r2[0].ok, `tab 2: ${JSON.stringify(r2)}`);
      assert(c2 === c1, `tab 2 was challenged again (${c2 - c1})`);
    } finally { await fault(''); }
  });

  await test('a session stored by another version is discarded cleanly', async () => {
    const codes = await tab3.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
      const db = await new Promise((res, rej) => { const r = indexedDB.open('keybound'); r.onsuccess = () => res(r.result); r.onerror = rej; });
      await new Promise((res, rej) => {
        const tx = db.transaction('sessions', 'readwrite');
        tx.objectStore('sessions').put(JSON.stringify({ v: 99, key_id: 'nope', shape: 'from the future' }), `${location.origin} keybound-demo`);
        tx.oncomplete = res; tx.onerror = rej;
      });
      db.close();
      const first = await c.session().then(() => 'resolved', (e) => e.code);
      const second = await c.session();
      return { first, second };
    });
    assert(codes.first === 'ERR_KEY_RECORD_INVALID', `first read: ${codes.first}`);
    assert(codes.second === null, 'then no session');
  });
  await context.close();

  await test('a browser clock 7 minutes fast still logs in and refreshes', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.clock.setFixedTime(new Date(Date.now() + 7 * 60 * 1000));
    const s = await signIn(page, op.origin);
    assert(s.bound, 'bound');
    const r = await page.evaluate(async () => {
      const { KeyBoundClient } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
      const offset = c.clockOffset;
      const s2 = await c.refresh();
      return { offset, bound: s2.bound };
    });
    assert(r.offset <= -400 && r.offset >= -440, `clock offset ${r.offset}`);
    assert(r.bound, 'refreshed and bound');
    await ctx.close();
  });

  await test('a version-1 database is upgraded with its keys', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${op.origin}/flow.html`);
    await settled(page);
    const r = await page.evaluate(async () => {
      await new Promise((res) => { const d = indexedDB.deleteDatabase('keybound'); d.onsuccess = d.onerror = d.onblocked = res; });
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const { calculateJwkThumbprint, loadDPoPKeyPair } = await import('/pkg/keybound.js');
      const jkt = calculateJwkThumbprint(await crypto.subtle.exportKey('jwk', pair.publicKey));
      const db = await new Promise((res, rej) => {
        const req = indexedDB.open('keybound', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('keys');
        req.onsuccess = () => res(req.result); req.onerror = rej;
      });
      await new Promise((res, rej) => {
        const tx = db.transaction('keys', 'readwrite');
        tx.objectStore('keys').put({ v: 1, keyPair: pair, jkt, createdAt: Date.now() }, 'legacy-key');
        tx.oncomplete = res; tx.onerror = rej;
      });
      db.close();
      const key = await loadDPoPKeyPair('legacy-key');
      const after = await new Promise((res) => { const q = indexedDB.open('keybound'); q.onsuccess = () => { const v = { version: q.result.version, stores: [...q.result.objectStoreNames] }; q.result.close(); res(v); }; });
      return { same: key.jkt === jkt, extractable: key.keyPair.privateKey.extractable, ...after };
    });
    assert(r.same && r.extractable === false, JSON.stringify(r));
    assert(r.version === 4 && ['keys', 'pending', 'sessions', 'nonces', 'passkeys'].every((s) => r.stores.includes(s)), JSON.stringify(r));
    await ctx.close();
  });
} finally {
  await browser.close();
  op.proc.kill();
}
finish();
