// `npm run soak`: bundles bench/soak.ts and the server with esbuild, then runs the soak (about 10 minutes on two
// cores). Arguments are passed on: npm run soak -- --quick (a reduced form), --seed N; --import runs the import soak
// (bench/soakImport.ts) instead: npm run soak -- --import [--mutations N].
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
// --import: the import soak instead (bench/soakImport.ts: random checkpoint mutations through dist/cli.js).
const importSoak = process.argv.includes('--import');
await esbuild.build({ ...node, entryPoints: importSoak ? { soakImport: 'bench/soakImport.ts' } : { soak: 'bench/soak.ts' }, outdir: 'out/bench' });
await esbuild.build({ ...node, entryPoints: importSoak ? { cli: 'server/cli.ts' } : { server: 'server/main.ts' }, outdir: 'dist', ...(importSoak ? { banner: { js: '#!/usr/bin/env node' } } : {}) });
const r = spawnSync(process.execPath, ['--enable-source-maps', importSoak ? 'out/bench/soakImport.js' : 'out/bench/soak.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
