// What the demo's sections share: one object of page state (no globals), the key thumbprints
// seen in this tab, and the record this tab keeps of its login. What only one section needs
// stays in that section's module.
import { LOGIN_RECORD } from './config.js';

export const app = {
  /** The KeyBoundClient of the page's key-bound login, once discovered. */
  client: null,
  /** The same client pushing its authorization requests (`par: 'always'`), when the OP has a PAR endpoint. */
  parClient: null,
  /** The OP's discovery document (the PAR and revocation endpoints, for showing what was sent). */
  meta: null,
  /** The current KeyBoundSession, or null. */
  session: null,
  /** The IndexedDB id of the session's key, when this tab knows it. */
  sessionKeyId: null,
  /** Set once the page navigates to the OP: the buttons stay off. */
  leaving: false,
  /** Set when another login (another tab) replaced this page's stored session: { jkt, keyGone }. */
  pageReplaced: null,
  /** The cnf_jkt values of the evidence rows shown. */
  shownRecordJkts: new Set(),
  /** The `jti` of the agent's last presentation (its row of the evidence table is marked). */
  agentPresentedJti: null,
  /** The passkey-nonce login's client: its own session, and no DPoP key binding asked of the OP. */
  pkClient: null,
  /** The passkey session (a KeyBoundSession with `passkey`), or null. */
  pkSession: null,
  /** The registered passkey (KeyBoundPasskey: public data only), or null. */
  passkey: null,
  /** What #compare-status says for a moment (while leaving for the OP), or null. */
  compareNote: null,
};

/** Thumbprints of this page's sessions seen in this tab (to label evidence rows). */
export const pageJkts = new Set();
/** Every thumbprint the agent's keys had in this tab (to label evidence rows). */
export const agentJkts = new Set();

/** sessionStorage: what this tab saw of its login ({ url, state, jkt?, proof?, cS256?, refreshed? }). */
export function readRecord() {
  try {
    return JSON.parse(sessionStorage.getItem(LOGIN_RECORD) || 'null');
  } catch {
    return null;
  }
}

export function writeRecord(record) {
  if (record) sessionStorage.setItem(LOGIN_RECORD, JSON.stringify(record));
  else sessionStorage.removeItem(LOGIN_RECORD);
}
