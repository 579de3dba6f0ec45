// Under the hood: the DPoP key API by hand, no login (generate, sign, sign in a Worker, forget).
import {
  calculateJwkThumbprint, createDPoPProof, deleteDPoPKeyPair, generateDPoPKeyPair, loadDPoPKeyPair,
} from '/pkg/keybound.js';
import { STORAGE_KEY } from './config.js';
import { $, code, el, renderChecks, renderJson, renderJws, timeOf } from './dom.js';
import { action, onUpdateButtons } from './ui.js';
import { decodeJws, sha256b64url } from './util.js';

/** The playground's DPoPKeyPair, or null. */
let key = null;

onUpdateButtons(() => {
  $('generate').disabled = false;
  for (const id of ['sign', 'run-worker', 'forget-key']) $(id).disabled = !key;
  $('generate').textContent = key ? 'Generate a new key' : 'Generate key';
});

async function showKey(source) {
  const { privateKey } = key.keyPair;
  $('key-source').textContent = source;
  $('key-source').className = `tag ${source === 'generated' ? 'tag-new' : 'tag-loaded'}`;
  $('key-id').textContent = key.id;
  $('key-alg').textContent = key.alg;
  $('key-extractable').textContent = String(privateKey.extractable);
  $('key-extractable-badge').hidden = privateKey.extractable !== false;
  $('key-jkt').textContent = key.jkt;
  $('key-jwk').textContent = JSON.stringify(key.publicJwk);

  // Try to get the private key out: the browser must refuse.
  let exported = null;
  let refusal = null;
  try {
    exported = await crypto.subtle.exportKey('jwk', privateKey);
  } catch (err) {
    refusal = err;
  }
  $('key-export').replaceChildren(exported
    ? el('span', { className: 'badge bad', textContent: 'exported: the private key left the browser!' })
    : el('span', {}, 'exportKey: ', el('strong', { textContent: 'refused' }), ' (', code(refusal?.name ?? String(refusal)), ')'));

  $('key-facts').hidden = false;
  $('key-status').textContent = key.persisted ? 'Stored in IndexedDB.' : 'In memory only.';
}

function resetKeyOutputs() {
  $('key-facts').hidden = true;
  $('proof-out').hidden = true;
  $('worker-out').hidden = true;
  for (const id of ['key-source', 'key-id', 'key-alg', 'key-extractable', 'key-jkt', 'key-jwk', 'key-export',
    'proof', 'proof-header', 'proof-payload', 'proof-checks', 'proof-status', 'worker-result', 'worker-checks',
    'worker-status']) {
    $(id).replaceChildren();
  }
}

async function verifyProof(jws) {
  const { header, signingInput, signature } = decodeJws(jws);
  const publicKey = await crypto.subtle.importKey(
    'jwk', header.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, new TextEncoder().encode(signingInput));
}

$('generate').addEventListener('click', () => action(async () => {
  const previous = key;
  key = await generateDPoPKeyPair();
  localStorage.setItem(STORAGE_KEY, key.id);
  resetKeyOutputs();
  if (previous) {
    // The playground keeps one key: the one it replaces goes away.
    await deleteDPoPKeyPair(previous.id);
  }
  await showKey('generated');
  return 'key-ready';
}));

function proofOptions() {
  const options = { htm: $('htm').value.trim(), htu: $('htu').value.trim() };
  const c = $('code').value.trim();
  const nonce = $('nonce').value.trim();
  if (c) options.code = c;
  if (nonce) options.nonce = nonce;
  return options;
}

$('sign').addEventListener('click', () => action(async () => {
  $('proof-out').hidden = true;
  const options = proofOptions();
  const proof = await createDPoPProof(key, options);
  const { header, payload } = decodeJws(proof);

  renderJws($('proof'), proof);
  renderJson($('proof-header'), header, new Set(['jwk']));
  renderJson($('proof-payload'), payload, new Set(['htu', 'c_s256']));

  const checks = [
    [await verifyProof(proof), 'signature verifies with the header ', code('jwk'), ' (WebCrypto)'],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of the header ', code('jwk'), ' = dpop_jkt'],
    [!('d' in header.jwk), 'header jwk has no private member ', code('d')],
  ];
  if (options.code) {
    checks.push([payload.c_s256 === await sha256b64url(options.code), code('c_s256'), ' = BASE64URL(SHA-256(code))']);
  }
  renderChecks($('proof-checks'), checks);
  $('proof-out').hidden = false;
  $('proof-status').textContent = `${proof.length} characters, iat ${timeOf(payload.iat)}`;
  return 'proof-ready';
}));

function runInWorker(message) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./worker.js', { type: 'module' });
    const finish = (settle, value) => {
      clearTimeout(timer);
      worker.terminate();
      settle(value);
    };
    const timer = setTimeout(() => finish(reject, new Error('the Worker did not answer within 20 s')), 20_000);
    worker.onmessage = ({ data }) => {
      if (data.error) {
        const err = Object.assign(new Error(data.error.message), { name: data.error.name, code: data.error.code });
        if (data.error.cause) err.cause = { name: data.error.cause };
        finish(reject, err);
      } else {
        finish(resolve, data);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish(reject, new Error(`the Worker failed: ${event.message || 'could not load worker.js'}`));
    };
    worker.postMessage(message);
  });
}

$('run-worker').addEventListener('click', () => action(async () => {
  $('worker-out').hidden = true;
  const result = await runInWorker({ id: key.id, options: proofOptions() });
  $('worker-result').textContent = JSON.stringify(result, null, 2);
  const { header } = decodeJws(result.proof);
  renderChecks($('worker-checks'), [
    [result.inWorker === true, 'ran inside a WorkerGlobalScope'],
    [result.jkt === key.jkt, 'loaded the same key from IndexedDB'],
    [await verifyProof(result.proof), 'its proof verifies with its header ', code('jwk')],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of its header ', code('jwk'), ' = dpop_jkt'],
  ]);
  $('worker-out').hidden = false;
  $('worker-status').textContent = 'signed in the Worker';
  return 'worker-ready';
}));

$('forget-key').addEventListener('click', () => action(async () => {
  const existed = await deleteDPoPKeyPair(key.id);
  localStorage.removeItem(STORAGE_KEY);
  const id = key.id;
  key = null;
  resetKeyOutputs();
  $('key-status').textContent = existed ? `Deleted ${id} from IndexedDB.` : `${id} was not in IndexedDB any more.`;
  return 'key-forgotten';
}));

export async function loadPlaygroundKey() {
  const id = localStorage.getItem(STORAGE_KEY);
  if (!id) return;
  try {
    key = await loadDPoPKeyPair(id);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
    localStorage.removeItem(STORAGE_KEY);
    $('key-status').textContent = 'The remembered key is no longer in IndexedDB.';
    return;
  }
  await showKey('loaded from IndexedDB');
}
