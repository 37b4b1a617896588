// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }), then the tensor bytes, offsets
// relative to the end of the header. Tensors are read one at a time from an open file handle, so importing a
// checkpoint never holds more than one tensor of it in memory.
//
// The header is validated as the reference implementation (huggingface/safetensors, safetensors/src/tensor.rs,
// `Metadata::validate` and `read_metadata`) reads it: N at most MAX_HEADER_SIZE = 100_000_000 bytes (HeaderTooLarge)
// and 8 + N within the file (InvalidHeaderLength); the header is UTF-8 JSON (InvalidHeader, InvalidHeaderDeserialization);
// tensors sorted by their begin offset are contiguous — each begins where the previous ended, the first at 0
// (InvalidOffset) — so none overlap; each spans exactly elements × dtype size (TensorInvalidInfo, with the element
// count computed without overflow: ValidationOverflow); the last ends where the file ends (MetadataIncompleteBuffer).
// Names are unique (the header is a map; a name given twice is refused here rather than one entry silently dropped).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { ImportError } from './errors';
import { HEADER_VALUES_PER_TENSOR } from './bounds';
import { excerpt, parseJsonText } from './jsonText';

/** U8: only gpt-oss's MXFP4 blocks and scales (Checkpoint.readBytes); Checkpoint.read refuses it as a weight */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'U8';
const ELEMENT_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, U8: 1 };
/** The format's header size limit (MAX_HEADER_SIZE in the Rust crate). */
export const MAX_HEADER = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** absolute byte offset of the data in the file, and its length */
  offset: number;
  length: number;
}

/** What a header may hold, from the model's sizes (bounds.ts): its size in bytes and its number of tensors. */
export interface HeaderLimits {
  maxHeaderBytes: number;
  maxTensors: number;
  /** called with the weight files' total size once all are open, before any header is read (bounds.ts) */
  checkFileBytes?: (bytes: number) => void;
}

const FORMAT_LIMITS: HeaderLimits = { maxHeaderBytes: MAX_HEADER, maxTensors: Number.MAX_SAFE_INTEGER };

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  private fd: number | undefined;
  readonly name: string;

  /** `fd` is open for reading; `release` closes it (default: closeSync). */
  private constructor(readonly path: string, fd: number, private readonly release: (fd: number) => void, name = basename(path)) {
    this.fd = fd;
    this.name = name;
  }

  /** Opens a file by path (non-blocking, a regular file only) and validates the header. */
  static open(path: string, limits: HeaderLimits = FORMAT_LIMITS): SafetensorsFile {
    const name = basename(path);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImportError(code === 'ENOENT' ? 'file is missing' : `cannot be read (${code ?? 'error'})`, name);
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new ImportError('is not a regular file', name);
    }
    return SafetensorsFile.fromDescriptor(path, fd, (d) => closeSync(d), limits, name);
  }

  /** Wraps a descriptor already checked to be a regular file (confinedFiles.ts) and validates the header. */
  static fromDescriptor(path: string, fd: number, release: (fd: number) => void, limits: HeaderLimits, name = basename(path)): SafetensorsFile {
    const file = new SafetensorsFile(path, fd, release, name);
    try {
      file.readHeader(limits);
    } catch (e) {
      file.close();
      throw e;
    }
    return file;
  }

  /**
   * The header length of an open file, checked against the format, `limits` and the file's size: 8 bytes read, nothing
   * parsed (Checkpoint.open runs it on every shard first, so a truncated file says so before any other check).
   */
  static headerLength(fd: number, name: string, limits: HeaderLimits): { n: number; size: number } {
    const size = fstatSync(fd).size;
    if (size < 8) throw new ImportError(`truncated safetensors header: the file has ${size} bytes, fewer than the 8-byte header length`, name, 'header');
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > MAX_HEADER) throw new ImportError(`safetensors header length ${n} is over the format's limit of ${MAX_HEADER} bytes`, name, 'header');
    if (n > limits.maxHeaderBytes) throw new ImportError(`safetensors header length ${n} is more than the ${limits.maxHeaderBytes} bytes a header of this model's tensors needs`, name, 'header');
    if (8 + n > size) throw new ImportError(`truncated safetensors header: it says ${n} bytes of JSON but the file has only ${size - 8} after the length`, name, 'header');
    return { n, size };
  }

  private readHeader(limits: HeaderLimits): void {
    const { n, size } = SafetensorsFile.headerLength(this.fd!, this.name, limits);
    const json = Buffer.alloc(n);
    for (let done = 0; done < n; ) {
      const got = readSync(this.fd!, json, done, n - done, 8 + done);
      if (got === 0) throw new ImportError('file ended inside the header', this.name, 'header');
      done += got;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    } catch {
      throw new ImportError('safetensors header is not UTF-8', this.name, 'header');
    }
    // Counted in the scan, before JSON.parse builds anything: the entries, and the values they hold (bounds.ts).
    const { value, scan } = parseJsonText(text, this.name, 'header', (sc) => {
      if (sc.topKeys > limits.maxTensors + 1) throw new ImportError(`the header lists ${sc.topKeys} entries, more than the ${limits.maxTensors} tensors this model can use`, this.name, 'header');
      const maxValues = HEADER_VALUES_PER_TENSOR * (sc.topKeys + 1) + 4096;
      if (sc.commas > maxValues) throw new ImportError(`the header holds about ${sc.commas} JSON values, more than the ${maxValues} its ${sc.topKeys} entries can need`, this.name, 'header');
    });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ImportError('safetensors header is not a JSON object', this.name, 'header');
    if (scan.duplicate !== undefined) throw new ImportError(`tensor ${excerpt(scan.duplicate, 80)} is listed twice in the header`, this.name, 'header');
    const header = value as Record<string, unknown>;
    const dataStart = 8 + n;
    const dataBytes = size - dataStart;
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
    if (entries.length > limits.maxTensors) throw new ImportError(`the header lists ${entries.length} tensors, more than the ${limits.maxTensors} this model can use`, this.name, 'header');
    const spans: [number, number, string][] = [];
    for (const [tensor, v] of entries) {
      const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new ImportError('header entry is not an object', this.name, tensor);
      const dtype = info.dtype;
      if (typeof dtype !== 'string' || !(dtype in ELEMENT_BYTES)) {
        throw new ImportError(`unsupported dtype ${excerpt(dtype)} (supported: F32, F16, BF16; U8 only as MXFP4 blocks and scales)`, this.name, `${tensor}.dtype`);
      }
      const shape = info.shape;
      if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ImportError('shape must be a list of at most 8 non-negative integers', this.name, `${tensor}.shape`);
      const off = info.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
        throw new ImportError('data_offsets must be [begin, end] with 0 ≤ begin ≤ end', this.name, `${tensor}.data_offsets`);
      }
      const [b, e] = off as number[];
      if (e > dataBytes) throw new ImportError(`data_offsets [${b}, ${e}] run past the end of the file (${dataBytes} bytes of tensor data)`, this.name, `${tensor}.data_offsets`);
      let want = ELEMENT_BYTES[dtype as SafetensorsDtype];
      for (const d of shape as number[]) want *= d;
      if (!Number.isSafeInteger(want) || e - b !== want) throw new ImportError(`data_offsets span ${e - b} bytes but ${dtype} [${(shape as number[]).join(', ')}] needs ${want}`, this.name, `${tensor}.data_offsets`);
      spans.push([b, e, tensor]);
      this.tensors.set(tensor, { name: tensor, dtype: dtype as SafetensorsDtype, shape: shape as number[], offset: dataStart + b, length: e - b });
    }
    // Contiguous, in order, not overlapping, covering the data exactly (tensor.rs: InvalidOffset, MetadataIncompleteBuffer).
    spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let at = 0;
    for (const [b, e, tensor] of spans) {
      if (b !== at) throw new ImportError(b < at ? `data_offsets [${b}, ${e}] overlap the tensor before (which ends at ${at})` : `data_offsets [${b}, ${e}] leave a gap after byte ${at}`, this.name, `${tensor}.data_offsets`);
      at = e;
    }
    if (at !== dataBytes) throw new ImportError(`the tensors end at byte ${at} of the data but the file has ${dataBytes}`, this.name, 'header');
  }

/** The tensor's values as float32 (BF16 and F16 widened exactly). */
  read(name: string): Float32Array {
    return toFloat32(this.readRaw(name), this.tensors.get(name)!.dtype);
  }

  /** The tensor's bytes as stored. */
  readRaw(name: string): Buffer {
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
    return raw;
  }

  /** The open descriptor (read with explicit positions only; close() releases it). */
  get descriptor(): number {
    if (this.fd === undefined) throw new Error(`${this.name} is closed`);
    return this.fd;
  }

  close(): void {
    if (this.fd !== undefined) this.release(this.fd);
    this.fd = undefined;
  }
}

/** Decodes little-endian F32 / F16 / BF16 bytes to float32. */
export function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.byteLength / ELEMENT_BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'U8') {
    out.set(raw);
  } else if (dtype === 'F32') {
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
