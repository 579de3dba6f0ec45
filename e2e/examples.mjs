// The examples as a user gets them: each examples/<name>/ copied to a temp directory, the packed
// tarball installed there with npm, the Vite SPA built with Vite (the version the example pins),
// then served by the reference OP (its redirect URIs are its own origin's) and driven in
// headless Chromium:
//   vite-spa    the bundler entry with no plugin: login, refresh, a DPoP-bound UserInfo call, and
//               an agent Worker (keybound/agent) logging in with the device flow
//   plain-esm   the web entry through an import map: login, refresh, UserInfo, and a module
//               Worker importing the entry by URL that calls UserInfo with the page's session
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { assert, launchChromium, startOp, tests } from './lib.mjs';
import { exampleWithTarball, pack, root } from './tarball.mjs';

const { test, finish } = tests(300000);
const tarball = pack();
const browser = await launchChromium();

/** Logs in, refreshes and calls UserInfo on the example page at `origin`; returns the session. */
async function loginRefreshFetch(page, origin) {
  const state = (want) => page.waitForFunction((w) => ['error', ...w].includes(document.body?.dataset.state), want, { timeout: 20000 })
    .then(() => page.evaluate(() => document.body.dataset.state));
  const error = () => page.textContent('#error');
  await page.goto(`${origin}/`);
  assert((await state(['ready'])) === 'ready', `start: ${await error()}`);
  await page.click('#login');
  await page.waitForSelector('#username', { timeout: 20000 });
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  await page.click('#approve');
  await page.waitForFunction(() => document.body?.dataset.signedIn === 'yes' || document.body?.dataset.state === 'error', null, { timeout: 20000 });
  assert(!(await error()), `login: ${await error()}`);
  const session = JSON.parse(await page.textContent('#session'));
  assert(session.bound === true && session.tokenType === 'DPoP' && /^[A-Za-z0-9_-]{43}$/.test(session.jkt), `session: ${JSON.stringify(session).slice(0, 200)}`);
  assert(new URL(page.url()).search === '', `the callback URL was not cleaned: ${page.url()}`);
  await page.click('#refresh');
  assert((await state(['refreshed'])) === 'refreshed', `refresh: ${await error()}`);
  const refreshed = JSON.parse(await page.textContent('#session'));
  assert(refreshed.jkt === session.jkt && refreshed.idToken !== session.idToken && refreshed.bound, 'refresh changed the key or kept the token');
  await page.click('#userinfo');
  assert((await state(['userinfo'])) === 'userinfo', `userinfo: ${await error()}`);
  const result = await page.textContent('#result');
  assert(result.startsWith('UserInfo 200: ') && JSON.parse(result.slice(14)).sub === session.claims.sub, result);
  return session;
}

const rootVite = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies.vite;

await test('vite-spa: pins the Vite the repository tests with, and builds from the tarball', async () => {
  const example = JSON.parse(readFileSync(path.join(root, 'examples/vite-spa/package.json'), 'utf8'));
  assert(/^\d+\.\d+\.\d+$/.test(example.devDependencies.vite) && example.devDependencies.vite === rootVite, `vite ${example.devDependencies.vite} / ${rootVite}`);
});

const spa = exampleWithTarball(path.join(root, 'examples/vite-spa'), tarball);
const built = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: spa, encoding: 'utf8' });
await test('vite-spa: vite build (no plugin) bundles the wasm and the agent Worker', () => {
  assert(built.status === 0, `vite build: exit ${built.status}\n${built.stdout}${built.stderr}`);
  const assets = readdirSync(path.join(spa, 'dist/assets'));
  assert(assets.filter((f) => f.endsWith('.wasm')).length === 2, `wasm assets (main and agent entries): ${assets}`);
  assert(assets.some((f) => /^agent-worker.*\.js$/.test(f)), `no worker chunk: ${assets}`);
});

if (existsSync(path.join(spa, 'dist/index.html'))) {
  const op = await startOp(['--www', path.join(spa, 'dist'), '--device-interval', '1']);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    let session;
    await test('vite-spa: login bound to the key, refresh, DPoP-bound UserInfo', async () => {
      session = await loginRefreshFetch(page, op.origin);
    });
    await test('vite-spa: the agent Worker logs in with the device flow (approved in a second tab)', async () => {
      await page.click('#agent');
      await page.waitForFunction(() => document.body.dataset.agentVerify || document.body.dataset.agent, null, { timeout: 20000 });
      const verify = await page.evaluate(() => document.body.dataset.agentVerify);
      assert(verify, `no verification URI: ${await page.textContent('#agent-log')}`);
      const tab = await context.newPage();
      await tab.goto(verify);
      await tab.fill('#username', 'alice');
      await tab.fill('#password', 'wonderland');
      await tab.click('#approve');
      await tab.waitForSelector('#device-done');
      await tab.close();
      await page.waitForFunction(() => document.body.dataset.agent, null, { timeout: 30000 });
      const log = (await page.textContent('#agent-log')).trim().split('\n').map((l) => JSON.parse(l));
      const done = log.at(-1);
      assert(done.bound === true && done.userinfo === 200 && done.sub === session?.claims.sub, JSON.stringify(done));
      assert(!pageErrors.length, `page errors: ${pageErrors}`);
    });
  } finally {
    await context.close();
    op.proc.kill();
  }
}

const plain = exampleWithTarball(path.join(root, 'examples/plain-esm'), tarball);
{
  const op = await startOp(['--www', plain]);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    let session;
    await test('plain-esm: login bound to the key, refresh, DPoP-bound UserInfo', async () => {
      session = await loginRefreshFetch(page, op.origin);
    });
    await test('plain-esm: a module Worker calls UserInfo with the page\'s session and key', async () => {
      await page.click('#worker');
      await page.waitForFunction(() => document.body.dataset.worker, null, { timeout: 20000 });
      const got = JSON.parse(await page.textContent('#worker-result'));
      assert(got.userinfo === 200 && got.jkt === session?.jkt && got.body.sub === session.claims.sub, JSON.stringify(got));
      assert(!pageErrors.length, `page errors: ${pageErrors}`);
    });
  } finally {
    await context.close();
    op.proc.kill();
  }
}

await browser.close();
finish();
