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
import { initSync, KeyBoundConsumer } from '../pkg/consumer/web.js';   // the "keybound/consumer/web" entry

initSync({ module: readFileSync(new URL('../pkg/consumer/keybound_bg.wasm', import.meta.url)) });

export async function startConsumer({ port = 0, issuer, clientId, appOrigin }) {
  const consumer = await KeyBoundConsumer.create({
    consumerId: 'node-example',
    issuers: [{ issuer, clientIds: [clientId] }],   // the JWKS comes from the issuer's discovery
    requireNonce: true,                              // pre-generated proofs fail
    // replayStore: { checkAndStore: (key, now, exp) => redis.set(key, '1', { NX: true, EXAT: exp }).then((r) => r === 'OK') },
  });
  const cors = (res) => {
    if (!appOrigin) return;
    res.setHeader('Access-Control-Allow-Origin', appOrigin);
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, DPoP');
    res.setHeader('Access-Control-Expose-Headers', 'DPoP-Nonce, WWW-Authenticate');
  };
  const server = createServer(async (req, res) => {
    cors(res);
    const url = `http://localhost:${server.address().port}${req.url}`;
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    if (req.method === 'GET' && req.url === '/records') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ records: consumer.records(), counters: consumer.counters() }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/session') { res.writeHead(404).end(); return; }
    let body = '';
    for await (const chunk of req) { body += chunk; if (body.length > 65536) { res.writeHead(413).end(); return; } }
    let idToken;
    try { idToken = JSON.parse(body).id_token; } catch { /* refused below */ }
    try {
      const accepted = await consumer.verify({
        idToken: typeof idToken === 'string' ? idToken : '', dpop: req.headers.dpop || '', method: req.method, url, action: 'open-session',
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify({ session: randomUUID(), sub: accepted.claims.sub, cnf_jkt: accepted.cnfJkt }));
    } catch (err) {
      const headers = { 'Content-Type': 'application/json' };
      if (err.dpopNonce) {
        headers['WWW-Authenticate'] = 'DPoP error="use_dpop_nonce", algs="ES256"';
        headers['DPoP-Nonce'] = err.dpopNonce;
      } else {
        headers['WWW-Authenticate'] = 'DPoP error="invalid_dpop_proof", algs="ES256"';
      }
      res.writeHead(401, headers).end(JSON.stringify({ error: err.dpopNonce ? 'use_dpop_nonce' : 'invalid_dpop_proof', code: err.code }));
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
