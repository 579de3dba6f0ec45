// One consumer instance for e2e/redis.mjs and e2e/bench-redis.mjs, in its own process: the
// built "keybound/consumer/web" entry, a replay store over a shared Redis (node-redis or
// ioredis, through the shipped createRedisReplayStore), behind Node http, Express or Fastify
// (through the shipped adapters). Its configuration is argv[2] (JSON); it reports on IPC.
//
//   POST /api/session   a presentation (presentTo's wire format): 200 {sub, jti} or the refusal
//   GET  /nonce         {nonce}: a consumer nonce from this instance
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import {
  initSync, KeyBoundConsumer, createRedisReplayStore, verifyNodeRequest, keyboundExpress, keyboundFastify,
} from '../pkg/consumer/web.js';
import { ORIGIN } from './redis-lib.mjs';

initSync({ module: readFileSync(new URL('../pkg/consumer/keybound_bg.wasm', import.meta.url)) });
const config = JSON.parse(process.argv[2]);

async function connect() {
  if (config.client === 'ioredis') {
    const { Redis } = await import('ioredis');
    // No offline queue and no retries per request: while Redis is away a command fails at once.
    const client = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => 200 });
    client.on('error', () => {});
    await new Promise((resolve, reject) => { client.once('ready', resolve); setTimeout(() => reject(new Error('ioredis: not ready')), 5000); });
    return client;
  }
  const { createClient } = await import('redis');
  const client = createClient({ url: config.redisUrl, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: () => 200 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

const redis = config.store === 'memory' ? null : await connect();
const consumer = await KeyBoundConsumer.create({
  consumerId: config.consumerId ?? 'orders-api',
  issuers: [{ issuer: config.issuer, clientIds: [config.clientId], jwks: config.jwks }],
  nonceSecret: config.nonceSecret,
  requireNonce: config.requireNonce ?? false,
  ...(redis ? { replayStore: createRedisReplayStore(redis, { timeoutMs: config.timeoutMs ?? 500 }) } : {}),
});
const options = { origin: ORIGIN, action: 'open-session' };
const accepted = (a) => ({ sub: a.claims.sub, jti: a.evidence.jti, instance: config.name });

let port;
if (config.framework === 'express') {
  const { default: express } = await import('express');
  const app = express();
  app.use(express.json());
  app.post('/api/session', keyboundExpress(consumer, options), (req, res) => res.json(accepted(req.keybound)));
  app.get('/nonce', async (req, res) => res.json({ nonce: await consumer.issueNonce() }));
  port = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s.address().port)); });
} else if (config.framework === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  app.post('/api/session', { preHandler: keyboundFastify(consumer, options) }, async (req) => accepted(req.keybound));
  app.get('/nonce', async () => ({ nonce: await consumer.issueNonce() }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = app.server.address().port;
} else {
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/nonce') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ nonce: await consumer.issueNonce() }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/session') { res.writeHead(404).end(); return; }
    const r = await verifyNodeRequest(consumer, req, res, options);
    if (r.ok) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(accepted(r.accepted)));
  });
  port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// Benchmark. `prepare` makes `n` fresh presentations here; `run` verifies them, `concurrency`
// at a time, timing each. Apart, so that instances started together verify together.
let prepared = [];
async function prepare({ n, idToken, clientPrivateJwk, clientJwk, seed, sessions }) {
  const { presenter } = await import('./redis-lib.mjs');
  // One session (ID Token and key), or several whose presentations interleave.
  const all = sessions ?? [{ idToken, clientPrivateJwk, clientJwk }];
  const makers = await Promise.all(all.map(async (s) => ({ idToken: s.idToken, proof: await presenter(s) })));
  prepared = [];
  for (let i = 0; i < n; i++) {
    const m = makers[i % makers.length];
    prepared.push({ idToken: m.idToken, dpop: await m.proof({ jti: `${seed}-${i}` }) });
  }
  return { n };
}

async function run({ concurrency }) {
  const proofs = prepared;
  prepared = [];
  const lat = new Float64Array(proofs.length);
  let ok = 0;
  let next = 0;
  const codes = {};
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < proofs.length) {
      const i = next++;
      const s = performance.now();
      try {
        await consumer.verify({ idToken: proofs[i].idToken, dpop: proofs[i].dpop, method: 'POST', url: `${ORIGIN}/api/session` });
        ok++;
      } catch (e) {
        codes[e.code] = (codes[e.code] ?? 0) + 1;
      }
      lat[i] = performance.now() - s;
    }
  }));
  const ms = performance.now() - t0;
  proofs.length = 0;
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { ms, ok, codes, lat: Array.from(lat), rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

// The two raw signature verifications a presentation needs (the ID Token's, the proof's), with
// WebCrypto and keys imported once, `n` times, `concurrency` at a time.
async function raw({ n, concurrency, idToken, clientPrivateJwk, clientJwk }) {
  const { presenter } = await import('./redis-lib.mjs');
  const dpop = await (await presenter({ idToken, clientPrivateJwk, clientJwk }))();
  const es256 = { name: 'ECDSA', hash: 'SHA-256' };
  const parts = (jws) => { const [h, p, s] = jws.split('.'); return [new TextEncoder().encode(`${h}.${p}`), Buffer.from(s, 'base64url')]; };
  const [tokenInput, tokenSig] = parts(idToken);
  const [proofInput, proofSig] = parts(dpop);
  const imp = (jwk) => crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const opKey = await imp(config.jwks.keys[0]);
  const clientKey = await imp(clientJwk);
  let next = 0;
  let good = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) {
      if (await crypto.subtle.verify(es256, opKey, tokenSig, tokenInput) && await crypto.subtle.verify(es256, clientKey, proofSig, proofInput)) good++;
    }
  }));
  return { ms: performance.now() - t0, good };
}

// The cost of a presentation against the raw pair, robust to a busy machine: `rounds` rounds,
// each `batch` raw pairs then `batch` presentations, one at a time; the median of the rounds.
async function ratio({ rounds, batch, idToken, clientPrivateJwk, clientJwk, seed }) {
  const { presenter } = await import('./redis-lib.mjs');
  const make = await presenter({ idToken, clientPrivateJwk, clientJwk });
  const es256 = { name: 'ECDSA', hash: 'SHA-256' };
  const parts = (jws) => { const [h, p, s] = jws.split('.'); return [new TextEncoder().encode(`${h}.${p}`), Buffer.from(s, 'base64url')]; };
  const [tokenInput, tokenSig] = parts(idToken);
  const [proofInput, proofSig] = parts(await make());
  const imp = (jwk) => crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const [opKey, clientKey] = [await imp(config.jwks.keys[0]), await imp(clientJwk)];
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const proofs = [];
    for (let i = 0; i < batch; i++) proofs.push(await make({ jti: `${seed}-${r}-${i}` }));
    let t = performance.now();
    for (let i = 0; i < batch; i++) {
      await crypto.subtle.verify(es256, opKey, tokenSig, tokenInput);
      await crypto.subtle.verify(es256, clientKey, proofSig, proofInput);
    }
    const raw = (performance.now() - t) / batch;
    t = performance.now();
    for (const dpop of proofs) await consumer.verify({ idToken, dpop, method: 'POST', url: `${ORIGIN}/api/session` });
    out.push({ raw, presentation: (performance.now() - t) / batch });
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { raw: median(out.map((o) => o.raw)), presentation: median(out.map((o) => o.presentation)), ratio: median(out.map((o) => o.presentation / o.raw)) };
}

process.on('message', async (m) => {
  if (m.cmd === 'counters') process.send({ id: m.id, counters: consumer.counters() });
  else if (m.cmd === 'prepare') process.send({ id: m.id, ...(await prepare(m)) });
  else if (m.cmd === 'run') process.send({ id: m.id, ...(await run(m)) });
  else if (m.cmd === 'raw') process.send({ id: m.id, ...(await raw(m)) });
  else if (m.cmd === 'ratio') process.send({ id: m.id, ...(await ratio(m)) });
});
// The test that started this instance is gone (finished, failed or killed): go too.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port });
