import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from '../../server/import/checkpoint';
import { MAX_HEADER } from '../../server/import/safetensors';
import { parseConfig } from '../../server/import/config';
import { ImportError } from '../../server/import/errors';
import { yarnTable } from '../../server/import/graph/yarn';
import { decodeMxfp4 } from '../../server/import/mxfp4';
import { fixtureDir } from '../support/hfFixtures';

/**
 * config.json of Granite-MoE, gpt-oss, Phi-3.5-MoE and GLM-4.5 (the fixtures' own, written by transformers 5.18), the
 * transformers-5 spelling of the first four, and what is refused, naming the field. Parity is importParity.test.ts.
 */
const config = (name: string) => JSON.parse(readFileSync(join(fixtureDir(name), 'config.json'), 'utf8')) as Record<string, unknown>;
const refuses = (c: Record<string, unknown>, field: string, re: RegExp) =>
  assert.throws(() => parseConfig(JSON.stringify(c)), (e: unknown) => e instanceof ImportError && e.field === field && re.test(e.message));

describe('import: the newer families’ config.json', () => {
  it('Qwen3-MoE as save_pretrained writes it: num_local_experts and rope_parameters', () => {
    const c = config('qwen3_moe_tf5');
    assert.equal(c.num_experts, undefined);
    const s = parseConfig(JSON.stringify(c));
    assert.equal(s.experts, 8);
    assert.equal(s.ropeTheta, 1e6);
    refuses({ ...c, num_experts: 4 }, 'num_local_experts', /disagree/);
  });

  it('Granite-MoE: its four multipliers, top-k then softmax (renormalised)', () => {
    const s = parseConfig(JSON.stringify(config('granitemoe')));
    assert.deepEqual([s.embeddingMultiplier, s.residualMultiplier, s.attentionScale, s.logitsScaling, s.normTopK], [12, 0.22, 0.0078125, 6, true]);
    refuses({ ...config('granitemoe'), logits_scaling: 0 }, 'logits_scaling', /positive/);
    refuses({ ...config('granitemoe'), quantization_config: { quant_method: 'gptq' } }, 'quantization_config', /quantised/);
  });

  it('gpt-oss: MXFP4 accepted, sliding layers from layer_types, YaRN as transformers computes it', () => {
    const c = config('gpt_oss');
    const s = parseConfig(JSON.stringify(c));
    assert.deepEqual([s.slidingLayers, s.slidingWindow, s.routerBias, s.expertBiases, s.attentionSinks], [[0], 4, true, true, true]);
    assert.deepEqual(s.swiglu, { alpha: 1.702, beta: 1, limit: 7 });
    // gpt-oss-20b's rope (the configuration class's default): transformers 5.18's _compute_yarn_parameters gives
    // attention_factor 1.3465735902799727 and inv_freq[0, 5, 10, 20, 31] as below (float32; within one float32 ulp:
    // θ^(2i/d) is rounded from a double pow here, computed in float32 by torch)
    const t = yarnTable({ theta: 150000, factor: 32, originalMaxPositions: 4096, betaFast: 32, betaSlow: 1, truncate: false, attentionFactor: null, mscale: null, mscaleAllDim: null }, 64);
    assert.equal(t.attentionScaling, 1.3465735902799727);
    [1.0, 0.15532298386096954, 0.019334999844431877, 1.818833698052913e-5, 3.023511396804679e-7].forEach((v, j) => assert.ok(Math.abs(t.invFreq[[0, 5, 10, 20, 31][j]] - v) <= 1.2e-7 * v, `inv_freq[${j}]`));
    refuses({ ...c, quantization_config: { quant_method: 'fp8' } }, 'quantization_config.quant_method', /"fp8"/);
    refuses({ ...c, layer_types: ['sliding_attention'] }, 'layer_types', /each of the 2 layers/);
    refuses({ ...c, rope_parameters: { rope_type: 'yarn', rope_theta: 1e4 } }, 'rope_parameters.factor', /positive/);
    refuses({ ...c, rope_parameters: { rope_type: 'linear', factor: 2 } }, 'rope_parameters.rope_type', /"linear"/);
  });

  it('Phi-3.5-MoE: sparsemixer top-2, LayerNorm, LongRoPE short factors', () => {
    const c = config('phimoe');
    const s = parseConfig(JSON.stringify(c));
    assert.deepEqual([s.norm, s.topK, s.sparsemixerJitter, s.lmHeadBias, s.qkvBias], ['layer', 2, 0.25, true, true]);
    assert.equal(s.rotary!.attentionScaling, 1.243163121016122);
    refuses({ ...c, num_experts_per_tok: 3 }, 'num_experts_per_tok', /exactly 2/);
    refuses({ ...c, rope_parameters: { ...(c.rope_parameters as object), short_factor: [1, 2] } }, 'rope_parameters.short_factor', /4 positive numbers/);
    refuses({ ...c, rope_parameters: { rope_type: 'yarn', factor: 4 } }, 'rope_parameters.rope_type', /"yarn"/);
    // different mscales: the context stays where transformers uses short_mscale
    const mixed = parseConfig(JSON.stringify({ ...c, rope_parameters: { ...(c.rope_parameters as object), long_mscale: 1.5 } }));
    assert.equal(mixed.contextLength, 4096);
    // Phi-3.5-MoE's own sliding_window (131072) changes nothing; a shorter one caps the context
    assert.equal(parseConfig(JSON.stringify({ ...c, sliding_window: 131072 })).contextLength, 131072);
    assert.equal(parseConfig(JSON.stringify({ ...c, sliding_window: 2048 })).contextLength, 2048);
    // the hub's 4.x spelling: rope_scaling with "type" and a top-level rope_theta
    const { rope_parameters: rp, ...rest } = c as { rope_parameters: Record<string, unknown> };
    const hub = parseConfig(JSON.stringify({ ...rest, rope_theta: rp.rope_theta, rope_scaling: { ...rp, rope_type: undefined, rope_theta: undefined, type: 'longrope' } }));
    assert.deepEqual(hub.rotary, s.rotary);
  });

  it('GLM-4.5: grouped sigmoid router, a dense first layer, an ungated shared expert, half-rotary heads, q/k norm', () => {
    const c = config('glm4_moe');
    const s = parseConfig(JSON.stringify(c));
    assert.deepEqual([s.experts, s.topK, s.normTopK, s.moeLayers, s.denseWidth, s.sharedWidth, s.ungatedShared], [8, 2, true, [1, 2], 48, 16, true]);
    assert.deepEqual(s.groupedSigmoid, { groups: 2, topkGroup: 1, scaling: 2.5 });
    assert.deepEqual([s.headDim, s.rotaryDim, s.ropeTheta, s.qkNorm, s.qkvBias, s.oBias], [8, 4, 1e6, 'head', true, false]);
    // the hub's spelling: top-level rope_theta and partial_rotary_factor, no rope_parameters; the class's 0.5 unless named
    const { rope_parameters: rp, partial_rotary_factor: _f, ...rest } = c as { rope_parameters: Record<string, unknown>; partial_rotary_factor: number };
    const hub = parseConfig(JSON.stringify({ ...rest, rope_theta: rp.rope_theta }));
    assert.deepEqual([hub.rotaryDim, hub.ropeTheta], [4, 1e6]);
    assert.equal(parseConfig(JSON.stringify({ ...rest, partial_rotary_factor: 1 })).rotaryDim, 8);
    // num_local_experts is transformers' alias of n_routed_experts
    const { n_routed_experts: _n, ...aliased } = c;
    assert.equal(parseConfig(JSON.stringify({ ...aliased, num_local_experts: 8 })).experts, 8);
    refuses({ ...c, num_local_experts: 4 }, 'n_routed_experts', /disagree/);
    refuses({ ...c, n_group: 3 }, 'n_group', /equal groups/);
    refuses({ ...c, n_group: 8 }, 'n_group', /1 expert per group/);
    refuses({ ...c, topk_group: 3 }, 'topk_group', /1–2/);
    refuses({ ...c, num_experts_per_tok: 5 }, 'num_experts_per_tok', /cannot be chosen from 1 group\(s\) of 4/);
    refuses({ ...c, routed_scaling_factor: 0 }, 'routed_scaling_factor', /positive/);
    refuses({ ...c, first_k_dense_replace: 3 }, 'first_k_dense_replace', /no decoder layer with experts/);
    refuses({ ...c, n_group: 1e7 }, 'n_group', /more than the 4096/);
    refuses({ ...c, n_shared_experts: 1e6 }, 'n_shared_experts', /more than the 256/);
    refuses({ ...c, moe_intermediate_size: 1_000_000, n_shared_experts: 2 }, 'n_shared_experts', /shared experts' width 2000000/);
    refuses({ ...c, rope_parameters: { ...rp, partial_rotary_factor: 0.375 } }, 'rope_parameters.partial_rotary_factor', /must be even/);
    refuses({ ...c, rope_parameters: { ...rp, partial_rotary_factor: 1.5 } }, 'rope_parameters.partial_rotary_factor', /\(0, 1\]/);
    refuses({ ...c, rope_parameters: { ...rp, rope_type: 'yarn' } }, 'rope_parameters.rope_type', /"yarn"/);
  });

  it('DeepSeek-V3 as its hub config.json has it: latent attention, YaRN with mscale, the grouped sigmoid router', () => {
    const c = config('deepseek_v3');
    const s = parseConfig(JSON.stringify(c));
    assert.deepEqual(s.mla, { qLoraRank: 12, kvLoraRank: 8, nopeDim: 8, ropeDim: 4, valueDim: 6, interleave: true });
    assert.deepEqual([s.headDim, s.rotaryDim, s.kvHeads, s.moeLayers, s.denseWidth, s.sharedWidth, s.ungatedShared, s.normTopK], [12, 4, 4, [1, 2], 40, 12, true, true]);
    assert.deepEqual(s.groupedSigmoid, { groups: 4, topkGroup: 2, scaling: 2.5 });
    // yarn_apply_mscale: 12^-½ · (0.1 · 1 · ln 40 + 1)²
    assert.ok(Math.abs(s.attentionScale! - 12 ** -0.5 * (0.1 * Math.log(40) + 1) ** 2) < 1e-12);
    const rs = c.rope_scaling as Record<string, unknown>;
    assert.deepEqual(s.rotary, yarnTable({ theta: 10000, factor: 40, originalMaxPositions: 4096, betaFast: 32, betaSlow: 1, truncate: true, attentionFactor: null, mscale: 1, mscaleAllDim: 1 }, 4));
    // transformers 5's spelling reads the same; its head_dim (= qk_rope_head_dim) is not the attention's head size
    const { rope_scaling: _r, rope_theta: _t, ...rest } = c;
    const v5 = parseConfig(JSON.stringify({ ...rest, head_dim: 4, rope_parameters: { ...rs, type: undefined, rope_type: 'yarn', rope_theta: 10000 } }));
    assert.deepEqual([v5.headDim, v5.rotary], [s.headDim, s.rotary]);
    assert.equal(parseConfig(JSON.stringify({ ...c, q_lora_rank: null })).mla?.qLoraRank, null);
    assert.equal(parseConfig(JSON.stringify({ ...c, rope_interleave: false })).mla?.interleave, false);
    refuses({ ...c, num_key_value_heads: 2 }, 'num_key_value_heads', /latent attention expands keys and values to every head/);
    refuses({ ...c, quantization_config: { quant_method: 'fp8', weight_block_size: [128, 128] } }, 'quantization_config', /"fp8".*FP8 weights \(weight_scale_inv\)/);
    refuses({ ...c, qk_rope_head_dim: 3 }, 'qk_rope_head_dim', /even/);
    refuses({ ...c, kv_lora_rank: 0 }, 'kv_lora_rank', /at least 1/);
    refuses({ ...c, kv_lora_rank: 1e6 }, 'kv_lora_rank', /more than the 65536/);
    refuses({ ...c, n_group: 8 }, 'n_group', /1 expert per group/);
    refuses({ ...c, rope_scaling: { ...rs, type: 'dynamic' } }, 'rope_scaling.rope_type', /"dynamic" is not supported for DeepSeek-V3/);
  });

  it('DeepSeek-V2: softmax routing limited to groups by their best probability, or greedy; never renormalised', () => {
    const c = config('deepseek_v2');
    const s = parseConfig(JSON.stringify(c));
    assert.deepEqual(s.mla, { qLoraRank: null, kvLoraRank: 16, nopeDim: 8, ropeDim: 4, valueDim: 16, interleave: true });
    assert.deepEqual(s.groupedSoftmax, { groups: 4, topkGroup: 2, scaling: 1.5 });
    assert.deepEqual([s.normTopK, s.sharedWidth, s.moeLayers, s.groupedSigmoid], [false, 32, [1, 2], undefined]);
    // norm_topk_prob is not read by DeepseekV2TopkRouter
    assert.equal(parseConfig(JSON.stringify({ ...c, norm_topk_prob: true })).normTopK, false);
    assert.deepEqual(parseConfig(JSON.stringify({ ...c, topk_method: 'greedy', n_group: null, topk_group: null })).groupedSoftmax, { groups: 1, topkGroup: 1, scaling: 1.5 });
    const { n_routed_experts: _n, ...aliased } = c;
    assert.equal(parseConfig(JSON.stringify({ ...aliased, num_experts: 8 })).experts, 8);
    refuses({ ...c, topk_method: 'noaux_tc' }, 'topk_method', /"noaux_tc" is not supported \(DeepSeek-V2/);
    refuses({ ...c, n_group: null }, 'n_group', /group_limited_greedy/);
    refuses({ ...c, num_experts_per_tok: 5 }, 'num_experts_per_tok', /cannot be chosen from 2 group\(s\) of 2/);
    refuses({ ...c, mlp_bias: true }, 'mlp_bias', /not supported/);
  });

  it('gpt-oss as the hub writes it (rope_scaling, top-level rope_theta) reads the same YaRN table', () => {
    const c = config('gpt_oss');
    const { rope_parameters: rp, ...rest } = c as { rope_parameters: Record<string, unknown> };
    const hub = parseConfig(JSON.stringify({ ...rest, rope_theta: rp.rope_theta, rope_scaling: { ...rp, rope_theta: undefined } }));
    assert.deepEqual(hub.rotary, parseConfig(JSON.stringify(c)).rotary);
  });

  it('MXFP4: two e2m1 codes a byte (low nibble first) times 2^(scale − 127)', () => {
    const blocks = new Uint8Array(16);
    blocks[0] = 0x21; // codes 1 (0.5) and 2 (1.0)
    blocks[1] = 0xf7; // codes 7 (6.0) and 15 (−6.0)
    const out = decodeMxfp4(blocks, Uint8Array.of(128), 'm.safetensors', 'w_blocks');
    assert.deepEqual(Array.from(out.subarray(0, 4)), [1, 2, 12, -12]);
    assert.equal(out.length, 32);
  });

  it('a U8 tensor is refused as a weight, naming it; MXFP4 blocks are read as bytes', async () => {
    const cp = await Checkpoint.open(fixtureDir('gpt_oss'), { maxHeaderBytes: MAX_HEADER, maxTensors: 1_000_000 });
    try {
      const name = 'model.layers.0.mlp.experts.down_proj_blocks';
      assert.throws(() => cp.read(name, [8, 32, 1, 16]), (e: unknown) => e instanceof ImportError && e.field === `${name}.dtype` && /U8/.test(e.message));
      assert.equal(cp.readBytes(name, [8, 32, 1, 16]).length, 8 * 32 * 16);
    } finally {
      cp.close();
    }
  });
});
