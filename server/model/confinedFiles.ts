// One reader for files that come from somewhere we do not trust: the files of a model directory the server loads
// (moe.json names others) and every input file of a Hugging Face checkpoint the importer converts. A name must resolve
// (realpath, links followed) to a regular file inside the folder, or — where the Hugging Face cache puts links — to a
// blob of the same cached repository; it is opened non-blocking and checked with fstat on the open descriptor, so a
// FIFO, a device or a folder swapped in after the check is refused instead of blocking or never ending; each kind of
// file has a size cap. Errors name the file and say what is wrong with it, never what it contains.
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** What a file is for, and so how large it may be. */
export type ConfinedKind =
  | 'manifest' | 'tokenizer' | 'graph' | 'graphData' | 'corpus' | 'labels' // a model directory (server)
  | 'config' | 'tokenizerConfig' | 'index' | 'weights'; // a Hugging Face checkpoint (importer)

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * Caps per kind, in bytes. moe.json is a page of JSON; Qwen3's tokenizer.json is 11 MB, so 64 MiB leaves room for any
 * byte-level BPE; ONNX protobufs are limited to 2 GiB by the format (larger weights go to external data, capped at
 * 1 TiB); a profile corpus file is profiled for its first 4096 tokens, so 4 MiB is generous; a shipped labels file
 * holds a label of at most 300 characters per expert (DeepSeek-V3's 61 × 256: under 5 MB; 16 MiB). A checkpoint's
 * config.json is a few KB (4 MiB); tokenizer_config.json carries a chat template and added tokens (Qwen's: 10 KB;
 * 16 MiB); the shard index lists every tensor (DeepSeek-V3's 91k tensors: 9 MB; 64 MiB); a safetensors shard is
 * usually 2–10 GB (1 TiB).
 */
export const FILE_CAPS: Record<ConfinedKind, number> = {
  manifest: 1 * MiB,
  tokenizer: 64 * MiB,
  graph: 2 * GiB,
  graphData: 1024 * GiB,
  corpus: 4 * MiB,
  labels: 16 * MiB,
  config: 4 * MiB,
  tokenizerConfig: 16 * MiB,
  index: 64 * MiB,
  weights: 1024 * GiB,
};

export const sizeText = (n: number) => (n < MiB ? `${Math.ceil(n / KiB)} KiB` : n < GiB ? `${Math.round(n / MiB)} MiB` : `${Math.round(n / GiB)} GiB`);

/** Builds the caller's error type (ModelLoadError for the server, ImportError for the importer). */
export type ErrorFactory = (message: string, file: string, field?: string) => Error;

/** Who reads: the error type, and what the folder is called in messages ("model directory", "checkpoint folder"). */
export interface Reader {
  error: ErrorFactory;
  folder: string;
}

/** `child` (already resolved) lies strictly inside `parent` (already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The blobs folder a Hugging Face cache snapshot may link into, or undefined when `root` is not a snapshot. The hub
 * cache (huggingface_hub's file_download.py) keeps `models--ORG--NAME/{blobs/HASH, snapshots/REV/FILE → ../../blobs/HASH,
 * refs/main}`: a snapshot's files are links into the blobs of the same repository, and nowhere else.
 */
export function hubBlobsFor(root: string): string | undefined {
  const snapshots = dirname(root);
  const repo = dirname(snapshots);
  if (basename(snapshots) !== 'snapshots' || !/^(models|datasets|spaces)--/.test(basename(repo))) return undefined;
  return join(repo, 'blobs');
}

/** Whether `path` (real) is a file `root` (real) may use: inside it, or a blob of its hub cache repository. */
export function mayUse(root: string, path: string): boolean {
  if (isInside(root, path)) return true;
  const blobs = hubBlobsFor(root);
  return blobs !== undefined && isInside(blobs, path) && dirname(path) === blobs;
}

export interface ConfinedFile {
  /** the real path */
  path: string;
  size: number;
  /** open, non-blocking, read-only: close it */
  handle: FileHandle;
}

const reason = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' ? 'file is missing' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${typeof code === 'string' ? code : 'error'})`;
};

/**
 * Opens `name` inside `dir` for reading, checked: after following links it is inside the folder (or a blob of its hub
 * cache repository), it is a regular file (fstat on the open descriptor; opened O_NONBLOCK, so a FIFO never blocks
 * the open), and at most the cap for its kind. `field` names what pointed at it (a moe.json field, an index entry).
 */
export async function openConfined(dir: string, name: string, kind: ConfinedKind, reader: Reader, field?: string): Promise<ConfinedFile> {
  const err = reader.error;
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    throw err(`${reader.folder} does not exist`, dir);
  }
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw err('not a file name', String(name).slice(0, 80), field);
  let path: string;
  try {
    path = await realpath(resolve(root, name));
  } catch (e) {
    throw err(reason(e), name, field);
  }
  if (!mayUse(root, path)) throw err(`is outside the ${reader.folder} (every file it uses must be inside its folder; links only where the Hugging Face cache puts them)`, name, field);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw err(reason(e), name, field);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw err('is a folder, not a file', name, field);
    if (!st.isFile()) throw err('is not a regular file', name, field);
    if (st.size > FILE_CAPS[kind]) throw err(`is ${sizeText(st.size)}, more than the ${sizeText(FILE_CAPS[kind])} a ${kind} file may have`, name, field);
    return { path, size: st.size, handle };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads an open file to its end, at most `cap` bytes (a file that grows past the cap meanwhile is refused). */
export async function readAllCapped(handle: FileHandle, size: number, cap: number, label: string, err: ErrorFactory, field?: string): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(size, cap) + 1);
  let n = 0;
  for (;;) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buf, n, buf.length - n, n));
    } catch (e) {
      throw err(reason(e), label, field);
    }
    if (bytesRead === 0) break;
    n += bytesRead;
    if (n >= buf.length) throw err(`grew past the ${sizeText(cap)} allowed while being read`, label, field);
  }
  return buf.subarray(0, n);
}

/** A confined file's text (UTF-8). */
export async function readConfinedText(dir: string, name: string, kind: ConfinedKind, reader: Reader, field?: string): Promise<string> {
  const f = await openConfined(dir, name, kind, reader, field);
  try {
    return (await readAllCapped(f.handle, f.size, FILE_CAPS[kind], name, reader.error, field)).toString('utf8');
  } finally {
    await f.handle.close();
  }
}

/**
 * Reads a file by path (no folder to confine it to: a tokenizer a test names directly), refusing anything but a
 * regular file of at most `cap` bytes before reading it.
 */
export async function readCappedPath(path: string, cap: number, label: string, err: ErrorFactory): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw err(reason(e), label);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw err('is a folder, not a file', label);
    if (!st.isFile()) throw err('is not a regular file', label);
    if (st.size > cap) throw err(`is ${sizeText(st.size)}, more than the ${sizeText(cap)} allowed`, label);
    return (await readAllCapped(handle, st.size, cap, label, err)).toString('utf8');
  } finally {
    await handle.close();
  }
}
