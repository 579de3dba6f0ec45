// The passkey side of the comparison, without the page: the in-page consumer, the proofs and
// their recomputation, gesture counting and timing, and the comparison's record.
import { KeyBoundConsumer } from '/pkg/keybound.js';
import { CLIENT_ID, COMPARE_RECORD, ISSUER } from './config.js';
import { code } from './dom.js';
import { app } from './state.js';
import { base64urlDecode, base64urlEncode } from './util.js';

/** A consumer inside this page (KeyBoundConsumer), for both kinds of proof; made on first use. */
let compareConsumer = null;

export const NONCE_DOMAIN = 'kb-nonce-v1.';
const SIGN_DOMAIN = 'keybound-passkey-signature-v2';
/** The consumer request every passkey signature of the demo is made for (its in-page consumer checks the same). */
export const PK_TARGET = { method: 'POST', url: `${location.origin}/compare/passkey` };
export const COSE_ALGS = { '-7': 'ES256', '-8': 'EdDSA', '-257': 'RS256' };

/** What a consumer checks before it believes each kind of proof (keybound's consumer does all of these). */
export const KB_CHECKS = [
  ['the ID Token: the OP\'s signature (issuer\'s JWKS), ', code('iss'), ', ', code('exp'), '/', code('iat'), ', ', code('aud'), ' among its client_ids'],
  ['header ', code('typ: dpop+id_token'), ' and a public ', code('cnf.jwk')],
  ['the DPoP proof: ', code('typ'), ', ', code('alg'), ', its public ', code('jwk'), ', the signature'],
  ['thumbprint(proof ', code('jwk'), ') = thumbprint(', code('cnf.jwk'), ')'],
  [code('htm'), ' and ', code('htu'), ' = this request'],
  [code('ath'), ' = SHA-256 of this ID Token'],
  [code('iat'), ' window, ', code('jti'), ' never seen (a replay store)'],
  ['its own DPoP nonce, when it asks for one'],
];
export const PK_CHECKS = [
  ['the ID Token: the OP\'s signature (issuer\'s JWKS), ', code('iss'), ', ', code('exp'), '/', code('iat'), ', ', code('aud'), ' among its client_ids'],
  [code('nonce'), ' = commitment(thumbprint(', code('jwk'), '), salt), in the mode the presenter names'],
  ['clientDataJSON: ', code('type: webauthn.get'), ', an allowed ', code('origin'), ', not cross-origin'],
  [code('challenge'), ' = SHA-256 over the ID Token, the message and its nonce'],
  [code('rpIdHash'), ' = SHA-256(rpId); user present (and verified) flags'],
  ['the signature (DER ECDSA) over authenticatorData ‖ SHA-256(clientDataJSON), with the ', code('jwk')],
  [code('signCount'), ' grows (when the authenticator counts)'],
  ['its nonce: one it issued, still fresh, and the assertion used once (an assertion has no timestamp)'],
];

/** WebAuthn needs a secure context and a host name: an IP address is not a valid RP ID. */
export const webAuthnAvailable = () => typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials)
  && !/^(\d+\.){3}\d+$|^\[/.test(location.hostname);

export function readCompare() {
  try {
    return JSON.parse(sessionStorage.getItem(COMPARE_RECORD) || 'null') ?? {};
  } catch {
    return {};
  }
}

export function updateCompareRecord(patch) {
  const record = { ...readCompare(), ...patch };
  sessionStorage.setItem(COMPARE_RECORD, JSON.stringify(record));
  return record;
}

export async function getCompareConsumer() {
  compareConsumer ??= await KeyBoundConsumer.create({
    consumerId: 'demo-compare',
    issuers: [{ issuer: ISSUER, clientIds: [CLIENT_ID] }],
    passkey: { origins: [location.origin], rpId: location.hostname },
  });
  return compareConsumer;
}

/**
 * Runs `fn`, timing it and counting the WebAuthn calls it makes: each `create` or `get` asks the
 * user, so each is one user gesture. The calls pass through unchanged.
 */
export async function measured(fn) {
  const container = navigator.credentials;
  const counts = { create: 0, get: 0 };
  if (container) {
    for (const name of ['create', 'get']) {
      const original = container[name];
      container[name] = function counted(...args) {
        counts[name] += 1;
        return original.apply(this, args);
      };
    }
  }
  const started = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - started, gestures: counts.create + counts.get, ...counts };
  } finally {
    if (container) {
      delete container.create;
      delete container.get;
    }
  }
}

/** 'accepted', or the code of the refusal. */
export async function outcome(fn) {
  try {
    await fn();
    return 'accepted';
  } catch (err) {
    return err?.code ?? err?.name ?? 'Error';
  }
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The salted commitment, recomputed here: BASE64URL(SHA-256(domain ‖ 0 ‖ thumbprint ‖ 0 ‖ salt)). */
export async function passkeyCommitment(jkt, salt) {
  const enc = new TextEncoder();
  const bytes = concatBytes(enc.encode(NONCE_DOMAIN), enc.encode(jkt), enc.encode('.'), base64urlDecode(salt));
  return base64urlEncode(await crypto.subtle.digest('SHA-256', bytes));
}

/** The WebAuthn challenge of a passkey signature, recomputed here: SHA-256 of length-prefixed
 *  parts (PK_TARGET's URL is already in htu form: no query, default port dropped). */
export async function passkeyChallenge(idToken, message, nonce) {
  const enc = new TextEncoder();
  const parts = [enc.encode(SIGN_DOMAIN), enc.encode(idToken), message, enc.encode(nonce ?? ''), enc.encode(PK_TARGET.method), enc.encode(PK_TARGET.url)].flatMap((p) => {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(p.length));
    return [len, p];
  });
  return base64urlEncode(await crypto.subtle.digest('SHA-256', concatBytes(...parts)));
}

/** A passkey signature over `message` with a fresh consumer nonce, timed, its gestures counted. */
export async function passkeyProof(message) {
  const consumer = await getCompareConsumer();
  const nonce = await consumer.issueNonce();
  const m = await measured(() => app.pkClient.signWithPasskey(message, { ...PK_TARGET, nonce }));
  return { p: m.result, ms: m.ms, gestures: m.gestures, gets: m.get };
}

export const signMessage = (what) => JSON.stringify({ action: what, at: new Date().toISOString() });
