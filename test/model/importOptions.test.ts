import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportCancelled } from '../../server/import/errors';
import { importCheckpoint, type ImportProgress } from '../../server/import/importCheckpoint';
import { ModelLoadError } from '../../server/model/errors';
import { ModelSession } from '../../server/model/modelSession';
import { GraphRunner } from '../support/hfFixtures';
import { tinyQwen3Moe, writeCheckpoint, type TinyCheckpoint } from '../support/safetensorsWriter';

/** importCheckpoint as the extension calls it: progress, cancellation, both expert layouts, provenance checks. */
describe('importCheckpoint: progress, cancellation, layouts, provenance', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-import-opts-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const hf = join(tmp, 'hf');
  before(() => writeCheckpoint(hf, tinyQwen3Moe(), 2));

  it('reports progress in bytes and tensors up to the whole checkpoint', async () => {
    const seen: ImportProgress[] = [];
    const r = await importCheckpoint(hf, join(tmp, 'progress'), { onProgress: (p) => seen.push(p) });
    assert.deepEqual(r.unused, []);
    const weights = seen.filter((p) => p.phase === 'weights');
    assert.ok(weights.length > 10);
    const last = weights[weights.length - 1];
    assert.equal(last.tensorsDone, last.tensorsTotal);
    assert.equal(last.bytesDone, last.bytesTotal);
    for (let i = 1; i < weights.length; i++) assert.ok(weights[i].bytesDone >= weights[i - 1].bytesDone);
    assert.deepEqual(seen.slice(-3).map((p) => p.phase), ['hashing', 'verifying', 'done']);
  });

  it('cancelled midway: ImportCancelled, OUT_DIR absent, no temporary folder left', async () => {
    const ac = new AbortController();
    const out = join(tmp, 'cancelled');
    await assert.rejects(
      importCheckpoint(hf, out, { signal: ac.signal, onProgress: (p) => p.tensorsDone === 5 && ac.abort() }),
      (e: unknown) => e instanceof ImportCancelled,
    );
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.importing-')), []);
  });

  it("transformers 5's fused expert tensors import to the same graph output as the hub's per-expert ones", async () => {
    const c = tinyQwen3Moe();
    const fused: TinyCheckpoint = { config: c.config, tensors: { ...c.tensors } };
    const E = 4;
    const I = 8;
    const H = 16;
    const gateUp = new Float32Array(E * 2 * I * H);
    const down = new Float32Array(E * H * I);
    for (let e = 0; e < E; e++) {
      const p = `model.layers.0.mlp.experts.${e}`;
      gateUp.set(c.tensors[`${p}.gate_proj.weight`].values, e * 2 * I * H);
      gateUp.set(c.tensors[`${p}.up_proj.weight`].values, (e * 2 + 1) * I * H);
      down.set(c.tensors[`${p}.down_proj.weight`].values, e * H * I);
      for (const w of ['gate_proj', 'up_proj', 'down_proj']) delete fused.tensors[`${p}.${w}.weight`];
    }
    fused.tensors['model.layers.0.mlp.experts.gate_up_proj'] = { shape: [E, 2 * I, H], values: gateUp };
    fused.tensors['model.layers.0.mlp.experts.down_proj'] = { shape: [E, H, I], values: down };
    writeCheckpoint(join(tmp, 'hf-fused'), fused);
    await importCheckpoint(join(tmp, 'hf-fused'), join(tmp, 'fused'));
    const a = await GraphRunner.open(join(tmp, 'progress'));
    const b = await GraphRunner.open(join(tmp, 'fused'));
    try {
      const ids = [1, 2, 3, 500, 4095];
      const x = await a.run(ids);
      const y = await b.run(ids);
      assert.deepEqual(y.logits.data, x.logits.data);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('add_bos_token: the server runs BOS first and shows only the caller\'s tokens; the KV cache keeps it', async () => {
    const dir = join(tmp, 'hf-bos');
    writeCheckpoint(dir, tinyQwen3Moe(), 1, { add_bos_token: true, bos_token: { content: '<|endoftext|>' }, eos_token: '<|endoftext|>' });
    const out = join(tmp, 'bos');
    await importCheckpoint(dir, out);
    const session = await ModelSession.load(out, 'cpu');
    const runner = await GraphRunner.open(out);
    try {
      const m = session.manifest;
      assert.equal(m.addBos, true);
      assert.equal(m.contextLength, 511);
      const bos = session.tokenizer.tokenId('<|endoftext|>')!;
      const ids = [10, 200, 3000, 45, 7, 99];
      const bias = new Float32Array(m.layers * m.experts);
      const got = await session.forward(ids, bias);
      const raw = await runner.run([bos, ...ids]);
      const V = m.vocabSize;
      const T = ids.length;
      assert.deepEqual(got.logits, (raw.logits.data as Float32Array).subarray(V));
      assert.deepEqual(got.tokenLogprobs, (raw.token_logprobs.data as Float32Array).subarray(1));
      assert.ok(got.tokenLogprobs![0] < 0, 'the first token has a real log-probability after BOS');
      const rl = raw.router_logits.data as Float32Array;
      assert.deepEqual(got.routerLogits, rl.subarray(m.experts, (T + 1) * m.experts));
      assert.deepEqual(got.dims[m.outputs.routerLogits], [1, T, m.experts]);
      assert.equal(got.present.length, T);
      assert.equal(got.present.prefix, 1);
      // continuing after a truncated cache equals the full pass
      const cut = ModelSession.truncateCache(got.present, 3);
      const rest = await session.forward(ids.slice(3), bias, cut);
      let max = 0;
      for (let i = 0; i < rest.logits.length; i++) max = Math.max(max, Math.abs(rest.logits[i] - got.logits[3 * V + i]));
      assert.ok(max < 1e-4, `max |Δlogit| ${max}`);
      assert.deepEqual(Array.from(rest.expertIds), Array.from(got.expertIds.subarray(3 * m.topK)));
    } finally {
      await session.dispose();
      await runner.dispose();
    }
  });

  it('the server checks model.onnx.data against provenance.dataSha256', async () => {
    const dir = join(tmp, 'progress');
    const data = join(dir, 'model.onnx.data');
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(data, bytes);
    await assert.rejects(ModelSession.load(dir, 'cpu'), (e: unknown) => e instanceof ModelLoadError && e.file === 'model.onnx.data' && e.field === '/provenance/dataSha256');
  });
});
