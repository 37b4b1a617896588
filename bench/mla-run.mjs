// `npm run bench:mla`: bundles bench/mlaCache.ts with esbuild, then runs it (DeepSeek's latent KV cache: cost and size).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
await esbuild.build({ ...node, entryPoints: { mlaCache: 'bench/mlaCache.ts' }, outdir: 'out/bench' });
const r = spawnSync(process.execPath, ['--enable-source-maps', '--max-old-space-size=8192', 'out/bench/mlaCache.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
