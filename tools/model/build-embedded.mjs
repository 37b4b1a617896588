// Builds media/model from export.py's staging folder through the importer's graph builder (server/import/embedded.ts):
//     node tools/model/build-embedded.mjs STAGE_DIR OUT_DIR
// export.py runs it; it bundles embedded.ts with esbuild (no `npm run build` needed), writes the new model's expert
// labels into it (build-labels.mjs: the labels of the old weights would no longer match) and prints the new moe.json's
// provenance.sha256 on its last line.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { buildLabels } from './build-labels.mjs';

const [stage, out] = process.argv.slice(2);
if (!stage || !out) {
  process.stderr.write('usage: node tools/model/build-embedded.mjs STAGE_DIR OUT_DIR\n');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-build-embedded-'));
try {
  const bundle = join(tmp, 'embedded.cjs');
  await build({ entryPoints: [join(root, 'server', 'import', 'embedded.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'warning' });
  const { buildEmbedded } = createRequire(import.meta.url)(bundle);
  const m = buildEmbedded(resolve(stage), resolve(out));
  await buildLabels(resolve(out));
  process.stdout.write(`${m.provenance.sha256}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
