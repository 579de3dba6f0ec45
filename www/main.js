// keybound demo page: plain ES module, no build step.
import init, {
  generateDPoPKeyPair,
  loadDPoPKeyPair,
  deleteDPoPKeyPair,
  createDPoPProof,
  calculateJwkThumbprint,
} from '/pkg/keybound.js';

const STORAGE_KEY = 'keybound-demo:key-id';
const HIGHLIGHT = new Set(['jwk', 'jti', 'iat', 'htu', 'c_s256']);
const BUTTONS = ['generate', 'sign', 'run-worker', 'forget'];

const $ = (id) => document.getElementById(id);
const setState = (state) => { document.body.dataset.state = state; };

/** The current DPoPKeyPair, or null. */
let key = null;

// ---------------------------------------------------------------- helpers

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function base64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function base64urlEncode(bytes) {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeJws(jws) {
  const [h, p, s] = jws.split('.');
  const json = (part) => JSON.parse(new TextDecoder().decode(base64urlDecode(part)));
  return { header: json(h), payload: json(p), signingInput: `${h}.${p}`, signature: base64urlDecode(s) };
}

/** Pretty JSON (same text as JSON.stringify(obj, null, 2)) with some top-level members marked. */
function renderJson(pre, obj, highlight = new Set()) {
  const entries = Object.entries(obj);
  pre.replaceChildren('{\n');
  entries.forEach(([name, value], i) => {
    const text = `${JSON.stringify(name)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`;
    pre.append('  ', highlight.has(name) ? el('mark', { className: 'hl', title: name, textContent: text }) : text);
    pre.append(i < entries.length - 1 ? ',\n' : '\n');
  });
  pre.append('}');
}

/** The compact JWS with its three parts colored; the text stays the exact JWS. */
function renderJws(pre, jws) {
  const [h, p, s] = jws.split('.');
  pre.replaceChildren(
    el('span', { className: 'jws-h', textContent: h }), '.',
    el('span', { className: 'jws-p', textContent: p }), '.',
    el('span', { className: 'jws-s', textContent: s }),
  );
}

function renderChecks(ul, checks) {
  ul.replaceChildren(...checks.map(([ok, text]) =>
    el('li', { className: ok === null ? 'info' : ok ? 'pass' : 'fail' }, text)));
}

async function verifyProof(jws) {
  const { header, signingInput, signature } = decodeJws(jws);
  const publicKey = await crypto.subtle.importKey(
    'jwk', header.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, new TextEncoder().encode(signingInput));
}

async function sha256b64url(text) {
  return base64urlEncode(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

// ---------------------------------------------------------------- errors

function showError(err) {
  console.warn('keybound demo:', err);
  const box = $('error');
  const code = err?.code ?? err?.name ?? 'Error';
  const cause = err?.cause ? ` (cause: ${err.cause.name ?? 'Error'}${err.cause.message ? `: ${err.cause.message}` : ''})` : '';
  box.replaceChildren(
    el('strong', { textContent: 'Error ' }),
    el('code', { className: 'code', textContent: code }),
    ` ${err?.message ?? String(err)}${cause}`,
  );
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

/** Runs one action: state `busy`, error box cleared, buttons disabled; then the action's final state. */
async function action(fn) {
  setState('busy');
  clearError();
  for (const id of BUTTONS) $(id).disabled = true;
  try {
    setState(await fn());
  } catch (err) {
    for (const id of ['proof-status', 'worker-status']) {
      if (/…$/.test($(id).textContent)) $(id).textContent = 'Failed: see the error above.';
    }
    showError(err);
    setState('error');
  } finally {
    updateButtons();
  }
}

function updateButtons() {
  $('generate').disabled = false;
  for (const id of ['sign', 'run-worker', 'forget']) $(id).disabled = !key;
  $('generate').textContent = key ? 'Generate a new key' : 'Generate key';
  for (const id of ['proof-status', 'worker-status']) {
    if (!key) $(id).textContent = 'Needs a key.';
    else if ($(id).textContent === 'Needs a key.') $(id).textContent = '';
  }
}

// ---------------------------------------------------------------- 1. key

async function showKey(source) {
  const { privateKey } = key.keyPair;
  $('key-source').textContent = source;
  $('key-source').className = `tag ${source === 'generated' ? 'tag-new' : 'tag-loaded'}`;
  $('key-id').textContent = key.id;
  $('key-alg').textContent = key.alg;
  $('key-extractable').textContent = String(privateKey.extractable);
  $('key-extractable-badge').hidden = privateKey.extractable !== false;
  $('key-jkt').textContent = key.jkt;
  renderJson($('key-jwk'), key.publicJwk);

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
    : el('span', {}, 'attempted, ', el('strong', { textContent: 'refused' }), ' with ',
        el('code', { textContent: refusal?.name ?? String(refusal) })));

  $('key-facts').hidden = false;
  $('key-status').textContent = key.persisted ? 'Stored in IndexedDB.' : 'In memory only.';
}

function resetOutputs() {
  $('key-facts').hidden = true;
  $('proof-out').hidden = true;
  $('worker-out').hidden = true;
  for (const id of ['key-source', 'key-id', 'key-alg', 'key-extractable', 'key-jkt', 'key-jwk', 'key-export',
    'proof', 'proof-header', 'proof-payload', 'proof-checks', 'worker-result', 'worker-checks']) {
    $(id).replaceChildren();
  }
}

$('generate').addEventListener('click', () => action(async () => {
  const previous = key;
  key = await generateDPoPKeyPair();
  localStorage.setItem(STORAGE_KEY, key.id);
  $('proof-out').hidden = true;
  $('worker-out').hidden = true;
  $('proof-status').textContent = '';
  $('worker-status').textContent = '';
  $('forget-status').textContent = '';
  if (previous) {
    // The demo keeps one key: the one it replaces goes away.
    await deleteDPoPKeyPair(previous.id);
  }
  await showKey('generated');
  return 'key-ready';
}));

// ---------------------------------------------------------------- 2. proof

function proofOptions() {
  const options = { htm: $('htm').value.trim(), htu: $('htu').value.trim() };
  const code = $('code').value.trim();
  const nonce = $('nonce').value.trim();
  if (code) options.code = code;
  if (nonce) options.nonce = nonce;
  return options;
}

$('sign').addEventListener('click', () => action(async () => {
  $('proof-out').hidden = true;
  $('proof-status').textContent = 'Signing…';
  const options = proofOptions();
  const proof = await createDPoPProof(key, options);
  const { header, payload } = decodeJws(proof);

  renderJws($('proof'), proof);
  renderJson($('proof-header'), header, HIGHLIGHT);
  renderJson($('proof-payload'), payload, HIGHLIGHT);

  const checks = [
    [await verifyProof(proof), 'signature verifies with the header jwk (WebCrypto)'],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of the header jwk = dpop_jkt'],
    [!('d' in header.jwk), 'header jwk has no private member d'],
    [null, `iat ${payload.iat} = ${new Date(payload.iat * 1000).toLocaleString()}`],
  ];
  if (options.code) {
    checks.push([payload.c_s256 === await sha256b64url(options.code), 'c_s256 = BASE64URL(SHA-256(code))']);
  }
  renderChecks($('proof-checks'), checks);
  $('proof-out').hidden = false;
  $('proof-status').textContent = `Signed: ${proof.length} characters.`;
  return 'proof-ready';
}));

// ---------------------------------------------------------------- 3. worker

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
  $('worker-status').textContent = 'Running…';
  const result = await runInWorker({ id: key.id, options: proofOptions() });
  $('worker-result').textContent = JSON.stringify(result, null, 2);
  const { header } = decodeJws(result.proof);
  renderChecks($('worker-checks'), [
    [result.inWorker === true, 'ran inside a WorkerGlobalScope'],
    [result.jkt === key.jkt, `same key as the page: jkt ${result.jkt}`],
    [await verifyProof(result.proof), 'worker proof verifies with its header jwk'],
    [calculateJwkThumbprint(header.jwk) === key.jkt, 'thumbprint of its header jwk = dpop_jkt'],
  ]);
  $('worker-out').hidden = false;
  $('worker-status').textContent = 'Signed in the Worker.';
  return 'worker-ready';
}));

// ---------------------------------------------------------------- 4. forget

$('forget').addEventListener('click', () => action(async () => {
  const existed = await deleteDPoPKeyPair(key.id);
  localStorage.removeItem(STORAGE_KEY);
  const id = key.id;
  key = null;
  resetOutputs();
  $('key-status').textContent = 'No key yet.';
  $('forget-status').textContent = existed
    ? `Deleted ${id} from IndexedDB.`
    : `${id} was not in IndexedDB any more.`;
  return 'forgotten';
}));

// ---------------------------------------------------------------- start

$('htu').value = `${location.origin}/token`;
$('proof-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!$('sign').disabled) $('sign').click();
});

action(async () => {
  await init();
  const id = localStorage.getItem(STORAGE_KEY);
  if (!id) return 'no-key';
  try {
    key = await loadDPoPKeyPair(id);
  } catch (err) {
    if (err?.code !== 'ERR_KEY_NOT_FOUND') throw err;
    localStorage.removeItem(STORAGE_KEY);
    $('key-status').textContent = 'The remembered key is no longer in IndexedDB.';
    return 'no-key';
  }
  await showKey('loaded from IndexedDB');
  return 'key-ready';
});
