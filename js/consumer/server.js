// Server integrations for KeyBoundConsumer, shipped with the consumer entry: `verifyRequest` over
// the Fetch API (Node 18+, Deno, Workers and other edge runtimes), and thin adapters for Node's
// `http`, Express and Fastify on top of it. Plain JavaScript with no import.
//
// The wire format is the one `client.presentTo(url)` sends (keybound's profile): the proof in
// the `DPoP` header, the ID Token in a JSON body `{"id_token": "…", …}` or, when the consumer
// names one (`idTokenHeader`), in that header. Never `Authorization: Bearer`.

const NONCE_CODES = new Set(['ERR_DPOP_NONCE_REQUIRED', 'ERR_DPOP_NONCE_MISMATCH', 'ERR_DPOP_PROOF_MISSING']);
const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };
const ALGS = 'ES256 ES384 PS256 RS256 EdDSA';

const reply = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });

/** The answer to a refusal: a `use_dpop_nonce` challenge, 503 when the replay store is down, 401/400 otherwise. */
function refusal(err) {
  const code = typeof err?.code === 'string' ? err.code : 'ERR_INVALID_ARGUMENT';
  if (NONCE_CODES.has(code) && typeof err.dpopNonce === 'string') {
    return reply(401, { error: 'use_dpop_nonce', code }, {
      'www-authenticate': `DPoP error="use_dpop_nonce", algs="${ALGS}"`, 'dpop-nonce': err.dpopNonce,
    });
  }
  // Not the presenter's fault: the presentation may be good, it could not be checked for replay.
  if (code === 'ERR_REPLAY_STORE_UNAVAILABLE') return reply(503, { error: 'temporarily_unavailable', code }, { 'retry-after': '1' });
  if (code === 'ERR_INVALID_ARGUMENT') return reply(400, { error: 'invalid_request', code });
  const error = code.startsWith('ERR_DPOP_') ? 'invalid_dpop_proof' : 'invalid_token';
  return reply(401, { error, code }, { 'www-authenticate': `DPoP error="${error}", algs="${ALGS}"` });
}

const badRequest = (message) => {
  const err = new Error(message);
  err.code = 'ERR_INVALID_ARGUMENT';
  return err;
};

/** The body as text, refusing more than `limit` bytes (read as a stream, so a huge body is not buffered). */
async function readText(request, limit) {
  if (!request.body) return '';
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw badRequest('the body is too large');
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw badRequest('the body is too large');
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.byteLength; }
  return new TextDecoder().decode(all);
}

/**
 * Verifies the presentation a request carries (`DPoP` header; ID Token in the JSON body's
 * `id_token`, or in `options.idTokenHeader`). Resolves to `{ ok: true, accepted, body }` (the
 * parsed JSON body, if any, since the request's own body has been read) or to
 * `{ ok: false, error, response }`: `error` is the coded Error (with `evidence`), `response` a
 * ready answer, a 401 `use_dpop_nonce` challenge with `DPoP-Nonce` for nonce refusals, 503 when
 * the replay store is down, 400 for a malformed request, 401 otherwise. Rejects only on an
 * unexpected failure of `consumer.verify` itself.
 *
 * The URL checked against the proof's `htu` is `request.url`, or `options.origin` + its path and
 * query (set it behind a proxy, or when `request.url` is built from the Host header).
 */
export async function verifyRequest(consumer, request, options = {}) {
  const { idTokenHeader, origin, action, maxBodyBytes = 65536 } = options;
  let url = request.url;
  if (origin !== undefined) {
    const u = new URL(request.url);
    url = new URL(`${u.pathname}${u.search}`, origin).href;
  }
  let idToken = '';
  let body;
  try {
    const text = await readText(request, maxBodyBytes);
    if (text) {
      try { body = JSON.parse(text); } catch { if (!idTokenHeader) throw badRequest('the body is not JSON'); }
    }
    idToken = idTokenHeader ? request.headers.get(idTokenHeader) ?? '' : body?.id_token;
    if (typeof idToken !== 'string' || !idToken) throw badRequest(idTokenHeader ? `no ${idTokenHeader} header` : 'no "id_token" in the JSON body');
  } catch (err) {
    if (err?.code !== 'ERR_INVALID_ARGUMENT') throw err;
    return { ok: false, error: err, response: refusal(err) };
  }
  try {
    const accepted = await consumer.verify({ idToken, dpop: request.headers.get('dpop') ?? '', method: request.method, url, action });
    return { ok: true, accepted, body };
  } catch (err) {
    if (typeof err?.code !== 'string' || !err.evidence) throw err;   // not a refusal: a bug or a broken runtime
    return { ok: false, error: err, response: refusal(err) };
  }
}

/** A Fetch API `Request` for a Node `http.IncomingMessage` (its body streamed, not buffered). */
export function nodeToRequest(req, options = {}) {
  const proto = req.socket?.encrypted ? 'https' : 'http';
  const origin = options.origin ?? `${proto}://${req.headers.host ?? 'localhost'}`;
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url, origin), { method: req.method, headers, body: hasBody ? req : undefined, duplex: 'half' });
}

/** Writes a Fetch API `Response` to a Node `http.ServerResponse`. */
export async function sendNodeResponse(res, response) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

/**
 * Node `http`: verifies `req`. Resolves to the `verifyRequest` result; when refused, the answer
 * has already been sent on `res`.
 */
export async function verifyNodeRequest(consumer, req, res, options = {}) {
  const result = await verifyRequest(consumer, nodeToRequest(req, options), options);
  if (!result.ok) await sendNodeResponse(res, result.response);
  return result;
}

/** A request for a framework that has already parsed the body (`parsed`), or left the stream to us. */
const frameworkRequest = (req, url, parsed) => new Request(url, {
  method: req.method,
  headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v === undefined ? [] : [[k, String(v)]])),
  body: req.method === 'GET' || req.method === 'HEAD' ? undefined : parsed === undefined ? req.raw ?? req : JSON.stringify(parsed),
  duplex: 'half',
});

/**
 * Express middleware: on acceptance sets `req.keybound` (and `req.body` when it read the body)
 * and calls `next()`; otherwise it sends the refusal. Works with or without `express.json()`.
 */
export function keyboundExpress(consumer, options = {}) {
  return (req, res, next) => {
    const origin = options.origin ?? `${req.protocol}://${req.get('host')}`;
    verifyRequest(consumer, frameworkRequest(req, new URL(req.originalUrl, origin), req.body), options).then(async (r) => {
      if (!r.ok) return sendNodeResponse(res, r.response);
      req.keybound = r.accepted;
      if (req.body === undefined) req.body = r.body;
      next();
    }, next);
  };
}

/**
 * Fastify `preHandler` hook: on acceptance sets `request.keybound`; otherwise it sends the
 * refusal. Fastify parses the JSON body first; the hook reads `request.body`.
 */
export function keyboundFastify(consumer, options = {}) {
  return async (request, reply) => {
    const origin = options.origin ?? `${request.protocol}://${request.host}`;
    const r = await verifyRequest(consumer, frameworkRequest(request, new URL(request.url, origin), request.body ?? undefined), options);
    if (r.ok) {
      request.keybound = r.accepted;
      return;
    }
    reply.code(r.response.status).headers(Object.fromEntries(r.response.headers));
    return reply.send(await r.response.text());
  };
}
