// An "agent" component in a dedicated Worker: the whole keybound client runs here (key
// generation, IndexedDB, proofs, token requests, refresh, presentations); nothing touches
// `window`. The page talks to it with messages: {op: 'device-login' | 'cancel' | 'refresh' |
// 'present' | 'session', ...}; the ops themselves are in agent-ops.js.
import init, { KeyBoundClient } from '/pkg/keybound.js';
import { fail, post, runOp, where } from './agent-ops.js';

let client;

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
    await runOp(await ready(issuer || self.location.origin, data.session ?? 'agent'), op, data);
  } catch (e) {
    fail(op, e);
  }
};
post({ op: 'hello', ok: true, ...where() });
