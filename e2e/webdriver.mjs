// A small W3C WebDriver client (plain HTTP on 127.0.0.1), for the engines Playwright cannot drive
// here: Firefox ESR through geckodriver (Playwright's own Firefox build cannot be downloaded) and
// WebKitGTK's MiniBrowser through WebKitWebDriver.
// Only what the e2e suites use: navigate, run a script, find, click, type, wait.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';   // the W3C web element identifier

/** Starts a driver binary (`--port 0`); resolves to `{ proc, url }` once it listens. */
export function startDriver(binary, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const onData = (d) => {
      log += d;
      const m = log.match(/Listening on (127\.0\.0\.1:\d+)/);
      if (m) resolve({ proc, url: `http://${m[1]}` });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`${binary} exited (${code}): ${log.slice(-500)}`)));
    setTimeout(() => reject(new Error(`${binary} did not start: ${log.slice(-500)}`)), 15000);
  });
}

/**
 * Starts WebKitWebDriver (Debian webkit2gtk-driver) on a free port; it cannot pick one itself and
 * prints nothing, so the port is chosen here and /status polled until it answers.
 */
export async function startWebKitDriver() {
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const proc = spawn('WebKitWebDriver', [`--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 15000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if (proc.exitCode !== null) throw new Error(`WebKitWebDriver exited (${proc.exitCode})`);
    if (await fetch(`${url}/status`).then((r) => r.ok, () => false)) return { proc, url };
  }
  proc.kill();
  throw new Error('WebKitWebDriver did not start');
}

/** A WebDriver session: `await Session.create(driverUrl, capabilities)`. */
export class Session {
  constructor(base) { this.base = base; }

  static async create(driverUrl, capabilities) {
    const res = await call('POST', `${driverUrl}/session`, { capabilities: { alwaysMatch: capabilities } });
    const s = new Session(`${driverUrl}/session/${res.sessionId}`);
    s.capabilities = res.capabilities;
    return s;
  }

  cmd(method, path, body) { return call(method, `${this.base}${path}`, body); }
  goto(url) { return this.cmd('POST', '/url', { url }); }
  url() { return this.cmd('GET', '/url'); }
  /** Runs `script` (a function body; `arguments` holds `args`) in the page; returns its value. */
  execute(script, ...args) { return this.cmd('POST', '/execute/sync', { script, args }); }
  async find(css) { return (await this.cmd('POST', '/element', { using: 'css selector', value: css }))[ELEMENT]; }
  async click(css) { return this.cmd('POST', `/element/${await this.find(css)}/click`, {}); }
  async type(css, text) { return this.cmd('POST', `/element/${await this.find(css)}/value`, { text }); }
  async text(css) { return this.execute('const e = document.querySelector(arguments[0]); return e ? e.textContent : null;', css); }

  /** Polls `script` until it returns a truthy value; resolves to that value. */
  async waitFor(script, args = [], timeoutMs = 20000, what = script) {
    const end = Date.now() + timeoutMs;
    let last;
    for (;;) {
      try { last = await this.execute(script, ...args); } catch (e) { last = e.message; }   // a navigation in progress
      if (last && !(typeof last === 'string' && last.startsWith('WebDriver'))) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close() { return this.cmd('DELETE', '').catch(() => {}); }
}

async function call(method, url, body) {
  const res = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const json = await res.json();
  if (!res.ok || json.value?.error) throw new Error(`WebDriver ${method} ${url.replace(/^.*\/session\/[^/]+/, '')}: ${json.value?.error}: ${json.value?.message}`);
  return json.value;
}
