// `npm run bench:prune`: bundles bench/prune.ts with esbuild and runs it (docs/PRUNING.md, "Speed").
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

await esbuild.build({ bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning', entryPoints: { prune: 'bench/prune.ts' }, outdir: 'out/bench' });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/prune.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
