// The page's key-bound session: the redirect login and its callback, Refresh, UserInfo and Forget,
// and noticing when another tab's login replaced it.
import { calculateJwkThumbprint, loadDPoPKeyPair } from '/pkg/keybound.js';
import { $, code, jktChip, renderChecks, timeOf } from './dom.js';
import { app, readRecord, writeRecord } from './state.js';
import { action, showStatus, updateButtons } from './ui.js';
import { decodeJws, sha256b64url } from './util.js';
import {
  renderAuth, renderIdToken, renderKey, renderProof, renderPush, renderRefusal, renderVerdict, resetFlow, showSessionEmpty,
} from './steps.js';

/** Everything this tab knows about the current session, after a reload. */
export async function renderStoredSession() {
  const record = readRecord();
  const mine = record && record.jkt === app.session.jkt;
  if (mine) {
    renderAuth(record.url);
    if (record.push) renderPush(record.push, record.url);
    await renderKey(app.session.keyId, app.session.jkt);
    if (record.proof) renderProof(record.proof, app.session.jkt, record.cS256);
  } else {
    await renderKey(null, app.session.jkt);
    for (const step of ['auth', 'proof']) $(`step-${step}`).querySelector('.pending').textContent = 'Not recorded in this tab.';
  }
  renderIdToken(app.session.idToken, mine && record.refreshed ? 'refreshed' : 'from login');
  renderVerdict(app.session, mine ? new URL(record.url).searchParams.get('nonce') : null, Boolean(mine && record.refreshed));
}

/** Back from the OP with `code` or `error`: finish the login, showing each step as it comes. */
export async function finishFromCallback() {
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
    s = await app.client.finishLogin(location.href);
  } catch (err) {
    const proof = app.client.lastTokenRequestProof;
    if (proof && ours) renderProof(proof, sent.dpop_jkt, cS256);
    renderRefusal(err);
    writeRecord(null);
    throw err;
  } finally {
    history.replaceState(null, '', '/');
  }
  app.session = s;
  const proof = app.client.lastTokenRequestProof;
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
  const { url, state, keyId } = await app.client.startLogin();
  writeRecord({ url, state, keyId, startedAt });
  app.leaving = true;
  $('status').textContent = 'Going to the OP to sign in…';
  location.assign(url);
  return 'busy';
}));

/** Refreshes the page's session and shows it (steps 4 and 5, and the refresh checks). */
export async function refreshPageSession() {
  const before = app.session;
  const beforeToken = decodeJws(before.idToken).payload;
  const beforeCnf = beforeToken.cnf?.jwk ? calculateJwkThumbprint(beforeToken.cnf.jwk) : null;
  app.session = await app.client.refresh();
  const after = decodeJws(app.session.idToken).payload;
  const afterCnf = after.cnf?.jwk ? calculateJwkThumbprint(after.cnf.jwk) : null;
  const proof = app.client.lastTokenRequestProof;
  const proofDecoded = proof ? decodeJws(proof) : null;
  renderIdToken(app.session.idToken, 'refreshed');
  renderVerdict(app.session, null, true);
  const record = readRecord();
  if (record && record.jkt === app.session.jkt) writeRecord({ ...record, refreshed: true });
  const checks = [
    [app.session.idToken !== before.idToken, 'a new ID Token: ', code('iat'), ` ${timeOf(beforeToken.iat)} → ${timeOf(after.iat)}`],
    [afterCnf !== null && afterCnf === beforeCnf, code('cnf'), ' unchanged ', afterCnf ? jktChip(afterCnf) : code('(none)')],
    [after.sub === beforeToken.sub, code('sub'), ` unchanged: ${after.sub}`],
  ];
  if (proofDecoded) {
    checks.push([calculateJwkThumbprint(proofDecoded.header.jwk) === app.session.jkt && !('c_s256' in proofDecoded.payload),
      'refresh proof signed by the same key, no ', code('c_s256'), ' (no code this time)']);
  }
  renderChecks($('refresh-checks'), checks);
  $('refresh-out').hidden = false;
  $('forget-out').hidden = true;
  showSessionEmpty();
  showStatus();
  return { before: before.idToken, after: app.session.idToken, beforeCnf, afterCnf };
}

$('refresh').addEventListener('click', () => action(async () => {
  await refreshPageSession();
  $('refresh-out').scrollIntoView({ block: 'nearest' });
  return 'refreshed';
}));

$('userinfo').addEventListener('click', () => action(async () => {
  const res = await app.client.fetch(app.client.userinfoEndpoint, undefined);
  const body = await res.text();
  $('userinfo-endpoint').textContent = app.client.userinfoEndpoint;
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
  const keyId = app.sessionKeyId;
  const existed = await app.client.forget();
  const after = await app.client.session();
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
  app.session = null;
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

/** Is this page's session still the stored one (another tab may have logged in)? If not, say so and sign the page out. */
export async function checkPageSession() {
  if (!app.client || !app.session) return;
  const stored = await app.client.session().catch(() => null);
  if (stored?.jkt === app.session.jkt) return;
  let keyGone = null;
  if (app.session.keyId) {
    try {
      await loadDPoPKeyPair(app.session.keyId);
      keyGone = false;
    } catch (err) {
      if (err?.code === 'ERR_KEY_NOT_FOUND') keyGone = true;
    }
  }
  const jkt = app.session.jkt;
  app.session = null;
  writeRecord(null);
  resetFlow();
  app.pageReplaced = { jkt, keyGone };
  showStatus();
  updateButtons();
}
