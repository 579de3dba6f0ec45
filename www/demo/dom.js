// DOM helpers of the demo: element building, JSON and JWS rendering, check lists, key chips.

export const $ = (id) => document.getElementById(id);
export const setState = (state) => { document.body.dataset.state = state; };

export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Pretty JSON (same text as JSON.stringify(obj, null, 2)) with some top-level members marked. */
export function renderJson(pre, obj, highlight = new Set()) {
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
export function renderJws(pre, jws) {
  const [h, p, s] = jws.split('.');
  pre.replaceChildren(
    el('span', { className: 'jws-h', textContent: h }), '.',
    el('span', { className: 'jws-p', textContent: p }), '.',
    el('span', { className: 'jws-s', textContent: s }),
  );
}

/** checks: [ok (true | false | null for info), ...content] */
export function renderChecks(ul, checks) {
  ul.replaceChildren(...checks.map(([ok, ...content]) =>
    el('li', { className: ok === null ? 'info' : ok ? 'pass' : 'fail' }, ...content)));
}

export const code = (text) => el('code', { textContent: text });

/** A small key icon (inline SVG, no text, so textContent of a chip is the thumbprint). */
function keyIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'key-icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M7.5 9a4.5 4.5 0 1 1 4.36 5.62L10.5 16H9v1.5H7.5V19H4v-3.2l5.1-5.1A4.5 4.5 0 0 1 7.5 9Zm3-1.5a1.5 1.5 0 1 0 3 0 1.5 1.5 0 0 0-3 0Z');
  svg.append(path);
  return svg;
}

/** Hues given to some keys instead of their own (so the agent's key never looks like the page's). */
export const jktHues = new Map();

function naturalHue(jkt) {
  let hue = 0;
  for (const c of jkt) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  return hue;
}

const hueOf = (jkt) => jktHues.get(jkt) ?? naturalHue(jkt);

/**
 * Gives `jkt` (unless it has a hue already) a hue at least 60° from the keys in `near` and as far
 * as it can from those in `others` (keys shown elsewhere on the page).
 */
export function distinctHue(jkt, near, others = []) {
  if (jktHues.has(jkt)) return;
  const dist = (a, b) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
  const minTo = (h, list) => Math.min(180, ...list.filter((o) => o && o !== jkt).map((o) => dist(h, hueOf(o))));
  const natural = naturalHue(jkt);
  const score = (h) => Math.min(minTo(h, near), 60) * 1000 + Math.min(minTo(h, others), 40);
  let best = natural;
  for (let k = 1; k < 24; k++) {
    const h = (natural + k * 15) % 360;
    if (score(h) > score(best)) best = h;
  }
  if (best !== natural) jktHues.set(jkt, best);
}

/** A thumbprint as a colored chip: the same key gets the same color in every step. */
export function jktChip(jkt, target = el('span')) {
  target.classList.add('jkt');
  target.style.setProperty('--h', String(hueOf(jkt)));
  target.title = 'JWK SHA-256 thumbprint (RFC 7638)';
  target.replaceChildren(keyIcon(), el('code', { textContent: jkt }));
  return target;
}

export function timeOf(secs) {
  return new Date(secs * 1000).toLocaleTimeString();
}

export function httpStatus(target, res) {
  target.textContent = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  target.className = `http ${res.ok ? 'ok' : 'bad'}`;
}
