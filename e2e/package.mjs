// Package test of the built npm package, in Node: the exports exist with the documented names,
// the ErrorCode union in both .d.ts files lists exactly the codes the wasm reports (no two
// alike), and a core error reaches JS as a real Error with its code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = [];
const test = async (name, fn) => {
  try { await fn(); results.push([name, null]); } catch (e) { results.push([name, e]); }
};
const assert = (cond, msg) => { if (!cond) throw new Error(msg); };

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

for (const target of ['web', 'bundler']) {
  await test(`${target}/keybound.d.ts ErrorCode union equals errorCodes()`, () => {
    const union = unionOf(readFileSync(`${root}pkg/${target}/keybound.d.ts`, 'utf8'));
    const codes = mod.errorCodes();
    assert(codes.length > 20, `only ${codes.length} codes`);
    assert(new Set(codes).size === codes.length, 'two Rust codes collide');
    assert(new Set(union).size === union.length, 'the TS union repeats a code');
    assert(JSON.stringify([...union].sort()) === JSON.stringify([...codes].sort()),
      `union and errorCodes() differ: ${union.filter((c) => !codes.includes(c))} / ${codes.filter((c) => !union.includes(c))}`);
  });
  await test(`${target}/keybound.d.ts types the API`, () => {
    const dts = readFileSync(`${root}pkg/${target}/keybound.d.ts`, 'utf8');
    for (const s of ['createDPoPProof(key: DPoPKeyPair, options: DPoPProofOptions): Promise<string>',
      'generateDPoPKeyPair(options?: GenerateDPoPKeyPairOptions | null): Promise<DPoPKeyPair>',
      'calculateJwkThumbprint(jwk: JWK): string', 'export interface KeyboundError extends Error',
      'export interface DPoPKeyPair {', 'loadDPoPKeyPair(id: string): Promise<DPoPKeyPair>',
      'static discover(issuer: string, options: KeyBoundClientOptions): Promise<KeyBoundClient>',
      'finishLogin(url?: string | null): Promise<KeyBoundSession>',
      'fetch(url: string, init?: KeyBoundFetchInit | null): Promise<Response>',
      'processTokenResponse(response: HttpResponseLike): TokenEndpointResponse',
      'validateIdToken(idToken: string, jwks: { keys: unknown[] } | LocalJWKSet, options: ValidateIdTokenOptions): Promise<ValidatedIdToken>',
      'createLocalJWKSet(jwks: { keys: unknown[] }): LocalJWKSet']) {
      assert(dts.includes(s), `missing: ${s}`);
    }
  });
}

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
  // Key b signed it, but the header names key a: refused with the cached key too.
  const wrong = await mod.validateIdToken(await token(b, 'a'), set, opts).catch((e) => e);
  assert(wrong.code === 'ERR_JWS_SIGNATURE_INVALID', `forged kid: ${wrong.code}`);
  const unknown = await mod.validateIdToken(await token(b, 'b'), jwks, opts).catch((e) => e);
  assert(unknown.code === 'ERR_JWKS_NO_MATCHING_KEY', `plain JWKS without b: ${unknown.code}`);
  const notSet = (() => { try { mod.createLocalJWKSet({ keys: 5 }); } catch (e) { return e; } })();
  assert(notSet?.code === 'ERR_JSON_INVALID', `bad JWKS: ${notSet?.code}`);
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

let failed = 0;
for (const [name, err] of results) {
  if (err) { failed++; console.log(`not ok - ${name}: ${err.message}`); } else console.log(`ok - ${name}`);
}
console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
