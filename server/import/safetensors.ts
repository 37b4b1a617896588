// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }), then the tensor bytes, offsets
// relative to the end of the header. Tensors are read one at a time from an open file handle, so importing a
// checkpoint never holds more than one tensor of it in memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { ImportError } from './errors';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const ELEMENT_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** A header larger than this is not a header (the format's own reference implementation caps it at 100 MB). */
const MAX_HEADER = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** absolute byte offset of the data in the file, and its length */
  offset: number;
  length: number;
}

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  private fd: number | undefined;
  readonly name: string;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
    this.name = basename(path);
  }

  /** Opens and validates the header; every problem is an ImportError naming the file and the header field. */
  static open(path: string): SafetensorsFile {
    const name = basename(path);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImportError(code === 'ENOENT' ? 'file is missing' : `cannot be read (${code ?? String(e)})`, name);
    }
    const file = new SafetensorsFile(path, fd);
    try {
      file.readHeader();
    } catch (e) {
      file.close();
      throw e;
    }
    return file;
  }

  private readHeader(): void {
    const size = fstatSync(this.fd!).size;
    if (size < 8) throw new ImportError(`truncated safetensors header: the file has ${size} bytes, fewer than the 8-byte header length`, this.name, 'header');
    const lenBuf = Buffer.alloc(8);
    readSync(this.fd!, lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > MAX_HEADER) throw new ImportError(`safetensors header length ${n} is not plausible (over ${MAX_HEADER} bytes)`, this.name, 'header');
    if (8 + n > size) throw new ImportError(`truncated safetensors header: it says ${n} bytes of JSON but the file has only ${size - 8} after the length`, this.name, 'header');
    const json = Buffer.alloc(n);
    readSync(this.fd!, json, 0, n, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ImportError(`safetensors header is not valid JSON (${(e as Error).message})`, this.name, 'header');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new ImportError('safetensors header is not a JSON object', this.name, 'header');
    const dataStart = 8 + n;
    const dataBytes = size - dataStart;
    for (const [tensor, v] of Object.entries(header)) {
      if (tensor === '__metadata__') continue;
      const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof info !== 'object' || info === null) throw new ImportError('header entry is not an object', this.name, tensor);
      const dtype = info.dtype;
      if (typeof dtype !== 'string' || !(dtype in ELEMENT_BYTES)) {
        throw new ImportError(`unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ELEMENT_BYTES).join(', ')})`, this.name, `${tensor}.dtype`);
      }
      const shape = info.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ImportError('shape must be a list of non-negative integers', this.name, `${tensor}.shape`);
      const off = info.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
        throw new ImportError('data_offsets must be [begin, end] with 0 ≤ begin ≤ end', this.name, `${tensor}.data_offsets`);
      }
      const [b, e] = off as number[];
      if (e > dataBytes) throw new ImportError(`data_offsets [${b}, ${e}] run past the end of the file (${dataBytes} bytes of tensor data)`, this.name, `${tensor}.data_offsets`);
      const elements = (shape as number[]).reduce((a, d) => a * d, 1);
      const want = elements * ELEMENT_BYTES[dtype as SafetensorsDtype];
      if (e - b !== want) throw new ImportError(`data_offsets span ${e - b} bytes but ${dtype} [${(shape as number[]).join(', ')}] needs ${want}`, this.name, `${tensor}.data_offsets`);
      this.tensors.set(tensor, { name: tensor, dtype: dtype as SafetensorsDtype, shape: shape as number[], offset: dataStart + b, length: e - b });
    }
  }

  /** The tensor's values as float32 (BF16 and F16 widened exactly). */
  read(name: string): Float32Array {
    const info = this.tensors.get(name);
    if (!info) throw new ImportError('tensor is missing', this.name, name);
    if (this.fd === undefined) throw new Error(`${this.name} is closed`);
    const raw = Buffer.alloc(info.length);
    let done = 0;
    while (done < info.length) {
      const got = readSync(this.fd, raw, done, info.length - done, info.offset + done);
      if (got === 0) throw new ImportError('file ended inside the tensor data', this.name, name);
      done += got;
    }
    return toFloat32(raw, info.dtype);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Decodes little-endian F32 / F16 / BF16 bytes to float32. */
export function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.byteLength / ELEMENT_BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bf16 is the top half of a float32: widening is exact.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** float32 → IEEE half bits, round to nearest even (for --dtype fp16). */
export function floatToHalf(v: number): number {
  SCRATCH_F32[0] = v;
  return halfBits(SCRATCH_U32[0]);
}

/** A whole float32 array → half bits, without a temporary per value (a 64-expert layer is ~10^8 values). */
export function floatsToHalf(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = halfBits(bits[i]);
  return out;
}

const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
