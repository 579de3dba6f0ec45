// Size of the package's entries: one row per entry, and a budget check.
//
//   node scripts/size.mjs pkg                 prints the table; exits 1 if an entry is over budget
//
// For each pkg/<entry>/ that has a keybound_bg.wasm: the wasm's bytes raw and gzip -9, the web
// glue (web.js) minified with esbuild and gzip -9, their sum (what a page downloads), and the
// five largest functions. Those come from keybound_bg.named.wasm (the wasm-bindgen output
// before wasm-opt, which still has its name section; the build leaves it in target/), read
// here with a small parser of the wasm binary format, so no tool needs installing.
//
// Budgets: scripts/size-budget.json, bytes of wasm + minified glue after gzip -9, per entry.
// They only ever shrink as the work lands (issue: an SPA entry <= 40,960 B).

import { readFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const gz = (buf) => gzipSync(buf, { level: 9 }).length;

/** LEB128 unsigned integer at `pos`: [value, next position]. */
function uleb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [result, pos];
    shift += 7;
  }
}

/** The largest function bodies of a wasm binary, named from its name section. */
export function largestFunctions(buf, count = 5) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm binary');
  let pos = 8;
  let importedFunctions = 0;
  const bodySizes = [];
  const names = new Map();
  while (pos < buf.length) {
    const id = buf[pos++];
    let size;
    [size, pos] = uleb(buf, pos);
    const end = pos + size;
    if (id === 2) {
      // Imports: count the imported functions, which come first in the function index space.
      let n;
      let p = pos;
      [n, p] = uleb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = uleb(buf, p); p += len; // module
        [len, p] = uleb(buf, p); p += len; // name
        const kind = buf[p++];
        if (kind === 0) { [, p] = uleb(buf, p); importedFunctions++; }
        else if (kind === 1) { p++; const flags = buf[p++]; [, p] = uleb(buf, p); if (flags & 1) [, p] = uleb(buf, p); }
        else if (kind === 2) { const flags = buf[p++]; [, p] = uleb(buf, p); if (flags & 1) [, p] = uleb(buf, p); }
        else if (kind === 3) { p += 2; }
        else if (kind === 4) { p++; [, p] = uleb(buf, p); }
      }
    } else if (id === 10) {
      let n;
      let p = pos;
      [n, p] = uleb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        const start = p;
        [len, p] = uleb(buf, p);
        bodySizes.push(len + (p - start));
        p += len;
      }
    } else if (id === 0) {
      let len;
      let p = pos;
      [len, p] = uleb(buf, p);
      const name = buf.toString('utf8', p, p + len);
      p += len;
      if (name === 'name') {
        while (p < end) {
          const sub = buf[p++];
          let subSize;
          [subSize, p] = uleb(buf, p);
          const subEnd = p + subSize;
          if (sub === 1) {
            let n;
            [n, p] = uleb(buf, p);
            for (let i = 0; i < n; i++) {
              let index;
              [index, p] = uleb(buf, p);
              [len, p] = uleb(buf, p);
              names.set(index, buf.toString('utf8', p, p + len));
              p += len;
            }
          }
          p = subEnd;
        }
      }
    }
    pos = end;
  }
  return bodySizes
    .map((bytes, i) => ({ bytes, name: names.get(i + importedFunctions) ?? `func[${i + importedFunctions}]` }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

/** Shortens a Rust symbol for a table: no hashes, no crate disambiguators, at most 70 chars. */
function short(name) {
  const s = name.replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '');
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}

export function measure(pkgDir) {
  const rows = [];
  for (const entry of readdirSync(pkgDir).sort()) {
    const dir = path.join(pkgDir, entry);
    const wasmFile = path.join(dir, 'keybound_bg.wasm');
    // Shipped entries have web.js (plain ES modules) beside the bundler glue; the full test
    // build in pkg/web is a web build only, named keybound.js.
    const glueFile = [path.join(dir, 'web.js'), path.join(dir, 'keybound.js')].find(existsSync);
    if (!existsSync(wasmFile) || !glueFile) continue;
    const wasm = readFileSync(wasmFile);
    const glueMin = buildSync({ entryPoints: [glueFile], minify: true, format: 'esm', write: false, logLevel: 'error' }).outputFiles[0].contents;
    const named = path.join(ROOT, 'target', 'entries', entry, 'keybound_bg.named.wasm');
    rows.push({
      entry,
      wasmRaw: wasm.length,
      wasmGz: gz(wasm),
      glueMinGz: gz(glueMin),
      total: gz(wasm) + gz(glueMin),
      largest: existsSync(named) ? largestFunctions(readFileSync(named)) : [],
    });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pkgDir = path.resolve(process.argv[2] ?? path.join(ROOT, 'pkg'));
  // KEYBOUND_SIZE_BUDGET names another budget file (the package test uses it to see a refusal).
  const budgetFile = process.env.KEYBOUND_SIZE_BUDGET ?? path.join(ROOT, 'scripts', 'size-budget.json');
  const budgets = JSON.parse(readFileSync(budgetFile, 'utf8'));
  const rows = measure(pkgDir);
  let over = 0;
  for (const r of rows) {
    const budget = budgets.entries[r.entry];
    const verdict = budget === undefined ? 'no budget (not shipped)' : r.total <= budget ? `within budget ${budget} B` : `OVER budget ${budget} B`;
    if (budget !== undefined && r.total > budget) over++;
    console.log(`size: ${r.entry.padEnd(9)} wasm ${r.wasmRaw} B raw, ${r.wasmGz} B gzip -9; glue ${r.glueMinGz} B min+gzip; total ${r.total} B (target ${budgets.target} B; ${verdict})`);
    for (const f of r.largest) console.log(`size:   ${String(f.bytes).padStart(6)} B  ${short(f.name)}`);
  }
  if (!rows.length) {
    console.error(`size: no entries under ${pkgDir}`);
    process.exit(1);
  }
  if (over) {
    console.error(`size: ${over} entr${over === 1 ? 'y is' : 'ies are'} over budget (scripts/size-budget.json)`);
    process.exit(1);
  }
}
