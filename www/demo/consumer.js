// Presenting the session to the OP's demo consumer (an RP Consuming Component), replaying the same
// request, and the consumer's evidence records and counters.
import { calculateJwkThumbprint } from '/pkg/keybound.js';
import { CONSUMER_URL, RECORDS_SHOWN, RECORDS_URL } from './config.js';
import { $, code, el, httpStatus, jktChip, renderChecks, renderJson, renderJws } from './dom.js';
import { agentJkts, app, pageJkts } from './state.js';
import { action, onUpdateButtons } from './ui.js';
import { base64urlDecode, decodeJws, observeRequestsTo, parseJson, sha256b64url } from './util.js';

/** The last request presentTo sent to the consumer ({ url, method, headers, body, jti }), for the replay. */
let presented = null;
/** What the consumer card says after its last action, or null. */
let consumerNote = null;

/** The consumer's JSON answer without its evidence record (that one is a row of the table: `note` says so). */
export function renderAnswer(pre, note, text, highlight) {
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

onUpdateButtons(() => {
  $('present').disabled = !app.session?.bound || app.leaving;
  $('replay').disabled = !presented || app.leaving;
  $('consumer-status').textContent = consumerNote ?? (!app.session ? 'Sign in first.'
    : app.session.bound ? 'Presents this session\'s ID Token with a proof by its key.'
      : 'The session\'s ID Token is not bound: there is nothing to present.');
});

export function resetConsumer() {
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
  const tr = el('tr', { className: [r.jti && r.jti === presented?.jti ? 'mine' : '', r.jti && r.jti === app.agentPresentedJti ? 'mine-agent' : '',
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
export async function loadRecords() {
  try {
    const res = await fetch(RECORDS_URL, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { records, counters } = await res.json();
    const newest = records.slice(-RECORDS_SHOWN).reverse();
    app.shownRecordJkts = new Set(newest.map((r) => r.cnf_jkt).filter(Boolean));
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
export function consumerError(message, answer) {
  return Object.assign(new Error(`${message}${answer?.error_description ? `: ${answer.error_description}` : ''}`),
    { name: 'ConsumerRefusal', code: answer?.code });
}

$('present').addEventListener('click', () => action(async () => {
  resetConsumer();
  try {
    const { result: res, exchanges } = await observeRequestsTo(CONSUMER_URL, () => app.client.presentTo(CONSUMER_URL));
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
        [proofJkt === cnfJkt && proofJkt === app.session.jkt, 'signed by the key in the ID Token\'s ', code('cnf.jwk'), ' ', jktChip(proofJkt)],
        [payload.ath === await sha256b64url(idToken), code('ath'), ' = BASE64URL(SHA-256(ID Token)): the proof is for this token'],
        challenge
          ? [payload.nonce === challenge, code('nonce'), ' = the ', code('DPoP-Nonce'), ' of the consumer\'s 401 challenge']
          : [typeof payload.nonce === 'string', code('nonce'), ' remembered from an earlier challenge of this origin'],
        [payload.htm === 'POST' && payload.htu === CONSUMER_URL, code('htm'), ' and ', code('htu'), ' = this request'],
        [idToken === app.session.idToken && !('authorization' in last.request.headers),
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
