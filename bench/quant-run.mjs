// `npm run bench:quant`: bundles bench/olmoeQuant.ts with esbuild, then runs it (it imports with dist/cli.js: npm run build first).
// Arguments are passed on: npm run bench:quant -- --layers 2
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
await esbuild.build({ ...node, entryPoints: { olmoeQuant: 'bench/olmoeQuant.ts' }, outdir: 'out/bench' });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/olmoeQuant.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
