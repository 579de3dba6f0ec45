// keybound demo page: a key-bound login against the OP that serves this page, each step shown as
// it happens, then the session presented to the OP's demo consumer (and replayed); an agent in a
// Worker that signs in with the device flow and presents with its own key; key binding and the
// passkey-nonce mode side by side; below it, the DPoP key API by hand. Plain ES modules, no build
// step: each card of the page is a module of demo/ (see README.md); this entry wires them up and
// starts the page (back from the OP, a popup's callback, or a fresh load).
// The sections are loaded one at a time, each after every module it imports, so the browser
// never opens a burst of connections: the reference OP's HTTP server (tiny_http 0.12) can leave
// some of a burst of new connections unserved behind keep-alive ones, and the page would hang
// half-loaded (www/README.md). Each import() below finds its dependencies already loaded.
const SECTIONS = ['config', 'state', 'dom', 'util', 'ui', 'consumer', 'steps', 'login', 'peer', 'agent-view', 'agent',
  'passkey-proofs', 'compare-view', 'compare', 'playground'];
const { default: init, KeyBoundClient } = await import('/pkg/keybound.js');
const demo = {};
for (const name of SECTIONS) demo[name] = await import(`./demo/${name}.js`);
const { CLIENT_ID, ISSUER, LOGOUT_RECORD, PASSKEY_NAME, PASSKEY_SESSION, REDIRECT_URI, SCOPE } = demo.config;
const { $, setState } = demo.dom;
const { app } = demo.state;
const { action, showStatus, updateButtons } = demo.ui;
const { finishFromCallback, renderStoredSession } = demo.login;
const { renderLogout } = demo.peer;
const { loadRecords } = demo.consumer;
const { restoreAgent } = demo.agent;
const { finishPasskeyLogin, isPasskeyCallback, restoreCompare } = demo.compare;
const { loadPlaygroundKey } = demo.playground;

// Back from the OP with the Back button (page restored from the back/forward cache).
window.addEventListener('pageshow', (event) => {
  if (!event.persisted || !app.leaving) return;
  app.leaving = false;
  app.compareNote = null;
  showStatus();
  updateButtons();
  setState(app.session ? 'signed-in' : 'ready');
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
  app.meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
  // The step-by-step login shows the whole authorization request, so it is never pushed; the
  // PAR button pushes it when the OP has a PAR endpoint.
  app.client = await KeyBoundClient.discover(ISSUER, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE, binding: 'required', par: 'never' });
  app.parClient = app.meta.pushed_authorization_request_endpoint
    ? await KeyBoundClient.discover(ISSUER, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE, binding: 'required', par: 'always' })
    : null;
  // The passkey-nonce login: its own stored session, no key binding asked (it works with any OP).
  app.pkClient = await KeyBoundClient.discover(ISSUER, {
    clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scope: SCOPE,
    keyBinding: false, passkey: { name: PASSKEY_NAME, mode: 'salted' }, session: PASSKEY_SESSION, par: 'never',
  });
  if ((params.has('code') || params.has('error')) && isPasskeyCallback(params)) {
    // Both logins come back to this page: the passkey login's `state` says it is that one, and
    // its own client finishes it, so the key-bound session is left alone.
    app.session = await app.client.session();
    try {
      await restoreCompare();
      await finishPasskeyLogin();
    } finally {
      await restoreAgent();
      showStatus();
      await loadRecords();
      if (app.session) await renderStoredSession();
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
      await app.client.finishLogout(location.href);
    } catch (err) {
      stateChecked = err?.code ?? String(err);
    }
    history.replaceState(null, '', '/');
    if (record) await renderLogout(record, stateChecked);
  }
  app.session = await app.client.session();
  await restoreAgent();
  await restoreCompare();
  showStatus();
  await loadRecords();
  if (!app.session) return params.has('state') ? 'logged-out' : 'ready';
  await renderStoredSession();
  return 'signed-in';
});
