// Bundles the programs of MoE Lens. The extension, server and CLI are Node (CommonJS) bundles; the webview is a
// browser ESM bundle; every test/**/*.test.ts becomes out/test/**/*.test.js for mocha.
// `node esbuild.mjs` builds everything; `--watch` rebuilds on change; `--production` minifies.
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// Native or host-provided modules stay outside the bundles.
const external = ['vscode', 'onnxruntime-node', 'playwright-core', 'mocha'];

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, minify: production, external, logLevel: 'warning' };

function testEntries(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testEntries(p));
    else if (name.endsWith('.test.ts') || p === join('test', 'vscode', 'index.ts')) out.push(p);
  }
  return out;
}

// The server's library pins its own copy of vscode-languageserver-protocol (and vscode-jsonrpc under it), while
// common/protocol.ts builds its message objects from the top-level copy the client uses. In the server and CLI bundles
// common/ gets the server's copy too, so each bundle holds one protocol library (test/unit/bundle.test.ts checks).
const serverProtocol = {
  name: 'server-protocol',
  setup(build) {
    // resolved as if imported from vscode-languageserver's own folder: its nested copy, through its package exports
    const resolveDir = resolve('node_modules', 'vscode-languageserver');
    build.onResolve({ filter: /^vscode-languageserver-protocol(\/|$)/ }, (args) =>
      args.pluginData?.serverProtocol ? undefined : build.resolve(args.path, { resolveDir, kind: args.kind, pluginData: { serverProtocol: true } }));
  },
};

const builds = [
  { ...node, entryPoints: { extension: 'extension/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { server: 'server/main.ts' }, outdir: 'dist', plugins: [serverProtocol] },
  { ...node, entryPoints: { cli: 'server/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' }, plugins: [serverProtocol] },
  // The webview: the panel script, and the codicon font + stylesheet that @vscode-elements' icons look up by id.
  { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', sourcemap: true, minify: production, entryPoints: { webview: 'webview/main.ts', codicon: 'node_modules/@vscode/codicons/dist/codicon.css' }, loader: { '.ttf': 'file' }, assetNames: '[name]', outdir: 'dist', logLevel: 'warning' },
  { ...node, entryPoints: testEntries('test'), outdir: 'out/test', outbase: 'test' },
];

const present = (b) => Object.values(b.entryPoints).every((e) => { try { return statSync(e).isFile(); } catch { return false; } });

for (const b of builds.filter(present)) {
  if (watch) await (await esbuild.context(b)).watch();
  else await esbuild.build(b);
}
if (!watch) console.log('built', builds.filter(present).map((b) => Object.keys(b.entryPoints).length > 3 ? 'tests' : Object.keys(b.entryPoints).join(',')).join(' '));
