// Load figures for consumer instances sharing a real Redis (e2e/redis-instance.mjs: the built
// consumer entry with the shipped Redis replay store, node-redis): presentations per second per
// instance and in total for 1, 2 and 4 instances, p50/p99 latency, Redis round trips per
// presentation (Redis's own SET count), an instance's memory over a long run, and the cost of a
// presentation as a ratio to the two raw WebCrypto verifications it needs, measured in the same
// run and the same process. Prints figures; never fails on them.
//
//   node e2e/bench-redis.mjs [presentations per instance, default 3000] [long run, default 20000]
//
// npm test runs it with smaller numbers; the issue's figure is a long run of 200,000.
import { createClient } from 'redis';
import { CLIENT_ID, ISSUER, freePort, makeParties, startInstance, startRedis, stopProc } from './redis-lib.mjs';

const N = Number(process.argv[2] || 3000);
const LONG = Number(process.argv[3] || 20000);
const CHUNK = 10000;
const CONCURRENCY = 16;
const redis = await startRedis(await freePort());
const parties = await makeParties();
const admin = await createClient({ url: redis.url }).on('error', () => {}).connect();
const setCalls = async () => Number((await admin.info('commandstats')).match(/cmdstat_set:calls=(\d+)/)?.[1] ?? 0);
const base = { redisUrl: redis.url, issuer: ISSUER, clientId: CLIENT_ID, jwks: parties.jwks, framework: 'http', client: 'redis' };
const job = { idToken: parties.idToken, clientPrivateJwk: parties.clientPrivateJwk, clientJwk: parties.clientJwk };
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
let seed = 0;
/** Prepares then runs `n` presentations on every instance at once. */
const verifyOn = async (insts, n, concurrency) => {
  await Promise.all(insts.map((inst) => inst.ask({ cmd: 'prepare', n, ...job, seed: `s${seed++}` })));
  const t0 = performance.now();
  const rs = await Promise.all(insts.map((inst) => inst.ask({ cmd: 'run', concurrency, ...job })));
  return { rs, wall: performance.now() - t0 };
};
const rows = [];
try {
  // Same processes, same run: the raw pair of verifications against presentations, one at a
  // time, in interleaved rounds (median of 30 rounds of 100); then the throughput at 16 in flight.
  {
    const [mem, red] = await Promise.all([startInstance({ ...base, store: 'memory', name: 'mem' }), startInstance({ ...base, name: 'ratio' })]);
    const seq = {};
    for (const [label, inst] of [['memory', mem], ['redis', red]]) {
      await inst.ask({ cmd: 'ratio', rounds: 3, batch: 100, ...job, seed: `warm-${label}` });
      seq[label] = await inst.ask({ cmd: 'ratio', rounds: 30, batch: 100, ...job, seed: `ratio-${label}` });
    }
    await mem.ask({ cmd: 'raw', n: 300, concurrency: CONCURRENCY, ...job });
    const raw16 = (await mem.ask({ cmd: 'raw', n: N, concurrency: CONCURRENCY, ...job })).ms / N;
    await verifyOn([mem], 300, CONCURRENCY);
    const mem16 = (await verifyOn([mem], N, CONCURRENCY)).rs[0].ms / N;
    await verifyOn([red], 300, CONCURRENCY);
    const red16 = (await verifyOn([red], N, CONCURRENCY)).rs[0].ms / N;
    // Many sessions at once: presentations of 200 sessions (200 presenting keys) interleaved.
    const sessions = await Promise.all(Array.from({ length: 200 }, async () => {
      const { idToken, clientPrivateJwk, clientJwk } = await parties.session();
      return { idToken, clientPrivateJwk, clientJwk };
    }));
    await verifyOn([mem], 300, CONCURRENCY);
    await mem.ask({ cmd: 'prepare', n: N, sessions, seed: `many${seed++}` });
    const many16 = (await mem.ask({ cmd: 'run', concurrency: CONCURRENCY })).ms / N;
    await Promise.all([stopProc(mem.proc), stopProc(red.proc)]);
    console.log(`bench-redis: one at a time (median of 30 interleaved rounds): the raw pair of ES256 verifications (WebCrypto, keys imported once) ${us(seq.memory.raw)};`);
    console.log(`  a presentation with the in-memory store ${us(seq.memory.presentation)} = ${seq.memory.ratio.toFixed(2)}x the raw pair (goal <= 1.2x); with the Redis store ${us(seq.redis.presentation)} = ${seq.redis.ratio.toFixed(2)}x (one round trip each)`);
    console.log(`bench-redis: ${CONCURRENCY} in flight, throughput: the raw pair ${us(raw16)} each; a presentation, in-memory store ${us(mem16)} = ${(mem16 / raw16).toFixed(2)}x; Redis store ${us(red16)} = ${(red16 / raw16).toFixed(2)}x`);
    console.log(`bench-redis: ${CONCURRENCY} in flight, in-memory store, 200 sessions interleaved (200 presenting keys): ${us(many16)} each = ${(many16 / mem16).toFixed(2)}x one session's`);
  }
  for (const k of [1, 2, 4]) {
    const insts = await Promise.all(Array.from({ length: k }, (_, i) => startInstance({ ...base, name: `i${i}` })));
    await verifyOn(insts, 300, CONCURRENCY);
    const sets0 = await setCalls();
    const { rs, wall } = await verifyOn(insts, N, CONCURRENCY);
    const sets = (await setCalls()) - sets0;
    const lat = rs.flatMap((r) => r.lat).sort((a, b) => a - b);
    const ok = rs.reduce((s, r) => s + r.ok, 0);
    const per = rs.map((r) => (N / r.ms) * 1000);
    const refused = {};
    for (const r of rs) for (const [c, n] of Object.entries(r.codes)) refused[c] = (refused[c] ?? 0) + n;
    rows.push(`| ${k} | ${per.map((p) => p.toFixed(0)).join(' / ')} | ${((N * k) / wall * 1000).toFixed(0)} | ${lat[Math.floor(lat.length / 2)].toFixed(2)} ms | ${pct(lat, 0.99).toFixed(2)} ms | ${(sets / (N * k)).toFixed(2)} | ${ok}/${N * k}${ok < N * k ? ` (${JSON.stringify(refused)})` : ''} |`);
    await Promise.all(insts.map((inst) => stopProc(inst.proc)));
  }
  console.log(`bench-redis: ${N} presentations per instance, ${CONCURRENCY} in flight per instance, instances started together`);
  console.log('| instances | presentations/s per instance | total /s | p50 | p99 | Redis round trips / presentation | accepted |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  // One instance over a long run: Redis keeps the jtis; the instance's memory should stay flat.
  const inst = await startInstance({ ...base, name: 'long' });
  console.log(`bench-redis: one instance, ${LONG} presentations in chunks of ${CHUNK}: memory after each chunk (rss, JS heap, external+buffers)`);
  let ok = 0;
  let ms = 0;
  const codes = {};
  for (let done = 0; done < LONG; done += CHUNK) {
    const { rs } = await verifyOn([inst], Math.min(CHUNK, LONG - done), CONCURRENCY);
    ok += rs[0].ok;
    ms += rs[0].ms;
    for (const [c, k] of Object.entries(rs[0].codes)) codes[c] = (codes[c] ?? 0) + k;
    console.log(`  after ${Math.min(LONG, done + CHUNK)}: rss ${mb(rs[0].rss)}, heap ${mb(rs[0].heap)}, external ${mb(rs[0].external)}`);
  }
  await stopProc(inst.proc);
  console.log(`bench-redis: ${ok}/${LONG} accepted (refused: ${JSON.stringify(codes)}), ${((LONG / ms) * 1000).toFixed(0)}/s; Redis holds ${await admin.dbSize()} keys, used_memory ${(await admin.info('memory')).match(/used_memory_human:(\S+)/)?.[1]}`);
} finally {
  await admin.quit().catch(() => {});
  await redis.stop();
}
