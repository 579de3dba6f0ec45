// The login, step by step: the five cards (key, authorization request, token request proof, ID
// Token, verdict), filled as the login happens or from what this tab recorded, and the pushed
// request when the login was pushed (PAR).
import { calculateJwkThumbprint, loadDPoPKeyPair } from '/pkg/keybound.js';
import { CLIENT_ID, STEPS } from './config.js';
import { $, code, el, jktChip, renderChecks, renderJson, renderJws, timeOf } from './dom.js';
import { app } from './state.js';
import { decodeJws } from './util.js';
import { resetConsumer } from './consumer.js';

function setFilled(step, filled, failed = false) {
  $(`step-${step}`).dataset.filled = String(filled);
  const li = document.querySelector(`.strip [data-step="${step}"]`);
  li.classList.toggle('done', filled && !failed);
  li.classList.toggle('failed', failed);
}

export function resetFlow() {
  for (const step of STEPS) setFilled(step, false);
  for (const id of ['flow-key-extractable', 'flow-key-export', 'flow-key-id', 'flow-key-jkt', 'flow-key-jwk',
    'auth-endpoint', 'auth-params', 'auth-url', 'token-endpoint', 'token-proof', 'token-proof-header',
    'token-proof-payload', 'token-proof-checks', 'id-token-header', 'id-token-payload', 'id-token',
    'id-token-cnf-jkt', 'verdict-bound', 'verdict-text', 'verdict-checks', 'refresh-checks']) {
    $(id).replaceChildren();
  }
  $('flow-key-badge').hidden = true;
  $('id-token-label').hidden = true;
  delete $('verdict').dataset.bound;
  for (const [step, text] of [['key', 'Waiting for a login.'], ['auth', 'Waiting for a login.'],
    ['proof', 'Waiting for the token request.'], ['idtoken', 'Waiting for the token response.']]) {
    $(`step-${step}`).querySelector('.pending').textContent = text;
  }
  $('refresh-out').hidden = true;
  $('userinfo-out').hidden = true;
  app.sessionKeyId = null;
  resetConsumer();
}

export function showSessionEmpty() {
  $('session-empty').hidden = !$('refresh-out').hidden || !$('userinfo-out').hidden || !$('forget-out').hidden;
}

/** Step 1: the session's key, loaded from IndexedDB by its id (`keyId`), or only its jkt. */
export async function renderKey(keyId, fallbackJkt) {
  let pair = null;
  if (keyId) {
    try {
      pair = await loadDPoPKeyPair(keyId);
    } catch (err) {
      if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
    }
  }
  if (!pair) {
    if (!fallbackJkt) return;
    $('flow-key-extractable').textContent = '(key not loaded in this tab)';
    $('flow-key-export').textContent = '';
    $('flow-key-id').textContent = '(not known in this tab)';
    jktChip(fallbackJkt, $('flow-key-jkt'));
    $('flow-key-jwk').textContent = '';
    setFilled('key', true);
    return;
  }
  app.sessionKeyId = pair.id;
  const { privateKey } = pair.keyPair;
  $('flow-key-extractable').textContent = String(privateKey.extractable);
  $('flow-key-badge').hidden = privateKey.extractable !== false;
  let refusal = null;
  try {
    await crypto.subtle.exportKey('jwk', privateKey);
  } catch (err) {
    refusal = err;
  }
  $('flow-key-export').replaceChildren(refusal
    ? el('span', {}, el('strong', { textContent: 'refused' }), ' by the browser: ', code(refusal.name ?? String(refusal)))
    : el('span', { className: 'badge bad', textContent: 'exported: the private key left the browser!' }));
  $('flow-key-id').textContent = pair.id;
  jktChip(pair.jkt, $('flow-key-jkt'));
  $('flow-key-jwk').textContent = JSON.stringify(pair.publicJwk);
  setFilled('key', true);
}

const AUTH_NOTES = {
  scope: () => ['asks the OP to bind the ID Token to ', code('dpop_jkt')],
  dpop_jkt: () => ['the thumbprint of the key in ', el('b', { textContent: '1' })],
  code_challenge: () => ['PKCE: SHA-256 of a verifier that never leaves IndexedDB'],
  code_challenge_method: () => ['PKCE with SHA-256'],
  state: () => ['must come back unchanged; names the pending login'],
  nonce: () => ['must come back inside the ID Token'],
};

/** Step 2: the authorization URL decoded into its parameters. */
export function renderAuth(url) {
  const u = new URL(url);
  $('auth-endpoint').textContent = `${u.origin}${u.pathname}`;
  const rows = [...u.searchParams].map(([name, value]) => {
    let cell;
    if (name === 'scope') {
      cell = el('td', {}, ...value.split(' ').flatMap((s, i) => [
        i ? ' ' : '', s === 'bound_key' ? el('mark', { className: 'hl strong-hl', textContent: s }) : s,
      ]));
    } else if (name === 'dpop_jkt') {
      cell = el('td', {}, jktChip(value));
    } else {
      cell = el('td', {}, value);
    }
    const note = AUTH_NOTES[name];
    return el('tr', { className: note ? 'hl-row' : '' },
      el('th', {}, code(name)), cell, el('td', { className: 'why' }, ...(note ? note() : [])));
  });
  $('auth-params').replaceChildren(...rows);
  $('auth-url').textContent = url;
  setFilled('auth', true);
  return Object.fromEntries(u.searchParams);
}

/** Step 3: the DPoP proof sent with the token request, decoded. */
export function renderProof(proof, jkt, expectedCS256) {
  const { header, payload } = decodeJws(proof);
  const proofJkt = calculateJwkThumbprint(header.jwk);
  $('token-endpoint').textContent = app.client.tokenEndpoint;
  renderJson($('token-proof-header'), header, new Set(['jwk']));
  renderJson($('token-proof-payload'), payload, new Set(['htu', 'c_s256']));
  renderJws($('token-proof'), proof);
  const checks = [
    [proofJkt === jkt, 'thumbprint(', code('jwk'), ') = dpop_jkt ', jktChip(proofJkt)],
    [payload.htu === app.client.tokenEndpoint, code('htu'), ' = the token endpoint'],
  ];
  if (expectedCS256) {
    checks.push([payload.c_s256 === expectedCS256, code('c_s256'), ' = BASE64URL(SHA-256(code)) of the code that came back']);
  } else {
    checks.push([typeof payload.c_s256 === 'string', code('c_s256'), ' present (binds the proof to the code)']);
  }
  renderChecks($('token-proof-checks'), checks);
  setFilled('proof', true);
}

/** Step 4: the ID Token decoded. */
export function renderIdToken(idToken, label) {
  const { header, payload } = decodeJws(idToken);
  renderJson($('id-token-header'), header, new Set(['typ']));
  renderJson($('id-token-payload'), payload, new Set(['cnf']));
  renderJws($('id-token'), idToken);
  const cnfJwk = payload.cnf?.jwk;
  if (cnfJwk) jktChip(calculateJwkThumbprint(cnfJwk), $('id-token-cnf-jkt'));
  else $('id-token-cnf-jkt').replaceChildren(el('span', { className: 'badge bad', textContent: 'no cnf.jwk' }));
  $('id-token-label').textContent = label;
  $('id-token-label').className = `tag ${label === 'refreshed' ? 'tag-new' : 'tag-loaded'}`;
  $('id-token-label').hidden = !label;
  setFilled('idtoken', true);
}

/** Step 5: the verdict, recomputed here from the decoded token (keybound already checked it all). */
export function renderVerdict(s, sentNonce, refreshed = false) {
  const { header, payload } = decodeJws(s.idToken);
  const cnfJkt = payload.cnf?.jwk ? calculateJwkThumbprint(payload.cnf.jwk) : null;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const now = Date.now() / 1000;
  const minutes = Math.round((payload.exp - now) / 60);
  const checks = [
    [header.typ === 'dpop+id_token', 'header ', code(`typ: ${header.typ}`)],
    [cnfJkt === s.jkt, 'thumbprint(', code('cnf.jwk'), ') = dpop_jkt ', cnfJkt ? jktChip(cnfJkt) : code('(no cnf.jwk)')],
    [payload.iss === app.client.issuer, code('iss'), ` = ${payload.iss}`],
    [aud.includes(CLIENT_ID), code('aud'), ` = ${aud.join(', ')}`],
    [payload.exp > now, code('exp'), ` ${timeOf(payload.exp)} (${minutes >= 0 ? `in ${minutes} min` : 'expired'})`],
  ];
  if (sentNonce && 'nonce' in payload) checks.push([payload.nonce === sentNonce, code('nonce'), ' = the nonce sent in step 2']);
  checks.push(refreshed
    ? [null, 'signature (OP\'s JWKS), ', code('iat'), ' and ', code('azp'), ' verified by keybound; refresh() also required the same ', code('sub'), ', ', code('auth_time'), ' and ', code('cnf')]
    : [null, 'signature (OP\'s JWKS), ', code('iat'), ', ', code('azp'), ' and ', code('nonce'), ' verified by keybound before the session existed']);
  renderChecks($('verdict-checks'), checks);
  $('verdict-bound').textContent = String(s.bound);
  $('verdict').dataset.bound = String(s.bound);
  $('verdict-text').textContent = s.bound
    ? 'This ID Token names this browser\'s key in cnf.jwk: whoever it is shown to can ask for proof of possession of that key, and its private half never left this browser.'
    : 'This ID Token is not bound to this browser\'s key.';
  setFilled('verdict', true, !s.bound);
}

export function renderRefusal(err) {
  $('verdict-bound').textContent = 'refused';
  $('verdict').dataset.bound = 'refused';
  $('verdict-text').replaceChildren('The login was refused: ', code(err?.code ?? 'Error'), ` ${err?.message ?? ''}`);
  $('verdict-checks').replaceChildren();
  $('step-idtoken').querySelector('.pending').textContent = 'No ID Token was accepted: see the verdict.';
  setFilled('verdict', true, true);
}

/** The pushed authorization request (the form, the proof) and the redirect after it; returns the form's parameters. */
export function renderPush(push, url) {
  const form = Object.fromEntries(new URLSearchParams(push.body));
  $('par-endpoint').textContent = push.endpoint;
  $('par-status').textContent = String(push.status);
  $('par-status').className = `http ${push.status === 201 ? 'ok' : 'bad'}`;
  $('par-params').replaceChildren(...Object.entries(form).map(([name, value]) => el('tr', {},
    el('th', {}, code(name)), el('td', {}, name === 'dpop_jkt' ? jktChip(value) : value))));
  const proof = push.dpop ? decodeJws(push.dpop) : null;
  const proofJkt = proof ? calculateJwkThumbprint(proof.header.jwk) : null;
  const carried = [...new URL(url).searchParams.keys()].sort().join(', ');
  renderChecks($('par-checks'), [
    [proofJkt !== null && proofJkt === form.dpop_jkt, 'the ', code('DPoP'), ' proof at the PAR endpoint is signed by the login\'s key ', proofJkt ? jktChip(proofJkt) : code('(no proof)')],
    [proof?.payload.htm === 'POST' && proof?.payload.htu === push.endpoint, 'proof ', code('htm'), ' POST, ', code('htu'), ' the PAR endpoint'],
    [form.scope?.split(' ').includes('bound_key') && Boolean(form.code_challenge), 'pushed: ', code('bound_key'), ', ', code('dpop_jkt'), ', PKCE, ', code('state'), ', ', code('nonce')],
    [carried === 'client_id, request_uri', 'then the browser carried only ', code(carried), ' (step 2)'],
  ]);
  $('par-out').hidden = false;
  return form;
}
