// An "agent" component in a dedicated Worker: the whole keybound client runs here (key
// generation, IndexedDB, proofs, token requests, refresh, presentations); nothing touches
// `window`. The page talks to it with messages: {op: 'device-login' | 'cancel' | 'refresh' |
// 'present' | 'session', ...}. Replies: {op, ok, ...} or {op, ok: false, code, message}.
import init, { KeyBoundClient } from '/pkg/keybound.js';

let client;
let abort;
const post = (msg) => self.postMessage(msg);
const fail = (op, e) => post({ op, ok: false, code: e.code || e.name, message: e.message });

async function ready(issuer, session) {
  if (client) return client;
  await init();
  client = await KeyBoundClient.discover(issuer, {
    clientId: 'keybound-demo', redirectUri: `${issuer}/flow.html`, scope: 'profile offline_access', session,
  });
  return client;
}

self.onmessage = async ({ data }) => {
  const { op, issuer } = data;
  try {
    const c = await ready(issuer || self.location.origin, data.session ?? 'agent');
    if (op === 'device-login') {
      abort = new AbortController();
      const login = await c.startDeviceLogin();
      post({ op: 'device-code', ok: true, userCode: login.userCode, verificationUri: login.verificationUri, verificationUriComplete: login.verificationUriComplete, interval: login.interval });
      const session = await c.finishDeviceLogin(login.id, {
        signal: abort.signal,
        onPoll: (e) => post({ op: 'device-poll', ok: true, ...e }),
      });
      post({ op, ok: true, session, inWorker: typeof WorkerGlobalScope !== 'undefined', hasWindow: typeof window !== 'undefined' });
    } else if (op === 'cancel') {
      abort?.abort();
      post({ op, ok: true });
    } else if (op === 'refresh') {
      post({ op, ok: true, session: await c.refresh() });
    } else if (op === 'session') {
      post({ op, ok: true, session: await c.session() });
    } else if (op === 'present') {
      const res = await c.presentTo(data.url);
      post({ op, ok: res.ok, status: res.status, body: await res.json(), proof: c.lastPresentationProof });
    }
  } catch (e) {
    fail(op, e);
  }
};
post({ op: 'hello', ok: true, inWorker: typeof WorkerGlobalScope !== 'undefined', hasWindow: typeof window !== 'undefined' });
