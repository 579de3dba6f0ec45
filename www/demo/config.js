// The demo's settings: the OP and client it uses, the consumer, and what it keeps in Web Storage.

export const ISSUER = location.origin;
export const CLIENT_ID = 'keybound-demo';
export const REDIRECT_URI = `${location.origin}/`;
export const SCOPE = 'profile offline_access';
/** The reference OP's demo consumer (an RP Consuming Component) and its evidence records. */
export const CONSUMER_URL = `${location.origin}/consumer/session`;
export const RECORDS_URL = `${location.origin}/consumer/records`;
/** How many evidence records the table shows (newest first). */
export const RECORDS_SHOWN = 12;

/** sessionStorage: what this tab saw of its login ({ url, state, jkt?, proof?, cS256?, refreshed? }). */
export const LOGIN_RECORD = 'keybound-demo:login';
/** localStorage: the id of the playground's key. */
export const STORAGE_KEY = 'keybound-demo:key-id';
/** sessionStorage: what this tab knows of the agent ({ session: summary, jkts: [every agent key seen], hues: {jkt: hue} }). */
export const AGENT_RECORD = 'keybound-demo:agent';
/** How many of the agent's poll events the list shows (newest first). */
export const AGENT_POLLS_SHOWN = 6;
/**
 * sessionStorage: the comparison ({ passkey, pending, login, signed, compared }), so that it
 * comes back after the passkey login's redirect and after a reload.
 */
export const COMPARE_RECORD = 'keybound-demo:compare';
/** The name the demo's passkey is stored under (IndexedDB), and the passkey login's session name. */
export const PASSKEY_NAME = 'demo';
export const PASSKEY_SESSION = 'passkey';

export const LOGIN_BUTTONS = ['login', 'refresh', 'userinfo', 'forget', 'login-par', 'login-popup', 'logout'];
// What the last logout reported, kept for the page the OP's end-session endpoint sends back to.
export const LOGOUT_RECORD = 'keybound-demo:logout';
export const KEY_BUTTONS = ['generate', 'sign', 'run-worker', 'forget-key'];
export const CONSUMER_BUTTONS = ['present', 'replay'];
export const COMPARE_BUTTONS = ['pk-register', 'pk-login', 'pk-sign', 'compare-run'];
export const STEPS = ['key', 'auth', 'proof', 'idtoken', 'verdict'];
