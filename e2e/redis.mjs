// Several consumer instances sharing a real Redis (e2e/redis-instance.mjs: the built
// "keybound/consumer/web" entry, the shipped createRedisReplayStore and server adapters), with
// presentations sent as presentTo sends them. The test starts its own redis-server on a free
// 127.0.0.1 port (in memory) and stops it mid-run. Prints the counts (tried, accepted, refused
// by code) and the closing line CI reads.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { initSync, KeyBoundConsumer, createRedisReplayStore, verifyRequest } from '../pkg/consumer/web.js';
import { assert, tests } from './lib.mjs';
import {
  CLIENT_ID, ISSUER, URL_SESSION, freePort, makeParties, present, presenter, startInstance, startRedis, stopProc,
} from './redis-lib.mjs';

initSync({ module: readFileSync(new URL('../pkg/consumer/keybound_bg.wasm', import.meta.url)) });
const { test, finish } = tests(180000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const code = (p) => p.then(() => null, (e) => e);

const port = await freePort();
let redis = await startRedis(port);
const parties = await makeParties();
const proof = await presenter(parties);
const { idToken } = parties;
const nonceSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
const shared = { redisUrl: redis.url, issuer: ISSUER, clientId: CLIENT_ID, jwks: parties.jwks, nonceSecret };
const SETUPS = [['http', 'redis'], ['express', 'ioredis'], ['fastify', 'redis'], ['http', 'ioredis']];
const instances = await Promise.all(SETUPS.map(([framework, client], i) => startInstance({ ...shared, framework, client, name: `${framework}+${client}#${i}` })));

// Every presentation sent to an instance is counted here.
const tally = { tried: 0, accepted: 0, refused: {} };
const send = async (inst, dpop, token = idToken) => {
  const r = await present(inst.base, token, dpop);
  tally.tried++;
  if (r.status === 200) tally.accepted++;
  else tally.refused[r.body.code] = (tally.refused[r.body.code] ?? 0) + 1;
  return r;
};
const acceptedJtis = new Map();   // jti -> times accepted, over the whole run
const noteAccepted = (r) => { if (r.status === 200) acceptedJtis.set(r.body.jti, (acceptedJtis.get(r.body.jti) ?? 0) + 1); };

try {
  await test('the store: one SET NX, true then false; node-redis and ioredis alike', async () => {
    const nr = await createClient({ url: redis.url, disableOfflineQueue: true }).on('error', () => {}).connect();
    const io = new Redis(redis.url, { enableOfflineQueue: true, maxRetriesPerRequest: 0 });
    try {
      for (const [name, client] of [['node-redis', nr], ['ioredis', io]]) {
        const store = createRedisReplayStore(client, { prefix: `unit:${name}:` });
        const before = Date.now();
        const now = Math.floor(before / 1000);
        assert(await store.checkAndStore('k', now, now + 120) === true, `${name}: a new key is not new`);
        assert(await store.checkAndStore('k', now, now + 120) === false, `${name}: a stored key is new again`);
        const pttl = await nr.pTTL(`unit:${name}:k`);
        const after = Date.now();
        // The entry expires at the end of second now + 120: PTTL, read between `before` and
        // `after`, is that instant minus the moment Redis answered (give or take a millisecond).
        const end = (now + 121) * 1000;
        assert(pttl >= end - after - 2 && pttl <= end - before + 2, `${name}: PTTL ${pttl} ms, want ${end - after}..${end - before}`);
      }
    } finally {
      await nr.quit();
      io.disconnect();
    }
  });

  await test('the store: the entry outlives the whole second expiresAt, and is gone after it (no one-second edge)', async () => {
    const nr = await createClient({ url: redis.url }).on('error', () => {}).connect();
    try {
      const store = createRedisReplayStore(nr, { prefix: 'edge:' });
      // expiresAt = the current second: the consumer still treats the key as used until that
      // second ends. Check again in its last 150 ms (a busy machine may oversleep: try again).
      let checked = false;
      let expiresAt;
      for (let attempt = 0; attempt < 5 && !checked; attempt++) {
        while (Date.now() % 1000 > 300) await sleep(20);
        expiresAt = Math.floor(Date.now() / 1000);
        assert(await store.checkAndStore(`k${attempt}`, expiresAt, expiresAt) === true, 'not new');
        await sleep((expiresAt + 1) * 1000 - 150 - Date.now());
        const again = await store.checkAndStore(`k${attempt}`, expiresAt, expiresAt);
        if (Math.floor(Date.now() / 1000) !== expiresAt) continue;   // overslept the second
        assert(again === false, 'a replay in the last 150 ms of second expiresAt was new (EXAT-style edge)');
        checked = true;
        await sleep((expiresAt + 1) * 1000 + 300 - Date.now());
        assert(await nr.exists(`edge:k${attempt}`) === 0, 'the entry outlived its window');
      }
      assert(checked, 'the machine was too busy to check within one second, five times');
    } finally {
      await nr.quit();
    }
  });

  await test('the store fails closed: no answer in time, an error, a strange reply, an unknown client', async () => {
    const hang = createRedisReplayStore({ sendCommand: () => new Promise(() => {}), isOpen: true, isReady: true }, { timeoutMs: 100 });
    const t0 = Date.now();
    const e1 = await code(hang.checkAndStore('k', 1, 2));
    assert(e1?.code === 'ERR_REPLAY_STORE_UNAVAILABLE' && Date.now() - t0 < 1000, `hang: ${e1?.code} after ${Date.now() - t0} ms`);
    const e2 = await code(createRedisReplayStore({ call: async () => { throw new Error('READONLY'); }, status: 'ready' }).checkAndStore('k', 1, 2));
    assert(e2?.code === 'ERR_REPLAY_STORE_UNAVAILABLE' && e2.cause?.message === 'READONLY', `error: ${e2?.code}`);
    const e3 = await code(createRedisReplayStore({ sendCommand: async () => 1, isOpen: true, isReady: true }).checkAndStore('k', 1, 2));
    assert(e3?.code === 'ERR_REPLAY_STORE_UNAVAILABLE', `reply 1: ${e3?.code}`);
    const e4 = await code(createRedisReplayStore({ sendCommand: async () => 'OK', isOpen: true, isReady: false }).checkAndStore('k', 1, 2));
    assert(e4?.code === 'ERR_REPLAY_STORE_UNAVAILABLE', `reconnecting client: ${e4?.code}`);
    const e5 = (() => { try { createRedisReplayStore({ get() {} }); } catch (e) { return e; } })();
    assert(e5?.code === 'ERR_INVALID_ARGUMENT' && e5.argument === 'client', `unknown client: ${e5?.code}`);
    const e6 = (() => { try { createRedisReplayStore({ sendCommand() {} }, { timeoutMs: 0 }); } catch (e) { return e; } })();
    assert(e6?.code === 'ERR_INVALID_ARGUMENT' && e6.argument === 'timeoutMs', `timeoutMs 0: ${e6?.code}`);
    // Through a consumer: refused with the store's code and an evidence record; a ready 503.
    const consumer = await KeyBoundConsumer.create({ consumerId: 'orders-api', issuers: [{ issuer: ISSUER, clientIds: [CLIENT_ID], jwks: parties.jwks }], replayStore: hang });
    const request = new Request(URL_SESSION, { method: 'POST', headers: { dpop: await proof() }, body: JSON.stringify({ id_token: idToken }) });
    const r = await verifyRequest(consumer, request);
    assert(!r.ok && r.error.code === 'ERR_REPLAY_STORE_UNAVAILABLE' && r.error.evidence?.outcome === 'refused', `verifyRequest: ${r.error?.code}`);
    assert(r.response.status === 503 && (await r.response.json()).code === 'ERR_REPLAY_STORE_UNAVAILABLE', `status ${r.response.status}`);
    assert(consumer.counters().accepted === 0, 'accepted without the store');
  });

  await test('verifyRequest: the use_dpop_nonce challenge, 400 for a request without an ID Token, the header form', async () => {
    const consumer = await KeyBoundConsumer.create({ consumerId: 'orders-api', issuers: [{ issuer: ISSUER, clientIds: [CLIENT_ID], jwks: parties.jwks }], requireNonce: true });
    const post = (headers, body) => new Request(URL_SESSION, { method: 'POST', headers, body });
    const r1 = await verifyRequest(consumer, post({ dpop: await proof() }, JSON.stringify({ id_token: idToken })));
    assert(!r1.ok && r1.error.code === 'ERR_DPOP_NONCE_REQUIRED' && r1.response.status === 401, `no nonce: ${r1.error?.code}`);
    assert(/^DPoP error="use_dpop_nonce"/.test(r1.response.headers.get('www-authenticate')), 'no challenge');
    const nonce = r1.response.headers.get('dpop-nonce');
    assert(nonce && nonce === r1.error.dpopNonce, 'no DPoP-Nonce');
    const r2 = await verifyRequest(consumer, post({ dpop: await proof({ nonce }), 'x-id-token': idToken }, ''), { idTokenHeader: 'x-id-token' });
    assert(r2.ok && r2.accepted.claims.sub === 'alice', `header form: ${r2.error?.code}`);
    const r3 = await verifyRequest(consumer, post({ dpop: await proof({ nonce }) }, '{"other":1}'));
    assert(!r3.ok && r3.response.status === 400 && r3.error.code === 'ERR_INVALID_ARGUMENT', `no id_token: ${r3.response?.status}`);
    const r4 = await verifyRequest(consumer, post({ dpop: await proof({ nonce }) }, JSON.stringify({ id_token: idToken, pad: 'x'.repeat(70000) })));
    assert(!r4.ok && r4.response.status === 400, `a 70 kB body: ${r4.response?.status}`);
    const r5 = await verifyRequest(consumer, post({ dpop: await proof({ nonce, htu: 'https://api.example.test/other' }) }, JSON.stringify({ id_token: idToken })));
    assert(!r5.ok && r5.error.code === 'ERR_DPOP_HTU_MISMATCH' && r5.response.status === 401
      && r5.response.headers.get('www-authenticate').includes('invalid_dpop_proof'), `htu: ${r5.error?.code}`);
  });

  await test(`accepted by one instance, replayed to every other (${instances.length} instances, Node http / Express / Fastify, node-redis / ioredis): refused by all`, async () => {
    for (const first of instances) {
      const dpop = await proof();
      const ok = await send(first, dpop);
      noteAccepted(ok);
      assert(ok.status === 200 && ok.body.sub === 'alice', `${first.base}: ${ok.status} ${ok.body.code}`);
      for (const other of instances) {
        const again = await send(other, dpop);
        noteAccepted(again);
        assert(again.status === 401 && again.body.code === 'ERR_DPOP_REPLAY', `replay at another instance: ${again.status} ${again.body.code}`);
      }
    }
  });

  await test('the same presentation to every instance at once, 25 times: exactly one accepted each time', async () => {
    for (let round = 0; round < 25; round++) {
      const dpop = await proof();
      const rs = await Promise.all(instances.map((inst) => send(inst, dpop)));
      rs.forEach(noteAccepted);
      const okCount = rs.filter((r) => r.status === 200).length;
      assert(okCount === 1, `round ${round}: ${okCount} accepted`);
      assert(rs.every((r) => r.status === 200 || r.body.code === 'ERR_DPOP_REPLAY'), `round ${round}: ${rs.map((r) => r.body.code)}`);
    }
  });

  await test('a nonce from one instance is good at another (shared secret); one from a consumer with another secret is refused', async () => {
    const { nonce } = await (await fetch(`${instances[0].base}/nonce`)).json();
    for (const inst of instances.slice(1)) {
      const r = await send(inst, await proof({ nonce }));
      noteAccepted(r);
      assert(r.status === 200, `nonce of instance 0 at ${inst.base}: ${r.body.code}`);
    }
    const stranger = await KeyBoundConsumer.create({ consumerId: 'orders-api', issuers: [{ issuer: ISSUER, clientIds: [CLIENT_ID], jwks: parties.jwks }] });
    const foreign = await stranger.issueNonce();
    for (const inst of instances) {
      const r = await send(inst, await proof({ nonce: foreign }));
      assert(r.status === 401 && r.body.code === 'ERR_DPOP_NONCE_MISMATCH' && r.headers.get('dpop-nonce'), `foreign nonce: ${r.status} ${r.body.code}`);
    }
  });

  await test('Redis frozen (SIGSTOP): refused with ERR_REPLAY_STORE_UNAVAILABLE once the store times out; thawed: accepted again', async () => {
    redis.proc.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const rs = await Promise.all(instances.map(async (inst) => send(inst, await proof())));
      rs.forEach(noteAccepted);
      assert(rs.every((r) => r.status === 503 && r.body.code === 'ERR_REPLAY_STORE_UNAVAILABLE'), `frozen: ${rs.map((r) => r.body.code)}`);
      assert(Date.now() - t0 < 5000, `the refusals took ${Date.now() - t0} ms (store timeout 500 ms)`);
    } finally {
      redis.proc.kill('SIGCONT');
    }
    for (const inst of instances) {
      const r = await send(inst, await proof());
      noteAccepted(r);
      assert(r.status === 200, `thawed, ${inst.base}: ${r.body.code}`);
    }
  });

  await test('Redis stopped mid-run: all refused with ERR_REPLAY_STORE_UNAVAILABLE, the instances keep running; restarted: accepted again', async () => {
    // Presentations accepted just before the outage, replayed during and after it.
    const before = [];
    for (const inst of instances) {
      const dpop = await proof();
      const r = await send(inst, dpop);
      noteAccepted(r);
      assert(r.status === 200, `before: ${r.body.code}`);
      before.push(dpop);
    }
    await redis.stop();
    const during = [];
    for (let i = 0; i < 40; i++) {
      const inst = instances[i % instances.length];
      const dpop = i % 4 === 0 ? before[i % before.length] : await proof();
      const r = await send(inst, dpop);
      noteAccepted(r);
      assert(r.status === 503 && r.body.code === 'ERR_REPLAY_STORE_UNAVAILABLE', `Redis down, ${inst.base}: ${r.status} ${r.body.code}`);
      if (!before.includes(dpop)) during.push(dpop);
    }
    for (const inst of instances) assert(inst.proc.exitCode === null, 'an instance died');
    redis = await startRedis(port);
    // The clients reconnect on their own (200 ms retry); wait until every instance accepts.
    for (const inst of instances) {
      let r;
      for (let i = 0; i < 50; i++) {
        r = await send(inst, await proof());
        noteAccepted(r);
        if (r.status === 200) break;
        assert(r.body.code === 'ERR_REPLAY_STORE_UNAVAILABLE', `reconnecting: ${r.body.code}`);
        await sleep(100);
      }
      assert(r.status === 200, `${inst.base} did not accept again after the restart`);
    }
    // Fresh presentations refused during the outage were never accepted: each may be accepted
    // once now, by one instance. (Replays of proofs accepted BEFORE the outage are not tried:
    // this Redis keeps nothing across a restart, see the README.)
    for (const dpop of during.slice(0, 8)) {
      const rs = await Promise.all(instances.map((inst) => send(inst, dpop)));
      rs.forEach(noteAccepted);
      assert(rs.filter((r) => r.status === 200).length <= 1, 'accepted twice after the restart');
    }
  });

  await test("the README's replay store and server integration snippets run as written (the test's Redis and issuer swapped in)", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = (heading) => readme.slice(readme.indexOf(heading)).match(/```(?:js|ts)\n([\s\S]*?)```/)[1];
    const issuerLine = 'issuers: [{ issuer: "https://op.example.com", clientIds: ["my-spa"] }],';
    const store = block('### Replay store');
    assert(store.includes(issuerLine) && store.includes('redis://127.0.0.1:6379'), 'the snippet changed: update this test');
    const program = [
      store.replace('redis://127.0.0.1:6379', redis.url)
        .replace(issuerLine, `issuers: [{ issuer: ${JSON.stringify(ISSUER)}, clientIds: [${JSON.stringify(CLIENT_ID)}], jwks: ${JSON.stringify(parties.jwks)} }],`),
      block('### Server integrations'),
      // Two requests through the Fetch API handler, as a proxy forwards them (an inner URL; the
      // snippet's `origin` is what the proof names): accepted, then refused as a replay.
      "const post = () => new Request('http://10.0.0.7:8080/api/session', { method: 'POST', headers: { dpop: process.env.PROOF }, body: JSON.stringify({ id_token: process.env.ID_TOKEN }) });",
      'const a = await handle(post()); const b = await handle(post());',
      'console.log(JSON.stringify({ a: [a.status, await a.json()], b: [b.status, await b.json()] }));',
      'await redis.quit(); process.exit(0);',
    ].join('\n');
    mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
    const file = new URL('./out/readme-consumer.mjs', import.meta.url);
    // The server block is TypeScript: run the JS a user's compiler makes of it.
    writeFileSync(file, transformSync(program, { loader: 'ts', format: 'esm' }).code);
    const env = { ...process.env, KEYBOUND_NONCE_SECRET: nonceSecret, PROOF: await proof({ htu: 'https://api.example.com/api/session' }), ID_TOKEN: idToken };
    const out = execFileSync(process.execPath, [fileURLToPath(file)], { env, encoding: 'utf8', timeout: 30000 });
    const { a, b } = JSON.parse(out.trim().split('\n').pop());
    assert(a[0] === 200 && a[1].sub === 'alice', `first: ${JSON.stringify(a)}`);
    assert(b[0] === 401 && b[1].code === 'ERR_DPOP_REPLAY', `replay: ${JSON.stringify(b)}`);
  });

  await test('over the whole run, no presentation was accepted twice', () => {
    const twice = [...acceptedJtis].filter(([, n]) => n > 1);
    assert(acceptedJtis.size > 30 && twice.length === 0, `${acceptedJtis.size} accepted, ${twice.length} twice`);
  });
} finally {
  console.log(`redis: ${tally.tried} presentations tried, ${tally.accepted} accepted, refused by code: ${JSON.stringify(tally.refused)}`);
  await Promise.all(instances.map((i) => stopProc(i.proc)));
  await redis.stop();
}
finish();
