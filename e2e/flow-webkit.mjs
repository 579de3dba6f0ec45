// The login flow in WebKitGTK's MiniBrowser over WebKitWebDriver: see e2e/flow-webdriver.mjs.
// MiniBrowser needs a display: without DISPLAY this reruns itself under xvfb-run (Debian: xvfb).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runFlow } from './flow-webdriver.mjs';

if (process.env.DISPLAY) {
  await runFlow('webkit');
} else {
  const r = spawnSync('xvfb-run', ['-a', process.execPath, fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  if (r.error) console.log(`not ok - WebKit: xvfb-run: ${r.error.message}\ne2e: 0 passed, 1 failed`);
  process.exit(r.status ?? 1);
}
