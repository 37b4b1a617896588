// Reading files of a model directory without trusting it: a moe.json names other files (tokenizer, graph, profile
// corpus), and a directory may come from anywhere (a downloaded model, a workspace setting). The rules — realpath
// inside the directory, a regular file opened non-blocking, a size cap per kind — live in confinedFiles.ts, shared
// with the importer; this module gives them the server's error type (ModelLoadError naming the file, never its content).
import { realpathSync } from 'node:fs';
import { ModelLoadError } from './errors';
import { FILE_CAPS as CAPS, isInside, openConfined, readCappedPath, readConfinedText, type Reader } from './confinedFiles';

export { isInside };

/** What a file of a model directory is for, and so how large it may be. */
export type ModelFileKind = 'manifest' | 'tokenizer' | 'graph' | 'graphData' | 'corpus' | 'labels';

export const FILE_CAPS: Record<ModelFileKind, number> = CAPS;

const modelReader: Reader = { error: (message, file, field) => new ModelLoadError(message, file, field), folder: 'model directory' };

/**
 * The real path of `name` inside the model directory `dir`, checked: inside the directory after following links,
 * a regular file (not a FIFO, device or folder), at most the cap for its kind. `field` is the moe.json field that
 * named it, for the error. Throws ModelLoadError naming `name`.
 */
export async function confinedFile(dir: string, name: string, kind: ModelFileKind, field?: string): Promise<{ path: string; size: number }> {
  const f = await openConfined(dir, name, kind, modelReader, field);
  await f.handle.close();
  return { path: f.path, size: f.size };
}

/** Synchronous isInside check for a path that must already exist (for callers outside async code). */
export function resolvesInside(dir: string, path: string): boolean {
  try {
    return isInside(realpathSync(dir), realpathSync(path));
  } catch {
    return false;
  }
}

/**
 * Reads a regular file of at most `cap` bytes as UTF-8, refusing anything else before reading it (a FIFO would block
 * the read forever, /dev/zero would never end). Reads at most cap + 1 bytes even if the file grows meanwhile.
 * Errors say what is wrong with `label`, never what it contains.
 */
export async function readCappedText(path: string, cap: number, label = path): Promise<string> {
  return readCappedPath(path, cap, label, (message, file) => new Error(`${file}: ${message}`));
}

/** A confined model file's text (moe.json, tokenizer.json, corpus files, shipped labels). */
export async function readModelText(dir: string, name: string, kind: ModelFileKind, field?: string): Promise<string> {
  return readConfinedText(dir, name, kind, modelReader, field);
}
