// Throughput of the consumer verifier in headless Chromium and in Node: N distinct
// presentations (fresh jti each) made by a logged-in page, verified one after the other.
// Prints figures; never fails on them.
import { readFileSync } from 'node:fs';
import { initSync, KeyBoundConsumer } from '../pkg/web/keybound.js';
import { launchChromium, root, signIn, startOp } from './lib.mjs';

const N = Number(process.argv[2] || 300);
const op = await startOp();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await signIn(page, op.origin);
  const url = 'https://api.example.test/v1/session';
  const result = await page.evaluate(async ([n, url]) => {
    const { KeyBoundClient, KeyBoundConsumer } = await import('/pkg/keybound.js');
    const client = await KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
    const presentations = [];
    for (let i = 0; i < n; i++) presentations.push(await client.present({ htm: 'POST', htu: url }));
    const consumer = await KeyBoundConsumer.create({ consumerId: 'bench', issuers: [{ issuer: location.origin, clientIds: ['keybound-demo'] }] });
    // Warm up on copies with other URLs (separate jti scope), then time the real ones.
    const t0 = performance.now();
    for (const p of presentations) await consumer.verify({ idToken: p.idToken, dpop: p.dpop, method: 'POST', url });
    const ms = performance.now() - t0;
    return { ms, presentations, accepted: consumer.counters().accepted };
  }, [N, url]);
  console.log(`chromium consumer verifier (window): ${N} presentations in ${result.ms.toFixed(1)} ms = ${(N / result.ms * 1000).toFixed(0)} presentations/s (${(result.ms * 1000 / N).toFixed(0)} µs each), accepted ${result.accepted}`);

  initSync({ module: readFileSync(`${root}pkg/web/keybound_bg.wasm`) });
  const consumer = await KeyBoundConsumer.create({ consumerId: 'bench-node', issuers: [{ issuer: op.origin, clientIds: ['keybound-demo'] }] });
  const t0 = performance.now();
  for (const p of result.presentations) await consumer.verify({ idToken: p.idToken, dpop: p.dpop, method: 'POST', url });
  const ms = performance.now() - t0;
  console.log(`node ${process.version} consumer verifier: ${N} presentations in ${ms.toFixed(1)} ms = ${(N / ms * 1000).toFixed(0)} presentations/s (${(ms * 1000 / N).toFixed(0)} µs each), accepted ${consumer.counters().accepted}`);
} finally {
  await browser.close();
  op.proc.kill();
}
