// The flows peer libraries have: a pushed authorization request (PAR), a login in a popup, and the
// logout (revocation with a proof, then the OP's end-session endpoint).
import { calculateJwkThumbprint, loadDPoPKeyPair } from '/pkg/keybound.js';
import { LOGOUT_RECORD, REDIRECT_URI } from './config.js';
import { $, code, jktChip, renderChecks } from './dom.js';
import { app, writeRecord } from './state.js';
import { action, showStatus } from './ui.js';
import { decodeJws, observeRequestsTo } from './util.js';
import { renderIdToken, renderKey, renderVerdict, resetFlow } from './steps.js';

$('login-par').addEventListener('click', () => action(async () => {
  const startedAt = Date.now();
  const endpoint = app.meta.pushed_authorization_request_endpoint;
  const { result: { url, state, keyId }, exchanges } = await observeRequestsTo(endpoint, () => app.parClient.startLogin());
  const sent = exchanges.at(-1);
  const push = { endpoint, status: sent.status, body: sent.request.body, dpop: sent.request.headers.dpop ?? null };
  writeRecord({ url, state, keyId, startedAt, push });
  app.leaving = true;
  $('status').textContent = 'Pushed the request; going to the OP to sign in…';
  location.assign(url);
  return 'busy';
}));

$('login-popup').addEventListener('click', () => action(async () => {
  // loginPopup opens the popup before it awaits anything, so the click still counts.
  const s = await app.client.loginPopup();
  app.session = s;
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
  const { keyId, jkt } = app.session;
  const watched = app.meta.revocation_endpoint ?? '';
  const { result: out, exchanges } = await observeRequestsTo(watched, () => app.client.startLogout({ postLogoutRedirectUri: REDIRECT_URI }));
  const sent = exchanges.at(-1);
  const proof = sent?.request.headers.dpop ? decodeJws(sent.request.headers.dpop) : null;
  const record = {
    keyId, jkt, endpoint: watched, revoked: out.revoked, revocationError: out.revocationError?.code ?? null,
    status: sent?.status ?? null, hint: sent ? new URLSearchParams(sent.request.body).get('token_type_hint') : null,
    proofJkt: proof ? calculateJwkThumbprint(proof.header.jwk) : null, endSession: out.url ?? null,
  };
  sessionStorage.setItem(LOGOUT_RECORD, JSON.stringify(record));
  app.session = null;
  writeRecord(null);
  resetFlow();
  if (out.url) {
    app.leaving = true;
    $('status').textContent = 'Logged out here; ending the session at the OP…';
    location.assign(out.url);
    return 'busy';
  }
  await renderLogout(record, null);
  return 'logged-out';
}));

/** What the logout did, checked: the revocation, the key and session gone, the state on return (`stateChecked`: null when there was no return). */
export async function renderLogout(record, stateChecked) {
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
    [(await app.client.session()) === null, 'session deleted, in every tab'],
  ];
  if (stateChecked !== null) checks.push([stateChecked === true, 'back from the OP\'s end-session endpoint, ', code('state'), stateChecked === true ? ' checked' : ` refused: ${stateChecked}`]);
  renderChecks($('logout-checks'), checks);
  $('logout-out').hidden = false;
  $('popup-out').hidden = true;
}
