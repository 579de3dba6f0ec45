// Agent components in Workers: the whole client in a dedicated Worker logs in with the device
// flow (the user code is completed in a second tab) and presents to a consumer; device-flow
// errors surface their codes; cancellation; split mode (the page logs in, the worker presents).
import { assert, launchChromium, settled, signIn, startOp, tests } from './lib.mjs';

const { test, finish } = tests(170000);

const op = await startOp(['--device-interval', '1']);
const fault = (name) => fetch(`${op.origin}/_test/fault?name=${name}`);
const browser = await launchChromium();
const pageErrors = [];
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${op.origin}/flow.html`);
  await settled(page);
  // A worker with a message log the test can wait on.
  await page.evaluate(() => {
    window.agentLog = [];
    window.agent = new Worker('/agent-worker.js', { type: 'module' });
    window.agent.onmessage = ({ data }) => window.agentLog.push(data);
  });
  const send = (msg) => page.evaluate((m) => window.agent.postMessage(m), msg);
  const waitFor = (opName, after = 0) => page.waitForFunction(([o, a]) => window.agentLog.slice(a).find((m) => m.op === o), [opName, after], { timeout: 40000 })
    .then((h) => h.jsonValue());
  const logLength = () => page.evaluate(() => window.agentLog.length);
  const approveInTab = async (uri, action = '#approve') => {
    const tab = await context.newPage();
    await tab.goto(uri);
    await tab.fill('#username', 'alice');
    await tab.fill('#password', 'wonderland');
    await tab.click(action);
    await tab.waitForSelector('#device-done');
    await tab.close();
  };

  await test('the worker runs without window', async () => {
    const hello = await waitFor('hello');
    assert(hello.inWorker === true && hello.hasWindow === false, JSON.stringify(hello));
  });

  let workerSession;
  await test('device flow in a Worker, completed in a second tab: bound session', async () => {
    const start = await logLength();
    await send({ op: 'device-login' });
    const code = await waitFor('device-code', start);
    assert(/^[A-Z]{4}-[A-Z]{4}$/.test(code.userCode), JSON.stringify(code));
    await approveInTab(code.verificationUriComplete);
    const done = await waitFor('device-login', start);
    assert(done.ok, JSON.stringify(done));
    assert(done.session.bound === true && done.session.claims.cnf, 'bound');
    assert(done.inWorker && !done.hasWindow, 'in a worker without window');
    workerSession = done.session;
    const stats = await (await fetch(`${op.origin}/_test/stats`)).json();
    assert(stats.device_polls >= 1, `the OP saw the polls: ${JSON.stringify(stats)}`);
  });

  await test('the worker presents to the demo consumer: accepted', async () => {
    const start = await logLength();
    await send({ op: 'present', url: `${op.origin}/consumer/session` });
    const r = await waitFor('present', start);
    assert(r.status === 200 && r.body.cnf_jkt === workerSession.jkt, JSON.stringify(r));
  });

  await test('the worker refreshes: same key, still bound', async () => {
    const start = await logLength();
    await send({ op: 'refresh' });
    const r = await waitFor('refresh', start);
    assert(r.ok && r.session.bound && r.session.jkt === workerSession.jkt, JSON.stringify(r));
  });

  await test('device flow: access_denied surfaces ERR_DEVICE_ACCESS_DENIED', async () => {
    const start = await logLength();
    await send({ op: 'device-login' });
    const code = await waitFor('device-code', start);
    await approveInTab(code.verificationUriComplete, '#deny');
    const r = await waitFor('device-login', start);
    assert(!r.ok && r.code === 'ERR_DEVICE_ACCESS_DENIED', JSON.stringify(r));
  });

  await test('device flow: expired_token surfaces ERR_DEVICE_CODE_EXPIRED', async () => {
    await fault('device_expired');
    try {
      const start = await logLength();
      await send({ op: 'device-login' });
      const r = await waitFor('device-login', start);
      assert(!r.ok && r.code === 'ERR_DEVICE_CODE_EXPIRED', JSON.stringify(r));
    } finally { await fault(''); }
  });

  await test('device flow: slow_down adds 5 s to the interval, then succeeds', async () => {
    const start = await logLength();
    await fault('device_slow_down');
    await send({ op: 'device-login' });
    const code = await waitFor('device-code', start);
    const slow = await page.waitForFunction((a) => window.agentLog.slice(a).find((m) => m.op === 'device-poll' && m.status === 'slow_down'), start, { timeout: 20000 }).then((h) => h.jsonValue());
    assert(slow.interval === code.interval + 5, JSON.stringify(slow));
    await approveInTab(code.verificationUriComplete);
    const r = await waitFor('device-login', start);
    assert(r.ok && r.session.bound, JSON.stringify(r));
  });

  await test('device flow: cancel surfaces ERR_CANCELLED', async () => {
    const start = await logLength();
    await send({ op: 'device-login' });
    await waitFor('device-code', start);
    await send({ op: 'cancel' });
    const r = await waitFor('device-login', start);
    assert(!r.ok && r.code === 'ERR_CANCELLED', JSON.stringify(r));
  });

  await test('split mode: the page logs in, the worker holds the key and presents', async () => {
    const pageSession = await signIn(page, op.origin);
    assert(pageSession.bound, 'page session bound');
    await page.evaluate(() => {
      window.agentLog = [];
      window.agent = new Worker('/agent-worker.js', { type: 'module' });
      window.agent.onmessage = ({ data }) => window.agentLog.push(data);
    });
    await waitFor('hello');
    await send({ op: 'present', url: `${op.origin}/consumer/session`, session: '' });
    const r = await waitFor('present');
    assert(r.status === 200 && r.body.cnf_jkt === pageSession.jkt, JSON.stringify(r));
  });

  await test('the page and the agent keep separate sessions and keys', async () => {
    const pageSession = JSON.parse(await page.textContent('#session'));
    await page.evaluate(() => {
      window.agentLog = [];
      window.agent = new Worker('/agent-worker.js', { type: 'module' });
      window.agent.onmessage = ({ data }) => window.agentLog.push(data);
    });
    await waitFor('hello');
    await send({ op: 'device-login' });
    const code = await waitFor('device-code');
    await approveInTab(code.verificationUriComplete);
    const agent = await waitFor('device-login');
    assert(agent.ok && agent.session.jkt !== pageSession.jkt, 'the agent has its own key');
    const stillPage = await page.evaluate(async () => {
      const { KeyBoundClient, loadDPoPKeyPair } = await import('/pkg/keybound.js');
      const c = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
      const s = await c.session();
      const key = await loadDPoPKeyPair(s.keyId).then((k) => k.jkt, (e) => e.code);
      return { jkt: s.jkt, key };
    });
    assert(stillPage.jkt === pageSession.jkt && stillPage.key === pageSession.jkt, `the page's session and key survive: ${JSON.stringify(stillPage)}`);
  });

  await test('no uncaught page errors', async () => assert(pageErrors.length === 0, pageErrors.join('; ')));
} finally {
  await browser.close();
  op.proc.kill();
}
finish();
