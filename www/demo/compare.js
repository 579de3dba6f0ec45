// Key binding vs passkey nonce, side by side: register a passkey, log in with the passkey nonce,
// sign with the passkey, and measure both.
import { createDPoPProof, generateDPoPKeyPair, loadPasskey, registerPasskey } from '/pkg/keybound.js';
import { PASSKEY_NAME } from './config.js';
import { $, distinctHue, el } from './dom.js';
import { agentJkts, app, pageJkts, readRecord } from './state.js';
import { action, onUpdateButtons } from './ui.js';
import { decodeJws } from './util.js';
import { refreshPageSession } from './login.js';
import {
  getCompareConsumer, KB_CHECKS, measured, median, outcome, PK_CHECKS, PK_TARGET, passkeyProof, readCompare,
  signMessage, updateCompareRecord, webAuthnAvailable,
} from './passkey-proofs.js';
import { renderCompare, renderPasskey, renderPkLogin, renderPkSigned } from './compare-view.js';

function setCompareStatus(...content) {
  $('compare-status').replaceChildren(...content);
}

function updateCompare() {
  const ready = Boolean(app.pkClient) && !app.leaving;
  const webauthn = webAuthnAvailable();
  const current = Boolean(app.pkSession?.passkey && app.passkey && app.pkSession.passkey.jkt === app.passkey.jkt);
  $('pk-register').disabled = !ready || !webauthn;
  $('pk-register').textContent = app.passkey ? 'Register a new passkey' : 'Register a passkey';
  $('pk-login').disabled = !ready || !app.passkey;
  $('pk-login').textContent = app.pkSession ? 'Log in again with the passkey nonce' : 'Log in with the passkey nonce';
  $('pk-sign').disabled = !ready || !current;
  $('compare-run').disabled = !ready || !current;
  if (app.compareNote) {
    setCompareStatus(app.compareNote);
  } else if (!webauthn) {
    setCompareStatus('WebAuthn is not available here: it needs a secure context on a host name (http://localhost works, an IP address does not).');
  } else if (!app.passkey) {
    setCompareStatus('Register a passkey first.');
  } else if (!app.pkSession?.passkey) {
    setCompareStatus('Now log in with it: the OP only sees an opaque nonce.');
  } else if (!current) {
    setCompareStatus('The passkey session is bound to an earlier passkey: log in again with the new one.');
  } else {
    setCompareStatus('Signed in with the passkey nonce as ', el('strong', { textContent: String(app.pkSession.claims.sub) }), '. ',
      app.session?.bound ? 'Sign, or measure both.' : 'Sign, or measure (log in with key binding above to fill the key-binding column).');
  }
}

onUpdateButtons(updateCompare);

$('pk-register').addEventListener('click', () => action(async () => {
  const m = await measured(() => registerPasskey({ userName: 'alice', name: PASSKEY_NAME }));
  app.passkey = m.result;
  distinctHue(app.passkey.jkt, [app.session?.jkt, ...pageJkts, ...agentJkts]);
  const record = updateCompareRecord({ passkey: { jkt: app.passkey.jkt, registerMs: m.ms, creates: m.create }, signed: null, compared: null });
  renderPasskey(app.passkey, record.passkey);
  $('pk-sign-out').hidden = true;
  $('compare-out').hidden = true;
  return 'pk-registered';
}));

$('pk-login').addEventListener('click', () => action(async () => {
  const startedAt = Date.now();
  const { url, state } = await app.pkClient.startLogin();
  updateCompareRecord({ pending: { url, state, startedAt } });
  app.leaving = true;
  app.compareNote = 'Going to the OP to sign in with the passkey nonce…';
  location.assign(url);
  return 'busy';
}));

/** Is this callback the passkey login's (its `state` is the one this tab started)? */
export function isPasskeyCallback(params) {
  const pending = readCompare().pending;
  return Boolean(pending?.state) && pending.state === params.get('state');
}

/** Back from the OP with the passkey login's `state`: finish it with its own client (and session). */
export async function finishPasskeyLogin() {
  const { pending } = readCompare();
  let s;
  try {
    s = await app.pkClient.finishLogin(location.href);
  } finally {
    history.replaceState(null, '', '/');
    updateCompareRecord({ pending: null });
  }
  app.pkSession = s;
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
  r.pk.bindMs = record.passkey?.jkt === app.passkey?.jkt ? record.passkey.registerMs : null;
  r.pk.bindGestures = record.passkey?.jkt === app.passkey?.jkt ? record.passkey.creates : null;

  // Key binding: one proof (verified by the consumer, then replayed), then a refresh of the page's session.
  const htu = `${location.origin}/compare/key-binding`;
  if (app.session?.bound) {
    // No gesture, so it costs the user nothing to time five (the first call of a page is slower).
    const proofs = await measured(async () => {
      const runs = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const result = await app.client.present({ htm: 'POST', htu });
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
    r.kb.loginMs = loginRecord?.jkt === app.session.jkt ? loginRecord.loginMs ?? null : null;
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
  r.kb.advertised = app.client.advertisesKeyBinding;

  // The passkey: refresh first (the refreshed ID Token loses the nonce), then one proof, which
  // still verifies because it signs over the login ID Token; then the refreshed token in its
  // place, and the same proof again.
  const loginToken = record.login?.idToken ?? null;
  app.pkSession = await app.pkClient.refresh();
  const refreshedPayload = decodeJws(app.pkSession.idToken).payload;
  const proof = await passkeyProof(signMessage('demo-measure'));
  r.pk.proofMs = proof.ms;
  r.pk.proofGestures = proof.gestures;
  r.pk.bytes = JSON.stringify(proof.p).length;
  const accepted = await outcome(() => consumer.verifyPasskey({ ...proof.p, ...PK_TARGET }));
  r.pk.refresh = {
    nonceInRefreshed: 'nonce' in refreshedPayload,
    signedLogin: Boolean(loginToken) && proof.p.idToken === loginToken && proof.p.idToken !== app.pkSession.idToken,
    verifiedAfter: accepted === 'accepted',
    substituted: await outcome(() => consumer.verifyPasskey({ ...proof.p, ...PK_TARGET, idToken: app.pkSession.idToken })),
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
export async function restoreCompare() {
  const record = readCompare();
  app.passkey = null;
  try {
    app.passkey = await loadPasskey(PASSKEY_NAME);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
  }
  if (app.passkey) {
    distinctHue(app.passkey.jkt, [app.session?.jkt, ...pageJkts, ...agentJkts]);
    renderPasskey(app.passkey, record.passkey?.jkt === app.passkey.jkt ? record.passkey : null);
  }
  app.pkSession = await app.pkClient.session().catch(() => null);
  const login = app.pkSession?.passkey && record.login?.salt === app.pkSession.passkey.salt ? record.login : null;
  if (login) await renderPkLogin(login, app.pkSession);
  if (login && record.signed) await renderPkSigned(record.signed);
  if (login && record.compared) renderCompare(record.compared);
}
