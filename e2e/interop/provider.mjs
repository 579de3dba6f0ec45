// panva's oidc-provider as an independent OpenID Provider for the interop test (e2e/interop.mjs).
//
//   const { issuer, close, stats, version } = await startProvider({ port, mode, appOrigin });
//
// Runs on 127.0.0.1 with the issuer http://localhost:PORT (the browser must see "localhost": the
// DPoP htu is compared with the issuer's host). One public client, PKCE S256, DPoP, the
// development login/consent forms, rotating refresh tokens, CORS for the app's origin.
//
// Modes:
//   keybinding (default)  emulates OpenID Connect Key Binding (oidc-provider has no support of its own):
//                         when the authorization request had the bound_key scope and a dpop_jkt, the
//                         ID Token gets cnf.jwk = the DPoP proof's public key and the JOSE header
//                         typ dpop+id_token; c_s256 of the token-endpoint proof is checked against the
//                         code; refreshed ID Tokens keep the same cnf.
//   nonce                 the same, and every DPoP proof must carry a server nonce (400 use_dpop_nonce
//                         at the token endpoint, 401 at UserInfo).
//   plain                 no key-binding emulation (bound_key is not a known scope and is ignored);
//                         DPoP is still on. ID Tokens have no cnf and oidc-provider's usual header
//                         {alg, kid}: no typ member at all (not "JWT").
//
// In every mode the client may also use the device flow (RFC 8628, `features.deviceFlow`) with
// oidc-provider's default user-code pages (input, confirm, success) and the devInteractions
// login/consent in between. Key Binding for it (KB §3) is emulated in the keybinding and nonce
// modes: when the device authorization request had the bound_key scope and a dpop_jkt, every poll
// must carry a proof by the dpop_jkt key with c_s256 over the device_code, and the ID Token is
// bound as in the code flow. oidc-provider ignores a nonce sent to its device endpoint: device-flow
// ID Tokens have no nonce claim (the client accepts that; KB §3 leaves it open).
//
// How the emulation hooks in (see the notes at each step):
//   cnf      documented hooks: `claims: { bound_key: ['cnf'] }`, `conformIdTokenClaims: false`, and
//            `findAccount(...).claims()` returning cnf for use "id_token".
//   c_s256   code flow: checked inside that claims() call at the token endpoint. oidc-provider has
//            already consumed the code by then, so a bad c_s256 fails the request but burns the code.
//            device flow: checked on every poll, before oidc-provider looks at the device code, by
//            a `provider.use` middleware that reads the form body itself (oidc-provider then takes
//            the already-read body from ctx.request.body: a supported but discouraged fallback
//            that prints one "already parsed request body" warning) and finds the device code
//            with `provider.DeviceCode.find`. Checked again in claims() on success, where the
//            proof's signature has been verified.
//   dpop_jkt oidc-provider accepts dpop_jkt only at /auth and PAR; at the device endpoint it is
//            admitted with `extraParams` (with a format check) and lands in the device code's
//            stored `params`.
//   typ      no hook exists: IdToken.prototype.issue is wrapped and the ID Token re-signed with the
//            same key and a header carrying typ dpop+id_token. This relies on internals of the
//            exact oidc-provider version pinned in package.json (PINNED below).

import * as crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Provider, { errors } from 'oidc-provider';

export const PINNED = '9.13.3';
export const CLIENT_ID = 'keybound-interop';

const require = createRequire(import.meta.url);
/** The installed oidc-provider version (read from its package.json). */
export const version = (() => {
  const main = require.resolve('oidc-provider');
  let dir = path.dirname(main);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
})();

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const s256 = (text) => crypto.createHash('sha256').update(text, 'ascii').digest('base64url');

// RFC 7638 thumbprint (the members that matter for EC, RSA and OKP keys).
const THUMBPRINT_MEMBERS = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
function thumbprint(jwk) {
  const members = THUMBPRINT_MEMBERS[jwk.kty];
  if (!members) throw new Error(`unsupported kty ${jwk.kty}`);
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}
// The public JWK for cnf: only the public members of the proof's key.
const publicJwk = (jwk) => Object.fromEntries(Object.entries(jwk).filter(([k]) => THUMBPRINT_MEMBERS[jwk.kty].includes(k)));

/** The DPoP proof of the current request, decoded (oidc-provider has verified it before any claims() call). */
function dpopProof(ctx) {
  const proof = ctx.get('DPoP');
  if (!proof) return undefined;
  const [h, p] = proof.split('.');
  return { header: b64json(h), payload: b64json(p) };
}

const PEOPLE = {
  profile: (sub) => ({ name: `Interop ${sub}`, given_name: 'Interop', family_name: sub, preferred_username: sub }),
  email: (sub) => ({ email: `${sub}@example.com`, email_verified: true }),
};

/**
 * Starts oidc-provider. `port` 0 picks a free port. `appOrigin` is the origin of the app page
 * (its redirect URI is `${appOrigin}/flow.html`).
 * Resolves to `{ issuer, port, close, stats, version, clientId }`.
 */
export async function startProvider({ port = 0, mode = 'keybinding', appOrigin } = {}) {
  if (!['keybinding', 'nonce', 'plain'].includes(mode)) throw new Error(`unknown mode ${mode}`);
  if (!appOrigin) throw new Error('appOrigin is required');
  if (version !== PINNED) {
    console.warn(`interop provider: oidc-provider ${version} is installed, the typ emulation was written for ${PINNED}`);
  }
  const keyBinding = mode !== 'plain';

  // Listen first: the issuer must name the port.
  const server = (await import('node:http')).createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const actualPort = server.address().port;
  const issuer = `http://localhost:${actualPort}`;

  // The ID Token signing key (RS256, oidc-provider's default for clients). We hold the private
  // key so the typ emulation can re-sign with it.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `interop-${mode}`, alg: 'RS256', use: 'sig' };

  const stats = {
    mode,
    cS256Checked: 0, // token-endpoint proofs whose c_s256 matched the code
    refreshProofsWithCS256: 0, // refresh proofs that (wrongly) carried c_s256
    boundIdTokens: 0, // ID Tokens issued with cnf (and, re-signed, typ dpop+id_token)
    refreshes: 0,
    nonceChallenges: { token: 0, userinfo: 0 }, // use_dpop_nonce answers sent
    userinfo: [], // { status, scheme, hasAth } of each UserInfo request
    errors: [], // grant / server errors (for failure messages)
    device: {
      authorizations: [], // { scope, dpopJkt, nonce } of each device authorization request
      // Each device-code token request: { status, error, proof (present), jti, cS256 (as sent),
      // keyBinding: 'checked' | 'rejected' (by the emulation) | 'none' (no binding asked for) }.
      polls: [],
      cS256Checked: 0, // polls whose c_s256 matched the device_code (and key matched dpop_jkt)
      rejected: 0, // polls refused by the emulation (wrong or missing c_s256, wrong key)
      bound: 0, // device-flow ID Tokens issued with cnf
    },
  };

  // grantId -> the cnf JWK bound at the code exchange (so refreshes keep the same cnf).
  const bindings = new Map();

  const claims = {
    acr: null, sid: null, auth_time: null, iss: null,
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
    ...(keyBinding ? { bound_key: ['cnf'] } : {}),
  };

  async function findAccount(ctx, sub, token) {
    return {
      accountId: sub,
      async claims(use, scope) {
        const scopes = new Set(String(scope || '').split(' '));
        const out = { sub };
        if (scopes.has('profile')) Object.assign(out, PEOPLE.profile(sub));
        if (scopes.has('email')) Object.assign(out, PEOPLE.email(sub));
        if (keyBinding && use === 'id_token' && ctx.oidc.route === 'token') {
          const cnf = keyBindingCnf(ctx, token, scopes);
          if (cnf) out.cnf = cnf;
        }
        return out;
      },
    };
  }

  // Key Binding for a device code (KB §3): asked for when the device authorization request had
  // the bound_key scope and a dpop_jkt. Returns the dpop_jkt, or undefined.
  function deviceBinding(code) {
    const params = code?.params || {};
    const requested = new Set(String(params.scope || '').split(' '));
    return requested.has('bound_key') && typeof params.dpop_jkt === 'string' ? params.dpop_jkt : undefined;
  }
  // The proof checks of a bound device code: the proof key is the dpop_jkt key and c_s256 is over
  // this device_code. Returns [error, description] or null.
  function deviceProofProblem(proof, deviceCode, jkt) {
    if (!proof) return ['invalid_dpop_proof', 'key binding: DPoP proof missing'];
    let key;
    try { key = thumbprint(proof.header.jwk || {}); } catch { return ['invalid_dpop_proof', 'key binding: no usable jwk in the proof'] }
    if (key !== jkt) return ['invalid_grant', 'key binding: proof key does not match dpop_jkt'];
    if (typeof proof.payload.c_s256 !== 'string') return ['invalid_dpop_proof', 'key binding: c_s256 missing from the DPoP proof'];
    if (proof.payload.c_s256 !== s256(deviceCode)) return ['invalid_dpop_proof', 'key binding: c_s256 does not match the device_code'];
    return null;
  }

  // The Key Binding emulation at the token endpoint. Returns the cnf claim, or undefined when the
  // ID Token is not to be bound. Throws (400) when a binding was asked for and the proof is wrong.
  function keyBindingCnf(ctx, token, scopes) {
    const grantType = ctx.oidc.params.grant_type;
    const proof = dpopProof(ctx);
    if (grantType === DEVICE_GRANT) {
      // token is the DeviceCode. Every poll's proof was checked before oidc-provider looked the
      // code up (the provider.use middleware below); check once more, now that oidc-provider
      // has verified the proof's signature, and bind.
      const jkt = deviceBinding(token);
      if (!jkt || !scopes.has('bound_key')) return undefined;
      const problem = deviceProofProblem(proof, ctx.oidc.params.device_code, jkt);
      if (problem) throw new errors.InvalidGrant(problem[1]);
      const jwk = publicJwk(proof.header.jwk);
      bindings.set(token.grantId, jwk);
      stats.device.bound += 1;
      return { jwk };
    }
    if (grantType === 'authorization_code') {
      // KB §2.3: bind only when the authorization request had bound_key AND dpop_jkt.
      if (!scopes.has('bound_key') || !token?.dpopJkt) return undefined;
      if (!proof) throw new errors.InvalidGrant('key binding: DPoP proof missing');
      const jkt = thumbprint(proof.header.jwk);
      // oidc-provider has already compared the proof key with dpop_jkt; check again, cheaply.
      if (jkt !== token.dpopJkt) throw new errors.InvalidGrant('key binding: proof key does not match dpop_jkt');
      // c_s256 = BASE64URL(SHA256(ASCII(code))). The code is already consumed at this point.
      if (typeof proof.payload.c_s256 !== 'string') throw new errors.InvalidGrant('key binding: c_s256 missing from the DPoP proof');
      if (proof.payload.c_s256 !== s256(ctx.oidc.params.code)) throw new errors.InvalidGrant('key binding: c_s256 does not match the code');
      stats.cS256Checked += 1;
      const jwk = publicJwk(proof.header.jwk);
      bindings.set(token.grantId, jwk);
      return { jwk };
    }
    if (grantType === 'refresh_token') {
      const jwk = bindings.get(token?.grantId);
      if (!jwk) return undefined;
      if (proof && 'c_s256' in proof.payload) stats.refreshProofsWithCS256 += 1;
      // oidc-provider has checked the proof key against the refresh token's jkt; the bound key
      // must be that same key.
      if (!proof || thumbprint(proof.header.jwk) !== thumbprint(jwk)) throw new errors.InvalidGrant('key binding: refresh proof key is not the bound key');
      return { jwk };
    }
    return undefined;
  }

  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_name: 'keybound interop',
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      redirect_uris: [`${appOrigin}/flow.html`],
      post_logout_redirect_uris: [`${appOrigin}/flow.html`],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      // Not dpop_bound_access_tokens: the client always sends a proof; leaving it off keeps the
      // DPoP binding opt-in per request, as RFC 9449 allows.
    }],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims,
    ...(keyBinding ? {
      // dpop_jkt at the device authorization endpoint (oidc-provider allows it only at /auth and
      // PAR). The validator runs at every authorization-type endpoint; /auth checks its own.
      extraParams: {
        async dpop_jkt(ctx, value) {
          if (ctx.oidc.route === 'device_authorization' && value !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(value)) {
            throw new errors.InvalidRequest('invalid dpop_jkt');
          }
        },
      },
    } : {}),
    conformIdTokenClaims: false, // scope-requested claims (cnf) go into the ID Token
    findAccount,
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
    features: {
      devInteractions: { enabled: true },
      // oidc-provider's default user-code pages: input (form op.deviceInputForm, user_code),
      // confirm (op.deviceConfirmForm, with an [ Abort ] button), success. No interval in the
      // device authorization response: clients poll every 5 s (RFC 8628 default).
      deviceFlow: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true }, // RFC 7009, for logout
      dPoP: {
        enabled: true,
        ...(mode === 'nonce' ? { nonceSecret: crypto.randomBytes(32), requireNonce: () => true } : {}),
      },
    },
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA'] },
    // offline_access alone is not a reliable trigger here: issue a refresh token whenever the
    // client may use the refresh grant.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    clientBasedCORS: (ctx, origin) => origin === appOrigin,
    ttl: { AccessToken: 600, AuthorizationCode: 60, DeviceCode: 600, IdToken: 600, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 3600 },
  });

  if (keyBinding) {
    // typ: dpop+id_token. oidc-provider signs ID Tokens in IdToken#issue with a fixed header
    // ({alg, kid}, no typ) and offers no option for it. Re-sign a bound ID Token (one with cnf)
    // with the same key, the same payload bytes and the header plus typ. Relies on the internals
    // of the pinned version: issue({use}) resolving to a compact JWS signed with our key.
    const { IdToken } = provider;
    const issue = IdToken.prototype.issue;
    if (typeof issue !== 'function') throw new Error(`oidc-provider ${version}: IdToken#issue not found, cannot emulate typ`);
    IdToken.prototype.issue = async function issueWithKeyBindingTyp(options) {
      const jwt = await issue.call(this, options);
      if (options?.use !== 'idtoken') return jwt;
      const parts = jwt.split('.');
      if (parts.length !== 3) throw new Error('typ emulation: the ID Token is not a compact JWS');
      const payload = b64json(parts[1]);
      if (!payload.cnf) return jwt;
      const header = b64json(parts[0]);
      if (header.alg !== 'RS256' || header.kid !== signingJwk.kid) throw new Error(`typ emulation: unexpected header ${JSON.stringify(header)}`);
      const protectedHeader = Buffer.from(JSON.stringify({ ...header, typ: 'dpop+id_token' })).toString('base64url');
      const input = `${protectedHeader}.${parts[1]}`;
      const signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
      stats.boundIdTokens += 1;
      return `${input}.${signature}`;
    };
  }

  // Counters (observability only; nothing is changed on the way through).
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.path === '/token' ? 'token' : ctx.path === '/me' ? 'userinfo' : null;
    if (!route || ctx.method === 'OPTIONS') return;
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    const challenge = String(ctx.response.get('WWW-Authenticate') || '');
    if (body.error === 'use_dpop_nonce' || /error="use_dpop_nonce"/.test(challenge)) stats.nonceChallenges[route] += 1;
    if (route === 'token' && ctx.status === 200 && ctx.oidc?.params?.grant_type === 'refresh_token') stats.refreshes += 1;
    if (route === 'token' && (ctx.state.deviceKeyBinding || ctx.oidc?.params?.grant_type === DEVICE_GRANT)) {
      let claims = {};
      try { claims = dpopProof(ctx)?.payload || {}; } catch { /* malformed: oidc-provider refused it */ }
      stats.device.polls.push({
        status: ctx.status, error: body.error, proof: Boolean(ctx.get('DPoP')), jti: claims.jti, cS256: claims.c_s256,
        keyBinding: ctx.state.deviceKeyBinding || 'none',
      });
    }
    if (route === 'userinfo') {
      const proof = ctx.get('DPoP');
      stats.userinfo.push({
        status: ctx.status,
        scheme: String(ctx.get('Authorization')).split(' ')[0],
        hasAth: proof ? 'ath' in b64json(proof.split('.')[1]) : false,
      });
    }
  });
  if (keyBinding) {
    // KB §3 at the token endpoint, for the device grant: every poll, before oidc-provider finds
    // (and, on success, consumes) the device code. oidc-provider parses the form body inside its
    // route, so read it here and hand it on as the already-read body (selective_body's fallback:
    // `ctx.request.body`, a raw Buffer it parses exactly like the stream). The proof's signature
    // is verified by oidc-provider afterwards; this only ever refuses, never accepts.
    provider.use(async (ctx, next) => {
      if (ctx.method !== 'POST' || ctx.path !== '/token' || !ctx.is('application/x-www-form-urlencoded')) return next();
      const chunks = [];
      let size = 0;
      for await (const chunk of ctx.req) {
        size += chunk.length;
        if (size > 56 * 1024) { ctx.status = 413; ctx.body = { error: 'invalid_request', error_description: 'request entity too large' }; return undefined; }
        chunks.push(chunk);
      }
      const raw = Buffer.concat(chunks);
      ctx.request.body = raw;
      const form = new URLSearchParams(raw.toString('utf8'));
      if (form.get('grant_type') !== DEVICE_GRANT || !form.get('device_code')) return next();
      const deviceCode = form.get('device_code');
      const code = await provider.DeviceCode.find(deviceCode, { ignoreExpiration: true, ignoreSessionBinding: true }).catch(() => undefined);
      const jkt = deviceBinding(code);
      if (!jkt) return next(); // unknown code (oidc-provider answers) or no binding asked for
      let proof;
      try { proof = dpopProof(ctx); } catch { proof = { header: {}, payload: {} }; }
      const problem = deviceProofProblem(proof, deviceCode, jkt);
      if (problem) {
        ctx.state.deviceKeyBinding = 'rejected';
        stats.device.rejected += 1;
        stats.errors.push(`device key binding: ${problem[1]}`);
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.vary('Origin');
        const origin = ctx.get('Origin');
        if (origin && origin === appOrigin) ctx.set('Access-Control-Allow-Origin', origin);
        ctx.body = { error: problem[0], error_description: problem[1] };
        return undefined;
      }
      ctx.state.deviceKeyBinding = 'checked';
      stats.device.cS256Checked += 1;
      return next();
    });
  }
  provider.on('device_authorization.success', (ctx) => {
    const { params } = ctx.oidc;
    stats.device.authorizations.push({ scope: params.scope, dpopJkt: params.dpop_jkt, nonce: params.nonce });
  });

  provider.on('grant.error', (ctx, err) => stats.errors.push(`grant.error: ${err.error || err.name}: ${err.error_detail || err.error_description || err.message}`));
  provider.on('server_error', (ctx, err) => stats.errors.push(`server_error: ${err.stack || err.message}`));
  provider.on('userinfo.error', (ctx, err) => stats.errors.push(`userinfo.error: ${err.error || err.name}: ${err.error_description || err.message}`));
  provider.on('authorization.error', (ctx, err) => stats.errors.push(`authorization.error: ${err.error || err.name}: ${err.error_description || err.message}`));

  server.on('request', provider.callback());

  return {
    issuer,
    port: actualPort,
    clientId: CLIENT_ID,
    version,
    stats,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}
