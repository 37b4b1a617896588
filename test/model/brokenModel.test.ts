import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../server/model/errors';
import { ModelSession } from '../../server/model/modelSession';
import { embeddedModel } from '../support/paths';

/** A copy of the embedded model with one thing broken. */
function brokenCopy(breakIt: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-broken-'));
  cpSync(embeddedModel, dir, { recursive: true });
  breakIt(dir);
  return dir;
}

const editManifest = (dir: string, edit: (m: Record<string, any>) => void) => {
  const p = join(dir, 'moe.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  edit(m);
  writeFileSync(p, JSON.stringify(m));
};

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
    ['tokenizer vocab mismatch', (d) => editManifest(d, (m) => (m.vocabSize = 5000)), 'tokenizer.json', /tokenizer has 4096 tokens but moe.json says vocabSize 5000/, '/model/vocab'],
    ['tensor name not in the graph', (d) => editManifest(d, (m) => (m.outputs.routerLogits = 'gate_logits')), 'model.onnx', /no output "gate_logits"/, '/outputs/routerLogits'],
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
    await assert.rejects(ModelSession.load(join(tmpdir(), 'moe-lens-no-such-dir'), 'cpu'), /model directory does not exist/);
  });
});
