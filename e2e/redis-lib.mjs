// Shared by e2e/redis.mjs and e2e/bench-redis.mjs: a redis-server of their own on a free
// loopback port, consumer instances as child processes (e2e/redis-instance.mjs), and
// presentations made in Node: an issuer key signs a key-bound ID Token (jose), the client key
// signs DPoP proofs over it (jose, WebCrypto underneath).
import { spawn, fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';

export const ISSUER = 'https://op.example.test';
export const CLIENT_ID = 'app';
/** Every instance checks `htu` against this origin: they stand behind one load balancer. */
export const ORIGIN = 'https://api.example.test';
export const URL_SESSION = `${ORIGIN}/api/session`;

/** A free TCP port on 127.0.0.1 (bound and released). */
export const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** Starts redis-server on `port` (127.0.0.1 only, in memory); resolves once it accepts commands. */
export function startRedis(port) {
  return new Promise((resolve, reject) => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`redis-server did not start: ${out}`)); }, 10000);
    const early = (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code}): ${out}`)); };
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', early);
    const watch = (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        proc.off('exit', early);
        proc.stdout.off('data', watch);
        proc.stdout.resume();   // keep draining its log
        resolve({ proc, port, url: `redis://127.0.0.1:${port}`, stop: () => stopProc(proc) });
      }
    };
    proc.stdout.on('data', watch);
    proc.stderr.resume();
    // Never outlive the test, even one that ends through process.exit (a timeout, a failure).
    process.once('exit', () => proc.kill('SIGKILL'));
  });
}

/** Ends a child process and waits for it (SIGKILL after 5 s). */
export function stopProc(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
}

/** An issuer (ES256 key, JWKS) and a client key; `presenter()` makes ID Tokens and proofs. */
export async function makeParties() {
  const op = await generateKeyPair('ES256', { extractable: true });
  const parties = await makeSession(op);
  return { ...parties, op, session: () => makeSession(op) };
}

/** A session of the issuer `op`: a client key and an ID Token bound to it. */
async function makeSession(op) {
  const client = await generateKeyPair('ES256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(op.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
  const clientJwk = await exportJWK(client.publicKey);
  const now = Math.floor(Date.now() / 1000);
  const idToken = await new SignJWT({ sub: 'alice', aud: CLIENT_ID, cnf: { jwk: clientJwk } })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'dpop+id_token' })
    .setIssuer(ISSUER).setIssuedAt(now).setExpirationTime(now + 3600)
    .sign(op.privateKey);
  return { jwks, idToken, clientPrivateJwk: await exportJWK(client.privateKey), clientJwk };
}

/** Makes proofs by the client key over `idToken`: `proof({ htu, nonce?, jti? })`. */
export async function presenter({ idToken, clientPrivateJwk, clientJwk }) {
  const key = await importJWK(clientPrivateJwk, 'ES256');
  const ath = createHash('sha256').update(idToken).digest('base64url');
  return ({ htu = URL_SESSION, htm = 'POST', nonce, jti = randomUUID() } = {}) =>
    new SignJWT({ htm, htu, ath, jti, ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk })
      .setIssuedAt()
      .sign(key);
}

/**
 * Starts a consumer instance (e2e/redis-instance.mjs) as a child process; resolves to
 * `{ proc, port, base, ask(msg) }` once it listens.
 */
export function startInstance(config) {
  return new Promise((resolve, reject) => {
    const proc = fork(new URL('./redis-instance.mjs', import.meta.url), [JSON.stringify(config)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map();
    const timer = setTimeout(() => reject(new Error('a consumer instance did not start')), 20000);
    proc.on('error', reject);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`a consumer instance exited (${code})`)); });
    proc.on('message', (m) => {
      if (m.ready) {
        clearTimeout(timer);
        let seq = 0;
        resolve({
          proc, port: m.port, base: `http://127.0.0.1:${m.port}`,
          ask: (msg) => new Promise((res) => { const id = ++seq; pending.set(id, res); proc.send({ ...msg, id }); }),
        });
      } else if (m.id && pending.has(m.id)) {
        pending.get(m.id)(m);
        pending.delete(m.id);
      } else if (m.error) {
        reject(new Error(m.error));
      }
    });
  });
}

/** POSTs a presentation to an instance as `presentTo` sends it; resolves to `{ status, body, headers }`. */
export async function present(base, idToken, dpop) {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', dpop }, body: JSON.stringify({ id_token: idToken }),
    signal: AbortSignal.timeout(10000),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}
