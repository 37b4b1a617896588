// vLLM main returns routed experts as base64 `.npy` bytes (CompletionResponseChoice.routed_experts, shape
// (num_tokens − 1, layers, topK), dtype uint8/uint16/int32). The list form and SGLang's raw int32 are read by
// server/trace (vllm.ts, sglang.ts); this is the one form they leave out. Pure.
import { TraceError } from '../../trace/engineTrace';

/** Expert ids [rows, layers, topK], row-major. */
export interface NpyExperts {
  rows: number;
  layers: number;
  topK: number;
  data: Int32Array;
}

/** Decodes base64 `.npy` bytes of an integer array of rank 3; errors name the field. */
export function decodeNpyExperts(b64: string, field: string): NpyExperts {
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(b64)) throw new TraceError(`${field} is not base64`);
  const buf = Buffer.from(b64, 'base64');
  // Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html — magic "\x93NUMPY", version
  // major/minor, header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0), an ASCII Python dict literal, the data.
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new TraceError(`${field} is not a .npy array`);
  const major = buf[6];
  const at = major === 1 ? 10 : 12;
  const start = at + (major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8));
  const header = buf.toString('latin1', at, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]?.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!descr || !shape || fortran !== 'False') throw new TraceError(`${field}: unsupported .npy header ${header.trim()}`);
  if (shape.length !== 3) throw new TraceError(`${field} has shape (${shape.join(', ')}), expected (tokens, layers, topK)`);
  const [rows, layers, topK] = shape;
  const n = rows * layers * topK;
  const readers: Record<string, [number, (o: number) => number]> = {
    '|u1': [1, (o) => buf.readUInt8(o)],
    '<u2': [2, (o) => buf.readUInt16LE(o)],
    '<i2': [2, (o) => buf.readInt16LE(o)],
    '<i4': [4, (o) => buf.readInt32LE(o)],
    '<i8': [8, (o) => Number(buf.readBigInt64LE(o))],
  };
  const reader = readers[descr];
  if (!reader) throw new TraceError(`${field} has dtype ${descr}; expected an integer type`);
  const [size, read] = reader;
  if (buf.length < start + n * size) throw new TraceError(`${field} is truncated: ${buf.length - start} data bytes for shape (${shape.join(', ')})`);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = read(start + i * size);
  return { rows, layers, topK, data };
}
