// `npm run package`: a production build, then a .vsix with @vscode/vsce, offline.
//
//   npm run package                      platform-specific package for this machine (e.g. linux-x64)
//   npm run package -- --target T        for another VS Code target (linux-x64, linux-arm64, darwin-arm64, win32-x64, win32-arm64)
//   npm run package -- --universal       one package with the onnxruntime binaries of every platform (~4× larger)
//   npm run package -- --out FILE.vsix
//
// Dependencies stay in (vsce --no-dependencies would drop onnxruntime-node, which the server loads at run time);
// README images stay relative (--no-rewrite-relative-links; docs/images/ ships in the package, so the extension
// details page shows them). .vscodeignore keeps only onnxruntime-node and onnxruntime-common of node_modules (the rest is bundled into dist/).
// A platform-specific package keeps only its own platform's onnxruntime binaries (bin/napi-v6/<os>/<arch>).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const universal = argv.includes('--universal');
const target = universal ? undefined : (opt('--target') ?? `${process.platform}-${process.arch}`);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(opt('--out') ?? join(root, `${pkg.name}-${pkg.version}${target ? `-${target}` : ''}.vsix`));

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { console.error(`package: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`); process.exit(1); }
};

const t0 = Date.now();
run(process.execPath, ['esbuild.mjs', '--production']);

// The ignore file: .vscodeignore, plus the other platforms' onnxruntime binaries for a platform-specific package.
let ignoreFile = join(root, '.vscodeignore');
if (target) {
  const [os, arch] = target.split('-');
  const binRoot = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  const present = readdirSync(binRoot).flatMap((o) => readdirSync(join(binRoot, o)).map((a) => `${o}/${a}`));
  if (!present.includes(`${os}/${arch}`)) {
    console.error(`package: onnxruntime-node has no binary for ${target} (it has ${present.join(', ')})`);
    process.exit(1);
  }
  // vsce lets any "!" line win over every ignore line, so narrow the negation rather than add ignores.
  const all = '!node_modules/onnxruntime-node/bin/**';
  const base = readFileSync(join(root, '.vscodeignore'), 'utf8');
  if (!base.split('\n').includes(all)) { console.error(`package: .vscodeignore lacks the line ${all}`); process.exit(1); }
  mkdirSync(join(root, '.cache'), { recursive: true });
  ignoreFile = join(root, '.cache', `vscodeignore-${target}`);
  writeFileSync(ignoreFile, base.replace(all, `!node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/**`));
}

const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [vsce, 'package', '--allow-missing-repository', '--no-rewrite-relative-links', '--ignoreFile', ignoreFile, '--out', out];
if (target) args.push('--target', target);
run(process.execPath, args);

const mb = (statSync(out).size / 1048576).toFixed(1);
console.log(`package: ${relative(process.cwd(), out) || out} — ${mb} MB${target ? ` (target ${target})` : ' (universal)'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
