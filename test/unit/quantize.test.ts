import assert from 'node:assert/strict';
import { blockProblem, dequantizeRows, quantizeRows } from '../../server/import/graph/quantize';
import { checkBlocks, dataBytes, estimate, fitProblem } from '../../server/import/quantPlan';
import { parseConfig, type ModelSpec } from '../../server/import/config';

describe('block-wise symmetric quantisation', () => {
  it('int8: scale = max|w|/127 per block, values rounded, zero point 128, error ≤ scale/2', () => {
    const W = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i * 0.7) * (i < 64 ? 1 : 0.01));
    const q = quantizeRows(W, 2, 64, { bits: 8, block: 32 });
    assert.equal(q.blocksPerRow, 2);
    assert.equal(q.data.length, 128);
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(W[i]));
    assert.equal(q.scales[0], Math.fround(max / 127));
    const d = dequantizeRows(q, 2, 64, { bits: 8, block: 32 });
    for (let i = 0; i < W.length; i++) assert.ok(Math.abs(d[i] - W[i]) <= q.scales[Math.floor(i / 32)] / 2 + 1e-9, `value ${i}`);
    // the largest value of a block is exact up to float rounding, and maps to ±127
    const at = Array.from(W.subarray(0, 32), Math.abs).indexOf(max);
    assert.equal(Math.abs(q.data[at] - 128), 127);
  });

  it('int4 packs two values a byte, the even column in the low nibble, zero point 8', () => {
    const W = Float32Array.from([7, -7, 0, 3.5]);
    const q = quantizeRows(W, 1, 4, { bits: 4, block: 32 });
    assert.deepEqual(Array.from(q.data), [(8 + 7) | ((8 - 7) << 4), 8 | ((8 + 4) << 4)]); // 3.5 rounds to 4 (half up)
    assert.deepEqual(Array.from(dequantizeRows(q, 1, 4, { bits: 4, block: 32 })), [7, -7, 0, 4]);
  });

  it('padded rows (MatMulNBits) fill whole blocks with the zero point; a zero block has scale 0', () => {
    const q = quantizeRows(new Float32Array(24), 1, 24, { bits: 8, block: 32 }, true);
    assert.equal(q.bytesPerRow, 32);
    assert.ok(q.data.every((b) => b === 128));
    assert.equal(q.scales[0], 0);
  });

  it('a width above the block must be a multiple of it; one below is a single block; int4 needs even widths', () => {
    assert.equal(blockProblem(64, { bits: 8, block: 32 }), null);
    assert.equal(blockProblem(24, { bits: 8, block: 32 }), null);
    assert.match(blockProblem(96, { bits: 8, block: 64 })!, /block size 64 does not divide the input width 96/);
    assert.match(blockProblem(15, { bits: 4, block: 32 })!, /even/);
  });
});

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({ architecture: 'OlmoeForCausalLM', hidden: 2048, layers: 16, heads: 16, kvHeads: 16, headDim: 128, vocab: 50304, experts: 64, topK: 8, expertWidth: 1024, moeLayers: Array.from({ length: 16 }, (_, i) => i), denseWidth: 0, sharedWidth: 0, tied: false, ...over }) as ModelSpec;

describe('quantised import plan', () => {
  it('names --block and the tensor whose width the block does not split', () => {
    assert.throws(() => checkBlocks(spec({ expertWidth: 1000 }), { bits: 8, block: 64 }), (e: Error) => /^--block \(model\.layers\.0\.mlp\.experts\.0\.down_proj\.weight\): block size 64 does not divide the input width 1000/.test(e.message));
    assert.doesNotThrow(() => checkBlocks(spec(), { bits: 4, block: 128 }));
  });

  it("refuses GLM-4.5's grouped sigmoid router, naming --quant (QMoE is not checked for its weights)", () => {
    const glm = spec({ architecture: 'Glm4MoeForCausalLM', groupedSigmoid: { groups: 1, topkGroup: 1, scaling: 2.5 } });
    assert.throws(() => checkBlocks(glm, { bits: 8, block: 32 }), (e: Error) => /^--quant: quantised import does not support GLM-4\.5's grouped sigmoid routing/.test(e.message));
  });

  it('estimates OLMoE-1B-7B: about 27.7 GB at fp32, a quarter at int8, about a seventh at int4', () => {
    const fp32 = dataBytes(spec(), null);
    assert.ok(Math.abs(fp32 / 1e9 - 27.7) < 0.3, `${fp32}`);
    const int8 = dataBytes(spec(), { bits: 8, block: 32 });
    const int4 = dataBytes(spec(), { bits: 4, block: 32 });
    assert.ok(int8 / fp32 > 0.26 && int8 / fp32 < 0.29, `${int8 / fp32}`);
    assert.ok(int4 / fp32 > 0.14 && int4 / fp32 < 0.17, `${int4 / fp32}`);
  });

  it("estimates DeepSeek-V2-Lite from its hub config.json: 15.7B parameters (its model card's), latent attention included", () => {
    // deepseek-ai/DeepSeek-V2-Lite's config.json (the fields the importer reads)
    const lite = parseConfig(JSON.stringify({
      architectures: ['DeepseekV2ForCausalLM'], vocab_size: 102400, hidden_size: 2048, intermediate_size: 10944, moe_intermediate_size: 1408,
      num_hidden_layers: 27, num_attention_heads: 16, num_key_value_heads: 16, n_shared_experts: 2, n_routed_experts: 64, routed_scaling_factor: 1.0,
      kv_lora_rank: 512, q_lora_rank: null, qk_rope_head_dim: 64, v_head_dim: 128, qk_nope_head_dim: 128, topk_method: 'greedy', n_group: 1, topk_group: 1,
      num_experts_per_tok: 6, first_k_dense_replace: 1, norm_topk_prob: false, max_position_embeddings: 163840, rms_norm_eps: 1e-6, tie_word_embeddings: false,
      rope_theta: 10000, rope_scaling: { type: 'yarn', factor: 40, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 0.707, mscale_all_dim: 0.707 },
    }));
    const params = dataBytes(lite, null) / 4;
    assert.ok(Math.abs(params / 1e9 - 15.7) < 0.1, `${params}`);
    checkBlocks(lite, { bits: 8, block: 32 }); // every projection splits into blocks of 32
  });

  it('refuses what cannot be analysed in this memory or written to this disk, with the estimate', () => {
    const e = estimate(spec(), { bits: 8, block: 32 }, 'int8');
    assert.match(fitProblem(e, 8e9, null)!, /^needs about 27\.\d GB at fp32, 7\.\d GB at int8 \(analysing with it: about 10\.\d GB of memory\); this machine has 8\.0 GB: too large to analyse on this machine \(try --quant int4\)$/);
    assert.match(fitProblem(e, 64e9, 5e9)!, /5\.0 GB free on the output's disk: not enough disk/);
    assert.equal(fitProblem(e, 16e9, 100e9), null);
  });
});
