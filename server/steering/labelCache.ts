// The expert-label cache. Labels cost a profiling pass over the model's corpus, so they are kept between sessions —
// but only in a folder the client chose (the extension's global storage, passed as initializationOptions.cacheDir):
// never in the shared temp folder, where anyone on the machine could plant a file or a symlink. Without a folder
// (CLI, a bare LSP client) nothing is written. The key covers everything the labels derive from; the file is written
// under an unpredictable name with O_EXCL and renamed into place; what is read back is checked shape by shape, and
// anything that does not fit is ignored (the labels are computed again).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Bump when the profile or label rules change, so old caches are not reused. */
export const LABELS_FORMAT = 7; // 7: domain display names, shorter class phrases, two examples

/** A label longer than this is not one this code wrote. */
const MAX_LABEL_LENGTH = 300;

export interface CachedLabels {
  format: number;
  key: string;
  domains: string[];
  labels: string[][];
}

/** sha256 over the label format, the model's sha256 and every profile corpus file (domain name and content). */
export function labelCacheKey(modelId: string, corpus: readonly { domain: string; text: string }[]): string {
  const h = createHash('sha256').update(`moe-lens-labels/${LABELS_FORMAT}\0${modelId}\0`);
  for (const c of corpus) h.update(`${c.domain.length}:${c.domain}\0${Buffer.byteLength(c.text)}:`).update(c.text).update('\0');
  return h.digest('hex');
}

export const labelCacheFile = (cacheDir: string, key: string): string => join(cacheDir, `expert-labels-${key}.json`);

/** Whether `data` is a label set this code would have written for `key` and a model of this shape. */
export function validCachedLabels(data: unknown, key: string, shape: { layers: number; experts: number }, domains: readonly string[]): data is CachedLabels {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Partial<CachedLabels>;
  if (d.format !== LABELS_FORMAT || d.key !== key) return false;
  if (!Array.isArray(d.domains) || d.domains.length !== domains.length || !d.domains.every((x, i) => x === domains[i])) return false;
  if (!Array.isArray(d.labels) || d.labels.length !== shape.layers) return false;
  return d.labels.every(
    (row) => Array.isArray(row) && row.length === shape.experts && row.every((x) => typeof x === 'string' && x.length > 0 && x.length <= MAX_LABEL_LENGTH),
  );
}

/** The most bytes a labels file for a model of this shape can have (labels are ~40 bytes each; this allows 300). */
export const maxLabelsBytes = (shape: { layers: number; experts: number }): number => shape.layers * shape.experts * (MAX_LABEL_LENGTH + 8) + 4096;

/**
 * A labels file's text (the cache's or the one a model directory ships, shippedLabels.ts) as labels for `key`, or
 * undefined when it does not fit: too large, not JSON, another key, format or shape.
 */
export function parseLabels(text: string, key: string, shape: { layers: number; experts: number }, domains: readonly string[]): CachedLabels | undefined {
  if (Buffer.byteLength(text) > maxLabelsBytes(shape)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  return validCachedLabels(data, key, shape, domains) ? data : undefined;
}

/** The cached labels for `key`, or undefined when there is no valid file (missing, unreadable, malformed, too large). */
export async function readCachedLabels(cacheDir: string, key: string, shape: { layers: number; experts: number }, domains: readonly string[]): Promise<CachedLabels | undefined> {
  try {
    const fh = await open(labelCacheFile(cacheDir, key), 'r');
    let text: string;
    try {
      const st = await fh.stat();
      // a regular file of plausible size, checked before it is read
      if (!st.isFile() || st.size > maxLabelsBytes(shape)) return undefined;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    return parseLabels(text, key, shape, domains);
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to `file` atomically without following anything planted: a new file under a random name, created
 * with O_EXCL ('wx': fails if the name exists, symlink or not), then renamed over `file` (rename replaces a symlink
 * at the destination rather than writing through it). Readers never see half a file. `mode`: 0600 for a cache in the
 * client's storage; a file shipped with a model is readable by all (0644).
 */
export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${randomBytes(12).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, file).catch(async (e) => {
    await unlink(tmp).catch(() => undefined);
    throw e;
  });
}

export async function writeCachedLabels(cacheDir: string, labels: CachedLabels): Promise<void> {
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(labelCacheFile(cacheDir, labels.key), JSON.stringify(labels));
}

