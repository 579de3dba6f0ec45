// Post-processes wasm-bindgen's output for the package (called by scripts/build.sh):
//
//   node scripts/glue.mjs entry pkg/<entry>   a shipped entry: web.js, web.d.ts, keybound.d.ts;
//                                             writes node.js (the `node` export condition)
//   node scripts/glue.mjs web pkg/web         the demo's and tests' whole-library web build
//
// 1. Web glue: until init() or initSync() has run, wasm-bindgen's `wasm` is undefined, and any
//    call died with `TypeError: Cannot read properties of undefined`. It now starts as a stand-in
//    whose every property throws a KeyboundError with code ERR_NOT_INITIALIZED (the code is in
//    src/error.rs, so errorCodes(), the ErrorCode type and isKeyboundError know it). init() and
//    initSync() test `wasmInstance`, which only a real instantiation sets. wasm-bindgen's three
//    console warnings are said in fewer words, so that the entries stay within their budgets.
// 2. Typings pass a default `tsc --strict` with skipLibCheck off: the `[Symbol.dispose]` method
//    needs lib esnext.disposable, referenced at the top; InitOutput (the raw wasm exports, typed
//    with `any`) is cut down to `memory`: the instance's internals are not API.
// 3. wasm-bindgen puts each `inline_js` in a module of its own under snippets/, which the web
//    glue imports: one more request, made only after the glue is parsed (a round trip more
//    before init() can even start). Its functions are inlined into web.js instead (the bundler
//    glue keeps the import: a bundler bundles it).
// 4. node.js: reads the entry's wasm from disk and instantiates it synchronously at import, then
//    re-exports the web module (init() and initSync() then return at once).
//
// Every edit must match exactly what wasm-bindgen emits; a new wasm-bindgen that emits something
// else fails the build here instead of shipping an unpatched package.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [mode, dir] = process.argv.slice(2);
if (!['entry', 'web'].includes(mode) || !dir) {
  console.error('usage: node scripts/glue.mjs entry|web <dir>');
  process.exit(2);
}

/** Replaces `from` by `to` in `text`, which must hold it exactly `count` times. */
function replace(file, text, from, to, count = 1) {
  const found = text.split(from).length - 1;
  if (found !== count) throw new Error(`${file}: expected ${count} × ${JSON.stringify(from)}, found ${found}: has wasm-bindgen's output changed?`);
  return text.split(from).join(to);
}

function edit(file, fn) {
  writeFileSync(file, fn(readFileSync(file, 'utf8')));
}

const NOT_INITIALIZED = 'let wasmModule, wasmInstance, wasm = new Proxy({}, { get() { '
  + 'throw Object.assign(new Error("keybound is not initialized: call init() first"), '
  + '{ name: "KeyboundError", code: "ERR_NOT_INITIALIZED" }); } });';

// wasm-bindgen's warnings (a wasm served with another MIME type, deprecated init arguments) in
// fewer words: the same warnings in the same cases, to pay for the stand-in above.
const MIME_WARNING = '"`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. '
  + 'Falling back to `WebAssembly.instantiate` which is slower. Original error:\\n"';

const webJs = (file) => edit(file, (js) => {
  js = replace(file, js, 'let wasmModule, wasmInstance, wasm;', NOT_INITIALIZED);
  js = replace(file, js, MIME_WARNING, '"keybound: the wasm is not served as application/wasm, so it loads the slower way:"');
  js = replace(file, js, "'using deprecated parameters for `initSync()`; pass a single object instead'", "'keybound: initSync(module) is deprecated: pass { module }'");
  js = replace(file, js, "'using deprecated parameters for the initialization function; pass a single object instead'", "'keybound: init(path) is deprecated: pass { module_or_path }'");
  return replace(file, js, 'if (wasm !== undefined) return wasm;', 'if (wasmInstance !== undefined) return wasm;', 2);
});

const typings = (file, web) => edit(file, (dts) => {
  dts = replace(file, dts, '/* tslint:disable */\n', '/* tslint:disable */\n/// <reference lib="esnext.disposable" />\n');
  if (web) {
    dts = dts.replace(/export interface InitOutput \{\n {4}readonly memory: WebAssembly\.Memory;\n(?: {4}readonly [^\n]*\n)*\}\n/, (m) => {
      if (!m) return m;
      return '/** The instantiated module. Its exports are keybound\'s internals, not API: use this module\'s named exports. */\n'
        + 'export interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n}\n';
    });
    if (!/export interface InitOutput \{\n {4}readonly memory: WebAssembly\.Memory;\n\}/.test(dts)) throw new Error(`${file}: InitOutput not cut down`);
  }
  return dts;
});

/**
 * Inlines the `inline_js` snippets a web glue imports, in either form wasm-bindgen writes:
 * `import { a, b } from './snippets/<crate>/inlineN.js';` (functions the glue wraps) and
 * `import * as importN from "./snippets/<crate>/inlineN.js"` (functions the wasm imports
 * directly, through the imports object). A snippet must be `export function` declarations only:
 * dropping `export` makes the same functions local to the glue, and a namespace import becomes
 * an object of them. The bundler glue keeps importing snippets/ (its wasm imports the snippet
 * module by name, and a bundler bundles it anyway), so snippets/ stays beside it.
 */
function inlineSnippets(file) {
  const IMPORT = /^import (?:\{ ([\w, ]+) \}|\* as (\w+)) from (['"])\.\/(snippets\/[\w-]+\/inline\d+\.js)\3;?\n/gm;
  edit(file, (js) => {
    const inlined = new Set();
    js = js.replace(IMPORT, (_, names, namespace, _q, rel) => {
      const code = readFileSync(path.join(dir, rel), 'utf8');
      const declared = [...code.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1]);
      if (/^export (?!function )/m.test(code) || (names ?? '').split(', ').some((n) => n && !declared.includes(n))) {
        throw new Error(`${file}: ${rel} is not plain exported functions: has the inline_js changed?`);
      }
      let out = '';
      if (!inlined.has(rel)) {
        inlined.add(rel);
        out += code.replace(/^export function /gm, 'function ').trimEnd() + '\n';
      }
      if (namespace) out += `const ${namespace} = { ${declared.join(', ')} };\n`;
      return out;
    });
    // The imports object still names the module (the wasm imports it by that name): only an
    // import statement would be a request.
    if (/from ['"]\.\/snippets\//.test(js)) throw new Error(`${file}: a snippet import was left`);
    return js;
  });
}

if (mode === 'web') {
  inlineSnippets(path.join(dir, 'keybound.js'));
  rmSync(path.join(dir, 'snippets'), { recursive: true, force: true });
  webJs(path.join(dir, 'keybound.js'));
  typings(path.join(dir, 'keybound.d.ts'), true);
} else {
  inlineSnippets(path.join(dir, 'web.js'));
  webJs(path.join(dir, 'web.js'));
  typings(path.join(dir, 'web.d.ts'), true);
  typings(path.join(dir, 'keybound.d.ts'), false);
  writeFileSync(path.join(dir, 'node.js'), `// Node (the "node" export condition): the wasm is read from disk and instantiated at import,
// so nothing needs init(); init() and initSync() are still exported and return at once.
import { readFileSync } from "node:fs";
import { initSync } from "./web.js";
initSync({ module: readFileSync(new URL("keybound_bg.wasm", import.meta.url)) });
export * from "./web.js";
export { default } from "./web.js";
`);
}
