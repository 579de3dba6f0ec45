// A small Node server (20+) that accepts keybound presentations: POST /api/session with the ID
// Token in the JSON body and a DPoP proof by the token's cnf key (keybound's profile). It
// answers with a session of its own; the presentation is not a standing credential.
//
//   node examples/node-consumer.mjs --issuer http://localhost:8080 --client-id keybound-demo --port 4000
//
// The package's web build runs in Node: WebCrypto and fetch are global there.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { initSync, KeyBoundConsumer, verifyNodeRequest } from '../pkg/consumer/web.js';   // the "keybound/consumer/web" entry

initSync({ module: readFileSync(new URL('../pkg/consumer/keybound_bg.wasm', import.meta.url)) });

export async function startConsumer({ port = 0, issuer, clientId, appOrigin }) {
  const consumer = await KeyBoundConsumer.create({
    consumerId: 'node-example',
    issuers: [{ issuer, clientIds: [clientId] }],   // the JWKS comes from the issuer's discovery
    requireNonce: true,                              // pre-generated proofs fail
    // Several instances: replayStore: createRedisReplayStore(redisClient), and one nonceSecret for all.
  });
  const cors = (res) => {
    if (!appOrigin) return;
    res.setHeader('Access-Control-Allow-Origin', appOrigin);
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, DPoP');
    res.setHeader('Access-Control-Expose-Headers', 'DPoP-Nonce, WWW-Authenticate');
  };
  const server = createServer(async (req, res) => {
    cors(res);
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    if (req.method === 'GET' && req.url === '/records') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ records: consumer.records(), counters: consumer.counters() }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/session') { res.writeHead(404).end(); return; }
    // The shipped Node adapter: the DPoP header and {"id_token"} body that presentTo sends; a
    // refusal (the use_dpop_nonce challenge included) is answered on `res` already.
    const r = await verifyNodeRequest(consumer, req, res, { origin: `http://localhost:${server.address().port}`, action: 'open-session' });
    if (r.ok) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify({ session: randomUUID(), sub: r.accepted.claims.sub, cnf_jkt: r.accepted.cnfJkt }));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { consumer, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
  const { port } = await startConsumer({
    port: Number(arg('--port', 4000)), issuer: arg('--issuer', 'http://localhost:8080'),
    clientId: arg('--client-id', 'keybound-demo'), appOrigin: arg('--app-origin', 'http://localhost:8080'),
  });
  console.log(`keybound example consumer: http://localhost:${port}/api/session`);
}
