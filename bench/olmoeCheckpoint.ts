// An OLMoE-shaped Hugging Face checkpoint with random bf16 weights, written by TypeScript (the bench runs without
// Python): OLMoE-1B-7B's config.json fields and tensor names (per-expert gate/up/down_proj, q/k RMSNorm over the whole
// projection, untied lm_head, norm_topk_prob false), its depth (16 layers), experts (64, top-8) and vocabulary (50304
// rows), at a width the bench chooses. Streamed: each shard's header is written first, then every tensor in chunks,
// so memory stays at one chunk whatever the checkpoint's size. Deterministic (the seed of each tensor is its name).
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface OlmoeShape {
  hidden: number;
  expertWidth: number;
  layers: number;
  experts: number;
  topK: number;
  heads: number;
  vocab: number;
}

interface Tensor {
  name: string;
  shape: number[];
  /** 'one': RMSNorm weights near 1; otherwise uniform with the variance of 1/fan_in (unit-scale activations) */
  init: 'one' | 'linear';
}

/** OLMoE-1B-7B-0924's config.json with the shape's sizes (fields as the hub has them). */
export function olmoeConfig(s: OlmoeShape): Record<string, unknown> {
  return {
    architectures: ['OlmoeForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    clip_qkv: null,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.expertWidth,
    max_position_embeddings: 4096,
    model_type: 'olmoe',
    norm_topk_prob: false,
    num_attention_heads: s.heads,
    num_experts: s.experts,
    num_experts_per_tok: s.topK,
    num_hidden_layers: s.layers,
    num_key_value_heads: s.heads,
    output_router_logits: false,
    pad_token_id: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: 10000.0,
    router_aux_loss_coef: 0.01,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    transformers_version: '4.43.0.dev0',
    use_cache: true,
    vocab_size: s.vocab,
  };
}

function tensors(s: OlmoeShape): Tensor[] {
  const { hidden: D, expertWidth: I, experts: E, vocab: V } = s;
  const out: Tensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, D], init: 'linear' }];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    out.push({ name: `${p}.input_layernorm.weight`, shape: [D], init: 'one' });
    for (const x of ['q', 'k', 'v', 'o']) out.push({ name: `${p}.self_attn.${x}_proj.weight`, shape: [D, D], init: 'linear' });
    out.push({ name: `${p}.self_attn.q_norm.weight`, shape: [D], init: 'one' });
    out.push({ name: `${p}.self_attn.k_norm.weight`, shape: [D], init: 'one' });
    out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [D], init: 'one' });
    out.push({ name: `${p}.mlp.gate.weight`, shape: [E, D], init: 'linear' });
    for (let e = 0; e < E; e++) {
      out.push({ name: `${p}.mlp.experts.${e}.gate_proj.weight`, shape: [I, D], init: 'linear' });
      out.push({ name: `${p}.mlp.experts.${e}.up_proj.weight`, shape: [I, D], init: 'linear' });
      out.push({ name: `${p}.mlp.experts.${e}.down_proj.weight`, shape: [D, I], init: 'linear' });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [D], init: 'one' });
  out.push({ name: 'lm_head.weight', shape: [V, D], init: 'linear' });
  return out;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** float32 → bf16 bits, round to nearest even. */
function bf16(v: number): number {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  return ((u + 0x7fff + ((u >> 16) & 1)) >>> 16) & 0xffff;
}

/** 65536 bf16 values spread uniformly over [-a, a] (a random 16-bit index picks one): fast, and the right variance. */
function table(a: number): Uint16Array {
  return Uint16Array.from({ length: 65536 }, (_, i) => bf16(((i + 0.5) / 65536 - 0.5) * 2 * a));
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0 || 1;
}

const CHUNK = 1 << 22; // values per write

/** Writes one tensor's bf16 bytes at the file's current position (xorshift32, two values per draw). */
function writeTensor(fd: number, t: Tensor, fanIn: number, tables: Map<number, Uint16Array>, pos: { at: number }): void {
  const n = count(t.shape);
  const buf = new Uint16Array(Math.min(n, CHUNK));
  let s = seedOf(t.name);
  const a = t.init === 'one' ? 0.1 : Math.sqrt(3 / fanIn);
  let tab = tables.get(a);
  if (!tab) tables.set(a, (tab = table(a)));
  const one = bf16(1);
  for (let done = 0; done < n; ) {
    const m = Math.min(buf.length, n - done);
    for (let i = 0; i < m; i += 2) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      buf[i] = t.init === 'one' ? one : tab[s & 0xffff];
      if (i + 1 < m) buf[i + 1] = t.init === 'one' ? one : tab[(s >>> 16) & 0xffff];
    }
    const bytes = new Uint8Array(buf.buffer, 0, m * 2);
    let w = 0;
    while (w < bytes.length) w += writeSync(fd, bytes, w, bytes.length - w, pos.at + w);
    pos.at += bytes.length;
    done += m;
  }
}

/**
 * Writes the checkpoint into `dir` (config.json, model-0000i-of-0000n.safetensors with model.safetensors.index.json,
 * tokenizer files) unless a complete one for this shape is there already. Returns whether it was made now.
 */
export function ensureOlmoeCheckpoint(dir: string, s: OlmoeShape, tokenizerDir: string, shardBytes = 2e9): boolean {
  const stamp = join(dir, 'bench-complete.json');
  const want = JSON.stringify(s);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return false;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const all = tensors(s);
  const shards: Tensor[][] = [[]];
  let size = 0;
  for (const t of all) {
    const b = count(t.shape) * 2;
    if (size > 0 && size + b > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += b;
  }
  const weightMap: Record<string, string> = {};
  const tables = new Map<number, Uint16Array>();
  let total = 0;
  shards.forEach((ts, i) => {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const t of ts) {
      const b = count(t.shape) * 2;
      header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + b] };
      off += b;
      weightMap[t.name] = file;
    }
    // the header is padded with spaces to a multiple of 8 bytes, as the safetensors library writes it
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const fd = openSync(join(tmp, file), 'w');
    try {
      writeSync(fd, len, 0, 8, 0);
      writeSync(fd, Buffer.from(json), 0, json.length, 8);
      const pos = { at: 8 + json.length };
      for (const t of ts) writeTensor(fd, t, t.shape[1] ?? 1, tables, pos);
    } finally {
      closeSync(fd);
    }
    total += off;
  });
  writeFileSync(join(tmp, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(olmoeConfig(s), null, 2));
  copyFileSync(join(tokenizerDir, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
  writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: false, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }, null, 2));
  writeFileSync(join(tmp, 'bench-complete.json'), want);
  renameSync(tmp, dir);
  return true;
}
