// keybound benchmark, side by side: figures only, no pass/fail.
//
// keybound against raw WebCrypto (the floor) and the JS libraries an app would use instead
// (oauth4webapi, jose, dpop), on the same keys and inputs, in one page and one run:
//   proof                  DPoP proof, ES256, with nonce and ath
//   es256, rs256           ID Token validation, keys imported once
//   es256Fresh, rs256Fresh ID Token validation, the JWKS passed afresh with every token
//   es256New, rs256New     the same, with a new key pair for every token (no cache can help)
//   keygen                 P-256 key pair generation
// Every contender's output is checked before timing: its proof verifies and carries what was asked,
// it accepts the ID Token, and it rejects the same token with one signature byte flipped.
// Then a warm-up, then N rounds; each round runs every case once, rotating the order of the rows and
// shuffling (seeded) the contenders within each row every round, to cancel drift and order effects.
// A sample is the mean of `batch` back-to-back calls. A cell is the median over the rounds of (time
// of the case / time of the raw WebCrypto case of its row in the same round); the raw cell also
// gives its median µs.
//
// runBench() runs in the window (this module) and in bench-worker.js. coldStart() runs in a fresh
// bench-cold.html page per call (driven by e2e/bench.mjs). The libraries are imported by URL
// (import maps do not reach workers) and lazily, so that coldStart() can time the import itself.

export const LIBRARY_URLS = {
  oauth4webapi: '/vendor/oauth4webapi/build/index.js',
  jose: '/vendor/jose/dist/webapi/index.js',
  dpop: '/vendor/dpop/build/index.js',
  keybound: '/dist/main/web.js',   // the shipped SPA entry ("keybound/web")
};
export const CONTENDERS = ['raw', 'oauth4webapi', 'jose', 'dpop', 'keybound'];
export const CONTENDER_LABELS = {
  raw: 'raw WebCrypto',
  oauth4webapi: 'oauth4webapi',
  jose: 'jose',
  dpop: 'dpop',
  keybound: 'keybound',
};
export const ROWS = [
  { id: 'proof', label: 'DPoP proof (ES256, nonce, ath)' },
  { id: 'es256', label: 'ID Token ES256, keys imported once' },
  { id: 'rs256', label: 'ID Token RS256, keys imported once' },
  { id: 'es256Fresh', label: 'ID Token ES256, JWKS per token, same keys' },
  { id: 'rs256Fresh', label: 'ID Token RS256, JWKS per token, same keys' },
  { id: 'es256New', label: 'ID Token ES256, JWKS per token, new keys' },
  { id: 'rs256New', label: 'ID Token RS256, JWKS per token, new keys' },
  { id: 'keygen', label: 'Key pair generation (P-256)' },
];

const ECDSA = { name: 'ECDSA', hash: 'SHA-256' };
const P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const PROOF = {
  htm: 'GET',
  htu: 'https://rs.example.com/api/resource',
  nonce: 'eyJ7S_zG.eyJH0-Z.HX4w-7v',
  accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
};
const OIDC = {
  issuer: 'https://op.example.com',
  clientId: 'my-spa',
  sub: '248289761001',
  nonce: 'n-0S6_WzA2Mj',
  code: 'SplxlOBeZQQYbYS6WxSbIA', // oauth4webapi's hybrid-response check wants a code and its c_hash
  jwksUri: 'https://op.example.com/jwks',
};
const enc = new TextEncoder();
const dec = new TextDecoder();

function b64url(bytes) {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const unb64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const b64json = (value) => b64url(enc.encode(JSON.stringify(value)));
const sha256 = (text) => crypto.subtle.digest('SHA-256', enc.encode(text));

function parseJws(jws) {
  const [h, p, s] = jws.split('.');
  return {
    header: JSON.parse(dec.decode(unb64url(h))),
    payload: JSON.parse(dec.decode(unb64url(p))),
    input: enc.encode(`${h}.${p}`),
    signature: unb64url(s),
  };
}

/** The same JWS with one signature byte flipped (on the decoded bytes, not on a base64 char). */
function tamper(jws) {
  const at = jws.lastIndexOf('.');
  const signature = unb64url(jws.slice(at + 1));
  signature[signature.length >> 1] ^= 0x01;
  return `${jws.slice(0, at)}.${b64url(signature)}`;
}

async function importLibrary(name) {
  const lib = await import(LIBRARY_URLS[name]);
  if (name === 'keybound') await lib.default(); // keybound's default export is init() (fetches the wasm)
  return lib;
}

// ---------------------------------------------------------------- DPoP proofs

async function publicEcJwk(publicKey) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  return { kty, crv, x, y };
}

/** What a DPoP proof with nonce and ath signs (header with the public JWK, typical payload). */
async function typicalSigningInput(jwk) {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
  const payload = {
    jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
    htm: PROOF.htm,
    htu: PROOF.htu,
    iat: Math.floor(Date.now() / 1000),
    nonce: PROOF.nonce,
    ath: b64url(await sha256(PROOF.accessToken)),
  };
  return enc.encode(`${b64json(header)}.${b64json(payload)}`);
}

/**
 * One proof maker per contender: an async factory (setup, not timed) returning the function timed.
 * `ctx` = { keyPair, jwk, kbKey }: the CryptoKeyPair, its public JWK, keybound's DPoPKeyPair.
 * Every maker returns the compact JWS, except raw, which returns { signature, input }.
 */
const PROOF_MAKERS = {
  async raw(_lib, { keyPair, jwk }) {
    const input = await typicalSigningInput(jwk);
    return async () => ({ signature: await crypto.subtle.sign(ECDSA, keyPair.privateKey, input), input });
  },
  async oauth4webapi(oauth, { keyPair }) {
    // The DPoP handle signs inside protectedResourceRequest; a [customFetch] captures the header and
    // answers with one prebuilt minimal Response whose DPoP-Nonce the handle remembers (that is
    // oauth4webapi's only way to put a nonce in a proof).
    const url = new URL(PROOF.htu);
    const response = new Response(null, { status: 200, headers: { 'DPoP-Nonce': PROOF.nonce } });
    let captured;
    const options = {
      DPoP: oauth.DPoP({}, keyPair),
      [oauth.customFetch]: async (_href, init) => {
        captured = init.headers.dpop;
        return response;
      },
    };
    return async () => {
      captured = undefined;
      await oauth.protectedResourceRequest(PROOF.accessToken, PROOF.htm, url, undefined, undefined, options);
      return captured;
    };
  },
  async jose(jose, { keyPair, jwk }) {
    // The public JWK is exported once (setup); ath, jti and iat are the caller's job with jose.
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk };
    return async () =>
      new jose.SignJWT({
        htm: PROOF.htm,
        htu: PROOF.htu,
        nonce: PROOF.nonce,
        ath: b64url(await sha256(PROOF.accessToken)),
        jti: crypto.randomUUID(),
      })
        .setProtectedHeader(header)
        .setIssuedAt()
        .sign(keyPair.privateKey);
  },
  async dpop(dpop, { keyPair }) {
    return () => dpop.generateProof(keyPair, PROOF.htu, PROOF.htm, PROOF.nonce, PROOF.accessToken);
  },
  async keybound(kb, { kbKey }) {
    const options = { htm: PROOF.htm, htu: PROOF.htu, nonce: PROOF.nonce, accessToken: PROOF.accessToken };
    return () => kb.createDPoPProof(kbKey, options);
  },
};

/** What is wrong with a proof (empty: it verifies with its own jwk and carries what was asked). */
async function proofProblems(out, { jwk, ath }, { withNonce = true } = {}) {
  if (out && out.signature) {
    const key = await crypto.subtle.importKey('jwk', jwk, P256, false, ['verify']);
    return (await crypto.subtle.verify(ECDSA, key, out.signature, out.input)) ? [] : ['signature'];
  }
  if (typeof out !== 'string') return [`not a JWS: ${typeof out}`];
  const { header, payload, input, signature } = parseJws(out);
  const problems = [];
  if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256') problems.push('typ/alg');
  if (header.jwk?.kty !== 'EC' || header.jwk?.crv !== 'P-256' || header.jwk?.x !== jwk.x || header.jwk?.y !== jwk.y
    || 'd' in header.jwk) problems.push('jwk');
  const expected = { htm: PROOF.htm, htu: PROOF.htu, nonce: withNonce ? PROOF.nonce : undefined, ath };
  for (const [claim, value] of Object.entries(expected)) if (payload[claim] !== value) problems.push(claim);
  if (typeof payload.jti !== 'string' || payload.jti.length < 16) problems.push('jti');
  if (!Number.isInteger(payload.iat) || Math.abs(payload.iat - Date.now() / 1000) > 5) problems.push('iat');
  if (!problems.includes('jwk')) {
    const key = await crypto.subtle.importKey('jwk', header.jwk, P256, false, ['verify']);
    if (!(await crypto.subtle.verify(ECDSA, key, signature, input))) problems.push('signature');
  }
  return problems;
}

async function proofContext(keyPair, kbKey = null) {
  return {
    keyPair,
    kbKey,
    jwk: await publicEcJwk(keyPair.publicKey),
    ath: b64url(await sha256(PROOF.accessToken)),
  };
}

// ---------------------------------------------------------------- ID Tokens

/** A fresh ES256 and RS256 signing key, their JWKS (2 keys, kid + alg) and one ID Token each. */
async function mintIdTokens(tag = '') {
  const now = Math.floor(Date.now() / 1000);
  const es = await crypto.subtle.generateKey(P256, false, ['sign', 'verify']);
  const rs = await crypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, false, ['sign', 'verify']);
  const esPub = await crypto.subtle.exportKey('jwk', es.publicKey);
  const rsPub = await crypto.subtle.exportKey('jwk', rs.publicKey);
  const esJwk = { kty: 'EC', crv: esPub.crv, x: esPub.x, y: esPub.y, kid: `es-${now}${tag}`, alg: 'ES256', use: 'sig' };
  const rsJwk = { kty: 'RSA', n: rsPub.n, e: rsPub.e, kid: `rs-${now}${tag}`, alg: 'RS256', use: 'sig' };
  const cHash = b64url((await sha256(OIDC.code)).slice(0, 16));
  const claims = {
    iss: OIDC.issuer, sub: OIDC.sub, aud: OIDC.clientId, exp: now + 600, iat: now, nonce: OIDC.nonce, c_hash: cHash,
  };
  const sign = async (alg, kid, privateKey, params) => {
    const input = `${b64json({ alg, kid, typ: 'JWT' })}.${b64json(claims)}`;
    const token = `${input}.${b64url(await crypto.subtle.sign(params, privateKey, enc.encode(input)))}`;
    return { alg, kid, token, tampered: tamper(token) };
  };
  const jwks = { keys: [esJwk, rsJwk] };
  const jwksText = JSON.stringify(jwks); // the per-token rows start from this, as if just fetched
  return {
    jwks,
    jwksText,
    es256: { ...(await sign('ES256', esJwk.kid, es.privateKey, ECDSA)), jwk: esJwk, jwksText, import: P256, verify: ECDSA },
    rs256: { ...(await sign('RS256', rsJwk.kid, rs.privateKey, RSA)), jwk: rsJwk, jwksText, import: RSA, verify: RSA },
  };
}

/** NEW_KEYS issuers' worth of tokens for the new-key rows: more keys than any cache keeps. */
const NEW_KEYS = 40;
async function mintKeyPool() {
  const sets = await Promise.all(Array.from({ length: NEW_KEYS }, (_, i) => mintIdTokens(`-${i}`)));
  return { es256: sets.map((set) => set.es256), rs256: sets.map((set) => set.rs256) };
}

/** Cycles through `items`, one per call. */
function cycle(items) {
  let i = 0;
  return () => items[i++ % items.length];
}

const KB_OPTIONS = { issuer: OIDC.issuer, clientId: OIDC.clientId, nonce: OIDC.nonce, binding: 'preferred' };
const JOSE_OPTIONS = {
  issuer: OIDC.issuer, audience: OIDC.clientId, algorithms: ['RS256', 'PS256', 'ES256'], maxTokenAge: 600,
  requiredClaims: ['iat', 'exp', 'sub', 'nonce'],
};
const OAUTH_AS = {
  issuer: OIDC.issuer,
  jwks_uri: OIDC.jwksUri,
  id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
};
const OAUTH_CLIENT = { client_id: OIDC.clientId };

function joseNonce(result) {
  if (result.payload.nonce !== OIDC.nonce) throw new Error('nonce mismatch');
  return result;
}

/**
 * One verifier per contender: setup(libs, fx) → { once(t), fresh(list) }, giving the function
 * timed: `once` for one token (fx.es256 or fx.rs256, or a tampered copy) with keys imported once,
 * `fresh` for tokens taken in turn from `list`, each with its JWKS passed afresh (as JSON text).
 * `accepts(result)` reads the outcome.
 */
const VERIFIERS = {
  raw: {
    setup(_lib, fx) {
      const imported = new Map(); // kid → CryptoKey, imported once
      return {
        async once(t) {
          const { input, signature } = parseJws(t.token);
          if (!imported.has(t.kid)) imported.set(t.kid, await crypto.subtle.importKey('jwk', t.jwk, t.import, false, ['verify']));
          const key = imported.get(t.kid);
          return () => crypto.subtle.verify(t.verify, key, signature, input);
        },
        async fresh(list) {
          const next = cycle(list.map((t) => ({ t, ...parseJws(t.token) })));
          return async () => {
            const { t, input, signature } = next();
            const jwk = JSON.parse(t.jwksText).keys.find((k) => k.kid === t.kid);
            const key = await crypto.subtle.importKey('jwk', jwk, t.import, false, ['verify']);
            return crypto.subtle.verify(t.verify, key, signature, input);
          };
        },
      };
    },
    accepts: (result) => result === true,
  },
  oauth4webapi: {
    setup(oauth, fx) {
      const stats = { jwksFetches: 0 };
      const serveJwks = async () => {
        stats.jwksFetches++;
        return new Response(fx.jwksText, { status: 200, headers: { 'Content-Type': 'application/json' } });
      };
      const uat = Math.floor(Date.now() / 1000);
      // One AS object and one jwksCache: oauth4webapi keeps the JWKS per AS object and the
      // imported CryptoKeys per JWK object, so this imports each key once.
      const onceOptions = { [oauth.jwksCache]: { jwks: fx.jwks, uat }, [oauth.customFetch]: serveJwks };
      const params = (t) => new URLSearchParams({ code: OIDC.code, id_token: t.token });
      return {
        stats,
        async once(t) {
          const p = params(t);
          return () => oauth.validateCodeIdTokenResponse(OAUTH_AS, OAUTH_CLIENT, p, OIDC.nonce, undefined, undefined, onceOptions);
        },
        async fresh(list) {
          const next = cycle(list.map((t) => ({ t, p: params(t) })));
          return () => {
            const { t, p } = next();
            return oauth.validateCodeIdTokenResponse({ ...OAUTH_AS }, OAUTH_CLIENT, p, OIDC.nonce, undefined, undefined, {
              [oauth.jwksCache]: { jwks: JSON.parse(t.jwksText), uat: Math.floor(Date.now() / 1000) },
              [oauth.customFetch]: serveJwks,
            });
          };
        },
      };
    },
    accepts: (result) => result instanceof URLSearchParams && result.get('code') === OIDC.code,
  },
  jose: {
    setup(jose, fx) {
      const set = jose.createLocalJWKSet(fx.jwks);
      return {
        async once(t) {
          return () => jose.jwtVerify(t.token, set, JOSE_OPTIONS).then(joseNonce);
        },
        async fresh(list) {
          const next = cycle(list);
          return () => {
            const t = next();
            return jose.jwtVerify(t.token, jose.createLocalJWKSet(JSON.parse(t.jwksText)), JOSE_OPTIONS).then(joseNonce);
          };
        },
      };
    },
    accepts: (result) => result?.payload?.sub === OIDC.sub && typeof result.protectedHeader?.kid === 'string',
  },
  keybound: {
    setup(kb, fx) {
      const hasSet = typeof kb.createLocalJWKSet === 'function';
      const keys = hasSet ? kb.createLocalJWKSet(fx.jwks) : fx.jwks;
      return {
        jwkSet: hasSet ? 'createLocalJWKSet' : 'plain JWKS',
        async once(t) {
          return () => kb.validateIdToken(t.token, keys, KB_OPTIONS);
        },
        async fresh(list) {
          const next = cycle(list);
          return () => {
            const t = next();
            return kb.validateIdToken(t.token, JSON.parse(t.jwksText), KB_OPTIONS);
          };
        },
      };
    },
    accepts: (result) => result?.bound === false && result?.claims?.sub === OIDC.sub,
  },
};

async function outcome(fn, accepts) {
  try {
    const result = await fn();
    return accepts(result) ? 'accepted' : 'rejected (false or wrong result)';
  } catch (err) {
    return `rejected (${err?.code ?? err?.name ?? 'Error'})`;
  }
}

// ---------------------------------------------------------------- key generation

const KEYGEN = {
  raw: () => () => crypto.subtle.generateKey(P256, false, ['sign', 'verify']),
  oauth4webapi: (oauth) => () => oauth.generateKeyPair('ES256'),
  jose: (jose) => () => jose.generateKeyPair('ES256'),
  dpop: (dpop) => () => dpop.generateKeyPair('ES256'),
  keybound: (kb) => () => kb.generateDPoPKeyPair({ persist: false }),
};

function keyPairProblems(result) {
  const pair = result?.keyPair ?? result;
  const k = pair?.privateKey;
  if (!k || k.type !== 'private') return ['no private key'];
  const problems = [];
  if (k.extractable) problems.push('private key extractable');
  if (k.algorithm?.name !== 'ECDSA' || k.algorithm?.namedCurve !== 'P-256') problems.push('not P-256');
  if (pair.publicKey?.type !== 'public') problems.push('no public key');
  return problems;
}

// ---------------------------------------------------------------- statistics

/** A small seeded PRNG (mulberry32): reproducible case orders. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy (Fisher–Yates). */
function shuffle(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Smallest observed step of performance.now(), in microseconds. */
function timerResolutionUs() {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    best = Math.min(best, t1 - t0);
  }
  return round(best * 1000, 3);
}

const round = (v, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

function median(values) {
  const s = [...values].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function stats(samplesMs) {
  const s = [...samplesMs].sort((x, y) => x - y);
  const n = s.length;
  const mean = s.reduce((acc, v) => acc + v, 0) / n;
  const rank = (q) => s[Math.min(n - 1, Math.ceil(q * n) - 1)]; // nearest rank
  return {
    medianUs: round(median(s) * 1000),
    meanUs: round(mean * 1000),
    p90Us: round(rank(0.9) * 1000),
    minUs: round(s[0] * 1000),
    maxUs: round(s[n - 1] * 1000),
  };
}

// ---------------------------------------------------------------- the run

async function loadLibraries() {
  const names = Object.keys(LIBRARY_URLS);
  const mods = await Promise.all(names.map(importLibrary));
  return Object.fromEntries(names.map((name, i) => [name, mods[i]]));
}

export async function runBench({ n = 400, warmup = 50, batch = 8 } = {}) {
  const libs = await loadLibraries();
  const kbKey = await libs.keybound.generateDPoPKeyPair({ persist: false });
  const ctx = await proofContext(kbKey.keyPair, kbKey); // one P-256 key for every proof maker
  const fx = await mintIdTokens();
  const mintStarted = performance.now();
  const pool = await mintKeyPool();
  const poolMintMs = Math.round(performance.now() - mintStarted);
  const cases = []; // { row, contender, fn }
  const sanity = {};
  const failures = [];
  const note = (row, contender, result, ok) => {
    (sanity[row] ??= {})[contender] = result;
    if (!ok) failures.push(`${row}/${contender}: ${JSON.stringify(result)}`);
  };

  // DPoP proofs.
  for (const contender of CONTENDERS) {
    const make = await PROOF_MAKERS[contender](libs[contender], ctx);
    if (contender === 'oauth4webapi') await make(); // learn the nonce from the first response
    const problems = await proofProblems(await make(), ctx);
    note('proof', contender, problems.length ? problems : 'verifies', problems.length === 0);
    cases.push({ row: 'proof', contender, fn: make });
  }

  // ID Tokens: each contender must accept the token and reject it with a flipped signature byte.
  const verifiers = {};
  for (const contender of CONTENDERS) {
    const v = VERIFIERS[contender];
    if (!v) continue;
    verifiers[contender] = v.setup(libs[contender], fx);
    for (const [row, mode, tokens] of [
      ['es256', 'once', fx.es256], ['rs256', 'once', fx.rs256],
      ['es256Fresh', 'fresh', [fx.es256]], ['rs256Fresh', 'fresh', [fx.rs256]],
      ['es256New', 'fresh', pool.es256], ['rs256New', 'fresh', pool.rs256],
    ]) {
      const t = mode === 'once' ? tokens : tokens[0];
      const bad = { ...t, token: t.tampered };
      const valid = await outcome(await verifiers[contender][mode](tokens), v.accepts);
      const tampered = await outcome(await verifiers[contender][mode](mode === 'once' ? bad : [bad]), v.accepts);
      const fn = await verifiers[contender][mode](tokens);
      note(row, contender, { valid, tampered }, valid === 'accepted' && tampered.startsWith('rejected'));
      cases.push({ row, contender, fn });
    }
  }

  // Key pairs.
  for (const contender of CONTENDERS) {
    const fn = KEYGEN[contender](libs[contender]);
    const problems = keyPairProblems(await fn());
    note('keygen', contender, problems.length ? problems : 'P-256, private key non-extractable', problems.length === 0);
    cases.push({ row: 'keygen', contender, fn });
  }

  if (failures.length) throw new Error(`sanity check failed: ${failures.join('; ')}`);
  cases.forEach((c, i) => { c.index = i; });

  // Warm-up, then n rounds. Round r runs every case once: the rows in turn starting at row r (mod
  // their count), and in each row the contenders in a fresh random order (seeded: the same orders
  // every run). Each contender is thus in each position equally often and follows each other one
  // equally often: the first call after another operation pays for colder caches, and in a fixed
  // cyclic order that cost always lands on the same contender (measured here: a 5–10% swing on key
  // generation, where raw WebCrypto and three libraries make the very same call).
  const byRow = ROWS.map(({ id }) => cases.filter((c) => c.row === id));
  const random = mulberry32(0x6b62);
  const order = (r) => byRow.flatMap((_, q) => shuffle(byRow[(r + q) % byRow.length], random));
  for (let r = 0; r < warmup; r++) for (const { fn } of order(r)) await fn();
  const times = cases.map(() => new Float64Array(n));
  const started = performance.now();
  for (let r = 0; r < n; r++) {
    for (const c of order(r)) {
      const { fn } = c;
      const t0 = performance.now();
      for (let j = 0; j < batch; j++) await fn();
      times[c.index][r] = (performance.now() - t0) / batch;
    }
  }
  const elapsedMs = performance.now() - started;

  const rows = ROWS.map(({ id, label }) => {
    const index = (contender) => cases.findIndex((c) => c.row === id && c.contender === contender);
    const base = times[index('raw')];
    const usable = [...base.keys()].filter((r) => base[r] > 0); // a 0 µs baseline (coarse timer) has no ratio
    const cells = {};
    for (const contender of CONTENDERS) {
      const i = index(contender);
      if (i < 0) continue;
      cells[contender] = {
        ratio: round(median(usable.map((r) => times[i][r] / base[r])), 2),
        ...stats(times[i]),
      };
    }
    return { id, label, baselineMedianUs: cells.raw.medianUs, roundsWithRatio: usable.length, cells };
  });

  return {
    context: typeof WorkerGlobalScope !== 'undefined' ? 'worker' : 'window',
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionUs: timerResolutionUs(),
    n,
    warmup,
    batch,
    cases: cases.length,
    elapsedMs: Math.round(elapsedMs),
    keyboundJwkSet: verifiers.keybound.jwkSet,
    oauth4webapiJwksFetches: verifiers.oauth4webapi.stats.jwksFetches,
    idTokenChars: { es256: fx.es256.token.length, rs256: fx.rs256.token.length },
    newKeys: { pairs: NEW_KEYS, mintMs: poolMintMs },
    proofSigningInputBytes: (await typicalSigningInput(ctx.jwk)).length,
    sanity,
    rows,
  };
}

/** How each contender was called (printed under the tables). */
export function footnotes(result) {
  const kbSet = result?.keyboundJwkSet === 'createLocalJWKSet'
    ? '`createLocalJWKSet(jwks)` made once'
    : 'the plain JWKS object (this build does not export `createLocalJWKSet`)';
  return [
    'Cells: median over rounds of (contender time / raw WebCrypto time in the same round); raw also gives its median µs per call. ' +
      `A sample is the mean of ${result?.batch ?? 8} back-to-back calls (the timer step is 5 µs). ` +
      'Every round runs every case once, rotating the order of the rows and shuffling the contenders within each row (seeded: a fixed order would always put the same contender after the same one). Checked before timing: each proof verifies with its own `jwk` ' +
      'and carries htm, htu, nonce, ath, jti, iat; each verifier accepts the ID Token and rejects it with one signature byte flipped.',
    'DPoP proof, one P-256 key for all (keybound\'s, non-extractable private key): raw = one `crypto.subtle.sign` of a typical ' +
      'proof signing input (header with jwk, payload with jti, htm, htu, iat, nonce, ath); keybound = `createDPoPProof(key, {htm, htu, nonce, accessToken})`; ' +
      'dpop = `generateProof(keyPair, htu, htm, nonce, accessToken)` (exports the public key on every proof); ' +
      'jose = `new SignJWT({htm, htu, nonce, ath, jti}).setProtectedHeader({alg: "ES256", typ: "dpop+jwt", jwk}).setIssuedAt().sign(privateKey)`, ' +
      'the jwk exported once, ath (SHA-256 of the token) and jti (`randomUUID`) computed per proof by the caller; ' +
      'oauth4webapi = `protectedResourceRequest(accessToken, htm, url, undefined, undefined, {DPoP: DPoP({}, keyPair), [customFetch]})`, ' +
      'the `[customFetch]` captures the `DPoP` header and returns one prebuilt `Response` with a `DPoP-Nonce` (how oauth4webapi learns a nonce), ' +
      'so its figure includes the Headers/fetch-options plumbing of a request.',
    'ID Token (iss, sub, aud, exp, iat, nonce, c_hash; header alg, kid, typ JWT), JWKS of 2 keys (one EC P-256, one RSA-2048, each with kid, alg, use): ' +
      'raw = one `crypto.subtle.verify` over pre-decoded bytes with a pre-imported key (no claim checks); ' +
      `keybound = \`validateIdToken(idToken, keys, {issuer, clientId, nonce, binding: "preferred"})\` with ${kbSet}, result \`bound: false\`; ` +
      'jose = `jwtVerify(idToken, createLocalJWKSet(jwks) made once, {issuer, audience, algorithms, maxTokenAge: 600, requiredClaims})` plus a nonce comparison; ' +
      'oauth4webapi has no stand-alone ID Token verifier: its closest is `validateCodeIdTokenResponse(as, client, URLSearchParams{code, id_token}, nonce, ...)` ' +
      '(hybrid response: signature with the JWKS, iss, aud, exp, iat, nonce, sub, plus the c_hash of the code, one more SHA-256), ' +
      'keys from `[jwksCache]` with one `as` object (it caches the JWKS per `as` and the CryptoKeys per JWK object); a `[customFetch]` serves the JWKS if the cache expires.',
    'JWKS per token: every call starts from the JWKS JSON text (`JSON.parse`, as if just fetched). raw = parse, pick by kid, `importKey` + `verify`; ' +
      'keybound = `validateIdToken(idToken, JSON.parse(text), options)`; jose = `jwtVerify(idToken, createLocalJWKSet(JSON.parse(text)), options)`; ' +
      'oauth4webapi = a fresh `as` object and `[jwksCache]: {jwks: JSON.parse(text), uat: now}` per call. ' +
      '"Same keys": the same token and keys every call, so a library that caches imported keys by their content across calls ' +
      '(keybound keeps its 32 most recent in the build this was written against; jose and oauth4webapi key their caches by object) imports nothing again. ' +
      `"New keys": the calls cycle through ${NEW_KEYS} issuers (${NEW_KEYS} ES256 and ${NEW_KEYS} RS256 key pairs, each JWKS with its own 2 keys), ` +
      'more keys than such a cache holds: every contender imports the key for every token.',
    'Key pair: raw = `generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign", "verify"])`; ' +
      'keybound = `generateDPoPKeyPair({persist: false})` (also exports the public JWK and computes its thumbprint and the proof header, once per key); ' +
      'jose, dpop, oauth4webapi = `generateKeyPair("ES256")` (non-extractable by default). ' +
      'raw, oauth4webapi, jose and dpop make the very same WebCrypto call here, so their spread in this row ' +
      'is the noise floor of this harness, not a difference between them. dpop has no ID Token verifier: empty cells.',
  ];
}

/**
 * Cold start, for a fresh page (bench-cold.html): the time of `await import(url)` (+ `await init()`
 * for keybound), then, after generating a key (not timed), the time of the first DPoP proof.
 */
export async function coldStart(contender) {
  const resourcesBefore = performance.getEntriesByType('resource').length;
  let lib = null;
  let importMs = null;
  if (contender !== 'raw') {
    const t0 = performance.now();
    lib = await importLibrary(contender);
    importMs = performance.now() - t0;
  }
  const requests = performance.getEntriesByType('resource').length - resourcesBefore;
  const kbKey = contender === 'keybound' ? await lib.generateDPoPKeyPair({ persist: false }) : null;
  const keyPair = kbKey?.keyPair ?? (await crypto.subtle.generateKey(P256, false, ['sign', 'verify']));
  const ctx = await proofContext(keyPair, kbKey);
  const make = await PROOF_MAKERS[contender](lib, ctx);
  const t1 = performance.now();
  const proof = await make();
  const firstProofMs = performance.now() - t1;
  // oauth4webapi can only learn a nonce from a response, so its first proof has none.
  const problems = await proofProblems(proof, ctx, { withNonce: contender !== 'oauth4webapi' });
  if (problems.length) throw new Error(`${contender}: first proof is wrong: ${problems.join(', ')}`);
  return { contender, importMs, firstProofMs, requests, crossOriginIsolated: globalThis.crossOriginIsolated === true };
}

// ---------------------------------------------------------------- page (window only)

function runInWorker(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./bench-worker.js', { type: 'module' });
    worker.onmessage = ({ data }) => {
      worker.terminate();
      if (data.error) reject(Object.assign(new Error(data.error.message), data.error));
      else resolve(data.result);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`bench worker failed: ${event.message || 'could not load bench-worker.js'}`));
    };
    worker.postMessage(options);
  });
}

function renderTable(title, r) {
  const section = document.createElement('section');
  section.className = 'card';
  const cells = (tag, values) => values.map((v) => `<${tag}>${v}</${tag}>`).join('');
  const rows = r.rows.map((row) => `<tr>${cells('td', [row.label, ...CONTENDERS.map((c) => {
    const cell = row.cells[c];
    if (!cell) return '';
    return c === 'raw' ? `${cell.ratio.toFixed(2)} (${cell.medianUs} µs)` : cell.ratio.toFixed(2);
  })])}</tr>`);
  section.innerHTML = `
    <h2>${title}</h2>
    <table>
      <thead><tr>${cells('th', ['', ...CONTENDERS.map((c) => CONTENDER_LABELS[c])])}</tr></thead>
      <tbody>${rows.join('')}</tbody>
    </table>
    <p class="meta">median of per-round ratios to raw WebCrypto · n = ${r.n} rounds of ${r.cases} cases, each sample the
      mean of ${r.batch} back-to-back calls, after ${r.warmup} warm-up calls per case · ${r.elapsedMs} ms · timer step ${r.timerResolutionUs} µs · crossOriginIsolated ${r.crossOriginIsolated}
      · keybound JWKS: ${r.keyboundJwkSet}</p>`;
  document.getElementById('tables').append(section);
}

function renderFootnotes(notes) {
  const section = document.createElement('section');
  section.className = 'card';
  const list = document.createElement('ol');
  for (const text of notes) {
    const item = document.createElement('li');
    item.textContent = text;
    list.append(item);
  }
  section.append(list);
  document.getElementById('tables').append(section);
}

async function main() {
  const status = document.getElementById('status');
  const out = document.getElementById('out');
  const param = Number.parseInt(new URLSearchParams(location.search).get('n') ?? '', 10);
  const n = Number.isFinite(param) ? Math.min(Math.max(param, 1), 100_000) : 400;
  const batchParam = Number.parseInt(new URLSearchParams(location.search).get('batch') ?? '', 10);
  const batch = Number.isFinite(batchParam) ? Math.min(Math.max(batchParam, 1), 1000) : 8;
  const report = {
    n,
    batch,
    userAgent: navigator.userAgent,
    date: new Date().toISOString(),
    contenders: CONTENDER_LABELS,
    rows: Object.fromEntries(ROWS.map((row) => [row.id, row.label])),
  };
  try {
    status.textContent = `Running ${n} rounds in the window…`;
    report.window = await runBench({ n, batch });
    renderTable('Window', report.window);
    status.textContent = `Running ${n} rounds in a module Worker…`;
    report.worker = await runInWorker({ n, batch });
    renderTable('Module Worker', report.worker);
    report.footnotes = footnotes(report.window);
    renderFootnotes(report.footnotes);
    status.textContent = 'Done.';
    out.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = '1';
  } catch (err) {
    report.error = { name: err?.name, code: err?.code, message: String(err?.message ?? err) };
    status.textContent = `Failed: ${err?.code ?? err?.name ?? 'Error'} ${err?.message ?? err}`;
    out.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = 'error';
  }
}

// bench.html runs the benchmark; bench-cold.html and the Worker only import this module.
if (typeof document !== 'undefined' && document.getElementById('out')) main();
