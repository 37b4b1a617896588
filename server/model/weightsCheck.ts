// Checking a model's weights file without re-reading it at every load. The importer hashes model.onnx.data once
// (provenance.dataSha256) and records provenance.dataCheck: its size, its mtime and the sha256 of CHUNKS sampled
// chunks of CHUNK_BYTES at fixed offsets spread over the file. At load (checkWeightsAtLoad):
// - a size that differs is refused at once (truncated, appended, a different file);
// - an mtime that differs means the file was written (or copied without -p) since the import: it is hashed in full
//   once, as before, and refused if the bytes differ; an equal hash loads;
// - otherwise the sampled chunks are hashed (4 MiB read, whatever the file's size) and must match.
// What this protects: any ordinary rewrite (it moves the mtime), truncation, substitution, and corruption that reaches
// a sampled chunk. What it does not: a change outside the samples by someone who also resets the mtime (deliberate
// tampering, or bit rot that leaves the mtime alone); `moe-lens verify DIR` and `MoE Lens: Verify Model…` hash
// every byte for that. A directory without dataCheck (imported before it existed) is hashed in full at every load.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ModelLoadError } from './errors';

export interface DataCheck {
  bytes: number;
  mtimeMs: number;
  chunkBytes: number;
  chunks: number;
  sampleSha256: string;
}

export const CHUNK_BYTES = 64 * 1024;
export const CHUNKS = 64;

/** Start offsets of the sampled chunks: the first and the last chunk and evenly spaced ones between (pure). */
export function sampleOffsets(size: number, chunks = CHUNKS, chunkBytes = CHUNK_BYTES): number[] {
  if (size <= chunks * chunkBytes) return Array.from({ length: Math.ceil(size / chunkBytes) }, (_, i) => i * chunkBytes);
  const last = size - chunkBytes;
  return Array.from({ length: chunks }, (_, i) => Math.floor((i * last) / (chunks - 1)));
}

export async function sampleSha256(path: string, size: number, chunks = CHUNKS, chunkBytes = CHUNK_BYTES): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(chunkBytes);
    for (const at of sampleOffsets(size, chunks, chunkBytes)) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(chunkBytes, size - at), at);
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What the importer records for a finished weights file. */
export async function dataCheckOf(path: string): Promise<DataCheck> {
  const st = await stat(path);
  return { bytes: st.size, mtimeMs: st.mtimeMs, chunkBytes: CHUNK_BYTES, chunks: CHUNKS, sampleSha256: await sampleSha256(path, st.size) };
}

export interface WeightsVerdict {
  /** the sha256 the file is known to have (declared and checked) */
  sha256: string;
  how: 'sampled' | 'full';
}

const mismatch = (got: string, declared: string, file: string) =>
  new ModelLoadError(`its sha256 is ${got} but moe.json provenance.dataSha256 says ${declared}: the weights are not the ones the manifest describes`, file, '/provenance/dataSha256');

/** The load-time check described above; throws ModelLoadError naming `file` and the provenance field. */
export async function checkWeightsAtLoad(path: string, file: string, declared: string | undefined, check: DataCheck | undefined): Promise<WeightsVerdict> {
  if (!declared || !check) {
    const sha = await sha256File(path);
    if (declared && sha !== declared) throw mismatch(sha, declared, file);
    return { sha256: sha, how: 'full' };
  }
  const st = await stat(path);
  if (st.size !== check.bytes) throw new ModelLoadError(`is ${st.size} bytes but moe.json provenance.dataCheck.bytes says ${check.bytes}: the weights are not the ones the manifest describes`, file, '/provenance/dataCheck/bytes');
  // at millisecond resolution: file systems and copy tools keep mtimes to different sub-millisecond precisions
  if (Math.abs(st.mtimeMs - check.mtimeMs) >= 1) {
    const sha = await sha256File(path);
    if (sha !== declared) throw mismatch(sha, declared, file);
    return { sha256: sha, how: 'full' };
  }
  const sampled = await sampleSha256(path, st.size, check.chunks, check.chunkBytes);
  if (sampled !== check.sampleSha256) throw new ModelLoadError(`sampled chunks hash to ${sampled} but moe.json provenance.dataCheck.sampleSha256 says ${check.sampleSha256}: the weights were changed since the import`, file, '/provenance/dataCheck/sampleSha256');
  return { sha256: declared, how: 'sampled' };
}

/** `moe-lens verify`: every byte of the weights against provenance.dataSha256. */
export async function verifyWeightsFully(path: string, file: string, declared: string | undefined): Promise<string> {
  const sha = await sha256File(path);
  if (!declared) throw new ModelLoadError('moe.json has no provenance.dataSha256 to verify the weights against', file, '/provenance/dataSha256');
  if (sha !== declared) throw mismatch(sha, declared, file);
  return sha;
}
