// gpt-oss's MXFP4 checkpoint format (openai/gpt-oss-20b/120b): each expert matrix [E, out, in] is stored as
// `<name>_blocks` U8 [E, out, in/32, 16] (two FP4 e2m1 codes per byte, the low nibble first) and `<name>_scales` U8
// [E, out, in/32] (one E8M0 exponent per block of 32: value = code · 2^(scale − 127)). Decoded exactly as transformers
// 5.18's integrations/mxfp4.py (_convert_moe_packed_tensors: FP4_VALUES lookup, ldexp by scale − 127); every decoded
// value is exact in float32. The result is in the [E, out, in] layout of nn.Linear, which is the MoE op's.
import { firstNonFinite } from './checkpoint';
import { ImportError } from './errors';

/** e2m1 code → value (transformers' FP4_VALUES) */
export const FP4_VALUES = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

/**
 * Decodes blocks [rows, groups, 16] and scales [rows, groups] into float32 [rows, groups · 32]. A block whose values are
 * not finite is refused, naming the scales tensor: E8M0 code 255 is NaN (OCP Microscaling Formats v1.0, §5.4.1), and
 * codes from 254 down overflow float32 once multiplied by an FP4 value of 2 or more, which transformers would load as
 * Inf (the float checkpoints' weights get the same check in Checkpoint.read).
 */
export function decodeMxfp4(blocks: Uint8Array, scales: Uint8Array, file: string, field: string): Float32Array {
  if (blocks.length !== scales.length * 16) throw new ImportError(`MXFP4 blocks hold ${blocks.length} bytes but the scales imply ${scales.length * 16}`, file, field);
  const out = new Float32Array(blocks.length * 2);
  for (let b = 0; b < scales.length; b++) {
    const scale = scales[b] === 255 ? NaN : 2 ** (scales[b] - 127);
    for (let j = 0; j < 16; j++) {
      const byte = blocks[b * 16 + j];
      out[b * 32 + 2 * j] = FP4_VALUES[byte & 0x0f] * scale;
      out[b * 32 + 2 * j + 1] = FP4_VALUES[byte >> 4] * scale;
    }
  }
  const bad = firstNonFinite(out);
  if (bad >= 0) {
    const block = Math.floor(bad / 32);
    throw new ImportError(`MXFP4 block ${block} decodes to a non-finite value (${out[bad]}; its E8M0 scale code is ${scales[block]}): the model would compute NaN`, file, field.replace(/_blocks$/, '_scales'));
  }
  return out;
}
