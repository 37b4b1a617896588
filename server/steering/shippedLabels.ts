// The expert labels a model directory ships (moe.json profileCorpus.labels; the embedded model's expert-labels.json).
// Labels derive only from the model and its profile corpus, never from a user's text, so the model can carry them:
// a first start then skips the profiling pass, five documents' worth of model windows on the embedded model whose
// buffers the allocator keeps (bench/results.md, server RSS). The file has the cache's shape and key (labelCache.ts),
// is read like every file of a model directory (modelFiles.ts: realpath inside it, a regular file, under the labels
// cap) and checked like the cache: another key (a changed model, corpus or label format), another shape or anything
// malformed is ignored, and the labels come from the cache or the pass as before. writeShippedLabels.ts writes it.
import type { ModelBackend } from '../model/backend';
import { readModelText } from '../model/modelFiles';
import { parseLabels, type CachedLabels } from './labelCache';

/** Where the labels go when a model directory has no `profileCorpus.labels` yet (not in profile/: every file there is corpus text). */
export const SHIPPED_LABELS_FILE = 'expert-labels.json';

/** The shipped file's text: one label a line, so a change of the labels reads as a diff. */
export const shippedLabelsText = (labels: CachedLabels): string => `${JSON.stringify(labels, null, 1)}\n`;

/**
 * The labels the model directory ships for `key`, or undefined when it names none or its file does not fit (missing,
 * outside the directory, not a regular file, too large, malformed, another key or shape).
 */
export async function readShippedLabels(session: Pick<ModelBackend, 'dir' | 'manifest' | 'info'>, key: string, domains: readonly string[]): Promise<CachedLabels | undefined> {
  const file = session.manifest.profileCorpus?.labels;
  if (!file || !session.dir) return undefined;
  try {
    return parseLabels(await readModelText(session.dir, file, 'labels', '/profileCorpus/labels'), key, session.info, domains);
  } catch {
    return undefined; // an optimisation only: whatever is wrong with the file, the labels are computed as before
  }
}
