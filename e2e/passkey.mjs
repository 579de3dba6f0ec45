// Passkey-nonce binding (docs/profile.md §4) end to end in headless Chromium with a CDP virtual
// authenticator (ctap2, internal, resident keys, user verification, automatic presence):
//   - registerPasskey (ES256) and loadPasskey after a reload; the thumbprint recomputed in Node;
//   - salted, plain and dual-mode logins at the reference OP (reloads between the steps), the
//     authorization request's nonce recomputed in Node;
//   - signWithPasskey + verifyPasskey in the page and, on the same presentation, in Node (pkg/web
//     loaded with initSync); refresh keeps cnf, loses the nonce, and signing still verifies;
//   - a salted passkey login at panva's oidc-provider in `plain` mode (no key binding at all);
//   - every refusal of verifyPasskey asserted by its code.
// WebAuthn needs a host name: every page is on http://localhost:PORT (not 127.0.0.1).
//
//   node e2e/passkey.mjs            run the tests
//   node e2e/passkey.mjs --record   also rewrite tests/vectors/passkey_virtual.json from this run
import * as crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tests, assert, startOp, launchChromium, root } from './lib.mjs';
import { startServer } from '../scripts/serve.mjs';
import { startProvider, CLIENT_ID as INTEROP_CLIENT_ID } from './interop/provider.mjs';
import { initSync, KeyBoundConsumer } from '../pkg/web/keybound.js';

const RECORD = process.argv.includes('--record');
const VECTOR_FILE = `${root}tests/vectors/passkey_virtual.json`;
const { test, finish } = tests(115000);

// ---- Node-side recomputations (independent of the library) ----------------------------------
const sha256 = (...parts) => { const h = crypto.createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };
const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const unb64u = (text) => Buffer.from(text, 'base64url');
/** RFC 7638 thumbprint: the required members in lexicographic order, no whitespace. */
function thumbprint(jwk) {
  const members = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
  assert(members, `unsupported kty ${jwk.kty}`);
  return b64u(sha256(`{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`));
}
/** The salted commitment (docs/profile.md §4.1): SHA-256("kb-nonce-v1." || jkt || "." || salt). */
const saltedNonce = (jkt, salt) => b64u(sha256('kb-nonce-v1.', jkt, '.', unb64u(salt)));
/** The consumer request every passkey signature here is made for (verifyPasskey is told the same). */
const TARGET = { method: 'POST', url: 'https://api.example.com/v1/orders' };
/** The signing challenge: SHA-256 over the length-prefixed (u64 BE) domain, ID Token, message,
 *  nonce, method and URL (TARGET's URL is already in htu form). */
function signingChallenge(idToken, message, nonce, { method, url } = TARGET) {
  const parts = [Buffer.from('keybound-passkey-signature-v2'), Buffer.from(idToken), message, Buffer.from(nonce ?? ''), Buffer.from(method), Buffer.from(url)];
  const h = crypto.createHash('sha256');
  for (const p of parts) { const len = Buffer.alloc(8); len.writeBigUInt64BE(BigInt(p.length)); h.update(len); h.update(p); }
  return h.digest();
}
/** Whether a DER ECDSA P-256 signature's s is above n/2. */
function highS(derB64) {
  const der = unb64u(derB64);
  const rLen = der[3];
  const s = der.subarray(4 + rLen + 2).toString('hex').replace(/^00/, '').padStart(64, '0');
  return BigInt(`0x${s}`) > 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n;
}
const claimsOf = (jwt) => JSON.parse(unb64u(jwt.split('.')[1]));
const headerOf = (jwt) => JSON.parse(unb64u(jwt.split('.')[0]));
const clientData = (p) => JSON.parse(unb64u(p.clientDataJSON));
/** authenticatorData flags and sign count. */
const authData = (p) => { const d = unb64u(p.authenticatorData); return { flags: d[32], up: Boolean(d[32] & 1), uv: Boolean(d[32] & 4), count: d.readUInt32BE(33) }; };
/** Node's fetch resolves "localhost" by the OS; the servers listen on 127.0.0.1. */
const nodeUrl = (url) => url.replace('//localhost:', '//127.0.0.1:');
async function fetchJwks(issuer) {
  const meta = await (await fetch(nodeUrl(`${issuer}/.well-known/openid-configuration`))).json();
  assert(meta.issuer === issuer, `discovery issuer ${meta.issuer}`);
  return { jwksUri: meta.jwks_uri, jwks: await (await fetch(nodeUrl(meta.jwks_uri))).json() };
}

initSync({ module: readFileSync(new URL('../pkg/web/keybound_bg.wasm', import.meta.url)) });

// ---- Browser helpers --------------------------------------------------------------------------
/** A fresh context on `origin` with a virtual authenticator. The API page is the origin's own
 *  /flow.html (a real document from the loopback server: Chromium's local network access checks
 *  refuse cross-origin requests to localhost from a document Playwright made up) with its script
 *  replaced by an empty one, so nothing but this test drives the API, on the callback too. */
async function openPage(browser, origin) {
  const context = await browser.newContext();
  await context.route((url) => !['localhost', '127.0.0.1'].includes(url.hostname), (route) => route.abort('blockedbyclient'));
  await context.route((url) => url.origin === origin && url.pathname === '/flow.js',
    (route) => route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: '// replaced by e2e/passkey.mjs\n' }));
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true,
  } });
  await page.goto(`${origin}/flow.html`);
  await ready(page);
  return { context, page, cdp, authenticatorId, pageErrors };
}

/** Loads the package into the page as `window.kb` and defines small helpers there. */
async function ready(page) {
  await page.evaluate(async () => {
    const kb = await import('/pkg/keybound.js');
    await kb.default();
    window.kb = kb;
    // Runs fn and returns {ok, value} or {ok: false, code, message}: codes survive evaluate.
    window.kbTry = async (fn) => {
      try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, code: e.code || e.name, message: String(e.message) }; }
    };
  });
}

/** The result of a kbTry, or throws with the code. */
const unwrap = (r, what) => { if (!r.ok) throw new Error(`${what}: ${r.code}: ${r.message}`); return r.value; };

/** Runs `body` (an async function body with `client` and `arg`) in the page on a client discovered with `clientOpts`; returns its value. */
async function withClient(page, issuer, clientOpts, body, arg) {
  const r = await page.evaluate(async ([issuer, clientOpts, body, arg]) => window.kbTry(async () => {
    const client = await window.kb.KeyBoundClient.discover(issuer, clientOpts);
    // eslint-disable-next-line no-new-func
    return new Function('client', 'arg', `return (async () => { ${body} })();`)(client, arg);
  }), [issuer, clientOpts, body, arg]);
  return unwrap(r, body);
}

/** verifyPasskey in the page with a fresh consumer (unless `keep` names one to reuse), for the
 *  request TARGET unless the presentation names its own `method`/`url`. */
async function verifyInPage(page, consumerOpts, presentation, keep) {
  return page.evaluate(async ([consumerOpts, presentation, keep]) => {
    window.consumers ||= {};
    let consumer = keep && window.consumers[keep];
    if (!consumer) {
      const made = await window.kbTry(() => window.kb.KeyBoundConsumer.create(consumerOpts));
      if (!made.ok) return made;
      consumer = made.value;
      if (keep) window.consumers[keep] = consumer;
    }
    return window.kbTry(() => consumer.verifyPasskey(presentation));
  }, [consumerOpts, { ...TARGET, ...presentation }, keep]);
}

/** A WebAuthn assertion made by hand (for the refusals the client would never produce). */
async function rawAssertion(page, { credentialId, challenge, userVerification }) {
  return page.evaluate(async ([credentialId, challenge, userVerification]) => {
    const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    try {
      const cred = await navigator.credentials.get({ publicKey: {
        challenge: unb64(challenge), rpId: 'localhost', userVerification, timeout: 10000,
        allowCredentials: [{ type: 'public-key', id: unb64(credentialId) }],
      } });
      return { ok: true, value: {
        authenticatorData: b64(cred.response.authenticatorData),
        clientDataJSON: b64(cred.response.clientDataJSON),
        signature: b64(cred.response.signature),
      } };
    } catch (e) { return { ok: false, code: e.name, message: e.message }; }
  }, [credentialId, challenge, userVerification]);
}

const expectCode = (r, code, what) => {
  assert(!r.ok, `${what}: accepted, expected ${code}`);
  assert(r.code === code, `${what}: ${r.code} (${r.message}), expected ${code}`);
};

// ---- The run ------------------------------------------------------------------------------------
const closers = [];
let browser;
const times = {};
try {
  const op = await startOp();
  closers.push(() => op.proc.kill());
  const O = op.origin;
  const { jwks: refJwks } = await fetchJwks(O);
  browser = await launchChromium();
  const { page, cdp, authenticatorId, pageErrors } = await openPage(browser, O);
  const REF_CLIENT = { clientId: 'keybound-demo', redirectUri: `${O}/flow.html` };
  const refConsumer = (over = {}) => ({
    consumerId: 'page', issuers: [{ issuer: O, clientIds: ['keybound-demo'], jwks: refJwks }],
    // requireNonce: false here: these checks are about the commitment and the assertion; the
    // consumer-nonce requirement (the default) has its own test below.
    passkey: { origins: [O], rpId: 'localhost', requireUserVerification: true, requireNonce: false }, ...over,
  });

  let passkey; // the default passkey's public data
  let second; // a second passkey on the same authenticator
  const sessions = {}; // mode -> session
  const presentations = {}; // name -> presentation

  /** startLogin (→ authorization URL), optional reload, the OP's form, optional reload, finishLogin. */
  async function loginAtReferenceOp(clientOpts, { reloads }) {
    const t0 = performance.now();
    const start = await withClient(page, O, { ...REF_CLIENT, ...clientOpts }, 'return client.startLogin();');
    const auth = new URL(start.url).searchParams;
    if (reloads) { await page.reload(); await ready(page); }
    await page.goto(start.url);
    await page.waitForSelector('#username', { timeout: 20000 });
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland');
    await page.click('#approve');
    await page.waitForURL((u) => u.origin === O && u.pathname === '/flow.html', { timeout: 20000 });
    await ready(page);
    if (reloads) { await page.reload(); await ready(page); }
    const session = await withClient(page, O, { ...REF_CLIENT, ...clientOpts }, 'return client.finishLogin(arg);', page.url());
    const ms = performance.now() - t0;
    let stored = session;
    if (reloads) {
      await page.goto(`${O}/flow.html`);
      await ready(page);
      stored = await withClient(page, O, { ...REF_CLIENT, ...clientOpts }, 'return client.session();');
      assert(stored && stored.idToken === session.idToken, 'the session survives a reload');
      assert(JSON.stringify(stored.passkey) === JSON.stringify(session.passkey), `passkey binding after reload: ${JSON.stringify(stored.passkey)}`);
    } else {
      await page.goto(`${O}/flow.html`);
      await ready(page);
    }
    return { start, auth, session: stored, ms };
  }

  const sign = (clientOpts, message, nonce) => withClient(page, O, { ...REF_CLIENT, ...clientOpts },
    'return client.signWithPasskey(arg.message, arg.target);', { message, target: nonce === undefined ? TARGET : { ...TARGET, nonce } });

  await test('register a passkey (ES256, alg -7): its thumbprint recomputed in Node, loadPasskey finds it after a reload', async () => {
    const t0 = performance.now();
    passkey = unwrap(await page.evaluate(() => window.kbTry(() => window.kb.registerPasskey({ userName: 'alice' }))), 'registerPasskey');
    times.registration = performance.now() - t0;
    assert(passkey.alg === -7, `alg ${passkey.alg}`);
    assert(passkey.name === 'default' && passkey.rpId === 'localhost', `name/rpId ${passkey.name} ${passkey.rpId}`);
    assert(passkey.publicJwk.kty === 'EC' && passkey.publicJwk.crv === 'P-256', `jwk ${JSON.stringify(passkey.publicJwk)}`);
    assert(!('d' in passkey.publicJwk), 'no private member');
    assert(passkey.jkt === thumbprint(passkey.publicJwk), `jkt ${passkey.jkt} != Node's ${thumbprint(passkey.publicJwk)}`);
    const inPage = await page.evaluate((jwk) => window.kb.calculateJwkThumbprint(jwk), passkey.publicJwk);
    assert(inPage === passkey.jkt, 'calculateJwkThumbprint agrees');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials.length === 1 && credentials[0].isResidentCredential, `authenticator credentials ${JSON.stringify(credentials.map((c) => c.isResidentCredential))}`);
    assert(b64u(Buffer.from(credentials[0].credentialId, 'base64')) === passkey.credentialId, 'the stored credential id is the authenticator\'s');
    await page.reload();
    await ready(page);
    const loaded = unwrap(await page.evaluate(() => window.kbTry(() => window.kb.loadPasskey())), 'loadPasskey');
    assert(loaded.jkt === passkey.jkt && loaded.credentialId === passkey.credentialId, `loaded ${JSON.stringify(loaded)}`);
    const missing = await page.evaluate(() => window.kbTry(() => window.kb.loadPasskey('nope')));
    expectCode(missing, 'ERR_KEY_NOT_FOUND', 'loadPasskey of an unknown name');
    second = unwrap(await page.evaluate(() => window.kbTry(() => window.kb.registerPasskey({ userName: 'alice', name: 'second' }))), 'second passkey');
    assert(second.jkt !== passkey.jkt, 'two different passkeys');
  });

  await test('salted login (keyBinding false) at the reference OP, reloads between steps: nonce = SHA-256 commitment, not the thumbprint', async () => {
    const opts = { keyBinding: false, passkey: { mode: 'salted' } };
    const { auth, session, ms } = await loginAtReferenceOp(opts, { reloads: true });
    const nonce = auth.get('nonce');
    assert(nonce && nonce !== passkey.jkt, 'the nonce is not the thumbprint');
    assert(!auth.has('dpop_jkt') && !auth.get('scope').split(' ').includes('bound_key'), `no key binding asked: ${auth}`);
    assert(session.passkey && session.passkey.mode === 'salted' && session.passkey.name === 'default', `passkey ${JSON.stringify(session.passkey)}`);
    assert(session.passkey.jkt === passkey.jkt, 'the session names the passkey');
    assert(typeof session.passkey.salt === 'string' && unb64u(session.passkey.salt).length === 32, `salt ${session.passkey.salt}`);
    assert(nonce === saltedNonce(passkey.jkt, session.passkey.salt), `nonce ${nonce} != Node's commitment ${saltedNonce(passkey.jkt, session.passkey.salt)}`);
    assert(session.claims.nonce === nonce, 'the OP echoed the nonce');
    assert(session.bound === false, `bound ${session.bound}`);
    assert(!session.claims.cnf, 'no cnf');
    sessions.salted = session;
    times.saltedLoginWithReloads = ms;
  });

  await test('signWithPasskey + verifyPasskey in the page, and the same presentation verified in Node', async () => {
    const opts = { keyBinding: false, passkey: { mode: 'salted' } };
    const t0 = performance.now();
    let p = await sign(opts, 'transfer 10 EUR to bob', 'consumer-nonce-1');
    times.sign = performance.now() - t0;
    // The vector keeps a high-S signature (tests/passkey_vectors.rs shows real authenticators make
    // them): when recording, sign again until ECDSA's random k gives one (about one in two).
    for (let i = 0; RECORD && !highS(p.signature) && i < 16; i++) p = await sign(opts, 'transfer 10 EUR to bob', 'consumer-nonce-1');
    assert(p.idToken === sessions.salted.idToken && p.mode === 'salted' && p.salt === sessions.salted.passkey.salt, 'the login ID Token, mode and salt');
    assert(p.credentialId === passkey.credentialId && thumbprint(p.publicJwk) === passkey.jkt, 'the passkey');
    assert(unb64u(p.message).toString() === 'transfer 10 EUR to bob' && p.nonce === 'consumer-nonce-1', 'message and nonce');
    const cd = clientData(p);
    assert(cd.type === 'webauthn.get' && cd.origin === O, `clientData ${JSON.stringify(cd)}`);
    assert(cd.challenge === b64u(signingChallenge(p.idToken, unb64u(p.message), p.nonce)), 'the challenge recomputed in Node');
    const ad = authData(p);
    assert(ad.up && ad.uv, `flags ${ad.flags}`);
    presentations.salted = p;
    const r = unwrap(await verifyInPage(page, refConsumer(), p), 'verifyPasskey');
    assert(r.passkeyJkt === passkey.jkt && r.claims.sub === sessions.salted.claims.sub && r.signCount === ad.count, `accepted ${JSON.stringify(r)}`);
    // Node: the web build with initSync (as examples/node-consumer.mjs), WebCrypto from Node.
    const nodeConsumer = await KeyBoundConsumer.create(refConsumer({ consumerId: 'node' }));
    const n = await nodeConsumer.verifyPasskey({ ...p, ...TARGET });
    assert(n.passkeyJkt === passkey.jkt && n.claims.sub === r.claims.sub && n.signCount === ad.count, `Node accepted ${JSON.stringify(n)}`);
    if (RECORD) {
      const claims = claimsOf(p.idToken);
      const vector = {
        description: 'One passkey presentation from Chromium\'s CDP virtual authenticator (ctap2, internal, UV) after a salted passkey login (keyBinding false) at the reference OP; recorded by `node e2e/passkey.mjs --record`.',
        issuer: O, jwks: refJwks, client_id: 'keybound-demo', id_token: p.idToken, public_jwk: p.publicJwk, credential_id: p.credentialId,
        mode: p.mode, salt: p.salt, message: p.message, nonce: p.nonce, htm: TARGET.method, htu: TARGET.url,
        authenticator_data: p.authenticatorData, client_data_json: p.clientDataJSON, signature: p.signature,
        origin: O, rp_id: 'localhost', require_user_verification: true, now: claims.iat + 5,
        expected: { sub: claims.sub, passkey_jkt: passkey.jkt, sign_count: ad.count },
      };
      writeFileSync(VECTOR_FILE, `${JSON.stringify(vector, null, 2)}\n`);
      console.log(`# recorded ${VECTOR_FILE}`);
    }
  });

  // The refusals, each with its code (on the salted presentation above; fresh consumers).
  await test('refused: wrong salt (ERR_PASSKEY_NONCE_MISMATCH)', async () => {
    expectCode(await verifyInPage(page, refConsumer(), { ...presentations.salted, salt: b64u(crypto.randomBytes(32)) }), 'ERR_PASSKEY_NONCE_MISMATCH', 'wrong salt');
  });

  await test('plain login: the nonce is the passkey\'s thumbprint; sign + verify accepted', async () => {
    const opts = { keyBinding: false, passkey: { mode: 'plain' } };
    const { auth, session, ms } = await loginAtReferenceOp(opts, { reloads: false });
    times.plainLogin = ms;
    assert(auth.get('nonce') === passkey.jkt, `nonce ${auth.get('nonce')} != jkt ${passkey.jkt}`);
    assert(session.passkey.mode === 'plain' && session.passkey.salt === null, `passkey ${JSON.stringify(session.passkey)}`);
    assert(session.claims.nonce === passkey.jkt && session.bound === false, 'echoed, unbound');
    sessions.plain = session;
    const p = await sign(opts, 'plain message');
    assert(p.mode === 'plain' && p.salt === null && p.nonce === null, 'plain presentation');
    presentations.plain = p;
    unwrap(await verifyInPage(page, refConsumer(), p), 'verifyPasskey plain');
  });

  await test('refused: plain-vs-salted confusion, both ways (ERR_PASSKEY_NONCE_MISMATCH)', async () => {
    const s = presentations.salted;
    const pl = presentations.plain;
    expectCode(await verifyInPage(page, refConsumer(), { ...s, mode: 'plain', salt: null }), 'ERR_PASSKEY_NONCE_MISMATCH', 'salted session presented as plain');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, mode: 'plain' }), 'ERR_PASSKEY_NONCE_MISMATCH', 'salted session presented as plain, salt kept');
    expectCode(await verifyInPage(page, refConsumer(), { ...pl, mode: 'salted', salt: s.salt }), 'ERR_PASSKEY_NONCE_MISMATCH', 'plain session presented as salted');
    expectCode(await verifyInPage(page, refConsumer(), { ...pl, mode: 'salted', salt: null }), 'ERR_PASSKEY_NONCE_MISMATCH', 'plain session presented as salted, no salt');
  });

  await test('refused: assertion for another challenge (message or nonce changed after signing: ERR_WEBAUTHN_CHALLENGE)', async () => {
    const s = presentations.salted;
    expectCode(await verifyInPage(page, refConsumer(), { ...s, message: b64u('transfer 10000 EUR to eve') }), 'ERR_WEBAUTHN_CHALLENGE', 'another message');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, nonce: 'consumer-nonce-2' }), 'ERR_WEBAUTHN_CHALLENGE', 'another consumer nonce');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, nonce: null }), 'ERR_WEBAUTHN_CHALLENGE', 'consumer nonce dropped');
  });

  await test('refused: the assertion presented at another endpoint or with another method (ERR_WEBAUTHN_CHALLENGE); the consumer\'s method and URL are required', async () => {
    const s = presentations.salted;
    unwrap(await verifyInPage(page, refConsumer(), { ...s, url: `${TARGET.url}?page=2#top` }), 'the same endpoint with a query');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, url: 'https://api.example.com/v1/refunds' }), 'ERR_WEBAUTHN_CHALLENGE', 'another path');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, url: 'https://evil.example.com/v1/orders' }), 'ERR_WEBAUTHN_CHALLENGE', 'another host');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, method: 'DELETE' }), 'ERR_WEBAUTHN_CHALLENGE', 'another method');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, url: undefined }), 'ERR_INVALID_ARGUMENT', 'no url');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, url: '/v1/orders' }), 'ERR_URL_INVALID', 'a relative url');
    // The client refuses to sign for no request, before asking the user.
    const noTarget = await page.evaluate(async ([issuer, opts]) => window.kbTry(async () => {
      const c = await window.kb.KeyBoundClient.discover(issuer, opts);
      return c.signWithPasskey('no target', { nonce: 'n' });
    }), [O, { ...REF_CLIENT, keyBinding: false, passkey: { mode: 'salted' } }]);
    expectCode(noTarget, 'ERR_INVALID_ARGUMENT', 'signWithPasskey without method and url');
  });

  await test('refused: wrong origin (ERR_WEBAUTHN_ORIGIN) and wrong rpId (ERR_WEBAUTHN_RP_ID)', async () => {
    const s = presentations.salted;
    expectCode(await verifyInPage(page, refConsumer({ passkey: { origins: ['http://localhost:1'], rpId: 'localhost', requireNonce: false } }), s), 'ERR_WEBAUTHN_ORIGIN', 'another origin');
    expectCode(await verifyInPage(page, refConsumer({ passkey: { origins: [O.replace('localhost', '127.0.0.1')], rpId: 'localhost', requireNonce: false } }), s), 'ERR_WEBAUTHN_ORIGIN', 'the same server by IP');
    expectCode(await verifyInPage(page, refConsumer({ passkey: { origins: [O], rpId: 'example.com', requireNonce: false } }), s), 'ERR_WEBAUTHN_RP_ID', 'rpId example.com');
  });

  await test('refused: signature corrupted (last byte: ERR_JWS_SIGNATURE_INVALID; DER tag: ERR_WEBAUTHN_INVALID), clientDataJSON tampered (ERR_JWS_SIGNATURE_INVALID)', async () => {
    const s = presentations.salted;
    const sig = unb64u(s.signature);
    const last = Buffer.from(sig); last[last.length - 1] ^= 0x01; // s changes, DER stays well-formed
    expectCode(await verifyInPage(page, refConsumer(), { ...s, signature: b64u(last) }), 'ERR_JWS_SIGNATURE_INVALID', 'last signature byte flipped');
    const tag = Buffer.from(sig); tag[0] ^= 0x01; // SEQUENCE tag 0x30 → 0x31: not DER
    expectCode(await verifyInPage(page, refConsumer(), { ...s, signature: b64u(tag) }), 'ERR_WEBAUTHN_INVALID', 'DER tag flipped');
    // clientDataJSON with one extra member: type, challenge and origin still right, the signature no longer.
    const cd = clientData(s);
    expectCode(await verifyInPage(page, refConsumer(), { ...s, clientDataJSON: b64u(JSON.stringify({ ...cd, extra: 'x' })) }), 'ERR_JWS_SIGNATURE_INVALID', 'clientDataJSON tampered');
    // authenticatorData with UV cleared: the flags are signed too.
    const ad = unb64u(s.authenticatorData); ad[32] &= ~0x04;
    expectCode(await verifyInPage(page, refConsumer({ passkey: { origins: [O], rpId: 'localhost', requireUserVerification: false, requireNonce: false } }), { ...s, authenticatorData: b64u(ad) }), 'ERR_JWS_SIGNATURE_INVALID', 'authenticatorData tampered');
  });

  await test('refused: signature by another key (another passkey\'s public key fails the nonce first; an assertion by the second passkey under the first one\'s key fails the signature)', async () => {
    const s = presentations.salted;
    // Swap in the second passkey's key: the ID Token's nonce commits to the first one.
    expectCode(await verifyInPage(page, refConsumer(), { ...s, publicJwk: second.publicJwk }), 'ERR_PASSKEY_NONCE_MISMATCH', 'second passkey\'s key');
    // The second passkey signs exactly the right challenge; presented with the first passkey's key.
    const challenge = b64u(signingChallenge(s.idToken, unb64u(s.message), s.nonce));
    const a = unwrap(await rawAssertion(page, { credentialId: second.credentialId, challenge, userVerification: 'required' }), 'assertion by the second passkey');
    assert(clientData(a).challenge === challenge, 'same challenge');
    expectCode(await verifyInPage(page, refConsumer(), { ...s, ...a }), 'ERR_JWS_SIGNATURE_INVALID', 'assertion by another key');
    // Control: the same assertion with its own key fails only the nonce (the ID Token commits to the first passkey).
    expectCode(await verifyInPage(page, refConsumer(), { ...s, ...a, publicJwk: second.publicJwk }), 'ERR_PASSKEY_NONCE_MISMATCH', 'second passkey with its own key');
  });

  await test('refused: ID Token from another issuer (consumer accepts only another issuer: ERR_ISSUER_NOT_ACCEPTED)', async () => {
    const other = refConsumer({ issuers: [{ issuer: 'https://other.example', clientIds: ['keybound-demo'], jwks: refJwks }] });
    expectCode(await verifyInPage(page, other, presentations.salted), 'ERR_ISSUER_NOT_ACCEPTED', 'another issuer');
    const otherClient = refConsumer({ issuers: [{ issuer: O, clientIds: ['another-app'], jwks: refJwks }] });
    expectCode(await verifyInPage(page, otherClient, presentations.salted), 'ERR_ID_TOKEN_AUD_MISMATCH', 'another client');
  });

  await test('user verification missing: WebAuthn.setUserVerified(false), consumer requires UV (ERR_WEBAUTHN_USER_VERIFICATION)', async () => {
    const s = presentations.salted;
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    try {
      // signWithPasskey asks for userVerification "required": the authenticator cannot verify now.
      const viaClient = await page.evaluate(async ([issuer, opts, target]) => window.kbTry(async () => {
        const c = await window.kb.KeyBoundClient.discover(issuer, opts);
        return c.signWithPasskey('needs UV', { ...target, nonce: 'n-uv' });
      }), [O, { ...REF_CLIENT, keyBinding: false, passkey: { mode: 'plain' } }, TARGET]);
      assert(!viaClient.ok, 'signWithPasskey succeeded without user verification');
      console.log(`# signWithPasskey with isUserVerified=false: ${viaClient.code}: ${viaClient.message}`);
      // An assertion with UV "discouraged" is made without UV (flag clear).
      const challenge = b64u(signingChallenge(s.idToken, unb64u(s.message), s.nonce));
      const a = unwrap(await rawAssertion(page, { credentialId: passkey.credentialId, challenge, userVerification: 'discouraged' }), 'assertion without UV');
      const ad = authData(a);
      assert(ad.up && !ad.uv, `flags ${ad.flags}`);
      expectCode(await verifyInPage(page, refConsumer(), { ...s, ...a }), 'ERR_WEBAUTHN_USER_VERIFICATION', 'UV required');
      // Control: a consumer that does not require UV accepts it.
      unwrap(await verifyInPage(page, refConsumer({ passkey: { origins: [O], rpId: 'localhost', requireUserVerification: false, requireNonce: false } }), { ...s, ...a }), 'UV not required');
    } finally {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    }
  });

  await test('sign count: the virtual authenticator counts; the same presentation twice to one consumer (ERR_WEBAUTHN_SIGN_COUNT)', async () => {
    const opts = { keyBinding: false, passkey: { mode: 'plain' } };
    const p1 = await sign(opts, 'count 1');
    const p2 = await sign(opts, 'count 2');
    const c1 = authData(p1).count;
    const c2 = authData(p2).count;
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const counters = credentials.map((c) => `${b64u(Buffer.from(c.credentialId, 'base64')) === passkey.credentialId ? 'default' : 'second'}=${c.signCount}`).join(' ');
    console.log(`# virtual authenticator sign counts of the default passkey's assertions: ${[presentations.salted, presentations.plain, p1, p2].map((p) => authData(p).count).join(', ')}; per credential now: ${counters}`);
    assert(c1 > 0 && c2 > c1, `the authenticator does not count: ${c1}, ${c2}`);
    const first = await verifyInPage(page, refConsumer(), p2, 'replay');
    assert(first.ok && first.value.signCount === c2, `first: ${JSON.stringify(first)}`);
    expectCode(await verifyInPage(page, refConsumer(), p2, 'replay'), 'ERR_WEBAUTHN_SIGN_COUNT', 'the same presentation again');
    expectCode(await verifyInPage(page, refConsumer(), p1, 'replay'), 'ERR_WEBAUTHN_SIGN_COUNT', 'an older presentation after a newer one');
  });

  await test('dual mode (keyBinding true + passkey): bound === true and a passkey binding; the nonce is the salted commitment', async () => {
    const opts = { keyBinding: true, passkey: { mode: 'salted' }, scope: 'offline_access' };
    const { auth, session, ms } = await loginAtReferenceOp(opts, { reloads: false });
    times.dualLogin = ms;
    assert(auth.has('dpop_jkt') && auth.get('scope').split(' ').includes('bound_key'), `key binding asked: ${auth}`);
    assert(auth.get('dpop_jkt') === session.jkt, 'dpop_jkt is the session key');
    assert(session.bound === true && session.claims.cnf && thumbprint(session.claims.cnf.jwk) === session.jkt, `bound ${session.bound}`);
    assert(headerOf(session.idToken).typ === 'dpop+id_token', 'typ');
    assert(session.passkey && session.passkey.mode === 'salted' && session.passkey.jkt === passkey.jkt, `passkey ${JSON.stringify(session.passkey)}`);
    assert(auth.get('nonce') === saltedNonce(passkey.jkt, session.passkey.salt) && session.claims.nonce === auth.get('nonce'), 'nonce = commitment');
    assert(session.jkt !== passkey.jkt, 'two different keys');
    assert(session.hasRefreshToken, 'a refresh token');
    sessions.dual = session;
    const p = await sign(opts, 'dual message', 'n-dual');
    unwrap(await verifyInPage(page, refConsumer(), p), 'verifyPasskey dual');
  });

  await test('refresh (dual mode) keeps cnf, the refreshed ID Token has no nonce; signWithPasskey still verifies with the login ID Token', async () => {
    const opts = { keyBinding: true, passkey: { mode: 'salted' }, scope: 'offline_access' };
    await page.waitForTimeout(1100); // a new iat
    const after = await withClient(page, O, { ...REF_CLIENT, ...opts }, 'return client.refresh();');
    assert(after.idToken !== sessions.dual.idToken, 'a new ID Token');
    assert(after.bound === true && thumbprint(after.claims.cnf.jwk) === sessions.dual.jkt, 'cnf kept');
    assert(!('nonce' in after.claims), `nonce in the refreshed token: ${after.claims.nonce}`);
    assert(JSON.stringify(after.passkey) === JSON.stringify(sessions.dual.passkey), 'passkey binding kept');
    const p = await sign(opts, 'after refresh', 'n-refresh');
    assert(p.idToken === sessions.dual.idToken, 'signs over the login ID Token, not the refreshed one');
    unwrap(await verifyInPage(page, refConsumer(), p), 'verifyPasskey after refresh');
    // The refreshed token has no nonce: presented instead, it cannot carry the commitment.
    const challenge = b64u(signingChallenge(after.idToken, unb64u(p.message), p.nonce));
    const a = unwrap(await rawAssertion(page, { credentialId: passkey.credentialId, challenge, userVerification: 'required' }), 'assertion over the refreshed token');
    expectCode(await verifyInPage(page, refConsumer(), { ...p, ...a, idToken: after.idToken }), 'ERR_PASSKEY_NONCE_MISMATCH', 'refreshed ID Token (no nonce)');
  });

  await test('by default a consumer requires its own nonce, takes each assertion once, and records each decision', async () => {
    const r = await page.evaluate(async ([opts, target, plain]) => {
      const c = await window.kb.KeyBoundConsumer.create(opts);
      const verify = (p) => c.verifyPasskey({ ...p, ...target });
      const code = (p) => p.then(() => 'accepted', (e) => e.code);
      const noNonce = await code(verify(plain));
      const nonce = await c.issueNonce();
      const { KeyBoundClient } = window.kb;
      const client = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, passkey: { mode: 'salted' } });
      const fresh = await client.signWithPasskey('open the door', { ...target, nonce });
      const ok = await code(verify(fresh));
      const again = await code(verify(fresh));
      const made = await client.signWithPasskey('open the door', { ...target, nonce: 'not-issued-here' });
      const foreign = await code(verify(made));
      return { noNonce, ok, again, foreign, records: c.records().map((x) => [x.outcome, x.error, x.proof_type, x.htm, x.htu]), counters: c.counters() };
    }, [{ ...refConsumer(), passkey: { origins: [O], rpId: 'localhost' } }, TARGET, presentations.plain]);
    assert(r.noNonce === 'ERR_DPOP_NONCE_REQUIRED', `without a nonce: ${r.noNonce}`);
    assert(r.ok === 'accepted', `with an issued nonce: ${r.ok}`);
    assert(['ERR_WEBAUTHN_SIGN_COUNT', 'ERR_DPOP_REPLAY'].includes(r.again), `the same assertion again: ${r.again}`);
    assert(r.foreign === 'ERR_DPOP_NONCE_MISMATCH', `a nonce it never issued: ${r.foreign}`);
    assert(r.records.length === 4 && r.records[1][0] === 'accepted', JSON.stringify(r.records));
    assert(r.records.every((x) => x[2] === 'passkey' && x[3] === TARGET.method && x[4] === TARGET.url), `records name the proof type and the request: ${JSON.stringify(r.records)}`);
    assert(r.counters.accepted === 1, JSON.stringify(r.counters));
  });

  await test('a request nonce (issueNonce({ method, url })) is accepted for that request only (ERR_DPOP_NONCE_MISMATCH elsewhere)', async () => {
    const r = await page.evaluate(async ([opts, target]) => {
      const c = await window.kb.KeyBoundConsumer.create(opts);
      const code = (p) => p.then(() => 'accepted', (e) => e.code);
      const client = await window.kb.KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html`, passkey: { mode: 'salted' } });
      const other = { ...target, url: `${target.url}/cancel` };
      const forTarget = await c.issueNonce(target);
      const ok = await code(c.verifyPasskey({ ...(await client.signWithPasskey('scoped', { ...target, nonce: forTarget })), ...target }));
      // Signed honestly for another endpoint, with the nonce of the first one.
      const moved = await code(c.verifyPasskey({ ...(await client.signWithPasskey('scoped', { ...other, nonce: forTarget })), ...other }));
      const badScope = await code(c.issueNonce({ method: 'POST', url: '/relative' }));
      return { ok, moved, badScope };
    }, [{ ...refConsumer(), passkey: { origins: [O], rpId: 'localhost' } }, TARGET]);
    assert(r.ok === 'accepted', `for its request: ${r.ok}`);
    assert(r.moved === 'ERR_DPOP_NONCE_MISMATCH', `at another endpoint: ${r.moved}`);
    assert(r.badScope === 'ERR_URL_INVALID', `issueNonce with a relative URL: ${r.badScope}`);
  });

  assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);

  await test('panva oidc-provider (its plain mode, no key binding): salted and plain passkey logins on the app origin, sign + verify accepted', async () => {
    const app = await startServer(0);
    closers.push(() => app.close());
    const appOrigin = `http://localhost:${app.port}`;
    const pop = await startProvider({ port: 0, mode: 'plain', appOrigin });
    closers.push(() => pop.close());
    const { jwks } = await fetchJwks(pop.issuer);
    const { context, page: p2, pageErrors: errors2 } = await openPage(browser, appOrigin);
    try {
      const pk = unwrap(await p2.evaluate(() => window.kbTry(() => window.kb.registerPasskey({ userName: 'alice' }))), 'registerPasskey on the app origin');
      assert(pk.rpId === 'localhost' && pk.jkt === thumbprint(pk.publicJwk), 'passkey');
      const loginWith = async (mode) => {
        const o = { clientId: INTEROP_CLIENT_ID, redirectUri: `${appOrigin}/flow.html`, scope: 'profile', keyBinding: false, passkey: { mode } };
        const st = await withClient(p2, pop.issuer, o, 'return client.startLogin();');
        const a = new URL(st.url).searchParams;
        // oidc-provider offers PAR, so the request is pushed (par: "auto"): the front channel
        // carries client_id and request_uri only, and the nonce is checked in the ID Token.
        assert(a.has('request_uri') && !a.has('nonce') && !a.has('dpop_jkt'), `a pushed request: ${a}`);
        await p2.goto(st.url);
        const back = (u) => u.origin === appOrigin && u.pathname === '/flow.html';
        // The first login shows the login form; a later one may go straight to consent or back
        // to the app (oidc-provider remembers the session).
        const next = () => Promise.race([
          p2.waitForSelector('input[name="login"]', { timeout: 20000 }).then(() => 'login'),
          p2.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 20000 }).then(() => 'consent'),
          p2.waitForURL(back, { timeout: 20000 }).then(() => 'back'),
        ]);
        let step = await next();
        if (step === 'login') {
          await p2.fill('input[name="login"]', 'alice');
          await p2.fill('input[name="password"]', 'any password');
          await p2.click('button[type="submit"]');
          step = await next();
        }
        if (step === 'consent') await p2.click('button[type="submit"]');
        await p2.waitForURL(back, { timeout: 20000 });
        await ready(p2);
        return { opts: o, auth: a, session: await withClient(p2, pop.issuer, o, 'return client.finishLogin(arg);', p2.url()) };
      };
      const { opts, session } = await loginWith('salted');
      assert(session.claims.iss === pop.issuer && session.claims.sub === 'alice', `claims ${JSON.stringify(session.claims)}`);
      assert(session.bound === false && !session.claims.cnf && headerOf(session.idToken).typ === undefined, 'a plain ID Token');
      assert(session.claims.nonce === saltedNonce(pk.jkt, session.passkey.salt), 'oidc-provider echoed the salted commitment (pushed with PAR)');
      const p = await withClient(p2, pop.issuer, opts, 'return client.signWithPasskey("pay 5", { method: "POST", url: "https://api.example.com/v1/orders", nonce: "n-interop" });');
      assert(clientData(p).origin === appOrigin, 'assertion origin');
      const consumer = { consumerId: 'interop', issuers: [{ issuer: pop.issuer, clientIds: [INTEROP_CLIENT_ID], jwks }], passkey: { origins: [appOrigin], rpId: 'localhost', requireUserVerification: true, requireNonce: false } };
      const r = unwrap(await verifyInPage(p2, consumer, p), 'verifyPasskey (interop)');
      assert(r.passkeyJkt === pk.jkt && r.claims.sub === 'alice', `accepted ${JSON.stringify(r)}`);
      const n = await (await KeyBoundConsumer.create(consumer)).verifyPasskey({ ...p, ...TARGET });
      assert(n.passkeyJkt === pk.jkt, 'Node accepted');
      // The reference OP's consumer does not accept this issuer.
      expectCode(await verifyInPage(p2, { ...consumer, issuers: [{ issuer: O, clientIds: ['keybound-demo'], jwks: refJwks }] }, p), 'ERR_ISSUER_NOT_ACCEPTED', 'oidc-provider token at a reference-OP consumer');
      // Plain mode at the same OP: the nonce is the thumbprint itself, echoed unchanged.
      const plain = await loginWith('plain');
      assert(plain.session.claims.nonce === pk.jkt, 'oidc-provider echoed the plain thumbprint (pushed with PAR)');
      const pp = await withClient(p2, pop.issuer, plain.opts, 'return client.signWithPasskey("pay 6", { method: "POST", url: "https://api.example.com/v1/orders", nonce: "n-interop-plain" });');
      assert(pp.mode === 'plain' && pp.salt === null, 'a plain presentation');
      const rp = unwrap(await verifyInPage(p2, consumer, pp), 'verifyPasskey (interop, plain)');
      assert(rp.passkeyJkt === pk.jkt, 'plain accepted');
      assert(errors2.length === 0, `page errors: ${errors2.join('; ')}`);
    } finally {
      await context.close();
    }
  });

  const f = (ms) => (ms === undefined ? '-' : `${ms.toFixed(0)} ms`);
  console.log(`# times: passkey registration ${f(times.registration)}; one passkey-bound login (startLogin → OP form → finishLogin, no reloads: plain ${f(times.plainLogin)}, dual mode ${f(times.dualLogin)}); salted login with three reloads ${f(times.saltedLoginWithReloads)}; one signWithPasskey assertion ${f(times.sign)}`);
} catch (e) {
  await test('setup', () => { throw e; });
} finally {
  await browser?.close().catch(() => {});
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  finish();
}
