// gpt-oss's expert weights in the MoE op's layout (fc1 [E, 2I, H] with gate/up rows interleaved, fc2 [E, H, I], and
// their biases [E, 2I], [E, H]), from either checkpoint form transformers 5.18 reads:
// - the hub's MXFP4 (`experts.gate_up_proj_blocks` [E, 2I, H/32, 16] + `_scales` [E, 2I, H/32], `down_proj_blocks`
//   [E, H, I/32, 16] + `_scales`): decoded rows are already [out, in] (integrations/mxfp4.py transposes them into
//   modeling_gpt_oss's [E, in, out] only for its matmul), one expert at a time;
// - bf16 `experts.gate_up_proj` [E, H, 2I] and `down_proj` [E, I, H] (GptOssExperts' parameters: x @ W), transposed.
// gate_up's columns interleave gate (even) and up (odd) (GptOssExperts._apply_gate), which is the op's swiglu_fusion=1.
import { ImportError } from '../errors';
import { decodeMxfp4 } from '../mxfp4';
import type { LayerNames } from '../tensorNames';
import type { GraphBuilder } from './builder';
import type { WeightSource } from './weights';

export interface ExpertTensors {
  fc1: string;
  fc1Bias: string;
  fc2: string;
  fc2Bias: string;
}

export function gptOssExperts(g: GraphBuilder, src: WeightSource, n: LayerNames, E: number, I: number, H: number): ExpertTensors {
  const fc1 = g.streamedWeight(`${n.fusedGateUp}.fc1_interleaved`, [E, 2 * I, H], perExpert(src, n.fusedGateUp, E, 2 * I, H));
  const fc2 = g.streamedWeight(`${n.fusedDown}.fc2`, [E, H, I], perExpert(src, n.fusedDown, E, H, I));
  const bias = (name: string, dims: number[]) => g.weight(name, dims, src.read(name, dims));
  return { fc1, fc1Bias: bias(`${n.fusedGateUp}_bias`, [E, 2 * I]), fc2, fc2Bias: bias(`${n.fusedDown}_bias`, [E, H]) };
}

/** Expert e's [out, in] matrix, e = 0 … E−1. */
function* perExpert(src: WeightSource, name: string, E: number, out: number, inF: number): Generator<Float32Array> {
  const blocks = `${name}_blocks`;
  if (src.has(blocks)) {
    if (inF % 32 !== 0) throw new ImportError(`MXFP4 needs an input width that is a multiple of 32, got ${inF}`, 'config.json', 'hidden_size');
    if (!src.readBytes) throw new Error('this weight source cannot read MXFP4 blocks');
    const b = src.readBytes(blocks, [E, out, inF / 32, 16]);
    const s = src.readBytes(`${name}_scales`, [E, out, inF / 32]);
    const per = out * (inF / 32);
    for (let e = 0; e < E; e++) yield decodeMxfp4(b.subarray(e * per * 16, (e + 1) * per * 16), s.subarray(e * per, (e + 1) * per), src.fileOf?.(blocks) ?? 'model.safetensors', blocks);
    return;
  }
  const all = src.read(name, [E, inF, out]); // x @ W layout
  for (let e = 0; e < E; e++) {
    const w = all.subarray(e * inF * out, (e + 1) * inF * out);
    const t = new Float32Array(out * inF);
    for (let i = 0; i < inF; i++) for (let o = 0; o < out; o++) t[o * inF + i] = w[i * out + o];
    yield t;
  }
}
