// The client's hot path: what a signed-in KeyBoundClient adds to a proof. In headless Chromium, a
// page signs in at the reference OP; then, interleaved round by round (medians of batches):
//   proof    createDPoPProof with the session's key (the floor: one proof)
//   present  client.present({htm, htu}): session, key and nonce, then the same proof
//   fetch    client.fetch of the OP's UserInfo, against the same request sent by plain fetch()
//            with a proof made beforehand (both cross the loopback network, where a fetch takes
//            milliseconds here: the difference is mostly noise)
//   echo     the same pair for /bench-echo, which a service worker (www/bench-sw.js) answers
//            without the network: the client's own cost per fetch, resolved to tens of µs
// Figures only: exit 1 only if the page broke.
//
//   node e2e/bench-client.mjs [rounds]     (default 60 rounds of 10 calls)
import { launchChromium, signIn, startOp } from './lib.mjs';

const rounds = Number(process.argv[2] ?? 60);
const op = await startOp();
const browser = await launchChromium();
let broken = null;
try {
  const page = await browser.newPage();
  await signIn(page, op.origin);
  const r = await page.evaluate(async (rounds) => {
    const kb = await import('/pkg/keybound.js');
    const client = await kb.KeyBoundClient.discover(location.origin, { clientId: 'keybound-demo', redirectUri: `${location.origin}/flow.html` });
    const session = await client.session();
    if (!session?.bound) throw new Error('not signed in with a bound session');
    const key = await kb.loadDPoPKeyPair(session.keyId);
    const htu = `${location.origin}/consumer/session`;
    const userinfo = client.userinfoEndpoint;
    const cases = {
      proof: () => kb.createDPoPProof(key, { htm: 'POST', htu, accessToken: session.idToken }),
      present: () => client.present({ htm: 'POST', htu }),
      fetch: async () => { const res = await client.fetch(userinfo); await res.text(); },
      plainFetch: async () => {
        const proof = await kb.createDPoPProof(key, { htm: 'GET', htu: userinfo, accessToken: session.accessToken });
        const res = await fetch(userinfo, { headers: { authorization: `DPoP ${session.accessToken}`, dpop: proof } });
        await res.text();
      },
    };
    const B = 10;
    const batch = async (f) => { const t0 = performance.now(); for (let i = 0; i < B; i++) await f(); return (performance.now() - t0) / B; };
    for (let i = 0; i < 5; i++) for (const f of Object.values(cases)) await batch(f);
    const t = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    const interleave = async (names) => {
      for (let i = 0; i < rounds; i++) for (let j = 0; j < names.length; j++) { const n = names[(i + j) % names.length]; t[n].push(await batch(cases[n])); }
    };
    await interleave(Object.keys(cases));
    // Then with the service worker answering /bench-echo (it sees every request from then on,
    // so the rows above are measured before it is installed).
    const echo = `${location.origin}/bench-echo`;
    await navigator.serviceWorker.register('/bench-sw.js');
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    Object.assign(cases, {
      echo: async () => { const res = await client.fetch(echo); await res.text(); },
      plainEcho: async () => {
        const proof = await kb.createDPoPProof(key, { htm: 'GET', htu: echo, accessToken: session.accessToken });
        const res = await fetch(echo, { headers: { authorization: `DPoP ${session.accessToken}`, dpop: proof } });
        await res.text();
      },
    });
    if ((await (await fetch(echo)).text()) !== 'ok') throw new Error('the service worker does not answer /bench-echo');
    t.echo = []; t.plainEcho = [];
    for (let i = 0; i < 5; i++) for (const f of [cases.echo, cases.plainEcho]) await batch(f);
    await interleave(['echo', 'plainEcho']);
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
    const us = (ms) => Math.round(ms * 1000);
    return {
      proofUs: us(med(t.proof)), presentUs: us(med(t.present)), presentOverheadUs: us(med(t.present) - med(t.proof)),
      fetchUs: us(med(t.fetch)), plainFetchUs: us(med(t.plainFetch)), fetchOverheadUs: us(med(t.fetch) - med(t.plainFetch)),
      echoUs: us(med(t.echo)), plainEchoUs: us(med(t.plainEcho)), echoOverheadUs: us(med(t.echo) - med(t.plainEcho)),
      // Per round, paired: steadier than the difference of two medians.
      echoPairedUs: us(med(t.echo.map((x, i) => x - t.plainEcho[i]))),
    };
  }, rounds);
  console.log(`client hot path (headless Chromium, ${rounds} rounds of 10 calls, medians):`);
  console.log(`  createDPoPProof ${r.proofUs} µs; client.present ${r.presentUs} µs: ${r.presentOverheadUs} µs beyond the proof (target 200)`);
  console.log(`  fetch(UserInfo) with a proof made beforehand ${r.plainFetchUs} µs; client.fetch ${r.fetchUs} µs: ${r.fetchOverheadUs} µs more (a proof included)`);
  console.log(`  fetch(/bench-echo, answered by a service worker) with a proof made beforehand ${r.plainEchoUs} µs; client.fetch ${r.echoUs} µs: ` +
    `${r.echoOverheadUs} µs beyond the proof (median of per-round differences ${r.echoPairedUs} µs; target 200)`);
} catch (err) {
  broken = err?.message ?? String(err);
} finally {
  await browser.close();
  op.proc.kill();
}
if (broken) {
  console.error(`bench-client: ${broken.split('\n')[0]}`);
  process.exit(1);
}
