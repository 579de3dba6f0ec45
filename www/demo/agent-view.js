// What the agent's card shows: its status line, the user code and the polls, and which component
// holds which key.
import { AGENT_POLLS_SHOWN } from './config.js';
import { $, code, el, jktChip } from './dom.js';
import { app } from './state.js';

export function setAgentStatus(...content) {
  $('agent-status').replaceChildren(...content);
}

/** The "which component holds which key" boxes, from the page's state and the agent's. */
export function renderHolders({ agentSession, agentWaiting, agentHello }) {
  const none = (text) => el('span', { className: 'muted', textContent: text });
  if (app.session) {
    $('holder-page-key').replaceChildren(jktChip(app.session.jkt));
    $('holder-page-info').replaceChildren(`Signed in as ${app.session.claims.sub}, bound: ${app.session.bound}. Signs its token requests and its presentations.`);
  } else if (app.pageReplaced) {
    $('holder-page-key').replaceChildren(jktChip(app.pageReplaced.jkt, el('span', { className: 'gone' })));
    $('holder-page-info').replaceChildren(el('span', { className: 'bad-text' },
      app.pageReplaced.keyGone ? 'Deleted: another login replaced this page\'s session.' : 'Its session was replaced by another login.'));
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

export function showUserCode(m) {
  const link = m.verificationUriComplete ?? m.verificationUri;
  $('agent-user-code').textContent = m.userCode;
  $('agent-verify-link').href = link;
  $('agent-verify-link').textContent = link;
  $('agent-verify-uri').textContent = m.verificationUri;
  $('agent-code-phase').textContent = `waiting · polls every ${m.interval} s`;
  $('agent-code-out').dataset.phase = 'waiting';
  $('agent-code-out').hidden = false;
}

export function addPoll(m, n) {
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

export function resetAgentCode() {
  $('agent-code-out').hidden = true;
  $('agent-code-out').dataset.phase = 'waiting';
  for (const id of ['agent-user-code', 'agent-verify-link', 'agent-verify-uri', 'agent-code-phase', 'agent-code-done', 'agent-poll-count']) $(id).replaceChildren();
  $('agent-verify-link').removeAttribute('href');
  $('agent-polls').replaceChildren(el('li', { className: 'pending', textContent: 'No poll yet.' }));
}
