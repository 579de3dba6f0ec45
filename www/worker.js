// Module Worker for the demo: loads the page's key from IndexedDB (same origin) and signs a proof.
// Message in:  { id, options: { htm, htu, code?, nonce? } }
// Message out: { inWorker, jkt, proof }  or  { error: { name, code, message, cause } }
import init, { loadDPoPKeyPair, createDPoPProof } from '/pkg/keybound.js';

const ready = init();
ready.catch(() => {}); // reported when a message arrives

self.onmessage = async ({ data }) => {
  try {
    await ready;
    const key = await loadDPoPKeyPair(data.id);
    const proof = await createDPoPProof(key, data.options);
    self.postMessage({ inWorker: typeof WorkerGlobalScope !== 'undefined', jkt: key.jkt, proof });
  } catch (err) {
    self.postMessage({
      error: {
        name: err?.name ?? 'Error',
        code: err?.code,
        message: String(err?.message ?? err),
        cause: err?.cause?.name,
      },
    });
  }
};
