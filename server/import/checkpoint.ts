// A Hugging Face checkpoint's weights: one model.safetensors, or shards listed by model.safetensors.index.json
// ({ "weight_map": { tensor: shard file } }). Tensors are looked up by name and read one at a time.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError } from './errors';
import { SafetensorsFile, type TensorInfo } from './safetensors';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export class Checkpoint {
  private readonly where = new Map<string, SafetensorsFile>();

  private constructor(readonly dir: string, readonly files: SafetensorsFile[]) {
    for (const f of files) for (const name of f.tensors.keys()) this.where.set(name, f);
  }

  static open(dir: string): Checkpoint {
    const files: SafetensorsFile[] = [];
    try {
      if (existsSync(join(dir, INDEX_FILE))) {
        let index: { weight_map?: unknown };
        try {
          index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as { weight_map?: unknown };
        } catch (e) {
          throw new ImportError(`not valid JSON (${(e as Error).message})`, INDEX_FILE);
        }
        const map = index.weight_map;
        if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new ImportError('has no "weight_map" object', INDEX_FILE, 'weight_map');
        const shards = [...new Set(Object.values(map as Record<string, unknown>))];
        for (const s of shards) {
          if (typeof s !== 'string' || s.includes('/') || s.includes('\\')) throw new ImportError(`shard name ${JSON.stringify(s)} is not a file name`, INDEX_FILE, 'weight_map');
          files.push(SafetensorsFile.open(join(dir, s)));
        }
        const cp = new Checkpoint(dir, files);
        for (const [tensor, shard] of Object.entries(map as Record<string, string>)) {
          if (cp.where.get(tensor)?.name !== shard) throw new ImportError(`the index puts tensor "${tensor}" in ${shard}, which does not hold it`, INDEX_FILE, `weight_map.${tensor}`);
        }
        return cp;
      }
      if (!existsSync(join(dir, SINGLE_FILE))) throw new ImportError(`no ${SINGLE_FILE} and no ${INDEX_FILE} in the folder`, dir);
      files.push(SafetensorsFile.open(join(dir, SINGLE_FILE)));
      return new Checkpoint(dir, files);
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo | undefined {
    return this.where.get(name)?.tensors.get(name);
  }

  /** Reads a tensor as float32 and checks its shape; a missing tensor or a wrong shape names the tensor. */
  read(name: string, shape: readonly number[]): Float32Array {
    const f = this.where.get(name);
    if (!f) throw new ImportError('tensor is missing from the checkpoint', this.files.length > 1 ? INDEX_FILE : SINGLE_FILE, name);
    const info = f.tensors.get(name)!;
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new ImportError(`tensor has shape [${info.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`, f.name, name);
    }
    return f.read(name);
  }

  /** Total bytes of tensor data, for progress. */
  get totalBytes(): number {
    let n = 0;
    for (const f of this.files) for (const t of f.tensors.values()) n += t.length;
    return n;
  }

  /** sha256 over the weight files, streamed: sha256 of "<file> <sha256>\n" lines in file-name order. */
  async weightsSha256(signal?: AbortSignal): Promise<string> {
    const lines: string[] = [];
    for (const f of [...this.files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(f.path, { highWaterMark: 1 << 22 })) {
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
