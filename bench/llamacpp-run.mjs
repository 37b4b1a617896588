// `npm run bench:llamacpp -- HF IDS WORKDIR [PYTHON]`: bundles bench/llamacppMain.ts with esbuild into
// out/bench/llamacpp.js, then runs it. node-llama-cpp is not bundled: bench/llamacpp.ts installs it into
// .cache/llamacpp and a plain child script (bench/llamacpp-measure.mjs) imports it from there.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node', 'node-llama-cpp'], logLevel: 'warning' };
await esbuild.build({ ...node, entryPoints: { llamacpp: 'bench/llamacppMain.ts' }, outdir: 'out/bench' });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/llamacpp.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
