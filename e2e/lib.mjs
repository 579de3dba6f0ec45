// Shared by the Playwright tests: a tiny test runner with the plain closing line CI reads,
// the reference OP as a child process, headless Chromium, and the login form.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The harness every runner uses. `test(name, fn)` runs one test and prints `ok - …` or
 * `not ok - …: reason` (its first line); with `errors` (a function returning a growing list, the
 * uncaught page errors say), a test during which the list grew fails too. `cleanup(fn)` registers what to close
 * (browsers, servers, child processes). `finish()` prints the closing line CI reads,
 * `e2e: N passed, M failed`, and exits. At `limitMs` the run is failed: the registered cleanups
 * run (at most 10 s), then the closing line, so a hung run leaves no browser or OP behind.
 */
export function tests(limitMs, { errors } = {}) {
  const results = [];
  const closers = [];
  const close = () => Promise.race([
    Promise.allSettled(closers.splice(0).reverse().map((c) => Promise.resolve().then(c))),
    new Promise((r) => setTimeout(r, 10000)),
  ]);
  const summary = () => {
    if (results.length === 0) {
      results.push(['run', new Error('no test ran')]);
      console.log('not ok - run: no test ran');
    }
    const failed = results.filter(([, e]) => e).length;
    console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
    return failed;
  };
  const timer = setTimeout(async () => {
    results.push(['run', new Error('timed out')]);
    console.log(`not ok - run: timed out after ${limitMs / 1000} s`);
    await close();
    summary();
    process.exit(1);
  }, limitMs);
  return {
    test: async (name, fn) => {
      const before = errors ? errors().length : 0;
      let error = null;
      try { await fn(); } catch (e) { error = e; }
      if (!error && errors && errors().length > before) error = new Error(`uncaught page error: ${errors().slice(before).join(' | ')}`);
      results.push([name, error]);
      console.log(error ? `not ok - ${name}: ${String(error.message ?? error).split('\n')[0]}` : `ok - ${name}`);
    },
    /** Records a failure outside any test (a setup step that threw). */
    fail: (name, e) => {
      results.push([name, e]);
      console.log(`not ok - ${name}: ${e?.stack || e?.message || e}`);
    },
    cleanup: (fn) => { closers.push(fn); },
    finish: async () => {
      clearTimeout(timer);
      await close();
      process.exit(summary() ? 1 : 0);
    },
  };
}

export const assert = (cond, msg) => { if (!cond) throw new Error(msg); };

/** Starts target/debug/keybound-op on a free port; resolves to `{proc, origin}`. Rejects (and
 *  kills it) when it exits or prints no URL within 10 s. */
export function startOp(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const bin = `${root}target/debug/keybound-op`;
    const proc = spawn(bin, ['--port', '0', '--www', `${root}www`, '--pkg', `${root}pkg/web`, ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { proc.kill(); reject(new Error(`${bin} did not print its URL within 10 s`)); }, 10000);
    proc.on('error', (err) => { clearTimeout(timer); reject(new Error(`cannot start ${bin}: ${err.message}`)); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${bin} exited with ${code}`)); });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/(http:\/\/localhost:\d+)\//);
      if (m) { clearTimeout(timer); resolve({ proc, origin: m[1] }); }
    });
  });
}

/** Headless Debian Chromium with the flags this machine needs (root, no network beyond loopback). */
export const launchChromium = () => chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/**
 * Opens `url` (flow.html with its query) in a fresh context of `browser`, waits until it settled
 * (ready or signed in; with `clean`, the default, no error shown), runs `fn` with
 * `{ page, context, state, session, error, noError }`, fails on an uncaught page error, and
 * closes the context. Requests beyond localhost are aborted.
 */
export async function withFlowPage(browser, url, fn, { clean = true } = {}) {
  const context = await browser.newContext();
  await context.route((u) => !['localhost', '127.0.0.1'].includes(u.hostname), (route) => route.abort('blockedbyclient'));
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const state = (want) => page.waitForFunction((w) => ['error', ...w].includes(document.body?.dataset.state), want, { timeout: 20000 });
  const h = {
    page,
    context,
    state,
    session: async () => JSON.parse((await page.textContent('#session')) || 'null'),
    error: async () => ({
      code: await page.getAttribute('#error', 'data-code'),
      text: await page.textContent('#error'),
      detail: JSON.parse((await page.getAttribute('#error', 'data-detail')) || '{}'),
    }),
    noError: async () => { const e = await page.textContent('#error'); assert(!e, `error: ${e}`); },
  };
  try {
    await page.goto(url);
    await state(['ready', 'signed-in']);
    if (clean) await h.noError();
    await fn(h);
    assert(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join('; ')}`);
  } finally {
    await context.close();
  }
}

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
