// A small static server for the keybound demo and e2e tests (no dependencies).
//
//   node scripts/serve.mjs [port]      (default: $KEYBOUND_PORT or 8080)
//
// Serves www/ at / and pkg/web/ at /pkg/, on 127.0.0.1 only.
// Tests import it and call `startServer(0)` to get a random free port.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// /vendor/<name>/: the benchmark's peer libraries (www/bench.js) from node_modules, exactly these.
const VENDORED = ['oauth4webapi', 'jose', 'dpop'];
const MOUNTS = [
  // Longest prefix first.
  ...VENDORED.map((name) => ({ prefix: `/vendor/${name}/`, dir: path.join(ROOT, 'node_modules', name) })),
  { prefix: '/pkg/', dir: path.join(ROOT, 'pkg', 'web') },
  // The shipped entries (pkg/main, pkg/consumer, …), for pages that load one as a user would.
  { prefix: '/dist/', dir: path.join(ROOT, 'pkg') },
  { prefix: '/', dir: path.join(ROOT, 'www') },
];
const HOST = '127.0.0.1';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

/** Maps a URL path to a file inside one of the mounts, or null if it is outside them. */
function resolveFile(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  for (const { prefix, dir } of MOUNTS) {
    if (!decoded.startsWith(prefix)) continue;
    let rel = decoded.slice(prefix.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    // Refuse any ".." segment outright, then double-check the resolved path.
    if (rel.split('/').some((seg) => seg === '..')) return null;
    const file = path.resolve(dir, rel);
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    return file;
  }
  return null;
}

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'method not allowed\n');
  }
  let pathname;
  try {
    pathname = new URL(req.url, 'http://localhost').pathname;
  } catch {
    return send(res, 400, 'bad request\n');
  }
  // `new URL` already collapses "/../", so also look at the raw request target.
  if (/(^|\/|%2f|\\)(\.\.|%2e%2e|\.%2e|%2e\.)(\/|%2f|\\|$)/i.test(req.url.split('?')[0])) {
    return send(res, 404, 'not found\n');
  }
  const file = resolveFile(pathname);
  if (!file) return send(res, 404, 'not found\n');
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return send(res, 404, 'not found\n');
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': st.size,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // Cross-origin isolation: performance.now() gets 5 µs steps instead of 100 µs (bench).
      // COOP only on the benchmark pages: a page under `same-origin` loses its login popup
      // (the browser cuts the popup from it as soon as it shows another origin or policy).
      ...(path.basename(file).startsWith('bench') ? { 'Cross-Origin-Opener-Policy': 'same-origin' } : {}),
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
}

/**
 * Starts the server on 127.0.0.1:`port` (0 picks a free port).
 * Resolves to `{ port, close }`; `close()` resolves once the server has stopped.
 */
export async function startServer(port = 0) {
  const server = http.createServer(handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const arg = process.argv[2] ?? process.env.KEYBOUND_PORT ?? '8080';
  const port = Number(arg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`keybound demo: invalid port ${JSON.stringify(arg)}`);
    process.exit(1);
  }
  try {
    const { port: actual } = await startServer(port);
    console.log(`keybound demo: http://localhost:${actual}/`);
  } catch (err) {
    if (err.code === 'EADDRINUSE') {
      console.error(`keybound demo: port ${port} on ${HOST} is already in use; pass another port: node scripts/serve.mjs <port>`);
    } else {
      console.error(`keybound demo: cannot listen on ${HOST}:${port}: ${err.message}`);
    }
    process.exit(1);
  }
}
