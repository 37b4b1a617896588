// NumPy's .npy format (format versions 1–3: magic "\x93NUMPY", version, header length, a Python-literal header dict
// with descr / fortran_order / shape, then the raw C-order data), read for newer vLLM responses whose routed experts
// come as base64 .npy bytes (vllm/entrypoints/openai/completion/protocol.py: "np.load(io.BytesIO(base64.b64decode(s)))").
// Integer dtypes only, little-endian or single-byte, C order: what an expert-id array is.
import { TraceError } from './engineTrace';

const READERS: Record<string, [number, (v: DataView, o: number) => number]> = {
  '|u1': [1, (v, o) => v.getUint8(o)],
  '|i1': [1, (v, o) => v.getInt8(o)],
  '<u2': [2, (v, o) => v.getUint16(o, true)],
  '<i2': [2, (v, o) => v.getInt16(o, true)],
  '<u4': [4, (v, o) => v.getUint32(o, true)],
  '<i4': [4, (v, o) => v.getInt32(o, true)],
  '<i8': [8, (v, o) => Number(v.getBigInt64(o, true))],
};

/** The array in .npy bytes: its shape and values (as Int32Array). */
export function readNpy(bytes: Uint8Array, field: string): { shape: number[]; data: Int32Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new TraceError(`${field} is not a .npy array (no \\x93NUMPY magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new TraceError(`${field}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new TraceError(`${field}: a Fortran-order .npy array, expected C order`);
  const reader = READERS[descr];
  if (!reader) throw new TraceError(`${field}: .npy dtype ${descr} is not an integer type MoE Lens reads (${Object.keys(READERS).join(', ')})`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const [size, read] = reader;
  const off = start + headerLen;
  if (bytes.length - off !== n * size) throw new TraceError(`${field}: .npy shape (${shape.join(', ')}) needs ${n * size} bytes of ${descr}, it holds ${bytes.length - off}`);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = read(view, off + i * size);
  return { shape, data };
}
