// What the comparison card shows: the passkey, the passkey-nonce login, a passkey signature and
// the measured table.
import { calculateJwkThumbprint } from '/pkg/keybound.js';
import { $, code, el, jktChip, renderChecks, renderJson } from './dom.js';
import { app } from './state.js';
import { base64urlDecode, base64urlEncode, decodeJws, sha256b64url } from './util.js';
import {
  COSE_ALGS, KB_CHECKS, NONCE_DOMAIN, PK_CHECKS, PK_TARGET, passkeyChallenge, passkeyCommitment, readCompare,
} from './passkey-proofs.js';

function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

const msText = (ms) => el('span', {}, el('b', { textContent: fmtMs(ms) }), ' ms');

export function renderPasskey(pk, registration) {
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

export async function renderPkLogin(login, s) {
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
    [Boolean(app.passkey) && binding.jkt === app.passkey.jkt, 'the committed thumbprint is the registered passkey\'s ', jktChip(binding.jkt)],
    [binding.mode === 'salted' && payload.nonce !== binding.jkt, 'salted: the nonce is not the bare thumbprint, so the OP cannot link this passkey\'s logins'],
  ]);
  $('pk-login-out').hidden = false;
}

export async function renderPkSigned({ message, p, ms, gets, accepted, error }) {
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
    [Boolean(accepted) && accepted.passkeyJkt === app.passkey?.jkt, 'the consumer verified the assertion with the passkey the ID Token commits to ', jktChip(accepted?.passkeyJkt ?? calculateJwkThumbprint(p.publicJwk))],
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

export function renderCompare(r) {
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
