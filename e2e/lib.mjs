// Shared by the Playwright tests: a tiny test runner with the plain closing line CI reads,
// the reference OP as a child process, headless Chromium, and the login form.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** `test(name, fn)` records and prints `ok - …` / `not ok - …`; `finish()` prints the closing line and exits. */
export function tests(limitMs) {
  const results = [];
  const timer = setTimeout(() => { console.log('e2e: timed out'); process.exit(1); }, limitMs);
  return {
    test: async (name, fn) => {
      try { await fn(); results.push([name, null]); console.log(`ok - ${name}`); } catch (e) { results.push([name, e]); console.log(`not ok - ${name}: ${e.message}`); }
    },
    finish: () => {
      clearTimeout(timer);
      const failed = results.filter(([, e]) => e).length;
      console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}

export const assert = (cond, msg) => { if (!cond) throw new Error(msg); };

/** Starts target/debug/keybound-op on a free port; resolves to `{proc, origin}`. */
export function startOp(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(`${root}target/debug/keybound-op`, ['--port', '0', '--www', `${root}www`, '--pkg', `${root}pkg/web`, ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.on('error', reject);
    proc.stdout.on('data', (d) => { const m = String(d).match(/(http:\/\/localhost:\d+)\//); if (m) resolve({ proc, origin: m[1] }); });
    setTimeout(() => reject(new Error('the OP did not start')), 10000);
  });
}

/** Headless Debian Chromium with the flags this machine needs (root, no network beyond loopback). */
export const launchChromium = () => chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** Waits until flow.html settled (ready, signed in, or an error). */
export const settled = (page) => page.waitForFunction(
  () => document.body && ['ready', 'signed-in', 'error'].includes(document.body.dataset.state), null, { timeout: 20000 });

/** Logs in through flow.html and the OP's form; resolves to the session shown. */
export async function signIn(page, origin) {
  await page.goto(`${origin}/flow.html`);
  await settled(page);
  await page.click('#login');
  await page.waitForSelector('#username');
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  await page.click('#approve');
  await settled(page);
  const error = await page.textContent('#error');
  assert(!error, `login error: ${error}`);
  return JSON.parse(await page.textContent('#session'));
}
