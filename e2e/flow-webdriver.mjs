// The key-bound login flow driven over WebDriver (e2e/webdriver.mjs), for the engines Playwright
// cannot drive here, against the reference OP: the same page as e2e/flow.mjs (www/flow.html), a
// login through the OP's form, the session surviving a reload (IndexedDB), refresh with the same
// key, UserInfo with a DPoP-bound access token, fault switches refused with their codes, forget.
//   firefox   headless Firefox ESR through geckodriver (e2e/flow-firefox.mjs)
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver, under Xvfb (e2e/flow-webkit.mjs)
// Environment: GECKODRIVER, FIREFOX (default: geckodriver and firefox-esr on PATH).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { assert, startOp, tests } from './lib.mjs';
import { Session, startDriver, startWebKitDriver } from './webdriver.mjs';

const which = (name) => { try { return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim(); } catch { return ''; } };
/** Debian's MiniBrowser (package libwebkit2gtk-4.1-0). */
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

async function startEngine(engine) {
  if (engine === 'firefox') {
    const geckodriver = process.env.GECKODRIVER || which('geckodriver');
    const firefox = process.env.FIREFOX || which('firefox-esr') || which('firefox');
    assert(geckodriver && firefox, `geckodriver (${geckodriver}) and Firefox (${firefox}) are needed: bash scripts/setup.sh installs them`);
    const driver = await startDriver(geckodriver);
    return { driver, wd: await Session.create(driver.url, {
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: firefox, args: ['-headless'], prefs: { 'browser.shell.checkDefaultBrowser': false } },
    }) };
  }
  assert(which('WebKitWebDriver') && existsSync(MINIBROWSER), 'WebKitWebDriver and MiniBrowser are needed (Debian: webkit2gtk-driver)');
  assert(process.env.DISPLAY, 'MiniBrowser needs a display: run under xvfb-run');
  const driver = await startWebKitDriver();
  return { driver, wd: await Session.create(driver.url, {
    browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
  }) };
}

/** Runs the flow's tests in `engine` ("firefox" or "webkit"), then exits with the closing line. */
export async function runFlow(engine) {
  const { test, finish } = tests(240000);
  const E = engine === 'firefox' ? 'Firefox' : 'WebKit';
  const op = await startOp();
  let wd;
  let driver;
  try {
    ({ driver, wd } = await startEngine(engine));
    console.log(`# ${wd.capabilities.browserName} ${wd.capabilities.browserVersion}`);
    const state = (want) => wd.waitFor(
      'const s = document.body && document.body.dataset.state; return arguments[0].includes(s) ? s : null;', [['error', ...want]], 20000, `state ${want}`);
    const session = async () => JSON.parse((await wd.text('#session')) || 'null');
    const errorCode = () => wd.execute('return document.getElementById("error").dataset.code || null;');
    const fault = (name) => fetch(`${op.origin}/_test/fault?name=${name}`).then((r) => assert(r.ok, `fault ${name}`));
    const signIn = async () => {
      await wd.click('#login');
      await wd.waitFor('return !!document.getElementById("username");', [], 20000, 'the OP login form');
      await wd.type('#username', 'alice');
      await wd.type('#password', 'wonderland');
      await wd.click('#approve');
      return state(['ready', 'signed-in']);
    };

    await wd.goto(`${op.origin}/flow.html`);
    await state(['ready', 'signed-in']);
    let first;

    await test(`${E}: login with key binding, the ID Token bound to this browser's key`, async () => {
      const s0 = await signIn();
      assert(s0 === 'signed-in' || s0 === 'ready', `state ${s0}: ${await wd.text('#error')}`);
      assert(!(await wd.text('#error')), `error: ${await wd.text('#error')}`);
      first = await session();
      assert(first?.bound === true, `bound ${first?.bound}`);
      assert(/^alice-\d+$/.test(first.claims.sub) && first.tokenType === 'DPoP', `${first.claims.sub} ${first.tokenType}`);
      assert(/^[A-Za-z0-9_-]{43}$/.test(first.jkt), `jkt ${first.jkt}`);
      assert(/\/flow\.html$/.test(await wd.url()), `the callback URL was not cleaned: ${await wd.url()}`);
    });

    await test(`${E}: the session and its key survive a reload (IndexedDB)`, async () => {
      await wd.goto(`${op.origin}/flow.html`);
      assert((await state(['ready', 'signed-in'])) === 'signed-in', `not signed in after reload: ${await wd.text('#error')}`);
      const s = await session();
      assert(s.jkt === first.jkt && s.idToken === first.idToken, 'another session after reload');
    });

    await test(`${E}: refresh keeps the key and cnf`, async () => {
      await wd.click('#refresh');
      assert((await state(['refreshed'])) === 'refreshed', `refresh: ${await wd.text('#error')}`);
      const s = await session();
      assert(s.jkt === first.jkt && s.bound === true && s.idToken !== first.idToken, 'refresh changed the key or kept the token');
    });

    await test(`${E}: UserInfo with the DPoP-bound access token`, async () => {
      await wd.click('#userinfo');
      assert((await state(['userinfo'])) === 'userinfo', `userinfo: ${await wd.text('#error')}`);
      const result = await wd.text('#result');
      assert(/^UserInfo 200: /.test(result) && JSON.parse(result.replace(/^UserInfo 200: /, '')).sub === first.claims.sub, result);
    });

    for (const [name, code] of [['unbound', 'ERR_ID_TOKEN_UNBOUND'], ['cnf_other_key', 'ERR_ID_TOKEN_CNF_MISMATCH'], ['bad_signature', 'ERR_JWS_SIGNATURE_INVALID']]) {
      await test(`${E}: fault ${name} is refused with ${code}`, async () => {
        await fault(name);
        try {
          await wd.goto(`${op.origin}/flow.html`);
          await state(['ready', 'signed-in']);
          assert((await signIn()) === 'error', 'the faulty login was accepted');
          assert((await errorCode()) === code, `got ${await errorCode()}: ${await wd.text('#error')}`);
        } finally { await fault(''); }
      });
    }

    await test(`${E}: forget deletes the key and the session`, async () => {
      await wd.goto(`${op.origin}/flow.html`);
      await state(['ready', 'signed-in']);
      await wd.click('#forget');
      assert((await state(['forgotten'])) === 'forgotten', `forget: ${await wd.text('#error')}`);
      await wd.goto(`${op.origin}/flow.html`);
      await state(['ready', 'signed-in']);
      assert((await session()) === null, 'a session after forget');
    });
  } finally {
    await wd?.close();
    driver?.proc.kill();
    op.proc.kill();
  }
  finish();
}
