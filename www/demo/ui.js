// The page's action runner, error box, buttons and status line, shared by every section. Each
// section registers its own part of updateButtons with onUpdateButtons.
import { COMPARE_BUTTONS, CONSUMER_BUTTONS, KEY_BUTTONS, LOGIN_BUTTONS } from './config.js';
import { $, el, jktChip, setState } from './dom.js';
import { app, pageJkts } from './state.js';
export function showError(err) {
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

export function clearError() {
  const box = $('error');
  box.hidden = true;
  box.replaceChildren();
  delete box.dataset.code;
}

/** Runs one action: state `busy`, error box cleared, buttons off; then the action's final state. */
export async function action(fn) {
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

/** What each section does in updateButtons (its buttons and its status line), in the order registered. */
const sectionUpdates = [];

/** Registers a section's part of updateButtons. */
export function onUpdateButtons(update) {
  sectionUpdates.push(update);
}

/** The buttons and status lines of every section, from the page state. */
export function updateButtons() {
  $('login').disabled = !app.client || app.leaving;
  $('login').textContent = app.session ? 'Log in again with key binding' : 'Log in with key binding';
  $('refresh').disabled = !app.session?.hasRefreshToken || app.leaving;
  $('userinfo').disabled = !app.session || app.leaving;
  $('forget').disabled = !app.session || app.leaving;
  $('login-par').disabled = !app.parClient || app.leaving;
  $('login-popup').disabled = !app.client || app.leaving;
  $('logout').disabled = !app.session || app.leaving;
  for (const update of sectionUpdates) update();
}

export function showStatus() {
  const status = $('status');
  if (!app.session) {
    status.replaceChildren('Not signed in.');
    if (app.pageReplaced) {
      status.append(' ', el('span', { className: 'badge bad', textContent: 'this page\'s session was replaced by another login' }));
    }
    return;
  }
  pageJkts.add(app.session.jkt);
  app.pageReplaced = null;
  status.replaceChildren(
    'Signed in as ', el('strong', { textContent: String(app.session.claims.sub) }), ' · ',
    app.session.bound
      ? el('span', { className: 'badge good', textContent: 'ID Token bound to this browser\'s key' })
      : el('span', { className: 'badge bad', textContent: 'ID Token NOT bound' }),
    ' ', jktChip(app.session.jkt),
  );
}
