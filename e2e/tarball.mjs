// The package as a user gets it: `npm pack` of the built package, installed with `npm install
// <tarball>` into a fresh project in a temporary directory. Used by e2e/package.mjs, e2e/readme.mjs.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Packs the package (pkg/ must be built); resolves to the tarball's path. */
export function pack(dir = mkdtempSync(path.join(tmpdir(), 'kb-pack-'))) {
  const out = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root));
  return path.join(dir, out[0].filename);
}

/**
 * A new project in a temp directory (package.json with `type: module`) with the tarball
 * installed, as `npm install <tarball>` does for a user (keybound has no dependencies, so this
 * needs no registry). Returns the project's directory.
 */
export function installTarball(tarball, { name = 'kb-user' } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  npm(['install', '--offline', tarball], dir);
  return dir;
}

/** Path of the pinned TypeScript compiler (devDependency). */
export const tsc = path.join(root, 'node_modules/.bin/tsc');

/**
 * Copies `example` (a directory) to a temp directory and runs `npm install <tarball>` there. The
 * example's devDependencies (Vite) are left out of the copy: the caller uses the repository's
 * copy, pinned to the same version (checked by the caller), so that no registry is needed.
 */
export function exampleWithTarball(example, tarball) {
  const dir = mkdtempSync(path.join(tmpdir(), `kb-${path.basename(example)}-`));
  cpSync(example, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src) });
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  delete pkg.devDependencies;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  npm(['install', '--offline', tarball], dir);
  return dir;
}
