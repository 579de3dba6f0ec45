// The key-bound login flow against the OP that serves this page (the reference OP in the demo
// and the tests). `?binding=preferred` switches the binding policy; `?timeout=` (ms) sets the
// client's request timeout.
import init, { KeyBoundClient } from '/pkg/keybound.js';

const $ = (id) => document.getElementById(id);
// Settings come from the query once (?issuer=&client_id=&scope=&binding=) and are kept for the
// redirect back. Defaults: the OP that serves this page.
const params = new URLSearchParams(location.search);
const setting = (name, fallback) => {
  const value = params.get(name) || sessionStorage.getItem(`kb-${name}`) || fallback;
  sessionStorage.setItem(`kb-${name}`, value);
  return value;
};
const binding = setting('binding', 'required');
const issuer = setting('issuer', location.origin);
const clientId = setting('client_id', 'keybound-demo');
const scope = setting('scope', 'profile offline_access');
const timeout = Number(setting('timeout', '30000'));
// ?par=auto|always|never: pushed authorization requests (RFC 9126), with a DPoP proof of the login's key.
const par = setting('par', 'auto');
const redirectUri = `${location.origin}/flow.html`;
// ?max_age=&acr_values=&require_acr=1 ask the OP about the user's authentication (login options).
const loginOptions = {};
if (setting('max_age', '') !== '') loginOptions.maxAge = Number(setting('max_age', ''));
if (setting('acr_values', '') !== '') loginOptions.acrValues = setting('acr_values', '').split(' ');
if (setting('require_acr', '') === '1') loginOptions.requireAcr = true;
// ?popup_timeout= (ms): how long loginPopup waits for the popup.
const popupTimeout = Number(setting('popup_timeout', '300000'));
let client;

function show(session) {
  $('session').textContent = session ? JSON.stringify(session, null, 2) : '';
  $('verdict').textContent = session
    ? (session.bound ? `Bound: the ID Token's cnf.jwk is this browser's key (${session.jkt}).` : 'Signed in, but the ID Token is NOT bound to this browser\'s key.')
    : 'Not signed in.';
}

async function run(state, fn) {
  document.body.dataset.state = 'busy';
  $('error').textContent = '';
  try {
    await fn();
    document.body.dataset.state = state;
  } catch (e) {
    $('error').textContent = `${e.code || e.name}: ${e.message}`;
    $('error').dataset.code = e.code || '';
    // The error's structured fields (acr, authTime, maxAge, revoked, ...), for the tests.
    $('error').dataset.detail = JSON.stringify({ ...e, cause: undefined });
    document.body.dataset.state = 'error';
  }
}

await run('ready', async () => {
  await init();
  // In a loginPopup's popup, the callback goes back to the page that opened it (which finishes
  // the login) and this page closes; a redirect login's callback is finished below as usual.
  if ((params.has('code') || params.has('error')) && await KeyBoundClient.handlePopupCallback()) {
    document.body.dataset.handedBack = '1';
    return;
  }
  client = await KeyBoundClient.discover(issuer, { clientId, redirectUri, scope, binding, timeout, par });
  if (params.has('code') || params.has('error')) {
    const t0 = Number(sessionStorage.getItem('kb-login-started') || 0);
    const session = await client.finishLogin(location.href);
    history.replaceState(null, '', redirectUri);
    const ms = t0 ? Date.now() - t0 : null;
    if (ms !== null) $('result').textContent = `Login took ${ms} ms (click to signed-in).`;
    document.body.dataset.loginMs = ms === null ? '' : String(ms);
    show(session);
    return;
  }
  if (params.has('state')) {
    // Back from the OP's end-session endpoint: the state must be the one logout sent.
    await client.finishLogout(location.href);
    history.replaceState(null, '', redirectUri);
    $('result').textContent = `Logged out (state checked). ${sessionStorage.getItem('kb-logout') || ''}`;
    document.body.dataset.loggedOut = '1';
  }
  show(await client.session());
});
if (document.body.dataset.state === 'ready' && $('session').textContent) document.body.dataset.state = 'signed-in';

$('login').onclick = () => run('navigating', async () => {
  sessionStorage.setItem('kb-login-started', String(Date.now()));
  await client.login(loginOptions);
});
$('login-popup').onclick = () => run('signed-in', async () => {
  show(await client.loginPopup({ ...loginOptions, timeout: popupTimeout }));
});
$('refresh').onclick = () => run('refreshed', async () => show(await client.refresh()));
$('userinfo').onclick = () => run('userinfo', async () => {
  const res = await client.fetch(client.userinfoEndpoint);
  $('result').textContent = `UserInfo ${res.status}: ${await res.text()}`;
});
$('logout').onclick = () => run('logged-out', async () => {
  const out = await client.logout({ postLogoutRedirectUri: redirectUri });
  // What logout reported (revoked, revocationError), kept for the page it comes back to.
  sessionStorage.setItem('kb-logout', JSON.stringify({ ...out, revocationError: out.revocationError?.code }));
  show(null);
});
$('forget').onclick = () => run('forgotten', async () => { await client.forget(); show(null); });
