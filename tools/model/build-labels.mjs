// Writes the expert labels a model directory ships (server/steering/writeShippedLabels.ts): its profile corpus routed
// through the model on the CPU, every expert labelled, the result in expert-labels.json (or the file moe.json's
// profileCorpus.labels names) and moe.json pointing at it:
//     node tools/model/build-labels.mjs [MODEL_DIR]        (default media/model; `npm run model:labels`)
// build-embedded.mjs runs it after each rebuild of the embedded model. It bundles the TypeScript with esbuild (no
// `npm run build` needed); progress goes to stderr, and stdout stays build-embedded's (export.py reads its last line).
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Writes the labels of the model in `dir`; resolves with the file's name in it. */
export async function buildLabels(dir) {
  // inside the project, so that the bundle's require('onnxruntime-node') finds the project's node_modules
  mkdirSync(join(root, 'out'), { recursive: true });
  const tmp = mkdtempSync(join(root, 'out', 'build-labels-'));
  try {
    const bundle = join(tmp, 'labels.cjs');
    await build({
      stdin: {
        contents: "export { ModelSession } from './server/model/modelSession'; export { writeShippedLabels } from './server/steering/writeShippedLabels';",
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      external: ['onnxruntime-node'],
      logLevel: 'warning',
    });
    const { ModelSession, writeShippedLabels } = createRequire(import.meta.url)(bundle);
    const started = Date.now();
    const session = await ModelSession.load(resolve(dir), 'cpu');
    try {
      const { file, labels } = await writeShippedLabels(session);
      process.stderr.write(`${join(dir, file)}: ${labels.labels.flat().length} labels (${labels.domains.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return file;
    } finally {
      await session.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildLabels(process.argv[2] ?? join(root, 'media', 'model'));
}
