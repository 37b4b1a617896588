// A Hugging Face checkpoint's weights: one model.safetensors, or shards listed by model.safetensors.index.json
// ({ "weight_map": { tensor: shard file } }). Tensors are looked up by name and read one at a time. Every file is
// opened through the confined reader (inputFiles.ts); headers are limited by the model's sizes (bounds.ts); each
// tensor is checked for non-finite values as it is read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ConfinedFile } from '../model/confinedFiles';
import { ImportError, nameText } from './errors';
import { hasEntry, openInput, readInputText } from './inputFiles';
import { excerpt, parseJsonText } from './jsonText';
import { SafetensorsFile, type HeaderLimits, type TensorInfo } from './safetensors';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export class Checkpoint {
  private readonly where = new Map<string, SafetensorsFile>();

  private constructor(readonly dir: string, readonly files: SafetensorsFile[]) {
    for (const f of files) {
      for (const name of f.tensors.keys()) {
        const other = this.where.get(name);
        if (other) throw new ImportError(`tensor is in both ${nameText(other.name)} and ${nameText(f.name)}`, f.name, name);
        this.where.set(name, f);
      }
    }
  }

  static async open(dir: string, limits: HeaderLimits): Promise<Checkpoint> {
    const files: SafetensorsFile[] = [];
    const opened: { name: string; file: ConfinedFile }[] = [];
    // Every shard is opened (confined, checked a regular file) and its header length checked before any header is
    // parsed, so a truncated file says so first and the files' sizes are checked against the config next
    // (limits.checkFileBytes).
    const open = async (name: string, field?: string) => void opened.push({ name, file: await openInput(dir, name, 'weights', field) });
    const readHeaders = () => {
      for (const { name, file } of opened) SafetensorsFile.headerLength(file.handle.fd, name, limits);
      limits.checkFileBytes?.(opened.reduce((n, o) => n + o.file.size, 0));
      // each header may list only what the shards before it left of the model's tensor budget
      let left = limits.maxTensors;
      for (const { name, file } of opened) {
        const f = SafetensorsFile.fromDescriptor(file.path, file.handle.fd, () => void file.handle.close().catch(() => undefined), { ...limits, maxTensors: left }, name);
        files.push(f);
        left -= f.tensors.size;
      }
    };
    try {
      if (await hasEntry(dir, INDEX_FILE)) {
        // an index names one shard per tensor: more values than tensors allowed is refused before the parse
        const index = parseJsonText(await readInputText(dir, INDEX_FILE, 'index'), INDEX_FILE, undefined, (sc) => {
          if (sc.commas > limits.maxTensors + 4096) throw new ImportError(`lists about ${sc.commas} values, more than the ${limits.maxTensors} tensors this model can use`, INDEX_FILE, 'weight_map');
        }).value as { weight_map?: unknown } | null;
        const map = index?.weight_map;
        if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new ImportError('has no "weight_map" object', INDEX_FILE, 'weight_map');
        const entries = Object.entries(map as Record<string, unknown>);
        if (entries.length > limits.maxTensors) throw new ImportError(`lists ${entries.length} tensors, more than the ${limits.maxTensors} this model can use`, INDEX_FILE, 'weight_map');
        const shards = new Set<string>();
        for (const [tensor, s] of entries) {
          if (typeof s !== 'string' || s === '' || s.includes('/') || s.includes('\\')) throw new ImportError(`shard name ${excerpt(s)} is not a file name`, INDEX_FILE, `weight_map.${tensor}`);
          shards.add(s);
        }
        for (const s of shards) await open(s, 'weight_map');
        readHeaders();
        const cp = new Checkpoint(dir, files);
        for (const [tensor, s] of entries) {
          const holder = cp.where.get(tensor);
          if (holder === undefined) throw new ImportError(`the index puts tensor ${excerpt(tensor, 80)} in ${nameText(String(s))}, which does not hold it (no shard does)`, INDEX_FILE, `weight_map.${tensor}`);
          if (holder.name !== s) throw new ImportError(`the index puts tensor ${excerpt(tensor, 80)} in ${nameText(String(s))}, but it is in ${nameText(holder.name)}`, INDEX_FILE, `weight_map.${tensor}`);
        }
        return cp;
      }
      if (!(await hasEntry(dir, SINGLE_FILE))) throw new ImportError(`no ${SINGLE_FILE} and no ${INDEX_FILE} in the folder`, dir);
      await open(SINGLE_FILE);
      readHeaders();
      return new Checkpoint(dir, files);
    } catch (e) {
      for (const f of files) f.close();
      await Promise.all(opened.map((o) => o.file.handle.close().catch(() => undefined)));
      throw e;
    }
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo | undefined {
    return this.where.get(name)?.tensors.get(name);
  }

  /**
   * Reads a tensor as float32 and checks its shape and its values: a missing tensor, a wrong shape or a NaN / ±Inf
   * (which would make every output NaN, or route by garbage) names the tensor.
   */
  read(name: string, shape: readonly number[]): Float32Array {
    const f = this.where.get(name);
    if (!f) throw new ImportError('tensor is missing from the checkpoint', this.files.length > 1 ? INDEX_FILE : SINGLE_FILE, name);
    const info = f.tensors.get(name)!;
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new ImportError(`tensor has shape [${info.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`, f.name, name);
    }
    if (info.dtype === 'U8') throw new ImportError('unsupported dtype "U8" for a weight (supported: F32, F16, BF16; U8 only as MXFP4 blocks and scales)', f.name, `${name}.dtype`);
    const values = f.read(name);
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new ImportError(`tensor has a non-finite value (${values[bad]}) at element ${bad}: the model would compute NaN`, f.name, name);
    return values;
  }

  /** Reads a U8 tensor (MXFP4 blocks or scales) and checks its shape and dtype. */
  readBytes(name: string, shape: readonly number[]): Uint8Array {
    const f = this.where.get(name);
    if (!f) throw new ImportError('tensor is missing from the checkpoint', this.files.length > 1 ? INDEX_FILE : SINGLE_FILE, name);
    const info = f.tensors.get(name)!;
    if (info.dtype !== 'U8') throw new ImportError(`MXFP4 blocks and scales must be U8, got ${info.dtype}`, f.name, `${name}.dtype`);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new ImportError(`tensor has shape [${info.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`, f.name, name);
    }
    return f.readRaw(name);
  }

  /** The file holding a tensor (for error messages). */
  fileOf(name: string): string {
    return this.where.get(name)?.name ?? SINGLE_FILE;
  }

  /** Total bytes of tensor data, for progress. */
  get totalBytes(): number {
    let n = 0;
    for (const f of this.files) for (const t of f.tensors.values()) n += t.length;
    return n;
  }

  get tensorCount(): number {
    return this.files.reduce((n, f) => n + f.tensors.size, 0);
  }

  /** sha256 over the weight files, streamed: sha256 of "<file> <sha256>\n" lines in file-name order. */
  async weightsSha256(signal?: AbortSignal): Promise<string> {
    const lines: string[] = [];
    for (const f of [...this.files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const h = createHash('sha256');
      // through the descriptor the confined reader checked, never the path again (it could have been swapped meanwhile)
      for await (const chunk of createReadStream(f.path, { fd: f.descriptor, autoClose: false, start: 0, highWaterMark: 1 << 22 })) {
        if (signal?.aborted) break;
        h.update(chunk as Buffer);
      }
      lines.push(`${f.name} ${h.digest('hex')}\n`);
    }
    return createHash('sha256').update(lines.join('')).digest('hex');
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** Index of the first NaN or ±Inf, or −1 (x − x is 0 for every finite x and NaN otherwise: one pass, no branches per kind). */
export function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (v[i] - v[i] !== 0) return i;
  return -1;
}
