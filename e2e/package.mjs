// Package test of the built npm package, in Node: each shipped entry (pkg/main, consumer,
// passkey, agent) exports its API and not the others', both typings of each list exactly the
// codes the wasm reports (no two alike), the tarball ships one wasm per entry, and a core error
// reaches JS as a real Error with its code. The full build (pkg/web, the demo's) is checked too.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { assert, root, tests } from './lib.mjs';
import { installTarball, pack, tsc } from './tarball.mjs';

const { test, finish } = tests(600000);

const mod = await import(`${root}pkg/web/keybound.js`);
mod.initSync({ module: readFileSync(`${root}pkg/web/keybound_bg.wasm`) });

const unionOf = (dts) => {
  const m = dts.match(/export type ErrorCode =([^;]*);/);
  if (!m) throw new Error('no ErrorCode union in the .d.ts');
  return [...m[1].matchAll(/"(ERR_[A-Z0-9_]+)"/g)].map((x) => x[1]);
};

await test('exports use the JS casing', () => {
  for (const name of ['generateDPoPKeyPair', 'loadDPoPKeyPair', 'deleteDPoPKeyPair', 'createDPoPProof',
    'calculateJwkThumbprint', 'calculatePKCECodeChallenge', 'generateRandomCodeVerifier', 'errorCodes',
    'KeyBoundClient', 'buildAuthorizationUrl', 'processDiscoveryResponse', 'validateAuthorizationResponse',
    'buildCodeTokenRequest', 'buildRefreshTokenRequest', 'processTokenResponse', 'validateIdToken', 'createLocalJWKSet', 'isDPoPNonceError']) {
    assert(typeof mod[name] === 'function', `missing export ${name}`);
  }
});

// The shipped entries: what each exports (and leaves out), both typings of each, one wasm each.
const ENTRIES = {
  main: { has: ['KeyBoundClient', 'createDPoPProof', 'generateDPoPKeyPair', 'validateIdToken', 'createLocalJWKSet', 'buildAuthorizationUrl'],
    lacks: ['KeyBoundConsumer', 'registerPasskey'], dts: [], notDts: ['signWithPasskey(', 'startDeviceLogin('] },
  consumer: { has: ['KeyBoundConsumer', 'calculateJwkThumbprint', 'errorCodes', 'createRedisReplayStore', 'verifyRequest', 'verifyNodeRequest', 'keyboundExpress', 'keyboundFastify'],
    lacks: ['KeyBoundClient', 'registerPasskey', 'validateIdToken'],
    dts: ['verifyPasskey(', "export * from './redis.js';", "export * from './server.js';"], notDts: [] },
  passkey: { has: ['KeyBoundClient', 'registerPasskey', 'loadPasskey', 'createDPoPProof'], lacks: ['KeyBoundConsumer'],
    dts: ['signWithPasskey('], notDts: ['startDeviceLogin('] },
  agent: { has: ['KeyBoundClient', 'createDPoPProof'], lacks: ['KeyBoundConsumer', 'registerPasskey'],
    dts: ['startDeviceLogin(', 'finishDeviceLogin('], notDts: ['signWithPasskey('] },
};
const CLIENT_DTS = ['createDPoPProof(key: DPoPKeyPair, options: DPoPProofOptions): Promise<string>',
  'generateDPoPKeyPair(options?: GenerateDPoPKeyPairOptions | null): Promise<DPoPKeyPair>',
  'export interface DPoPKeyPair {', 'loadDPoPKeyPair(id: string): Promise<DPoPKeyPair>',
  'static discover(issuer: string, options: KeyBoundClientOptions): Promise<KeyBoundClient>',
  'finishLogin(url?: string | null): Promise<KeyBoundSession>',
  'fetch(url: string, init?: KeyBoundFetchInit | null): Promise<Response>',
  'processTokenResponse(response: HttpResponseLike): TokenEndpointResponse',
  'validateIdToken(idToken: string, jwks: { keys: unknown[] } | LocalJWKSet, options: ValidateIdTokenOptions): Promise<ValidatedIdToken>',
  'createLocalJWKSet(jwks: { keys: unknown[] }): LocalJWKSet'];

for (const [entry, spec] of Object.entries(ENTRIES)) {
  const dir = `${root}pkg/${entry}/`;
  await test(`${entry}: its web module loads in Node and exports its API and nothing of the others`, async () => {
    const m = await import(`${dir}web.js`);
    m.initSync({ module: readFileSync(`${dir}keybound_bg.wasm`) });
    for (const name of spec.has) assert(typeof m[name] === 'function', `missing export ${name}`);
    for (const name of spec.lacks) assert(!(name in m), `unexpected export ${name}`);
    assert(JSON.stringify(m.errorCodes()) === JSON.stringify(mod.errorCodes()), 'its error codes differ from the full build');
    if (entry === 'main') {
      // Passkey logins live in keybound/passkey: asking for one here is a coded refusal.
      const e = await m.KeyBoundClient.discover('https://op.invalid', { clientId: 'c', redirectUri: 'https://app.invalid/cb', passkey: {} }).then(() => null, (err) => err);
      assert(e?.code === 'ERR_INVALID_ARGUMENT' && e.argument === 'passkey', `passkey option in main: ${e?.code} ${e?.argument}`);
      // A proof from this entry verifies with WebCrypto.
      const key = await m.generateDPoPKeyPair({ persist: false });
      const jws = await m.createDPoPProof(key, { htm: 'GET', htu: 'https://rs.example.com/x' });
      const [h, p, sig] = jws.split('.');
      const pub = await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      assert(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, Buffer.from(sig, 'base64url'), new TextEncoder().encode(`${h}.${p}`)), 'proof does not verify');
    }
  });
  for (const dts of ['web.d.ts', 'keybound.d.ts']) {
    await test(`${entry}/${dts}: ErrorCode union equals errorCodes(), and it types the entry's API`, () => {
      const text = readFileSync(`${dir}${dts}`, 'utf8');
      const union = unionOf(text);
      const codes = mod.errorCodes();
      assert(codes.length > 20, `only ${codes.length} codes`);
      assert(new Set(codes).size === codes.length, 'two Rust codes collide');
      assert(new Set(union).size === union.length, 'the TS union repeats a code');
      assert(JSON.stringify([...union].sort()) === JSON.stringify([...codes].sort()),
        `union and errorCodes() differ: ${union.filter((c) => !codes.includes(c))} / ${codes.filter((c) => !union.includes(c))}`);
      for (const s of ['export interface KeyboundError extends Error', 'calculateJwkThumbprint(jwk: JWK): string',
        'export function isKeyboundError(err: unknown): err is KeyboundError;', ...spec.dts,
        ...(entry === 'consumer' ? [] : CLIENT_DTS)]) assert(text.includes(s), `missing: ${s}`);
      for (const s of spec.notDts) assert(!text.includes(s), `unexpected: ${s}`);
      assert(dts === 'keybound.d.ts' || text.includes('export default function __wbg_init'), 'web typings lack init');
    });
  }
}

await test('the tarball ships each entry once: one wasm per entry, both glues, no test build', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  assert(JSON.stringify(wasm.sort()) === JSON.stringify(Object.keys(ENTRIES).map((e) => `pkg/${e}/keybound_bg.wasm`).sort()), `wasm files: ${wasm}`);
  for (const e of Object.keys(ENTRIES)) {
    for (const f of ['web.js', 'web.d.ts', 'keybound.js', 'keybound_bg.js', 'keybound.d.ts', 'node.js']) assert(files.includes(`pkg/${e}/${f}`), `missing pkg/${e}/${f}`);
  }
  assert(!files.some((f) => f.startsWith('pkg/web/') || f.startsWith('pkg/bundler/') || f.includes('named') || /(^|\/)(e2e|tests|www|op)\//.test(f)), `unexpected files: ${files}`);
  // keybound_bg.wasm.d.ts (the raw wasm exports, typed any) is left out: no export reaches it.
  const entryFiles = new Set(['web.js', 'web.d.ts', 'keybound.js', 'keybound_bg.js', 'keybound.d.ts', 'keybound_bg.wasm', 'node.js']);
  // The consumer's plain-JS parts (js/consumer/), typed, beside its glues.
  const consumerJs = ['redis.js', 'redis.d.ts', 'server.js', 'server.d.ts'];
  for (const f of consumerJs) assert(files.includes(`pkg/consumer/${f}`), `missing pkg/consumer/${f}`);
  // snippets/: wasm-bindgen's inline_js, imported by the bundler glue and its wasm (web.js has
  // it inlined: one request less, checked below).
  const stray = files.filter((f) => f.startsWith('pkg/') && !entryFiles.has(f.split('/')[2]) && !(f.startsWith('pkg/consumer/') && consumerJs.includes(f.split('/')[2]))
    && !/^pkg\/[a-z]+\/snippets\/keybound-[0-9a-f]+\/inline\d+\.js$/.test(f));
  assert(!stray.length, `files no entry needs: ${stray}`);
  for (const e of Object.keys(ENTRIES)) {
    assert(!/from ['"]\.\/snippets\//.test(readFileSync(`${root}pkg/${e}/web.js`, 'utf8')), `pkg/${e}/web.js imports a snippet module (one more request before init)`);
  }
  for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) assert(files.includes(f), `the tarball lacks ${f}`);
});

await test('createLocalJWKSet: a frozen snapshot that validateIdToken uses, refusing what the plain JWKS refuses', async () => {
  const enc = new TextEncoder();
  const b64u = (b) => Buffer.from(b).toString('base64url');
  const pair = async () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const [a, b] = [await pair(), await pair()];
  const pub = async (k, kid) => { const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', k.publicKey); return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }; };
  const jwks = { keys: [await pub(a, 'a'), await pub(b, 'b')] };
  const now = Math.floor(Date.now() / 1000);
  const token = async (k, kid) => {
    const input = `${b64u(enc.encode(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' })))}.${b64u(enc.encode(JSON.stringify({ iss: 'https://op.example.com', sub: 'alice', aud: 'spa', exp: now + 600, iat: now, nonce: 'n1' })))}`;
    return `${input}.${b64u(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey, enc.encode(input)))}`;
  };
  const set = mod.createLocalJWKSet(jwks);
  assert(Object.isFrozen(set) && Object.isFrozen(set.keys) && Object.isFrozen(set.keys[0]), 'the set is not deeply frozen');
  assert(set.keys.length === 2 && set.keys[1].kid === 'b', 'the set does not hold the keys');
  jwks.keys.pop();   // later changes to the input do not reach the snapshot
  const opts = { issuer: 'https://op.example.com', clientId: 'spa', nonce: 'n1', binding: 'preferred' };
  for (let i = 0; i < 3; i++) {   // the second and third calls use the cached parse and import
    const ok = await mod.validateIdToken(await token(b, 'b'), set, opts);
    assert(ok.claims.sub === 'alice' && ok.bound === false, 'a good token was not accepted');
  }
  // Key b signed it, but the header names key a: refused, on the first use of a (import first)
  // and once a is imported (WebCrypto's verify started at once, its verdict settled in Rust).
  for (const when of ['before', 'after']) {
    const wrong = await mod.validateIdToken(await token(b, 'a'), set, opts).catch((e) => e);
    assert(wrong.code === 'ERR_JWS_SIGNATURE_INVALID', `forged kid, ${when} a was imported: ${wrong.code}`);
    if (when === 'before') assert((await mod.validateIdToken(await token(a, 'a'), set, opts)).claims.sub === 'alice', 'key a refused');
  }
  // With the key imported, the claim checks and the auth_time check still run after the signature.
  const otherNonce = await mod.validateIdToken(await token(a, 'a'), set, { ...opts, nonce: 'n2' }).catch((e) => e);
  assert(otherNonce.code === 'ERR_ID_TOKEN_NONCE_MISMATCH', `nonce: ${otherNonce.code}`);
  const noAuthTime = await mod.validateIdToken(await token(a, 'a'), set, { ...opts, requestedMaxAge: 60 }).catch((e) => e);
  assert(noAuthTime.code === 'ERR_ID_TOKEN_AUTH_TIME_MISSING', `auth_time: ${noAuthTime.code}`);
  // Validations in flight at once each settle with their own token and options.
  const tokens = await Promise.all(Array.from({ length: 24 }, (_, i) => token(i % 3 ? a : b, i % 3 ? 'a' : 'b')));
  const outcomes = await Promise.all(tokens.map((t, i) => mod.validateIdToken(t, set, { ...opts, nonce: i % 2 ? 'n1' : 'n3' })
    .then((r) => r.claims.nonce, (e) => e.code)));
  assert(outcomes.every((o, i) => o === (i % 2 ? 'n1' : 'ERR_ID_TOKEN_NONCE_MISMATCH')), `concurrent: ${outcomes}`);
  const unknown = await mod.validateIdToken(await token(b, 'b'), jwks, opts).catch((e) => e);
  assert(unknown.code === 'ERR_JWKS_NO_MATCHING_KEY', `plain JWKS without b: ${unknown.code}`);
  const notSet = (() => { try { mod.createLocalJWKSet({ keys: 5 }); } catch (e) { return e; } })();
  assert(notSet?.code === 'ERR_JSON_INVALID', `bad JWKS: ${notSet?.code}`);
});

await test('options of the wrong type are ERR_INVALID_ARGUMENT naming the option, never a silent default', async () => {
  const consumer = await import(`${root}pkg/consumer/web.js`);
  consumer.initSync({ module: readFileSync(`${root}pkg/consumer/keybound_bg.wasm`) });
  const main = await import(`${root}pkg/main/web.js`);
  main.initSync({ module: readFileSync(`${root}pkg/main/keybound_bg.wasm`) });
  const code = (p) => p.then(() => null, (e) => `${e.code} ${e.argument}`);
  const base = { consumerId: 'c', issuers: [{ issuer: 'https://op.invalid', clientIds: ['spa'] }] };
  for (const [extra, argument] of [[{ requireNonce: 'true' }, 'requireNonce'], [{ legacyTyp: 1 }, 'legacyTyp'],
    [{ clockTolerance: '60' }, 'clockTolerance'], [{ proofMaxAge: 1.5 }, 'proofMaxAge'], [{ proofMaxAge: 0 }, 'proofMaxAge'],
    [{ clockTolerance: -1 }, 'clockTolerance'], [{ passkey: { origins: ['https://a.example'], rpId: 'a.example', requireNonce: 'no' } }, 'requireNonce'],
    // Arrays are decoded by serde-wasm-bindgen: a string where an array goes, or an array of other things.
    [{ algorithms: 'ES256' }, 'algorithms'], [{ algorithms: ['ES256', 7] }, 'algorithms'], [{ consumerId: 5 }, 'consumerId'],
    [{ issuers: [{ issuer: 'https://op.invalid', clientIds: 'spa' }] }, 'clientIds'], [{ issuers: [{ issuer: 'https://op.invalid' }] }, 'clientIds'],
    [{ passkey: { origins: ['https://a.example', null], rpId: 'a.example' } }, 'origins']]) {
    const got = await code(consumer.KeyBoundConsumer.create({ ...base, ...extra }));
    assert(got === `ERR_INVALID_ARGUMENT ${argument}`, `${JSON.stringify(extra)}: ${got}`);
  }
  // The decoded arrays are the ones used: a consumer with its own algorithm list and JWKS is made.
  const made = await consumer.KeyBoundConsumer.create({ consumerId: 'c', algorithms: ['ES256'], issuers: [{ issuer: 'https://op.invalid', clientIds: ['spa', 'web'], jwks: { keys: [] } }] });
  // An RS256 token is refused by the algorithm list decoded (ES256 only) before any key is looked
  // for; a consumer with the default list gets as far as the (empty) JWKS.
  const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const rs256 = `${b64u({ alg: 'RS256', typ: 'dpop+id_token' })}.${b64u({ iss: 'https://op.invalid' })}.c2ln`;
  const verifyCode = (c) => c.verify({ idToken: rs256, dpop: 'x.y.z', method: 'POST', url: 'https://api.invalid/' }).then(() => null, (e) => e.code);
  assert(await verifyCode(made) === 'ERR_JWS_ALG_NOT_ALLOWED', 'the decoded algorithms were not used');
  const byDefault = await consumer.KeyBoundConsumer.create({ consumerId: 'c', issuers: [{ issuer: 'https://op.invalid', clientIds: ['spa'], jwks: { keys: [] } }] });
  const byDefaultCode = await verifyCode(byDefault);
  assert(byDefaultCode === 'ERR_JWKS_NO_MATCHING_KEY', `the default algorithms: ${byDefaultCode}`);
  const opts = { issuer: 'https://op.example.com', clientId: 'spa' };
  for (const [extra, argument] of [[{ clockTolerance: '60' }, 'clockTolerance'], [{ maxAge: -5 }, 'maxAge'], [{ currentDate: 'now' }, 'currentDate'],
    [{ algorithms: [256] }, 'algorithms']]) {
    const got = await code(main.validateIdToken('a.b.c', { keys: [] }, { ...opts, ...extra }));
    assert(got === `ERR_INVALID_ARGUMENT ${argument}`, `validateIdToken ${JSON.stringify(extra)}: ${got}`);
  }
  const got = await code(main.KeyBoundClient.discover('https://op.invalid', { clientId: 'c', redirectUri: 'https://a.invalid/cb', keyBinding: 'false' }));
  assert(got === 'ERR_INVALID_ARGUMENT keyBinding', `keyBinding 'false': ${got}`);
});

await test('isKeyboundError and isDPoPNonceError take anything and say yes only to keybound errors', async () => {
  let caught;
  try { mod.calculatePKCECodeChallenge('short'); } catch (e) { caught = e; }
  assert(mod.isKeyboundError(caught) === true, 'a keybound error');
  const consumer = await import(`${root}pkg/consumer/web.js`);
  consumer.initSync({ module: readFileSync(`${root}pkg/consumer/keybound_bg.wasm`) });
  assert(consumer.isKeyboundError(caught) === true, 'an error of another entry is a keybound error too');
  const lookalike = Object.assign(new Error('x'), { name: 'KeyboundError', code: 'ERR_NOT_A_CODE' });
  for (const v of [new TypeError('t'), { name: 'KeyboundError', code: 'ERR_INVALID_ARGUMENT' }, lookalike, 'ERR_INVALID_ARGUMENT', null, undefined, 42]) {
    assert(mod.isKeyboundError(v) === false, `not a keybound error: ${String(v)}`);
    assert(mod.isDPoPNonceError(v) === false, `not a nonce error: ${String(v)}`);
  }
  assert(mod.isDPoPNonceError(caught) === false, 'a keybound error of another code');
  let nonceErr;
  try {
    mod.processTokenResponse({ status: 400, contentType: 'application/json', dpopNonce: 'n-1', body: '{"error":"use_dpop_nonce"}' });
  } catch (e) { nonceErr = e; }
  assert(mod.isDPoPNonceError(nonceErr) === true && nonceErr.dpopNonce === 'n-1', `nonce error: ${nonceErr?.code}`);
});

await test('the size check passes today\'s budgets and refuses an entry over its budget', () => {
  const run = (env) => spawnSync('node', [`${root}scripts/size.mjs`, `${root}pkg`], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ok = run({});
  assert(ok.status === 0 && /size: main .*within budget/.test(ok.stdout), `today: exit ${ok.status} ${ok.stderr}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-budget-'));
  const budget = JSON.parse(readFileSync(`${root}scripts/size-budget.json`, 'utf8'));
  budget.entries.consumer = 40960;
  writeFileSync(path.join(dir, 'budget.json'), JSON.stringify(budget));
  const over = run({ KEYBOUND_SIZE_BUDGET: path.join(dir, 'budget.json') });
  assert(over.status === 1, `over budget: exit ${over.status}`);
  assert(/size: consumer .*OVER budget 40960 B/.test(over.stdout) && /1 entry is over budget/.test(over.stderr), `${over.stdout}${over.stderr}`);
  assert(/size: main .*within budget/.test(over.stdout), 'the other entries are still judged');
});

await test('RFC 7638 thumbprint through the package', () => {
  const jwk = { kty: 'EC', crv: 'P-256', x: 'ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc', y: 'nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4' };
  assert(mod.calculateJwkThumbprint(jwk) === 'dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw', 'wrong thumbprint');
  assert(mod.calculatePKCECodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') === 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'wrong challenge');
});

await test('errors are real Errors with a stable code', () => {
  let caught;
  try { mod.calculateJwkThumbprint({ kty: 'oct', k: 'AAAA' }); } catch (e) { caught = e; }
  assert(caught instanceof Error, 'not an Error');
  assert(caught.name === 'KeyboundError', `name ${caught?.name}`);
  assert(caught.code === 'ERR_JWK_PRIVATE_KEY', `code ${caught?.code}`);
  try { mod.calculatePKCECodeChallenge('short'); caught = null; } catch (e) { caught = e; }
  assert(caught?.code === 'ERR_PKCE_VERIFIER_INVALID', `code ${caught?.code}`);
});

await test('wrong argument types are coded errors, never traps', async () => {
  for (const bad of [42, {}, null, undefined]) {
    let caught;
    try { mod.calculatePKCECodeChallenge(bad); } catch (e) { caught = e; }
    assert(caught?.code === 'ERR_INVALID_ARGUMENT' && caught.argument === 'verifier', `verifier ${String(bad)}: ${caught}`);
    caught = await mod.loadDPoPKeyPair(bad).then(() => null, (e) => e);
    assert(caught?.code === 'ERR_INVALID_ARGUMENT' && caught.argument === 'id', `id ${String(bad)}: ${caught}`);
  }
  // A wrong key is a rejection (not a synchronous throw) with a code.
  const p = mod.createDPoPProof({ id: 'x', jkt: 'y' }, { htm: 'POST', htu: 'https://op.example.com/token' });
  assert(p instanceof Promise, 'createDPoPProof returns a promise even for a bad key');
  const e = await p.then(() => null, (err) => err);
  assert(e?.code === 'ERR_INVALID_ARGUMENT' && e.argument === 'key', `key: ${e}`);
});

// Before init(): every entry's web module throws a KeyboundError with ERR_NOT_INITIALIZED (not a
// TypeError from the glue), for sync and async functions alike; the same module works after
// initSync(), and the error it threw is then a keybound error like any other.
const caught = async (fn) => { try { await fn(); return null; } catch (e) { return e; } };
const RFC7638 = { jwk: { kty: 'EC', crv: 'P-256', x: 'ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc', y: 'nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4' },
  jkt: 'dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw' };
for (const entry of Object.keys(ENTRIES)) {
  await test(`${entry}: a call before init() throws ERR_NOT_INITIALIZED, and works after initSync()`, async () => {
    const m = await import(`${root}pkg/${entry}/web.js?before-init`);   // a fresh module instance
    const asyncCall = entry === 'consumer'
      ? () => m.KeyBoundConsumer.create({ consumerId: 'c', issuers: [{ issuer: 'https://op.invalid', clientIds: ['spa'], jwks: { keys: [] } }] })
      : () => m.generateDPoPKeyPair({ persist: false });
    const errors = [await caught(() => m.calculateJwkThumbprint(RFC7638.jwk)), await caught(asyncCall), await caught(() => m.errorCodes())];
    for (const e of errors) {
      assert(e instanceof Error && !(e instanceof TypeError), `not an Error of its own: ${e}`);
      assert(e.name === 'KeyboundError' && e.code === 'ERR_NOT_INITIALIZED', `${e.name} ${e.code}: ${e.message}`);
      assert(/init\(\)/.test(e.message), `the message does not say what to do: ${e.message}`);
    }
    m.initSync({ module: readFileSync(`${root}pkg/${entry}/keybound_bg.wasm`) });
    assert(m.calculateJwkThumbprint(RFC7638.jwk) === RFC7638.jkt, 'no thumbprint after initSync');
    assert(m.isKeyboundError(errors[0]) === true, 'isKeyboundError does not know ERR_NOT_INITIALIZED');
    assert(m.errorCodes().includes('ERR_NOT_INITIALIZED'), 'errorCodes() lacks ERR_NOT_INITIALIZED');
    const made = await asyncCall();
    assert(made && typeof made === 'object', 'the async call fails after initSync');
    assert(await m.default() !== undefined, 'init() after initSync()');
  });
}

// The packed tarball installed in a fresh project, as a user gets it.
const tarball = pack();
const project = installTarball(tarball);

await test('Node imports every entry by name with no init(), through the node condition', () => {
  writeFileSync(path.join(project, 'node-import.mjs'), `
import { calculatePKCECodeChallenge, generateDPoPKeyPair, createDPoPProof, errorCodes, KeyBoundClient } from "keybound";
import { KeyBoundConsumer, calculateJwkThumbprint } from "keybound/consumer";
import { registerPasskey, KeyBoundClient as PasskeyClient } from "keybound/passkey";
import { KeyBoundClient as AgentClient } from "keybound/agent";
import init, { calculateJwkThumbprint as webThumbprint } from "keybound/web";
import { initSync, KeyBoundConsumer as WebConsumer } from "keybound/consumer/web";
const key = await generateDPoPKeyPair({ persist: false });
const jws = await createDPoPProof(key, { htm: "GET", htu: "https://rs.example.com/x" });
const [h, p, sig] = jws.split(".");
const pub = await crypto.subtle.importKey("jwk", key.publicJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
const consumer = await KeyBoundConsumer.create({ consumerId: "c", issuers: [{ issuer: "https://op.invalid", clientIds: ["spa"], jwks: { keys: [] } }] });
await init();
initSync({ module: new Uint8Array([0]) });   // already instantiated: returns at once, never reads this
console.log(JSON.stringify({
  resolved: ["keybound", "keybound/web", "keybound/consumer", "keybound/passkey/web", "keybound/agent"].map((s) => import.meta.resolve(s)),
  challenge: calculatePKCECodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
  verified: await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, Buffer.from(sig, "base64url"), new TextEncoder().encode(h + "." + p)),
  thumbprint: calculateJwkThumbprint(${JSON.stringify(RFC7638.jwk)}),
  web: webThumbprint(${JSON.stringify(RFC7638.jwk)}),
  consumer: typeof consumer.verify, sameConsumer: WebConsumer === KeyBoundConsumer,
  passkey: typeof registerPasskey, passkeyClient: typeof PasskeyClient.discover,
  agent: typeof AgentClient.prototype.startDeviceLogin, client: typeof KeyBoundClient.prototype.startDeviceLogin,
  codes: errorCodes().includes("ERR_NOT_INITIALIZED"),
}));
`);
  const r = spawnSync(process.execPath, ['node-import.mjs'], { cwd: project, encoding: 'utf8' });
  assert(r.status === 0, `exit ${r.status}: ${r.stderr}`);
  const got = JSON.parse(r.stdout);
  assert(JSON.stringify(got.resolved.map((u) => u.replace(/^.*\/node_modules\/keybound\//, ''))) === JSON.stringify(['pkg/main/node.js', 'pkg/main/node.js', 'pkg/consumer/node.js', 'pkg/passkey/node.js', 'pkg/agent/node.js']), `resolved: ${got.resolved}`);
  assert(got.challenge === 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', `challenge ${got.challenge}`);
  assert(got.verified === true, 'the proof made in Node does not verify');
  assert(got.thumbprint === RFC7638.jkt && got.web === RFC7638.jkt, `thumbprints ${got.thumbprint} ${got.web}`);
  assert(got.consumer === 'function' && got.sameConsumer === true, 'keybound/consumer and keybound/consumer/web differ in Node');
  assert(got.passkey === 'function' && got.passkeyClient === 'function' && got.agent === 'function', 'an entry lacks its API');
  assert(got.client === 'undefined', 'the main entry has the device flow');
  assert(got.codes === true, 'errorCodes() lacks ERR_NOT_INITIALIZED');
});

await test('bundlers (browser platform) resolve the bundler glue, Node platform the node module', async () => {
  const { build } = await import('esbuild');
  writeFileSync(path.join(project, 'bundle-me.js'), 'import { createDPoPProof } from "keybound"; import { KeyBoundConsumer } from "keybound/consumer"; export { createDPoPProof, KeyBoundConsumer };\n');
  const inputs = async (platform) => Object.keys((await build({ entryPoints: [path.join(project, 'bundle-me.js')], absWorkingDir: project, bundle: true, write: false,
    metafile: true, platform, format: 'esm', outdir: path.join(project, 'out'), loader: { '.wasm': 'file' }, logLevel: 'silent' })).metafile.inputs);
  const browser = await inputs('browser');
  for (const f of ['node_modules/keybound/pkg/main/keybound.js', 'node_modules/keybound/pkg/main/keybound_bg.js', 'node_modules/keybound/pkg/consumer/keybound.js']) {
    assert(browser.includes(f), `browser bundle lacks ${f}: ${browser}`);
  }
  assert(!browser.some((f) => f.endsWith('node.js')), `browser bundle has node.js: ${browser}`);
  const node = await inputs('node');
  assert(node.includes('node_modules/keybound/pkg/main/node.js') && !node.some((f) => f.endsWith('keybound_bg.js')), `node bundle: ${node}`);
});

await test('the typings pass a default `tsc --strict` (skipLibCheck off), with module resolution by exports', () => {
  writeFileSync(path.join(project, 'strict.ts'), `
import { KeyBoundClient, createDPoPProof, generateDPoPKeyPair, isKeyboundError, isDPoPNonceError } from "keybound";
import type { ErrorCode, KeyboundError, DPoPKeyPair } from "keybound";
import { KeyBoundConsumer } from "keybound/consumer";
import { registerPasskey } from "keybound/passkey";
import { KeyBoundClient as AgentClient } from "keybound/agent";
import init, { initSync, type InitOutput } from "keybound/web";
import initConsumer from "keybound/consumer/web";
import initPasskey from "keybound/passkey/web";
import initAgent from "keybound/agent/web";

export async function strict(): Promise<string> {
  const out: InitOutput = await init();
  const memory: WebAssembly.Memory = out.memory;
  void memory; void initSync; void initConsumer; void initPasskey; void initAgent;
  const key: DPoPKeyPair = await generateDPoPKeyPair({ persist: false });
  try {
    const client = await KeyBoundClient.discover("https://op.example.com", { clientId: "spa", redirectUri: "https://app.example.com/cb", timeout: 5000 });
    using disposable = client;
    void disposable;
    await AgentClient.discover("https://op.example.com", { clientId: "agent", redirectUri: "https://app.example.com/cb" });
    await KeyBoundConsumer.create({ consumerId: "c", issuers: [{ issuer: "https://op.example.com", clientIds: ["spa"] }] });
    await registerPasskey({ userName: "alice", name: "default" });
    return await createDPoPProof(key, { htm: "GET", htu: "https://rs.example.com/" });
  } catch (err) {
    if (isDPoPNonceError(err)) return err.dpopNonce;
    if (isKeyboundError(err)) {
      const e: KeyboundError = err;
      const code: ErrorCode = e.code;
      return code === "ERR_NOT_INITIALIZED" ? "init first" : code;
    }
    throw err;
  }
}
// @ts-expect-error: not a keybound code (proves the union is read, not any)
export const notACode: ErrorCode = "ERR_NOT_A_CODE";
`);
  for (const extra of [[], ['--module', 'nodenext'], ['--module', 'esnext', '--moduleResolution', 'bundler']]) {
    const r = spawnSync(tsc, ['--strict', '--noEmit', '--skipLibCheck', 'false', '--listFiles', ...extra, 'strict.ts'], { cwd: project, encoding: 'utf8' });
    assert(r.status === 0, `tsc --strict ${extra.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    for (const f of ['pkg/main/keybound.d.ts', 'pkg/main/web.d.ts', 'pkg/consumer/keybound.d.ts', 'pkg/passkey/keybound.d.ts', 'pkg/agent/keybound.d.ts', 'pkg/agent/web.d.ts']) {
      assert(r.stdout.includes(`node_modules/keybound/${f}`), `tsc ${extra.join(' ')} did not read ${f}`);
    }
  }
});

await test('package hygiene: every file package.json names ships, none twice, no tests, engines as the README says', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  assert(new Set(files).size === files.length, 'a path is listed twice');
  const named = [pkg.main, pkg.module, pkg.types, ...pkg.sideEffects,
    ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))].map((f) => f.replace(/^\.\//, ''));
  const absent = named.filter((f) => !files.includes(f));
  assert(!absent.length, `package.json names files the tarball lacks: ${absent}`);
  const tests = files.filter((f) => /(^|\/)(tests?|e2e|__tests__|spec|fuzz|examples)\/|\.(test|spec)\.[cm]?[jt]s$/.test(f));
  assert(!tests.length, `test files in the tarball: ${tests}`);
  // The same bytes twice (the wasm of the web and bundler builds once was): only the few-hundred-byte
  // inline snippet, which each entry's glue imports by a relative path, may repeat.
  const seen = new Map();
  for (const f of files.filter((x) => x !== 'package.json')) {
    const bytes = readFileSync(path.join(project, 'node_modules/keybound', f));
    const key = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(key) && bytes.length > 1024) throw new Error(`${f} and ${seen.get(key)} are the same ${bytes.length} bytes`);
    seen.set(key, f);
  }
  assert(files.includes('LICENSE') && /Apache License/.test(readFileSync(`${root}LICENSE`, 'utf8')) && pkg.license === 'Apache-2.0', 'LICENSE and license differ');
  assert(pkg.engines.node === '>=20.6' && readFileSync(`${root}README.md`, 'utf8').includes('Node.js 20.6+'), `engines ${pkg.engines.node} and the README disagree`);
});

await test('no `any` in the shipped typings', () => {
  for (const entry of Object.keys(ENTRIES)) {
    for (const dts of ['web.d.ts', 'keybound.d.ts']) {
      const code = readFileSync(`${root}pkg/${entry}/${dts}`, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const any = code.split('\n').filter((l) => /\bany\b/.test(l));
      assert(!any.length, `${entry}/${dts}: ${any.length} lines with any, e.g. ${any[0]}`);
    }
  }
});

await finish();
