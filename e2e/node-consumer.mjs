// Node verifies presentations made in the browser: the page logs in at the reference OP; it
// presents to the example Node consumer (examples/node-consumer.mjs, cross-origin, nonce
// required) with presentTo; a presentation made in the page is also verified directly in Node;
// replays and other URLs are refused there.
import { spawn } from 'node:child_process';
import { assert, launchChromium, root, signIn, startOp, tests } from './lib.mjs';
import { startConsumer } from '../examples/node-consumer.mjs';

const { test, finish } = tests(120000);

/** Starts target/debug/keybound-axum-consumer; resolves to `{proc, origin, local}` once it listens. */
function startRust(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(`${root}target/debug/keybound-axum-consumer`, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { proc.kill(); reject(new Error('the axum consumer did not start')); }, 10000);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.stdout.on('data', (d) => {
      const m = String(d).match(/(http:\/\/localhost:(\d+))\/api\/session/);
      if (m) { clearTimeout(timer); resolve({ proc, origin: m[1], local: `http://127.0.0.1:${m[2]}` }); }
    });
  });
}

const op = await startOp();
const example = await startConsumer({ issuer: op.origin, clientId: 'keybound-demo', appOrigin: op.origin });
const api = `http://localhost:${example.port}/api/session`;
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const session = await signIn(page, op.origin);
  const inPage = (fn, arg) => page.evaluate(async ([src, a]) => {
    const { KeyBoundClient } = await import('/pkg/keybound.js');
    const client = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
    return (0, eval)(src)(client, a);
  }, [fn.toString(), arg]);

  await test('presentTo the Node consumer: one nonce challenge, then accepted', async () => {
    const r = await inPage(async (client, url) => {
      const res = await client.presentTo(url);
      return { status: res.status, body: await res.json() };
    }, api);
    assert(r.status === 200, JSON.stringify(r));
    assert(r.body.sub === session.claims.sub && r.body.cnf_jkt === session.jkt, JSON.stringify(r.body));
    const { records } = await (await fetch(`http://localhost:${example.port}/records`)).json();
    assert(records[0].error === 'ERR_DPOP_NONCE_REQUIRED' && records[1].outcome === 'accepted', JSON.stringify(records));
  });

  await test('Node verifies a presentation made in the browser; a replay is refused', async () => {
    const nonce = await example.consumer.issueNonce();
    const url = 'https://api.example.test/v1/orders';
    const p = await inPage((client, a) => client.present({ htm: 'POST', htu: a.url, nonce: a.nonce }), { url, nonce });
    assert(p.idToken === session.idToken, 'the session ID Token');
    const ok = await example.consumer.verify({ idToken: p.idToken, dpop: p.dpop, method: 'POST', url, action: 'place-order' });
    assert(ok.cnfJkt === session.jkt && ok.evidence.action === 'place-order', JSON.stringify(ok.evidence));
    const again = await example.consumer.verify({ idToken: p.idToken, dpop: p.dpop, method: 'POST', url }).then(() => null, (e) => e);
    assert(again && again.code === 'ERR_DPOP_REPLAY' && again.evidence.outcome === 'refused', `replay: ${again && again.code}`);
  });

  await test('Node refuses a proof for another URL, and a token without a proof (with a nonce to retry)', async () => {
    const nonce = await example.consumer.issueNonce();
    const p = await inPage((client, n) => client.present({ htm: 'POST', htu: 'https://api.example.test/v1/a', nonce: n }), nonce);
    const err = await example.consumer.verify({ idToken: p.idToken, dpop: p.dpop, method: 'POST', url: 'https://api.example.test/v1/b' }).then(() => null, (e) => e);
    assert(err && err.code === 'ERR_DPOP_HTU_MISMATCH', `got ${err && err.code}`);
    const noProof = await example.consumer.verify({ idToken: p.idToken, dpop: '', method: 'POST', url: 'https://api.example.test/v1/a' }).then(() => null, (e) => e);
    assert(noProof && noProof.code === 'ERR_DPOP_PROOF_MISSING' && noProof.dpopNonce, `got ${noProof && noProof.code}`);
  });

  await test('a consumer whose OP does not answer discovery: ERR_TIMEOUT after its timeout, not a hang', async () => {
    const { KeyBoundConsumer } = await import('../pkg/consumer/web.js');   // initialized by the example server
    assert((await fetch(`${op.origin}/_test/fault?name=discovery_hang`)).ok, 'fault');
    try {
      const t0 = Date.now();
      const err = await KeyBoundConsumer.create({ consumerId: 'slow', issuers: [{ issuer: op.origin, clientIds: ['keybound-demo'] }], timeout: 500 })
        .then(() => null, (e) => e);
      assert(err?.code === 'ERR_TIMEOUT', `code ${err?.code}: ${err?.message}`);
      assert(Date.now() - t0 < 5000, `waited ${Date.now() - t0} ms: the OP's 10 s hold, not the 0.5 s timeout`);
      const bad = await KeyBoundConsumer.create({ consumerId: 'x', issuers: [{ issuer: op.origin, clientIds: ['c'] }], timeout: 0 }).then(() => null, (e) => e);
      assert(bad?.code === 'ERR_INVALID_ARGUMENT' && bad.argument === 'timeout', `timeout 0: ${bad?.code}`);
    } finally {
      await fetch(`${op.origin}/_test/fault?name=`);
    }
  });

  await test('a Rust backend (examples/axum-consumer, the native verifier): presentTo accepted after one nonce challenge; a replay and another method refused', async () => {
    const jwks = await (await fetch(`${op.origin.replace('//localhost:', '//127.0.0.1:')}/jwks`)).text();
    const rust = await startRust(['--issuer', op.origin, '--client-id', 'keybound-demo', '--jwks', jwks, '--app-origin', op.origin]);
    try {
      const url = `${rust.origin}/api/session`;
      const r = await inPage(async (client, u) => {
        const res = await client.presentTo(u);
        return { status: res.status, body: await res.json() };
      }, url);
      assert(r.status === 200 && r.body.sub === session.claims.sub && r.body.cnf_jkt === session.jkt, JSON.stringify(r));
      const { records } = await (await fetch(`${rust.local}/records`)).json();
      assert(records.length === 2 && records[0].error === 'ERR_DPOP_NONCE_REQUIRED' && records[1].outcome === 'accepted', JSON.stringify(records));
      // The same presentation twice, from Node: a nonce first, then accepted once, then a replay.
      const post = (dpop, body) => fetch(`${rust.local}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', dpop }, body });
      const challenge = await post('', JSON.stringify({ id_token: session.idToken }));
      const nonce = challenge.headers.get('dpop-nonce');
      assert(challenge.status === 401 && nonce && /use_dpop_nonce/.test(challenge.headers.get('www-authenticate')), `challenge ${challenge.status}`);
      const p = await inPage((client, a) => client.present({ htm: 'POST', htu: a.url, nonce: a.nonce }), { url, nonce });
      const body = JSON.stringify({ id_token: p.idToken });
      const first = await post(p.dpop, body);
      assert(first.status === 200, `first: ${first.status} ${await first.text()}`);
      const again = await post(p.dpop, body);
      assert(again.status === 401 && (await again.json()).code === 'ERR_DPOP_REPLAY', 'the same presentation again');
      const put = await fetch(`${rust.local}/api/session`, { method: 'PUT', headers: { dpop: p.dpop }, body });
      assert(put.status === 405, `PUT: ${put.status}`);
    } finally {
      rust.proc.kill();
    }
  });

  await test('counters count replays', async () => {
    const c = example.consumer.counters();
    assert(c.accepted === 2 && c.replays === 1, JSON.stringify(c));
  });
} finally {
  await browser.close();
  await example.close();
  op.proc.kill();
}
finish();
