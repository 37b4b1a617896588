import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../server/import/config';
import { ImportError } from '../../server/import/errors';
import { floatToHalf, halfToFloat, SafetensorsFile } from '../../server/import/safetensors';
import { safetensorsBytes, tinyQwen3Moe } from '../support/safetensorsWriter';

describe('import readers: safetensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-st-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const fails = (p: string, re: RegExp) =>
    assert.throws(() => SafetensorsFile.open(p), (e: unknown) => e instanceof ImportError && re.test(e.message));

  it('reads F32 exactly, BF16 as its rounded value, F16 from half bits', () => {
    const bytes = safetensorsBytes({
      a: { shape: [2], values: new Float32Array([0.1, -3]), dtype: 'F32' },
      b: { shape: [1, 2], values: new Float32Array([0.1, 256.5]), dtype: 'BF16' },
      c: { shape: [3], values: new Float32Array([1.5, -0.1, 70000]), dtype: 'F16' },
    });
    const f = SafetensorsFile.open(write('ok.safetensors', bytes));
    try {
      assert.deepEqual(Array.from(f.read('a')), [Math.fround(0.1), -3]);
      assert.deepEqual(Array.from(f.read('b')), [0.10009765625, 256]); // bf16 keeps 8 significant bits
      assert.deepEqual(f.tensors.get('b')!.shape, [1, 2]);
      assert.deepEqual(Array.from(f.read('c')), [1.5, -0.0999755859375, Infinity]); // half: 11 significant bits, max 65504
    } finally {
      f.close();
    }
    assert.equal(halfToFloat(floatToHalf(1.5)), 1.5);
    assert.equal(halfToFloat(floatToHalf(-0.0999755859375)), -0.0999755859375);
    assert.equal(halfToFloat(floatToHalf(65504)), 65504);
    assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
    assert.equal(halfToFloat(floatToHalf(2 ** -24)), 2 ** -24);
  });

  it('refuses a file shorter than the length field, and a header longer than the file', () => {
    fails(write('tiny.safetensors', Buffer.from([1, 2, 3])), /truncated safetensors header.*3 bytes/);
    const b = safetensorsBytes({ a: { shape: [2], values: new Float32Array([1, 2]), dtype: 'F32' } });
    fails(write('cut.safetensors', b.subarray(0, 20)), /\(header\): truncated safetensors header: it says \d+ bytes of JSON/);
  });

  it('refuses offsets past the end of the file, naming the tensor', () => {
    const b = safetensorsBytes({ a: { shape: [2], values: new Float32Array([1, 2]), dtype: 'F32' } });
    fails(write('short.safetensors', b.subarray(0, b.length - 4)), /\(a\.data_offsets\): data_offsets \[0, 8\] run past the end/);
  });

  it('refuses an unknown dtype and offsets that disagree with the shape', () => {
    fails(write('i8.safetensors', safetensorsBytes({ w: { shape: [2], values: new Float32Array([1, 2]), dtype: 'I8' } })), /\(w\.dtype\): unsupported dtype "I8" \(supported: F32, F16, BF16; U8 only as MXFP4 blocks and scales\)/);
    fails(write('span.safetensors', safetensorsBytes({ w: { shape: [3], values: new Float32Array([1, 2]), dtype: 'BF16' } })), /\(w\.data_offsets\): data_offsets span 4 bytes but BF16 \[3\] needs 6/);
  });

  it('refuses a header that is not JSON', () => {
    const json = Buffer.from('{not json');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    fails(write('bad.safetensors', Buffer.concat([len, json])), /\(header\): not valid JSON/);
  });
});

describe('import readers: config.json', () => {
  const base = () => tinyQwen3Moe().config;
  const refuses = (c: Record<string, unknown>, field: string, re: RegExp) =>
    assert.throws(() => parseConfig(JSON.stringify(c)), (e: unknown) => e instanceof ImportError && e.field === field && re.test(e.message));

  it('reads a Qwen3-MoE config: dense layers, per-head norm, renormalised top-k', () => {
    const s = parseConfig(JSON.stringify(base()));
    assert.deepEqual(s.moeLayers, [0]);
    assert.equal(s.qkNorm, 'head');
    assert.equal(s.normTopK, true);
    assert.equal(s.headDim, 4);
    assert.equal(s.contextLength, 512);
  });

  it('refuses other architectures naming the supported list', () => {
    refuses({ ...base(), architectures: ['DbrxForCausalLM'] }, 'architectures', /"DbrxForCausalLM".*supported: MixtralForCausalLM, OlmoeForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, GraniteMoeForCausalLM, GptOssForCausalLM, PhimoeForCausalLM/);
  });

  it('refuses scaled or partial RoPE and quantised weights, naming the field', () => {
    refuses({ ...base(), rope_scaling: { type: 'linear', factor: 2 } }, 'rope_scaling', /"linear"/);
    refuses({ ...base(), rope_parameters: { rope_type: 'yarn', rope_theta: 1e6 } }, 'rope_parameters.rope_type', /"yarn"/);
    refuses({ ...base(), partial_rotary_factor: 0.5 }, 'partial_rotary_factor', /partial/);
    refuses({ ...base(), quantization_config: { quant_method: 'awq' } }, 'quantization_config', /quantised/);
    refuses({ ...base(), hidden_act: 'gelu' }, 'hidden_act', /"gelu"/);
    refuses({ ...base(), num_experts_per_tok: 9 }, 'num_experts_per_tok', /1–4/);
  });

  it('reads rope_theta from transformers 5 rope_parameters and from the hub key', () => {
    assert.equal(parseConfig(JSON.stringify({ ...base(), rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } })).ropeTheta, 5e5);
    assert.equal(parseConfig(JSON.stringify(base())).ropeTheta, 10000);
  });

  it('a sliding window shorter than the context caps the analysed window instead of being ignored', () => {
    const mixtral = { ...base(), architectures: ['MixtralForCausalLM'], num_local_experts: 4, intermediate_size: 8, sliding_window: 128 };
    const s = parseConfig(JSON.stringify(mixtral));
    assert.equal(s.contextLength, 128);
    assert.match(s.contextReason, /sliding_window/);
    // Qwen: only when use_sliding_window is on
    assert.equal(parseConfig(JSON.stringify({ ...base(), sliding_window: 128 })).contextLength, 512);
    assert.equal(parseConfig(JSON.stringify({ ...base(), sliding_window: 128, use_sliding_window: true })).contextLength, 128);
  });
});
