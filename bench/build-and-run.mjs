// `npm run bench`: bundles bench/run.ts (and the server, for the LSP cases) with esbuild, then runs the benchmark.
// Arguments are passed on: npm run bench -- --quick (or -- --lsp-only: only the LSP case, bench/lspOnly.ts)
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
await esbuild.build({ ...node, entryPoints: { run: 'bench/run.ts' }, outdir: 'out/bench' });
if (!process.argv.includes('--no-lsp')) await esbuild.build({ ...node, entryPoints: { server: 'server/main.ts' }, outdir: 'dist' });
// the imported-model case runs `moe-lens import` as a user does: node dist/cli.js import
const lspOnly = process.argv.includes('--lsp-only');
if (!process.argv.includes('--no-olmoe') && !lspOnly) await esbuild.build({ ...node, entryPoints: { cli: 'server/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/run.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
