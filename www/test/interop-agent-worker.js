// The keybound client in a dedicated Worker, for the interop test (e2e/interop.mjs) against an OP
// we did not write: the ops of ../agent-ops.js, as in ../agent-worker.js, but the issuer, client id,
// scope and binding policy come from the page. Nothing here touches `window` (there is none in a Worker).
//
// Protocol (page -> worker):
//   {op: 'configure', issuer, clientId, scope?, binding?, redirectUri?}   must be the first message
//   {op: 'device-login'}    startDeviceLogin, posts {op: 'device-code', ...}, then finishDeviceLogin
//   {op: 'cancel'}          aborts the polling (the device-login reply is ERR_CANCELLED)
//   {op: 'refresh'} | {op: 'session'} | {op: 'fetch', url, method?}
// Replies: {op, ok: true, ...} or {op, ok: false, code, message}. Polls are reported as
// {op: 'device-poll', ok: true, status, interval}. On start the worker posts {op: 'hello', ...}.
import init, { KeyBoundClient } from '/pkg/keybound.js';
import { fail, opError, post, runOp, where } from '../agent-ops.js';

let configured; // the promise of the client, set by the first message

async function configure({ issuer, clientId, scope, binding, redirectUri }) {
  if (typeof issuer !== 'string' || typeof clientId !== 'string') {
    throw opError('configure needs issuer and clientId', 'CONFIGURE');
  }
  await init();
  return KeyBoundClient.discover(issuer, {
    clientId,
    // Not used by the device flow, but the client wants one; the app page is the registered one.
    redirectUri: redirectUri || `${self.location.origin}/flow.html`,
    scope: scope ?? '',
    ...(binding ? { binding } : {}),
  });
}

self.onmessage = async ({ data }) => {
  const { op } = data || {};
  try {
    if (!configured) {
      if (op !== 'configure') throw opError('the first message must be {op: "configure", issuer, clientId}', 'CONFIGURE');
      configured = configure(data);
      await configured;
      post({ op, ok: true, ...where() });
      return;
    }
    if (op === 'configure') throw opError('already configured', 'CONFIGURE');
    await runOp(await configured, op, data);
  } catch (e) {
    fail(op, e);
  }
};
post({ op: 'hello', ok: true, ...where() });
