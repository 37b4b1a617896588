// Reading files of a model directory without trusting it: a moe.json names other files (tokenizer, graph, profile
// corpus), and a directory may come from anywhere (a downloaded model, a workspace setting). Every path must resolve
// (symlinks followed, realpath) to a regular file inside the directory, and each kind of file has a size cap, so a
// name like "../../etc/passwd" or a link to /dev/zero fails at once with the file's name — never its content.
import { realpathSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ModelLoadError } from './errors';

/** What a file is for, and so how large it may be. */
export type ModelFileKind = 'manifest' | 'tokenizer' | 'graph' | 'graphData' | 'corpus';

/**
 * Caps per kind, in bytes. moe.json is a page of JSON; Qwen3's tokenizer.json is 11 MB, so 64 MiB leaves room for any
 * byte-level BPE; ONNX protobufs are limited to 2 GiB by the format (larger weights go to external data, capped at
 * 64 GiB); a profile corpus file is profiled for its first 4096 tokens, so 4 MiB is generous.
 */
export const FILE_CAPS: Record<ModelFileKind, number> = {
  manifest: 1 * 2 ** 20,
  tokenizer: 64 * 2 ** 20,
  graph: 2 * 2 ** 30,
  graphData: 64 * 2 ** 30,
  corpus: 4 * 2 ** 20,
};

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

/** `child` (already resolved) lies strictly inside `parent` (already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The real path of `name` inside the model directory `dir`, checked: inside the directory after following links,
 * a regular file (not a FIFO, device or folder), at most the cap for its kind. `field` is the moe.json field that
 * named it, for the error. Throws ModelLoadError naming `name`.
 */
export async function confinedFile(dir: string, name: string, kind: ModelFileKind, field?: string): Promise<{ path: string; size: number }> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    throw new ModelLoadError('model directory does not exist', dir);
  }
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw new ModelLoadError('not a file name', String(name), field);
  let path: string;
  try {
    path = await realpath(resolve(root, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLoadError(code === 'ENOENT' ? 'file is missing' : `cannot be read (${code ?? 'error'})`, name, field);
  }
  if (!isInside(root, path)) throw new ModelLoadError('is outside the model directory (every file a model uses must be inside its folder)', name, field);
  const st = await stat(path);
  if (!st.isFile()) throw new ModelLoadError('is not a regular file', name, field);
  if (st.size > FILE_CAPS[kind]) throw new ModelLoadError(`is ${mib(st.size)}, more than the ${mib(FILE_CAPS[kind])} a ${kind} file may have`, name, field);
  return { path, size: st.size };
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
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`${label}: ${e.code === 'ENOENT' ? 'file is missing' : `cannot be read (${e.code ?? 'error'})`}`);
  });
  if (!st.isFile()) throw new Error(`${label}: is not a regular file`);
  if (st.size > cap) throw new Error(`${label}: is ${mib(st.size)}, more than the ${mib(cap)} allowed`);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(st.size, cap) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n >= buf.length) throw new Error(`${label}: grew past the ${mib(cap)} allowed while being read`);
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A confined model file's text (moe.json, tokenizer.json, corpus files). */
export async function readModelText(dir: string, name: string, kind: ModelFileKind, field?: string): Promise<string> {
  const { path } = await confinedFile(dir, name, kind, field);
  try {
    return await readCappedText(path, FILE_CAPS[kind], name);
  } catch (e) {
    throw new ModelLoadError((e as Error).message.replace(`${name}: `, ''), name, field);
  }
}
