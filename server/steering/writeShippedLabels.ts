// Writes the expert labels a model directory ships (shippedLabels.ts): `npm run model:labels` for media/model, and
// tools/model/build-embedded.mjs each time it rebuilds the embedded model. The labels are computed exactly as a server
// without them computes them (computeExpertLabels over the model's profile corpus), written atomically, and moe.json's
// profileCorpus.labels is set to the file when it names none. test/model/shippedLabels.test.ts recomputes them and
// fails when the shipped file differs, so a retrained model or an edited corpus cannot keep stale labels silently.
import { resolve } from 'node:path';
import type { ModelBackend } from '../model/backend';
import { isInside, readModelText } from '../model/modelFiles';
import { LABELS_FORMAT, labelCacheKey, writeFileAtomic, type CachedLabels } from './labelCache';
import { computeExpertLabels, readProfileCorpus } from './labels';
import { SHIPPED_LABELS_FILE, shippedLabelsText } from './shippedLabels';

/** What the shipped file must hold for the session's model and corpus; null when the model has no corpus. */
export async function shippedLabelsFor(session: ModelBackend): Promise<CachedLabels | null> {
  const corpus = await readProfileCorpus(session);
  const set = await computeExpertLabels(session, {}, corpus);
  if (!set) return null;
  return { format: LABELS_FORMAT, key: labelCacheKey(session.modelId, corpus), domains: set.domains, labels: set.labels };
}

/** Computes the labels of the session's model and writes them into its directory; the file's name in it. */
export async function writeShippedLabels(session: ModelBackend): Promise<{ file: string; labels: CachedLabels }> {
  const labels = await shippedLabelsFor(session);
  if (!labels) throw new Error(`${session.dir}: the model has no profile corpus (moe.json profileCorpus) to label its experts on`);
  const manifest = JSON.parse(await readModelText(session.dir, 'moe.json', 'manifest')) as { profileCorpus: { labels?: string } };
  const file = manifest.profileCorpus.labels ?? SHIPPED_LABELS_FILE;
  const dir = resolve(session.dir);
  const path = resolve(dir, file);
  if (!isInside(dir, path)) throw new Error(`${file} (moe.json /profileCorpus/labels): outside the model directory`);
  await writeFileAtomic(path, shippedLabelsText(labels), 0o644);
  if (manifest.profileCorpus.labels !== file) {
    manifest.profileCorpus.labels = file;
    await writeFileAtomic(resolve(dir, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`, 0o644);
  }
  return { file, labels };
}
