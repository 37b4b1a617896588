// Decoders for the routed-expert arrays serving engines return: nested JSON lists, base64 raw little-endian int32
// (SGLang) and base64 `.npy` files (vLLM main). Pure functions over strings and arrays, so tests pin each format.

/** Expert ids of T tokens × L layers × K slots, token-major: data[(t * L + l) * K + k]; -1 = not recorded. */
export interface ExpertGrid {
  tokens: number;
  layers: number;
  topK: number;
  data: Int32Array;
}

export class RoutedExpertsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutedExpertsFormatError';
  }
}

/** A nested [T][L][K] list of integers (vLLM `prompt_routed_experts`). Every row must have the same L and K. */
export function gridFromNested(v: unknown, field: string): ExpertGrid {
  if (!Array.isArray(v)) throw new RoutedExpertsFormatError(`${field} is not a list`);
  const T = v.length;
  const first: unknown[] = Array.isArray(v[0]) ? (v[0] as unknown[]) : [];
  const L = first.length;
  const K = L > 0 && Array.isArray(first[0]) ? (first[0] as unknown[]).length : 0;
  if (T > 0 && (L === 0 || K === 0)) throw new RoutedExpertsFormatError(`${field} is not a [tokens][layers][topK] list`);
  const data = new Int32Array(T * L * K);
  for (let t = 0; t < T; t++) {
    const row = v[t] as unknown;
    if (!Array.isArray(row) || row.length !== L) throw new RoutedExpertsFormatError(`${field}[${t}] has ${Array.isArray(row) ? row.length : 'no'} layers, expected ${L}`);
    for (let l = 0; l < L; l++) {
      const slots = row[l] as unknown;
      if (!Array.isArray(slots) || slots.length !== K) throw new RoutedExpertsFormatError(`${field}[${t}][${l}] has ${Array.isArray(slots) ? slots.length : 'no'} experts, expected ${K}`);
      for (let k = 0; k < K; k++) {
        const e = slots[k] as unknown;
        if (!Number.isInteger(e) || (e as number) < -1) throw new RoutedExpertsFormatError(`${field}[${t}][${l}][${k}] is ${JSON.stringify(e)}, not an expert id`);
        data[(t * L + l) * K + k] = e as number;
      }
    }
  }
  return { tokens: T, layers: L, topK: K, data };
}

const bytesOf = (b64: string, field: string): Buffer => {
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(b64)) throw new RoutedExpertsFormatError(`${field} is not base64`);
  return Buffer.from(b64, 'base64');
};

/** Base64 of little-endian int32 values, shape [rows, L * K] (SGLang meta_info.routed_experts); L and K from the model config. */
export function gridFromInt32Base64(b64: string, layers: number, topK: number, field: string): ExpertGrid {
  const buf = bytesOf(b64, field);
  const per = layers * topK;
  if (buf.length % 4 !== 0 || (buf.length / 4) % per !== 0) {
    throw new RoutedExpertsFormatError(`${field} holds ${buf.length} bytes: not a whole number of int32 rows of ${layers} layers × ${topK} experts (does the model config match the served model?)`);
  }
  const data = new Int32Array(buf.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = buf.readInt32LE(4 * i);
  return { tokens: data.length / per, layers, topK, data };
}

/** Base64 of a NumPy `.npy` file holding an integer array [rows, L, K] (vLLM CompletionResponseChoice.routed_experts). */
export function gridFromNpyBase64(b64: string, field: string): ExpertGrid {
  const buf = bytesOf(b64, field);
  // Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html — magic "\x93NUMPY", version
  // major/minor, header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0), an ASCII Python dict literal, the data.
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new RoutedExpertsFormatError(`${field} is not a .npy array`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]?.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!descr || !shape || fortran !== 'False') throw new RoutedExpertsFormatError(`${field}: unsupported .npy header ${header.trim()}`);
  if (shape.length !== 3) throw new RoutedExpertsFormatError(`${field} has shape (${shape.join(', ')}), expected (tokens, layers, topK)`);
  const [T, L, K] = shape;
  const n = T * L * K;
  const readers: Record<string, [number, (o: number) => number]> = {
    '|u1': [1, (o) => buf.readUInt8(o)],
    '<u2': [2, (o) => buf.readUInt16LE(o)],
    '<i2': [2, (o) => buf.readInt16LE(o)],
    '<i4': [4, (o) => buf.readInt32LE(o)],
    '<i8': [8, (o) => Number(buf.readBigInt64LE(o))],
  };
  const reader = readers[descr];
  if (!reader) throw new RoutedExpertsFormatError(`${field} has dtype ${descr}; expected an integer type`);
  const [size, read] = reader;
  if (buf.length < start + n * size) throw new RoutedExpertsFormatError(`${field} is truncated: ${buf.length - start} data bytes for shape (${shape.join(', ')})`);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = read(start + i * size);
  return { tokens: T, layers: L, topK: K, data };
}

/** The first `n` token rows of a grid (the prompt's, when the engine also returned rows of generated tokens). */
export function firstRows(g: ExpertGrid, n: number): ExpertGrid {
  return { ...g, tokens: n, data: g.data.slice(0, n * g.layers * g.topK) };
}
