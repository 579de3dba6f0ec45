// Runs the benchmark of bench.js inside a module Worker (same code path as the window).
import { runBench } from './bench.js';

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ result: await runBench(data) });
  } catch (err) {
    self.postMessage({ error: { name: err?.name ?? 'Error', code: err?.code, message: String(err?.message ?? err) } });
  }
};
