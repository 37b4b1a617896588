// Writes safetensors files and small random Hugging Face MoE checkpoints for tests (bad-input cases included): the
// format's 8-byte little-endian header length, the JSON header, then the tensor bytes.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatToHalf } from '../../server/import/safetensors';
import { embeddedModel } from './paths';

export type Dtype = 'F32' | 'F16' | 'BF16';

export interface TensorSpec {
  shape: number[];
  values: Float32Array;
  dtype?: Dtype | string;
}

/** float32 → bf16 bits, round to nearest even (as torch's .to(torch.bfloat16)). */
export function bf16Bits(v: number): number {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  return ((u + 0x7fff + ((u >> 16) & 1)) >>> 16) & 0xffff;
}

export function safetensorsBytes(tensors: Record<string, TensorSpec>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? 'BF16';
    let bytes: Buffer;
    if (dtype === 'F32') bytes = Buffer.from(new Float32Array(t.values).buffer);
    else {
      bytes = Buffer.alloc(t.values.length * 2);
      // F16: IEEE half; BF16 and dtypes the reader must refuse: bfloat16 bits
      t.values.forEach((v, i) => bytes.writeUInt16LE(dtype === 'F16' ? floatToHalf(v) : bf16Bits(v), 2 * i));
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...chunks]);
}

/** A deterministic pseudo-random generator (tests must not depend on Math.random). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export interface TinyCheckpoint {
  config: Record<string, unknown>;
  tensors: Record<string, TensorSpec>;
}

/**
 * A tiny Qwen3-MoE in hub layout (per-head q/k norm, 4 experts top-2, a dense layer) with the embedded model's
 * byte-level tokenizer (4096 tokens), so the server can load the import with its own tokenizer.
 */
export function tinyQwen3Moe(seed = 7): TinyCheckpoint {
  const r = rng(seed);
  const H = 16;
  const heads = 4;
  const kv = 2;
  const d = 4;
  const E = 4;
  const I = 8;
  const V = 4096;
  const config = {
    architectures: ['Qwen3MoeForCausalLM'],
    model_type: 'qwen3_moe',
    hidden_size: H,
    num_hidden_layers: 2,
    num_attention_heads: heads,
    num_key_value_heads: kv,
    head_dim: d,
    intermediate_size: 12,
    moe_intermediate_size: I,
    num_experts: E,
    num_experts_per_tok: 2,
    norm_topk_prob: true,
    mlp_only_layers: [1],
    decoder_sparse_step: 1,
    vocab_size: V,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
  };
  const t: Record<string, TensorSpec> = {};
  const rand = (shape: number[], scale = 0.2): TensorSpec => ({ shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 * scale) });
  const ones = (n: number): TensorSpec => ({ shape: [n], values: Float32Array.from({ length: n }, () => 1 + r() * 0.2) });
  t['model.embed_tokens.weight'] = rand([V, H], 1);
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    t[`${p}.input_layernorm.weight`] = ones(H);
    t[`${p}.post_attention_layernorm.weight`] = ones(H);
    t[`${p}.self_attn.q_proj.weight`] = rand([heads * d, H]);
    t[`${p}.self_attn.k_proj.weight`] = rand([kv * d, H]);
    t[`${p}.self_attn.v_proj.weight`] = rand([kv * d, H]);
    t[`${p}.self_attn.o_proj.weight`] = rand([H, heads * d]);
    t[`${p}.self_attn.q_norm.weight`] = ones(d);
    t[`${p}.self_attn.k_norm.weight`] = ones(d);
    if (l === 0) {
      t[`${p}.mlp.gate.weight`] = rand([E, H], 1);
      for (let e = 0; e < E; e++) {
        t[`${p}.mlp.experts.${e}.gate_proj.weight`] = rand([I, H]);
        t[`${p}.mlp.experts.${e}.up_proj.weight`] = rand([I, H]);
        t[`${p}.mlp.experts.${e}.down_proj.weight`] = rand([H, I]);
      }
    } else {
      t[`${p}.mlp.gate_proj.weight`] = rand([12, H]);
      t[`${p}.mlp.up_proj.weight`] = rand([12, H]);
      t[`${p}.mlp.down_proj.weight`] = rand([H, 12]);
    }
  }
  t['model.norm.weight'] = ones(H);
  t['lm_head.weight'] = rand([V, H]);
  return { config, tensors: t };
}

/** Writes the checkpoint as a hub folder: config.json, model.safetensors (or `shards` shards + index), tokenizer files. */
export function writeCheckpoint(dir: string, c: TinyCheckpoint, shards = 1, tokenizerConfig: Record<string, unknown> = { add_bos_token: false, eos_token: '<|endoftext|>' }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c.config, null, 2));
  copyFileSync(join(embeddedModel, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  const names = Object.keys(c.tensors);
  if (shards === 1) {
    writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(c.tensors));
    return;
  }
  const map: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part: Record<string, TensorSpec> = {};
    names.filter((_, i) => i % shards === s).forEach((n) => {
      part[n] = c.tensors[n];
      map[n] = file;
    });
    writeFileSync(join(dir, file), safetensorsBytes(part));
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
}
