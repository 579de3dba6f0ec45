// Every ```js / ```ts block of README.md, against the package a user gets (the packed tarball,
// installed with npm in a fresh project):
//
// - type-checked with `tsc --strict`, the default lib settings, skipLibCheck off, and checkJs for
//   js blocks (one run for the Node blocks, with @types/node, one for the others);
// - run, unless marked: in Node when the block imports a `node:` module, else in headless
//   Chromium (a page on http://localhost with an import map of the package's exports, as a
//   plain-ESM user would write). A block that throws or rejects fails.
//
// Directives, in an HTML comment on the line right before the block's fence:
//   <!-- readme-test: typecheck-only: <why it cannot run here> -->
//   <!-- readme-test: continues: <heading>; … -->   the block goes on from the first block under
//                                        that heading (type-checked and run after it: its leading
//                                        imports and `declare` statements at the top of the module,
//                                        the rest in a block scope of its own)
// A block that imports a `node:` module (or continues one that does) is type-checked with Node's
// types (@types/node); the others with the default libs only (DOM), as a browser user has them.
// A harness self-test first checks that a type error and a throwing block do fail.
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { assert, launchChromium, tests } from './lib.mjs';
import { installTarball, pack, root, tsc } from './tarball.mjs';

const { test, finish } = tests(240000);

/** The README's js/ts blocks: { line, lang, code, typecheckOnly, why, continues }. */
export function readmeBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^```(\w*)\s*$/);
    if (!fence) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const lang = { js: 'js', javascript: 'js', ts: 'ts', typescript: 'ts' }[fence[1]];
    if (!lang) continue;
    const heading = lines.slice(0, start).reverse().find((l) => /^#+ /.test(l))?.replace(/^#+ /, '') ?? '';
    const block = { line: start + 1, lang, code: body.join('\n'), heading, typecheckOnly: false, why: '', continues: null };
    const directive = start > 0 && lines[start - 1].match(/^<!-- readme-test: (.*) -->$/);
    if (directive) {
      for (const part of directive[1].split(';').map((s) => s.trim())) {
        const only = part.match(/^typecheck-only: (.{10,})$/);
        const continues = part.match(/^continues: (.+)$/);
        if (only) { block.typecheckOnly = true; block.why = only[1]; } else if (continues) block.continues = continues[1];
        else throw new Error(`README.md:${start}: unknown readme-test directive ${JSON.stringify(part)} (typecheck-only needs a reason)`);
      }
    }
    blocks.push(block);
  }
  return blocks;
}

/**
 * A continuing block's leading lines that must stay at module level (one-line imports, one-line
 * `declare` statements, comments, blank lines), and the rest.
 */
export function splitHead(code) {
  const lines = code.split('\n');
  let n = 0;
  while (n < lines.length && /^(import .*;|declare .*|\/\/.*|\s*)$/.test(lines[n])) n++;
  const head = lines.slice(0, n).join('\n');
  const body = lines.slice(n).join('\n');
  return { head, body };
}

/** A block's module text: the block it continues (if any) first, then this one in a scope of its own. */
function moduleText(blocks, i) {
  const b = blocks[i];
  if (!b.continues) return `${b.code}\nexport {};\n`;
  const from = blocks.findIndex((x) => x.heading === b.continues);
  assert(from >= 0 && from < i, `README.md:${b.line}: no block before it under the heading "${b.continues}"`);
  const { head, body } = splitHead(b.code);
  assert(!/^(import|declare) /m.test(body), `README.md:${b.line}: a continuing block's imports and declarations come first, one per line`);
  return `${head}\n${moduleText(blocks, from)}{\n${body}\n}\n`;
}

const runtimeOf = (code) => (/from "node:|from 'node:/.test(code) ? 'node' : 'browser');

/** Type-checks the files in `dir` (with the named `types` packages); returns tsc's diagnostics per file name. */
function typecheck(dir, files, types = []) {
  const errors = new Map(files.map((f) => [f, []]));
  if (!files.length) return { status: 0, errors };
  const typeArgs = types.length ? ['--types', types.join(',')] : [];
  const r = spawnSync(tsc, ['--strict', '--noEmit', '--skipLibCheck', 'false', '--allowJs', '--checkJs', '--pretty', 'false', ...typeArgs, ...files], { cwd: dir, encoding: 'utf8' });
  for (const line of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean)) {
    const file = line.match(/^([^(]+)\(/)?.[1];
    (errors.get(file) ?? errors.set(file ?? '(tsc)', []).get(file ?? '(tsc)')).push(line);
  }
  return { status: r.status, errors };
}

/** A static server of `dir` on 127.0.0.1 (pages are opened as http://localhost, a secure context). */
function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://localhost:${server.address().port}` })));
}

/** An import map of the installed package's exports (the "default" targets: what a browser gets). */
function importMap(project) {
  const pkg = JSON.parse(readFileSync(path.join(project, 'node_modules/keybound/package.json'), 'utf8'));
  const imports = {};
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'object') imports[`keybound${sub.slice(1)}`] = `/node_modules/keybound/${target.default.slice(2)}`;
  }
  return { imports };
}

const project = installTarball(pack(), { name: 'kb-readme' });
// Blocks may import the repository's dev dependencies (the README's server examples): the
// project is moved under the repository so that bare imports other than keybound resolve there.
const dir = path.join(root, 'target', 'readme-test');
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.dirname(dir), { recursive: true });
spawnSync('cp', ['-r', project, dir]);
rmSync(project, { recursive: true, force: true });

const { server, origin } = await serve(dir);
const browser = await launchChromium();
const page = async (file) => {
  const html = `<!doctype html><meta charset="utf-8"><script type="importmap">${JSON.stringify(importMap(dir))}</script>
<body><script type="module">
import(${JSON.stringify(`./${file}`)}).then(() => { document.body.dataset.result = "ok"; },
  (e) => { document.body.dataset.result = "threw " + (e && e.name) + " " + (e && e.code || "") + ": " + (e && e.message); });
</script></body>`;
  writeFileSync(path.join(dir, `${file}.html`), html);
  const context = await browser.newContext();
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  try {
    await p.goto(`${origin}/${file}.html`);
    await p.waitForFunction(() => document.body?.dataset.result, null, { timeout: 20000 });
    const result = await p.evaluate(() => document.body.dataset.result);
    return result === 'ok' && !errors.length ? 'ok' : `${result}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`;
  } finally {
    await context.close();
  }
};
const run = async (runtime, file) => {
  if (runtime === 'browser') return page(file);
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30000 });
  return r.status === 0 ? 'ok' : `exit ${r.status}: ${r.stderr.slice(-800)}`;
};

try {
  await test('the harness fails a block with a type error and a block that throws', async () => {
    writeFileSync(path.join(dir, 'selftest-type.ts'), 'import { calculateJwkThumbprint } from "keybound/web";\nexport const t: number = calculateJwkThumbprint({ kty: "EC" });\n');
    const { errors } = typecheck(dir, ['selftest-type.ts']);
    assert(errors.get('selftest-type.ts').some((l) => /TS2322/.test(l)), `no type error reported: ${[...errors.values()]}`);
    writeFileSync(path.join(dir, 'selftest-throw.js'), 'import init, { calculatePKCECodeChallenge } from "keybound/web";\nawait init();\ncalculatePKCECodeChallenge("short");\n');
    const got = await page('selftest-throw.js');
    assert(/^threw KeyboundError ERR_PKCE_VERIFIER_INVALID/.test(got), `a throwing block passed: ${got}`);
  });

  const all = readmeBlocks(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const blocks = all;

  await test('README.md has js blocks, and few are typecheck-only, each with its reason', () => {
    assert(all.length >= 8, `only ${all.length} js/ts blocks found`);
    const only = blocks.filter((b) => b.typecheckOnly);
    console.log(`# ${blocks.length} blocks, ${only.length} typecheck-only:`);
    for (const b of only) console.log(`#   README.md:${b.line}: ${b.why}`);
    assert(only.length < blocks.length, 'no block runs');
  });

  const files = blocks.map((b, i) => {
    const file = `readme-${b.line}.${b.lang === 'ts' ? 'ts' : 'js'}`;
    writeFileSync(path.join(dir, file), moduleText(blocks, i));
    return file;
  });
  // Node blocks with Node's types, the others as a browser user has them (two tsc runs).
  const node = files.filter((_, i) => runtimeOf(moduleText(blocks, i)) === 'node');
  const inNode = typecheck(dir, node, ['node']);
  const inBrowser = typecheck(dir, files.filter((f) => !node.includes(f)));
  const checked = { status: Math.max(inNode.status ?? 1, inBrowser.status ?? 1), errors: new Map([...inBrowser.errors, ...inNode.errors]) };
  console.log(`# type-checked ${node.length} blocks with Node's types, ${files.length - node.length} with the browser's`);
  for (const [i, b] of blocks.entries()) {
    await test(`README.md:${b.line} type-checks (tsc --strict${b.lang === 'js' ? ', checkJs' : ''})`, () => {
      const errs = checked.errors.get(files[i]);
      assert(!errs.length, `\n  ${errs.join('\n  ')}`);
    });
  }
  await test('tsc reported nothing outside the blocks', () => {
    const other = [...checked.errors].filter(([f, e]) => !files.includes(f) && e.length);
    assert(!other.length, `${other.map(([f, e]) => `${f}: ${e.join('; ')}`)}`);
    assert(checked.status === 0 || [...checked.errors.values()].some((e) => e.length), `tsc exit ${checked.status} with no diagnostics`);
  });

  for (const [i, b] of blocks.entries()) {
    if (b.typecheckOnly) continue;
    const runtime = runtimeOf(moduleText(blocks, i));
    await test(`README.md:${b.line} runs in ${runtime === 'node' ? 'Node' : 'Chromium'}`, async () => {
      // A ts block runs as the JS a user's compiler would make of it (esbuild strips the types).
      const file = `run-${b.line}.${runtime === 'node' ? 'mjs' : 'js'}`;
      const text = moduleText(blocks, i);
      writeFileSync(path.join(dir, file), b.lang === 'ts' ? transformSync(text, { loader: 'ts', format: 'esm' }).code : text);
      const got = await run(runtime, file);
      assert(got === 'ok', got);
    });
  }
} finally {
  await browser.close();
  server.close();
}
finish();
