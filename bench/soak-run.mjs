// `npm run soak`: bundles bench/soak.ts and the server with esbuild, then runs the soak (about 10 minutes on two
// cores). Arguments are passed on: npm run soak -- --quick (a reduced form), --seed N.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
await esbuild.build({ ...node, entryPoints: { soak: 'bench/soak.ts' }, outdir: 'out/bench' });
await esbuild.build({ ...node, entryPoints: { server: 'server/main.ts' }, outdir: 'dist' });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/soak.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
