// Block-wise symmetric quantisation of a row-major weight [rows, cols] in the layouts onnxruntime's com.microsoft
// quantised ops read (probed: server/import/graph/quantLayers.ts). Each row is cut into blocks of `block` values
// along cols; a block's scale is max|w| / qmax (127 for int8, 7 for int4), its values round(w / scale) clamped to
// ±qmax and stored unsigned with the implicit zero point 128 (int8) or 8 (int4), two int4 values a byte, the even
// column in the low nibble. A row narrower than one block is a single (partial) block: its scale is per row.
// Pure: no I/O, unit-tested (test/unit/quantize.test.ts).

export type QuantBits = 4 | 8;

export interface QuantOptions {
  bits: QuantBits;
  block: number;
  /** the embedding table: int8 through GatherBlockQuantized (default) or float32 (measured: docs/IMPORT.md) */
  embeddings?: 'int8' | 'float';
}

export interface Quantized {
  /** the packed unsigned values, rows × bytesPerRow */
  data: Uint8Array;
  /** rows × blocksPerRow float32 scales */
  scales: Float32Array;
  blocksPerRow: number;
  bytesPerRow: number;
}

/** block sizes --block accepts (the MLAS kernels' block-wise sizes that QMoE was checked with) */
export const QUANT_BLOCKS = [32, 64, 128] as const;

const qmaxOf = (bits: QuantBits) => (bits === 8 ? 127 : 7);
const zeroOf = (bits: QuantBits) => (bits === 8 ? 128 : 8);

/**
 * Why `cols` cannot be quantised in blocks of `block`, or null when it can: a width above the block must be a
 * multiple of it (the ops' scales are one per full block), and an int4 row must fill whole bytes.
 */
export function blockProblem(cols: number, o: QuantOptions): string | null {
  if (cols > o.block && cols % o.block !== 0) return `block size ${o.block} does not divide the input width ${cols}`;
  if (o.bits === 4 && cols % 2 !== 0) return `int4 needs an even input width, got ${cols}`;
  return null;
}

/**
 * Quantises W [rows, cols]. `padded`: every row takes blocksPerRow · block values (MatMulNBits' [N, blocks,
 * block·bits/8] layout; the padding is the zero point, i.e. 0); otherwise rows are packed tight, cols·bits/8 bytes
 * (QMoE's [E, rows, cols/pack] and GatherBlockQuantized's [V, H·bits/8]).
 */
export function quantizeRows(W: Float32Array, rows: number, cols: number, o: QuantOptions, padded = false): Quantized {
  if (W.length !== rows * cols) throw new Error(`quantizeRows: ${W.length} values for [${rows}, ${cols}]`);
  const { bits, block } = o;
  const qmax = qmaxOf(bits);
  const zero = zeroOf(bits);
  const blocksPerRow = Math.ceil(cols / block);
  const perRow = padded ? blocksPerRow * block : cols;
  const bytesPerRow = (perRow * bits) / 8;
  const data = new Uint8Array(rows * bytesPerRow).fill(bits === 8 ? zero : zero | (zero << 4));
  const scales = new Float32Array(rows * blocksPerRow);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let b = 0; b < blocksPerRow; b++) {
      const end = Math.min(cols, (b + 1) * block);
      let max = 0;
      for (let c = b * block; c < end; c++) max = Math.max(max, Math.abs(W[row + c]));
      const scale = Math.fround(max / qmax);
      scales[r * blocksPerRow + b] = scale;
      for (let c = b * block; c < end; c++) {
        const q = scale === 0 ? 0 : Math.max(-qmax, Math.min(qmax, Math.round(W[row + c] / scale)));
        const u = q + zero;
        if (bits === 8) data[r * bytesPerRow + c] = u;
        else {
          const at = r * bytesPerRow + (c >> 1);
          data[at] = c & 1 ? (data[at] & 0x0f) | (u << 4) : (data[at] & 0xf0) | u;
        }
      }
    }
  }
  return { data, scales, blocksPerRow, bytesPerRow };
}

/** The float32 values the ops compute with: the inverse of quantizeRows (what references and tests compare with). */
export function dequantizeRows(q: Quantized, rows: number, cols: number, o: QuantOptions): Float32Array {
  const zero = zeroOf(o.bits);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const byte = q.data[r * q.bytesPerRow + (o.bits === 8 ? c : c >> 1)];
      const u = o.bits === 8 ? byte : c & 1 ? byte >> 4 : byte & 0x0f;
      out[r * cols + c] = Math.fround((u - zero) * q.scales[r * q.blocksPerRow + Math.floor(c / o.block)]);
    }
  }
  return out;
}

/** "int8" / "int4": the label the status bar, the hover header and `moe-lens route` show. */
export const quantLabel = (o: QuantOptions) => `int${o.bits}`;
