import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText } from '../../server/analysis/analyzer';
import { ModelSession } from '../../server/model/modelSession';
import { checkInvariants } from '../support/invariants';
import { distDir } from '../support/paths';
import { safetensorsBytes, tinyQwen3Moe, writeCheckpoint, type TinyCheckpoint } from '../support/safetensorsWriter';

/** `moe-lens import` as a user runs it (dist/cli.js), on checkpoints this test writes, good and broken. */
describe('moe-lens import (CLI)', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-import-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const cli = join(distDir, 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'import', ...args], { encoding: 'utf8' });
  let n = 0;
  const fresh = (c: TinyCheckpoint, shards = 1) => {
    const dir = join(tmp, `hf${n++}`);
    writeCheckpoint(dir, c, shards);
    return dir;
  };
  /** Imports a broken checkpoint: exit 2, the message names what is wrong, and nothing is left behind. */
  const refused = (hf: string, ...expect: (string | RegExp)[]) => {
    const out = join(tmp, `out${n++}`);
    const r = run(hf, out);
    assert.equal(r.status, 2, r.stderr);
    for (const e of expect) assert.match(r.stderr, typeof e === 'string' ? new RegExp(e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : e);
    assert.ok(!existsSync(out), 'OUT_DIR was created');
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.importing-')), [], 'a temporary folder was left behind');
    return r.stderr;
  };

  it('imports a sharded checkpoint that the server then loads and analyses', async () => {
    const out = join(tmp, 'good');
    const r = run(fresh(tinyQwen3Moe(), 3), out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /tensors/);
    assert.deepEqual(readdirSync(out).sort(), ['model.onnx', 'model.onnx.data', 'moe.json', 'source-config.json', 'tokenizer.json']);
    const m = JSON.parse(readFileSync(join(out, 'moe.json'), 'utf8'));
    assert.equal(m.provenance.source.architecture, 'Qwen3MoeForCausalLM');
    assert.match(m.provenance.source.configSha256, /^[0-9a-f]{64}$/);
    assert.match(m.provenance.source.weightsSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(m.routerLayers, [0]); // layer 1 is in mlp_only_layers
    assert.equal(m.kvCache.layers, 2);
    const session = await ModelSession.load(out, 'cpu');
    try {
      assert.equal(session.info.layers, 1);
      const text = 'function add(a, b) {\r\n\treturn a + b; // 😀\n}\n';
      const res = await analyzeText(session, text, 0, { maxTokens: 4096, rules: [] });
      checkInvariants(res, text);
      const steered = await analyzeText(session, text, 0, { maxTokens: 4096, rules: [{ layer: 0, expert: 1, mode: 'disable' }] });
      for (let t = 0; t < steered.tokens; t++) assert.ok(!steered.experts.slice(t * 2, t * 2 + 2).includes(1));
    } finally {
      await session.dispose();
    }
  });

  it('--dtype fp16 halves the weights file and stays close to fp32', async () => {
    const hf = fresh(tinyQwen3Moe());
    const out16 = join(tmp, 'fp16');
    const out32 = join(tmp, 'fp32');
    assert.equal(run(hf, out16, '--dtype', 'fp16').status, 0);
    assert.equal(run(hf, out32).status, 0);
    const size = (d: string) => readFileSync(join(d, 'model.onnx.data')).length;
    assert.ok(size(out16) < 0.6 * size(out32), `${size(out16)} vs ${size(out32)}`);
    const a = await ModelSession.load(out16, 'cpu');
    const b = await ModelSession.load(out32, 'cpu');
    try {
      const ids = [5, 17, 300, 42, 4000];
      const bias = new Float32Array(a.info.layers * a.info.experts);
      const x = (await a.forward(ids, bias)).logits;
      const y = (await b.forward(ids, bias)).logits;
      let max = 0;
      for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
      assert.ok(max < 1e-2, `fp16 vs fp32 max |Δlogit| ${max}`);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('refuses a missing tensor, naming it', () => {
    const c = tinyQwen3Moe();
    delete c.tensors['model.layers.0.mlp.experts.3.up_proj.weight'];
    refused(fresh(c), 'model.layers.0.mlp.experts.3.up_proj.weight', 'missing');
  });

  it('refuses a tensor of the wrong shape, naming it and both shapes', () => {
    const c = tinyQwen3Moe();
    c.tensors['model.layers.0.self_attn.k_proj.weight'].shape = [4, 32];
    refused(fresh(c), 'model.safetensors (model.layers.0.self_attn.k_proj.weight)', '[4, 32]', '[8, 16]');
  });

  it('refuses an unknown dtype, naming the tensor', () => {
    const c = tinyQwen3Moe();
    c.tensors['model.norm.weight'].dtype = 'F8_E4M3';
    refused(fresh(c), 'model.norm.weight.dtype', 'F8_E4M3');
  });

  it('refuses a truncated safetensors header', () => {
    const hf = fresh(tinyQwen3Moe());
    const bytes = readFileSync(join(hf, 'model.safetensors'));
    writeFileSync(join(hf, 'model.safetensors'), bytes.subarray(0, 100));
    refused(hf, 'model.safetensors (header)', 'truncated safetensors header');
  });

  it('refuses an unsupported architecture, naming the field and the supported list', () => {
    const c = tinyQwen3Moe();
    c.config.architectures = ['JambaForCausalLM'];
    refused(fresh(c), 'config.json (architectures)', 'JambaForCausalLM', 'MixtralForCausalLM, OlmoeForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM');
  });

  it('refuses RoPE scaling and quantised weights, naming the config field', () => {
    const a = tinyQwen3Moe();
    a.config.rope_scaling = { rope_type: 'yarn', factor: 4 };
    refused(fresh(a), 'config.json (rope_scaling)', 'yarn');
    const b = tinyQwen3Moe();
    b.config.quantization_config = { quant_method: 'gptq' };
    refused(fresh(b), 'config.json (quantization_config)');
  });

  it('warns about checkpoint tensors the architecture does not use', () => {
    const c = tinyQwen3Moe();
    c.tensors['model.layers.0.self_attn.o_proj.bias'] = { shape: [16], values: new Float32Array(16).fill(0.5) };
    const r = run(fresh(c), join(tmp, 'extra'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: 1 checkpoint tensor\(s\) not used by Qwen3MoeForCausalLM: model\.layers\.0\.self_attn\.o_proj\.bias/);
  });

  it('leaves a non-empty OUT_DIR alone', () => {
    const out = join(tmp, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const r = run(fresh(tinyQwen3Moe()), out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not an empty folder/);
    assert.deepEqual(readdirSync(out), ['keep.txt']);
  });

  it('bad arguments: exit 2 with the usage', () => {
    const r = run('only-one');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: moe-lens import/);
    assert.equal(run('a', 'b', '--dtype', 'int4').status, 2);
  });

  it('a safetensors writer sanity check: bytes start with the header length', () => {
    const b = safetensorsBytes({ x: { shape: [2], values: new Float32Array([1, 2]), dtype: 'F32' } });
    assert.equal(Number(b.readBigUInt64LE(0)), b.length - 8 - 8);
  });
});
