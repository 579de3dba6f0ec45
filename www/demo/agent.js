// The agent: a second keybound client in a dedicated Worker (agent-worker.js) with its own key,
// which signs in with the device flow and presents to the consumer itself.
import { calculateJwkThumbprint, KeyBoundClient } from '/pkg/keybound.js';
import { AGENT_RECORD, CLIENT_ID, CONSUMER_URL, ISSUER, REDIRECT_URI, SCOPE } from './config.js';
import { $, code, distinctHue, el, httpStatus, jktChip, jktHues, renderChecks, renderJson, renderJws, setState } from './dom.js';
import { agentJkts, app, pageJkts } from './state.js';
import { clearError, onUpdateButtons, showError, updateButtons } from './ui.js';
import { decodeJws } from './util.js';
import { addPoll, renderHolders, resetAgentCode, setAgentStatus, showUserCode } from './agent-view.js';
import { consumerError, loadRecords, renderAnswer } from './consumer.js';
import { checkPageSession } from './login.js';

/**
 * The agent's Worker ({ worker, listeners, hello }), started on first use. Its replies are
 * `{op, ok, ...}`; `agentCall` matches a reply to its request by `op`.
 */
let agent = null;
/** What the Worker said first ({ inWorker, hasWindow }), once it did. */
let agentHello = null;
/** The agent's session as shown: { bound, sub, jkt, keyId, tokenType, hasRefreshToken, expiresAt }. */
let agentSession = null;
/** A device login is in flight / the cancel was sent / a presentation is in flight. */
let agentWaiting = false;
let agentCancelling = false;
let agentPresenting = false;
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
    renderHolders({ agentSession, agentWaiting, agentHello });
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
export async function restoreAgent() {
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

function updateAgent() {
  const canWork = typeof Worker === 'function' && !app.leaving;
  $('agent-start').disabled = !canWork || agentWaiting || agentPresenting;
  $('agent-start').textContent = agentSession ? 'Log the agent in again' : 'Start the agent\'s device login';
  $('agent-cancel').disabled = !agentWaiting || agentCancelling;
  $('agent-present').disabled = !canWork || !agentSession?.bound || agentWaiting || agentPresenting;
  if (!agentWaiting && !agentPresenting) {
    setAgentStatus(agentNote ?? (agentSession ? `Signed in as ${agentSession.sub} with its own key.`
      : 'Not started. It will make its own key in the Worker.'));
  }
  const note = $('agent-slot-note');
  if (app.pageReplaced) {
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
  renderHolders({ agentSession, agentWaiting, agentHello });
}

onUpdateButtons(updateAgent);

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

$('agent-start').addEventListener('click', async () => {
  clearError();
  setState('busy');
  agentWaiting = true;
  agentCancelling = false;
  agentNote = null;
  resetAgentCode();
  setAgentStatus('Starting: a fresh key in the Worker, then the device authorization request…');
  updateAgent();
  const pageJkt = app.session?.jkt ?? null;
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
    distinctHue(s.jkt, [pageJkt, ...pageJkts], [...app.shownRecordJkts]);
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
    app.agentPresentedJti = decoded?.payload.jti ?? null;
    $('agent-result-endpoint').textContent = CONSUMER_URL;
    httpStatus($('agent-result-status'), reply);
    const checks = [
      [proofJkt === agentSession.jkt, 'the proof was signed in the Worker by the agent\'s key ', proofJkt ? jktChip(proofJkt) : code('(no proof)')],
    ];
    if (reply.ok) {
      checks.push([body.cnf_jkt === agentSession.jkt, 'the consumer saw the agent\'s key: ', code('cnf_jkt'), ' = ', jktChip(String(body.cnf_jkt))]);
      checks.push([body.sub === agentSession.sub, code('sub'), ` = ${body.sub}: the same user as this page, another key holder`]);
    }
    if (app.session) checks.push([body.cnf_jkt !== app.session.jkt, 'not this page\'s key ', jktChip(app.session.jkt)]);
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
