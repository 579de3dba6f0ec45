// What both Workers (the demo's agent-worker.js and the interop test's test/interop-agent-worker.js)
// answer once they have a client: device login with polling reports, cancel, refresh, session,
// present and fetch. Each Worker decides only how its client is configured. Replies:
// {op, ok: true, ...} or {op, ok: false, code, message}; device polls are
// {op: 'device-poll', ok: true, status, interval}.

export const post = (msg) => self.postMessage(msg);

/** Where this code runs: the tests assert a Worker without `window` or `document`. */
export const where = () => ({
  inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope,
  hasWindow: typeof window !== 'undefined',
  hasDocument: typeof document !== 'undefined',
});

export const fail = (op, e) => post({ op, ok: false, code: (e && e.code) || (e && e.name) || 'Error', message: String((e && e.message) || e) });

export const opError = (message, code) => Object.assign(new Error(message), { code });

let abort;

/** Runs one message's op with the configured client `c`; throws (with a code) on failure. */
export async function runOp(c, op, data) {
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
  } else if (op === 'present') {
    const res = await c.presentTo(data.url);
    post({ op, ok: res.ok, status: res.status, body: await res.json(), proof: c.lastPresentationProof });
  } else if (op === 'fetch') {
    const res = await c.fetch(data.url, { method: data.method || 'GET' });
    post({ op, ok: res.ok, status: res.status, body: await res.text() });
  } else {
    throw opError(`unknown op ${op}`, 'UNKNOWN_OP');
  }
}
