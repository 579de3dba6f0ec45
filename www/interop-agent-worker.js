// The keybound client in a dedicated Worker, for the interop test (e2e/interop.mjs) against an OP
// we did not write: like agent-worker.js, but the issuer, client id, scope and binding policy come
// from the page. Nothing here touches `window` (there is none in a Worker).
//
// Protocol (page -> worker):
//   {op: 'configure', issuer, clientId, scope?, binding?, redirectUri?}   must be the first message
//   {op: 'device-login'}    startDeviceLogin, posts {op: 'device-code', ...}, then finishDeviceLogin
//   {op: 'cancel'}          aborts the polling (the device-login reply is ERR_CANCELLED)
//   {op: 'refresh'} | {op: 'session'} | {op: 'fetch', url, method?}
// Replies: {op, ok: true, ...} or {op, ok: false, code, message}. Polls are reported as
// {op: 'device-poll', ok: true, status, interval}. On start the worker posts {op: 'hello', ...}.
import init, { KeyBoundClient } from '/pkg/keybound.js';

let client;
let configured; // the promise of the client, set by the first message
let abort;

const post = (msg) => self.postMessage(msg);
const where = () => ({
  inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope,
  hasWindow: typeof window !== 'undefined',
  hasDocument: typeof document !== 'undefined',
});
const fail = (op, e) => post({ op, ok: false, code: (e && e.code) || (e && e.name) || 'Error', message: String((e && e.message) || e) });

async function configure({ issuer, clientId, scope, binding, redirectUri }) {
  if (typeof issuer !== 'string' || typeof clientId !== 'string') {
    throw Object.assign(new Error('configure needs issuer and clientId'), { code: 'CONFIGURE' });
  }
  await init();
  client = await KeyBoundClient.discover(issuer, {
    clientId,
    // Not used by the device flow, but the client wants one; the app page is the registered one.
    redirectUri: redirectUri || `${self.location.origin}/flow.html`,
    scope: scope ?? '',
    ...(binding ? { binding } : {}),
  });
  return client;
}

self.onmessage = async ({ data }) => {
  const { op } = data || {};
  try {
    if (!configured) {
      if (op !== 'configure') throw Object.assign(new Error('the first message must be {op: "configure", issuer, clientId}'), { code: 'CONFIGURE' });
      configured = configure(data);
      await configured;
      post({ op, ok: true, ...where() });
      return;
    }
    if (op === 'configure') throw Object.assign(new Error('already configured'), { code: 'CONFIGURE' });
    const c = await configured;
    if (op === 'device-login') {
      abort = new AbortController();
      const login = await c.startDeviceLogin();
      post({
        op: 'device-code', ok: true, userCode: login.userCode, verificationUri: login.verificationUri,
        verificationUriComplete: login.verificationUriComplete, expiresIn: login.expiresIn, interval: login.interval,
      });
      const session = await c.finishDeviceLogin(login.id, {
        signal: abort.signal,
        onPoll: (e) => post({ op: 'device-poll', ok: true, status: e.status, interval: e.interval }),
      });
      post({ op, ok: true, session, ...where() });
    } else if (op === 'cancel') {
      abort?.abort();
      post({ op, ok: true });
    } else if (op === 'refresh') {
      post({ op, ok: true, session: await c.refresh() });
    } else if (op === 'session') {
      post({ op, ok: true, session: await c.session() });
    } else if (op === 'fetch') {
      const res = await c.fetch(data.url, { method: data.method || 'GET' });
      post({ op, ok: res.ok, status: res.status, body: await res.text() });
    } else {
      throw Object.assign(new Error(`unknown op ${op}`), { code: 'UNKNOWN_OP' });
    }
  } catch (e) {
    fail(op, e);
  }
};
post({ op: 'hello', ok: true, ...where() });
