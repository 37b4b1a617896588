import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths';

/**
 * The committed Hugging Face fixtures (tools/hf/make_fixtures.py) are what a real hub checkpoint looks like and agree
 * with themselves: config fields, every tensor in the right file with the right shape, the shard index, golden
 * outputs shaped by the config. A broken regeneration fails here, before any parity test is puzzled by it.
 */
type Json = Record<string, any>;
interface Tensor { dtype: string; shape: number[]; data_offsets: [number, number] }

const hfDir = join(repoRoot, 'test', 'fixtures', 'hf');
const readJson = (p: string): Json => JSON.parse(readFileSync(p, 'utf8'));

/** A safetensors header: u64 little-endian length, then JSON. */
function safetensorsHeader(path: string): { tensors: Record<string, Tensor>; dataBytes: number } {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE());
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 8);
    const { __metadata__: _, ...tensors } = JSON.parse(buf.toString('utf8')) as Record<string, Tensor>;
    return { tensors, dataBytes: statSync(path).size - 8 - n };
  } finally {
    closeSync(fd);
  }
}

/** Hub tensor names and shapes each architecture must have, from its config (transformers' modeling files). */
function expectedTensors(c: Json): Map<string, number[]> {
  const H = c.hidden_size;
  const V = c.vocab_size;
  const nh = c.num_attention_heads;
  const kv = c.num_key_value_heads;
  const hd = c.head_dim ?? H / nh;
  const E = c.num_local_experts ?? c.num_experts;
  const t = new Map<string, number[]>([['model.embed_tokens.weight', [V, H]], ['lm_head.weight', [V, H]], ['model.norm.weight', [H]]]);
  const swiglu = (p: string, I: number, [g, u, d] = ['gate_proj', 'up_proj', 'down_proj']) => {
    t.set(`${p}.${g}.weight`, [I, H]);
    t.set(`${p}.${u}.weight`, [I, H]);
    t.set(`${p}.${d}.weight`, [H, I]);
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    t.set(`${p}.input_layernorm.weight`, [H]).set(`${p}.post_attention_layernorm.weight`, [H]);
    const proj: [string, number[]][] = [['q_proj', [nh * hd, H]], ['k_proj', [kv * hd, H]], ['v_proj', [kv * hd, H]], ['o_proj', [H, nh * hd]]];
    for (const [n, s] of proj) t.set(`${p}.self_attn.${n}.weight`, s);
    if (c.model_type === 'qwen2_moe') for (const [n, s] of proj.slice(0, 3)) t.set(`${p}.self_attn.${n}.bias`, [s[0]]);
    if (c.model_type === 'olmoe') t.set(`${p}.self_attn.q_norm.weight`, [nh * hd]).set(`${p}.self_attn.k_norm.weight`, [kv * hd]);
    if (c.model_type === 'qwen3_moe') t.set(`${p}.self_attn.q_norm.weight`, [hd]).set(`${p}.self_attn.k_norm.weight`, [hd]);
    if (!moeLayers(c).includes(l)) {
      swiglu(`${p}.mlp`, c.intermediate_size);
      continue;
    }
    const moe = c.model_type === 'mixtral' ? `${p}.block_sparse_moe` : `${p}.mlp`;
    t.set(`${moe}.gate.weight`, [E, H]);
    for (let e = 0; e < E; e++) {
      if (c.model_type === 'mixtral') swiglu(`${moe}.experts.${e}`, c.intermediate_size, ['w1', 'w3', 'w2']);
      else swiglu(`${moe}.experts.${e}`, c.moe_intermediate_size ?? c.intermediate_size);
    }
    if (c.model_type === 'qwen2_moe') {
      swiglu(`${moe}.shared_expert`, c.shared_expert_intermediate_size);
      t.set(`${moe}.shared_expert_gate.weight`, [1, H]);
    }
  }
  return t;
}

/** Decoder layers with a sparse MoE block (Qwen's mlp_only_layers / decoder_sparse_step; every layer otherwise). */
function moeLayers(c: Json): number[] {
  const layers = [...Array(c.num_hidden_layers).keys()];
  if (!c.model_type.startsWith('qwen')) return layers;
  return layers.filter((l) => !(c.mlp_only_layers ?? []).includes(l) && (l + 1) % (c.decoder_sparse_step ?? 1) === 0);
}

const topK = (row: number[], k: number) => row.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, k);

for (const arch of ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe']) {
  describe(`HF fixture ${arch} is a consistent hub checkpoint`, () => {
    const dir = join(hfDir, arch);
    const config = readJson(join(dir, 'config.json'));
    const golden = readJson(join(dir, 'golden.json'));

    it('config.json has every field an importer needs (hub or transformers-5 names), bf16', () => {
      assert.equal(config.architectures[0], golden.architecture);
      for (const f of ['model_type', 'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'num_experts_per_tok', 'rms_norm_eps', 'tie_word_embeddings']) assert.ok(f in config, f);
      assert.ok(config.num_local_experts ?? config.num_experts, 'num_local_experts or num_experts');
      assert.equal(typeof (config.rope_theta ?? config.rope_parameters?.rope_theta), 'number', 'rope_theta');
      assert.equal(config.torch_dtype ?? config.dtype, 'bfloat16');
      assert.ok(config.num_key_value_heads < config.num_attention_heads, 'GQA');
      assert.equal(golden.resolved_config.rope_theta, config.rope_theta ?? config.rope_parameters.rope_theta);
    });

    it('tokenizer: tokenizer_config.json is the npm one, vocab_size is its full id range', () => {
      const npm = join(repoRoot, golden.tokenizer.npm_folder);
      assert.deepEqual(readJson(join(dir, 'tokenizer_config.json')), readJson(join(npm, 'tokenizer_config.json')));
      const tj = readJson(join(npm, 'tokenizer.json'));
      let max = 0;
      for (const id of [...Object.values(tj.model.vocab as Record<string, number>), ...tj.added_tokens.map((a: Json) => a.id)]) max = Math.max(max, id);
      assert.equal(config.vocab_size, max + 1);
      assert.ok(!existsSync(join(dir, 'tokenizer.json')), 'tokenizer.json is copied from node_modules by tests, not committed');
    });

    it('safetensors: every tensor once, with its hub name and shape, bf16, data exactly filling each file; index agrees', () => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
      const indexPath = join(dir, 'model.safetensors.index.json');
      const index = existsSync(indexPath) ? readJson(indexPath) : undefined;
      if (!index) assert.deepEqual(files, ['model.safetensors']);
      else assert.deepEqual([...new Set(Object.values(index.weight_map as Record<string, string>))].sort(), files, 'index names every shard, and only shards that exist');
      const seen = new Map<string, number[]>();
      let bytes = 0;
      for (const f of files) {
        const { tensors, dataBytes } = safetensorsHeader(join(dir, f));
        let end = 0;
        for (const [name, t] of Object.entries(tensors).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
          assert.equal(t.dtype, 'BF16', name);
          assert.equal(t.data_offsets[0], end, `${f}: ${name} starts where the previous tensor ends`);
          assert.equal(t.data_offsets[1] - t.data_offsets[0], 2 * t.shape.reduce((a, b) => a * b, 1), `${f}: ${name} byte length`);
          end = t.data_offsets[1];
          assert.ok(!seen.has(name), `${name} in two files`);
          seen.set(name, t.shape);
          if (index) assert.equal(index.weight_map[name], f, `index places ${name} in ${f}`);
        }
        assert.equal(end, dataBytes, `${f}: tensors fill the file`);
        bytes += dataBytes;
        assert.ok(statSync(join(dir, f)).size < 5 * 1024 * 1024, `${f} under 5 MB`);
      }
      if (index) {
        assert.equal(Object.keys(index.weight_map).length, seen.size);
        assert.equal(index.metadata.total_size, bytes);
      }
      assert.deepEqual(new Map([...seen].sort()), new Map([...expectedTensors(config)].sort()));
    });

    it('golden.json is shaped by the config and its top-k agrees with its router logits', () => {
      const V = config.vocab_size;
      const E = config.num_local_experts ?? config.num_experts;
      const k = config.num_experts_per_tok;
      const renorm = config.model_type === 'mixtral' || config.norm_topk_prob === true;
      assert.deepEqual(golden.moe_layers, moeLayers(config));
      const idx: number[] = golden.logit_indices;
      assert.ok(idx.length >= 128 && idx.every((v, i) => Number.isInteger(v) && v >= 0 && v < V && (i === 0 || v > idx[i - 1])));
      assert.equal(golden.texts.length, 3);
      for (const t of golden.texts) {
        const T = t.input_ids.length;
        assert.ok(T > 0 && t.input_ids.every((id: number) => id >= 0 && id < V));
        assert.equal(t.argmax.length, T);
        assert.equal(t.logsumexp.length, T);
        assert.deepEqual(t.logits_at_indices.map((r: number[]) => r.length), Array(T).fill(idx.length));
        for (const key of ['router_logits', 'topk_ids', 'topk_weights']) assert.equal(t[key].length, golden.moe_layers.length, key);
        golden.moe_layers.forEach((_: number, m: number) => {
          for (let p = 0; p < T; p++) {
            const logits: number[] = t.router_logits[m][p];
            assert.equal(logits.length, E);
            const top = topK(logits, k + 1);
            if (top[k - 1][0] - top[k][0] > 1e-3) assert.deepEqual(t.topk_ids[m][p], top.slice(0, k).map((x) => x[1]), `${t.name} layer ${m} position ${p}`);
            const probs = logits.map((v) => Math.exp(v - top[0][0]));
            const z = probs.reduce((a, b) => a + b, 0);
            const chosen = t.topk_ids[m][p].map((e: number) => probs[e] / z);
            const sum = chosen.reduce((a: number, b: number) => a + b, 0);
            t.topk_weights[m][p].forEach((w: number, j: number) => assert.ok(Math.abs(w - (renorm ? chosen[j] / sum : chosen[j])) < 1e-5, `${t.name} layer ${m} position ${p} weight ${j}`));
          }
        });
      }
      assert.ok(statSync(join(dir, 'golden.json')).size < 1024 * 1024, 'golden.json under 1 MB');
    });
  });
}
