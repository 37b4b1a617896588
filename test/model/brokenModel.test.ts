import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../server/model/errors';
import { cudaLibraryInstalled } from '../../server/model/executionProvider';
import { ModelSession } from '../../server/model/modelSession';
import { embeddedModel } from '../support/paths';

/** A copy of the embedded model with one thing broken. */
function brokenCopy(breakIt: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-broken-'));
  cpSync(embeddedModel, dir, { recursive: true });
  breakIt(dir);
  return dir;
}

const editJson = (dir: string, file: string, edit: (m: Record<string, any>) => void) => {
  const p = join(dir, file);
  const m = JSON.parse(readFileSync(p, 'utf8'));
  edit(m);
  writeFileSync(p, JSON.stringify(m));
};
const editManifest = (dir: string, edit: (m: Record<string, any>) => void) => editJson(dir, 'moe.json', edit);

describe('broken model directories give clear errors naming the file and field', function () {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const cases: [string, (dir: string) => void, string, RegExp, string?][] = [
    ['missing moe.json', (d) => unlinkSync(join(d, 'moe.json')), 'moe.json', /file is missing/],
    ['moe.json not JSON', (d) => writeFileSync(join(d, 'moe.json'), '{ "format": '), 'moe.json', /not valid JSON/],
    ['schema violation (topK: "two")', (d) => editManifest(d, (m) => (m.topK = 'two')), 'moe.json', /schema/, '/topK'],
    ['wrong format version', (d) => editManifest(d, (m) => (m.format = 'moe-lens/9')), 'moe.json', /schema/, '/format'],
    ['missing model.onnx', (d) => unlinkSync(join(d, 'model.onnx')), 'model.onnx', /file is missing/],
    ['truncated model.onnx', (d) => truncateSync(join(d, 'model.onnx'), 4096), 'model.onnx', /onnxruntime cannot load it|no execution provider/],
    ['garbage model.onnx', (d) => writeFileSync(join(d, 'model.onnx'), 'this is not a protobuf'), 'model.onnx', /onnxruntime cannot load it|no execution provider/],
    ['missing tokenizer', (d) => unlinkSync(join(d, 'tokenizer.json')), 'tokenizer.json', /file is missing/],
    ['tokenizer not JSON', (d) => writeFileSync(join(d, 'tokenizer.json'), '{"model": {'), 'tokenizer.json', /not valid JSON/],
    ['tokenizer with an unsupported normalizer', (d) => editJson(d, 'tokenizer.json', (t) => (t.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] })), 'tokenizer.json', /normalizer Lowercase is not supported/, '/normalizer/normalizers/1'],
    ['tokenizer with a pre-tokenizer that rewrites text', (d) => editJson(d, 'tokenizer.json', (t) => (t.pre_tokenizer = { type: 'Metaspace', replacement: '▁' })), 'tokenizer.json', /pre-tokenizer Metaspace is not supported/, '/pre_tokenizer'],
    ['tokenizer that is not BPE', (d) => editJson(d, 'tokenizer.json', (t) => (t.model.type = 'WordPiece')), 'tokenizer.json', /only BPE tokenizers/, '/model/type'],
    ['tokenizer vocab mismatch', (d) => editManifest(d, (m) => (m.vocabSize = 4000)), 'tokenizer.json', /tokenizer has 4096 tokens but moe.json says vocabSize 4000/, '/model/vocab'],
    ['tensor name not in the graph', (d) => editManifest(d, (m) => (m.outputs.routerLogits = 'gate_logits')), 'model.onnx', /no output "gate_logits"/, '/outputs/routerLogits'],
    ['KV cache heads mismatch', (d) => editManifest(d, (m) => (m.kvCache.heads = 8)), 'model.onnx', /past_key\.0.*dimension 1 is 4 but moe\.json says 8/, '/kvCache/heads'],
    ['topK differs from the graph (its expert_ids shape)', (d) => editManifest(d, (m) => (m.topK = 3)), 'model.onnx', /expert_ids" has shape \[4, T, 2\]: dimension 2 is 2 but moe\.json says 3/, '/topK'],
    ['manifest sha256 of another export', (d) => editManifest(d, (m) => (m.provenance.sha256 = '0'.repeat(64))), 'model.onnx', /sha256 is [0-9a-f]{64} but moe\.json provenance\.sha256 says 0{64}/, '/provenance/sha256'],
    ['expert_bias shape mismatch', (d) => editManifest(d, (m) => { m.experts = 8; m.topK = 2; }), 'model.onnx', /shape \[4, 16\] but moe\.json says \[4, 8\]/, '/inputs/expertBias'],
  ];
  for (const [name, breakIt, file, re, field] of cases) {
    it(name, async () => {
      const dir = brokenCopy(breakIt);
      dirs.push(dir);
      await assert.rejects(ModelSession.load(dir, 'cpu'), (e: unknown) => {
        assert.ok(e instanceof ModelLoadError, `not a ModelLoadError: ${String(e)}`);
        assert.equal(e.file, file);
        if (field) assert.equal(e.field, field);
        assert.match(e.message, re);
        return true;
      });
    });
  }
  it('a directory that does not exist', async () => {
    const missing = join(tmpdir(), 'moe-lens-no-such-dir');
    await assert.rejects(ModelSession.load(missing, 'cpu'), (e: unknown) => e instanceof ModelLoadError && e.file === missing && /model directory does not exist/.test(e.message));
  });
  it('a file where the directory should be', async () => {
    await assert.rejects(ModelSession.load(join(embeddedModel, 'moe.json'), 'cpu'), /model directory does not exist/);
  });
});

describe('execution providers', function () {
  it('"auto" runs on CPU when no CUDA provider is installed, and says so', async function () {
    if (cudaLibraryInstalled()) this.skip(); // a CUDA machine: covered by the next test
    const s = await ModelSession.load(embeddedModel, 'auto');
    assert.equal(s.info.executionProvider, 'cpu');
    await s.dispose();
  });
  it('"cuda" either runs on CUDA or fails with a sentence that says how to get it', async () => {
    const load = ModelSession.load(embeddedModel, 'cuda');
    if (cudaLibraryInstalled()) {
      const s = await load;
      assert.equal(s.info.executionProvider, 'cuda');
      await s.dispose();
    } else {
      await assert.rejects(load, (e: unknown) => e instanceof ModelLoadError && e.field === 'executionProvider' && /"cuda" is not available .*ONNXRUNTIME_NODE_INSTALL=cuda12/.test(e.message));
    }
  });
  it('"webgpu" either runs on WebGPU or fails naming the provider, not the model', async () => {
    try {
      const s = await ModelSession.load(embeddedModel, 'webgpu');
      assert.equal(s.info.executionProvider, 'webgpu');
      await s.dispose();
    } catch (e) {
      assert.ok(e instanceof ModelLoadError && e.field === 'executionProvider' && /"webgpu" is not available/.test(e.message), String(e));
    }
  });
  it('a broken model asked for on CUDA is reported as broken, not as a missing provider', async () => {
    const dir = brokenCopy((d) => writeFileSync(join(d, 'model.onnx'), 'this is not a protobuf'));
    await assert.rejects(ModelSession.load(dir, 'cuda'), /onnxruntime cannot load it/);
    rmSync(dir, { recursive: true, force: true });
  });
});
