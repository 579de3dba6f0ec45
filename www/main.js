// keybound demo page: a key-bound login against the OP that serves this page, each step shown as
// it happens, then the session presented to the OP's demo consumer (and replayed); an agent in a
// Worker that signs in with the device flow and presents with its own key; key binding and the
// passkey-nonce mode side by side; below it, the DPoP key API by hand. Plain ES module, no build step.
import init, {
  KeyBoundClient,
  KeyBoundConsumer,
  registerPasskey,
  loadPasskey,
  generateDPoPKeyPair,
  loadDPoPKeyPair,
  deleteDPoPKeyPair,
  createDPoPProof,
  calculateJwkThumbprint,
} from '/pkg/keybound.js';

const ISSUER = location.origin;
const CLIENT_ID = 'keybound-demo';
const REDIRECT_URI = `${location.origin}/`;
const SCOPE = 'profile offline_access';
/** The reference OP's demo consumer (an RP Consuming Component) and its evidence records. */
const CONSUMER_URL = `${location.origin}/consumer/session`;
const RECORDS_URL = `${location.origin}/consumer/records`;
/** How many evidence records the table shows (newest first). */
const RECORDS_SHOWN = 12;

/** sessionStorage: what this tab saw of its login ({ url, state, jkt?, proof?, cS256?, refreshed? }). */
const LOGIN_RECORD = 'keybound-demo:login';
/** localStorage: the id of the playground's key. */
const STORAGE_KEY = 'keybound-demo:key-id';
/** sessionStorage: what this tab knows of the agent ({ session: summary, jkts: [every agent key seen], hues: {jkt: hue} }). */
const AGENT_RECORD = 'keybound-demo:agent';
/** How many of the agent's poll events the list shows (newest first). */
const AGENT_POLLS_SHOWN = 6;
/**
 * sessionStorage: the comparison ({ passkey, pending, login, signed, compared }), so that it
 * comes back after the passkey login's redirect and after a reload.
 */
const COMPARE_RECORD = 'keybound-demo:compare';
/** The name the demo's passkey is stored under (IndexedDB), and the passkey login's session name. */
const PASSKEY_NAME = 'demo';
const PASSKEY_SESSION = 'passkey';

const LOGIN_BUTTONS = ['login', 'refresh', 'userinfo', 'forget', 'login-par', 'login-popup', 'logout'];
// What the last logout reported, kept for the page the OP's end-session endpoint sends back to.
const LOGOUT_RECORD = 'keybound-demo:logout';
const KEY_BUTTONS = ['generate', 'sign', 'run-worker', 'forget-key'];
const CONSUMER_BUTTONS = ['present', 'replay'];
const COMPARE_BUTTONS = ['pk-register', 'pk-login', 'pk-sign', 'compare-run'];
const STEPS = ['key', 'auth', 'proof', 'idtoken', 'verdict'];

const $ = (id) => document.getElementById(id);
const setState = (state) => { document.body.dataset.state = state; };

/** @type {KeyBoundClient | null} */
let client = null;
/** The same client pushing its authorization requests (`par: 'always'`), when the OP has a PAR endpoint. */
let parClient = null;
/** The OP's discovery document (the PAR and revocation endpoints, for showing what was sent). */
let meta = null;
/** The current KeyBoundSession, or null. */
let session = null;
/** The IndexedDB id of the session's key, when this tab knows it. */
let sessionKeyId = null;
/** The playground's DPoPKeyPair, or null. */
let key = null;
/** Set once the page navigates to the OP: the buttons stay off. */
let leaving = false;
/** The last request presentTo sent to the consumer ({ url, method, headers, body, jti }), for the replay. */
let presented = null;
/** What the consumer card says after its last action, or null. */
let consumerNote = null;
/** Thumbprints of this page's sessions seen in this tab (to label evidence rows). */
const pageJkts = new Set();
/** The cnf_jkt values of the evidence rows shown. */
let shownRecordJkts = new Set();
/** Set when another login (another tab) replaced this page's stored session: { jkt, keyGone }. */
let pageReplaced = null;

// ---------------------------------------------------------------- helpers

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function base64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function base64urlEncode(bytes) {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeJws(jws) {
  const [h, p, s] = jws.split('.');
  const json = (part) => JSON.parse(new TextDecoder().decode(base64urlDecode(part)));
  return { header: json(h), payload: json(p), signingInput: `${h}.${p}`, signature: base64urlDecode(s) };
}

async function sha256b64url(text) {
  return base64urlEncode(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Pretty JSON (same text as JSON.stringify(obj, null, 2)) with some top-level members marked. */
function renderJson(pre, obj, highlight = new Set()) {
  const entries = Object.entries(obj);
  pre.replaceChildren('{\n');
  entries.forEach(([name, value], i) => {
    const text = `${JSON.stringify(name)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`;
    pre.append('  ', highlight.has(name) ? el('mark', { className: 'hl', title: name, textContent: text }) : text);
    pre.append(i < entries.length - 1 ? ',\n' : '\n');
  });
  pre.append('}');
}

/** The compact JWS with its three parts colored; the text stays the exact JWS. */
function renderJws(pre, jws) {
  const [h, p, s] = jws.split('.');
  pre.replaceChildren(
    el('span', { className: 'jws-h', textContent: h }), '.',
    el('span', { className: 'jws-p', textContent: p }), '.',
    el('span', { className: 'jws-s', textContent: s }),
  );
}

/** checks: [ok (true | false | null for info), ...content] */
function renderChecks(ul, checks) {
  ul.replaceChildren(...checks.map(([ok, ...content]) =>
    el('li', { className: ok === null ? 'info' : ok ? 'pass' : 'fail' }, ...content)));
}

const code = (text) => el('code', { textContent: text });

/** A small key icon (inline SVG, no text, so textContent of a chip is the thumbprint). */
function keyIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'key-icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M7.5 9a4.5 4.5 0 1 1 4.36 5.62L10.5 16H9v1.5H7.5V19H4v-3.2l5.1-5.1A4.5 4.5 0 0 1 7.5 9Zm3-1.5a1.5 1.5 0 1 0 3 0 1.5 1.5 0 0 0-3 0Z');
  svg.append(path);
  return svg;
}

/** Hues given to some keys instead of their own (so the agent's key never looks like the page's). */
const jktHues = new Map();

function naturalHue(jkt) {
  let hue = 0;
  for (const c of jkt) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  return hue;
}

const hueOf = (jkt) => jktHues.get(jkt) ?? naturalHue(jkt);

/**
 * Gives `jkt` (unless it has a hue already) a hue at least 60° from the keys in `near` and as far
 * as it can from those in `others` (keys shown elsewhere on the page).
 */
function distinctHue(jkt, near, others = []) {
  if (jktHues.has(jkt)) return;
  const dist = (a, b) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
  const minTo = (h, list) => Math.min(180, ...list.filter((o) => o && o !== jkt).map((o) => dist(h, hueOf(o))));
  const natural = naturalHue(jkt);
  const score = (h) => Math.min(minTo(h, near), 60) * 1000 + Math.min(minTo(h, others), 40);
  let best = natural;
  for (let k = 1; k < 24; k++) {
    const h = (natural + k * 15) % 360;
    if (score(h) > score(best)) best = h;
  }
  if (best !== natural) jktHues.set(jkt, best);
}

/** A thumbprint as a colored chip: the same key gets the same color in every step. */
function jktChip(jkt, target = el('span')) {
  target.classList.add('jkt');
  target.style.setProperty('--h', String(hueOf(jkt)));
  target.title = 'JWK SHA-256 thumbprint (RFC 7638)';
  target.replaceChildren(keyIcon(), el('code', { textContent: jkt }));
  return target;
}

function timeOf(secs) {
  return new Date(secs * 1000).toLocaleTimeString();
}

function readRecord() {
  try {
    return JSON.parse(sessionStorage.getItem(LOGIN_RECORD) || 'null');
  } catch {
    return null;
  }
}

function writeRecord(record) {
  if (record) sessionStorage.setItem(LOGIN_RECORD, JSON.stringify(record));
  else sessionStorage.removeItem(LOGIN_RECORD);
}

// ---------------------------------------------------------------- errors and actions

function showError(err) {
  console.warn('keybound demo:', err);
  const box = $('error');
  const errCode = err?.code ?? err?.name ?? 'Error';
  const cause = err?.cause ? ` (cause: ${err.cause.name ?? 'Error'}${err.cause.message ? `: ${err.cause.message}` : ''})` : '';
  box.replaceChildren(
    el('strong', { textContent: 'Error ' }),
    el('code', { className: 'code', textContent: errCode }),
    ` ${err?.message ?? String(err)}${cause}`,
  );
  box.dataset.code = err?.code ?? '';
  box.hidden = false;
}

function clearError() {
  const box = $('error');
  box.hidden = true;
  box.replaceChildren();
  delete box.dataset.code;
}

/** Runs one action: state `busy`, error box cleared, buttons off; then the action's final state. */
async function action(fn) {
  setState('busy');
  clearError();
  for (const id of [...LOGIN_BUTTONS, ...KEY_BUTTONS, ...CONSUMER_BUTTONS, ...COMPARE_BUTTONS]) $(id).disabled = true;
  try {
    setState(await fn());
  } catch (err) {
    showError(err);
    setState('error');
  } finally {
    updateButtons();
  }
}

function updateButtons() {
  $('login').disabled = !client || leaving;
  $('login').textContent = session ? 'Log in again with key binding' : 'Log in with key binding';
  $('refresh').disabled = !session?.hasRefreshToken || leaving;
  $('userinfo').disabled = !session || leaving;
  $('forget').disabled = !session || leaving;
  $('login-par').disabled = !parClient || leaving;
  $('login-popup').disabled = !client || leaving;
  $('logout').disabled = !session || leaving;
  $('generate').disabled = false;
  for (const id of ['sign', 'run-worker', 'forget-key']) $(id).disabled = !key;
  $('generate').textContent = key ? 'Generate a new key' : 'Generate key';
  $('present').disabled = !session?.bound || leaving;
  $('replay').disabled = !presented || leaving;
  $('consumer-status').textContent = consumerNote ?? (!session ? 'Sign in first.'
    : session.bound ? 'Presents this session\'s ID Token with a proof by its key.'
      : 'The session\'s ID Token is not bound: there is nothing to present.');
  updateAgent();
  updateCompare();
}

function showStatus() {
  const status = $('status');
  if (!session) {
    status.replaceChildren('Not signed in.');
    if (pageReplaced) {
      status.append(' ', el('span', { className: 'badge bad', textContent: 'this page\'s session was replaced by another login' }));
    }
    return;
  }
  pageJkts.add(session.jkt);
  pageReplaced = null;
  status.replaceChildren(
    'Signed in as ', el('strong', { textContent: String(session.claims.sub) }), ' · ',
    session.bound
      ? el('span', { className: 'badge good', textContent: 'ID Token bound to this browser\'s key' })
      : el('span', { className: 'badge bad', textContent: 'ID Token NOT bound' }),
    ' ', jktChip(session.jkt),
  );
}

// ---------------------------------------------------------------- the login flow, step by step

function setFilled(step, filled, failed = false) {
  $(`step-${step}`).dataset.filled = String(filled);
  const li = document.querySelector(`.strip [data-step="${step}"]`);
  li.classList.toggle('done', filled && !failed);
  li.classList.toggle('failed', failed);
}

function resetFlow() {
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
  sessionKeyId = null;
  resetConsumer();
}

function showSessionEmpty() {
  $('session-empty').hidden = !$('refresh-out').hidden || !$('userinfo-out').hidden || !$('forget-out').hidden;
}

/** Step 1: the session's key, loaded from IndexedDB by its id (`keyId`), or only its jkt. */
async function renderKey(keyId, fallbackJkt) {
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
  sessionKeyId = pair.id;
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
function renderAuth(url) {
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
function renderProof(proof, jkt, expectedCS256) {
  const { header, payload } = decodeJws(proof);
  const proofJkt = calculateJwkThumbprint(header.jwk);
  $('token-endpoint').textContent = client.tokenEndpoint;
  renderJson($('token-proof-header'), header, new Set(['jwk']));
  renderJson($('token-proof-payload'), payload, new Set(['htu', 'c_s256']));
  renderJws($('token-proof'), proof);
  const checks = [
    [proofJkt === jkt, 'thumbprint(', code('jwk'), ') = dpop_jkt ', jktChip(proofJkt)],
    [payload.htu === client.tokenEndpoint, code('htu'), ' = the token endpoint'],
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
function renderIdToken(idToken, label) {
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
function renderVerdict(s, sentNonce, refreshed = false) {
  const { header, payload } = decodeJws(s.idToken);
  const cnfJkt = payload.cnf?.jwk ? calculateJwkThumbprint(payload.cnf.jwk) : null;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const now = Date.now() / 1000;
  const minutes = Math.round((payload.exp - now) / 60);
  const checks = [
    [header.typ === 'dpop+id_token', 'header ', code(`typ: ${header.typ}`)],
    [cnfJkt === s.jkt, 'thumbprint(', code('cnf.jwk'), ') = dpop_jkt ', cnfJkt ? jktChip(cnfJkt) : code('(no cnf.jwk)')],
    [payload.iss === client.issuer, code('iss'), ` = ${payload.iss}`],
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

function renderRefusal(err) {
  $('verdict-bound').textContent = 'refused';
  $('verdict').dataset.bound = 'refused';
  $('verdict-text').replaceChildren('The login was refused: ', code(err?.code ?? 'Error'), ` ${err?.message ?? ''}`);
  $('verdict-checks').replaceChildren();
  $('step-idtoken').querySelector('.pending').textContent = 'No ID Token was accepted: see the verdict.';
  setFilled('verdict', true, true);
}

/** Everything this tab knows about the current session, after a reload. */
async function renderStoredSession() {
  const record = readRecord();
  const mine = record && record.jkt === session.jkt;
  if (mine) {
    renderAuth(record.url);
    if (record.push) renderPush(record.push, record.url);
    await renderKey(session.keyId, session.jkt);
    if (record.proof) renderProof(record.proof, session.jkt, record.cS256);
  } else {
    await renderKey(null, session.jkt);
    for (const step of ['auth', 'proof']) $(`step-${step}`).querySelector('.pending').textContent = 'Not recorded in this tab.';
  }
  renderIdToken(session.idToken, mine && record.refreshed ? 'refreshed' : 'from login');
  renderVerdict(session, mine ? new URL(record.url).searchParams.get('nonce') : null, Boolean(mine && record.refreshed));
}

/** Back from the OP with `code` or `error`: finish the login, showing each step as it comes. */
async function finishFromCallback() {
  const params = new URLSearchParams(location.search);
  const record = readRecord();
  const ours = record && record.state === params.get('state');
  let sent = {};
  if (ours) {
    // Showing steps 1 and 2 must never keep the login from finishing.
    try {
      sent = renderAuth(record.url);
      // A pushed login: the browser carried only client_id and request_uri; what was asked is
      // in the push.
      if (record.push) sent = renderPush(record.push, record.url);
      await renderKey(record.keyId, null);
    } catch (err) {
      console.warn('keybound demo: could not show the login steps', err);
    }
  }
  const callbackCode = params.get('code');
  const cS256 = callbackCode ? await sha256b64url(callbackCode) : null;
  $('status').textContent = 'Exchanging the code at the token endpoint…';
  let s;
  try {
    s = await client.finishLogin(location.href);
  } catch (err) {
    const proof = client.lastTokenRequestProof;
    if (proof && ours) renderProof(proof, sent.dpop_jkt, cS256);
    renderRefusal(err);
    writeRecord(null);
    throw err;
  } finally {
    history.replaceState(null, '', '/');
  }
  session = s;
  const proof = client.lastTokenRequestProof;
  if (!ours) {
    // A login this tab did not start (or a lost sessionStorage): only what the session says.
    await renderKey(null, s.jkt);
  }
  if (proof) renderProof(proof, s.jkt, cS256);
  // The login round trip: from the click (startLogin) to the validated session, the OP's form included.
  const loginMs = ours && record.startedAt ? Date.now() - record.startedAt : null;
  writeRecord(ours ? { url: record.url, state: record.state, keyId: record.keyId, jkt: s.jkt, proof, cS256, loginMs, push: record.push } : null);
  renderIdToken(s.idToken, 'from login');
  renderVerdict(s, sent.nonce);
}

// ---------------------------------------------------------------- buttons of the login flow

$('login').addEventListener('click', () => action(async () => {
  const startedAt = Date.now();
  const { url, state, keyId } = await client.startLogin();
  writeRecord({ url, state, keyId, startedAt });
  leaving = true;
  $('status').textContent = 'Going to the OP to sign in…';
  location.assign(url);
  return 'busy';
}));

// ---------------------------------------------------------------- PAR, popup login, logout

/** The pushed authorization request (the form, the proof) and the redirect after it; returns the form's parameters. */
function renderPush(push, url) {
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

$('login-par').addEventListener('click', () => action(async () => {
  const startedAt = Date.now();
  const endpoint = meta.pushed_authorization_request_endpoint;
  const { result: { url, state, keyId }, exchanges } = await observeRequestsTo(endpoint, () => parClient.startLogin());
  const sent = exchanges.at(-1);
  const push = { endpoint, status: sent.status, body: sent.request.body, dpop: sent.request.headers.dpop ?? null };
  writeRecord({ url, state, keyId, startedAt, push });
  leaving = true;
  $('status').textContent = 'Pushed the request; going to the OP to sign in…';
  location.assign(url);
  return 'busy';
}));

$('login-popup').addEventListener('click', () => action(async () => {
  // loginPopup opens the popup before it awaits anything, so the click still counts.
  const s = await client.loginPopup();
  session = s;
  writeRecord(null);
  resetFlow();
  await renderKey(s.keyId, s.jkt);
  renderIdToken(s.idToken, 'from popup login');
  renderVerdict(s, null);
  const cnf = decodeJws(s.idToken).payload.cnf?.jwk;
  renderChecks($('popup-checks'), [
    [!new URLSearchParams(location.search).has('code'), 'this page never left: the popup handed the callback back and closed'],
    [s.bound && Boolean(cnf) && calculateJwkThumbprint(cnf) === s.jkt, 'finished here with finishLogin\'s checks: ', code('cnf.jwk'), ' is the login\'s key ', jktChip(s.jkt)],
  ]);
  $('popup-out').hidden = false;
  $('logout-out').hidden = true;
  showStatus();
  return 'signed-in';
}));

$('logout').addEventListener('click', () => action(async () => {
  const { keyId, jkt } = session;
  const watched = meta.revocation_endpoint ?? '';
  const { result: out, exchanges } = await observeRequestsTo(watched, () => client.startLogout({ postLogoutRedirectUri: REDIRECT_URI }));
  const sent = exchanges.at(-1);
  const proof = sent?.request.headers.dpop ? decodeJws(sent.request.headers.dpop) : null;
  const record = {
    keyId, jkt, endpoint: watched, revoked: out.revoked, revocationError: out.revocationError?.code ?? null,
    status: sent?.status ?? null, hint: sent ? new URLSearchParams(sent.request.body).get('token_type_hint') : null,
    proofJkt: proof ? calculateJwkThumbprint(proof.header.jwk) : null, endSession: out.url ?? null,
  };
  sessionStorage.setItem(LOGOUT_RECORD, JSON.stringify(record));
  session = null;
  writeRecord(null);
  resetFlow();
  if (out.url) {
    leaving = true;
    $('status').textContent = 'Logged out here; ending the session at the OP…';
    location.assign(out.url);
    return 'busy';
  }
  await renderLogout(record, null);
  return 'logged-out';
}));

/** What the logout did, checked: the revocation, the key and session gone, the state on return (`stateChecked`: null when there was no return). */
async function renderLogout(record, stateChecked) {
  let keyGone = false;
  try {
    await loadDPoPKeyPair(record.keyId);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
    keyGone = true;
  }
  const checks = [
    [record.revoked === true, record.revoked ? 'the refresh token revoked at ' : 'the revocation failed at ', code(record.endpoint),
      ` (${record.hint ?? 'no request'} → ${record.status ?? '-'})`, record.revocationError ? code(` ${record.revocationError}`) : ''],
    [record.proofJkt === record.jkt, 'with a DPoP proof by the session key ', jktChip(record.jkt)],
    [keyGone, 'key pair ', code(record.keyId), ' deleted (loading it fails with ', code('ERR_KEY_NOT_FOUND'), ')'],
    [(await client.session()) === null, 'session deleted, in every tab'],
  ];
  if (stateChecked !== null) checks.push([stateChecked === true, 'back from the OP\'s end-session endpoint, ', code('state'), stateChecked === true ? ' checked' : ` refused: ${stateChecked}`]);
  renderChecks($('logout-checks'), checks);
  $('logout-out').hidden = false;
  $('popup-out').hidden = true;
}

/** Refreshes the page's session and shows it (steps 4 and 5, and the refresh checks). */
async function refreshPageSession() {
  const before = session;
  const beforeToken = decodeJws(before.idToken).payload;
  const beforeCnf = beforeToken.cnf?.jwk ? calculateJwkThumbprint(beforeToken.cnf.jwk) : null;
  session = await client.refresh();
  const after = decodeJws(session.idToken).payload;
  const afterCnf = after.cnf?.jwk ? calculateJwkThumbprint(after.cnf.jwk) : null;
  const proof = client.lastTokenRequestProof;
  const proofDecoded = proof ? decodeJws(proof) : null;
  renderIdToken(session.idToken, 'refreshed');
  renderVerdict(session, null, true);
  const record = readRecord();
  if (record && record.jkt === session.jkt) writeRecord({ ...record, refreshed: true });
  const checks = [
    [session.idToken !== before.idToken, 'a new ID Token: ', code('iat'), ` ${timeOf(beforeToken.iat)} → ${timeOf(after.iat)}`],
    [afterCnf !== null && afterCnf === beforeCnf, code('cnf'), ' unchanged ', afterCnf ? jktChip(afterCnf) : code('(none)')],
    [after.sub === beforeToken.sub, code('sub'), ` unchanged: ${after.sub}`],
  ];
  if (proofDecoded) {
    checks.push([calculateJwkThumbprint(proofDecoded.header.jwk) === session.jkt && !('c_s256' in proofDecoded.payload),
      'refresh proof signed by the same key, no ', code('c_s256'), ' (no code this time)']);
  }
  renderChecks($('refresh-checks'), checks);
  $('refresh-out').hidden = false;
  $('forget-out').hidden = true;
  showSessionEmpty();
  showStatus();
  return { before: before.idToken, after: session.idToken, beforeCnf, afterCnf };
}

$('refresh').addEventListener('click', () => action(async () => {
  await refreshPageSession();
  $('refresh-out').scrollIntoView({ block: 'nearest' });
  return 'refreshed';
}));

$('userinfo').addEventListener('click', () => action(async () => {
  const res = await client.fetch(client.userinfoEndpoint, undefined);
  const body = await res.text();
  $('userinfo-endpoint').textContent = client.userinfoEndpoint;
  $('userinfo-status').textContent = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  $('userinfo-status').className = `http ${res.ok ? 'ok' : 'bad'}`;
  let pretty = body;
  try {
    pretty = JSON.stringify(JSON.parse(body), null, 2);
  } catch { /* not JSON: shown as is */ }
  $('userinfo-body').textContent = pretty;
  $('userinfo-out').hidden = false;
  $('forget-out').hidden = true;
  showSessionEmpty();
  $('userinfo-out').scrollIntoView({ block: 'nearest' });
  return 'userinfo';
}));

$('forget').addEventListener('click', () => action(async () => {
  const keyId = sessionKeyId;
  const existed = await client.forget();
  const after = await client.session();
  let keyGone = null;
  if (keyId) {
    try {
      await loadDPoPKeyPair(keyId);
      keyGone = false;
    } catch (err) {
      if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
      keyGone = true;
    }
  }
  session = null;
  writeRecord(null);
  resetFlow();
  const checks = [
    [existed && after === null, existed ? 'session (tokens) deleted' : 'there was no session'],
  ];
  if (keyGone !== null) {
    checks.push([keyGone, 'key pair ', code(keyId), ' deleted from IndexedDB (loading it now fails with ', code('ERR_KEY_NOT_FOUND'), ')']);
  }
  renderChecks($('forget-checks'), checks);
  $('forget-out').hidden = false;
  showSessionEmpty();
  showStatus();
  return 'forgotten';
}));

// ---------------------------------------------------------------- presenting to a consumer

/**
 * Runs `fn` while noting every request the page sends to `url` through the global `fetch`, and
 * the answer's status and challenge headers. Requests pass through unchanged. keybound's
 * `presentTo` sends with the global `fetch`, so this shows exactly what it sent.
 */
async function observeRequestsTo(url, fn) {
  const original = globalThis.fetch;
  const exchanges = [];
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== url) return original(request);
    const sent = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.clone().text(),
    };
    const response = await original(request);
    exchanges.push({
      request: sent,
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      dpopNonce: response.headers.get('dpop-nonce'),
    });
    return response;
  };
  try {
    return { result: await fn(), exchanges };
  } finally {
    globalThis.fetch = original;
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The consumer's JSON answer without its evidence record (that one is a row of the table: `note` says so). */
function renderAnswer(pre, note, text, highlight) {
  const answer = parseJson(text);
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
    pre.textContent = text;
    note.hidden = true;
    return answer;
  }
  const { evidence, ...rest } = answer;
  renderJson(pre, rest, highlight);
  note.hidden = !evidence;
  return answer;
}

function httpStatus(target, res) {
  target.textContent = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  target.className = `http ${res.ok ? 'ok' : 'bad'}`;
}

const NONCE_CHALLENGES = new Set(['ERR_DPOP_NONCE_REQUIRED', 'ERR_DPOP_NONCE_MISMATCH']);
const short = (text, n = 10) => (text.length > n ? `${text.slice(0, n)}…` : text);

/** One request of the exchange, as a list item. */
function exchangeItem({ request, status, wwwAuthenticate, dpopNonce }) {
  const proof = parseJson(new TextDecoder().decode(base64urlDecode(request.headers.dpop?.split('.')[1] ?? '')));
  const nonce = proof?.nonce;
  return el('li', {},
    el('span', { className: 'verb', textContent: request.method }), ' ', code(new URL(request.url).pathname),
    ' with a proof ', nonce ? el('span', {}, 'carrying ', code(`nonce ${short(nonce, 12)}`)) : el('b', { textContent: 'without a nonce' }),
    ' → ', el('span', { className: `http ${status < 300 ? 'ok' : 'bad'}`, textContent: String(status) }),
    ...(dpopNonce && /use_dpop_nonce/.test(wwwAuthenticate ?? '')
      ? [' ', code('use_dpop_nonce'), ', ', code(`DPoP-Nonce: ${short(dpopNonce, 12)}`), el('span', { className: 'muted', textContent: ' → retried with it' })]
      : []));
}

function resetConsumer() {
  presented = null;
  consumerNote = null;
  $('present-out').hidden = true;
  $('replay-out').hidden = true;
  $('present-evidence-note').hidden = true;
  $('replay-evidence-note').hidden = true;
  for (const id of ['present-exchanges', 'present-proof-header', 'present-proof-payload', 'present-checks', 'present-proof',
    'present-endpoint', 'present-status', 'present-answer', 'replay-endpoint', 'replay-status', 'replay-code', 'replay-answer', 'replay-why']) {
    $(id).replaceChildren();
  }
}

function outcomeBadge(record) {
  if (record.outcome === 'accepted') return el('span', { className: 'badge good', textContent: 'accepted' });
  return el('span', { className: `badge ${NONCE_CHALLENGES.has(record.error) ? 'neutral' : 'bad'}`, textContent: 'refused' });
}

function recordRow(r) {
  const challenge = NONCE_CHALLENGES.has(r.error);
  const tr = el('tr', { className: [r.jti && r.jti === presented?.jti ? 'mine' : '', r.jti && r.jti === agentPresentedJti ? 'mine-agent' : '',
    challenge ? 'challenge' : ''].join(' ').trim() });
  Object.assign(tr.dataset, { outcome: r.outcome, error: r.error ?? '', jti: r.jti ?? '', subject: r.subject ?? '', cnfJkt: r.cnf_jkt ?? '' });
  const none = () => el('span', { className: 'none', textContent: '—' });
  const keys = el('td', { className: 'c-key' }, r.cnf_jkt ? jktChip(r.cnf_jkt, el('span', { className: 'jkt-short' })) : none());
  const holder = !r.cnf_jkt ? null : agentJkts.has(r.cnf_jkt) ? 'agent' : pageJkts.has(r.cnf_jkt) ? 'page' : null;
  if (holder) {
    keys.append(' ', el('span', { className: `holder-tag holder-${holder}`, textContent: holder, title: `the key of ${holder === 'agent' ? 'the agent (Worker)' : 'this page'}` }));
    tr.dataset.holder = holder;
  }
  if (r.proof_jkt && r.proof_jkt !== r.cnf_jkt) {
    keys.append(el('div', { className: 'mismatch' }, 'proof by ', jktChip(r.proof_jkt, el('span', { className: 'jkt-short' }))));
  }
  const htu = (() => {
    try {
      const u = new URL(r.htu);
      return u.origin === location.origin ? u.pathname : r.htu;
    } catch {
      return r.htu;
    }
  })();
  tr.append(
    el('td', { className: 'c-time', textContent: new Date(r.time * 1000).toLocaleTimeString([], { hour12: false }) }),
    el('td', {}, outcomeBadge(r)),
    el('td', { className: 'c-error' }, r.error ? code(r.error) : none(), challenge ? el('div', { className: 'note', textContent: 'nonce challenge' }) : ''),
    el('td', { className: `c-sub${r.verified ? '' : ' unverified'}`, title: r.verified ? `verified: ${r.issuer}` : 'not verified (refused)' },
      r.subject ?? none()),
    el('td', { className: 'c-aud' }, r.audience?.length ? r.audience.join(', ') : none()),
    keys,
    el('td', { className: 'c-jti', title: r.jti ?? '' }, r.jti ? code(r.jti) : none()),
    el('td', { className: 'c-htu', title: `${r.htm} ${r.htu}` }, code(htu)),
  );
  return tr;
}

function renderCounters(counters) {
  const items = [
    ['accepted', 'accepted', 'accepted', 'good'],
    ['refused', 'refused', 'refused', 'bad'],
    ['replays', 'replay', 'replays', 'bad'],
    ['key_mismatches', 'key mismatch', 'key mismatches', 'bad'],
  ].map(([name, one, many, cls]) => {
    const value = counters[name] ?? 0;
    const node = el('span', { className: `counter${value ? ` ${cls}` : ''}` },
      el('b', { textContent: String(value) }), ` ${value === 1 ? one : many}`);
    Object.assign(node.dataset, { counter: name, value: String(value) });
    return node;
  });
  const byKey = Object.entries(counters.refusals_by_key ?? {});
  if (byKey.length) {
    items.push(el('span', { className: 'by-key' }, 'refusals by key:',
      ...byKey.flatMap(([jkt, n]) => [' ', jktChip(jkt, el('span', { className: 'jkt-short' })), ` ×${n}`])));
  }
  $('consumer-counters').replaceChildren(...items);
}

/** The consumer's evidence records and counters (GET /consumer/records); never throws. */
async function loadRecords() {
  try {
    const res = await fetch(RECORDS_URL, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { records, counters } = await res.json();
    const newest = records.slice(-RECORDS_SHOWN).reverse();
    shownRecordJkts = new Set(newest.map((r) => r.cnf_jkt).filter(Boolean));
    $('records').replaceChildren(...(newest.length ? newest.map(recordRow)
      : [el('tr', {}, el('td', { colSpan: 8, className: 'pending', textContent: 'No presentation yet.' }))]));
    renderCounters(counters);
    $('records-note').textContent = records.length > RECORDS_SHOWN
      ? `newest first, ${RECORDS_SHOWN} of ${records.length}` : 'newest first';
  } catch (err) {
    console.warn('keybound demo: could not load the consumer records', err);
    $('records-note').textContent = `could not load ${RECORDS_URL}: ${err?.message ?? err}`;
  }
}

/** A refusal by the consumer, for the error box (its code is the consumer's keybound code). */
function consumerError(message, answer) {
  return Object.assign(new Error(`${message}${answer?.error_description ? `: ${answer.error_description}` : ''}`),
    { name: 'ConsumerRefusal', code: answer?.code });
}

$('present').addEventListener('click', () => action(async () => {
  resetConsumer();
  try {
    const { result: res, exchanges } = await observeRequestsTo(CONSUMER_URL, () => client.presentTo(CONSUMER_URL));
    const text = await res.text();
    const last = exchanges.at(-1);
    $('present-exchanges').replaceChildren(...exchanges.map(exchangeItem));
    if (last?.request.headers.dpop) {
      const proof = last.request.headers.dpop;
      const { header, payload } = decodeJws(proof);
      const idToken = parseJson(last.request.body)?.id_token ?? '';
      const cnfJwk = idToken ? decodeJws(idToken).payload.cnf?.jwk : null;
      const cnfJkt = cnfJwk ? calculateJwkThumbprint(cnfJwk) : null;
      const proofJkt = calculateJwkThumbprint(header.jwk);
      const challenge = exchanges.slice(0, -1).reverse().find((x) => x.dpopNonce)?.dpopNonce;
      renderJson($('present-proof-header'), header, new Set(['jwk']));
      renderJson($('present-proof-payload'), payload, new Set(['ath', 'nonce']));
      renderJws($('present-proof'), proof);
      renderChecks($('present-checks'), [
        [proofJkt === cnfJkt && proofJkt === session.jkt, 'signed by the key in the ID Token\'s ', code('cnf.jwk'), ' ', jktChip(proofJkt)],
        [payload.ath === await sha256b64url(idToken), code('ath'), ' = BASE64URL(SHA-256(ID Token)): the proof is for this token'],
        challenge
          ? [payload.nonce === challenge, code('nonce'), ' = the ', code('DPoP-Nonce'), ' of the consumer\'s 401 challenge']
          : [typeof payload.nonce === 'string', code('nonce'), ' remembered from an earlier challenge of this origin'],
        [payload.htm === 'POST' && payload.htu === CONSUMER_URL, code('htm'), ' and ', code('htu'), ' = this request'],
        [idToken === session.idToken && !('authorization' in last.request.headers),
          'the ID Token in the JSON body ', code('{"id_token": …}'), ', no ', code('Authorization'), ' header'],
      ]);
      presented = { ...last.request, jti: payload.jti };
    } else {
      renderChecks($('present-checks'), [[false, 'the request presentTo sent was not seen (it did not go through the global fetch)']]);
    }
    $('present-endpoint').textContent = CONSUMER_URL;
    httpStatus($('present-status'), res);
    const answer = renderAnswer($('present-answer'), $('present-evidence-note'), text, new Set(['sub', 'cnf_jkt', 'code']));
    $('present-out').hidden = false;
    if (!res.ok) {
      consumerNote = `Refused: ${answer?.code ?? res.status}`;
      throw consumerError('the consumer refused the presentation', answer);
    }
    consumerNote = `Accepted: the consumer opened its own session for ${answer?.sub}.`;
    return 'presented';
  } finally {
    await loadRecords();
    $('present-out').scrollIntoView({ block: 'nearest' });
  }
}));

$('replay').addEventListener('click', () => action(async () => {
  $('replay-out').hidden = true;
  try {
    const { url, method, headers, body } = presented;
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    $('replay-endpoint').textContent = url;
    httpStatus($('replay-status'), res);
    const answer = renderAnswer($('replay-answer'), $('replay-evidence-note'), text, new Set(['code']));
    $('replay-code').textContent = answer?.code ?? '';
    $('replay-why').textContent = answer?.code === 'ERR_DPOP_REPLAY'
      ? 'The ID Token is still valid and the proof\'s signature still verifies, but its jti was already used for this URI: refused.'
      : res.ok ? '' : 'Refused, though not as a replay: see the code.';
    $('replay-out').hidden = false;
    if (res.ok) {
      consumerNote = 'The replay was ACCEPTED.';
      throw Object.assign(new Error('the consumer accepted a replayed request'), { name: 'ReplayAccepted' });
    }
    consumerNote = `Replay refused: ${answer?.code ?? res.status}`;
    return 'replayed';
  } finally {
    await loadRecords();
    $('replay-out').scrollIntoView({ block: 'nearest' });
  }
}));

// ---------------------------------------------------------------- the agent: a client in a Worker

/**
 * The agent's Worker ({ worker, listeners, hello }), started on first use. Its replies are
 * `{op, ok, ...}`; `agentCall` matches a reply to its request by `op`.
 */
let agent = null;
/** What the Worker said first ({ inWorker, hasWindow }), once it did. */
let agentHello = null;
/** The agent's session as shown: { bound, sub, jkt, keyId, tokenType, hasRefreshToken, expiresAt }. */
let agentSession = null;
/** Every thumbprint the agent's keys had in this tab (to label evidence rows). */
const agentJkts = new Set();
/** A device login is in flight / the cancel was sent / a presentation is in flight. */
let agentWaiting = false;
let agentCancelling = false;
let agentPresenting = false;
/** The `jti` of the agent's last presentation (its row of the evidence table is marked). */
let agentPresentedJti = null;
/** What #agent-status says when nothing is in flight. */
let agentNote = null;

function agentError(reply) {
  return Object.assign(new Error(reply.message ?? 'the agent failed'), { name: 'KeyboundError', code: reply.code });
}

function startAgent() {
  if (agent) return agent;
  const worker = new Worker('./agent-worker.js', { type: 'module' });
  const listeners = new Set();
  const broadcast = (message) => { for (const listener of [...listeners]) listener(message); };
  worker.onmessage = ({ data }) => broadcast(data);
  worker.onerror = (event) => {
    event.preventDefault();
    broadcast({ op: '*failed', error: new Error(`the agent Worker failed: ${event.message || 'could not load agent-worker.js'}`) });
  };
  const hello = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the agent Worker did not start within 20 s')), 20_000);
    const listener = (m) => {
      if (m.op !== 'hello' && m.op !== '*failed') return;
      clearTimeout(timer);
      listeners.delete(listener);
      if (m.op === 'hello') resolve(m);
      else reject(m.error);
    };
    listeners.add(listener);
  });
  agent = { worker, listeners, hello };
  hello.then((h) => {
    agentHello = { inWorker: h.inWorker, hasWindow: h.hasWindow };
    renderHolders();
  }, () => {
    worker.terminate();
    agent = null;
  });
  return agent;
}

/** Sends `message` to the agent; resolves to its reply with the same `op`. `onEvent` hears the others meanwhile. */
async function agentCall(message, onEvent) {
  const a = startAgent();
  await a.hello;
  return new Promise((resolve, reject) => {
    const listener = (m) => {
      if (m.op === '*failed') {
        a.listeners.delete(listener);
        reject(m.error);
      } else if (m.op === message.op) {
        a.listeners.delete(listener);
        resolve(m);
      } else {
        onEvent?.(m);
      }
    };
    a.listeners.add(listener);
    a.worker.postMessage(message);
  });
}

function readAgentRecord() {
  try {
    return JSON.parse(sessionStorage.getItem(AGENT_RECORD) || 'null');
  } catch {
    return null;
  }
}

function saveAgentRecord() {
  const hues = Object.fromEntries([...agentJkts].filter((j) => jktHues.has(j)).map((j) => [j, jktHues.get(j)]));
  sessionStorage.setItem(AGENT_RECORD, JSON.stringify({ session: agentSession, jkts: [...agentJkts], hues }));
}

/**
 * After a reload: the agent keeps its own stored session (`session: 'agent'`, apart from this
 * page's), so read that one and show it again if it is still there.
 */
async function restoreAgent() {
  const record = readAgentRecord();
  if (!record) return;
  for (const jkt of record.jkts ?? []) agentJkts.add(jkt);
  for (const [jkt, hue] of Object.entries(record.hues ?? {})) jktHues.set(jkt, hue);
  const agentClient = await KeyBoundClient.discover(ISSUER, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE, session: 'agent' });
  const stored = await agentClient.session().catch(() => null);
  if (record.session && stored?.jkt === record.session.jkt) {
    agentSession = record.session;
    agentNote = 'Signed in before the reload (its own stored session). Its Worker starts again when it presents.';
    renderAgentSession(null);
  } else if (record.session) {
    agentNote = 'The agent\'s earlier session is no longer stored.';
    agentSession = null;
    saveAgentRecord();
  }
}

function agentSummary(s) {
  return {
    bound: s.bound, sub: s.claims?.sub ?? null, jkt: s.jkt, keyId: s.keyId,
    tokenType: s.tokenType, hasRefreshToken: s.hasRefreshToken, expiresAt: s.expiresAt ?? null,
  };
}

function setAgentStatus(...content) {
  $('agent-status').replaceChildren(...content);
}

function updateAgent() {
  const canWork = typeof Worker === 'function' && !leaving;
  $('agent-start').disabled = !canWork || agentWaiting || agentPresenting;
  $('agent-start').textContent = agentSession ? 'Log the agent in again' : 'Start the agent\'s device login';
  $('agent-cancel').disabled = !agentWaiting || agentCancelling;
  $('agent-present').disabled = !canWork || !agentSession?.bound || agentWaiting || agentPresenting;
  if (!agentWaiting && !agentPresenting) {
    setAgentStatus(agentNote ?? (agentSession ? `Signed in as ${agentSession.sub} with its own key.`
      : 'Not started. It will make its own key in the Worker.'));
  }
  const note = $('agent-slot-note');
  if (pageReplaced) {
    // The agent keeps its own session; only another login of this page's session (another tab)
    // replaces it.
    note.replaceChildren(
      el('strong', { textContent: 'This page\'s session was replaced by another login of it (another tab). ' }),
      'Each component keeps its own named session; the agent\'s is separate (', code("session: 'agent'"), ').',
    );
    note.hidden = false;
  } else {
    note.hidden = true;
  }
  renderHolders();
}

/** The "which component holds which key" boxes. */
function renderHolders() {
  const none = (text) => el('span', { className: 'muted', textContent: text });
  if (session) {
    $('holder-page-key').replaceChildren(jktChip(session.jkt));
    $('holder-page-info').replaceChildren(`Signed in as ${session.claims.sub}, bound: ${session.bound}. Signs its token requests and its presentations.`);
  } else if (pageReplaced) {
    $('holder-page-key').replaceChildren(jktChip(pageReplaced.jkt, el('span', { className: 'gone' })));
    $('holder-page-info').replaceChildren(el('span', { className: 'bad-text' },
      pageReplaced.keyGone ? 'Deleted: another login replaced this page\'s session.' : 'Its session was replaced by another login.'));
  } else {
    $('holder-page-key').replaceChildren(none('no key: not signed in'));
    $('holder-page-info').replaceChildren('Log in above: the page makes a fresh key for its login.');
  }
  if (agentSession) {
    $('holder-agent-key').replaceChildren(jktChip(agentSession.jkt));
    $('holder-agent-info').replaceChildren(`Signed in as ${agentSession.sub}, bound: ${agentSession.bound}. Signs its device-flow polls and its presentations.`);
  } else if (agentWaiting) {
    $('holder-agent-key').replaceChildren(none('a fresh key, made in the Worker'));
    $('holder-agent-info').replaceChildren('Its thumbprint comes with the session, once you approve.');
  } else {
    $('holder-agent-key').replaceChildren(none('no key yet'));
    $('holder-agent-info').replaceChildren('Start its device login: the Worker makes its own key.');
  }
  if (agentHello) {
    $('holder-agent-info').append(' ', el('span', { className: 'muted' },
      'Runs in a ', code(agentHello.inWorker ? 'WorkerGlobalScope' : 'Window?'), ', ', code(agentHello.hasWindow ? 'window: yes' : 'no window'), '.'));
  }
}

function showUserCode(m) {
  const link = m.verificationUriComplete ?? m.verificationUri;
  $('agent-user-code').textContent = m.userCode;
  $('agent-verify-link').href = link;
  $('agent-verify-link').textContent = link;
  $('agent-verify-uri').textContent = m.verificationUri;
  $('agent-code-phase').textContent = `waiting · polls every ${m.interval} s`;
  $('agent-code-out').dataset.phase = 'waiting';
  $('agent-code-out').hidden = false;
}

function addPoll(m, n) {
  const list = $('agent-polls');
  list.querySelector('.pending')?.remove();
  const item = el('li', {},
    el('span', { className: 'poll-n', textContent: `#${n}` }), ' ',
    el('span', { className: 'poll-time', textContent: new Date().toLocaleTimeString([], { hour12: false }) }), ' ',
    el('span', { className: 'verb', textContent: 'POST' }), ' ', code('/token'), ' → ',
    code(m.status), el('span', { className: 'muted', textContent: ` · next in ${m.interval} s` }));
  item.dataset.status = m.status;
  list.prepend(item);
  while (list.children.length > AGENT_POLLS_SHOWN) list.lastElementChild.remove();
  $('agent-poll-count').textContent = `${n} so far, each with a fresh DPoP proof`;
  setAgentStatus('Waiting for approval in the other tab… poll ', el('b', { textContent: `#${n}` }), ': ', code(m.status),
    `, next in ${m.interval} s`);
}

function resetAgentCode() {
  $('agent-code-out').hidden = true;
  $('agent-code-out').dataset.phase = 'waiting';
  for (const id of ['agent-user-code', 'agent-verify-link', 'agent-verify-uri', 'agent-code-phase', 'agent-code-done', 'agent-poll-count']) $(id).replaceChildren();
  $('agent-verify-link').removeAttribute('href');
  $('agent-polls').replaceChildren(el('li', { className: 'pending', textContent: 'No poll yet.' }));
}

/** The agent's session; `checks` from its login (null after a reload: only the summary is known). */
function renderAgentSession(checks) {
  $('agent-bound').replaceChildren(agentSession.bound
    ? el('span', { className: 'badge good', textContent: 'true: bound to the agent\'s key' })
    : el('span', { className: 'badge bad', textContent: 'false' }));
  $('agent-jkt').replaceChildren(jktChip(agentSession.jkt));
  $('agent-sub').textContent = String(agentSession.sub);
  renderJson($('agent-session'), agentSession, new Set(['bound', 'jkt']));
  if (checks) renderChecks($('agent-checks'), checks);
  else $('agent-checks').replaceChildren();
  $('agent-session-out').hidden = false;
}

/** Is this page's session still the stored one (another tab may have logged in)? If not, say so and sign the page out. */
async function checkPageSession() {
  if (!client || !session) return;
  const stored = await client.session().catch(() => null);
  if (stored?.jkt === session.jkt) return;
  let keyGone = null;
  if (session.keyId) {
    try {
      await loadDPoPKeyPair(session.keyId);
      keyGone = false;
    } catch (err) {
      if (err?.code === 'ERR_KEY_NOT_FOUND') keyGone = true;
    }
  }
  const jkt = session.jkt;
  session = null;
  writeRecord(null);
  resetFlow();
  pageReplaced = { jkt, keyGone };
  showStatus();
  updateButtons();
}

$('agent-start').addEventListener('click', async () => {
  clearError();
  setState('busy');
  agentWaiting = true;
  agentCancelling = false;
  agentNote = null;
  resetAgentCode();
  setAgentStatus('Starting: a fresh key in the Worker, then the device authorization request…');
  updateAgent();
  const pageJkt = session?.jkt ?? null;
  let polls = 0;
  let lastPoll = null;
  let state = 'error';
  try {
    const reply = await agentCall({ op: 'device-login' }, (m) => {
      if (m.op === 'device-code' && m.ok) {
        showUserCode(m);
        setAgentStatus('Waiting for approval in the other tab…');
        setState('agent-code');
      } else if (m.op === 'device-poll' && m.ok) {
        polls += 1;
        lastPoll = m;
        addPoll(m, polls);
      }
    });
    if (!reply.ok) throw agentError(reply);
    const s = reply.session;
    agentSession = agentSummary(s);
    agentJkts.add(s.jkt);
    // Its chip must not look like the page's key (chip colors come from the thumbprint).
    distinctHue(s.jkt, [pageJkt, ...pageJkts], [...shownRecordJkts]);
    saveAgentRecord();
    const { header, payload } = decodeJws(s.idToken);
    const cnfJkt = payload.cnf?.jwk ? calculateJwkThumbprint(payload.cnf.jwk) : null;
    const checks = [
      [s.bound === true && header.typ === 'dpop+id_token', 'bound: an ID Token of type ', code(header.typ)],
      [cnfJkt === s.jkt, 'thumbprint(', code('cnf.jwk'), ') = the agent\'s key ', cnfJkt ? jktChip(cnfJkt) : code('(no cnf.jwk)')],
      [reply.inWorker === true && reply.hasWindow === false, 'made and used in a dedicated Worker: ', code('WorkerGlobalScope'), ', no ', code('window')],
    ];
    if (pageJkt) checks.push([pageJkt !== s.jkt, 'not this page\'s key ', jktChip(pageJkt)]);
    checks.push([null, polls ? `approved after ${polls} pending poll${polls === 1 ? '' : 's'} (last: ${lastPoll.status})` : 'approved before the first poll came back pending']);
    renderAgentSession(checks);
    $('agent-code-out').dataset.phase = 'approved';
    $('agent-code-phase').textContent = 'approved ✓';
    $('agent-code-done').textContent = `Approved in the other tab as ${agentSession.sub}: the next poll got the tokens.`;
    await checkPageSession();
    agentNote = el('span', {}, 'Signed in as ', el('strong', { textContent: String(agentSession.sub) }), ' with its own key ', jktChip(s.jkt, el('span', { className: 'jkt-short' })));
    await loadRecords();
    state = 'agent-signed-in';
  } catch (err) {
    if (err?.code === 'ERR_CANCELLED') {
      $('agent-code-out').dataset.phase = 'cancelled';
      $('agent-code-phase').textContent = 'cancelled';
      $('agent-code-done').textContent = 'Cancelled: the agent stopped polling; this code is abandoned.';
      agentNote = el('span', {}, 'Cancelled (', code('ERR_CANCELLED'), '): the agent stopped polling; the code is abandoned.',
        agentSession ? ' It keeps its earlier session.' : '');
      state = 'agent-cancelled';
    } else {
      $('agent-code-out').dataset.phase = 'failed';
      $('agent-code-phase').textContent = err?.code ?? 'failed';
      $('agent-code-done').textContent = `The device login failed: ${err?.message ?? err}`;
      agentNote = el('span', {}, 'The device login failed: ', code(err?.code ?? err?.name ?? 'Error'));
      showError(err);
    }
  } finally {
    agentWaiting = false;
    agentCancelling = false;
    updateButtons();
    setState(state);
  }
});

$('agent-cancel').addEventListener('click', async () => {
  agentCancelling = true;
  updateAgent();
  setAgentStatus('Cancelling…');
  try {
    const reply = await agentCall({ op: 'cancel' });
    if (!reply.ok) throw agentError(reply);
  } catch (err) {
    showError(err);
    setState('error');
  }
});

$('agent-present').addEventListener('click', async () => {
  clearError();
  setState('busy');
  agentPresenting = true;
  $('agent-result-out').hidden = true;
  setAgentStatus('Presenting from the Worker…');
  updateAgent();
  let state = 'error';
  try {
    const reply = await agentCall({ op: 'present', url: CONSUMER_URL });
    if (reply.status === undefined) throw agentError(reply);
    const body = reply.body ?? {};
    const proof = reply.proof ?? null;
    const decoded = proof ? decodeJws(proof) : null;
    const proofJkt = decoded ? calculateJwkThumbprint(decoded.header.jwk) : null;
    agentPresentedJti = decoded?.payload.jti ?? null;
    $('agent-result-endpoint').textContent = CONSUMER_URL;
    httpStatus($('agent-result-status'), reply);
    const checks = [
      [proofJkt === agentSession.jkt, 'the proof was signed in the Worker by the agent\'s key ', proofJkt ? jktChip(proofJkt) : code('(no proof)')],
    ];
    if (reply.ok) {
      checks.push([body.cnf_jkt === agentSession.jkt, 'the consumer saw the agent\'s key: ', code('cnf_jkt'), ' = ', jktChip(String(body.cnf_jkt))]);
      checks.push([body.sub === agentSession.sub, code('sub'), ` = ${body.sub}: the same user as this page, another key holder`]);
    }
    if (session) checks.push([body.cnf_jkt !== session.jkt, 'not this page\'s key ', jktChip(session.jkt)]);
    renderChecks($('agent-result-checks'), checks);
    const answer = renderAnswer($('agent-result'), $('agent-evidence-note'), JSON.stringify(body), new Set(['sub', 'cnf_jkt', 'code']));
    if (proof) renderJws($('agent-proof'), proof);
    else $('agent-proof').replaceChildren();
    $('agent-result-out').hidden = false;
    if (!reply.ok) {
      agentNote = el('span', {}, 'The consumer refused the agent: ', code(answer?.code ?? String(reply.status)));
      throw consumerError('the consumer refused the agent\'s presentation', answer);
    }
    agentNote = el('span', {}, 'Presented: the consumer accepted the agent\'s key ', jktChip(agentSession.jkt, el('span', { className: 'jkt-short' })));
    state = 'agent-presented';
  } catch (err) {
    showError(err);
  } finally {
    agentPresenting = false;
    await loadRecords();
    updateButtons();
    $('agent-result-out').scrollIntoView({ block: 'nearest' });
    // Last: the state says the table and the buttons are up to date.
    setState(state);
  }
});

// ---------------------------------------------------------------- key binding vs passkey nonce

/** The passkey-nonce login's client: its own session, and no DPoP key binding asked of the OP. */
let pkClient = null;
/** The passkey session (a KeyBoundSession with `passkey`), or null. */
let pkSession = null;
/** The registered passkey (KeyBoundPasskey: public data only), or null. */
let passkey = null;
/** A consumer inside this page (KeyBoundConsumer), for both kinds of proof; made on first use. */
let compareConsumer = null;
/** What #compare-status says for a moment (while leaving for the OP), or null. */
let compareNote = null;

const NONCE_DOMAIN = 'kb-nonce-v1.';
const SIGN_DOMAIN = 'keybound-passkey-signature-v2';
/** The consumer request every passkey signature of the demo is made for (its in-page consumer checks the same). */
const PK_TARGET = { method: 'POST', url: `${location.origin}/compare/passkey` };
const COSE_ALGS = { '-7': 'ES256', '-8': 'EdDSA', '-257': 'RS256' };

/** What a consumer checks before it believes each kind of proof (keybound's consumer does all of these). */
const KB_CHECKS = [
  ['the ID Token: the OP\'s signature (issuer\'s JWKS), ', code('iss'), ', ', code('exp'), '/', code('iat'), ', ', code('aud'), ' among its client_ids'],
  ['header ', code('typ: dpop+id_token'), ' and a public ', code('cnf.jwk')],
  ['the DPoP proof: ', code('typ'), ', ', code('alg'), ', its public ', code('jwk'), ', the signature'],
  ['thumbprint(proof ', code('jwk'), ') = thumbprint(', code('cnf.jwk'), ')'],
  [code('htm'), ' and ', code('htu'), ' = this request'],
  [code('ath'), ' = SHA-256 of this ID Token'],
  [code('iat'), ' window, ', code('jti'), ' never seen (a replay store)'],
  ['its own DPoP nonce, when it asks for one'],
];
const PK_CHECKS = [
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
const webAuthnAvailable = () => typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials)
  && !/^(\d+\.){3}\d+$|^\[/.test(location.hostname);

function readCompare() {
  try {
    return JSON.parse(sessionStorage.getItem(COMPARE_RECORD) || 'null') ?? {};
  } catch {
    return {};
  }
}

function updateCompareRecord(patch) {
  const record = { ...readCompare(), ...patch };
  sessionStorage.setItem(COMPARE_RECORD, JSON.stringify(record));
  return record;
}

async function getCompareConsumer() {
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
async function measured(fn) {
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
async function outcome(fn) {
  try {
    await fn();
    return 'accepted';
  } catch (err) {
    return err?.code ?? err?.name ?? 'Error';
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

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
async function passkeyCommitment(jkt, salt) {
  const enc = new TextEncoder();
  const bytes = concatBytes(enc.encode(NONCE_DOMAIN), enc.encode(jkt), enc.encode('.'), base64urlDecode(salt));
  return base64urlEncode(await crypto.subtle.digest('SHA-256', bytes));
}

/** The WebAuthn challenge of a passkey signature, recomputed here: SHA-256 of length-prefixed
 *  parts (PK_TARGET's URL is already in htu form: no query, default port dropped). */
async function passkeyChallenge(idToken, message, nonce) {
  const enc = new TextEncoder();
  const parts = [enc.encode(SIGN_DOMAIN), enc.encode(idToken), message, enc.encode(nonce ?? ''), enc.encode(PK_TARGET.method), enc.encode(PK_TARGET.url)].flatMap((p) => {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(p.length));
    return [len, p];
  });
  return base64urlEncode(await crypto.subtle.digest('SHA-256', concatBytes(...parts)));
}

function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

const msText = (ms) => el('span', {}, el('b', { textContent: fmtMs(ms) }), ' ms');

function setCompareStatus(...content) {
  $('compare-status').replaceChildren(...content);
}

function updateCompare() {
  const ready = Boolean(pkClient) && !leaving;
  const webauthn = webAuthnAvailable();
  const current = Boolean(pkSession?.passkey && passkey && pkSession.passkey.jkt === passkey.jkt);
  $('pk-register').disabled = !ready || !webauthn;
  $('pk-register').textContent = passkey ? 'Register a new passkey' : 'Register a passkey';
  $('pk-login').disabled = !ready || !passkey;
  $('pk-login').textContent = pkSession ? 'Log in again with the passkey nonce' : 'Log in with the passkey nonce';
  $('pk-sign').disabled = !ready || !current;
  $('compare-run').disabled = !ready || !current;
  if (compareNote) {
    setCompareStatus(compareNote);
  } else if (!webauthn) {
    setCompareStatus('WebAuthn is not available here: it needs a secure context on a host name (http://localhost works, an IP address does not).');
  } else if (!passkey) {
    setCompareStatus('Register a passkey first.');
  } else if (!pkSession?.passkey) {
    setCompareStatus('Now log in with it: the OP only sees an opaque nonce.');
  } else if (!current) {
    setCompareStatus('The passkey session is bound to an earlier passkey: log in again with the new one.');
  } else {
    setCompareStatus('Signed in with the passkey nonce as ', el('strong', { textContent: String(pkSession.claims.sub) }), '. ',
      session?.bound ? 'Sign, or measure both.' : 'Sign, or measure (log in with key binding above to fill the key-binding column).');
  }
}

function renderPasskey(pk, registration) {
  jktChip(pk.jkt, $('pk-jkt'));
  $('pk-name').textContent = pk.name;
  $('pk-rpid').textContent = pk.rpId;
  $('pk-alg').textContent = `${pk.alg} (${COSE_ALGS[pk.alg] ?? 'unknown'})`;
  $('pk-credential').textContent = pk.credentialId;
  $('pk-jwk').textContent = JSON.stringify(pk.publicJwk);
  $('pk-register-time').replaceChildren(registration
    ? el('span', {}, msText(registration.registerMs), ` · ${registration.creates} WebAuthn create = ${registration.creates} user gesture${registration.creates === 1 ? '' : 's'}`)
    : el('span', { className: 'muted', textContent: 'registered earlier, not timed in this tab' }));
  $('pk-out').hidden = false;
}

async function renderPkLogin(login, s) {
  const { header, payload } = decodeJws(login.idToken);
  const sent = new URL(login.url).searchParams;
  const binding = s.passkey;
  const scope = (sent.get('scope') ?? '').split(' ');
  const expected = binding.mode === 'salted' && binding.salt ? await passkeyCommitment(binding.jkt, binding.salt) : binding.jkt;
  $('pk-sub').textContent = String(payload.sub);
  jktChip(binding.jkt, $('pk-binding-jkt'));
  $('pk-mode').textContent = binding.mode;
  $('pk-salt').textContent = binding.salt ?? '(none: plain mode)';
  $('pk-nonce').textContent = sent.get('nonce') ?? '';
  $('pk-login-time').replaceChildren(login.loginMs != null
    ? el('span', {}, msText(login.loginMs), el('span', { className: 'muted', textContent: ' from the click to the validated session, the OP\'s form included' }))
    : el('span', { className: 'muted', textContent: 'not timed' }));
  renderJson($('pk-id-token-header'), header, new Set(['typ']));
  renderJson($('pk-id-token-payload'), payload, new Set(['nonce']));
  renderChecks($('pk-login-checks'), [
    [!scope.includes('bound_key') && !sent.has('dpop_jkt'), 'the request asked for no key binding: no ', code('bound_key'), ', no ', code('dpop_jkt')],
    [header.typ !== 'dpop+id_token' && !payload.cnf, 'an ordinary ID Token: ', code(`typ: ${header.typ}`), ', no ', code('cnf')],
    [payload.nonce === sent.get('nonce'), code('nonce'), ' in the ID Token = the nonce sent'],
    [payload.nonce === expected, code('nonce'), ` = BASE64URL(SHA-256("${NONCE_DOMAIN}" ‖ thumbprint ‖ "." ‖ salt)), recomputed here`],
    [Boolean(passkey) && binding.jkt === passkey.jkt, 'the committed thumbprint is the registered passkey\'s ', jktChip(binding.jkt)],
    [binding.mode === 'salted' && payload.nonce !== binding.jkt, 'salted: the nonce is not the bare thumbprint, so the OP cannot link this passkey\'s logins'],
  ]);
  $('pk-login-out').hidden = false;
}

async function renderPkSigned({ message, p, ms, gets, accepted, error }) {
  const clientData = JSON.parse(new TextDecoder().decode(base64urlDecode(p.clientDataJSON)));
  const data = base64urlDecode(p.authenticatorData);
  const flags = data[32];
  const [up, uv] = [Boolean(flags & 0x01), Boolean(flags & 0x04)];
  const signCount = new DataView(data.buffer, data.byteOffset + 33, 4).getUint32(0);
  const challenge = await passkeyChallenge(p.idToken, base64urlDecode(p.message), p.nonce);
  const rpIdHashOk = base64urlEncode(data.slice(0, 32)) === await sha256b64url(location.hostname);
  const loginToken = readCompare().login?.idToken;
  const flag = (on, name) => el('span', { className: `badge ${on ? 'good' : 'bad'}`, textContent: `${name} ${on ? '1' : '0'}` });
  $('pk-message').textContent = message;
  $('pk-consumer-nonce').textContent = p.nonce ?? '(none)';
  $('pk-auth-data').replaceChildren(flag(up, 'UP'), ' ', flag(uv, 'UV'), ' signCount ', code(String(signCount)));
  renderJson($('pk-client-data'), clientData, new Set(['type', 'challenge', 'origin']));
  if (accepted) renderJson($('pk-verify-result'), { outcome: 'accepted', ...accepted }, new Set(['passkeyJkt']));
  else renderJson($('pk-verify-result'), { outcome: 'refused', code: error }, new Set(['code']));
  renderChecks($('pk-sign-checks'), [
    [Boolean(accepted) && accepted.passkeyJkt === passkey?.jkt, 'the consumer verified the assertion with the passkey the ID Token commits to ', jktChip(accepted?.passkeyJkt ?? calculateJwkThumbprint(p.publicJwk))],
    [Boolean(loginToken) && p.idToken === loginToken, 'signed over the login ID Token, whose ', code('nonce'), ' carries the commitment'],
    [clientData.type === 'webauthn.get' && clientData.origin === location.origin, code('type: webauthn.get'), ', ', code(`origin: ${clientData.origin}`)],
    [clientData.challenge === challenge, code('challenge'), ' = SHA-256 over the ID Token, the message, the consumer nonce and the consumer request (', code(`${PK_TARGET.method} ${PK_TARGET.url}`), '), recomputed here'],
    [rpIdHashOk, code('rpIdHash'), ' = SHA-256(', code(location.hostname), ')'],
    [up && uv, 'user present and user verified'],
    [null, `${gets} WebAuthn get = ${gets} user gesture${gets === 1 ? '' : 's'}, ${fmtMs(ms)} ms`],
  ]);
  $('pk-presentation').textContent = JSON.stringify(p, null, 2);
  $('pk-sign-out').hidden = false;
}

/** A passkey signature over `message` with a fresh consumer nonce, timed, its gestures counted. */
async function passkeyProof(message) {
  const consumer = await getCompareConsumer();
  const nonce = await consumer.issueNonce();
  const m = await measured(() => pkClient.signWithPasskey(message, { ...PK_TARGET, nonce }));
  return { p: m.result, ms: m.ms, gestures: m.gestures, gets: m.get };
}

const signMessage = (what) => JSON.stringify({ action: what, at: new Date().toISOString() });

/** One cell of #compare-table: a number (kept in data-value) and its unit, or n/a. */
function figure(td, value, unit, format = (v) => String(v)) {
  if (value == null) {
    td.dataset.value = '';
    td.replaceChildren(el('span', { className: 'na', textContent: 'n/a' }));
    return;
  }
  td.dataset.value = String(value);
  td.replaceChildren(el('span', { className: 'num', textContent: format(value) }), unit ? el('span', { className: 'unit', textContent: ` ${unit}` }) : '');
}

function checkCell(td, checks) {
  const ul = el('ul', { className: 'checks' });
  renderChecks(ul, checks);
  td.dataset.ok = String(checks.every(([ok]) => ok !== false));
  td.replaceChildren(ul);
}

function renderCompare(r) {
  const row = (id) => {
    const tr = $(id);
    return [tr.querySelector('.kb'), tr.querySelector('.pk'), tr.querySelector('.how')];
  };
  const bytes = (v) => v.toLocaleString('en');
  let [kb, pk, how] = row('cmp-bind');
  figure(kb, r.kb.bindMs, 'ms', fmtMs);
  figure(pk, r.pk.bindMs, 'ms', fmtMs);
  how.replaceChildren(code('generateDPoPKeyPair({persist: false})'), ', median of 5 · ', code('registerPasskey'), ', timed when you registered (again would make another credential)');
  [kb, pk, how] = row('cmp-bind-gestures');
  figure(kb, r.kb.bindGestures);
  figure(pk, r.pk.bindGestures);
  how.replaceChildren('WebAuthn ', code('create'), '/', code('get'), ' calls counted during each');
  [kb, pk, how] = row('cmp-proof');
  figure(kb, r.kb.proofMs, 'ms', fmtMs);
  figure(pk, r.pk.proofMs, 'ms', fmtMs);
  how.replaceChildren(code(r.kb.proofHow), r.kb.proofHow === 'client.present' ? ' (a DPoP proof, ath over the ID Token)' : ' (not signed in with key binding)',
    ', median of 5 · one ', code('signWithPasskey'), ' (an assertion over the login ID Token); both read the session from IndexedDB');
  [kb, pk, how] = row('cmp-proof-gestures');
  figure(kb, r.kb.proofGestures);
  figure(pk, r.pk.proofGestures);
  how.replaceChildren('WebAuthn calls counted (per proof): each one asks the user');
  [kb, pk, how] = row('cmp-login');
  figure(kb, r.kb.loginMs, 'ms', fmtMs);
  figure(pk, r.pk.loginMs, 'ms', fmtMs);
  how.replaceChildren('click → validated session, the OP\'s form included (the last login of each in this tab)');
  [kb, pk, how] = row('cmp-size');
  figure(kb, r.kb.bytes, 'bytes', bytes);
  figure(pk, r.pk.bytes, 'bytes', bytes);
  how.replaceChildren('ID Token + DPoP header · the presentation as JSON (ID Token, JWK, salt, assertion)');
  [kb, pk, how] = row('cmp-checks');
  figure(kb, r.kb.checks);
  figure(pk, r.pk.checks);
  how.replaceChildren('the lists below');

  [kb, pk] = row('prop-verify');
  kb.replaceChildren(el('ol', { className: 'verify-list' }, ...KB_CHECKS.map((c) => el('li', {}, ...c.map((x) => (typeof x === 'string' ? x : x.cloneNode(true)))))));
  pk.replaceChildren(el('ol', { className: 'verify-list' }, ...PK_CHECKS.map((c) => el('li', {}, ...c.map((x) => (typeof x === 'string' ? x : x.cloneNode(true)))))));

  [kb, pk] = row('prop-refresh');
  if (r.kb.refresh) {
    const { beforeCnf, afterCnf, typ } = r.kb.refresh;
    checkCell(kb, [
      [Boolean(afterCnf) && afterCnf === beforeCnf, code('cnf'), ' kept: ', beforeCnf ? jktChip(beforeCnf, el('span', { className: 'jkt-short' })) : code('(none)'),
        ' → ', afterCnf ? jktChip(afterCnf, el('span', { className: 'jkt-short' })) : code('(none)')],
      [typ === 'dpop+id_token', 'the refreshed token is still ', code(`typ: ${typ}`), ': it can be presented as it is'],
    ]);
  } else {
    kb.replaceChildren(el('span', { className: 'na', textContent: 'n/a: log in with key binding above' }));
    delete kb.dataset.ok;
  }
  const pr = r.pk.refresh;
  checkCell(pk, [
    [!pr.nonceInRefreshed, 'the refreshed ID Token has ', pr.nonceInRefreshed ? code('nonce') : el('b', { textContent: 'no nonce' }), ': the commitment is not in it'],
    [pr.verifiedAfter && pr.signedLogin, 'the passkey still proves: ', code('signWithPasskey'), ' signs over the login ID Token the session keeps (until its ', code('exp'), ')'],
    [pr.substituted !== 'accepted', 'the refreshed token in its place: ', pr.substituted === 'accepted' ? el('b', { textContent: 'accepted' }) : code(pr.substituted)],
  ]);

  [kb, pk] = row('prop-replay');
  if (r.kb.replay) {
    checkCell(kb, [[r.kb.replay !== 'accepted', r.kb.replay === 'accepted' ? 'accepted again' : 'refused: ', code(r.kb.replay), ' (its ', code('jti'), ' was used)']]);
  } else {
    kb.replaceChildren(el('span', { className: 'na', textContent: 'n/a: log in with key binding above' }));
    delete kb.dataset.ok;
  }
  checkCell(pk, [[r.pk.replay !== 'accepted', r.pk.replay === 'accepted' ? 'accepted again' : 'refused: ', code(r.pk.replay),
    r.pk.replay === 'ERR_WEBAUTHN_SIGN_COUNT' ? el('span', {}, ' (caught by the sign count, which did not grow; an authenticator that always reports 0 would not catch it: only the nonce would)') : '']]);

  [kb, pk] = row('prop-op');
  checkCell(kb, [
    [null, 'yes: ', code('bound_key'), ' + ', code('dpop_jkt'), ', a DPoP proof with ', code('c_s256'), ' at the token endpoint, ', code('cnf'), ' in the ID Token'],
    [null, 'this OP advertises ', code('bound_key'), ': ', code(String(r.kb.advertised))],
  ]);
  checkCell(pk, [[null, 'no: any OP that echoes the ', code('nonce'), ' (OIDC Core requires it); this login asked for no binding']]);

  $('compare-when').textContent = `(${new Date(r.at).toLocaleTimeString([], { hour12: false })})`;
  $('compare-out').hidden = false;
}

$('pk-register').addEventListener('click', () => action(async () => {
  const m = await measured(() => registerPasskey({ userName: 'alice', name: PASSKEY_NAME }));
  passkey = m.result;
  distinctHue(passkey.jkt, [session?.jkt, ...pageJkts, ...agentJkts]);
  const record = updateCompareRecord({ passkey: { jkt: passkey.jkt, registerMs: m.ms, creates: m.create }, signed: null, compared: null });
  renderPasskey(passkey, record.passkey);
  $('pk-sign-out').hidden = true;
  $('compare-out').hidden = true;
  return 'pk-registered';
}));

$('pk-login').addEventListener('click', () => action(async () => {
  const startedAt = Date.now();
  const { url, state } = await pkClient.startLogin();
  updateCompareRecord({ pending: { url, state, startedAt } });
  leaving = true;
  compareNote = 'Going to the OP to sign in with the passkey nonce…';
  location.assign(url);
  return 'busy';
}));

/** Is this callback the passkey login's (its `state` is the one this tab started)? */
function isPasskeyCallback(params) {
  const pending = readCompare().pending;
  return Boolean(pending?.state) && pending.state === params.get('state');
}

/** Back from the OP with the passkey login's `state`: finish it with its own client (and session). */
async function finishPasskeyLogin() {
  const { pending } = readCompare();
  let s;
  try {
    s = await pkClient.finishLogin(location.href);
  } finally {
    history.replaceState(null, '', '/');
    updateCompareRecord({ pending: null });
  }
  pkSession = s;
  const login = { url: pending.url, salt: s.passkey?.salt ?? null, loginMs: Date.now() - pending.startedAt, idToken: s.idToken };
  updateCompareRecord({ login, signed: null, compared: null });
  $('pk-sign-out').hidden = true;
  $('compare-out').hidden = true;
  await renderPkLogin(login, s);
  $('pk-login-out').scrollIntoView({ block: 'nearest' });
}

$('pk-sign').addEventListener('click', () => action(async () => {
  const message = signMessage('demo-sign');
  const proof = await passkeyProof(message);
  const signed = { message, p: proof.p, ms: proof.ms, gets: proof.gets, accepted: null, error: null };
  try {
    const accepted = await (await getCompareConsumer()).verifyPasskey({ ...proof.p, ...PK_TARGET });
    signed.accepted = { sub: accepted.claims.sub, passkeyJkt: accepted.passkeyJkt, signCount: accepted.signCount };
  } catch (err) {
    signed.error = err?.code ?? err?.name ?? 'Error';
    throw err;
  } finally {
    updateCompareRecord({ signed });
    await renderPkSigned(signed);
    $('pk-sign-out').scrollIntoView({ block: 'nearest' });
  }
  return 'pk-signed';
}));

$('compare-run').addEventListener('click', () => action(async () => {
  const consumer = await getCompareConsumer();
  const record = readCompare();
  const r = { at: Date.now(), kb: {}, pk: {} };

  // Binding a key: a DPoP key pair (not stored) against the passkey's registration.
  const bind = await measured(async () => {
    const times = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await generateDPoPKeyPair({ persist: false });
      times.push(performance.now() - started);
    }
    return times;
  });
  r.kb.bindMs = median(bind.result);
  r.kb.bindGestures = bind.gestures;
  r.pk.bindMs = record.passkey?.jkt === passkey?.jkt ? record.passkey.registerMs : null;
  r.pk.bindGestures = record.passkey?.jkt === passkey?.jkt ? record.passkey.creates : null;

  // Key binding: one proof (verified by the consumer, then replayed), then a refresh of the page's session.
  const htu = `${location.origin}/compare/key-binding`;
  if (session?.bound) {
    // No gesture, so it costs the user nothing to time five (the first call of a page is slower).
    const proofs = await measured(async () => {
      const runs = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const result = await client.present({ htm: 'POST', htu });
        runs.push({ ms: performance.now() - started, result });
      }
      return runs;
    });
    r.kb.proofMs = median(proofs.result.map((x) => x.ms));
    r.kb.proofGestures = proofs.gestures / proofs.result.length;
    r.kb.proofHow = 'client.present';
    const last = proofs.result.at(-1).result;
    const presentation = { idToken: last.idToken, dpop: last.dpop, method: 'POST', url: htu, action: 'compare' };
    r.kb.bytes = presentation.idToken.length + presentation.dpop.length;
    await consumer.verify(presentation);
    r.kb.replay = await outcome(() => consumer.verify(presentation));
    const loginRecord = readRecord();
    r.kb.loginMs = loginRecord?.jkt === session.jkt ? loginRecord.loginMs ?? null : null;
    const refreshed = await refreshPageSession();
    r.kb.refresh = { beforeCnf: refreshed.beforeCnf, afterCnf: refreshed.afterCnf, typ: decodeJws(refreshed.after).header.typ };
  } else {
    const key = await generateDPoPKeyPair({ persist: false });
    const proofs = await measured(async () => {
      const times = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await createDPoPProof(key, { htm: 'POST', htu });
        times.push(performance.now() - started);
      }
      return times;
    });
    r.kb.proofMs = median(proofs.result);
    r.kb.proofGestures = proofs.gestures / proofs.result.length;
    r.kb.proofHow = 'createDPoPProof';
    r.kb.bytes = null;
    r.kb.loginMs = null;
  }
  r.kb.advertised = client.advertisesKeyBinding;

  // The passkey: refresh first (the refreshed ID Token loses the nonce), then one proof, which
  // still verifies because it signs over the login ID Token; then the refreshed token in its
  // place, and the same proof again.
  const loginToken = record.login?.idToken ?? null;
  pkSession = await pkClient.refresh();
  const refreshedPayload = decodeJws(pkSession.idToken).payload;
  const proof = await passkeyProof(signMessage('demo-measure'));
  r.pk.proofMs = proof.ms;
  r.pk.proofGestures = proof.gestures;
  r.pk.bytes = JSON.stringify(proof.p).length;
  const accepted = await outcome(() => consumer.verifyPasskey({ ...proof.p, ...PK_TARGET }));
  r.pk.refresh = {
    nonceInRefreshed: 'nonce' in refreshedPayload,
    signedLogin: Boolean(loginToken) && proof.p.idToken === loginToken && proof.p.idToken !== pkSession.idToken,
    verifiedAfter: accepted === 'accepted',
    substituted: await outcome(() => consumer.verifyPasskey({ ...proof.p, ...PK_TARGET, idToken: pkSession.idToken })),
  };
  r.pk.replay = await outcome(() => consumer.verifyPasskey({ ...proof.p, ...PK_TARGET }));
  r.pk.loginMs = record.login?.loginMs ?? null;
  r.kb.checks = KB_CHECKS.length;
  r.pk.checks = PK_CHECKS.length;

  updateCompareRecord({ compared: r });
  renderCompare(r);
  $('compare-out').scrollIntoView({ block: 'nearest' });
  if (accepted !== 'accepted') {
    throw Object.assign(new Error(`the consumer refused the passkey proof after the refresh (${accepted})`), { name: 'PasskeyRefused', code: accepted });
  }
  return 'compared';
}));

/** After a reload or the redirect: the passkey, its session and what this tab showed of them. */
async function restoreCompare() {
  const record = readCompare();
  passkey = null;
  try {
    passkey = await loadPasskey(PASSKEY_NAME);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
  }
  if (passkey) {
    distinctHue(passkey.jkt, [session?.jkt, ...pageJkts, ...agentJkts]);
    renderPasskey(passkey, record.passkey?.jkt === passkey.jkt ? record.passkey : null);
  }
  pkSession = await pkClient.session().catch(() => null);
  const login = pkSession?.passkey && record.login?.salt === pkSession.passkey.salt ? record.login : null;
  if (login) await renderPkLogin(login, pkSession);
  if (login && record.signed) await renderPkSigned(record.signed);
  if (login && record.compared) renderCompare(record.compared);
}

// ---------------------------------------------------------------- the key API by hand

async function showKey(source) {
  const { privateKey } = key.keyPair;
  $('key-source').textContent = source;
  $('key-source').className = `tag ${source === 'generated' ? 'tag-new' : 'tag-loaded'}`;
  $('key-id').textContent = key.id;
  $('key-alg').textContent = key.alg;
  $('key-extractable').textContent = String(privateKey.extractable);
  $('key-extractable-badge').hidden = privateKey.extractable !== false;
  $('key-jkt').textContent = key.jkt;
  $('key-jwk').textContent = JSON.stringify(key.publicJwk);

  // Try to get the private key out: the browser must refuse.
  let exported = null;
  let refusal = null;
  try {
    exported = await crypto.subtle.exportKey('jwk', privateKey);
  } catch (err) {
    refusal = err;
  }
  $('key-export').replaceChildren(exported
    ? el('span', { className: 'badge bad', textContent: 'exported: the private key left the browser!' })
    : el('span', {}, 'exportKey: ', el('strong', { textContent: 'refused' }), ' (', code(refusal?.name ?? String(refusal)), ')'));

  $('key-facts').hidden = false;
  $('key-status').textContent = key.persisted ? 'Stored in IndexedDB.' : 'In memory only.';
}

function resetKeyOutputs() {
  $('key-facts').hidden = true;
  $('proof-out').hidden = true;
  $('worker-out').hidden = true;
  for (const id of ['key-source', 'key-id', 'key-alg', 'key-extractable', 'key-jkt', 'key-jwk', 'key-export',
    'proof', 'proof-header', 'proof-payload', 'proof-checks', 'proof-status', 'worker-result', 'worker-checks',
    'worker-status']) {
    $(id).replaceChildren();
  }
}

async function verifyProof(jws) {
  const { header, signingInput, signature } = decodeJws(jws);
  const publicKey = await crypto.subtle.importKey(
    'jwk', header.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, new TextEncoder().encode(signingInput));
}

$('generate').addEventListener('click', () => action(async () => {
  const previous = key;
  key = await generateDPoPKeyPair();
  localStorage.setItem(STORAGE_KEY, key.id);
  resetKeyOutputs();
  if (previous) {
    // The playground keeps one key: the one it replaces goes away.
    await deleteDPoPKeyPair(previous.id);
  }
  await showKey('generated');
  return 'key-ready';
}));

function proofOptions() {
  const options = { htm: $('htm').value.trim(), htu: $('htu').value.trim() };
  const c = $('code').value.trim();
  const nonce = $('nonce').value.trim();
  if (c) options.code = c;
  if (nonce) options.nonce = nonce;
  return options;
}

$('sign').addEventListener('click', () => action(async () => {
  $('proof-out').hidden = true;
  const options = proofOptions();
  const proof = await createDPoPProof(key, options);
  const { header, payload } = decodeJws(proof);

  renderJws($('proof'), proof);
  renderJson($('proof-header'), header, new Set(['jwk']));
  renderJson($('proof-payload'), payload, new Set(['htu', 'c_s256']));

  const checks = [
    [await verifyProof(proof), 'signature verifies with the header ', code('jwk'), ' (WebCrypto)'],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of the header ', code('jwk'), ' = dpop_jkt'],
    [!('d' in header.jwk), 'header jwk has no private member ', code('d')],
  ];
  if (options.code) {
    checks.push([payload.c_s256 === await sha256b64url(options.code), code('c_s256'), ' = BASE64URL(SHA-256(code))']);
  }
  renderChecks($('proof-checks'), checks);
  $('proof-out').hidden = false;
  $('proof-status').textContent = `${proof.length} characters, iat ${timeOf(payload.iat)}`;
  return 'proof-ready';
}));

function runInWorker(message) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./worker.js', { type: 'module' });
    const finish = (settle, value) => {
      clearTimeout(timer);
      worker.terminate();
      settle(value);
    };
    const timer = setTimeout(() => finish(reject, new Error('the Worker did not answer within 20 s')), 20_000);
    worker.onmessage = ({ data }) => {
      if (data.error) {
        const err = Object.assign(new Error(data.error.message), { name: data.error.name, code: data.error.code });
        if (data.error.cause) err.cause = { name: data.error.cause };
        finish(reject, err);
      } else {
        finish(resolve, data);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish(reject, new Error(`the Worker failed: ${event.message || 'could not load worker.js'}`));
    };
    worker.postMessage(message);
  });
}

$('run-worker').addEventListener('click', () => action(async () => {
  $('worker-out').hidden = true;
  const result = await runInWorker({ id: key.id, options: proofOptions() });
  $('worker-result').textContent = JSON.stringify(result, null, 2);
  const { header } = decodeJws(result.proof);
  renderChecks($('worker-checks'), [
    [result.inWorker === true, 'ran inside a WorkerGlobalScope'],
    [result.jkt === key.jkt, 'loaded the same key from IndexedDB'],
    [await verifyProof(result.proof), 'its proof verifies with its header ', code('jwk')],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of its header ', code('jwk'), ' = dpop_jkt'],
  ]);
  $('worker-out').hidden = false;
  $('worker-status').textContent = 'signed in the Worker';
  return 'worker-ready';
}));

$('forget-key').addEventListener('click', () => action(async () => {
  const existed = await deleteDPoPKeyPair(key.id);
  localStorage.removeItem(STORAGE_KEY);
  const id = key.id;
  key = null;
  resetKeyOutputs();
  $('key-status').textContent = existed ? `Deleted ${id} from IndexedDB.` : `${id} was not in IndexedDB any more.`;
  return 'key-forgotten';
}));

async function loadPlaygroundKey() {
  const id = localStorage.getItem(STORAGE_KEY);
  if (!id) return;
  try {
    key = await loadDPoPKeyPair(id);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
    localStorage.removeItem(STORAGE_KEY);
    $('key-status').textContent = 'The remembered key is no longer in IndexedDB.';
    return;
  }
  await showKey('loaded from IndexedDB');
}

// ---------------------------------------------------------------- start

// Back from the OP with the Back button (page restored from the back/forward cache).
window.addEventListener('pageshow', (event) => {
  if (!event.persisted || !leaving) return;
  leaving = false;
  compareNote = null;
  showStatus();
  updateButtons();
  setState(session ? 'signed-in' : 'ready');
});

$('issuer').textContent = ISSUER;
$('htu').value = `${location.origin}/token`;
$('proof-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!$('sign').disabled) $('sign').click();
});

action(async () => {
  await init();
  const params = new URLSearchParams(location.search);
  // In a popup login's popup, this page hands the callback to the page that opened it, which
  // finishes the login; the popup closes.
  if ((params.has('code') || params.has('error')) && await KeyBoundClient.handlePopupCallback()) return 'handed-back';
  await loadPlaygroundKey();
  meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
  // The step-by-step login shows the whole authorization request, so it is never pushed; the
  // PAR button pushes it when the OP has a PAR endpoint.
  client = await KeyBoundClient.discover(ISSUER, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE, binding: 'required', par: 'never' });
  parClient = meta.pushed_authorization_request_endpoint
    ? await KeyBoundClient.discover(ISSUER, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE, binding: 'required', par: 'always' })
    : null;
  // The passkey-nonce login: its own stored session, no key binding asked (it works with any OP).
  pkClient = await KeyBoundClient.discover(ISSUER, {
    clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE,
    keyBinding: false, passkey: { name: PASSKEY_NAME, mode: 'salted' }, session: PASSKEY_SESSION, par: 'never',
  });
  if ((params.has('code') || params.has('error')) && isPasskeyCallback(params)) {
    // Both logins come back to this page: the passkey login's `state` says it is that one, and
    // its own client finishes it, so the key-bound session is left alone.
    session = await client.session();
    try {
      await restoreCompare();
      await finishPasskeyLogin();
    } finally {
      await restoreAgent();
      showStatus();
      await loadRecords();
      if (session) await renderStoredSession();
    }
    return 'pk-signed-in';
  }
  if (params.has('code') || params.has('error')) {
    try {
      await finishFromCallback();
    } finally {
      await restoreAgent();
      await restoreCompare();
      showStatus();
      await loadRecords();
    }
    return 'signed-in';
  }
  if (params.has('state')) {
    // Back from the OP's end-session endpoint: the state must be the one this logout sent.
    const record = JSON.parse(sessionStorage.getItem(LOGOUT_RECORD) || 'null');
    sessionStorage.removeItem(LOGOUT_RECORD);
    let stateChecked = true;
    try {
      await client.finishLogout(location.href);
    } catch (err) {
      stateChecked = err?.code ?? String(err);
    }
    history.replaceState(null, '', '/');
    if (record) await renderLogout(record, stateChecked);
  }
  session = await client.session();
  await restoreAgent();
  await restoreCompare();
  showStatus();
  await loadRecords();
  if (!session) return params.has('state') ? 'logged-out' : 'ready';
  await renderStoredSession();
  return 'signed-in';
});
