// Decoding (base64url, JWS, JSON) and watching what the page sends, for showing it.

export function base64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export function base64urlEncode(bytes) {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeJws(jws) {
  const [h, p, s] = jws.split('.');
  const json = (part) => JSON.parse(new TextDecoder().decode(base64urlDecode(part)));
  return { header: json(h), payload: json(p), signingInput: `${h}.${p}`, signature: base64urlDecode(s) };
}

export async function sha256b64url(text) {
  return base64urlEncode(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Runs `fn` while noting every request the page sends to `url` through the global `fetch`, and
 * the answer's status and challenge headers. Requests pass through unchanged. keybound's
 * `presentTo` sends with the global `fetch`, so this shows exactly what it sent.
 */
export async function observeRequestsTo(url, fn) {
  const original = globalThis.fetch;
  const exchanges = [];
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== url) return original(request);
    const sent = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.clone().text(),
    };
    const response = await original(request);
    exchanges.push({
      request: sent,
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      dpopNonce: response.headers.get('dpop-nonce'),
    });
    return response;
  };
  try {
    return { result: await fn(), exchanges };
  } finally {
    globalThis.fetch = original;
  }
}
